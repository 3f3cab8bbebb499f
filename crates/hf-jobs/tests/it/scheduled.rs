//! Scheduled jobs against the fake Hub.

use std::collections::BTreeMap;

use hf_jobs::{Error, JobSpec, ScheduleSpec, SecretString};

use super::{client, hub};

#[tokio::test]
async fn creates_lists_inspects_suspends_resumes_triggers_relabels_and_deletes() {
    let hub = hub();
    let client = client(&hub);
    let template = JobSpec::new("ubuntu", ["echo", "tick"])
        .secret("TOKEN", SecretString::from("s3cret"))
        .timeout("1h")
        .label("env", "prod");
    let created = client
        .create_scheduled_job(&ScheduleSpec::new("@hourly", template.clone()))
        .await
        .unwrap();
    assert_eq!(created.schedule.as_deref(), Some("@hourly"));
    assert!(!created.suspend && !created.concurrency, "Hub defaults");
    let spec = created.job_spec.as_ref().unwrap();
    assert_eq!(spec.secrets, ["TOKEN"]);
    assert_eq!(spec.timeout_seconds, Some(3600));
    let command = ["echo".to_owned(), "tick".to_owned()];
    assert_eq!(
        spec.labels["name"],
        hf_jobs::jobs::default_job_name("ubuntu", &command)
    );
    assert!(created.status.as_ref().unwrap().last_job.is_none());

    let other = ScheduleSpec::new(
        "0 3 * * 1",
        JobSpec::new("ubuntu", ["true"]).label("env", "dev"),
    )
    .suspend(true);
    let other = client.create_scheduled_job(&other).await.unwrap();
    assert!(other.suspend);

    let prod = client
        .list_scheduled_jobs(&[("env".into(), "prod".into())])
        .await
        .unwrap();
    assert_eq!(
        prod.iter().map(|s| &s.id).collect::<Vec<_>>(),
        [&created.id]
    );
    assert_eq!(client.list_scheduled_jobs(&[]).await.unwrap().len(), 2);

    client.suspend_scheduled_job(&created.id).await.unwrap();
    assert!(
        client
            .inspect_scheduled_job(&created.id)
            .await
            .unwrap()
            .suspend
    );
    client.resume_scheduled_job(&created.id).await.unwrap();
    assert!(
        !client
            .inspect_scheduled_job(&created.id)
            .await
            .unwrap()
            .suspend
    );

    let run = client.trigger_scheduled_job(&created.id).await.unwrap();
    let initiator = run.initiator.as_ref().unwrap();
    assert_eq!(
        (initiator.kind.as_str(), initiator.id.as_deref()),
        ("scheduled-job", Some(created.id.as_str()))
    );
    assert_eq!(run.command, ["echo", "tick"]);
    let inspected = client.inspect_scheduled_job(&created.id).await.unwrap();
    assert_eq!(inspected.status.unwrap().last_job.unwrap().id, run.id);

    let again = client.trigger_scheduled_job(&created.id).await.unwrap_err();
    assert!(matches!(again, Error::Conflict { .. }), "{again:?}");
    hub.set_stage(&run.id, "COMPLETED");
    client.trigger_scheduled_job(&created.id).await.unwrap();

    let labels: BTreeMap<String, String> = [("env".to_owned(), "staging".to_owned())].into();
    let relabelled = client
        .update_scheduled_job_labels(&created.id, &labels)
        .await
        .unwrap();
    assert_eq!(relabelled.job_spec.unwrap().labels, labels);
    let rescheduled = client
        .update_scheduled_job_schedule(&created.id, "@daily")
        .await
        .unwrap();
    assert_eq!(rescheduled.schedule.as_deref(), Some("@daily"));

    client.delete_scheduled_job(&created.id).await.unwrap();
    let gone = client.inspect_scheduled_job(&created.id).await.unwrap_err();
    assert!(matches!(gone, Error::NotFound { .. }), "{gone:?}");
    assert!(matches!(
        client.delete_scheduled_job(&created.id).await,
        Err(Error::NotFound { .. })
    ));
}

#[tokio::test]
async fn bad_schedules_and_specs_are_refused_by_the_hub() {
    let hub = hub();
    let client = client(&hub);
    let job = JobSpec::new("ubuntu", ["true"]);
    let error = client
        .create_scheduled_job(&ScheduleSpec::new("every minute", job.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::BadRequest { message } if message.contains("schedule")),
        "{error:?}"
    );
    let error = client
        .create_scheduled_job(&ScheduleSpec::new("@daily", job.flavor("gpu-9000")))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::BadRequest { message } if message.contains("flavor")),
        "{error:?}"
    );
    let error = client
        .create_scheduled_job(&ScheduleSpec::new(" ", JobSpec::new("ubuntu", ["true"])))
        .await;
    assert!(matches!(error, Err(Error::InvalidInput(_))));
    assert!(hub.with_state(|s| s.scheduled.is_empty()));
}
