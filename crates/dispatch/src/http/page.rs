//! `GET /` and `GET /api/status`: the status page, as HTML or JSON.
//!
//! Anyone who can reach the dispatcher can read the aggregates: job counts by state and by
//! flavor, readiness, the configuration without secrets, the policy without repository or
//! person names, and the labels on offer. They name no repository, workflow, job, runner or HF
//! Job and show no error text. `Authorization: Bearer <STATUS_TOKEN>` adds the details: the
//! latest jobs with their reasons, the readiness problems, the whole policy and the hosts and
//! namespace. A wrong token is answered 401; without `STATUS_TOKEN` nobody sees the details.
//! `/` answers JSON to `Accept: application/json` or `?format=json`; `/api/status` always does.

use std::collections::BTreeMap;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};

use super::{AppState, Intake};
use crate::config::{RunnerScopeSetting, Settings};
use crate::health::Service;
use crate::model::now_ms;
use crate::scrub;

const RECENT: usize = 50;
/// The flavor aggregates count jobs under when their flavor is not in the catalogue.
const OTHER_FLAVOR: &str = "other";
/// … and when no flavor was placed (a refused label).
const NO_FLAVOR: &str = "none";

/// What the status page needs besides the store: the token that unlocks the details, and the
/// settings it shows.
#[derive(Debug, Clone, Default)]
pub struct StatusOptions {
    /// `STATUS_TOKEN`: `Authorization: Bearer <token>` shows the details. `None`: nobody can.
    pub token: Option<SecretString>,
    /// Settings anyone may read, by name, with no secret among them.
    pub public: Vec<(&'static str, String)>,
    /// Settings shown with the token only: hosts, namespace, App id, state directory.
    pub private: Vec<(&'static str, String)>,
}

impl StatusOptions {
    /// The token and the settings to show, taken from the dispatcher's settings. No secret is
    /// copied but the token, which is only compared.
    pub fn from_settings(settings: &Settings) -> Self {
        let duration = |d: Duration| durations::format_seconds(d.as_secs());
        let public = vec![
            (
                "JOB_TIMEOUT",
                settings
                    .job_timeout
                    .map_or_else(|| "none".to_owned(), duration),
            ),
            (
                runner_bootstrap::contract::IDLE_TIMEOUT,
                duration(settings.runner_idle_timeout),
            ),
            (
                "MAX_LAUNCH_ATTEMPTS",
                settings.max_launch_attempts.to_string(),
            ),
            ("DISPATCHER_CONCURRENCY", settings.concurrency.to_string()),
            (
                "RUNNER_SCOPE",
                match settings.runner_scope {
                    RunnerScopeSetting::Repository => "repository".to_owned(),
                    RunnerScopeSetting::Organisation { group_id } => {
                        format!("organisation (runner group {group_id})")
                    }
                },
            ),
            ("CHECK_RUNS", settings.check_runs.to_string()),
            ("RECONCILE_INTERVAL", duration(settings.reconcile_interval)),
            (
                "RUNNER_BOOT_DEADLINE",
                duration(settings.runner_boot_deadline),
            ),
            (
                "DELIVERY_SWEEP_INTERVAL",
                duration(settings.delivery_sweep_interval),
            ),
            (
                "STATUS_TOKEN",
                if settings.status_token.is_some() {
                    "set"
                } else {
                    "unset"
                }
                .to_owned(),
            ),
        ];
        let mut private = vec![
            (
                "HF_NAMESPACE",
                settings
                    .hf_namespace
                    .clone()
                    .unwrap_or_else(|| "the token's user".to_owned()),
            ),
            ("GITHUB_API_URL", scrub::redact(&settings.github_api_url)),
            ("HF_ENDPOINT", scrub::redact(&settings.hf_endpoint)),
            (
                "DISPATCHER_STATE_DIR",
                settings.state_dir.display().to_string(),
            ),
        ];
        if let Some(github) = &settings.github {
            private.push(("GH_APP_ID", github.app_id.clone()));
        }
        Self {
            token: settings.status_token.clone(),
            public,
            private,
        }
    }
}

/// `GET /`: HTML, or JSON when asked for.
pub(super) async fn status(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let json = wants_json(&request);
    answer(&request, &state, json).await
}

/// `GET /api/status`: always JSON.
pub(super) async fn api_status(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    answer(&request, &state, true).await
}

async fn answer(request: &HttpRequest, state: &AppState, json: bool) -> HttpResponse {
    let details = match access(request, state.status.token.as_ref()) {
        Access::Aggregates => false,
        Access::Details => true,
        Access::Refused => {
            return HttpResponse::Unauthorized()
                .insert_header((
                    header::WWW_AUTHENTICATE,
                    r#"Bearer realm="ferry", error="invalid_token""#,
                ))
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .json(json!({
                    "error": "wrong status token: send Authorization: Bearer <STATUS_TOKEN> for the details, or no Authorization for the aggregates"
                }));
        }
    };
    let body = summary(state, details).await;
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::VARY, "Authorization, Accept"));
    if json {
        return response.json(body);
    }
    response
        .content_type("text/html; charset=utf-8")
        .body(render(&body))
}

