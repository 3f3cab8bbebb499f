//! The labels that tie an HF Job to the GitHub job it serves, in the HF label alphabet.
//!
//! HF label keys and values allow only `[A-Za-z0-9._-]` (values at most 100 characters). Text is
//! encoded reversibly: letters, digits, `.` and `-` stay; any other byte becomes `_` and two
//! lower-case hex digits (`octo/ml` → `octo_2fml`).

use std::collections::BTreeMap;

use crate::model::JobRecord;

#[cfg(test)]
mod tests;

pub const MANAGED_BY: (&str, &str) = ("managed-by", "ferry");
/// The label looked up before creating a job: workflow job ids are unique across GitHub.
pub const KEY: &str = "ferry.key";
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
    put("ferry.repo", encode(&record.key.repo));
    put("ferry.run", record.run_id.to_string());
    put("ferry.job", record.key.job_id.to_string());
    put("ferry.attempt", record.key.run_attempt.to_string());
    if let Some(installation) = record.installation_id {
        put("ferry.installation", installation.to_string());
    }
    put("ferry.runner", encode(runner_name));
    labels
}
