//! App JWTs and installation tokens: signing, caching, refresh, concurrency, 401 recovery.

use std::sync::Arc;
use std::time::Duration;

use github_app::{AppIdentity, ClientConfig, Error, GitHubAppClient, ManualClock, TokenScope};
use secrecy::{ExposeSecret, SecretString};
use testkit::Fault;
use testkit::github::{APP_ID, CLIENT_ID, keys};

use crate::{INSTALLATION, Setup, config, hello};

#[tokio::test]
async fn app_jwt_from_pkcs1_and_pkcs8_keys_is_accepted() {
    let setup = Setup::start();
    let app = setup.client.app().await.unwrap();
    assert_eq!(app.id, APP_ID);
    assert_eq!(app.client_id.as_deref(), Some(CLIENT_ID));

    let pkcs8 = ClientConfig {
        app: AppIdentity::ClientId(CLIENT_ID.into()),
        private_key: SecretString::from(keys::APP_PRIVATE_KEY_PKCS8),
        ..config(&setup.fake, setup.clock.clone())
    };
    let app = GitHubAppClient::new(pkcs8).unwrap().app().await.unwrap();
    assert_eq!(app.id, APP_ID);
}

#[tokio::test]
async fn every_request_carries_githubs_headers() {
    let setup = Setup::start();
    setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    let requests = setup.fake.server.requests();
    assert_eq!(requests.len(), 2, "token then job");
    for request in requests {
        assert_eq!(
            request.header("accept"),
            Some("application/vnd.github+json")
        );
        assert_eq!(request.header("x-github-api-version"), Some("2022-11-28"));
        let agent = request.header("user-agent").unwrap();
        assert!(
            agent.starts_with(&format!("Ferry/{}", env!("CARGO_PKG_VERSION"))),
            "{agent}"
        );
        assert!(request.bearer().is_some());
    }
}

#[tokio::test]
async fn a_jwt_signed_with_another_key_or_for_another_app_is_refused() {
    let setup = Setup::start();
    let wrong_key = ClientConfig {
        private_key: SecretString::from(keys::OTHER_PRIVATE_KEY_PKCS1),
        ..config(&setup.fake, setup.clock.clone())
    };
    let error = GitHubAppClient::new(wrong_key)
        .unwrap()
        .app()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Unauthorized { message } if message.contains("could not be decoded")),
        "{error:?}"
    );

    let wrong_app = ClientConfig {
        app: AppIdentity::AppId(1),
        ..config(&setup.fake, setup.clock.clone())
    };
    let error = GitHubAppClient::new(wrong_app)
        .unwrap()
        .app()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::NotFound { message } if message == "Integration not found"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_client_clock_far_behind_makes_an_expired_jwt() {
    // The JWT follows the client's clock: 20 minutes slow means an already expired JWT.
    let setup = Setup::start();
    setup.fake.advance_time(Duration::from_secs(20 * 60));
    let error = setup.client.app().await.unwrap_err();
    assert!(
        matches!(&error, Error::Unauthorized { message } if message.contains("'exp'")),
        "{error:?}"
    );
}

#[tokio::test]
async fn tokens_are_cached_until_five_minutes_before_expiry() {
    let setup = Setup::start();
    // The scope the runner endpoints ask for, so the refreshed token is the one they use.
    let scope = TokenScope::runners(&crate::hello_scope());
    let first = setup
        .client
        .installation_token(INSTALLATION, &scope)
        .await
        .unwrap();
    let again = setup
        .client
        .installation_token(INSTALLATION, &scope)
        .await
        .unwrap();
    assert_eq!(first.token.expose_secret(), again.token.expose_secret());
    assert_eq!(setup.fake.token_requests(), 1);

    // 54 minutes later, 6 minutes remain: still cached.
    setup.advance(Duration::from_secs(54 * 60));
    let later = setup
        .client
        .installation_token(INSTALLATION, &scope)
        .await
        .unwrap();
    assert_eq!(later.token.expose_secret(), first.token.expose_secret());
    assert_eq!(setup.fake.token_requests(), 1);

    // 2 minutes more, 4 remain: refreshed before GitHub would refuse it.
    setup.advance(Duration::from_secs(2 * 60));
    let fresh = setup
        .client
        .installation_token(INSTALLATION, &scope)
        .await
        .unwrap();
    assert_ne!(fresh.token.expose_secret(), first.token.expose_secret());
    assert_eq!(setup.fake.token_requests(), 2);
    // And the refreshed token works.
    setup
        .client
        .list_runners(INSTALLATION, &crate::hello_scope(), None)
        .await
        .unwrap();
    assert_eq!(setup.fake.token_requests(), 2);
}

#[tokio::test]
async fn short_lived_tokens_are_never_served_from_the_cache() {
    let setup = Setup::start();
    setup.fake.set_token_ttl(Duration::from_secs(4 * 60));
    for _ in 0..3 {
        setup
            .client
            .installation_token(INSTALLATION, &TokenScope::all())
            .await
            .unwrap();
    }
    assert_eq!(setup.fake.token_requests(), 3);
}

