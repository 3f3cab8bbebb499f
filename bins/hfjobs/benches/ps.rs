//! `hfjobs ps` against `hf jobs ps` (huggingface_hub 2.4.0) on the same local `FakeHub`:
//! whole-process wall time, median of several runs, printed as a Markdown table.
//!
//! Run: `FERRY_HF_CLI=~/.cache/ferry/venv/bin/hf cargo bench -p hfjobs --bench ps`
//! (`RUNS=n` changes the number of measured runs, default 15, after 2 warm-up runs each).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use testkit::FakeHub;

const TOKEN: &str = "hf_bench_token";

fn measure(
    program: &Path,
    prefix: &[&str],
    hub: &FakeHub,
    home: &Path,
    runs: usize,
) -> Vec<Duration> {
    let run = || {
        let started = Instant::now();
        let status = Command::new(program)
            .args(prefix)
            .arg("ps")
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("HF_HOME", home.join("hf"))
            .env("HF_ENDPOINT", hub.base_url())
            .env("HF_TOKEN", TOKEN)
            .env("HF_HUB_DISABLE_UPDATE_CHECK", "1")
            .env("HF_HUB_DISABLE_TELEMETRY", "1")
            .env("COLUMNS", "200")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("spawn");
        let elapsed = started.elapsed();
        assert!(status.success(), "{} ps failed", program.display());
        elapsed
    };
    for _ in 0..2 {
        run();
    }
    (0..runs).map(|_| run()).collect()
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    let n = samples.len();
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    // `cargo bench` passes `--bench`; anything else (e.g. `cargo test --benches`) just checks
    // that the bench builds.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let python = match std::env::var_os("FERRY_HF_CLI") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => {
            eprintln!(
                "FERRY_HF_CLI is not set: point it at the `hf` of huggingface_hub 2.4.0 (e.g. ~/.cache/ferry/venv/bin/hf)"
            );
            std::process::exit(2);
        }
    };
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(15)
        .max(1);
    let hfjobs = PathBuf::from(env!("CARGO_BIN_EXE_hfjobs"));

    let hub = FakeHub::start(TOKEN, "alice");
    for i in 0..20 {
        let id = hub.add_job(
            "alice",
            json!({ "command": ["python", "train.py", "--epoch", i.to_string()], "arguments": [],
                    "environment": {}, "flavor": "a10g-large", "dockerImage": "python:3.12",
                    "labels": { "name": format!("train-{i}") } }),
        );
        hub.set_stage(&id, "RUNNING");
    }
    let home = tempfile::tempdir().expect("temp dir");

    let mut theirs = measure(&python, &["jobs"], &hub, home.path(), runs);
    let mut ours = measure(&hfjobs, &[], &hub, home.path(), runs);
    let (their_median, our_median) = (median(&mut theirs), median(&mut ours));
    println!("`ps` of 20 running jobs on a local FakeHub, {runs} runs each after 2 warm-ups:\n");
    println!("| command | median | min | max |");
    println!("|---|---|---|---|");
    for (name, samples, median) in [
        ("hf jobs ps (huggingface_hub 2.4.0)", &theirs, their_median),
        ("hfjobs ps", &ours, our_median),
    ] {
        println!(
            "| `{name}` | {} | {} | {} |",
            ms(median),
            ms(*samples.first().unwrap()),
            ms(*samples.last().unwrap())
        );
    }
    println!(
        "\nhfjobs is {:.1}x faster (median).",
        their_median.as_secs_f64() / our_median.as_secs_f64()
    );
}
