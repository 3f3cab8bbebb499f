//! Real payloads from `tests/data/github/` (octokit webhook examples, MIT).

use github_webhook::{
    AccountType, Conclusion, Delivery, Event, InstallationAction, InstallationEvent,
    InstallationRepositoriesAction, InstallationRepositoriesEvent, JobStatus, RepositorySelection,
    Verifier, WorkflowJob, WorkflowJobAction, WorkflowJobEvent, sign,
};
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::Value;

use crate::{fixture, fixtures_named};

const TWO_POW_32: u64 = 1 << 32;

fn parse(event: &str, body: &[u8]) -> Event {
    Event::parse(event, body).unwrap_or_else(|err| panic!("{event}: {err}"))
}

fn workflow_job(name: &str) -> WorkflowJobEvent {
    match parse("workflow_job", &fixture(name)) {
        Event::WorkflowJob(event) => *event,
        other => panic!("{name}: parsed as {}", other.name()),
    }
}

fn workflow_job_from(value: &Value) -> WorkflowJobEvent {
    match parse("workflow_job", &serde_json::to_vec(value).unwrap()) {
        Event::WorkflowJob(event) => *event,
        other => panic!("parsed as {}", other.name()),
    }
}

fn raw(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap()
}

fn timestamp(value: &Value) -> Option<Timestamp> {
    value.as_str().map(|text| text.parse().unwrap())
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Checks every field of the typed job against the raw JSON it came from.
fn assert_job_matches_raw(name: &str, job: &WorkflowJob, raw: &Value) {
    let str_field = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
    let u64_field = |key: &str| raw.get(key).and_then(Value::as_u64);
    assert_eq!(Some(job.id), u64_field("id"), "{name}: id");
    assert_eq!(Some(job.run_id), u64_field("run_id"), "{name}: run_id");
    assert_eq!(
        job.run_attempt,
        u64_field("run_attempt").unwrap_or(1),
        "{name}"
    );
    assert_eq!(Some(job.head_sha.clone()), str_field("head_sha"), "{name}");
    assert_eq!(Some(job.name.clone()), str_field("name"), "{name}");
    assert_eq!(job.head_branch, str_field("head_branch"), "{name}");
    assert_eq!(job.workflow_name, str_field("workflow_name"), "{name}");
    assert_eq!(job.node_id, str_field("node_id"), "{name}");
    assert_eq!(job.url, str_field("url"), "{name}");
    assert_eq!(job.html_url, str_field("html_url"), "{name}");
    assert_eq!(job.run_url, str_field("run_url"), "{name}");
    assert_eq!(job.check_run_url, str_field("check_run_url"), "{name}");
    // Known values must not fall into `Unknown`.
    assert_eq!(
        Some(job.status.as_str().to_owned()),
        str_field("status"),
        "{name}"
    );
    assert_eq!(
        job.conclusion.map(|c| c.as_str().to_owned()),
        str_field("conclusion"),
        "{name}"
    );
    assert_eq!(job.created_at, timestamp(&raw["created_at"]), "{name}");
    assert_eq!(job.started_at, timestamp(&raw["started_at"]), "{name}");
    assert_eq!(job.completed_at, timestamp(&raw["completed_at"]), "{name}");
    let labels: Vec<String> = serde_json::from_value(raw["labels"].clone()).unwrap();
    assert_eq!(job.labels, labels, "{name}");
    assert_eq!(job.runner_id, u64_field("runner_id"), "{name}");
    assert_eq!(job.runner_name, str_field("runner_name"), "{name}");
    assert_eq!(job.runner_group_id, u64_field("runner_group_id"), "{name}");
    assert_eq!(
        job.runner_group_name,
        str_field("runner_group_name"),
        "{name}"
    );
    let steps = raw["steps"].as_array().unwrap();
    assert_eq!(job.steps.len(), steps.len(), "{name}");
    for (step, raw_step) in job.steps.iter().zip(steps) {
        assert_eq!(step.name, raw_step["name"].as_str().unwrap(), "{name}");
        assert_eq!(Some(step.number), raw_step["number"].as_u64(), "{name}");
        assert_eq!(step.status.as_str(), raw_step["status"].as_str().unwrap());
        assert_eq!(
            step.conclusion.map(Conclusion::as_str),
            raw_step["conclusion"].as_str(),
            "{name}"
        );
        assert_eq!(
            step.started_at,
            timestamp(&raw_step["started_at"]),
            "{name}"
        );
        assert_eq!(
            step.completed_at,
            timestamp(&raw_step["completed_at"]),
            "{name}"
        );
    }
}

#[test]
fn every_workflow_job_fixture_parses_and_matches_its_json() {
    let names = fixtures_named("workflow_job.");
    assert_eq!(names.len(), 8, "{names:?}");
    for name in &names {
        let event = workflow_job(name);
        let raw = raw(name);
        // File names are `<event>.<action>.<n>.json`.
        let action = name.split('.').nth(1).unwrap();
        assert_eq!(event.action.as_str(), action, "{name}");
        assert_eq!(raw["action"], action, "{name}");
        assert_job_matches_raw(name, &event.workflow_job, &raw["workflow_job"]);
        assert_eq!(Some(event.repository.id), raw["repository"]["id"].as_u64());
        assert_eq!(event.repository.full_name, raw["repository"]["full_name"]);
        assert_eq!(
            event.repository.owner.login,
            raw["repository"]["owner"]["login"]
        );
        assert_eq!(event.repository.private, raw["repository"]["private"]);
        assert_eq!(
            event.installation.as_ref().map(|i| i.id),
            raw["installation"]["id"].as_u64(),
            "{name}"
        );
        assert_eq!(
            event.sender.as_ref().map(|s| s.login.as_str()),
            raw["sender"]["login"].as_str()
        );
    }
}

#[test]
fn real_queued_delivery_behind_an_approval() {
    let event = workflow_job("workflow_job.queued.1.json");
    assert_eq!(event.action, WorkflowJobAction::Queued);
    let job = &event.workflow_job;
    // `queued` action, `waiting` status: held by an environment approval, not launchable.
    assert_eq!(job.status, JobStatus::Waiting);
    assert!(!event.is_launchable());
    assert_eq!(job.id, 12_877_621_891);
    assert!(job.id > TWO_POW_32);
    assert_eq!(job.run_id, 4_747_967_848);
    assert!(job.run_id > TWO_POW_32);
    assert_eq!(job.run_attempt, 1);
    assert_eq!(job.labels, ["self-hosted", "k8s"]);
    assert_eq!(job.workflow_name.as_deref(), Some("Env Test"));
    assert_eq!(job.head_branch.as_deref(), Some("main"));
    assert_eq!(job.head_sha, "16c5286e8d9a0629956a28938386b36608707a71");
    assert_eq!(job.name, "test");
    assert_eq!(
        job.html_url.as_deref(),
        Some(
            "https://github.com/lineville/elastic-machines-testing/actions/runs/4747967848/jobs/8433573014"
        )
    );
    // A real queued delivery leaves every runner field null.
    assert_eq!(job.runner_id, None);
    assert_eq!(job.runner_name, None);
    assert_eq!(job.runner_group_id, None);
    assert_eq!(job.runner_group_name, None);
    assert!(job.steps.is_empty());
    assert_eq!(job.conclusion, None);
    assert_eq!(job.completed_at, None);
    assert_eq!(job.created_at, Some(ts("2023-04-19T21:12:12Z")));
    assert_eq!(job.started_at, Some(ts("2023-04-19T21:12:12Z")));
    let installation = event.installation.as_ref().unwrap();
    assert_eq!(installation.id, 23_154_469);
    assert_eq!(
        installation.node_id.as_deref(),
        Some("MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uMjMxNTQ0Njk=")
    );
    let deployment = event.deployment.as_ref().unwrap();
    assert_eq!(deployment.id, 875_096_709);
    assert_eq!(deployment.environment.as_deref(), Some("Test"));
    assert_eq!(event.repository.id, 591_427_149);
    assert_eq!(
        event.repository.full_name,
        "lineville/elastic-machines-testing"
    );
    assert_eq!(event.repository.owner.login, "lineville");
    assert!(!event.repository.private);
    assert_eq!(event.repository.fork, Some(false));
    assert_eq!(event.repository.visibility.as_deref(), Some("public"));
    assert_eq!(event.repository.default_branch.as_deref(), Some("main"));
    let sender = event.sender.as_ref().unwrap();
    assert_eq!(sender.login, "lineville");
    assert_eq!(sender.account_type, Some(AccountType::User));
    assert_eq!(event.organization, None);
}

#[test]
fn real_queued_delivery_becomes_launchable_once_approved() {
    // After approval GitHub sends `queued` again, now with `status: queued`.
    let mut value = raw("workflow_job.queued.1.json");
    value["workflow_job"]["status"] = "queued".into();
    value["workflow_job"]["labels"] = serde_json::json!(["self-hosted", "hf-gpu-A10G-large"]);
    value["workflow_job"]["run_attempt"] = 3.into();
    let event = workflow_job_from(&value);
    assert!(event.is_launchable());
    assert_eq!(
        event.workflow_job.labels,
        ["self-hosted", "hf-gpu-A10G-large"]
    );
    assert_eq!(event.workflow_job.run_attempt, 3);
}

#[test]
fn real_waiting_delivery_is_not_launchable() {
    let event = workflow_job("workflow_job.waiting.0.json");
    assert_eq!(event.action, WorkflowJobAction::Waiting);
    assert_eq!(event.workflow_job.status, JobStatus::Waiting);
    assert!(!event.is_launchable());
    assert_eq!(event.workflow_job.id, 12_877_621_891);
    assert_eq!(event.workflow_job.runner_name, None);
    assert_eq!(event.deployment, None);
}

#[test]
fn hand_written_queued_delivery_is_launchable() {
    let event = workflow_job("workflow_job.queued.0.json");
    assert_eq!(event.action, WorkflowJobAction::Queued);
    assert_eq!(event.workflow_job.status, JobStatus::Queued);
    assert!(event.is_launchable());
    assert_eq!(event.workflow_job.labels, ["ubuntu-latest"]);
    assert_eq!(event.workflow_job.run_id, 2_202_229_078);
}

#[test]
fn no_other_fixture_is_launchable() {
    for name in fixtures_named("workflow_job.") {
        if name != "workflow_job.queued.0.json" {
            assert!(!workflow_job(&name).is_launchable(), "{name}");
        }
    }
}

#[test]
fn old_docs_payload_without_run_attempt_or_workflow_name_parses() {
    let event = workflow_job("workflow_job.in_progress.0.json");
    let raw_job = &raw("workflow_job.in_progress.0.json")["workflow_job"];
    for key in ["run_attempt", "workflow_name", "created_at", "head_branch"] {
        assert!(raw_job.get(key).is_none(), "fixture unexpectedly has {key}");
    }
    let job = &event.workflow_job;
    assert_eq!(job.id, 2_832_853_555);
    assert_eq!(job.run_id, 940_463_255);
    assert_eq!(job.run_attempt, 1);
    assert_eq!(job.workflow_name, None);
    assert_eq!(job.created_at, None);
    assert_eq!(job.head_branch, None);
    assert_eq!(job.labels, ["gpu", "db-app", "dc-03"]);
    assert_eq!(job.runner_id, Some(1));
    assert_eq!(job.runner_name.as_deref(), Some("my runner"));
    assert_eq!(job.runner_group_id, Some(2));
    assert_eq!(job.runner_group_name.as_deref(), Some("my runner group"));
    assert_eq!(job.steps.len(), 1);
    assert_eq!(job.steps[0].status, JobStatus::InProgress);
    assert_eq!(event.organization.as_ref().unwrap().login, "octo-org");
    assert!(event.repository.private);
    assert_eq!(event.installation, None);
}

#[test]
fn real_in_progress_delivery_with_queued_steps() {
    let event = workflow_job("workflow_job.in_progress.2.json");
    let job = &event.workflow_job;
    assert_eq!(event.action, WorkflowJobAction::InProgress);
    assert_eq!(job.id, 14_541_957_942);
    assert!(job.id > TWO_POW_32);
    assert_eq!(job.run_id, 5_373_506_832);
    assert!(job.run_id > TWO_POW_32);
    assert_eq!(job.runner_name.as_deref(), Some("GitHub Actions 6"));
    assert_eq!(job.runner_id, Some(6));
    assert_eq!(job.assigned_runner_id(), Some(6));
    assert_eq!(job.workflow_name.as_deref(), Some("Test"));
    assert_eq!(job.steps.len(), 9);
    let statuses: Vec<JobStatus> = job.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        &statuses[..4],
        [
            JobStatus::Completed,
            JobStatus::Completed,
            JobStatus::InProgress,
            JobStatus::Queued
        ]
    );
    let first = &job.steps[0];
    assert_eq!(first.name, "Set up job");
    assert_eq!(first.conclusion, Some(Conclusion::Success));
    assert_eq!(first.started_at, Some(ts("2023-06-26T03:31:35Z")));
    assert_eq!(first.completed_at, Some(ts("2023-06-26T03:31:36Z")));
    let queued = &job.steps[3];
    assert_eq!(queued.name, "Run npm ci");
    assert_eq!(queued.conclusion, None);
    assert_eq!(queued.started_at, None);
    // Post steps are numbered after a gap.
    assert_eq!(job.steps[7].number, 13);
}

