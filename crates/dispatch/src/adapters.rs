//! The calls the dispatcher makes, over the `github-app` and `hf-jobs` clients.
//!
//! Each adapter answers in [`crate::ports`]' vocabulary, classifies the client's errors for
//! the state machine, and records every successful call in [`Health`], which `/readyz` reads.

use std::sync::Arc;

use futures_util::TryStreamExt;
use github_app::{DeliveryQuery, GitHubAppClient, JitOutcome, JitRequest, RepoRef, RunnerScope};
use hf_jobs::{HfClient, JobFilter, JobSpec, JobStage};

use crate::health::{Health, Service};
use crate::hf_labels;
use crate::model::now_ms;
use crate::model::{JobFacts, JobKey};
use crate::ports::{
    DeliveryLogPage, GitHubJob, HfJob, JitRunner, JobStatus, LaunchSpec, LoggedDelivery, PortError,
    RegisteredRunner, RunnerRemoval,
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
    let service = Service::GitHub;
    let message = e.to_string();
    if e.is_retryable() {
        PortError::Transient {
            service,
            message,
            retry_after,
        }
    } else if matches!(e, github_app::Error::Unauthorized { .. }) {
        PortError::Credentials {
            service,
            message: format!("{message} (check GH_APP_ID and GH_APP_PRIVATE_KEY)"),
        }
    } else {
        PortError::Permanent { service, message }
    }
}

