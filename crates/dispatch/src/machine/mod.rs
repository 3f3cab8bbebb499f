//! The job state machine: pure functions from a record and an input to the next record.
//!
//! Every input may arrive late, early, or many times; each function is written so that applying
//! it twice gives the same record as applying it once, and terminal states never change.
//! The store applies these functions inside one transaction per input.
//!
//! ```text
//!  queued ──claim──▶ launching ──launched──▶ launched ──in_progress──▶ running ──completed──▶ finished
//!    │                  │  ▲ retry              │
//!    │ completed        │  └──── (transient)    │ completed, runner never started
//!    ▼                  ▼ permanent             ▼
//!  cancelled ◀──────  failed            cancelling ──torn down──▶ cancelled
//!
//!  launched ──reconciler: HF Job ended, no runner by the boot deadline, idle──▶ replacing
//!  replacing ──torn down──▶ queued (a new HF Job), or failed after the last allowed launch
//!  launched ──reconciler: our runner took another job──▶ queued (no teardown: it is busy)
//!  launching ──credential or account error──▶ paused ──every reconcile pass──▶ queued
//! ```
//!
//! Workers write their outcomes only while their claim's fencing token still holds (see
//! [`crate::store::Store::update_fenced`]): a worker that lost its lease changes nothing.

use crate::model::{CheckRunMark, JobFacts, JobRecord, Observation, State};
pub use github_app::JobStatus;

#[cfg(test)]
mod tests;

/// Applies what a webhook delivery says. `None` means the record does not change.
pub fn observe(
    current: Option<&JobRecord>,
    facts: &JobFacts,
    observation: &Observation,
    now_ms: i64,
) -> Option<JobRecord> {
    let Some(current) = current else {
        return Some(first_sight(facts, observation, now_ms));
    };
    if current.state.is_terminal() {
        return None;
    }
    let mut next = current.clone();
    // Later deliveries may fill in what an earlier one lacked.
    if next.installation_id.is_none() {
        next.installation_id = facts.installation_id;
    }
    if next.head_sha.is_none() {
        next.head_sha = facts.head_sha.clone();
    }
    if next.flavor.is_none() {
        next.flavor = facts.flavor.clone();
    }
    match observation {
        Observation::Queued | Observation::Refused { .. } => {}
        Observation::InProgress { runner_name } => {
            if runner_name.is_some() {
                next.taken_by = runner_name.clone();
            }
            next.state = match current.state {
                State::Queued
                | State::Waiting
                | State::Launching
                | State::Launched
                | State::Running
                | State::Replacing
                | State::Paused => State::Running,
                // The job completed already and its delivery overtook this one.
                State::Cancelling => State::Cancelling,
                terminal => terminal,
            };
        }
        Observation::Completed {
            runner_name,
            conclusion,
        } => {
            if runner_name.is_some() {
                next.taken_by = runner_name.clone();
            }
            next.conclusion = conclusion.clone();
            let our_runner_ran_it = runner_name.is_some() && *runner_name == current.runner_name;
            next.state = match current.state {
                State::Queued | State::Waiting | State::Paused => {
                    next.reason = Some("the job ended before a runner was launched".into());
                    State::Cancelled
                }
                State::Running => State::Finished,
                // Its in_progress delivery was lost or is late; the job ran on our runner.
                State::Launching | State::Launched | State::Replacing if our_runner_ran_it => {
                    State::Finished
                }
                // Our runner never started this job: tear it down (a worker may hold the lease).
                State::Launching | State::Launched | State::Replacing => {
                    next.reason = Some("the job ended before our runner started it".into());
                    next.not_before_ms = now_ms;
                    State::Cancelling
                }
                other => other,
            };
        }
    }
    (next != *current).then(|| touched(next, now_ms))
}

fn first_sight(facts: &JobFacts, observation: &Observation, now_ms: i64) -> JobRecord {
    let mut record = JobRecord::new(facts, now_ms);
    match observation {
        Observation::Queued => {}
        Observation::Refused { reason } => {
            record.state = State::Failed;
            record.reason = Some(reason.clone());
        }
        // Seen only after the job started: someone else's runner took it; nothing to launch.
        Observation::InProgress { runner_name } => {
            record.state = State::Running;
            record.taken_by = runner_name.clone();
        }
        Observation::Completed {
            runner_name,
            conclusion,
        } => {
            record.state = State::Finished;
            record.taken_by = runner_name.clone();
            record.conclusion = conclusion.clone();
        }
    }
    record
}

