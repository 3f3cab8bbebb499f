//! A client for Hugging Face Jobs that speaks the Hub API as `huggingface_hub` 2.4.0 does.
//!
//! Main types:
//! - [`HfClient`]: an endpoint (default [`DEFAULT_ENDPOINT`]) plus a token, a `User-Agent`
//!   naming Ferry, and the namespace looked up once from `whoami-v2` (or given). Its request
//!   methods, and the status, JSON and `Link` helpers beneath them, are shared by every API
//!   module (`jobs`, `buckets`, `uv`).
//! - [`jobs::JobSpec`] / [`jobs::ScheduleSpec`]: what to run. They serialise to the same JSON
//!   bodies as Python's `run_job` / `create_scheduled_job` (same keys, same omissions, same
//!   default name); `tests/golden/` holds bodies recorded from the real Python client.
//! - [`jobs::Job`], [`jobs::JobStage`] (with [`jobs::JobStage::is_terminal`]),
//!   [`jobs::ScheduledJob`], [`jobs::Hardware`], [`jobs::Metrics`]: answers, parsed
//!   tolerantly (unknown fields ignored, secrets as names, `timeout` in seconds).
//! - [`HfClient::list_jobs`], [`HfClient::job_logs`], [`HfClient::job_metrics`]: streams. Listing
//!   follows `Link` pages; logs reconnect after network failures, skip the lines the Hub replays,
//!   and stop following only when an inspect shows the job terminal.
//! - [`volumes::Volume`] and [`volumes::parse_volume_spec`] (the CLI's `hf://…:/mnt[:ro]`), and
//!   [`jobs::cli_default_job_name`], the `hf jobs run` naming rule, for the `hfjobs` CLI.
//! - [`Error`]: one enum by meaning, with [`Error::is_retryable`].
//!
//! - [`buckets`]: the Buckets API as methods of [`HfClient`]: [`HfClient::create_bucket`]
//!   (`{"visibility": "private"}`; with `exist_ok` a 409 returns the URL of its body and a
//!   401/403 falls back to [`HfClient::bucket_info`]), [`HfClient::list_buckets`],
//!   [`HfClient::list_bucket_tree`] (recursive, `Link` pages), [`HfClient::get_bucket_paths_info`],
//!   [`HfClient::batch_bucket_files`] (NDJSON `addFile`/`copyFile`/`deleteFile`, ≤ 1000 a
//!   request, adds before deletes, refused paths reported one by one in
//!   [`Error::BucketBatch`]), [`HfClient::delete_bucket`] and [`HfClient::bucket_xet_write_token`].
//! - [`Uploader`]: how file contents reach the xet CAS. [`XetUploader`] (the default) is the
//!   official `hf-xet` client; [`InMemoryUploader`] keeps contents in memory for tests. Set one
//!   with [`HfClientBuilder::uploader`]. Progress comes through a callback
//!   ([`buckets::ProgressFn`], [`UploadProgress`]) so a CLI can draw a bar.
//! - [`uv`]: [`HfClient::run_uv_job`] and [`HfClient::create_scheduled_uv_job`] with Python's
//!   semantics ([`UvJobSpec`], [`UvScheduleSpec`] → [`UvLaunch`], [`UvScheduledLaunch`]): local
//!   files among the script and its arguments go to the private bucket
//!   `{namespace}/jobs-artifacts` under `YYYYMMDDTHHMMSS-<6 hex>/`, mounted read-write at
//!   `/data`, and the arguments are rewritten to `/data/<name>`; the bucket URL comes back for
//!   `Your script and Job artifacts will be saved in this bucket: <url>`. Missing local scripts
//!   ([`Error::FileNotFound`]) and a user volume at `/data` fail before any network call; a
//!   failed bucket creation, upload or batch starts no job. [`parse_job_volume_spec`] reads the
//!   CLI's `-v` (Hub URI or local directory, [`LocalVolume`]), and
//!   [`HfClient::sync_job_volume`] / [`HfClient::resolve_job_volumes`] sync local directories
//!   into `jobs-artifacts/<dirname>-<8 hex>` (read-only by default).
//!
//! It reads no environment variables and prints nothing: binaries resolve `HF_TOKEN` and
//! `HF_ENDPOINT` and hand them in (the `hf-xet` library under [`XetUploader`] does read its own
//! `HF_XET_*` tuning variables and, without a cache directory given, `HF_HOME`). Jobs calls are
//! never retried automatically (as in Python); callers decide from [`Error::is_retryable`] and
//! [`Error::retry_after`]. The built-in retries are the log/metric stream reconnections and,
//! as in Python's `http_backoff`, the bucket batch, paths-info and listing next pages
//! ([`HfClientBuilder::retry_backoff`]). No hand-written xet: chunking, hashing and CAS
//! uploads are `hf-xet`'s. Bucket downloads and `sync_bucket`'s delete/filters are not here.

pub mod buckets;
mod client;
mod error;
mod http;
pub mod jobs;
pub mod uv;
pub mod volumes;

#[cfg(feature = "xet")]
pub use buckets::XetUploader;
pub use buckets::{InMemoryUploader, UploadProgress, Uploader};
pub use client::{DEFAULT_ENDPOINT, HfClient, HfClientBuilder, OrgMembership, USER_AGENT, WhoAmI};
pub use error::Error;
pub use jobs::{Job, JobFilter, JobSpec, JobStage, LogOptions, ScheduleSpec};
pub use secrecy::SecretString;
pub use uv::{
    JobVolumeSpec, LocalVolume, UvJobSpec, UvLaunch, UvScheduleSpec, UvScheduledLaunch,
    parse_job_volume_spec,
};
pub use volumes::{Volume, VolumeType};