#[test]
fn completed_deliveries_carry_conclusions() {
    let failed = workflow_job("workflow_job.completed.0.json");
    assert_eq!(failed.action, WorkflowJobAction::Completed);
    assert_eq!(failed.workflow_job.status, JobStatus::Completed);
    assert_eq!(failed.workflow_job.conclusion, Some(Conclusion::Failure));
    assert_eq!(
        failed.workflow_job.completed_at,
        Some(ts("2021-08-05T10:38:16Z"))
    );
    let conclusions: Vec<_> = failed
        .workflow_job
        .steps
        .iter()
        .map(|s| s.conclusion)
        .collect();
    assert!(conclusions.contains(&Some(Conclusion::Failure)));
    assert!(conclusions.contains(&Some(Conclusion::Skipped)));
    assert_eq!(failed.organization.as_ref().unwrap().login, "Octocoders");
    let succeeded = workflow_job("workflow_job.completed.1.json");
    assert_eq!(succeeded.workflow_job.conclusion, Some(Conclusion::Success));
}

#[test]
fn cancelled_before_assignment_has_no_runner() {
    let mut value = raw("workflow_job.completed.1.json");
    let job = &mut value["workflow_job"];
    job["conclusion"] = "cancelled".into();
    job["runner_id"] = 0.into();
    job["runner_name"] = "".into();
    job["runner_group_id"] = Value::Null;
    job["runner_group_name"] = Value::Null;
    job["steps"] = serde_json::json!([]);
    let event = workflow_job_from(&value);
    assert_eq!(event.workflow_job.conclusion, Some(Conclusion::Cancelled));
    assert_eq!(event.workflow_job.assigned_runner_id(), None);
    assert!(!event.is_launchable());
}

