//! Failures: 5xx, rate limits, timeouts, malformed answers, and which calls are retried.

use std::sync::Arc;
use std::time::{Duration, Instant};

use github_app::{Error, GitHubAppClient, ManualClock, NewCheckRun, RetryPolicy};
use testkit::github::FakeJob;
use testkit::{FakeServer, Fault, Response, Router};

use crate::{INSTALLATION, Setup, config, hello};

const JOB_PATH: &str = "/repos/octo-org/hello/actions/jobs/";

fn with_job() -> Setup {
    let setup = Setup::start();
    setup
        .fake
        .add_job("octo-org/hello", FakeJob::queued(1, 10, &["self-hosted"]));
    setup
}

fn job_requests(setup: &Setup) -> usize {
    setup.fake.server.requests_to("GET", JOB_PATH).len()
}

#[tokio::test]
async fn idempotent_calls_are_retried_through_transient_5xx() {
    let setup = with_job();
    setup
        .fake
        .inject(Fault::on("GET", JOB_PATH).status(502).times(2));
    assert_eq!(
        setup
            .client
            .get_job(INSTALLATION, &hello(), 1)
            .await
            .unwrap()
            .id,
        1
    );
    assert_eq!(job_requests(&setup), 3);
}

#[tokio::test]
async fn retries_stop_after_max_attempts() {
    let setup = with_job();
    setup
        .fake
        .inject(Fault::on("GET", JOB_PATH).status(500).times(10));
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Server { status: 500 }), "{error:?}");
    assert!(error.is_retryable());
    assert_eq!(job_requests(&setup), 3);
}

#[tokio::test]
async fn deletes_are_retried_too() {
    let setup = Setup::start();
    let id = setup
        .fake
        .add_runner("octo-org/hello", "r", &["self-hosted"]);
    setup
        .fake
        .inject(Fault::on("DELETE", "/repos/octo-org/hello/actions/runners/").status(503));
    setup
        .client
        .delete_runner(INSTALLATION, &crate::hello_scope(), id)
        .await
        .unwrap();
    assert!(setup.fake.runners().is_empty());
}

#[tokio::test]
async fn non_idempotent_posts_are_not_retried() {
    let setup = Setup::start();
    setup
        .fake
        .inject(Fault::on("POST", "/repos/octo-org/hello/check-runs").status(500));
    let error = setup
        .client
        .create_check_run(INSTALLATION, &hello(), &NewCheckRun::new("ferry", "abc"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Server { status: 500 }), "{error:?}");
    assert_eq!(
        setup
            .fake
            .server
            .requests_to("POST", "/repos/octo-org/hello/check-runs")
            .len(),
        1
    );
    assert!(setup.fake.check_runs().is_empty());
}

#[tokio::test]
async fn not_found_is_not_retried() {
    let setup = Setup::start();
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 404)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    assert!(!error.is_retryable());
    assert_eq!(job_requests(&setup), 1);
}

#[tokio::test]
async fn an_exhausted_primary_limit_waits_for_the_reset() {
    let setup = with_job();
    setup.fake.inject(
        setup
            .fake
            .primary_rate_limit("GET", JOB_PATH, Duration::from_secs(1800)),
    );
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    match error {
        // Longer than the policy's longest wait: handed back at once, not slept on.
        Error::RateLimited { retry_after } => {
            assert!(
                (1795..=1800).contains(&retry_after.as_secs()),
                "{retry_after:?}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(job_requests(&setup), 1);

    // The same limit answered with 429.
    setup.fake.inject(
        setup
            .fake
            .primary_rate_limit("GET", JOB_PATH, Duration::from_secs(600))
            .status(429),
    );
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after } if retry_after.as_secs() > 590),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_short_primary_limit_is_waited_out() {
    let setup = with_job();
    setup.fake.inject(
        setup
            .fake
            .primary_rate_limit("GET", JOB_PATH, Duration::ZERO),
    );
    setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap();
    assert_eq!(job_requests(&setup), 2);
}

#[tokio::test]
async fn secondary_limits_follow_retry_after_or_wait_a_minute() {
    let setup = with_job();
    // 429 with a short retry-after on a GET: waited out, then served.
    setup.fake.inject(
        setup
            .fake
            .secondary_rate_limit("GET", JOB_PATH, Some(1))
            .status(429),
    );
    let started = Instant::now();
    setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(job_requests(&setup), 2);

    // 403 naming a secondary limit without retry-after: one minute, longer than the policy allows.
    setup
        .fake
        .inject(setup.fake.secondary_rate_limit("GET", JOB_PATH, None));
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after } if retry_after == Duration::from_secs(60)),
        "{error:?}"
    );

    // On a POST, the limit goes straight back to the caller.
    setup.fake.inject(
        setup
            .fake
            .secondary_rate_limit("POST", "/repos/octo-org/hello/check-runs", Some(30))
            .status(429),
    );
    let error = setup
        .client
        .create_check_run(INSTALLATION, &hello(), &NewCheckRun::new("a", "b"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::RateLimited { retry_after } if retry_after == Duration::from_secs(30)),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn a_plain_403_is_forbidden_not_rate_limited() {
    let setup = with_job();
    setup.fake.inject(
        Fault::on("GET", JOB_PATH)
            .status(403)
            .message("Resource not accessible by integration"),
    );
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Forbidden { message } if message.contains("not accessible")),
        "{error:?}"
    );
    assert_eq!(job_requests(&setup), 1);
}

