//! Typed payloads of the events the dispatcher handles.
//!
//! Field sets follow GitHub's webhook schemas (see `shared/reference/github-api.md` §1.5 and
//! §2). Unknown keys are ignored, because GitHub adds fields without versioning, and
//! every key that GitHub sends as `null` or that older payloads omit is an `Option` or has
//! a default. Enums keep an `Unknown` variant for values added later.

use std::collections::BTreeMap;

use std::fmt;

use jiff::Timestamp;
use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};

/// Declares a string enum that maps unknown values to `Unknown` and can show itself.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
            /// A value this crate does not know yet.
            #[serde(other)]
            Unknown,
        }

        impl $name {
            /// GitHub's spelling of the value (`unknown` for [`Self::Unknown`]).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                    Self::Unknown => "unknown",
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// `action` of a `workflow_job` delivery.
    pub enum WorkflowJobAction {
        /// The job was created (it may still wait for an approval: check the status).
        Queued => "queued",
        /// The job waits for an environment approval.
        Waiting => "waiting",
        /// A runner started the job.
        InProgress => "in_progress",
        /// The job finished, ran or not.
        Completed => "completed",
    }
}

string_enum! {
    /// `status` of a job or of a step.
    pub enum JobStatus {
        /// Waiting for a runner.
        Queued => "queued",
        /// Running.
        InProgress => "in_progress",
        /// Finished.
        Completed => "completed",
        /// Waiting for an environment approval.
        Waiting => "waiting",
        /// Requested but not queued yet (REST job objects).
        Requested => "requested",
        /// Not started yet (steps, REST job objects).
        Pending => "pending",
    }
}

string_enum! {
    /// `conclusion` of a finished job or step.
    pub enum Conclusion {
        /// Succeeded.
        Success => "success",
        /// Failed.
        Failure => "failure",
        /// Cancelled.
        Cancelled => "cancelled",
        /// Skipped (e.g. its `if:` was false).
        Skipped => "skipped",
        /// Neutral.
        Neutral => "neutral",
        /// Exceeded its time limit.
        TimedOut => "timed_out",
        /// Needs an action from a user.
        ActionRequired => "action_required",
        /// Marked stale by GitHub.
        Stale => "stale",
        /// The workflow could not start.
        StartupFailure => "startup_failure",
    }
}

string_enum! {
    /// `type` of a user or organization account.
    pub enum AccountType {
        /// A person.
        User => "User",
        /// An organization.
        Organization => "Organization",
        /// A bot, e.g. `dependabot[bot]`.
        Bot => "Bot",
        /// An enterprise.
        Enterprise => "Enterprise",
    }
}

string_enum! {
    /// Which repositories an installation may access.
    pub enum RepositorySelection {
        /// Every repository of the account.
        All => "all",
        /// Only the repositories chosen by the owner.
        Selected => "selected",
    }
}

string_enum! {
    /// `action` of an `installation` delivery.
    pub enum InstallationAction {
        /// The App was installed.
        Created => "created",
        /// The App was uninstalled.
        Deleted => "deleted",
        /// The installation was suspended.
        Suspend => "suspend",
        /// The installation was unsuspended.
        Unsuspend => "unsuspend",
        /// The owner accepted new permissions.
        NewPermissionsAccepted => "new_permissions_accepted",
    }
}

string_enum! {
    /// `action` of an `installation_repositories` delivery.
    pub enum InstallationRepositoriesAction {
        /// Repositories were added to the installation.
        Added => "added",
        /// Repositories were removed from it.
        Removed => "removed",
    }
}