#[test]
fn ping_fixtures_parse() {
    let names = fixtures_named("ping.");
    assert_eq!(names.len(), 4);
    for name in names {
        let Event::Ping(ping) = parse("ping", &fixture(&name)) else {
            panic!("{name}: not a ping");
        };
        assert_eq!(ping.hook_id, Some(109_948_940), "{name}");
        assert_eq!(
            ping.zen.as_deref(),
            Some("Anything added dilutes everything else.")
        );
        assert!(ping.hook.is_some(), "{name}");
    }
    let Event::Ping(ping) = parse("ping", &fixture("ping.event.2.json")) else {
        panic!("not a ping");
    };
    let hook = ping.hook.as_ref().unwrap();
    assert_eq!(hook.hook_type.as_deref(), Some("Repository"));
    assert_eq!(hook.app_id, Some(29310));
    assert_eq!(hook.events, ["*"]);
    assert_eq!(
        hook.config.as_ref().unwrap().content_type.as_deref(),
        Some("json")
    );
    assert_eq!(
        ping.repository.as_ref().unwrap().full_name,
        "Octocoders/Hello-World"
    );
}

#[test]
fn app_ping_without_repository_or_sender_parses() {
    // App pings carry no repository, sender or installation (github-api.md §1.5).
    let mut value = raw("ping.event.2.json");
    let object = value.as_object_mut().unwrap();
    object.remove("repository");
    object.remove("sender");
    value["hook"]["type"] = "App".into();
    value["hook"]["app_id"] = 360_617.into();
    let Event::Ping(ping) = parse("ping", &serde_json::to_vec(&value).unwrap()) else {
        panic!("not a ping");
    };
    let expected_hook_id = Some(109_948_940);
    assert_eq!(ping.hook_id, expected_hook_id);
    let hook = ping.hook.as_ref().unwrap();
    assert_eq!(hook.hook_type.as_deref(), Some("App"));
    assert_eq!(hook.app_id, Some(360_617));
    assert_eq!(ping.repository, None);
    assert_eq!(ping.sender, None);
    assert_eq!(Event::Ping(ping).installation_id(), None);
}