fn wants_json(request: &HttpRequest) -> bool {
    let asked_by_query = request
        .query_string()
        .split('&')
        .any(|pair| pair == "format=json");
    let accept = request
        .headers()
        .get("accept")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    asked_by_query || (accept.contains("application/json") && !accept.contains("text/html"))
}

/// What a request may see.
enum Access {
    Aggregates,
    Details,
    Refused,
}

/// No `Authorization` (or no `STATUS_TOKEN` configured) sees the aggregates, the right bearer
/// token the details; any other `Authorization` is refused.
fn access(request: &HttpRequest, token: Option<&SecretString>) -> Access {
    let Some(expected) = token else {
        return Access::Aggregates;
    };
    let Some(presented) = request.headers().get(header::AUTHORIZATION) else {
        return Access::Aggregates;
    };
    match presented.to_str().ok().and_then(bearer) {
        Some(given) if same(given.as_bytes(), expected.expose_secret().as_bytes()) => {
            Access::Details
        }
        _ => Access::Refused,
    }
}

/// The token of an `Authorization: Bearer <token>` value; the scheme in any case.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Byte equality in a time that depends on the lengths only, never on where they differ.
fn same(given: &[u8], expected: &[u8]) -> bool {
    let mut difference = u8::from(given.len() != expected.len());
    for (i, byte) in expected.iter().enumerate() {
        difference |= given.get(i).map_or(0xff, |g| g ^ byte);
    }
    std::hint::black_box(difference) == 0
}

fn setup_summary(state: &AppState) -> Value {
    json!({
        "service": "ferry-dispatcher",
        "version": state.version,
        "configured": false,
        "problem": state.setup_problem,
        "next_steps": [
            "Create a GitHub App with the workflow_job event and the Actions (read), Administration (read/write, repository runners) and Checks (write) permissions.",
            "Set GH_APP_ID, GH_APP_PRIVATE_KEY (or GH_APP_PRIVATE_KEY_FILE) and GH_WEBHOOK_SECRET.",
            "Set HF_TOKEN to a token that may run Jobs, and HF_NAMESPACE if jobs should not run under the token's user.",
            "Point the App's webhook URL at this dispatcher's /webhook and restart it.",
            "Run `dispatcher check` to see what works."
        ],
    })
}