/// A worker takes the record for `lease_ms`. Returns `None` when there is nothing to do yet.
pub fn claim(
    current: &JobRecord,
    now_ms: i64,
    lease_ms: i64,
    new_runner_name: impl FnOnce() -> String,
) -> Option<JobRecord> {
    if !current.state.needs_work() || current.not_before_ms > now_ms {
        return None;
    }
    if current.lease_until_ms.is_some_and(|until| until > now_ms) {
        return None;
    }
    let mut next = current.clone();
    if matches!(next.state, State::Queued | State::Waiting) {
        next.state = State::Launching;
        next.waiting_since_ms = None;
    }
    if next.state == State::Launching && next.runner_name.is_none() {
        next.runner_name = Some(new_runner_name());
    }
    next.lease_until_ms = Some(now_ms + lease_ms);
    next.lease_token = current.lease_token + 1;
    Some(touched(next, now_ms))
}

/// The job would go over a cap on live HF Jobs: it waits, and keeps its place in line.
/// `None` when it already waits for the same reason.
pub fn wait(current: &JobRecord, why: &str, now_ms: i64) -> Option<JobRecord> {
    if !matches!(current.state, State::Queued | State::Waiting) {
        return None;
    }
    let reason = format!("waits for room under {why}");
    if current.state == State::Waiting && current.reason.as_deref() == Some(reason.as_str()) {
        return None;
    }
    let mut next = current.clone();
    next.state = State::Waiting;
    next.waiting_since_ms = current.waiting_since_ms.or(Some(now_ms));
    next.reason = Some(reason);
    Some(touched(next, now_ms))
}

/// The claimant keeps its lease while its work goes on. `None`: the claim no longer holds or
/// the record left the state the work was for, so the work must stop.
pub fn renew(
    current: &JobRecord,
    token: u64,
    working_on: State,
    until_ms: i64,
    now_ms: i64,
) -> Option<JobRecord> {
    if current.lease_token != token || current.state != working_on {
        return None;
    }
    let mut next = current.clone();
    next.lease_until_ms = Some(until_ms);
    Some(touched(next, now_ms))
}

/// The HF Job exists (created now, or found from an earlier attempt).
pub fn launched(
    current: &JobRecord,
    hf_job_id: &str,
    runner_id: Option<u64>,
    now_ms: i64,
) -> JobRecord {
    let mut next = current.clone();
    next.hf_job_id = Some(hf_job_id.to_owned());
    if runner_id.is_some() {
        next.runner_id = runner_id;
    }
    next.lease_until_ms = None;
    next.attempts = current.attempts + 1;
    if current.hf_job_id.as_deref() != Some(hf_job_id) {
        next.launches = current.launches + 1;
        next.launched_ms = Some(now_ms);
    }
    match current.state {
        State::Launching => next.state = State::Launched,
        // The job ended while we launched: teardown is due at once.
        State::Cancelling => next.not_before_ms = now_ms,
        _ => {}
    }
    touched(next, now_ms)
}

/// The HF Job found for the record hosts the runner `name` (an earlier claim named it).
pub fn runner_named(current: &JobRecord, name: &str, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    if next.runner_name.as_deref() != Some(name) {
        next.runner_name = Some(name.to_owned());
        next.runner_id = None;
    }
    touched(next, now_ms)
}

/// Records a runner registered before the HF Job was created, so teardown can find it.
pub fn runner_registered(current: &JobRecord, runner_id: u64, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    next.runner_id = Some(runner_id);
    touched(next, now_ms)
}

/// A transient failure: try again at `retry_at_ms`.
pub fn retry(current: &JobRecord, reason: &str, retry_at_ms: i64, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    next.reason = Some(reason.to_owned());
    next.not_before_ms = retry_at_ms;
    next.attempts = current.attempts + 1;
    if current.state == State::Launching {
        next.state = State::Queued;
    }
    touched(next, now_ms)
}

/// A permanent failure of the work in hand.
pub fn fail(current: &JobRecord, reason: &str, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    next.reason = Some(reason.to_owned());
    next.attempts = current.attempts + 1;
    next.state = match current.state {
        State::Launching | State::Queued | State::Replacing => State::Failed,
        // Teardown that cannot finish still ends: nothing more can be done for the job.
        State::Cancelling => State::Cancelled,
        other => other,
    };
    touched(next, now_ms)
}

/// GitHub says the job is no longer queued, so no runner is needed for it.
pub fn not_needed(
    current: &JobRecord,
    github_status: JobStatus,
    taken_by: Option<&str>,
    now_ms: i64,
) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    if let Some(runner) = taken_by {
        next.taken_by = Some(runner.to_owned());
    }
    if current.state == State::Launching {
        if github_status == JobStatus::Completed {
            next.state = State::Cancelled;
            next.reason = Some("the job ended before a runner was launched".into());
        } else {
            next.state = State::Running;
        }
    }
    touched(next, now_ms)
}

/// GitHub cancels a job that waited 24 hours for a runner: waiting longer is pointless.
pub const QUEUE_LIFETIME_MS: i64 = 24 * 3600 * 1000;

