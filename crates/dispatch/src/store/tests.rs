use super::*;
use crate::model::JobKey;

fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(
        dir,
        Box::new(|r: &JobRecord| format!("ferry-{}-{}", r.run_id, r.key.job_id)),
    )
    .unwrap()
}

fn facts(job_id: u64) -> JobFacts {
    JobFacts {
        key: JobKey {
            repo: "octo/ml".into(),
            job_id,
            run_attempt: 1,
        },
        run_id: 77,
        installation_id: Some(42),
        labels: vec!["hf-jobs-cpu-basic".into()],
        workflow_name: None,
        job_name: None,
    }
}

#[tokio::test]
async fn a_delivery_is_applied_once_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    let first = store
        .ingest(
            "d-1",
            "workflow_job",
            Some((facts(1), Observation::Queued)),
            10,
        )
        .await
        .unwrap();
    assert!(matches!(first, Ingested::Recorded { job: Some(ref r) } if r.state == State::Queued));
    let again = store
        .ingest(
            "d-1",
            "workflow_job",
            Some((facts(1), Observation::Queued)),
            11,
        )
        .await
        .unwrap();
    assert_eq!(again, Ingested::Duplicate);
    // A new delivery id for the same job changes nothing.
    let other = store
        .ingest(
            "d-2",
            "workflow_job",
            Some((facts(1), Observation::Queued)),
            12,
        )
        .await
        .unwrap();
    assert_eq!(other, Ingested::Recorded { job: None });
    drop(store);

    let reopened = open(dir.path());
    let key = facts(1).key;
    assert_eq!(
        reopened.get(&key).await.unwrap().unwrap().state,
        State::Queued
    );
    assert_eq!(
        reopened
            .ingest("d-1", "workflow_job", None, 13)
            .await
            .unwrap(),
        Ingested::Duplicate
    );
    assert_eq!(
        reopened.counts().await.unwrap().get(&State::Queued),
        Some(&1)
    );
}

#[tokio::test]
async fn claims_are_exclusive_until_the_lease_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for job in 1..=2 {
        store
            .ingest(
                &format!("d-{job}"),
                "workflow_job",
                Some((facts(job), Observation::Queued)),
                job as i64,
            )
            .await
            .unwrap();
    }
    assert_eq!(store.next_due_ms().await.unwrap(), Some(1));
    let a = store.claim_next(100, 1_000).await.unwrap().unwrap();
    let b = store.claim_next(100, 1_000).await.unwrap().unwrap();
    assert_ne!(a.key, b.key);
    assert_eq!(a.runner_name.as_deref(), Some("ferry-77-1"));
    assert_eq!(store.claim_next(100, 1_000).await.unwrap(), None);
    // A worker that died leaves its lease to lapse; the record is claimed again, same runner.
    let again = store.claim_next(1_100, 1_000).await.unwrap().unwrap();
    assert_eq!(again.key, a.key);
    assert_eq!(again.runner_name, a.runner_name);
}

#[tokio::test]
async fn updates_apply_to_the_current_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .ingest(
            "d-1",
            "workflow_job",
            Some((facts(1), Observation::Queued)),
            1,
        )
        .await
        .unwrap();
    let claimed = store.claim_next(2, 1_000).await.unwrap().unwrap();
    // A completion arrives while the worker launches.
    let completed = Observation::Completed {
        runner_name: None,
        conclusion: Some("cancelled".into()),
    };
    store
        .ingest("d-2", "workflow_job", Some((facts(1), completed)), 3)
        .await
        .unwrap();
    // The worker's result is applied to what is stored now, not to its stale copy.
    let stored = store
        .update(
            &claimed.key,
            4,
            Box::new(|current| Some(crate::machine::launched(current, "hf-9", Some(3), 4))),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.state, stored.hf_job_id.as_deref()),
        (State::Cancelling, Some("hf-9"))
    );
    let missing = JobKey {
        repo: "x/y".into(),
        job_id: 1,
        run_attempt: 1,
    };
    assert_eq!(
        store.update(&missing, 5, Box::new(|_| None)).await.unwrap(),
        None
    );
}

#[tokio::test]
async fn recent_probe_and_prune() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for job in 1..=3 {
        store
            .ingest(
                &format!("d-{job}"),
                "workflow_job",
                Some((facts(job), Observation::Queued)),
                job as i64,
            )
            .await
            .unwrap();
    }
    let recent = store.recent(2).await.unwrap();
    assert_eq!(
        recent.iter().map(|r| r.key.job_id).collect::<Vec<_>>(),
        [3, 2]
    );
    store.check_writable(99).await.unwrap();
    assert_eq!(store.prune_deliveries(3).await.unwrap(), 2);
    // A pruned delivery id is new again, but the job record still makes it a no-op.
    assert_eq!(
        store
            .ingest(
                "d-1",
                "workflow_job",
                Some((facts(1), Observation::Queued)),
                5
            )
            .await
            .unwrap(),
        Ingested::Recorded { job: None }
    );
}

#[test]
fn opening_an_unwritable_directory_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let error = SqliteStore::open(&file, Box::new(|_| String::new())).unwrap_err();
    assert!(error.to_string().contains("not-a-dir"), "{error}");
}
