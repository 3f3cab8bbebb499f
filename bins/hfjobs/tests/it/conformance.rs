//! The official `hf jobs` (huggingface_hub 2.4.0, found through `FERRY_HF_CLI`) and `hfjobs`
//! run with identical command lines against two identical fake Hubs must send the same API
//! requests: method, path, query, JSON body. Requests only Python sends
//! (`/api/agent-harnesses`) and `whoami-v2` (called a different number of times) are left out;
//! bucket folder names (`YYYYMMDDTHHMMSS-xxxxxx`, random) are normalised.

use std::path::PathBuf;

use serde_json::{Value, json};
use testkit::{FakeHub, Request};

use crate::{Cas, Home, Output, command, finish, hfjobs_bin, hub, significant};

mod scheduled;

/// The `hf` executable of the reference client. CI sets the variable; without it these tests
/// fail rather than silently skip.
fn hf_cli() -> PathBuf {
    match std::env::var_os("FERRY_HF_CLI") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => panic!(
            "FERRY_HF_CLI is not set: the conformance tests need the official `hf` CLI of huggingface_hub 2.4.0 \
             (scripts/test installs it into ~/.cache/ferry/venv; run e.g. FERRY_HF_CLI=~/.cache/ferry/venv/bin/hf cargo test -p hfjobs)"
        ),
    }
}

/// A request reduced to what must match.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: Body,
}

#[derive(Debug, Clone, PartialEq)]
enum Body {
    None,
    Json(Value),
    Lines(Vec<Value>),
    Text(String),
}

