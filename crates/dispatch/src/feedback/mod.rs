//! Feedback in GitHub: one check run per job attempt, on the job's head commit, written for
//! the workflow author (`CHECK_RUNS`, on by default; the App needs Checks: write).
//!
//! [`desired`] says, from a record alone, what its check run should show, or that it needs
//! none; [`digest`] condenses that content. [`FeedbackPass`] runs every
//! [`FeedbackSettings::interval`]: for each record whose desired digest differs from the one
//! last written (`JobRecord::check_run`), it creates the check run (`POST`, with the job's key
//! as `external_id`) or updates it (`PATCH`), then stores the new mark through
//! [`crate::machine::check_run_written`], which touches neither state nor lease.
//!
//! What each job shows:
//!
//! | record | check run |
//! |---|---|
//! | refused at the webhook (label, repository, flavor, timeout, cache, fork) | completed `failure`; the title names the kind, the summary is the record's reason, an unknown flavor adds the nearest labels ("did you mean `hf-jobs-t4-small`?") and the known flavors |
//! | failed at launch, after its HF Jobs, or after 24 hours | completed `failure` with the reason |
//! | waiting on a cap for [`FeedbackSettings::waiting_notice`] | in progress, "Waiting for room …" |
//! | paused (HF 402 no credits, a refused credential) | in progress, "Waiting: …"; the operator must act |
//! | launched or running on our runner | in progress, `details_url` = the HF Job's page, how to follow its log |
//! | finished on our runner | completed `success` when the job succeeded, else `neutral`: the job's own check shows its result, ours says where it ran |
//! | queued again, launching, being replaced | in progress, "Starting …" / "Restarting …", only when a check run exists already |
//! | ran on another runner | completed `neutral`, only when a check run exists already |
//! | cancelled (the job ended before it ran here) | completed `skipped`, only when a check run exists already |
//!
//! No check run is written for a record without a head commit or installation, nor for jobs
//! Ferry never launched that ended or were taken elsewhere. A job waiting on a cap and then
//! started keeps one check run: "waiting" becomes "running", which completes when the job
//! ends. A check run's name is `Ferry: <workflow> / <job>` (run attempts share it, so GitHub
//! shows the latest attempt's).
//!
//! Decisions:
//!
//! - The kind of a refusal is recognised from the record: a label problem by placing its
//!   labels again and finding exactly the stored reason, the policy's refusals by their
//!   wording (pinned by this module's tests against [`crate::policy::Refusal`]'s own text).
//!   An unrecognised reason still shows, under a generic title.
//! - Texts carry nothing but the record's own fields and its reason, which is written for the
//!   workflow author and holds no secret; summaries and texts are cut to GitHub's 65,535
//!   characters. No text depends on the clock, so an unchanged record is never written again.
//! - Log commands name the job as `namespace/id` (`hf jobs logs -f ferry-ci/abc`), which both
//!   `hf` and `hfjobs` accept: the reader's own default namespace is unknown to Ferry.
//! - The namespace is the record's `hf_namespace`, else [`FeedbackSettings::default_namespace`],
//!   else the one the dispatcher's HF token belongs to.
//! - At most [`FeedbackSettings::writes_per_pass`] writes per pass, oldest change first; a
//!   rate limit holds every write for as long as GitHub asks.
//! - A 403 (the App lacks Checks: write, or the installation is suspended) is logged once per
//!   installation, and that installation is skipped for [`FeedbackSettings::forbidden_pause`];
//!   it is logged again only after a write there succeeded. Launching never waits on a check
//!   run: the pass is its own task and writes only the check-run mark.
//! - A 404 on an update (the check run is gone) creates a new one; content GitHub refuses for
//!   good (422, a repository it hides) is not tried again for ten minutes unless it changes.
//! - Idempotence: the mark is stored after the call. A crash between the `POST` and the store
//!   makes at most one duplicate check run (the next pass creates another; the first stays
//!   with its last content). Within one process, an id whose mark could not be stored is
//!   remembered, so only a crash duplicates.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hf_jobs::HfClient;
use runner_labels::{Catalogue, Images, Refusal};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::adapters::GitHubAdapter;
use crate::machine;
use crate::model::{CheckRunMark, JobRecord, State, now_ms};
use crate::ports::{CHECK_RUN_TEXT_MAX, CheckRunError, PortError};
pub use crate::ports::{CheckConclusion, CheckRunContent, CheckStatus};
use crate::store::Store;

