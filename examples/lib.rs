//! Runnable examples live beside this file; run one with `cargo run -p ferry-examples --example NAME`.
//!
//! What an example does that a test should run too lives here, so CI runs every example against
//! the `testkit` fakes without the internet (`tests/examples.rs`):
//! - [`run_job`]: the steps of `run_job.rs` (start `echo hello`, follow its log, wait for the
//!   end), against any Hub; [`play_hub`] plays the Hub's part for it on a [`FakeHub`].
//! - `demo.rs` runs whole, against its own fakes.

use std::io::Write;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use hf_jobs::{HfClient, Job, JobSpec, LogOptions};
use testkit::FakeHub;

/// What the examples fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs `echo hello` as an HF Job, writes its log to `out` as it comes, then asks the Hub until
/// the job has finished (every `poll`, for at most 10 minutes) and returns it as it ended.
pub async fn run_job(
    client: &HfClient,
    poll: Duration,
    out: &mut dyn Write,
) -> Result<Job, BoxError> {
    let job = client
        .run_job(&JobSpec::new("ubuntu", ["echo", "hello"]).timeout("5m"))
        .await?;
    writeln!(
        out,
        "started {} ({})",
        job.name().unwrap_or(&job.id),
        job.url
    )?;

    let mut logs = client.job_logs(&job.id, LogOptions::follow());
    while let Some(line) = logs.try_next().await? {
        writeln!(out, "{}", line.text)?;
    }
    // The end of the log stream is not the end of the job: ask the Hub.
    let done = client
        .wait_for_job(&job.id, &[], poll, Some(Duration::from_secs(600)))
        .await?;
    writeln!(out, "finished with stage {}", done.status.stage)?;
    Ok(done)
}

/// Plays the Hub's part for [`run_job`] on a fake Hub: waits (up to 10 s) for the first job,
/// runs it, logs `lines` and completes it. Returns the job's id, or `None` if none came.
pub async fn play_hub(hub: &FakeHub, lines: &[&str]) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let id = loop {
        if let Some(id) = hub.with_state(|s| s.jobs.keys().next().cloned()) {
            break id;
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    hub.set_stage(&id, "RUNNING");
    hub.append_logs(&id, lines);
    hub.set_stage(&id, "COMPLETED");
    Some(id)
}
