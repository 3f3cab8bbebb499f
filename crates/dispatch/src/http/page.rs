//! `GET /`: a small status page, or JSON when asked for.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use super::AppState;
use crate::health::Service;
use crate::model::now_ms;

const RECENT: usize = 50;

pub(super) async fn status(request: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let body = summary(&state).await;
    if wants_json(&request) {
        return HttpResponse::Ok().json(body);
    }
    HttpResponse::Ok()
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

async fn summary(state: &AppState) -> Value {
    let Some(intake) = &state.intake else {
        return json!({
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
        });
    };
    let counts = intake.store.counts().await.unwrap_or_default();
    let recent = intake.store.recent(RECENT).await.unwrap_or_default();
    let last_ok = |service| state.health.last_ok_ms(service);
    json!({
        "service": "ferry-dispatcher",
        "version": state.version,
        "configured": true,
        "uptime_seconds": (now_ms() - state.started_ms) / 1000,
        "github_last_ok_ms": last_ok(Service::GitHub),
        "hf_last_ok_ms": last_ok(Service::Hf),
        "supported_flavors": intake.catalogue.names().collect::<Vec<_>>(),
        "image_keys": intake.images.keys(),
        "jobs": counts.iter().map(|(state, n)| (state.as_str().to_owned(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "recent": recent.iter().map(|r| json!({
            "repo": r.key.repo,
            "job_id": r.key.job_id,
            "run_id": r.run_id,
            "attempt": r.key.run_attempt,
            "workflow": r.workflow_name,
            "job": r.job_name,
            "state": r.state.as_str(),
            "runner_name": r.runner_name,
            "hf_job_id": r.hf_job_id,
            "reason": r.reason,
            "updated_ms": r.updated_ms,
        })).collect::<Vec<_>>(),
    })
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
    html.push_str("<h2>Jobs</h2><table><tr><th>state</th><th>count</th></tr>");
    for (state, count) in body["jobs"].as_object().into_iter().flatten() {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td></tr>",
            escape(state),
            text(count)
        ));
    }
    html.push_str("</table><h2>Recent</h2><table><tr><th>repository</th><th>job</th><th>state</th><th>runner</th><th>HF job</th><th>reason</th></tr>");
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
    html.push_str("</table><p>JSON: <a href=\"/?format=json\">/?format=json</a> · <a href=\"/readyz\">/readyz</a></p></body></html>");
    html
}
