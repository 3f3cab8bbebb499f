//! What the dispatcher needs from GitHub and from HF Jobs, as narrow traits.
//!
//! The adapters in [`crate::adapters`] implement them over the `github-app` and `hf-jobs`
//! clients; tests may implement them directly to stage failures that the fakes cannot.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;

/// A failed call, classified for the state machine.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PortError {
    /// Worth trying again later (5xx, 429, timeouts, network errors).
    #[error("{service} is unavailable for now: {message}")]
    Transient {
        service: &'static str,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Trying again will not help (bad credentials, validation errors, no credits).
    #[error("{service} refused the request: {message}")]
    Permanent {
        service: &'static str,
        message: String,
    },
}

impl PortError {
    pub fn is_transient(&self) -> bool {
        matches!(self, PortError::Transient { .. })
    }
}

/// GitHub's view of a workflow job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubJob {
    /// `queued`, `in_progress`, `completed`, `waiting`, ...
    pub status: String,
    pub runner_name: Option<String>,
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

    /// Signs in as the App: proves the key and the API are usable.
    async fn probe(&self) -> Result<String, PortError>;
}

/// An HF Job as far as the dispatcher cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HfJob {
    pub id: String,
    /// `SCHEDULING`, `RUNNING`, `COMPLETED`, `CANCELED`, `ERROR`, `DELETED`.
    pub stage: String,
}

impl HfJob {
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.stage.as_str(),
            "COMPLETED" | "CANCELED" | "ERROR" | "DELETED"
        )
    }
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

    async fn create_job(&self, spec: &LaunchSpec) -> Result<HfJob, PortError>;

    /// Cancels a job; a job that is gone or already over counts as cancelled.
    async fn cancel_job(&self, job_id: &str) -> Result<(), PortError>;

    /// Proves the token and the API are usable; answers the namespace jobs are launched in.
    async fn probe(&self) -> Result<String, PortError>;
}
