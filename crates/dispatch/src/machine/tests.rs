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
        head_sha: None,
        flavor: None,
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
        (Replacing, in_progress("ferry-ours"), Running),
        (Replacing, completed(Some("ferry-ours")), Finished),
        (Replacing, completed(None), Cancelling),
        (Paused, in_progress("other"), Running),
        (Paused, completed(None), Cancelled),
        (Paused, Observation::Queued, Paused),
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

fn launched_once() -> JobRecord {
    let launching = claim(&queued(), 0, 1000, || "ferry-r1".into()).unwrap();
    launched(&launching, "hf-1", Some(7), 5)
}

#[test]
fn every_claim_raises_the_fencing_token_and_renewal_needs_it() {
    let first = claim(&queued(), 0, 100, || "ferry-r".into()).unwrap();
    assert_eq!(first.lease_token, 1);
    let second = claim(&first, 100, 100, || unreachable!()).unwrap();
    assert_eq!(second.lease_token, 2);
    // The first claimant can no longer renew; the second can, while the state holds.
    assert_eq!(renew(&second, 1, State::Launching, 500, 150), None);
    let renewed = renew(&second, 2, State::Launching, 500, 150).unwrap();
    assert_eq!(renewed.lease_until_ms, Some(500));
    let mut moved_on = second.clone();
    moved_on.state = State::Cancelling;
    assert_eq!(renew(&moved_on, 2, State::Launching, 500, 150), None);
}

#[test]
fn a_launch_counts_once_however_often_it_is_recorded() {
    let done = launched_once();
    assert_eq!((done.launches, done.launched_ms), (1, Some(5)));
    let again = launched(&done, "hf-1", None, 9);
    assert_eq!((again.launches, again.launched_ms), (1, Some(5)));
}

#[test]
fn a_replacement_tears_down_then_queues_until_the_last_launch_then_fails() {
    let done = launched_once();
    assert_eq!(replace(&queued(), "why", 10), None, "only launched runners");
    let replacing = replace(&done, "the runner was not online within 10m", 10).unwrap();
    assert_eq!(replacing.state, State::Replacing);
    assert!(replacing.state.needs_work());
    let requeued = replaced(&replacing, 3, 20);
    assert_eq!(requeued.state, State::Queued);
    assert_eq!(
        requeued.runner_name, None,
        "a new runner name at the next claim"
    );
    assert_eq!(
        (requeued.hf_job_id.as_deref(), requeued.runner_id),
        (None, None)
    );
    assert_eq!(requeued.abandoned_hf_jobs, ["hf-1"]);
    assert_eq!(requeued.not_before_ms, 20);

    let mut last = launched_once();
    last.launches = 3;
    let gave_up = replaced(&replace(&last, "its HF Job ended", 10).unwrap(), 3, 20);
    assert_eq!(gave_up.state, State::Failed);
    assert_eq!(
        gave_up.reason.as_deref(),
        Some("gave up after 3 HF Jobs: its HF Job ended")
    );
}

#[test]
fn a_taken_runner_queues_the_job_without_teardown() {
    let done = launched_once();
    let requeued = runner_taken(&done, "octo/ml job 2 attempt 1", 3, 10).unwrap();
    assert_eq!(requeued.state, State::Queued);
    assert_eq!(requeued.abandoned_hf_jobs, ["hf-1"]);
    assert!(requeued.reason.unwrap().contains("took another job"));
    assert_eq!(runner_taken(&queued(), "x", 3, 10), None);
    let mut last = launched_once();
    last.launches = 3;
    assert_eq!(
        runner_taken(&last, "x", 3, 10).unwrap().state,
        State::Failed
    );
}

#[test]
fn credential_trouble_pauses_and_a_pass_resumes() {
    let launching = claim(&queued(), 0, 1000, || "ferry-r".into()).unwrap();
    let paused = pause(&launching, "HF refused our credentials", 5);
    assert_eq!(paused.state, State::Paused);
    assert_eq!(paused.lease_until_ms, None);
    assert_eq!(paused.attempts, launching.attempts, "not a failed attempt");
    assert!(!paused.state.needs_work(), "workers leave it until a pass");
    let resumed = resume(&paused, 50).unwrap();
    assert_eq!((resumed.state, resumed.not_before_ms), (State::Queued, 50));
    assert_eq!(resume(&resumed, 60), None);
}

#[test]
fn a_job_github_does_not_hold_for_runners_yet_is_deferred_not_failed() {
    let launching = claim(&queued(), 0, 1000, || "ferry-r".into()).unwrap();
    let deferred = defer(&launching, "waiting", 900, 5);
    assert_eq!(
        (deferred.state, deferred.not_before_ms, deferred.attempts),
        (State::Queued, 900, launching.attempts)
    );
}

#[test]
fn waiting_ends_with_the_job_lifetime_github_gives_it() {
    let launching = claim(&queued(), 0, 1000, || "ferry-r".into()).unwrap();
    let paused = pause(&launching, "HF refused our credentials", 5);
    let day = QUEUE_LIFETIME_MS;
    assert_eq!(resume(&paused, day - 1).unwrap().state, State::Queued);
    let expired = resume(&paused, day).unwrap();
    assert_eq!(expired.state, State::Failed);
    assert!(
        expired
            .reason
            .unwrap()
            .contains("HF refused our credentials")
    );
    assert_eq!(
        defer(&launching, "waiting", day + 10, day).state,
        State::Failed
    );
}
