//! `FakeHub`: the Hugging Face Hub endpoints Ferry uses, with the Hub's own answers.
//!
//! Covered: `whoami-v2`; Jobs (create, inspect, list with `stage`/`label` filters and `Link`
//! pagination by `cursor`, count, cancel, labels, expose, duplicate, hardware); the logs SSE
//! stream (replays from the start on every connection, honours `tail`, closes for finished jobs,
//! stays open for running ones and streams appended lines; connections can be cut); the metrics
//! SSE stream (500 for finished jobs); scheduled jobs (create, list, inspect, delete, suspend,
//! resume, trigger with the 409 concurrency rule, labels, schedule); buckets (create with the
//! 409 `url` answer, info, list, delete, tree, paths-info, the NDJSON batch with per-path
//! failures, xet tokens: see `buckets.rs`). Request bodies are validated with the OpenAPI
//! rules of the real Hub. Faults go through [`crate::Fault`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::server::{Chunk, FakeServer, Fault, Request, Response, Router};

mod buckets;
mod validate;

#[cfg(test)]
mod tests;

pub use buckets::{BucketState, BucketsState};
pub use validate::{validate_job_spec, validate_labels, validate_schedule};

/// The Hub's error body: `{"error": "..."}`, with the message repeated in `X-Error-Message`.
pub fn hub_error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "error": message })).header("x-error-message", message)
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub text: String,
    /// ISO-8601 with milliseconds and `Z`, strictly increasing within a job.
    pub timestamp: String,
}

/// A scheduled job: the answer the Hub gives, and the spec it was created with (with secret
/// values, which answers never show).
#[derive(Debug, Clone)]
pub struct ScheduledEntry {
    pub answer: Value,
    pub spec: Value,
}

/// What the fake Hub holds. Tests may read and change it through [`FakeHub::with_state`].
#[derive(Debug)]
pub struct HubState {
    /// The token the fake accepts; requests with another bearer token answer 401.
    pub token: String,
    /// The user `whoami-v2` answers with.
    pub user: String,
    /// Organisations of the user: namespaces it may use besides its own.
    pub orgs: Vec<String>,
    /// Jobs by id; ids grow with creation, so this is creation order.
    pub jobs: BTreeMap<String, Value>,
    /// Job create bodies as received, by job id (with secret values).
    pub job_specs: BTreeMap<String, Value>,
    /// Log lines by job id.
    pub logs: HashMap<String, Vec<LogEntry>>,
    pub scheduled: BTreeMap<String, ScheduledEntry>,
    /// What `GET /api/jobs/hardware` answers.
    pub hardware: Vec<Value>,
    /// Jobs per page of `GET /api/jobs/{namespace}`.
    pub page_size: usize,
    /// Time between two metrics events of a running job.
    pub metrics_interval: Duration,
    /// Buckets, their files, the xet CAS URL and batch fault settings.
    pub buckets: BucketsState,
    next_id: u64,
    /// Bumped to cut every open log stream.
    log_generation: u64,
    /// The next log connection is cut after this many events.
    cut_next_log_stream_after: Option<usize>,
    last_timestamp: jiff::Timestamp,
}

impl HubState {
    fn next_id(&mut self) -> String {
        self.next_id += 1;
        format!("{:024x}", self.next_id)
    }

    /// Now, but strictly after the previous timestamp handed out, so log order is total.
    fn now(&mut self) -> String {
        let now =
            jiff::Timestamp::now().max(self.last_timestamp + jiff::SignedDuration::from_millis(1));
        let now = jiff::Timestamp::from_millisecond(now.as_millisecond()).expect("in range");
        self.last_timestamp = now;
        format_time(now)
    }

    fn may_use(&self, namespace: &str) -> bool {
        namespace == self.user || self.orgs.iter().any(|o| o == namespace)
    }

    /// Creates a job from a (validated) spec, as `POST /api/jobs/{namespace}` does.
    fn create_job(&mut self, namespace: &str, spec: &Value, initiator: Value) -> Value {
        let id = self.next_id();
        let now = self.now();
        let job = job_from_spec(&id, namespace, spec, &now, initiator);
        self.jobs.insert(id.clone(), job.clone());
        self.job_specs.insert(id, spec.clone());
        job
    }

