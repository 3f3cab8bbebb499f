//! JIT configs, registration tokens, and listing, reading and deleting runners.

use github_app::{Error, JitOutcome, JitRequest, RunnerScope};
use secrecy::ExposeSecret;
use testkit::FakeGitHub;

use crate::{INSTALLATION, Setup, hello_scope};

fn labels(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn jit_config_for_a_repository_registers_the_runner() {
    let setup = Setup::start();
    let request = JitRequest {
        work_folder: Some("_work".into()),
        ..JitRequest::new("ferry-123-1", labels(&["self-hosted", "linux", "hf-gpu"]))
    };
    let outcome = setup
        .client
        .generate_jit_config(INSTALLATION, &hello_scope(), &request)
        .await
        .unwrap();
    let JitOutcome::Created(config) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(config.runner.name, "ferry-123-1");
    assert!(!config.runner.busy);
    let kinds: Vec<(&str, Option<&str>)> = config
        .runner
        .labels
        .iter()
        .map(|l| (l.name.as_str(), l.kind.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("self-hosted", Some("read-only")),
            ("linux", Some("read-only")),
            ("hf-gpu", Some("custom"))
        ]
    );
    assert!(!config.encoded_jit_config.expose_secret().is_empty());
    assert!(!format!("{config:?}").contains(config.encoded_jit_config.expose_secret()));

    let sent: serde_json::Value = setup.fake.server.requests_to(
        "POST",
        "/repos/octo-org/hello/actions/runners/generate-jitconfig",
    )[0]
    .json()
    .unwrap();
    assert_eq!(
        sent,
        serde_json::json!({ "name": "ferry-123-1", "runner_group_id": 1,
                            "labels": ["self-hosted", "linux", "hf-gpu"], "work_folder": "_work" })
    );
    let runners = setup.fake.runners();
    assert_eq!(runners.len(), 1);
    assert_eq!(runners[0].scope, "octo-org/hello");
    assert_eq!(runners[0].runner_group_id, 1);
    assert_eq!(runners[0].work_folder.as_deref(), Some("_work"));
    assert_eq!(runners[0].id, config.runner.id);
}

#[tokio::test]
async fn jit_config_for_an_organisation_uses_its_runner_group() {
    let setup = Setup::start();
    setup.fake.add_runner_group("octo-org", 5);
    let org = RunnerScope::Org("octo-org".into());
    let request = JitRequest {
        runner_group_id: 5,
        ..JitRequest::new("org-runner", labels(&["hf-cpu"]))
    };
    let outcome = setup
        .client
        .generate_jit_config(INSTALLATION, &org, &request)
        .await
        .unwrap();
    let JitOutcome::Created(config) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(config.runner.runner_group_id, Some(5));
    assert_eq!(setup.fake.runners()[0].scope, "octo-org");

    let unknown_group = JitRequest {
        runner_group_id: 9,
        ..JitRequest::new("other", labels(&["x"]))
    };
    let error = setup
        .client
        .generate_jit_config(INSTALLATION, &org, &unknown_group)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    let hosted_group = JitRequest {
        runner_group_id: 2,
        ..JitRequest::new("other", labels(&["x"]))
    };
    let error = setup
        .client
        .generate_jit_config(INSTALLATION, &org, &hosted_group)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Forbidden { .. }), "{error:?}");

    // An organisation the installation is not on.
    let elsewhere = RunnerScope::Org("other-org".into());
    let error = setup
        .client
        .generate_jit_config(INSTALLATION, &elsewhere, &request)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn a_duplicate_runner_name_returns_the_existing_runner() {
    let setup = Setup::start();
    let request = JitRequest::new("ferry-9-1", labels(&["self-hosted"]));
    let JitOutcome::Created(first) = setup
        .client
        .generate_jit_config(INSTALLATION, &hello_scope(), &request)
        .await
        .unwrap()
    else {
        panic!("first request creates")
    };
    let outcome = setup
        .client
        .generate_jit_config(INSTALLATION, &hello_scope(), &request)
        .await
        .unwrap();
    let JitOutcome::AlreadyExists(runner) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(runner.id, first.runner.id);
    assert_eq!(setup.fake.runners().len(), 1);
    let lookups = setup
        .fake
        .server
        .requests_to("GET", "/repos/octo-org/hello/actions/runners");
    assert_eq!(lookups.len(), 1);
    assert_eq!(lookups[0].query("name"), Some("ferry-9-1"));
}

#[tokio::test]
async fn a_5xx_after_registering_is_retried_and_resolved_as_already_existing() {
    let setup = Setup::start();
    setup.fake.fail_next_jit_after_registering(503);
    let request = JitRequest::new("ferry-10-1", labels(&["self-hosted"]));
    let outcome = setup
        .client
        .generate_jit_config(INSTALLATION, &hello_scope(), &request)
        .await
        .unwrap();
    let JitOutcome::AlreadyExists(runner) = outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(runner.name, "ferry-10-1");
    let posts = setup.fake.server.requests_to(
        "POST",
        "/repos/octo-org/hello/actions/runners/generate-jitconfig",
    );
    assert_eq!(posts.len(), 2);
}

