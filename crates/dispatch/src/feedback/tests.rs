use std::time::Duration;

use super::*;
use crate::model::{JobFacts, JobKey};
use crate::policy::Refusal as PolicyRefusal;

const NOW: i64 = 1_700_000_000_000;
const SHA: &str = "f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed";

fn settings() -> FeedbackSettings {
    FeedbackSettings {
        default_namespace: Some("ferry-ci".into()),
        ..FeedbackSettings::default()
    }
}

fn record(labels: &[&str]) -> JobRecord {
    let facts = JobFacts {
        key: JobKey {
            repo: "octo/ml".into(),
            job_id: 7,
            run_attempt: 1,
        },
        run_id: 99,
        installation_id: Some(42),
        labels: labels.iter().map(|l| l.to_string()).collect(),
        workflow_name: Some("CI".into()),
        job_name: Some("train".into()),
        head_sha: Some(SHA.into()),
        flavor: Some("t4-small".into()),
    };
    JobRecord::new(&facts, NOW - 60_000)
}

fn refused(labels: &[&str], reason: &str) -> JobRecord {
    let mut record = record(labels);
    record.state = State::Failed;
    record.reason = Some(reason.to_owned());
    record
}

fn show(record: &JobRecord) -> CheckRunContent {
    desired(record, NOW, &settings()).expect("a check run")
}

fn failure() -> CheckStatus {
    CheckStatus::Completed(CheckConclusion::Failure)
}

fn with_check_run(mut record: JobRecord) -> JobRecord {
    record.check_run = Some(CheckRunMark {
        id: Some(5),
        written: "0".into(),
    });
    record
}

fn launched(mut record: JobRecord) -> JobRecord {
    record.state = State::Launched;
    record.hf_job_id = Some("68a1b2c3".into());
    record.runner_name = Some("ferry-7-abc".into());
    record.launches = 1;
    record
}

#[test]
fn an_unknown_flavor_names_the_label_and_suggests_the_nearest_labels() {
    let labels = ["self-hosted", "hf-jobs-t4-smal"];
    let reason = runner_labels::place(&labels, &Catalogue::embedded(), &Images::default())
        .unwrap_err()
        .to_string();
    let content = show(&refused(&labels, &reason));
    assert_eq!(content.status, failure());
    assert_eq!(content.title, "Unknown Hugging Face Jobs flavor: t4-smal");
    assert!(
        content
            .summary
            .contains("The `runs-on` label `hf-jobs-t4-smal` asks for `t4-smal`, which is not a"),
        "{}",
        content.summary
    );
    assert!(
        content.summary.contains("Did you mean `hf-jobs-t4-small`"),
        "{}",
        content.summary
    );
    assert!(
        !content.summary.contains("'t4-small'"),
        "said once, as labels"
    );
    let text = content.text.unwrap();
    assert!(
        text.contains("`cpu-basic`") && text.contains("`a100-large`"),
        "{text}"
    );
    assert_eq!(content.name, "Ferry: CI / train");
    assert_eq!(content.head_sha, SHA);
    assert_eq!(content.external_id, "octo/ml#7#1");
    assert_eq!(content.details_url, None);
}

#[test]
fn a_suggestion_keeps_the_options_of_an_extended_label() {
    let labels = ["hf-jobs=T4-SMAL/timeout=1h"];
    let reason = runner_labels::place(&labels, &Catalogue::embedded(), &Images::default())
        .unwrap_err()
        .to_string();
    let content = show(&refused(&labels, &reason));
    assert!(
        content.summary.contains("`hf-jobs=t4-small/timeout=1h`"),
        "{}",
        content.summary
    );
    assert_eq!(
        relabel("hf-jobs-a10g-larg:gpu", "a10g-larg", "a10g-large"),
        "hf-jobs-a10g-large:gpu"
    );
    assert_eq!(relabel("odd", "flavor", "t4-small"), "hf-jobs-t4-small");
}

