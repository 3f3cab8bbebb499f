//! After a job is created (`run`, `uv run`, `rerun`): say so with hints, and unless detached
//! follow it: a status line while it is scheduled, its logs while it runs, then its final
//! stage, which sets the exit code.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::StreamExt;
use hf_jobs::jobs::LogOptions;
use hf_jobs::{HfClient, Job, JobStage};

use super::OK;
use crate::output::{self, Out};
use crate::redraw::LiveRegion;
use crate::table::format_duration;

pub async fn started(
    out: &Out,
    client: &HfClient,
    job: Job,
    explicit_name: bool,
    detach: bool,
) -> anyhow::Result<ExitCode> {
    print_started(out, &job, explicit_name, detach);
    if detach {
        return OK;
    }
    let client = client.with_namespace(&job.owner.name)?;
    follow_to_end(out, &client, job).await
}

/// `Job started` with its id, name and URL, and what to do next.
fn print_started(out: &Out, job: &Job, explicit_name: bool, detach: bool) {
    let job_ref = format!("{}/{}", job.owner.name, job.id);
    out.result(
        "Job started",
        &[
            ("id", Some(job.id.clone())),
            ("name", job.name().map(str::to_owned)),
            ("url", Some(job.url.clone())),
        ],
    );
    if !explicit_name {
        out.hint(&format!(
            "Job auto-named '{}'. Pass `--name` or run `hfjobs labels {job_ref} --name NAME` to rename it.",
            job.name().unwrap_or_default()
        ));
    }
    if !job.status.expose_urls.is_empty() {
        let urls: Vec<String> = job
            .status
            .expose_urls
            .iter()
            .map(|u| format!("  {u}"))
            .collect();
        out.hint(&format!(
            "Exposed ports are reachable at:\n{}",
            urls.join("\n")
        ));
    }
    if job.status.ssh_url.is_some() {
        out.hint(&format!(
            "Use `hfjobs ssh {job_ref}` to open an SSH session into the job."
        ));
    }
    if detach {
        out.hint(&format!(
            "Use `hfjobs logs -f {job_ref}` to stream logs, or `hfjobs inspect {job_ref}` to check status."
        ));
        out.hint(&format!(
            "Use `hfjobs wait {job_ref}` to block until it finishes."
        ));
    }
}

/// Waits while the job is scheduling, streams its logs, then settles the final stage: exits
/// non-zero unless it completed.
async fn follow_to_end(out: &Out, client: &HfClient, job: Job) -> anyhow::Result<ExitCode> {
    let mut stage = job.status.stage.clone();
    let mut message = job.status.message.clone();
    // A live status line on a terminal only.
    let mut status_line = (out.human() && std::io::stderr().is_terminal())
        .then(|| LiveRegion::new(std::io::stderr()));
    let started = Instant::now();
    while stage == JobStage::Scheduling {
        if let Some(line) = status_line.as_mut() {
            let text = message.as_deref().unwrap_or("Scheduling");
            let elapsed = format_duration(Some(started.elapsed().as_secs_f64()));
            line.draw(&format!("{text} ({elapsed})"), output::stderr_columns());
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        let current = client.inspect_job(&job.id).await?;
        stage = current.status.stage;
        message = current.status.message;
    }
    if let Some(line) = status_line.as_mut() {
        line.clear();
    }
    let mut lines = client.job_logs(&job.id, LogOptions::follow());
    while let Some(line) = lines.next().await {
        out.text(&line?.text);
    }
    let last = client
        .wait_for_job(&job.id, &[], Duration::from_secs(1), None)
        .await?;
    if last.status.stage != JobStage::Completed {
        let message = last
            .status
            .message
            .as_deref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default();
        bail!(
            "Job {} finished with stage '{}'{message}",
            last.id,
            last.status.stage
        );
    }
    out.text(&format!("Job {} completed", last.id));
    OK
}