async fn summary(state: &AppState, details: bool) -> Value {
    let Some(intake) = &state.intake else {
        return setup_summary(state);
    };
    let counts = intake.store.counts().await.unwrap_or_default();
    let flavor_counts = intake.store.counts_by_flavor().await.unwrap_or_default();
    let problems = super::readiness_problems(state, intake).await;
    let last_ok = |service| state.health.last_ok_ms(service);

    let mut by_flavor: BTreeMap<String, BTreeMap<&str, u64>> = BTreeMap::new();
    for ((flavor, job_state), count) in &flavor_counts {
        let flavor = match flavor {
            None => NO_FLAVOR.to_owned(),
            Some(flavor) if details => flavor.clone(),
            Some(flavor) => intake
                .catalogue
                .get(flavor)
                .map_or_else(|| OTHER_FLAVOR.to_owned(), |h| h.name.clone()),
        };
        *by_flavor
            .entry(flavor)
            .or_default()
            .entry(job_state.as_str())
            .or_default() += count;
    }
    let configuration: Map<String, Value> = state
        .status
        .public
        .iter()
        .chain(
            details
                .then_some(&state.status.private)
                .into_iter()
                .flatten(),
        )
        .map(|(name, value)| ((*name).to_owned(), json!(value)))
        .collect();
    let policy = intake.policy.describe();
    let policy = if details {
        policy
    } else {
        public_policy(policy)
    };
    let hint = match (&state.status.token, details) {
        (_, true) => None,
        (None, false) => Some(
            "Repositories, jobs and reasons are not shown: set STATUS_TOKEN (16 characters or more) and send Authorization: Bearer <STATUS_TOKEN> to see them.",
        ),
        (Some(_), false) => Some(
            "Repositories, jobs and reasons are shown with Authorization: Bearer <STATUS_TOKEN>.",
        ),
    };

    let mut body = json!({
        "service": "ferry-dispatcher",
        "version": state.version,
        "configured": true,
        "details": details,
        "details_hint": hint,
        "uptime_seconds": (now_ms() - state.started_ms) / 1000,
        "ready": problems.is_empty(),
        "github_last_ok_ms": last_ok(Service::GitHub),
        "hf_last_ok_ms": last_ok(Service::Hf),
        "jobs": counts.iter().map(|(state, n)| (state.as_str().to_owned(), json!(n))).collect::<Map<_, _>>(),
        "jobs_by_flavor": by_flavor,
        "labels": labels(intake),
        "supported_flavors": intake.catalogue.names().collect::<Vec<_>>(),
        "image_keys": intake.images.keys(),
        "images": images(intake),
        "configuration": configuration,
        "policy": policy,
    });
    if details {
        let recent = intake.store.recent(RECENT).await.unwrap_or_default();
        body["problems"] = json!(
            problems
                .iter()
                .map(|p| scrub::redact(p))
                .collect::<Vec<_>>()
        );
        body["recent"] = recent
            .iter()
            .map(|r| {
                json!({
                    "repo": r.key.repo,
                    "job_id": r.key.job_id,
                    "run_id": r.run_id,
                    "attempt": r.key.run_attempt,
                    "workflow": r.workflow_name,
                    "job": r.job_name,
                    "flavor": r.flavor,
                    "state": r.state.as_str(),
                    "runner_name": r.runner_name,
                    "hf_job_id": r.hf_job_id,
                    "reason": r.reason.as_deref().map(scrub::redact),
                    "updated_ms": r.updated_ms,
                })
            })
            .collect();
    }
    body
}

/// The labels a workflow may ask for: `hf-jobs-<flavor>` for every flavor, and the aliases.
fn labels(intake: &Intake) -> Vec<String> {
    let mut labels: Vec<String> = intake
        .catalogue
        .names()
        .map(|name| format!("hf-jobs-{name}"))
        .collect();
    labels.extend(
        runner_labels::ALIASES
            .iter()
            .filter(|(_, target)| intake.catalogue.get(target).is_some())
            .map(|(alias, _)| format!("hf-jobs-{alias}")),
    );
    labels
}

fn images(intake: &Intake) -> Map<String, Value> {
    intake
        .images
        .keys()
        .into_iter()
        .filter_map(|key| {
            let image = intake.images.get(&key)?.to_owned();
            Some((key, json!(image)))
        })
        .collect()
}

/// The policy lines anyone may read: caps and flavor rules whole, the fork mode without the
/// trusted authors, and in place of the repository patterns and scopes, how many there are.
/// A line of a kind not known here is withheld.
fn public_policy(lines: Vec<String>) -> Vec<String> {
    const WHOLE: &[&str] = &[
        "allowed repositories: every repository",
        "global cap",
        "cap per installation",
        "cap per repository",
        "flavor ",
    ];
    let mut public = Vec::new();
    let mut withheld = 0;
    for line in lines {
        if WHOLE.iter().any(|prefix| line.starts_with(prefix)) {
            public.push(line);
        } else if line.starts_with("allowed repositories") {
            public.push("allowed repositories: a list, shown with the status token".to_owned());
        } else if line.starts_with("fork pull requests") {
            match line.split_once("; trusted authors") {
                Some((mode, _)) => {
                    public.push(format!(
                        "{mode}; trusted authors: shown with the status token"
                    ));
                }
                None => public.push(line),
            }
        } else {
            withheld += 1;
        }
    }
    if withheld > 0 {
        public.push(format!(
            "{withheld} more rule{} (scopes by repository), shown with the status token",
            if withheld == 1 { "" } else { "s" }
        ));
    }
    public
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => escape(s),
        other => escape(&other.to_string()),
    }
}

