//! `stats`: CPU, memory, network and GPU use of running jobs: one sample each, or with `-f` a
//! table redrawn in place as samples arrive.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::bail;
use futures_util::{StreamExt, TryStreamExt};
use hf_jobs::jobs::{Metrics, MetricsOptions};
use hf_jobs::{HfClient, Job, JobFilter};

use super::{Hub, OK};
use crate::auth::Credentials;
use crate::cli::StatsArgs;
use crate::output::{self, Mode, Out};
use crate::redraw::LiveRegion;
use crate::render;
use crate::table::{self, Cell};

pub async fn stats(a: StatsArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    if a.follow && !out.human() {
        bail!(
            "`--follow` displays a live terminal view and is not supported with this output format. Run without `--follow` to get a snapshot."
        );
    }
    let hub = Hub::new(credentials, &a.hub);
    let mut namespace = hub.namespace.map(str::to_owned);
    let mut ids = Vec::new();
    for job_ref in &a.ids {
        let (id, ns) = crate::args::parse_job_ref(job_ref, namespace.as_deref())?;
        namespace = ns;
        ids.push(id);
    }
    let client = hub.client(namespace.as_deref())?;
    let namespace = client.namespace().await?;
    if ids.is_empty() {
        ids = running_jobs(&client).await?;
    }
    if ids.is_empty() {
        out.no_results();
        out.hint("No running jobs. Use `hfjobs ps -a` to list finished (and failed) jobs.");
        return OK;
    }
    if a.follow {
        return follow(&client, &ids, &namespace).await;
    }
    let samples = first_samples(&client, &ids).await;
    let mut shown = Vec::new();
    for (id, sample) in ids.iter().zip(samples) {
        match sample? {
            Some(metrics) => shown.push((id.as_str(), metrics)),
            None => out.warning(&format!("No stats available for Job {id}. Is it running?")),
        }
    }
    print_snapshot(&out, &shown, &namespace);
    OK
}

/// Ids of the jobs running (or updating) now.
async fn running_jobs(client: &HfClient) -> anyhow::Result<Vec<String>> {
    let jobs: Vec<Job> = client.list_jobs(&JobFilter::new()).try_collect().await?;
    Ok(jobs
        .into_iter()
        .filter(|j| matches!(j.status.stage.as_str(), "RUNNING" | "UPDATING"))
        .map(|j| j.id)
        .collect())
}

/// The first sample of each job, fetched together.
async fn first_samples(
    client: &HfClient,
    ids: &[String],
) -> Vec<Result<Option<Metrics>, hf_jobs::Error>> {
    futures_util::future::join_all(ids.iter().map(|id| {
        let client = client.clone();
        async move {
            let mut stream = client.job_metrics(id, MetricsOptions::once());
            stream.next().await.transpose()
        }
    }))
    .await
}

fn print_snapshot(out: &Out, samples: &[(&str, Metrics)], namespace: &str) {
    if out.human() && !samples.is_empty() {
        let rows: Vec<Vec<Cell>> = samples
            .iter()
            .flat_map(|(id, m)| render::stats_rows(id, m))
            .collect();
        output::println_flush(&stats_table(&rows));
        let refs: Vec<String> = samples
            .iter()
            .map(|(id, _)| format!("{namespace}/{id}"))
            .collect();
        out.hint(&format!(
            "Use `hfjobs stats -f {}` to follow live stats.",
            refs.join(" ")
        ));
        return;
    }
    let items: Vec<_> = samples
        .iter()
        .map(|(id, m)| render::stats_json(id, m))
        .collect();
    match out.mode {
        Mode::Json => out.json(&items),
        _ => {
            let rows: Vec<Vec<Cell>> = items.iter().map(|i| vec![Cell::text(i.job_id)]).collect();
            out.table(&["job_id"], &rows, &items, 0);
        }
    }
}

/// The stats table as `hf jobs stats` lays it out (never shortened).
fn stats_table(rows: &[Vec<Cell>]) -> String {
    let headers: Vec<String> = render::STATS_HEADERS
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
    let shown: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(Cell::human).collect())
        .collect();
    table::tabulate(&headers, &shown, &[false; 9])
}

/// The row of a job without a sample yet.
fn waiting_row(id: &str) -> Vec<Cell> {
    let mut row = vec![Cell::text(id)];
    row.extend(render::STATS_HEADERS[1..].iter().map(|h| {
        Cell::text(if h.contains('/') || h.contains("USAGE") {
            "-- / --"
        } else {
            "--"
        })
    }));
    row
}

/// Live view: redraws the table as samples arrive (at most every 100 ms), until every stream
/// ends.
async fn follow(client: &HfClient, ids: &[String], namespace: &str) -> anyhow::Result<ExitCode> {
    let streams = ids.iter().map(|id| {
        let id = id.clone();
        client
            .job_metrics(&id, MetricsOptions::follow())
            .map(move |sample| (id.clone(), sample))
    });
    let mut merged = futures_util::stream::select_all(streams);
    let mut latest: BTreeMap<String, Vec<Vec<Cell>>> = ids
        .iter()
        .map(|id| (id.clone(), vec![waiting_row(id)]))
        .collect();
    let all = |latest: &BTreeMap<String, Vec<Vec<Cell>>>| {
        latest.values().flatten().cloned().collect::<Vec<_>>()
    };
    let mut view = LiveRegion::new(std::io::stdout());
    view.draw(&stats_table(&all(&latest)), output::terminal_columns());
    let mut last_draw = Instant::now();
    while let Some((id, sample)) = merged.next().await {
        latest.insert(id.clone(), render::stats_rows(&id, &sample?));
        if last_draw.elapsed() >= Duration::from_millis(100) {
            view.draw(&stats_table(&all(&latest)), output::terminal_columns());
            last_draw = Instant::now();
        }
    }
    let refs: Vec<String> = ids.iter().map(|id| format!("{namespace}/{id}")).collect();
    output::eprintln_flush(&format!(
        "Hint: Stream ended. Run `hfjobs inspect {}` to check the final status (e.g. COMPLETED or ERROR).",
        refs.join(" ")
    ));
    OK
}
