//! Dispatcher configuration: typed, validated, from environment-style key/value sources.
//!
//! The library reads no environment: the binary hands in the process environment and the
//! parsed `FERRY_CONFIG` file, and this module merges them (environment wins), validates every
//! value and names the setting at fault. Missing credentials are not an error: they select
//! setup mode, in which the dispatcher explains what to do next.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use runner_bootstrap::contract;
use runner_labels::Images;
use secrecy::{ExposeSecret, SecretString};

use crate::policy::Policy;

#[cfg(test)]
mod tests;

/// The default runner images: Ferry's runner image, which carries `runner-entrypoint`.
pub const DEFAULT_IMAGE_CPU: &str = "ghcr.io/ferry-ci/runner:latest";
pub const DEFAULT_IMAGE_GPU: &str = "ghcr.io/ferry-ci/runner:latest-cuda";

/// A setting that cannot be used. The message names the setting and what is accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{setting}: {problem}")]
pub struct ConfigError {
    pub setting: String,
    pub problem: String,
}

fn invalid(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.to_owned(),
        problem: problem.into(),
    }
}

/// Where runners register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunnerScopeSetting {
    /// On the job's repository: the App needs repository Administration (write).
    Repository,
    /// On the repository's organisation, in a runner group: the App needs organisation
    /// Self-hosted runners (write) and no repository administration.
    Organisation { group_id: u64 },
}

/// How the dispatcher logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// The GitHub App's credentials.
#[derive(Clone)]
pub struct AppCredentials {
    /// Numeric App id, or the App's client id (`Iv1.…`): either may be the JWT issuer.
    pub app_id: String,
    pub private_key: SecretString,
    pub webhook_secrets: Vec<SecretString>,
}

impl std::fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCredentials")
            .field("app_id", &self.app_id)
            .field("private_key", &"[redacted]")
            .field(
                "webhook_secrets",
                &format!("[{} redacted]", self.webhook_secrets.len()),
            )
            .finish()
    }
}

/// Everything the dispatcher is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `None` when GitHub credentials are missing: setup mode.
    pub github: Option<AppCredentials>,
    /// `None` when the HF token is missing: setup mode.
    pub hf_token: Option<SecretString>,
    /// `None`: ask the Hub who the token belongs to.
    pub hf_namespace: Option<String>,
    pub github_api_url: String,
    pub hf_endpoint: String,
    /// Who may run what: repositories, flavors, timeouts, forks, caps, namespaces, caches.
    pub policy: Policy,
    /// Shows the status page's details to `Authorization: Bearer <token>`; without it the
    /// page shows aggregates only.
    pub status_token: Option<SecretString>,
    /// Tell workflow authors through check runs (`CHECK_RUNS`, on by default).
    pub check_runs: bool,
    /// Where runners register: on the repository, or on the organisation (`RUNNER_SCOPE`).
    pub runner_scope: RunnerScopeSetting,
    pub images: Images,
    pub job_timeout: Option<Duration>,
    pub runner_idle_timeout: Duration,
    pub port: u16,
    pub state_dir: PathBuf,
    pub log_format: LogFormat,
    pub concurrency: usize,
    pub shutdown_grace: Duration,
    /// How often the reconciler compares the store, HF Jobs and GitHub.
    pub reconcile_interval: Duration,
    /// A runner not online this long after its HF Job was created is replaced.
    pub runner_boot_deadline: Duration,
    /// HF Jobs per job attempt at most, replacements included.
    pub max_launch_attempts: u32,
    /// How often failed deliveries are looked for in GitHub's log and redelivered.
    pub delivery_sweep_interval: Duration,
}

impl Settings {
    /// What is missing for the dispatcher to serve webhooks, if anything.
    pub fn setup_problem(&self) -> Option<String> {
        let mut missing = Vec::new();
        if self.github.is_none() {
            missing.push(
                "GH_APP_ID, GH_APP_PRIVATE_KEY (or GH_APP_PRIVATE_KEY_FILE) and GH_WEBHOOK_SECRET",
            );
        }
        if self.hf_token.is_none() {
            missing.push("HF_TOKEN");
        }
        (!missing.is_empty()).then(|| format!("missing {}", missing.join("; ")))
    }
}

