//! Hand-written models of GitHub's answers: only the fields Ferry reads, unknown keys ignored,
//! `Option` for every field GitHub may leave out or set to null.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// `owner/name` of a repository.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoRef {
    pub owner: String,
    pub name: String,
}

impl RepoRef {
    pub fn new(owner: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            owner: owner.into(),
            name: name.into(),
        }
    }

    /// Parses `owner/name`.
    pub fn parse(full_name: &str) -> Option<Self> {
        let (owner, name) = full_name.split_once('/')?;
        let valid = |s: &str| !s.is_empty() && !s.contains('/');
        (valid(owner) && valid(name)).then(|| Self::new(owner, name))
    }
}

impl fmt::Display for RepoRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Where runners live: a repository or an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RunnerScope {
    Repo(RepoRef),
    Org(String),
}

/// Permission name to level (`read`, `write`, `admin`).
pub type Permissions = BTreeMap<String, String>;

/// An account (user or organisation).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Account {
    pub login: String,
    pub id: u64,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// `GET /repos/{o}/{r}/installation`, and the items of `GET /app/installations`.
#[derive(Debug, Clone, Deserialize)]
pub struct Installation {
    pub id: u64,
    #[serde(default)]
    pub app_id: Option<u64>,
    #[serde(default)]
    pub app_slug: Option<String>,
    #[serde(default)]
    pub account: Option<Account>,
    #[serde(default)]
    pub target_type: Option<String>,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub repository_selection: Option<String>,
    #[serde(default)]
    pub suspended_at: Option<String>,
}

/// `GET /installation/repositories`: the repositories an installation can reach.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Repository {
    pub id: u64,
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    #[serde(default)]
    pub owner: Option<Account>,
    #[serde(default)]
    pub private: bool,
    /// `public`, `private` or `internal`.
    #[serde(default)]
    pub visibility: Option<String>,
    #[serde(default)]
    pub fork: Option<bool>,
    #[serde(default)]
    pub archived: Option<bool>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

impl Repository {
    /// `owner/name` as a [`RepoRef`], from `full_name`.
    pub fn repo_ref(&self) -> Option<RepoRef> {
        RepoRef::parse(&self.full_name)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RepositoryList {
    #[allow(dead_code)] // Part of GitHub's answer; pagination follows `Link` instead.
    pub total_count: u64,
    pub repositories: Vec<Repository>,
}

/// `GET /app`.
#[derive(Debug, Clone, Deserialize)]
pub struct App {
    pub id: u64,
    #[serde(default)]
    pub slug: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub owner: Option<Account>,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub events: Vec<String>,
    #[serde(default)]
    pub installations_count: Option<u64>,
}

/// `POST /app-manifests/{code}/conversions`: the new App and its credentials.
#[derive(Debug, Clone, Deserialize)]
pub struct AppManifestConversion {
    #[serde(flatten)]
    pub app: App,
    pub client_id: String,
    pub client_secret: SecretString,
    #[serde(default)]
    pub webhook_secret: Option<SecretString>,
    /// The App's private key, PKCS#1 PEM.
    pub pem: SecretString,
}

/// A short-lived token that acts as one installation.
#[derive(Debug, Clone, Deserialize)]
pub struct InstallationToken {
    pub token: SecretString,
    pub expires_at: Timestamp,
    #[serde(default)]
    pub permissions: Permissions,
    #[serde(default)]
    pub repository_selection: Option<String>,
}

/// `POST .../actions/runners/registration-token`.
#[derive(Debug, Clone, Deserialize)]
pub struct RegistrationToken {
    pub token: SecretString,
    pub expires_at: Timestamp,
}

/// A label of a self-hosted runner.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RunnerLabel {
    #[serde(default)]
    pub id: Option<u64>,
    pub name: String,
    /// `read-only` (default labels) or `custom`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
}

/// A self-hosted runner.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Runner {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub os: Option<String>,
    /// `online` or `offline`.
    pub status: String,
    pub busy: bool,
    #[serde(default)]
    pub labels: Vec<RunnerLabel>,
    #[serde(default)]
    pub runner_group_id: Option<u64>,
    #[serde(default)]
    pub ephemeral: Option<bool>,
    #[serde(default)]
    pub version: Option<String>,
}

impl Runner {
    pub fn label_names(&self) -> impl Iterator<Item = &str> {
        self.labels.iter().map(|l| l.name.as_str())
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct RunnerList {
    #[allow(dead_code)] // Part of GitHub's answer; pagination follows `Link` instead.
    pub total_count: u64,
    pub runners: Vec<Runner>,
}

/// What to ask for when minting a JIT runner config.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct JitRequest {
    /// Unique in the scope; derive it from the job so a retry finds the same runner.
    pub name: String,
    /// Repositories only have the default group, id 1.
    pub runner_group_id: u64,
    /// 1 to 100 labels; include `self-hosted` if workflows ask for it.
    pub labels: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub work_folder: Option<String>,
}

impl JitRequest {
    /// A request in the default runner group (id 1), with GitHub's default work folder.
    pub fn new(name: impl Into<String>, labels: Vec<String>) -> Self {
        Self {
            name: name.into(),
            runner_group_id: 1,
            labels,
            work_folder: None,
        }
    }
}

/// A freshly minted JIT config: the runner GitHub registered and its single-use config.
#[derive(Debug, Clone, Deserialize)]
pub struct JitConfig {
    pub runner: Runner,
    /// Hand this to `run.sh --jitconfig`; it holds the runner's credentials.
    pub encoded_jit_config: SecretString,
}

/// The result of asking for a JIT config.
#[derive(Debug, Clone)]
pub enum JitOutcome {
    /// A new runner and its config.
    Created(JitConfig),
    /// A runner with this name was already registered (GitHub answered 409, typically because an
    /// earlier attempt succeeded on GitHub's side but failed on ours). GitHub never shows a JIT
    /// config twice, so only the runner comes back: delete it (if idle) and ask again under a new
    /// name, or let it be if a config for it is already in use.
    AlreadyExists(Runner),
}

/// Status of a workflow job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    Queued,
    InProgress,
    Completed,
    Waiting,
    Requested,
    Pending,
    #[serde(other)]
    Unknown,
}

