use std::net::TcpListener;
use std::time::Duration;

use github_webhook::{Delivery, Verifier};
use secrecy::SecretString;

use super::{DEFAULT_WEBHOOK_TIMEOUT, HOOK_ID, delivery_status};
use crate::deliveries::{WorkflowJob, ping};
use crate::github::tests::valid_jwt;
use crate::github::{APP_ID, FakeGitHub};
use crate::server::{FakeServer, Fault, Request, Response, Router};

const SECRET: &str = "It's a Secret to Everybody";

/// A webhook receiver on loopback that answers 200 to `POST /webhook`.
fn receiver() -> FakeServer {
    receiver_with(|_| Response::text(200, "ok"))
}

fn receiver_with(answer: impl Fn(&Request) -> Response + Send + Sync + 'static) -> FakeServer {
    let router = Router::new(|status, message: &str| Response::text(status, message)).route(
        "POST",
        "/webhook",
        move |request, _| answer(request),
    );
    FakeServer::start(router)
}

/// A URL on loopback where nothing listens.
fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}/webhook")
}

#[test]
fn status_texts_are_githubs() {
    assert_eq!(delivery_status(200), "OK");
    assert_eq!(delivery_status(204), "OK");
    assert_eq!(delivery_status(302), "Invalid HTTP Response: 302");
    assert_eq!(delivery_status(503), "Invalid HTTP Response: 503");
    assert_eq!(delivery_status(0), "failed to connect to host");
    assert_eq!(DEFAULT_WEBHOOK_TIMEOUT, Duration::from_secs(10));
}

#[test]
fn a_delivery_carries_githubs_headers_and_a_valid_signature() {
    let fake = FakeGitHub::start();
    let receiver = receiver();
    fake.set_webhook(&receiver.url("/webhook?source=github"), SECRET);
    let mut job = WorkflowJob::queued("octo-org/hello", 31, 30, &["self-hosted"]);
    job.payload["repository"]["id"] = 5150.into();
    let payload = job.body();

    let delivery = fake.send_webhook("workflow_job", Some("queued"), payload.clone(), Some(42));
    assert_eq!(
        (delivery.status.as_str(), delivery.status_code),
        ("OK", 200)
    );
    assert_eq!(delivery.payload.as_deref(), Some(payload.as_slice()));
    assert_eq!(delivery.repository_id, Some(5150));
    assert_eq!(delivery.installation_id, Some(42));
    assert!(!delivery.redelivery);
    assert_eq!(fake.deliveries(), std::slice::from_ref(&delivery));

    let received = receiver.requests();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.query("source"), Some("github"));
    assert_eq!(request.body.as_ref(), payload.as_slice());
    assert!(
        request
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("GitHub-Hookshot/"))
    );
    assert_eq!(request.header("content-type"), Some("application/json"));
    let headers = Delivery::from_headers(|name| request.header(name)).unwrap();
    assert_eq!(headers.id, delivery.guid);
    assert_eq!(headers.event, "workflow_job");
    assert_eq!(headers.hook_id, Some(HOOK_ID));
    assert_eq!(headers.target_type.as_deref(), Some("integration"));
    assert_eq!(headers.target_id, Some(APP_ID));
    assert_eq!(delivery.guid.len(), 36);

    let signature = request.header("x-hub-signature-256");
    Verifier::new([SecretString::from(SECRET)])
        .unwrap()
        .verify(signature, &request.body)
        .unwrap();
    let other = Verifier::new([SecretString::from("another secret")]).unwrap();
    assert!(other.verify(signature, &request.body).is_err());

    // Every delivery has its own GUID.
    let again = fake.send_webhook("ping", None, ping(), None);
    assert_ne!(again.guid, delivery.guid);
    assert!(again.id > delivery.id);
    assert_eq!(
        receiver.requests()[1].header("x-github-event"),
        Some("ping")
    );
}

#[test]
fn without_a_secret_nothing_is_signed() {
    let fake = FakeGitHub::start();
    let receiver = receiver();
    fake.set_webhook(&receiver.url("/webhook"), "");
    fake.send_webhook("ping", None, ping(), None);
    assert_eq!(receiver.requests()[0].header("x-hub-signature-256"), None);
}

