//! The environment the runner starts with: an allowlist, never the entrypoint's whole
//! environment.
//!
//! HF Jobs delivers secrets as plain environment variables, so the entrypoint cannot tell an
//! injected secret from a harmless setting by looking at it. Whatever the runner process has,
//! the worker and every job step inherit. So only variables known to be needed (system,
//! locale, proxy, CA, GPU and runner tuning) and those named in `RUNNER_ENV_PASSTHROUGH` are
//! passed on, and credentials never are.

use std::collections::BTreeMap;

use crate::settings::{is_credential_name, vars};
use crate::user::RunAs;

#[cfg(test)]
mod tests;

/// Used when the entrypoint's environment has no `PATH`.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Variables passed on unchanged when set.
const PASSED_NAMES: &[&str] = &[
    // System and locale.
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "HOSTNAME",
    "TERM",
    "TZ",
    "LANG",
    "LANGUAGE",
    "TMPDIR",
    "LD_LIBRARY_PATH",
    "DEBIAN_FRONTEND",
    // Network: proxies and CA bundles.
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "NODE_EXTRA_CA_CERTS",
    // Toolchain locations images commonly set.
    "JAVA_HOME",
    "GOROOT",
    "GOPATH",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "CONDA_DIR",
    "VIRTUAL_ENV",
    // Runner tuning documented by actions/runner.
    "RUNNER_ALLOW_RUNASROOT",
    "RUNNER_UPDATE_CA_CERTS",
    "RUNNER_WAIT_FOR_DOCKER_IN_SECONDS",
    "RUNNER_TOOL_CACHE",
    "ACTIONS_RUNNER_PRINT_LOG_TO_STDOUT",
    "ACTIONS_RUNNER_HOOK_JOB_COMPLETED",
    "ACTIONS_RUNNER_CONTAINER_HOOKS",
    "ACTIONS_RUNNER_REQUIRE_JOB_CONTAINER",
    "ACTIONS_RUNNER_RETURN_VERSION_DEPRECATED_EXIT_CODE",
    "ACTIONS_RUNNER_DEBUG",
    "ACTIONS_STEP_DEBUG",
    "GITHUB_ACTIONS_RUNNER_HTTP_TIMEOUT",
    "GITHUB_ACTIONS_RUNNER_HTTP_RETRY",
    "GITHUB_ACTIONS_RUNNER_TLS_NO_VERIFY",
];

/// Prefixes of variables passed on (locale categories, NVIDIA/CUDA container settings).
const PASSED_PREFIXES: &[&str] = &["LC_", "NVIDIA_", "CUDA_", "NV_"];

/// Builds the runner's environment from the entrypoint's one.
///
/// The result holds no credential: `RUNNER_JITCONFIG`, `RUNNER_TOKEN`, `HF_TOKEN` and any
/// `ACTIONS_RUNNER_INPUT_*` are dropped even when allowlisted or passed through, and the
/// job-started hook is left for the caller to set.
pub fn runner_environment(
    env: &BTreeMap<String, String>,
    passthrough: &[String],
    run_as: &RunAs,
) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = env
        .iter()
        .filter(|(name, _)| {
            PASSED_NAMES.contains(&name.as_str())
                || PASSED_PREFIXES.iter().any(|p| name.starts_with(p))
                || passthrough.iter().any(|p| p == *name)
        })
        .filter(|(name, _)| !is_credential_name(name) && name.as_str() != vars::HOOK_JOB_STARTED)
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    out.entry("PATH".to_owned())
        .or_insert_with(|| DEFAULT_PATH.to_owned());
    match run_as {
        RunAs::Account(account) => {
            out.insert(
                "HOME".to_owned(),
                account.home.to_string_lossy().into_owned(),
            );
            out.insert("USER".to_owned(), account.name.clone());
            out.insert("LOGNAME".to_owned(), account.name.clone());
            // The runner's own root check does not apply, but a stale opt-in must not leak.
            out.remove("RUNNER_ALLOW_RUNASROOT");
        }
        RunAs::Root => {
            out.insert("RUNNER_ALLOW_RUNASROOT".to_owned(), "1".to_owned());
        }
        RunAs::Current { .. } => {}
    }
    out
}
