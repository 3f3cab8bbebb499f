//! What the Jobs API answers with, parsed tolerantly: unknown fields are ignored and only the
//! fields `huggingface_hub` itself requires are required.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer};

use crate::volumes::Volume;

/// Where a job is in its life. Unknown stages (`UPDATING`, future ones) are kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobStage {
    Scheduling,
    Running,
    Completed,
    Canceled,
    Error,
    Deleted,
    Unknown(String),
}

impl JobStage {
    /// Whether the job will not run any further: `COMPLETED`, `CANCELED`, `ERROR`, `DELETED`.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            JobStage::Completed | JobStage::Canceled | JobStage::Error | JobStage::Deleted
        )
    }

    /// The wire name, upper-case as the Hub writes it.
    pub fn as_str(&self) -> &str {
        match self {
            JobStage::Scheduling => "SCHEDULING",
            JobStage::Running => "RUNNING",
            JobStage::Completed => "COMPLETED",
            JobStage::Canceled => "CANCELED",
            JobStage::Error => "ERROR",
            JobStage::Deleted => "DELETED",
            JobStage::Unknown(other) => other,
        }
    }

    /// Parses a stage name case-insensitively (the Hub and `--status` differ in case).
    pub fn parse(name: &str) -> Self {
        match name.to_ascii_uppercase().as_str() {
            "SCHEDULING" => JobStage::Scheduling,
            "RUNNING" => JobStage::Running,
            "COMPLETED" => JobStage::Completed,
            "CANCELED" => JobStage::Canceled,
            "ERROR" => JobStage::Error,
            "DELETED" => JobStage::Deleted,
            _ => JobStage::Unknown(name.to_owned()),
        }
    }
}

impl fmt::Display for JobStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for JobStage {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|s| JobStage::parse(&s))
    }
}

/// The user or organisation a job (or scheduled job) belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Owner {
    pub id: String,
    pub name: String,
    /// `user` or `org`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `status` of a job.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobStatus {
    pub stage: JobStage,
    #[serde(default)]
    pub message: Option<String>,
    /// `NO_CREDITS`, `NO_SUBSCRIPTION`, `RESOURCE_GROUP_LIMIT`, ...
    #[serde(default)]
    pub cancel_reason: Option<String>,
    #[serde(default)]
    pub failure_count: Option<u32>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub expose_urls: Vec<String>,
    #[serde(default)]
    pub ssh_url: Option<String>,
}

/// Who or what started a job: a user, a scheduled job, a duplicated job, a webhook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Initiator {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// Ports a job exposes through the Jobs proxy.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Expose {
    #[serde(default)]
    pub ports: Vec<u16>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ports_public: Vec<u16>,
}

/// Time spent scheduling and running, in seconds; absent on some terminal jobs.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Durations {
    #[serde(default)]
    pub scheduling_secs: Option<f64>,
    #[serde(default)]
    pub running_secs: Option<f64>,
    #[serde(default)]
    pub total_secs: Option<f64>,
}

/// A job as the Hub describes it (create, inspect, list, cancel, label update, trigger).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Job {
    pub id: String,
    pub owner: Owner,
    pub status: JobStatus,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub started_at: Option<Timestamp>,
    #[serde(default)]
    pub finished_at: Option<Timestamp>,
    #[serde(default)]
    pub docker_image: Option<String>,
    #[serde(default)]
    pub space_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub command: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub environment: BTreeMap<String, String>,
    /// Names only: the Hub never returns secret values.
    #[serde(default, deserialize_with = "secret_names")]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub flavor: Option<String>,
    /// Seconds; the answer says `timeout` where the request said `timeoutSeconds`.
    #[serde(default, rename = "timeout", deserialize_with = "whole_seconds")]
    pub timeout_seconds: Option<u64>,
    /// How many times the job may be tried; the request field is `attempts`, answers say `retry`.
    #[serde(default, alias = "retry", deserialize_with = "whole_seconds")]
    pub attempts: Option<u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub volumes: Vec<Volume>,
    #[serde(default)]
    pub expose: Option<Expose>,
    #[serde(default)]
    pub resource_group_id: Option<String>,
    #[serde(default)]
    pub initiator: Option<Initiator>,
    #[serde(default)]
    pub durations: Option<Durations>,
    #[serde(default)]
    pub arch: Option<String>,
    /// `{endpoint}/jobs/{owner}/{id}`, filled in by the client.
    #[serde(skip)]
    pub url: String,
}

impl Job {
    /// The `name` label, set from the job name (or the default name) at creation.
    pub fn name(&self) -> Option<&str> {
        self.labels.get("name").map(String::as_str)
    }

    /// The Docker image, or `hf.co/spaces/<id>` for a Space-based job.
    pub fn image(&self) -> Option<String> {
        self.docker_image
            .clone()
            .or_else(|| self.space_id.as_ref().map(|s| format!("hf.co/spaces/{s}")))
    }

