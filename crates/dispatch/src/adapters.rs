//! The ports implemented over the `github-app` and `hf-jobs` clients.
//!
//! Each adapter classifies the client's errors for the state machine and records every
//! successful call in [`Health`], which `/readyz` reads.

use std::sync::Arc;

use async_trait::async_trait;
use github_app::{GitHubAppClient, JitOutcome, JitRequest, JobStatus, RepoRef, RunnerScope};
use hf_jobs::{JobFilter, JobSpec, JobsApi};

use crate::health::{Health, Service};
use crate::launcher::now_ms;
use crate::ports::{
    GitHubJob, GitHubPort, HfJob, HfPort, JitRunner, LaunchSpec, PortError, RunnerRemoval,
};

/// GitHub through the App client.
pub struct GitHubAdapter {
    pub client: Arc<GitHubAppClient>,
    pub health: Arc<Health>,
}

fn github_error(e: github_app::Error) -> PortError {
    let retry_after = match &e {
        github_app::Error::RateLimited { retry_after } => Some(*retry_after),
        _ => None,
    };
    if e.is_retryable() {
        PortError::Transient {
            service: "GitHub",
            message: e.to_string(),
            retry_after,
        }
    } else {
        PortError::Permanent {
            service: "GitHub",
            message: e.to_string(),
        }
    }
}

fn repo_ref(repo: &str) -> Result<RepoRef, PortError> {
    RepoRef::parse(repo).ok_or_else(|| PortError::Permanent {
        service: "GitHub",
        message: format!("'{repo}' is not owner/name"),
    })
}

impl GitHubAdapter {
    fn ok<T>(&self, result: Result<T, github_app::Error>) -> Result<T, github_app::Error> {
        // A 4xx answer still proves GitHub is reachable and our credentials are accepted.
        let reached = match &result {
            Ok(_) => true,
            Err(e) => matches!(
                e,
                github_app::Error::NotFound { .. }
                    | github_app::Error::Conflict { .. }
                    | github_app::Error::Validation { .. }
            ),
        };
        if reached {
            self.health.record_ok(Service::GitHub, now_ms());
        }
        result
    }
}