#[test]
fn an_error_answer_is_a_failed_delivery() {
    let fake = FakeGitHub::start();
    let receiver = receiver();
    receiver.inject(Fault::on("POST", "/webhook").status(503));
    fake.set_webhook(&receiver.url("/webhook"), SECRET);
    let delivery = fake.send_webhook("ping", None, ping(), None);
    assert_eq!(delivery.status_code, 503);
    assert_eq!(delivery.status, "Invalid HTTP Response: 503");
    // A 401 from a receiver that rejects the signature, likewise.
    let rejecting = receiver_with(|_| Response::text(401, "bad signature"));
    fake.set_webhook(&rejecting.url("/webhook"), SECRET);
    let delivery = fake.send_webhook("ping", None, ping(), None);
    assert_eq!(
        (delivery.status.as_str(), delivery.status_code),
        ("Invalid HTTP Response: 401", 401)
    );
}

#[test]
fn an_unreachable_receiver_is_a_delivery_without_status_code() {
    let fake = FakeGitHub::start();
    fake.set_webhook(&closed_port_url(), SECRET);
    let delivery = fake.send_webhook("ping", None, ping(), None);
    assert_eq!(delivery.status_code, 0);
    assert_eq!(delivery.status, "failed to connect to host");
    assert_eq!(
        fake.deliveries()[0].payload.as_deref(),
        Some(ping().as_slice())
    );
}

#[test]
fn a_slow_receiver_times_out() {
    let fake = FakeGitHub::start();
    let receiver = receiver();
    receiver.inject(Fault::on("POST", "/webhook").delay(Duration::from_secs(3)));
    fake.set_webhook(&receiver.url("/webhook"), SECRET);
    fake.set_webhook_timeout(Duration::from_millis(200));
    let delivery = fake.send_webhook("ping", None, ping(), None);
    assert_eq!(
        (delivery.status.as_str(), delivery.status_code),
        ("timed out", 0)
    );
}

async fn redeliver(fake: &FakeGitHub, id: u64) -> u16 {
    reqwest::Client::new()
        .post(format!(
            "{}/app/hook/deliveries/{id}/attempts",
            fake.base_url()
        ))
        .header("user-agent", "testkit")
        .bearer_auth(valid_jwt())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_redelivery_reaches_a_receiver_that_calls_the_fake_back() {
    let fake = FakeGitHub::start();
    // The receiver reads the fake's state while answering, as a dispatcher calls GitHub back:
    // this would deadlock if the fake held its lock while delivering.
    let state = fake.state.clone();
    let receiver = receiver_with(move |_| {
        let known = state.lock().unwrap().deliveries.len();
        Response::text(200, format!("{known} deliveries"))
    });
    fake.set_webhook(&closed_port_url(), SECRET);
    let missed = fake.send_webhook("ping", None, ping(), None);
    assert_eq!(missed.status_code, 0);

    fake.set_webhook(&receiver.url("/webhook"), SECRET);
    assert_eq!(redeliver(&fake, missed.id).await, 202);
    assert!(fake.wait_for_redeliveries(Duration::from_secs(10)));
    let deliveries = fake.deliveries();
    let redelivered = deliveries.last().unwrap();
    assert!(redelivered.redelivery);
    assert_eq!(redelivered.guid, missed.guid);
    assert_ne!(redelivered.id, missed.id);
    assert_eq!(
        (redelivered.status.as_str(), redelivered.status_code),
        ("OK", 200)
    );
    let request = &receiver.requests()[0];
    assert_eq!(
        request.header("x-github-delivery"),
        Some(missed.guid.as_str())
    );
    Verifier::new([SecretString::from(SECRET)])
        .unwrap()
        .verify(request.header("x-hub-signature-256"), &request.body)
        .unwrap();

    // A synchronous delivery to the same receiver does not deadlock either.
    let direct = fake.send_webhook("ping", None, ping(), None);
    assert_eq!(direct.status, "OK");
}

#[tokio::test]
async fn a_delivery_without_payload_is_redelivered_as_before() {
    let fake = FakeGitHub::start();
    let receiver = receiver();
    fake.set_webhook(&receiver.url("/webhook"), SECRET);
    let id = fake.add_delivery("workflow_job", Some("queued"), 500);
    assert_eq!(fake.deliveries()[0].status, "Invalid HTTP Response: 500");
    assert_eq!(redeliver(&fake, id).await, 202);
    assert!(fake.wait_for_redeliveries(Duration::from_secs(1)));
    let last = fake.deliveries().pop().unwrap();
    assert!(last.redelivery && last.status == "OK" && last.status_code == 200);
    // Nothing to send, so nothing was sent.
    assert!(receiver.requests().is_empty());
}
