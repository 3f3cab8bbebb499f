//! Runner settings, parsed from an environment map handed in by the caller.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

#[cfg(test)]
mod tests;

/// Names of the environment variables the entrypoint reads.
pub mod vars {
    /// Base64 JIT runner config from `generate-jitconfig` (Ferry's dispatcher; preferred).
    pub const JITCONFIG: &str = crate::contract::JIT_CONFIG;
    /// Registration token (the reference dispatcher's contract).
    pub const TOKEN: &str = "RUNNER_TOKEN";
    /// `owner/repo`, or the URL of a repository or organisation (registration token only).
    pub const GH_REPO: &str = "GH_REPO";
    /// Runner name (registration token only; a JIT config carries its own).
    pub const NAME: &str = "RUNNER_NAME";
    /// Comma-separated labels (registration token only).
    pub const LABELS: &str = "RUNNER_LABELS";
    /// Runner group name (registration token only, organisation runners).
    pub const GROUP: &str = "RUNNER_GROUP";
    /// Work folder, relative to the runner directory (registration token only).
    pub const WORKDIR: &str = "RUNNER_WORKDIR";
    /// Where the runner is installed.
    pub const DIR: &str = "RUNNER_DIR";
    /// Stop when no job has started within this long after the runner started.
    pub const IDLE_TIMEOUT: &str = crate::contract::IDLE_TIMEOUT;
    /// Stop the runner this long after the entrypoint started, job or not.
    pub const MAX_LIFETIME: &str = "RUNNER_MAX_LIFETIME";
    /// Time between the graceful stop signal and SIGKILL.
    pub const STOP_GRACE: &str = "RUNNER_STOP_GRACE";
    /// The user to run the runner as (default: `runner` when the entrypoint is root).
    pub const USER: &str = "RUNNER_USER";
    /// Allows running as root (any non-empty value, as the runner itself treats it).
    pub const ALLOW_RUNASROOT: &str = "RUNNER_ALLOW_RUNASROOT";
    /// Where the entrypoint writes its job-started hook (a fresh directory is made inside).
    pub const STATE_DIR: &str = "RUNNER_STATE_DIR";
    /// Extra variable names to pass on to the runner (comma separated).
    pub const ENV_PASSTHROUGH: &str = crate::contract::ENV_PASSTHROUGH;
    /// The runner's job-started hook; the entrypoint chains any value the image sets.
    pub const HOOK_JOB_STARTED: &str = "ACTIONS_RUNNER_HOOK_JOB_STARTED";
    /// Prefix of the variables the runner reads as command-line inputs.
    pub const RUNNER_INPUT_PREFIX: &str = "ACTIONS_RUNNER_INPUT_";
    /// The runner input that carries the JIT config.
    pub const RUNNER_INPUT_JITCONFIG: &str = "ACTIONS_RUNNER_INPUT_JITCONFIG";
    /// The runner input that carries the registration token.
    pub const RUNNER_INPUT_TOKEN: &str = "ACTIONS_RUNNER_INPUT_TOKEN";
}

/// Default install directory of the runner (the reference images use it too).
pub const DEFAULT_RUNNER_DIR: &str = "/actions-runner";
/// Default idle timeout: the contract's, shared with the dispatcher.
pub const DEFAULT_IDLE_TIMEOUT: Duration = crate::contract::DEFAULT_IDLE_TIMEOUT;
/// Default grace period between the stop signal and SIGKILL.
pub const DEFAULT_STOP_GRACE: Duration = Duration::from_secs(15);
/// Default base directory for the entrypoint's hook and marker.
pub const DEFAULT_STATE_DIR: &str = "/tmp";
/// Default work folder (the runner's own default).
pub const DEFAULT_WORKDIR: &str = "_work";
/// The user the entrypoint looks for when it starts as root.
pub const DEFAULT_RUNNER_USER: &str = "runner";

