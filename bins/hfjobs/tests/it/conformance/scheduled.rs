//! Scheduled jobs: `hf jobs scheduled ...` and `hfjobs scheduled ...` send the same requests.

use serde_json::{Value, json};
use testkit::FakeHub;

use super::Pair;
use crate::Cas;

#[test]
fn scheduled_create_list_suspend_resume_trigger_delete() {
    let pair = Pair::new(|_| {});
    pair.same(&["scheduled", "run", "@hourly", "ubuntu", "echo", "hi"])
        .ours
        .assert_ok();
    pair.same(&[
        "scheduled",
        "run",
        "--suspend",
        "--concurrency",
        "--name",
        "nightly",
        "-e",
        "AA=1",
        "--timeout",
        "1h",
        "0 0 * * *",
        "python:3.12",
        "python",
        "-c",
        "print(2)",
    ])
    .ours
    .assert_ok();
    pair.same(&[
        "scheduled",
        "run",
        "--no-suspend",
        "@daily",
        "ubuntu",
        "true",
    ])
    .ours
    .assert_ok();
    let ids: Vec<String> = pair
        .ours
        .with_state(|s| s.scheduled.keys().cloned().collect());
    assert_eq!(
        ids,
        pair.python
            .with_state(|s| s.scheduled.keys().cloned().collect::<Vec<_>>())
    );
    let first = &ids[0];
    for args in [
        &["scheduled", "ps"][..],
        &["scheduled", "ps", "-a"],
        &["scheduled", "ls", "--status", "suspended"],
        &["scheduled", "suspend", first],
        &["scheduled", "resume", first],
        &["scheduled", "trigger", first],
        &["scheduled", "inspect", first],
        &["scheduled", "labels", first, "--name", "renamed"],
    ] {
        pair.same(args).ours.assert_ok();
    }
    let both = pair.same(&["scheduled", "ps", "-a", "-q"]);
    assert_eq!(both.ours.stdout, both.python.stdout);
    pair.same(&["scheduled", "delete", &format!("alice/{first}")])
        .ours
        .assert_ok();
}

#[test]
fn uv_scheduled_command() {
    let pair = Pair::new(|_| {});
    pair.same(&[
        "scheduled",
        "uv",
        "run",
        "@weekly",
        "--with",
        "pandas",
        "python",
        "-c",
        "print(3)",
    ])
    .ours
    .assert_ok();
}

#[test]
fn scheduled_uv_run_of_a_local_script() {
    let cas = Cas::start();
    let pair = Pair::new(|hub| hub.set_xet_cas_url(&cas.url));
    std::fs::write(pair.home.path().join("report.py"), "print('report')\n").unwrap();
    let both = pair.same(&[
        "scheduled",
        "uv",
        "run",
        "--suspend",
        "@daily",
        "report.py",
        "--full",
    ]);
    both.ours.assert_ok();
}

/// `scheduled reschedule` sends `POST /api/scheduled-jobs/{namespace}/{id}/schedule` with
/// `{"schedule": ...}`, whichever way the id is written; neither client checks the schedule:
/// one the Hub refuses is sent all the same, and both fail.
#[test]
fn scheduled_reschedule() {
    let pair = Pair::new(|_| {});
    pair.same(&[
        "scheduled",
        "run",
        "--suspend",
        "@hourly",
        "ubuntu",
        "echo",
        "hi",
    ])
    .ours
    .assert_ok();
    let id: String = pair
        .ours
        .with_state(|s| s.scheduled.keys().next().cloned().unwrap());
    let both = pair.same(&["scheduled", "reschedule", &id, "0 9 * * 1"]);
    both.python.assert_ok();
    both.ours.assert_ok();
    assert_eq!(both.ours.stdout, both.python.stdout);
    let body: Value = pair
        .ours
        .server
        .requests_to("POST", &format!("/api/scheduled-jobs/alice/{id}/schedule"))[0]
        .json()
        .unwrap();
    assert_eq!(body, json!({ "schedule": "0 9 * * 1" }));
    // Only the schedule changed, on both Hubs alike (creation times aside).
    let stored = |hub: &FakeHub| {
        let mut job = hub.scheduled_job(&id).unwrap();
        job.as_object_mut().unwrap().remove("createdAt");
        job
    };
    let after = stored(&pair.ours);
    assert_eq!(after["schedule"], "0 9 * * 1");
    assert_eq!(after["suspend"], true);
    assert_eq!(after, stored(&pair.python));
    for args in [
        &["scheduled", "reschedule", &format!("alice/{id}"), "@daily"][..],
        &[
            "scheduled",
            "reschedule",
            "--namespace",
            "alice",
            &id,
            "*/15 * * * *",
        ],
    ] {
        pair.same(args).ours.assert_ok();
    }
    for format in [&["-q"][..], &["--format", "agent"]] {
        let args = [
            &["scheduled", "reschedule", id.as_str(), "@weekly"][..],
            format,
        ]
        .concat();
        let both = pair.same(&args);
        assert_eq!(both.ours.stdout, both.python.stdout);
    }
    let both = pair.same(&["scheduled", "reschedule", &id, "every monday"]);
    both.python.assert_failed();
    both.ours.assert_failed();
    assert_eq!(pair.ours.scheduled_job(&id).unwrap()["schedule"], "@weekly");
    let both = pair.same(&[
        "scheduled",
        "reschedule",
        "0123456789abcdef01234567",
        "@daily",
    ]);
    both.python.assert_failed();
    both.ours.assert_failed();
}
