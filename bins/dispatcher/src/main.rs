//! The `dispatcher` binary: reads configuration, sets up logging and runs the dispatch service.
//!
//! Subcommands: `serve` (the default), `check` (validates the configuration and signs in to
//! GitHub and HF) and `healthcheck` (probes `/healthz` for container health checks).

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dispatch::config::{self, LogFormat, Settings, Sources};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "dispatcher",
    version,
    about = "Runs GitHub Actions jobs on Hugging Face Jobs."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// A TOML file holding any of the settings (environment variables win over it).
    #[arg(long, env = "FERRY_CONFIG", global = true)]
    config: Option<PathBuf>,
    /// Port to listen on (overrides PORT).
    #[arg(long, global = true)]
    port: Option<u16>,
    /// Directory of the state database (overrides DISPATCHER_STATE_DIR).
    #[arg(long, global = true)]
    state_dir: Option<PathBuf>,
    /// `json` or `text` (overrides LOG_FORMAT).
    #[arg(long, global = true)]
    log_format: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve webhooks and launch runners (the default).
    Serve,
    /// Validate the configuration and sign in to GitHub and HF; list what works.
    Check,
    /// Exit 0 when this machine's dispatcher answers /healthz (for container health checks).
    Healthcheck,
}

fn sources(cli: &Cli) -> Result<Sources, String> {
    let mut env: BTreeMap<String, String> = std::env::vars().collect();
    let mut flag = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            env.insert(key.to_owned(), value);
        }
    };
    flag("PORT", cli.port.map(|p| p.to_string()));
    flag(
        "DISPATCHER_STATE_DIR",
        cli.state_dir.as_ref().map(|p| p.display().to_string()),
    );
    flag("LOG_FORMAT", cli.log_format.clone());
    let (file, file_text) = match &cli.config {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("FERRY_CONFIG: cannot read {}: {e}", path.display()))?;
            (
                config::parse_file(&text).map_err(|e| e.to_string())?,
                Some(text),
            )
        }
        None => (BTreeMap::new(), None),
    };
    Ok(Sources {
        file,
        env,
        data_dir_exists: std::path::Path::new("/data").is_dir(),
        read_file: None,
        file_text,
    })
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
        LogFormat::Text => builder.init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match sources(&cli).and_then(|s| config::load(&s).map_err(|e| e.to_string())) {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("dispatcher: configuration error: {message}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            init_logging(settings.log_format);
            runtime.block_on(serve(settings))
        }
        Command::Check => runtime.block_on(check(settings)),
        Command::Healthcheck => healthcheck(settings.port),
    }
}

async fn serve(settings: Settings) -> ExitCode {
    let listener = match TcpListener::bind(("0.0.0.0", settings.port)) {
        Ok(listener) => listener,
        Err(e) => {
            tracing::error!(port = settings.port, error = %e, "cannot listen");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    match dispatch::service::run(settings, listener, shutdown, |_| {}).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "dispatcher failed");
            ExitCode::FAILURE
        }
    }
}

/// SIGTERM (a container stop) and SIGINT both start a graceful shutdown.
async fn stop_on_signal(shutdown: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: finishing launches in flight, then stopping"),
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: finishing launches in flight, then stopping"),
    }
    shutdown.cancel();
}

async fn check(settings: Settings) -> ExitCode {
    if let Some(problem) = settings.setup_problem() {
        println!("✗ credentials: {problem}");
        return ExitCode::FAILURE;
    }
    let lines = dispatch::service::check(&settings).await;
    let mut failed = false;
    for line in &lines {
        match &line.result {
            Ok(detail) => println!("✓ {}: {detail}", line.what),
            Err(problem) => {
                failed = true;
                println!("✗ {}: {problem}", line.what);
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

fn healthcheck(port: u16) -> ExitCode {
    if dispatch::service::answers_healthz(port) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
