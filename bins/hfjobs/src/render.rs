//! Jobs, scheduled jobs, hardware and metrics as table rows and as the JSON `hf jobs` prints
//! (snake_case keys, absent values left out, times in ISO 8601 with `+00:00`). The JSON comes
//! from the `Serialize` views below, one per shape; `output` prints them.

use std::collections::BTreeMap;

use hf_jobs::jobs::{Hardware, Metrics, ScheduledJob, ScheduledJobSpec};
use hf_jobs::{Job, Volume};
use jiff::Timestamp;
use serde::Serialize;

use crate::table::{Cell, format_duration, format_size};

#[cfg(test)]
mod tests;

pub const PS_HEADERS: [&str; 7] = [
    "job_id",
    "name",
    "image/space",
    "command",
    "created",
    "status",
    "runtime",
];
pub const SCHEDULED_HEADERS: [&str; 8] = [
    "id",
    "name",
    "schedule",
    "image/space",
    "command",
    "last_run",
    "next_run",
    "suspend",
];
pub const HARDWARE_HEADERS: [&str; 8] = [
    "name",
    "pretty name",
    "cpu",
    "ram",
    "storage",
    "accelerator",
    "cost/min",
    "cost/hour",
];
pub const STATS_HEADERS: [&str; 9] = [
    "JOB ID",
    "CPU %",
    "NUM CPU",
    "MEM %",
    "MEM USAGE",
    "NET I/O",
    "GPU UTIL %",
    "GPU MEM %",
    "GPU MEM USAGE",
];

/// Python's `datetime.isoformat()` of a UTC time: microseconds only when non-zero.
pub fn iso(at: &Timestamp) -> String {
    let micros = at.subsec_microsecond();
    if micros == 0 && at.subsec_nanosecond() == 0 {
        at.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        format!("{}.{:06}+00:00", at.strftime("%Y-%m-%dT%H:%M:%S"), micros)
    }
}

/// A view as the JSON value printed: objects with their keys sorted, as `hfjobs` prints them.
pub fn to_json<T: Serialize + ?Sized>(view: &T) -> serde_json::Value {
    // Views hold strings, numbers, booleans and string-keyed maps: nothing that fails.
    serde_json::to_value(view).unwrap_or_default()
}

/// `2026-01-15 10:30:00`, or `N/A`.
fn day_and_time(at: Option<&Timestamp>) -> String {
    at.map_or_else(|| "N/A".into(), |at| iso(at)[..19].replace('T', " "))
}

fn iso_opt(at: Option<&Timestamp>) -> Option<String> {
    at.map(iso)
}

#[derive(Debug, Serialize)]
pub struct VolumeView<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    source: &'a str,
    mount_path: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
}

/// The volumes, or nothing (no key) when there are none.
fn volumes(volumes: &[Volume]) -> Option<Vec<VolumeView<'_>>> {
    (!volumes.is_empty()).then(|| {
        volumes
            .iter()
            .map(|v| VolumeView {
                kind: v.kind.as_str(),
                source: &v.source,
                mount_path: &v.mount_path,
                revision: v.revision.as_deref(),
                read_only: v.read_only,
                path: v.path.as_deref(),
            })
            .collect()
    })
}

#[derive(Debug, Serialize)]
pub struct OwnerView<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
}

impl<'a> OwnerView<'a> {
    fn of(owner: &'a hf_jobs::jobs::Owner) -> Self {
        Self {
            id: &owner.id,
            name: &owner.name,
            kind: &owner.kind,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct JobStatusView<'a> {
    stage: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cancel_reason: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    expose_urls: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    ssh_url: Option<&'a str>,
}

#[derive(Debug, Serialize)]
pub struct DurationsView {
    #[serde(skip_serializing_if = "Option::is_none")]
    scheduling_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    running_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_secs: Option<f64>,
}

/// What `inspect` and `ps` show alike of a job.
#[derive(Debug, Serialize)]
pub struct JobFields<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    finished_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    docker_image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    space_id: Option<&'a str>,
    arguments: &'a [String],
    environment: &'a BTreeMap<String, String>,
    secrets: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    flavor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempts: Option<u64>,
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volumes: Option<Vec<VolumeView<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    durations: Option<DurationsView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_group_id: Option<&'a str>,
    owner: OwnerView<'a>,
    endpoint: &'a str,
    url: &'a str,
}

impl<'a> JobFields<'a> {
    fn of(job: &'a Job, endpoint: &'a str) -> Self {
        Self {
            id: &job.id,
            created_at: iso_opt(job.created_at.as_ref()),
            started_at: iso_opt(job.started_at.as_ref()),
            finished_at: iso_opt(job.finished_at.as_ref()),
            docker_image: job.docker_image.as_deref(),
            space_id: job.space_id.as_deref(),
            arguments: &job.arguments,
            environment: &job.environment,
            secrets: &job.secrets,
            flavor: job.flavor.as_deref(),
            timeout: job.timeout_seconds,
            attempts: job.attempts,
            labels: &job.labels,
            volumes: volumes(&job.volumes),
            durations: job.durations.map(|d| DurationsView {
                scheduling_secs: d.scheduling_secs,
                running_secs: d.running_secs,
                total_secs: d.total_secs,
            }),
            resource_group_id: job.resource_group_id.as_deref(),
            owner: OwnerView::of(&job.owner),
            endpoint,
            url: &job.url,
        }
    }
}

/// A job as `hf jobs inspect --json` shows it.
#[derive(Debug, Serialize)]
pub struct JobView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(flatten)]
    fields: JobFields<'a>,
    command: &'a [String],
    status: JobStatusView<'a>,
}

