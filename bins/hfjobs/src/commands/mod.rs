//! The commands, one module per command or family. Each resolves its arguments first (pure,
//! before any request), then calls the Hub through `hf-jobs`, then prints through `output`
//! and `render` as `hf jobs` does.
//!
//! Shared steps: [`Hub`] (credentials and namespace to clients), `spec` (the options of the
//! create commands), `summary` (the "Job configuration" block), `volumes` (`-v` to volumes),
//! `follow` (after a job is created: hints, then its logs to its end).

use std::process::ExitCode;

use hf_jobs::HfClient;

use crate::args::{self, ArgError};
use crate::auth::{self, Credentials};
use crate::cli::{Command, HubArgs, UvCommand};

mod cancel;
mod expose;
mod follow;
mod hardware;
mod inspect;
mod labels;
mod logs;
mod ps;
mod run;
mod scheduled;
mod spec;
mod ssh;
mod stats;
mod summary;
mod uv;
mod volumes;
mod wait;

pub async fn run(command: Command, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let c = credentials;
    match command {
        Command::Run(a) => run::run(a, c).await,
        Command::Uv(UvCommand::Run(a)) => uv::run(a, c).await,
        Command::Ps(a) => ps::ps(a, c).await,
        Command::Inspect(a) => inspect::inspect(a, c).await,
        Command::Logs(a) => logs::logs(a, c).await,
        Command::Cancel(a) => cancel::cancel(a, c).await,
        Command::Wait(a) => wait::wait(a, c).await,
        Command::Labels(a) => labels::labels(a, c).await,
        Command::Stats(a) => stats::stats(a, c).await,
        Command::Hardware(a) => hardware::hardware(a, c).await,
        Command::Ssh(a) => ssh::ssh(a, c).await,
        Command::Expose(a) => expose::expose(a, c).await,
        Command::Rerun(a) => run::rerun(a, c).await,
        Command::Scheduled(command) => scheduled::run(command, c).await,
    }
}

const OK: anyhow::Result<ExitCode> = Ok(ExitCode::SUCCESS);

/// Where a command acts: the credentials resolved for it and its `--namespace`.
#[derive(Clone, Copy)]
struct Hub<'a> {
    credentials: &'a Credentials,
    namespace: Option<&'a str>,
}

impl<'a> Hub<'a> {
    fn new(credentials: &'a Credentials, args: &'a HubArgs) -> Self {
        Self {
            credentials,
            namespace: args.namespace.as_deref(),
        }
    }

    /// For commands without `--namespace` (`hardware`).
    fn anywhere(credentials: &'a Credentials) -> Self {
        Self {
            credentials,
            namespace: None,
        }
    }

    /// A client for `namespace`, else `--namespace`, else the token's user.
    fn client(&self, namespace: Option<&str>) -> anyhow::Result<HfClient> {
        let mut builder = HfClient::builder()
            .endpoint(&self.credentials.endpoint)
            .user_agent_suffix(concat!("hfjobs/", env!("CARGO_PKG_VERSION")))
            // Jobs calls wait as long as the Hub needs, as in Python.
            .request_timeout(None);
        if let Some(token) = self.credentials.token() {
            builder = builder.token(token.clone());
        }
        if let Some(namespace) = namespace.or(self.namespace) {
            builder = builder.namespace(namespace);
        }
        Ok(builder.build()?)
    }

    /// A job reference (`id` or `ns/id`) split, checked against `--namespace`.
    fn job_ref(&self, job_ref: &str) -> Result<(String, Option<String>), ArgError> {
        args::parse_job_ref(job_ref, self.namespace)
    }

    /// The client for one job reference, and the bare id.
    fn client_for(&self, job_ref: &str) -> anyhow::Result<(HfClient, String)> {
        let (id, namespace) = self.job_ref(job_ref)?;
        Ok((self.client(namespace.as_deref())?, id))
    }
}

/// The local environment plus `HF_TOKEN` = the logged-in token, for bare `-e`/`-s` keys.
fn extended_environ(name: &str) -> Option<String> {
    let env = auth::process_env();
    if name == "HF_TOKEN" {
        return auth::ambient_token(&env).map(|(token, _)| token);
    }
    (env.var)(name)
}
