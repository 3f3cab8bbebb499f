//! Each error class, as the Hub (or the network) produces it.

use std::time::Duration;

use hf_jobs::{Error, HfClient, JobSpec, SecretString};
use testkit::{FakeServer, Fault, Response, Router};

use super::{TOKEN, client, hub};

fn ubuntu() -> JobSpec {
    JobSpec::new("ubuntu", ["true"])
}

#[tokio::test]
async fn unauthorized_forbidden_and_not_found() {
    let hub = hub();
    let wrong = HfClient::new(hub.base_url(), SecretString::from("hf_wrong")).unwrap();
    let error = wrong.run_job(&ubuntu()).await.unwrap_err();
    assert!(
        matches!(&error, Error::Unauthorized { message } if message.starts_with("Invalid user token")),
        "{error}"
    );
    assert!(!error.is_retryable());
    assert!(
        !format!("{error:?}").contains("hf_wrong"),
        "the token never shows"
    );

    let no_token = HfClient::builder()
        .endpoint(hub.base_url())
        .build()
        .unwrap();
    assert!(matches!(
        no_token.namespace().await,
        Err(Error::Unauthorized { .. })
    ));
    assert_eq!(super::whoami_calls(&hub), 1, "no request without a token");

    let client = client(&hub);
    let error = client
        .with_namespace("bob")
        .unwrap()
        .run_job(&ubuntu())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Forbidden { message } if message.contains("bob")),
        "{error}"
    );
    assert_eq!(error.status(), Some(403));

    let error = client
        .inspect_job("0123456789abcdef01234567")
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { message } if message.contains("Job not found")),
        "{error}"
    );
    assert!(matches!(
        client.cancel_job("0123456789abcdef01234567").await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn bad_requests_carry_the_hub_message() {
    let hub = hub();
    let client = client(&hub);
    let error = client
        .run_job(&ubuntu().env("1BAD", "x"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::BadRequest { message } if message.contains("environment")),
        "{error}"
    );
    let error = client
        .run_job(&ubuntu().label("team", "a b"))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::BadRequest { message } if message.contains("labels")),
        "{error}"
    );
    assert!(hub.with_state(|s| s.jobs.is_empty()));
}

#[tokio::test]
async fn payment_conflict_rate_limit_and_server_errors() {
    let hub = hub();
    let client = client(&hub);
    client.namespace().await.unwrap();

    let message = "Your pre-paid credit balance is insufficient";
    hub.inject(
        Fault::on("POST", "/api/jobs/alice")
            .status(402)
            .message(message),
    );
    let error = client.run_job(&ubuntu()).await.unwrap_err();
    assert!(
        matches!(&error, Error::PaymentRequired { message: m } if m == message),
        "{error}"
    );
    assert!(!error.is_retryable());

    hub.inject(Fault::on("POST", "/api/jobs/alice").status(409));
    assert!(matches!(
        client.run_job(&ubuntu()).await,
        Err(Error::Conflict { .. })
    ));

    hub.inject(
        Fault::on("POST", "/api/jobs/alice")
            .status(429)
            .retry_after(7),
    );
    let error = client.run_job(&ubuntu()).await.unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(7)),
        "{error}"
    );
    assert!(error.is_retryable());
    assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));

    hub.inject(
        Fault::on("GET", "/api/jobs/alice")
            .status(429)
            .header("ratelimit", "\"api\";r=0;t=55")
            .message("slow down"),
    );
    let error = client
        .inspect_job("0123456789abcdef01234567")
        .await
        .unwrap_err();
    assert_eq!(
        error.retry_after(),
        Some(Duration::from_secs(55)),
        "{error}"
    );

    for status in [500, 502, 503] {
        hub.inject(Fault::on("POST", "/api/jobs/alice").status(status));
        let error = client.run_job(&ubuntu()).await.unwrap_err();
        assert!(
            matches!(error, Error::Server { status: s, .. } if s == status),
            "{error}"
        );
        assert!(error.is_retryable());
    }
    assert_eq!(
        hub.server.requests_to("POST", "/api/jobs/alice").len(),
        6,
        "no automatic retries"
    );
    assert!(hub.with_state(|s| s.jobs.is_empty()));
}

