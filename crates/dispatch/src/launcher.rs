//! Launch workers: claim work from the store, mint a runner, create or tear down the HF Job.
//!
//! The critical path of a launch is two calls: the JIT runner config, then the HF Job. The
//! installation token, the "still queued?" check and the look-up for an existing HF Job run
//! concurrently before them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use runner_labels::{Catalogue, Images};
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{Instrument, info, info_span, warn};

use crate::adapters::{GitHubAdapter, HfAdapter};
use crate::health::{Health, Problem, Service};
use crate::hf_labels;
use crate::machine;
pub use crate::model::now_ms;
use crate::model::{JobKey, JobRecord, State};
use crate::policy::{Fork, ForkMode, Grant, Policy, Request as PolicyRequest};
use crate::ports::{JitRunner, JobStatus, LaunchSpec, PortError, RunOrigin, RunnerRemoval};
use crate::store::{Fenced, Store, StoreError};

use runner_bootstrap::contract;

/// How launches are made.
#[derive(Debug, Clone)]
pub struct LaunchSettings {
    /// Launches in flight at once.
    pub concurrency: usize,
    /// How long a claim holds without renewal; a worker renews it every third of this while
    /// its work runs, so only a stalled or dead worker loses it.
    pub lease: Duration,
    /// HF Job timeout when the label sets none.
    pub job_timeout: Option<Duration>,
    /// Passed to the runner: it exits when no job started within this time.
    pub runner_idle_timeout: Option<Duration>,
    pub catalogue: Catalogue,
    pub images: Images,
    /// First retry delay; doubles with each attempt up to `retry_max`, with jitter.
    pub retry_base: Duration,
    /// Longest wait before a retry, a `Retry-After` included.
    pub retry_max: Duration,
    /// After this many failed attempts a record fails for good.
    pub max_attempts: u32,
    /// HF Jobs created per job attempt at most, replacements included.
    pub max_launches: u32,
    /// Longest sleep between looks at the store when nothing wakes the workers.
    pub idle_poll: Duration,
    /// Who may run what: applied again at launch, with the fork rule the webhook cannot know.
    pub policy: Arc<Policy>,
}

impl Default for LaunchSettings {
    fn default() -> Self {
        Self {
            concurrency: 16,
            lease: Duration::from_secs(120),
            job_timeout: None,
            runner_idle_timeout: Some(contract::DEFAULT_IDLE_TIMEOUT),
            catalogue: Catalogue::embedded(),
            images: Images::default(),
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            max_attempts: 12,
            max_launches: 3,
            idle_poll: Duration::from_secs(5),
            policy: Arc::default(),
        }
    }
}

/// A runner name: `ferry-<run id>-<job id>-<attempt>-<6 hex>`, unique even across retries of
/// the same record in different dispatchers.
pub fn runner_name(record: &JobRecord) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "ferry-{}-{}-{}-{}",
        record.run_id,
        record.key.job_id,
        record.key.run_attempt,
        &random[..6]
    )
}

/// The job a runner name was made for: `(job id, run attempt)` from [`runner_name`]'s form.
pub fn runner_job(name: &str) -> Option<(u64, u64)> {
    let mut parts = name.strip_prefix("ferry-")?.split('-');
    let (_run, job, attempt) = (parts.next()?, parts.next()?, parts.next()?);
    Some((job.parse().ok()?, attempt.parse().ok()?))
}

/// The launch workers.
pub struct Launcher {
    store: Arc<dyn Store>,
    github: Arc<GitHubAdapter>,
    hf: Arc<HfAdapter>,
    health: Arc<Health>,
    settings: LaunchSettings,
    wake: Arc<Notify>,
    in_flight: Mutex<HashMap<JobKey, u64>>,
    run_origins: Mutex<HashMap<(String, u64), (RunOrigin, i64)>>,
}

/// How long a run's origin is trusted: it never changes, but memory is finite.
const RUN_ORIGIN_TTL_MS: i64 = 10 * 60 * 1000;
const RUN_ORIGIN_CACHE: usize = 4096;

