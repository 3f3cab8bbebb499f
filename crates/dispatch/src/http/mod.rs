//! The HTTP surface: `POST /webhook`, the status page (`/`, `/api/status`), `/healthz` and
//! `/readyz`.
//!
//! The webhook handler verifies, parses, writes one transaction, wakes the workers and answers.
//! It never calls GitHub or HF, so its answer time does not depend on them.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use github_webhook::{Delivery, Event, Verifier, WorkflowJobEvent};
use runner_labels::{Catalogue, Images, Refusal};
use serde_json::json;
use tokio::sync::Notify;
use tracing::{info, warn};

use crate::health::{Health, Service};
use crate::model::now_ms;
use crate::model::{JobFacts, JobKey, Observation, State};
use crate::policy::Policy;
use crate::store::{Ingested, Store};

mod page;
#[cfg(test)]
mod tests;

pub use page::StatusOptions;

/// GitHub caps deliveries at 25 MB; anything larger is not from GitHub.
pub const MAX_BODY_BYTES: usize = 25 * 1024 * 1024;
/// How recently GitHub and HF must have answered for `/readyz`.
pub const READY_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Everything the webhook needs to accept work.
pub struct Intake {
    pub verifier: Verifier,
    pub store: Arc<dyn Store>,
    pub wake: Arc<Notify>,
    pub catalogue: Catalogue,
    pub images: Images,
    /// Who may run what; the rules that need no API call are applied at the webhook.
    pub policy: Arc<Policy>,
}

/// The application state shared by every worker thread.
pub struct AppState {
    /// `None` in setup mode: credentials are missing, so webhooks cannot be served yet.
    pub intake: Option<Intake>,
    /// Why the dispatcher is in setup mode, and what to do about it.
    pub setup_problem: Option<String>,
    pub health: Arc<Health>,
    pub version: &'static str,
    pub started_ms: i64,
    /// The status token and the settings the status page shows.
    pub status: StatusOptions,
}

impl AppState {
    /// A dispatcher that serves webhooks.
    pub fn serving(intake: Intake, health: Arc<Health>) -> Self {
        Self {
            intake: Some(intake),
            setup_problem: None,
            health,
            version: env!("CARGO_PKG_VERSION"),
            started_ms: now_ms(),
            status: StatusOptions::default(),
        }
    }

    /// A dispatcher waiting for its credentials.
    pub fn setup(problem: String) -> Self {
        Self {
            intake: None,
            setup_problem: Some(problem),
            health: Arc::default(),
            version: env!("CARGO_PKG_VERSION"),
            started_ms: now_ms(),
            status: StatusOptions::default(),
        }
    }

    /// The status page's token and settings ([`StatusOptions::from_settings`]); without them
    /// the page shows aggregates only, to everyone.
    pub fn with_status(mut self, status: StatusOptions) -> Self {
        self.status = status;
        self
    }
}

/// Registers the routes; the caller supplies the state as `web::Data<AppState>`.
pub fn routes(config: &mut web::ServiceConfig) {
    config
        .service(
            web::resource("/webhook")
                .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
                .route(web::post().to(webhook)),
        )
        .route("/", web::get().to(page::status))
        .route("/api/status", web::get().to(page::api_status))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz));
}

fn error(status: actix_web::http::StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": message.into() }))
}

async fn webhook(
    request: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let Some(intake) = &state.intake else {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the dispatcher is in setup mode: open / for the next steps",
        );
    };
    let header_value = |name: &str| request.headers().get(name).and_then(|v| v.to_str().ok());
    // Nothing is parsed before the signature checks out.
    if let Err(e) = intake
        .verifier
        .verify(header_value(github_webhook::SIGNATURE_HEADER), &body)
    {
        warn!(error = %e, "webhook refused: bad signature");
        return error(StatusCode::UNAUTHORIZED, e.to_string());
    }
    let delivery = match Delivery::from_headers(header_value) {
        Ok(delivery) => delivery,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let event = match Event::parse(&delivery.event, &body) {
        Ok(event) => event,
        Err(e) => {
            warn!(delivery = delivery.id, error = %e, "webhook refused: malformed payload");
            return error(StatusCode::BAD_REQUEST, e.to_string());
        }
    };
    let job = match &event {
        Event::Ping(_) => return HttpResponse::Ok().json(json!({ "ok": true, "pong": true })),
        Event::WorkflowJob(job) => observe(intake, job),
        other => {
            return HttpResponse::Ok()
                .json(json!({ "ignored": format!("event '{}' needs no action", other.name()) }));
        }
    };
    let Some((facts, observation)) = job else {
        return HttpResponse::Ok().json(json!({ "ignored": "not a job for Ferry" }));
    };
    let key = facts.key.clone();
    match intake
        .store
        .ingest(
            &delivery.id,
            &delivery.event,
            Some((facts, observation)),
            now_ms(),
        )
        .await
    {
        Ok(Ingested::Duplicate) => {
            info!(delivery = delivery.id, %key, "delivery seen before; acknowledged again");
            HttpResponse::Ok().json(json!({ "duplicate": true }))
        }
        Ok(Ingested::Recorded { job }) => {
            let state = job.as_ref().map(|r| r.state);
            // New work, or a job that ended and freed room under a cap: either way the
            // workers look.
            if state.is_some() {
                intake.wake.notify_one();
            }
            info!(
                delivery = delivery.id,
                repo = key.repo,
                job_id = key.job_id,
                state = state.map(State::as_str),
                "delivery recorded"
            );
            HttpResponse::Accepted()
                .json(json!({ "accepted": true, "state": state.map(State::as_str) }))
        }
        Err(e) => {
            warn!(delivery = delivery.id, error = %e, "cannot record the delivery");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the dispatcher cannot record deliveries right now; its delivery sweeper asks GitHub to redeliver this one",
            )
        }
    }
}

