//! Log and metric streams over Server-Sent Events, with `huggingface_hub` 2.4.0's reconnection
//! loop (`_stream_sse_events`): the Hub replays a job's whole log on every connection, so a
//! reconnect skips the events already yielded; following stops once an inspect of the job shows
//! a terminal stage, never merely because a connection ended.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, Stream, StreamExt};
use jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;

use super::{BoxStream, Metrics, is_network};
use crate::client::HfClient;
use crate::error::Error;
use crate::http::{check_segment, check_status};

/// How a stream waits and reconnects. Defaults are Python's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamPolicy {
    /// Silence (no byte, not even a keep-alive comment) after which a connection is given up:
    /// without follow it means "everything was sent"; with follow the job is inspected.
    pub idle_timeout: Duration,
    /// Consecutive network failures tolerated while following (new data resets the count).
    pub max_retries: u32,
    /// Backoff between reconnections doubles from `min_backoff` up to `max_backoff`.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

impl StreamPolicy {
    fn with_idle(idle_timeout: Duration) -> Self {
        Self {
            idle_timeout,
            max_retries: 5,
            min_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(10),
        }
    }
}

/// Options of [`HfClient::job_logs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep streaming new lines until the job is terminal, reconnecting after failures.
    pub follow: bool,
    /// Start from the last `tail` lines (sent on the first connection only).
    pub tail: Option<u64>,
    pub policy: StreamPolicy,
}

impl LogOptions {
    /// The lines logged so far, then stop (5 s of silence means the replay is over).
    pub fn once() -> Self {
        Self {
            follow: false,
            tail: None,
            policy: StreamPolicy::with_idle(Duration::from_secs(5)),
        }
    }

    /// Every line until the job ends (idle timeout 120 s, four keep-alive periods).
    pub fn follow() -> Self {
        Self {
            follow: true,
            tail: None,
            policy: StreamPolicy::with_idle(Duration::from_secs(120)),
        }
    }

    pub fn tail(mut self, lines: u64) -> Self {
        self.tail = Some(lines);
        self
    }

    pub fn policy(mut self, policy: StreamPolicy) -> Self {
        self.policy = policy;
        self
    }
}

/// Options of [`HfClient::job_metrics`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsOptions {
    /// Keep sampling until the job is terminal; otherwise return the current sample only.
    pub follow: bool,
    pub policy: StreamPolicy,
}

impl MetricsOptions {
    pub fn once() -> Self {
        Self {
            follow: false,
            policy: StreamPolicy::with_idle(Duration::from_secs(10)),
        }
    }

    pub fn follow() -> Self {
        Self {
            follow: true,
            policy: StreamPolicy::with_idle(Duration::from_secs(10)),
        }
    }

    pub fn policy(mut self, policy: StreamPolicy) -> Self {
        self.policy = policy;
        self
    }
}

/// One line of a job's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub text: String,
    /// When the line was logged, if the Hub said so in a readable form.
    pub timestamp: Option<Timestamp>,
}

const BANNER: &str = "===== Job started";

pub(crate) fn logs(client: HfClient, job_id: String, options: LogOptions) -> BoxStream<LogLine> {
    let params = options.tail.map(|n| vec![("tail", n.to_string())]);
    let events = Sse::new(
        client,
        job_id,
        "logs",
        options.follow,
        true,
        &[],
        options.policy,
        params,
    );
    let lines = events.into_stream().filter_map(|event| async move {
        match event {
            Err(e) => Some(Err(e)),
            Ok(event) => match event.get("data").and_then(Value::as_str) {
                Some(text) if text.starts_with(BANNER) => None,
                Some(text) => Some(Ok(LogLine {
                    text: text.to_owned(),
                    timestamp: event
                        .get("timestamp")
                        .and_then(Value::as_str)
                        .and_then(|t| t.parse().ok()),
                })),
                None => Some(Err(Error::InvalidResponse(format!(
                    "log event without a `data` string: {event}"
                )))),
            },
        }
    });
    Box::pin(lines)
}