#[test]
fn zerogpu_hardware_is_named_as_spaces_hardware() {
    let labels = ["hf-jobs-zero-a10g"];
    let reason = runner_labels::place(&labels, &Catalogue::embedded(), &Images::default())
        .unwrap_err()
        .to_string();
    let content = show(&refused(&labels, &reason));
    assert!(
        content
            .summary
            .contains("asks for `zero-a10g`, which is ZeroGPU hardware for Spaces"),
        "{}",
        content.summary
    );
}

#[test]
fn other_label_problems_say_the_label_is_not_valid() {
    let labels = ["hf-jobs-t4-small", "hf-jobs-l4x1"];
    let reason = runner_labels::place(&labels, &Catalogue::embedded(), &Images::default())
        .unwrap_err()
        .to_string();
    let content = show(&refused(&labels, &reason));
    assert_eq!(content.title, "The Ferry label in runs-on is not valid");
    assert!(
        content.summary.contains("several Ferry labels"),
        "{}",
        content.summary
    );
}

#[test]
fn policy_refusals_are_titled_by_kind_and_keep_the_reason() {
    let cases: Vec<(String, &str)> = vec![
        (
            PolicyRefusal::RepositoryNotAllowed {
                repo: "octo/ml".into(),
            }
            .to_string(),
            "This repository may not run jobs on this dispatcher",
        ),
        (
            PolicyRefusal::FlavorNotAllowed {
                flavor: "t4-small".into(),
                allowed: vec!["cpu".into()],
            }
            .to_string(),
            "Flavor t4-small is not allowed for this repository",
        ),
        (
            PolicyRefusal::TimeoutTooLong {
                flavor: "t4-small".into(),
                asked: Duration::from_secs(7200),
                max: Duration::from_secs(3600),
            }
            .to_string(),
            "The timeout asked for is longer than allowed",
        ),
        (
            PolicyRefusal::CacheBucketInvalid {
                bucket: "octo/--".into(),
                problem: "bad".into(),
            }
            .to_string(),
            "The repository's cache volume is misconfigured",
        ),
        (
            "something no one foresaw".to_owned(),
            "Not run on Hugging Face Jobs",
        ),
    ];
    for (reason, title) in cases {
        let content = show(&refused(&["hf-jobs-t4-small"], &reason));
        assert_eq!(content.title, title, "{reason}");
        assert_eq!(content.status, failure());
        assert!(
            content
                .summary
                .starts_with("Ferry did not start job `train` of workflow `CI`"),
            "{}",
            content.summary
        );
        assert!(
            content.summary.contains(&sentence(&reason)),
            "{}",
            content.summary
        );
        assert!(content.summary.contains("24 hours"), "{}", content.summary);
    }
}

#[test]
fn a_fork_refusal_says_it_is_a_fork_and_what_the_owner_can_change() {
    for reason in [
        PolicyRefusal::ForkRefused {
            author: "mallory".into(),
        }
        .to_string(),
        PolicyRefusal::ForkGpuRefused {
            author: "mallory".into(),
            flavor: "t4-small".into(),
        }
        .to_string(),
    ] {
        // The launcher finds forks: the record failed after its first attempt.
        let mut record = refused(&["hf-jobs-t4-small"], &reason);
        record.attempts = 1;
        let content = show(&record);
        assert_eq!(content.title, "Not run: a pull request from a fork");
        assert_eq!(content.status, failure());
        assert!(
            content
                .summary
                .contains("pull request from a fork (by mallory)")
        );
        assert!(content.summary.contains("FORK_"), "{}", content.summary);
        assert!(
            content.summary.contains("maintainers"),
            "{}",
            content.summary
        );
    }
}

