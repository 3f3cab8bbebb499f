//! End-to-end tests of the `hfjobs` binary against `FakeHub`: its own behaviour
//! (`behaviour.rs`) and conformance with the official `hf jobs` (`conformance.rs`).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{FakeHub, Request};

mod behaviour;
mod conformance;

pub const TOKEN: &str = "hf_fake_token_8c1d2e3f";
pub const USER: &str = "alice";

/// How long any spawned process may run before the test fails.
const PROCESS_LIMIT: Duration = Duration::from_secs(90);

/// What a finished process left behind.
#[derive(Debug)]
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// Fails with everything the process printed.
    #[track_caller]
    pub fn assert_ok(&self) -> &Self {
        assert!(self.ok(), "expected success, got {self:#?}");
        self
    }

    #[track_caller]
    pub fn assert_failed(&self) -> &Self {
        assert!(
            self.code.is_some_and(|c| c != 0),
            "expected a failure exit code, got {self:#?}"
        );
        assert!(
            !self.stderr.contains("panicked") && !self.stderr.contains("RUST_BACKTRACE"),
            "a panic instead of an error: {self:#?}"
        );
        self
    }
}

/// A temporary `HF_HOME` (and `HOME`) so no real login leaks into a test.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Default for Home {
    fn default() -> Self {
        Self::new()
    }
}

impl Home {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// The base environment of every process: an isolated home, the fake's URL, the token, no
/// colours, nothing inherited but `PATH`.
pub fn command(program: &Path, hub: &FakeHub, home: &Home) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("HF_HOME", home.path().join("hf"))
        .env("HF_ENDPOINT", hub.base_url())
        .env("HF_TOKEN", TOKEN)
        .env("HF_HUB_DISABLE_UPDATE_CHECK", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env("HF_HUB_DISABLE_EXPERIMENTAL_WARNING", "1")
        .env("HF_XET_TELEMETRY_ENABLED", "false")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200")
        .current_dir(home.path());
    command
}

pub fn hfjobs_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_hfjobs"))
}

/// Runs a command to its end within [`PROCESS_LIMIT`], with stdin closed.
pub fn finish(mut command: Command) -> Output {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > PROCESS_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {PROCESS_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output {
        code: status.code(),
        stdout: out_reader.join().expect("stdout reader"),
        stderr: err_reader.join().expect("stderr reader"),
    }
}

/// `hfjobs ARGS` against `hub`.
pub fn hfjobs(hub: &FakeHub, home: &Home, args: &[&str]) -> Output {
    let mut command = command(&hfjobs_bin(), hub, home);
    command.args(args);
    finish(command)
}

/// A fake Hub for the test user.
pub fn hub() -> FakeHub {
    FakeHub::start(TOKEN, USER)
}

/// Requests except the ones only one client sends (`agent-harnesses`) or sends a different
/// number of times (`whoami-v2`).
pub fn significant(requests: Vec<Request>) -> Vec<Request> {
    requests
        .into_iter()
        .filter(|r| r.path != "/api/agent-harnesses" && r.path != "/api/whoami-v2")
        .collect()
}

/// `xet-client`'s simulated CAS server on loopback, on its own thread and runtime, so both
/// the Python client (`hf_xet`) and ours can upload to it. Stopped when dropped.
pub struct Cas {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Cas {
    pub fn start() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_directory = dir.path().to_path_buf();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("CAS runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let port = listener.local_addr().expect("addr").port();
                let context = xet_runtime::core::XetContext::default().expect("xet context");
                let config = xet_client::cas_client::LocalServerConfig {
                    data_directory,
                    host: "127.0.0.1".into(),
                    port,
                    in_memory: true,
                };
                let server = xet_client::cas_client::LocalServer::new(context, config)
                    .await
                    .expect("CAS server");
                ready_tx.send(port).expect("report the port");
                let _ = server.serve_until_stopped(listener, stopped).await;
            });
        });
        let port = ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the CAS server started");
        Self {
            url: format!("http://127.0.0.1:{port}"),
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        }
    }
}

impl Drop for Cas {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Waits until `condition` holds, polling; fails the test after `limit`.
#[track_caller]
pub fn eventually(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}
