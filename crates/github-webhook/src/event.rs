//! Choosing and parsing the payload type from the `X-GitHub-Event` name.

use serde::de::DeserializeOwned;

use crate::Error;
use crate::payload::{
    InstallationEvent, InstallationRepositoriesEvent, PingEvent, WorkflowJobEvent,
};

/// Event names this crate parses into typed payloads.
pub mod names {
    /// A job of a workflow run was queued, started or finished.
    pub const WORKFLOW_JOB: &str = "workflow_job";
    /// The hook was created.
    pub const PING: &str = "ping";
    /// The App was installed, uninstalled, suspended, ...
    pub const INSTALLATION: &str = "installation";
    /// Repositories were added to or removed from an installation.
    pub const INSTALLATION_REPOSITORIES: &str = "installation_repositories";
}

// Keeps error messages short enough for a log line whatever the body holds.
const MAX_PATH_LEN: usize = 200;

/// A parsed delivery body.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `workflow_job`.
    WorkflowJob(Box<WorkflowJobEvent>),
    /// `ping`.
    Ping(Box<PingEvent>),
    /// `installation`.
    Installation(Box<InstallationEvent>),
    /// `installation_repositories`.
    InstallationRepositories(Box<InstallationRepositoriesEvent>),
    /// Any other event: acknowledged, not parsed. GitHub may send events the App
    /// subscribes to that this crate does not model.
    Unknown {
        /// The `X-GitHub-Event` value.
        name: String,
    },
}

impl Event {
    /// Parses `body` as the payload of `event_name` (the `X-GitHub-Event` header).
    ///
    /// Verify the signature first. Unknown event names give [`Event::Unknown`] without
    /// reading the body; a known event whose body does not parse gives
    /// [`Error::MalformedJson`], naming the field at fault.
    pub fn parse(event_name: &str, body: &[u8]) -> Result<Event, Error> {
        Ok(match event_name {
            names::WORKFLOW_JOB => Event::WorkflowJob(parse_json(event_name, body)?),
            names::PING => Event::Ping(parse_json(event_name, body)?),
            names::INSTALLATION => Event::Installation(parse_json(event_name, body)?),
            names::INSTALLATION_REPOSITORIES => {
                Event::InstallationRepositories(parse_json(event_name, body)?)
            }
            other => Event::Unknown {
                name: other.to_owned(),
            },
        })
    }

    /// The event name, as in `X-GitHub-Event`.
    pub fn name(&self) -> &str {
        match self {
            Event::WorkflowJob(_) => names::WORKFLOW_JOB,
            Event::Ping(_) => names::PING,
            Event::Installation(_) => names::INSTALLATION,
            Event::InstallationRepositories(_) => names::INSTALLATION_REPOSITORIES,
            Event::Unknown { name } => name,
        }
    }

    /// The App installation the delivery belongs to, when the payload says.
    pub fn installation_id(&self) -> Option<u64> {
        match self {
            Event::WorkflowJob(event) => event.installation.as_ref().map(|i| i.id),
            Event::Installation(event) => Some(event.installation.id),
            Event::InstallationRepositories(event) => Some(event.installation.id),
            Event::Ping(_) | Event::Unknown { .. } => None,
        }
    }

    /// The `workflow_job` payload, if this is one.
    pub fn as_workflow_job(&self) -> Option<&WorkflowJobEvent> {
        match self {
            Event::WorkflowJob(event) => Some(event),
            _ => None,
        }
    }
}

fn parse_json<T: DeserializeOwned>(event: &str, body: &[u8]) -> Result<Box<T>, Error> {
    let malformed = |message: String| Error::MalformedJson {
        event: event.to_owned(),
        message,
    };
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = describe_path(&err.path().to_string());
        malformed(format!(
            "at {path}: {}",
            redact_strings(&err.inner().to_string())
        ))
    })?;
    // Trailing bytes after the JSON value mean the body is not one JSON document.
    deserializer
        .end()
        .map_err(|err| malformed(redact_strings(&err.to_string())))?;
    Ok(Box::new(value))
}

/// Renders a field path from the body for a log line: visible ASCII only, bounded length.
fn describe_path(path: &str) -> String {
    if path == "." {
        return "the top level".to_owned();
    }
    let mut shown: String = path
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .take(MAX_PATH_LEN)
        .collect();
    if path.chars().count() > MAX_PATH_LEN {
        shown.push_str("...");
    }
    shown
}

/// Replaces every double-quoted span in a serde message with `"…"`.
///
/// serde quotes string values taken from the input (`invalid type: string "x"`), while
/// field names and expectations use backticks; dropping the quoted spans keeps body text
/// out of errors and logs.
pub(crate) fn redact_strings(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' {
            continue;
        }
        out.push('…');
        // Skip to the closing quote; serde escapes quotes and backslashes inside with `\`.
        let mut escaped = false;
        for inner in chars.by_ref() {
            match inner {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    out.push('"');
                    break;
                }
                _ => {}
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
