//! Starts the dispatcher against the fakes and sends it signed deliveries.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use dispatch::config::{self, Sources};
use dispatch::model::{JobKey, JobRecord, State};
use dispatch::store::{SqliteStore, Store};
use secrecy::SecretString;
use serde_json::Value;
use testkit::deliveries::WorkflowJob;
use testkit::github::{FakeJob, keys};
use testkit::{FakeGitHub, FakeHub};
use tokio_util::sync::CancellationToken;

pub const WEBHOOK_SECRET: &str = "whsec-ferry-e2e-8c1f";
pub const HF_TOKEN: &str = "hf_e2eTokenThatMustNeverLeak0123456789";
pub const NAMESPACE: &str = "ferry-ci";
pub const REPO: &str = "octo/ml";
pub const INSTALLATION: u64 = 42;

/// Everything the service logged, from every test of this binary.
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static BUFFER: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUFFER.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let writer = buffer.clone();
        let make_writer = move || BufferWriter(writer.clone());
        let _ = tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_env_filter("debug,actix_server=warn,hyper=info,reqwest=info,h2=info,rustls=info")
            .with_writer(make_writer)
            .try_init();
        buffer
    })
}

struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl Write for BufferWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub struct Dispatcher {
    pub url: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), dispatch::service::ServiceError>>,
}

impl Dispatcher {
    /// Stops as SIGTERM would and waits for the service to return.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task
            .await
            .expect("service task")
            .expect("service stopped cleanly");
    }
}

pub struct Env {
    /// The `FERRY_CONFIG` text of the last start, for the passes tests make beside it.
    pub config: Mutex<Option<String>>,
    pub github: FakeGitHub,
    pub hub: FakeHub,
    pub state_dir: tempfile::TempDir,
    pub client: reqwest::Client,
}

impl Env {
    pub fn new() -> Self {
        log_buffer();
        let github = FakeGitHub::start();
        github.add_installation(INSTALLATION, "octo", &[REPO]);
        let hub = FakeHub::start(HF_TOKEN, NAMESPACE);
        Self {
            config: Mutex::default(),
            github,
            hub,
            state_dir: tempfile::tempdir().unwrap(),
            client: reqwest::Client::new(),
        }
    }

    pub fn settings_env(&self) -> BTreeMap<String, String> {
        let secrets = format!("rotated-out-secret,{WEBHOOK_SECRET}");
        let mut env = testkit::dispatcher::environment(
            &self.github,
            &self.hub,
            self.state_dir.path(),
            &secrets,
            HF_TOKEN,
        );
        // As pasted into a Space's single-line field.
        env.insert(
            "GH_APP_PRIVATE_KEY".into(),
            keys::APP_PRIVATE_KEY_PKCS1.replace('\n', "\\n"),
        );
        for (key, value) in [
            ("RUNNER_IMAGE_CPU", "ghcr.io/ferry-ci/runner:test"),
            ("RUNNER_IMAGE_GPU", "ghcr.io/ferry-ci/runner:test-cuda"),
            ("JOB_TIMEOUT", "2h"),
            ("SHUTDOWN_GRACE", "5"),
        ] {
            env.insert(key.into(), value.into());
        }
        env
    }

    pub async fn start(&self) -> Dispatcher {
        self.start_with(BTreeMap::new()).await
    }

    pub async fn start_with(&self, extra: BTreeMap<String, String>) -> Dispatcher {
        self.start_tuned(extra, |_| {}).await
    }

    /// Starts with settings from `extra` and timings changed by `tune` (after the defaults
    /// every test gets: fast retries and polls).
    pub async fn start_tuned(
        &self,
        extra: BTreeMap<String, String>,
        tune: impl FnOnce(&mut dispatch::service::Tuning) + Send + 'static,
    ) -> Dispatcher {
        self.start_configured(extra, None, tune).await
    }

    /// Starts with a `FERRY_CONFIG` file (its flat keys and its `[policy]` table).
    pub async fn start_with_config(
        &self,
        file: &str,
        extra: BTreeMap<String, String>,
    ) -> Dispatcher {
        self.start_configured(extra, Some(file.to_owned()), |_| {})
            .await
    }

