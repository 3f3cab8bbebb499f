use std::sync::Arc;

use actix_web::test as atest;
use actix_web::{App, web};
use secrecy::SecretString;
use serde_json::Value;
use testkit::deliveries::{self, WorkflowJob};

use super::*;
use crate::store::SqliteStore;

const SECRET: &str = "It's a Secret to Everybody";

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    state: web::Data<AppState>,
}

fn harness(allowed: &[&str]) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store =
        Arc::new(SqliteStore::open(dir.path(), Box::new(crate::launcher::runner_name)).unwrap());
    let intake = Intake {
        verifier: Verifier::new([SecretString::from(SECRET)]).unwrap(),
        store: store.clone(),
        wake: Arc::default(),
        catalogue: Catalogue::embedded(),
        images: Images {
            cpu: "ferry/runner:cpu".into(),
            gpu: "ferry/runner:gpu".into(),
            ..Default::default()
        },
        policy: Arc::new(
            crate::policy::Policy::parse(
                None,
                &std::collections::BTreeMap::from([(
                    "ALLOWED_GITHUB_REPOSITORIES".to_owned(),
                    allowed.join(","),
                )]),
            )
            .unwrap(),
        ),
    };
    Harness {
        _dir: dir,
        store,
        state: web::Data::new(AppState::serving(intake, Arc::default())),
    }
}

fn signed(event: &str, delivery: &str, body: &[u8]) -> atest::TestRequest {
    atest::TestRequest::post()
        .uri("/webhook")
        .insert_header(("X-GitHub-Event", event))
        .insert_header(("X-GitHub-Delivery", delivery))
        .insert_header((
            "X-Hub-Signature-256",
            github_webhook::sign(&SecretString::from(SECRET), body),
        ))
        .set_payload(body.to_vec())
}

macro_rules! app {
    ($state:expr) => {
        atest::init_service(App::new().app_data($state.clone()).configure(routes)).await
    };
}

fn job(labels: &[&str]) -> WorkflowJob {
    WorkflowJob::queued("octo/ml", 5_000_000_001, 9_000_000_001, labels)
}

async fn stored(h: &Harness) -> Vec<crate::model::JobRecord> {
    h.store.recent(100).await.unwrap()
}

#[actix_web::test]
async fn a_queued_job_is_stored_then_accepted_and_a_repeat_does_nothing() {
    let h = harness(&[]);
    let app = app!(h.state);
    let body = job(&["self-hosted", "hf-jobs-t4-small"]).body();
    let answer = atest::call_service(&app, signed("workflow_job", "d-1", &body).to_request()).await;
    assert_eq!(answer.status(), 202);
    let records = stored(&h).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].state, State::Queued);
    assert_eq!(records[0].key.job_id, 5_000_000_001);
    assert_eq!(records[0].installation_id, Some(42));

    let again = atest::call_service(&app, signed("workflow_job", "d-1", &body).to_request()).await;
    assert_eq!(again.status(), 200);
    let answer: Value = atest::read_body_json(again).await;
    assert_eq!(answer["duplicate"], true);
    assert_eq!(stored(&h).await, records);
}

#[actix_web::test]
async fn bad_signatures_are_refused_before_parsing() {
    let h = harness(&[]);
    let app = app!(h.state);
    let body = job(&["hf-jobs-t4-small"]).body();
    let wrong = atest::TestRequest::post()
        .uri("/webhook")
        .insert_header(("X-GitHub-Event", "workflow_job"))
        .insert_header(("X-GitHub-Delivery", "d-1"))
        .insert_header((
            "X-Hub-Signature-256",
            github_webhook::sign(&SecretString::from("other"), &body),
        ))
        .set_payload(body.clone());
    assert_eq!(
        atest::call_service(&app, wrong.to_request()).await.status(),
        401
    );
    let missing = atest::TestRequest::post()
        .uri("/webhook")
        .insert_header(("X-GitHub-Event", "workflow_job"))
        .insert_header(("X-GitHub-Delivery", "d-2"))
        .set_payload(body.clone());
    assert_eq!(
        atest::call_service(&app, missing.to_request())
            .await
            .status(),
        401
    );
    // A signed body changed afterwards fails too, and even garbage is never parsed unsigned.
    let mut changed = body.clone();
    changed[10] ^= 1;
    let request = atest::TestRequest::post()
        .uri("/webhook")
        .insert_header(("X-GitHub-Event", "workflow_job"))
        .insert_header(("X-GitHub-Delivery", "d-3"))
        .insert_header((
            "X-Hub-Signature-256",
            github_webhook::sign(&SecretString::from(SECRET), &body),
        ))
        .set_payload(changed);
    assert_eq!(
        atest::call_service(&app, request.to_request())
            .await
            .status(),
        401
    );
    assert!(stored(&h).await.is_empty());
}

#[actix_web::test]
async fn malformed_json_missing_headers_and_oversized_bodies_are_refused() {
    let h = harness(&[]);
    let app = app!(h.state);
    let answer = atest::call_service(
        &app,
        signed("workflow_job", "d-1", b"{not json").to_request(),
    )
    .await;
    assert_eq!(answer.status(), 400);
    let message: Value = atest::read_body_json(answer).await;
    assert!(
        message["error"].as_str().unwrap().contains("workflow_job"),
        "{message}"
    );

    let no_delivery = atest::TestRequest::post()
        .uri("/webhook")
        .insert_header(("X-GitHub-Event", "ping"))
        .insert_header((
            "X-Hub-Signature-256",
            github_webhook::sign(&SecretString::from(SECRET), b"{}"),
        ))
        .set_payload("{}");
    assert_eq!(
        atest::call_service(&app, no_delivery.to_request())
            .await
            .status(),
        400
    );

    let huge = vec![b' '; MAX_BODY_BYTES + 1];
    let answer = atest::call_service(&app, signed("workflow_job", "d-2", &huge).to_request()).await;
    assert_eq!(answer.status(), 413);
    assert!(stored(&h).await.is_empty());
}

