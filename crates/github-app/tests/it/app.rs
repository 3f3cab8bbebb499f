//! App-level calls: webhook deliveries, manifest conversion, rate limits.

use std::time::Duration;

use github_app::{DeliveryQuery, DeliveryStatus, Error};
use secrecy::ExposeSecret;
use testkit::deliveries::WorkflowJob;
use testkit::github::{APP_ID, keys};
use testkit::{FakeServer, Fault, Response, Router};

use crate::{INSTALLATION, Setup};

#[tokio::test]
async fn deliveries_are_listed_newest_first_with_cursors() {
    let setup = Setup::start();
    let ids: Vec<u64> = (0..5)
        .map(|i| {
            setup.fake.add_delivery(
                "workflow_job",
                Some("queued"),
                if i == 2 { 502 } else { 200 },
            )
        })
        .collect();

    let mut seen = Vec::new();
    let mut query = DeliveryQuery {
        per_page: Some(2),
        ..DeliveryQuery::default()
    };
    let mut pages = 0;
    loop {
        let page = setup.client.list_deliveries(&query).await.unwrap();
        pages += 1;
        seen.extend(page.deliveries.iter().map(|d| d.id));
        match page.next_cursor {
            Some(cursor) => query.cursor = Some(cursor),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut newest_first = ids.clone();
    newest_first.reverse();
    assert_eq!(seen, newest_first);

    let failures = setup
        .client
        .list_deliveries(&DeliveryQuery {
            status: Some(DeliveryStatus::Failure),
            ..DeliveryQuery::default()
        })
        .await
        .unwrap();
    assert_eq!(failures.deliveries.len(), 1);
    assert_eq!(failures.deliveries[0].id, ids[2]);
    assert!(!failures.deliveries[0].succeeded());
    assert_eq!(failures.next_cursor, None);

    let bad_cursor = DeliveryQuery {
        cursor: Some("garbage".into()),
        ..DeliveryQuery::default()
    };
    let error = setup.client.list_deliveries(&bad_cursor).await.unwrap_err();
    assert!(matches!(error, Error::Validation { .. }), "{error:?}");
}

#[tokio::test]
async fn deliveries_can_be_redelivered() {
    let setup = Setup::start();
    let failed = setup.fake.add_delivery("workflow_job", Some("queued"), 500);
    setup.client.redeliver(failed).await.unwrap();
    assert_eq!(setup.fake.redelivery_requests(), [failed]);
    let page = setup
        .client
        .list_deliveries(&DeliveryQuery::default())
        .await
        .unwrap();
    assert!(page.deliveries[0].redelivery && page.deliveries[0].succeeded());
    assert_eq!(page.deliveries[0].guid, page.deliveries[1].guid);

    let error = setup.client.redeliver(424242).await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn a_redelivery_posts_the_payload_again_with_the_same_guid() {
    let setup = Setup::start();
    let receiver = FakeServer::start(
        Router::new(|status, message: &str| Response::text(status, message)).route(
            "POST",
            "/webhook",
            |_, _| Response::text(202, "ok"),
        ),
    );
    setup
        .fake
        .set_webhook(&receiver.url("/webhook"), "It's a Secret to Everybody");
    let payload = WorkflowJob::queued("octo-org/hello", 31, 30, &["self-hosted"]).body();
    // GitHub could not reach the dispatcher at the time.
    let missed = setup.fake.add_delivery_with_payload(
        "workflow_job",
        Some("queued"),
        payload.clone(),
        Some(INSTALLATION),
        0,
    );
    let original = setup.fake.deliveries()[0].clone();
    assert_eq!(
        (original.status.as_str(), original.status_code),
        ("failed to connect to host", 0)
    );

    setup.client.redeliver(missed).await.unwrap();
    assert!(setup.fake.wait_for_redeliveries(Duration::from_secs(10)));
    let received = receiver.requests_to("POST", "/webhook");
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].header("x-github-delivery"),
        Some(original.guid.as_str())
    );
    assert_eq!(received[0].header("x-github-event"), Some("workflow_job"));
    assert_eq!(received[0].body.as_ref(), payload.as_slice());

    let page = setup
        .client
        .list_deliveries(&DeliveryQuery::default())
        .await
        .unwrap();
    let newest = &page.deliveries[0];
    assert!(newest.redelivery && newest.succeeded(), "{newest:?}");
    assert_eq!(newest.status_code, Some(202));
    assert_eq!(newest.guid, original.guid);
    assert_ne!(newest.id, missed);
    assert_eq!(newest.installation_id, Some(INSTALLATION));

    // The receiver fails this time: the redelivery is recorded as failed.
    receiver.inject(Fault::on("POST", "/webhook").status(503));
    setup.client.redeliver(missed).await.unwrap();
    assert!(setup.fake.wait_for_redeliveries(Duration::from_secs(10)));
    let failures = setup
        .client
        .list_deliveries(&DeliveryQuery {
            status: Some(DeliveryStatus::Failure),
            ..DeliveryQuery::default()
        })
        .await
        .unwrap();
    let failed = &failures.deliveries[0];
    assert!(failed.redelivery && !failed.succeeded(), "{failed:?}");
    assert_eq!(failed.status, "Invalid HTTP Response: 503");
    assert_eq!(failed.status_code, Some(503));
    assert_eq!(receiver.requests_to("POST", "/webhook").len(), 2);
}

#[tokio::test]
async fn a_manifest_code_converts_once_without_authentication() {
    let setup = Setup::start();
    setup.fake.add_manifest_code("abc123");
    let app = setup.client.convert_manifest("abc123").await.unwrap();
    assert_eq!(app.app.id, APP_ID);
    assert_eq!(app.pem.expose_secret(), keys::APP_PRIVATE_KEY_PKCS1);
    assert!(app.webhook_secret.is_some());
    let debug = format!("{app:?}");
    assert!(
        !debug.contains("PRIVATE KEY") && !debug.contains("fake-client-secret"),
        "{debug}"
    );

    let request = &setup.fake.server.requests_to("POST", "/app-manifests/")[0];
    assert_eq!(request.header("authorization"), None);

    let error = setup.client.convert_manifest("abc123").await.unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn rate_limits_as_the_app_and_as_an_installation() {
    let setup = Setup::start();
    let limits = setup.client.rate_limit(Some(INSTALLATION)).await.unwrap();
    assert_eq!(limits.rate.limit, 5000);
    assert!(limits.resources.contains_key("integration_manifest"));
    let as_app = setup.client.rate_limit(None).await.unwrap();
    assert_eq!(as_app.resources["core"].limit, 5000);
}
