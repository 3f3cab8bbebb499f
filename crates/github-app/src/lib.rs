//! Speaks to GitHub as a GitHub App.
//!
//! Main types:
//!
//! - [`GitHubAppClient`], built from a [`ClientConfig`] (base URL, [`AppIdentity`], private key,
//!   [`RetryPolicy`], [`Clock`]). It signs App JWTs ([`AppJwtSigner`]: RS256, `iat` 60 s in the
//!   past, `exp` 9 minutes ahead, PKCS#1 or PKCS#8 PEM keys), mints installation tokens and
//!   caches them per installation and [`TokenScope`] until 5 minutes before `expires_at`
//!   (concurrent callers share one request; a 401 drops the cached token and retries once). Each
//!   installation call asks for the narrowest token that serves it: the one repository it names
//!   and the one permission it needs (runners: Administration write, or organisation
//!   Self-hosted runners write at organisation scope; runs and jobs: Actions read; check runs:
//!   Checks write; listing repositories and the rate limit: Metadata read). It
//!   calls the runner, JIT config, job, workflow run, delivery, manifest, check run and rate-limit
//!   endpoints. Lists (installations, an installation's repositories, runners, workflow runs, a
//!   run's jobs) follow the `Link` header through every page, 100 items at a time.
//! - [`Error`], one enum by meaning (`Unauthorized`, `NotFound`, `Conflict`, `Validation`,
//!   `RateLimited { retry_after }`, `Server`, `Transport`...) with [`Error::is_retryable`].
//! - [`JitOutcome`]: a JIT config whose runner name already exists (409) comes back as
//!   `AlreadyExists(runner)`, since GitHub never shows a config twice.
//! - Models in [`models`], such as [`Runner`], [`Job`] and [`WorkflowRun`] (with
//!   [`WorkflowRun::is_from_fork`]).
//!
//! Every request sends `Accept: application/vnd.github+json`, `X-GitHub-Api-Version: 2022-11-28`
//! and a `User-Agent` naming Ferry. GET and DELETE (plus the token mint, the JIT POST, whose
//! deterministic runner name makes it safe, and check-run updates) are retried with exponential
//! backoff on 5xx, transport errors and short rate limits; other calls are not.
//!
//! It reads no environment variables and prints nothing: the base URL, the App id and the
//! private key are handed in as values. Secrets (private key, JWTs, installation and registration
//! tokens, JIT configs, manifest credentials) stay in `secrecy` types, and no `Debug` output or
//! error message contains them.
//!
//! It deliberately does not: receive or verify webhooks (`github-webhook` does), follow
//! redirects specially, use ETags, or model more of GitHub's answers than Ferry reads.

pub mod auth;
pub mod client;
pub mod error;
pub mod models;
pub mod tokens;

#[cfg(test)]
mod tests;

pub use auth::{AppIdentity, AppJwtSigner, Clock, ManualClock, SystemClock};
pub use client::{API_VERSION, ClientConfig, DEFAULT_BASE_URL, GitHubAppClient, RetryPolicy};
pub use error::Error;
pub use models::{
    App, AppManifestConversion, CheckRun, CheckRunOutput, CheckRunUpdate, Delivery, DeliveryPage,
    DeliveryQuery, DeliveryStatus, Installation, InstallationToken, JitConfig, JitOutcome,
    JitRequest, Job, JobStatus, NewCheckRun, RateLimits, RegistrationToken, RepoRef, Repository,
    Runner, RunnerLabel, RunnerScope, WorkflowRun,
};
pub use tokens::{TokenScope, permission};
