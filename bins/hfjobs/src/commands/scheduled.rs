//! `scheduled ...`: create (`run`; `uv run` is in `uv`), list, inspect, delete, suspend,
//! resume, reschedule, trigger and label jobs that run on a schedule.

use std::process::ExitCode;

use anyhow::bail;
use hf_jobs::jobs::ScheduledJob;

use super::labels::{self, Change};
use super::run::prepare_image_job;
use super::spec::{job_spec, schedule_spec};
use super::summary::{Summary, common_summary, flavor, opt_bool, print_summary};
use super::{Hub, OK};
use crate::args;
use crate::auth::Credentials;
use crate::cli::{
    InspectArgs, JobArgs, LabelsArgs, RescheduleArgs, ScheduledCommand, ScheduledPsArgs,
    ScheduledRunArgs, ScheduledUvCommand,
};
use crate::output::Out;
use crate::render;
use crate::table::Cell;

pub async fn run(command: ScheduledCommand, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let c = credentials;
    match command {
        ScheduledCommand::Run(a) => scheduled_run(a, c).await,
        ScheduledCommand::Uv(ScheduledUvCommand::Run(a)) => super::uv::scheduled(a, c).await,
        ScheduledCommand::Ps(a) => ps(a, c).await,
        ScheduledCommand::Inspect(a) => inspect(a, c).await,
        ScheduledCommand::Delete(a) => delete(a, c).await,
        ScheduledCommand::Suspend(a) => suspend(a, c).await,
        ScheduledCommand::Resume(a) => resume(a, c).await,
        ScheduledCommand::Reschedule(a) => reschedule(a, c).await,
        ScheduledCommand::Trigger(a) => trigger(a, c).await,
        ScheduledCommand::Labels(a) => update_labels(a, c).await,
    }
}

async fn scheduled_run(a: ScheduledRunArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let hub = Hub::new(credentials, &a.hub);
    let (resolved, client) =
        prepare_image_job(&out, hub, &a.spec, None, &a.image, &a.command).await?;
    let mut summary: Summary = vec![
        ("schedule", a.schedule.clone()),
        ("suspend", opt_bool(a.schedule_flags.suspend())),
        ("concurrency", opt_bool(a.schedule_flags.concurrency())),
        ("image", a.image.clone()),
        ("command", args::shell_join(&a.command)),
        ("flavor", flavor(&a.spec)),
    ];
    summary.extend(common_summary(&a.spec, &resolved));
    summary.extend([
        (
            "resource_group_id",
            a.spec.resource_group_id.clone().unwrap_or_default(),
        ),
        ("namespace", a.hub.namespace.clone().unwrap_or_default()),
    ]);
    print_summary(&out, &summary, a.spec.dry_run);
    if a.spec.dry_run {
        return OK;
    }
    let job = job_spec(&a.image, &a.command, &a.spec, &resolved, None);
    let created = client
        .create_scheduled_job(&schedule_spec(&a.schedule, job, &a.schedule_flags))
        .await?;
    let explicit = args::has_explicit_name(a.spec.name.as_deref(), &a.spec.label);
    print_created(&out, &created, explicit);
    OK
}

/// `Scheduled Job created` with its id, name and hints.
pub fn print_created(out: &Out, job: &ScheduledJob, explicit_name: bool) {
    let name = job
        .job_spec
        .as_ref()
        .and_then(|s| s.labels.get("name").cloned());
    out.result(
        "Scheduled Job created",
        &[("id", Some(job.id.clone())), ("name", name.clone())],
    );
    let job_ref = format!("{}/{}", job.owner.name, job.id);
    if !explicit_name {
        out.hint(&format!(
            "Scheduled Job auto-named '{}'. Pass `--name` or run `hfjobs scheduled labels {job_ref} --name NAME` to rename it.",
            name.unwrap_or_default()
        ));
    }
    out.hint(&format!(
        "Use `hfjobs scheduled inspect {job_ref}` to view its details."
    ));
}

/// Which scheduled jobs `scheduled ps` shows, from the flags.
struct Query {
    all: bool,
    /// Lower-cased `active`/`suspended`.
    statuses: Vec<String>,
    labels: Vec<(String, String)>,
}

impl Query {
    fn from_args(a: &ScheduledPsArgs) -> anyhow::Result<Self> {
        if a.all && !a.status.is_empty() {
            bail!("`-a`/`--all` cannot be combined with `--status`.");
        }
        let statuses: Vec<String> = args::split_statuses(&a.status)
            .into_iter()
            .map(|s| s.to_lowercase())
            .collect();
        let unknown: Vec<&String> = statuses
            .iter()
            .filter(|s| *s != "active" && *s != "suspended")
            .collect();
        if !unknown.is_empty() {
            bail!(
                "Invalid status filter(s) {unknown:?}: expected one of [\"active\", \"suspended\"]."
            );
        }
        Ok(Self {
            all: a.all,
            statuses,
            labels: args::parse_label_filters(&a.label, a.name.as_deref())?,
        })
    }

