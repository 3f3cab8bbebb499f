//! Soak: 2,000 jobs in random order, 30% of deliveries repeated (the same delivery again, or
//! a new delivery id for the same job), 10% of launch calls failing, and 5% of jobs whose
//! only delivery failed in GitHub's log. Every job must end with exactly one HF Job.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use dispatch::model::State;
use dispatch::store::Store;
use futures_util::StreamExt;
use testkit::Fault;
use testkit::deliveries::WorkflowJob;
use testkit::github::FakeJob;

use crate::harness::*;

const JOBS: u64 = 2_000;
const FIRST_JOB: u64 = 7_000_000_000;
const RUN_ID: u64 = 9_000_000_001;
const LABELS: &[&str] = &["self-hosted", "hf-jobs-cpu-basic"];

/// A small seeded generator: the same order on every run, no extra crate.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_jobs_with_repeats_failures_and_lost_deliveries_end_with_one_hf_job_each() {
    let env = Env::new();
    let mut random = Lcg(0x5eed_f00d);
    env.github.add_workflow_run(
        REPO,
        testkit::github::FakeWorkflowRun::queued(RUN_ID, "push", REPO),
    );
    env.github.with_state(|s| {
        for job_id in FIRST_JOB..FIRST_JOB + JOBS {
            s.jobs.insert(
                (REPO.to_owned(), job_id),
                FakeJob::queued(job_id, RUN_ID, LABELS),
            );
        }
    });

    // Deliveries: one per job; 5% only in GitHub's log as failed; 30% sent again.
    let mut sends: Vec<(String, u64)> = Vec::new();
    let mut lost = 0;
    for job_id in FIRST_JOB..FIRST_JOB + JOBS {
        let id = format!("soak-{job_id}");
        if random.below(100) < 5 {
            let payload = WorkflowJob::queued(REPO, job_id, RUN_ID, LABELS).body();
            let status = if random.below(2) == 0 { 0 } else { 503 };
            env.github.add_delivery_with_payload(
                "workflow_job",
                Some("queued"),
                payload,
                Some(INSTALLATION),
                status,
            );
            lost += 1;
            continue;
        }
        match random.below(100) {
            0..15 => sends.push((id.clone(), job_id)),
            15..30 => sends.push((format!("{id}-new-id"), job_id)),
            _ => {}
        }
        sends.push((id, job_id));
    }
    for i in (1..sends.len()).rev() {
        sends.swap(i, random.below(i as u64 + 1) as usize);
    }
    assert!(
        lost > 50,
        "some deliveries are only in GitHub's log: {lost}"
    );

    let dispatcher = env
        .start_tuned(BTreeMap::new(), |tuning| {
            tuning.reconcile.interval = Duration::from_millis(500);
            tuning.sweep.interval = Duration::from_millis(500);
            tuning.launch.retry_base = Duration::from_millis(20);
            tuning.launch.retry_max = Duration::from_millis(200);
        })
        .await;
    env.github
        .set_webhook(&format!("{}/webhook", dispatcher.url), WEBHOOK_SECRET);

    // About 10% of launch calls fail, in bursts spread over the run, on both services.
    let jit = env
        .github
        .path("/repos/octo/ml/actions/runners/generate-jitconfig");
    let create = format!("/api/jobs/{NAMESPACE}");
    let started = Instant::now();
    let total = sends.len();
    let answers: Vec<u16> = futures_util::stream::iter(sends.into_iter().enumerate())
        .map(|(i, (delivery, job_id))| {
            let env = &env;
            let dispatcher = &dispatcher;
            let (jit, create) = (&jit, &create);
            async move {
                if i % 100 == 0 {
                    let fault = match (i / 100) % 4 {
                        0 => Fault::on("POST", create).times(12).status(503),
                        1 => Fault::on("POST", create)
                            .times(12)
                            .status(429)
                            .retry_after(0),
                        2 => Fault::on("POST", jit).times(12).status(502),
                        _ => Fault::on("POST", create).times(12).status(500),
                    };
                    if fault_is_for_github(i) {
                        env.github.inject(fault);
                    } else {
                        env.hub.inject(fault);
                    }
                }
                let job = WorkflowJob::queued(REPO, job_id, RUN_ID, LABELS);
                env.deliver(dispatcher, &delivery, &job)
                    .await
                    .status()
                    .as_u16()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(answers.len(), total);
    assert!(
        answers.iter().all(|s| matches!(s, 200 | 202)),
        "every delivery acknowledged"
    );

    // Everything ends launched, each job with one HF Job: bounded wait.
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let counts = env.store().counts().await.expect("store readable");
        if counts.get(&State::Launched) == Some(&JOBS) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every job launched in time: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let elapsed = started.elapsed();
    let mut per_job: HashMap<String, usize> = HashMap::new();
    for job in env.hf_jobs() {
        let key = job["labels"]["ferry.key"].as_str().unwrap().to_owned();
        *per_job.entry(key).or_default() += 1;
    }
    assert_eq!(per_job.len(), JOBS as usize, "none missing");
    assert!(
        per_job.values().all(|&n| n == 1),
        "none duplicated: {:?}",
        per_job.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    let names: std::collections::HashSet<String> =
        env.github.runners().into_iter().map(|r| r.name).collect();
    let mut without_runner = Vec::new();
    for job_id in FIRST_JOB..FIRST_JOB + JOBS {
        let record = env.record(job_id).await.unwrap();
        if !names.contains(record.runner_name.as_deref().unwrap_or("")) {
            without_runner.push(job_id);
        }
    }
    assert!(
        without_runner.is_empty(),
        "every launched job keeps its runner: {without_runner:?}"
    );
    assert_eq!(names.len(), JOBS as usize, "one runner per job");
    assert!(
        !env.github.redelivery_requests().is_empty(),
        "the lost deliveries came back through the sweeper"
    );
    eprintln!(
        "soak: {JOBS} jobs, {total} deliveries, {lost} only in GitHub's log, all launched in {:.1}s",
        elapsed.as_secs_f64()
    );
    dispatcher.stop().await;
}

fn fault_is_for_github(i: usize) -> bool {
    (i / 100) % 4 == 2
}