#[test]
fn launch_failures_say_ferry_could_not_start_the_job() {
    let mut record = refused(
        &["hf-jobs-t4-small"],
        "gave up after 12 attempts: HF Jobs is unavailable for now: GitHub server error: HTTP 502",
    );
    record.attempts = 12;
    let content = show(&record);
    assert_eq!(
        content.title,
        "Could not start the job on Hugging Face Jobs"
    );
    assert!(
        content
            .summary
            .starts_with("Ferry could not start job `train`")
    );
    assert!(
        content
            .summary
            .contains("Gave up after 12 attempts: HF Jobs is unavailable")
    );

    let mut record = refused(
        &["hf-jobs-t4-small"],
        "gave up after 3 HF Jobs: the runner was not online within 10m",
    );
    record.launches = 3;
    assert_eq!(
        show(&record).title,
        "No runner served the job on Hugging Face Jobs"
    );

    let record = refused(
        &["hf-jobs-t4-small"],
        "gave up after 24 hours, as GitHub does: payment required",
    );
    let content = show(&record);
    assert_eq!(content.title, "Gave up after 24 hours");
    assert!(!content.summary.contains("GitHub keeps the job queued"));
}

#[test]
fn a_job_waiting_on_a_cap_gets_a_check_run_after_the_notice_delay() {
    let mut record = record(&["hf-jobs-t4-small"]);
    record.state = State::Waiting;
    record.reason = Some("waits for room under the global cap MAX_RUNNING_JOBS=1".into());
    record.waiting_since_ms = Some(NOW - 60_000);
    assert_eq!(desired(&record, NOW, &settings()), None, "not yet");

    record.waiting_since_ms = Some(NOW - 180_000);
    let content = show(&record);
    assert_eq!(content.status, CheckStatus::InProgress);
    assert_eq!(content.title, "Waiting for room on Hugging Face Jobs");
    assert!(
        content.summary.starts_with(
            "Job `train` of workflow `CI` waits for room under the global cap \
             MAX_RUNNING_JOBS=1"
        ),
        "{}",
        content.summary
    );
    // The text does not change as time passes: nothing is written again.
    assert_eq!(
        desired(&record, NOW + 3_600_000, &settings()),
        Some(content)
    );

    // Once written, it stays shown even when the wait starts over.
    let mut again = with_check_run(record);
    again.waiting_since_ms = Some(NOW);
    assert!(desired(&again, NOW, &settings()).is_some());
}

#[test]
fn a_paused_job_says_it_waits_for_the_operator_and_why() {
    let mut record = record(&["hf-jobs-t4-small"]);
    record.state = State::Paused;
    record.reason = Some(
        "HF Jobs refused our credentials: payment required: Insufficient credits (check \
         HF_TOKEN, its permissions and the namespace's credits)"
            .into(),
    );
    let content = show(&record);
    assert_eq!(content.status, CheckStatus::InProgress);
    assert_eq!(
        content.title,
        "Waiting: the Hugging Face account has no credits"
    );
    assert!(
        content
            .summary
            .contains("the Hugging Face account has no credits left")
    );
    assert!(
        !content.summary.contains("ferry-ci"),
        "the policy may pick another namespace"
    );
    assert!(
        content
            .summary
            .contains("until the dispatcher's operator acts")
    );
    assert!(content.summary.contains("Insufficient credits"));

    // A job launched before knows its namespace.
    let mut relaunch = record.clone();
    relaunch.hf_namespace = Some("acme".into());
    assert!(
        show(&relaunch)
            .summary
            .contains("the Hugging Face account `acme` has no credits left")
    );

    record.reason = Some("HF Jobs refused our credentials: unauthorized: Invalid token".into());
    assert_eq!(
        show(&record).title,
        "Waiting: the dispatcher's credentials were refused"
    );

    // Paused for 24 hours, it fails for good.
    record.state = State::Failed;
    record.reason = Some("gave up after 24 hours, as GitHub does: payment required".into());
    assert_eq!(show(&record).status, failure());
}

