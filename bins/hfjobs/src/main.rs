//! `hfjobs`: the `hf jobs` command line of `huggingface_hub` 2.4.0 in one fast binary. Same
//! commands and flags (`run`, `uv run`, `ps`, `inspect`, `logs`, `cancel`, `wait`, `labels`,
//! `stats`, `hardware`, `ssh`, `expose`, `rerun`, `scheduled ...`), same API requests (checked
//! against the Python CLI by the conformance tests), same outputs (tables, `--json`, `-q`), and
//! it starts in milliseconds: a current-thread runtime and nothing else to load.
//!
//! Modules: `cli` (the clap command line), `commands` (one module per command or family, on top
//! of the `hf-jobs` client), `args` (dotenv, `ns/id`, labels, shell quoting), `auth` (token and
//! endpoint resolution like `hf`), `header` (a uv script's `[tool.hf-jobs]` table), `render`
//! and `table` (rows, JSON views and table layout), `output` (where and how things are
//! printed), `redraw` (live views redrawn in place).
//!
//! It reads `HF_TOKEN`, `HF_HOME`, `HF_TOKEN_PATH` and `HF_ENDPOINT` like `hf` and never prints
//! a token. User errors print one `Error:` line and exit 1 (usage errors exit 2). It does not
//! detect AI agents (`--format auto` means human) nor call `/api/agent-harnesses`, and option
//! parsing stops at the image or script: everything after it belongs to the command.

use std::process::ExitCode;

use clap::Parser;

mod args;
mod auth;
mod cli;
mod commands;
mod header;
mod output;
mod redraw;
mod render;
mod table;

fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            output::error(&format!("cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let credentials = auth::Credentials::resolve(cli.command.token_flag(), &auth::process_env());
    match runtime.block_on(commands::run(cli.command, &credentials)) {
        Ok(code) => code,
        Err(e) => {
            output::error(&describe(&e, credentials.source()));
            ExitCode::FAILURE
        }
    }
}

/// One clear line for any failure: the Hub's message with what to do about it, naming where
/// the token came from when the Hub refused it.
fn describe(error: &anyhow::Error, token_source: Option<auth::TokenSource>) -> String {
    let text = match error.downcast_ref::<hf_jobs::Error>() {
        Some(e) => describe_hub_error(e, token_source),
        None => format!("{error:#}"),
    };
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn describe_hub_error(error: &hf_jobs::Error, token_source: Option<auth::TokenSource>) -> String {
    use hf_jobs::Error as E;
    match error {
        E::Unauthorized { message } if message.starts_with("no token") => {
            "Not logged in: pass --token, set HF_TOKEN, or run `hf auth login`.".into()
        }
        E::Unauthorized { message } => {
            let source = token_source
                .map(|s| format!(" Check {}.", s.describe()))
                .unwrap_or_default();
            format!("Invalid or expired token ({message}).{source}")
        }
        E::PaymentRequired { message } => format!(
            "Payment required: {message}. Add credits or a payment method at https://huggingface.co/settings/billing."
        ),
        E::NotFound { message } => {
            format!("Not found: {message}. Check the id and the namespace.")
        }
        E::Forbidden { message } => format!(
            "Forbidden: {message}. Make sure your token has the correct permissions for this namespace."
        ),
        other => other.to_string(),
    }
}