    /// Moves a job to `stage`, stamping start and finish times; the first move to `RUNNING`
    /// logs the `===== Job started` banner, as the Hub does.
    pub fn set_stage(&mut self, job_id: &str, stage: &str) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(job_id) else {
            return;
        };
        let was_terminal = is_terminal(job["status"]["stage"].as_str().unwrap_or(""));
        job["status"]["stage"] = json!(stage);
        job["status"]["message"] = Value::Null;
        let started = job.get("startedAt").is_some();
        if stage == "RUNNING" && !started {
            job["startedAt"] = json!(now);
            let banner = format!("===== Job started at {} =====", &now[..19]);
            self.logs
                .entry(job_id.to_owned())
                .or_default()
                .push(LogEntry {
                    text: banner,
                    timestamp: now,
                });
        } else if is_terminal(stage) && !was_terminal {
            job["finishedAt"] = json!(now);
        }
    }
}

fn format_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn is_terminal(stage: &str) -> bool {
    matches!(stage, "COMPLETED" | "CANCELED" | "ERROR" | "DELETED")
}

/// The hardware list the fake starts with: four entries exactly as the Hub lists them, then
/// every other public Jobs flavor from the embedded catalogue in the Hub's shape (without
/// `ephemeralStorage`, which the catalogue does not know and the Hub may omit).
pub fn default_hardware() -> Vec<Value> {
    let mut listed = listed_hardware();
    for hardware in runner_labels::Catalogue::embedded().iter() {
        if listed.iter().any(|h| h["name"] == hardware.name.as_str()) {
            continue;
        }
        let accelerator = hardware.accelerator.as_ref().map(|a| {
            json!({ "type": if hardware.is_gpu() { "gpu" } else { "neuron" }, "model": a.model,
                    "quantity": a.quantity.to_string(), "vram": a.vram,
                    "manufacturer": a.manufacturer })
        });
        let micro = hardware.micro_usd_per_minute;
        listed.push(json!({
            "name": hardware.name, "prettyName": hardware.pretty_name, "cpu": hardware.cpu,
            "ram": hardware.ram, "accelerator": accelerator, "unitCostMicroUSD": micro,
            "unitCostUSD": micro as f64 / 1_000_000.0, "unitLabel": "minute",
        }));
    }
    listed
}

fn listed_hardware() -> Vec<Value> {
    vec![
        json!({ "name": "cpu-basic", "prettyName": "CPU Basic", "cpu": "2 vCPU", "ram": "16 GB",
                "ephemeralStorage": "50 GB", "accelerator": null, "unitCostMicroUSD": 167,
                "unitCostUSD": 0.000167, "unitLabel": "minute" }),
        json!({ "name": "cpu-upgrade", "prettyName": "CPU Upgrade", "cpu": "8 vCPU", "ram": "32 GB",
                "ephemeralStorage": "50 GB", "accelerator": null, "unitCostMicroUSD": 500,
                "unitCostUSD": 0.0005, "unitLabel": "minute" }),
        json!({ "name": "t4-small", "prettyName": "Nvidia T4 - small", "cpu": "4 vCPU", "ram": "15 GB",
                "ephemeralStorage": "50 GB",
                "accelerator": { "type": "gpu", "model": "T4", "quantity": "1", "vram": "16 GB",
                                 "manufacturer": "Nvidia" },
                "unitCostMicroUSD": 6667, "unitCostUSD": 0.006667, "unitLabel": "minute" }),
        json!({ "name": "a10g-large", "prettyName": "Nvidia A10G - large", "cpu": "12 vCPU",
                "ram": "46 GB", "ephemeralStorage": "200 GB",
                "accelerator": { "type": "gpu", "model": "A10G", "quantity": "1", "vram": "24 GB",
                                 "manufacturer": "Nvidia" },
                "unitCostMicroUSD": 25000, "unitCostUSD": 0.025, "unitLabel": "minute" }),
    ]
}

/// A fake Hugging Face Hub on loopback.
pub struct FakeHub {
    pub server: FakeServer,
    state: Arc<Mutex<HubState>>,
}

impl FakeHub {
    /// A Hub that accepts `token` for the user `user`.
    pub fn start(token: &str, user: &str) -> Self {
        let state = Arc::new(Mutex::new(HubState {
            token: token.to_owned(),
            user: user.to_owned(),
            orgs: Vec::new(),
            jobs: BTreeMap::new(),
            job_specs: BTreeMap::new(),
            logs: HashMap::new(),
            scheduled: BTreeMap::new(),
            hardware: default_hardware(),
            page_size: 50,
            metrics_interval: Duration::from_millis(50),
            buckets: BucketsState {
                page_size: 1000,
                ..BucketsState::default()
            },
            next_id: 0x6900_0000_0000,
            log_generation: 0,
            cut_next_log_stream_after: None,
            last_timestamp: jiff::Timestamp::UNIX_EPOCH,
        }));
        let router = routes(Router::new(hub_error), &state);
        Self {
            server: FakeServer::start(router),
            state,
        }
    }

    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// Runs `f` on the fake's state, for arranging and asserting.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut HubState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Injects a fault (status, `Retry-After`, delay...) through the generic server.
    pub fn inject(&self, fault: Fault) {
        self.server.inject(fault);
    }

