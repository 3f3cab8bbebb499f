//! The whole Ferry flow in one process, against the `testkit` fakes of GitHub and the Hub.
//!
//! `cargo run -p ferry-examples --example demo` starts a fake GitHub and a fake Hugging Face
//! Hub on loopback, runs the real dispatcher against them, and walks two jobs through it: one
//! that runs, and one cancelled before its runner starts. Nothing leaves the machine.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use dispatch::model::{JobKey, JobRecord, State};
use dispatch::store::{SqliteStore, Store};
use secrecy::SecretString;
use testkit::deliveries::WorkflowJob;
use testkit::github::FakeJob;
use testkit::{FakeGitHub, FakeHub};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "demo-webhook-secret";
const REPO: &str = "octo/ml";

// Crate-visible so that `tests/examples.rs` runs the demo too.
#[tokio::main]
pub(crate) async fn main() {
    let github = FakeGitHub::start();
    github.add_installation(42, "octo", &[REPO]);
    let hub = FakeHub::start("hf_demo_token", "ferry-demo");
    let state = tempfile::tempdir().expect("temporary directory");
    println!(
        "1. fake GitHub at {} and fake Hub at {}",
        github.base_url(),
        hub.base_url()
    );

    let env =
        testkit::dispatcher::environment(&github, &hub, state.path(), SECRET, "hf_demo_token");
    let settings = dispatch::config::load(&dispatch::config::Sources {
        env,
        ..Default::default()
    })
    .expect("demo settings are valid");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let shutdown = CancellationToken::new();
    let service = tokio::spawn(dispatch::service::run(
        settings,
        listener,
        shutdown.clone(),
        |_| {},
    ));
    let client = reqwest::Client::new();
    wait(|| async { client.get(format!("{url}/healthz")).send().await.is_ok() }).await;
    println!(
        "2. dispatcher listening at {url}, state in {}",
        state.path().display()
    );

    // A job that runs.
    let labels = ["self-hosted", "hf-jobs-t4-small"];
    github.add_job(REPO, FakeJob::queued(1001, 77, &labels));
    let job = WorkflowJob::queued(REPO, 1001, 77, &labels);
    let started = Instant::now();
    let status = deliver(&client, &url, "demo-1", &job).await;
    println!(
        "3. GitHub sends `workflow_job queued` for {labels:?}: answered {status} in {:?}",
        started.elapsed()
    );
    let launched = wait_for(&state, 1001, State::Launched).await;
    println!(
        "4. launched: runner {} registered on GitHub, HF Job {} on {} ({:?} after the webhook)",
        launched.runner_name.as_deref().unwrap_or("?"),
        launched.hf_job_id.as_deref().unwrap_or("?"),
        hub.job(launched.hf_job_id.as_deref().unwrap_or(""))
            .map(|j| j["flavor"].to_string())
            .unwrap_or_default(),
        started.elapsed()
    );
    let runner = launched.runner_name.clone().unwrap_or_default();
    deliver(&client, &url, "demo-2", &job.in_progress(&runner)).await;
    wait_for(&state, 1001, State::Running).await;
    println!("5. `in_progress`: the runner {runner} took the job");
    deliver(
        &client,
        &url,
        "demo-3",
        &job.completed(Some(&runner), "success"),
    )
    .await;
    wait_for(&state, 1001, State::Finished).await;
    println!("6. `completed`: finished with success; the ephemeral runner is gone with its HF Job");

    // A job cancelled before its runner starts.
    github.add_job(REPO, FakeJob::queued(1002, 78, &labels));
    let cancelled = WorkflowJob::queued(REPO, 1002, 78, &labels);
    deliver(&client, &url, "demo-4", &cancelled).await;
    let launched = wait_for(&state, 1002, State::Launched).await;
    deliver(
        &client,
        &url,
        "demo-5",
        &cancelled.completed(None, "cancelled"),
    )
    .await;
    let record = wait_for(&state, 1002, State::Cancelled).await;
    println!(
        "7. a second job was cancelled before pickup: runner {} deleted ({}), then HF Job {} {}",
        launched.runner_name.as_deref().unwrap_or("?"),
        if github
            .runners()
            .iter()
            .any(|r| Some(&r.name) == launched.runner_name.as_ref())
        {
            "still registered!"
        } else {
            "gone"
        },
        launched.hf_job_id.as_deref().unwrap_or("?"),
        hub.job(record.hf_job_id.as_deref().unwrap_or(""))
            .map(|j| j["status"]["stage"].to_string())
            .unwrap_or_default()
    );
    let again = deliver(&client, &url, "demo-1", &job).await;
    println!("8. GitHub redelivers the first delivery: answered {again}, nothing launched twice");

    shutdown.cancel();
    let _ = service.await;
    println!(
        "9. dispatcher stopped; {} HF Jobs were created in all",
        hub.with_state(|s| s.jobs.len())
    );
}

async fn deliver(client: &reqwest::Client, url: &str, id: &str, job: &WorkflowJob) -> u16 {
    let body = job.body();
    let signature = github_webhook::sign(&SecretString::from(SECRET), &body);
    client
        .post(format!("{url}/webhook"))
        .header("X-GitHub-Event", "workflow_job")
        .header("X-GitHub-Delivery", id)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .map(|answer| answer.status().as_u16())
        .unwrap_or(0)
}

async fn wait_for(state: &tempfile::TempDir, job_id: u64, wanted: State) -> JobRecord {
    let store = SqliteStore::open(state.path(), Box::new(|_| String::new())).expect("store");
    let key = JobKey {
        repo: REPO.into(),
        job_id,
        run_attempt: 1,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(record)) = store.get(&key).await
            && record.state == wanted
        {
            return record;
        }
        assert!(
            Instant::now() < deadline,
            "job {job_id} never reached {wanted:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn wait<F, Fut>(mut ready: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    while !ready().await {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