/// What a queued job means for Ferry: `None` when its labels are not Ferry's, a refusal when
/// it cannot be served, else queued; the flavor it asks for is written into `facts`. Webhooks
/// and the empty-store scan both decide here. Only the fork rule waits for the launch, which
/// asks GitHub about the workflow run.
pub fn classify_queued(
    catalogue: &Catalogue,
    images: &Images,
    policy: &Policy,
    facts: &mut JobFacts,
) -> Option<Observation> {
    let placement = runner_labels::place(&facts.labels, catalogue, images);
    facts.flavor = placement.as_ref().ok().map(|p| p.flavor().to_owned());
    decide_queued(policy, &facts.key.repo, placement.as_ref())
}

/// The decision for a queued job whose labels were placed already.
fn decide_queued(
    policy: &Policy,
    repo: &str,
    placement: Result<&runner_labels::Placement, &Refusal>,
) -> Option<Observation> {
    let refused = |reason: String| Some(Observation::Refused { reason });
    let placement = match placement {
        Err(Refusal::NotOurs) => return None,
        _ if !policy.repository_allowed(repo) => {
            return refused(
                crate::policy::Refusal::RepositoryNotAllowed {
                    repo: repo.to_owned(),
                }
                .to_string(),
            );
        }
        Err(refusal) => return refused(refusal.to_string()),
        Ok(placement) => placement,
    };
    let request = crate::policy::Request {
        repo,
        flavor: placement.flavor(),
        is_gpu: placement.is_gpu(),
        label_timeout: placement.timeout,
        label_chose_image: placement.image.key.is_some(),
        fork: None,
    };
    match policy.decide(&request) {
        Ok(_) => Some(Observation::Queued),
        Err(refusal) => refused(refusal.to_string()),
    }
}

/// Reduces a `workflow_job` delivery to what the state machine needs; `None` ignores it.
pub fn observe(intake: &Intake, event: &WorkflowJobEvent) -> Option<(JobFacts, Observation)> {
    use github_webhook::WorkflowJobAction as Action;
    let job = &event.workflow_job;
    let placement = runner_labels::place(&job.labels, &intake.catalogue, &intake.images);
    if matches!(placement, Err(Refusal::NotOurs)) {
        return None;
    }
    let repo = event.repository.full_name.clone();
    let facts = JobFacts {
        key: JobKey {
            repo: repo.clone(),
            job_id: job.id,
            run_attempt: job.run_attempt,
        },
        run_id: job.run_id,
        installation_id: event.installation.as_ref().map(|i| i.id),
        labels: job.labels.clone(),
        workflow_name: job.workflow_name.clone(),
        job_name: Some(job.name.clone()),
        head_sha: Some(job.head_sha.clone()).filter(|sha| !sha.is_empty()),
        flavor: placement.as_ref().ok().map(|p| p.flavor().to_owned()),
    };
    let runner_name = job.runner_name.clone().filter(|name| !name.is_empty());
    let observation = match event.action {
        Action::Queued if !event.is_launchable() => return None,
        Action::Queued => decide_queued(&intake.policy, &repo, placement.as_ref())?,
        Action::InProgress => Observation::InProgress { runner_name },
        Action::Completed => Observation::Completed {
            runner_name,
            conclusion: job.conclusion.as_ref().map(|c| c.as_str().to_owned()),
        },
        _ => return None,
    };
    Some((facts, observation))
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    let status = if state.intake.is_some() {
        "ok"
    } else {
        "needs-config"
    };
    HttpResponse::Ok().json(json!({ "status": status, "version": state.version }))
}

/// Why the dispatcher is not ready, if it is not: `/readyz` and the status page.
async fn readiness_problems(state: &AppState, intake: &Intake) -> Vec<String> {
    let now = now_ms();
    let mut problems = Vec::new();
    if let Err(e) = intake.store.check_writable(now).await {
        problems.push(format!("store: {e}"));
    }
    problems.extend(state.health.problems());
    for (service, name) in [(Service::GitHub, "github"), (Service::Hf, "hf")] {
        if !state.health.is_recent(service, now, READY_WINDOW_MS) {
            problems.push(format!(
                "{name}: no successful call in the last {} minutes",
                READY_WINDOW_MS / 60_000
            ));
        }
    }
    problems
}

async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let Some(intake) = &state.intake else {
        return HttpResponse::ServiceUnavailable()
            .json(json!({ "ready": false, "problems": ["setup mode"] }));
    };
    let problems = readiness_problems(&state, intake).await;
    let body = json!({ "ready": problems.is_empty(), "problems": problems });
    if problems.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(body)
    }
}
