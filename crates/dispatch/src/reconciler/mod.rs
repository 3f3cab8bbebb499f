//! The reconciler: a periodic pass that compares the store, Ferry's live HF Jobs and GitHub
//! (Ferry's runners and the jobs' status), and heals what a single launch path cannot.
//!
//! Each finding becomes a [`crate::machine`] transition applied through the store (so a
//! worker does the teardown and relaunch under a fenced lease), or, for things no record owns
//! any more, a direct and idempotent clean-up call. What it heals:
//!
//! - missed `in_progress` and `completed` webhooks (the job's status on GitHub is observed);
//! - a runner that is not online by the boot deadline, or whose HF Job ended first, or that sat
//!   idle while its job stayed queued: replaced, at most `max_launches` HF Jobs per job;
//! - a runner taken by another job with the same labels: its job is launched again;
//! - HF Jobs the store does not know (a lost state directory): adopted from their labels;
//! - offline runners with no live HF Job, idle spare runners and HF Jobs whose GitHub job is
//!   over: removed, the runner always before its HF Job, a busy runner never;
//! - paused jobs (credential or account problems): tried again on every pass.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::adapters::{GitHubAdapter, HfAdapter};
use crate::health::{Health, Problem, Service};
use crate::hf_labels;
use crate::launcher::runner_job;
use crate::machine;
use crate::model::now_ms;
use crate::model::{JobFacts, JobKey, JobRecord, Observation, State};
use crate::ports::{HfJob, JobStatus, RegisteredRunner, RunnerRemoval};
use crate::store::Store;

/// Every runner Ferry registers has a name with this prefix.
pub const RUNNER_PREFIX: &str = "ferry-";

/// GitHub calls made at once during a pass.
const PARALLEL_CALLS: usize = 8;

/// How the reconciler judges runners.
#[derive(Debug, Clone)]
pub struct ReconcileSettings {
    pub interval: Duration,
    /// A runner not online this long after its HF Job was created is replaced.
    pub boot_deadline: Duration,
    /// An online runner that took no job for this long is removed (or replaced).
    pub idle_timeout: Duration,
    pub max_launches: u32,
    /// How long an HF Job may outlive the end of its GitHub job before it is cancelled: the
    /// runner normally exits by itself once its job is done.
    pub ended_grace: Duration,
    /// Ended records are still compared for this long (their HF Jobs and runners may linger).
    pub lookback: Duration,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(30),
            boot_deadline: Duration::from_secs(600),
            idle_timeout: Duration::from_secs(300),
            max_launches: 3,
            ended_grace: Duration::from_secs(120),
            lookback: Duration::from_secs(24 * 3600),
        }
    }
}

/// What one pass did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    pub resumed: u64,
    pub adopted: u64,
    /// Job statuses learnt from GitHub that no webhook had told us.
    pub observed: u64,
    pub replaced: u64,
    pub stolen: u64,
    pub runners_deleted: u64,
    pub hf_jobs_cancelled: u64,
    /// What could not be looked at in this pass (the next pass tries again).
    pub errors: Vec<String>,
}

pub struct Reconciler {
    store: Arc<dyn Store>,
    github: Arc<GitHubAdapter>,
    hf: Arc<HfAdapter>,
    health: Arc<Health>,
    settings: ReconcileSettings,
    wake: Arc<Notify>,
}

