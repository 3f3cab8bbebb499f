//! What the dispatcher needs from GitHub and from HF Jobs, as narrow traits.
//!
//! The adapters in [`crate::adapters`] implement them over the `github-app` and `hf-jobs`
//! clients; tests may implement them directly to stage failures that the fakes cannot.
//! Statuses cross the ports as the clients' enums ([`JobStatus`], [`JobStage`]), never as text.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
pub use github_app::JobStatus;
pub use hf_jobs::JobStage;
use secrecy::SecretString;

use crate::health::Service;
use crate::model::JobFacts;

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

#[async_trait]
pub trait GitHubPort: Send + Sync + 'static {
    /// The job as GitHub sees it now; `None` when GitHub no longer knows it.
    async fn job(
        &self,
        installation_id: u64,
        repo: &str,
        job_id: u64,
    ) -> Result<Option<GitHubJob>, PortError>;

    async fn create_jit_runner(
        &self,
        installation_id: u64,
        repo: &str,
        runner_name: &str,
        labels: &[String],
    ) -> Result<JitRunner, PortError>;

    async fn delete_runner(
        &self,
        installation_id: u64,
        repo: &str,
        runner_id: u64,
    ) -> Result<RunnerRemoval, PortError>;

    /// The repository's self-hosted runners whose names start with `prefix`.
    async fn runners(
        &self,
        installation_id: u64,
        repo: &str,
        prefix: &str,
    ) -> Result<Vec<RegisteredRunner>, PortError>;

    /// One page of the App's delivery log, from `cursor` (newest first without one).
    async fn deliveries(&self, cursor: Option<&str>) -> Result<DeliveryLogPage, PortError>;

    /// Asks GitHub to send a logged delivery again.
    async fn redeliver(&self, delivery_id: u64) -> Result<(), PortError>;

    /// Jobs waiting in queued workflow runs of every installed repository, found with at
    /// most `max_calls` API calls: the jobs nobody told us about.
    async fn queued_jobs(&self, max_calls: usize) -> Result<Vec<JobFacts>, PortError>;

    /// Signs in as the App and lists its installations: proves the key and the API work.
    async fn probe(&self) -> Result<String, PortError>;
}

/// An HF Job as far as the dispatcher cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfJob {
    pub id: String,
    pub stage: JobStage,
    pub labels: BTreeMap<String, String>,
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
}

#[async_trait]
pub trait HfPort: Send + Sync + 'static {
    /// Jobs carrying the label `key=value`, in any stage.
    async fn find_jobs(&self, key: &str, value: &str) -> Result<Vec<HfJob>, PortError>;

    /// Ferry's jobs that are scheduled or running.
    async fn live_jobs(&self) -> Result<Vec<HfJob>, PortError>;

    async fn create_job(&self, spec: &LaunchSpec) -> Result<HfJob, PortError>;

    /// Cancels a job; a job that is gone or already over counts as cancelled.
    async fn cancel_job(&self, job_id: &str) -> Result<(), PortError>;

    /// Signs in with the token (`whoami`), never from a cache; answers the account's name.
    async fn probe(&self) -> Result<String, PortError>;
}
