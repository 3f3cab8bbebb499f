//! The dispatcher's records: one per GitHub workflow job attempt.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch: the time every record and lease is written in.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Identifies one attempt of one workflow job: at most one HF Job is launched per key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct JobKey {
    /// `owner/name`, as GitHub spells it in the payload.
    pub repo: String,
    pub job_id: u64,
    pub run_attempt: u64,
}

impl JobKey {
    /// The compact form stored in the database and in the HF Job's labels.
    pub fn id(&self) -> String {
        format!("{}#{}#{}", self.repo, self.job_id, self.run_attempt)
    }
}

impl std::fmt::Display for JobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} job {} attempt {}",
            self.repo, self.job_id, self.run_attempt
        )
    }
}

/// Where a job is in its life. The transitions are in [`crate::machine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Acknowledged, waiting for a launch worker.
    Queued,
    /// A worker holds a lease and is minting the runner and creating the HF Job.
    Launching,
    /// The HF Job exists; its runner has not taken the job yet.
    Launched,
    /// A runner (ours or another) took the job.
    Running,
    /// The job completed before our runner started: delete the runner, then cancel the HF Job.
    Cancelling,
    /// Our runner will not serve the job (its HF Job died, it never came online, it sat idle):
    /// delete the runner, cancel the HF Job, then queue the job again or give up.
    Replacing,
    /// Over a cap on live HF Jobs: the job starts, oldest first, when room frees.
    Waiting,
    /// A credential or account problem (HF token, GitHub App key, HF credits) stops every
    /// launch: the job waits, and each reconcile pass tries it again.
    Paused,
    /// The job ran and completed.
    Finished,
    /// Nothing is left to do: the job ended before it needed us, or we tore our runner down.
    Cancelled,
    /// The job cannot be served; `reason` says why.
    Failed,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Queued,
        State::Waiting,
        State::Launching,
        State::Launched,
        State::Running,
        State::Cancelling,
        State::Replacing,
        State::Paused,
        State::Finished,
        State::Cancelled,
        State::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Queued => "queued",
            State::Launching => "launching",
            State::Launched => "launched",
            State::Running => "running",
            State::Cancelling => "cancelling",
            State::Replacing => "replacing",
            State::Waiting => "waiting",
            State::Paused => "paused",
            State::Finished => "finished",
            State::Cancelled => "cancelled",
            State::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Terminal states never change again, whatever arrives later.
    pub fn is_terminal(self) -> bool {
        matches!(self, State::Finished | State::Cancelled | State::Failed)
    }

    /// States in which a worker has something to do.
    pub fn needs_work(self) -> bool {
        matches!(
            self,
            State::Queued
                | State::Waiting
                | State::Launching
                | State::Cancelling
                | State::Replacing
        )
    }

    /// The states a worker claims, as stored: the SQL of the store repeats this list.
    pub const WORK: [State; 5] = [
        State::Queued,
        State::Waiting,
        State::Launching,
        State::Cancelling,
        State::Replacing,
    ];
}

/// What the dispatcher knows about one job attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    pub key: JobKey,
    pub run_id: u64,
    pub installation_id: Option<u64>,
    /// The job's full `runs-on` label set: the runner registers with all of it.
    pub labels: Vec<String>,
    pub workflow_name: Option<String>,
    pub job_name: Option<String>,
    pub state: State,
    /// Our runner's name, chosen once so that a retried launch reuses it.
    pub runner_name: Option<String>,
    pub runner_id: Option<u64>,
    pub hf_job_id: Option<String>,
    /// The runner GitHub says took the job, ours or not.
    pub taken_by: Option<String>,
    pub conclusion: Option<String>,
    pub reason: Option<String>,
    /// Launch attempts made so far.
    pub attempts: u32,
    /// Unix milliseconds before which no worker picks the record up.
    pub not_before_ms: i64,
    /// Unix milliseconds until which a worker holds the record.
    pub lease_until_ms: Option<i64>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// Fencing token: raised by every claim, so only the latest claimant's writes land.
    #[serde(default)]
    pub lease_token: u64,
    /// HF Jobs created for this job attempt so far (replacements included).
    #[serde(default)]
    pub launches: u32,
    /// When the current HF Job was created: the boot deadline counts from here.
    #[serde(default)]
    pub launched_ms: Option<i64>,
    /// HF Jobs of earlier launches that no longer serve this job: never adopted again.
    #[serde(default)]
    pub abandoned_hf_jobs: Vec<String>,
    /// The commit the job runs on: where check runs are written.
    #[serde(default)]
    pub head_sha: Option<String>,
    /// The flavor the labels ask for: what the caps count.
    #[serde(default)]
    pub flavor: Option<String>,
    /// Since when the job waits on a cap.
    #[serde(default)]
    pub waiting_since_ms: Option<i64>,
    /// The HF namespace its HF Job runs in, when not the dispatcher's default one.
    #[serde(default)]
    pub hf_namespace: Option<String>,
    /// The check run that tells the workflow author about this job, as last written.
    #[serde(default)]
    pub check_run: Option<CheckRunMark>,
}

/// What was last written to GitHub for a job's check run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRunMark {
    /// GitHub's id, once created.
    pub id: Option<u64>,
    /// A digest of the content last written: a change of content is written again.
    pub written: String,
}

impl JobRecord {
    /// A fresh record for a job GitHub reported as queued.
    pub fn new(event: &JobFacts, now_ms: i64) -> Self {
        Self {
            key: event.key.clone(),
            run_id: event.run_id,
            installation_id: event.installation_id,
            labels: event.labels.clone(),
            workflow_name: event.workflow_name.clone(),
            job_name: event.job_name.clone(),
            state: State::Queued,
            runner_name: None,
            runner_id: None,
            hf_job_id: None,
            taken_by: None,
            conclusion: None,
            reason: None,
            attempts: 0,
            not_before_ms: now_ms,
            lease_until_ms: None,
            created_ms: now_ms,
            updated_ms: now_ms,
            lease_token: 0,
            launches: 0,
            launched_ms: None,
            abandoned_hf_jobs: Vec::new(),
            head_sha: event.head_sha.clone(),
            flavor: event.flavor.clone(),
            waiting_since_ms: None,
            hf_namespace: None,
            check_run: None,
        }
    }

    /// True when the runner that took the job is the one we launched for it.
    pub fn taken_by_ours(&self) -> bool {
        self.taken_by.is_some() && self.taken_by == self.runner_name
    }
}

/// The facts about a job that every `workflow_job` delivery carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobFacts {
    pub key: JobKey,
    pub run_id: u64,
    pub installation_id: Option<u64>,
    pub labels: Vec<String>,
    pub workflow_name: Option<String>,
    pub job_name: Option<String>,
    /// The commit the job runs on: where check runs are written.
    pub head_sha: Option<String>,
    /// The flavor the labels ask for, when they place: what caps count.
    pub flavor: Option<String>,
}

/// What a delivery tells us about a job, reduced to what drives the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Observation {
    /// The job waits for a runner (action and status both `queued`).
    Queued,
    /// The job is ours but cannot be served (the reason is for the workflow author).
    Refused { reason: String },
    /// A runner took the job.
    InProgress { runner_name: Option<String> },
    /// The job ended.
    Completed {
        runner_name: Option<String>,
        conclusion: Option<String>,
    },
}
