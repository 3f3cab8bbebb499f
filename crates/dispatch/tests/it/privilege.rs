//! Least privilege: every installation token the dispatcher asks for is narrowed to the job's
//! repository and the one permission its call needs; with `RUNNER_SCOPE=org` runners live on
//! the organisation, in the configured runner group, and no token carries repository
//! administration.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use dispatch::config::{self, Sources};
use dispatch::model::State;
use testkit::github::{FakeWorkflowRun, IssuedToken};

use crate::harness::*;

const LABELS: &[&str] = &["self-hosted", "hf-jobs-t4-small"];
/// The organisation runner group the org-mode tests register runners in.
const GROUP: u64 = 7;
/// The label org runners of `octo/ml` carry.
const ML_LABEL: &str = "ferry-repo-octo.ml";

type Scope = (Option<Vec<String>>, BTreeMap<String, String>);

fn scope(repositories: Option<&[&str]>, permission: (&str, &str)) -> Scope {
    (
        repositories.map(|names| names.iter().map(|n| n.to_string()).collect()),
        BTreeMap::from([(permission.0.to_owned(), permission.1.to_owned())]),
    )
}

fn scope_of(token: &IssuedToken) -> Scope {
    (token.repositories.clone(), token.permissions.clone())
}

/// A queued job of `octo/ml` whose workflow run GitHub knows too (the launch may ask for it).
fn queued(env: &Env, job_id: u64) -> testkit::deliveries::WorkflowJob {
    let job = env.queued_job(job_id, LABELS);
    env.github
        .add_workflow_run(REPO, FakeWorkflowRun::queued(9_000_000_001, "push", REPO));
    job
}

fn org_settings() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("RUNNER_SCOPE".to_owned(), "org".to_owned()),
        ("RUNNER_GROUP_ID".to_owned(), GROUP.to_string()),
    ])
}

/// The scope each installation call must have used, by its path.
fn expected_scope(method: &str, path: &str) -> Scope {
    let ml = Some(&["ml"][..]);
    if path.starts_with("/repos/octo/ml/actions/runners") {
        scope(ml, ("administration", "write"))
    } else if path.starts_with("/orgs/octo/actions/runners") {
        scope(None, ("organization_self_hosted_runners", "write"))
    } else if path.starts_with("/repos/octo/ml/actions/") {
        scope(ml, ("actions", "read"))
    } else if path.starts_with("/repos/octo/ml/check-runs") {
        scope(ml, ("checks", "write"))
    } else if path == "/installation/repositories" {
        // The empty-store scan lists the repositories it then reads one by one.
        scope(None, ("metadata", "read"))
    } else {
        panic!("unexpected installation call {method} {path}")
    }
}