#[actix_web::test]
async fn pings_other_events_and_other_peoples_jobs_are_acknowledged_and_ignored() {
    let h = harness(&[]);
    let app = app!(h.state);
    let answer = atest::call_service(
        &app,
        signed("ping", "d-1", &deliveries::ping()).to_request(),
    )
    .await;
    assert_eq!(answer.status(), 200);
    let pong: Value = atest::read_body_json(answer).await;
    assert_eq!(pong["pong"], true);

    let answer = atest::call_service(
        &app,
        signed("star", "d-2", b"{\"action\":\"created\"}").to_request(),
    )
    .await;
    assert_eq!(answer.status(), 200);

    let theirs = job(&["ubuntu-latest"]).body();
    assert_eq!(
        atest::call_service(&app, signed("workflow_job", "d-3", &theirs).to_request())
            .await
            .status(),
        200
    );
    let mut waiting = job(&["hf-jobs-t4-small"]);
    waiting.set_status("waiting");
    let body = waiting.body();
    assert_eq!(
        atest::call_service(&app, signed("workflow_job", "d-4", &body).to_request())
            .await
            .status(),
        200
    );
    assert!(stored(&h).await.is_empty());
}

#[actix_web::test]
async fn refusals_are_recorded_with_a_reason_for_the_author() {
    let h = harness(&["octo/allowed"]);
    let app = app!(h.state);
    let mut unknown = job(&["hf-jobs-t4-smal"]);
    unknown.set_repo("octo/allowed");
    let answer = atest::call_service(
        &app,
        signed("workflow_job", "d-1", &unknown.body()).to_request(),
    )
    .await;
    assert_eq!(answer.status(), 202);
    let records = stored(&h).await;
    assert_eq!(records[0].state, State::Failed);
    assert!(
        records[0].reason.as_deref().unwrap().contains("t4-small"),
        "{:?}",
        records[0].reason
    );

    let mut elsewhere = job(&["hf-jobs-t4-small"]);
    elsewhere.set_ids(2, 2);
    let answer = atest::call_service(
        &app,
        signed("workflow_job", "d-2", &elsewhere.body()).to_request(),
    )
    .await;
    assert_eq!(answer.status(), 202);
    let refused = stored(&h)
        .await
        .into_iter()
        .find(|r| r.key.job_id == 2)
        .unwrap();
    assert_eq!(refused.state, State::Failed);
    assert!(
        refused
            .reason
            .unwrap()
            .contains("ALLOWED_GITHUB_REPOSITORIES")
    );
}

#[actix_web::test]
async fn status_page_health_and_readiness() {
    let h = harness(&[]);
    let app = app!(h.state);
    let body = job(&["hf-jobs-t4-small"]).body();
    atest::call_service(&app, signed("workflow_job", "d-1", &body).to_request()).await;

    let json: Value = atest::call_and_read_body_json(
        &app,
        atest::TestRequest::get().uri("/?format=json").to_request(),
    )
    .await;
    assert_eq!(json["configured"], true);
    assert_eq!(json["jobs"]["queued"], 1);
    assert_eq!(json["recent"][0]["repo"], "octo/ml");
    let html = atest::call_and_read_body(
        &app,
        atest::TestRequest::get()
            .uri("/")
            .insert_header(("accept", "text/html"))
            .to_request(),
    )
    .await;
    let html = String::from_utf8(html.to_vec()).unwrap();
    assert!(
        html.contains("<table>") && html.contains("octo/ml"),
        "{html}"
    );

    let health: Value = atest::call_and_read_body_json(
        &app,
        atest::TestRequest::get().uri("/healthz").to_request(),
    )
    .await;
    assert_eq!(health["status"], "ok");
    // Never having reached GitHub or HF, the dispatcher is alive but not ready.
    let ready =
        atest::call_service(&app, atest::TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(ready.status(), 503);
    h.state.health.record_ok(Service::GitHub, now_ms());
    h.state.health.record_ok(Service::Hf, now_ms());
    let ready =
        atest::call_service(&app, atest::TestRequest::get().uri("/readyz").to_request()).await;
    assert_eq!(ready.status(), 200);
}

#[actix_web::test]
async fn setup_mode_explains_the_next_steps_and_refuses_webhooks() {
    let state = web::Data::new(AppState::setup("GH_APP_ID is not set".into()));
    let app = app!(state);
    let answer = atest::call_service(
        &app,
        signed("ping", "d-1", &deliveries::ping()).to_request(),
    )
    .await;
    assert_eq!(answer.status(), 503);
    let health: Value = atest::call_and_read_body_json(
        &app,
        atest::TestRequest::get().uri("/healthz").to_request(),
    )
    .await;
    assert_eq!(health["status"], "needs-config");
    let page =
        atest::call_and_read_body(&app, atest::TestRequest::get().uri("/").to_request()).await;
    let page = String::from_utf8(page.to_vec()).unwrap();
    assert!(
        page.contains("Setup mode") && page.contains("GH_APP_ID"),
        "{page}"
    );
    let json: Value = atest::call_and_read_body_json(
        &app,
        atest::TestRequest::get()
            .uri("/")
            .insert_header(("accept", "application/json"))
            .to_request(),
    )
    .await;
    assert_eq!(json["configured"], false);
}
