//! Crash tests: the real binary killed with SIGKILL at pseudo-random moments during a burst of
//! queued jobs, restarted on the same state directory, and on an empty one. Whatever the
//! moments, every queued job ends with exactly one HF Job.
//!
//! The kill points, pauses and the order of deliveries come from a seed printed by each test;
//! `FERRY_CRASH_SEED=<seed>` replays them (thread timing still varies from run to run).
//!
//! A restart takes back the killed worker's leases at once (the embedded store has one
//! process), so both tests end within seconds of their last restart.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use dispatch::model::State;
use dispatch::store::{SqliteStore, Store};
use testkit::deliveries::WorkflowJob;
use testkit::github::{FakeJob, FakeWorkflowRun};
use testkit::{FakeGitHub, FakeHub, Fault};

const REPO: &str = "octo/ml";
const INSTALLATION: u64 = 42;
const WEBHOOK_SECRET: &str = "whsec-ferry-crash-5d2e";
const HF_TOKEN: &str = "hf_crashTokenThatMustNeverLeak0123456789";
const NAMESPACE: &str = "ferry-ci";
const LABELS: &[&str] = &["self-hosted", "hf-jobs-t4-small"];
/// Jobs in a burst, spread over this many workflow runs.
const JOBS: u64 = 150;
const RUNS: u64 = 5;
const FIRST_JOB: u64 = 7_300_000_001;
const FIRST_RUN: u64 = 9_300_000_001;
/// Threads sending the burst, and the pause each makes between two deliveries.
const SENDERS: usize = 4;
const PACE: Duration = Duration::from_millis(25);
/// Launch workers, and how long the Hub takes to create an HF Job: launches fall behind the
/// burst, so a kill finds jobs acknowledged but not launched, and launches half made.
const CONCURRENCY: &str = "4";
const HF_CREATE_DELAY: Duration = Duration::from_millis(30);
/// How long after the last restart every job must have its one HF Job: a restart takes back
/// the killed worker's leases, so nothing waits out a lease (120 s).
const SETTLE: Duration = Duration::from_secs(45);

/// A small deterministic generator (Knuth's MMIX LCG): no crate needed.
struct Lcg(u64);