/// A user, bot or organization, as in `sender`, `owner` or `organization`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Account {
    /// Login, e.g. `octocat` or `dependabot[bot]`.
    pub login: String,
    /// Numeric id.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Kind of account (absent in some `organization` objects).
    #[serde(rename = "type", default)]
    pub account_type: Option<AccountType>,
    /// Web page of the account.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// The repository a delivery is about (the full webhook repository object, reduced).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Repository {
    /// Numeric id.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Name without the owner, e.g. `Hello-World`.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Owner account.
    pub owner: Account,
    /// Whether the repository is private.
    pub private: bool,
    /// Whether the repository is a fork (absent in a few old payloads).
    #[serde(default)]
    pub fork: Option<bool>,
    /// `public`, `private` or `internal`, when sent.
    #[serde(default)]
    pub visibility: Option<String>,
    /// Default branch, when sent.
    #[serde(default)]
    pub default_branch: Option<String>,
    /// Web page of the repository.
    #[serde(default)]
    pub html_url: Option<String>,
}

/// A GitHub App installation.
///
/// `workflow_job` deliveries carry only `id` and `node_id`; `installation` events carry the
/// whole object, so everything but `id` is optional.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Installation {
    /// Installation id, used to mint installation tokens.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// The account the App is installed on.
    #[serde(default)]
    pub account: Option<Account>,
    /// The App's id.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// The App's slug.
    #[serde(default)]
    pub app_slug: Option<String>,
    /// Id of the account the App is installed on.
    #[serde(default)]
    pub target_id: Option<u64>,
    /// `User` or `Organization`.
    #[serde(default)]
    pub target_type: Option<String>,
    /// Which repositories the installation may access.
    #[serde(default)]
    pub repository_selection: Option<RepositorySelection>,
    /// Granted permissions, e.g. `actions` → `read`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub permissions: BTreeMap<String, String>,
    /// Events the installation subscribes to.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<String>,
    /// When the installation was suspended, if it is.
    #[serde(default, deserialize_with = "text_or_unix_timestamp")]
    pub suspended_at: Option<Timestamp>,
    /// When the App was installed.
    #[serde(default, deserialize_with = "text_or_unix_timestamp")]
    pub created_at: Option<Timestamp>,
}

/// A repository as listed in installation events (a short object).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstallationRepository {
    /// Numeric id.
    pub id: u64,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Name without the owner.
    pub name: String,
    /// `owner/name`.
    pub full_name: String,
    /// Whether the repository is private.
    pub private: bool,
}

/// One step of a job.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Step {
    /// Step name, e.g. `Run actions/checkout@v4`.
    pub name: String,
    /// Step status.
    pub status: JobStatus,
    /// Step conclusion, once finished.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    /// Step number (not contiguous: post steps jump ahead).
    pub number: u64,
    /// When the step started.
    #[serde(default, deserialize_with = "text_or_unix_timestamp")]
    pub started_at: Option<Timestamp>,
    /// When the step finished.
    #[serde(default, deserialize_with = "text_or_unix_timestamp")]
    pub completed_at: Option<Timestamp>,
}