/// Every installation call used exactly the scope its endpoint needs, every scope was asked
/// for once however many calls used it, and the scopes are all in `allowed`.
fn assert_least_privilege(env: &Env, allowed: &[Scope]) -> Vec<String> {
    let calls = env.github.installation_calls();
    let mut paths = Vec::new();
    for (request, token) in &calls {
        assert_eq!(
            scope_of(token),
            expected_scope(&request.method, &request.path),
            "{} {}",
            request.method,
            request.path
        );
        paths.push(format!("{} {}", request.method, request.path));
    }
    let issued: Vec<Scope> = env.github.issued_tokens().iter().map(scope_of).collect();
    for scope in &issued {
        assert!(allowed.contains(scope), "a token with {scope:?}");
    }
    let distinct: BTreeSet<&Scope> = issued.iter().collect();
    assert_eq!(
        env.github.token_requests(),
        distinct.len(),
        "one token request per scope: {issued:?}"
    );
    assert!(calls.len() > distinct.len(), "tokens are reused: {paths:?}");
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repository_runners_use_tokens_narrowed_to_the_repository() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = queued(&env, 41);
    env.deliver(&dispatcher, "d-41", &job).await;
    let launched = env.wait_for_state(41, State::Launched).await;
    // Cancelled before pickup: the runner is deleted, with the same token as the JIT config.
    env.deliver(&dispatcher, "d-41-c", &job.completed(None, "cancelled"))
        .await;
    env.wait_for_state(41, State::Cancelled).await;
    dispatcher.stop().await;

    let ml = Some(&["ml"][..]);
    let paths = assert_least_privilege(
        &env,
        &[
            scope(ml, ("administration", "write")),
            scope(ml, ("actions", "read")),
            scope(ml, ("checks", "write")),
            scope(None, ("metadata", "read")),
        ],
    );
    let runner_id = launched.runner_id.unwrap();
    for call in [
        "POST /repos/octo/ml/actions/runners/generate-jitconfig".to_owned(),
        format!("DELETE /repos/octo/ml/actions/runners/{runner_id}"),
        "GET /repos/octo/ml/actions/jobs/41".to_owned(),
    ] {
        assert!(paths.contains(&call), "{call} not in {paths:?}");
    }
    // The repository's runner, in its only group.
    let jit: serde_json::Value = env
        .github
        .server
        .requests_to("POST", "/repos/octo/ml/actions/runners/generate-jitconfig")[0]
        .json()
        .unwrap();
    assert_eq!(jit["runner_group_id"], 1);
    assert_eq!(jit["labels"], serde_json::json!(LABELS));
    assert!(env.github.runners().is_empty(), "the runner was deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_runners_need_no_repository_administration() {
    let env = Env::new();
    // The owner grants organisation Self-hosted runners, not repository Administration.
    env.github.with_state(|s| {
        s.installations
            .get_mut(&INSTALLATION)
            .unwrap()
            .permissions
            .remove("administration");
    });
    env.github.add_runner_group("octo", GROUP);
    let dispatcher = env.start_with(org_settings()).await;
    let job = queued(&env, 42);
    env.deliver(&dispatcher, "d-42", &job).await;
    let launched = env.wait_for_state(42, State::Launched).await;

    // JIT through the organisation endpoint, in the configured group, marked as ml's.
    let jits = env
        .github
        .server
        .requests_to("POST", "/orgs/octo/actions/runners/generate-jitconfig");
    assert_eq!(jits.len(), 1);
    let jit: serde_json::Value = jits[0].json().unwrap();
    assert_eq!(jit["runner_group_id"], GROUP);
    assert_eq!(
        jit["labels"],
        serde_json::json!(["self-hosted", "hf-jobs-t4-small", ML_LABEL])
    );
    let runners = env.github.runners();
    assert_eq!(runners.len(), 1);
    assert_eq!(runners[0].scope, "octo", "an organisation runner");
    assert_eq!(runners[0].runner_group_id, GROUP);
    assert_eq!(Some(runners[0].id), launched.runner_id);
    assert_eq!(env.hf_create_bodies().len(), 1);

    // Teardown deletes it on the organisation.
    env.deliver(&dispatcher, "d-42-c", &job.completed(None, "cancelled"))
        .await;
    env.wait_for_state(42, State::Cancelled).await;
    dispatcher.stop().await;
    assert!(env.github.runners().is_empty(), "the runner was deleted");
    let deletes = env
        .github
        .server
        .requests_to("DELETE", "/orgs/octo/actions/runners/");
    assert_eq!(deletes.len(), 1);
    assert_eq!(
        deletes[0].path,
        format!("/orgs/octo/actions/runners/{}", runners[0].id)
    );

    let ml = Some(&["ml"][..]);
    let paths = assert_least_privilege(
        &env,
        &[
            scope(None, ("organization_self_hosted_runners", "write")),
            scope(ml, ("actions", "read")),
            scope(ml, ("checks", "write")),
            scope(None, ("metadata", "read")),
        ],
    );
    assert!(
        !paths
            .iter()
            .any(|p| p.contains("/repos/octo/ml/actions/runners")),
        "no repository runner endpoint: {paths:?}"
    );
    for token in env.github.issued_tokens() {
        assert!(
            !token.permissions.contains_key("administration"),
            "{:?}",
            token.permissions
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organisation_runners_of_other_repositories_are_left_alone() {
    let env = Env::new();
    env.github.add_runner_group("octo", GROUP);
    let dispatcher = env.start_with(org_settings()).await;
    let job = queued(&env, 43);
    env.deliver(&dispatcher, "d-43", &job).await;
    let launched = env.wait_for_state(43, State::Launched).await;
    // On the same organisation: an offline Ferry runner made for another repository (its
    // record is that repository's), and an offline one of ml's that no record owns.
    let other = env.github.add_runner(
        "octo",
        "ferry-1-2-1-abcdef",
        &["self-hosted", "ferry-repo-octo.other"],
    );
    env.github.set_runner_status(other, "offline");
    let orphan = env
        .github
        .add_runner("octo", "ferry-1-3-1-fedcba", &["self-hosted", ML_LABEL]);
    env.github.set_runner_status(orphan, "offline");

    // A reconciler pass, with the service's settings.
    let mut settings_env = env.settings_env();
    settings_env.extend(org_settings());
    let settings = config::load(&Sources {
        env: settings_env,
        ..Default::default()
    })
    .expect("valid settings");
    let parts = dispatch::service::build_parts(&settings).expect("parts");
    let mut tuned = dispatch::service::tuning(&settings).reconcile;
    tuned.idle_timeout = Duration::from_secs(3600);
    tuned.ended_grace = Duration::ZERO;
    let reconciler = dispatch::reconciler::Reconciler::new(
        Arc::new(env.store()),
        parts.github,
        parts.hf,
        parts.health,
        tuned,
        Arc::new(tokio::sync::Notify::new()),
    );
    let report = reconciler.pass().await;
    dispatcher.stop().await;

    assert_eq!(report.runners_deleted, 1, "{report:?}");
    let left: Vec<u64> = env.github.runners().iter().map(|r| r.id).collect();
    assert!(!left.contains(&orphan), "ml's orphan is removed");
    assert!(left.contains(&other), "another repository's runner is kept");
    assert!(left.contains(&launched.runner_id.unwrap()), "ours is kept");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_administration_repository_runners_fail_naming_the_permission() {
    let env = Env::new();
    env.github.with_state(|s| {
        s.installations
            .get_mut(&INSTALLATION)
            .unwrap()
            .permissions
            .remove("administration");
    });
    let dispatcher = env.start().await;
    let job = queued(&env, 44);
    env.deliver(&dispatcher, "d-44", &job).await;
    let failed = env.wait_for_state(44, State::Failed).await;
    dispatcher.stop().await;
    let reason = failed.reason.unwrap();
    assert!(
        reason.contains("administration=write (repositories: ml)"),
        "{reason}"
    );
    assert!(env.github.runners().is_empty());
    assert!(env.hf_create_bodies().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_checks_jobs_still_launch() {
    let env = Env::new();
    env.github.with_state(|s| {
        s.installations
            .get_mut(&INSTALLATION)
            .unwrap()
            .permissions
            .remove("checks");
    });
    let dispatcher = env
        .start_tuned(BTreeMap::new(), |tuning| {
            tuning.feedback.interval = Duration::from_millis(100);
        })
        .await;
    let job = queued(&env, 45);
    env.deliver(&dispatcher, "d-45", &job).await;
    env.wait_for_state(45, State::Launched).await;
    // The check run was tried, refused at the token, and said so naming the permission.
    wait_until("the missing Checks permission is logged", || async {
        logs().lines().any(|line| {
            line.contains("Checks (write) permission")
                && line.contains("checks=write (repositories: ml)")
        })
    })
    .await;
    dispatcher.stop().await;
    assert_eq!(env.hf_create_bodies().len(), 1);
    assert!(env.github.check_runs().is_empty());
    for token in env.github.issued_tokens() {
        assert!(!token.permissions.contains_key("checks"), "{token:?}");
    }
}
