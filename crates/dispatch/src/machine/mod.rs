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
//! ```

use crate::model::{JobFacts, JobRecord, Observation, State};

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
    match observation {
        Observation::Queued | Observation::Refused { .. } => {}
        Observation::InProgress { runner_name } => {
            if runner_name.is_some() {
                next.taken_by = runner_name.clone();
            }
            next.state = match current.state {
                State::Queued | State::Launching | State::Launched | State::Running => {
                    State::Running
                }
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
                State::Queued => {
                    next.reason = Some("the job ended before a runner was launched".into());
                    State::Cancelled
                }
                State::Running => State::Finished,
                // Its in_progress delivery was lost or is late; the job ran on our runner.
                State::Launching | State::Launched if our_runner_ran_it => State::Finished,
                // Our runner never started this job: tear it down (a worker may hold the lease).
                State::Launching | State::Launched => {
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
    if next.state == State::Queued {
        next.state = State::Launching;
    }
    if next.state == State::Launching && next.runner_name.is_none() {
        next.runner_name = Some(new_runner_name());
    }
    next.lease_until_ms = Some(now_ms + lease_ms);
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
    match current.state {
        State::Launching => next.state = State::Launched,
        // The job ended while we launched: teardown is due at once.
        State::Cancelling => next.not_before_ms = now_ms,
        _ => {}
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
        State::Launching | State::Queued => State::Failed,
        // Teardown that cannot finish still ends: nothing more can be done for the job.
        State::Cancelling => State::Cancelled,
        other => other,
    };
    touched(next, now_ms)
}

/// GitHub says the job is no longer queued, so no runner is needed for it.
pub fn not_needed(
    current: &JobRecord,
    github_status: &str,
    taken_by: Option<&str>,
    now_ms: i64,
) -> JobRecord {
    let mut next = current.clone();
    next.lease_until_ms = None;
    if let Some(runner) = taken_by {
        next.taken_by = Some(runner.to_owned());
    }
    if current.state == State::Launching {
        if github_status == "completed" {
            next.state = State::Cancelled;
            next.reason = Some("the job ended before a runner was launched".into());
        } else {
            next.state = State::Running;
        }
    }
    touched(next, now_ms)
}

/// Teardown is done: the runner is gone (or busy elsewhere) and the HF Job cancelled.
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
