//! Request bodies compared with those recorded from the real Python client.
//!
//! The files in `tests/golden/` were produced by `tests/golden/record.py`, which runs
//! `huggingface_hub` 2.4.0 (`HfApi(endpoint=<recorder>, token=...)`) against a small recording
//! HTTP server and saves method, path, decoded query pairs and JSON body of each call. Here the
//! same calls are made with `hf_jobs` against `FakeHub`, and what the fake received is compared
//! with the recording as `serde_json::Value`s.

use std::collections::BTreeMap;
use std::path::PathBuf;

use futures_util::TryStreamExt;
use hf_jobs::jobs::{CliNameParts, JobFilter, JobStage, ScheduleSpec};
use hf_jobs::{HfClient, JobSpec, SecretString, Volume, VolumeType, jobs};
use serde_json::Value;

use super::{TOKEN, hub};

fn golden(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hello() -> Vec<&'static str> {
    vec!["python", "-c", "print('hello')"]
}

fn full(image: &str, command: &[&str]) -> JobSpec {
    JobSpec::new(image, command.iter().copied())
        .env("MY_VAR", "1")
        .env("B_2", "x")
        .secret("HF_TOKEN", SecretString::from("hf_secret_value"))
        .flavor("a10g-small")
        .timeout("1.5h")
        .attempts(3)
        .label("team", "ci")
        .label("run", "42")
        .volume(Volume::new(VolumeType::Dataset, "org/ds", "/data").read_only(true))
        .volume(
            Volume::new(VolumeType::Model, "org/gpt2", "/m")
                .revision("main")
                .path("subdir"),
        )
        .volume(Volume::new(VolumeType::Bucket, "alice/artifacts", "/out").read_only(false))
        .expose(8000)
        .expose(8001)
        .expose_public(8080)
        .resource_group_id("0123456789abcdef01234567")
        .name("my-job")
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const JOB_ID: &str = "687f911eaea852de79c4a50a";
const SCHEDULED_ID: &str = "6abb8dc9c617607c354d45f4";

/// Makes the call named `case`; its outcome does not matter here (ids may not exist).
async fn call(case: &str, client: &HfClient, anonymous_namespace: &HfClient) {
    let ubuntu = |command: &[&str]| JobSpec::new("ubuntu", command.iter().copied());
    let _ = match case {
        "run_minimal" => client
            .run_job(&JobSpec::new("python:3.12", hello()))
            .await
            .map(drop),
        "run_whoami" => anonymous_namespace
            .run_job(&ubuntu(&["echo", "hello"]))
            .await
            .map(drop),
        "run_full" => client
            .run_job(&full("ubuntu", &["bash", "-c", "echo $MY_VAR"]).ssh(true))
            .await
            .map(drop),
        "run_space" => client
            .run_job(
                &JobSpec::new("hf.co/spaces/lhoestq/duckdb", ["duckdb", "-c", "select 1"])
                    .timeout(300),
            )
            .await
            .map(drop),
        "run_space_https" => client
            .run_job(&JobSpec::new("https://huggingface.co/spaces/org/app", ["run"]).timeout("90m"))
            .await
            .map(drop),
        "run_timeout_1d" => client
            .run_job(&ubuntu(&["sleep", "1"]).timeout("1d"))
            .await
            .map(drop),
        "run_timeout_text_seconds" => client
            .run_job(&ubuntu(&["true"]).timeout("300"))
            .await
            .map(drop),
        "run_timeout_3600s" => client
            .run_job(&ubuntu(&["true"]).timeout("3600s"))
            .await
            .map(drop),
        "run_timeout_zero" => client
            .run_job(&ubuntu(&["true"]).timeout(0))
            .await
            .map(drop),
        "run_name_label" => client
            .run_job(&ubuntu(&["true"]).label("name", "from-label").label("k", ""))
            .await
            .map(drop),
        "run_network" => client
            .run_job(
                &ubuntu(&["true"])
                    .network("grp", vec!["db".into(), "cache".into()])
                    .expose_public(9000)
                    .expose_public(9000),
            )
            .await
            .map(drop),
        "run_registry_image" => client
            .run_job(&JobSpec::new(
                "ghcr.io/astral-sh/uv:python3.12-bookworm",
                ["uv", "--version"],
            ))
            .await
            .map(drop),
        "scheduled_full" => {
            let spec = ScheduleSpec::new("@hourly", full("ubuntu", &["echo", "tick"]))
                .suspend(true)
                .concurrency(false);
            client.create_scheduled_job(&spec).await.map(drop)
        }
        "scheduled_minimal" => {
            let spec = ScheduleSpec::new("*/5 * * * *", JobSpec::new("python:3.12", hello()));
            client.create_scheduled_job(&spec).await.map(drop)
        }
        "update_job_labels" => client
            .update_job_labels(JOB_ID, &labels(&[("name", "renamed"), ("stage", "two")]))
            .await
            .map(drop),
        "update_job_expose" => client
            .update_job_expose(JOB_ID, &[8000], &[8080, 8000])
            .await
            .map(drop),
        "update_scheduled_job_labels" => client
            .update_scheduled_job_labels(SCHEDULED_ID, &labels(&[("env", "prod")]))
            .await
            .map(drop),
        "update_scheduled_job_schedule" => client
            .update_scheduled_job_schedule(SCHEDULED_ID, "@daily")
            .await
            .map(drop),
        "list_jobs_filters" => {
            let filter = JobFilter::new()
                .stage(JobStage::parse("running"))
                .stage(JobStage::Scheduling)
                .label("env", "test")
                .label("run", "a=b");
            client
                .list_jobs(&filter)
                .try_collect::<Vec<_>>()
                .await
                .map(drop)
        }
        "list_scheduled_jobs_labels" => client
            .list_scheduled_jobs(&[("env".into(), "prod".into()), ("team".into(), "ci".into())])
            .await
            .map(drop),
        "cancel_job" => client.cancel_job(JOB_ID).await,
        "trigger_scheduled_job" => client.trigger_scheduled_job(SCHEDULED_ID).await.map(drop),
        "suspend_scheduled_job" => client.suspend_scheduled_job(SCHEDULED_ID).await,
        "resume_scheduled_job" => client.resume_scheduled_job(SCHEDULED_ID).await,
        "delete_scheduled_job" => client.delete_scheduled_job(SCHEDULED_ID).await,
        other => panic!("no Rust call for golden case {other}"),
    };
}

#[tokio::test]
async fn request_bodies_equal_those_of_huggingface_hub() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut cases: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".json").map(str::to_owned))
        .filter(|n| n != "names")
        .collect();
    cases.sort();
    assert!(cases.len() >= 25, "golden files missing: {cases:?}");

    let hub = hub();
    let client = HfClient::builder()
        .endpoint(hub.base_url())
        .token(SecretString::from(TOKEN))
        .namespace("alice")
        .build()
        .unwrap();
    let anonymous_namespace = super::client(&hub);
    for case in &cases {
        let expected = golden(case);
        hub.server.clear_requests();
        call(case, &client, &anonymous_namespace).await;
        let sent: Vec<_> = hub
            .server
            .requests()
            .into_iter()
            .filter(|r| r.path != "/api/whoami-v2")
            .collect();
        assert_eq!(sent.len(), 1, "{case}: expected one request, got {sent:?}");
        let request = &sent[0];
        assert_eq!(request.method, expected["method"], "{case}: method");
        assert_eq!(request.path, expected["path"], "{case}: path");
        let query: Vec<Value> = request
            .query
            .iter()
            .map(|(k, v)| Value::from(vec![k.clone(), v.clone()]))
            .collect();
        assert_eq!(Value::from(query), expected["query"], "{case}: query");
        let body: Value = if request.body.is_empty() {
            Value::Null
        } else {
            request.json().unwrap()
        };
        assert_eq!(body, expected["body"], "{case}: body");
    }
}

