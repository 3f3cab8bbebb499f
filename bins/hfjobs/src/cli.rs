//! The command line, as `hf jobs` (huggingface_hub 2.4.0) has it. Options come before the image
//! or script; everything after it is the command and its arguments.

use clap::{Args, Parser, Subcommand, ValueEnum};

#[cfg(test)]
mod tests;

#[derive(Debug, Parser)]
#[command(
    name = "hfjobs",
    version,
    about = "Run and manage Hugging Face Jobs: `hf jobs`, in one fast binary.",
    after_help = "Token: --token, else HF_TOKEN, else the file saved by `hf auth login` ($HF_HOME/token).\nHub: HF_ENDPOINT (default https://huggingface.co)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a job from a Docker image (or a Space) and follow its logs.
    Run(RunArgs),
    /// Run uv scripts (Python with inline dependencies).
    #[command(subcommand)]
    Uv(UvCommand),
    /// List jobs (running and scheduling ones unless -a or --status).
    #[command(name = "ps", visible_aliases = ["ls", "list"])]
    Ps(PsArgs),
    /// Show everything about one or more jobs.
    Inspect(InspectArgs),
    /// Print the logs of a job; -f follows them until the job ends.
    Logs(LogsArgs),
    /// Cancel a job.
    Cancel(JobArgs),
    /// Wait until jobs end; exits non-zero unless all completed.
    Wait(WaitArgs),
    /// Set a job's name or replace its labels.
    Labels(LabelsArgs),
    /// Show CPU, memory, network and GPU usage of running jobs.
    Stats(StatsArgs),
    /// List the hardware flavors jobs can run on, with prices.
    Hardware(HardwareArgs),
    /// Open an SSH session into a running job started with --ssh.
    Ssh(SshArgs),
    /// Replace the exposed ports of a running job.
    Expose(ExposeArgs),
    /// Start a new job with the spec of an existing one.
    Rerun(RerunArgs),
    /// Create and manage jobs that run on a schedule.
    #[command(subcommand)]
    Scheduled(ScheduledCommand),
}

impl Command {
    /// The `--token` flag of the command, if it takes one and it was given.
    pub fn token_flag(&self) -> Option<&str> {
        let hub = match self {
            Command::Run(a) => &a.hub,
            Command::Uv(UvCommand::Run(a)) => &a.hub,
            Command::Ps(a) => &a.hub,
            Command::Inspect(a) => &a.hub,
            Command::Logs(a) => &a.hub,
            Command::Cancel(a) => &a.hub,
            Command::Wait(a) => &a.hub,
            Command::Labels(a) => &a.hub,
            Command::Stats(a) => &a.hub,
            Command::Hardware(_) => return None,
            Command::Ssh(a) => &a.hub,
            Command::Expose(a) => &a.hub,
            Command::Rerun(a) => &a.hub,
            Command::Scheduled(command) => match command {
                ScheduledCommand::Run(a) => &a.hub,
                ScheduledCommand::Uv(ScheduledUvCommand::Run(a)) => &a.hub,
                ScheduledCommand::Ps(a) => &a.hub,
                ScheduledCommand::Inspect(a) => &a.hub,
                ScheduledCommand::Delete(a)
                | ScheduledCommand::Suspend(a)
                | ScheduledCommand::Resume(a)
                | ScheduledCommand::Trigger(a) => &a.hub,
                ScheduledCommand::Reschedule(a) => &a.hub,
                ScheduledCommand::Labels(a) => &a.hub,
            },
        };
        hub.token.as_deref()
    }
}

#[derive(Debug, Subcommand)]
pub enum UvCommand {
    /// Run a uv script (local file or URL) or a command in a uv image.
    Run(UvRunArgs),
}

#[derive(Debug, Subcommand)]
pub enum ScheduledCommand {
    /// Create a scheduled job from a Docker image (or a Space).
    Run(ScheduledRunArgs),
    /// Schedule uv scripts.
    #[command(subcommand)]
    Uv(ScheduledUvCommand),
    /// List scheduled jobs (suspended ones only with -a).
    #[command(name = "ps", visible_aliases = ["ls", "list"])]
    Ps(ScheduledPsArgs),
    /// Show everything about one or more scheduled jobs.
    Inspect(InspectArgs),
    /// Delete a scheduled job.
    Delete(JobArgs),
    /// Suspend a scheduled job: no runs until it is resumed.
    Suspend(JobArgs),
    /// Resume a suspended scheduled job.
    Resume(JobArgs),
    /// Change when a scheduled job runs (its spec, labels and suspension are kept).
    Reschedule(RescheduleArgs),
    /// Start a run of a scheduled job now (the schedule is unchanged).
    Trigger(JobArgs),
    /// Set a scheduled job's name or replace its labels.
    Labels(LabelsArgs),
}

