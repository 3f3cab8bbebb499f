//! The delivery sweeper against FakeGitHub's delivery log, whose redeliveries are real POSTs
//! to the running dispatcher.

use std::time::Duration;

use dispatch::model::State;
use testkit::github::FakeDelivery;

use crate::harness::*;

const LABELS: &[&str] = &["self-hosted", "hf-jobs-t4-small"];

/// A loopback address where nothing listens: deliveries to it fail to connect.
fn dead_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    drop(listener);
    url
}

/// A `workflow_job` delivery GitHub logged while the dispatcher could not be reached.
fn failed_delivery(env: &Env, job_id: u64) -> u64 {
    let job = env.queued_job(job_id, LABELS);
    env.github.add_delivery_with_payload(
        "workflow_job",
        Some("queued"),
        job.body(),
        Some(INSTALLATION),
        0,
    )
}

/// Waits for the fake's redeliveries, which POST from threads of their own.
async fn settle(env: &Env) {
    assert!(tokio::task::block_in_place(|| {
        env.github.wait_for_redeliveries(Duration::from_secs(10))
    }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_never_connected_is_redelivered_and_launched() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    env.github.set_webhook(&dead_url(), WEBHOOK_SECRET);
    let job = env.queued_job(1201, LABELS);
    let lost = tokio::task::block_in_place(|| {
        env.github.send_webhook(
            "workflow_job",
            Some("queued"),
            job.body(),
            Some(INSTALLATION),
        )
    });
    assert_eq!(lost.status_code, 0, "{}", lost.status);

    env.github
        .set_webhook(&format!("{}/webhook", dispatcher.url), WEBHOOK_SECRET);
    let sweeper = env.sweeper(|_| {});
    let report = sweeper.pass().await;
    assert_eq!(report.redelivered, [lost.id], "{report:?}");
    settle(&env).await;
    env.wait_for_state(1201, State::Launched).await;
    let redelivered: Vec<FakeDelivery> = env
        .github
        .deliveries()
        .into_iter()
        .filter(|d| d.guid == lost.guid && d.redelivery)
        .collect();
    assert_eq!(redelivered.len(), 1);
    assert_eq!(redelivered[0].status, "OK");

    // The guid succeeded since: nothing more to ask for.
    let report = sweeper.pass().await;
    assert!(report.redelivered.is_empty(), "{report:?}");
    assert_eq!(env.github.redelivery_requests().len(), 1);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guids_that_succeeded_later_or_that_the_store_recorded_are_left_alone() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    env.github
        .set_webhook(&format!("{}/webhook", dispatcher.url), WEBHOOK_SECRET);

    // Failed once, then someone redelivered it by hand and it succeeded.
    let first = failed_delivery(&env, 1301);
    env.github.with_state(|s| {
        let mut ok = s.deliveries.iter().find(|d| d.id == first).unwrap().clone();
        ok.id = first + 1_000;
        ok.redelivery = true;
        ok.status = "OK".into();
        ok.status_code = 202;
        s.deliveries.push(ok);
    });
    // Recorded by us, but GitHub gave up waiting for our answer.
    let job = env.queued_job(1302, LABELS);
    env.deliver(&dispatcher, "guid-we-recorded", &job).await;
    env.github.with_state(|s| {
        let mut template = s.deliveries.iter().find(|d| d.id == first).unwrap().clone();
        template.id = first + 2_000;
        template.guid = "guid-we-recorded".into();
        template.status = "timed out".into();
        s.deliveries.push(template);
    });
    // A failed delivery of another event is not Ferry's to replay.
    env.github.add_delivery("ping", None, 503);

    let report = env.sweeper(|_| {}).pass().await;
    assert!(report.redelivered.is_empty(), "{report:?}");
    assert!(env.github.redelivery_requests().is_empty());
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_read_across_pages_and_then_only_from_the_cursor() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    env.github
        .set_webhook(&format!("{}/webhook", dispatcher.url), WEBHOOK_SECRET);
    let oldest = failed_delivery(&env, 1401);
    for _ in 0..150 {
        env.github
            .add_delivery("workflow_job", Some("completed"), 202);
    }
    let pages = |env: &Env| {
        env.github
            .server
            .requests_to("GET", &env.github.path("/app/hook/deliveries"))
            .len()
    };
    let at_start = pages(&env);
    // No overlap here: every delivery is seconds old, and the cursor must move past them.
    let sweeper = env.sweeper(|s| s.overlap = Duration::ZERO);
    let report = sweeper.pass().await;
    assert_eq!(report.read, 151, "{report:?}");
    assert_eq!(report.redelivered, [oldest], "found on the second page");
    settle(&env).await;
    env.wait_for_state(1401, State::Launched).await;
    assert_eq!(pages(&env) - at_start, 2);

    // Next pass: only what came after the cursor is read.
    let newer = failed_delivery(&env, 1402);
    let report = sweeper.pass().await;
    assert_eq!(report.redelivered, [newer], "{report:?}");
    assert!(report.read <= 3, "read back only to the cursor: {report:?}");
    assert_eq!(pages(&env) - at_start, 3);
    settle(&env).await;
    env.wait_for_state(1402, State::Launched).await;
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_that_keeps_failing_is_asked_for_three_times_then_left() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    env.github.set_webhook(&dead_url(), WEBHOOK_SECRET);
    failed_delivery(&env, 1501);
    let sweeper = env.sweeper(|_| {});
    for _ in 0..5 {
        sweeper.pass().await;
        settle(&env).await;
    }
    assert_eq!(env.github.redelivery_requests().len(), 3);
    let report = sweeper.pass().await;
    assert!(report.redelivered.is_empty(), "{report:?}");
    assert!(env.record(1501).await.is_none());
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_delivery_log_moves_no_cursor_and_the_next_pass_catches_up() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    env.github
        .set_webhook(&format!("{}/webhook", dispatcher.url), WEBHOOK_SECRET);
    let lost = failed_delivery(&env, 1601);
    env.github.inject(
        testkit::Fault::on("GET", &env.github.path("/app/hook/deliveries"))
            // The client tries four times before it gives up.
            .times(4)
            .status(502),
    );
    let sweeper = env.sweeper(|_| {});
    let report = sweeper.pass().await;
    assert!(report.redelivered.is_empty());
    assert_eq!(report.errors.len(), 1, "{report:?}");
    let report = sweeper.pass().await;
    assert_eq!(report.redelivered, [lost], "{report:?}");
    settle(&env).await;
    env.wait_for_state(1601, State::Launched).await;
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_logged_late_under_an_older_id_is_still_found() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    env.github
        .set_webhook(&format!("{}/webhook", dispatcher.url), WEBHOOK_SECRET);
    for _ in 0..3 {
        env.github
            .add_delivery("workflow_job", Some("completed"), 202);
    }
    let sweeper = env.sweeper(|_| {});
    assert!(sweeper.pass().await.redelivered.is_empty());
    // A delivery that was in flight during that pass is logged now, under an older id.
    let late = failed_delivery(&env, 1701);
    env.github.with_state(|s| {
        let delivery = s.deliveries.iter_mut().find(|d| d.id == late).unwrap();
        delivery.id = 1;
    });
    let report = sweeper.pass().await;
    assert_eq!(report.redelivered, [1], "{report:?}");
    settle(&env).await;
    env.wait_for_state(1701, State::Launched).await;
    dispatcher.stop().await;
}