fn installation(name: &str) -> InstallationEvent {
    match parse("installation", &fixture(name)) {
        Event::Installation(event) => *event,
        other => panic!("{name}: parsed as {}", other.name()),
    }
}

#[test]
fn every_installation_fixture_parses_with_its_action() {
    let names = fixtures_named("installation.");
    assert_eq!(names.len(), 7);
    for name in names {
        let event = installation(&name);
        let action = name.split('.').nth(1).unwrap();
        assert_eq!(event.action.as_str(), action, "{name}");
        assert_ne!(event.action, InstallationAction::Unknown, "{name}");
        assert!(event.installation.account.is_some(), "{name}");
    }
}

#[test]
fn installation_created_details() {
    let event = installation("installation.created.0.json");
    assert_eq!(event.action, InstallationAction::Created);
    let inst = &event.installation;
    assert_eq!(inst.id, 957_387);
    assert_eq!(inst.app_id, Some(29310));
    assert_eq!(inst.target_id, Some(21_031_067));
    assert_eq!(inst.target_type.as_deref(), Some("User"));
    assert_eq!(
        inst.repository_selection,
        Some(RepositorySelection::Selected)
    );
    assert_eq!(inst.account.as_ref().unwrap().login, "Codertocat");
    assert_eq!(
        inst.permissions.get("metadata").map(String::as_str),
        Some("read")
    );
    assert_eq!(
        inst.permissions.get("checks").map(String::as_str),
        Some("write")
    );
    // This example sends `created_at` as Unix seconds.
    assert_eq!(
        inst.created_at,
        Some(Timestamp::from_second(1_557_933_591).unwrap())
    );
    assert_eq!(inst.suspended_at, None);
    let repositories = event.repositories.as_ref().unwrap();
    assert_eq!(repositories.len(), 1);
    assert_eq!(repositories[0].full_name, "Codertocat/Hello-World");
    assert_eq!(repositories[0].id, 186_853_002);
    assert!(!repositories[0].private);
}

