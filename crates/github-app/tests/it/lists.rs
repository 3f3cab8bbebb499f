//! The lists a reconciler walks: installations, an installation's repositories, a repository's
//! workflow runs and a run's jobs, each through every page.

use github_app::{ClientConfig, Error, GitHubAppClient, JobStatus, RepoRef};
use secrecy::SecretString;
use testkit::github::{FakeJob, FakeWorkflowRun, keys};

use crate::{INSTALLATION, Setup, config, hello};

/// A client of the same fake whose App key is wrong: every JWT, and so every token, is refused.
fn wrong_key_client(setup: &Setup) -> GitHubAppClient {
    GitHubAppClient::new(ClientConfig {
        private_key: SecretString::from(keys::OTHER_PRIVATE_KEY_PKCS1),
        ..config(&setup.fake, setup.clock.clone())
    })
    .unwrap()
}

fn is_unauthorized(result: Result<impl std::fmt::Debug, Error>) {
    match result {
        Err(Error::Unauthorized { .. }) => {}
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

/// The page numbers of the GETs to `path`, in order (`None` for the first page).
fn pages(setup: &Setup, path: &str) -> Vec<Option<String>> {
    setup
        .fake
        .server
        .requests_to("GET", path)
        .iter()
        .filter(|r| r.path == path)
        .map(|r| {
            assert_eq!(r.query("per_page"), Some("100"), "{:?}", r.query);
            r.query("page").map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn installations_are_listed_across_pages_with_the_app_jwt() {
    let setup = Setup::start();
    for id in 1..=150 {
        setup
            .fake
            .add_installation(1000 + id, &format!("org-{id}"), &[]);
    }
    setup.fake.suspend_installation(1001);
    let installations = setup.client.list_installations().await.unwrap();
    assert_eq!(installations.len(), 151);
    assert_eq!(installations[0].id, INSTALLATION);
    let first = installations.iter().find(|i| i.id == 1001).unwrap();
    assert_eq!(first.account.as_ref().unwrap().login, "org-1");
    assert!(first.suspended_at.is_some());
    assert!(installations[0].suspended_at.is_none());
    assert_eq!(
        pages(&setup, "/app/installations"),
        [None, Some("2".into())]
    );
    // The JWT, not a token: no token was minted.
    assert_eq!(setup.fake.token_requests(), 0);

    is_unauthorized(wrong_key_client(&setup).list_installations().await);
}

#[tokio::test]
async fn an_installation_lists_only_its_own_repositories() {
    let setup = Setup::start();
    let many: Vec<String> = (0..130).map(|i| format!("big-org/repo-{i:03}")).collect();
    let names: Vec<&str> = many.iter().map(String::as_str).collect();
    setup.fake.add_installation(88, "big-org", &names);

    let repositories = setup
        .client
        .list_installation_repositories(INSTALLATION)
        .await
        .unwrap();
    let full_names: Vec<&str> = repositories.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(full_names, ["octo-org/hello", "octo-org/world"]);
    assert_eq!(repositories[0].repo_ref(), Some(hello()));
    assert_eq!(repositories[0].name, "hello");
    assert_eq!(repositories[0].owner.as_ref().unwrap().login, "octo-org");

    let big = setup
        .client
        .list_installation_repositories(88)
        .await
        .unwrap();
    assert_eq!(big.len(), 130);
    assert_eq!(big[129].full_name, "big-org/repo-129");
    assert!(big.iter().all(|r| r.full_name.starts_with("big-org/")));
    assert_eq!(
        pages(&setup, "/installation/repositories"),
        [None, None, Some("2".into())]
    );
    // Each installation's own token.
    let tokens: Vec<u64> = setup
        .fake
        .issued_tokens()
        .iter()
        .map(|t| t.installation_id)
        .collect();
    assert_eq!(tokens.len(), 2);
    assert!(tokens.contains(&INSTALLATION) && tokens.contains(&88));

    let error = setup
        .client
        .list_installation_repositories(404)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    is_unauthorized(
        wrong_key_client(&setup)
            .list_installation_repositories(INSTALLATION)
            .await,
    );
}

#[tokio::test]
async fn workflow_runs_are_listed_newest_first_and_filtered_by_status() {
    let setup = Setup::start();
    for id in 1..=120 {
        let run = FakeWorkflowRun::queued(id, "push", "octo-org/hello");
        let run = match id % 3 {
            0 => run.with_status("completed", Some("failure")),
            1 => run,
            _ => run.with_status("in_progress", None),
        };
        setup.fake.add_workflow_run("octo-org/hello", run);
    }
    setup.fake.add_workflow_run(
        "octo-org/world",
        FakeWorkflowRun::queued(500, "pull_request", "mallory/world"),
    );

    let all = setup
        .client
        .list_workflow_runs(INSTALLATION, &hello(), None)
        .await
        .unwrap();
    assert_eq!(all.len(), 120);
    assert_eq!(all.first().unwrap().id, 120);
    assert_eq!(all.last().unwrap().id, 1);
    assert_eq!(
        pages(&setup, "/repos/octo-org/hello/actions/runs"),
        [None, Some("2".into())]
    );

    let queued = setup
        .client
        .list_workflow_runs(INSTALLATION, &hello(), Some("queued"))
        .await
        .unwrap();
    assert_eq!(queued.len(), 40);
    assert!(queued.iter().all(|r| r.status.as_deref() == Some("queued")));
    assert!(queued.iter().all(|r| !r.is_from_fork()));
    let request = setup
        .fake
        .server
        .requests_to("GET", "/repos/octo-org/hello/actions/runs")
        .pop()
        .unwrap();
    assert_eq!(request.query("status"), Some("queued"));
    // GitHub's filter takes conclusions too.
    let failed = setup
        .client
        .list_workflow_runs(INSTALLATION, &hello(), Some("failure"))
        .await
        .unwrap();
    assert_eq!(failed.len(), 40);
    assert!(
        failed
            .iter()
            .all(|r| r.conclusion.as_deref() == Some("failure"))
    );

    let world = RepoRef::new("octo-org", "world");
    let runs = setup
        .client
        .list_workflow_runs(INSTALLATION, &world, Some("queued"))
        .await
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert!(runs[0].is_from_fork());

    // A repository the installation does not cover.
    let error = setup
        .client
        .list_workflow_runs(INSTALLATION, &RepoRef::new("someone", "else"), None)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    is_unauthorized(
        wrong_key_client(&setup)
            .list_workflow_runs(INSTALLATION, &hello(), None)
            .await,
    );
}

#[tokio::test]
async fn a_runs_jobs_are_those_of_its_latest_attempt() {
    let setup = Setup::start();
    setup.fake.add_workflow_run(
        "octo-org/hello",
        FakeWorkflowRun::queued(30, "push", "octo-org/hello"),
    );
    // Attempt 1: 120 jobs, completed; attempt 2: 110 jobs, queued.
    for id in 1..=120 {
        let mut job = FakeJob::queued(id, 30, &["self-hosted", "hf-cpu"]);
        job.status = "completed".into();
        job.conclusion = Some("failure".into());
        setup.fake.add_job("octo-org/hello", job);
    }
    for id in 1001..=1110 {
        setup.fake.add_job(
            "octo-org/hello",
            FakeJob::queued(id, 30, &["self-hosted", "hf-gpu"]).with_attempt(2),
        );
    }
    setup
        .fake
        .add_job("octo-org/hello", FakeJob::queued(5000, 31, &["other"]));

    let jobs = setup
        .client
        .list_run_jobs(INSTALLATION, &hello(), 30)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 110);
    assert_eq!(jobs[0].id, 1001);
    assert_eq!(jobs[109].id, 1110);
    assert!(jobs.iter().all(|j| j.run_id == 30
        && j.attempt() == 2
        && j.run_attempt == Some(2)
        && j.status == JobStatus::Queued
        && j.labels == ["self-hosted", "hf-gpu"]
        && j.runner_name.is_none()));
    let path = "/repos/octo-org/hello/actions/runs/30/jobs";
    assert_eq!(pages(&setup, path), [None, Some("2".into())]);
    let requests = setup.fake.server.requests_to("GET", path);
    assert!(requests.iter().all(|r| r.query("filter") == Some("latest")));

    // Jobs known without their run are still listed; a run nobody knows is 404.
    let jobs = setup
        .client
        .list_run_jobs(INSTALLATION, &hello(), 31)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].attempt(), 1);
    let error = setup
        .client
        .list_run_jobs(INSTALLATION, &hello(), 99)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    // The same run id in another repository is another run.
    let error = setup
        .client
        .list_run_jobs(INSTALLATION, &RepoRef::new("octo-org", "world"), 30)
        .await
        .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error:?}");
    is_unauthorized(
        wrong_key_client(&setup)
            .list_run_jobs(INSTALLATION, &hello(), 30)
            .await,
    );
}
