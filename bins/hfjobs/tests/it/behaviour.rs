//! `hfjobs` on its own: following a job to its end, outputs, errors, token handling.

use std::time::Duration;

use serde_json::{Value, json};
use testkit::{FakeHub, Fault};

use crate::{Home, Output, TOKEN, command, eventually, finish, hfjobs, hfjobs_bin, hub};

const WAIT: Duration = Duration::from_secs(30);

/// Runs `hfjobs ARGS` (which creates one job and follows it) while playing the Hub's part:
/// the job starts, logs `lines`, then ends in `stage` with `message`.
fn run_and_drive(
    hub: &FakeHub,
    args: &[&str],
    lines: &[&str],
    stage: &str,
    message: Option<&str>,
) -> Output {
    let home = Home::new();
    std::thread::scope(|scope| {
        let process = scope.spawn(|| hfjobs(hub, &home, args));
        eventually(WAIT, "the job to be created", || {
            hub.with_state(|s| !s.jobs.is_empty())
        });
        let id = hub.with_state(|s| s.jobs.keys().next().cloned().unwrap());
        // Let the CLI see SCHEDULING first, as on the Hub.
        std::thread::sleep(Duration::from_millis(300));
        hub.set_stage(&id, "RUNNING");
        hub.append_logs(&id, lines);
        std::thread::sleep(Duration::from_millis(300));
        if let Some(message) = message {
            hub.set_status_message(&id, message);
        }
        hub.set_stage(&id, stage);
        if let Some(message) = message {
            hub.set_status_message(&id, message);
        }
        process.join().expect("hfjobs thread")
    })
}

#[test]
fn run_follows_logs_and_succeeds_when_the_job_completes() {
    let hub = hub();
    let out = run_and_drive(
        &hub,
        &["run", "ubuntu", "echo", "hi"],
        &["hello", "world"],
        "COMPLETED",
        None,
    );
    out.assert_ok();
    let id = hub.with_state(|s| s.jobs.keys().next().cloned().unwrap());
    assert!(out.stdout.contains("✓ Job started"), "{}", out.stdout);
    assert!(out.stdout.contains("hello\nworld\n"), "{}", out.stdout);
    assert!(
        out.stdout.ends_with(&format!("Job {id} completed\n")),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("===== Job started"), "{}", out.stdout);
}

#[test]
fn run_exits_non_zero_when_the_job_fails() {
    let hub = hub();
    let out = run_and_drive(
        &hub,
        &["run", "python:3.12", "python", "-c", "raise SystemExit(1)"],
        &["Traceback"],
        "ERROR",
        Some("Job failed with exit code: 1"),
    );
    out.assert_failed();
    let id = hub.with_state(|s| s.jobs.keys().next().cloned().unwrap());
    assert!(
        out.stderr.contains(&format!(
            "Error: Job {id} finished with stage 'ERROR': Job failed with exit code: 1"
        )),
        "{}",
        out.stderr
    );
    assert!(out.stdout.contains("Traceback"), "{}", out.stdout);
}

#[test]
fn uv_run_of_a_command_follows_too() {
    let hub = hub();
    let out = run_and_drive(
        &hub,
        &["uv", "run", "python", "-c", "print(1)"],
        &["1"],
        "COMPLETED",
        None,
    );
    out.assert_ok();
    let body: Value = hub.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(
        body["command"],
        json!(["uv", "run", "python", "-c", "print(1)"])
    );
    assert_eq!(
        body["dockerImage"],
        "ghcr.io/astral-sh/uv:python3.12-bookworm"
    );
}

#[test]
fn a_missing_local_script_fails_before_any_request() {
    let hub = hub();
    let home = Home::new();
    let out = hfjobs(&hub, &home, &["uv", "run", "-d", "missing.py"]);
    out.assert_failed();
    assert!(out.stderr.contains("missing.py"), "{}", out.stderr);
    assert!(hub.server.requests_to("POST", "/").is_empty());
}

