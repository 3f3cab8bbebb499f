//! A client for Hugging Face Jobs that speaks the Hub API as `huggingface_hub` 2.4.0 does.
//!
//! Main types:
//! - [`HfClient`]: an endpoint (default [`DEFAULT_ENDPOINT`]) plus a token, a `User-Agent`
//!   naming Ferry, and the namespace looked up once from `whoami-v2` (or given). The request and
//!   error plumbing lives there, shared by every API module: `jobs` today, `buckets` later.
//! - [`jobs::JobSpec`] / [`jobs::ScheduleSpec`]: what to run. They serialise to the same JSON
//!   bodies as Python's `run_job` / `create_scheduled_job` (same keys, same omissions, same
//!   default name); `tests/golden/` holds bodies recorded from the real Python client.
//! - [`jobs::Job`], [`jobs::JobStage`] (with [`jobs::JobStage::is_terminal`]),
//!   [`jobs::ScheduledJob`], [`jobs::Hardware`], [`jobs::Metrics`]: answers, parsed
//!   tolerantly (unknown fields ignored, secrets as names, `timeout` in seconds).
//! - [`HfClient::list_jobs`], [`HfClient::job_logs`], [`HfClient::job_metrics`]: streams. Listing
//!   follows `Link` pages; logs reconnect after network failures, skip the lines the Hub replays,
//!   and stop following only when an inspect shows the job terminal.
//! - [`jobs::JobsApi`]: the calls a dispatcher needs, as an object-safe async trait.
//! - [`volumes::Volume`] and [`volumes::parse_volume_spec`] (the CLI's `hf://…:/mnt[:ro]`), and
//!   [`jobs::cli_default_job_name`], the `hf jobs run` naming rule, for the `hfjobs` CLI.
//! - [`Error`]: one enum by meaning, with [`Error::is_retryable`].
//!
//! It reads no environment variables and prints nothing: binaries resolve `HF_TOKEN` and
//! `HF_ENDPOINT` and hand them in. Jobs calls are never retried automatically (as in Python);
//! callers decide from [`Error::is_retryable`] and [`Error::retry_after`]. The only built-in
//! retries are the log/metric stream reconnections. Buckets, xet uploads and the `uv run`
//! transport are not here yet, nor the local-directory volumes of the CLI (they need buckets).

mod client;
mod error;
pub mod jobs;
pub mod volumes;

pub use client::{DEFAULT_ENDPOINT, HfClient, HfClientBuilder, OrgMembership, USER_AGENT, WhoAmI};
pub use error::Error;
pub use jobs::{Job, JobFilter, JobSpec, JobStage, JobsApi, LogOptions, ScheduleSpec};
pub use secrecy::SecretString;
pub use volumes::{Volume, VolumeType};
