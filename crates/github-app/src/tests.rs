use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use reqwest::header::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use testkit::github::keys;

use crate::client::next_link;
use crate::error::classify;
use crate::tokens::still_fresh;
use crate::*;

fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

fn decode_claims(jwt: &str) -> Value {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(keys::APP_PUBLIC_KEY.as_bytes()).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_exp = false;
    jsonwebtoken::decode::<Value>(jwt, &key, &validation)
        .unwrap()
        .claims
}

#[test]
fn jwt_is_rs256_backdated_and_short_lived_for_both_key_formats() {
    let now = Timestamp::from_second(1_700_000_000).unwrap();
    let pkcs1 = SecretString::from(keys::APP_PRIVATE_KEY_PKCS1);
    let signer = AppJwtSigner::new(AppIdentity::AppId(42), &pkcs1).unwrap();
    let jwt = signer.sign(now).unwrap();
    let header = jsonwebtoken::decode_header(jwt.expose_secret()).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    assert_eq!(
        decode_claims(jwt.expose_secret()),
        json!({ "iat": 1_700_000_000 - 60, "exp": 1_700_000_000 + 540, "iss": 42 })
    );

    let pkcs8 = SecretString::from(keys::APP_PRIVATE_KEY_PKCS8);
    let signer = AppJwtSigner::new(AppIdentity::ClientId("Iv23abc".into()), &pkcs8).unwrap();
    let claims = decode_claims(signer.sign(now).unwrap().expose_secret());
    assert_eq!(claims["iss"], "Iv23abc");
}

#[test]
fn unreadable_keys_are_config_errors_that_do_not_quote_the_key() {
    let bad = "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0LWJ1dC1ub3QtYS1rZXk=\n-----END RSA PRIVATE KEY-----\n";
    for pem in [bad, "not a pem at all"] {
        let error = AppJwtSigner::new(AppIdentity::AppId(1), &SecretString::from(pem)).unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{error:?}");
        assert!(!error.to_string().contains("c2VjcmV0"), "{error}");
    }
}

#[test]
fn debug_output_redacts_keys_and_tokens() {
    let config = ClientConfig::new(
        AppIdentity::AppId(1),
        SecretString::from(keys::APP_PRIVATE_KEY_PKCS1),
    );
    let client = GitHubAppClient::new(config.clone()).unwrap();
    for text in [format!("{config:?}"), format!("{client:?}")] {
        assert!(!text.contains("PRIVATE KEY"), "{text}");
        assert!(!text.contains("MII"), "{text}");
    }
    let token: InstallationToken = serde_json::from_value(json!({
        "token": "ghs_secret123", "expires_at": "2026-01-01T00:00:00Z" }))
    .unwrap();
    assert!(!format!("{token:?}").contains("ghs_secret123"));
}

#[test]
fn endpoints_join_under_a_base_with_a_path() {
    let key = SecretString::from(keys::APP_PRIVATE_KEY_PKCS1);
    for base in [
        "https://ghe.example.com/api/v3",
        "https://ghe.example.com/api/v3/",
    ] {
        let config = ClientConfig::new(AppIdentity::AppId(1), key.clone())
            .with_base_url(base)
            .unwrap();
        let client = GitHubAppClient::new(config).unwrap();
        assert_eq!(
            client
                .endpoint(&["repos", "o", "r", "installation"])
                .as_str(),
            "https://ghe.example.com/api/v3/repos/o/r/installation"
        );
        // Odd names stay one segment each.
        assert_eq!(
            client
                .endpoint(&["app-manifests", "a/b?c", "conversions"])
                .as_str(),
            "https://ghe.example.com/api/v3/app-manifests/a%2Fb%3Fc/conversions"
        );
    }
    let client =
        GitHubAppClient::new(ClientConfig::new(AppIdentity::AppId(1), key.clone())).unwrap();
    assert_eq!(
        client.endpoint(&["app"]).as_str(),
        "https://api.github.com/app"
    );

    for bad in [
        "not a url",
        "mailto:x@example.com",
        "ftp://example.com",
        "https://x.com/?q=1",
    ] {
        let error = ClientConfig::new(AppIdentity::AppId(1), key.clone())
            .with_base_url(bad)
            .unwrap_err();
        assert!(matches!(error, Error::Config(_)), "{bad}: {error:?}");
    }
}

