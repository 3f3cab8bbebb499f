//! What to run: [`JobSpec`] and [`ScheduleSpec`], turned into the exact JSON bodies
//! `huggingface_hub` 2.4.0 sends (`_create_job_spec`), and the default-name rules.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::volumes::Volume;

/// The flavor used when none is given.
pub const DEFAULT_FLAVOR: &str = "cpu-basic";

/// Image prefixes that name a Hugging Face Space instead of a Docker image.
pub const SPACE_IMAGE_PREFIXES: [&str; 4] = [
    "https://huggingface.co/spaces/",
    "https://hf.co/spaces/",
    "huggingface.co/spaces/",
    "hf.co/spaces/",
];

/// A job timeout as the caller wrote it: whole seconds, or text for the `durations` parser
/// (`"300"`, `"90m"`, `"1.5h"`, `"1d"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timeout {
    Seconds(u64),
    Text(String),
}

impl Timeout {
    /// The `timeoutSeconds` to send, or `None` to leave the Hub default (30 minutes). As in
    /// Python, `0` seconds and empty text mean "no timeout given".
    pub fn to_seconds(&self) -> Result<Option<u64>, Error> {
        match self {
            Timeout::Seconds(0) => Ok(None),
            Timeout::Seconds(seconds) => Ok(Some(*seconds)),
            Timeout::Text(text) if text.is_empty() => Ok(None),
            Timeout::Text(text) => durations::parse_seconds(text)
                .map(Some)
                .map_err(|e| Error::InvalidInput(format!("timeout: {e}"))),
        }
    }
}

impl From<u64> for Timeout {
    fn from(seconds: u64) -> Self {
        Timeout::Seconds(seconds)
    }
}

impl From<&str> for Timeout {
    fn from(text: &str) -> Self {
        Timeout::Text(text.to_owned())
    }
}

impl From<String> for Timeout {
    fn from(text: String) -> Self {
        Timeout::Text(text)
    }
}

/// Everything `run_job` can be told. Build with [`JobSpec::new`] and the chained setters;
/// unset fields are omitted from the request exactly where Python omits them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct JobSpec {
    /// A Docker image, or `hf.co/spaces/<owner>/<space>` (any of [`SPACE_IMAGE_PREFIXES`]).
    pub image: String,
    pub command: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, SecretString>,
    /// Default [`DEFAULT_FLAVOR`].
    pub flavor: Option<String>,
    pub timeout: Option<Timeout>,
    /// How many times the Hub may try the job (≥ 1).
    pub attempts: Option<u32>,
    /// Stored as the `name` label; defaults to [`default_job_name`].
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub volumes: Vec<Volume>,
    /// Ports exposed through the Jobs proxy (reachable with a token).
    pub expose: Vec<u16>,
    /// Ports exposed without authentication (they are exposed too).
    pub expose_public: Vec<u16>,
    pub ssh: bool,
    pub network_group: Option<String>,
    pub network_aliases: Vec<String>,
    pub resource_group_id: Option<String>,
}

