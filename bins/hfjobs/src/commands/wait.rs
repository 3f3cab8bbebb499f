//! `wait`: block until jobs end; fails unless every one completed.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::bail;
use hf_jobs::{HfClient, Job, JobStage};

use super::{Hub, OK};
use crate::args;
use crate::auth::Credentials;
use crate::cli::WaitArgs;
use crate::output::Out;
use crate::render;

/// The jobs to wait for, all in one namespace, and for how long at most.
struct Plan {
    ids: Vec<String>,
    namespace: Option<String>,
    limit: Option<Duration>,
}

fn plan(a: &WaitArgs, hub: &Hub<'_>) -> anyhow::Result<Plan> {
    let mut ids = Vec::new();
    let mut namespaces = BTreeSet::new();
    for job_ref in &a.ids {
        let (id, ns) = hub.job_ref(job_ref)?;
        ids.push(id);
        namespaces.insert(ns);
    }
    if namespaces.len() > 1 {
        let names: Vec<String> = namespaces
            .iter()
            .map(|n| n.clone().unwrap_or_else(|| "None".into()))
            .collect();
        bail!(
            "All Job IDs must be in the same namespace, got: {}",
            names.join(", ")
        );
    }
    let namespace = namespaces.into_iter().next().flatten();
    let limit = a.timeout.as_deref().map(args::wait_limit).transpose()?;
    Ok(Plan {
        ids,
        namespace,
        limit,
    })
}

pub async fn wait(a: WaitArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let hub = Hub::new(credentials, &a.hub);
    let plan = plan(&a, &hub)?;
    let client = hub.client(plan.namespace.as_deref())?;
    let Some(jobs) = wait_all(&client, &plan).await? else {
        bail!(
            "Timed out after {} waiting for Job(s) to finish.",
            a.timeout.as_deref().unwrap_or_default()
        );
    };
    let (rows, items): (Vec<_>, Vec<_>) = jobs.iter().map(render::wait_row).unzip();
    out.table(&["id", "stage", "message"], &rows, &items, 0);
    let failed: Vec<String> = jobs
        .iter()
        .filter(|j| j.status.stage != JobStage::Completed)
        .map(|j| format!("{} ({})", j.id, j.status.stage))
        .collect();
    if !failed.is_empty() {
        bail!(
            "{} of {} Job(s) did not complete successfully: {}",
            failed.len(),
            jobs.len(),
            failed.join(", ")
        );
    }
    OK
}

/// Every job once ended, in order; `None` when the limit passed first.
async fn wait_all(client: &HfClient, plan: &Plan) -> anyhow::Result<Option<Vec<Job>>> {
    let deadline = plan.limit.map(|l| tokio::time::Instant::now() + l);
    let mut jobs = Vec::new();
    for id in &plan.ids {
        let remaining = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
        match client
            .wait_for_job(id, &[], Duration::from_secs(1), remaining)
            .await
        {
            Ok(job) => jobs.push(job),
            Err(hf_jobs::Error::Timeout(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Some(jobs))
}
