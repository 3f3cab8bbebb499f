//! Repository-level reads and writes: installation lookup, jobs, workflow runs, check runs.

use github_app::{CheckRunOutput, CheckRunUpdate, Error, JobStatus, NewCheckRun, RepoRef};
use testkit::github::{FakeJob, FakeWorkflowRun};

use crate::{INSTALLATION, Setup, hello};

#[tokio::test]
async fn the_installation_of_a_repository() {
    let setup = Setup::start();
    let installation = setup
        .client
        .repository_installation(&hello())
        .await
        .unwrap();
    assert_eq!(installation.id, INSTALLATION);
    assert_eq!(installation.account.unwrap().login, "octo-org");
    assert_eq!(
        installation
            .permissions
            .get("administration")
            .map(String::as_str),
        Some("write")
    );
    let error = setup
        .client
        .repository_installation(&RepoRef::new("someone", "else"))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn jobs_reflect_githubs_state() {
    let setup = Setup::start();
    setup.fake.add_job(
        "octo-org/hello",
        FakeJob::queued(31, 30, &["self-hosted", "hf-gpu"]),
    );
    let job = setup
        .client
        .get_job(INSTALLATION, &hello(), 31)
        .await
        .unwrap();
    assert_eq!(
        (job.id, job.run_id, job.status),
        (31, 30, JobStatus::Queued)
    );
    assert_eq!(job.labels, ["self-hosted", "hf-gpu"]);
    assert_eq!(job.runner_name, None);

    setup.fake.assign_job("octo-org/hello", 31, 8, "ferry-31-1");
    let job = setup
        .client
        .get_job(INSTALLATION, &hello(), 31)
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::InProgress);
    assert_eq!(job.runner_name.as_deref(), Some("ferry-31-1"));
    assert_eq!(job.runner_id, Some(8));

    setup
        .fake
        .set_job_status("octo-org/hello", 31, "completed", Some("success"));
    let job = setup
        .client
        .get_job(INSTALLATION, &hello(), 31)
        .await
        .unwrap();
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.conclusion.as_deref(), Some("success"));

    // Known elsewhere, unknown here.
    let error = setup
        .client
        .get_job(INSTALLATION, &RepoRef::new("octo-org", "world"), 31)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn workflow_runs_tell_fork_pull_requests_apart() {
    let setup = Setup::start();
    let run = |id, event: &str, head: Option<&str>| FakeWorkflowRun {
        id,
        event: event.into(),
        head_repository: head.map(str::to_owned),
        triggering_actor: "octocat".into(),
        ..FakeWorkflowRun::default()
    };
    setup
        .fake
        .add_workflow_run("octo-org/hello", run(1, "push", Some("octo-org/hello")));
    setup.fake.add_workflow_run(
        "octo-org/hello",
        run(2, "pull_request", Some("mallory/hello")),
    );
    setup.fake.add_workflow_run(
        "octo-org/hello",
        run(3, "pull_request", Some("octo-org/hello")),
    );
    setup
        .fake
        .add_workflow_run("octo-org/hello", run(4, "pull_request_target", None));
    let mut forks = Vec::new();
    for id in 1..=4 {
        let run = setup
            .client
            .get_workflow_run(INSTALLATION, &hello(), id)
            .await
            .unwrap();
        forks.push((run.event.clone(), run.is_from_fork()));
    }
    assert_eq!(
        forks,
        [
            ("push".into(), false),
            ("pull_request".into(), true),
            ("pull_request".into(), false),
            ("pull_request_target".into(), true)
        ]
    );
    let error = setup
        .client
        .get_workflow_run(INSTALLATION, &hello(), 99)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
}

#[tokio::test]
async fn check_runs_are_created_and_updated() {
    let setup = Setup::start();
    let new = NewCheckRun {
        status: Some("in_progress".into()),
        external_id: Some("job-31".into()),
        ..NewCheckRun::new("ferry", "f00dfeed")
    };
    let created = setup
        .client
        .create_check_run(INSTALLATION, &hello(), &new)
        .await
        .unwrap();
    assert_eq!(created.status, "in_progress");
    assert_eq!(created.external_id.as_deref(), Some("job-31"));

    let update = CheckRunUpdate {
        conclusion: Some("failure".into()),
        output: Some(CheckRunOutput {
            title: "No hardware".into(),
            summary: "No flavor matches".into(),
            text: None,
        }),
        ..CheckRunUpdate::default()
    };
    let updated = setup
        .client
        .update_check_run(INSTALLATION, &hello(), created.id, &update)
        .await
        .unwrap();
    assert_eq!(updated.status, "completed");
    assert_eq!(updated.conclusion.as_deref(), Some("failure"));
    let stored = &setup.fake.check_runs()[0];
    assert_eq!(stored.output.as_ref().unwrap()["title"], "No hardware");

    let error = setup
        .client
        .update_check_run(INSTALLATION, &hello(), 12345, &update)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    let error = setup
        .client
        .create_check_run(INSTALLATION, &hello(), &NewCheckRun::new("ferry", ""))
        .await
        .unwrap_err();
    match error {
        Error::Validation { errors, .. } => assert_eq!(errors, ["CheckRun head_sha missing_field"]),
        other => panic!("{other:?}"),
    }
}