impl Launcher {
    pub fn new(
        store: Arc<dyn Store>,
        github: Arc<GitHubAdapter>,
        hf: Arc<HfAdapter>,
        health: Arc<Health>,
        settings: LaunchSettings,
        wake: Arc<Notify>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            github,
            hf,
            health,
            settings,
            wake,
            in_flight: Mutex::default(),
            run_origins: Mutex::default(),
        })
    }

    /// Claims and runs work until `shutdown`; then waits up to `drain` for launches in flight
    /// and hands the rest back to the store for the next start.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken, drain: Duration) {
        let permits = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let tracker = TaskTracker::new();
        loop {
            let permit = tokio::select! {
                permit = permits.clone().acquire_owned() => permit.expect("semaphore stays open"),
                () = shutdown.cancelled() => break,
            };
            let claimed = match self
                .store
                .claim_next(now_ms(), self.settings.lease.as_millis() as i64)
                .await
            {
                Ok(claimed) => claimed,
                Err(e) => {
                    warn!(error = %e, "cannot read work from the store; trying again shortly");
                    drop(permit);
                    self.sleep_or_wake(&shutdown, Duration::from_secs(1)).await;
                    continue;
                }
            };
            let Some(record) = claimed else {
                drop(permit);
                let wait = self.time_until_due().await;
                self.sleep_or_wake(&shutdown, wait).await;
                continue;
            };
            self.in_flight
                .lock()
                .unwrap()
                .insert(record.key.clone(), record.lease_token);
            let this = self.clone();
            let span = record_span(&record);
            tracker.spawn(
                async move {
                    let key = record.key.clone();
                    this.work(record).await;
                    this.in_flight.lock().unwrap().remove(&key);
                    drop(permit);
                }
                .instrument(span),
            );
        }
        tracker.close();
        if tokio::time::timeout(drain, tracker.wait()).await.is_err() {
            let left: Vec<(JobKey, u64)> = self
                .in_flight
                .lock()
                .unwrap()
                .iter()
                .map(|(k, t)| (k.clone(), *t))
                .collect();
            warn!(
                count = left.len(),
                "launches still in flight at the shutdown deadline; the next start resumes them"
            );
            for (key, token) in left {
                // Fenced: a lease that already passed to another worker is not ours to free.
                let released = self.store.update_fenced(
                    &key,
                    token,
                    Box::new(|current| {
                        let mut next = current.clone();
                        next.lease_until_ms = None;
                        Some(next)
                    }),
                );
                if let Err(e) = released.await {
                    warn!(%key, error = %e, "cannot release the lease; it lapses on its own");
                }
            }
        }
    }

    async fn time_until_due(&self) -> Duration {
        let idle = self.settings.idle_poll;
        match self.store.next_due_ms().await {
            Ok(Some(due)) => {
                Duration::from_millis((due - now_ms()).clamp(1, idle.as_millis() as i64) as u64)
            }
            _ => idle,
        }
    }

    async fn sleep_or_wake(&self, shutdown: &CancellationToken, wait: Duration) {
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = self.wake.notified() => {}
            () = shutdown.cancelled() => {}
        }
    }

    /// Does the work a claimed record needs and stores the outcome, while the claim holds.
    pub async fn work(&self, record: JobRecord) {
        let key = record.key.clone();
        let token = record.lease_token;
        let action = async {
            match record.state {
                State::Launching => self.launch(&record).await,
                State::Cancelling | State::Replacing => self.tear_down(&record).await,
                _ => Ok(Outcome::Unchanged),
            }
        };
        // The lease is renewed while the work runs; when the claim is lost, or the record
        // leaves the state the work is for, the work stops where it is.
        let outcome = tokio::select! {
            outcome = action => outcome,
            lost = self.keep_lease(&key, token, record.state) => {
                info!(reason = lost, "work stopped: the record moved on");
                return;
            }
        };
        let change = self.outcome_change(&record, outcome);
        match self.store.update_fenced(&key, token, change).await {
            Ok(Fenced::Written(_)) => {}
            Ok(Fenced::Lost) => {
                warn!("another worker took the record over; this outcome is dropped");
            }
            Err(e) => {
                warn!(error = %e, "cannot store the outcome; the lease lapses and the work is redone");
            }
        }
        self.wake.notify_one();
    }

    /// Renews the lease every third of its length; returns why it could not.
    async fn keep_lease(&self, key: &JobKey, token: u64, working_on: State) -> &'static str {
        let lease = self.settings.lease;
        loop {
            tokio::time::sleep(lease / 3).await;
            let now = now_ms();
            let until = now + lease.as_millis() as i64;
            let renewed = self
                .store
                .update_fenced(
                    key,
                    token,
                    Box::new(move |current| machine::renew(current, token, working_on, until, now)),
                )
                .await;
            match renewed {
                Ok(Fenced::Written(current)) if current.state == working_on => {}
                Ok(Fenced::Written(_)) => return "the record left the state the work was for",
                Ok(Fenced::Lost) => return "another worker took the record over",
                // The store is failing: keep working; the outcome write will tell.
                Err(e) => warn!(error = %e, "cannot renew the lease"),
            }
        }
    }

    fn outcome_change(
        &self,
        record: &JobRecord,
        outcome: Result<Outcome, Failure>,
    ) -> crate::store::Change {
        let now = now_ms();
        let max_launches = self.settings.max_launches;
        match outcome {
            Ok(Outcome::Launched {
                hf_job_id,
                runner_id,
                runner_name,
                namespace,
            }) => {
                info!(hf_job_id, "runner launched");
                Box::new(move |current| {
                    let mut next = machine::launched(current, &hf_job_id, runner_id, now);
                    next.hf_namespace = namespace;
                    if let Some(name) = runner_name {
                        next = machine::runner_named(&next, &name, now);
                    }
                    Some(next)
                })
            }
            Ok(Outcome::NotNeeded { status, taken_by }) => {
                info!(github_status = ?status, "job no longer queued; nothing to launch");
                Box::new(move |current| {
                    Some(machine::not_needed(
                        current,
                        status,
                        taken_by.as_deref(),
                        now,
                    ))
                })
            }
            Ok(Outcome::NotYetQueued { status }) => {
                let delay = self.backoff(record.attempts + 1);
                let reason = format!("GitHub holds the job as {status:?}, not yet queued");
                info!(
                    reason,
                    retry_in_ms = delay.as_millis() as u64,
                    "looking again later"
                );
                let at = now + delay.as_millis() as i64;
                Box::new(move |current| Some(machine::defer(current, &reason, at, now)))
            }
            Ok(Outcome::TornDown { note }) => {
                info!(note, "runner torn down");
                Box::new(move |current| {
                    Some(if current.state == State::Replacing {
                        machine::replaced(current, max_launches, now)
                    } else {
                        machine::torn_down(current, note.as_deref(), now)
                    })
                })
            }
            Ok(Outcome::Unchanged) => Box::new(|_| None),
            Err(Failure::Credentials { service, reason }) => {
                warn!(reason, "launches paused: credentials or account refused");
                self.health
                    .set_problem(Problem::Launch(service), reason.clone());
                if record.state == State::Launching {
                    Box::new(move |current| Some(machine::pause(current, &reason, now)))
                } else {
                    // Teardown cannot pause: it waits and tries again.
                    let at = now + self.settings.retry_max.as_millis() as i64;
                    Box::new(move |current| Some(machine::retry(current, &reason, at, now)))
                }
            }
            Err(Failure::Permanent(reason)) => {
                warn!(reason, "launch failed for good");
                Box::new(move |current| Some(machine::fail(current, &reason, now)))
            }
            Err(Failure::Transient {
                reason,
                retry_after,
            }) => {
                let attempts = record.attempts + 1;
                if attempts >= self.settings.max_attempts {
                    let reason = format!("gave up after {attempts} attempts: {reason}");
                    warn!(reason, "launch failed for good");
                    Box::new(move |current| Some(machine::fail(current, &reason, now)))
                } else {
                    let delay = retry_after
                        .map(|wait| wait.min(self.settings.retry_max))
                        .unwrap_or_else(|| self.backoff(attempts));
                    warn!(
                        reason,
                        retry_in_ms = delay.as_millis() as u64,
                        "launch failed; will retry"
                    );
                    let at = now + delay.as_millis() as i64;
                    Box::new(move |current| Some(machine::retry(current, &reason, at, now)))
                }
            }
        }
    }

    /// Exponential backoff with jitter: between half and all of `base · 2^(attempts-1)`,
    /// capped, so that retries of a burst do not arrive together.
    fn backoff(&self, attempts: u32) -> Duration {
        let full = durations::backoff(self.settings.retry_base, self.settings.retry_max, attempts);
        let random = (uuid::Uuid::new_v4().as_u128() % 1_000) as u32;
        full / 2 + full / 2 * random / 1_000
    }

    fn place(&self, labels: &[String]) -> Result<runner_labels::Placement, Failure> {
        runner_labels::place(labels, &self.settings.catalogue, &self.settings.images)
            .map_err(|refusal| Failure::Permanent(refusal.to_string()))
    }

    /// The policy's answer for a placement, with the fork facts when the run is known.
    fn grant(
        &self,
        record: &JobRecord,
        placement: &runner_labels::Placement,
        origin: Option<&RunOrigin>,
    ) -> Result<Grant, Failure> {
        let fork = origin.filter(|o| o.from_fork).map(|o| Fork {
            author: o.actor.clone().unwrap_or_default(),
        });
        let request = PolicyRequest {
            repo: &record.key.repo,
            flavor: placement.flavor(),
            is_gpu: placement.is_gpu(),
            label_timeout: placement.timeout,
            label_chose_image: placement.image.key.is_some(),
            fork,
        };
        self.settings
            .policy
            .decide(&request)
            .map_err(|refusal| Failure::Permanent(refusal.to_string()))
    }

    /// Where a run's code comes from, asked once per run and kept a while: every job of a
    /// matrix shares its run.
    async fn run_origin(
        &self,
        installation: u64,
        record: &JobRecord,
    ) -> Result<RunOrigin, PortError> {
        let key = (record.key.repo.to_ascii_lowercase(), record.run_id);
        let now = now_ms();
        if let Some((origin, at)) = self.run_origins.lock().unwrap().get(&key)
            && now - at < RUN_ORIGIN_TTL_MS
        {
            return Ok(origin.clone());
        }
        let origin = self
            .github
            .run_origin(installation, &record.key.repo, record.run_id)
            .await?;
        let mut cache = self.run_origins.lock().unwrap();
        if cache.len() >= RUN_ORIGIN_CACHE {
            cache.retain(|_, (_, at)| now - *at < RUN_ORIGIN_TTL_MS);
        }
        cache.insert(key, (origin.clone(), now));
        Ok(origin)
    }

    async fn launch(&self, record: &JobRecord) -> Result<Outcome, Failure> {
        // A record adopted from an HF Job's labels knows its labels only from GitHub.
        let known_placement = if record.labels.is_empty() {
            None
        } else {
            Some(self.place(&record.labels)?)
        };
        // The namespace does not depend on the fork rule: look for an earlier HF Job there.
        let namespace = match &known_placement {
            Some(placement) => self.grant(record, placement, None)?.namespace,
            None => record.hf_namespace.clone(),
        };
        let installation = record.installation_id.ok_or_else(|| {
            Failure::Permanent("the delivery named no GitHub App installation".into())
        })?;
        let runner_name = record
            .runner_name
            .clone()
            .expect("a claimed launch has a runner name");
        let repo = record.key.repo.as_str();

        // A crash between creating the HF Job and recording it must not make a second one.
        let key_value = hf_labels::key_value(record);
        // Forks matter only when the policy would treat them differently.
        let ask_origin = self.settings.policy.fork_mode() != ForkMode::Allow;
        let (existing, github_job, origin) = tokio::join!(
            self.hf
                .find_jobs(namespace.as_deref(), hf_labels::KEY, &key_value),
            self.github.job(installation, repo, record.key.job_id),
            async {
                if ask_origin {
                    self.run_origin(installation, record).await.map(Some)
                } else {
                    Ok(None)
                }
            },
        );
        if let Some(job) = existing?
            .into_iter()
            .find(|job| !job.stage.is_terminal() && !record.abandoned_hf_jobs.contains(&job.id))
        {
            info!(hf_job_id = job.id, "found the HF Job of an earlier attempt");
            // Its runner is the one named in its labels, not the name of this claim.
            return Ok(Outcome::Launched {
                runner_name: hf_labels::runner_of(&job.labels),
                hf_job_id: job.id,
                runner_id: None,
                namespace: job.namespace,
            });
        }
        let github_job = match github_job? {
            None => return Err(Failure::Permanent("GitHub no longer knows this job".into())),
            Some(job) => job,
        };
        match github_job.status {
            JobStatus::Queued => {}
            JobStatus::InProgress | JobStatus::Completed => {
                return Ok(Outcome::NotNeeded {
                    status: github_job.status,
                    taken_by: github_job.runner_name,
                });
            }
            // Not yet handed to runners (or a status this build does not know): look again.
            JobStatus::Waiting | JobStatus::Pending | JobStatus::Requested | JobStatus::Unknown => {
                return Ok(Outcome::NotYetQueued {
                    status: github_job.status,
                });
            }
        }
        let placement = match known_placement {
            Some(placement) => placement,
            None => self.place(&github_job.labels)?,
        };
        let grant = self.grant(record, &placement, origin?.as_ref())?;

        let labels = placement.labels.clone();
        let mut jit = self
            .github
            .create_jit_runner(installation, repo, &runner_name, &labels)
            .await?;
        if let JitRunner::NameTaken { runner_id, busy } = jit {
            // Our own earlier attempt registered it; its config is lost, so start afresh.
            if busy {
                return Err(Failure::Transient {
                    reason: format!("runner {runner_name} from an earlier attempt is busy"),
                    retry_after: None,
                });
            }
            self.github
                .delete_runner(installation, repo, runner_id)
                .await?;
            jit = self
                .github
                .create_jit_runner(installation, repo, &runner_name, &labels)
                .await?;
        }
        let (runner_id, encoded) = match jit {
            JitRunner::Created {
                runner_id,
                encoded_jit_config,
            } => (runner_id, encoded_jit_config),
            JitRunner::NameTaken { .. } => {
                return Err(Failure::Transient {
                    reason: "runner name still taken".into(),
                    retry_after: None,
                });
            }
        };
        self.health.clear_problem(Problem::Launch(Service::GitHub));
        // Remember the runner before the HF Job exists, so a teardown can always find it, and
        // renew the lease: the claim must hold for the whole HF call that follows.
        let now = now_ms();
        let until = now + self.settings.lease.as_millis() as i64;
        let token = record.lease_token;
        let stored = self
            .store
            .update_fenced(
                &record.key,
                token,
                Box::new(move |current| {
                    let next = machine::runner_registered(current, runner_id, now);
                    Some(machine::renew(&next, token, State::Launching, until, now).unwrap_or(next))
                }),
            )
            .await?;
        let still_launching =
            matches!(&stored, Fenced::Written(current) if current.state == State::Launching);
        if !still_launching {
            // The job ended, or another worker owns the record now: this runner must go.
            let _ = self
                .github
                .delete_runner(installation, repo, runner_id)
                .await;
            return Ok(Outcome::TornDown {
                note: Some("the job ended while its runner was being made".into()),
            });
        }

        let timeout = match (placement.timeout, self.settings.job_timeout) {
            (Some(asked), _) => Some(asked),
            (None, Some(default)) => Some(grant.timeout_or(default)),
            (None, None) => grant.timeout,
        };
        // The runner's name and labels travel inside its JIT config; only timing and the
        // cache's locations are added here.
        let mut environment = BTreeMap::new();
        if let Some(idle) = self.settings.runner_idle_timeout {
            environment.insert(
                contract::IDLE_TIMEOUT.to_owned(),
                idle.as_secs().to_string(),
            );
        }
        let mut volumes = Vec::new();
        if let Some(cache) = &grant.cache {
            volumes.push(hf_jobs::Volume::new(
                hf_jobs::VolumeType::Bucket,
                cache.bucket.clone(),
                cache.mount.clone(),
            ));
            let names: Vec<&str> = cache.environment.keys().map(String::as_str).collect();
            environment.extend(cache.environment.clone());
            // The runner passes on only what it is told to.
            environment.insert(contract::ENV_PASSTHROUGH.to_owned(), names.join(","));
        }
        let image = match (&grant.image, placement.image.key.is_some()) {
            (Some(image), false) => image.clone(),
            _ => placement.image.image.clone(),
        };
        let spec = LaunchSpec {
            image,
            command: vec![contract::ENTRYPOINT.to_owned()],
            environment,
            secrets: BTreeMap::from([(contract::JIT_CONFIG.to_owned(), encoded)]),
            flavor: placement.flavor().to_owned(),
            timeout_seconds: timeout.map(|t| t.as_secs()),
            labels: hf_labels::for_record(record, &runner_name),
            namespace: grant.namespace.clone(),
            volumes,
        };
        let job = self.hf.create_job(&spec).await?;
        self.health.clear_problem(Problem::Launch(Service::Hf));
        Ok(Outcome::Launched {
            runner_name: None,
            hf_job_id: job.id,
            runner_id: Some(runner_id),
            namespace: grant.namespace,
        })
    }

    /// Our runner will not serve the job: remove the runner first, so it cannot take another
    /// job, then cancel the HF Job.
    async fn tear_down(&self, record: &JobRecord) -> Result<Outcome, Failure> {
        let repo = record.key.repo.as_str();
        let mut runner_id = record.runner_id;
        // An adopted record, or a launch stopped mid-call, knows only the runner's name.
        if let (None, Some(name), Some(installation)) =
            (runner_id, &record.runner_name, record.installation_id)
        {
            runner_id = self
                .github
                .runners(installation, repo, name)
                .await?
                .into_iter()
                .find(|r| &r.name == name)
                .map(|r| r.id);
        }
        if let (Some(runner_id), Some(installation)) = (runner_id, record.installation_id) {
            match self
                .github
                .delete_runner(installation, repo, runner_id)
                .await?
            {
                RunnerRemoval::Deleted | RunnerRemoval::AlreadyGone => {}
                RunnerRemoval::Busy => {
                    // It took a job with the same labels: that job needs its HF Job.
                    return Ok(Outcome::TornDown {
                        note: Some("our runner took another job; its HF Job keeps running".into()),
                    });
                }
            }
        }
        if let Some(hf_job_id) = &record.hf_job_id {
            self.hf
                .cancel_job(record.hf_namespace.as_deref(), hf_job_id)
                .await?;
        }
        Ok(Outcome::TornDown { note: None })
    }
}