/// Where values come from, lowest precedence first. Keys are the environment names.
#[derive(Debug, Default, Clone)]
pub struct Sources {
    /// Values from the `FERRY_CONFIG` TOML file.
    pub file: BTreeMap<String, String>,
    /// The process environment.
    pub env: BTreeMap<String, String>,
    /// Whether `/data` exists (an HF Space with persistent storage).
    pub data_dir_exists: bool,
    /// Reads a file named by a `*_FILE` setting; the binary passes `std::fs::read_to_string`.
    pub read_file: Option<fn(&std::path::Path) -> std::io::Result<String>>,
    /// The `FERRY_CONFIG` file as written: its `[policy]` table is read from here.
    pub file_text: Option<String>,
}

impl Sources {
    fn get(&self, key: &str) -> Option<&str> {
        self.env
            .get(key)
            .or_else(|| self.file.get(key))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Keys with `prefix` from both sources, the environment winning.
    fn with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        let mut found = BTreeMap::new();
        for source in [&self.file, &self.env] {
            for (key, value) in source.range(prefix.to_owned()..) {
                if !key.starts_with(prefix) {
                    break;
                }
                found.insert(key.clone(), value.trim().to_owned());
            }
        }
        found
    }
}

/// Parses a `FERRY_CONFIG` TOML file: a flat table of the environment names (any case), whose
/// values may be strings, integers or booleans, or arrays of strings (joined with commas).
pub fn parse_file(text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid("FERRY_CONFIG", e.message().to_owned()))?;
    let mut values = BTreeMap::new();
    for (key, value) in table {
        // The policy's own table, read by `Policy::parse`.
        if key == "policy" {
            continue;
        }
        let name = key.to_ascii_uppercase();
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            toml::Value::Float(f) => f.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Array(items) => {
                let mut parts = Vec::new();
                for item in items {
                    match item {
                        toml::Value::String(s) => parts.push(s),
                        _ => return Err(invalid(&name, "arrays may hold only strings")),
                    }
                }
                parts.join(",")
            }
            _ => {
                return Err(invalid(
                    &name,
                    "must be a string, a number, a boolean or an array of strings",
                ));
            }
        };
        values.insert(name, text);
    }
    Ok(values)
}

fn duration(sources: &Sources, key: &str) -> Result<Option<Duration>, ConfigError> {
    sources
        .get(key)
        .map(|text| durations::parse(text).map_err(|e| invalid(key, e.to_string())))
        .transpose()
}

fn number<T: std::str::FromStr>(
    sources: &Sources,
    key: &str,
    what: &str,
) -> Result<Option<T>, ConfigError> {
    sources
        .get(key)
        .map(|text| {
            text.parse::<T>()
                .map_err(|_| invalid(key, format!("'{text}' is not {what}")))
        })
        .transpose()
}

fn url(sources: &Sources, key: &str, default: &str) -> Result<String, ConfigError> {
    let text = sources
        .get(key)
        .unwrap_or(default)
        .trim_end_matches('/')
        .to_owned();
    let parsed =
        url::Url::parse(&text).map_err(|e| invalid(key, format!("'{text}' is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(
            key,
            format!("'{text}' must be an http or https URL"),
        ));
    }
    Ok(text)
}