/// How the runner gets its identity.
#[derive(Debug)]
pub enum Credential {
    /// A single-use JIT config: `run.sh` only, no `config.sh`.
    Jit(SecretString),
    /// A registration token: `config.sh` then `run.sh`.
    Registration(Registration),
}

/// What `config.sh` needs for a registration-token runner.
#[derive(Debug)]
pub struct Registration {
    /// `https://github.com/OWNER/REPO` or `https://github.com/ORG`.
    pub url: String,
    pub token: SecretString,
    pub name: String,
    pub labels: Vec<String>,
    pub group: Option<String>,
    pub work_dir: String,
}

/// Everything the entrypoint needs, validated.
#[derive(Debug)]
pub struct Settings {
    pub credential: Credential,
    pub runner_dir: PathBuf,
    /// `None` disables the idle timeout (`RUNNER_IDLE_TIMEOUT=0`).
    pub idle_timeout: Option<Duration>,
    /// `None` means no limit besides the HF Job's own timeout.
    pub max_lifetime: Option<Duration>,
    pub stop_grace: Duration,
    /// Requested user, if any.
    pub user: Option<String>,
    pub allow_root: bool,
    pub state_dir: PathBuf,
    /// A job-started hook the image already sets; the entrypoint's hook runs it afterwards.
    pub existing_job_started_hook: Option<PathBuf>,
    /// Extra names passed on to the runner's environment.
    pub passthrough: Vec<String>,
    /// Inputs that were set but do not apply to the chosen mode (names only).
    pub ignored: Vec<&'static str>,
}

impl Settings {
    /// Parses and validates the settings. `default_name` is used when `RUNNER_NAME` is unset
    /// in registration-token mode (the caller derives it from the host name and time).
    pub fn from_env(env: &BTreeMap<String, String>, default_name: &str) -> Result<Self, Error> {
        let get = |name: &str| env.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let mut ignored = Vec::new();
        let credential = match (get(vars::JITCONFIG), get(vars::TOKEN)) {
            (Some(_), Some(_)) => {
                return Err(Error::ConflictingInputs {
                    first: vars::JITCONFIG,
                    second: vars::TOKEN,
                    hint: "give the runner one credential: a JIT config (preferred) or a registration token",
                });
            }
            (None, None) => {
                return Err(Error::MissingInput {
                    name: vars::JITCONFIG,
                    hint: "set RUNNER_JITCONFIG to a JIT runner config (preferred), or RUNNER_TOKEN with \
                           GH_REPO and RUNNER_LABELS to register with a registration token",
                });
            }
            (Some(jit), None) => {
                validate_jit_config(jit)?;
                for name in [vars::GH_REPO, vars::NAME, vars::LABELS, vars::GROUP, vars::WORKDIR] {
                    if get(name).is_some() {
                        ignored.push(name);
                    }
                }
                Credential::Jit(SecretString::from(jit.to_owned()))
            }
            (None, Some(token)) => Credential::Registration(Registration {
                token: parse_token(token)?,
                url: parse_github_url(get(vars::GH_REPO).ok_or(Error::MissingInput {
                    name: vars::GH_REPO,
                    hint: "set it to OWNER/REPO or to the URL of the repository or organisation",
                })?)?,
                name: parse_name(get(vars::NAME).unwrap_or(default_name))?,
                labels: parse_labels(get(vars::LABELS).ok_or(Error::MissingInput {
                    name: vars::LABELS,
                    hint: "the runner registers with --no-default-labels, so it needs at least one label",
                })?)?,
                group: get(vars::GROUP).map(|g| parse_plain(vars::GROUP, g)).transpose()?,
                work_dir: parse_work_dir(get(vars::WORKDIR).unwrap_or(DEFAULT_WORKDIR))?,
            }),
        };

        let runner_dir = PathBuf::from(get(vars::DIR).unwrap_or(DEFAULT_RUNNER_DIR));
        if !runner_dir.is_absolute() {
            return Err(Error::invalid(vars::DIR, "must be an absolute path"));
        }
        let state_dir = PathBuf::from(get(vars::STATE_DIR).unwrap_or(DEFAULT_STATE_DIR));
        if !state_dir.is_absolute() {
            return Err(Error::invalid(vars::STATE_DIR, "must be an absolute path"));
        }
        let existing_job_started_hook = match get(vars::HOOK_JOB_STARTED) {
            None => None,
            Some(hook) => Some(parse_existing_hook(hook)?),
        };

        Ok(Settings {
            credential,
            runner_dir,
            idle_timeout: parse_optional_duration(vars::IDLE_TIMEOUT, get(vars::IDLE_TIMEOUT))?
                .unwrap_or(Some(DEFAULT_IDLE_TIMEOUT)),
            max_lifetime: parse_optional_duration(vars::MAX_LIFETIME, get(vars::MAX_LIFETIME))?
                .flatten(),
            stop_grace: match get(vars::STOP_GRACE) {
                None => DEFAULT_STOP_GRACE,
                Some(text) => parse_duration(vars::STOP_GRACE, text)?,
            },
            user: get(vars::USER).map(parse_user_name).transpose()?,
            allow_root: env
                .get(vars::ALLOW_RUNASROOT)
                .is_some_and(|v| !v.is_empty()),
            state_dir,
            existing_job_started_hook,
            passthrough: get(vars::ENV_PASSTHROUGH)
                .map(parse_passthrough)
                .transpose()?
                .unwrap_or_default(),
            ignored,
        })
    }