pub fn job_json<'a>(job: &'a Job, endpoint: &'a str) -> JobView<'a> {
    JobView {
        name: job.name(),
        fields: JobFields::of(job, endpoint),
        command: &job.command,
        status: JobStatusView {
            stage: job.status.stage.as_str(),
            message: job.status.message.as_deref(),
            cancel_reason: job.status.cancel_reason.as_deref(),
            expose_urls: &job.status.expose_urls,
            ssh_url: job.status.ssh_url.as_deref(),
        },
    }
}

/// `IMAGE/SPACE` of a job: the Docker image, else the Space id.
fn image_or_space(docker_image: Option<&String>, space_id: Option<&String>) -> String {
    docker_image
        .or(space_id)
        .cloned()
        .unwrap_or_else(|| "N/A".into())
}

fn command_text(command: &[String]) -> String {
    if command.is_empty() {
        "N/A".into()
    } else {
        command.join(" ")
    }
}

/// A `ps --json` item: the job, with the table's columns as they are shown (the command as one
/// string, the stage as the status).
#[derive(Debug, Serialize)]
pub struct PsItem<'a> {
    #[serde(flatten)]
    fields: JobFields<'a>,
    job_id: &'a str,
    name: String,
    #[serde(rename = "image/space")]
    image: String,
    command: String,
    created: String,
    status: &'a str,
    runtime: String,
}

/// A `ps` row and its JSON item.
pub fn ps_row<'a>(job: &'a Job, endpoint: &'a str) -> (Vec<Cell>, PsItem<'a>) {
    let item = PsItem {
        fields: JobFields::of(job, endpoint),
        job_id: &job.id,
        name: job.name().unwrap_or("N/A").to_owned(),
        image: image_or_space(job.docker_image.as_ref(), job.space_id.as_ref()),
        command: command_text(&job.command),
        created: day_and_time(job.created_at.as_ref()),
        status: job.status.stage.as_str(),
        runtime: format_duration(job.durations.and_then(|d| d.running_secs)),
    };
    let row = vec![
        Cell::text(&job.id),
        Cell::text(&item.name),
        Cell::text(&item.image),
        Cell::text(&item.command),
        Cell::text(&item.created),
        Cell::text(item.status),
        Cell::text(&item.runtime),
    ];
    (row, item)
}

#[derive(Debug, Serialize)]
pub struct ScheduledSpecView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    docker_image: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    space_id: Option<&'a str>,
    command: &'a [String],
    arguments: &'a [String],
    environment: &'a BTreeMap<String, String>,
    secrets: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    flavor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u64>,
    labels: &'a BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    volumes: Option<Vec<VolumeView<'a>>>,
}

impl<'a> ScheduledSpecView<'a> {
    fn of(spec: &'a ScheduledJobSpec) -> Self {
        Self {
            docker_image: spec.docker_image.as_deref(),
            space_id: spec.space_id.as_deref(),
            command: &spec.command,
            arguments: &spec.arguments,
            environment: &spec.environment,
            secrets: &spec.secrets,
            flavor: spec.flavor.as_deref(),
            timeout: spec.timeout_seconds,
            labels: &spec.labels,
            volumes: volumes(&spec.volumes),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct LastJobView<'a> {
    id: &'a str,
    at: String,
}

#[derive(Debug, Serialize)]
pub struct ScheduledStatusView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    last_job: Option<LastJobView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_job_run_at: Option<String>,
}

/// What `scheduled inspect` and `scheduled ps` show alike of a scheduled job.
#[derive(Debug, Serialize)]
pub struct ScheduledFields<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    job_spec: Option<ScheduledSpecView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    schedule: Option<&'a str>,
    suspend: bool,
    concurrency: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<ScheduledStatusView<'a>>,
    owner: OwnerView<'a>,
}