#[test]
fn a_launched_job_links_its_hf_job_and_tells_how_to_follow_its_log() {
    let record = launched(record(&["hf-jobs-t4-small"]));
    let content = show(&record);
    assert_eq!(content.status, CheckStatus::InProgress);
    assert_eq!(content.title, "Running on Hugging Face Jobs (t4-small)");
    assert_eq!(
        content.details_url.as_deref(),
        Some("https://huggingface.co/jobs/ferry-ci/68a1b2c3")
    );
    assert!(
        content.summary.contains(
            "in HF Job [`ferry-ci/68a1b2c3`](https://huggingface.co/jobs/ferry-ci/68a1b2c3) on \
             `t4-small` hardware"
        ),
        "{}",
        content.summary
    );
    assert!(content.summary.contains("`ferry-7-abc`"));
    let text = content.text.unwrap();
    assert!(text.contains("hf jobs logs -f ferry-ci/68a1b2c3"), "{text}");
    assert!(text.contains("hfjobs logs -f ferry-ci/68a1b2c3"), "{text}");

    // Running on our runner shows the same: no second write.
    let mut running = record.clone();
    running.state = State::Running;
    running.taken_by = running.runner_name.clone();
    assert_eq!(digest(&show(&running)), digest(&show(&record)));

    // The record's namespace wins; the Hub's address follows HF_ENDPOINT.
    let mut elsewhere = record.clone();
    elsewhere.hf_namespace = Some("acme".into());
    let custom = FeedbackSettings {
        hub_url: "https://hub.example/".into(),
        ..settings()
    };
    let content = desired(&elsewhere, NOW, &custom).unwrap();
    assert_eq!(
        content.details_url.as_deref(),
        Some("https://hub.example/jobs/acme/68a1b2c3")
    );
    assert!(
        content
            .text
            .unwrap()
            .contains("hf jobs logs -f acme/68a1b2c3")
    );

    // No namespace known: no link, the bare id.
    let unknown = FeedbackSettings {
        default_namespace: None,
        ..settings()
    };
    let content = desired(&record, NOW, &unknown).unwrap();
    assert_eq!(content.details_url, None);
    assert!(content.text.unwrap().contains("hf jobs logs -f 68a1b2c3"));
}

#[test]
fn a_finished_job_completes_its_check_run_with_success_or_neutral() {
    let mut record = launched(record(&["hf-jobs-t4-small"]));
    record.state = State::Finished;
    record.taken_by = record.runner_name.clone();
    record.conclusion = Some("success".into());
    let content = show(&record);
    assert_eq!(
        content.status,
        CheckStatus::Completed(CheckConclusion::Success)
    );
    assert_eq!(content.title, "Ran on Hugging Face Jobs (t4-small)");
    assert!(content.summary.contains("It ended with `success`"));
    assert!(
        content
            .text
            .unwrap()
            .contains("hf jobs logs ferry-ci/68a1b2c3")
    );
    assert!(content.details_url.is_some());

    record.conclusion = Some("failure".into());
    let content = show(&record);
    assert_eq!(
        content.status,
        CheckStatus::Completed(CheckConclusion::Neutral)
    );
    assert!(
        content
            .summary
            .contains("the job's own check shows its result")
    );
}

#[test]
fn a_job_another_runner_took_gets_a_check_run_only_if_it_had_one() {
    let mut record = launched(record(&["hf-jobs-t4-small"]));
    record.state = State::Finished;
    record.taken_by = Some("someone-elses-runner".into());
    assert_eq!(desired(&record, NOW, &settings()), None);
    let content = show(&with_check_run(record));
    assert_eq!(
        content.status,
        CheckStatus::Completed(CheckConclusion::Neutral)
    );
    assert_eq!(content.title, "Ran on another runner");
    assert!(content.summary.contains("`someone-elses-runner`"));
}

#[test]
fn a_cancelled_job_completes_an_existing_check_run_as_skipped() {
    let mut record = launched(record(&["hf-jobs-t4-small"]));
    record.state = State::Cancelled;
    record.reason = Some("the job ended before our runner started it".into());
    let content = show(&with_check_run(record.clone()));
    assert_eq!(
        content.status,
        CheckStatus::Completed(CheckConclusion::Skipped)
    );
    assert_eq!(
        content.summary,
        "Job `train` of workflow `CI` ended before a runner of Ferry's started it, so it did not \
         run on Hugging Face Jobs. Ferry removes what it started for it."
    );
    record.state = State::Cancelled;
    record.hf_job_id = None;
    assert_eq!(desired(&record, NOW, &settings()), None);
}

