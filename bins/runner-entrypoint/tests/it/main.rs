//! Runs the real `runner-entrypoint` binary against a fake runner directory.
//!
//! The fake `run.sh`, `config.sh` and `bin/Runner.Listener` (in `fake-runner/`) record their
//! arguments and environment under `rec/`, take a "job" by calling the hook and starting a
//! "step" that records its environment, hang, ignore signals or exit with a chosen code.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

const RUN_SH: &str = include_str!("fake-runner/run.sh");
const CONFIG_SH: &str = include_str!("fake-runner/config.sh");
const LISTENER: &str = include_str!("fake-runner/bin/Runner.Listener");

/// Every wait in these tests is bounded by this.
const LIMIT: Duration = Duration::from_secs(20);

const HF_SECRET: &str = "hf_SecretValueInjectedByHfJobs";
const OTHER_SECRET: &str = "dispatcher-api-key-value";
const REG_TOKEN: &str = "AABBCCDDEEFFGGHHIIJJKKLLMM";

fn jit_config() -> String {
    let files = r#"{".runner":"eyJhZ2VudElkIjo0Mn0=",".credentials":"eyJzY2hlbWUiOiJPQXV0aCJ9",".credentials_rsaparams":"e30="}"#;
    base64::engine::general_purpose::STANDARD.encode(files)
}

struct Fake {
    root: tempfile::TempDir,
    state: tempfile::TempDir,
}

struct Finished {
    code: Option<i32>,
    log: String,
    elapsed: Duration,
}