    /// Lets the user act in `org` too.
    pub fn add_org(&self, org: &str) {
        self.with_state(|s| s.orgs.push(org.to_owned()));
    }

    /// Creates a job directly (no HTTP), validated like a request; returns its id.
    pub fn add_job(&self, namespace: &str, spec: Value) -> String {
        validate_job_spec(&spec).expect("a valid job spec");
        self.with_state(|s| s.create_job(namespace, &spec, Value::Null))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The job as the Hub would answer it.
    pub fn job(&self, job_id: &str) -> Option<Value> {
        self.with_state(|s| s.jobs.get(job_id).cloned())
    }

    /// Moves a job to another stage, as the Hub does when it runs or ends.
    pub fn set_stage(&self, job_id: &str, stage: &str) {
        self.with_state(|s| s.set_stage(job_id, stage));
    }

    /// Sets the status message (for example `Job failed with exit code: 1`).
    pub fn set_status_message(&self, job_id: &str, message: &str) {
        self.with_state(|s| {
            if let Some(job) = s.jobs.get_mut(job_id) {
                job["status"]["message"] = json!(message);
            }
        });
    }

    /// Appends lines to a job's log; open streams of a running job send them at once.
    pub fn append_logs(&self, job_id: &str, lines: &[&str]) {
        self.with_state(|s| {
            for line in lines {
                let timestamp = s.now();
                s.logs.entry(job_id.to_owned()).or_default().push(LogEntry {
                    text: (*line).to_owned(),
                    timestamp,
                });
            }
        });
    }

    /// Breaks every open log connection, as a network failure would.
    pub fn cut_log_streams(&self) {
        self.with_state(|s| s.log_generation += 1);
    }

    /// The next log connection breaks after sending `events` events.
    pub fn cut_next_log_stream_after(&self, events: usize) {
        self.with_state(|s| s.cut_next_log_stream_after = Some(events));
    }

    /// Jobs per page of the job listing.
    pub fn set_page_size(&self, page_size: usize) {
        self.with_state(|s| s.page_size = page_size.max(1));
    }

    /// The scheduled job as the Hub would answer it.
    pub fn scheduled_job(&self, id: &str) -> Option<Value> {
        self.with_state(|s| s.scheduled.get(id).map(|e| e.answer.clone()))
    }

    /// The `casUrl` the xet token endpoints hand out (a real or simulated CAS).
    pub fn set_xet_cas_url(&self, url: &str) {
        self.with_state(|s| s.buckets.cas_url = Some(url.to_owned()));
    }

    /// Batch operations on `path` are refused with `reason`, as the Hub lists them in `failed`.
    pub fn refuse_batch_path(&self, path: &str, reason: &str) {
        self.with_state(|s| {
            s.buckets
                .refuse_paths
                .insert(path.to_owned(), reason.to_owned())
        });
    }

    /// The size the fake records for files added with this xet hash (the Hub asks its CAS).
    pub fn set_xet_file_size(&self, xet_hash: &str, size: u64) {
        self.with_state(|s| s.buckets.xet_sizes.insert(xet_hash.to_owned(), size));
    }

    /// Items per page of bucket listings and trees.
    pub fn set_bucket_page_size(&self, page_size: usize) {
        self.with_state(|s| s.buckets.page_size = page_size.max(1));
    }

    /// Creates a bucket directly (no HTTP).
    pub fn add_bucket(&self, bucket_id: &str, private: bool) {
        self.with_state(|s| {
            let object_id = s.next_id();
            let now = s.now();
            s.buckets.buckets.insert(
                bucket_id.to_owned(),
                BucketState {
                    object_id,
                    private,
                    created_at: now.clone(),
                    updated_at: now,
                    files: BTreeMap::new(),
                },
            );
        });
    }

    /// The bucket's state, if it exists.
    pub fn bucket(&self, bucket_id: &str) -> Option<BucketState> {
        self.with_state(|s| s.buckets.buckets.get(bucket_id).cloned())
    }

    /// Every batch received so far, each as its parsed NDJSON lines.
    pub fn bucket_batches(&self) -> Vec<Vec<Value>> {
        self.with_state(|s| s.buckets.batches.clone())
    }
}

type Shared = Arc<Mutex<HubState>>;

fn authorised(state: &Shared, request: &Request) -> Result<(), Response> {
    let state = state.lock().unwrap();
    match request.bearer() {
        Some(token) if token == state.token => Ok(()),
        _ => Err(hub_error(
            401,
            "Invalid credentials in Authorization header",
        )),
    }
}

/// Authenticated and allowed in the namespace of the path.
fn allowed(state: &Shared, request: &Request, namespace: &str) -> Result<(), Response> {
    authorised(state, request)?;
    if state.lock().unwrap().may_use(namespace) {
        Ok(())
    } else {
        Err(hub_error(
            403,
            &format!("You don't have access to the namespace '{namespace}'"),
        ))
    }
}

/// A handler with the shared state, its namespace check done first.
fn guarded(
    state: &Shared,
    handler: impl Fn(&mut HubState, &Request, &HashMap<String, String>) -> Response
    + Send
    + Sync
    + 'static,
) -> impl Fn(&Request, &HashMap<String, String>) -> Response + Send + Sync + 'static {
    let state = state.clone();
    move |request, params| {
        let namespace = params.get("namespace").map(String::as_str).unwrap_or("");
        if let Err(denied) = allowed(&state, request, namespace) {
            return denied;
        }
        handler(&mut state.lock().unwrap(), request, params)
    }
}

