//! Jobs, scheduled jobs, hardware and metrics as table rows and as the JSON `hf jobs` prints
//! (snake_case keys, absent values left out, times in ISO 8601 with `+00:00`).

use hf_jobs::jobs::{Hardware, Metrics, ScheduledJob, ScheduledJobSpec};
use hf_jobs::{Job, Volume};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

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

/// `2026-01-15 10:30:00`, or `N/A`.
fn day_and_time(at: Option<&Timestamp>) -> String {
    at.map_or_else(|| "N/A".into(), |at| iso(at)[..19].replace('T', " "))
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<Value>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value);
    }
}

fn volumes_json(volumes: &[Volume]) -> Option<Value> {
    (!volumes.is_empty()).then(|| {
        json!(
            volumes
                .iter()
                .map(|v| {
                    let mut m = Map::new();
                    m.insert("type".into(), json!(v.kind.as_str()));
                    m.insert("source".into(), json!(v.source));
                    m.insert("mount_path".into(), json!(v.mount_path));
                    put(&mut m, "revision", v.revision.as_ref().map(|r| json!(r)));
                    put(&mut m, "read_only", v.read_only.map(|r| json!(r)));
                    put(&mut m, "path", v.path.as_ref().map(|p| json!(p)));
                    Value::Object(m)
                })
                .collect::<Vec<_>>()
        )
    })
}