impl Fake {
    fn new(behaviour: &str) -> Self {
        let root = tempfile::tempdir().unwrap();
        let state = tempfile::tempdir().unwrap();
        let write = |rel: &str, text: &str, mode: u32| {
            let path = root.path().join(rel);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, text).unwrap();
            fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
        };
        write("run.sh", RUN_SH, 0o755);
        write("config.sh", CONFIG_SH, 0o755);
        write("bin/Runner.Listener", LISTENER, 0o755);
        write("behaviour", behaviour, 0o644);
        fs::create_dir(root.path().join("rec")).unwrap();
        // Readable and writable by whichever user the runner ends up as.
        for dir in [root.path(), &root.path().join("rec"), state.path()] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o777)).unwrap();
        }
        Fake { root, state }
    }

    fn dir(&self) -> &Path {
        self.root.path()
    }

    fn set(&self, file: &str, text: &str) {
        fs::write(self.dir().join(file), text).unwrap();
    }

    fn rec(&self, name: &str) -> Option<String> {
        fs::read_to_string(self.dir().join("rec").join(name)).ok()
    }

    fn rec_env(&self, name: &str) -> BTreeMap<String, String> {
        let text = self
            .rec(name)
            .unwrap_or_else(|| panic!("rec/{name} was not written"));
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    /// The entrypoint with a controlled environment: test settings plus `extra`.
    fn start(&self, extra: &[(&str, &str)]) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_runner-entrypoint"));
        command
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("RUNNER_DIR", self.dir())
            .env("RUNNER_STATE_DIR", self.state.path())
            .env("RUNNER_USER", current_user())
            .env("RUNNER_ALLOW_RUNASROOT", "1")
            .env("RUNNER_STOP_GRACE", "1")
            .stdin(Stdio::null())
            .stdout(fs::File::create(self.state.path().join("stdout.log")).unwrap())
            .stderr(fs::File::create(self.state.path().join("stderr.log")).unwrap());
        for (k, v) in extra {
            command.env(k, v);
        }
        command.spawn().unwrap()
    }

    fn wait(&self, mut child: Child) -> Finished {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if started.elapsed() > LIMIT {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "entrypoint still running after {LIMIT:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Finished {
            code: status.code(),
            log: self.log(),
            elapsed: started.elapsed(),
        }
    }

    fn run(&self, extra: &[(&str, &str)]) -> Finished {
        let child = self.start(extra);
        self.wait(child)
    }

    fn log(&self) -> String {
        let read = |n: &str| fs::read_to_string(self.state.path().join(n)).unwrap_or_default();
        format!("{}{}", read("stdout.log"), read("stderr.log"))
    }

    fn wait_for_rec(&self, name: &str) {
        let started = Instant::now();
        while self.rec(name).is_none() {
            assert!(
                started.elapsed() < LIMIT,
                "rec/{name} never appeared; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every recorded argument list, joined.
    fn all_args(&self) -> String {
        ["run.args", "listener.args", "config.args"]
            .iter()
            .filter_map(|n| self.rec(n))
            .collect()
    }
}

fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn is_root() -> bool {
    nix::unistd::Uid::current().is_root()
}

fn assert_no_secret(text: &str, what: &str) {
    for secret in [jit_config().as_str(), HF_SECRET, OTHER_SECRET, REG_TOKEN] {
        assert!(
            !text.contains(secret),
            "{what} contains a credential:\n{text}"
        );
    }
}

#[test]
fn jit_config_reaches_the_listener_only_through_its_input_variable() {
    let fake = Fake::new("job");
    fake.set("exit-code", "3");
    let jit = jit_config();
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit),
        ("HF_TOKEN", HF_SECRET),
        ("DISPATCHER_API_KEY", OTHER_SECRET),
        ("FERRY_VISIBLE", "yes"),
        ("RUNNER_ENV_PASSTHROUGH", "FERRY_VISIBLE"),
        ("LANG", "C.UTF-8"),
    ]);
    // The runner's own code passes through when it exits by itself.
    assert_eq!(done.code, Some(3), "{}", done.log);

    // run.sh: no arguments, the JIT config only in ACTIONS_RUNNER_INPUT_JITCONFIG.
    assert_eq!(fake.rec("run.args").unwrap(), "\n");
    assert_eq!(fake.rec("listener.args").unwrap(), "run\n");
    let run_env = fake.rec_env("run.env");
    assert_eq!(run_env.get("ACTIONS_RUNNER_INPUT_JITCONFIG"), Some(&jit));
    assert_eq!(
        run_env.get("FERRY_VISIBLE").map(String::as_str),
        Some("yes")
    );
    assert_eq!(run_env.get("LANG").map(String::as_str), Some("C.UTF-8"));
    for name in [
        "RUNNER_JITCONFIG",
        "HF_TOKEN",
        "DISPATCHER_API_KEY",
        "RUNNER_DIR",
        "RUNNER_STOP_GRACE",
    ] {
        assert!(!run_env.contains_key(name), "run.sh sees {name}");
    }
    let only_input: Vec<_> = run_env
        .iter()
        .filter(|(_, v)| v.contains(&jit))
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(only_input, ["ACTIONS_RUNNER_INPUT_JITCONFIG"]);

    // The step sees no credential at all, but does see passed-through settings.
    let step = fake.rec("step.env").unwrap();
    assert_no_secret(&step, "the step's environment");
    assert!(step.contains("FERRY_VISIBLE=yes"));
    assert_no_secret(&fake.all_args(), "an argument list");
    assert_no_secret(&done.log, "the entrypoint's output");

    // The diagnosis came first.
    for line in [
        "runner version: 2.336.0-fake",
        "credential: JIT config",
        "architecture: ",
        "gpus: ",
        "free disk: ",
    ] {
        assert!(
            done.log.contains(line),
            "missing '{line}' in:\n{}",
            done.log
        );
    }
    assert!(
        done.log.contains("the runner exited with code 3"),
        "{}",
        done.log
    );
}

