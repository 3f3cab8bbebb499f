//! The HTTP helpers under every API module: path segments checked before they go into a URL,
//! non-2xx answers turned into [`Error`]s, JSON bodies read, and `Link: rel="next"` pages
//! followed. They know nothing of the client or of any API.

use reqwest::Response;
use serde::de::DeserializeOwned;
use url::Url;

use crate::error::{self, Error};

/// Rejects empty ids and ids with `/`, which would address another resource.
pub(crate) fn check_segment(kind: &str, value: &str) -> Result<(), Error> {
    if value.is_empty() || value.contains('/') || value == "." || value == ".." {
        return Err(Error::InvalidInput(format!(
            "invalid {kind} '{value}': expected a non-empty name without '/'"
        )));
    }
    Ok(())
}

pub(crate) async fn check_status(response: Response, what: &str) -> Result<Response, Error> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = response.bytes().await.unwrap_or_default();
    Err(error::from_response(status.as_u16(), &headers, &body, what))
}

pub(crate) async fn read_json<T: DeserializeOwned>(
    response: Response,
    what: &str,
) -> Result<T, Error> {
    let body = response
        .bytes()
        .await
        .map_err(|e| Error::from_transport(e, what))?;
    serde_json::from_slice(&body).map_err(|e| {
        let snippet: String = String::from_utf8_lossy(&body).chars().take(200).collect();
        Error::InvalidResponse(format!("{what}: {e} in {snippet:?}"))
    })
}

/// The `rel="next"` target of a `Link` header, resolved against the current page's URL.
pub(crate) fn next_link(headers: &reqwest::header::HeaderMap, current: &Url) -> Option<Url> {
    for value in headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for link in value.split(',') {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let is_next = parts.any(|p| {
                let p = p.trim();
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                let target = target.strip_prefix('<')?.strip_suffix('>')?;
                return current.join(target).ok();
            }
        }
    }
    None
}