fn record_span(record: &JobRecord) -> tracing::Span {
    info_span!(
        "job",
        repo = %record.key.repo,
        run_id = record.run_id,
        job_id = record.key.job_id,
        attempt = record.key.run_attempt,
        runner_name = record.runner_name.as_deref().unwrap_or(""),
        hf_job_id = record.hf_job_id.as_deref().unwrap_or(""),
        state = record.state.as_str(),
    )
}

enum Outcome {
    Launched {
        hf_job_id: String,
        runner_id: Option<u64>,
        /// Set when the HF Job was found rather than created: the runner it hosts.
        runner_name: Option<String>,
        /// The namespace it runs in, when not the default one.
        namespace: Option<String>,
    },
    NotNeeded {
        status: JobStatus,
        taken_by: Option<String>,
    },
    NotYetQueued {
        status: JobStatus,
    },
    TornDown {
        note: Option<String>,
    },
    Unchanged,
}

enum Failure {
    Permanent(String),
    Credentials {
        service: Service,
        reason: String,
    },
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
}

impl From<PortError> for Failure {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Transient { retry_after, .. } => Failure::Transient {
                reason: e.to_string(),
                retry_after,
            },
            PortError::Credentials { service, .. } => Failure::Credentials {
                service,
                reason: e.to_string(),
            },
            PortError::Permanent { .. } => Failure::Permanent(e.to_string()),
        }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Transient {
            reason: e.to_string(),
            retry_after: None,
        }
    }
}