#[cfg(test)]
mod tests;

/// The longest check run name and title written.
const NAME_MAX: usize = 100;
const TITLE_MAX: usize = 200;
/// How long content GitHub refused for good is left alone.
const REFUSED_PAUSE_MS: i64 = 10 * 60 * 1000;

/// How the feedback pass runs and what its texts point to.
#[derive(Debug, Clone)]
pub struct FeedbackSettings {
    pub interval: Duration,
    /// A job waiting on a cap gets its check run once it has waited this long.
    pub waiting_notice: Duration,
    /// Check runs written (created or updated) per pass at most.
    pub writes_per_pass: usize,
    /// Ended records are still looked at for this long (a write that failed is tried again).
    pub lookback: Duration,
    /// An installation whose check runs GitHub refuses (403) is left alone this long.
    pub forbidden_pause: Duration,
    /// The HF namespace of jobs whose record names none; `None`: the HF token's.
    pub default_namespace: Option<String>,
    /// Where HF Job pages live (`HF_ENDPOINT`).
    pub hub_url: String,
    /// To recognise label refusals and suggest labels: the dispatcher's catalogue and images.
    pub catalogue: Catalogue,
    pub images: Images,
}

impl Default for FeedbackSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(5),
            waiting_notice: Duration::from_secs(180),
            // 6 every 5 s is 72 a minute: under GitHub's secondary limit on requests that
            // create content (about 80 a minute), which check runs count against.
            writes_per_pass: 6,
            lookback: Duration::from_secs(6 * 3600),
            forbidden_pause: Duration::from_secs(3600),
            default_namespace: None,
            hub_url: "https://huggingface.co".to_owned(),
            catalogue: Catalogue::embedded(),
            images: Images::default(),
        }
    }
}

// ---- What a record's check run shows. ----

/// Why a job was not served, as far as the check run's title and advice go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    UnknownFlavor {
        label: String,
        flavor: String,
        /// Labels to write instead, closest first.
        suggestions: Vec<String>,
        valid: Vec<String>,
    },
    InvalidLabel,
    RepositoryNotAllowed,
    FlavorNotAllowed,
    TimeoutTooLong,
    Fork,
    CacheBucket,
    /// GitHub's and Ferry's 24 hours passed.
    Expired,
    /// Every HF Job allowed was launched and none served the job.
    NoRunner,
    /// The launch failed for good, or after its attempts.
    LaunchFailed,
    Refused,
}

/// The check run `record` should show now, or `None` when it needs none.
pub fn desired(
    record: &JobRecord,
    now_ms: i64,
    settings: &FeedbackSettings,
) -> Option<CheckRunContent> {
    let head_sha = record.head_sha.as_deref().filter(|sha| !sha.is_empty())?;
    let exists = record.check_run.is_some();
    let ran_elsewhere = record.taken_by.is_some() && !record.taken_by_ours();
    let (status, title, summary, text, details_url) = match record.state {
        State::Failed => failed(record, settings),
        State::Paused => paused(record),
        State::Waiting => {
            let noticed = record
                .waiting_since_ms
                .is_none_or(|since| now_ms - since >= settings.waiting_notice.as_millis() as i64);
            if !noticed && !exists {
                return None;
            }
            waiting(record)
        }
        State::Queued | State::Launching | State::Replacing if exists => starting(record),
        State::Launched | State::Running if record.hf_job_id.is_some() && !ran_elsewhere => {
            running(record, settings)
        }
        State::Finished if record.hf_job_id.is_some() && !ran_elsewhere => {
            finished(record, settings)
        }
        State::Running | State::Finished if exists && ran_elsewhere => elsewhere(record),
        State::Cancelling | State::Cancelled if exists => cancelled(record),
        _ => return None,
    };
    Some(CheckRunContent {
        name: cut(&check_run_name(record), NAME_MAX),
        head_sha: head_sha.to_owned(),
        external_id: record.key.id(),
        status,
        title: cut(&title, TITLE_MAX),
        summary: cut(&summary, CHECK_RUN_TEXT_MAX),
        text: text.map(|t| cut(&t, CHECK_RUN_TEXT_MAX)),
        details_url,
    })
}