/// Builds validated settings from `sources`.
pub fn load(sources: &Sources) -> Result<Settings, ConfigError> {
    let github = github_credentials(sources)?;
    let hf_token = sources
        .get("HF_TOKEN")
        .map(|t| SecretString::from(t.to_owned()));
    let hf_namespace = match sources.get("HF_NAMESPACE") {
        Some(namespace) => Some(namespace.to_owned()),
        None => sources
            .get("SPACE_AUTHOR_NAME")
            .map(str::to_owned)
            .or_else(|| {
                sources
                    .get("SPACE_ID")
                    .and_then(|id| id.split_once('/'))
                    .map(|(owner, _)| owner.to_owned())
            }),
    };
    if let Some(namespace) = &hf_namespace
        && (namespace.contains('/') || namespace.contains(char::is_whitespace))
    {
        return Err(invalid(
            "HF_NAMESPACE",
            format!("'{namespace}' is not a user or organisation name"),
        ));
    }

    let mut flat = sources.file.clone();
    flat.extend(sources.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let policy = Policy::parse(sources.file_text.as_deref(), &flat).map_err(|e| ConfigError {
        setting: e.setting,
        problem: e.problem,
    })?;
    let status_token = sources
        .get("STATUS_TOKEN")
        .map(|t| SecretString::from(t.to_owned()));
    if status_token
        .as_ref()
        .is_some_and(|t| t.expose_secret().len() < 16)
    {
        return Err(invalid(
            "STATUS_TOKEN",
            "must be at least 16 characters: it guards repository and job names",
        ));
    }
    let check_runs = match sources
        .get("CHECK_RUNS")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("true" | "1" | "on" | "yes") => true,
        Some("false" | "0" | "off" | "no") => false,
        Some(other) => {
            return Err(invalid(
                "CHECK_RUNS",
                format!("'{other}' is neither true nor false"),
            ));
        }
    };
    let runner_scope = match sources
        .get("RUNNER_SCOPE")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("repo" | "repository") => RunnerScopeSetting::Repository,
        Some("org" | "organization" | "organisation") => RunnerScopeSetting::Organisation {
            group_id: number::<u64>(sources, "RUNNER_GROUP_ID", "a runner group id")?.unwrap_or(1),
        },
        Some(other) => {
            return Err(invalid(
                "RUNNER_SCOPE",
                format!("'{other}' is neither repo nor org"),
            ));
        }
    };

    let mut images = Images {
        cpu: sources
            .get("RUNNER_IMAGE_CPU")
            .unwrap_or(DEFAULT_IMAGE_CPU)
            .to_owned(),
        gpu: sources
            .get("RUNNER_IMAGE_GPU")
            .unwrap_or(DEFAULT_IMAGE_GPU)
            .to_owned(),
        keyed: BTreeMap::new(),
    };
    for (key, image) in sources.with_prefix("RUNNER_IMAGE_") {
        let name = key["RUNNER_IMAGE_".len()..].to_ascii_lowercase();
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.')
        {
            return Err(invalid(
                &key,
                "the image key may hold only letters, digits, '-', '_' and '.'",
            ));
        }
        if image.contains(char::is_whitespace) {
            return Err(invalid(
                &key,
                format!("'{image}' is not an image reference"),
            ));
        }
        if !image.is_empty() && name != "cpu" && name != "gpu" {
            images.keyed.insert(name, image);
        }
    }

    let job_timeout = duration(sources, "JOB_TIMEOUT")?.or(Some(Duration::from_secs(3600)));
    if job_timeout == Some(Duration::ZERO) {
        return Err(invalid("JOB_TIMEOUT", "must be more than zero"));
    }
    let runner_idle_timeout =
        duration(sources, contract::IDLE_TIMEOUT)?.unwrap_or(contract::DEFAULT_IDLE_TIMEOUT);
    if runner_idle_timeout.is_zero() {
        return Err(invalid(contract::IDLE_TIMEOUT, "must be more than zero"));
    }
    let port = number::<u16>(sources, "PORT", "a port number (1-65535)")?.unwrap_or(7860);
    if port == 0 {
        return Err(invalid("PORT", "must be between 1 and 65535"));
    }
    let state_dir = match sources.get("DISPATCHER_STATE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None if sources.data_dir_exists => PathBuf::from("/data/ferry"),
        None => PathBuf::from("./state"),
    };
    let log_format = match sources
        .get("LOG_FORMAT")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("json") => LogFormat::Json,
        Some("text") => LogFormat::Text,
        Some(other) => {
            return Err(invalid(
                "LOG_FORMAT",
                format!("'{other}' is neither json nor text"),
            ));
        }
    };
    let concurrency =
        number::<usize>(sources, "DISPATCHER_CONCURRENCY", "a whole number")?.unwrap_or(16);
    if !(1..=1024).contains(&concurrency) {
        return Err(invalid(
            "DISPATCHER_CONCURRENCY",
            "must be between 1 and 1024",
        ));
    }
    let shutdown_grace = duration(sources, "SHUTDOWN_GRACE")?.unwrap_or(Duration::from_secs(20));
    let positive = |key: &str, default: Duration| -> Result<Duration, ConfigError> {
        let value = duration(sources, key)?.unwrap_or(default);
        if value.is_zero() {
            return Err(invalid(key, "must be more than zero"));
        }
        Ok(value)
    };
    let reconcile_interval = positive("RECONCILE_INTERVAL", Duration::from_secs(30))?;
    let runner_boot_deadline = positive("RUNNER_BOOT_DEADLINE", Duration::from_secs(600))?;
    let delivery_sweep_interval = positive("DELIVERY_SWEEP_INTERVAL", Duration::from_secs(120))?;
    let max_launch_attempts =
        number::<u32>(sources, "MAX_LAUNCH_ATTEMPTS", "a whole number")?.unwrap_or(3);
    if !(1..=20).contains(&max_launch_attempts) {
        return Err(invalid("MAX_LAUNCH_ATTEMPTS", "must be between 1 and 20"));
    }

    Ok(Settings {
        github,
        hf_token,
        hf_namespace,
        github_api_url: url(sources, "GITHUB_API_URL", "https://api.github.com")?,
        hf_endpoint: url(sources, "HF_ENDPOINT", "https://huggingface.co")?,
        policy,
        status_token,
        check_runs,
        runner_scope,
        images,
        job_timeout,
        runner_idle_timeout,
        port,
        state_dir,
        log_format,
        concurrency,
        shutdown_grace,
        reconcile_interval,
        runner_boot_deadline,
        max_launch_attempts,
        delivery_sweep_interval,
    })
}

