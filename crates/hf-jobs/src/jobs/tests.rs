use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::json;

use super::*;
use crate::error::{from_response, retry_after, server_message};

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn default_names_match_the_reference_vectors() {
    assert_eq!(
        default_job_name("python:3.12", &strings(&["python", "-c", "print('hello')"])),
        "python-3-12-eb94fa4f"
    );
    assert_eq!(
        default_job_name("ubuntu", &strings(&["echo", "hello"])),
        "ubuntu-1e1e67fa"
    );
    assert_eq!(
        default_job_name(
            "hf.co/spaces/lhoestq/duckdb",
            &strings(&["duckdb", "-c", "select 1"])
        ),
        "lhoestq-duckdb-e51c00f1"
    );
    assert_eq!(default_uv_job_name("train.py", &[]), "train-ed183d67");
    assert_eq!(
        default_uv_job_name("train.py", &strings(&["--epochs", "3"])),
        "train-2f161011"
    );
    assert_eq!(
        default_uv_job_name("https://example.co/a/sft.py?raw=1", &[]),
        "sft-6b0bcb76"
    );
    assert_eq!(
        cli_default_job_name(
            "ubuntu",
            &strings(&["echo", "hello"]),
            &CliNameParts::default()
        ),
        "ubuntu-097c48ca"
    );
    let uv = CliNameParts {
        extra: strings(&["ghcr.io/astral-sh/uv:python3.12-bookworm", "3.12", "torch"]),
        ..CliNameParts::default()
    };
    assert_eq!(
        cli_default_uv_job_name("train.py", &strings(&["--epochs", "3"]), &uv),
        "train-738868f4"
    );
    assert_eq!(sanitize_job_name("a.b:c/d e_f-g"), "a-b-c-d-e_f-g");
}

#[test]
fn timeouts_convert_like_python() {
    let seconds = |t: Timeout| t.to_seconds().unwrap();
    assert_eq!(seconds("2h".into()), Some(7200));
    assert_eq!(seconds("30m".into()), Some(1800));
    assert_eq!(seconds("1.5h".into()), Some(5400));
    assert_eq!(seconds("1d".into()), Some(86400));
    assert_eq!(seconds("3600s".into()), Some(3600));
    assert_eq!(seconds("300".into()), Some(300));
    assert_eq!(seconds(300.into()), Some(300));
    assert_eq!(seconds(0.into()), None, "falsy: omitted");
    assert_eq!(seconds("".into()), None, "falsy: omitted");
    assert!(Timeout::from("2H").to_seconds().is_err());
    assert!(Timeout::from("1.5").to_seconds().is_err());
}

#[test]
fn minimal_body_has_python_keys_and_omissions() {
    let body = JobSpec::new("ubuntu", ["echo", "hello"]).to_body().unwrap();
    assert_eq!(
        body,
        json!({ "command": ["echo", "hello"], "arguments": [], "environment": {}, "flavor": "cpu-basic",
                "labels": { "name": "ubuntu-1e1e67fa" }, "dockerImage": "ubuntu" })
    );
    let scheduled = ScheduleSpec::new("@daily", JobSpec::new("ubuntu", ["true"]).ssh(true))
        .to_body()
        .unwrap();
    assert!(
        scheduled["jobSpec"].get("ssh").is_none(),
        "scheduled jobs never send ssh"
    );
    assert!(scheduled.get("suspend").is_none() && scheduled.get("concurrency").is_none());
}

#[test]
fn stages_parse_with_an_unknown_catch_all() {
    let stage: JobStage = serde_json::from_value(json!("UPDATING")).unwrap();
    assert_eq!(stage, JobStage::Unknown("UPDATING".into()));
    assert!(!stage.is_terminal());
    for terminal in ["COMPLETED", "CANCELED", "ERROR", "DELETED"] {
        assert!(JobStage::parse(terminal).is_terminal(), "{terminal}");
    }
    assert!(!JobStage::Running.is_terminal() && !JobStage::Scheduling.is_terminal());
    assert_eq!(JobStage::parse("running"), JobStage::Running);
}