    fn shows(&self, job: &ScheduledJob) -> bool {
        let wanted = |status: &str| self.statuses.iter().any(|s| s == status);
        match (self.statuses.is_empty(), job.suspend) {
            (true, suspended) => !suspended || self.all,
            (false, true) => wanted("suspended"),
            (false, false) => wanted("active"),
        }
    }
}

async fn ps(a: ScheduledPsArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let query = Query::from_args(&a)?;
    let client = Hub::new(credentials, &a.hub).client(None)?;
    let jobs = client.list_scheduled_jobs(&query.labels).await?;
    let shown: Vec<&ScheduledJob> = jobs.iter().filter(|j| query.shows(j)).collect();
    print_list(&out, &query, &shown);
    OK
}

fn print_list(out: &Out, query: &Query, jobs: &[&ScheduledJob]) {
    let (rows, items): (Vec<_>, Vec<_>) = jobs.iter().map(|j| render::scheduled_row(j)).unzip();
    out.table(&render::SCHEDULED_HEADERS, &rows, &items, 0);
    if rows.is_empty() {
        if !query.statuses.is_empty() || !query.labels.is_empty() {
            let filters: Vec<String> = query
                .statuses
                .iter()
                .map(|s| format!("status={s}"))
                .chain(query.labels.iter().map(|(k, v)| format!("label={k}={v}")))
                .collect();
            out.text(&format!(
                "No scheduled jobs matched filters: {}",
                filters.join(", ")
            ));
        } else if !query.all {
            out.hint("No active scheduled jobs. Use `-a`/`--all` to include suspended ones.");
        }
    } else if let Some(Cell::Text(first)) = rows.first().and_then(|r| r.first()) {
        out.hint(&format!(
            "Use `hfjobs scheduled inspect {first}` to view details about a scheduled job."
        ));
        out.hint(&format!(
            "Use `hfjobs scheduled trigger {first}` to trigger a scheduled job immediately."
        ));
    }
}

async fn inspect(a: InspectArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let hub = Hub::new(credentials, &a.hub);
    let mut jobs = Vec::new();
    for job_ref in &a.ids {
        let (client, id) = hub.client_for(job_ref)?;
        jobs.push(client.inspect_scheduled_job(&id).await?);
    }
    let items: Vec<_> = jobs.iter().map(render::scheduled_json).collect();
    let ids: Vec<String> = jobs.iter().map(|j| j.id.clone()).collect();
    out.objects(&items, &ids);
    OK
}

async fn delete(a: JobArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    client.delete_scheduled_job(&id).await?;
    out.result("Scheduled Job deleted", &[("id", Some(id))]);
    OK
}

async fn suspend(a: JobArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    client.suspend_scheduled_job(&id).await?;
    out.result("Scheduled Job suspended", &[("id", Some(id.clone()))]);
    out.hint(&format!("Use `hfjobs scheduled resume {id}` to resume it."));
    OK
}

async fn resume(a: JobArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    client.resume_scheduled_job(&id).await?;
    out.result("Scheduled Job resumed", &[("id", Some(id))]);
    OK
}

/// `POST /api/scheduled-jobs/{namespace}/{id}/schedule` with `{"schedule": ...}`, as
/// `hf jobs scheduled reschedule` sends it. The Hub checks the schedule (400 when invalid), as
/// it does for `hf jobs`: it is sent as typed.
async fn reschedule(a: RescheduleArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    let job = client
        .update_scheduled_job_schedule(&id, &a.schedule)
        .await?;
    out.result(
        "Scheduled Job rescheduled",
        &[("id", Some(job.id.clone())), ("schedule", job.schedule)],
    );
    out.hint(&format!(
        "Use `hfjobs scheduled inspect {}/{}` to see its next run.",
        job.owner.name, job.id
    ));
    OK
}

async fn trigger(a: JobArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    let job = client.trigger_scheduled_job(&id).await?;
    out.result(
        "Scheduled Job triggered",
        &[("id", Some(job.id.clone())), ("url", Some(job.url.clone()))],
    );
    out.hint(&format!(
        "Use `hfjobs logs -f {}/{}` to stream logs.",
        job.owner.name, job.id
    ));
    OK
}

async fn update_labels(a: LabelsArgs, credentials: &Credentials) -> anyhow::Result<ExitCode> {
    let out = Out::new(&a.output)?;
    labels::check(&a)?;
    let (client, id) = Hub::new(credentials, &a.hub).client_for(&a.id)?;
    let change = Change::from_args(&a)?;
    let labels = match change {
        Change::Rename(_) => {
            let current = client.inspect_scheduled_job(&id).await?;
            change.apply(current.job_spec.map(|s| s.labels).unwrap_or_default())
        }
        Change::Replace(_) => change.apply(Default::default()),
    };
    let job = client.update_scheduled_job_labels(&id, &labels).await?;
    labels::print_updated(&out, job.id, &labels);
    OK
}