fn json_body(request: &Request) -> Result<Value, Response> {
    request
        .json()
        .map_err(|e| hub_error(400, &format!("Invalid JSON body: {e}")))
}

fn job_not_found() -> Response {
    hub_error(404, "Job not found")
}

/// The job of the path, if it belongs to the namespace of the path.
fn job_mut<'a>(state: &'a mut HubState, params: &HashMap<String, String>) -> Option<&'a mut Value> {
    state
        .jobs
        .get_mut(&params["id"])
        .filter(|job| job["owner"]["name"] == params["namespace"].as_str())
}

fn routes(router: Router, state: &Shared) -> Router {
    let s = state.clone();
    let router = router.route("GET", "/api/whoami-v2", move |req, _| {
        if let Err(denied) = authorised(&s, req) {
            return denied;
        }
        let state = s.lock().unwrap();
        let orgs: Vec<Value> = state
            .orgs
            .iter()
            .map(|o| {
                json!({ "type": "org", "id": "5f0000000000000000000000", "name": o, "fullname": o,
                             "roleInOrg": "write" })
            })
            .collect();
        Response::json(
            200,
            &json!({ "type": "user", "id": "6543210fedcba9876543210f", "name": state.user,
                     "fullname": state.user, "isPro": false, "orgs": orgs,
                     "auth": { "type": "access_token",
                               "accessToken": { "displayName": "fake", "role": "write" } } }),
        )
    });

    // Literal segments first: `hardware` and `count` would otherwise match `{namespace}/{id}`.
    let s = state.clone();
    let router = router.route("GET", "/api/jobs/hardware", move |req, _| {
        // Public, but a token that is sent must be valid.
        if req.header("authorization").is_some()
            && let Err(denied) = authorised(&s, req)
        {
            return denied;
        }
        Response::json(200, &s.lock().unwrap().hardware)
    });
    let router = router.route(
        "GET",
        "/api/jobs/{namespace}/count",
        guarded(state, |state, req, params| {
            let stages = req.query_all("stage");
            let count = state
                .jobs
                .values()
                .filter(|job| job["owner"]["name"] == params["namespace"].as_str())
                .filter(|job| {
                    stages.is_empty() || stages.iter().any(|s| job["status"]["stage"] == *s)
                })
                .count();
            Response::json(200, &json!({ "count": count }))
        }),
    );
    let router = router.route(
        "POST",
        "/api/jobs/{namespace}",
        guarded(state, |state, req, params| {
            let spec = match json_body(req) {
                Ok(spec) => spec,
                Err(e) => return e,
            };
            if let Err(message) = validate_job_spec(&spec) {
                return hub_error(400, &message);
            }
            let job = state.create_job(&params["namespace"], &spec, user_initiator(&state.user));
            Response::json(200, &job)
        }),
    );
    let router = router.route("GET", "/api/jobs/{namespace}", guarded(state, list_jobs));
    let router = router.route(
        "GET",
        "/api/jobs/{namespace}/{id}",
        guarded(state, |state, _, params| match job_mut(state, params) {
            Some(job) => Response::json(200, job),
            None => job_not_found(),
        }),
    );
    let router = router.route(
        "POST",
        "/api/jobs/{namespace}/{id}/cancel",
        guarded(state, |state, _, params| {
            let stage = job_mut(state, params)
                .map(|j| j["status"]["stage"].as_str().unwrap_or("").to_owned());
            let Some(stage) = stage else {
                return job_not_found();
            };
            if !is_terminal(&stage) {
                state.set_stage(&params["id"], "CANCELED");
            }
            Response::json(200, &state.jobs[&params["id"]])
        }),
    );
    let router = router.route(
        "PUT",
        "/api/jobs/{namespace}/{id}/labels",
        guarded(state, |state, req, params| {
            let body = match json_body(req) {
                Ok(body) => body,
                Err(e) => return e,
            };
            let Some(job) = job_mut(state, params) else {
                return job_not_found();
            };
            let Some(labels) = body.get("labels").filter(|l| l.is_object()) else {
                return hub_error(400, "labels: Expected object, received undefined");
            };
            if let Err(message) = validate_labels(labels) {
                return hub_error(400, &message);
            }
            job["labels"] = labels.clone();
            Response::json(200, job)
        }),
    );
    let router = router.route(
        "PUT",
        "/api/jobs/{namespace}/{id}/expose",
        guarded(state, |state, req, params| {
            let body = match json_body(req) {
                Ok(body) => body,
                Err(e) => return e,
            };
            if let Err(message) = validate::validate_expose(&body) {
                return hub_error(400, &message);
            }
            let Some(job) = job_mut(state, params) else {
                return job_not_found();
            };
            if job["status"]["stage"] != "RUNNING" {
                return hub_error(400, "Ports can only be exposed on a running job");
            }
            job["expose"] = body.clone();
            job["status"]["exposeUrls"] = expose_urls(&params["id"], &body);
            Response::json(200, job)
        }),
    );
    let router = router.route(
        "POST",
        "/api/jobs/{namespace}/{id}/duplicate",
        guarded(state, |state, _, params| {
            if job_mut(state, params).is_none() {
                return job_not_found();
            }
            let spec = state.job_specs[&params["id"]].clone();
            let initiator = json!({ "type": "duplicated-job", "id": params["id"] });
            Response::json(
                200,
                &state.create_job(&params["namespace"], &spec, initiator),
            )
        }),
    );
    let s = state.clone();
    let router = router.route(
        "GET",
        "/api/jobs/{namespace}/{id}/logs",
        move |req, params| {
            if let Err(denied) = allowed(&s, req, &params["namespace"]) {
                return denied;
            }
            logs(&s, req, params)
        },
    );
    let s = state.clone();
    let router = router.route(
        "GET",
        "/api/jobs/{namespace}/{id}/metrics",
        move |req, params| {
            if let Err(denied) = allowed(&s, req, &params["namespace"]) {
                return denied;
            }
            metrics(&s, params)
        },
    );
    let router = scheduled_routes(router, state);
    buckets::routes(router, state)
}

