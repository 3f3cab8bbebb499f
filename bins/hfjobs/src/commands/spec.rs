//! The options of the create commands (`run`, `uv run` and their scheduled forms) resolved as
//! `hf jobs` resolves them: env and secrets files, labels and the default name, `-v` specs, and
//! the `JobSpec` sent. No requests here.

use std::collections::BTreeMap;
use std::io::Read;

use anyhow::Context;
use hf_jobs::jobs::{CliNameParts, Timeout, cli_default_job_name};
use hf_jobs::{JobSpec, JobVolumeSpec, ScheduleSpec, SecretString, Volume};

use super::extended_environ;
use crate::args;
use crate::cli::{LaunchArgs, ScheduleFlags, SpecArgs};

/// Environment, secrets and labels of a create command, resolved as `hf jobs` does; the
/// volumes once `-v` is resolved (local directories synced).
pub struct Resolved {
    pub env: BTreeMap<String, String>,
    pub secrets: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub volumes: Vec<Volume>,
}

fn read_env_file(path: &str) -> anyhow::Result<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read the environment from stdin")?;
        return Ok(text);
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read '{path}'"))?;
    Ok(text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text))
}

pub fn resolve_spec(spec: &SpecArgs) -> anyhow::Result<Resolved> {
    let env_file = spec.env_file.as_deref().map(read_env_file).transpose()?;
    let secrets_file = spec
        .secrets_file
        .as_deref()
        .map(read_env_file)
        .transpose()?;
    let env = args::parse_env_map(&spec.env, env_file.as_deref(), &extended_environ);
    let secrets =
        args::parse_secrets_map(&spec.secrets, secrets_file.as_deref(), &extended_environ)?;
    let labels = args::parse_labels(&spec.label, spec.name.as_deref())?;
    if let Some(timeout) = &spec.timeout {
        args::timeout_seconds(timeout)?;
    }
    Ok(Resolved {
        env,
        secrets,
        labels,
        volumes: Vec::new(),
    })
}

/// `run` and `scheduled run`: the resolved options, with the CLI's default name when the job
/// has none.
pub fn resolve_image_job(
    spec: &SpecArgs,
    namespace: Option<&str>,
    launch: Option<&LaunchArgs>,
    image: &str,
    command: &[String],
) -> anyhow::Result<Resolved> {
    let mut resolved = resolve_spec(spec)?;
    if !resolved.labels.contains_key("name") {
        let extra = spec
            .attempts
            .map(|n| vec![n.to_string()])
            .unwrap_or_default();
        let parts = name_parts(spec, &resolved, namespace, launch, extra);
        resolved
            .labels
            .insert("name".into(), cli_default_job_name(image, command, &parts));
    }
    Ok(resolved)
}

pub fn parse_volume_specs(specs: &[String]) -> anyhow::Result<Vec<JobVolumeSpec>> {
    Ok(specs
        .iter()
        .map(|spec| hf_jobs::parse_job_volume_spec(spec))
        .collect::<Result<_, _>>()?)
}

/// What the CLI's default name hashes besides the image (or script) and command.
pub fn name_parts(
    spec: &SpecArgs,
    resolved: &Resolved,
    namespace: Option<&str>,
    launch: Option<&LaunchArgs>,
    extra: Vec<String>,
) -> CliNameParts {
    let mut parts = CliNameParts::default();
    parts.flavor = spec.flavor.clone();
    parts.timeout = spec.timeout.clone();
    parts.namespace = namespace.map(str::to_owned);
    parts.network_group = launch.and_then(|l| l.network_group.clone());
    parts.extra = extra;
    parts.env = resolved.env.clone();
    parts.secret_names = resolved.secrets.keys().cloned().collect();
    parts.volume_specs = spec.volume.clone();
    parts.network_aliases = launch.map(|l| l.network_alias.clone()).unwrap_or_default();
    parts
}

/// The `JobSpec` of `run`/`scheduled run` (and of `uv run`, with its own command).
pub fn job_spec(
    image: &str,
    command: &[String],
    spec: &SpecArgs,
    resolved: &Resolved,
    launch: Option<&LaunchArgs>,
) -> JobSpec {
    let mut job = JobSpec::new(image, command.iter().cloned());
    job.env = resolved.env.clone();
    job.secrets = resolved
        .secrets
        .iter()
        .map(|(k, v)| (k.clone(), SecretString::from(v.clone())))
        .collect();
    job.flavor = spec.flavor.clone();
    job.timeout = spec.timeout.clone().map(Timeout::Text);
    job.attempts = spec.attempts;
    job.labels = resolved.labels.clone();
    job.volumes = resolved.volumes.clone();
    job.expose = spec.expose.clone();
    job.expose_public = spec.expose_public.clone();
    job.resource_group_id = spec.resource_group_id.clone();
    if let Some(launch) = launch {
        job.ssh = launch.ssh;
        job.network_group = launch.network_group.clone();
        job.network_aliases = launch.network_alias.clone();
    }
    job
}

/// The body of `scheduled run`: the job, the schedule and the three-state flags.
pub fn schedule_spec(schedule: &str, job: JobSpec, flags: &ScheduleFlags) -> ScheduleSpec {
    let mut spec = ScheduleSpec::new(schedule, job);
    spec.suspend = flags.suspend();
    spec.concurrency = flags.concurrency();
    spec
}