#[test]
fn installation_suspend_details() {
    let event = installation("installation.suspend.0.json");
    assert_eq!(event.action, InstallationAction::Suspend);
    let inst = &event.installation;
    assert_eq!(inst.id, 16_598_467);
    assert_eq!(inst.suspended_at, Some(ts("2021-04-29T02:32:50Z")));
    // This example sends `created_at` as RFC 3339 with an offset.
    assert_eq!(inst.created_at, Some(ts("2021-04-29T02:32:21Z")));
    assert_eq!(inst.repository_selection, Some(RepositorySelection::All));
    assert_eq!(event.repositories, None);
    let unsuspend = installation("installation.unsuspend.0.json");
    assert_eq!(unsuspend.action, InstallationAction::Unsuspend);
    assert_eq!(unsuspend.installation.suspended_at, None);
}

fn installation_repositories(name: &str) -> InstallationRepositoriesEvent {
    match parse("installation_repositories", &fixture(name)) {
        Event::InstallationRepositories(event) => *event,
        other => panic!("{name}: parsed as {}", other.name()),
    }
}

#[test]
fn installation_repositories_added_and_removed() {
    for name in fixtures_named("installation_repositories.") {
        installation_repositories(&name);
    }
    let added = installation_repositories("installation_repositories.added.0.json");
    assert_eq!(added.action, InstallationRepositoriesAction::Added);
    assert_eq!(added.installation.id, 957_387);
    assert_eq!(
        added.repository_selection,
        Some(RepositorySelection::Selected)
    );
    assert_eq!(added.repositories_added.len(), 1);
    assert_eq!(added.repositories_added[0].full_name, "Codertocat/Space");
    assert!(added.repositories_removed.is_empty());
    assert_eq!(added.requester, None);

    let removed = installation_repositories("installation_repositories.removed.0.json");
    assert_eq!(removed.action, InstallationRepositoriesAction::Removed);
    assert!(removed.repositories_added.is_empty());
    assert_eq!(
        removed.repositories_removed[0].full_name,
        "octocat/Hello-World"
    );
    assert_eq!(removed.requester, None);
    assert_eq!(
        Event::InstallationRepositories(Box::new(removed)).installation_id(),
        Some(2)
    );
}

