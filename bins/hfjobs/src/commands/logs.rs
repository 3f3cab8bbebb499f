//! `logs`: what a job printed; `-f` follows it until the job ends.

use std::process::ExitCode;

use futures_util::StreamExt;
use hf_jobs::jobs::LogOptions;

use super::{Hub, OK};
use crate::auth::Credentials;
use crate::cli::LogsArgs;
use crate::output::Out;

pub async fn logs(a: LogsArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let hub = Hub::new(credentials, &a.hub);
    let (id, namespace) = hub.job_ref(&a.id)?;
    let client = hub.client(namespace.as_deref())?;
    let mut options = if a.follow {
        LogOptions::follow()
    } else {
        LogOptions::once()
    };
    if let Some(tail) = a.tail {
        options = options.tail(tail);
    }
    let mut lines = client.job_logs(&id, options);
    while let Some(line) = lines.next().await {
        out.text(&line?.text);
    }
    let job_ref = match namespace {
        Some(ns) => format!("{ns}/{id}"),
        None => id,
    };
    if a.follow {
        out.hint(&format!(
            "Stream ended. Run `hfjobs inspect {job_ref}` to check the final status (e.g. COMPLETED or ERROR)."
        ));
    } else {
        out.hint(&format!(
            "If the job is still running, use `hfjobs logs -f {job_ref}` to stream new logs until it completes."
        ));
    }
    OK
}