impl Reconciler {
    pub fn new(
        store: Arc<dyn Store>,
        github: Arc<GitHubAdapter>,
        hf: Arc<HfAdapter>,
        health: Arc<Health>,
        settings: ReconcileSettings,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            github,
            hf,
            health,
            settings,
            wake,
        }
    }

    /// One pass every interval until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        crate::periodic::every(self.settings.interval, false, &shutdown, || async {
            let report = self.pass().await;
            if report != PassReport::default() {
                info!(?report, "reconcile pass");
            }
        })
        .await
    }

    /// Compares and acts once.
    pub async fn pass(&self) -> PassReport {
        let started = now_ms();
        let mut report = PassReport::default();
        self.resume_paused(started, &mut report).await;

        let live = match self.hf.live_jobs().await {
            Ok(live) => Some(live),
            Err(e) => {
                report.errors.push(format!("HF Jobs: {e}"));
                None
            }
        };
        if let Some(live) = &live {
            self.adopt(live, started, &mut report).await;
        }
        let since = started - self.settings.lookback.as_millis() as i64;
        let records = match self.store.active(since).await {
            Ok(records) => records,
            Err(e) => {
                report.errors.push(format!("store: {e}"));
                return report;
            }
        };
        let runners = self.runners(&records, &mut report).await;
        self.check_launched(&records, live.as_deref(), &runners, started, &mut report)
            .await;
        if let Some(live) = &live {
            self.clean_up(&records, live, &runners, started, &mut report)
                .await;
        }
        if report.resumed + report.replaced + report.stolen + report.adopted + report.observed > 0 {
            self.wake.notify_waiters();
        }
        report
    }

    async fn resume_paused(&self, now: i64, report: &mut PassReport) {
        match self
            .store
            .update_all_in(
                State::Paused,
                Box::new(move |record| machine::resume(record, now)),
            )
            .await
        {
            Ok(0) => {
                // Nothing waits on a launch any more: what stopped launches is not current.
                self.health.clear_problem(Problem::Launch(Service::GitHub));
                self.health.clear_problem(Problem::Launch(Service::Hf));
            }
            Ok(resumed) => report.resumed = resumed,
            Err(e) => report.errors.push(format!("store: {e}")),
        }
    }

    /// HF Jobs of Ferry's that the store does not know become records again.
    async fn adopt(&self, live: &[HfJob], now: i64, report: &mut PassReport) {
        for job in live {
            let Some(served) = hf_labels::served(&job.labels) else {
                continue;
            };
            let facts = JobFacts {
                key: served.key.clone(),
                run_id: served.run_id,
                installation_id: served.installation_id,
                labels: Vec::new(),
                workflow_name: None,
                job_name: None,
                head_sha: None,
                flavor: None,
            };
            let mut record = JobRecord::new(&facts, now);
            record.state = State::Launched;
            record.runner_name = Some(served.runner_name);
            record.hf_job_id = Some(job.id.clone());
            record.hf_namespace = job.namespace.clone();
            record.launches = 1;
            // The boot deadline counts from the adoption: the creation time is unknown here.
            record.launched_ms = Some(now);
            record.reason = Some("adopted from its HF Job's labels".into());
            match self.store.adopt(record).await {
                Ok(true) => {
                    info!(key = %served.key, hf_job_id = job.id, "adopted an HF Job the store did not know");
                    report.adopted += 1;
                }
                Ok(false) => {}
                Err(e) => report.errors.push(format!("store: {e}")),
            }
        }
    }

    /// Ferry's runners on every repository that has a record worth comparing.
    async fn runners(
        &self,
        records: &[JobRecord],
        report: &mut PassReport,
    ) -> HashMap<String, Option<Vec<RegisteredRunner>>> {
        let repos: BTreeSet<(String, u64)> = records
            .iter()
            .filter_map(|r| Some((r.key.repo.clone(), r.installation_id?)))
            .collect();
        let listed: Vec<_> = futures_util::stream::iter(repos)
            .map(|(repo, installation)| {
                let github = self.github.clone();
                async move {
                    let result = github.runners(installation, &repo, RUNNER_PREFIX).await;
                    (repo, result)
                }
            })
            .buffer_unordered(PARALLEL_CALLS)
            .collect()
            .await;
        let mut by_repo = HashMap::new();
        for (repo, result) in listed {
            match result {
                Ok(runners) => {
                    by_repo.insert(repo, Some(runners));
                }
                Err(e) => {
                    report.errors.push(format!("runners of {repo}: {e}"));
                    by_repo.insert(repo, None);
                }
            }
        }
        by_repo
    }

    /// Launched records: is the job still queued, and will our runner serve it?
    async fn check_launched(
        &self,
        records: &[JobRecord],
        live: Option<&[HfJob]>,
        runners: &HashMap<String, Option<Vec<RegisteredRunner>>>,
        started: i64,
        report: &mut PassReport,
    ) {
        let live_ids: Option<BTreeSet<&str>> =
            live.map(|jobs| jobs.iter().map(|j| j.id.as_str()).collect());
        let taken_by: HashMap<&str, &JobKey> = records
            .iter()
            .filter_map(|r| Some((r.taken_by.as_deref()?, &r.key)))
            .collect();
        // Running records whose HF Job ended may have missed their `completed` webhook.
        let due: Vec<JobRecord> = records
            .iter()
            .filter(|r| {
                let launched_before_pass = r.launched_ms.is_some_and(|at| at < started);
                match r.state {
                    State::Launched => launched_before_pass,
                    State::Running => {
                        r.taken_by_ours()
                            && live_ids.as_ref().is_some_and(|ids| {
                                r.hf_job_id.as_deref().is_some_and(|id| !ids.contains(id))
                            })
                    }
                    _ => false,
                }
            })
            .filter(|r| r.installation_id.is_some())
            .cloned()
            .collect();
        let statuses: Vec<_> = futures_util::stream::iter(due)
            .map(|record| {
                let github = self.github.clone();
                async move {
                    let installation = record.installation_id.unwrap_or_default();
                    let job = github
                        .job(installation, &record.key.repo, record.key.job_id)
                        .await;
                    (record, job)
                }
            })
            .buffer_unordered(PARALLEL_CALLS)
            .collect()
            .await;
        for (record, job) in statuses {
            let record = &record;
            let job = match job {
                Ok(job) => job,
                Err(e) => {
                    report.errors.push(format!("job {}: {e}", record.key));
                    continue;
                }
            };
            let observation = match &job {
                None => Some(Observation::Completed {
                    runner_name: None,
                    conclusion: None,
                }),
                Some(job) => match job.status {
                    JobStatus::InProgress => Some(Observation::InProgress {
                        runner_name: job.runner_name.clone(),
                    }),
                    JobStatus::Completed => Some(Observation::Completed {
                        runner_name: job.runner_name.clone(),
                        conclusion: job.conclusion.clone(),
                    }),
                    _ => None,
                },
            };
            if let Some(observation) = observation {
                let facts = facts_of(record);
                let now = now_ms();
                let changed = self
                    .store
                    .update(
                        &record.key,
                        now,
                        Box::new(move |current| {
                            machine::observe(Some(current), &facts, &observation, now)
                        }),
                    )
                    .await;
                match changed {
                    Ok(Some(after)) if after.state != record.state => report.observed += 1,
                    Ok(_) => {}
                    Err(e) => report.errors.push(format!("store: {e}")),
                }
                continue;
            }
            let queued = job.as_ref().is_some_and(|j| j.status == JobStatus::Queued);
            if record.state != State::Launched || !queued {
                continue;
            }
            let repo_runners = runners.get(&record.key.repo).cloned().flatten();
            let Some(verdict) = self.judge(
                record,
                live_ids.as_ref(),
                repo_runners.as_deref(),
                &taken_by,
                started,
            ) else {
                continue;
            };
            self.apply(record, verdict, report).await;
        }
    }

    fn judge(
        &self,
        record: &JobRecord,
        live_ids: Option<&BTreeSet<&str>>,
        runners: Option<&[RegisteredRunner]>,
        taken_by: &HashMap<&str, &JobKey>,
        now: i64,
    ) -> Option<Verdict> {
        let name = record.runner_name.as_deref()?;
        let runner = runners.and_then(|all| all.iter().find(|r| r.name == name));
        let age = Duration::from_millis((now - record.launched_ms?).max(0) as u64);
        if let Some(runner) = runner.filter(|r| r.busy) {
            let other = taken_by
                .get(runner.name.as_str())
                .map(|key| key.to_string())
                .unwrap_or_else(|| "a job with the same labels".into());
            return Some(Verdict::Taken(other));
        }
        if let (Some(ids), Some(hf_job)) = (live_ids, record.hf_job_id.as_deref())
            && !ids.contains(hf_job)
        {
            return Some(Verdict::Replace(
                "its HF Job ended before the runner took the job".into(),
            ));
        }
        // Without the runner list we cannot tell online from offline: wait for the next pass.
        runners?;
        let online = runner.is_some_and(|r| r.online);
        if !online && age >= self.settings.boot_deadline {
            return Some(Verdict::Replace(format!(
                "the runner was not online within {} of its launch",
                durations::format_seconds(self.settings.boot_deadline.as_secs())
            )));
        }
        if online && age >= self.settings.idle_timeout.max(self.settings.boot_deadline) {
            return Some(Verdict::Replace(format!(
                "the runner was online but took no job within {}",
                durations::format_seconds(
                    self.settings
                        .idle_timeout
                        .max(self.settings.boot_deadline)
                        .as_secs()
                )
            )));
        }
        None
    }

    async fn apply(&self, record: &JobRecord, verdict: Verdict, report: &mut PassReport) {
        let now = now_ms();
        let max_launches = self.settings.max_launches;
        let launched_at = record.launched_ms;
        let (change, counter): (crate::store::Change, &mut u64) = match verdict {
            Verdict::Replace(why) => {
                warn!(key = %record.key, why, "replacing the runner");
                (
                    Box::new(move |current| {
                        // Only the launch that was judged: a newer one is judged afresh.
                        (current.launched_ms == launched_at)
                            .then(|| machine::replace(current, &why, now))
                            .flatten()
                    }),
                    &mut report.replaced,
                )
            }
            Verdict::Taken(other) => {
                warn!(key = %record.key, other, "our runner took another job; launching again");
                (
                    Box::new(move |current| {
                        (current.launched_ms == launched_at)
                            .then(|| machine::runner_taken(current, &other, max_launches, now))
                            .flatten()
                    }),
                    &mut report.stolen,
                )
            }
        };
        match self.store.update(&record.key, now, change).await {
            Ok(Some(after)) if after.state != record.state => *counter += 1,
            Ok(_) => {}
            Err(e) => report.errors.push(format!("store: {e}")),
        }
    }

    /// Runners and HF Jobs that no record needs any more.
    async fn clean_up(
        &self,
        records: &[JobRecord],
        live: &[HfJob],
        runners: &HashMap<String, Option<Vec<RegisteredRunner>>>,
        now: i64,
        report: &mut PassReport,
    ) {
        let by_runner: HashMap<&str, &JobRecord> = records
            .iter()
            .filter_map(|r| Some((r.runner_name.as_deref()?, r)))
            .collect();
        let by_key: HashMap<&JobKey, &JobRecord> = records.iter().map(|r| (&r.key, r)).collect();
        let hf_by_runner: BTreeMap<String, &HfJob> = live
            .iter()
            .filter_map(|j| Some((hf_labels::runner_of(&j.labels)?, j)))
            .collect();
        let grace = self.settings.ended_grace.as_millis() as i64;
        let idle = self.settings.idle_timeout.as_millis() as i64;

        // Runners: offline without a host, or online and idle with no job of their own.
        for (repo, listed) in runners {
            let Some(listed) = listed else { continue };
            for runner in listed.iter().filter(|r| !r.busy) {
                // Read afresh: a launch may have registered this runner after the pass began.
                let record = match self.owner_of(repo, &runner.name, &by_runner).await {
                    Ok(record) => record,
                    Err(e) => {
                        report.errors.push(format!("store: {e}"));
                        continue;
                    }
                };
                // Launches, replacements and teardowns own their runner.
                if record.as_ref().is_some_and(|r| {
                    matches!(
                        r.state,
                        State::Queued
                            | State::Launching
                            | State::Launched
                            | State::Replacing
                            | State::Cancelling
                            | State::Paused
                    )
                }) {
                    continue;
                }
                let quiet_since = record
                    .as_ref()
                    .map(|r| r.launched_ms.unwrap_or(r.updated_ms));
                let host = hf_by_runner.get(&runner.name).copied();
                let retire = if runner.online {
                    // Spare: its own job went to another runner, or is over.
                    quiet_since.is_some_and(|at| now - at >= idle)
                } else {
                    // No record at all, read after the listing: a lost store's runner.
                    host.is_none() && record.as_ref().is_none_or(|r| now - r.updated_ms >= grace)
                };
                if !retire {
                    continue;
                }
                let Some(installation) =
                    record.as_ref().and_then(|r| r.installation_id).or_else(|| {
                        records
                            .iter()
                            .find(|r| &r.key.repo == repo)?
                            .installation_id
                    })
                else {
                    continue;
                };
                match self
                    .github
                    .delete_runner(installation, repo, runner.id)
                    .await
                {
                    Ok(RunnerRemoval::Deleted) => {
                        info!(runner = runner.name, "removed a runner no job needs");
                        report.runners_deleted += 1;
                    }
                    Ok(RunnerRemoval::AlreadyGone) => {}
                    // It took a job after all: leave it and its HF Job alone.
                    Ok(RunnerRemoval::Busy) => continue,
                    Err(e) => {
                        report
                            .errors
                            .push(format!("delete runner {}: {e}", runner.name));
                        continue;
                    }
                }
                if let Some(host) = host {
                    self.cancel(host, report).await;
                }
            }
        }

        // HF Jobs whose GitHub job is over (or that their record abandoned) and whose runner
        // is not busy: after a grace for the runner to exit by itself, cancel them.
        for job in live {
            let Some(served) = hf_labels::served(&job.labels) else {
                continue;
            };
            if !by_key.contains_key(&served.key) {
                continue;
            }
            let record = match self.store.get(&served.key).await {
                Ok(Some(record)) => record,
                Ok(None) => continue,
                Err(e) => {
                    report.errors.push(format!("store: {e}"));
                    continue;
                }
            };
            let abandoned = record.abandoned_hf_jobs.contains(&job.id);
            if !(record.state.is_terminal() || abandoned) || now - record.updated_ms < grace {
                continue;
            }
            let Some(Some(listed)) = runners.get(&record.key.repo) else {
                continue;
            };
            match listed.iter().find(|r| r.name == served.runner_name) {
                Some(runner) if runner.busy => continue,
                Some(runner) => {
                    let Some(installation) = record.installation_id else {
                        continue;
                    };
                    match self
                        .github
                        .delete_runner(installation, &record.key.repo, runner.id)
                        .await
                    {
                        Ok(RunnerRemoval::Busy) => continue,
                        Ok(_) => report.runners_deleted += 1,
                        Err(e) => {
                            report
                                .errors
                                .push(format!("delete runner {}: {e}", runner.name));
                            continue;
                        }
                    }
                }
                None => {}
            }
            self.cancel(job, report).await;
        }
    }

    /// The record a runner belongs to, read now: by the name it was made for, or by the job
    /// its name was made from. A runner is registered only after its record's claim is
    /// stored, so a runner listed before this read whose record is missing is orphaned.
    async fn owner_of(
        &self,
        repo: &str,
        runner: &str,
        by_runner: &HashMap<&str, &JobRecord>,
    ) -> Result<Option<JobRecord>, crate::store::StoreError> {
        let key = match by_runner.get(runner) {
            Some(record) => record.key.clone(),
            None => match runner_job(runner) {
                Some((job_id, run_attempt)) => JobKey {
                    repo: repo.to_owned(),
                    job_id,
                    run_attempt,
                },
                None => return Ok(None),
            },
        };
        self.store.get(&key).await
    }

    async fn cancel(&self, job: &HfJob, report: &mut PassReport) {
        match self.hf.cancel_job(job.namespace.as_deref(), &job.id).await {
            Ok(()) => {
                info!(hf_job_id = job.id, "cancelled an HF Job no job needs");
                report.hf_jobs_cancelled += 1;
            }
            Err(e) => report.errors.push(format!("cancel {}: {e}", job.id)),
        }
    }
}

enum Verdict {
    Replace(String),
    /// Our runner is busy with another job; the text names it.
    Taken(String),
}

fn facts_of(record: &JobRecord) -> JobFacts {
    JobFacts {
        key: record.key.clone(),
        run_id: record.run_id,
        installation_id: record.installation_id,
        labels: record.labels.clone(),
        workflow_name: record.workflow_name.clone(),
        job_name: record.job_name.clone(),
        head_sha: record.head_sha.clone(),
        flavor: record.flavor.clone(),
    }
}
