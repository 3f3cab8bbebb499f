//! Jobs endpoints against the fake Hub.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use hf_jobs::jobs::JobFilter;
use hf_jobs::{Error, HfClient, Job, JobSpec, JobStage, SecretString, Volume, VolumeType};
use serde_json::json;

use super::{TOKEN, client, hub, whoami_calls};

#[tokio::test]
async fn runs_and_inspects_a_job_with_the_default_name_and_parsed_answer() {
    let hub = hub();
    let client = client(&hub);
    let spec = JobSpec::new("python:3.12", ["python", "-c", "print('hello')"])
        .secret("HF_TOKEN", SecretString::from("hf_x"))
        .timeout("90m")
        .volume(Volume::new(VolumeType::Dataset, "org/ds", "/data").read_only(true));
    let job = client.run_job(&spec).await.unwrap();
    assert_eq!(job.name(), Some("python-3-12-eb94fa4f"));
    assert_eq!(job.status.stage, JobStage::Scheduling);
    assert_eq!(job.secrets, ["HF_TOKEN"], "names only");
    assert_eq!(job.timeout_seconds, Some(5400));
    assert_eq!(job.flavor.as_deref(), Some("cpu-basic"));
    assert_eq!(job.owner.name, "alice");
    assert_eq!(
        job.volumes,
        [Volume::new(VolumeType::Dataset, "org/ds", "/data").read_only(true)]
    );
    assert_eq!(job.url, format!("{}/jobs/alice/{}", hub.base_url(), job.id));
    assert!(job.created_at.is_some());

    hub.set_stage(&job.id, "RUNNING");
    let inspected = client.inspect_job(&job.id).await.unwrap();
    assert_eq!(inspected.status.stage, JobStage::Running);
    assert!(inspected.started_at.is_some());
    assert_eq!(
        whoami_calls(&hub),
        1,
        "the namespace is looked up once per client"
    );

    let post = &hub.server.requests_to("POST", "/api/jobs/alice")[0];
    let agent = post.header("user-agent").unwrap();
    assert!(
        agent.starts_with(&format!("ferry/{}", env!("CARGO_PKG_VERSION"))),
        "{agent}"
    );
    assert_eq!(post.bearer(), Some(TOKEN));
}

#[tokio::test]
async fn concurrent_callers_share_one_whoami_lookup() {
    let hub = hub();
    let id = hub.add_job(
        "alice",
        json!({ "dockerImage": "ubuntu", "command": ["true"], "flavor": "cpu-basic" }),
    );
    // Slow whoami down so that every caller arrives while the lookup is in flight.
    hub.inject(testkit::Fault::on("GET", "/api/whoami-v2").delay(Duration::from_millis(200)));
    let client = client(&hub);
    let calls = (0..8).map(|_| {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move { client.inspect_job(&id).await.map(|j| j.id) })
    });
    for call in calls {
        assert_eq!(call.await.unwrap().unwrap(), id);
    }
    assert_eq!(whoami_calls(&hub), 1);
}

#[tokio::test]
async fn a_given_namespace_skips_whoami_and_orgs_work() {
    let hub = hub();
    hub.add_org("acme");
    let client = client(&hub).with_namespace("acme").unwrap();
    let job = client
        .run_job(&JobSpec::new("ubuntu", ["true"]))
        .await
        .unwrap();
    assert_eq!(job.owner.name, "acme");
    assert_eq!(whoami_calls(&hub), 0);
    assert_eq!(client.namespace().await.unwrap(), "acme");
}

#[tokio::test]
async fn runs_space_jobs() {
    let hub = hub();
    let job = client(&hub)
        .run_job(&JobSpec::new("hf.co/spaces/lhoestq/duckdb", ["duckdb"]))
        .await
        .unwrap();
    assert_eq!(job.space_id.as_deref(), Some("lhoestq/duckdb"));
    assert_eq!(job.docker_image, None);
    assert_eq!(job.image().as_deref(), Some("hf.co/spaces/lhoestq/duckdb"));
}