#[tokio::test]
async fn invalid_jit_requests_are_validation_errors() {
    let setup = Setup::start();
    let no_labels = JitRequest::new("ferry-1", vec![]);
    let error = setup
        .client
        .generate_jit_config(INSTALLATION, &hello_scope(), &no_labels)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Validation { message, .. } if message.contains("labels")),
        "{error:?}"
    );
    // A repository outside the installation is invisible.
    let other = RunnerScope::Repo(github_app::RepoRef::new("octo-org", "private"));
    let error = setup
        .client
        .generate_jit_config(INSTALLATION, &other, &JitRequest::new("x", labels(&["a"])))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn registration_tokens_for_repositories_and_organisations() {
    let setup = Setup::start();
    let token = setup
        .client
        .registration_token(INSTALLATION, &hello_scope())
        .await
        .unwrap();
    assert!(!token.token.expose_secret().is_empty());
    assert!(token.expires_at > jiff::Timestamp::now());
    let org = setup
        .client
        .registration_token(INSTALLATION, &RunnerScope::Org("octo-org".into()))
        .await
        .unwrap();
    assert_ne!(org.token.expose_secret(), token.token.expose_secret());
}

#[tokio::test]
async fn listing_follows_every_page_and_filters_by_name() {
    let setup = Setup::start();
    for i in 0..250 {
        setup.fake.add_runner(
            "octo-org/hello",
            &format!("runner-{i:03}"),
            &["self-hosted"],
        );
    }
    setup
        .fake
        .add_runner("octo-org/world", "elsewhere", &["self-hosted"]);
    let runners = setup
        .client
        .list_runners(INSTALLATION, &hello_scope(), None)
        .await
        .unwrap();
    assert_eq!(runners.len(), 250);
    assert_eq!(runners[249].name, "runner-249");
    let pages = setup
        .fake
        .server
        .requests_to("GET", "/repos/octo-org/hello/actions/runners");
    let page_numbers: Vec<Option<&str>> = pages.iter().map(|r| r.query("page")).collect();
    assert_eq!(page_numbers, [None, Some("2"), Some("3")]);

    let named = setup
        .client
        .list_runners(INSTALLATION, &hello_scope(), Some("runner-042"))
        .await
        .unwrap();
    assert_eq!(named.len(), 1);
    assert_eq!(named[0].name, "runner-042");
    let none = setup
        .client
        .list_runners(INSTALLATION, &hello_scope(), Some("nope"))
        .await
        .unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn listed_runners_show_status_busy_and_labels() {
    let setup = Setup::start();
    let idle = setup
        .fake
        .add_runner("octo-org/hello", "idle", &["self-hosted", "hf-cpu"]);
    let gone = setup
        .fake
        .add_runner("octo-org/hello", "gone", &["self-hosted"]);
    setup.fake.mark_busy(idle, true);
    setup.fake.set_runner_status(gone, "offline");
    let runners = setup
        .client
        .list_runners(INSTALLATION, &hello_scope(), None)
        .await
        .unwrap();
    let seen: Vec<(u64, &str, &str, bool, Vec<&str>)> = runners
        .iter()
        .map(|r| {
            (
                r.id,
                r.name.as_str(),
                r.status.as_str(),
                r.busy,
                r.label_names().collect(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (idle, "idle", "online", true, vec!["self-hosted", "hf-cpu"]),
            (gone, "gone", "offline", false, vec!["self-hosted"]),
        ]
    );
}

#[tokio::test]
async fn an_enterprise_base_url_with_a_path_works_across_pages() {
    let setup = Setup::on(FakeGitHub::start_enterprise());
    assert!(setup.fake.base_url().ends_with("/api/v3"));
    for i in 0..150 {
        setup
            .fake
            .add_runner("octo-org/hello", &format!("r{i}"), &["self-hosted"]);
    }
    assert_eq!(
        setup
            .client
            .list_runners(INSTALLATION, &hello_scope(), None)
            .await
            .unwrap()
            .len(),
        150
    );
    assert_eq!(
        setup.client.app().await.unwrap().id,
        testkit::github::APP_ID
    );
    let paths: Vec<String> = setup
        .fake
        .server
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert!(paths.iter().all(|p| p.starts_with("/api/v3/")), "{paths:?}");
}

#[tokio::test]
async fn get_and_delete_runners() {
    let setup = Setup::start();
    let idle = setup
        .fake
        .add_runner("octo-org/hello", "idle", &["self-hosted"]);
    let busy = setup
        .fake
        .add_runner("octo-org/hello", "busy", &["self-hosted"]);
    setup.fake.mark_busy(busy, true);

    let runner = setup
        .client
        .get_runner(INSTALLATION, &hello_scope(), busy)
        .await
        .unwrap();
    assert!(runner.busy);
    assert_eq!(runner.status, "online");

    setup
        .client
        .delete_runner(INSTALLATION, &hello_scope(), idle)
        .await
        .unwrap();
    let error = setup
        .client
        .delete_runner(INSTALLATION, &hello_scope(), busy)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Validation { message, .. } if message.contains("still running a job")),
        "{error:?}"
    );
    let error = setup
        .client
        .delete_runner(INSTALLATION, &hello_scope(), idle)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    let error = setup
        .client
        .get_runner(INSTALLATION, &hello_scope(), 1)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    // A runner of another repository is not found through this one.
    let other = setup
        .fake
        .add_runner("octo-org/world", "w", &["self-hosted"]);
    let error = setup
        .client
        .get_runner(INSTALLATION, &hello_scope(), other)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");

    let remaining: Vec<String> = setup.fake.runners().into_iter().map(|r| r.name).collect();
    assert_eq!(remaining, ["busy", "w"]);
}