#[test]
fn jobs_parse_tolerantly() {
    let minimal: Job = serde_json::from_value(json!({
        "id": "job-id", "owner": {"id": "1234", "name": "user", "type": "user"},
        "status": {"stage": "SCHEDULING"}, "somethingNew": {"x": 1}
    }))
    .unwrap();
    assert_eq!(minimal.status.message, None);
    assert!(minimal.secrets.is_empty() && minimal.labels.is_empty());

    let fixture: Job = serde_json::from_value(json!({
        "id": "abc123def456", "createdAt": "2026-01-15T10:30:00.000Z", "dockerImage": "python:3.12",
        "command": ["python", "-c", "print('hello')"], "arguments": [], "environment": {}, "secrets": {},
        "flavor": "cpu-basic", "labels": {"env": "test"}, "status": {"stage": "RUNNING"},
        "owner": {"id": "user-id", "name": "testuser", "type": "user"}, "timeout": 1800.0, "retry": 2,
        "durations": {"schedulingSecs": 12, "runningSecs": 187, "totalSecs": 199}
    }))
    .unwrap();
    assert_eq!(fixture.timeout_seconds, Some(1800));
    assert_eq!(fixture.attempts, Some(2));
    assert_eq!(fixture.durations.unwrap().running_secs, Some(187.0));
    assert_eq!(
        fixture.created_at.unwrap().to_string(),
        "2026-01-15T10:30:00Z"
    );

    let named: Job = serde_json::from_value(json!({
        "id": "x", "owner": {"id": "1", "name": "u", "type": "user"}, "status": {"stage": "ERROR", "message": "Job failed with exit code: 1"},
        "secrets": ["HF_TOKEN", "UV_SCRIPT_HF_TOKEN"]
    }))
    .unwrap();
    assert_eq!(named.secrets, ["HF_TOKEN", "UV_SCRIPT_HF_TOKEN"]);
    assert!(
        serde_json::from_value::<Job>(json!({"id": "x", "status": {"stage": "RUNNING"}})).is_err()
    );
}

fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (k, v) in pairs {
        map.append(*k, HeaderValue::from_static(v));
    }
    map
}

#[test]
fn error_messages_are_gathered_like_python() {
    let none = HeaderMap::new();
    assert_eq!(server_message(&none, br#"{"error": "msg"}"#), "msg");
    assert_eq!(
        server_message(&none, br#"{"error": ["m1", "m2"]}"#),
        "m1\nm2"
    );
    assert_eq!(
        server_message(&none, br#"{"error": "code", "error_description": "msg"}"#),
        "code: msg"
    );
    assert_eq!(
        server_message(&none, br#"{"errors": [{"message": "a"}, {"other": 1}]}"#),
        "a"
    );
    assert_eq!(server_message(&none, b"plain"), "plain");
    assert_eq!(
        server_message(&headers(&[("content-type", "text/html")]), b"<html></html>"),
        ""
    );
    let both = headers(&[("x-error-message", "same")]);
    assert_eq!(
        server_message(&both, br#"{"error": "same"}"#),
        "same",
        "deduplicated"
    );
    assert_eq!(
        server_message(&both, br#"{"error": "other"}"#),
        "same\nother"
    );

    let error = from_response(404, &none, b"", "GET /api/jobs/a/b");
    assert!(
        matches!(&error, Error::NotFound { message } if message.contains("GET /api/jobs/a/b")),
        "{error}"
    );
    assert!(matches!(
        from_response(422, &none, b"{}", "x"),
        Error::BadRequest { .. }
    ));
    assert!(!from_response(501, &none, b"", "x").is_retryable());
    assert!(from_response(408, &none, b"", "x").is_retryable());
}

#[test]
fn retry_after_comes_from_either_header() {
    assert_eq!(
        retry_after(&headers(&[("retry-after", "12")])),
        Some(std::time::Duration::from_secs(12))
    );
    assert_eq!(
        retry_after(&headers(&[("ratelimit", "\"api\";r=0;t=55")])),
        Some(std::time::Duration::from_secs(55))
    );
    assert_eq!(
        retry_after(&headers(&[(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT"
        )])),
        None
    );
    assert_eq!(retry_after(&HeaderMap::new()), None);
}

#[test]
fn link_headers_and_http_dates_parse() {
    let current = url::Url::parse("http://hub/api/jobs/alice").unwrap();
    let link = headers(&[(
        "link",
        "<http://hub/api/jobs/alice?cursor=abc>; rel=\"next\", <http://hub/x>; rel=\"prev\"",
    )]);
    assert_eq!(
        next_link(&link, &current).unwrap().as_str(),
        "http://hub/api/jobs/alice?cursor=abc"
    );
    let relative = headers(&[("link", "</api/jobs/alice?cursor=2>; rel=\"next\"")]);
    assert_eq!(
        next_link(&relative, &current).unwrap().as_str(),
        "http://hub/api/jobs/alice?cursor=2"
    );
    assert!(
        next_link(
            &headers(&[("link", "<http://hub/x>; rel=\"prev\"")]),
            &current
        )
        .is_none()
    );
    let date = sse::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
    assert_eq!(date.to_string(), "1994-11-06T08:49:37Z");
}
