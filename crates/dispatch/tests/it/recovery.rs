//! Recovery: the reconciler's actions, fencing, failure classes and the status mapping,
//! against the fakes. The service runs with its own reconciler idle; each test makes the
//! passes it needs, one at a time, on the same store.

use std::collections::BTreeMap;
use std::time::Duration;

use dispatch::model::{JobRecord, State};
use testkit::Fault;

use crate::harness::*;

const LABELS: &[&str] = &["self-hosted", "hf-jobs-t4-small"];

fn hub_stage(env: &Env, hf_job_id: &str) -> String {
    env.hub.job(hf_job_id).unwrap()["status"]["stage"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn runner_id(env: &Env, name: &str) -> Option<u64> {
    env.github
        .runners()
        .into_iter()
        .find(|r| r.name == name)
        .map(|r| r.id)
}

async fn launched(env: &Env, dispatcher: &Dispatcher, job_id: u64) -> JobRecord {
    let job = env.queued_job(job_id, LABELS);
    env.deliver(dispatcher, &format!("d-{job_id}"), &job).await;
    env.wait_for_state(job_id, State::Launched).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runner_not_online_by_the_boot_deadline_is_replaced_then_the_job_fails_after_three() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    let first = launched(&env, &dispatcher, 101).await;
    let (reconciler, _) = env.reconciler(|r| r.boot_deadline = Duration::ZERO);

    let mut seen = vec![first.clone()];
    for launch in 2..=3 {
        let report = reconciler.pass().await;
        assert_eq!(report.replaced, 1, "{report:?}");
        let previous = seen.last().unwrap().clone();
        let next = env
            .wait_for(101, |r| {
                r.state == State::Launched && r.hf_job_id != previous.hf_job_id
            })
            .await;
        assert_eq!(next.launches, launch);
        assert_ne!(
            next.runner_name, previous.runner_name,
            "a fresh runner name"
        );
        // The dead runner went first, then its HF Job.
        let old_hf = previous.hf_job_id.as_deref().unwrap();
        assert_eq!(hub_stage(&env, old_hf), "CANCELED");
        assert_eq!(
            runner_id(&env, previous.runner_name.as_deref().unwrap()),
            None
        );
        seen.push(next);
    }
    let report = reconciler.pass().await;
    assert_eq!(report.replaced, 1, "{report:?}");
    let failed = env.wait_for_state(101, State::Failed).await;
    let reason = failed.reason.unwrap();
    assert!(reason.starts_with("gave up after 3 HF Jobs"), "{reason}");
    assert!(reason.contains("not online within"), "{reason}");
    assert_eq!(
        env.hf_create_bodies().len(),
        3,
        "MAX_LAUNCH_ATTEMPTS bounds the HF Jobs"
    );
    assert!(
        env.hf_jobs()
            .iter()
            .all(|j| j["status"]["stage"] == "CANCELED"),
        "no HF Job left running"
    );
    assert!(env.github.runners().is_empty(), "no runner left behind");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hf_job_that_ends_before_its_runner_takes_the_job_is_replaced_within_two_passes() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    let first = launched(&env, &dispatcher, 111).await;
    let (reconciler, _) = env.reconciler(|_| {});
    // Nothing is wrong yet: an offline runner within its boot deadline is left alone.
    let report = reconciler.pass().await;
    assert_eq!((report.replaced, report.stolen), (0, 0), "{report:?}");

    env.hub
        .set_stage(first.hf_job_id.as_deref().unwrap(), "ERROR");
    let report = reconciler.pass().await;
    assert_eq!(report.replaced, 1, "{report:?}");
    let second = env
        .wait_for(111, |r| r.state == State::Launched && r.launches == 2)
        .await;
    assert!(
        second
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("HF Job ended"))
    );
    assert_eq!(second.abandoned_hf_jobs, [first.hf_job_id.clone().unwrap()]);
    assert_eq!(env.hf_create_bodies().len(), 2);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_runner_was_taken_by_another_job_gets_a_replacement_and_the_busy_runner_is_kept()
 {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    let a = launched(&env, &dispatcher, 201).await;
    let b_job = env.queued_job(202, LABELS);
    env.deliver(&dispatcher, "d-202", &b_job).await;
    env.wait_for_state(202, State::Launched).await;

    // A's runner took B; A is still queued on GitHub.
    let a_runner = a.runner_name.clone().unwrap();
    let a_runner_id = runner_id(&env, &a_runner).unwrap();
    env.github.set_runner_status(a_runner_id, "online");
    env.github.mark_busy(a_runner_id, true);
    env.github.assign_job(REPO, 202, a_runner_id, &a_runner);
    env.deliver(&dispatcher, "d-202-ip", &b_job.in_progress(&a_runner))
        .await;
    env.wait_for_state(202, State::Running).await;

    let (reconciler, _) = env.reconciler(|_| {});
    let report = reconciler.pass().await;
    assert_eq!(report.stolen, 1, "{report:?}");
    let replaced = env
        .wait_for(201, |r| r.state == State::Launched && r.launches == 2)
        .await;
    assert_ne!(replaced.runner_name.as_deref(), Some(a_runner.as_str()));
    assert!(
        replaced
            .reason
            .as_deref()
            .is_some_and(|r| r.contains("took another job"))
    );
    // The busy runner and its HF Job serve B: untouched.
    assert!(runner_id(&env, &a_runner).is_some());
    assert_eq!(
        hub_stage(&env, a.hf_job_id.as_deref().unwrap()),
        "SCHEDULING"
    );
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missed_in_progress_and_completed_webhooks_are_learnt_from_github() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    let record = launched(&env, &dispatcher, 301).await;
    let runner = record.runner_name.clone().unwrap();
    let id = runner_id(&env, &runner).unwrap();
    env.github.assign_job(REPO, 301, id, &runner);
    let (reconciler, _) = env.reconciler(|_| {});
    let report = reconciler.pass().await;
    assert_eq!(report.observed, 1, "{report:?}");
    assert!(env.record(301).await.unwrap().taken_by_ours());

    env.github
        .set_job_status(REPO, 301, "completed", Some("success"));
    env.hub
        .set_stage(record.hf_job_id.as_deref().unwrap(), "COMPLETED");
    let report = reconciler.pass().await;
    assert_eq!(report.observed, 1, "{report:?}");
    let finished = env.wait_for_state(301, State::Finished).await;
    assert_eq!(finished.conclusion.as_deref(), Some("success"));
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_github_holds_as_waiting_is_launched_once_it_is_queued() {
    let env = Env::new();
    let dispatcher = env.start().await;
    let job = env.queued_job(401, LABELS);
    env.github.set_job_status(REPO, 401, "waiting", None);
    env.deliver(&dispatcher, "d-401", &job).await;
    let deferred = env
        .wait_for(401, |r| {
            r.reason
                .as_deref()
                .is_some_and(|reason| reason.contains("not yet queued"))
        })
        .await;
    assert!(
        matches!(deferred.state, State::Queued | State::Launching),
        "waiting is not running: {deferred:?}"
    );
    assert!(env.hf_create_bodies().is_empty());
    env.github.set_job_status(REPO, 401, "queued", None);
    env.wait_for_state(401, State::Launched).await;
    assert_eq!(env.hf_create_bodies().len(), 1);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hf_jobs_the_store_lost_are_adopted_not_launched_again_and_cancelled_when_their_job_is_over()
 {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    let kept = launched(&env, &dispatcher, 501).await;
    let ended = launched(&env, &dispatcher, 502).await;
    dispatcher.stop().await;

    // The state directory is lost; GitHub finished one of the jobs meanwhile. The run is
    // not listed, so the empty-store scan finds nothing: only adoption brings them back.
    std::fs::remove_dir_all(env.state_dir.path()).unwrap();
    env.github.with_state(|s| s.workflow_runs.clear());
    env.github
        .set_job_status(REPO, 502, "completed", Some("cancelled"));
    let dispatcher = env.start_quiet().await;
    let (reconciler, _) = env.reconciler(|_| {});
    let report = reconciler.pass().await;
    assert_eq!(report.adopted, 2, "{report:?}");
    let adopted = env.record(501).await.unwrap();
    assert_eq!(adopted.state, State::Launched);
    assert_eq!(adopted.hf_job_id, kept.hf_job_id);
    assert_eq!(adopted.runner_name, kept.runner_name);

    // The queued job's delivery comes again: its HF Job exists, so nothing new is made.
    let job = env.queued_job(501, LABELS);
    env.deliver(&dispatcher, "d-501-again", &job).await;
    let report = reconciler.pass().await;
    assert_eq!(report.adopted, 0, "{report:?}");
    env.wait_for_state(502, State::Cancelled).await;
    assert_eq!(
        hub_stage(&env, ended.hf_job_id.as_deref().unwrap()),
        "CANCELED"
    );
    assert_eq!(runner_id(&env, ended.runner_name.as_deref().unwrap()), None);
    assert_eq!(
        hub_stage(&env, kept.hf_job_id.as_deref().unwrap()),
        "SCHEDULING"
    );
    assert_eq!(env.hf_create_bodies().len(), 2, "no HF Job launched twice");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_runners_without_a_host_are_deleted_and_idle_spares_removed_runner_first() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    // A job another runner took leaves our runner as an idle spare.
    let spare = launched(&env, &dispatcher, 601).await;
    let job = env.queued_job(601, LABELS);
    env.deliver(&dispatcher, "d-601-ip", &job.in_progress("someone-else"))
        .await;
    env.wait_for_state(601, State::Running).await;
    let spare_runner = spare.runner_name.clone().unwrap();
    env.github
        .set_runner_status(runner_id(&env, &spare_runner).unwrap(), "online");
    // An offline runner of Ferry's that no HF Job hosts, and a busy one that must stay.
    let stale = env.github.add_runner(REPO, "ferry-1-2-1-abcdef", LABELS);
    env.github.set_runner_status(stale, "offline");
    let busy = env.github.add_runner(REPO, "ferry-1-3-1-fedcba", LABELS);
    env.github.mark_busy(busy, true);
    // Someone else's runner is never Ferry's business.
    let foreign = env.github.add_runner(REPO, "gpu-box-1", LABELS);
    env.github.set_runner_status(foreign, "offline");

    let (reconciler, _) = env.reconciler(|r| {
        r.idle_timeout = Duration::from_secs(3600);
        r.ended_grace = Duration::ZERO;
    });
    let report = reconciler.pass().await;
    assert_eq!(report.runners_deleted, 1, "{report:?}");
    let names: Vec<String> = env.github.runners().into_iter().map(|r| r.name).collect();
    assert!(
        !names.contains(&"ferry-1-2-1-abcdef".to_owned()),
        "{names:?}"
    );
    assert!(
        names.contains(&spare_runner),
        "the spare is within its idle time"
    );
    assert!(
        names.contains(&"ferry-1-3-1-fedcba".to_owned()),
        "busy: kept"
    );
    assert!(names.contains(&"gpu-box-1".to_owned()), "not Ferry's: kept");

    let (reconciler, _) = env.reconciler(|r| r.idle_timeout = Duration::ZERO);
    let report = reconciler.pass().await;
    assert_eq!(
        (report.runners_deleted, report.hf_jobs_cancelled),
        (1, 1),
        "{report:?}"
    );
    assert_eq!(runner_id(&env, &spare_runner), None);
    assert_eq!(
        hub_stage(&env, spare.hf_job_id.as_deref().unwrap()),
        "CANCELED"
    );
    // GitHub's log shows the runner went before its HF Job.
    let delete_at = env
        .github
        .server
        .requests()
        .iter()
        .position(|r| r.method == "DELETE" && r.path.contains("/actions/runners/"));
    let cancel_at = env
        .hub
        .server
        .requests()
        .iter()
        .position(|r| r.method == "POST" && r.path.ends_with("/cancel"));
    assert!(delete_at.is_some() && cancel_at.is_some());
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hf_job_outliving_its_finished_github_job_is_cancelled_after_the_grace() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    let record = launched(&env, &dispatcher, 701).await;
    let runner = record.runner_name.clone().unwrap();
    let job = env.queued_job(701, LABELS);
    env.deliver(&dispatcher, "d-701-ip", &job.in_progress(&runner))
        .await;
    env.deliver(
        &dispatcher,
        "d-701-c",
        &job.completed(Some(&runner), "success"),
    )
    .await;
    env.wait_for_state(701, State::Finished).await;
    let hf_job = record.hf_job_id.as_deref().unwrap();

    let (patient, _) = env.reconciler(|r| r.ended_grace = Duration::from_secs(3600));
    let report = patient.pass().await;
    assert_eq!(report.hf_jobs_cancelled, 0, "{report:?}");
    assert_eq!(hub_stage(&env, hf_job), "SCHEDULING");

    let (reconciler, _) = env.reconciler(|r| r.ended_grace = Duration::ZERO);
    let report = reconciler.pass().await;
    assert_eq!(report.hf_jobs_cancelled, 1, "{report:?}");
    assert_eq!(hub_stage(&env, hf_job), "CANCELED");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_pauses_jobs_turns_readyz_red_and_they_start_once_it_works() {
    let env = Env::new();
    let dispatcher = env
        .start_tuned(BTreeMap::new(), |tuning| {
            tuning.reconcile.interval = Duration::from_millis(300);
            tuning.probe_interval = Duration::from_secs(3600);
        })
        .await;
    env.hub.inject(
        Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
            .times(1)
            .status(401)
            .message("Invalid credentials in Authorization header"),
    );
    let job = env.queued_job(801, LABELS);
    env.deliver(&dispatcher, "d-801", &job).await;
    let paused = env.wait_for_state(801, State::Paused).await;
    assert!(paused.reason.unwrap().contains("HF_TOKEN"));
    let ready = env
        .client
        .get(format!("{}/readyz", dispatcher.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert!(body["problems"].to_string().contains("HF_TOKEN"), "{body}");

    // The token works again: the next reconcile pass starts the job, and readiness clears.
    let record = env.wait_for_state(801, State::Launched).await;
    assert_eq!(record.launches, 1);
    wait_until("readyz no longer names the token", || async {
        let body: serde_json::Value = env
            .client
            .get(format!("{}/readyz", dispatcher.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        !body["problems"].to_string().contains("HF_TOKEN")
    })
    .await;
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_slower_than_its_lease_keeps_it_and_makes_one_hf_job() {
    let env = Env::new();
    let dispatcher = env
        .start_tuned(BTreeMap::new(), |tuning| {
            tuning.launch.lease = Duration::from_millis(300);
            tuning.launch.idle_poll = Duration::from_millis(50);
        })
        .await;
    env.hub.inject(
        Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
            .times(1)
            .delay(Duration::from_millis(1500)),
    );
    env.github.inject(
        Fault::on(
            "POST",
            &env.github
                .path("/repos/octo/ml/actions/runners/generate-jitconfig"),
        )
        .times(1)
        .delay(Duration::from_millis(900)),
    );
    let job = env.queued_job(901, LABELS);
    env.deliver(&dispatcher, "d-901", &job).await;
    let record = env.wait_for_state(901, State::Launched).await;
    // Give a second claimant every chance to show up.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(env.hf_create_bodies().len(), 1);
    assert_eq!(env.github.runners().len(), 1);
    assert_eq!(env.record(901).await.unwrap().hf_job_id, record.hf_job_id);
    assert_eq!(record.lease_token, 1, "claimed once");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_stops_when_its_record_leaves_launching_and_leaves_no_hf_job() {
    let env = Env::new();
    let dispatcher = env
        .start_tuned(BTreeMap::new(), |tuning| {
            tuning.launch.lease = Duration::from_millis(300);
        })
        .await;
    env.hub.inject(
        Fault::on("GET", &format!("/api/jobs/{NAMESPACE}"))
            .times(1)
            .delay(Duration::from_millis(1200)),
    );
    let job = env.queued_job(1001, LABELS);
    env.deliver(&dispatcher, "d-1001", &job).await;
    env.wait_for_state(1001, State::Launching).await;
    env.deliver(&dispatcher, "d-1001-c", &job.completed(None, "cancelled"))
        .await;
    env.wait_for_state(1001, State::Cancelled).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(env.hf_create_bodies().is_empty(), "no orphan HF Job");
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_store_scans_github_for_queued_jobs_nobody_told_us_about() {
    let env = Env::new();
    env.queued_job(1101, LABELS);
    env.github.add_workflow_run(
        REPO,
        testkit::github::FakeWorkflowRun::queued(9_000_000_001, "push", REPO),
    );
    // Jobs that are not Ferry's are left alone.
    env.github.add_job(
        REPO,
        testkit::github::FakeJob::queued(1102, 9_000_000_001, &["ubuntu-latest"]),
    );
    let dispatcher = env.start_quiet().await;
    let record = env.wait_for_state(1101, State::Launched).await;
    assert_eq!(record.installation_id, Some(INSTALLATION));
    assert_eq!(
        record.flavor.as_deref(),
        Some("t4-small"),
        "caps count a scanned job under its flavor"
    );
    assert!(env.record(1102).await.is_none());
    assert_eq!(env.hf_create_bodies().len(), 1);
    dispatcher.stop().await;

    // A store that is not empty is not scanned again.
    let scans = || {
        env.github
            .server
            .requests_to("GET", &env.github.path("/installation/repositories"))
            .len()
    };
    let before = scans();
    assert_eq!(before, 1);
    let dispatcher = env.start_quiet().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(scans(), before);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_to_a_lost_store_takes_over_the_hf_job_and_its_runner_name() {
    let env = Env::new();
    let dispatcher = env.start_quiet().await;
    let kept = launched(&env, &dispatcher, 1201).await;
    dispatcher.stop().await;
    std::fs::remove_dir_all(env.state_dir.path()).unwrap();

    // The job's delivery comes again before any reconcile pass.
    let dispatcher = env.start_quiet().await;
    let job = env.queued_job(1201, LABELS);
    env.deliver(&dispatcher, "d-1201-again", &job).await;
    let record = env.wait_for_state(1201, State::Launched).await;
    assert_eq!(
        record.hf_job_id, kept.hf_job_id,
        "the existing HF Job, not a new one"
    );
    assert_eq!(
        record.runner_name, kept.runner_name,
        "the runner its HF Job hosts, not this claim's new name"
    );
    assert_eq!(env.hf_create_bodies().len(), 1);
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_takes_back_the_leases_of_the_process_that_died() {
    let env = Env::new();
    env.queued_job(1301, LABELS);
    {
        // A process claimed the job with a long lease and died.
        let store = dispatch::store::SqliteStore::open(
            env.state_dir.path(),
            Box::new(dispatch::launcher::runner_name),
        )
        .unwrap();
        let facts = dispatch::model::JobFacts {
            key: dispatch::model::JobKey {
                repo: REPO.into(),
                job_id: 1301,
                run_attempt: 1,
            },
            run_id: 9_000_000_001,
            installation_id: Some(INSTALLATION),
            labels: LABELS.iter().map(|l| l.to_string()).collect(),
            workflow_name: None,
            job_name: None,
            head_sha: None,
            flavor: None,
        };
        use dispatch::store::Store;
        store
            .ingest(
                "d-1301",
                "workflow_job",
                Some((facts, dispatch::model::Observation::Queued)),
                dispatch::model::now_ms(),
            )
            .await
            .unwrap();
        let claimed = store
            .claim_next(dispatch::model::now_ms(), 3_600_000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(claimed.state, State::Launching);
    }
    let dispatcher = env.start_quiet().await;
    let record = env.wait_for_state(1301, State::Launched).await;
    assert!(
        record.lease_token >= 2,
        "claimed again at once, not in an hour"
    );
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scan_owed_by_a_lost_store_happens_even_if_a_webhook_is_recorded_first() {
    let env = Env::new();
    env.queued_job(1401, LABELS);
    env.github.add_workflow_run(
        REPO,
        testkit::github::FakeWorkflowRun::queued(9_000_000_001, "push", REPO),
    );
    {
        // The previous start found the store empty, then died before its scan; a delivery
        // for another job was recorded meanwhile.
        use dispatch::store::Store;
        let store = env.store();
        assert!(
            dispatch::sweeper::DeliverySweeper::note_empty_store(&store)
                .await
                .unwrap()
        );
        store
            .ingest("d-other", "workflow_job", None, dispatch::model::now_ms())
            .await
            .unwrap();
        let mut record = dispatch::model::JobRecord::new(
            &dispatch::model::JobFacts {
                key: dispatch::model::JobKey {
                    repo: REPO.into(),
                    job_id: 1402,
                    run_attempt: 1,
                },
                run_id: 1,
                installation_id: Some(INSTALLATION),
                labels: vec![],
                workflow_name: None,
                job_name: None,
                head_sha: None,
                flavor: None,
            },
            0,
        );
        record.state = State::Finished;
        assert!(store.adopt(record).await.unwrap());
        assert!(!store.is_empty().await.unwrap());
    }
    let dispatcher = env.start_quiet().await;
    env.wait_for_state(1401, State::Launched).await;
    dispatcher.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_finds_queued_jobs_of_runs_already_in_progress() {
    let env = Env::new();
    env.queued_job(1501, LABELS);
    env.github.add_workflow_run(
        REPO,
        testkit::github::FakeWorkflowRun::queued(9_000_000_001, "push", REPO)
            .with_status("in_progress", None),
    );
    let dispatcher = env.start_quiet().await;
    env.wait_for_state(1501, State::Launched).await;
    dispatcher.stop().await;
}
