//! The dispatcher's flows, end to end.

use std::collections::BTreeMap;
use std::time::Duration;

use dispatch::model::State;
use serde_json::{Value, json};
use testkit::Fault;

use crate::harness::*;

const LABELS: &[&str] = &["self-hosted", "hf-jobs-t4-small"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queued_job_gets_one_runner_on_the_right_hardware() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = env.queued_job(5_000_000_001, LABELS);
    let answer = env.deliver(&dispatcher, "delivery-1", &job).await;
    assert_eq!(answer.status(), 202);

    let record = env.wait_for_state(5_000_000_001, State::Launched).await;
    let runner_name = record.runner_name.clone().unwrap();
    assert!(
        runner_name.starts_with("ferry-9000000001-5000000001-1-"),
        "{runner_name}"
    );

    // GitHub registered one JIT runner with the job's full label set.
    let runners = env.github.runners();
    assert_eq!(runners.len(), 1);
    assert_eq!(runners[0].name, runner_name);
    assert_eq!(runners[0].labels, ["self-hosted", "hf-jobs-t4-small"]);
    assert_eq!(record.runner_id, Some(runners[0].id));

    // One HF Job, on the T4, running the entrypoint with the JIT config only as a secret.
    let bodies = env.hf_create_bodies();
    assert_eq!(bodies.len(), 1);
    let body = &bodies[0];
    assert_eq!(body["flavor"], "t4-small");
    assert_eq!(body["dockerImage"], "ghcr.io/ferry-ci/runner:test-cuda");
    assert_eq!(body["command"], json!(["runner-entrypoint"]));
    assert_eq!(body["timeoutSeconds"], 7200);
    assert_eq!(
        body["secrets"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["RUNNER_JITCONFIG"]
    );
    assert!(
        body["secrets"]["RUNNER_JITCONFIG"]
            .as_str()
            .is_some_and(|c| c.len() > 20)
    );
    assert_eq!(body["environment"]["RUNNER_IDLE_TIMEOUT"], "300");
    let labels = &body["labels"];
    assert_eq!(labels["managed-by"], "ferry");
    assert_eq!(labels["ferry.key"], "5000000001-1");
    assert_eq!(labels["ferry.repo"], "octo_2fml");
    assert_eq!(labels["ferry.installation"], "42");
    assert_eq!(record.hf_job_id.as_deref(), env.hf_jobs()[0]["id"].as_str());

    // A runner picks it up, then it completes.
    let in_progress = job.in_progress(&runner_name);
    assert_eq!(
        env.deliver(&dispatcher, "delivery-2", &in_progress)
            .await
            .status(),
        202
    );
    let running = env.wait_for_state(5_000_000_001, State::Running).await;
    assert!(running.taken_by_ours());
    let completed = job.completed(Some(&runner_name), "success");
    assert_eq!(
        env.deliver(&dispatcher, "delivery-3", &completed)
            .await
            .status(),
        202
    );
    let finished = env.wait_for_state(5_000_000_001, State::Finished).await;
    assert_eq!(finished.conclusion.as_deref(), Some("success"));
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_delivery_ten_times_at_once_launches_once() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = env.queued_job(11, LABELS);
    let answers = futures_util::future::join_all(
        (0..10).map(|_| env.deliver(&dispatcher, "same-delivery", &job)),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|a| a.status().as_u16()).collect();
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 202).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|&s| s == 200 || s == 202),
        "{statuses:?}"
    );
    env.wait_for_state(11, State::Launched).await;
    // Give any duplicate launch the time to show itself.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(env.hf_create_bodies().len(), 1);
    assert_eq!(env.github.runners().len(), 1);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_delivery_ids_for_the_same_job_launch_once() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = env.queued_job(12, LABELS);
    let answers = futures_util::future::join_all((0..5).map(|i| {
        let id = format!("delivery-{i}");
        let env = &env;
        let dispatcher = &dispatcher;
        let job = job.clone();
        async move { env.deliver(dispatcher, &id, &job).await.status().as_u16() }
    }))
    .await;
    assert!(answers.iter().all(|&s| s == 202), "{answers:?}");
    env.wait_for_state(12, State::Launched).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(env.hf_create_bodies().len(), 1);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_out_of_order_launch_nothing_for_jobs_already_taken_or_done() {
    let env = Env::new();
    let dispatcher = env.start().await;
    // Completed overtakes queued: the late queued delivery must not launch.
    let done = env.queued_job(21, LABELS);
    env.deliver(
        &dispatcher,
        "d-21-completed",
        &done.completed(Some("someone-else"), "success"),
    )
    .await;
    env.deliver(&dispatcher, "d-21-queued", &done).await;
    // In progress overtakes queued: someone else already runs it.
    let taken = env.queued_job(22, LABELS);
    env.deliver(
        &dispatcher,
        "d-22-progress",
        &taken.in_progress("someone-else"),
    )
    .await;
    env.deliver(&dispatcher, "d-22-queued", &taken).await;
    assert_eq!(
        env.wait_for_state(21, State::Finished).await.state,
        State::Finished
    );
    assert_eq!(
        env.wait_for_state(22, State::Running)
            .await
            .taken_by
            .as_deref(),
        Some("someone-else")
    );
    // A queued delivery whose job GitHub already started is not launched either.
    let stale = env.queued_job(23, LABELS);
    env.github.set_job_status(REPO, 23, "in_progress", None);
    env.deliver(&dispatcher, "d-23", &stale).await;
    env.wait_for_state(23, State::Running).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(env.hf_create_bodies().is_empty());
    assert!(env.github.runners().is_empty());
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_cancelled_before_pickup_deletes_the_runner_before_cancelling_the_hf_job() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = env.queued_job(31, LABELS);
    env.deliver(&dispatcher, "d-1", &job).await;
    let launched = env.wait_for_state(31, State::Launched).await;
    let hf_job_id = launched.hf_job_id.clone().unwrap();

    // Slow the runner deletion down so an early HF cancel would show.
    env.github.inject(
        Fault::on("DELETE", "/repos/octo/ml/actions/runners/").delay(Duration::from_millis(500)),
    );
    env.deliver(&dispatcher, "d-2", &job.completed(None, "cancelled"))
        .await;
    let cancels = || {
        let requests = env.hub.server.requests();
        requests
            .iter()
            .filter(|r| r.path.ends_with("/cancel"))
            .count()
    };
    loop {
        // Order matters: a runner still registered could take another job once its HF Job is gone.
        if !env.github.runners().is_empty() {
            assert_eq!(
                cancels(),
                0,
                "HF Job cancelled while its runner was registered"
            );
        }
        if env.record(31).await.unwrap().state == State::Cancelled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let cancelled = env.wait_for_state(31, State::Cancelled).await;
    let reason = cancelled.reason.unwrap();
    assert!(reason.contains("before our runner started"), "{reason}");
    assert!(env.github.runners().is_empty(), "the runner was deleted");
    assert_eq!(cancels(), 1);
    assert_eq!(
        env.hub.job(&hf_job_id).unwrap()["status"]["stage"],
        "CANCELED"
    );
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_busy_runner_is_never_torn_down() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = env.queued_job(32, LABELS);
    env.deliver(&dispatcher, "d-1", &job).await;
    let launched = env.wait_for_state(32, State::Launched).await;
    // Our runner took another job with the same labels; this one was then cancelled.
    env.github.mark_busy(launched.runner_id.unwrap(), true);
    env.deliver(&dispatcher, "d-2", &job.completed(None, "cancelled"))
        .await;
    let record = env.wait_for_state(32, State::Cancelled).await;
    assert!(record.reason.unwrap().contains("another job"));
    assert_eq!(env.github.runners().len(), 1);
    assert_ne!(
        env.hub.job(launched.hf_job_id.as_deref().unwrap()).unwrap()["status"]["stage"],
        "CANCELED"
    );
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_are_refused_over_http() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let body = testkit::deliveries::WorkflowJob::queued(REPO, 41, 9_000_000_001, LABELS).body();
    let unsigned = env
        .send(&dispatcher, "workflow_job", "d-1", &body, None)
        .await;
    assert_eq!(unsigned.status(), 401);
    let wrong = env
        .send(
            &dispatcher,
            "workflow_job",
            "d-2",
            &body,
            Some("not-the-secret"),
        )
        .await;
    assert_eq!(wrong.status(), 401);
    let malformed = env
        .send(
            &dispatcher,
            "workflow_job",
            "d-3",
            b"{\"action\":",
            Some(WEBHOOK_SECRET),
        )
        .await;
    assert_eq!(malformed.status(), 400);
    let huge = vec![b'x'; 25 * 1024 * 1024 + 1];
    let too_big = env
        .send(
            &dispatcher,
            "workflow_job",
            "d-4",
            &huge,
            Some(WEBHOOK_SECRET),
        )
        .await;
    assert_eq!(too_big.status(), 413);
    // The old secret still verifies during a rotation.
    let rotated = env
        .send(
            &dispatcher,
            "ping",
            "d-5",
            &testkit::deliveries::ping(),
            Some("rotated-out-secret"),
        )
        .await;
    assert_eq!(rotated.status(), 200);
    assert!(env.record(41).await.is_none());
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_on_the_same_store_resumes_without_a_second_job() {
    let env = Env::new();
    let first = env.start().await;
    let job = env.queued_job(51, LABELS);
    env.deliver(&first, "d-1", &job).await;
    env.wait_for_state(51, State::Launched).await;
    first.stop().await;

    // Queued work acknowledged just before a stop is launched after the start.
    let pending = env.queued_job(52, LABELS);
    let store = env.store();
    let facts = dispatch::model::JobFacts {
        key: dispatch::model::JobKey {
            repo: REPO.into(),
            job_id: 52,
            run_attempt: 1,
        },
        run_id: 9_000_000_001,
        installation_id: Some(INSTALLATION),
        labels: LABELS.iter().map(|s| s.to_string()).collect(),
        workflow_name: None,
        job_name: None,
        head_sha: None,
        flavor: None,
    };
    use dispatch::store::Store;
    store
        .ingest(
            "d-52",
            "workflow_job",
            Some((facts, dispatch::model::Observation::Queued)),
            1,
        )
        .await
        .unwrap();
    drop(pending);

    let second = env.start().await;
    env.deliver(&second, "d-1", &job).await;
    env.deliver(&second, "d-1-again", &job).await;
    env.wait_for_state(52, State::Launched).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let keys: Vec<String> = env
        .hf_create_bodies()
        .iter()
        .map(|b| b["labels"]["ferry.key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys, ["51-1", "52-1"]);
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_creating_and_recording_the_hf_job_makes_no_second_one() {
    let env = Env::new();
    // The HF Job of an earlier life exists, but the store never learnt of it.
    let earlier = env.hub.add_job(
        NAMESPACE,
        json!({ "dockerImage": "ghcr.io/ferry-ci/runner:test", "command": ["runner-entrypoint"], "flavor": "t4-small",
                "labels": { "managed-by": "ferry", "ferry.key": "61-1" } }),
    );
    let dispatcher = env.start().await;
    let job = env.queued_job(61, LABELS);
    env.deliver(&dispatcher, "d-1", &job).await;
    let record = env.wait_for_state(61, State::Launched).await;
    assert_eq!(record.hf_job_id.as_deref(), Some(earlier.as_str()));
    assert!(env.hf_create_bodies().is_empty());
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_answered_while_hf_is_slow_and_launches_continue() {
    let env = Env::new();
    env.hub.inject(
        Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
            .times(3)
            .delay(Duration::from_secs(2)),
    );
    let dispatcher = env.start().await;
    for job_id in 71..=73 {
        let job = env.queued_job(job_id, LABELS);
        let answer = env.deliver(&dispatcher, &format!("d-{job_id}"), &job).await;
        assert_eq!(answer.status(), 202);
    }
    // Every delivery was answered while no launch had finished: the answers did not wait on HF.
    for job_id in 71..=73 {
        let state = env.record(job_id).await.unwrap().state;
        assert!(
            matches!(state, State::Queued | State::Launching),
            "{job_id}: {state:?}"
        );
    }
    for job_id in 71..=73 {
        env.wait_for_state(job_id, State::Launched).await;
    }
    assert_eq!(env.hf_create_bodies().len(), 3);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_retry_and_permanent_ones_record_the_reason() {
    let env = Env::new();
    env.hub.inject(
        Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
            .times(2)
            .status(503),
    );
    let dispatcher = env.start().await;
    let job = env.queued_job(81, LABELS);
    env.deliver(&dispatcher, "d-81", &job).await;
    let record = env.wait_for_state(81, State::Launched).await;
    assert_eq!(record.attempts, 3, "two failures then a success");

    env.hub.inject(
        Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
            .status(402)
            .message("pre-paid credit balance is insufficient"),
    );
    // No credits is the account's problem, not the job's: the job waits (see recovery.rs).
    let broke = env.queued_job(82, LABELS);
    env.deliver(&dispatcher, "d-82", &broke).await;
    let paused = env.wait_for_state(82, State::Paused).await;
    assert!(
        paused.reason.unwrap().contains("credit"),
        "the operator learns why"
    );

    // An unknown flavor is refused at once, with the nearest names.
    let typo = env.queued_job(83, &["hf-jobs-t4-smal"]);
    env.deliver(&dispatcher, "d-83", &typo).await;
    let refused = env.wait_for_state(83, State::Failed).await;
    let reason = refused.reason.unwrap();
    assert!(reason.contains("t4-small"), "{reason}");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_page_shows_the_jobs() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = env.queued_job(91, LABELS);
    env.deliver(&dispatcher, "d-91", &job).await;
    env.wait_for_state(91, State::Launched).await;
    let page: Value = env
        .client
        .get(format!("{}/?format=json", dispatcher.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["jobs"]["launched"], 1);
    let ready = env
        .client
        .get(format!("{}/readyz", dispatcher.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200, "{:?}", ready.text().await);
    let _: BTreeMap<String, String> = BTreeMap::new();
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_mid_launch_hands_the_work_to_the_next_start() {
    let env = Env::new();
    // The first job creation hangs far longer than the shutdown grace.
    env.hub
        .inject(Fault::on("POST", &format!("/api/jobs/{NAMESPACE}")).delay(Duration::from_secs(8)));
    let grace = BTreeMap::from([("SHUTDOWN_GRACE".to_owned(), "1".to_owned())]);
    let first = env.start_with(grace).await;
    let job = env.queued_job(111, LABELS);
    env.deliver(&first, "d-111", &job).await;
    wait_until("the launch reaches HF", || async {
        !env.hub
            .server
            .requests_to("POST", &format!("/api/jobs/{NAMESPACE}"))
            .is_empty()
    })
    .await;
    first.stop().await;
    let left = env.record(111).await.unwrap();
    assert_eq!(left.state, State::Launching);
    assert_eq!(
        left.lease_until_ms, None,
        "the lease was handed back at shutdown"
    );

    let second = env.start().await;
    let launched = env.wait_for_state(111, State::Launched).await;
    assert_eq!(
        launched.runner_name, left.runner_name,
        "the same runner name is reused"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let created = env.hf_jobs().len();
    assert_eq!(created, 1, "exactly one HF Job");
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_signs_in_to_both_services_and_names_what_fails() {
    let env = Env::new();
    let settings = |extra: &[(&str, &str)]| {
        let mut vars = env.settings_env();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        dispatch::config::load(&dispatch::config::Sources {
            env: vars,
            ..Default::default()
        })
        .unwrap()
    };
    let lines = dispatch::service::check(&settings(&[])).await;
    for line in &lines {
        assert!(line.result.is_ok(), "{line:?}");
    }
    let text = format!("{lines:?}");
    assert!(
        text.contains("ferry-test") && text.contains(NAMESPACE),
        "{text}"
    );

    let lines = dispatch::service::check(&settings(&[("HF_TOKEN", "hf_wrong")])).await;
    let hf = lines.iter().find(|l| l.what == "HF Jobs").unwrap();
    assert!(
        hf.result
            .as_ref()
            .is_err_and(|e| e.contains("401") || e.to_lowercase().contains("unauthorized")),
        "{hf:?}"
    );
    let github = lines.iter().find(|l| l.what == "GitHub App").unwrap();
    assert!(github.result.is_ok());
    assert!(
        !format!("{lines:?}").contains("hf_wrong"),
        "the token is never echoed"
    );

    // With the namespace given, the token is still tried for real, and the line names it.
    let lines = dispatch::service::check(&settings(&[
        ("HF_TOKEN", "hf_wrong"),
        ("HF_NAMESPACE", NAMESPACE),
    ]))
    .await;
    let hf = lines.iter().find(|l| l.what == "HF Jobs").unwrap();
    assert!(
        hf.result.as_ref().is_err_and(|e| e.starts_with("HF_TOKEN")),
        "{hf:?}"
    );
    // The App signs in and lists its installations.
    let lines = dispatch::service::check(&settings(&[])).await;
    let github = lines.iter().find(|l| l.what == "GitHub App").unwrap();
    assert!(
        github
            .result
            .as_ref()
            .is_ok_and(|text| text.contains("1 installation")),
        "{github:?}"
    );
    let other_key = testkit::github::keys::OTHER_PRIVATE_KEY_PKCS1.replace('\n', "\\n");
    let lines = dispatch::service::check(&settings(&[("GH_APP_PRIVATE_KEY", &other_key)])).await;
    let github = lines.iter().find(|l| l.what == "GitHub App").unwrap();
    assert!(
        github
            .result
            .as_ref()
            .is_err_and(|e| e.contains("GH_APP_PRIVATE_KEY")),
        "{github:?}"
    );
}