fn user_initiator(user: &str) -> Value {
    json!({ "id": "6543210fedcba9876543210f", "name": user, "type": "user",
            "avatarUrl": "https://cdn-avatars.huggingface.co/fake.png" })
}

fn expose_urls(id: &str, expose: &Value) -> Value {
    let ports = expose["ports"].as_array().cloned().unwrap_or_default();
    json!(
        ports
            .iter()
            .map(|p| format!("https://{id}--{p}.hf.jobs"))
            .collect::<Vec<_>>()
    )
}

/// `GET /api/jobs/{namespace}`: filters, then one page from `cursor` with a `Link` to the next.
fn list_jobs(state: &mut HubState, req: &Request, params: &HashMap<String, String>) -> Response {
    let stages = req.query_all("stage");
    let mut labels = Vec::new();
    for label in req.query_all("label") {
        match label.split_once('=') {
            Some((k, v)) if validate::is_label_key(k) && validate::is_label_value(v) => {
                labels.push((k, v))
            }
            _ => {
                return hub_error(
                    400,
                    &format!("label: Invalid label filter '{label}', expected key=value"),
                );
            }
        }
    }
    let offset = match req.query("cursor") {
        None => 0,
        Some(cursor) => match cursor
            .strip_prefix("c")
            .and_then(|n| n.parse::<usize>().ok())
        {
            Some(offset) => offset,
            None => return hub_error(400, "cursor: Invalid cursor"),
        },
    };
    let matching: Vec<&Value> = state
        .jobs
        .values()
        .filter(|job| job["owner"]["name"] == params["namespace"].as_str())
        .filter(|job| stages.is_empty() || stages.iter().any(|s| job["status"]["stage"] == *s))
        .filter(|job| labels.iter().all(|(k, v)| job["labels"][*k] == *v))
        .collect();
    let page: Vec<&Value> = matching
        .iter()
        .skip(offset)
        .take(state.page_size)
        .copied()
        .collect();
    let mut response = Response::json(200, &page);
    let next = offset + state.page_size;
    if next < matching.len() {
        let host = req.header("host").unwrap_or("127.0.0.1");
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for stage in &stages {
            query.append_pair("stage", stage);
        }
        for (k, v) in &labels {
            query.append_pair("label", &format!("{k}={v}"));
        }
        query.append_pair("cursor", &format!("c{next}"));
        let link = format!(
            "<http://{host}/api/jobs/{}?{}>; rel=\"next\"",
            params["namespace"],
            query.finish()
        );
        response = response.header("link", link);
    }
    response
}

