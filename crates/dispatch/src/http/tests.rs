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
    assert_eq!(json["details"], false);
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
        html.contains("<table>") && html.contains("hf-jobs-t4-small") && !html.contains("octo/ml"),
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

const STATUS_TOKEN: &str = "status-token-for-the-tests-0123";
/// Names that only the details may show.
const PRIVATE: &[&str] = &[
    "zz-private-org",
    "zz-hidden-repo",
    "zz-hidden-workflow",
    "zz-hidden-job",
    "zz-reason-text",
    "ghs_",
    "'t4-smal'",
    "did you mean",
];

/// The harness's state with the status page's `token`.
fn with_status_token(h: Harness, token: Option<&str>) -> Harness {
    let state = Arc::try_unwrap(h.state.into_inner())
        .ok()
        .expect("no other user of the state yet");
    let status = StatusOptions {
        token: token.map(SecretString::from),
        public: vec![("JOB_TIMEOUT", "1h".to_owned())],
        private: vec![("HF_NAMESPACE", "zz-private-org".to_owned())],
    };
    Harness {
        state: web::Data::new(state.with_status(status)),
        ..h
    }
}

/// Two queued t4-small jobs, one queued cpu-basic job and one refused label, all in a private
/// repository, and one t4-small job failed with an API error text holding a token.
async fn private_jobs(h: &Harness) {
    let app = app!(h.state);
    let jobs = [
        (1, "hf-jobs-t4-small"),
        (2, "hf-jobs-t4-small"),
        (3, "hf-jobs-cpu-basic"),
        (4, "hf-jobs-t4-smal"),
        (5, "hf-jobs-t4-small"),
    ];
    for (id, label) in jobs {
        let mut job = job(&[label]);
        job.set_repo("zz-private-org/zz-hidden-repo")
            .set_ids(id, id);
        job.payload["workflow_job"]["workflow_name"] = "zz-hidden-workflow".into();
        job.payload["workflow_job"]["name"] = "zz-hidden-job".into();
        let answer = atest::call_service(
            &app,
            signed("workflow_job", &format!("d-{id}"), &job.body()).to_request(),
        )
        .await;
        assert_eq!(answer.status(), 202);
    }
    let key = stored(h)
        .await
        .into_iter()
        .find(|r| r.key.job_id == 5)
        .unwrap()
        .key;
    h.store
        .update(
            &key,
            now_ms(),
            Box::new(|current| {
                Some(crate::machine::fail(
                    current,
                    &crate::scrub::scrub(
                        "zz-reason-text: 422 from https://api.github.com (token ghs_0123456789abcdefghijABCDEFGHIJ0123)",
                    ),
                    now_ms(),
                ))
            }),
        )
        .await
        .unwrap();
}

async fn get(
    h: &Harness,
    uri: &str,
    authorization: Option<&str>,
) -> (
    actix_web::http::StatusCode,
    actix_web::http::header::HeaderMap,
    String,
) {
    let app = app!(h.state);
    let mut request = atest::TestRequest::get().uri(uri);
    if uri == "/" {
        request = request.insert_header(("accept", "text/html"));
    }
    if let Some(authorization) = authorization {
        request = request.insert_header(("authorization", authorization));
    }
    let answer = atest::call_service(&app, request.to_request()).await;
    let (status, headers) = (answer.status(), answer.headers().clone());
    let body = atest::read_body(answer).await;
    (status, headers, String::from_utf8(body.to_vec()).unwrap())
}

fn assert_aggregates_only(body: &str) {
    for name in PRIVATE {
        assert!(
            !body.contains(name),
            "{name:?} shown without the token: {body}"
        );
    }
}

#[actix_web::test]
async fn the_status_page_without_a_token_shows_aggregates_only() {
    for token in [None, Some(STATUS_TOKEN)] {
        let h = with_status_token(harness(&["zz-private-org/zz-hidden-repo"]), token);
        private_jobs(&h).await;
        for uri in ["/", "/?format=json", "/api/status"] {
            let (status, headers, body) = get(&h, uri, None).await;
            assert_eq!(status, 200, "{uri}");
            assert_eq!(headers.get("cache-control").unwrap(), "no-store");
            assert_aggregates_only(&body);
            assert!(body.contains("STATUS_TOKEN"), "{uri}: {body}");
        }
        // The HTML shows the aggregates too.
        let (_, _, html) = get(&h, "/", None).await;
        for shown in [
            "Jobs by flavor",
            "t4-small",
            "hf-jobs-cpu-basic",
            "JOB_TIMEOUT",
            "1h",
        ] {
            assert!(html.contains(shown), "{shown:?} missing: {html}");
        }
    }
    // Without a configured token, a presented one changes nothing.
    let h = with_status_token(harness(&[]), None);
    private_jobs(&h).await;
    let (status, _, body) = get(&h, "/api/status", Some(&format!("Bearer {STATUS_TOKEN}"))).await;
    assert_eq!(status, 200);
    assert_aggregates_only(&body);
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["details"], false);
    assert!(
        json["details_hint"]
            .as_str()
            .unwrap()
            .contains("set STATUS_TOKEN")
    );
}