#[tokio::test]
async fn twenty_concurrent_callers_cause_one_token_request() {
    let setup = Setup::start();
    // Slow the mint down so every caller arrives while it is in flight.
    setup
        .fake
        .inject(Fault::on("POST", "/app/installations/").delay(Duration::from_millis(300)));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let client = setup.client.clone();
        tasks.spawn(async move {
            client
                .installation_token(INSTALLATION, &TokenScope::all())
                .await
                .unwrap()
        });
    }
    let tokens: Vec<String> = tasks
        .join_all()
        .await
        .into_iter()
        .map(|t| t.token.expose_secret().to_owned())
        .collect();
    assert_eq!(tokens.len(), 20);
    assert!(tokens.iter().all(|t| *t == tokens[0]));
    assert_eq!(setup.fake.token_requests(), 1);
}

#[tokio::test]
async fn scopes_are_cached_separately_and_sent_as_the_request_body() {
    let setup = Setup::start();
    let narrow = TokenScope::all()
        .repositories(["hello"])
        .permission("administration", "write");
    let token = setup
        .client
        .installation_token(INSTALLATION, &narrow)
        .await
        .unwrap();
    assert_eq!(token.repository_selection.as_deref(), Some("selected"));
    assert_eq!(
        token.permissions.get("administration").map(String::as_str),
        Some("write")
    );
    setup
        .client
        .installation_token(INSTALLATION, &TokenScope::all())
        .await
        .unwrap();
    setup
        .client
        .installation_token(INSTALLATION, &narrow)
        .await
        .unwrap();
    assert_eq!(setup.fake.token_requests(), 2);

    let bodies: Vec<serde_json::Value> = setup
        .fake
        .server
        .requests_to("POST", "/app/installations/77/access_tokens")
        .iter()
        .map(|r| {
            if r.body.is_empty() {
                serde_json::Value::Null
            } else {
                r.json().unwrap()
            }
        })
        .collect();
    assert_eq!(
        bodies,
        [
            serde_json::json!({ "repositories": ["hello"], "permissions": { "administration": "write" } }),
            serde_json::Value::Null
        ]
    );
    let issued = setup.fake.issued_tokens();
    assert!(
        issued
            .iter()
            .any(|t| t.repositories.as_deref() == Some(&["hello".to_owned()][..]))
    );
}

#[tokio::test]
async fn scopes_the_installation_lacks_are_validation_errors() {
    let setup = Setup::start();
    let too_much = TokenScope::all().permission("contents", "write");
    let error = setup
        .client
        .installation_token(INSTALLATION, &too_much)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Validation { message, .. } if message.contains("not granted")),
        "{error:?}"
    );

    let elsewhere = TokenScope::all().repositories(["secret-repo"]);
    let error = setup
        .client
        .installation_token(INSTALLATION, &elsewhere)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Validation { message, .. } if message.contains("not accessible")),
        "{error:?}"
    );
}

#[tokio::test]
async fn unknown_and_suspended_installations() {
    let setup = Setup::start();
    let error = setup
        .client
        .installation_token(999, &TokenScope::all())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");

    setup.fake.suspend_installation(INSTALLATION);
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Forbidden { message } if message.contains("suspended")),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_revoked_token_is_dropped_and_the_call_retried_once() {
    let setup = Setup::start();
    setup.fake.add_job(
        "octo-org/hello",
        testkit::github::FakeJob::queued(5, 50, &["self-hosted"]),
    );
    setup
        .client
        .get_job(INSTALLATION, &hello(), 5)
        .await
        .unwrap();
    setup.fake.revoke_tokens();
    let job = setup
        .client
        .get_job(INSTALLATION, &hello(), 5)
        .await
        .unwrap();
    assert_eq!(job.id, 5);
    assert_eq!(setup.fake.token_requests(), 2);
    assert_eq!(
        setup
            .fake
            .server
            .requests_to("GET", "/repos/octo-org/hello/actions/jobs/5")
            .len(),
        3
    );
}

#[tokio::test]
async fn a_persistent_401_is_returned_after_one_refresh() {
    let setup = Setup::start();
    setup.fake.inject(
        Fault::on("GET", "/repos/octo-org/hello/actions/jobs/")
            .status(401)
            .message("Bad credentials")
            .times(5),
    );
    let error = setup
        .client
        .get_job(INSTALLATION, &hello(), 5)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Unauthorized { .. }), "{error:?}");
    assert_eq!(
        setup
            .fake
            .server
            .requests_to("GET", "/repos/octo-org/hello/actions/jobs/5")
            .len(),
        2
    );
    assert_eq!(setup.fake.token_requests(), 2);
    // No token in what the caller sees.
    let text = format!("{error} {error:?}");
    for token in setup.fake.issued_tokens() {
        assert!(!text.contains(&token.token), "{text}");
    }
}

#[tokio::test]
async fn forgetting_an_installations_tokens_mints_a_new_one() {
    let setup = Setup::start();
    setup
        .client
        .installation_token(INSTALLATION, &TokenScope::all())
        .await
        .unwrap();
    setup.client.forget_tokens(INSTALLATION);
    setup
        .client
        .installation_token(INSTALLATION, &TokenScope::all())
        .await
        .unwrap();
    assert_eq!(setup.fake.token_requests(), 2);
}

#[tokio::test]
async fn the_system_clock_works_against_the_fake() {
    let setup = Setup::start();
    let config = ClientConfig {
        clock: Arc::new(github_app::SystemClock),
        ..config(&setup.fake, Arc::new(ManualClock::starting_now()))
    };
    let client = GitHubAppClient::new(config).unwrap();
    let token = client
        .installation_token(INSTALLATION, &TokenScope::all())
        .await
        .unwrap();
    assert!(token.expires_at > jiff::Timestamp::now());
}