#[test]
fn registration_token_configures_then_runs_without_the_token() {
    let fake = Fake::new("job");
    let done = fake.run(&[
        ("RUNNER_TOKEN", REG_TOKEN),
        ("GH_REPO", "octo-org/octo-repo"),
        ("RUNNER_NAME", "hfjobs-test-1"),
        ("RUNNER_LABELS", "hf-jobs-cpu-basic,linux"),
        ("RUNNER_GROUP", "ferry"),
        ("HF_TOKEN", HF_SECRET),
    ]);
    assert_eq!(done.code, Some(0), "{}", done.log);
    let expected = [
        "--unattended",
        "--url",
        "https://github.com/octo-org/octo-repo",
        "--name",
        "hfjobs-test-1",
        "--labels",
        "hf-jobs-cpu-basic,linux",
        "--no-default-labels",
        "--work",
        "_work",
        "--ephemeral",
        "--disableupdate",
        "--replace",
        "--runnergroup",
        "ferry",
    ];
    assert_eq!(
        fake.rec("config.args").unwrap(),
        format!("{}\n", expected.join("\n"))
    );
    let config_env = fake.rec_env("config.env");
    assert_eq!(
        config_env
            .get("ACTIONS_RUNNER_INPUT_TOKEN")
            .map(String::as_str),
        Some(REG_TOKEN)
    );
    assert!(!config_env.contains_key("RUNNER_TOKEN"));
    assert!(!config_env.contains_key("HF_TOKEN"));
    assert_no_secret(&fake.rec("run.env").unwrap(), "run.sh's environment");
    assert_no_secret(&fake.rec("step.env").unwrap(), "the step's environment");
    assert_no_secret(&fake.all_args(), "an argument list");
    assert_no_secret(&done.log, "the entrypoint's output");
}

#[test]
fn failed_configuration_does_not_start_the_runner() {
    let fake = Fake::new("job");
    fake.set("config-exit", "5");
    let done = fake.run(&[
        ("RUNNER_TOKEN", REG_TOKEN),
        ("GH_REPO", "o/r"),
        ("RUNNER_LABELS", "x"),
    ]);
    assert_eq!(done.code, Some(70), "{}", done.log);
    assert!(
        done.log.contains("config.sh failed with exit code 5"),
        "{}",
        done.log
    );
    assert!(fake.rec("config.args").is_some());
    assert!(fake.rec("run.args").is_none());
}

fn forwarded(signal: Signal, word: &str, code: i32) {
    let fake = Fake::new("hang");
    let child = fake.start(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_IDLE_TIMEOUT", "0"),
    ]);
    let pid = Pid::from_raw(child.id() as i32);
    fake.wait_for_rec("ready");
    kill(pid, signal).unwrap();
    let done = fake.wait(child);
    assert_eq!(done.code, Some(code), "{}", done.log);
    assert_eq!(
        fake.rec("signals").as_deref(),
        Some(format!("{word}\n").as_str()),
        "{}",
        done.log
    );
    assert!(
        done.log.contains(&format!("after receiving {signal}")),
        "{}",
        done.log
    );
}

#[test]
fn sigterm_is_forwarded_to_the_runner() {
    forwarded(Signal::SIGTERM, "TERM", 143);
}

#[test]
fn sigint_is_forwarded_to_the_runner() {
    forwarded(Signal::SIGINT, "INT", 130);
}

#[test]
fn a_runner_ignoring_the_stop_signal_is_killed_after_the_grace_period() {
    let fake = Fake::new("ignore");
    let child = fake.start(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_IDLE_TIMEOUT", "0"),
    ]);
    let pid = Pid::from_raw(child.id() as i32);
    fake.wait_for_rec("ready");
    let listener: i32 = fake.rec("listener.pid").unwrap().trim().parse().unwrap();
    kill(pid, Signal::SIGTERM).unwrap();
    let done = fake.wait(child);
    assert_eq!(done.code, Some(143), "{}", done.log);
    assert!(
        fake.rec("signals").is_none(),
        "the fake listener was meant to ignore signals"
    );
    // Grace is 1 s; SIGKILL ends it well before the test's limit.
    assert!(
        done.elapsed < Duration::from_secs(10),
        "took {:?}",
        done.elapsed
    );
    assert_eq!(
        kill(Pid::from_raw(listener), None),
        Err(nix::errno::Errno::ESRCH),
        "listener survived"
    );
}