    pub(crate) fn with_url(mut self, endpoint: &str) -> Self {
        self.url = format!("{endpoint}/jobs/{}/{}", self.owner.name, self.id);
        self
    }
}

/// The job template of a scheduled job, as answered (secrets are names only).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScheduledJobSpec {
    #[serde(default, alias = "docker_image")]
    pub docker_image: Option<String>,
    #[serde(default, alias = "space_id")]
    pub space_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub command: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub arguments: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub environment: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "secret_names")]
    pub secrets: Vec<String>,
    #[serde(default)]
    pub flavor: Option<String>,
    #[serde(default, rename = "timeout", deserialize_with = "whole_seconds")]
    pub timeout_seconds: Option<u64>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub volumes: Vec<Volume>,
    #[serde(default)]
    pub arch: Option<String>,
}

/// The last run a scheduled job started.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LastJob {
    pub id: String,
    pub at: Timestamp,
}

/// `status` of a scheduled job.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledJobStatus {
    #[serde(default, alias = "last_job")]
    pub last_job: Option<LastJob>,
    #[serde(default, alias = "next_job_run_at")]
    pub next_job_run_at: Option<Timestamp>,
}

/// A job template run on a cron schedule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ScheduledJob {
    pub id: String,
    pub owner: Owner,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// `@hourly`, `@daily`, ... or a cron expression (UTC).
    #[serde(default)]
    pub schedule: Option<String>,
    #[serde(default)]
    pub suspend: bool,
    #[serde(default)]
    pub concurrency: bool,
    #[serde(default)]
    pub suspend_reason: Option<String>,
    #[serde(default, alias = "job_spec")]
    pub job_spec: Option<ScheduledJobSpec>,
    #[serde(default)]
    pub status: Option<ScheduledJobStatus>,
}

/// An accelerator of a hardware flavor.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Accelerator {
    /// `gpu` or `neuron`.
    #[serde(rename = "type")]
    pub kind: String,
    pub model: String,
    #[serde(deserialize_with = "string_or_number")]
    pub quantity: String,
    pub vram: String,
    pub manufacturer: String,
}

/// A hardware flavor jobs can run on, with its price.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Hardware {
    /// The flavor name to pass to a job (`cpu-basic`, `a10g-small`, ...).
    pub name: String,
    pub pretty_name: String,
    pub cpu: String,
    pub ram: String,
    #[serde(default)]
    pub ephemeral_storage: Option<String>,
    #[serde(default)]
    pub accelerator: Option<Accelerator>,
    #[serde(rename = "unitCostMicroUSD")]
    pub unit_cost_micro_usd: u64,
    #[serde(rename = "unitCostUSD")]
    pub unit_cost_usd: f64,
    /// The billing unit, `minute` today.
    pub unit_label: String,
}

impl Hardware {
    /// Price per hour in USD, when billed per minute (as the CLI shows it).
    pub fn cost_per_hour_usd(&self) -> f64 {
        match self.unit_label.as_str() {
            "hour" => self.unit_cost_usd,
            "second" => self.unit_cost_usd * 3600.0,
            _ => self.unit_cost_usd * 60.0,
        }
    }
}

/// Usage of one GPU in a [`Metrics`] sample.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GpuMetrics {
    #[serde(default)]
    pub utilization: f64,
    #[serde(default)]
    pub memory_used_bytes: f64,
    #[serde(default)]
    pub memory_total_bytes: f64,
}

/// One sample of the metrics stream (about one per second while the job runs).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Metrics {
    #[serde(default)]
    pub cpu_usage_pct: f64,
    #[serde(default)]
    pub cpu_millicores: f64,
    #[serde(default)]
    pub memory_used_bytes: f64,
    #[serde(default)]
    pub memory_total_bytes: f64,
    #[serde(default)]
    pub rx_bps: f64,
    #[serde(default)]
    pub tx_bps: f64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub gpus: BTreeMap<String, GpuMetrics>,
    #[serde(default)]
    pub replica: Option<String>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Secrets come back as a list of names; old fixtures show `{}` or a name→value map.
fn secret_names<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Names {
        List(Vec<String>),
        Map(BTreeMap<String, serde_json::Value>),
    }
    Ok(match Option::<Names>::deserialize(deserializer)? {
        Some(Names::List(names)) => names,
        Some(Names::Map(map)) => map.into_keys().collect(),
        None => Vec::new(),
    })
}

/// A JSON number (integer or not) as whole units; anything else is an error.
fn whole_seconds<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    let value = Option::<f64>::deserialize(deserializer)?;
    Ok(value
        .filter(|v| v.is_finite() && *v >= 0.0)
        .map(|v| v as u64))
}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Text {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Text::deserialize(deserializer)? {
        Text::Text(text) => text,
        Text::Number(number) => number.to_string(),
    })
}