/// A short, stable fingerprint of everything a check run shows: written again only when it
/// changes. FNV-1a (64 bits), the same in every build.
pub fn digest(content: &CheckRunContent) -> String {
    let conclusion = content
        .status
        .conclusion()
        .map_or("", CheckConclusion::as_str);
    let fields = [
        "v1",
        &content.name,
        &content.head_sha,
        &content.external_id,
        content.status.as_str(),
        conclusion,
        &content.title,
        &content.summary,
        content.text.as_deref().unwrap_or("\u{0}"),
        content.details_url.as_deref().unwrap_or("\u{0}"),
    ];
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for field in fields {
        for byte in field.bytes().chain([0x1f]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

type Parts = (CheckStatus, String, String, Option<String>, Option<String>);

/// `Ferry: CI / build`, or `Ferry: job 123` when the names are unknown.
pub fn check_run_name(record: &JobRecord) -> String {
    match (&record.workflow_name, &record.job_name) {
        (Some(workflow), Some(job)) => format!("Ferry: {workflow} / {job}"),
        (None, Some(job)) => format!("Ferry: {job}"),
        _ => format!("Ferry: job {}", record.key.job_id),
    }
}

/// Markdown inline code, whatever the text holds.
fn code(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

/// `job build of workflow CI`, for sentences.
fn job_words(record: &JobRecord) -> String {
    match (&record.job_name, &record.workflow_name) {
        (Some(job), Some(workflow)) => format!("job {} of workflow {}", code(job), code(workflow)),
        (Some(job), None) => format!("job {}", code(job)),
        _ => format!("job {}", record.key.job_id),
    }
}

/// A reason as a sentence: capital first letter, final full stop.
fn sentence(reason: &str) -> String {
    let reason = reason.trim();
    let mut chars = reason.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '?', '!']) {
        out.push('.');
    }
    out
}

/// At most `max` characters, marked with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn reason(record: &JobRecord) -> &str {
    record.reason.as_deref().unwrap_or("")
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The label with its flavor replaced: `hf-jobs=t4-smal/timeout=1h` → `hf-jobs=t4-small/timeout=1h`.
fn relabel(label: &str, flavor: &str, replacement: &str) -> String {
    // `hf-jobs-` or `hf-jobs=`: a parsed label is ASCII, so bytes are characters.
    const START: usize = "hf-jobs-".len();
    let end = START + flavor.len();
    match label.get(START..end) {
        Some(written) if written.eq_ignore_ascii_case(flavor) && label.is_char_boundary(end) => {
            format!("{}{replacement}{}", &label[..START], &label[end..])
        }
        _ => format!("hf-jobs-{replacement}"),
    }
}

fn classify_failure(record: &JobRecord, settings: &FeedbackSettings) -> Failure {
    let reason = reason(record);
    if record.launches == 0
        && let Err(refusal) =
            runner_labels::place(&record.labels, &settings.catalogue, &settings.images)
        && !refusal.is_not_ours()
        && refusal.to_string() == reason
    {
        return match refusal {
            Refusal::UnknownFlavor {
                label,
                flavor,
                nearest,
                valid,
            } => Failure::UnknownFlavor {
                suggestions: nearest
                    .iter()
                    .map(|near| relabel(&label, &flavor, near))
                    .collect(),
                label,
                flavor,
                valid,
            },
            _ => Failure::InvalidLabel,
        };
    }
    if reason.contains("pull request from a fork") {
        Failure::Fork
    } else if reason.starts_with("repository ") && reason.contains("ALLOWED_GITHUB_REPOSITORIES") {
        Failure::RepositoryNotAllowed
    } else if reason.starts_with("flavor `")
        && reason.contains("is not allowed for this repository")
    {
        Failure::FlavorNotAllowed
    } else if reason.contains("longer than this dispatcher's maximum") {
        Failure::TimeoutTooLong
    } else if reason.contains("cache volume would be the HF bucket") {
        Failure::CacheBucket
    } else if reason.starts_with("gave up after 24 hours") {
        Failure::Expired
    } else if record.launches > 0 {
        Failure::NoRunner
    } else if record.attempts > 0 {
        Failure::LaunchFailed
    } else {
        Failure::Refused
    }
}

const STAYS_QUEUED: &str = "GitHub keeps the job queued, waiting for a runner, until the run \
                            is cancelled or 24 hours pass: cancel the run, change what is \
                            needed, and run it again.";

fn failed(record: &JobRecord, settings: &FeedbackSettings) -> Parts {
    let failure = classify_failure(record, settings);
    let job = job_words(record);
    let flavor = record.flavor.as_deref().unwrap_or("the flavor");
    let did_not_start = format!("Ferry did not start {job} on Hugging Face Jobs.");
    let could_not_start = format!("Ferry could not start {job} on Hugging Face Jobs.");
    // What went wrong, in words; the record's reason unless the kind says it better.
    let mut explanation = sentence(reason(record));
    let (title, lead, advice, text) = match &failure {
        Failure::UnknownFlavor {
            label,
            flavor,
            suggestions,
            valid,
        } => {
            // The same facts as the reason, with the labels to write instead.
            let what = if flavor.starts_with("zero-") {
                "is ZeroGPU hardware for Spaces, not a Hugging Face Jobs flavor"
            } else {
                "is not a Hugging Face Jobs flavor"
            };
            explanation = format!(
                "The `runs-on` label {} asks for {}, which {what}.",
                code(label),
                code(flavor)
            );
            let advice = if suggestions.is_empty() {
                "Write one of the flavors below in `runs-on`, as `hf-jobs-<flavor>`.".to_owned()
            } else {
                let labels: Vec<String> = suggestions.iter().map(|s| code(s)).collect();
                format!(
                    "Did you mean {}? Change the label in the workflow's `runs-on`.",
                    or_list(&labels)
                )
            };
            let flavors: Vec<String> = valid.iter().map(|f| code(f)).collect();
            let text = format!(
                "## Flavors\n\nThe flavors this dispatcher knows: {}.\n\nA Ferry label is \
                 `hf-jobs-<flavor>`, or `hf-jobs=<flavor>/timeout=<duration>` to set options.",
                flavors.join(", ")
            );
            (
                format!("Unknown Hugging Face Jobs flavor: {flavor}"),
                did_not_start,
                Some(advice),
                Some(text),
            )
        }
        Failure::InvalidLabel => (
            "The Ferry label in runs-on is not valid".to_owned(),
            did_not_start,
            None,
            Some(
                "## Labels\n\nA Ferry label is `hf-jobs-<flavor>`, `hf-jobs-<flavor>:<image>`, \
                 or `hf-jobs=<flavor>/image=<key>/timeout=<duration>`; a job has exactly one."
                    .to_owned(),
            ),
        ),
        Failure::RepositoryNotAllowed => (
            "This repository may not run jobs on this dispatcher".to_owned(),
            did_not_start,
            None,
            None,
        ),
        Failure::FlavorNotAllowed => (
            format!("Flavor {flavor} is not allowed for this repository"),
            did_not_start,
            None,
            None,
        ),
        Failure::TimeoutTooLong => (
            "The timeout asked for is longer than allowed".to_owned(),
            did_not_start,
            None,
            None,
        ),
        Failure::Fork => (
            "Not run: a pull request from a fork".to_owned(),
            did_not_start,
            Some(
                "The code of a pull request from a fork has not been reviewed by the \
                 repository's maintainers, so this dispatcher's policy decides whether it may \
                 run on the hardware they pay for."
                    .to_owned(),
            ),
            None,
        ),
        Failure::CacheBucket => (
            "The repository's cache volume is misconfigured".to_owned(),
            did_not_start,
            None,
            None,
        ),
        Failure::Expired => (
            "Gave up after 24 hours".to_owned(),
            could_not_start,
            None,
            None,
        ),
        Failure::NoRunner => (
            "No runner served the job on Hugging Face Jobs".to_owned(),
            could_not_start,
            None,
            None,
        ),
        Failure::LaunchFailed => (
            "Could not start the job on Hugging Face Jobs".to_owned(),
            could_not_start,
            None,
            None,
        ),
        Failure::Refused => (
            "Not run on Hugging Face Jobs".to_owned(),
            did_not_start,
            None,
            None,
        ),
    };
    let mut summary = format!("{lead}\n\n{explanation}");
    if let Some(advice) = advice {
        summary.push_str("\n\n");
        summary.push_str(&advice);
    }
    if failure != Failure::Expired {
        summary.push_str("\n\n");
        summary.push_str(STAYS_QUEUED);
    }
    (
        CheckStatus::Completed(CheckConclusion::Failure),
        title,
        summary,
        text,
        None,
    )
}

fn namespace<'a>(record: &'a JobRecord, settings: &'a FeedbackSettings) -> Option<&'a str> {
    record
        .hf_namespace
        .as_deref()
        .or(settings.default_namespace.as_deref())
}

fn paused(record: &JobRecord) -> Parts {
    let reason = reason(record);
    // Only the record's own namespace is named: before a launch, the policy may send the job
    // to another one than the default.
    let account = match record.hf_namespace.as_deref() {
        Some(ns) => format!("the Hugging Face account {}", code(ns)),
        None => "the Hugging Face account".to_owned(),
    };
    let (title, why) = if reason.contains("payment required") {
        (
            "Waiting: the Hugging Face account has no credits".to_owned(),
            format!("Hugging Face refused to start the HF Job: {account} has no credits left."),
        )
    } else {
        (
            "Waiting: the dispatcher's credentials were refused".to_owned(),
            "GitHub or Hugging Face refused the dispatcher's credentials.".to_owned(),
        )
    };
    let summary = format!(
        "Ferry cannot start {} until the dispatcher's operator acts. {why}\n\n{}\n\nFerry tries \
         again regularly, and the job starts as soon as it can; this check run then links its \
         HF Job. If nothing changes within 24 hours, GitHub and Ferry give up on the job.",
        job_words(record),
        sentence(reason)
    );
    (CheckStatus::InProgress, title, summary, None, None)
}

fn waiting(record: &JobRecord) -> Parts {
    let under = reason(record)
        .strip_prefix("waits for room under ")
        .unwrap_or("a cap on live HF Jobs");
    let summary = format!(
        "{} waits for room under {under}: this dispatcher runs at most that many HF Jobs at \
         once. Waiting jobs start, oldest first, as soon as one ends; this check run then links \
         the job's HF Job.",
        sentence(&job_words(record)).trim_end_matches('.')
    );
    (
        CheckStatus::InProgress,
        "Waiting for room on Hugging Face Jobs".to_owned(),
        summary,
        None,
        None,
    )
}

fn starting(record: &JobRecord) -> Parts {
    let job = job_words(record);
    let restarting = record.launches > 0 || record.state == State::Replacing;
    let (title, mut summary) = if restarting {
        (
            "Restarting on Hugging Face Jobs",
            format!("Ferry is starting a new runner for {job} on Hugging Face Jobs."),
        )
    } else {
        (
            "Starting on Hugging Face Jobs",
            format!("Ferry is starting a runner for {job} on Hugging Face Jobs."),
        )
    };
    if let Some(reason) = record.reason.as_deref().filter(|r| !r.is_empty()) {
        let why = if restarting {
            "The last HF Job did not serve the job"
        } else {
            "The last attempt is being tried again"
        };
        summary.push_str(&format!("\n\n{why}: {}", sentence(reason)));
    }
    (
        CheckStatus::InProgress,
        title.to_owned(),
        summary,
        None,
        None,
    )
}

/// The HF Job as a Markdown link (or its id), its page, and its `namespace/id` reference.
fn hf_job(record: &JobRecord, settings: &FeedbackSettings) -> (String, Option<String>, String) {
    let id = record.hf_job_id.as_deref().unwrap_or_default();
    match namespace(record, settings) {
        Some(ns) => {
            let url = format!("{}/jobs/{ns}/{id}", settings.hub_url.trim_end_matches('/'));
            let reference = format!("{ns}/{id}");
            (
                format!("[{}]({url})", code(&reference)),
                Some(url),
                reference,
            )
        }
        None => (code(id), None, id.to_owned()),
    }
}

fn on_flavor(record: &JobRecord) -> String {
    record
        .flavor
        .as_deref()
        .map(|f| format!(" on {} hardware", code(f)))
        .unwrap_or_default()
}

fn titled_flavor(what: &str, record: &JobRecord) -> String {
    match record.flavor.as_deref() {
        Some(flavor) => format!("{what} on Hugging Face Jobs ({flavor})"),
        None => format!("{what} on Hugging Face Jobs"),
    }
}

fn logs_text(reference: &str, namespace: Option<&str>, follow: bool) -> String {
    let flag = if follow { "-f " } else { "" };
    let access = match namespace {
        Some(ns) => format!(
            "Reading it takes a Hugging Face token with access to the {} namespace.",
            code(ns)
        ),
        None => "Reading it takes a Hugging Face token with access to the HF Job.".to_owned(),
    };
    format!(
        "## Logs\n\nThe job's steps log to GitHub as usual. The HF Job's own log (the runner \
         starting, taking the job and exiting) {}:\n\n```sh\nhf jobs logs {flag}{reference}\n```\n\n\
         or with Ferry's command line, `hfjobs logs {flag}{reference}`. {access}",
        if follow {
            "can be followed with the `hf` command line"
        } else {
            "can be read with the `hf` command line"
        }
    )
}

fn running(record: &JobRecord, settings: &FeedbackSettings) -> Parts {
    let (link, url, reference) = hf_job(record, settings);
    let mut summary = format!(
        "{} runs on Hugging Face Jobs, in HF Job {link}{}.",
        sentence(&job_words(record)).trim_end_matches('.'),
        on_flavor(record)
    );
    if let Some(runner) = &record.runner_name {
        summary.push_str(&format!(
            " Its runner, {}, serves this job only and exits after it.",
            code(runner)
        ));
    }
    summary.push_str(" This check run completes when the job ends.");
    let text = logs_text(&reference, namespace(record, settings), true);
    (
        CheckStatus::InProgress,
        titled_flavor("Running", record),
        summary,
        Some(text),
        url,
    )
}

fn finished(record: &JobRecord, settings: &FeedbackSettings) -> Parts {
    let (link, url, reference) = hf_job(record, settings);
    let conclusion = record.conclusion.as_deref().filter(|c| !c.is_empty());
    let ended = match conclusion {
        Some(c) => format!(
            "It ended with {}; the job's own check shows its result.",
            code(c)
        ),
        None => "It ended; the job's own check shows its result.".to_owned(),
    };
    let summary = format!(
        "{} ran on Hugging Face Jobs, in HF Job {link}{}. {ended}",
        sentence(&job_words(record)).trim_end_matches('.'),
        on_flavor(record)
    );
    let outcome = if conclusion == Some("success") {
        CheckConclusion::Success
    } else {
        CheckConclusion::Neutral
    };
    let text = logs_text(&reference, namespace(record, settings), false);
    (
        CheckStatus::Completed(outcome),
        titled_flavor("Ran", record),
        summary,
        Some(text),
        url,
    )
}

fn elsewhere(record: &JobRecord) -> Parts {
    let runner = record.taken_by.as_deref().unwrap_or("another runner");
    let summary = format!(
        "Another runner, {}, took {}, so the runner Ferry started for it on Hugging Face Jobs \
         was not needed; Ferry removes it.",
        code(runner),
        job_words(record)
    );
    (
        CheckStatus::Completed(CheckConclusion::Neutral),
        "Ran on another runner".to_owned(),
        summary,
        None,
        None,
    )
}

fn cancelled(record: &JobRecord) -> Parts {
    let summary = format!(
        "{} ended before a runner of Ferry's started it, so it did not run on Hugging Face \
         Jobs. Ferry removes what it started for it.",
        sentence(&job_words(record)).trim_end_matches('.')
    );
    (
        CheckStatus::Completed(CheckConclusion::Skipped),
        "Not needed: the job ended before it ran here".to_owned(),
        summary,
        None,
        None,
    )
}

// ---- The pass that writes them. ----

/// What one pass did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedbackReport {
    pub created: u64,
    pub updated: u64,
    /// Check runs due but left for a later pass (over the budget, held back by a rate limit,
    /// or on an installation that refused check runs).
    pub deferred: u64,
    /// What failed in this pass (tried again by a later one).
    pub errors: Vec<String>,
}

#[derive(Default)]
struct Memory {
    /// Installations that refused check runs (403), until when they are left alone.
    muted: HashMap<u64, i64>,
    /// Installations whose refusal was logged: silent until a write there succeeds.
    warned: HashSet<u64>,
    /// No write before this: GitHub asked us to slow down.
    hold_until_ms: i64,
    /// Content GitHub refused for good, by job key: its digest and until when it is left alone.
    refused: HashMap<String, (String, i64)>,
    /// Check runs created whose mark could not be stored yet, by job key.
    unstored: HashMap<String, u64>,
}

/// Writes every job's check run as [`desired`] says, every [`FeedbackSettings::interval`].
pub struct FeedbackPass {
    store: Arc<dyn Store>,
    github: Arc<GitHubAdapter>,
    /// Tells the HF token's namespace when [`FeedbackSettings::default_namespace`] is unset.
    hf: Option<Arc<HfClient>>,
    settings: FeedbackSettings,
    memory: Mutex<Memory>,
}

enum Written {
    Created(u64),
    Updated(u64),
}

impl FeedbackPass {
    pub fn new(
        store: Arc<dyn Store>,
        github: Arc<GitHubAdapter>,
        hf: Option<Arc<HfClient>>,
        settings: FeedbackSettings,
    ) -> Self {
        Self {
            store,
            github,
            hf,
            settings,
            memory: Mutex::default(),
        }
    }

    /// One pass every interval until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        crate::periodic::every(self.settings.interval, false, &shutdown, || async {
            let report = self.pass().await;
            if !report.errors.is_empty() {
                warn!(
                    errors = report.errors.len(),
                    first = report.errors[0],
                    "some check runs could not be written; the next pass tries again"
                );
            } else if report != FeedbackReport::default() {
                debug!(?report, "check runs written");
            }
        })
        .await
    }

    /// The settings with the default namespace filled in, when some record needs it.
    async fn settings_for(&self, records: &[JobRecord]) -> Cow<'_, FeedbackSettings> {
        if self.settings.default_namespace.is_some() {
            return Cow::Borrowed(&self.settings);
        }
        let needed = records
            .iter()
            .any(|r| r.hf_job_id.is_some() && r.hf_namespace.is_none());
        let Some(hf) = self.hf.as_ref().filter(|_| needed) else {
            return Cow::Borrowed(&self.settings);
        };
        // The client asks `whoami` once and keeps the answer.
        match hf.namespace().await {
            Ok(namespace) => {
                let mut settings = self.settings.clone();
                settings.default_namespace = Some(namespace);
                Cow::Owned(settings)
            }
            Err(e) => {
                debug!(error = %e, "the HF namespace is unknown for now; check runs link no HF Job");
                Cow::Borrowed(&self.settings)
            }
        }
    }

    /// Writes what changed, once.
    pub async fn pass(&self) -> FeedbackReport {
        let now = now_ms();
        let mut report = FeedbackReport::default();
        let since = now - self.settings.lookback.as_millis() as i64;
        let records = match self.store.active(since).await {
            Ok(records) => records,
            Err(e) => {
                report.errors.push(format!("store: {e}"));
                return report;
            }
        };
        {
            let mut memory = self.memory.lock().unwrap();
            memory.refused.retain(|_, (_, until)| *until > now);
            memory.muted.retain(|_, until| *until > now);
        }
        let settings = self.settings_for(&records).await;
        let mut due: Vec<(JobRecord, CheckRunContent, String)> = records
            .into_iter()
            .filter(|r| r.installation_id.is_some())
            .filter_map(|record| {
                let content = desired(&record, now, &settings)?;
                let digest = digest(&content);
                let written = record.check_run.as_ref().map(|m| m.written.as_str());
                (written != Some(digest.as_str())).then_some((record, content, digest))
            })
            .collect();
        due.sort_by_key(|(record, ..)| record.updated_ms);

        let mut writes = 0;
        for (record, content, digest) in due {
            let installation = record.installation_id.unwrap_or_default();
            let key = record.key.id();
            {
                let memory = self.memory.lock().unwrap();
                if memory
                    .refused
                    .get(&key)
                    .is_some_and(|(refused, until)| *refused == digest && *until > now)
                {
                    continue;
                }
                let muted = memory.muted.get(&installation).is_some_and(|t| *t > now);
                if muted || memory.hold_until_ms > now || writes >= self.settings.writes_per_pass {
                    report.deferred += 1;
                    continue;
                }
            }
            writes += 1;
            match self.write(&record, installation, &content).await {
                Ok(written) => {
                    let id = match written {
                        Written::Created(id) => {
                            report.created += 1;
                            id
                        }
                        Written::Updated(id) => {
                            report.updated += 1;
                            id
                        }
                    };
                    self.memory.lock().unwrap().warned.remove(&installation);
                    self.store_mark(&record, id, digest, now, &mut report).await;
                }
                Err(e) => self.failed(&record, installation, &digest, e, now, &mut report),
            }
        }
        report
    }

    async fn write(
        &self,
        record: &JobRecord,
        installation: u64,
        content: &CheckRunContent,
    ) -> Result<Written, CheckRunError> {
        let repo = record.key.repo.as_str();
        let known = record.check_run.as_ref().and_then(|m| m.id).or_else(|| {
            let memory = self.memory.lock().unwrap();
            memory.unstored.get(&record.key.id()).copied()
        });
        if let Some(id) = known {
            match self
                .github
                .update_check_run(installation, repo, id, content)
                .await
            {
                Ok(()) => return Ok(Written::Updated(id)),
                // Deleted, or its repository renamed: write a new one.
                Err(CheckRunError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let id = self
            .github
            .create_check_run(installation, repo, content)
            .await?;
        Ok(Written::Created(id))
    }

    async fn store_mark(
        &self,
        record: &JobRecord,
        id: u64,
        digest: String,
        now: i64,
        report: &mut FeedbackReport,
    ) {
        let key = record.key.id();
        let mark = CheckRunMark {
            id: Some(id),
            written: digest,
        };
        let stored = self
            .store
            .update(
                &record.key,
                now,
                Box::new(move |current| machine::check_run_written(current, mark)),
            )
            .await;
        let mut memory = self.memory.lock().unwrap();
        match stored {
            Ok(_) => {
                memory.unstored.remove(&key);
            }
            Err(e) => {
                // The next pass updates this check run instead of making a second one.
                memory.unstored.insert(key, id);
                report.errors.push(format!("store: {e}"));
            }
        }
    }

    fn failed(
        &self,
        record: &JobRecord,
        installation: u64,
        digest: &str,
        error: CheckRunError,
        now: i64,
        report: &mut FeedbackReport,
    ) {
        let mut memory = self.memory.lock().unwrap();
        match &error {
            CheckRunError::Forbidden { message } => {
                let pause = self.settings.forbidden_pause;
                memory
                    .muted
                    .insert(installation, now + pause.as_millis() as i64);
                if memory.warned.insert(installation) {
                    warn!(
                        installation,
                        repo = record.key.repo,
                        error = message,
                        "GitHub refused to write a check run: give the App the Checks (write) \
                         permission to tell workflow authors about their jobs. Launching goes on; \
                         check runs on this installation are tried again in {}",
                        durations::format_seconds(pause.as_secs())
                    );
                } else {
                    debug!(installation, "check runs still refused");
                }
                return;
            }
            CheckRunError::Port(PortError::Transient {
                retry_after: Some(wait),
                ..
            }) => {
                memory.hold_until_ms = now + wait.as_millis() as i64;
            }
            CheckRunError::Port(PortError::Transient { .. } | PortError::Credentials { .. }) => {}
            CheckRunError::NotFound { .. } | CheckRunError::Port(PortError::Permanent { .. }) => {
                memory
                    .refused
                    .insert(record.key.id(), (digest.to_owned(), now + REFUSED_PAUSE_MS));
                info!(
                    key = %record.key,
                    error = %error,
                    "GitHub refused a check run; not tried again for ten minutes unless it changes"
                );
            }
        }
        report.errors.push(format!("{}: {error}", record.key));
    }
}