#[test]
fn idle_runner_is_stopped() {
    let fake = Fake::new("hang");
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_IDLE_TIMEOUT", "1"),
    ]);
    assert_eq!(done.code, Some(79), "{}", done.log);
    assert_eq!(fake.rec("signals").as_deref(), Some("INT\n"));
    assert!(
        done.log.contains("no job started within 1s"),
        "{}",
        done.log
    );
    assert!(done.elapsed >= Duration::from_secs(1));
}

#[test]
fn a_started_job_is_not_cut_by_the_idle_timeout() {
    // The job starts within milliseconds; 2 s leaves room on a loaded machine.
    let fake = Fake::new("job sleep:3");
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_IDLE_TIMEOUT", "2"),
    ]);
    assert_eq!(done.code, Some(0), "{}", done.log);
    assert!(fake.rec("signals").is_none());
    assert!(done.elapsed >= Duration::from_secs(3));
}

#[test]
fn a_started_job_stays_started_when_a_step_deletes_the_marker() {
    // The marker exists for 1 s (time for the supervisor to see it), then a step deletes the
    // hook's directory; the runner is still busy when the 2 s idle timeout comes.
    let fake = Fake::new("job sleep:1 clean sleep:2");
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_IDLE_TIMEOUT", "2"),
    ]);
    assert_eq!(done.code, Some(0), "{}", done.log);
    assert!(fake.rec("signals").is_none(), "{}", done.log);
    assert!(done.elapsed >= Duration::from_secs(3));
    let hook = PathBuf::from(&fake.rec_env("step.env")["ACTIONS_RUNNER_HOOK_JOB_STARTED"]);
    assert!(
        !hook.parent().unwrap().exists(),
        "the step did not delete the hook"
    );
}

#[test]
fn a_dotenv_hook_disables_the_idle_timeout() {
    let fake = Fake::new("hang");
    fake.set(
        ".env",
        "ACTIONS_RUNNER_HOOK_JOB_STARTED=/opt/other-hook.sh\n",
    );
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_IDLE_TIMEOUT", "1"),
        ("RUNNER_MAX_LIFETIME", "3"),
    ]);
    // Not 79: the idle timeout could not see a job start, so it must not fire.
    assert_eq!(done.code, Some(124), "{}", done.log);
    assert!(
        done.log.contains("the idle timeout is disabled"),
        "{}",
        done.log
    );
}

#[test]
fn maximum_lifetime_stops_a_busy_runner() {
    let fake = Fake::new("job hang");
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_IDLE_TIMEOUT", "0"),
        ("RUNNER_MAX_LIFETIME", "2"),
    ]);
    assert_eq!(done.code, Some(124), "{}", done.log);
    assert_eq!(fake.rec("signals").as_deref(), Some("TERM\n"));
    assert!(fake.rec("step.env").is_some());
    assert!(
        done.log.contains("maximum lifetime 2s reached"),
        "{}",
        done.log
    );
}

#[test]
fn the_image_hook_is_chained() {
    let fake = Fake::new("job");
    let image_hook = fake.dir().join("image-hook.sh");
    let ran = fake.dir().join("rec").join("image-hook-ran");
    fs::write(&image_hook, format!("echo ran > '{}'\n", ran.display())).unwrap();
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        (
            "ACTIONS_RUNNER_HOOK_JOB_STARTED",
            image_hook.to_str().unwrap(),
        ),
    ]);
    assert_eq!(done.code, Some(0), "{}", done.log);
    assert_eq!(fake.rec("image-hook-ran").as_deref(), Some("ran\n"));
    let step = fake.rec_env("step.env");
    let hook = PathBuf::from(&step["ACTIONS_RUNNER_HOOK_JOB_STARTED"]);
    assert_ne!(hook, image_hook);
    assert!(hook.starts_with(fake.state.path()), "{}", hook.display());
}