impl<'a> ScheduledFields<'a> {
    fn of(job: &'a ScheduledJob) -> Self {
        Self {
            id: &job.id,
            created_at: iso_opt(job.created_at.as_ref()),
            job_spec: job.job_spec.as_ref().map(ScheduledSpecView::of),
            schedule: job.schedule.as_deref(),
            suspend: job.suspend,
            concurrency: job.concurrency,
            status: job.status.as_ref().map(|s| ScheduledStatusView {
                last_job: s.last_job.as_ref().map(|l| LastJobView {
                    id: &l.id,
                    at: iso(&l.at),
                }),
                next_job_run_at: iso_opt(s.next_job_run_at.as_ref()),
            }),
            owner: OwnerView::of(&job.owner),
        }
    }
}

/// A scheduled job as `hf jobs scheduled inspect --json` shows it.
#[derive(Debug, Serialize)]
pub struct ScheduledView<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(flatten)]
    fields: ScheduledFields<'a>,
}

fn scheduled_name(job: &ScheduledJob) -> Option<&str> {
    job.job_spec
        .as_ref()
        .and_then(|s| s.labels.get("name"))
        .map(String::as_str)
}

pub fn scheduled_json(job: &ScheduledJob) -> ScheduledView<'_> {
    ScheduledView {
        name: scheduled_name(job),
        fields: ScheduledFields::of(job),
    }
}

/// A `scheduled ps --json` item: the scheduled job with the table's columns as shown.
#[derive(Debug, Serialize)]
pub struct ScheduledItem<'a> {
    #[serde(flatten)]
    fields: ScheduledFields<'a>,
    name: String,
    #[serde(rename = "image/space")]
    image: String,
    command: String,
    last_run: String,
    next_run: String,
}

/// A `scheduled ps` row and its JSON item.
pub fn scheduled_row(job: &ScheduledJob) -> (Vec<Cell>, ScheduledItem<'_>) {
    let spec = job.job_spec.as_ref();
    let status = job.status.as_ref();
    let item = ScheduledItem {
        fields: ScheduledFields::of(job),
        name: scheduled_name(job).unwrap_or("N/A").to_owned(),
        image: spec.map_or_else(
            || "N/A".into(),
            |s| image_or_space(s.docker_image.as_ref(), s.space_id.as_ref()),
        ),
        command: command_text(spec.map_or(&[][..], |s| &s.command)),
        last_run: day_and_time(status.and_then(|s| s.last_job.as_ref()).map(|l| &l.at)),
        next_run: day_and_time(status.and_then(|s| s.next_job_run_at.as_ref())),
    };
    let row = vec![
        Cell::text(&job.id),
        Cell::text(&item.name),
        Cell::text(job.schedule.clone().unwrap_or_default()),
        Cell::text(&item.image),
        Cell::text(&item.command),
        Cell::text(&item.last_run),
        Cell::text(&item.next_run),
        Cell::Bool(job.suspend),
    ];
    (row, item)
}

/// A `hardware --json` item: the table's columns as shown.
#[derive(Debug, Serialize)]
pub struct HardwareItem {
    name: String,
    #[serde(rename = "pretty name")]
    pretty_name: String,
    cpu: String,
    ram: String,
    storage: String,
    accelerator: String,
    #[serde(rename = "cost/min")]
    cost_min: String,
    #[serde(rename = "cost/hour")]
    cost_hour: String,
}

/// A `hardware` row and its JSON item (cost per minute with 4 decimals, per hour with 2).
pub fn hardware_row(hw: &Hardware) -> (Vec<Cell>, HardwareItem) {
    let free = hw.unit_cost_usd == 0.0;
    let item = HardwareItem {
        name: hw.name.clone(),
        pretty_name: hw.pretty_name.clone(),
        cpu: hw.cpu.clone(),
        ram: hw.ram.clone(),
        storage: hw.ephemeral_storage.clone().unwrap_or_else(|| "N/A".into()),
        accelerator: hw
            .accelerator
            .as_ref()
            .map(|a| format!("{}x {} ({})", a.quantity, a.model, a.vram))
            .unwrap_or_default(),
        cost_min: if free {
            "free".into()
        } else {
            format!("${:.4}", hw.unit_cost_usd)
        },
        cost_hour: if free {
            "free".into()
        } else {
            format!("${:.2}", hw.unit_cost_usd * 60.0)
        },
    };
    let row = [
        &item.name,
        &item.pretty_name,
        &item.cpu,
        &item.ram,
        &item.storage,
        &item.accelerator,
        &item.cost_min,
        &item.cost_hour,
    ]
    .into_iter()
    .map(Cell::text)
    .collect();
    (row, item)
}