#[tokio::test]
async fn lists_every_page_with_stage_and_label_filters() {
    let hub = hub();
    hub.set_page_size(2);
    let mut ids = Vec::new();
    for i in 0..7 {
        let team = if i % 2 == 0 { "a" } else { "b" };
        let spec = json!({ "dockerImage": "ubuntu", "command": ["echo", i.to_string()], "flavor": "cpu-basic",
                           "labels": { "team": team, "ci": "yes" } });
        ids.push(hub.add_job("alice", spec));
    }
    hub.add_job(
        "bob",
        json!({ "dockerImage": "ubuntu", "command": ["true"], "flavor": "cpu-basic" }),
    );
    hub.set_stage(&ids[0], "RUNNING");
    hub.set_stage(&ids[1], "COMPLETED");

    let client = client(&hub);
    let all: Vec<_> = client
        .list_jobs(&JobFilter::new())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), ids);
    assert_eq!(
        hub.server.requests_to("GET", "/api/jobs/alice").len(),
        4,
        "7 jobs in pages of 2"
    );
    assert!(
        all.iter()
            .all(|j| j.url.ends_with(&format!("/jobs/alice/{}", j.id)))
    );

    hub.server.clear_requests();
    let filter = JobFilter::new().label("team", "a").label("ci", "yes");
    let team_a: Vec<_> = client.list_jobs(&filter).try_collect().await.unwrap();
    assert_eq!(team_a.len(), 4);
    let pages = hub.server.requests_to("GET", "/api/jobs/alice");
    assert_eq!(pages.len(), 2);
    assert_eq!(
        pages[1].query_all("label"),
        ["team=a", "ci=yes"],
        "the next link keeps the filters"
    );
    assert!(pages[1].query("cursor").is_some());

    let active = JobFilter::new()
        .stage(JobStage::Running)
        .stage(JobStage::Scheduling);
    let active: Vec<_> = client.list_jobs(&active).try_collect().await.unwrap();
    assert_eq!(active.len(), 6);
    assert_eq!(client.count_jobs(&[JobStage::Completed]).await.unwrap(), 1);
    assert_eq!(client.count_jobs(&[]).await.unwrap(), 7);
}

#[tokio::test]
async fn a_failing_page_ends_the_listing_with_its_error() {
    let hub = hub();
    hub.set_page_size(1);
    for _ in 0..3 {
        hub.add_job(
            "alice",
            json!({ "dockerImage": "ubuntu", "command": ["true"], "flavor": "cpu-basic" }),
        );
    }
    let client = client(&hub);
    client.namespace().await.unwrap();
    // The first page succeeds, the second answers 503.
    let mut stream = client.list_jobs(&JobFilter::new());
    assert!(stream.try_next().await.unwrap().is_some());
    hub.inject(testkit::Fault::on("GET", "/api/jobs/alice").status(503));
    let error = stream.try_next().await.unwrap_err();
    assert!(
        matches!(error, Error::Server { status: 503, .. }),
        "{error:?}"
    );
    assert!(error.is_retryable());
}

#[tokio::test]
async fn cancels_relabels_exposes_and_reruns() {
    let hub = hub();
    let client = client(&hub);
    let job = client
        .run_job(&JobSpec::new("ubuntu", ["sleep", "100"]).label("keep", "no"))
        .await
        .unwrap();

    let labels: BTreeMap<String, String> = [("name".to_owned(), "renamed".to_owned())].into();
    let relabelled = client.update_job_labels(&job.id, &labels).await.unwrap();
    assert_eq!(relabelled.labels, labels, "labels are replaced, not merged");
    let bad: BTreeMap<String, String> = [("bad key".to_owned(), "x".to_owned())].into();
    assert!(matches!(
        client.update_job_labels(&job.id, &bad).await,
        Err(Error::BadRequest { .. })
    ));

    hub.set_stage(&job.id, "RUNNING");
    let exposed = client
        .update_job_expose(&job.id, &[8000], &[9000])
        .await
        .unwrap();
    let expose = exposed.expose.unwrap();
    assert_eq!(
        (expose.ports, expose.ports_public),
        (vec![8000, 9000], vec![9000])
    );
    assert_eq!(exposed.status.expose_urls.len(), 2);

    client.cancel_job(&job.id).await.unwrap();
    let canceled = client.inspect_job(&job.id).await.unwrap();
    assert_eq!(canceled.status.stage, JobStage::Canceled);
    assert!(canceled.status.stage.is_terminal());

    let rerun = client.rerun_job(&job.id).await.unwrap();
    assert_ne!(rerun.id, job.id);
    assert_eq!(rerun.initiator.unwrap().kind, "duplicated-job");
    assert_eq!(rerun.command, ["sleep", "100"]);
}