fn sse_response() -> Response {
    Response::new(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
}

/// The logs SSE stream: replay from the start (or the last `tail` lines), then, while the job
/// is not terminal, new lines as they are appended; closed once the job is terminal.
fn logs(state: &Shared, req: &Request, params: &HashMap<String, String>) -> Response {
    let id = params["id"].clone();
    let (start, generation, cut_after) = {
        let mut s = state.lock().unwrap();
        if job_mut(&mut s, params).is_none() {
            return job_not_found();
        }
        let total = s.logs.get(&id).map_or(0, Vec::len);
        let start = match req.query("tail").map(str::parse::<usize>) {
            None => 0,
            Some(Ok(tail)) => total.saturating_sub(tail),
            Some(Err(_)) => return hub_error(400, "tail: Expected number"),
        };
        (start, s.log_generation, s.cut_next_log_stream_after.take())
    };
    struct Cursor {
        state: Shared,
        id: String,
        position: usize,
        sent: usize,
        generation: u64,
        cut_after: Option<usize>,
        caught_up: bool,
    }
    let cursor = Cursor {
        state: state.clone(),
        id,
        position: start,
        sent: 0,
        generation,
        cut_after,
        caught_up: false,
    };
    let stream = futures_util::stream::unfold(cursor, |mut c| async move {
        loop {
            let next = {
                if c.generation == u64::MAX {
                    return None;
                }
                let s = c.state.lock().unwrap();
                if s.log_generation != c.generation || c.cut_after.is_some_and(|n| c.sent >= n) {
                    drop(s);
                    let cut: Chunk = Err(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "cut by the test",
                    ));
                    c.generation = u64::MAX;
                    return Some((cut, c));
                }
                let entries = s.logs.get(&c.id).map(Vec::as_slice).unwrap_or_default();
                match entries.get(c.position) {
                    Some(entry) => {
                        Some(json!({ "data": entry.text, "timestamp": entry.timestamp }))
                    }
                    None => {
                        let stage = s
                            .jobs
                            .get(&c.id)
                            .and_then(|j| j["status"]["stage"].as_str());
                        if stage.is_none_or(is_terminal) {
                            return None;
                        }
                        None
                    }
                }
            };
            match next {
                Some(event) => {
                    c.position += 1;
                    c.sent += 1;
                    let chunk: Chunk = Ok(Bytes::from(format!("data: {event}\n\n")));
                    return Some((chunk, c));
                }
                None if !c.caught_up => {
                    c.caught_up = true;
                    return Some((Ok(Bytes::from_static(b": keep-alive\n\n")), c));
                }
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    });
    sse_response().stream(stream)
}

/// The metrics SSE stream: 500 once the job is finished; otherwise one sample per interval while
/// it runs. Like the Hub's, the stream does not end when the job does: it only goes quiet.
fn metrics(state: &Shared, params: &HashMap<String, String>) -> Response {
    let id = params["id"].clone();
    let interval = {
        let mut s = state.lock().unwrap();
        let Some(job) = job_mut(&mut s, params) else {
            return job_not_found();
        };
        if is_terminal(job["status"]["stage"].as_str().unwrap_or("")) {
            return hub_error(500, "Internal Server Error");
        }
        s.metrics_interval
    };
    let state = state.clone();
    let stream = futures_util::stream::unfold(0u64, move |n| {
        let state = state.clone();
        let id = id.clone();
        async move {
            loop {
                tokio::time::sleep(interval).await;
                let running = {
                    let s = state.lock().unwrap();
                    s.jobs
                        .get(&id)
                        .is_some_and(|j| j["status"]["stage"] == "RUNNING")
                };
                if running {
                    let sample = json!({ "cpu_usage_pct": 42, "cpu_millicores": 8000,
                        "memory_used_bytes": 4_000_000_000u64 + n, "memory_total_bytes": 16_000_000_000u64,
                        "rx_bps": 1_000_000, "tx_bps": 2_000_000,
                        "gpus": { "gpu-0": { "utilization": 10, "memory_used_bytes": 1_000_000_000u64,
                                             "memory_total_bytes": 80_000_000_000u64 } },
                        "replica": "j6qz9" });
                    let chunk: Chunk =
                        Ok(Bytes::from(format!("event: metric\ndata: {sample}\n\n")));
                    return Some((chunk, n + 1));
                }
            }
        }
    });
    sse_response().stream(stream)
}

/// The job object the Hub answers with: secrets become a list of names, `timeoutSeconds`
/// becomes `timeout`, `attempts` becomes `retry`.
fn job_from_spec(id: &str, namespace: &str, spec: &Value, now: &str, initiator: Value) -> Value {
    let secrets: Vec<&String> = spec
        .get("secrets")
        .and_then(Value::as_object)
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    let mut job = json!({
        "id": id,
        "type": "job",
        "createdAt": now,
        "createdBy": { "id": "6543210fedcba9876543210f", "name": namespace },
        "owner": { "id": "6543210fedcba9876543210f", "name": namespace, "type": "user",
                   "avatarUrl": "https://cdn-avatars.huggingface.co/fake.png" },
        "status": { "stage": "SCHEDULING", "message": null },
        "flavor": spec["flavor"],
        "command": spec.get("command").cloned().unwrap_or(json!([])),
        "arguments": spec.get("arguments").cloned().unwrap_or(json!([])),
        "environment": spec.get("environment").cloned().unwrap_or(json!({})),
        "secrets": secrets,
        "labels": spec.get("labels").cloned().unwrap_or(json!({})),
        "durations": { "totalSecs": 0 },
    });
    if !initiator.is_null() {
        job["initiator"] = initiator;
    }
    for key in [
        "dockerImage",
        "spaceId",
        "volumes",
        "expose",
        "resourceGroupId",
        "network",
        "arch",
    ] {
        if let Some(value) = spec.get(key) {
            job[key] = value.clone();
        }
    }
    if let Some(seconds) = spec.get("timeoutSeconds").filter(|v| !v.is_null()) {
        job["timeout"] = seconds.clone();
    }
    if let Some(attempts) = spec.get("attempts") {
        job["retry"] = attempts.clone();
    }
    if let Some(expose) = spec.get("expose") {
        job["status"]["exposeUrls"] = expose_urls(id, expose);
    }
    if spec["ssh"]["enabled"] == true {
        job["status"]["sshUrl"] = json!(format!("ssh://{id}@ssh.hf.jobs"));
    }
    job
}

/// The `jobSpec` of a scheduled job as answered: like a job, secrets as names and `timeout`.
fn answered_spec(spec: &Value) -> Value {
    let mut answer = Map::new();
    for (key, value) in spec.as_object().into_iter().flatten() {
        match key.as_str() {
            "secrets" => {
                let names: Vec<&String> = value
                    .as_object()
                    .map(|m| m.keys().collect())
                    .unwrap_or_default();
                answer.insert("secrets".into(), json!(names));
            }
            "timeoutSeconds" => {
                answer.insert("timeout".into(), value.clone());
            }
            _ => {
                answer.insert(key.clone(), value.clone());
            }
        }
    }
    Value::Object(answer)
}

fn scheduled_not_found() -> Response {
    hub_error(404, "Scheduled job not found")
}

fn scheduled_mut<'a>(
    state: &'a mut HubState,
    params: &HashMap<String, String>,
) -> Option<&'a mut ScheduledEntry> {
    state
        .scheduled
        .get_mut(&params["id"])
        .filter(|e| e.answer["owner"]["name"] == params["namespace"].as_str())
}

