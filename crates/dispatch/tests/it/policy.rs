//! The policy end to end: forks (against a real workflow-run payload), scopes (namespace,
//! image, timeout, cache), and caps on live HF Jobs under a concurrent burst.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use dispatch::model::State;
use dispatch::store::Store;
use futures_util::StreamExt;
use serde_json::{Value, json};
use testkit::github::FakeJob;

use crate::harness::*;

const GPU: &[&str] = &["hf-jobs-t4-small"];
const CPU: &[&str] = &["hf-jobs-cpu-basic"];
const RUN_ID: u64 = 9_000_000_001;
const FORK_AUTHOR: &str = "drive-by-contributor";

/// GitHub's answer for the run, from a real payload: as it is (a run of the repository
/// itself), or edited into a pull request from a fork.
fn serve_run(env: &Env, from_fork: bool) {
    let text = include_str!("../data/workflow_run.completed.0.json");
    let payload: Value = serde_json::from_str(text).unwrap();
    let mut run = payload["workflow_run"].clone();
    run["id"] = json!(RUN_ID);
    run["repository"]["full_name"] = json!(REPO);
    if from_fork {
        run["event"] = json!("pull_request");
        run["head_repository"]["id"] = json!(777_000_111u64);
        run["head_repository"]["full_name"] = json!("drive-by-contributor/ml");
        run["head_repository"]["fork"] = json!(true);
        run["triggering_actor"] = json!({"login": FORK_AUTHOR, "id": 4242, "type": "User"});
    } else {
        run["head_repository"] = run["repository"].clone();
    }
    env.github.with_state(|s| {
        s.raw_workflow_runs.insert((REPO.to_owned(), RUN_ID), run);
    });
}

