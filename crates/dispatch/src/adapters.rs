//! The calls the dispatcher makes, over the `github-app` and `hf-jobs` clients.
//!
//! Each adapter answers in [`crate::ports`]' vocabulary, classifies the client's errors for
//! the state machine, and records every successful call in [`Health`], which `/readyz` reads.

use std::sync::Arc;

use futures_util::TryStreamExt;
use github_app::{DeliveryQuery, GitHubAppClient, JitOutcome, JitRequest, RepoRef, RunnerScope};
use hf_jobs::{HfClient, JobFilter, JobSpec, JobStage};

use crate::config::RunnerScopeSetting;
use crate::health::{Health, Service};
use crate::hf_labels;
use crate::model::now_ms;
use crate::model::{JobFacts, JobKey};
use crate::ports::{CheckRunContent, CheckRunError};
use crate::ports::{
    DeliveryLogPage, GitHubJob, HfJob, JitRunner, JobStatus, LaunchSpec, LoggedDelivery, PortError,
    RegisteredRunner, RunOrigin, RunnerRemoval,
};

/// GitHub through the App client. Every installation call goes out with a token narrowed to
/// the one repository and the one permission it needs (`github_app::TokenScope`); see
/// `docs/permissions.md`.
pub struct GitHubAdapter {
    pub client: Arc<GitHubAppClient>,
    pub health: Arc<Health>,
    /// Where runners register (`RUNNER_SCOPE`): on the job's repository, or on its owner
    /// organisation in a runner group.
    pub runner_scope: RunnerScopeSetting,
}