#[derive(Debug, Subcommand)]
pub enum ScheduledUvCommand {
    /// Schedule a uv script (local file or URL) or a command in a uv image.
    Run(ScheduledUvRunArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Human tables (what `auto` picks here).
    Auto,
    Human,
    /// Tab-separated values, nothing shortened.
    Agent,
    Json,
    /// Ids only, one per line.
    Quiet,
}

/// Output flags every command takes.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// JSON output (same as --format json).
    #[arg(long)]
    pub json: bool,
    /// Only ids, one per line (same as --format quiet).
    #[arg(short, long)]
    pub quiet: bool,
    /// Do not shorten table cells to the terminal width.
    #[arg(long)]
    pub no_truncate: bool,
}

/// Where to act and as whom.
#[derive(Debug, Clone, Args)]
pub struct HubArgs {
    /// Namespace (user or organisation) of the jobs. Default: the token's user.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Hugging Face access token (default: HF_TOKEN, then the saved login).
    #[arg(long)]
    pub token: Option<String>,
}

/// What a job runs with; shared by `run`, `uv run` and their scheduled forms.
#[derive(Debug, Clone, Args)]
pub struct SpecArgs {
    /// Environment variable KEY=VALUE; a bare KEY takes its local value. Repeatable.
    #[arg(short = 'e', long = "env", value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Secret KEY=VALUE; prefer a bare KEY (local value; HF_TOKEN is your login token). Repeatable.
    #[arg(short = 's', long = "secrets", value_name = "KEY[=VALUE]")]
    pub secrets: Vec<String>,
    /// Job name, stored as the `name` label (default: image or script plus a config hash).
    #[arg(long)]
    pub name: Option<String>,
    /// Label KEY=VALUE (a bare KEY gets an empty value). Repeatable.
    #[arg(short = 'l', long = "label", value_name = "KEY[=VALUE]")]
    pub label: Vec<String>,
    /// Volume hf://[TYPE/]ID[@REV][/PATH]:/MOUNT[:ro|:rw], or LOCAL_DIR:/MOUNT. Repeatable.
    #[arg(short = 'v', long = "volume", value_name = "SPEC")]
    pub volume: Vec<String>,
    /// Read environment variables from a dotenv file (`-` for stdin).
    #[arg(long, value_name = "PATH")]
    pub env_file: Option<String>,
    /// Read secrets from a dotenv file (`-` for stdin).
    #[arg(long, value_name = "PATH")]
    pub secrets_file: Option<String>,
    /// Hardware flavor (see `hfjobs hardware`). Default: cpu-basic.
    #[arg(long)]
    pub flavor: Option<String>,
    /// Maximum duration: seconds, or a number with s, m, h or d (90m, 1.5h).
    #[arg(long)]
    pub timeout: Option<String>,
    /// Maximum attempts, the first run included.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    pub attempts: Option<u32>,
    /// Print the resolved configuration and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Expose a container port through the jobs proxy (token needed). Repeatable.
    #[arg(long, value_name = "PORT")]
    pub expose: Vec<u16>,
    /// Expose a container port without authentication. Repeatable.
    #[arg(long, value_name = "PORT")]
    pub expose_public: Vec<u16>,
    /// Resource group (24 hex) to create the job in.
    #[arg(long)]
    pub resource_group_id: Option<String>,
}

/// Flags of one-off jobs only.
#[derive(Debug, Clone, Args)]
pub struct LaunchArgs {
    /// Do not follow the logs: print the job id and return.
    #[arg(short, long)]
    pub detach: bool,
    /// Make the job reachable with `hfjobs ssh`.
    #[arg(long)]
    pub ssh: bool,
    /// Join a network group.
    #[arg(long)]
    pub network_group: Option<String>,
    /// Claim an alias in the network group. Repeatable.
    #[arg(long)]
    pub network_alias: Vec<String>,
}

/// uv-specific flags.
#[derive(Debug, Clone, Args)]
pub struct UvArgs {
    /// Docker image with `uv` (default ghcr.io/astral-sh/uv:python3.12-bookworm).
    #[arg(long)]
    pub image: Option<String>,
    /// Install this package for the run. Repeatable.
    #[arg(long = "with", value_name = "PACKAGE")]
    pub with: Vec<String>,
    /// Python version for the run.
    #[arg(short, long)]
    pub python: Option<String>,
}

/// `--suspend/--no-suspend` and `--concurrency/--no-concurrency`: unset leaves the Hub default.
#[derive(Debug, Clone, Args)]
pub struct ScheduleFlags {
    /// Create the scheduled job suspended.
    #[arg(long, overrides_with = "no_suspend")]
    pub suspend: bool,
    #[arg(long, overrides_with = "suspend", hide = true)]
    pub no_suspend: bool,
    /// Let a run start while the previous one still runs.
    #[arg(long, overrides_with = "no_concurrency")]
    pub concurrency: bool,
    #[arg(long, overrides_with = "concurrency", hide = true)]
    pub no_concurrency: bool,
}

