//! Turns a container into one ephemeral GitHub Actions runner and supervises it.
//!
//! The `runner-entrypoint` binary is a thin shell over this crate. The pieces, in the order the
//! binary uses them:
//!
//! - [`Settings::from_env`]: validates the inputs from an environment map handed in by the
//!   caller (this crate reads no environment variable itself): a JIT config
//!   (`RUNNER_JITCONFIG`, preferred) or the reference dispatcher's registration-token contract
//!   (`RUNNER_TOKEN`, `GH_REPO`, `RUNNER_NAME`, `RUNNER_LABELS`, `RUNNER_GROUP`,
//!   `RUNNER_WORKDIR`), plus `RUNNER_DIR`, `RUNNER_IDLE_TIMEOUT`, `RUNNER_MAX_LIFETIME`,
//!   `RUNNER_STOP_GRACE`, `RUNNER_USER`, `RUNNER_ALLOW_RUNASROOT`, `RUNNER_ENV_PASSTHROUGH`,
//!   `RUNNER_STATE_DIR` (documented in `docs/runner.md`).
//! - [`user::resolve`]: which user the runner runs as (the image's `runner` user when the
//!   entrypoint is root).
//! - [`environment::runner_environment`]: the runner's environment, built from an allowlist so
//!   that no credential (JIT config, registration token, secrets HF Jobs injects) reaches a job
//!   step.
//! - [`diagnosis::machine`]: a secret-free description of the machine for the job log.
//! - [`hook::JobStartHook`]: a job-started hook that tells the supervisor a job has begun.
//! - [`launch`]: the `config.sh` and `run.sh` steps, credentials in `ACTIONS_RUNNER_INPUT_*`.
//! - [`Supervisor`]: runs a step in its own process group, forwards SIGTERM/SIGINT, enforces
//!   the idle timeout and the maximum lifetime, escalates to SIGKILL, and reports an
//!   [`Outcome`] that maps to the documented [`exit_code`]s.
//!
//! It never passes a credential on a command line and never lets one reach a job step. It does
//! not download or install the runner (the image does), does not talk to GitHub (it cannot
//! deregister a runner it stopped; GitHub removes offline ephemeral runners), and prints
//! nothing: the binary does.

mod error;

pub mod contract;
pub mod diagnosis;
pub mod environment;
pub mod hook;
pub mod launch;
pub mod settings;
pub mod supervisor;
pub mod user;

pub use error::Error;
pub use settings::{Credential, Registration, Settings};
pub use supervisor::{Launch, Outcome, StopReason, Supervisor, exit_code};