pub(crate) fn metrics(
    client: HfClient,
    job_id: String,
    options: MetricsOptions,
) -> BoxStream<Metrics> {
    // The metrics endpoint answers 406 (formerly 500) once the job is over: that is an end.
    let events = Sse::new(
        client,
        job_id,
        "metrics",
        options.follow,
        false,
        &[406, 500],
        options.policy,
        None,
    );
    let samples = events.into_stream().map(|event| {
        event.and_then(|value| {
            serde_json::from_value::<Metrics>(value)
                .map_err(|e| Error::InvalidResponse(format!("metrics event: {e}")))
        })
    });
    if options.follow {
        Box::pin(samples)
    } else {
        Box::pin(samples.take(1))
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

struct Connection {
    body: Body,
    buffer: Vec<u8>,
    /// Index of the last `data: {` event of this connection (-1 before the first).
    event_idx: i64,
    /// Without follow: events logged after the server's `Date` + 1 s are not part of the replay.
    replay_end: Option<Timestamp>,
}

enum Connect {
    Open(Connection),
    /// A tolerated status (metrics of a finished job): nothing to read this time.
    Nothing,
    Idle,
}

enum Read {
    Line(String),
    End,
    Idle,
    Failed(Error),
}

#[derive(PartialEq, Eq)]
enum Outcome {
    Clean,
    Failed,
}

struct Sse {
    client: HfClient,
    job_id: String,
    route: &'static str,
    follow: bool,
    skip_replayed: bool,
    tolerated: &'static [u16],
    policy: StreamPolicy,
    /// Query of the first connection only (`tail`), dropped afterwards.
    params: Option<Vec<(&'static str, String)>>,
    namespace: Option<String>,
    connection: Option<Connection>,
    start_idx: i64,
    /// Last event of a `tail` connection, whose index in the full replay is unknown.
    resume_after: Option<Value>,
    last_event: Option<Value>,
    tries: u32,
    backoff: Duration,
    pending_sleep: Option<Duration>,
    drained: bool,
    done: bool,
}

impl Sse {
    #[allow(clippy::too_many_arguments)]
    fn new(
        client: HfClient,
        job_id: String,
        route: &'static str,
        follow: bool,
        skip_replayed: bool,
        tolerated: &'static [u16],
        policy: StreamPolicy,
        params: Option<Vec<(&'static str, String)>>,
    ) -> Self {
        let policy = if follow {
            policy
        } else {
            StreamPolicy {
                max_retries: 0,
                ..policy
            }
        };
        Self {
            client,
            job_id,
            route,
            follow,
            skip_replayed,
            tolerated,
            policy,
            params,
            namespace: None,
            connection: None,
            start_idx: 0,
            resume_after: None,
            last_event: None,
            tries: 0,
            backoff: Duration::ZERO,
            pending_sleep: None,
            drained: false,
            done: false,
        }
    }

    fn into_stream(self) -> impl Stream<Item = Result<Value, Error>> + Send {
        stream::unfold(self, |mut sse| async move {
            let item = sse.next().await?;
            if item.is_err() {
                sse.done = true;
            }
            Some((item, sse))
        })
    }

    async fn next(&mut self) -> Option<Result<Value, Error>> {
        if let Err(e) = check_segment("job id", &self.job_id) {
            self.done = true;
            return Some(Err(e));
        }
        loop {
            if self.done {
                return None;
            }
            if self.connection.is_none() {
                if let Some(wait) = self.pending_sleep.take() {
                    tokio::time::sleep(wait).await;
                }
                match self.connect().await {
                    Ok(Connect::Open(connection)) => self.connection = Some(connection),
                    Ok(Connect::Nothing) => {
                        if let Some(error) = self.end_iteration(Outcome::Clean).await {
                            return Some(Err(error));
                        }
                        continue;
                    }
                    Ok(Connect::Idle) => {
                        if let Some(error) = self.idle().await {
                            return Some(Err(error));
                        }
                        continue;
                    }
                    Err(error) if is_network(&error) => {
                        if let Some(error) = self.failed(error).await {
                            return Some(Err(error));
                        }
                        continue;
                    }
                    Err(error) => return Some(Err(error)),
                }
            }
            match self.read_line().await {
                Read::Line(line) => match self.process(&line) {
                    Ok(Some(event)) => return Some(Ok(event)),
                    Ok(None) => {}
                    Err(error) => return Some(Err(error)),
                },
                Read::End => {
                    self.connection = None;
                    if let Some(error) = self.end_iteration(Outcome::Clean).await {
                        return Some(Err(error));
                    }
                }
                Read::Idle => {
                    self.connection = None;
                    if let Some(error) = self.idle().await {
                        return Some(Err(error));
                    }
                }
                Read::Failed(error) => {
                    self.connection = None;
                    if let Some(error) = self.failed(error).await {
                        return Some(Err(error));
                    }
                }
            }
        }
    }

    async fn connect(&mut self) -> Result<Connect, Error> {
        let namespace = match &self.namespace {
            Some(namespace) => namespace.clone(),
            None => {
                let namespace = self.client.namespace().await?;
                self.namespace = Some(namespace.clone());
                namespace
            }
        };
        let url = self
            .client
            .url(&["api", "jobs", &namespace, &self.job_id, self.route]);
        let what = format!("GET {}", url.path());
        let mut request = self.client.request(Method::GET, url, true);
        if let Some(params) = &self.params {
            request = request.query(params);
        }
        let response = match tokio::time::timeout(self.policy.idle_timeout, request.send()).await {
            Err(_) => return Ok(Connect::Idle),
            Ok(Err(e)) => return Err(Error::from_transport(e, &what)),
            Ok(Ok(response)) => response,
        };
        let status = response.status().as_u16();
        if status == 200 {
            let replay_end = if self.follow {
                None
            } else {
                response
                    .headers()
                    .get("date")
                    .and_then(|v| v.to_str().ok())
                    .and_then(parse_http_date)
                    .map(|date| date + jiff::SignedDuration::from_secs(1))
            };
            return Ok(Connect::Open(Connection {
                body: Box::pin(response.bytes_stream()),
                buffer: Vec::new(),
                event_idx: -1,
                replay_end,
            }));
        }
        if self.tolerated.contains(&status) {
            return Ok(Connect::Nothing);
        }
        check_status(response, &what).await?;
        Ok(Connect::Nothing)
    }

    async fn read_line(&mut self) -> Read {
        let idle = self.policy.idle_timeout;
        let connection = self.connection.as_mut().expect("connected");
        loop {
            if let Some(end) = connection.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = connection.buffer.drain(..=end).collect();
                return Read::Line(
                    String::from_utf8_lossy(&line)
                        .trim_end_matches(['\n', '\r'])
                        .to_owned(),
                );
            }
            match tokio::time::timeout(idle, connection.body.next()).await {
                Err(_) => return Read::Idle,
                Ok(None) if connection.buffer.is_empty() => return Read::End,
                Ok(None) => {
                    let line = std::mem::take(&mut connection.buffer);
                    return Read::Line(
                        String::from_utf8_lossy(&line)
                            .trim_end_matches('\r')
                            .to_owned(),
                    );
                }
                Ok(Some(Ok(bytes))) => connection.buffer.extend_from_slice(&bytes),
                Ok(Some(Err(e))) => {
                    return Read::Failed(Error::from_transport(e, "reading the event stream"));
                }
            }
        }
    }

    /// Handles one line: `Some(event)` to yield, `None` to skip (comments, replayed events).
    fn process(&mut self, line: &str) -> Result<Option<Value>, Error> {
        let Some(json) = line
            .strip_prefix("data: ")
            .filter(|rest| rest.starts_with('{'))
        else {
            return Ok(None);
        };
        let connection = self.connection.as_mut().expect("connected");
        connection.event_idx += 1;
        let index = connection.event_idx;
        let event: Value = serde_json::from_str(json).map_err(|e| {
            Error::InvalidResponse(format!("malformed event in the {} stream: {e}", self.route))
        })?;
        if let Some(resume) = &self.resume_after {
            if event == *resume {
                self.resume_after = None;
                self.start_idx = index + 1;
                return Ok(None);
            }
            if let (Some(at), Some(resume_at)) = (timestamp(&event), timestamp(resume))
                && at <= resume_at
            {
                return Ok(None);
            }
            // The last tailed event is missing from the replay: resume at the first later one.
            self.resume_after = None;
            self.start_idx = index;
        }
        if index < self.start_idx {
            return Ok(None);
        }
        if self.skip_replayed {
            self.start_idx += 1;
        }
        if let (Some(end), Some(at)) = (connection.replay_end, timestamp(&event))
            && at > end
        {
            // Logged after the request: not part of what "the logs so far" means.
            self.connection = None;
            self.done = true;
            return Ok(None);
        }
        self.tries = 0;
        self.backoff = Duration::ZERO;
        self.last_event = Some(event.clone());
        Ok(Some(event))
    }

    /// A network failure: retried while following, within `max_retries` consecutive failures.
    async fn failed(&mut self, error: Error) -> Option<Error> {
        if self.tries >= self.policy.max_retries {
            return Some(error);
        }
        self.tries += 1;
        self.backoff = bounded(
            self.backoff * 2,
            self.policy.min_backoff,
            self.policy.max_backoff,
        );
        tracing::debug!(job = %self.job_id, route = self.route, %error, tries = self.tries, "event stream failed, reconnecting");
        self.pending_sleep = Some(self.backoff);
        self.end_iteration(Outcome::Failed).await
    }

    /// Silence: without follow the replay is over; with follow it costs no retry.
    async fn idle(&mut self) -> Option<Error> {
        if !self.follow {
            self.done = true;
            return None;
        }
        self.end_iteration(Outcome::Clean).await
    }

    /// After each connection: decide, from the job's stage, whether to reconnect.
    async fn end_iteration(&mut self, outcome: Outcome) -> Option<Error> {
        if self.params.take().is_some() {
            self.resume_after = self.last_event.clone();
        }
        if !self.follow {
            self.done = true;
            return None;
        }
        match self.job_is_terminal().await {
            Err(error) => return Some(error),
            Ok(true) => {
                // A broken connection may have lost the last lines: one last full replay of a
                // finished job (which the Hub closes) picks them up.
                if outcome == Outcome::Failed && self.skip_replayed && !self.drained {
                    self.drained = true;
                    self.pending_sleep = None;
                } else {
                    self.done = true;
                }
                return None;
            }
            Ok(false) => {}
        }
        if outcome == Outcome::Clean {
            // The stage lags a little behind the last line: back off, then look again.
            self.backoff = bounded(
                self.backoff * 2,
                self.policy.min_backoff * 2,
                self.policy.max_backoff,
            );
            tokio::time::sleep(self.backoff).await;
            match self.job_is_terminal().await {
                Err(error) => return Some(error),
                Ok(true) => self.done = true,
                Ok(false) => {}
            }
        }
        None
    }

    // `&mut self` rather than `&self`: the stream must be `Send` without being `Sync`.
    async fn job_is_terminal(&mut self) -> Result<bool, Error> {
        Ok(self
            .client
            .inspect_job(&self.job_id)
            .await?
            .status
            .stage
            .is_terminal())
    }
}

/// Python's `min(max_wait, max(min_wait, value))`: never panics, even if `low > high`.
fn bounded(value: Duration, low: Duration, high: Duration) -> Duration {
    value.max(low).min(high)
}

fn timestamp(event: &Value) -> Option<Timestamp> {
    event.get("timestamp")?.as_str()?.parse().ok()
}

/// An HTTP `Date` header (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn parse_http_date(text: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new()
        .parse_timestamp(text)
        .ok()
}