    pub async fn start_configured(
        &self,
        extra: BTreeMap<String, String>,
        file_text: Option<String>,
        tune: impl FnOnce(&mut dispatch::service::Tuning) + Send + 'static,
    ) -> Dispatcher {
        *self.config.lock().unwrap() = file_text.clone();
        let mut env = self.settings_env();
        env.extend(extra);
        let file = file_text
            .as_deref()
            .map(|text| config::parse_file(text).expect("valid FERRY_CONFIG"))
            .unwrap_or_default();
        let settings = config::load(&Sources {
            env,
            file,
            file_text,
            ..Default::default()
        })
        .expect("valid settings");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(dispatch::service::run(
            settings,
            listener,
            shutdown.clone(),
            move |tuning| {
                tuning.launch.retry_base = Duration::from_millis(50);
                tuning.launch.retry_max = Duration::from_millis(400);
                tuning.launch.idle_poll = Duration::from_millis(200);
                tune(tuning);
            },
        ));
        let dispatcher = Dispatcher {
            url,
            shutdown,
            task,
        };
        wait_until("the dispatcher answers /healthz", || async {
            self.client
                .get(format!("{}/healthz", dispatcher.url))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
        dispatcher
    }

    pub fn settings(&self) -> dispatch::config::Settings {
        let file_text = self.config.lock().unwrap().clone();
        let file = file_text
            .as_deref()
            .map(|text| config::parse_file(text).expect("valid FERRY_CONFIG"))
            .unwrap_or_default();
        config::load(&Sources {
            env: self.settings_env(),
            file,
            file_text,
            ..Default::default()
        })
        .expect("valid settings")
    }

    /// A reconciler beside the running service, on the same store and fakes, whose passes
    /// the test makes one at a time (the service's own runs only every hour in these tests).
    pub fn reconciler(
        &self,
        tune: impl FnOnce(&mut dispatch::reconciler::ReconcileSettings),
    ) -> (
        dispatch::reconciler::Reconciler,
        Arc<dispatch::health::Health>,
    ) {
        let settings = self.settings();
        let parts = dispatch::service::build_parts(&settings).expect("parts");
        let mut tuned = dispatch::service::tuning(&settings).reconcile;
        tune(&mut tuned);
        let reconciler = dispatch::reconciler::Reconciler::new(
            Arc::new(self.store()),
            parts.github,
            parts.hf,
            parts.health.clone(),
            tuned,
            Arc::new(tokio::sync::Notify::new()),
        );
        (reconciler, parts.health)
    }

    /// A delivery sweeper beside the running service, on the same store and fakes.
    pub fn sweeper(
        &self,
        tune: impl FnOnce(&mut dispatch::sweeper::SweepSettings),
    ) -> dispatch::sweeper::DeliverySweeper {
        let settings = self.settings();
        let parts = dispatch::service::build_parts(&settings).expect("parts");
        let mut tuned = dispatch::service::tuning(&settings).sweep;
        tune(&mut tuned);
        dispatch::sweeper::DeliverySweeper::new(
            Arc::new(self.store()),
            parts.github,
            tuned,
            Arc::new(tokio::sync::Notify::new()),
        )
    }

    /// Starts the service with its own reconciler and sweeper idle: tests drive passes. The
    /// sweeper's pass at start is over when this returns.
    pub async fn start_quiet(&self) -> Dispatcher {
        let log_reads = || {
            self.github
                .server
                .requests_to("GET", &self.github.path("/app/hook/deliveries"))
                .len()
        };
        let before = log_reads();
        let dispatcher = self
            .start_tuned(BTreeMap::new(), |tuning| {
                tuning.reconcile.interval = Duration::from_secs(3600);
                tuning.sweep.interval = Duration::from_secs(3600);
            })
            .await;
        wait_until("the sweeper's pass at start", || async {
            log_reads() > before
        })
        .await;
        // The pass reads the log, then acts; give it the moment it needs.
        tokio::time::sleep(Duration::from_millis(100)).await;
        dispatcher
    }

    /// A queued job known to GitHub, and its delivery.
    pub fn queued_job(&self, job_id: u64, labels: &[&str]) -> WorkflowJob {
        self.github
            .add_job(REPO, FakeJob::queued(job_id, 9_000_000_001, labels));
        WorkflowJob::queued(REPO, job_id, 9_000_000_001, labels)
    }

    pub async fn deliver(
        &self,
        dispatcher: &Dispatcher,
        delivery_id: &str,
        job: &WorkflowJob,
    ) -> reqwest::Response {
        self.send(
            dispatcher,
            "workflow_job",
            delivery_id,
            &job.body(),
            Some(WEBHOOK_SECRET),
        )
        .await
    }

    pub async fn send(
        &self,
        dispatcher: &Dispatcher,
        event: &str,
        delivery_id: &str,
        body: &[u8],
        secret: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/webhook", dispatcher.url))
            .header("X-GitHub-Event", event)
            .header("X-GitHub-Delivery", delivery_id)
            .header("X-GitHub-Hook-ID", "1")
            .header("Content-Type", "application/json")
            .body(body.to_vec());
        if let Some(secret) = secret {
            request = request.header(
                "X-Hub-Signature-256",
                github_webhook::sign(&SecretString::from(secret), body),
            );
        }
        request.send().await.expect("dispatcher reachable")
    }

    /// The store, opened beside the running service (SQLite allows it).
    pub fn store(&self) -> SqliteStore {
        SqliteStore::open(self.state_dir.path(), Box::new(|_| String::new())).unwrap()
    }

    pub async fn record(&self, job_id: u64) -> Option<JobRecord> {
        let key = JobKey {
            repo: REPO.into(),
            job_id,
            run_attempt: 1,
        };
        self.store().get(&key).await.unwrap()
    }

    /// Waits until job `job_id`'s record satisfies `check`.
    pub async fn wait_for(&self, job_id: u64, check: impl Fn(&JobRecord) -> bool) -> JobRecord {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let last = self.record(job_id).await;
            if let Some(record) = last.as_ref().filter(|r| check(r)) {
                return record.clone();
            }
            assert!(
                Instant::now() < deadline,
                "job {job_id} never got there; last record: {last:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn wait_for_state(&self, job_id: u64, state: State) -> JobRecord {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let last = self.record(job_id).await;
            if let Some(record) = last.as_ref().filter(|r| r.state == state) {
                return record.clone();
            }
            assert!(
                Instant::now() < deadline,
                "job {job_id} never reached {state:?}; last record: {last:#?}"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// HF jobs created so far, as the fake Hub holds them.
    pub fn hf_jobs(&self) -> Vec<Value> {
        self.hub.with_state(|s| s.jobs.values().cloned().collect())
    }

    /// Bodies of every job-creation request the Hub received.
    pub fn hf_create_bodies(&self) -> Vec<Value> {
        self.hub
            .server
            .requests_to("POST", &format!("/api/jobs/{NAMESPACE}"))
            .into_iter()
            .filter(|r| r.path == format!("/api/jobs/{NAMESPACE}"))
            .map(|r| r.json().unwrap())
            .collect()
    }
}

pub async fn wait_until<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    assert!(
        wait_for(Duration::from_secs(20), check).await,
        "timed out waiting until {what}"
    );
}

pub async fn wait_for<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
