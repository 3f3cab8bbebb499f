//! One error type for every GitHub call, named by meaning rather than by status code.

use std::time::Duration;

use reqwest::header::HeaderMap;
use serde::Deserialize;

/// How long to wait on a secondary rate limit that names no wait (GitHub: "at least one minute").
pub const SECONDARY_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// What went wrong talking to GitHub.
///
/// Messages carry GitHub's own `message` text, never a token, a JWT or a private key.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration cannot work (bad base URL, unreadable private key...).
    #[error("invalid configuration: {0}")]
    Config(String),
    /// 401: the JWT or the installation token was refused.
    #[error("unauthorized: {message}")]
    Unauthorized { message: String },
    /// 403 without rate-limit signals: the App lacks a permission or the installation is suspended.
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    /// 404: the thing does not exist, or the App cannot see it (GitHub does not tell which).
    #[error("not found: {message}")]
    NotFound { message: String },
    /// 409: for example a runner with the same name already exists.
    #[error("conflict: {message}")]
    Conflict { message: String },
    /// 422 (and 400): GitHub refused the request's content.
    #[error("validation failed: {message}{}", render_errors(errors))]
    Validation {
        message: String,
        errors: Vec<String>,
    },
    /// A primary or secondary rate limit; try again after `retry_after`.
    #[error("rate limited: retry after {}s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    /// 5xx: GitHub failed; usually worth retrying.
    #[error("GitHub server error: HTTP {status}")]
    Server { status: u16 },
    /// Any other unexpected status (for example 410 Gone for an unsupported API version).
    #[error("unexpected HTTP {status}: {message}")]
    Unexpected { status: u16, message: String },
    /// The request did not complete: connection refused, reset, timeout.
    #[error("transport error: {0}")]
    Transport(String),
    /// The answer was not the JSON we expected.
    #[error("cannot decode GitHub's answer: {0}")]
    Decode(String),
}

impl Error {
    /// Whether trying the same call again later can succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Error::RateLimited { .. } | Error::Server { .. } | Error::Transport(_)
        )
    }

    pub(crate) fn transport(error: reqwest::Error) -> Self {
        // Without the URL: a manifest code travels in the path.
        Error::Transport(error.without_url().to_string())
    }
}

fn render_errors(errors: &[String]) -> String {
    if errors.is_empty() {
        String::new()
    } else {
        format!(" ({})", errors.join("; "))
    }
}

/// GitHub's error body; `errors` is strings on runner endpoints and objects elsewhere.
#[derive(Debug, Default, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    errors: Vec<serde_json::Value>,
}

fn describe_validation_error(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Object(fields) => {
            if let Some(message) = fields.get("message").and_then(|m| m.as_str()) {
                return message.to_owned();
            }
            let get = |key: &str| fields.get(key).and_then(|v| v.as_str()).unwrap_or("?");
            format!("{} {} {}", get("resource"), get("field"), get("code"))
        }
        other => other.to_string(),
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Turns a non-success answer into an [`Error`]. `now_epoch` is the client's clock, used to turn
/// `x-ratelimit-reset` (epoch seconds) into a wait.
pub(crate) fn classify(status: u16, headers: &HeaderMap, body: &[u8], now_epoch: i64) -> Error {
    let parsed: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let message = parsed.message.clone().unwrap_or_else(|| {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if text.is_empty() {
            format!("HTTP {status}")
        } else {
            text.chars().take(200).collect()
        }
    });

    if (status == 403 || status == 429)
        && let Some(retry_after) = rate_limit_wait(status, headers, &message, now_epoch)
    {
        return Error::RateLimited { retry_after };
    }
    match status {
        401 => Error::Unauthorized { message },
        403 => Error::Forbidden { message },
        404 => Error::NotFound { message },
        409 => Error::Conflict { message },
        400 | 422 => Error::Validation {
            message,
            errors: parsed
                .errors
                .iter()
                .map(describe_validation_error)
                .collect(),
        },
        500..=599 => Error::Server { status },
        _ => Error::Unexpected { status, message },
    }
}

/// GitHub's documented order: `retry-after` first, then `x-ratelimit-remaining: 0` with its reset,
/// then a message naming a secondary limit (or a bare 429) means at least a minute.
fn rate_limit_wait(
    status: u16,
    headers: &HeaderMap,
    message: &str,
    now_epoch: i64,
) -> Option<Duration> {
    if let Some(seconds) = header_u64(headers, "retry-after") {
        return Some(Duration::from_secs(seconds));
    }
    if header_u64(headers, "x-ratelimit-remaining") == Some(0) {
        let wait = header_u64(headers, "x-ratelimit-reset")
            .map(|reset| (reset as i64 - now_epoch).max(0) as u64)
            .map(Duration::from_secs)
            .unwrap_or(SECONDARY_RATE_LIMIT_WAIT);
        return Some(wait);
    }
    let lower = message.to_ascii_lowercase();
    if status == 429
        || lower.contains("secondary rate limit")
        || lower.contains("rate limit exceeded")
    {
        return Some(SECONDARY_RATE_LIMIT_WAIT);
    }
    None
}