impl JobSpec {
    pub fn new<I, S>(image: impl Into<String>, command: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            image: image.into(),
            command: command.into_iter().map(Into::into).collect(),
            ..Self::default()
        }
    }

    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    pub fn secret(mut self, key: impl Into<String>, value: SecretString) -> Self {
        self.secrets.insert(key.into(), value);
        self
    }

    pub fn flavor(mut self, flavor: impl Into<String>) -> Self {
        self.flavor = Some(flavor.into());
        self
    }

    pub fn timeout(mut self, timeout: impl Into<Timeout>) -> Self {
        self.timeout = Some(timeout.into());
        self
    }

    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = Some(attempts);
        self
    }

    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    pub fn volume(mut self, volume: Volume) -> Self {
        self.volumes.push(volume);
        self
    }

    pub fn expose(mut self, port: u16) -> Self {
        self.expose.push(port);
        self
    }

    pub fn expose_public(mut self, port: u16) -> Self {
        self.expose_public.push(port);
        self
    }

    pub fn ssh(mut self, enabled: bool) -> Self {
        self.ssh = enabled;
        self
    }

    pub fn network(mut self, group: impl Into<String>, aliases: Vec<String>) -> Self {
        self.network_group = Some(group.into());
        self.network_aliases = aliases;
        self
    }

    pub fn resource_group_id(mut self, id: impl Into<String>) -> Self {
        self.resource_group_id = Some(id.into());
        self
    }

    /// The name the job will get: the explicit name, the `name` label, or the library default.
    pub fn resolved_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.labels.get("name").cloned())
            .unwrap_or_else(|| default_job_name(&self.image, &self.command))
    }

    /// The `POST /api/jobs/{namespace}` body, as `run_job` builds it (default name included).
    pub fn to_body(&self) -> Result<Value, Error> {
        self.body(true)
    }

    /// Python's `_create_job_spec`; `with_ssh` is false for scheduled jobs, which never send it.
    fn body(&self, with_ssh: bool) -> Result<Value, Error> {
        if self.image.trim().is_empty() {
            return Err(Error::InvalidInput("image must not be empty".into()));
        }
        if !self.network_aliases.is_empty() && self.network_group.is_none() {
            return Err(Error::InvalidInput(
                "network aliases require a network group".into(),
            ));
        }
        if self.name.is_some() && self.labels.contains_key("name") {
            return Err(Error::InvalidInput(
                "`name` and the `name` key in `labels` cannot both be provided".into(),
            ));
        }
        if self.attempts == Some(0) {
            return Err(Error::InvalidInput("attempts must be at least 1".into()));
        }
        for volume in &self.volumes {
            volume.validate()?;
        }
        let mut labels = self.labels.clone();
        if !labels.contains_key("name") {
            labels.insert("name".into(), self.resolved_name());
        }

        let mut body = Map::new();
        body.insert("command".into(), json!(self.command));
        body.insert("arguments".into(), json!([]));
        body.insert("environment".into(), json!(self.env));
        body.insert(
            "flavor".into(),
            json!(self.flavor.as_deref().unwrap_or(DEFAULT_FLAVOR)),
        );
        if !self.secrets.is_empty() {
            let secrets: Map<String, Value> = self
                .secrets
                .iter()
                .map(|(k, v)| (k.clone(), json!(v.expose_secret())))
                .collect();
            body.insert("secrets".into(), Value::Object(secrets));
        }
        if let Some(seconds) = self
            .timeout
            .as_ref()
            .map(Timeout::to_seconds)
            .transpose()?
            .flatten()
        {
            body.insert("timeoutSeconds".into(), json!(seconds));
        }
        if let Some(attempts) = self.attempts {
            body.insert("attempts".into(), json!(attempts));
        }
        body.insert("labels".into(), json!(labels));
        if !self.volumes.is_empty() {
            body.insert("volumes".into(), json!(self.volumes));
        }
        if !self.expose.is_empty() || !self.expose_public.is_empty() {
            body.insert(
                "expose".into(),
                expose_payload(&self.expose, &self.expose_public),
            );
        }
        if with_ssh && self.ssh {
            body.insert("ssh".into(), json!({ "enabled": true }));
        }
        if let Some(group) = &self.network_group {
            let mut network = Map::new();
            network.insert("group".into(), json!(group));
            if !self.network_aliases.is_empty() {
                network.insert("aliases".into(), json!(self.network_aliases));
            }
            body.insert("network".into(), Value::Object(network));
        }
        if let Some(id) = self.resource_group_id.as_ref().filter(|id| !id.is_empty()) {
            body.insert("resourceGroupId".into(), json!(id));
        }
        match space_id(&self.image) {
            Some(space) => body.insert("spaceId".into(), json!(space)),
            None => body.insert("dockerImage".into(), json!(self.image)),
        };
        Ok(Value::Object(body))
    }
}

/// Python's `_build_expose_payload`: public ports are exposed too, as the Hub wants them in
/// both lists; duplicates are dropped, order kept.
pub(crate) fn expose_payload(expose: &[u16], expose_public: &[u16]) -> Value {
    let public = dedup(expose_public);
    let all = dedup(&[expose, public.as_slice()].concat());
    json!({ "ports": all, "portsPublic": public })
}

fn dedup(ports: &[u16]) -> Vec<u16> {
    let mut seen = Vec::with_capacity(ports.len());
    for port in ports {
        if !seen.contains(port) {
            seen.push(*port);
        }
    }
    seen
}

/// The Space id (`owner/space`) when `image` names a Space.
pub fn space_id(image: &str) -> Option<&str> {
    SPACE_IMAGE_PREFIXES
        .iter()
        .find_map(|prefix| image.strip_prefix(prefix))
}

/// A job template plus its schedule, for `create_scheduled_job`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScheduleSpec {
    pub job: JobSpec,
    /// `@annually`, `@yearly`, `@monthly`, `@weekly`, `@daily`, `@hourly` or a cron expression.
    pub schedule: String,
    /// Create the scheduled job suspended; unset leaves the Hub default (false).
    pub suspend: Option<bool>,
    /// Allow a run to start while the previous one still runs; unset leaves the Hub default (false).
    pub concurrency: Option<bool>,
}

impl ScheduleSpec {
    pub fn new(schedule: impl Into<String>, job: JobSpec) -> Self {
        Self {
            job,
            schedule: schedule.into(),
            suspend: None,
            concurrency: None,
        }
    }

    pub fn suspend(mut self, suspend: bool) -> Self {
        self.suspend = Some(suspend);
        self
    }

    pub fn concurrency(mut self, concurrency: bool) -> Self {
        self.concurrency = Some(concurrency);
        self
    }

    /// The `POST /api/scheduled-jobs/{namespace}` body: `jobSpec` (never with `ssh`), `schedule`,
    /// and `suspend`/`concurrency` only when set.
    pub fn to_body(&self) -> Result<Value, Error> {
        if self.schedule.trim().is_empty() {
            return Err(Error::InvalidInput("schedule must not be empty".into()));
        }
        let mut body = Map::new();
        body.insert("jobSpec".into(), self.job.body(false)?);
        body.insert("schedule".into(), json!(self.schedule));
        if let Some(concurrency) = self.concurrency {
            body.insert("concurrency".into(), json!(concurrency));
        }
        if let Some(suspend) = self.suspend {
            body.insert("suspend".into(), json!(suspend));
        }
        Ok(Value::Object(body))
    }
}

