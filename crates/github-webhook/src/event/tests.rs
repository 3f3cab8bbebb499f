use super::*;
use crate::{JobStatus, WorkflowJobAction};

/// A small but complete `workflow_job` body, for tests that edit one field.
fn job_body(action: &str, status: &str) -> serde_json::Value {
    serde_json::json!({
        "action": action,
        "workflow_job": {
            "id": 14541957942u64,
            "run_id": 5373506832u64,
            "run_attempt": 2,
            "head_sha": "16c5286e8d9a0629956a28938386b36608707a71",
            "status": status,
            "conclusion": null,
            "name": "test",
            "labels": ["self-hosted", "GPU"],
            "steps": [],
            "runner_id": null,
            "runner_name": null,
            "runner_group_id": null,
            "runner_group_name": null
        },
        "repository": {
            "id": 591427149,
            "name": "r",
            "full_name": "o/r",
            "owner": { "login": "o", "id": 1, "type": "Organization" },
            "private": true
        },
        "installation": { "id": 23154469, "node_id": "MDIz" },
        "sender": { "login": "dependabot[bot]", "id": 49699333, "type": "Bot" }
    })
}

fn parse_value(event: &str, value: &serde_json::Value) -> Result<Event, Error> {
    Event::parse(event, &serde_json::to_vec(value).unwrap())
}

fn malformed_message(result: Result<Event, Error>) -> String {
    match result {
        Err(Error::MalformedJson { event, message }) => {
            assert_eq!(event, "workflow_job");
            message
        }
        other => panic!("expected MalformedJson, got {other:?}"),
    }
}

#[test]
fn minimal_job_parses() {
    let event = parse_value("workflow_job", &job_body("queued", "queued")).unwrap();
    assert_eq!(event.name(), "workflow_job");
    assert_eq!(event.installation_id(), Some(23154469));
    let job = event.as_workflow_job().unwrap();
    assert_eq!(job.workflow_job.id, 14_541_957_942);
    assert_eq!(job.workflow_job.run_attempt, 2);
    assert_eq!(job.workflow_job.labels, ["self-hosted", "GPU"]);
    assert_eq!(job.sender.as_ref().unwrap().login, "dependabot[bot]");
}

#[test]
fn launchable_only_when_action_and_status_are_queued() {
    let cases = [
        ("queued", "queued", true),
        ("queued", "waiting", false),
        ("waiting", "waiting", false),
        ("waiting", "queued", false),
        ("in_progress", "in_progress", false),
        ("in_progress", "queued", false),
        ("completed", "completed", false),
        ("queued", "brand_new_status", false),
        ("brand_new_action", "queued", false),
    ];
    for (action, status, launchable) in cases {
        let event = parse_value("workflow_job", &job_body(action, status)).unwrap();
        let job = event.as_workflow_job().unwrap();
        assert_eq!(job.is_launchable(), launchable, "{action}/{status}");
    }
}

#[test]
fn unknown_action_and_status_values_parse_as_unknown() {
    let mut body = job_body("rerequested", "parked");
    body["workflow_job"]["conclusion"] = "exploded".into();
    let event = parse_value("workflow_job", &body).unwrap();
    let job = event.as_workflow_job().unwrap();
    assert_eq!(job.action, WorkflowJobAction::Unknown);
    assert_eq!(job.workflow_job.status, JobStatus::Unknown);
    assert_eq!(
        job.workflow_job.conclusion,
        Some(crate::Conclusion::Unknown)
    );
    assert_eq!(job.action.to_string(), "unknown");
}

#[test]
fn missing_optional_keys_take_defaults() {
    let mut body = job_body("queued", "queued");
    let job = body["workflow_job"].as_object_mut().unwrap();
    for key in [
        "run_attempt",
        "conclusion",
        "labels",
        "steps",
        "runner_id",
        "runner_name",
        "runner_group_id",
        "runner_group_name",
    ] {
        job.remove(key);
    }
    body.as_object_mut().unwrap().remove("installation");
    body.as_object_mut().unwrap().remove("sender");
    let event = parse_value("workflow_job", &body).unwrap();
    let job = event.as_workflow_job().unwrap();
    assert_eq!(job.workflow_job.run_attempt, 1);
    assert!(job.workflow_job.labels.is_empty());
    assert!(job.workflow_job.steps.is_empty());
    assert_eq!(job.workflow_job.runner_id, None);
    assert_eq!(job.installation, None);
    assert_eq!(job.sender, None);
    assert_eq!(event.installation_id(), None);
}

#[test]
fn null_lists_and_attempt_take_defaults() {
    let mut body = job_body("queued", "queued");
    body["workflow_job"]["labels"] = serde_json::Value::Null;
    body["workflow_job"]["steps"] = serde_json::Value::Null;
    body["workflow_job"]["run_attempt"] = serde_json::Value::Null;
    let event = parse_value("workflow_job", &body).unwrap();
    let job = &event.as_workflow_job().unwrap().workflow_job;
    assert!(job.labels.is_empty());
    assert_eq!(job.run_attempt, 1);
}