fn percent(part: f64, total: f64) -> String {
    if total > 0.0 {
        format!(
            "{}%",
            crate::table::python_float((100.0 * part / total * 100.0).round() / 100.0)
        )
    } else {
        "N/A".into()
    }
}

fn number(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{}", x as i64)
    } else {
        x.to_string()
    }
}

/// The `stats` rows of one sample: one per GPU (job columns on the first only).
pub fn stats_rows(job_id: &str, m: &Metrics) -> Vec<Vec<Cell>> {
    let mut first = vec![
        Cell::text(job_id),
        Cell::text(format!("{}%", number(m.cpu_usage_pct))),
        Cell::Float((m.cpu_millicores / 100.0).round() / 10.0),
        Cell::text(percent(m.memory_used_bytes, m.memory_total_bytes)),
        Cell::text(format!(
            "{}B / {}B",
            format_size(m.memory_used_bytes),
            format_size(m.memory_total_bytes)
        )),
        Cell::text(format!(
            "{}bps / {}bps",
            format_size(m.rx_bps),
            format_size(m.tx_bps)
        )),
    ];
    if m.gpus.is_empty() {
        first.extend((0..3).map(|_| Cell::text("N/A")));
        return vec![first];
    }
    let mut rows = Vec::new();
    for (i, gpu) in m.gpus.values().enumerate() {
        let mut row = if i == 0 {
            first.clone()
        } else {
            (0..6).map(|_| Cell::text("")).collect()
        };
        row.push(Cell::text(format!("{}%", number(gpu.utilization))));
        row.push(Cell::text(percent(
            gpu.memory_used_bytes,
            gpu.memory_total_bytes,
        )));
        row.push(Cell::text(format!(
            "{}B / {}B",
            format_size(gpu.memory_used_bytes),
            format_size(gpu.memory_total_bytes)
        )));
        rows.push(row);
    }
    rows
}

#[derive(Debug, Serialize)]
pub struct GpuView {
    utilization: f64,
    memory_used_bytes: f64,
    memory_total_bytes: f64,
}

/// A metrics sample as `stats --json` shows it, with its job id.
#[derive(Debug, Serialize)]
pub struct StatsItem<'a> {
    pub job_id: &'a str,
    cpu_usage_pct: f64,
    cpu_millicores: f64,
    memory_used_bytes: f64,
    memory_total_bytes: f64,
    rx_bps: f64,
    tx_bps: f64,
    gpus: BTreeMap<&'a str, GpuView>,
}

pub fn stats_json<'a>(job_id: &'a str, m: &'a Metrics) -> StatsItem<'a> {
    StatsItem {
        job_id,
        cpu_usage_pct: m.cpu_usage_pct,
        cpu_millicores: m.cpu_millicores,
        memory_used_bytes: m.memory_used_bytes,
        memory_total_bytes: m.memory_total_bytes,
        rx_bps: m.rx_bps,
        tx_bps: m.tx_bps,
        gpus: m
            .gpus
            .iter()
            .map(|(id, g)| {
                (
                    id.as_str(),
                    GpuView {
                        utilization: g.utilization,
                        memory_used_bytes: g.memory_used_bytes,
                        memory_total_bytes: g.memory_total_bytes,
                    },
                )
            })
            .collect(),
    }
}

/// A `wait` row's JSON item (the message is `null` when the Hub gave none).
#[derive(Debug, Serialize)]
pub struct WaitItem<'a> {
    id: &'a str,
    stage: &'a str,
    message: Option<&'a str>,
}

/// A `wait` row and its JSON item.
pub fn wait_row(job: &Job) -> (Vec<Cell>, WaitItem<'_>) {
    let row = vec![
        Cell::text(&job.id),
        Cell::text(job.status.stage.as_str()),
        job.status.message.clone().map_or(Cell::Empty, Cell::Text),
    ];
    let item = WaitItem {
        id: &job.id,
        stage: job.status.stage.as_str(),
        message: job.status.message.as_deref(),
    };
    (row, item)
}