#[test]
fn workflow_run_is_an_unknown_event() {
    let event = parse("workflow_run", &fixture("workflow_run.requested.0.json"));
    assert_eq!(
        event,
        Event::Unknown {
            name: "workflow_run".into()
        }
    );
}

#[test]
fn fixture_sent_as_the_wrong_event_is_malformed() {
    // A ping body announced as workflow_job: a clear error naming the missing field.
    let err = Event::parse("workflow_job", &fixture("ping.event.0.json")).unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("malformed workflow_job payload"),
        "{message}"
    );
    assert!(message.contains("missing field `action`"), "{message}");
}

#[test]
fn whole_delivery_round_trip() {
    // What the dispatcher does: headers, then signature over the raw bytes, then parse.
    let secret = SecretString::from("ferry-webhook-secret");
    let verifier = Verifier::new([SecretString::from("old-secret"), secret.clone()]).unwrap();
    let body = fixture("workflow_job.queued.0.json");
    let signature = sign(&secret, &body);
    let headers = [
        ("X-GitHub-Event", "workflow_job"),
        ("X-GitHub-Delivery", "0b989ba4-242f-11e5-81e1-c7b6966d2516"),
        ("X-GitHub-Hook-ID", "292430182"),
        ("X-GitHub-Hook-Installation-Target-Type", "integration"),
        ("X-GitHub-Hook-Installation-Target-ID", "79929171"),
        ("X-Hub-Signature-256", signature.as_str()),
    ];
    let header = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| *value)
    };
    let delivery = Delivery::from_headers(header).unwrap();
    assert_eq!(delivery.target_id, Some(79_929_171));
    assert_eq!(
        verifier.verify_with_index(header(github_webhook::SIGNATURE_HEADER), &body),
        Ok(1)
    );
    let event = Event::parse(&delivery.event, &body).unwrap();
    assert!(event.as_workflow_job().unwrap().is_launchable());
    assert_eq!(event.installation_id(), Some(3_456_996));

    // One changed byte anywhere fails verification.
    let mut tampered = body.clone();
    let last = tampered.len() - 2;
    tampered[last] ^= 0x01;
    assert_eq!(
        verifier.verify(header(github_webhook::SIGNATURE_HEADER), &tampered),
        Err(github_webhook::Error::SignatureMismatch)
    );
}