#[tokio::test]
async fn waits_until_a_stage_or_a_terminal_one() {
    let hub = Arc::new(hub());
    let client = client(&hub);
    let job = client
        .run_job(&JobSpec::new("ubuntu", ["true"]))
        .await
        .unwrap();

    let mover = {
        let hub = hub.clone();
        let id = job.id.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            hub.set_stage(&id, "RUNNING");
        })
    };
    let poll = Duration::from_millis(20);
    let running = client
        .wait_for_job(
            &job.id,
            &[JobStage::Running],
            poll,
            Some(Duration::from_secs(5)),
        )
        .await
        .unwrap();
    assert_eq!(running.status.stage, JobStage::Running);
    mover.await.unwrap();

    hub.set_stage(&job.id, "ERROR");
    hub.set_status_message(&job.id, "Job failed with exit code: 1");
    let failed = client.wait_for_job(&job.id, &[], poll, None).await.unwrap();
    assert_eq!(
        failed.status.stage,
        JobStage::Error,
        "an ERROR job is returned, not raised"
    );
    assert_eq!(
        failed.status.message.as_deref(),
        Some("Job failed with exit code: 1")
    );

    let other = client
        .run_job(&JobSpec::new("ubuntu", ["sleep", "1"]))
        .await
        .unwrap();
    let error = client
        .wait_for_job(&other.id, &[], poll, Some(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Timeout(_)), "{error:?}");
}

#[tokio::test]
async fn lists_typed_hardware_without_a_token() {
    let hub = hub();
    let anonymous = HfClient::builder()
        .endpoint(hub.base_url())
        .build()
        .unwrap();
    let hardware = anonymous.list_hardware().await.unwrap();
    let cpu = hardware.iter().find(|h| h.name == "cpu-basic").unwrap();
    assert_eq!(
        (cpu.unit_cost_micro_usd, cpu.unit_label.as_str()),
        (167, "minute")
    );
    assert!(cpu.accelerator.is_none());
    let t4 = hardware.iter().find(|h| h.name == "t4-small").unwrap();
    let gpu = t4.accelerator.as_ref().unwrap();
    assert_eq!(
        (gpu.kind.as_str(), gpu.model.as_str(), gpu.quantity.as_str()),
        ("gpu", "T4", "1")
    );
    assert!((t4.cost_per_hour_usd() - 0.40002).abs() < 1e-9);
    assert!(
        hub.server.requests_to("GET", "/api/jobs/hardware")[0]
            .header("authorization")
            .is_none()
    );
}

#[tokio::test]
async fn a_job_found_by_its_label_can_be_cancelled() {
    let hub = hub();
    let client = client(&hub);
    assert_eq!(client.namespace().await.unwrap(), "alice");
    let job = client
        .run_job(&JobSpec::new("ubuntu", ["true"]).label("ferry-run", "42"))
        .await
        .unwrap();
    let found: Vec<Job> = client
        .list_jobs(&JobFilter::new().label("ferry-run", "42"))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(found.iter().map(|j| &j.id).collect::<Vec<_>>(), [&job.id]);
    client.cancel_job(&job.id).await.unwrap();
    assert_eq!(
        client.inspect_job(&job.id).await.unwrap().status.stage,
        JobStage::Canceled
    );
}
