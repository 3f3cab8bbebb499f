//! The stored form of a record: JSON with a schema version, so that an older Ferry's records
//! stay readable and a newer Ferry's records are refused instead of misread.
//!
//! Version 1 (no `v` field) is the first release's form. Version 2 adds the fencing token,
//! the launch count, the launch time and the abandoned HF Jobs, all with defaults, so a
//! version 1 record decodes as a version 2 record that never had a claim or a relaunch.

use serde::Serialize;

use crate::model::JobRecord;

/// The version this build writes.
pub const CURRENT_VERSION: u64 = 2;

#[derive(Serialize)]
struct Versioned<'a> {
    v: u64,
    #[serde(flatten)]
    record: &'a JobRecord,
}

pub fn encode(record: &JobRecord) -> Result<String, String> {
    serde_json::to_string(&Versioned {
        v: CURRENT_VERSION,
        record,
    })
    .map_err(|e| e.to_string())
}

pub fn decode(data: &str) -> Result<JobRecord, String> {
    let mut value: serde_json::Value =
        serde_json::from_str(data).map_err(|e| format!("job record: {e}"))?;
    let version = match value.as_object_mut().and_then(|o| o.remove("v")) {
        None => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| format!("job record: version {v} is not a number"))?,
    };
    if version > CURRENT_VERSION {
        return Err(format!(
            "job record written by a newer Ferry (schema {version}; this build reads up to \
             {CURRENT_VERSION})"
        ));
    }
    serde_json::from_value(value).map_err(|e| format!("job record (schema {version}): {e}"))
}