fn repo_ref(repo: &str) -> Result<RepoRef, PortError> {
    RepoRef::parse(repo).ok_or_else(|| PortError::Permanent {
        service: Service::GitHub,
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

impl GitHubAdapter {
    pub async fn job(
        &self,
        installation_id: u64,
        repo: &str,
        job_id: u64,
    ) -> Result<Option<GitHubJob>, PortError> {
        let repo = repo_ref(repo)?;
        match self.ok(self.client.get_job(installation_id, &repo, job_id).await) {
            Ok(job) => Ok(Some(GitHubJob {
                status: job.status,
                conclusion: job.conclusion,
                runner_name: job.runner_name.filter(|n| !n.is_empty()),
                labels: job.labels,
            })),
            Err(github_app::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(github_error(e)),
        }
    }

    pub async fn create_jit_runner(
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

    pub async fn delete_runner(
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

    pub async fn runners(
        &self,
        installation_id: u64,
        repo: &str,
        prefix: &str,
    ) -> Result<Vec<RegisteredRunner>, PortError> {
        let scope = RunnerScope::Repo(repo_ref(repo)?);
        let listed = self
            .ok(self
                .client
                .list_runners(installation_id, &scope, None)
                .await)
            .map_err(github_error)?;
        Ok(listed
            .into_iter()
            .filter(|r| r.name.starts_with(prefix))
            .map(|r| RegisteredRunner {
                id: r.id,
                online: r.status == "online",
                busy: r.busy,
                name: r.name,
            })
            .collect())
    }

    pub async fn deliveries(&self, cursor: Option<&str>) -> Result<DeliveryLogPage, PortError> {
        let query = DeliveryQuery {
            per_page: Some(100),
            cursor: cursor.map(str::to_owned),
            status: None,
        };
        let page = self
            .ok(self.client.list_deliveries(&query).await)
            .map_err(github_error)?;
        Ok(DeliveryLogPage {
            deliveries: page
                .deliveries
                .into_iter()
                .map(|d| LoggedDelivery {
                    id: d.id,
                    ok: d.status == "OK",
                    delivered_ms: d.delivered_at.as_millisecond(),
                    guid: d.guid,
                    event: d.event,
                })
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    pub async fn redeliver(&self, delivery_id: u64) -> Result<(), PortError> {
        self.ok(self.client.redeliver(delivery_id).await)
            .map_err(github_error)
    }

    pub async fn queued_jobs(&self, max_calls: usize) -> Result<Vec<JobFacts>, PortError> {
        let mut calls = 1;
        let installations = self
            .ok(self.client.list_installations().await)
            .map_err(github_error)?;
        let mut found = Vec::new();
        for installation in installations {
            if calls >= max_calls {
                break;
            }
            calls += 1;
            let repositories = match self
                .client
                .list_installation_repositories(installation.id)
                .await
            {
                Ok(repositories) => repositories,
                // A suspended installation answers 403: skip it, the others still count.
                Err(e) if !e.is_retryable() => continue,
                Err(e) => return Err(github_error(e)),
            };
            for repository in repositories {
                if calls >= max_calls {
                    break;
                }
                let Some(repo) = RepoRef::parse(&repository.full_name) else {
                    continue;
                };
                // A run is `in_progress` as soon as one of its jobs started: its other jobs
                // may still wait for a runner.
                let mut runs = Vec::new();
                for status in ["queued", "in_progress"] {
                    calls += 1;
                    runs.extend(
                        self.ok(self
                            .client
                            .list_workflow_runs(installation.id, &repo, Some(status))
                            .await)
                            .map_err(github_error)?,
                    );
                }
                for run in runs {
                    if calls >= max_calls {
                        break;
                    }
                    calls += 1;
                    let jobs = self
                        .ok(self
                            .client
                            .list_run_jobs(installation.id, &repo, run.id)
                            .await)
                        .map_err(github_error)?;
                    for job in jobs.into_iter().filter(|j| j.status == JobStatus::Queued) {
                        found.push(JobFacts {
                            key: JobKey {
                                repo: repository.full_name.clone(),
                                job_id: job.id,
                                run_attempt: job.run_attempt.unwrap_or(1),
                            },
                            run_id: job.run_id,
                            installation_id: Some(installation.id),
                            labels: job.labels,
                            workflow_name: None,
                            job_name: job.name,
                            head_sha: job.head_sha,
                            flavor: None,
                        });
                    }
                }
            }
        }
        Ok(found)
    }

    pub async fn probe(&self) -> Result<String, PortError> {
        let (app, installations) =
            tokio::join!(self.client.app(), self.client.list_installations());
        let app = self.ok(app).map_err(github_error)?;
        let installations = self.ok(installations).map_err(github_error)?;
        Ok(format!(
            "{} ({} installation{})",
            app.slug.unwrap_or(app.name),
            installations.len(),
            if installations.len() == 1 { "" } else { "s" }
        ))
    }
}

/// HF Jobs through the Hub client.
pub struct HfAdapter {
    pub client: Arc<HfClient>,
    pub health: Arc<Health>,
}

fn hf_error(e: hf_jobs::Error) -> PortError {
    let retry_after = match &e {
        hf_jobs::Error::RateLimited { retry_after, .. } => *retry_after,
        _ => None,
    };
    let service = Service::Hf;
    let message = e.to_string();
    if e.is_retryable() {
        PortError::Transient {
            service,
            message,
            retry_after,
        }
    } else if matches!(
        e,
        hf_jobs::Error::Unauthorized { .. }
            | hf_jobs::Error::Forbidden { .. }
            | hf_jobs::Error::PaymentRequired { .. }
    ) {
        PortError::Credentials {
            service,
            message: format!(
                "{message} (check HF_TOKEN, its permissions and the namespace's credits)"
            ),
        }
    } else {
        PortError::Permanent { service, message }
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
        stage: job.status.stage.clone(),
        labels: job.labels.clone(),
    }
}

impl HfAdapter {
    pub async fn find_jobs(&self, key: &str, value: &str) -> Result<Vec<HfJob>, PortError> {
        let filter = JobFilter::new().label(key, value);
        let jobs: Vec<hf_jobs::Job> = self
            .ok(self.client.list_jobs(&filter).try_collect().await)
            .map_err(hf_error)?;
        Ok(jobs.iter().map(hf_job).collect())
    }

    pub async fn live_jobs(&self) -> Result<Vec<HfJob>, PortError> {
        let (key, value) = hf_labels::MANAGED_BY;
        let filter = JobFilter::new()
            .label(key, value)
            .stage(JobStage::Scheduling)
            .stage(JobStage::Running);
        let jobs: Vec<hf_jobs::Job> = self
            .ok(self.client.list_jobs(&filter).try_collect().await)
            .map_err(hf_error)?;
        Ok(jobs.iter().map(hf_job).collect())
    }

    pub async fn create_job(&self, spec: &LaunchSpec) -> Result<HfJob, PortError> {
        let mut job =
            JobSpec::new(spec.image.clone(), spec.command.clone()).flavor(spec.flavor.clone());
        if let Some(name) = spec.labels.get(hf_labels::RUNNER) {
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

    pub async fn cancel_job(&self, job_id: &str) -> Result<(), PortError> {
        match self.ok(self.client.cancel_job(job_id).await) {
            Ok(()) | Err(hf_jobs::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(hf_error(e)),
        }
    }

    pub async fn probe(&self) -> Result<String, PortError> {
        let who = self.ok(self.client.whoami().await).map_err(hf_error)?;
        Ok(who.name)
    }
}
