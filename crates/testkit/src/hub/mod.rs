//! `FakeHub`: the Hugging Face Hub endpoints Ferry uses, with the Hub's own answers.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::server::{FakeServer, Request, Response, Router};

#[cfg(test)]
mod tests;

/// The Hub's error body: `{"error": "..."}`, with the message repeated in `X-Error-Message`.
pub fn hub_error(status: u16, message: &str) -> Response {
    Response::json(status, &json!({ "error": message })).header("x-error-message", message)
}

/// What the fake Hub holds.
#[derive(Debug)]
pub struct HubState {
    /// The token the fake accepts; requests with another bearer token answer 401.
    pub token: String,
    /// The user `whoami-v2` answers with.
    pub user: String,
    /// Jobs by id, in creation order of their ids.
    pub jobs: BTreeMap<String, Value>,
    next_id: u64,
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
            jobs: BTreeMap::new(),
            next_id: 0x6900_0000_0000,
        }));
        let router = routes(Router::new(hub_error), &state);
        Self { server: FakeServer::start(router), state }
    }

    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }

    /// Runs `f` on the fake's state, for arranging and asserting.
    pub fn with_state<T>(&self, f: impl FnOnce(&mut HubState) -> T) -> T {
        f(&mut self.state.lock().unwrap())
    }

    /// Moves a job to another stage, as the Hub does when it runs or ends.
    pub fn set_stage(&self, job_id: &str, stage: &str) {
        self.with_state(|s| {
            if let Some(job) = s.jobs.get_mut(job_id) {
                job["status"] = json!({ "stage": stage, "message": null });
            }
        });
    }
}

type Shared = Arc<Mutex<HubState>>;

fn authorised(state: &Shared, request: &Request) -> Result<(), Response> {
    let state = state.lock().unwrap();
    match request.bearer() {
        Some(token) if token == state.token => Ok(()),
        _ => Err(hub_error(401, "Invalid credentials in Authorization header")),
    }
}

fn routes(router: Router, state: &Shared) -> Router {
    let s = state.clone();
    let router = router.route("GET", "/api/whoami-v2", move |req, _| {
        if let Err(denied) = authorised(&s, req) {
            return denied;
        }
        let user = s.lock().unwrap().user.clone();
        Response::json(
            200,
            &json!({ "type": "user", "id": "6543210fedcba9876543210f", "name": user,
                     "fullname": user, "isPro": false, "orgs": [],
                     "auth": { "type": "access_token",
                               "accessToken": { "displayName": "fake", "role": "write" } } }),
        )
    });
    let s = state.clone();
    let router = router.route("POST", "/api/jobs/{namespace}", move |req, params| {
        if let Err(denied) = authorised(&s, req) {
            return denied;
        }
        let spec: Value = match req.json() {
            Ok(spec) => spec,
            Err(e) => return hub_error(400, &format!("Invalid JSON body: {e}")),
        };
        if let Err(message) = validate_job_spec(&spec) {
            return hub_error(400, &message);
        }
        let mut state = s.lock().unwrap();
        state.next_id += 1;
        let id = format!("{:024x}", state.next_id);
        let job = job_from_spec(&id, &params["namespace"], &spec);
        state.jobs.insert(id, job.clone());
        Response::json(200, &job)
    });
    let s = state.clone();
    router.route("GET", "/api/jobs/{namespace}/{id}", move |req, params| {
        if let Err(denied) = authorised(&s, req) {
            return denied;
        }
        let state = s.lock().unwrap();
        match state.jobs.get(&params["id"]) {
            Some(job) if job["owner"]["name"] == params["namespace"].as_str() => {
                Response::json(200, job)
            }
            _ => hub_error(404, "Job not found"),
        }
    })
}

/// The checks the Hub applies to a job spec before it accepts it.
pub fn validate_job_spec(spec: &Value) -> Result<(), String> {
    let Some(object) = spec.as_object() else { return Err("body must be a JSON object".into()) };
    if object.get("flavor").and_then(Value::as_str).is_none() {
        return Err("flavor: Required".into());
    }
    let has_image = object.get("dockerImage").and_then(Value::as_str).is_some();
    let has_space = object.get("spaceId").and_then(Value::as_str).is_some();
    if has_image == has_space {
        return Err("exactly one of dockerImage or spaceId is required".into());
    }
    for (key, _) in object.get("environment").and_then(Value::as_object).into_iter().flatten() {
        if !is_env_key(key) {
            return Err(format!("environment: invalid key '{key}'"));
        }
    }
    for (key, _) in object.get("secrets").and_then(Value::as_object).into_iter().flatten() {
        if !is_env_key(key) {
            return Err(format!("secrets: invalid key '{key}'"));
        }
    }
    for (key, value) in object.get("labels").and_then(Value::as_object).into_iter().flatten() {
        let value = value.as_str().unwrap_or("\u{0}");
        if !is_label(key) || !(value.is_empty() || is_label(value)) {
            return Err(format!("labels: invalid label '{key}={value}'"));
        }
    }
    if let Some(volumes) = object.get("volumes") {
        let Some(volumes) = volumes.as_array().filter(|v| !v.is_empty()) else {
            return Err("volumes: must be a non-empty array".into());
        };
        for volume in volumes {
            let mount = volume.get("mountPath").and_then(Value::as_str).unwrap_or("");
            if !mount.starts_with('/') {
                return Err(format!("volumes: mountPath '{mount}' must start with '/'"));
            }
            let kind = volume.get("type").and_then(Value::as_str).unwrap_or("");
            if !matches!(kind, "bucket" | "model" | "dataset" | "space") {
                return Err(format!("volumes: invalid type '{kind}'"));
            }
            if volume.get("source").and_then(Value::as_str).is_none_or(str::is_empty) {
                return Err("volumes: source is required".into());
            }
        }
    }
    Ok(())
}

fn is_env_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_label(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 63
        && text.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The job object the Hub answers with: secrets become a list of names.
fn job_from_spec(id: &str, namespace: &str, spec: &Value) -> Value {
    let secrets: Vec<&String> =
        spec.get("secrets").and_then(Value::as_object).map(|m| m.keys().collect()).unwrap_or_default();
    let mut job = json!({
        "id": id,
        "createdAt": "2026-11-23T12:00:00.000Z",
        "owner": { "id": "6543210fedcba9876543210f", "name": namespace, "type": "user" },
        "status": { "stage": "SCHEDULING", "message": null },
        "flavor": spec["flavor"],
        "command": spec.get("command").cloned().unwrap_or(json!([])),
        "arguments": spec.get("arguments").cloned().unwrap_or(json!([])),
        "environment": spec.get("environment").cloned().unwrap_or(json!({})),
        "secrets": secrets,
        "labels": spec.get("labels").cloned().unwrap_or(json!({})),
    });
    for key in ["dockerImage", "spaceId", "volumes", "timeout"] {
        if let Some(value) = spec.get(key) {
            job[key] = value.clone();
        }
    }
    if let Some(seconds) = spec.get("timeoutSeconds") {
        job["timeout"] = seconds.clone();
    }
    job
}