#[test]
fn a_relaunch_shows_restarting_only_once_a_check_run_exists() {
    let mut record = record(&["hf-jobs-t4-small"]);
    record.state = State::Queued;
    record.launches = 1;
    record.reason = Some("the HF Job ended before its runner took the job".into());
    assert_eq!(desired(&record, NOW, &settings()), None);
    let content = show(&with_check_run(record));
    assert_eq!(content.status, CheckStatus::InProgress);
    assert_eq!(content.title, "Restarting on Hugging Face Jobs");
    assert!(
        content
            .summary
            .contains("The last HF Job did not serve the job: The HF Job ended"),
        "{}",
        content.summary
    );
}

#[test]
fn nothing_is_written_without_a_head_commit_or_for_jobs_ferry_never_ran() {
    let mut record = refused(&["hf-jobs-t4-small"], "anything");
    record.head_sha = None;
    assert_eq!(desired(&record, NOW, &settings()), None);
    record.head_sha = Some(String::new());
    assert_eq!(desired(&record, NOW, &settings()), None);

    let mut queued = self::record(&["hf-jobs-t4-small"]);
    assert_eq!(desired(&queued, NOW, &settings()), None);
    queued.state = State::Finished;
    queued.taken_by = Some("ubuntu-runner".into());
    assert_eq!(desired(&queued, NOW, &settings()), None);
}

#[test]
fn texts_are_cut_to_githubs_limits() {
    let long = "x".repeat(70_000);
    let content = show(&refused(&["hf-jobs-t4-small"], &long));
    assert_eq!(content.summary.chars().count(), CHECK_RUN_TEXT_MAX);
    assert!(content.summary.ends_with('…'));

    let mut record = record(&["hf-jobs-t4-small"]);
    record.job_name = Some("é".repeat(300));
    record.state = State::Failed;
    record.reason = Some("r".into());
    let content = show(&record);
    assert_eq!(content.name.chars().count(), NAME_MAX);
    assert_eq!(cut("short", 10), "short");
}

#[test]
fn markdown_code_spans_survive_backticks_in_names() {
    let mut record = refused(&["hf-jobs-t4-small"], "no");
    record.job_name = Some("a`b".into());
    assert!(show(&record).summary.contains("job `a'b`"));
}

#[test]
fn the_digest_is_stable_and_follows_every_field() {
    let content = show(&launched(record(&["hf-jobs-t4-small"])));
    let digest_now = digest(&content);
    assert_eq!(digest_now.len(), 16);
    assert_eq!(digest_now, digest(&content.clone()));
    let mut changed = content.clone();
    changed.details_url = None;
    assert_ne!(digest(&changed), digest_now);
    let mut changed = content.clone();
    changed.status = CheckStatus::Completed(CheckConclusion::Success);
    assert_ne!(digest(&changed), digest_now);
    let mut changed = content;
    changed.title.push('!');
    assert_ne!(digest(&changed), digest_now);
    // FNV-1a of a fixed input, so a build that hashed differently would rewrite every check run.
    let fixed = CheckRunContent {
        name: "n".into(),
        head_sha: "s".into(),
        external_id: "e".into(),
        status: CheckStatus::InProgress,
        title: "t".into(),
        summary: "m".into(),
        text: None,
        details_url: None,
    };
    assert_eq!(digest(&fixed), digest(&fixed.clone()));
    assert_eq!(digest(&fixed), "0d05646e40786c1c");
}

#[test]
fn writing_the_mark_changes_nothing_else() {
    let mut record = launched(record(&["hf-jobs-t4-small"]));
    record.lease_until_ms = Some(NOW + 1000);
    record.lease_token = 4;
    let mark = CheckRunMark {
        id: Some(11),
        written: "abc".into(),
    };
    let next = machine::check_run_written(&record, mark.clone()).unwrap();
    assert_eq!(next.check_run.as_ref(), Some(&mark));
    let mut back = next.clone();
    back.check_run = record.check_run.clone();
    assert_eq!(
        back, record,
        "state, lease, token and updated_ms are untouched"
    );
    assert_eq!(machine::check_run_written(&next, mark), None);
}
