//! The Jobs API: run, inspect, list, cancel, label, wait, hardware, logs, metrics and
//! scheduled jobs, as methods of [`HfClient`].

use std::pin::Pin;
use std::time::Duration;

use futures_util::stream::{self, Stream, TryStreamExt};
use reqwest::Method;
use serde_json::json;
use url::Url;

use crate::client::HfClient;
use crate::error::Error;
use crate::http::{check_segment, next_link, read_json};

mod spec;
mod sse;
mod types;

#[cfg(test)]
mod tests;

pub use spec::{
    CliNameParts, DEFAULT_FLAVOR, JobSpec, SPACE_IMAGE_PREFIXES, ScheduleSpec, Timeout,
    cli_default_job_name, cli_default_uv_job_name, default_job_name, default_uv_job_name,
    sanitize_job_name, space_id,
};
pub use sse::{LogLine, LogOptions, MetricsOptions, StreamPolicy};
pub use types::{
    Accelerator, Durations, Expose, GpuMetrics, Hardware, Initiator, Job, JobStage, JobStatus,
    LastJob, Metrics, Owner, ScheduledJob, ScheduledJobSpec, ScheduledJobStatus,
};

/// A boxed stream, so the client's streams can be stored and passed around.
pub type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Error>> + Send>>;

/// Server-side filters of `list_jobs`: every stage given (any of them) and every label (all).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    pub stages: Vec<JobStage>,
    /// `key=value` pairs; the Hub keeps jobs that carry all of them.
    pub labels: Vec<(String, String)>,
}

impl JobFilter {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn stage(mut self, stage: JobStage) -> Self {
        self.stages.push(stage);
        self
    }

    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.push((key.into(), value.into()));
        self
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let stages = self
            .stages
            .iter()
            .map(|s| ("stage", s.as_str().to_ascii_uppercase()));
        let labels = self
            .labels
            .iter()
            .map(|(k, v)| ("label", format!("{k}={v}")));
        stages.chain(labels).collect()
    }
}

impl HfClient {
    /// `POST /api/jobs/{namespace}`: starts a job. The name defaults as in Python's `run_job`.
    pub async fn run_job(&self, spec: &JobSpec) -> Result<Job, Error> {
        let body = spec.to_body()?;
        let namespace = self.namespace().await?;
        let job: Job = self
            .call_json(Method::POST, &["api", "jobs", &namespace], Some(&body))
            .await?;
        Ok(job.with_url(self.endpoint()))
    }

    /// `GET /api/jobs/{namespace}/{id}`.
    pub async fn inspect_job(&self, job_id: &str) -> Result<Job, Error> {
        check_segment("job id", job_id)?;
        let namespace = self.namespace().await?;
        let job: Job = self
            .get_json(&["api", "jobs", &namespace, job_id], &[])
            .await?;
        Ok(job.with_url(self.endpoint()))
    }

    /// `GET /api/jobs/{namespace}` with `stage`/`label` filters, following `Link: rel="next"`
    /// pages lazily. A failed page ends the stream with its error (no automatic retry).
    pub fn list_jobs(&self, filter: &JobFilter) -> BoxStream<Job> {
        let client = self.clone();
        let query = filter.query();
        let pages = stream::try_unfold(Some(None::<Url>), move |next| {
            let client = client.clone();
            let query = query.clone();
            async move {
                let Some(next) = next else { return Ok(None) };
                let (url, query) = match next {
                    Some(url) => (url, Vec::new()),
                    None => (
                        client.url(&["api", "jobs", &client.namespace().await?]),
                        query,
                    ),
                };
                let what = format!("GET {}", url.path());
                let request = client
                    .request(Method::GET, url.clone(), false)
                    .query(&query);
                let response = client.send(request, &what).await?;
                let next = next_link(response.headers(), response.url());
                let jobs: Vec<Job> = read_json(response, &what).await?;
                let endpoint = client.endpoint().to_owned();
                let jobs: Vec<Result<Job, Error>> = jobs
                    .into_iter()
                    .map(|j| Ok(j.with_url(&endpoint)))
                    .collect();
                Ok(Some((stream::iter(jobs), next.map(Some))))
            }
        });
        Box::pin(pages.try_flatten())
    }

    /// `GET /api/jobs/{namespace}/count`: how many jobs are in any of `stages` (all if empty).
    pub async fn count_jobs(&self, stages: &[JobStage]) -> Result<u64, Error> {
        #[derive(serde::Deserialize)]
        struct Count {
            count: u64,
        }
        let namespace = self.namespace().await?;
        let query: Vec<(&str, String)> = stages
            .iter()
            .map(|s| ("stage", s.as_str().to_ascii_uppercase()))
            .collect();
        let count: Count = self
            .get_json(&["api", "jobs", &namespace, "count"], &query)
            .await?;
        Ok(count.count)
    }