fn github_credentials(sources: &Sources) -> Result<Option<AppCredentials>, ConfigError> {
    let app_id = sources
        .get("GH_APP_ID")
        .or_else(|| sources.get("GH_APP_CLIENT_ID"));
    let key = match (
        sources.get("GH_APP_PRIVATE_KEY"),
        sources.get("GH_APP_PRIVATE_KEY_FILE"),
    ) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "GH_APP_PRIVATE_KEY_FILE",
                "set either GH_APP_PRIVATE_KEY or GH_APP_PRIVATE_KEY_FILE, not both",
            ));
        }
        (Some(inline), None) => Some(unescape_pem(inline)),
        (None, Some(path)) => {
            let read = sources
                .read_file
                .unwrap_or(|path| std::fs::read_to_string(path));
            let text = read(std::path::Path::new(path)).map_err(|e| {
                invalid(
                    "GH_APP_PRIVATE_KEY_FILE",
                    format!("cannot read {path}: {e}"),
                )
            })?;
            Some(text)
        }
        (None, None) => None,
    };
    let secrets: Vec<SecretString> = sources
        .get("GH_WEBHOOK_SECRET")
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| SecretString::from(s.to_owned()))
        .collect();
    let (Some(app_id), Some(key)) = (app_id, key) else {
        return Ok(None);
    };
    if secrets.is_empty() {
        return Ok(None);
    }
    if !key.contains("-----BEGIN") || !key.contains("PRIVATE KEY-----") {
        return Err(invalid(
            "GH_APP_PRIVATE_KEY",
            "is not a PEM private key (it should start with -----BEGIN RSA PRIVATE KEY-----)",
        ));
    }
    let numeric = app_id.bytes().all(|b| b.is_ascii_digit());
    let client_id = app_id.starts_with("Iv") && app_id.len() > 4;
    if !numeric && !client_id {
        return Err(invalid(
            "GH_APP_ID",
            format!("'{app_id}' is neither a numeric App id nor a client id (Iv…)"),
        ));
    }
    Ok(Some(AppCredentials {
        app_id: app_id.to_owned(),
        private_key: SecretString::from(key),
        webhook_secrets: secrets,
    }))
}

/// The Space UI takes single-line values, so a key pasted there has literal `\n`s.
fn unescape_pem(text: &str) -> String {
    if text.contains('\n') {
        text.to_owned()
    } else {
        text.replace("\\n", "\n")
    }
}
