//! The labels that tie an HF Job to the GitHub job it serves, in the HF label alphabet.
//!
//! HF label keys and values allow only `[A-Za-z0-9._-]` (values at most 100 characters). Text is
//! encoded reversibly: letters, digits, `.` and `-` stay; any other byte becomes `_` and two
//! lower-case hex digits (`octo/ml` → `octo_2fml`).

use std::collections::BTreeMap;

use crate::model::{JobKey, JobRecord};

#[cfg(test)]
mod tests;

pub const MANAGED_BY: (&str, &str) = ("managed-by", "ferry");
/// The label looked up before creating a job: workflow job ids are unique across GitHub.
pub const KEY: &str = "ferry.key";
pub const REPO: &str = "ferry.repo";
pub const RUN: &str = "ferry.run";
pub const JOB: &str = "ferry.job";
pub const ATTEMPT: &str = "ferry.attempt";
pub const INSTALLATION: &str = "ferry.installation";
pub const RUNNER: &str = "ferry.runner";
const MAX_VALUE_LEN: usize = 100;

/// Encodes text into the HF label alphabet.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'.' || byte == b'-' {
            out.push(byte as char);
        } else {
            out.push_str(&format!("_{byte:02x}"));
        }
    }
    out
}

/// Decodes [`encode`]'s output; `None` for text that `encode` cannot have produced.
pub fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = text.get(i + 1..i + 3)?;
            if hex.bytes().any(|b| b.is_ascii_uppercase()) {
                return None;
            }
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The idempotency label value for a record.
pub fn key_value(record: &JobRecord) -> String {
    format!("{}-{}", record.key.job_id, record.key.run_attempt)
}

/// All labels of the HF Job for `record`. Values too long for HF are left out, never cut.
pub fn for_record(record: &JobRecord, runner_name: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert(MANAGED_BY.0.to_owned(), MANAGED_BY.1.to_owned());
    labels.insert(KEY.to_owned(), key_value(record));
    let mut put = |key: &str, value: String| {
        if value.len() <= MAX_VALUE_LEN {
            labels.insert(key.to_owned(), value);
        }
    };
    put(REPO, encode(&record.key.repo));
    put(RUN, record.run_id.to_string());
    put(JOB, record.key.job_id.to_string());
    put(ATTEMPT, record.key.run_attempt.to_string());
    if let Some(installation) = record.installation_id {
        put(INSTALLATION, installation.to_string());
    }
    put(RUNNER, encode(runner_name));
    labels
}

/// What an HF Job's labels say about the job it serves: enough to adopt it into a store that
/// lost its record. `None` for jobs that are not Ferry's or whose labels are incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub key: JobKey,
    pub run_id: u64,
    pub installation_id: Option<u64>,
    pub runner_name: String,
}

pub fn served(labels: &BTreeMap<String, String>) -> Option<Served> {
    if labels.get(MANAGED_BY.0).map(String::as_str) != Some(MANAGED_BY.1) {
        return None;
    }
    let number = |key: &str| labels.get(key)?.parse::<u64>().ok();
    Some(Served {
        key: JobKey {
            repo: decode(labels.get(REPO)?)?,
            job_id: number(JOB)?,
            run_attempt: number(ATTEMPT)?,
        },
        run_id: number(RUN)?,
        installation_id: number(INSTALLATION),
        runner_name: decode(labels.get(RUNNER)?)?,
    })
}

/// The runner name an HF Job hosts, if it is one of Ferry's.
pub fn runner_of(labels: &BTreeMap<String, String>) -> Option<String> {
    decode(labels.get(RUNNER)?)
}
