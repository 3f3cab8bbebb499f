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
        head_sha: None,
        flavor: None,
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

#[tokio::test]
async fn a_fenced_write_lands_only_for_the_latest_claim() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    store
        .ingest(
            "d-1",
            "workflow_job",
            Some((facts(1), Observation::Queued)),
            0,
        )
        .await
        .unwrap();
    let first = store.claim_next(0, 100).await.unwrap().unwrap();
    // The first claimant stalls past its lease; a second one takes over.
    let second = store.claim_next(100, 100).await.unwrap().unwrap();
    assert_eq!((first.lease_token, second.lease_token), (1, 2));
    let stale = store
        .update_fenced(
            &first.key,
            first.lease_token,
            Box::new(|r| Some(crate::machine::fail(r, "late", 150))),
        )
        .await
        .unwrap();
    assert_eq!(stale, Fenced::Lost);
    let current = store
        .update_fenced(
            &second.key,
            second.lease_token,
            Box::new(|r| Some(crate::machine::launched(r, "hf-1", Some(3), 150))),
        )
        .await
        .unwrap();
    assert!(matches!(current, Fenced::Written(ref r) if r.state == State::Launched));
    assert_eq!(
        store.get(&first.key).await.unwrap().unwrap().state,
        State::Launched
    );
}

#[tokio::test]
async fn a_record_of_the_first_schema_reads_and_a_newer_one_is_refused() {
    // As the first release stored it: no version, no fencing token, no launch count.
    let v1 = r#"{"key":{"repo":"octo/ml","job_id":7,"run_attempt":1},"run_id":77,
        "installation_id":42,"labels":["hf-jobs-cpu-basic"],"workflow_name":null,
        "job_name":null,"state":"launched","runner_name":"ferry-77-7-1-abcdef","runner_id":3,
        "hf_job_id":"hf-9","taken_by":null,"conclusion":null,"reason":null,"attempts":1,
        "not_before_ms":0,"lease_until_ms":null,"created_ms":0,"updated_ms":5}"#;
    let record = codec::decode(v1).unwrap();
    assert_eq!(record.state, State::Launched);
    assert_eq!((record.lease_token, record.launches), (0, 0));
    assert!(record.abandoned_hf_jobs.is_empty());
    // Written back in the current form, and read again unchanged.
    let written = codec::encode(&record).unwrap();
    assert!(written.contains(&format!("\"v\":{}", codec::CURRENT_VERSION)));
    assert_eq!(codec::decode(&written).unwrap(), record);
    let newer = written.replacen(&format!("\"v\":{}", codec::CURRENT_VERSION), "\"v\":99", 1);
    let refused = codec::decode(&newer).unwrap_err();
    assert!(refused.contains("newer Ferry"), "{refused}");
}

#[tokio::test]
async fn adoption_paused_jobs_meta_and_delivery_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    assert!(store.is_empty().await.unwrap());
    let mut record = JobRecord::new(&facts(5), 0);
    record.state = State::Paused;
    assert!(store.adopt(record.clone()).await.unwrap());
    assert!(
        !store.adopt(record.clone()).await.unwrap(),
        "never over a record"
    );
    assert!(!store.is_empty().await.unwrap());
    let resumed = store
        .update_all_in(State::Paused, Box::new(|r| crate::machine::resume(r, 10)))
        .await
        .unwrap();
    assert_eq!(resumed, 1);
    assert_eq!(
        store.get(&record.key).await.unwrap().unwrap().state,
        State::Queued
    );
    assert_eq!(store.active(0).await.unwrap().len(), 1);

    assert_eq!(store.get_meta("cursor").await.unwrap(), None);
    store.put_meta("cursor", "12").await.unwrap();
    store.put_meta("cursor", "13").await.unwrap();
    assert_eq!(
        store.get_meta("cursor").await.unwrap().as_deref(),
        Some("13")
    );

    assert!(!store.delivery_seen("g-1").await.unwrap());
    store.ingest("g-1", "workflow_job", None, 0).await.unwrap();
    assert!(store.delivery_seen("g-1").await.unwrap());
}

#[tokio::test]
async fn counts_by_flavor_and_state_come_from_one_query() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(dir.path());
    for (job_id, flavor) in [(1, Some("t4-small")), (2, Some("t4-small")), (3, None)] {
        let mut facts = facts(job_id);
        facts.flavor = flavor.map(str::to_owned);
        store
            .ingest(
                &format!("d-{job_id}"),
                "workflow_job",
                Some((facts, Observation::Queued)),
                0,
            )
            .await
            .unwrap();
    }
    let counts = store.counts_by_flavor().await.unwrap();
    assert_eq!(
        counts.get(&(Some("t4-small".into()), State::Queued)),
        Some(&2)
    );
    assert_eq!(counts.get(&(None, State::Queued)), Some(&1));
    assert_eq!(counts.len(), 2);
}