/// `GET /repos/{o}/{r}/actions/jobs/{job_id}`, and the items of
/// `GET /repos/{o}/{r}/actions/runs/{run_id}/jobs`.
#[derive(Debug, Clone, Deserialize)]
pub struct Job {
    pub id: u64,
    pub run_id: u64,
    #[serde(default)]
    pub run_attempt: Option<u64>,
    pub status: JobStatus,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub labels: Vec<String>,
    #[serde(default)]
    pub runner_id: Option<u64>,
    #[serde(default)]
    pub runner_name: Option<String>,
    #[serde(default)]
    pub runner_group_id: Option<u64>,
    #[serde(default)]
    pub head_sha: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

impl Job {
    /// The run attempt, 1 when GitHub leaves it out (older answers do).
    pub fn attempt(&self) -> u64 {
        self.run_attempt.unwrap_or(1)
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct JobList {
    #[allow(dead_code)] // Part of GitHub's answer; pagination follows `Link` instead.
    pub total_count: u64,
    pub jobs: Vec<Job>,
}

/// The repository fields of a workflow run that matter for fork detection.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RepoSummary {
    pub id: u64,
    pub full_name: String,
    #[serde(default)]
    pub fork: Option<bool>,
}

/// `GET /repos/{o}/{r}/actions/runs/{run_id}`, and the items of
/// `GET /repos/{o}/{r}/actions/runs`.
#[derive(Debug, Clone, Deserialize)]
pub struct WorkflowRun {
    pub id: u64,
    /// `push`, `pull_request`, `pull_request_target`, ...
    pub event: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub run_attempt: Option<u64>,
    #[serde(default)]
    pub head_sha: Option<String>,
    /// The repository the code comes from: the fork, for a fork pull request.
    #[serde(default)]
    pub head_repository: Option<RepoSummary>,
    pub repository: RepoSummary,
    #[serde(default)]
    pub triggering_actor: Option<Account>,
}

impl WorkflowRun {
    /// Whether the run's code comes from another repository (a fork pull request).
    ///
    /// A pull-request run whose head repository is gone (a deleted fork) counts as a fork:
    /// when in doubt, refuse.
    pub fn is_from_fork(&self) -> bool {
        match &self.head_repository {
            Some(head) => head.id != self.repository.id,
            None => self.event.starts_with("pull_request"),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct WorkflowRunList {
    #[allow(dead_code)] // Part of GitHub's answer; pagination follows `Link` instead.
    pub total_count: u64,
    pub workflow_runs: Vec<WorkflowRun>,
}

/// A webhook delivery of the App (`GET /app/hook/deliveries`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct Delivery {
    pub id: u64,
    /// The `X-GitHub-Delivery` header of the delivery.
    pub guid: String,
    pub delivered_at: Timestamp,
    pub redelivery: bool,
    #[serde(default)]
    pub duration: Option<f64>,
    /// `OK` on success; anything else is a failure (including transport failures).
    pub status: String,
    #[serde(default)]
    pub status_code: Option<u16>,
    pub event: String,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub installation_id: Option<u64>,
    #[serde(default)]
    pub repository_id: Option<u64>,
}

impl Delivery {
    pub fn succeeded(&self) -> bool {
        self.status == "OK"
    }
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryQuery {
    /// 1 to 100; GitHub's default is 30.
    pub per_page: Option<u32>,
    /// From a previous page's [`DeliveryPage::next_cursor`].
    pub cursor: Option<String>,
    pub status: Option<DeliveryStatus>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Success,
    Failure,
}

impl DeliveryStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Success => "success",
            DeliveryStatus::Failure => "failure",
        }
    }
}

/// One page of deliveries, newest first, and the cursor of the next page if there is one.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryPage {
    pub deliveries: Vec<Delivery>,
    pub next_cursor: Option<String>,
}

/// The `output` of a check run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CheckRunOutput {
    pub title: String,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `POST /repos/{o}/{r}/check-runs`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NewCheckRun {
    pub name: String,
    pub head_sha: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckRunOutput>,
}

impl NewCheckRun {
    pub fn new(name: impl Into<String>, head_sha: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            head_sha: head_sha.into(),
            status: None,
            conclusion: None,
            details_url: None,
            external_id: None,
            started_at: None,
            completed_at: None,
            output: None,
        }
    }
}

/// `PATCH /repos/{o}/{r}/check-runs/{id}`: only the fields set are changed.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct CheckRunUpdate {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conclusion: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<CheckRunOutput>,
}

/// A check run as GitHub returns it.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct CheckRun {
    pub id: u64,
    pub name: String,
    pub head_sha: String,
    pub status: String,
    #[serde(default)]
    pub conclusion: Option<String>,
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub details_url: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
}

/// One rate-limit bucket.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct RateLimitBucket {
    pub limit: u64,
    pub remaining: u64,
    /// Epoch seconds.
    pub reset: i64,
    #[serde(default)]
    pub used: u64,
}

/// `GET /rate_limit`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct RateLimits {
    /// By bucket name: `core`, `search`, `integration_manifest`, ...
    pub resources: BTreeMap<String, RateLimitBucket>,
    /// The `core` bucket, repeated by GitHub for old clients.
    pub rate: RateLimitBucket,
}
