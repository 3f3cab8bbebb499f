//! Check runs: what the workflow author reads on the job's commit, for each kind of outcome,
//! written by the service's feedback pass to the fake GitHub.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use dispatch::feedback::{FeedbackPass, FeedbackSettings};
use dispatch::model::State;
use serde_json::Value;
use testkit::Fault;
use testkit::github::FakeCheckRun;

use crate::harness::*;

const LABELS: &[&str] = &["self-hosted", "hf-jobs-t4-small"];
/// The workflow run of [`Env::queued_job`]'s jobs.
const RUN_ID: u64 = 9_000_000_001;

fn external_id(job_id: u64) -> String {
    format!("{REPO}#{job_id}#1")
}

/// Every check run written for job `job_id`.
fn check_runs_of(env: &Env, job_id: u64) -> Vec<FakeCheckRun> {
    let id = external_id(job_id);
    env.github
        .check_runs()
        .into_iter()
        .filter(|c| c.external_id.as_deref() == Some(id.as_str()))
        .collect()
}

/// Waits until job `job_id` has exactly one check run and it satisfies `check`.
async fn wait_for_check_run(
    env: &Env,
    job_id: u64,
    check: impl Fn(&FakeCheckRun) -> bool,
) -> FakeCheckRun {
    let found = wait_for(Duration::from_secs(20), || async {
        matches!(check_runs_of(env, job_id).as_slice(), [one] if check(one))
    })
    .await;
    assert!(
        found,
        "job {job_id}'s check run never got there: {:#?}",
        check_runs_of(env, job_id)
    );
    check_runs_of(env, job_id).remove(0)
}