#[tokio::test]
async fn timeouts_and_transport_failures() {
    let hub = hub();
    let slow = HfClient::builder()
        .endpoint(hub.base_url())
        .token(SecretString::from(TOKEN))
        .namespace("alice")
        .request_timeout(Some(Duration::from_millis(200)))
        .build()
        .unwrap();
    hub.inject(Fault::on("GET", "/api/jobs/hardware").delay(Duration::from_secs(2)));
    let error = slow.list_hardware().await.unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
    assert!(error.is_retryable());

    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let closed = HfClient::new(
        format!("http://127.0.0.1:{port}"),
        SecretString::from(TOKEN),
    )
    .unwrap();
    let error = closed.list_hardware().await.unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn malformed_answers_and_error_body_shapes() {
    let router = Router::new(|status, message| Response::text(status, message))
        .route("GET", "/api/whoami-v2", |_, _| Response::json(200, &serde_json::json!({ "name": "alice" })))
        .route("GET", "/api/jobs/alice/{id}", |_, params| match params["id"].as_str() {
            "garbage" => Response::text(200, "<html>not json</html>"),
            "nostage" => Response::json(200, &serde_json::json!({ "id": "x", "owner": { "id": "1", "name": "alice", "type": "user" } })),
            "oauth" => Response::json(400, &serde_json::json!({ "error": "invalid_grant", "error_description": "expired" })),
            "list" => Response::json(400, &serde_json::json!({ "error": ["first", "second"] })),
            "errors" => Response::json(422, &serde_json::json!({ "errors": [{ "message": "bad field" }] }))
                .header("x-error-message", "bad field"),
            "html" => Response::new(502).header("content-type", "text/html").bytes("<html>gateway</html>"),
            _ => Response::text(418, "plain text reason"),
        });
    let fake = FakeServer::start(router);
    let client = HfClient::new(fake.base_url(), SecretString::from(TOKEN)).unwrap();
    let message = |id: &'static str| {
        let client = client.clone();
        async move { client.inspect_job(id).await.unwrap_err() }
    };
    assert!(matches!(
        message("garbage").await,
        Error::InvalidResponse(_)
    ));
    assert!(matches!(message("nostage").await, Error::InvalidResponse(m) if m.contains("status")));
    assert!(
        matches!(message("oauth").await, Error::BadRequest { message } if message == "invalid_grant: expired")
    );
    assert!(
        matches!(message("list").await, Error::BadRequest { message } if message == "first\nsecond")
    );
    assert!(
        matches!(message("errors").await, Error::BadRequest { message } if message == "bad field")
    );
    let html = message("html").await;
    assert!(
        matches!(&html, Error::Server { status: 502, message } if !message.contains("<html>")),
        "{html:?}"
    );
    assert!(
        matches!(message("teapot").await, Error::Server { status: 418, message } if message == "plain text reason")
    );
}

#[tokio::test]
async fn invalid_input_is_refused_before_any_request() {
    let hub = hub();
    let client = client(&hub);
    let cases = [
        ubuntu().name("a").label("name", "b"),
        ubuntu().timeout("2H"),
        ubuntu().timeout("1.5"),
        ubuntu().network("", vec![]).network_aliases_only(),
        ubuntu().attempts(0),
        ubuntu().volume(hf_jobs::Volume::new(
            hf_jobs::VolumeType::Model,
            "org/m",
            "relative",
        )),
        JobSpec::new("", ["true"]),
    ];
    for spec in cases {
        let error = client.run_job(&spec).await.unwrap_err();
        assert!(
            matches!(error, Error::InvalidInput(_)),
            "{spec:?} → {error:?}"
        );
    }
    for id in ["", "a/b", ".."] {
        assert!(
            matches!(client.inspect_job(id).await, Err(Error::InvalidInput(_))),
            "{id:?}"
        );
    }
    assert!(hub.server.requests_to("POST", "/api/jobs").is_empty());
    assert!(matches!(
        HfClient::new("not a url", SecretString::from(TOKEN)),
        Err(Error::InvalidInput(_))
    ));
    assert!(matches!(
        HfClient::new("ftp://hub", SecretString::from(TOKEN)),
        Err(Error::InvalidInput(_))
    ));
}

trait AliasesOnly {
    fn network_aliases_only(self) -> Self;
}

impl AliasesOnly for JobSpec {
    /// Aliases without a group, which Python refuses.
    fn network_aliases_only(mut self) -> Self {
        self.network_group = None;
        self.network_aliases = vec!["db".into()];
        self
    }
}