/// Replaces every character outside `[a-zA-Z0-9_-]` with `-`, as Python's `_sanitize_job_name`.
pub fn sanitize_job_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// First 8 hex digits of `sha256("\0".join(parts))`.
fn short_hash<S: AsRef<str>>(parts: &[S]) -> String {
    let mut hasher = Sha256::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update([0u8]);
        }
        hasher.update(part.as_ref().as_bytes());
    }
    hex::encode(hasher.finalize())[..8].to_owned()
}

fn image_base(image: &str) -> String {
    match space_id(image) {
        Some(space) => sanitize_job_name(if space.is_empty() { image } else { space }),
        None => {
            let last = image.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            sanitize_job_name(if last.is_empty() { image } else { last })
        }
    }
}

fn script_base(script: &str) -> String {
    let name = script.split('?').next().unwrap_or("");
    let name = name.split('#').next().unwrap_or("");
    let name = name.trim_end_matches('/').rsplit('/').next().unwrap_or("");
    let name = name.strip_suffix(".py").unwrap_or(name);
    sanitize_job_name(if name.is_empty() { script } else { name })
}

/// The library's default job name (`run_job`, `create_scheduled_job`): the image's last path
/// segment (or the Space id) sanitised, plus 8 hex of the hash of image and command.
/// `python:3.12` + `python -c "print('hello')"` → `python-3-12-eb94fa4f`.
pub fn default_job_name(image: &str, command: &[String]) -> String {
    let parts: Vec<&str> = std::iter::once(image)
        .chain(command.iter().map(String::as_str))
        .collect();
    format!("{}-{}", image_base(image), short_hash(&parts))
}

/// The library's default name of a `uv run` job: the script's file name without `.py`, plus
/// 8 hex of the hash of script and arguments. `train.py --epochs 3` → `train-2f161011`.
pub fn default_uv_job_name(script: &str, script_args: &[String]) -> String {
    let parts: Vec<&str> = std::iter::once(script)
        .chain(script_args.iter().map(String::as_str))
        .collect();
    format!("{}-{}", script_base(script), short_hash(&parts))
}

/// The launch configuration the `hf jobs` 2.4.0 CLI hashes into a default name, on top of the
/// image (or script) and command. Values are as the user typed them.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct CliNameParts {
    pub flavor: Option<String>,
    /// `--timeout` as typed (`"90m"`), not converted.
    pub timeout: Option<String>,
    pub namespace: Option<String>,
    pub network_group: Option<String>,
    /// `run`: `[attempts]` when given. `uv run`: `[image or the default uv image, python or "",
    /// *with deps, attempts when given]`.
    pub extra: Vec<String>,
    /// The merged environment; hashed as sorted `KEY=VALUE`.
    pub env: BTreeMap<String, String>,
    /// Secret names only; values never enter the hash.
    pub secret_names: Vec<String>,
    /// `-v` specs as typed.
    pub volume_specs: Vec<String>,
    pub network_aliases: Vec<String>,
}

impl CliNameParts {
    /// Python's `_name_hash_parts`.
    pub fn to_parts(&self) -> Vec<String> {
        let mut parts = vec![
            self.flavor
                .clone()
                .unwrap_or_else(|| DEFAULT_FLAVOR.to_owned()),
            self.timeout.clone().unwrap_or_default(),
            self.namespace.clone().unwrap_or_default(),
            self.network_group.clone().unwrap_or_default(),
        ];
        parts.extend(self.extra.iter().cloned());
        // BTreeMap iterates in byte order, which is Python's code-point order for UTF-8.
        parts.extend(self.env.iter().map(|(k, v)| format!("{k}={v}")));
        let mut secrets = self.secret_names.clone();
        secrets.sort();
        parts.extend(secrets);
        parts.extend(self.volume_specs.iter().cloned());
        parts.extend(self.network_aliases.iter().cloned());
        parts
    }
}

/// The `hf jobs run` (2.4.0) default name: like [`default_job_name`] but the hash also covers
/// the launch configuration. `ubuntu` + `echo hello`, nothing else → `ubuntu-097c48ca`.
pub fn cli_default_job_name(image: &str, command: &[String], config: &CliNameParts) -> String {
    let mut parts: Vec<String> = vec![image.to_owned()];
    parts.extend(command.iter().cloned());
    parts.extend(config.to_parts());
    format!("{}-{}", image_base(image), short_hash(&parts))
}

/// The `hf jobs uv run` (2.4.0) default name, from the script as typed (a URL stays a URL).
pub fn cli_default_uv_job_name(
    script: &str,
    script_args: &[String],
    config: &CliNameParts,
) -> String {
    let mut parts: Vec<String> = vec![script.to_owned()];
    parts.extend(script_args.iter().cloned());
    parts.extend(config.to_parts());
    format!("{}-{}", script_base(script), short_hash(&parts))
}
