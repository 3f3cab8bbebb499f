use serde_json::{Value, json};

use super::*;

async fn post(hub: &FakeHub, token: &str, body: Value) -> (u16, Value) {
    let answer = reqwest::Client::new()
        .post(hub.server.url("/api/jobs/alice"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (answer.status().as_u16(), answer.json().await.unwrap())
}

#[tokio::test]
async fn creates_and_inspects_jobs_like_the_hub() {
    let hub = FakeHub::start("hf_test", "alice");
    let (status, job) = post(
        &hub,
        "hf_test",
        json!({ "dockerImage": "ubuntu", "command": ["echo"], "arguments": [], "flavor": "cpu-basic",
                "environment": {"AB": "1"}, "secrets": {"TOKEN": "s3cret"}, "timeoutSeconds": 300 }),
    )
    .await;
    assert_eq!(status, 200, "{job}");
    assert_eq!(
        job["secrets"],
        json!(["TOKEN"]),
        "secret values never come back"
    );
    assert_eq!(job["timeout"], 300);
    assert_eq!(job["owner"]["name"], "alice");
    assert_eq!(job["status"]["stage"], "SCHEDULING");

    let id = job["id"].as_str().unwrap();
    hub.set_stage(id, "RUNNING");
    let inspected: Value = reqwest::Client::new()
        .get(hub.server.url(&format!("/api/jobs/alice/{id}")))
        .bearer_auth("hf_test")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(inspected["status"]["stage"], "RUNNING");
}

#[tokio::test]
async fn rejects_bad_tokens_and_invalid_specs_with_hub_errors() {
    let hub = FakeHub::start("hf_test", "alice");
    let valid = json!({ "dockerImage": "ubuntu", "command": ["true"], "flavor": "cpu-basic" });
    let (status, body) = post(&hub, "hf_wrong", valid.clone()).await;
    assert_eq!((status, body["error"].is_string()), (401, true));
    let (status, body) = post(&hub, "hf_test", valid.clone()).await;
    assert_eq!(status, 200, "{body}");
    hub.with_state(|s| s.jobs.clear());

    let with = |extra: Value| {
        let mut spec = valid.clone();
        for (k, v) in extra.as_object().unwrap() {
            spec[k] = v.clone();
        }
        spec
    };
    let cases = [
        json!({ "dockerImage": "ubuntu", "command": ["true"] }),
        json!({ "flavor": "cpu-basic", "command": ["true"] }),
        with(json!({ "flavor": "gpu-huge" })),
        with(json!({ "command": [] })),
        with(json!({ "environment": {"1BAD": "x"} })),
        with(json!({ "environment": {"A": "x"} })),
        with(json!({ "secrets": {"_X": "x"} })),
        with(json!({ "labels": {"a b": "x"} })),
        with(json!({ "labels": {"k": "has space"} })),
        with(json!({ "timeoutSeconds": 0 })),
        with(json!({ "attempts": 0 })),
        with(json!({ "volumes": [] })),
        with(json!({ "volumes": [{"type": "model", "source": "gpt2", "mountPath": "data"}] })),
        with(json!({ "volumes": [{"type": "repo", "source": "a/b", "mountPath": "/data"}] })),
        with(
            json!({ "volumes": [{"type": "bucket", "source": "a/b", "mountPath": "/d", "revision": "main"}] }),
        ),
        with(json!({ "expose": {"ports": [0]} })),
        with(json!({ "expose": {"ports": [8000], "portsPublic": [9000]} })),
        with(json!({ "resourceGroupId": "xyz" })),
    ];
    for case in cases {
        let (status, body) = post(&hub, "hf_test", case.clone()).await;
        assert_eq!(status, 400, "{case} → {body}");
        assert!(body["error"].as_str().is_some_and(|m| !m.is_empty()));
    }
    assert!(hub.with_state(|s| s.jobs.is_empty()));
}