#[test]
fn run_id_sent_as_an_integral_float_is_accepted() {
    let body = serde_json::to_vec(&job_body("queued", "queued"))
        .map(|bytes| String::from_utf8(bytes).unwrap())
        .unwrap()
        .replace("5373506832", "5373506832.0");
    let event = Event::parse("workflow_job", body.as_bytes()).unwrap();
    assert_eq!(
        event.as_workflow_job().unwrap().workflow_job.run_id,
        5_373_506_832
    );
}

#[test]
fn fractional_or_negative_run_id_is_rejected() {
    for bad in [
        serde_json::json!(1.5),
        serde_json::json!(-3),
        serde_json::json!("12"),
    ] {
        let mut body = job_body("queued", "queued");
        body["workflow_job"]["run_id"] = bad.clone();
        let message = malformed_message(parse_value("workflow_job", &body));
        assert!(message.contains("workflow_job.run_id"), "{bad}: {message}");
    }
}

#[test]
fn runner_id_zero_is_not_an_assigned_runner() {
    let mut body = job_body("completed", "completed");
    body["workflow_job"]["runner_id"] = 0.into();
    let event = parse_value("workflow_job", &body).unwrap();
    let job = &event.as_workflow_job().unwrap().workflow_job;
    assert_eq!(job.runner_id, Some(0));
    assert_eq!(job.assigned_runner_id(), None);
}

#[test]
fn missing_required_field_is_named_with_its_path() {
    let mut body = job_body("queued", "queued");
    body["workflow_job"].as_object_mut().unwrap().remove("id");
    let message = malformed_message(parse_value("workflow_job", &body));
    assert!(message.contains("workflow_job"), "{message}");
    assert!(message.contains("missing field `id`"), "{message}");
}

#[test]
fn wrong_type_message_names_the_field_but_not_the_value() {
    let mut body = job_body("queued", "queued");
    body["workflow_job"]["id"] = "top-secret-value".into();
    let message = malformed_message(parse_value("workflow_job", &body));
    assert!(message.contains("workflow_job.id"), "{message}");
    assert!(!message.contains("top-secret-value"), "{message}");
}

#[test]
fn bad_timestamp_message_does_not_quote_it() {
    let mut body = job_body("queued", "queued");
    body["workflow_job"]["created_at"] = "not-a-time-sekrit".into();
    let message = malformed_message(parse_value("workflow_job", &body));
    assert!(message.contains("workflow_job.created_at"), "{message}");
    assert!(!message.contains("sekrit"), "{message}");
}

#[test]
fn syntax_errors_and_trailing_bytes_are_malformed() {
    for body in [
        &b""[..],
        b"{",
        b"not json",
        b"[]",
        b"null",
        b"{\"action\": \"queued\"",
    ] {
        malformed_message(Event::parse("workflow_job", body));
    }
    let mut bytes = serde_json::to_vec(&job_body("queued", "queued")).unwrap();
    bytes.extend_from_slice(b" trailing");
    let message = malformed_message(Event::parse("workflow_job", &bytes));
    assert!(message.contains("trailing"), "{message}");
}

#[test]
fn error_display_is_readable() {
    let err = Event::parse("workflow_job", b"{}").unwrap_err();
    assert_eq!(
        err.to_string(),
        "malformed workflow_job payload: at the top level: missing field `action` at line 1 column 2"
    );
}

#[test]
fn unknown_events_are_not_errors_and_do_not_read_the_body() {
    let event = Event::parse("workflow_run", b"\xff not json").unwrap();
    assert_eq!(
        event,
        Event::Unknown {
            name: "workflow_run".into()
        }
    );
    assert_eq!(event.name(), "workflow_run");
    assert_eq!(event.installation_id(), None);
    assert!(event.as_workflow_job().is_none());
}

#[test]
fn event_names_are_case_sensitive() {
    // GitHub always sends lower case; anything else is some other event.
    let event = parse_value("Workflow_Job", &job_body("queued", "queued")).unwrap();
    assert!(matches!(event, Event::Unknown { .. }));
}

#[test]
fn redact_strings_drops_quoted_spans() {
    assert_eq!(
        redact_strings(r#"invalid type: string "a\"b\\", expected u64 at line 1"#),
        r#"invalid type: string "…", expected u64 at line 1"#
    );
    assert_eq!(redact_strings("missing field `id`"), "missing field `id`");
    assert_eq!(redact_strings(r#"unterminated "abc"#), r#"unterminated "…"#);
}

#[test]
fn long_paths_are_truncated() {
    let path = "a".repeat(MAX_PATH_LEN * 2);
    let shown = describe_path(&path);
    assert_eq!(shown.len(), MAX_PATH_LEN + 3);
    assert_eq!(describe_path("x.\u{7}y"), "x.?y");
}