/// A job as `hf jobs inspect --json` shows it.
pub fn job_json(job: &Job, endpoint: &str) -> Map<String, Value> {
    let mut m = Map::new();
    put(&mut m, "name", job.name().map(|n| json!(n)));
    m.insert("id".into(), json!(job.id));
    put(
        &mut m,
        "created_at",
        job.created_at.as_ref().map(|t| json!(iso(t))),
    );
    put(
        &mut m,
        "started_at",
        job.started_at.as_ref().map(|t| json!(iso(t))),
    );
    put(
        &mut m,
        "finished_at",
        job.finished_at.as_ref().map(|t| json!(iso(t))),
    );
    put(
        &mut m,
        "docker_image",
        job.docker_image.as_ref().map(|i| json!(i)),
    );
    put(&mut m, "space_id", job.space_id.as_ref().map(|i| json!(i)));
    m.insert("command".into(), json!(job.command));
    m.insert("arguments".into(), json!(job.arguments));
    m.insert("environment".into(), json!(job.environment));
    m.insert("secrets".into(), json!(job.secrets));
    put(&mut m, "flavor", job.flavor.as_ref().map(|f| json!(f)));
    put(&mut m, "timeout", job.timeout_seconds.map(|t| json!(t)));
    put(&mut m, "attempts", job.attempts.map(|a| json!(a)));
    m.insert("labels".into(), json!(job.labels));
    put(&mut m, "volumes", volumes_json(&job.volumes));
    let mut status = Map::new();
    status.insert("stage".into(), json!(job.status.stage.as_str()));
    put(
        &mut status,
        "message",
        job.status.message.as_ref().map(|x| json!(x)),
    );
    put(
        &mut status,
        "cancel_reason",
        job.status.cancel_reason.as_ref().map(|x| json!(x)),
    );
    if !job.status.expose_urls.is_empty() {
        status.insert("expose_urls".into(), json!(job.status.expose_urls));
    }
    put(
        &mut status,
        "ssh_url",
        job.status.ssh_url.as_ref().map(|x| json!(x)),
    );
    m.insert("status".into(), Value::Object(status));
    if let Some(d) = &job.durations {
        let mut durations = Map::new();
        put(
            &mut durations,
            "scheduling_secs",
            d.scheduling_secs.map(|x| json!(x)),
        );
        put(
            &mut durations,
            "running_secs",
            d.running_secs.map(|x| json!(x)),
        );
        put(&mut durations, "total_secs", d.total_secs.map(|x| json!(x)));
        m.insert("durations".into(), Value::Object(durations));
    }
    put(
        &mut m,
        "resource_group_id",
        job.resource_group_id.as_ref().map(|x| json!(x)),
    );
    m.insert(
        "owner".into(),
        json!({ "id": job.owner.id, "name": job.owner.name, "type": job.owner.kind }),
    );
    m.insert("endpoint".into(), json!(endpoint));
    m.insert("url".into(), json!(job.url));
    m
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

/// A `ps` row and its JSON item.
pub fn ps_row(job: &Job, endpoint: &str) -> (Vec<Cell>, Value) {
    let name = job.name().unwrap_or("N/A").to_owned();
    let image = image_or_space(job.docker_image.as_ref(), job.space_id.as_ref());
    let command = command_text(&job.command);
    let created = day_and_time(job.created_at.as_ref());
    let stage = job.status.stage.as_str().to_owned();
    let runtime = format_duration(job.durations.and_then(|d| d.running_secs));
    let mut item = job_json(job, endpoint);
    item.insert("command".into(), json!(command));
    item.insert("status".into(), json!(stage));
    item.insert("job_id".into(), json!(job.id));
    item.insert("name".into(), json!(name));
    item.insert("image/space".into(), json!(image));
    item.insert("created".into(), json!(created));
    item.insert("runtime".into(), json!(runtime));
    let row = vec![
        Cell::text(&job.id),
        Cell::text(name),
        Cell::text(image),
        Cell::text(command),
        Cell::text(created),
        Cell::text(stage),
        Cell::text(runtime),
    ];
    (row, Value::Object(item))
}

fn spec_json(spec: &ScheduledJobSpec) -> Value {
    let mut m = Map::new();
    put(
        &mut m,
        "docker_image",
        spec.docker_image.as_ref().map(|x| json!(x)),
    );
    put(&mut m, "space_id", spec.space_id.as_ref().map(|x| json!(x)));
    m.insert("command".into(), json!(spec.command));
    m.insert("arguments".into(), json!(spec.arguments));
    m.insert("environment".into(), json!(spec.environment));
    m.insert("secrets".into(), json!(spec.secrets));
    put(&mut m, "flavor", spec.flavor.as_ref().map(|x| json!(x)));
    put(&mut m, "timeout", spec.timeout_seconds.map(|x| json!(x)));
    m.insert("labels".into(), json!(spec.labels));
    put(&mut m, "volumes", volumes_json(&spec.volumes));
    Value::Object(m)
}

/// A scheduled job as `hf jobs scheduled inspect --json` shows it.
pub fn scheduled_json(job: &ScheduledJob) -> Map<String, Value> {
    let mut m = Map::new();
    put(
        &mut m,
        "name",
        job.job_spec
            .as_ref()
            .and_then(|s| s.labels.get("name"))
            .map(|n| json!(n)),
    );
    m.insert("id".into(), json!(job.id));
    put(
        &mut m,
        "created_at",
        job.created_at.as_ref().map(|t| json!(iso(t))),
    );
    put(&mut m, "job_spec", job.job_spec.as_ref().map(spec_json));
    put(&mut m, "schedule", job.schedule.as_ref().map(|s| json!(s)));
    m.insert("suspend".into(), json!(job.suspend));
    m.insert("concurrency".into(), json!(job.concurrency));
    if let Some(status) = &job.status {
        let mut s = Map::new();
        put(
            &mut s,
            "last_job",
            status
                .last_job
                .as_ref()
                .map(|l| json!({ "id": l.id, "at": iso(&l.at) })),
        );
        put(
            &mut s,
            "next_job_run_at",
            status.next_job_run_at.as_ref().map(|t| json!(iso(t))),
        );
        m.insert("status".into(), Value::Object(s));
    }
    m.insert(
        "owner".into(),
        json!({ "id": job.owner.id, "name": job.owner.name, "type": job.owner.kind }),
    );
    m
}

/// A `scheduled ps` row and its JSON item.
pub fn scheduled_row(job: &ScheduledJob) -> (Vec<Cell>, Value) {
    let spec = job.job_spec.as_ref();
    let name = spec
        .and_then(|s| s.labels.get("name").cloned())
        .unwrap_or_else(|| "N/A".into());
    let image = spec.map_or_else(
        || "N/A".into(),
        |s| image_or_space(s.docker_image.as_ref(), s.space_id.as_ref()),
    );
    let command = command_text(spec.map_or(&[][..], |s| &s.command));
    let status = job.status.as_ref();
    let last_run = day_and_time(status.and_then(|s| s.last_job.as_ref()).map(|l| &l.at));
    let next_run = day_and_time(status.and_then(|s| s.next_job_run_at.as_ref()));
    let schedule = job.schedule.clone().unwrap_or_default();
    let mut item = scheduled_json(job);
    for (key, value) in [
        ("name", &name),
        ("image/space", &image),
        ("command", &command),
        ("last_run", &last_run),
        ("next_run", &next_run),
    ] {
        item.insert(key.into(), json!(value));
    }
    let row = vec![
        Cell::text(&job.id),
        Cell::text(name),
        Cell::text(schedule),
        Cell::text(image),
        Cell::text(command),
        Cell::text(last_run),
        Cell::text(next_run),
        Cell::Bool(job.suspend),
    ];
    (row, Value::Object(item))
}

/// A `hardware` row and its JSON item (cost per minute with 4 decimals, per hour with 2).
pub fn hardware_row(hw: &Hardware) -> (Vec<Cell>, Value) {
    let accelerator = hw
        .accelerator
        .as_ref()
        .map(|a| format!("{}x {} ({})", a.quantity, a.model, a.vram))
        .unwrap_or_default();
    let free = hw.unit_cost_usd == 0.0;
    let cost_min = if free {
        "free".into()
    } else {
        format!("${:.4}", hw.unit_cost_usd)
    };
    let cost_hour = if free {
        "free".into()
    } else {
        format!("${:.2}", hw.unit_cost_usd * 60.0)
    };
    let storage = hw.ephemeral_storage.clone().unwrap_or_else(|| "N/A".into());
    let values = [
        hw.name.clone(),
        hw.pretty_name.clone(),
        hw.cpu.clone(),
        hw.ram.clone(),
        storage,
        accelerator,
        cost_min,
        cost_hour,
    ];
    let item: Map<String, Value> = HARDWARE_HEADERS
        .iter()
        .zip(values.iter())
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    (
        values.into_iter().map(Cell::Text).collect(),
        Value::Object(item),
    )
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

/// A metrics sample as JSON, with its job id.
pub fn stats_json(job_id: &str, m: &Metrics) -> Value {
    let gpus: Map<String, Value> = m
        .gpus
        .iter()
        .map(|(id, g)| {
            (
                id.clone(),
                json!({ "utilization": g.utilization, "memory_used_bytes": g.memory_used_bytes,
                        "memory_total_bytes": g.memory_total_bytes }),
            )
        })
        .collect();
    json!({ "job_id": job_id, "cpu_usage_pct": m.cpu_usage_pct, "cpu_millicores": m.cpu_millicores,
            "memory_used_bytes": m.memory_used_bytes, "memory_total_bytes": m.memory_total_bytes,
            "rx_bps": m.rx_bps, "tx_bps": m.tx_bps, "gpus": gpus })
}