#[tokio::test]
async fn timeouts_are_transport_errors_and_retried_when_safe() {
    let setup = with_job();
    let client = GitHubAppClient::new(
        config(&setup.fake, setup.clock.clone()).with_timeout(Duration::from_millis(300)),
    )
    .unwrap();
    setup
        .fake
        .inject(Fault::on("GET", JOB_PATH).delay(Duration::from_secs(2)));
    client.get_job(INSTALLATION, &hello(), 1).await.unwrap();
    assert_eq!(job_requests(&setup), 2);

    setup.fake.inject(
        Fault::on("POST", "/repos/octo-org/hello/check-runs").delay(Duration::from_secs(2)),
    );
    let error = client
        .create_check_run(INSTALLATION, &hello(), &NewCheckRun::new("a", "b"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_transport_error() {
    let fake = testkit::FakeGitHub::start();
    let config = config(&fake, Arc::new(ManualClock::starting_now()))
        .with_base_url("http://127.0.0.1:9/api")
        .unwrap()
        .with_retry(RetryPolicy {
            max_attempts: 2,
            ..crate::fast_retries()
        });
    let error = GitHubAppClient::new(config)
        .unwrap()
        .app()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport(_)), "{error:?}");
    assert!(error.is_retryable());
}

#[tokio::test]
async fn malformed_and_unexpected_answers_are_reported() {
    let router = Router::new(testkit::github::github_error)
        .route("GET", "/app", |_, _| {
            Response::text(200, "this is not JSON")
        })
        .route("GET", "/repos/{o}/{r}/installation", |_, _| {
            Response::json(200, &serde_json::json!({ "unexpected": true }))
        })
        .route("POST", "/app-manifests/{code}/conversions", |_, _| {
            testkit::github::github_error(410, "Gone")
        });
    let server = FakeServer::start(router);
    let fake = testkit::FakeGitHub::start();
    let config = config(&fake, Arc::new(ManualClock::starting_now()))
        .with_base_url(server.base_url())
        .unwrap();
    let client = GitHubAppClient::new(config).unwrap();

    assert!(matches!(client.app().await.unwrap_err(), Error::Decode(_)));
    assert!(matches!(
        client.repository_installation(&hello()).await.unwrap_err(),
        Error::Decode(_)
    ));
    let error = client.convert_manifest("code").await.unwrap_err();
    assert!(
        matches!(&error, Error::Unexpected { status: 410, message } if message == "Gone"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_link_to_another_host_is_not_followed() {
    let router =
        Router::new(testkit::github::github_error).route("GET", "/app/hook/deliveries", |_, _| {
            Response::json(200, &serde_json::json!([])).header(
                "link",
                "<https://evil.example.com/app/hook/deliveries?cursor=x>; rel=\"next\"",
            )
        });
    let server = FakeServer::start(router);
    let fake = testkit::FakeGitHub::start();
    let config = config(&fake, Arc::new(ManualClock::starting_now()))
        .with_base_url(server.base_url())
        .unwrap();
    let client = GitHubAppClient::new(config).unwrap();
    let error = client
        .list_deliveries(&Default::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Decode(_)), "{error:?}");
}