    /// Short name of the mode for the diagnosis.
    pub fn mode(&self) -> &'static str {
        match self.credential {
            Credential::Jit(_) => "JIT config",
            Credential::Registration(_) => "registration token",
        }
    }
}

/// Checks the shape `actions/runner` expects: base64 of a JSON object mapping file names
/// (`.runner`, `.credentials`, ...) to base64 contents. Errors never include the value.
fn validate_jit_config(text: &str) -> Result<(), Error> {
    let invalid = |reason: &str| Error::invalid(vars::JITCONFIG, reason);
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(text.as_bytes())
        .map_err(|_| {
            invalid("not base64; pass the `encoded_jit_config` of generate-jitconfig unchanged")
        })?;
    let json: serde_json::Value = serde_json::from_slice(&decoded)
        .map_err(|_| invalid("decodes to something that is not JSON"))?;
    let files = json
        .as_object()
        .ok_or_else(|| invalid("decodes to JSON that is not an object of files"))?;
    if !files.contains_key(".runner") {
        return Err(invalid("has no `.runner` entry"));
    }
    if files.values().any(|v| !v.is_string()) {
        return Err(invalid("has an entry whose content is not a string"));
    }
    Ok(())
}

fn parse_token(text: &str) -> Result<SecretString, Error> {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            vars::TOKEN,
            "contains whitespace or control characters",
        ));
    }
    Ok(SecretString::from(text.to_owned()))
}

/// Accepts `OWNER/REPO` (github.com) or an http(s) URL of a repository or organisation.
pub(crate) fn parse_github_url(text: &str) -> Result<String, Error> {
    let invalid = |reason: &str| Error::invalid(vars::GH_REPO, format!("'{text}' {reason}"));
    if !text.contains("://") {
        let mut parts = text.split('/');
        let (Some(owner), Some(repo), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(invalid(
                "is neither OWNER/REPO nor a URL (use https://github.com/ORG for an organisation)",
            ));
        };
        if !is_owner(owner) || !is_repo(repo) {
            return Err(invalid("is not a valid OWNER/REPO"));
        }
        return Ok(format!("https://github.com/{owner}/{repo}"));
    }
    let url = url::Url::parse(text).map_err(|e| invalid(&format!("is not a valid URL ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(invalid("must be an https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment"));
    }
    let host = url.host_str().ok_or_else(|| invalid("has no host"))?;
    let segments: Vec<&str> = url.path().split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [owner] if is_owner(owner) => {}
        [owner, repo] if is_owner(owner) && is_repo(repo) => {}
        _ => {
            return Err(invalid(
                "must name an organisation (/ORG) or a repository (/OWNER/REPO)",
            ));
        }
    }
    let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!(
        "{}://{host}{port}/{}",
        url.scheme(),
        segments.join("/")
    ))
}