#[test]
fn default_names_equal_those_of_huggingface_hub() {
    let names = golden("names");
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    for case in names["library_image"].as_array().unwrap() {
        let name =
            jobs::default_job_name(case["image"].as_str().unwrap(), &strings(&case["command"]));
        assert_eq!(name, case["name"], "{case}");
    }
    for case in names["library_script"].as_array().unwrap() {
        let name =
            jobs::default_uv_job_name(case["script"].as_str().unwrap(), &strings(&case["args"]));
        assert_eq!(name, case["name"], "{case}");
    }
    let parts = |p: &Value| {
        let text = |key: &str| p.get(key).and_then(Value::as_str).map(str::to_owned);
        let list = |key: &str| p.get(key).map(strings).unwrap_or_default();
        let mut config = CliNameParts::default();
        config.flavor = text("flavor");
        config.timeout = text("timeout");
        config.namespace = text("namespace");
        config.network_group = text("network_group");
        config.extra = list("extra");
        config.env = p
            .get("env")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                    .collect()
            })
            .unwrap_or_default();
        config.secret_names = p
            .get("secrets")
            .and_then(Value::as_object)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        config.volume_specs = list("volume_specs");
        config.network_aliases = list("network_aliases");
        config
    };
    for case in names["cli_image"].as_array().unwrap() {
        let name = jobs::cli_default_job_name(
            case["image"].as_str().unwrap(),
            &strings(&case["command"]),
            &parts(&case["parts"]),
        );
        assert_eq!(name, case["name"], "{case}");
    }
    for case in names["cli_script"].as_array().unwrap() {
        let name = jobs::cli_default_uv_job_name(
            case["script"].as_str().unwrap(),
            &strings(&case["args"]),
            &parts(&case["parts"]),
        );
        assert_eq!(name, case["name"], "{case}");
    }
}