/// Replaces every `YYYYMMDDTHHMMSS-xxxxxx` folder name by `<folder>`.
fn normalise_folders(text: &str) -> String {
    let bytes = text.as_bytes();
    let shape = |window: &[u8]| {
        window.len() == 22
            && window[..8].iter().all(u8::is_ascii_digit)
            && window[8] == b'T'
            && window[9..15].iter().all(u8::is_ascii_digit)
            && window[15] == b'-'
            && window[16..]
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    };
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if i + 22 <= bytes.len() && shape(&bytes[i..i + 22]) {
            out.push_str("<folder>");
            i += 22;
        } else {
            let c = text[i..].chars().next().expect("char boundary");
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// Drops what legitimately differs between two uploads of the same file (modification times).
fn without_times(mut value: Value) -> Value {
    if let Some(map) = value.as_object_mut() {
        map.remove("mtime");
    }
    value
}

fn seen(request: &Request) -> Seen {
    let text = normalise_folders(&String::from_utf8_lossy(&request.body));
    // Bucket batches are NDJSON even with one line; downloaded files have fresh mtimes.
    let is_batch = request.path.ends_with("/batch");
    let body = if text.trim().is_empty() {
        Body::None
    } else if let (false, Ok(value)) = (is_batch, serde_json::from_str::<Value>(&text)) {
        Body::Json(value)
    } else if let Ok(lines) = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str::<Value>)
        .collect::<Result<Vec<_>, _>>()
    {
        // Python collects local files in a set: the order of batch lines is arbitrary.
        let mut lines: Vec<Value> = lines.into_iter().map(without_times).collect();
        lines.sort_by(|a, b| a["path"].to_string().cmp(&b["path"].to_string()));
        Body::Lines(lines)
    } else {
        Body::Text(text)
    };
    Seen {
        method: request.method.clone(),
        path: normalise_folders(&request.path),
        query: request
            .query
            .iter()
            .map(|(k, v)| (k.clone(), normalise_folders(v)))
            .collect(),
        body,
    }
}

/// Two fake Hubs prepared identically: Python's and ours.
struct Pair {
    python: FakeHub,
    ours: FakeHub,
    home: Home,
}

struct Both {
    python: Output,
    ours: Output,
}

impl Pair {
    fn new(setup: impl Fn(&FakeHub)) -> Self {
        let python = hub();
        let ours = hub();
        setup(&python);
        setup(&ours);
        Self {
            python,
            ours,
            home: Home::new(),
        }
    }

    /// Runs `hf jobs ARGS` and `hfjobs ARGS` and asserts they sent the same requests.
    #[track_caller]
    fn same(&self, args: &[&str]) -> Both {
        self.same_with(args, &[])
    }

    #[track_caller]
    fn same_with(&self, args: &[&str], env: &[(&str, &str)]) -> Both {
        self.same_modulo(args, env, |requests| requests)
    }

    /// As [`Pair::same_with`], comparing the requests after `adjust` (for a documented
    /// difference).
    #[track_caller]
    fn same_modulo(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
        adjust: impl Fn(Vec<Seen>) -> Vec<Seen>,
    ) -> Both {
        self.python.server.clear_requests();
        self.ours.server.clear_requests();
        let mut python = command(&hf_cli(), &self.python, &self.home);
        python.arg("jobs").args(args).envs(env.iter().copied());
        let python = finish(python);
        let mut ours = command(&hfjobs_bin(), &self.ours, &self.home);
        ours.args(args).envs(env.iter().copied());
        let ours = finish(ours);
        let expected = adjust(
            significant(self.python.server.requests())
                .iter()
                .map(seen)
                .collect(),
        );
        let actual = adjust(
            significant(self.ours.server.requests())
                .iter()
                .map(seen)
                .collect(),
        );
        assert_eq!(
            actual,
            expected,
            "`{}`: hfjobs sent other requests than hf jobs\nhf jobs: {python:#?}\nhfjobs: {ours:#?}",
            args.join(" ")
        );
        Both { python, ours }
    }
}

/// A finished job with a log, and a running one.
fn two_jobs(hub: &FakeHub) {
    let done = hub.add_job(
        "alice",
        json!({ "command": ["echo", "done"], "arguments": [], "environment": {}, "flavor": "cpu-basic",
                "dockerImage": "ubuntu:latest", "labels": { "name": "finisher", "team": "ml" } }),
    );
    hub.set_stage(&done, "RUNNING");
    hub.append_logs(&done, &["first line", "second line", "done"]);
    hub.set_stage(&done, "COMPLETED");
    let running = hub.add_job(
        "alice",
        json!({ "command": ["python", "-c", "print('hi')"], "arguments": [], "environment": {},
                "flavor": "cpu-basic", "dockerImage": "python:3.12", "labels": { "name": "runner" } }),
    );
    hub.set_stage(&running, "RUNNING");
}

fn job_ids(hub: &FakeHub) -> Vec<String> {
    hub.with_state(|s| s.jobs.keys().cloned().collect())
}

#[test]
fn run_detached_with_env_secrets_timeout_labels_and_name() {
    let pair = Pair::new(|_| {});
    let both = pair.same_with(
        &[
            "run",
            "-d",
            "-e",
            "AA=1",
            "-e",
            "LOCAL_VAR",
            "-e",
            "UNSET_VAR",
            "-s",
            "HF_TOKEN",
            "-s",
            "API_KEY=k3y",
            "--timeout",
            "90m",
            "-l",
            "team=ml",
            "-l",
            "flag",
            "--name",
            "trainer",
            "ubuntu",
            "echo",
            "hello world",
        ],
        &[("LOCAL_VAR", "from local")],
    );
    both.python.assert_ok();
    both.ours.assert_ok();
    // Spot-check the body itself, not only the agreement.
    let body = pair.ours.server.requests_to("POST", "/api/jobs/alice")[0]
        .json::<Value>()
        .unwrap();
    assert_eq!(
        body["environment"],
        json!({ "AA": "1", "LOCAL_VAR": "from local" })
    );
    assert_eq!(body["secrets"]["HF_TOKEN"], crate::TOKEN);
    assert_eq!(body["timeoutSeconds"], 5400);
    assert_eq!(
        body["labels"],
        json!({ "team": "ml", "flag": "", "name": "trainer" })
    );
}

#[test]
fn run_detached_space_image() {
    let pair = Pair::new(|_| {});
    let both = pair.same(&[
        "run",
        "-d",
        "hf.co/spaces/lhoestq/duckdb",
        "duckdb",
        "-c",
        "select 1",
    ]);
    both.ours.assert_ok();
    assert!(
        both.ours.stdout.contains("lhoestq-duckdb-"),
        "{}",
        both.ours.stdout
    );
}

#[test]
fn run_detached_with_volumes_and_default_name() {
    let pair = Pair::new(|_| {});
    pair.same(&[
        "run",
        "-d",
        "-v",
        "hf://datasets/org/ds:/data:ro",
        "-v",
        "hf://buckets/alice/b/sub:/mnt",
        "-v",
        "hf://openai/gpt2@main/sub:/models:rw",
        "ubuntu",
        "ls",
        "/data",
    ])
    .ours
    .assert_ok();
    // No name: the default name hashes the launch configuration (flavor, attempts, expose...).
    pair.same(&[
        "run",
        "-d",
        "--flavor",
        "t4-small",
        "--attempts",
        "2",
        "--expose",
        "8000",
        "--expose-public",
        "9000",
        "python:3.12",
        "python",
        "-c",
        "print('hello')",
    ])
    .ours
    .assert_ok();
}

#[test]
fn uv_run_detached_command_with_dependencies_and_python() {
    let pair = Pair::new(|_| {});
    pair.same(&[
        "uv", "run", "-d", "--with", "torch", "--with", "numpy>=2", "-p", "3.12", "python", "-c",
        "print(1)",
    ])
    .ours
    .assert_ok();
}

#[test]
fn uv_run_reserved_data_mount_is_refused() {
    let pair = Pair::new(|_| {});
    std::fs::write(pair.home.path().join("train.py"), "print('hi')\n").unwrap();
    let both = pair.same(&[
        "uv",
        "run",
        "-d",
        "-v",
        "hf://datasets/org/ds:/data",
        "train.py",
    ]);
    both.python.assert_failed();
    both.ours.assert_failed();
    assert!(
        both.ours.stderr.contains("Mount path '/data' is reserved"),
        "{}",
        both.ours.stderr
    );
    assert_eq!(both.ours.stderr.lines().count(), 1, "{}", both.ours.stderr);
}

#[test]
fn ps_with_and_without_filters() {
    let pair = Pair::new(two_jobs);
    for args in [
        &["ps"][..],
        &["ps", "-a"],
        &["ls", "--status", "completed,error"],
        &["list", "--status", "running", "--status", "scheduling"],
        &["ps", "-a", "-l", "team=ml"],
        &["ps", "-a", "--name", "runner"],
        &["ps", "-a", "--limit", "1"],
        &["ps", "--namespace", "alice"],
    ] {
        let both = pair.same(args);
        both.ours.assert_ok();
    }
    let both = pair.same(&["ps", "-a", "-q"]);
    assert_eq!(both.ours.stdout, both.python.stdout);
}

#[test]
fn inspect_cancel_and_logs() {
    let pair = Pair::new(two_jobs);
    let ids = job_ids(&pair.ours);
    assert_eq!(ids, job_ids(&pair.python));
    let (done, running) = (&ids[0], &ids[1]);
    pair.same(&["inspect", done]).ours.assert_ok();
    let both = pair.same(&["inspect", &format!("alice/{running}"), "-q"]);
    assert_eq!(both.ours.stdout, both.python.stdout);
    let both = pair.same(&["logs", done]);
    both.ours.assert_ok();
    assert_eq!(both.ours.stdout, both.python.stdout);
    assert_eq!(both.ours.stdout, "first line\nsecond line\ndone\n");
    let both = pair.same(&["logs", "-n", "1", &format!("alice/{done}")]);
    assert_eq!(both.ours.stdout, both.python.stdout);
    pair.same(&["cancel", &format!("alice/{running}")])
        .ours
        .assert_ok();
    pair.same(&["cancel", running]).ours.assert_ok();
}

#[test]
fn hardware_requests_and_table() {
    let pair = Pair::new(|_| {});
    let both = pair.same(&["hardware"]);
    both.ours.assert_ok();
    assert_eq!(both.ours.stdout, both.python.stdout);
}

#[test]
fn unknown_job_fails_in_both() {
    let pair = Pair::new(|_| {});
    let both = pair.same(&["inspect", "0123456789abcdef01234567"]);
    both.python.assert_failed();
    both.ours.assert_failed();
}

#[test]
fn labels_and_wait() {
    let pair = Pair::new(two_jobs);
    let ids = job_ids(&pair.ours);
    pair.same(&["labels", &ids[0], "--name", "new-name"])
        .ours
        .assert_ok();
    pair.same(&["labels", &ids[0], "-l", "a=b", "-l", "c"])
        .ours
        .assert_ok();
    pair.same(&["labels", &ids[0], "--clear"]).ours.assert_ok();
    let both = pair.same(&["wait", &ids[0]]);
    both.ours.assert_ok();
}

/// Local files go through the `jobs-artifacts` bucket: bucket creation, the NDJSON batch with
/// the files' xet hashes, then the job with the bucket volume and `/data/...` arguments.
#[test]
fn uv_run_detached_local_script_with_dependencies_and_python() {
    let cas = Cas::start();
    let pair = Pair::new(|hub| hub.set_xet_cas_url(&cas.url));
    std::fs::write(
        pair.home.path().join("train.py"),
        "# /// script\n# dependencies = [\"rich\"]\n# ///\nprint('training')\n",
    )
    .unwrap();
    std::fs::write(pair.home.path().join("config.yaml"), "epochs: 3\n").unwrap();
    let both = pair.same(&[
        "uv",
        "run",
        "-d",
        "--with",
        "torch",
        "--python",
        "3.12",
        "-e",
        "AA=1",
        "train.py",
        "--config",
        "config.yaml",
        "--epochs",
        "3",
    ]);
    both.ours.assert_ok();
    let body: Value = pair.ours.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(
        body["command"],
        json!([
            "uv",
            "run",
            "--with",
            "torch",
            "--python",
            "3.12",
            "/data/train.py",
            "--config",
            "/data/config.yaml",
            "--epochs",
            "3"
        ])
    );
    assert_eq!(body["volumes"][0]["source"], "alice/jobs-artifacts");
    assert!(
        both.ours
            .stdout
            .contains("Your script and Job artifacts will be saved in this bucket:"),
        "{}",
        both.ours.stdout
    );
}

/// `hf jobs` 2.4.0 downloads a URL script and ships it like a local file.
#[test]
fn uv_run_detached_url_script() {
    let cas = Cas::start();
    let scripts = testkit::FakeServer::start(
        testkit::Router::new(|status, message| testkit::Response::text(status, message)).route(
            "GET",
            "/recipes/sft.py",
            |_, _| testkit::Response::text(200, "print('sft')\n"),
        ),
    );
    let pair = Pair::new(|hub| hub.set_xet_cas_url(&cas.url));
    let url = scripts.url("/recipes/sft.py");
    let both = pair.same(&["uv", "run", "-d", &url, "--lr", "1e-4"]);
    both.ours.assert_ok();
    let body: Value = pair.ours.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(
        body["command"],
        json!(["uv", "run", "/data/sft.py", "--lr", "1e-4"])
    );
    assert!(
        body["labels"]["name"].as_str().unwrap().starts_with("sft-"),
        "{body}"
    );
}

/// A local directory volume is synced into the artifacts bucket, then mounted read-only.
#[test]
fn run_detached_with_a_local_directory_volume() {
    let cas = Cas::start();
    let pair = Pair::new(|hub| hub.set_xet_cas_url(&cas.url));
    let inputs = pair.home.path().join("inputs");
    std::fs::create_dir_all(inputs.join("sub")).unwrap();
    std::fs::write(inputs.join("a.txt"), "alpha\n").unwrap();
    std::fs::write(inputs.join("sub").join("b.csv"), "x,y\n1,2\n").unwrap();
    // Python reads the bucket's info twice in a row (`sync_job_volume` for its visibility, then
    // `sync_bucket` for its file count); hf-jobs reads it once. Repeats are folded.
    let fold_repeats = |mut requests: Vec<Seen>| {
        requests.dedup_by(|a, b| a.method == "GET" && a == b);
        requests
    };
    let both = pair.same_modulo(
        &[
            "run",
            "-d",
            "-v",
            "./inputs:/inputs",
            "ubuntu",
            "ls",
            "/inputs",
        ],
        &[],
        fold_repeats,
    );
    both.ours.assert_ok();
    let body: Value = pair.ours.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(body["volumes"][0]["readOnly"], true);
    assert_eq!(body["volumes"][0]["mountPath"], "/inputs");
}

/// The script's `[tool.hf-jobs]` table fills in what the flags leave out; flags win and
/// env/labels/volumes merge entry by entry.
#[test]
fn uv_run_merges_the_scripts_hf_jobs_table() {
    let cas = Cas::start();
    let pair = Pair::new(|hub| hub.set_xet_cas_url(&cas.url));
    std::fs::write(
        pair.home.path().join("tuned.py"),
        "# /// script\n# dependencies = []\n#\n# [tool.hf-jobs]\n# flavor = \"t4-small\"\n\
         # timeout = \"2h\"\n# python = \"3.11\"\n# env = { MODE = \"fast\", AA = \"script\" }\n\
         # secrets = [\"HF_TOKEN\"]\n# labels = { team = \"ml\" }\n\
         # volumes = [\"hf://datasets/org/ds:/input\", \"hf://org/model:/models\"]\n# ///\nprint('tuned')\n",
    )
    .unwrap();
    let both = pair.same(&[
        "uv",
        "run",
        "-d",
        "--flavor",
        "cpu-upgrade",
        "-e",
        "AA=flag",
        "-v",
        "hf://org/other:/models",
        "tuned.py",
    ]);
    both.ours.assert_ok();
    let body: Value = pair.ours.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(body["flavor"], "cpu-upgrade");
    assert_eq!(body["timeoutSeconds"], 7200);
    assert_eq!(body["environment"], json!({ "AA": "flag", "MODE": "fast" }));
    assert_eq!(body["secrets"]["HF_TOKEN"], crate::TOKEN);
    assert_eq!(body["labels"]["team"], "ml");
    assert!(
        both.ours.stderr.contains("(from script)"),
        "{}",
        both.ours.stderr
    );
}