impl ScheduleFlags {
    pub fn suspend(&self) -> Option<bool> {
        tri_state(self.suspend, self.no_suspend)
    }

    pub fn concurrency(&self) -> Option<bool> {
        tri_state(self.concurrency, self.no_concurrency)
    }
}

fn tri_state(yes: bool, no: bool) -> Option<bool> {
    match (yes, no) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    }
}

#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub launch: LaunchArgs,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Docker image, or hf.co/spaces/OWNER/SPACE.
    pub image: String,
    /// The command to run, with its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct UvRunArgs {
    #[command(flatten)]
    pub uv: UvArgs,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub launch: LaunchArgs,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Script to run: a local file, a URL, or a command.
    pub script: String,
    /// Arguments of the script.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub script_args: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ScheduledRunArgs {
    #[command(flatten)]
    pub schedule_flags: ScheduleFlags,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// @annually, @yearly, @monthly, @weekly, @daily, @hourly or a cron expression (UTC).
    pub schedule: String,
    /// Docker image, or hf.co/spaces/OWNER/SPACE.
    pub image: String,
    /// The command to run, with its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct ScheduledUvRunArgs {
    #[command(flatten)]
    pub schedule_flags: ScheduleFlags,
    #[command(flatten)]
    pub uv: UvArgs,
    #[command(flatten)]
    pub spec: SpecArgs,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// @annually, @yearly, @monthly, @weekly, @daily, @hourly or a cron expression (UTC).
    pub schedule: String,
    /// Script to run: a local file, a URL, or a command.
    pub script: String,
    /// Arguments of the script.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub script_args: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct PsArgs {
    /// All jobs, finished ones included (not with --status).
    #[arg(short, long)]
    pub all: bool,
    /// Only jobs in these stages: comma-separated or repeated (running,scheduling,...).
    #[arg(long)]
    pub status: Vec<String>,
    /// Only jobs with this KEY=VALUE label. Repeatable (all must match).
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Only jobs with this name.
    #[arg(long)]
    pub name: Option<String>,
    /// At most this many jobs (0: all).
    #[arg(long, default_value_t = 100)]
    pub limit: usize,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ScheduledPsArgs {
    /// All scheduled jobs, suspended ones included (not with --status).
    #[arg(short, long)]
    pub all: bool,
    /// active or suspended: comma-separated or repeated.
    #[arg(long)]
    pub status: Vec<String>,
    /// Only scheduled jobs with this KEY=VALUE label. Repeatable (all must match).
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Only scheduled jobs with this name.
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct InspectArgs {
    /// Ids (or NAMESPACE/ID).
    #[arg(required = true)]
    pub ids: Vec<String>,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct JobArgs {
    /// Id (or NAMESPACE/ID).
    pub id: String,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RescheduleArgs {
    /// Scheduled job id (or NAMESPACE/ID).
    pub id: String,
    /// @annually, @yearly, @monthly, @weekly, @daily, @hourly or a cron expression (UTC).
    pub schedule: String,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// Job id (or NAMESPACE/ID).
    pub id: String,
    /// Keep streaming until the job ends.
    #[arg(short, long)]
    pub follow: bool,
    /// Start from the last N lines.
    #[arg(short = 'n', long, value_name = "N")]
    pub tail: Option<u64>,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Job ids (or NAMESPACE/ID), all in one namespace.
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Give up after this long: seconds, or a number with s, m, h or d.
    #[arg(long)]
    pub timeout: Option<String>,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct LabelsArgs {
    /// Id (or NAMESPACE/ID).
    pub id: String,
    /// New name; alone, the other labels are kept.
    #[arg(long)]
    pub name: Option<String>,
    /// Label KEY=VALUE; replaces all labels. Repeatable.
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Remove every label.
    #[arg(long)]
    pub clear: bool,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct StatsArgs {
    /// Job ids (or NAMESPACE/ID). Default: every running job.
    pub ids: Vec<String>,
    /// Keep a live view until the jobs end.
    #[arg(short, long)]
    pub follow: bool,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct HardwareArgs {
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct SshArgs {
    /// Job id (or NAMESPACE/ID).
    pub id: String,
    /// SSH identity file (passed to `ssh -i`).
    #[arg(short, long)]
    pub identity_file: Option<String>,
    /// Print the ssh command instead of running it.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ExposeArgs {
    /// Job id (or NAMESPACE/ID).
    pub id: String,
    /// Ports reachable with a token.
    pub ports: Vec<u16>,
    /// Port reachable without authentication. Repeatable.
    #[arg(long)]
    pub public: Vec<u16>,
    /// Close every exposed port.
    #[arg(long)]
    pub clear: bool,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Debug, Clone, Args)]
pub struct RerunArgs {
    /// Job id (or NAMESPACE/ID).
    pub id: String,
    /// Do not follow the logs.
    #[arg(short, long)]
    pub detach: bool,
    #[command(flatten)]
    pub hub: HubArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}
