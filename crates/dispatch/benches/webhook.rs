//! Webhook answer latency and launch throughput of the real dispatcher against the fakes.
//!
//! `cargo bench -p dispatch --bench webhook` prints a table. Everything runs on loopback: the
//! dispatcher's HTTP server and workers, `FakeGitHub` and `FakeHub`. The figures measure
//! Ferry's own overhead (verification, the durable SQLite write, the launch pipeline), not
//! GitHub's or HF's latency.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use dispatch::model::State;
use dispatch::store::{SqliteStore, Store};
use secrecy::SecretString;
use testkit::deliveries::WorkflowJob;
use testkit::github::FakeJob;
use testkit::{FakeGitHub, FakeHub};
use tokio_util::sync::CancellationToken;

const SECRET: &str = "bench-secret";
const REPO: &str = "octo/bench";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn rss_mib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} MiB", kb / 1024.0))
        .unwrap_or_else(|| "n/a".into())
}

async fn deliver(
    client: &reqwest::Client,
    url: &str,
    id: String,
    body: Vec<u8>,
) -> (u16, Duration) {
    let signature = github_webhook::sign(&SecretString::from(SECRET), &body);
    let started = Instant::now();
    let status = client
        .post(format!("{url}/webhook"))
        .header("X-GitHub-Event", "workflow_job")
        .header("X-GitHub-Delivery", id)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .map(|a| a.status().as_u16())
        .unwrap_or(0);
    (status, started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let jobs: u64 = std::env::var("BENCH_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let github = FakeGitHub::start();
    github.add_installation(42, "octo", &[REPO]);
    let hub = FakeHub::start("hf_bench", "bench");
    // With BENCH_HF_DELAY_MS, every job creation stalls: the answers must not.
    let hf_delay: u64 = std::env::var("BENCH_HF_DELAY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if hf_delay > 0 {
        let fault = testkit::Fault::on("POST", "/api/jobs/bench")
            .times(usize::MAX)
            .delay(Duration::from_millis(hf_delay));
        hub.inject(fault);
    }
    let state = tempfile::tempdir().unwrap();
    let env = testkit::dispatcher::environment(&github, &hub, state.path(), SECRET, "hf_bench");
    let settings = dispatch::config::load(&dispatch::config::Sources {
        env,
        ..Default::default()
    })
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let service = tokio::spawn(dispatch::service::run(
        settings,
        listener,
        shutdown.clone(),
        |_| {},
    ));
    let client = reqwest::Client::new();
    while client.get(format!("{url}/healthz")).send().await.is_err() {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let labels = ["self-hosted", "hf-jobs-cpu-basic"];
    let bodies: Vec<Vec<u8>> = (1..=jobs)
        .map(|id| {
            github.add_job(REPO, FakeJob::queued(id, 7, &labels));
            WorkflowJob::queued(REPO, id, 7, &labels).body()
        })
        .collect();

    // Sequential answers: the latency one delivery sees.
    let half = bodies.len() / 2;
    let started = Instant::now();
    let mut sequential = Vec::new();
    for (i, body) in bodies[..half].iter().enumerate() {
        let (status, took) = deliver(&client, &url, format!("seq-{i}"), body.clone()).await;
        assert_eq!(status, 202);
        sequential.push(took);
    }
    // Concurrent answers: 16 deliveries in flight at once.
    let mut concurrent = Vec::new();
    for chunk in bodies[half..]
        .chunks(16)
        .enumerate()
        .map(|(c, b)| (c, b.to_vec()))
    {
        let (c, batch) = chunk;
        let answers = futures_util::future::join_all(
            batch
                .into_iter()
                .enumerate()
                .map(|(i, body)| deliver(&client, &url, format!("con-{c}-{i}"), body)),
        )
        .await;
        for (status, took) in answers {
            assert_eq!(status, 202);
            concurrent.push(took);
        }
    }
    let store = SqliteStore::open(state.path(), Box::new(|_| String::new())).unwrap();
    loop {
        let counts = store.counts().await.unwrap();
        if counts.get(&State::Launched).copied().unwrap_or(0) == jobs {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let all_launched = started.elapsed();
    shutdown.cancel();
    let _ = service.await;
    assert_eq!(
        hub.with_state(|s| s.jobs.len()) as u64,
        jobs,
        "one HF Job per job"
    );

    sequential.sort();
    concurrent.sort();
    println!("| measure | value |");
    println!("|---|---|");
    println!(
        "| deliveries | {jobs} ({} sequential, {} at 16 in flight) |",
        sequential.len(),
        concurrent.len()
    );
    println!("| HF job creation delay injected | {hf_delay} ms |");
    println!(
        "| webhook answer p50, sequential | {} |",
        ms(percentile(&sequential, 0.5))
    );
    println!(
        "| webhook answer p99, sequential | {} |",
        ms(percentile(&sequential, 0.99))
    );
    println!(
        "| webhook answer p50, 16 in flight | {} |",
        ms(percentile(&concurrent, 0.5))
    );
    println!(
        "| webhook answer p99, 16 in flight | {} |",
        ms(percentile(&concurrent, 0.99))
    );
    println!(
        "| webhook answer max | {} |",
        ms(*sequential.last().unwrap().max(concurrent.last().unwrap()))
    );
    println!(
        "| all {jobs} launched after | {} ({:.0} launches/s) |",
        ms(all_launched),
        jobs as f64 / all_launched.as_secs_f64()
    );
    println!(
        "| peak RSS (dispatcher + both fakes + client, one process) | {} |",
        rss_mib()
    );
}
