//! The one error type of the crate, with variants named by what went wrong.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// A failed Hub call. HTTP failures carry the Hub's own message (from its error body and the
/// `X-Error-Message` header), never the token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 401, or no token where one is needed: the token is missing, invalid or expired.
    #[error("unauthorized: {message}")]
    Unauthorized { message: String },
    /// 403: the token is valid but lacks the permission (for example write access to the namespace).
    #[error("forbidden: {message} (make sure your token has the correct permissions)")]
    Forbidden { message: String },
    /// 404: the job, scheduled job or namespace does not exist (or is not visible to the token).
    #[error("not found: {message}")]
    NotFound { message: String },
    /// 400 or 422: the Hub refused the request body or parameters.
    #[error("bad request: {message}")]
    BadRequest { message: String },
    /// 402: the namespace has no credits (or no subscription) to run the job.
    #[error("payment required: {message}")]
    PaymentRequired { message: String },
    /// 409: for example triggering a non-concurrent scheduled job whose last run is still running.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// 429. `retry_after` comes from `Retry-After` or the `t=` of the `RateLimit` header.
    #[error("rate limited{}: {message}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// Any other HTTP status (5xx, and 4xx the Hub does not document for these endpoints).
    #[error("HTTP {status}: {message}")]
    Server { status: u16, message: String },
    /// The connection failed or broke before a complete answer arrived.
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A request, a stream or a wait took longer than allowed.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The caller passed something the Hub would refuse, or that cannot be sent at all.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The Hub answered 2xx with a body this client cannot read.
    #[error("invalid response from the Hub: {0}")]
    InvalidResponse(String),
    /// Local files named on the command line do not exist (scripts and config files of
    /// `uv run`), checked before any network call. The message lists them as Python does.
    #[error("local file not found: {}", paths.join(", "))]
    FileNotFound { paths: Vec<String> },
    /// A local file or directory could not be read.
    #[error("cannot read '{path}': {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The xet upload of file contents failed (token, CAS or local read).
    #[error("upload failed: {0}")]
    Upload(String),
    /// The Hub applied a bucket batch only partly: each failed path with the Hub's reason.
    #[error("{}", batch_message(bucket_id, *sent, failures))]
    BucketBatch {
        bucket_id: String,
        /// Operations sent in total.
        sent: usize,
        failures: Vec<BatchFailure>,
    },
}

/// One operation the Hub refused in a batch.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct BatchFailure {
    pub path: String,
    pub error: String,
}

/// Python's `_bucket_batch_error` wording: a count, then at most 10 `path: error` lines.
fn batch_message(bucket_id: &str, sent: usize, failures: &[BatchFailure]) -> String {
    const LISTED: usize = 10;
    let mut message = format!(
        "Failed to apply {} out of {sent} operation(s) on bucket '{bucket_id}':",
        failures.len()
    );
    for failure in failures.iter().take(LISTED) {
        message.push_str(&format!("\n  - {}: {}", failure.path, failure.error));
    }
    if failures.len() > LISTED {
        message.push_str(&format!("\n  - ... and {} more", failures.len() - LISTED));
    }
    message
}

impl Error {
    /// Whether trying again later may succeed: rate limits, 408, 5xx (but 501), network failures
    /// and timeouts. The client itself never retries Jobs calls (as `huggingface_hub`); callers do.
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Transport(_) | Error::Timeout(_) => true,
            Error::Server { status, .. } => *status == 408 || (*status >= 500 && *status != 501),
            _ => false,
        }
    }

    /// How long the Hub asked to wait before retrying, when it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status behind the error, if it came from an HTTP answer.
    pub fn status(&self) -> Option<u16> {
        Some(match self {
            Error::Unauthorized { .. } => 401,
            Error::Forbidden { .. } => 403,
            Error::NotFound { .. } => 404,
            Error::BadRequest { .. } => 400,
            Error::PaymentRequired { .. } => 402,
            Error::Conflict { .. } => 409,
            Error::RateLimited { .. } => 429,
            Error::Server { status, .. } => *status,
            _ => return None,
        })
    }

    pub(crate) fn from_transport(error: reqwest::Error, what: &str) -> Self {
        if error.is_timeout() {
            Error::Timeout(format!("{what}: {error}"))
        } else {
            Error::Transport(error)
        }
    }
}

/// Builds the error for a non-2xx answer. `what` names the call (`GET /api/jobs/alice/123`).
pub(crate) fn from_response(status: u16, headers: &HeaderMap, body: &[u8], what: &str) -> Error {
    let server = server_message(headers, body);
    let message = if server.is_empty() {
        format!("{what} answered {status}")
    } else {
        server
    };
    match status {
        400 | 422 => Error::BadRequest { message },
        401 => Error::Unauthorized { message },
        402 => Error::PaymentRequired { message },
        403 => Error::Forbidden { message },
        404 => Error::NotFound {
            message: format!("{message} ({what})"),
        },
        409 => Error::Conflict { message },
        429 => Error::RateLimited {
            retry_after: retry_after(headers),
            message,
        },
        _ => Error::Server { status, message },
    }
}

/// The Hub's message, gathered as `huggingface_hub` does: `X-Error-Message` first, then the
/// body's `error` (string, list, or OAuth `error` + `error_description`) and `errors[].message`;
/// a non-JSON, non-HTML body is used verbatim. Lines are trimmed and deduplicated.
pub(crate) fn server_message(headers: &HeaderMap, body: &[u8]) -> String {
    let mut lines: Vec<String> = Vec::new();
    if let Some(header) = headers.get("x-error-message").and_then(|v| v.to_str().ok()) {
        lines.push(header.to_owned());
    }
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(data) => {
            let description = data.get("error_description").and_then(|d| d.as_str());
            match data.get("error") {
                Some(serde_json::Value::Array(items)) => {
                    lines.extend(items.iter().map(value_text));
                }
                Some(error) if !error.is_null() => match description {
                    Some(description) => {
                        lines.push(format!("{}: {description}", value_text(error)))
                    }
                    None => lines.push(value_text(error)),
                },
                _ => lines.extend(description.map(str::to_owned)),
            }
            for error in data
                .get("errors")
                .and_then(|e| e.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(message) = error.get("message") {
                    lines.push(value_text(message));
                }
            }
        }
        Err(_) => {
            let is_html = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains("html"));
            if !is_html {
                lines.push(String::from_utf8_lossy(body).into_owned());
            }
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for line in lines
        .into_iter()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
    {
        if !unique.contains(&line) {
            unique.push(line);
        }
    }
    unique.join("\n")
}

fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `Retry-After` in whole seconds (HTTP dates are ignored, as Python does), else the `t=` reset
/// of the IETF `RateLimit` header (`"api";r=0;t=55`).
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(seconds) = header("retry-after").and_then(|v| v.trim().parse::<u64>().ok()) {
        return Some(Duration::from_secs(seconds));
    }
    let rate_limit = header("ratelimit")?;
    rate_limit
        .split(';')
        .filter_map(|item| item.trim().strip_prefix("t="))
        .find_map(|t| t.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}
