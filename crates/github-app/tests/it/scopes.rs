//! Least privilege: every installation call uses a token narrowed to the repository it names
//! and the one permission it needs, and the cache keeps one token per installation and scope.

use std::collections::BTreeMap;
use std::time::Duration;

use github_app::{
    CheckRunUpdate, Error, JitOutcome, JitRequest, NewCheckRun, RunnerScope, TokenScope,
};
use testkit::Fault;
use testkit::github::{FakeJob, FakeWorkflowRun};

use crate::{INSTALLATION, Setup, hello, hello_scope};

fn permissions(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// `METHOD path`, and the repositories and permissions of the token the call carried.
type Call = (String, Option<Vec<String>>, BTreeMap<String, String>);

/// Every installation call so far, in order.
fn calls(setup: &Setup) -> Vec<Call> {
    setup
        .fake
        .installation_calls()
        .into_iter()
        .map(|(request, token)| {
            (
                format!("{} {}", request.method, request.path),
                token.repositories,
                token.permissions,
            )
        })
        .collect()
}

#[test]
fn scope_constructors_name_one_repository_and_one_permission() {
    let as_json = |scope: &TokenScope| serde_json::to_value(scope).unwrap();
    assert_eq!(
        as_json(&TokenScope::runners(&hello_scope())),
        serde_json::json!({ "repositories": ["hello"], "permissions": { "administration": "write" } })
    );
    assert_eq!(
        as_json(&TokenScope::runners(&RunnerScope::Org("octo-org".into()))),
        serde_json::json!({ "permissions": { "organization_self_hosted_runners": "write" } })
    );
    assert_eq!(
        as_json(&TokenScope::actions(&hello())),
        serde_json::json!({ "repositories": ["hello"], "permissions": { "actions": "read" } })
    );
    assert_eq!(
        as_json(&TokenScope::checks(&hello())),
        serde_json::json!({ "repositories": ["hello"], "permissions": { "checks": "write" } })
    );
    assert_eq!(
        as_json(&TokenScope::metadata()),
        serde_json::json!({ "permissions": { "metadata": "read" } })
    );
    assert_eq!(
        TokenScope::runners(&hello_scope()).describe(),
        "administration=write (repositories: hello)"
    );
    assert_eq!(
        TokenScope::metadata().describe(),
        "metadata=read (repositories: all of the installation's)"
    );
}

#[tokio::test]
async fn every_call_asks_for_the_narrowest_token() {
    let setup = Setup::start();
    setup.fake.add_runner_group("octo-org", 5);
    setup.fake.add_workflow_run(
        "octo-org/hello",
        FakeWorkflowRun::queued(50, "push", "octo-org/hello"),
    );
    setup
        .fake
        .add_job("octo-org/hello", FakeJob::queued(5, 50, &["self-hosted"]));
    let client = &setup.client;
    let repo = hello_scope();
    let org = RunnerScope::Org("octo-org".into());

    client.get_job(INSTALLATION, &hello(), 5).await.unwrap();
    client
        .get_workflow_run(INSTALLATION, &hello(), 50)
        .await
        .unwrap();
    client
        .list_workflow_runs(INSTALLATION, &hello(), Some("queued"))
        .await
        .unwrap();
    client
        .list_run_jobs(INSTALLATION, &hello(), 50)
        .await
        .unwrap();
    let request = JitRequest::new("ferry-1", vec!["self-hosted".into()]);
    let Ok(JitOutcome::Created(config)) = client
        .generate_jit_config(INSTALLATION, &repo, &request)
        .await
    else {
        panic!("no JIT config")
    };
    client
        .list_runners(INSTALLATION, &repo, None)
        .await
        .unwrap();
    client
        .get_runner(INSTALLATION, &repo, config.runner.id)
        .await
        .unwrap();
    client
        .delete_runner(INSTALLATION, &repo, config.runner.id)
        .await
        .unwrap();
    client
        .registration_token(INSTALLATION, &repo)
        .await
        .unwrap();
    let check = client
        .create_check_run(INSTALLATION, &hello(), &NewCheckRun::new("ferry", "f00d"))
        .await
        .unwrap();
    client
        .update_check_run(
            INSTALLATION,
            &hello(),
            check.id,
            &CheckRunUpdate {
                status: Some("in_progress".into()),
                ..CheckRunUpdate::default()
            },
        )
        .await
        .unwrap();
    client
        .list_installation_repositories(INSTALLATION)
        .await
        .unwrap();
    client.rate_limit(Some(INSTALLATION)).await.unwrap();
    let request = JitRequest {
        runner_group_id: 5,
        ..JitRequest::new("ferry-org-1", vec!["self-hosted".into()])
    };
    let Ok(JitOutcome::Created(config)) = client
        .generate_jit_config(INSTALLATION, &org, &request)
        .await
    else {
        panic!("no organisation JIT config")
    };
    client.list_runners(INSTALLATION, &org, None).await.unwrap();
    client
        .delete_runner(INSTALLATION, &org, config.runner.id)
        .await
        .unwrap();

    let hello_only = Some(vec!["hello".to_owned()]);
    let actions = permissions(&[("actions", "read")]);
    let administration = permissions(&[("administration", "write")]);
    let checks = permissions(&[("checks", "write")]);
    let metadata = permissions(&[("metadata", "read")]);
    let org_runners = permissions(&[("organization_self_hosted_runners", "write")]);
    let expected = vec![
        (
            "GET /repos/octo-org/hello/actions/jobs/5",
            &hello_only,
            &actions,
        ),
        (
            "GET /repos/octo-org/hello/actions/runs/50",
            &hello_only,
            &actions,
        ),
        (
            "GET /repos/octo-org/hello/actions/runs",
            &hello_only,
            &actions,
        ),
        (
            "GET /repos/octo-org/hello/actions/runs/50/jobs",
            &hello_only,
            &actions,
        ),
        (
            "POST /repos/octo-org/hello/actions/runners/generate-jitconfig",
            &hello_only,
            &administration,
        ),
        (
            "GET /repos/octo-org/hello/actions/runners",
            &hello_only,
            &administration,
        ),
        (
            "GET /repos/octo-org/hello/actions/runners/",
            &hello_only,
            &administration,
        ),
        (
            "DELETE /repos/octo-org/hello/actions/runners/",
            &hello_only,
            &administration,
        ),
        (
            "POST /repos/octo-org/hello/actions/runners/registration-token",
            &hello_only,
            &administration,
        ),
        (
            "POST /repos/octo-org/hello/check-runs",
            &hello_only,
            &checks,
        ),
        (
            "PATCH /repos/octo-org/hello/check-runs/",
            &hello_only,
            &checks,
        ),
        ("GET /installation/repositories", &None, &metadata),
        ("GET /rate_limit", &None, &metadata),
        (
            "POST /orgs/octo-org/actions/runners/generate-jitconfig",
            &None,
            &org_runners,
        ),
        ("GET /orgs/octo-org/actions/runners", &None, &org_runners),
        (
            "DELETE /orgs/octo-org/actions/runners/",
            &None,
            &org_runners,
        ),
    ];
    let seen = calls(&setup);
    assert_eq!(seen.len(), expected.len(), "{seen:#?}");
    for ((call, repositories, permissions), (prefix, want_repos, want_permissions)) in
        seen.iter().zip(&expected)
    {
        assert!(call.starts_with(prefix), "{call} is not {prefix}");
        assert_eq!(repositories, *want_repos, "{call}");
        assert_eq!(permissions, *want_permissions, "{call}");
    }
    // One token per scope, however many calls used it.
    assert_eq!(setup.fake.token_requests(), 5);
}

#[tokio::test]
async fn concurrent_callers_share_one_token_per_scope() {
    let setup = Setup::start();
    setup
        .fake
        .add_job("octo-org/hello", FakeJob::queued(5, 50, &["self-hosted"]));
    // Slow the mint down so every caller arrives while it is in flight.
    setup
        .fake
        .inject(Fault::on("POST", "/app/installations/").delay(Duration::from_millis(300)));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..30 {
        let client = setup.client.clone();
        tasks.spawn(async move {
            match i % 3 {
                0 => {
                    client.get_job(INSTALLATION, &hello(), 5).await.unwrap();
                }
                1 => {
                    client
                        .list_runners(INSTALLATION, &hello_scope(), None)
                        .await
                        .unwrap();
                }
                _ => {
                    client
                        .list_runners(INSTALLATION, &RunnerScope::Org("octo-org".into()), None)
                        .await
                        .unwrap();
                }
            }
        });
    }
    tasks.join_all().await;
    assert_eq!(setup.fake.token_requests(), 3, "one per scope");
    assert_eq!(setup.fake.issued_tokens().len(), 3);
}

#[tokio::test]
async fn a_permission_the_installation_lacks_is_named_in_the_error() {
    let setup = Setup::start();
    // An owner who will not grant repository administration.
    setup.fake.with_state(|s| {
        s.installations
            .get_mut(&INSTALLATION)
            .unwrap()
            .permissions
            .remove("administration");
    });
    let request = JitRequest::new("ferry-1", vec!["self-hosted".into()]);
    let error = setup
        .client
        .generate_jit_config(INSTALLATION, &hello_scope(), &request)
        .await
        .unwrap_err();
    // Refused as the call itself would be with a token of the whole installation (403), and
    // the message names what was asked for.
    let Error::Forbidden { message } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(
        message,
        "The permissions requested are not granted to this installation. \
         (the token asked for administration=write (repositories: hello))"
    );
    // Asked directly, the token request is GitHub's own 422.
    let error = setup
        .client
        .installation_token(INSTALLATION, &TokenScope::runners(&hello_scope()))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Validation { .. }), "{error:?}");
    // What the other endpoints need is still granted.
    setup
        .fake
        .add_job("octo-org/hello", FakeJob::queued(5, 50, &["self-hosted"]));
    setup
        .client
        .get_job(INSTALLATION, &hello(), 5)
        .await
        .unwrap();
    setup
        .client
        .list_runners(INSTALLATION, &RunnerScope::Org("octo-org".into()), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_token_for_one_repository_reaches_no_other() {
    let setup = Setup::start();
    setup
        .fake
        .add_job("octo-org/world", FakeJob::queued(7, 70, &["self-hosted"]));
    // The cached token of `hello` is never sent to `world`: each repository has its own.
    setup
        .client
        .get_job(INSTALLATION, &hello(), 1)
        .await
        .unwrap_err();
    let world = github_app::RepoRef::new("octo-org", "world");
    assert_eq!(
        setup
            .client
            .get_job(INSTALLATION, &world, 7)
            .await
            .unwrap()
            .id,
        7
    );
    let tokens: Vec<Option<Vec<String>>> = calls(&setup).into_iter().map(|c| c.1).collect();
    assert_eq!(
        tokens,
        [
            Some(vec!["hello".to_owned()]),
            Some(vec!["world".to_owned()])
        ]
    );
}
