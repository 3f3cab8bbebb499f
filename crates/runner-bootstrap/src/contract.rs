//! The contract between the dispatcher and the runner image, written once: the dispatcher
//! (crate `dispatch`) builds HF Jobs from these names, and the entrypoint reads them.
//!
//! An HF Job that hosts a runner runs [`ENTRYPOINT`] with one secret, [`JIT_CONFIG`], and one
//! variable, [`IDLE_TIMEOUT`]; nothing else crosses.

use std::time::Duration;

/// The command the HF Job runs.
pub const ENTRYPOINT: &str = "runner-entrypoint";
/// The secret holding the base64 JIT runner config: the runner's only credential.
pub const JIT_CONFIG: &str = "RUNNER_JITCONFIG";
/// Seconds (or `90s`, `10m`, …) after which a runner that started no job stops.
pub const IDLE_TIMEOUT: &str = "RUNNER_IDLE_TIMEOUT";
/// The idle timeout both sides use when none is configured: long enough for GitHub to assign
/// a queued job, short enough that an unused GPU costs little (the reference dispatcher's).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// Comma-separated names of further variables the runner passes on to job steps (the
/// dispatcher names the cache locations here).
pub const ENV_PASSTHROUGH: &str = "RUNNER_ENV_PASSTHROUGH";