fn outlived(current: &JobRecord, now_ms: i64) -> Option<JobRecord> {
    (now_ms - current.created_ms >= QUEUE_LIFETIME_MS).then(|| {
        let mut next = current.clone();
        next.lease_until_ms = None;
        next.state = State::Failed;
        next.reason = Some(format!(
            "gave up after 24 hours, as GitHub does: {}",
            current.reason.as_deref().unwrap_or("the job never started")
        ));
        touched(next, now_ms)
    })
}

/// GitHub does not hold the job for a runner yet (`waiting`, `pending`, `requested`): look
/// again at `retry_at_ms`. Not a failed attempt: the job's own lifetime bounds the waiting.
pub fn defer(current: &JobRecord, reason: &str, retry_at_ms: i64, now_ms: i64) -> JobRecord {
    if let Some(expired) = outlived(current, now_ms) {
        return expired;
    }
    let mut next = current.clone();
    next.lease_until_ms = None;
    next.reason = Some(reason.to_owned());
    next.not_before_ms = retry_at_ms;
    if current.state == State::Launching {
        next.state = State::Queued;
    }
    touched(next, now_ms)
}

/// A credential or account error: no launch can succeed until an operator acts.
pub fn pause(current: &JobRecord, reason: &str, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    next.reason = Some(reason.to_owned());
    if matches!(current.state, State::Launching | State::Queued) {
        next.state = State::Paused;
    }
    touched(next, now_ms)
}

/// A reconcile pass tries a paused job again.
pub fn resume(current: &JobRecord, now_ms: i64) -> Option<JobRecord> {
    if current.state != State::Paused {
        return None;
    }
    if let Some(expired) = outlived(current, now_ms) {
        return Some(expired);
    }
    let mut next = current.clone();
    next.state = State::Queued;
    next.not_before_ms = now_ms;
    Some(touched(next, now_ms))
}

/// The reconciler found our runner will not serve the job: tear it down, then launch again.
pub fn replace(current: &JobRecord, why: &str, now_ms: i64) -> Option<JobRecord> {
    if current.state != State::Launched {
        return None;
    }
    let mut next = current.clone();
    next.state = State::Replacing;
    next.reason = Some(why.to_owned());
    next.not_before_ms = now_ms;
    next.lease_until_ms = None;
    Some(touched(next, now_ms))
}

/// Our runner took another job with the same labels and is busy with it; that job keeps the
/// runner and its HF Job, and ours is queued for a new launch.
pub fn runner_taken(
    current: &JobRecord,
    by_job: &str,
    max_launches: u32,
    now_ms: i64,
) -> Option<JobRecord> {
    if current.state != State::Launched {
        return None;
    }
    let why = format!("our runner took another job ({by_job})");
    Some(touched(
        requeue_or_give_up(current, &why, max_launches, now_ms),
        now_ms,
    ))
}

/// Teardown of a replaced runner is done: queue the job for a fresh launch, unless it had its
/// last allowed launch.
pub fn replaced(current: &JobRecord, max_launches: u32, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    if current.state == State::Replacing {
        let why = current.reason.clone().unwrap_or_default();
        next = requeue_or_give_up(current, &why, max_launches, now_ms);
    }
    touched(next, now_ms)
}

fn requeue_or_give_up(current: &JobRecord, why: &str, max_launches: u32, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    if let Some(old) = next.hf_job_id.take()
        && !next.abandoned_hf_jobs.contains(&old)
    {
        next.abandoned_hf_jobs.push(old);
    }
    next.runner_name = None;
    next.runner_id = None;
    next.launched_ms = None;
    if current.launches >= max_launches {
        next.state = State::Failed;
        next.reason = Some(format!("gave up after {} HF Jobs: {why}", current.launches));
    } else {
        next.state = State::Queued;
        next.reason = Some(why.to_owned());
        next.not_before_ms = now_ms;
        next.attempts = 0;
    }
    next
}

/// Teardown is done: the runner is gone (or busy elsewhere) and the HF Job cancelled.
/// A replacement's teardown ends in [`replaced`] instead.
pub fn torn_down(current: &JobRecord, note: Option<&str>, now_ms: i64) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    if current.state == State::Cancelling {
        next.state = State::Cancelled;
    }
    if let Some(note) = note {
        next.reason = Some(note.to_owned());
    }
    touched(next, now_ms)
}

fn touched(mut record: JobRecord, now_ms: i64) -> JobRecord {
    record.updated_ms = now_ms;
    record
}

/// The check run of the record was written as `mark` says. Bookkeeping only: the state,
/// the lease and `updated_ms` stay as they are (the reconciler's graces count from
/// `updated_ms`). `None` when the record already carries this mark.
pub fn check_run_written(current: &JobRecord, mark: CheckRunMark) -> Option<JobRecord> {
    if current.check_run.as_ref() == Some(&mark) {
        return None;
    }
    let mut next = current.clone();
    next.check_run = Some(mark);
    Some(next)
}