#[test]
fn next_link_finds_the_next_relation_only() {
    let header = r#"<https://api.github.com/x?page=1>; rel="prev", <https://api.github.com/x?page=3>; rel="next", <https://api.github.com/x?page=9>; rel="last""#;
    assert_eq!(
        next_link(header).as_deref(),
        Some("https://api.github.com/x?page=3")
    );
    assert_eq!(next_link(r#"<https://a/x?page=9>; rel="last""#), None);
    assert_eq!(next_link(""), None);
    assert_eq!(next_link("garbage"), None);
    assert_eq!(
        next_link(r#"<https://a/x?cursor=v1_5>; rel="next""#).as_deref(),
        Some("https://a/x?cursor=v1_5")
    );
}

#[test]
fn classify_maps_statuses_by_meaning() {
    let body = |message: &str| json!({ "message": message, "documentation_url": "d" }).to_string();
    let none = HeaderMap::new();
    assert!(matches!(
        classify(401, &none, body("Bad credentials").as_bytes(), 0),
        Error::Unauthorized { .. }
    ));
    assert!(matches!(
        classify(403, &none, body("Resource not accessible").as_bytes(), 0),
        Error::Forbidden { .. }
    ));
    assert!(matches!(
        classify(404, &none, body("Not Found").as_bytes(), 0),
        Error::NotFound { .. }
    ));
    assert!(matches!(
        classify(409, &none, body("Already exists").as_bytes(), 0),
        Error::Conflict { .. }
    ));
    assert!(matches!(
        classify(503, &none, b"<html>", 0),
        Error::Server { status: 503 }
    ));
    assert!(matches!(
        classify(410, &none, b"", 0),
        Error::Unexpected { status: 410, .. }
    ));

    let validation = json!({ "message": "Validation Failed", "errors": [
        "plain text", { "resource": "CheckRun", "field": "head_sha", "code": "missing_field" },
        { "code": "custom", "message": "explained" } ] });
    match classify(422, &none, validation.to_string().as_bytes(), 0) {
        Error::Validation { message, errors } => {
            assert_eq!(message, "Validation Failed");
            assert_eq!(
                errors,
                ["plain text", "CheckRun head_sha missing_field", "explained"]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn classify_recognises_primary_and_secondary_rate_limits() {
    let limited = |status, pairs: &[(&'static str, &str)], message: &str| {
        let body = json!({ "message": message }).to_string();
        match classify(status, &headers(pairs), body.as_bytes(), 1_000) {
            Error::RateLimited { retry_after } => Some(retry_after),
            _ => None,
        }
    };
    let primary = [
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "1090"),
    ];
    assert_eq!(
        limited(403, &primary, "API rate limit exceeded"),
        Some(Duration::from_secs(90))
    );
    assert_eq!(limited(429, &primary, "x"), Some(Duration::from_secs(90)));
    // A reset in the past means "now".
    let past = [("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "10")];
    assert_eq!(limited(403, &past, "x"), Some(Duration::ZERO));
    // retry-after wins.
    let both = [
        ("retry-after", "7"),
        ("x-ratelimit-remaining", "0"),
        ("x-ratelimit-reset", "1090"),
    ];
    assert_eq!(limited(403, &both, "x"), Some(Duration::from_secs(7)));
    let secondary = "You have exceeded a secondary rate limit. Please wait.";
    assert_eq!(limited(403, &[], secondary), Some(Duration::from_secs(60)));
    assert_eq!(
        limited(429, &[], "Too Many Requests"),
        Some(Duration::from_secs(60))
    );
    // A 403 with requests left is a permission problem, not a rate limit.
    assert_eq!(
        limited(403, &[("x-ratelimit-remaining", "4999")], "Forbidden"),
        None
    );

    assert!(
        Error::RateLimited {
            retry_after: Duration::ZERO
        }
        .is_retryable()
    );
    assert!(Error::Server { status: 502 }.is_retryable());
    assert!(Error::Transport("reset".into()).is_retryable());
    assert!(
        !Error::NotFound {
            message: String::new()
        }
        .is_retryable()
    );
    assert!(
        !Error::Validation {
            message: String::new(),
            errors: vec![]
        }
        .is_retryable()
    );
}

#[test]
fn backoff_doubles_and_is_capped() {
    let policy = RetryPolicy {
        max_attempts: 10,
        base_delay: Duration::from_millis(100),
        max_delay: Duration::from_millis(500),
        max_rate_limit_wait: Duration::ZERO,
    };
    let waits: Vec<u128> = (1..=5).map(|a| policy.backoff(a).as_millis()).collect();
    assert_eq!(waits, [100, 200, 400, 500, 500]);
    assert_eq!(RetryPolicy::none().max_attempts, 1);
}

#[test]
fn tokens_are_fresh_until_the_margin() {
    let token: InstallationToken = serde_json::from_value(json!({
        "token": "t", "expires_at": "2026-01-01T01:00:00Z" }))
    .unwrap();
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let margin = Duration::from_secs(300);
    assert!(still_fresh(&token, at("2026-01-01T00:54:59Z"), margin));
    assert!(!still_fresh(&token, at("2026-01-01T00:55:00Z"), margin));
    assert!(!still_fresh(&token, at("2026-01-01T02:00:00Z"), margin));
}

#[test]
fn token_scopes_are_normalised_and_serialised_as_github_expects() {
    let a = TokenScope::all()
        .repositories(["b", "a", "b"])
        .permission("administration", "write");
    let b = TokenScope::all()
        .permission("administration", "write")
        .repositories(["a", "b"]);
    assert_eq!(a, b);
    assert_eq!(
        serde_json::to_value(&a).unwrap(),
        json!({ "repositories": ["a", "b"], "permissions": { "administration": "write" } })
    );
    assert!(TokenScope::all().is_all());
    assert_eq!(serde_json::to_value(TokenScope::all()).unwrap(), json!({}));
}

#[test]
fn registration_token_expiry_accepts_offsets_and_fractions() {
    let token: RegistrationToken = serde_json::from_value(json!({
        "token": "LLBF3JGZDX3P5PMEXLND6TS6FCWO6", "expires_at": "2020-01-22T12:13:35.123-08:00" }))
    .unwrap();
    assert_eq!(
        token.expires_at,
        "2020-01-22T20:13:35.123Z".parse::<Timestamp>().unwrap()
    );
}

#[test]
fn repo_refs_parse_owner_and_name() {
    assert_eq!(
        RepoRef::parse("octo/hello"),
        Some(RepoRef::new("octo", "hello"))
    );
    for bad in ["octo", "/hello", "octo/", "a/b/c"] {
        assert_eq!(RepoRef::parse(bad), None, "{bad}");
    }
    assert_eq!(RepoRef::new("o", "r").to_string(), "o/r");
}

fn run(event: &str, head: Option<(u64, &str)>) -> WorkflowRun {
    serde_json::from_value(json!({
        "id": 1, "event": event,
        "repository": { "id": 10, "full_name": "octo/hello" },
        "head_repository": head.map(|(id, name)| json!({ "id": id, "full_name": name })),
    }))
    .unwrap()
}

#[test]
fn fork_pull_requests_are_recognised() {
    assert!(!run("push", Some((10, "octo/hello"))).is_from_fork());
    assert!(!run("pull_request", Some((10, "octo/hello"))).is_from_fork());
    assert!(run("pull_request", Some((11, "mallory/hello"))).is_from_fork());
    assert!(run("pull_request_target", Some((11, "mallory/hello"))).is_from_fork());
    assert!(run("pull_request", None).is_from_fork());
    assert!(!run("schedule", None).is_from_fork());
}

#[test]
fn manual_clock_moves_only_when_told() {
    let clock = ManualClock::new(Timestamp::from_second(100).unwrap());
    assert_eq!(clock.now().as_second(), 100);
    clock.advance(Duration::from_secs(5));
    assert_eq!(clock.now().as_second(), 105);
    clock.set(Timestamp::from_second(7).unwrap());
    assert_eq!(clock.now().as_second(), 7);
    let _shared: Arc<dyn Clock> = Arc::new(clock);
}

#[test]
fn list_bodies_decode_as_github_sends_them() {
    use crate::models::{JobList, RepositoryList, WorkflowRunList};
    let repositories: RepositoryList = serde_json::from_value(json!({
        "total_count": 1, "repository_selection": "all",
        "repositories": [{ "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": "Hello-World", "full_name": "octocat/Hello-World",
            "owner": { "login": "octocat", "id": 1, "type": "User" },
            "private": false, "fork": false, "archived": false, "disabled": false,
            "visibility": "public", "default_branch": "master", "topics": ["octocat"] }],
    }))
    .unwrap();
    let repository = &repositories.repositories[0];
    assert_eq!(
        repository.repo_ref(),
        Some(RepoRef::new("octocat", "Hello-World"))
    );
    assert_eq!(repository.visibility.as_deref(), Some("public"));
    assert!(!repository.private);

    // Older answers leave `run_attempt` out: the first attempt.
    let jobs: JobList = serde_json::from_value(json!({
        "total_count": 2,
        "jobs": [
            { "id": 399444496, "run_id": 29679449, "status": "queued", "labels": ["gpu"],
              "runner_name": null },
            { "id": 399444497, "run_id": 29679449, "run_attempt": 3, "status": "waiting" },
        ],
    }))
    .unwrap();
    assert_eq!(jobs.jobs[0].attempt(), 1);
    assert_eq!(jobs.jobs[1].attempt(), 3);
    assert_eq!(jobs.jobs[1].status, JobStatus::Waiting);

    let runs: WorkflowRunList = serde_json::from_value(json!({
        "total_count": 1,
        "workflow_runs": [{ "id": 30433642, "event": "push", "status": "queued",
            "repository": { "id": 1296269, "full_name": "octocat/Hello-World" },
            "head_repository": { "id": 1296269, "full_name": "octocat/Hello-World" } }],
    }))
    .unwrap();
    assert!(!runs.workflow_runs[0].is_from_fork());
}