impl Lcg {
    /// From `FERRY_CRASH_SEED`, else from the clock; the seed is printed to replay a failure.
    fn seeded(test: &str) -> Self {
        let seed = std::env::var("FERRY_CRASH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        eprintln!("{test}: FERRY_CRASH_SEED={seed}");
        Self(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform enough in `low..high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low).max(1)
    }

    fn millis(&mut self, low: u64, high: u64) -> Duration {
        Duration::from_millis(self.between(low, high))
    }

    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.between(0, i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// The fakes, the state directory and the port every start of the binary shares.
struct World {
    github: FakeGitHub,
    hub: FakeHub,
    /// Holds the state directory and the logs of every start.
    dir: tempfile::TempDir,
    port: u16,
    starts: AtomicUsize,
    runtime: tokio::runtime::Runtime,
}

impl World {
    fn new() -> Self {
        let github = FakeGitHub::start();
        github.add_installation(INSTALLATION, "octo", &[REPO]);
        // A kill leaves deliveries unanswered; GitHub gives up after 10 s, the fake sooner.
        github.set_webhook_timeout(Duration::from_secs(5));
        let hub = FakeHub::start(HF_TOKEN, NAMESPACE);
        hub.inject(
            Fault::on("POST", &format!("/api/jobs/{NAMESPACE}"))
                .delay(HF_CREATE_DELAY)
                .times(usize::MAX),
        );
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        github.set_webhook(&format!("http://127.0.0.1:{port}/webhook"), WEBHOOK_SECRET);
        Self {
            github,
            hub,
            dir: tempfile::tempdir().unwrap(),
            port,
            starts: AtomicUsize::new(0),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
        }
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// Starts `dispatcher serve` on the shared port and state directory, without waiting.
    fn start(&self) -> Running {
        let start = self.starts.fetch_add(1, Ordering::SeqCst) + 1;
        let log = self.dir.path().join(format!("start-{start}.log"));
        let env = testkit::dispatcher::environment(
            &self.github,
            &self.hub,
            &self.state_dir(),
            WEBHOOK_SECRET,
            HF_TOKEN,
        );
        let child = Command::new(env!("CARGO_BIN_EXE_dispatcher"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env)
            .env("PORT", self.port.to_string())
            .env("LOG_FORMAT", "text")
            .env("RECONCILE_INTERVAL", "1")
            .env("DELIVERY_SWEEP_INTERVAL", "1")
            .env("SHUTDOWN_GRACE", "5")
            .env("DISPATCHER_CONCURRENCY", CONCURRENCY)
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Running {
            child: Some(child),
            port: self.port,
            log,
        }
    }

    /// Adds the job to GitHub (as queued), then delivers its `queued` webhook.
    fn queue(&self, job_id: u64) {
        let run_id = run_of(job_id);
        self.github
            .add_job(REPO, FakeJob::queued(job_id, run_id, LABELS));
        let body = WorkflowJob::queued(REPO, job_id, run_id, LABELS).body();
        self.github
            .send_webhook("workflow_job", Some("queued"), body, Some(INSTALLATION));
    }

    /// Every job id of the burst once, and about 30% of them a second time, shuffled.
    fn burst(rng: &mut Lcg) -> Vec<u64> {
        let mut sends: Vec<u64> = (0..JOBS).map(|i| FIRST_JOB + i).collect();
        for i in 0..JOBS {
            if rng.between(0, 100) < 30 {
                sends.push(FIRST_JOB + i);
            }
        }
        rng.shuffle(&mut sends);
        sends
    }

    /// Sends `sends` from [`SENDERS`] threads while `meanwhile` runs on this one, which gets
    /// how many deliveries were made so far and whether the senders are done.
    fn send_burst(&self, sends: &[u64], meanwhile: impl FnOnce(&dyn Fn() -> (usize, bool))) {
        let sent = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for share in 0..SENDERS {
                let (sent, done) = (&sent, &done);
                scope.spawn(move || {
                    for job_id in sends.iter().skip(share).step_by(SENDERS) {
                        self.queue(*job_id);
                        sent.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(PACE);
                    }
                    done.fetch_add(1, Ordering::SeqCst);
                });
            }
            meanwhile(&|| {
                (
                    sent.load(Ordering::SeqCst),
                    done.load(Ordering::SeqCst) == SENDERS,
                )
            });
        });
    }

    /// HF Jobs on the Hub by their `ferry.key` label.
    fn hf_jobs_by_key(&self) -> HashMap<String, usize> {
        let mut by_key = HashMap::new();
        self.hub.with_state(|s| {
            for job in s.jobs.values() {
                let key = job["labels"]["ferry.key"].as_str().unwrap_or("(none)");
                *by_key.entry(key.to_owned()).or_insert(0) += 1;
            }
        });
        by_key
    }

    /// Waits, up to `limit`, until every job of the burst has exactly one HF Job and the store
    /// holds every job as launched (so no work is left that could create another); fails at
    /// once on a second HF Job for any job.
    fn wait_for_one_hf_job_each(&self, limit: Duration, running: &Running) {
        let deadline = Instant::now() + limit;
        // Beside the running dispatcher, as SQLite allows; read only.
        let store = SqliteStore::open(&self.state_dir(), Box::new(|_| String::new()))
            .expect("the state store opens beside the dispatcher");
        let mut settled_at: Option<Instant> = None;
        let mut reported = Instant::now();
        loop {
            let by_key = self.hf_jobs_by_key();
            let (missing, duplicated) = tally(&by_key);
            assert!(
                duplicated.is_empty(),
                "jobs with more than one HF Job: {duplicated:?}\n{}",
                self.diagnosis(
                    running,
                    &duplicated.iter().map(|(id, _)| *id).collect::<Vec<_>>()
                )
            );
            let counts = self
                .runtime
                .block_on(store.counts())
                .expect("the state store reads");
            let all_launched = counts.len() == 1 && counts.get(&State::Launched) == Some(&JOBS);
            if reported.elapsed() >= Duration::from_secs(10) {
                reported = Instant::now();
                eprintln!(
                    "waiting: {} jobs without an HF Job; store: {counts:?}",
                    missing.len()
                );
            }
            if missing.is_empty() && all_launched && by_key.len() == JOBS as usize {
                // Held for a few reconcile and sweep passes: nothing may add a second one.
                match settled_at {
                    Some(at) if at.elapsed() >= Duration::from_secs(3) => return,
                    Some(_) => {}
                    None => settled_at = Some(Instant::now()),
                }
            } else {
                settled_at = None;
            }
            assert!(
                Instant::now() < deadline,
                "after {limit:?}: {} jobs without an HF Job {missing:?}; HF Jobs not of the \
                 burst: {:?}; store: {counts:?}\n{}",
                missing.len(),
                by_key
                    .keys()
                    .filter(|k| !is_burst_key(k))
                    .collect::<Vec<_>>(),
                self.diagnosis(running, &missing)
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// What a failure message needs: the deliveries of `jobs`, what each start of the
    /// dispatcher did (counted from its log) and the end of each log.
    fn diagnosis(&self, running: &Running, jobs: &[u64]) -> String {
        let deliveries = self.github.deliveries();
        let failed = deliveries
            .iter()
            .filter(|d| !(200..300).contains(&d.status_code))
            .count();
        let mut text = format!(
            "deliveries: {} ({failed} not accepted); redelivery requests: {}; the dispatcher \
             is {}\n",
            deliveries.len(),
            self.github.redelivery_requests().len(),
            if running.child.is_some() {
                "running"
            } else {
                "stopped"
            }
        );
        for job_id in jobs.iter().take(10) {
            // Job ids appear in no other field of the payload.
            let answers: Vec<String> = deliveries
                .iter()
                .filter(|d| {
                    d.payload
                        .as_ref()
                        .is_some_and(|p| String::from_utf8_lossy(p).contains(&job_id.to_string()))
                })
                .map(|d| {
                    let again = if d.redelivery { " (redelivery)" } else { "" };
                    format!("#{} {}{again}", d.id, d.status_code)
                })
                .collect();
            text.push_str(&format!("job {job_id}: deliveries {answers:?}\n"));
        }
        const EVENTS: &[&str] = &[
            "delivery recorded",
            "empty store: scanned GitHub",
            "asked GitHub to redeliver",
            "adopted an HF Job",
            "found the HF Job of an earlier attempt",
            "runner launched",
        ];
        for start in 1..=self.starts.load(Ordering::SeqCst) {
            let path = self.dir.path().join(format!("start-{start}.log"));
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let counts: Vec<String> = EVENTS
                .iter()
                .map(|event| {
                    let n = lines.iter().filter(|l| l.contains(event)).count();
                    format!("{event}: {n}")
                })
                .collect();
            let tail = &lines[lines.len().saturating_sub(25)..];
            text.push_str(&format!(
                "--- start {start}: {} log lines; {} ---\n{}\n",
                lines.len(),
                counts.join(", "),
                tail.join("\n")
            ));
        }
        text
    }
}

fn run_of(job_id: u64) -> u64 {
    FIRST_RUN + (job_id - FIRST_JOB) % RUNS
}

fn is_burst_key(key: &str) -> bool {
    key.strip_suffix("-1")
        .and_then(|id| id.parse::<u64>().ok())
        .is_some_and(|id| (FIRST_JOB..FIRST_JOB + JOBS).contains(&id))
}

/// Jobs of the burst with no HF Job, and those with more than one (with their count).
fn tally(by_key: &HashMap<String, usize>) -> (Vec<u64>, Vec<(u64, usize)>) {
    let mut missing = Vec::new();
    let mut duplicated = Vec::new();
    for job_id in FIRST_JOB..FIRST_JOB + JOBS {
        match by_key.get(&format!("{job_id}-1")).copied().unwrap_or(0) {
            0 => missing.push(job_id),
            1 => {}
            n => duplicated.push((job_id, n)),
        }
    }
    (missing, duplicated)
}

/// One start of the binary; killed on drop, so a failing test leaves no process behind.
struct Running {
    child: Option<Child>,
    port: u16,
    log: PathBuf,
}

impl Running {
    /// Waits until `/healthz` answers 200.
    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if dispatch::service::answers_healthz(self.port) {
                return;
            }
            let child = self.child.as_mut().expect("a running dispatcher");
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "the dispatcher exited with {status} before it was healthy:\n{}",
                    read(&self.log)
                );
            }
            assert!(
                Instant::now() < deadline,
                "the dispatcher never answered /healthz:\n{}",
                read(&self.log)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    fn kill(&mut self) {
        let mut child = self.child.take().expect("a running dispatcher");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the dispatcher died before it was killed:\n{}",
            read(&self.log)
        );
        child.kill().unwrap();
        let status = child.wait().unwrap();
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(9), "{status}");
    }

    /// SIGTERM, then waits for a clean exit.
    fn terminate(mut self) {
        let mut child = self.child.take().expect("a running dispatcher");
        let sent = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "the dispatcher did not stop on SIGTERM:\n{}",
                    read(&self.log)
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status}:\n{}", read(&self.log));
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Waits until `progress` says `threshold` deliveries were made or the senders are done.
fn wait_for_sends(progress: &dyn Fn() -> (usize, bool), threshold: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let (sent, done) = progress();
        if sent >= threshold || done {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the burst stalled before {threshold} deliveries");
}

#[test]
fn sigkill_during_a_burst_and_restarts_on_the_same_state_directory_leave_one_hf_job_per_job() {
    let mut rng = Lcg::seeded("same state directory");
    let world = World::new();
    let mut running = world.start();
    running.wait_healthy();
    let sends = World::burst(&mut rng);
    let total = sends.len();
    let kills = rng.between(2, 4) as usize;
    // Kill points spread over the burst: each in its own slice of it.
    let thresholds: Vec<usize> = (0..kills)
        .map(|k| {
            let slice = total * 8 / 10 / kills;
            total / 10 + k * slice + rng.between(0, slice as u64) as usize
        })
        .collect();
    world.send_burst(&sends, |progress| {
        for threshold in &thresholds {
            wait_for_sends(progress, *threshold);
            std::thread::sleep(rng.millis(0, 60));
            running.kill();
            // Down for a while: deliveries fail, as GitHub records them (status code 0).
            std::thread::sleep(rng.millis(50, 400));
            running = world.start();
        }
    });
    running.wait_healthy();
    let failed = world
        .github
        .deliveries()
        .iter()
        .filter(|d| d.status_code == 0)
        .count();
    eprintln!(
        "{total} deliveries of {JOBS} jobs, {kills} kills at {thresholds:?}, {failed} failed to connect"
    );
    world.wait_for_one_hf_job_each(SETTLE, &running);
    running.terminate();
}

#[test]
fn sigkill_during_a_burst_and_a_restart_on_an_empty_state_directory_leave_one_hf_job_per_job() {
    let mut rng = Lcg::seeded("empty state directory");
    let world = World::new();
    // The empty store's scan finds queued jobs through the runs that are queued or in
    // progress. One run is in progress and its jobs are all launched before the kill: the
    // scan and the adoption from HF Job labels both find them, and neither may launch again.
    let in_progress_run = FIRST_RUN + RUNS - 1;
    for run in FIRST_RUN..FIRST_RUN + RUNS {
        let mut listed = FakeWorkflowRun::queued(run, "push", REPO);
        if run == in_progress_run {
            listed = listed.with_status("in_progress", None);
        }
        world.github.add_workflow_run(REPO, listed);
    }
    let mut running = world.start();
    running.wait_healthy();
    let mut sends = World::burst(&mut rng);
    // Stable: the in-progress run's deliveries first, each part still shuffled.
    sends.sort_by_key(|job_id| run_of(*job_id) != in_progress_run);
    let total = sends.len();
    let threshold = total * 35 / 100 + rng.between(0, total as u64 * 30 / 100) as usize;
    let state_dir = world.state_dir();
    let mut hf_jobs_at_kill = 0;
    world.send_burst(&sends, |progress| {
        wait_for_sends(progress, threshold);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let launched = world.hf_jobs_by_key();
            if (FIRST_JOB..FIRST_JOB + JOBS)
                .filter(|job_id| run_of(*job_id) == in_progress_run)
                .all(|job_id| launched.contains_key(&format!("{job_id}-1")))
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the in-progress run's jobs were not all launched before the kill\n{}",
                world.diagnosis(&running, &[])
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(rng.millis(0, 60));
        running.kill();
        hf_jobs_at_kill = world.hub.with_state(|s| s.jobs.len());
        std::fs::remove_dir_all(&state_dir).unwrap();
        // Down for a while: deliveries fail, as GitHub records them (status code 0).
        std::thread::sleep(rng.millis(50, 400));
        running = world.start();
    });
    running.wait_healthy();
    eprintln!(
        "{total} deliveries of {JOBS} jobs, killed after {threshold} with {hf_jobs_at_kill} \
         HF Jobs, state directory deleted"
    );
    // The new store knows no lease of the killed worker: nothing to wait out. Every job must
    // be recorded as launched again (so the in-progress run's jobs were adopted), none twice.
    world.wait_for_one_hf_job_each(Duration::from_secs(45), &running);
    running.terminate();
}