#[actix_web::test]
async fn the_status_counts_jobs_by_state_and_by_flavor() {
    let h = with_status_token(harness(&[]), None);
    private_jobs(&h).await;
    let (_, _, body) = get(&h, "/api/status", None).await;
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["jobs"]["queued"], 3, "{json}");
    assert_eq!(json["jobs"]["failed"], 2, "{json}");
    assert_eq!(
        json["jobs_by_flavor"],
        serde_json::json!({
            "t4-small": { "queued": 2, "failed": 1 },
            "cpu-basic": { "queued": 1 },
            "none": { "failed": 1 },
        })
    );
    assert_eq!(json["ready"], false);
    assert!(
        json["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "hf-jobs-t4-small")
    );
    assert!(
        json["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l == "hf-jobs-cpu")
    );
    assert_eq!(json["configuration"]["JOB_TIMEOUT"], "1h");
    assert!(json["configuration"].get("HF_NAMESPACE").is_none());
    assert_eq!(json["images"]["gpu"], "ferry/runner:gpu");
    assert!(json.get("recent").is_none() && json.get("problems").is_none());
}

#[actix_web::test]
async fn the_status_token_shows_the_details_and_a_wrong_one_is_refused() {
    let h = with_status_token(
        harness(&["zz-private-org/zz-hidden-repo"]),
        Some(STATUS_TOKEN),
    );
    private_jobs(&h).await;
    for (uri, scheme) in [("/api/status", "Bearer"), ("/?format=json", "bearer")] {
        let (status, _, body) = get(&h, uri, Some(&format!("{scheme} {STATUS_TOKEN}"))).await;
        assert_eq!(status, 200);
        let json: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["details"], true);
        let recent = json["recent"].as_array().unwrap();
        assert_eq!(recent.len(), 5);
        assert!(
            recent
                .iter()
                .all(|r| r["repo"] == "zz-private-org/zz-hidden-repo"
                    && r["workflow"] == "zz-hidden-workflow"
                    && r["job"] == "zz-hidden-job")
        );
        let failed = recent.iter().find(|r| r["job_id"] == 5).unwrap();
        let reason = failed["reason"].as_str().unwrap();
        assert!(
            reason.contains("zz-reason-text") && !reason.contains("ghs_"),
            "{reason}"
        );
        assert_eq!(json["configuration"]["HF_NAMESPACE"], "zz-private-org");
        assert!(
            body.contains(
                "allowed repositories (ALLOWED_GITHUB_REPOSITORIES): zz-private-org/zz-hidden-repo"
            ),
            "{body}"
        );
        assert!(json["problems"].as_array().is_some_and(|p| !p.is_empty()));
    }
    let (status, _, html) = get(&h, "/", Some(&format!("Bearer {STATUS_TOKEN}"))).await;
    assert_eq!(status, 200);
    for shown in [
        "zz-hidden-repo",
        "zz-hidden-workflow / zz-hidden-job",
        "zz-reason-text",
        "did you mean 't4-small'",
    ] {
        assert!(html.contains(shown), "{shown:?} missing: {html}");
    }

    let shorter = &STATUS_TOKEN[..STATUS_TOKEN.len() - 1];
    let longer = format!("{STATUS_TOKEN}4");
    for wrong in [
        "Bearer wrong-token-of-some-length".to_owned(),
        format!("Bearer {shorter}"),
        format!("Bearer {longer}"),
        format!("Basic {STATUS_TOKEN}"),
        STATUS_TOKEN.to_owned(),
        "Bearer ".to_owned(),
    ] {
        for uri in ["/", "/api/status"] {
            let (status, headers, body) = get(&h, uri, Some(&wrong)).await;
            assert_eq!(status, 401, "{wrong:?} on {uri}");
            let challenge = headers.get("www-authenticate").unwrap().to_str().unwrap();
            assert!(challenge.starts_with("Bearer"), "{challenge}");
            assert_aggregates_only(&body);
        }
    }
}