fn scheduled_routes(router: Router, state: &Shared) -> Router {
    let router = router.route(
        "POST",
        "/api/scheduled-jobs/{namespace}",
        guarded(state, |state, req, params| {
            let body = match json_body(req) {
                Ok(body) => body,
                Err(e) => return e,
            };
            let Some(spec) = body.get("jobSpec") else { return hub_error(400, "jobSpec: Required") };
            if let Err(message) = validate_job_spec(spec) {
                return hub_error(400, &format!("jobSpec.{message}"));
            }
            let schedule = body.get("schedule").and_then(Value::as_str).unwrap_or("");
            if let Err(message) = validate_schedule(schedule) {
                return hub_error(400, &message);
            }
            for key in ["suspend", "concurrency"] {
                if body.get(key).is_some_and(|v| !v.is_boolean()) {
                    return hub_error(400, &format!("{key}: Expected boolean"));
                }
            }
            let id = state.next_id();
            let now = state.now();
            let answer = json!({
                "id": id,
                "type": "scheduled-job",
                "createdAt": now,
                "schedule": schedule,
                "suspend": body.get("suspend").cloned().unwrap_or(json!(false)),
                "concurrency": body.get("concurrency").cloned().unwrap_or(json!(false)),
                "status": { "lastJob": null, "nextJobRunAt": "2099-01-01T00:00:00.000Z" },
                "owner": { "id": "6543210fedcba9876543210f", "name": params["namespace"], "type": "user",
                           "avatarUrl": "https://cdn-avatars.huggingface.co/fake.png" },
                "initiator": user_initiator(&state.user),
                "jobSpec": answered_spec(spec),
            });
            state.scheduled.insert(id, ScheduledEntry { answer: answer.clone(), spec: spec.clone() });
            Response::json(200, &answer)
        }),
    );
    let router = router.route(
        "GET",
        "/api/scheduled-jobs/{namespace}",
        guarded(state, |state, req, params| {
            let label = req
                .query("label")
                .map(|l| l.split_once('=').unwrap_or((l, "")));
            let list: Vec<&Value> = state
                .scheduled
                .values()
                .map(|e| &e.answer)
                .filter(|a| a["owner"]["name"] == params["namespace"].as_str())
                .filter(|a| label.is_none_or(|(k, v)| a["jobSpec"]["labels"][k] == v))
                .collect();
            Response::json(200, &list)
        }),
    );
    let router = router.route(
        "GET",
        "/api/scheduled-jobs/{namespace}/{id}",
        guarded(state, |state, _, params| {
            match scheduled_mut(state, params) {
                Some(entry) => Response::json(200, &entry.answer),
                None => scheduled_not_found(),
            }
        }),
    );
    let router = router.route(
        "DELETE",
        "/api/scheduled-jobs/{namespace}/{id}",
        guarded(state, |state, _, params| {
            if scheduled_mut(state, params).is_none() {
                return scheduled_not_found();
            }
            state.scheduled.remove(&params["id"]);
            Response::new(200)
        }),
    );
    let mut router = router;
    for (action, suspend) in [("suspend", true), ("resume", false)] {
        router = router.route(
            "POST",
            &format!("/api/scheduled-jobs/{{namespace}}/{{id}}/{action}"),
            guarded(state, move |state, _, params| {
                match scheduled_mut(state, params) {
                    Some(entry) => {
                        entry.answer["suspend"] = json!(suspend);
                        Response::json(200, &entry.answer)
                    }
                    None => scheduled_not_found(),
                }
            }),
        );
    }
    let router = router.route(
        "POST",
        "/api/scheduled-jobs/{namespace}/{id}/run",
        guarded(state, |state, _, params| {
            let Some(entry) = scheduled_mut(state, params) else {
                return scheduled_not_found();
            };
            let (spec, concurrency) = (entry.spec.clone(), entry.answer["concurrency"] == true);
            let last = entry.answer["status"]["lastJob"]["id"]
                .as_str()
                .map(str::to_owned);
            let running = last
                .and_then(|id| state.jobs.get(&id))
                .is_some_and(|job| !is_terminal(job["status"]["stage"].as_str().unwrap_or("")));
            if running && !concurrency {
                return hub_error(
                    409,
                    "A job of this scheduled job is already running and concurrency is disabled",
                );
            }
            let initiator = json!({ "type": "scheduled-job", "id": params["id"] });
            let job = state.create_job(&params["namespace"], &spec, initiator);
            let entry = state
                .scheduled
                .get_mut(&params["id"])
                .expect("checked above");
            entry.answer["status"]["lastJob"] = json!({ "id": job["id"], "at": job["createdAt"] });
            Response::json(200, &job)
        }),
    );
    let router = router.route(
        "PUT",
        "/api/scheduled-jobs/{namespace}/{id}/labels",
        guarded(state, |state, req, params| {
            let body = match json_body(req) {
                Ok(body) => body,
                Err(e) => return e,
            };
            let Some(labels) = body.get("labels").filter(|l| l.is_object()) else {
                return hub_error(400, "labels: Expected object, received undefined");
            };
            if let Err(message) = validate_labels(labels) {
                return hub_error(400, &message);
            }
            let Some(entry) = scheduled_mut(state, params) else {
                return scheduled_not_found();
            };
            entry.answer["jobSpec"]["labels"] = labels.clone();
            entry.spec["labels"] = labels.clone();
            Response::json(200, &entry.answer)
        }),
    );
    router.route(
        "POST",
        "/api/scheduled-jobs/{namespace}/{id}/schedule",
        guarded(state, |state, req, params| {
            let body = match json_body(req) {
                Ok(body) => body,
                Err(e) => return e,
            };
            let schedule = body.get("schedule").and_then(Value::as_str).unwrap_or("");
            if let Err(message) = validate_schedule(schedule) {
                return hub_error(400, &message);
            }
            let Some(entry) = scheduled_mut(state, params) else {
                return scheduled_not_found();
            };
            entry.answer["schedule"] = json!(schedule);
            Response::json(200, &entry.answer)
        }),
    )
}