fn github_error(e: github_app::Error) -> PortError {
    let retry_after = match &e {
        github_app::Error::RateLimited { retry_after } => Some(*retry_after),
        _ => None,
    };
    let service = Service::GitHub;
    // API error texts are stored as reasons and shown to people: cut short, no secrets.
    let message = crate::scrub::scrub(&e.to_string());
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

/// Where the runners of `repo` live, and their runner group: the repository and its only
/// group (1), or the owner organisation and the configured group.
fn runner_scope(setting: RunnerScopeSetting, repo: &str) -> Result<(RunnerScope, u64), PortError> {
    let repo = repo_ref(repo)?;
    Ok(match setting {
        RunnerScopeSetting::Repository => (RunnerScope::Repo(repo), 1),
        RunnerScopeSetting::Organisation { group_id } => (RunnerScope::Org(repo.owner), group_id),
    })
}

/// The label an organisation runner carries to say which repository it was made for, so that
/// listing "the runners of a repository" stays true when they all live on the organisation:
/// `ferry-repo-<owner>.<name>` in lower case (owners have no dot, so it reads back
/// unambiguously), or a stable 64-bit FNV-1a hash of that when it would be long. Jobs match
/// runners whose labels include theirs, so an extra label takes no job away.
fn repository_label(repo: &RepoRef) -> String {
    let readable = format!("{}.{}", repo.owner, repo.name).to_ascii_lowercase();
    if readable.len() <= 40 {
        return format!("ferry-repo-{readable}");
    }
    let hash = readable
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    format!("ferry-repo-{hash:016x}")
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
        let (scope, runner_group_id) = runner_scope(self.runner_scope, repo)?;
        let mut labels = labels.to_vec();
        if matches!(scope, RunnerScope::Org(_)) {
            labels.push(repository_label(&repo_ref(repo)?));
        }
        let request = JitRequest {
            runner_group_id,
            ..JitRequest::new(runner_name, labels)
        };
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
        let (scope, _) = runner_scope(self.runner_scope, repo)?;
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
        let (scope, _) = runner_scope(self.runner_scope, repo)?;
        // Organisation runners of every repository share one list: keep this repository's.
        let label = match &scope {
            RunnerScope::Org(_) => Some(repository_label(&repo_ref(repo)?)),
            RunnerScope::Repo(_) => None,
        };
        let listed = self
            .ok(self
                .client
                .list_runners(installation_id, &scope, None)
                .await)
            .map_err(github_error)?;
        Ok(listed
            .into_iter()
            .filter(|r| r.name.starts_with(prefix))
            .filter(|r| {
                label
                    .as_deref()
                    .is_none_or(|label| r.label_names().any(|l| l.eq_ignore_ascii_case(label)))
            })
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

impl GitHubAdapter {
    /// Where a workflow run's code comes from: is it a pull request from a fork?
    pub async fn run_origin(
        &self,
        installation_id: u64,
        repo: &str,
        run_id: u64,
    ) -> Result<RunOrigin, PortError> {
        let repo = repo_ref(repo)?;
        let run = self
            .ok(self
                .client
                .get_workflow_run(installation_id, &repo, run_id)
                .await)
            .map_err(github_error)?;
        Ok(RunOrigin {
            from_fork: run.event.starts_with("pull_request") && run.is_from_fork(),
            actor: run.triggering_actor.map(|a| a.login),
        })
    }
}

/// HF Jobs through the Hub client.
pub struct HfAdapter {
    pub client: Arc<HfClient>,
    pub health: Arc<Health>,
    /// Namespaces other than the client's that the policy sends jobs to: listed too.
    pub other_namespaces: Vec<String>,
    /// Cache buckets known to exist, so each is created at most once per process.
    pub buckets: std::sync::Mutex<std::collections::HashSet<String>>,
}

fn hf_error(e: hf_jobs::Error) -> PortError {
    let retry_after = match &e {
        hf_jobs::Error::RateLimited { retry_after, .. } => *retry_after,
        _ => None,
    };
    let service = Service::Hf;
    // API error texts are stored as reasons and shown to people: cut short, no secrets.
    let message = crate::scrub::scrub(&e.to_string());
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

fn hf_job(job: &hf_jobs::Job, namespace: Option<&str>) -> HfJob {
    HfJob {
        id: job.id.clone(),
        stage: job.status.stage.clone(),
        labels: job.labels.clone(),
        namespace: namespace.map(str::to_owned),
    }
}

impl HfAdapter {
    /// The client for `namespace`, or the default one.
    fn client_in(&self, namespace: Option<&str>) -> Result<HfClient, PortError> {
        match namespace {
            None => Ok((*self.client).clone()),
            Some(namespace) => self.client.with_namespace(namespace).map_err(hf_error),
        }
    }

    pub async fn find_jobs(
        &self,
        namespace: Option<&str>,
        key: &str,
        value: &str,
    ) -> Result<Vec<HfJob>, PortError> {
        let filter = JobFilter::new().label(key, value);
        let jobs: Vec<hf_jobs::Job> = self
            .ok(self
                .client_in(namespace)?
                .list_jobs(&filter)
                .try_collect()
                .await)
            .map_err(hf_error)?;
        Ok(jobs.iter().map(|j| hf_job(j, namespace)).collect())
    }

    /// Ferry's scheduled or running jobs, in the default namespace and every other one the
    /// policy uses.
    pub async fn live_jobs(&self) -> Result<Vec<HfJob>, PortError> {
        let (key, value) = hf_labels::MANAGED_BY;
        let filter = JobFilter::new()
            .label(key, value)
            .stage(JobStage::Scheduling)
            .stage(JobStage::Running);
        let mut live = Vec::new();
        let namespaces =
            std::iter::once(None).chain(self.other_namespaces.iter().map(|n| Some(n.as_str())));
        for namespace in namespaces {
            let jobs: Vec<hf_jobs::Job> = self
                .ok(self
                    .client_in(namespace)?
                    .list_jobs(&filter)
                    .try_collect()
                    .await)
                .map_err(hf_error)?;
            live.extend(jobs.iter().map(|j| hf_job(j, namespace)));
        }
        Ok(live)
    }

    pub async fn create_job(&self, spec: &LaunchSpec) -> Result<HfJob, PortError> {
        let client = self.client_in(spec.namespace.as_deref())?;
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
        for volume in &spec.volumes {
            self.ensure_bucket(&client, &volume.source).await?;
            job = job.volume(volume.clone());
        }
        let created = self.ok(client.run_job(&job).await).map_err(hf_error)?;
        Ok(hf_job(&created, spec.namespace.as_deref()))
    }

    /// Creates a private cache bucket the first time it is used.
    async fn ensure_bucket(&self, client: &HfClient, bucket: &str) -> Result<(), PortError> {
        if self.buckets.lock().unwrap().contains(bucket) {
            return Ok(());
        }
        let options = hf_jobs::buckets::CreateBucket::new()
            .visibility(hf_jobs::buckets::Visibility::Private)
            .exist_ok(true);
        self.ok(client.create_bucket(bucket, &options).await)
            .map_err(hf_error)?;
        self.buckets.lock().unwrap().insert(bucket.to_owned());
        Ok(())
    }

    /// Cancels a job; a job that is gone or already over counts as cancelled.
    pub async fn cancel_job(&self, namespace: Option<&str>, job_id: &str) -> Result<(), PortError> {
        match self.ok(self.client_in(namespace)?.cancel_job(job_id).await) {
            Ok(()) | Err(hf_jobs::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(hf_error(e)),
        }
    }

    pub async fn probe(&self) -> Result<String, PortError> {
        let who = self.ok(self.client.whoami().await).map_err(hf_error)?;
        Ok(who.name)
    }
}

fn check_run_error(e: github_app::Error) -> CheckRunError {
    match e {
        github_app::Error::Forbidden { message } => CheckRunError::Forbidden { message },
        github_app::Error::NotFound { message } => CheckRunError::NotFound { message },
        other => CheckRunError::Port(github_error(other)),
    }
}

fn check_run_output(content: &CheckRunContent) -> github_app::CheckRunOutput {
    github_app::CheckRunOutput {
        title: content.title.clone(),
        summary: content.summary.clone(),
        text: content.text.clone(),
    }
}

/// Check runs: what the workflow author reads about their job (see [`crate::feedback`]).
impl GitHubAdapter {
    /// Creates the check run on `content.head_sha`; its id. Not retried by the client: a
    /// retry after a lost answer could make a second check run.
    pub async fn create_check_run(
        &self,
        installation_id: u64,
        repo: &str,
        content: &CheckRunContent,
    ) -> Result<u64, CheckRunError> {
        let repo = repo_ref(repo)?;
        let mut new = github_app::NewCheckRun::new(&content.name, &content.head_sha);
        new.status = Some(content.status.as_str().to_owned());
        new.conclusion = content.status.conclusion().map(|c| c.as_str().to_owned());
        new.details_url = content.details_url.clone();
        new.external_id = Some(content.external_id.clone());
        new.output = Some(check_run_output(content));
        let created = self
            .ok(self
                .client
                .create_check_run(installation_id, &repo, &new)
                .await)
            .map_err(check_run_error)?;
        Ok(created.id)
    }

    /// Rewrites every field of check run `check_run_id` from `content`.
    pub async fn update_check_run(
        &self,
        installation_id: u64,
        repo: &str,
        check_run_id: u64,
        content: &CheckRunContent,
    ) -> Result<(), CheckRunError> {
        let repo = repo_ref(repo)?;
        let update = github_app::CheckRunUpdate {
            name: Some(content.name.clone()),
            status: Some(content.status.as_str().to_owned()),
            conclusion: content.status.conclusion().map(|c| c.as_str().to_owned()),
            details_url: content.details_url.clone(),
            external_id: Some(content.external_id.clone()),
            completed_at: None,
            output: Some(check_run_output(content)),
        };
        self.ok(self
            .client
            .update_check_run(installation_id, &repo, check_run_id, &update)
            .await)
            .map_err(check_run_error)?;
        Ok(())
    }
}
