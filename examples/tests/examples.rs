//! Every example runs here, against the `testkit` fakes, so CI runs them all without the
//! internet.

use std::time::Duration;

use ferry_examples::{play_hub, run_job};
use hf_jobs::{HfClient, JobStage, SecretString};
use testkit::FakeHub;

#[path = "../demo.rs"]
mod demo;

const TOKEN: &str = "hf_test_token";

#[tokio::test]
async fn run_job_starts_echo_hello_prints_its_log_and_waits_for_the_end() {
    let hub = FakeHub::start(TOKEN, "alice");
    let client = HfClient::new(hub.base_url(), SecretString::from(TOKEN)).unwrap();
    let mut out = Vec::new();
    let (done, id) = tokio::time::timeout(Duration::from_secs(30), async {
        tokio::join!(
            run_job(&client, Duration::from_millis(20), &mut out),
            play_hub(&hub, &["hello"])
        )
    })
    .await
    .expect("the example finishes");
    let done = done.unwrap();
    let id = id.expect("the example created a job");

    assert_eq!(done.id, id);
    assert_eq!(done.status.stage, JobStage::Completed);
    let spec = hub.with_state(|s| s.job_specs[&id].clone());
    assert_eq!(spec["dockerImage"], "ubuntu");
    assert_eq!(spec["command"], serde_json::json!(["echo", "hello"]));
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("started "), "{out}");
    assert!(lines[0].contains(&id), "the job URL names the job: {out}");
    assert_eq!(
        lines[1..],
        ["hello", "finished with stage COMPLETED"],
        "{out}"
    );
}

#[test]
fn demo_runs_the_whole_flow() {
    demo::main();
}