fn output<'a>(check_run: &'a FakeCheckRun, field: &str) -> &'a str {
    check_run
        .output
        .as_ref()
        .and_then(|o| o.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn completed(check_run: &FakeCheckRun, conclusion: &str) -> bool {
    check_run.status == "completed" && check_run.conclusion.as_deref() == Some(conclusion)
}

/// The service with its reconciler and sweeper idle and a quick feedback pass.
async fn start(env: &Env, extra: &[(&str, &str)], config: Option<&str>) -> Dispatcher {
    let extra: BTreeMap<String, String> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // A push, so the launch finds no fork.
    env.github.add_workflow_run(
        REPO,
        testkit::github::FakeWorkflowRun::queued(RUN_ID, "push", REPO),
    );
    env.start_configured(extra, config.map(str::to_owned), |tuning| {
        tuning.reconcile.interval = Duration::from_secs(3600);
        tuning.sweep.interval = Duration::from_secs(3600);
        tuning.feedback.interval = Duration::from_millis(100);
        tuning.feedback.waiting_notice = Duration::ZERO;
    })
    .await
}

/// Delivers a queued job; its head commit.
async fn deliver_job(env: &Env, dispatcher: &Dispatcher, job_id: u64, labels: &[&str]) -> String {
    let job = env.queued_job(job_id, labels);
    let answer = env.deliver(dispatcher, &format!("d-{job_id}"), &job).await;
    assert_eq!(answer.status(), 202);
    job.payload["workflow_job"]["head_sha"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_flavor_gets_a_failed_check_run_that_suggests_the_nearest_label() {
    let env = Env::new();
    let dispatcher = start(&env, &[], None).await;
    let head_sha = deliver_job(&env, &dispatcher, 1, &["self-hosted", "hf-jobs-t4-smal"]).await;
    let check_run = wait_for_check_run(&env, 1, |c| completed(c, "failure")).await;
    assert_eq!(check_run.head_sha, head_sha);
    assert!(check_run.name.starts_with("Ferry: "), "{}", check_run.name);
    assert_eq!(
        output(&check_run, "title"),
        "Unknown Hugging Face Jobs flavor: t4-smal"
    );
    let summary = output(&check_run, "summary");
    assert!(summary.contains("label `hf-jobs-t4-smal`"), "{summary}");
    assert!(
        summary.contains("Did you mean `hf-jobs-t4-small`"),
        "{summary}"
    );
    assert!(output(&check_run, "text").contains("`t4-medium`"));
    assert_eq!(check_run.details_url, None);
    assert!(env.hf_create_bodies().is_empty());
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repository_not_allowed_gets_a_failed_check_run_naming_the_setting() {
    let env = Env::new();
    let dispatcher = start(&env, &[("ALLOWED_GITHUB_REPOSITORIES", "octo/other")], None).await;
    deliver_job(&env, &dispatcher, 2, LABELS).await;
    let check_run = wait_for_check_run(&env, 2, |c| completed(c, "failure")).await;
    assert_eq!(
        output(&check_run, "title"),
        "This repository may not run jobs on this dispatcher"
    );
    let summary = output(&check_run, "summary");
    assert!(
        summary
            .contains("Repository octo/ml is not in this dispatcher's ALLOWED_GITHUB_REPOSITORIES"),
        "{summary}"
    );
    assert!(summary.contains("`octo/*`"), "{summary}");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flavor_the_policy_does_not_allow_gets_a_failed_check_run() {
    let env = Env::new();
    let config = "[policy]\n\n[[policy.scope]]\nmatch = \"octo/*\"\nflavors = [\"cpu\"]\n";
    let dispatcher = start(&env, &[], Some(config)).await;
    deliver_job(&env, &dispatcher, 3, LABELS).await;
    let check_run = wait_for_check_run(&env, 3, |c| completed(c, "failure")).await;
    assert_eq!(
        output(&check_run, "title"),
        "Flavor t4-small is not allowed for this repository"
    );
    let summary = output(&check_run, "summary");
    assert!(summary.contains("every CPU flavor (`cpu`)"), "{summary}");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launched_job_links_its_hf_job_and_its_check_run_completes_when_the_job_ends() {
    let env = Env::new();
    let dispatcher = start(&env, &[], None).await;
    let job = env.queued_job(4, LABELS);
    env.deliver(&dispatcher, "d-4", &job).await;
    let record = env.wait_for_state(4, State::Launched).await;
    let hf_job = record.hf_job_id.clone().unwrap();
    let check_run = wait_for_check_run(&env, 4, |c| c.status == "in_progress").await;
    assert_eq!(
        check_run.details_url.as_deref(),
        Some(format!("{}/jobs/{NAMESPACE}/{hf_job}", env.hub.base_url()).as_str())
    );
    assert_eq!(
        output(&check_run, "title"),
        "Running on Hugging Face Jobs (t4-small)"
    );
    let text = output(&check_run, "text");
    assert!(
        text.contains(&format!("hf jobs logs -f {NAMESPACE}/{hf_job}")),
        "{text}"
    );
    assert!(text.contains(&format!("hfjobs logs -f {NAMESPACE}/{hf_job}")));

    let runner = record.runner_name.clone().unwrap();
    env.deliver(&dispatcher, "d-4-ip", &job.in_progress(&runner))
        .await;
    env.deliver(
        &dispatcher,
        "d-4-done",
        &job.completed(Some(&runner), "success"),
    )
    .await;
    env.wait_for_state(4, State::Finished).await;
    let done = wait_for_check_run(&env, 4, |c| completed(c, "success")).await;
    assert_eq!(done.id, check_run.id, "the same check run, updated");
    assert_eq!(
        output(&done, "title"),
        "Ran on Hugging Face Jobs (t4-small)"
    );
    assert!(output(&done, "summary").contains("It ended with `success`"));
    let mark = env.record(4).await.unwrap().check_run.unwrap();
    assert_eq!(mark.id, Some(check_run.id));
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_waiting_on_a_cap_says_so_then_links_its_hf_job_once_it_starts() {
    let env = Env::new();
    let dispatcher = start(&env, &[("MAX_RUNNING_JOBS", "1")], None).await;
    let first = env.queued_job(51, LABELS);
    env.deliver(&dispatcher, "d-51", &first).await;
    let running = env.wait_for_state(51, State::Launched).await;
    deliver_job(&env, &dispatcher, 52, LABELS).await;
    env.wait_for_state(52, State::Waiting).await;
    let waiting = wait_for_check_run(&env, 52, |c| c.status == "in_progress").await;
    assert_eq!(
        output(&waiting, "title"),
        "Waiting for room on Hugging Face Jobs"
    );
    let summary = output(&waiting, "summary");
    assert!(
        summary.contains("waits for room under the global cap MAX_RUNNING_JOBS=1"),
        "{summary}"
    );
    assert_eq!(waiting.details_url, None);

    // The first job ends: the second starts, and its check run links its HF Job.
    let runner = running.runner_name.clone().unwrap();
    env.deliver(&dispatcher, "d-51-ip", &first.in_progress(&runner))
        .await;
    env.deliver(
        &dispatcher,
        "d-51-done",
        &first.completed(Some(&runner), "failure"),
    )
    .await;
    let started = env.wait_for_state(52, State::Launched).await;
    let hf_job = started.hf_job_id.unwrap();
    let now_running = wait_for_check_run(&env, 52, |c| {
        c.details_url
            .as_deref()
            .is_some_and(|url| url.ends_with(&format!("/jobs/{NAMESPACE}/{hf_job}")))
    })
    .await;
    assert_eq!(now_running.id, waiting.id, "one check run per job");
    assert_eq!(now_running.status, "in_progress");
    // The first job failed on its own: our check run is neutral and points at the job's check.
    let first_done = wait_for_check_run(&env, 51, |c| completed(c, "neutral")).await;
    assert!(output(&first_done, "summary").contains("It ended with `failure`"));
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_402_pauses_the_job_and_its_check_run_says_the_account_has_no_credits() {
    let env = Env::new();
    let dispatcher = start(&env, &[], None).await;
    env.hub.inject(
        Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
            .times(1)
            .status(402)
            .message("Insufficient credits"),
    );
    deliver_job(&env, &dispatcher, 6, LABELS).await;
    env.wait_for_state(6, State::Paused).await;
    let paused = wait_for_check_run(&env, 6, |c| c.status == "in_progress").await;
    assert_eq!(
        output(&paused, "title"),
        "Waiting: the Hugging Face account has no credits"
    );
    let summary = output(&paused, "summary");
    assert!(
        summary.contains("the Hugging Face account has no credits left"),
        "{summary}"
    );
    assert!(summary.contains("Insufficient credits"), "{summary}");
    assert!(summary.contains("until the dispatcher's operator acts"));

    // Credits are back: the next reconcile pass resumes the job, and the check run follows.
    let (reconciler, _) = env.reconciler(|_| {});
    reconciler.pass().await;
    let record = env.wait_for_state(6, State::Launched).await;
    let running = wait_for_check_run(&env, 6, |c| c.details_url.is_some()).await;
    assert_eq!(running.id, paused.id);
    assert!(
        running
            .details_url
            .unwrap()
            .ends_with(&record.hf_job_id.unwrap())
    );
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_check_runs_off_nothing_is_written() {
    let env = Env::new();
    let dispatcher = start(&env, &[("CHECK_RUNS", "false")], None).await;
    deliver_job(&env, &dispatcher, 7, &["hf-jobs-t4-smal"]).await;
    deliver_job(&env, &dispatcher, 8, LABELS).await;
    env.wait_for_state(7, State::Failed).await;
    env.wait_for_state(8, State::Launched).await;
    // Many intervals of the pass, had it run.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(env.github.check_runs().is_empty());
    assert_eq!(env.record(8).await.unwrap().check_run, None);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_checks_permission_is_logged_once_and_launching_goes_on() {
    let env = Env::new();
    env.github.inject(
        Fault::on(
            "POST",
            &env.github.path(&format!("/repos/{REPO}/check-runs")),
        )
        .times(1000)
        .status(403)
        .message("Resource not accessible by integration (fault 4711)"),
    );
    let dispatcher = start(&env, &[], None).await;
    for job_id in [91, 92, 93] {
        deliver_job(&env, &dispatcher, job_id, LABELS).await;
        env.wait_for_state(job_id, State::Launched).await;
    }
    deliver_job(&env, &dispatcher, 94, &["hf-jobs-t4-smal"]).await;
    env.wait_for_state(94, State::Failed).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(env.hf_create_bodies().len(), 3, "every job launched");
    let posts = env.github.server.requests_to(
        "POST",
        &env.github.path(&format!("/repos/{REPO}/check-runs")),
    );
    assert_eq!(posts.len(), 1, "the installation is left alone after a 403");
    assert!(env.github.check_runs().is_empty());
    let warnings = logs()
        .lines()
        .filter(|l| l.contains("Checks (write) permission") && l.contains("fault 4711"))
        .count();
    assert_eq!(warnings, 1, "logged once");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_writes_at_most_its_budget_and_never_writes_the_same_content_twice() {
    let env = Env::new();
    // The service writes none; the test's own pass does.
    let dispatcher = start(&env, &[("CHECK_RUNS", "false")], None).await;
    for job_id in 101..=105 {
        deliver_job(&env, &dispatcher, job_id, &["hf-jobs-t4-smal"]).await;
        env.wait_for_state(job_id, State::Failed).await;
    }
    let settings = env.settings();
    let parts = dispatch::service::build_parts(&settings).expect("parts");
    let pass = FeedbackPass::new(
        Arc::new(env.store()),
        parts.github,
        Some(parts.hf_client),
        FeedbackSettings {
            writes_per_pass: 2,
            ..dispatch::service::tuning(&settings).feedback
        },
    );
    let mut created = Vec::new();
    for _ in 0..3 {
        let report = pass.pass().await;
        assert!(report.errors.is_empty(), "{report:?}");
        created.push((report.created, report.deferred));
    }
    assert_eq!(created, [(2, 3), (2, 1), (1, 0)]);
    let report = pass.pass().await;
    assert_eq!((report.created, report.updated, report.deferred), (0, 0, 0));
    assert_eq!(env.github.check_runs().len(), 5);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_without_the_checks_permission_still_launches() {
    let env = Env::new();
    env.github.with_state(|s| {
        let installation = s.installations.get_mut(&INSTALLATION).unwrap();
        installation.permissions.remove("checks");
    });
    let dispatcher = start(&env, &[], None).await;
    for job_id in [95, 96] {
        deliver_job(&env, &dispatcher, job_id, LABELS).await;
        env.wait_for_state(job_id, State::Launched).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(env.hf_create_bodies().len(), 2);
    assert!(env.github.check_runs().is_empty());
    assert_eq!(env.record(95).await.unwrap().check_run, None);
    dispatcher.stop().await;
}