fn env_of(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pull_request_from_a_fork_is_refused_by_default_with_a_reason_for_its_author() {
    let env = Env::new();
    serve_run(&env, true);
    let dispatcher = env.start().await;
    let job = env.queued_job(2101, CPU);
    env.deliver(&dispatcher, "d-2101", &job).await;
    let failed = env.wait_for_state(2101, State::Failed).await;
    let reason = failed.reason.unwrap();
    assert!(reason.contains("fork"), "{reason}");
    assert!(
        reason.contains("FORK_PULL_REQUESTS"),
        "says what to change: {reason}"
    );
    assert!(env.hf_create_bodies().is_empty());
    assert!(env.github.runners().is_empty(), "no runner minted for it");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forks_on_cpu_only_and_trusted_authors_and_the_repositorys_own_runs() {
    let env = Env::new();
    serve_run(&env, true);
    let dispatcher = env
        .start_with(env_of(&[("FORK_PULL_REQUESTS", "cpu")]))
        .await;
    env.deliver(&dispatcher, "d-2201", &env.queued_job(2201, GPU))
        .await;
    let refused = env.wait_for_state(2201, State::Failed).await;
    assert!(refused.reason.unwrap().contains("t4-small"));
    env.deliver(&dispatcher, "d-2202", &env.queued_job(2202, CPU))
        .await;
    env.wait_for_state(2202, State::Launched).await;
    dispatcher.stop().await;

    let dispatcher = env
        .start_with(env_of(&[("FORK_TRUSTED_AUTHORS", FORK_AUTHOR)]))
        .await;
    env.deliver(&dispatcher, "d-2203", &env.queued_job(2203, GPU))
        .await;
    env.wait_for_state(2203, State::Launched).await;
    dispatcher.stop().await;

    // The repository's own run is no fork, whatever the mode.
    serve_run(&env, false);
    let dispatcher = env.start().await;
    env.deliver(&dispatcher, "d-2204", &env.queued_job(2204, GPU))
        .await;
    env.wait_for_state(2204, State::Launched).await;
    dispatcher.stop().await;
}

const ORG_CONFIG: &str = r#"

[policy]
allowed_repositories = ["octo/*"]

[policy.flavors.t4-small]
max_timeout = "30m"

[[policy.scope]]
match = "octo/*"
flavors = ["cpu", "t4-small"]
image_cpu = "ghcr.io/octo/ci:cpu"
namespace = "octo-billing"
timeout = "20m"
cache = { bucket = "octo-billing/ci-cache-{repo}", mount = "/cache" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scope_sets_namespace_image_timeout_and_a_cache_volume() {
    let env = Env::new();
    env.hub.add_org("octo-billing");
    serve_run(&env, false);
    let dispatcher = env.start_with_config(ORG_CONFIG, BTreeMap::new()).await;
    env.deliver(&dispatcher, "d-2301", &env.queued_job(2301, CPU))
        .await;
    let record = env.wait_for_state(2301, State::Launched).await;
    assert_eq!(record.hf_namespace.as_deref(), Some("octo-billing"));
    let created = env
        .hub
        .server
        .requests_to("POST", "/api/jobs/octo-billing")
        .into_iter()
        .find(|r| r.path == "/api/jobs/octo-billing")
        .expect("created in the scope's namespace");
    let body: Value = created.json().unwrap();
    assert_eq!(body["dockerImage"], "ghcr.io/octo/ci:cpu");
    assert_eq!(body["timeoutSeconds"], 20 * 60);
    assert_eq!(
        body["volumes"],
        json!([{"type": "bucket", "source": "octo-billing/ci-cache-ml", "mountPath": "/cache"}])
    );
    assert_eq!(body["environment"]["HF_HOME"], "/cache/huggingface");
    let passed = body["environment"]["RUNNER_ENV_PASSTHROUGH"]
        .as_str()
        .unwrap();
    for name in ["HF_HOME", "UV_CACHE_DIR", "PIP_CACHE_DIR"] {
        assert!(passed.contains(name), "{passed}");
    }
    assert!(
        env.hub.bucket("octo-billing/ci-cache-ml").is_some(),
        "the cache bucket was made"
    );

    // A label asking for more than the flavor allows is refused; a GPU flavor not in the
    // scope's list too.
    env.deliver(
        &dispatcher,
        "d-2302",
        &env.queued_job(2302, &["hf-jobs=t4-small/timeout=2h"]),
    )
    .await;
    let refused = env.wait_for_state(2302, State::Failed).await;
    assert!(refused.reason.unwrap().contains("30m"));
    env.deliver(
        &dispatcher,
        "d-2303",
        &env.queued_job(2303, &["hf-jobs-a10g-large"]),
    )
    .await;
    let refused = env.wait_for_state(2303, State::Failed).await;
    assert!(refused.reason.unwrap().contains("a10g-large"));

    // The reconciler sees the job in the scope's namespace: nothing is adopted or replaced.
    let (reconciler, _) = env.reconciler(|_| {});
    let report = reconciler.pass().await;
    assert_eq!((report.adopted, report.replaced), (0, 0), "{report:?}");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_hold_under_a_burst_of_200_and_every_waiting_job_starts_later() {
    const JOBS: u64 = 200;
    const FIRST: u64 = 8_000_000_000;
    let env = Env::new();
    serve_run(&env, false);
    env.github.with_state(|s| {
        for job_id in FIRST..FIRST + JOBS {
            let labels = if job_id % 4 == 0 { GPU } else { CPU };
            s.jobs.insert(
                (REPO.to_owned(), job_id),
                FakeJob::queued(job_id, RUN_ID, labels),
            );
        }
    });
    let config = r#"
[policy]
max_running_jobs = 6
[policy.flavors.t4-small]
max_running = 2
"#;
    let dispatcher = env.start_with_config(config, BTreeMap::new()).await;
    let live = |records: &[dispatch::model::JobRecord], flavor: Option<&str>| {
        records
            .iter()
            .filter(|r| {
                r.state == State::Launching
                    || (r.hf_job_id.is_some()
                        && matches!(r.state, State::Launched | State::Running))
            })
            .filter(|r| flavor.is_none_or(|f| r.flavor.as_deref() == Some(f)))
            .count()
    };

    // The burst: every job at once, 16 senders.
    let answers: Vec<u16> = futures_util::stream::iter(FIRST..FIRST + JOBS)
        .map(|job_id| {
            let env = &env;
            let dispatcher = &dispatcher;
            async move {
                let labels = if job_id % 4 == 0 { GPU } else { CPU };
                let job = testkit::deliveries::WorkflowJob::queued(REPO, job_id, RUN_ID, labels);
                env.deliver(dispatcher, &format!("d-{job_id}"), &job)
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(answers.iter().all(|s| *s == 202));

    // Jobs run and end; the caps must hold at every look, and every job must start.
    let mut finished: HashMap<u64, ()> = HashMap::new();
    let mut max_live = (0, 0);
    let mut waited = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while finished.len() < JOBS as usize {
        assert!(
            Instant::now() < deadline,
            "{} of {JOBS} done",
            finished.len()
        );
        let records = env.store().active(0).await.unwrap();
        let (all, gpu) = (live(&records, None), live(&records, Some("t4-small")));
        assert!(all <= 6, "global cap exceeded: {all}");
        assert!(gpu <= 2, "flavor cap exceeded: {gpu}");
        max_live = (max_live.0.max(all), max_live.1.max(gpu));
        waited = waited.max(records.iter().filter(|r| r.state == State::Waiting).count());
        for record in records.iter().filter(|r| r.state == State::Launched) {
            let runner = record.runner_name.clone().unwrap();
            let labels = if record.key.job_id % 4 == 0 { GPU } else { CPU };
            let job =
                testkit::deliveries::WorkflowJob::queued(REPO, record.key.job_id, RUN_ID, labels);
            let id = record.key.job_id;
            env.deliver(
                &dispatcher,
                &format!("c-{id}"),
                &job.completed(Some(&runner), "success"),
            )
            .await;
            finished.insert(id, ());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(max_live, (6, 2), "the caps were reached, never passed");
    assert!(waited > 100, "most of the burst waited: {waited}");
    let counts = env.store().counts().await.unwrap();
    assert_eq!(counts.get(&State::Finished), Some(&JOBS), "{counts:?}");
    assert_eq!(
        env.hf_create_bodies().len(),
        JOBS as usize,
        "one HF Job each"
    );
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_that_ends_wakes_the_one_waiting_for_its_room() {
    let env = Env::new();
    serve_run(&env, false);
    // No polling to fall back on: only the freed room can start the second job.
    let dispatcher = env
        .start_configured(env_of(&[("MAX_RUNNING_JOBS", "1")]), None, |tuning| {
            tuning.launch.idle_poll = Duration::from_secs(3600);
        })
        .await;
    let first = env.queued_job(2401, CPU);
    env.deliver(&dispatcher, "d-2401", &first).await;
    let running = env.wait_for_state(2401, State::Launched).await;
    env.deliver(&dispatcher, "d-2402", &env.queued_job(2402, CPU))
        .await;
    let waiting = env.wait_for_state(2402, State::Waiting).await;
    assert!(waiting.reason.unwrap().contains("MAX_RUNNING_JOBS"));
    env.deliver(
        &dispatcher,
        "d-2401-done",
        &first.completed(running.runner_name.as_deref(), "success"),
    )
    .await;
    env.wait_for_state(2402, State::Launched).await;
    dispatcher.stop().await;
}