/// The `workflow_job` object (github-api.md §2.3).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowJob {
    /// Job id (also the check run id); exceeds 2^32.
    pub id: u64,
    /// Workflow run id; exceeds 2^32.
    #[serde(deserialize_with = "integer_u64")]
    pub run_id: u64,
    /// Attempt number of the run, 1 for the first; 2021-era payloads omit it.
    #[serde(default = "first_attempt", deserialize_with = "attempt_or_first")]
    pub run_attempt: u64,
    /// API URL of the run.
    #[serde(default)]
    pub run_url: Option<String>,
    /// GraphQL node id.
    #[serde(default)]
    pub node_id: Option<String>,
    /// Commit the job runs on.
    pub head_sha: String,
    /// Branch the job runs on (null for some events, absent in old payloads).
    #[serde(default)]
    pub head_branch: Option<String>,
    /// Name of the workflow (absent in old payloads).
    #[serde(default)]
    pub workflow_name: Option<String>,
    /// API URL of the job.
    #[serde(default)]
    pub url: Option<String>,
    /// Web page of the job; its shape changed over time, so do not parse it.
    #[serde(default)]
    pub html_url: Option<String>,
    /// API URL of the check run.
    #[serde(default)]
    pub check_run_url: Option<String>,
    /// Current status; on a `queued` action this can be `waiting`.
    pub status: JobStatus,
    /// Result, once completed.
    #[serde(default)]
    pub conclusion: Option<Conclusion>,
    /// When the job was created (absent in old payloads).
    #[serde(default, deserialize_with = "text_or_unix_timestamp")]
    pub created_at: Option<Timestamp>,
    /// When the job started; set even while queued.
    #[serde(default, deserialize_with = "text_or_unix_timestamp")]
    pub started_at: Option<Timestamp>,
    /// When the job finished.
    #[serde(default, deserialize_with = "text_or_unix_timestamp")]
    pub completed_at: Option<Timestamp>,
    /// Job name, e.g. `build (arm64)`.
    pub name: String,
    /// Steps; empty while queued.
    #[serde(default, deserialize_with = "null_as_default")]
    pub steps: Vec<Step>,
    /// The `runs-on` labels, case preserved; may be empty (`runs-on: { group: ... }`).
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: Vec<String>,
    /// Runner that took the job; null while queued, null or 0 for jobs that never ran.
    #[serde(default)]
    pub runner_id: Option<u64>,
    /// Name of that runner: the correlation key for runners we launched.
    #[serde(default)]
    pub runner_name: Option<String>,
    /// Runner group of that runner.
    #[serde(default)]
    pub runner_group_id: Option<u64>,
    /// Name of that runner group.
    #[serde(default)]
    pub runner_group_name: Option<String>,
}

impl WorkflowJob {
    /// The runner id, treating the 0 GitHub sends for never-assigned jobs as none.
    pub fn assigned_runner_id(&self) -> Option<u64> {
        self.runner_id.filter(|&id| id != 0)
    }
}

/// The `deployment` object sent with jobs that target an environment (reduced).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Deployment {
    /// Deployment id.
    pub id: u64,
    /// Environment name.
    #[serde(default)]
    pub environment: Option<String>,
}

/// A `workflow_job` delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WorkflowJobEvent {
    /// What happened to the job.
    pub action: WorkflowJobAction,
    /// The job.
    pub workflow_job: WorkflowJob,
    /// The repository the job runs for.
    pub repository: Repository,
    /// The installation, present on App deliveries.
    #[serde(default)]
    pub installation: Option<Installation>,
    /// The organization, when the repository belongs to one.
    #[serde(default)]
    pub organization: Option<Account>,
    /// Who triggered the delivery (always sent by GitHub; optional here for tolerance).
    #[serde(default)]
    pub sender: Option<Account>,
    /// The deployment, when the job targets an environment.
    #[serde(default)]
    pub deployment: Option<Deployment>,
}

impl WorkflowJobEvent {
    /// True when a runner should be launched for this delivery: the action **and** the job
    /// status are both `queued`. A `queued` action with status `waiting` is a job held by
    /// an environment approval; GitHub sends `queued` again once it is approved.
    pub fn is_launchable(&self) -> bool {
        self.action == WorkflowJobAction::Queued && self.workflow_job.status == JobStatus::Queued
    }
}

/// The `hook` object of a `ping` delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Hook {
    /// `App`, `Repository`, `Organization`, ...
    #[serde(rename = "type", default)]
    pub hook_type: Option<String>,
    /// Hook id.
    pub id: u64,
    /// Always `web`.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether the hook is active.
    #[serde(default)]
    pub active: Option<bool>,
    /// Subscribed events.
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<String>,
    /// The App id, for App hooks.
    #[serde(default)]
    pub app_id: Option<u64>,
    /// Hook configuration (the secret is always masked by GitHub).
    #[serde(default)]
    pub config: Option<HookConfig>,
}

/// Configuration of a hook, as shown in `ping`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HookConfig {
    /// `json` or `form`.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Delivery URL.
    #[serde(default)]
    pub url: Option<String>,
}