#[async_trait]
impl GitHubPort for GitHubAdapter {
    async fn job(
        &self,
        installation_id: u64,
        repo: &str,
        job_id: u64,
    ) -> Result<Option<GitHubJob>, PortError> {
        let repo = repo_ref(repo)?;
        match self.ok(self.client.get_job(installation_id, &repo, job_id).await) {
            Ok(job) => {
                let status = match job.status {
                    JobStatus::Queued => "queued",
                    JobStatus::InProgress => "in_progress",
                    JobStatus::Completed => "completed",
                    JobStatus::Waiting => "waiting",
                    JobStatus::Requested => "requested",
                    JobStatus::Pending => "pending",
                    JobStatus::Unknown => "unknown",
                };
                Ok(Some(GitHubJob {
                    status: status.to_owned(),
                    runner_name: job.runner_name.filter(|n| !n.is_empty()),
                }))
            }
            Err(github_app::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(github_error(e)),
        }
    }

    async fn create_jit_runner(
        &self,
        installation_id: u64,
        repo: &str,
        runner_name: &str,
        labels: &[String],
    ) -> Result<JitRunner, PortError> {
        let scope = RunnerScope::Repo(repo_ref(repo)?);
        let request = JitRequest::new(runner_name, labels.to_vec());
        match self
            .ok(self
                .client
                .generate_jit_config(installation_id, &scope, &request)
                .await)
            .map_err(github_error)?
        {
            JitOutcome::Created(config) => Ok(JitRunner::Created {
                runner_id: config.runner.id,
                encoded_jit_config: config.encoded_jit_config,
            }),
            JitOutcome::AlreadyExists(runner) => Ok(JitRunner::NameTaken {
                runner_id: runner.id,
                busy: runner.busy,
            }),
        }
    }

    async fn delete_runner(
        &self,
        installation_id: u64,
        repo: &str,
        runner_id: u64,
    ) -> Result<RunnerRemoval, PortError> {
        let scope = RunnerScope::Repo(repo_ref(repo)?);
        match self.ok(self
            .client
            .delete_runner(installation_id, &scope, runner_id)
            .await)
        {
            Ok(()) => Ok(RunnerRemoval::Deleted),
            Err(github_app::Error::NotFound { .. }) => Ok(RunnerRemoval::AlreadyGone),
            // GitHub refuses to delete a runner that is running a job.
            Err(github_app::Error::Validation { .. }) => Ok(RunnerRemoval::Busy),
            Err(e) => Err(github_error(e)),
        }
    }

    async fn probe(&self) -> Result<String, PortError> {
        let app = self.ok(self.client.app().await).map_err(github_error)?;
        Ok(app.slug.unwrap_or(app.name))
    }
}

/// HF Jobs through the Hub client.
pub struct HfAdapter {
    pub client: Arc<dyn JobsApi>,
    pub health: Arc<Health>,
}

fn hf_error(e: hf_jobs::Error) -> PortError {
    let retry_after = match &e {
        hf_jobs::Error::RateLimited { retry_after, .. } => *retry_after,
        _ => None,
    };
    if e.is_retryable() {
        PortError::Transient {
            service: "HF Jobs",
            message: e.to_string(),
            retry_after,
        }
    } else {
        PortError::Permanent {
            service: "HF Jobs",
            message: e.to_string(),
        }
    }
}

impl HfAdapter {
    fn ok<T>(&self, result: Result<T, hf_jobs::Error>) -> Result<T, hf_jobs::Error> {
        let reached = match &result {
            Ok(_) => true,
            Err(e) => matches!(
                e,
                hf_jobs::Error::NotFound { .. }
                    | hf_jobs::Error::BadRequest { .. }
                    | hf_jobs::Error::Conflict { .. }
            ),
        };
        if reached {
            self.health.record_ok(Service::Hf, now_ms());
        }
        result
    }
}

fn hf_job(job: &hf_jobs::Job) -> HfJob {
    HfJob {
        id: job.id.clone(),
        stage: job.status.stage.to_string(),
    }
}

#[async_trait]
impl HfPort for HfAdapter {
    async fn find_jobs(&self, key: &str, value: &str) -> Result<Vec<HfJob>, PortError> {
        let filter = JobFilter::new().label(key, value);
        let jobs = self
            .ok(self.client.list_jobs(&filter).await)
            .map_err(hf_error)?;
        Ok(jobs.iter().map(hf_job).collect())
    }

    async fn create_job(&self, spec: &LaunchSpec) -> Result<HfJob, PortError> {
        let mut job =
            JobSpec::new(spec.image.clone(), spec.command.clone()).flavor(spec.flavor.clone());
        if let Some(name) = spec.labels.get("ferry.runner") {
            job = job.name(name.clone());
        }
        for (key, value) in &spec.environment {
            job = job.env(key.clone(), value.clone());
        }
        for (key, value) in &spec.secrets {
            job = job.secret(key.clone(), value.clone());
        }
        for (key, value) in &spec.labels {
            job = job.label(key.clone(), value.clone());
        }
        if let Some(seconds) = spec.timeout_seconds {
            job = job.timeout(seconds);
        }
        let created = self.ok(self.client.run_job(&job).await).map_err(hf_error)?;
        Ok(hf_job(&created))
    }

    async fn cancel_job(&self, job_id: &str) -> Result<(), PortError> {
        match self.ok(self.client.cancel_job(job_id).await) {
            Ok(()) | Err(hf_jobs::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(hf_error(e)),
        }
    }

    async fn probe(&self) -> Result<String, PortError> {
        self.ok(self.client.namespace().await).map_err(hf_error)
    }
}
