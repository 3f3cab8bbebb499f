//! The vocabulary between the dispatcher's logic and the services: what a GitHub or HF call
//! answers, and how a failure is classed for the state machine.
//!
//! [`crate::adapters`] makes the calls over the `github-app` and `hf-jobs` clients (tests point
//! those at `testkit`'s fakes). Statuses cross as the clients' enums ([`JobStatus`],
//! [`JobStage`]), never as text.

use std::collections::BTreeMap;
use std::time::Duration;

pub use github_app::JobStatus;
pub use hf_jobs::JobStage;
use secrecy::SecretString;

use crate::health::Service;

/// A failed call, classified for the state machine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PortError {
    /// Worth trying again later (5xx, 429, secondary limits, timeouts, network errors).
    #[error("{service} is unavailable for now: {message}")]
    Transient {
        service: Service,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The credentials or the account stop every call (HF 401/403/402, GitHub 401): no job
    /// can start until an operator acts, so jobs wait instead of failing.
    #[error("{service} refused our credentials: {message}")]
    Credentials { service: Service, message: String },
    /// This request cannot succeed (not found, validation errors, a bad flavor or image).
    #[error("{service} refused the request: {message}")]
    Permanent { service: Service, message: String },
}

impl PortError {
    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Transient { .. })
    }
}

/// GitHub's view of a workflow job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubJob {
    pub status: JobStatus,
    pub conclusion: Option<String>,
    pub runner_name: Option<String>,
    /// The job's `runs-on` labels.
    pub labels: Vec<String>,
}

/// The result of asking GitHub for a JIT runner config.
pub enum JitRunner {
    Created {
        runner_id: u64,
        encoded_jit_config: SecretString,
    },
    /// A runner with this name is registered already (an earlier attempt of ours).
    NameTaken { runner_id: u64, busy: bool },
}

/// The result of deleting a runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerRemoval {
    Deleted,
    /// GitHub no longer knows the runner (it ran and deregistered, or was never created).
    AlreadyGone,
    /// The runner is running a job: it must not be torn down.
    Busy,
}

/// A self-hosted runner registered on a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredRunner {
    pub id: u64,
    pub name: String,
    pub online: bool,
    pub busy: bool,
}

/// One of the App's webhook deliveries, as GitHub logged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedDelivery {
    pub id: u64,
    /// The `X-GitHub-Delivery` header: the same for every redelivery of one event.
    pub guid: String,
    pub event: String,
    /// True when GitHub got a 2xx answer.
    pub ok: bool,
    pub delivered_ms: i64,
}

/// A page of the delivery log, newest first.
#[derive(Debug, Clone, Default)]
pub struct DeliveryLogPage {
    pub deliveries: Vec<LoggedDelivery>,
    pub next_cursor: Option<String>,
}

/// An HF Job as far as the dispatcher cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfJob {
    pub id: String,
    pub stage: JobStage,
    pub labels: BTreeMap<String, String>,
    /// The namespace it runs in, when not the dispatcher's default one.
    pub namespace: Option<String>,
}

/// What a workflow run says about where its code comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOrigin {
    /// A pull request whose code comes from another repository (a fork).
    pub from_fork: bool,
    /// Who triggered the run (for a fork pull request, its author).
    pub actor: Option<String>,
}

/// Everything needed to create the HF Job that hosts one runner.
pub struct LaunchSpec {
    pub image: String,
    pub command: Vec<String>,
    pub environment: BTreeMap<String, String>,
    /// Sent only in the job's `secrets`: never in environment, labels or command.
    pub secrets: BTreeMap<String, SecretString>,
    pub flavor: String,
    pub timeout_seconds: Option<u64>,
    pub labels: BTreeMap<String, String>,
    /// The namespace to run in, when not the dispatcher's default one.
    pub namespace: Option<String>,
    /// Buckets to mount (a repository's cache); each is created if missing.
    pub volumes: Vec<hf_jobs::Volume>,
}

/// How a completed check run ended, as GitHub names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckConclusion {
    Success,
    Failure,
    Neutral,
    Skipped,
}

impl CheckConclusion {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckConclusion::Success => "success",
            CheckConclusion::Failure => "failure",
            CheckConclusion::Neutral => "neutral",
            CheckConclusion::Skipped => "skipped",
        }
    }
}

/// Where a check run stands: a conclusion exactly when it is completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    InProgress,
    Completed(CheckConclusion),
}

impl CheckStatus {
    /// GitHub's `status` field.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::InProgress => "in_progress",
            CheckStatus::Completed(_) => "completed",
        }
    }

    pub fn conclusion(self) -> Option<CheckConclusion> {
        match self {
            CheckStatus::InProgress => None,
            CheckStatus::Completed(conclusion) => Some(conclusion),
        }
    }
}

/// What a job's check run shows the workflow author (see [`crate::feedback`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRunContent {
    pub name: String,
    /// The commit it is written on.
    pub head_sha: String,
    /// The job's key ([`crate::model::JobKey::id`]), to find the check run again.
    pub external_id: String,
    pub status: CheckStatus,
    /// Plain text.
    pub title: String,
    /// Markdown, at most [`CHECK_RUN_TEXT_MAX`] characters.
    pub summary: String,
    /// Markdown, at most [`CHECK_RUN_TEXT_MAX`] characters.
    pub text: Option<String>,
    pub details_url: Option<String>,
}

/// GitHub's limit on a check run's `output.summary` and `output.text`, in characters.
pub const CHECK_RUN_TEXT_MAX: usize = 65_535;

/// Why a check run could not be written.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CheckRunError {
    /// 403: the App lacks Checks (write) on this installation, or the installation is
    /// suspended.
    #[error("GitHub refused to write the check run (the App needs Checks: write): {message}")]
    Forbidden { message: String },
    /// 404: the check run (or the repository) is gone or not visible to the App.
    #[error("GitHub does not know the check run or its repository: {message}")]
    NotFound { message: String },
    #[error(transparent)]
    Port(#[from] PortError),
}