#[test]
fn no_credits_is_one_clear_line() {
    let hub = hub();
    hub.inject(
        Fault::on("POST", "/api/jobs/alice")
            .status(402)
            .message("Pre-paid credit balance is insufficient"),
    );
    let out = hfjobs(&hub, &Home::new(), &["run", "-d", "ubuntu", "true"]);
    out.assert_failed();
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    assert!(errors[0].contains("Payment required"), "{}", out.stderr);
    assert!(
        errors[0].contains("credit balance is insufficient"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_bad_token_is_named_and_never_printed() {
    let hub = hub();
    let home = Home::new();
    let mut cmd = command(&hfjobs_bin(), &hub, &home);
    cmd.env("HF_TOKEN", "hf_wrong_secret_value").args(["ps"]);
    let out = finish(cmd);
    out.assert_failed();
    assert!(
        out.stderr.contains("Invalid or expired token"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("HF_TOKEN environment variable"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stderr.contains("hf_wrong_secret_value"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn no_token_at_all_says_how_to_log_in() {
    let hub = hub();
    let home = Home::new();
    let mut cmd = command(&hfjobs_bin(), &hub, &home);
    cmd.env_remove("HF_TOKEN").args(["ps"]);
    let out = finish(cmd);
    out.assert_failed();
    assert!(out.stderr.contains("Not logged in"), "{}", out.stderr);
}

#[test]
fn the_saved_login_token_is_used_and_sent_for_bare_hf_token_secrets() {
    let hub = hub();
    let home = Home::new();
    std::fs::create_dir_all(home.path().join("hf")).unwrap();
    std::fs::write(home.path().join("hf").join("token"), format!("{TOKEN}\n")).unwrap();
    let mut cmd = command(&hfjobs_bin(), &hub, &home);
    cmd.env_remove("HF_TOKEN")
        .args(["run", "-d", "-s", "HF_TOKEN", "--json", "ubuntu", "true"]);
    let out = finish(cmd);
    out.assert_ok();
    let body: Value = hub.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(body["secrets"]["HF_TOKEN"], TOKEN);
    assert!(
        !out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN),
        "{out:#?}"
    );
    let printed: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert!(
        printed["name"]
            .as_str()
            .is_some_and(|n| n.starts_with("ubuntu-")),
        "{printed}"
    );
    assert!(
        printed["id"].as_str().is_some_and(|id| id.len() == 24),
        "{printed}"
    );
}

#[test]
fn the_token_flag_wins_and_is_never_printed() {
    let hub = hub();
    let home = Home::new();
    let mut cmd = command(&hfjobs_bin(), &hub, &home);
    cmd.env("HF_TOKEN", "hf_other").args([
        "run",
        "-d",
        "--dry-run",
        "-s",
        "API=topsecret",
        "--token",
        TOKEN,
        "ubuntu",
        "true",
    ]);
    let out = finish(cmd);
    out.assert_ok();
    assert!(out.stdout.contains("API=***"), "{}", out.stdout);
    assert!(
        out.stdout.contains("(dry run) Job not submitted."),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("topsecret") && !out.stderr.contains("topsecret"));
    assert!(hub.server.requests().is_empty(), "a dry run sent requests");
    let out = hfjobs(&hub, &home, &["ps", "--token", TOKEN, "-q"]);
    out.assert_ok();
}

#[test]
fn unknown_jobs_and_bad_ids_fail_cleanly() {
    let hub = hub();
    let home = Home::new();
    let out = hfjobs(&hub, &home, &["inspect", "0123456789abcdef01234567"]);
    out.assert_failed();
    assert!(out.stderr.starts_with("Error: Not found"), "{}", out.stderr);
    let out = hfjobs(&hub, &home, &["cancel", "a/b/c"]);
    out.assert_failed();
    assert!(out.stderr.contains("namespace/job_id"), "{}", out.stderr);
    let out = hfjobs(&hub, &home, &["logs", "--namespace", "bob", "alice/123"]);
    out.assert_failed();
    assert!(
        out.stderr.contains("Conflicting namespace"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_flags_are_usage_errors() {
    let hub = hub();
    let out = hfjobs(&hub, &Home::new(), &["ps", "--bogus"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(out.stderr.contains("--bogus"), "{}", out.stderr);
    let out = hfjobs(&hub, &Home::new(), &["run", "-d", "ubuntu"]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    let out = hfjobs(
        &hub,
        &Home::new(),
        &["run", "-d", "--timeout", "2H", "ubuntu", "true"],
    );
    out.assert_failed();
    assert!(out.stderr.contains("2H"), "{}", out.stderr);
    let out = hfjobs(&hub, &Home::new(), &["ps", "-a", "--status", "running"]);
    out.assert_failed();
    assert!(
        hub.server.requests().is_empty(),
        "usage errors sent requests"
    );
}

#[test]
fn everything_after_the_image_is_the_command() {
    let hub = hub();
    let out = hfjobs(
        &hub,
        &Home::new(),
        &["run", "-d", "ubuntu", "echo", "-e", "AA=1", "--name", "x"],
    );
    out.assert_ok();
    let body: Value = hub.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(
        body["command"],
        json!(["echo", "-e", "AA=1", "--name", "x"])
    );
    assert_eq!(body["environment"], json!({}));
}

#[test]
fn env_files_and_secrets_files() {
    let hub = hub();
    let home = Home::new();
    std::fs::write(
        home.path().join("job.env"),
        "# settings\nAA=file\nBB=\"two words\"\n",
    )
    .unwrap();
    std::fs::write(home.path().join("secrets.env"), "TOKEN_X=s3cr3t\n").unwrap();
    let out = hfjobs(
        &hub,
        &home,
        &[
            "run",
            "-d",
            "--env-file",
            "job.env",
            "-e",
            "AA=flag",
            "--secrets-file",
            "secrets.env",
            "ubuntu",
            "env",
        ],
    );
    out.assert_ok();
    let body: Value = hub.server.requests_to("POST", "/api/jobs/alice")[0]
        .json()
        .unwrap();
    assert_eq!(
        body["environment"],
        json!({ "AA": "flag", "BB": "two words" })
    );
    assert_eq!(body["secrets"], json!({ "TOKEN_X": "s3cr3t" }));
    assert!(!out.stderr.contains("s3cr3t") && !out.stdout.contains("s3cr3t"));
    let out = hfjobs(
        &hub,
        &home,
        &["run", "-d", "-s", "NOT_SET_ANYWHERE", "ubuntu", "env"],
    );
    out.assert_failed();
    assert!(out.stderr.contains("NOT_SET_ANYWHERE"), "{}", out.stderr);
}

fn running_job(hub: &FakeHub, extra: Value) -> String {
    let mut spec = json!({ "command": ["sleep", "1000"], "arguments": [], "environment": {},
                           "flavor": "cpu-basic", "dockerImage": "ubuntu", "labels": { "name": "sleeper" } });
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    let id = hub.add_job("alice", spec);
    hub.set_stage(&id, "RUNNING");
    id
}

#[test]
fn ps_outputs_table_json_and_ids() {
    let hub = hub();
    let id = running_job(&hub, json!({}));
    let home = Home::new();
    let out = hfjobs(&hub, &home, &["ps"]);
    out.assert_ok();
    let mut lines = out.stdout.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "JOB_ID",
            "NAME",
            "IMAGE/SPACE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "RUNTIME"
        ]
    );
    assert!(
        out.stdout.contains(&id)
            && out.stdout.contains("sleeper")
            && out.stdout.contains("RUNNING")
    );
    let out = hfjobs(&hub, &home, &["ps", "--json"]);
    let items: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(items[0]["job_id"], id.as_str());
    assert_eq!(items[0]["status"], "RUNNING");
    let out = hfjobs(&hub, &home, &["ps", "-q"]);
    assert_eq!(out.stdout, format!("{id}\n"));
    let out = hfjobs(&hub, &home, &["ps", "--status", "error"]);
    out.assert_ok();
    assert!(
        out.stdout.contains("No jobs matched filters: status=error"),
        "{}",
        out.stdout
    );
    let out = hfjobs(&hub, &home, &["ps", "--json", "-q"]);
    out.assert_failed();
}

#[test]
fn logs_follow_until_the_job_ends() {
    let hub = hub();
    let id = running_job(&hub, json!({}));
    hub.append_logs(&id, &["one"]);
    let home = Home::new();
    std::thread::scope(|scope| {
        let process = scope.spawn(|| hfjobs(&hub, &home, &["logs", "-f", &id]));
        std::thread::sleep(Duration::from_millis(400));
        hub.append_logs(&id, &["two"]);
        std::thread::sleep(Duration::from_millis(200));
        hub.set_stage(&id, "COMPLETED");
        let out = process.join().unwrap();
        out.assert_ok();
        assert_eq!(out.stdout, "one\ntwo\n");
        assert!(out.stderr.contains("Stream ended"), "{}", out.stderr);
    });
}

#[test]
fn wait_reports_failures_and_timeouts() {
    let hub = hub();
    let ok = running_job(&hub, json!({}));
    hub.set_stage(&ok, "COMPLETED");
    let bad = running_job(&hub, json!({}));
    hub.set_stage(&bad, "ERROR");
    let home = Home::new();
    hfjobs(&hub, &home, &["wait", &ok]).assert_ok();
    let out = hfjobs(
        &hub,
        &home,
        &["wait", &format!("alice/{ok}"), &format!("alice/{bad}")],
    );
    out.assert_failed();
    assert!(
        out.stderr.contains(&format!(
            "1 of 2 Job(s) did not complete successfully: {bad} (ERROR)"
        )),
        "{}",
        out.stderr
    );
    let still = running_job(&hub, json!({}));
    let out = hfjobs(&hub, &home, &["wait", "--timeout", "1s", &still]);
    out.assert_failed();
    assert!(out.stderr.contains("Timed out after 1s"), "{}", out.stderr);
}

#[test]
fn stats_snapshot_of_a_running_job() {
    let hub = hub();
    let id = running_job(&hub, json!({}));
    let out = hfjobs(&hub, &Home::new(), &["stats", &id]);
    out.assert_ok();
    assert!(out.stdout.starts_with("JOB ID"), "{}", out.stdout);
    assert!(
        out.stdout.contains("42%") && out.stdout.contains("8.0"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("4.0GB / 16.0GB"), "{}", out.stdout);
    let out = hfjobs(&hub, &Home::new(), &["stats", "--json"]);
    let items: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(items[0]["job_id"], id.as_str());
}

#[test]
fn ssh_dry_run_prints_the_command() {
    let hub = hub();
    let id = running_job(&hub, json!({ "ssh": { "enabled": true } }));
    let out = hfjobs(
        &hub,
        &Home::new(),
        &["ssh", "--dry-run", "-i", "my key", &id],
    );
    out.assert_ok();
    assert_eq!(out.stdout, format!("ssh -i 'my key' {id}@ssh.hf.jobs\n"));
    let plain = running_job(&hub, json!({}));
    let out = hfjobs(&hub, &Home::new(), &["ssh", "--dry-run", &plain]);
    out.assert_failed();
    assert!(out.stderr.contains("SSH is not enabled"), "{}", out.stderr);
}

#[test]
fn expose_rerun_and_labels() {
    let hub = hub();
    let id = running_job(&hub, json!({}));
    let home = Home::new();
    let out = hfjobs(&hub, &home, &["expose", &id, "8000", "--public", "9000"]);
    out.assert_ok();
    let body: Value = hub
        .server
        .requests_to("PUT", "/api/jobs/alice")
        .last()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        body,
        json!({ "ports": [8000, 9000], "portsPublic": [9000] })
    );
    let out = hfjobs(&hub, &home, &["rerun", "-d", "-q", &id]);
    out.assert_ok();
    let new_id = out.stdout.trim().to_owned();
    assert_ne!(new_id, id);
    assert_eq!(
        hub.job(&new_id).unwrap()["initiator"]["type"],
        "duplicated-job"
    );
    let out = hfjobs(&hub, &home, &["labels", &id, "--name", "renamed"]);
    out.assert_ok();
    assert_eq!(hub.job(&id).unwrap()["labels"]["name"], "renamed");
    let out = hfjobs(&hub, &home, &["labels", &id]);
    out.assert_failed();
}

#[test]
fn hardware_is_public_and_json() {
    let hub = hub();
    let out = hfjobs(&hub, &Home::new(), &["hardware", "--json"]);
    out.assert_ok();
    let items: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(items[0]["name"], "cpu-basic");
    assert_eq!(items[0]["cost/hour"], "$0.01");
    assert_eq!(items[2]["accelerator"], "1x T4 (16 GB)");
}

#[test]
fn trigger_conflict_is_reported() {
    let hub = hub();
    let home = Home::new();
    hfjobs(
        &hub,
        &home,
        &["scheduled", "run", "@hourly", "ubuntu", "true"],
    )
    .assert_ok();
    let id = hub.with_state(|s| s.scheduled.keys().next().cloned().unwrap());
    hfjobs(&hub, &home, &["scheduled", "trigger", &id]).assert_ok();
    let out = hfjobs(&hub, &home, &["scheduled", "trigger", &id]);
    out.assert_failed();
    assert!(out.stderr.contains("already running"), "{}", out.stderr);
    let out = hfjobs(&hub, &home, &["scheduled", "inspect", &id, "--json"]);
    let items: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(items[0]["schedule"], "@hourly");
    assert!(items[0]["status"]["last_job"]["id"].is_string(), "{items}");
}

#[test]
fn reschedule_prints_the_new_schedule_and_refuses_a_bad_one() {
    let hub = hub();
    let home = Home::new();
    hfjobs(
        &hub,
        &home,
        &[
            "scheduled",
            "run",
            "--name",
            "weekly",
            "@hourly",
            "ubuntu",
            "true",
        ],
    )
    .assert_ok();
    let id = hub.with_state(|s| s.scheduled.keys().next().cloned().unwrap());
    let out = hfjobs(&hub, &home, &["scheduled", "reschedule", &id, "0 9 * * 1"]);
    out.assert_ok();
    assert_eq!(
        out.stdout,
        format!("✓ Scheduled Job rescheduled\n  id: {id}\n  schedule: 0 9 * * 1\n")
    );
    assert_eq!(
        out.stderr,
        format!("Hint: Use `hfjobs scheduled inspect alice/{id}` to see its next run.\n")
    );
    let stored = hub.scheduled_job(&id).unwrap();
    assert_eq!(stored["schedule"], "0 9 * * 1");
    assert_eq!(stored["jobSpec"]["labels"]["name"], "weekly");
    let out = hfjobs(
        &hub,
        &home,
        &[
            "scheduled",
            "reschedule",
            &format!("alice/{id}"),
            "@daily",
            "--json",
        ],
    );
    out.assert_ok();
    let printed: Value = serde_json::from_str(out.stdout.trim()).unwrap();
    assert_eq!(printed, json!({ "id": id, "schedule": "@daily" }));
    // The Hub judges the schedule: one line saying why, and nothing changed.
    let out = hfjobs(
        &hub,
        &home,
        &["scheduled", "reschedule", &id, "every monday"],
    );
    out.assert_failed();
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "Error: bad request: schedule: Invalid schedule 'every monday', expected @hourly, @daily, ... or a cron expression\n"
    );
    assert_eq!(hub.scheduled_job(&id).unwrap()["schedule"], "@daily");
    let out = hfjobs(
        &hub,
        &home,
        &[
            "scheduled",
            "reschedule",
            "0123456789abcdef01234567",
            "@daily",
        ],
    );
    out.assert_failed();
    assert!(out.stderr.starts_with("Error: Not found"), "{}", out.stderr);
    // A malformed id or a missing schedule fails before any request.
    hub.server.clear_requests();
    let out = hfjobs(&hub, &home, &["scheduled", "reschedule", "a/b/c", "@daily"]);
    out.assert_failed();
    assert!(out.stderr.contains("namespace/job_id"), "{}", out.stderr);
    let out = hfjobs(&hub, &home, &["scheduled", "reschedule", &id]);
    assert_eq!(out.code, Some(2), "{out:#?}");
    assert!(
        hub.server.requests().is_empty(),
        "bad arguments sent requests"
    );
}