fn render(body: &Value) -> String {
    let mut html = String::from(
        "<!doctype html><html><head><meta charset=utf-8><title>Ferry dispatcher</title>\
         <style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}\
         table{border-collapse:collapse}td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:left}\
         code{background:#f4f4f4;padding:0 .2rem}</style></head><body>",
    );
    html.push_str(&format!(
        "<h1>Ferry dispatcher <small>{}</small></h1>",
        text(&body["version"])
    ));
    if body["configured"] == false {
        html.push_str("<p><strong>Setup mode.</strong> Webhooks are refused until the dispatcher has its credentials.</p>");
        if let Some(problem) = body["problem"].as_str() {
            html.push_str(&format!("<p>Problem: <code>{}</code></p>", escape(problem)));
        }
        html.push_str("<ol>");
        for step in body["next_steps"].as_array().into_iter().flatten() {
            html.push_str(&format!("<li>{}</li>", text(step)));
        }
        html.push_str("</ol></body></html>");
        return html;
    }
    html.push_str(&format!(
        "<p>{} · up {} s</p>",
        if body["ready"] == true {
            "Ready"
        } else {
            "<strong>Not ready</strong> (see <a href=\"/readyz\">/readyz</a>)"
        },
        text(&body["uptime_seconds"]),
    ));
    if let Some(hint) = body["details_hint"].as_str() {
        html.push_str(&format!("<p><em>{}</em></p>", escape(hint)));
    }
    if let Some(problems) = body["problems"].as_array().filter(|p| !p.is_empty()) {
        html.push_str("<h2>Problems</h2><ul>");
        for problem in problems {
            html.push_str(&format!("<li>{}</li>", text(problem)));
        }
        html.push_str("</ul>");
    }

    html.push_str("<h2>Jobs by state</h2><table><tr><th>state</th><th>count</th></tr>");
    for (state, count) in body["jobs"].as_object().into_iter().flatten() {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(state),
            text(count)
        ));
    }
    html.push_str("</table><h2>Jobs by flavor</h2><table><tr><th>flavor</th><th>count</th><th>by state</th></tr>");
    for (flavor, states) in body["jobs_by_flavor"].as_object().into_iter().flatten() {
        let states = states.as_object().cloned().unwrap_or_default();
        let total: u64 = states.values().filter_map(Value::as_u64).sum();
        let parts: Vec<String> = states
            .iter()
            .map(|(state, n)| format!("{} {}", escape(state), text(n)))
            .collect();
        html.push_str(&format!(
            "<tr><td>{}</td><td>{total}</td><td>{}</td></tr>",
            escape(flavor),
            parts.join(", ")
        ));
    }
    html.push_str("</table>");

    if body["details"] == true {
        html.push_str("<h2>Recent</h2><table><tr><th>repository</th><th>job</th><th>state</th><th>runner</th><th>HF job</th><th>reason</th></tr>");
        for job in body["recent"].as_array().into_iter().flatten() {
            html.push_str(&format!(
                "<tr><td>{}</td><td>{} / {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(&job["repo"]),
                text(&job["workflow"]),
                text(&job["job"]),
                text(&job["state"]),
                text(&job["runner_name"]),
                text(&job["hf_job_id"]),
                text(&job["reason"]),
            ));
        }
        html.push_str("</table>");
    }

    html.push_str("<h2>Labels on offer</h2><p>");
    let labels: Vec<String> = body["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|label| format!("<code>{}</code>", text(label)))
        .collect();
    html.push_str(&labels.join(" "));
    let keys: Vec<String> = body["image_keys"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|key| format!("<code>{}</code>", text(key)))
        .collect();
    html.push_str(&format!(
        "</p><p>Another image: <code>hf-jobs-&lt;flavor&gt;:&lt;key&gt;</code> with the keys {}. \
         A timeout: <code>hf-jobs=&lt;flavor&gt;/timeout=30m</code>.</p>",
        keys.join(", ")
    ));

    html.push_str("<h2>Configuration</h2><table><tr><th>setting</th><th>value</th></tr>");
    for (name, value) in body["configuration"].as_object().into_iter().flatten() {
        html.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td></tr>",
            escape(name),
            text(value)
        ));
    }
    for (key, image) in body["images"].as_object().into_iter().flatten() {
        html.push_str(&format!(
            "<tr><td>image <code>{}</code></td><td><code>{}</code></td></tr>",
            escape(key),
            text(image)
        ));
    }
    html.push_str("</table><h2>Policy</h2><ul>");
    for line in body["policy"].as_array().into_iter().flatten() {
        html.push_str(&format!("<li>{}</li>", text(line)));
    }
    html.push_str("</ul><p>JSON: <a href=\"/api/status\">/api/status</a> · <a href=\"/readyz\">/readyz</a></p></body></html>");
    html
}
