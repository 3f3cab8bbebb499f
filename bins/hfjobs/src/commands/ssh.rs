//! `ssh`: wait until a job started with `--ssh` runs, then open `ssh` into it.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use hf_jobs::{HfClient, Job, JobStage};

use super::{Hub, OK};
use crate::args;
use crate::auth::Credentials;
use crate::cli::SshArgs;
use crate::output::Out;

#[cfg(test)]
mod tests;

pub async fn ssh(a: SshArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    let job = running_with_ssh(&client, &out, &id).await?;
    let url = job.status.ssh_url.clone().unwrap_or_default();
    let command = ssh_command(&url, a.identity_file.as_deref())?;
    if a.dry_run {
        out.text(&args::shell_join(&command));
        return OK;
    }
    out.text(&format!("Running `{}`", args::shell_join(&command)));
    let status = std::process::Command::new(&command[0])
        .args(&command[1..])
        .status()
        .with_context(|| "cannot run `ssh`; is OpenSSH installed?")?;
    Ok(ExitCode::from(
        status.code().unwrap_or(1).clamp(0, 255) as u8
    ))
}

/// The job once it runs; an error if it has no SSH or ends first.
async fn running_with_ssh(client: &HfClient, out: &Out, id: &str) -> anyhow::Result<Job> {
    let job = client.inspect_job(id).await?;
    if job.status.ssh_url.is_none() {
        bail!(
            "SSH is not enabled on this job. Start a job with SSH support using `hfjobs run --ssh ...`."
        );
    }
    if job.status.stage.is_terminal() {
        bail!(
            "Cannot SSH into job '{}': job has already finished (stage: '{}').",
            job.id,
            job.status.stage
        );
    }
    if job.status.stage == JobStage::Running {
        return Ok(job);
    }
    out.log(&format!(
        "Waiting for job '{}' to be running (stage: '{}')...",
        job.id, job.status.stage
    ));
    let job = client
        .wait_for_job(id, &[JobStage::Running], Duration::from_secs(1), None)
        .await?;
    if job.status.stage != JobStage::Running {
        bail!(
            "Cannot SSH into job '{}': job finished before reaching RUNNING (stage: '{}').",
            job.id,
            job.status.stage
        );
    }
    Ok(job)
}

/// `ssh [-i FILE] [-p PORT] user@host` from `ssh://user@host[:port]`.
fn ssh_command(ssh_url: &str, identity_file: Option<&str>) -> anyhow::Result<Vec<String>> {
    let rest = ssh_url
        .strip_prefix("ssh://")
        .ok_or_else(|| anyhow!("unexpected SSH URL from the Hub: '{ssh_url}'"))?;
    let rest = rest.trim_end_matches('/');
    let (user, host_port) = rest
        .split_once('@')
        .ok_or_else(|| anyhow!("unexpected SSH URL from the Hub: '{ssh_url}'"))?;
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => (host, Some(port)),
        _ => (host_port, None),
    };
    let mut command = vec!["ssh".to_owned()];
    if let Some(file) = identity_file {
        command.extend(["-i".to_owned(), file.to_owned()]);
    }
    if let Some(port) = port {
        command.extend(["-p".to_owned(), port.to_owned()]);
    }
    command.push(format!("{user}@{}", host.to_ascii_lowercase()));
    Ok(command)
}