    /// `POST /api/jobs/{namespace}/{id}/cancel`. The answer body is not relied upon.
    pub async fn cancel_job(&self, job_id: &str) -> Result<(), Error> {
        check_segment("job id", job_id)?;
        let namespace = self.namespace().await?;
        self.call(
            Method::POST,
            &["api", "jobs", &namespace, job_id, "cancel"],
            None,
        )
        .await?;
        Ok(())
    }

    /// `PUT /api/jobs/{namespace}/{id}/labels`: replaces all user labels (including `name`).
    pub async fn update_job_labels(
        &self,
        job_id: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<Job, Error> {
        check_segment("job id", job_id)?;
        let namespace = self.namespace().await?;
        let body = json!({ "labels": labels });
        let job: Job = self
            .call_json(
                Method::PUT,
                &["api", "jobs", &namespace, job_id, "labels"],
                Some(&body),
            )
            .await?;
        Ok(job.with_url(self.endpoint()))
    }

    /// `PUT /api/jobs/{namespace}/{id}/expose`: the complete set of exposed ports of a running
    /// job; public ports are exposed too. Empty lists close every port.
    pub async fn update_job_expose(
        &self,
        job_id: &str,
        expose: &[u16],
        expose_public: &[u16],
    ) -> Result<Job, Error> {
        check_segment("job id", job_id)?;
        let namespace = self.namespace().await?;
        let body = spec::expose_payload(expose, expose_public);
        let job: Job = self
            .call_json(
                Method::PUT,
                &["api", "jobs", &namespace, job_id, "expose"],
                Some(&body),
            )
            .await?;
        Ok(job.with_url(self.endpoint()))
    }

    /// `POST /api/jobs/{namespace}/{id}/duplicate`: a new job with the spec of an existing one.
    pub async fn rerun_job(&self, job_id: &str) -> Result<Job, Error> {
        check_segment("job id", job_id)?;
        let namespace = self.namespace().await?;
        let job: Job = self
            .call_json(
                Method::POST,
                &["api", "jobs", &namespace, job_id, "duplicate"],
                None,
            )
            .await?;
        Ok(job.with_url(self.endpoint()))
    }

    /// Polls the job every `poll_interval` until its stage is one of `stages` or terminal, and
    /// returns it (an `ERROR` job is returned, not raised). `timeout` bounds the whole wait.
    pub async fn wait_for_job(
        &self,
        job_id: &str,
        stages: &[JobStage],
        poll_interval: Duration,
        timeout: Option<Duration>,
    ) -> Result<Job, Error> {
        let started = tokio::time::Instant::now();
        loop {
            let job = self.inspect_job(job_id).await?;
            if job.status.stage.is_terminal() || stages.contains(&job.status.stage) {
                return Ok(job);
            }
            if let Some(limit) = timeout {
                let elapsed = started.elapsed();
                if elapsed + poll_interval > limit {
                    return Err(Error::Timeout(format!(
                        "job {job_id} still {} after {}s",
                        job.status.stage,
                        limit.as_secs()
                    )));
                }
            }
            tokio::time::sleep(poll_interval).await;
        }
    }

    /// `GET /api/jobs/hardware`: the flavors jobs can run on, with prices (public).
    pub async fn list_hardware(&self) -> Result<Vec<Hardware>, Error> {
        self.get_json(&["api", "jobs", "hardware"], &[]).await
    }

    /// The job's log lines from the SSE endpoint (the `===== Job started` banner is dropped).
    /// See [`LogOptions`] for `tail`, follow mode and reconnection.
    pub fn job_logs(&self, job_id: &str, options: LogOptions) -> BoxStream<LogLine> {
        sse::logs(self.clone(), job_id.to_owned(), options)
    }

    /// Live resource samples of a running job. Without follow, only the current sample.
    pub fn job_metrics(&self, job_id: &str, options: MetricsOptions) -> BoxStream<Metrics> {
        sse::metrics(self.clone(), job_id.to_owned(), options)
    }

    // ---- Scheduled jobs. ----

    /// `POST /api/scheduled-jobs/{namespace}`.
    pub async fn create_scheduled_job(&self, spec: &ScheduleSpec) -> Result<ScheduledJob, Error> {
        let body = spec.to_body()?;
        let namespace = self.namespace().await?;
        self.call_json(
            Method::POST,
            &["api", "scheduled-jobs", &namespace],
            Some(&body),
        )
        .await
    }

    /// `GET /api/scheduled-jobs/{namespace}`. Like Python, the first label filters on the Hub and
    /// all labels filter again here (the endpoint takes a single `label`).
    pub async fn list_scheduled_jobs(
        &self,
        labels: &[(String, String)],
    ) -> Result<Vec<ScheduledJob>, Error> {
        let namespace = self.namespace().await?;
        let query: Vec<(&str, String)> = labels
            .first()
            .map(|(k, v)| ("label", format!("{k}={v}")))
            .into_iter()
            .collect();
        let jobs: Vec<ScheduledJob> = self
            .get_json(&["api", "scheduled-jobs", &namespace], &query)
            .await?;
        Ok(jobs
            .into_iter()
            .filter(|job| {
                let own = job.job_spec.as_ref().map(|s| &s.labels);
                labels
                    .iter()
                    .all(|(k, v)| own.and_then(|l| l.get(k)) == Some(v))
            })
            .collect())
    }

    /// `GET /api/scheduled-jobs/{namespace}/{id}`.
    pub async fn inspect_scheduled_job(&self, id: &str) -> Result<ScheduledJob, Error> {
        check_segment("scheduled job id", id)?;
        let namespace = self.namespace().await?;
        self.get_json(&["api", "scheduled-jobs", &namespace, id], &[])
            .await
    }

    /// `DELETE /api/scheduled-jobs/{namespace}/{id}`.
    pub async fn delete_scheduled_job(&self, id: &str) -> Result<(), Error> {
        self.scheduled_action(Method::DELETE, id, None).await
    }

    /// `POST /api/scheduled-jobs/{namespace}/{id}/suspend`: no more runs until resumed.
    pub async fn suspend_scheduled_job(&self, id: &str) -> Result<(), Error> {
        self.scheduled_action(Method::POST, id, Some("suspend"))
            .await
    }

    /// `POST /api/scheduled-jobs/{namespace}/{id}/resume`.
    pub async fn resume_scheduled_job(&self, id: &str) -> Result<(), Error> {
        self.scheduled_action(Method::POST, id, Some("resume"))
            .await
    }

    /// `POST /api/scheduled-jobs/{namespace}/{id}/run`: starts a run now. [`Error::Conflict`] if
    /// the previous run still runs and concurrency is off.
    pub async fn trigger_scheduled_job(&self, id: &str) -> Result<Job, Error> {
        check_segment("scheduled job id", id)?;
        let namespace = self.namespace().await?;
        let job: Job = self
            .call_json(
                Method::POST,
                &["api", "scheduled-jobs", &namespace, id, "run"],
                None,
            )
            .await?;
        Ok(job.with_url(self.endpoint()))
    }

    /// `PUT /api/scheduled-jobs/{namespace}/{id}/labels`: replaces the template's labels.
    pub async fn update_scheduled_job_labels(
        &self,
        id: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) -> Result<ScheduledJob, Error> {
        check_segment("scheduled job id", id)?;
        let namespace = self.namespace().await?;
        let body = json!({ "labels": labels });
        self.call_json(
            Method::PUT,
            &["api", "scheduled-jobs", &namespace, id, "labels"],
            Some(&body),
        )
        .await
    }

    /// `POST /api/scheduled-jobs/{namespace}/{id}/schedule`: changes the schedule.
    pub async fn update_scheduled_job_schedule(
        &self,
        id: &str,
        schedule: &str,
    ) -> Result<ScheduledJob, Error> {
        check_segment("scheduled job id", id)?;
        let namespace = self.namespace().await?;
        let body = json!({ "schedule": schedule });
        self.call_json(
            Method::POST,
            &["api", "scheduled-jobs", &namespace, id, "schedule"],
            Some(&body),
        )
        .await
    }

    async fn scheduled_action(
        &self,
        method: Method,
        id: &str,
        action: Option<&str>,
    ) -> Result<(), Error> {
        check_segment("scheduled job id", id)?;
        let namespace = self.namespace().await?;
        let mut segments = vec!["api", "scheduled-jobs", namespace.as_str(), id];
        segments.extend(action);
        self.call(method, &segments, None).await?;
        Ok(())
    }
}

/// Whether a stream ended by this error should be counted as a network failure.
pub(crate) fn is_network(error: &Error) -> bool {
    matches!(error, Error::Transport(_) | Error::Timeout(_))
}