fn is_owner(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_repo(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_name(text: &str) -> Result<String, Error> {
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid(
            vars::NAME,
            format!("'{text}' contains whitespace"),
        ));
    }
    if text.len() > 64 {
        return Err(Error::invalid(vars::NAME, "is longer than 64 characters"));
    }
    Ok(text.to_owned())
}

pub(crate) fn parse_labels(text: &str) -> Result<Vec<String>, Error> {
    let labels: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if labels.is_empty() {
        return Err(Error::invalid(
            vars::LABELS,
            "has no label; write them comma separated: a,b,c",
        ));
    }
    if let Some(bad) = labels.iter().find(|l| l.chars().any(char::is_control)) {
        return Err(Error::invalid(
            vars::LABELS,
            format!("label '{}' contains control characters", bad.escape_debug()),
        ));
    }
    Ok(labels)
}

fn parse_plain(name: &'static str, text: &str) -> Result<String, Error> {
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(name, "contains control characters"));
    }
    Ok(text.to_owned())
}

fn parse_work_dir(text: &str) -> Result<String, Error> {
    parse_plain(vars::WORKDIR, text)?;
    if text.starts_with('-') {
        return Err(Error::invalid(vars::WORKDIR, "must not start with '-'"));
    }
    Ok(text.to_owned())
}

fn parse_user_name(text: &str) -> Result<String, Error> {
    if text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == '/')
    {
        return Err(Error::invalid(
            vars::USER,
            format!("'{}' is not a user name", text.escape_debug()),
        ));
    }
    Ok(text.to_owned())
}

fn parse_existing_hook(text: &str) -> Result<PathBuf, Error> {
    let path = PathBuf::from(text);
    if !path.is_absolute() {
        return Err(Error::invalid(
            vars::HOOK_JOB_STARTED,
            "must be an absolute path",
        ));
    }
    if path.extension().and_then(|e| e.to_str()) != Some("sh") {
        return Err(Error::invalid(
            vars::HOOK_JOB_STARTED,
            "the entrypoint can only chain a .sh hook (the runner itself accepts .sh and .ps1)",
        ));
    }
    Ok(path)
}

/// Names the entrypoint never passes on, whatever `RUNNER_ENV_PASSTHROUGH` says.
pub(crate) fn is_credential_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    upper == vars::JITCONFIG
        || upper == vars::TOKEN
        || upper == "HF_TOKEN"
        || upper == "HUGGING_FACE_HUB_TOKEN"
        || upper.starts_with(vars::RUNNER_INPUT_PREFIX)
}

fn parse_passthrough(text: &str) -> Result<Vec<String>, Error> {
    let mut names = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(Error::invalid(
                vars::ENV_PASSTHROUGH,
                format!("'{name}' is not a variable name"),
            ));
        }
        if is_credential_name(name) {
            return Err(Error::invalid(
                vars::ENV_PASSTHROUGH,
                format!("'{name}' is a credential and is never passed to the runner"),
            ));
        }
        names.push(name.to_owned());
    }
    Ok(names)
}

fn parse_duration(name: &str, text: &str) -> Result<Duration, Error> {
    durations::parse(text).map_err(|e| Error::invalid(name, e.to_string()))
}

/// `None`: unset. `Some(None)`: explicitly disabled with `0`. `Some(Some(d))`: a limit.
fn parse_optional_duration(
    name: &str,
    text: Option<&str>,
) -> Result<Option<Option<Duration>>, Error> {
    let Some(text) = text else { return Ok(None) };
    let duration = parse_duration(name, text)?;
    Ok(Some((!duration.is_zero()).then_some(duration)))
}

/// Gives the secret to code that must hand it to the runner.
pub(crate) fn expose(secret: &SecretString) -> &str {
    secret.expose_secret()
}
