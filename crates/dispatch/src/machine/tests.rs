use super::*;
use crate::model::JobKey;

fn facts() -> JobFacts {
    JobFacts {
        key: JobKey {
            repo: "octo/ml".into(),
            job_id: 5_000_000_001,
            run_attempt: 1,
        },
        run_id: 9_000_000_001,
        installation_id: Some(42),
        labels: vec!["hf-jobs-t4-small".into()],
        workflow_name: Some("CI".into()),
        job_name: Some("test".into()),
    }
}

fn queued() -> JobRecord {
    observe(None, &facts(), &Observation::Queued, 0).unwrap()
}

fn in_state(state: State) -> JobRecord {
    let mut record = queued();
    record.state = state;
    record.runner_name = Some("ferry-ours".into());
    record
}

fn completed(runner: Option<&str>) -> Observation {
    Observation::Completed {
        runner_name: runner.map(Into::into),
        conclusion: Some("success".into()),
    }
}

fn in_progress(runner: &str) -> Observation {
    Observation::InProgress {
        runner_name: Some(runner.into()),
    }
}

#[test]
fn first_sight_of_each_observation() {
    assert_eq!(queued().state, State::Queued);
    let refused = observe(
        None,
        &facts(),
        &Observation::Refused {
            reason: "unknown flavor".into(),
        },
        0,
    )
    .unwrap();
    assert_eq!(
        (refused.state, refused.reason.as_deref()),
        (State::Failed, Some("unknown flavor"))
    );
    let running = observe(None, &facts(), &in_progress("someone"), 0).unwrap();
    assert_eq!(
        (running.state, running.taken_by.as_deref()),
        (State::Running, Some("someone"))
    );
    let done = observe(None, &facts(), &completed(Some("someone")), 0).unwrap();
    assert_eq!(done.state, State::Finished);
}

#[test]
fn transitions_table() {
    use State::*;
    let cases: Vec<(State, Observation, State)> = vec![
        (Queued, Observation::Queued, Queued),
        (Queued, in_progress("other"), Running),
        (Queued, completed(None), Cancelled),
        (Launching, in_progress("ferry-ours"), Running),
        (Launching, completed(None), Cancelling),
        (Launched, in_progress("ferry-ours"), Running),
        (Launched, in_progress("other"), Running),
        (Launched, completed(None), Cancelling),
        (Launched, completed(Some("other")), Cancelling),
        (Launched, completed(Some("ferry-ours")), Finished),
        (Launching, completed(Some("ferry-ours")), Finished),
        (Launching, completed(Some("other")), Cancelling),
        (Running, completed(Some("ferry-ours")), Finished),
        (Running, Observation::Queued, Running),
        (Cancelling, in_progress("ferry-ours"), Cancelling),
        (Cancelling, completed(None), Cancelling),
    ];
    for (from, observation, to) in cases {
        let current = in_state(from);
        let next = observe(Some(&current), &facts(), &observation, 10).unwrap_or(current);
        assert_eq!(next.state, to, "{from:?} + {observation:?}");
    }
}

#[test]
fn terminal_states_never_change_and_repeats_change_nothing() {
    for terminal in [State::Finished, State::Cancelled, State::Failed] {
        for observation in [Observation::Queued, in_progress("x"), completed(Some("x"))] {
            assert_eq!(
                observe(Some(&in_state(terminal)), &facts(), &observation, 10),
                None
            );
        }
    }
    let once = observe(
        Some(&in_state(State::Launched)),
        &facts(),
        &in_progress("ferry-ours"),
        10,
    )
    .unwrap();
    assert_eq!(
        observe(Some(&once), &facts(), &in_progress("ferry-ours"), 20),
        None
    );
    assert!(once.taken_by_ours());
}

#[test]
fn claim_leases_assigns_one_runner_name_and_respects_time() {
    let record = queued();
    let claimed = claim(&record, 100, 60_000, || "ferry-1-2-1-abc".into()).unwrap();
    assert_eq!(claimed.state, State::Launching);
    assert_eq!(claimed.lease_until_ms, Some(60_100));
    // Held by a live lease: nobody else gets it.
    assert_eq!(claim(&claimed, 200, 60_000, || unreachable!()), None);
    // After the lease lapses (a crashed worker) it is claimed again with the same runner name.
    let again = claim(&claimed, 60_100, 60_000, || unreachable!()).unwrap();
    assert_eq!(again.runner_name.as_deref(), Some("ferry-1-2-1-abc"));
    // Not before its time.
    let mut later = queued();
    later.not_before_ms = 500;
    assert_eq!(claim(&later, 499, 1, || "x".into()), None);
    // Nothing to do in settled states.
    assert_eq!(
        claim(&in_state(State::Launched), 100, 1, || "x".into()),
        None
    );
}

#[test]
fn worker_outcomes() {
    let launching = claim(&queued(), 0, 1000, || "ferry-r".into()).unwrap();
    let done = launched(&launching, "hf-1", Some(7), 5);
    assert_eq!(
        (done.state, done.hf_job_id.as_deref(), done.runner_id),
        (State::Launched, Some("hf-1"), Some(7))
    );
    assert_eq!(done.lease_until_ms, None);

    let retried = retry(&launching, "HF answered 503", 9_000, 5);
    assert_eq!(
        (retried.state, retried.not_before_ms, retried.attempts),
        (State::Queued, 9_000, 1)
    );

    let failed = fail(&launching, "flavor refused", 5);
    assert_eq!(
        (failed.state, failed.reason.as_deref()),
        (State::Failed, Some("flavor refused"))
    );

    let gone = not_needed(&launching, JobStatus::Completed, None, 5);
    assert_eq!(gone.state, State::Cancelled);
    let taken = not_needed(&launching, JobStatus::InProgress, Some("other"), 5);
    assert_eq!(
        (taken.state, taken.taken_by.as_deref()),
        (State::Running, Some("other"))
    );

    // A completion that arrived while launching: the launch result is kept and teardown follows.
    let cancelling = observe(Some(&launching), &facts(), &completed(None), 3).unwrap();
    let attached = launched(&cancelling, "hf-2", Some(8), 6);
    assert_eq!(
        (attached.state, attached.hf_job_id.as_deref()),
        (State::Cancelling, Some("hf-2"))
    );
    let finished = torn_down(&attached, None, 7);
    assert_eq!(finished.state, State::Cancelled);
    assert_eq!(fail(&attached, "cannot cancel", 8).state, State::Cancelled);
}