/// A `ping` delivery, sent when a hook (or an App) is created.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PingEvent {
    /// A random GitHub zen phrase.
    #[serde(default)]
    pub zen: Option<String>,
    /// Hook id.
    #[serde(default)]
    pub hook_id: Option<u64>,
    /// The hook.
    #[serde(default)]
    pub hook: Option<Hook>,
    /// Repository, for repository hooks (App pings have none).
    #[serde(default)]
    pub repository: Option<Repository>,
    /// Organization, for organization hooks.
    #[serde(default)]
    pub organization: Option<Account>,
    /// Sender (App pings have none).
    #[serde(default)]
    pub sender: Option<Account>,
}

/// An `installation` delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstallationEvent {
    /// What happened to the installation.
    pub action: InstallationAction,
    /// The installation.
    pub installation: Installation,
    /// Repositories the installation can access, for `created`/`deleted` with selected
    /// repositories.
    #[serde(default)]
    pub repositories: Option<Vec<InstallationRepository>>,
    /// Who asked for the installation, when someone did.
    #[serde(default)]
    pub requester: Option<Account>,
    /// Who performed the action.
    #[serde(default)]
    pub sender: Option<Account>,
}

/// An `installation_repositories` delivery.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct InstallationRepositoriesEvent {
    /// Added or removed.
    pub action: InstallationRepositoriesAction,
    /// The installation.
    pub installation: Installation,
    /// The new repository selection.
    #[serde(default)]
    pub repository_selection: Option<RepositorySelection>,
    /// Repositories added.
    #[serde(default, deserialize_with = "null_as_default")]
    pub repositories_added: Vec<InstallationRepository>,
    /// Repositories removed.
    #[serde(default, deserialize_with = "null_as_default")]
    pub repositories_removed: Vec<InstallationRepository>,
    /// Who asked for the change, when someone did.
    #[serde(default)]
    pub requester: Option<Account>,
    /// Who performed the action.
    #[serde(default)]
    pub sender: Option<Account>,
}

fn first_attempt() -> u64 {
    1
}

/// `null` means "not sent" here; GitHub writes both for the same field across versions.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn attempt_or_first<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(deserializer)?.unwrap_or_else(first_attempt))
}

/// The schema types `run_id` as "number": accept an integral float as well as an integer.
fn integer_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    struct IntegerVisitor;

    impl Visitor<'_> for IntegerVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer")
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<u64, E> {
            Ok(value)
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<u64, E> {
            u64::try_from(value).map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
        }

        fn visit_f64<E: de::Error>(self, value: f64) -> Result<u64, E> {
            // 2^64 as f64; anything at or above it does not fit.
            const LIMIT: f64 = 18_446_744_073_709_551_616.0;
            if value.fract() == 0.0 && (0.0..LIMIT).contains(&value) {
                Ok(value as u64)
            } else {
                Err(E::invalid_value(Unexpected::Float(value), &self))
            }
        }
    }

    deserializer.deserialize_any(IntegerVisitor)
}

/// Timestamps are RFC 3339 text, except in installation objects where some events send
/// Unix seconds. A custom visitor also keeps jiff's error text (which quotes the input)
/// out of error messages.
fn text_or_unix_timestamp<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Timestamp>, D::Error> {
    struct TimestampVisitor;

    impl<'de> Visitor<'de> for TimestampVisitor {
        type Value = Option<Timestamp>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an RFC 3339 timestamp, Unix seconds or null")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
            i64::try_from(value)
                .ok()
                .and_then(|seconds| Timestamp::from_second(seconds).ok())
                .map(Some)
                .ok_or_else(|| E::invalid_value(Unexpected::Unsigned(value), &self))
        }

        fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
            Timestamp::from_second(value)
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Signed(value), &self))
        }

        fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
            value
                .parse()
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Str(value), &self))
        }
    }

    deserializer.deserialize_any(TimestampVisitor)
}
