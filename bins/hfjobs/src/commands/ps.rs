//! `ps` (`ls`, `list`): jobs in a table, running and scheduling ones unless `-a` or
//! `--status`.

use std::process::ExitCode;

use anyhow::bail;
use futures_util::{StreamExt, TryStreamExt};
use hf_jobs::{HfClient, Job, JobFilter, JobStage};

use super::{Hub, OK};
use crate::args;
use crate::auth::Credentials;
use crate::cli::PsArgs;
use crate::output::Out;
use crate::render;

/// What to list, from the flags.
struct Query {
    all: bool,
    /// As typed (after splitting on commas), for the "no match" message.
    statuses: Vec<String>,
    labels: Vec<(String, String)>,
    /// 0: no limit.
    limit: usize,
}

impl Query {
    fn from_args(a: &PsArgs) -> anyhow::Result<Self> {
        if a.all && !a.status.is_empty() {
            bail!("`-a`/`--all` cannot be combined with `--status`.");
        }
        Ok(Self {
            all: a.all,
            statuses: args::split_statuses(&a.status),
            labels: args::parse_label_filters(&a.label, a.name.as_deref())?,
            limit: a.limit,
        })
    }

    fn filter(&self) -> JobFilter {
        let mut filter = JobFilter::new();
        if !self.statuses.is_empty() {
            filter.stages = self.statuses.iter().map(|s| JobStage::parse(s)).collect();
        } else if !self.all {
            filter.stages = vec![JobStage::Running, JobStage::Scheduling];
        }
        filter.labels = self.labels.clone();
        filter
    }
}

pub async fn ps(a: PsArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let query = Query::from_args(&a)?;
    let client = Hub::new(credentials, &a.hub).client(None)?;
    let (jobs, truncated) = list(&client, &query).await?;
    show(&out, &query, &jobs, truncated, client.endpoint());
    OK
}

/// The jobs, at most `limit` of them, and whether there were more.
async fn list(client: &HfClient, query: &Query) -> anyhow::Result<(Vec<Job>, bool)> {
    let stream = client.list_jobs(&query.filter());
    let mut jobs: Vec<Job> = if query.limit > 0 {
        stream.take(query.limit + 1).try_collect().await?
    } else {
        stream.try_collect().await?
    };
    let truncated = query.limit > 0 && jobs.len() > query.limit;
    if truncated {
        jobs.truncate(query.limit);
    }
    Ok((jobs, truncated))
}

fn show(out: &Out, query: &Query, jobs: &[Job], truncated: bool, endpoint: &str) {
    let (rows, items): (Vec<_>, Vec<_>) = jobs.iter().map(|j| render::ps_row(j, endpoint)).unzip();
    out.table(&render::PS_HEADERS, &rows, &items, 0);
    if truncated {
        out.hint(&format!(
            "Output truncated to {} Jobs. Use `--limit 0` to show all (or `--limit N`).",
            query.limit
        ));
    }
    if rows.is_empty() {
        if !query.statuses.is_empty() || !query.labels.is_empty() {
            let filters: Vec<String> = query
                .statuses
                .iter()
                .map(|s| format!("status={s}"))
                .chain(query.labels.iter().map(|(k, v)| format!("label={k}={v}")))
                .collect();
            out.text(&format!("No jobs matched filters: {}", filters.join(", ")));
        } else if !query.all {
            out.hint("No running jobs. Use `-a`/`--all` to include finished (and failed) jobs.");
        }
    }
}