#[test]
fn missing_or_malformed_inputs_fail_clearly() {
    let jit = jit_config();
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "RUNNER_JITCONFIG is not set"),
        (
            vec![("RUNNER_JITCONFIG", "%%definitely-not-base64%%")],
            "RUNNER_JITCONFIG is invalid: not base64",
        ),
        (
            vec![("RUNNER_JITCONFIG", &jit), ("RUNNER_TOKEN", REG_TOKEN)],
            "are both set",
        ),
        (
            vec![("RUNNER_TOKEN", REG_TOKEN), ("RUNNER_LABELS", "x")],
            "GH_REPO is not set",
        ),
        (
            vec![
                ("RUNNER_TOKEN", REG_TOKEN),
                ("GH_REPO", "not a repo"),
                ("RUNNER_LABELS", "x"),
            ],
            "GH_REPO is invalid",
        ),
        (
            vec![("RUNNER_JITCONFIG", &jit), ("RUNNER_IDLE_TIMEOUT", "soon")],
            "RUNNER_IDLE_TIMEOUT is invalid",
        ),
        (
            vec![("RUNNER_JITCONFIG", &jit), ("RUNNER_MAX_LIFETIME", "-1h")],
            "RUNNER_MAX_LIFETIME is invalid",
        ),
        (
            vec![
                ("RUNNER_JITCONFIG", &jit),
                ("RUNNER_DIR", "/nonexistent/runner"),
            ],
            "does not exist",
        ),
        (
            vec![
                ("RUNNER_JITCONFIG", &jit),
                ("RUNNER_USER", "no-such-user-ferry"),
            ],
            "no such user",
        ),
    ];
    for (extra, message) in cases {
        let fake = Fake::new("job");
        let done = fake.run(&extra);
        assert_eq!(done.code, Some(78), "{extra:?}: {}", done.log);
        assert!(
            done.log.contains("configuration error: ") && done.log.contains(message),
            "{extra:?}: {}",
            done.log
        );
        assert_no_secret(&done.log, "the error output");
        assert!(fake.rec("run.args").is_none() && fake.rec("config.args").is_none());
    }
}

#[test]
fn a_runner_dir_without_run_sh_is_a_configuration_error() {
    let fake = Fake::new("job");
    fs::remove_file(fake.dir().join("run.sh")).unwrap();
    let done = fake.run(&[("RUNNER_JITCONFIG", &jit_config())]);
    assert_eq!(done.code, Some(78), "{}", done.log);
    assert!(
        done.log.contains("run.sh is missing or not executable"),
        "{}",
        done.log
    );
}

/// Switching users needs root; as another user this checks the refusal to switch instead.
#[test]
fn the_runner_runs_as_the_requested_user() {
    let fake = Fake::new("job");
    if !is_root() {
        let done = fake.run(&[
            ("RUNNER_JITCONFIG", &jit_config()),
            ("RUNNER_USER", "nobody"),
        ]);
        assert_eq!(done.code, Some(78), "{}", done.log);
        assert!(
            done.log.contains("only root can switch users"),
            "{}",
            done.log
        );
        return;
    }
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_USER", "nobody"),
        ("HF_TOKEN", HF_SECRET),
    ]);
    assert_eq!(done.code, Some(0), "{}", done.log);
    assert_eq!(fake.rec("listener.uid").as_deref(), Some("65534\n"));
    assert_eq!(fake.rec("step.env.uid").as_deref(), Some("65534\n"));
    let step = fake.rec_env("step.env");
    assert_eq!(step.get("USER").map(String::as_str), Some("nobody"));
    assert!(!step.contains_key("RUNNER_ALLOW_RUNASROOT"));
    assert!(
        done.log.contains("runs as: nobody (uid 65534"),
        "{}",
        done.log
    );

    // Root itself needs the explicit opt-in.
    let fake = Fake::new("job");
    let done = fake.run(&[
        ("RUNNER_JITCONFIG", &jit_config()),
        ("RUNNER_ALLOW_RUNASROOT", ""),
    ]);
    assert_eq!(done.code, Some(78), "{}", done.log);
    assert!(
        done.log.contains("refusing to run the runner as root"),
        "{}",
        done.log
    );
}
