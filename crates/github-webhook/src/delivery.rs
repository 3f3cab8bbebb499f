//! Delivery metadata carried in the request headers.

use crate::Error;

/// Header names GitHub sets on every delivery (matched case-insensitively on the wire).
pub mod headers {
    /// Event name, e.g. `workflow_job`.
    pub const EVENT: &str = "X-GitHub-Event";
    /// GUID of the delivery; redeliveries reuse it.
    pub const DELIVERY: &str = "X-GitHub-Delivery";
    /// Numeric id of the webhook.
    pub const HOOK_ID: &str = "X-GitHub-Hook-ID";
    /// Kind of resource that owns the hook (`integration` for GitHub Apps).
    pub const TARGET_TYPE: &str = "X-GitHub-Hook-Installation-Target-Type";
    /// Id of that resource (the App id for GitHub Apps).
    pub const TARGET_ID: &str = "X-GitHub-Hook-Installation-Target-ID";
    /// HMAC-SHA256 of the body.
    pub const SIGNATURE_256: &str = crate::SIGNATURE_HEADER;
}

// Generous bounds: GitHub sends a 36-character GUID and short event names. The limits only
// keep garbage out of logs and databases.
const MAX_DELIVERY_ID_LEN: usize = 128;
const MAX_EVENT_LEN: usize = 64;
const MAX_TARGET_TYPE_LEN: usize = 64;

/// What the headers say about one delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `X-GitHub-Delivery`: GUID of the delivery. Redeliveries reuse it, so it is the key
    /// for de-duplication.
    pub id: String,
    /// `X-GitHub-Event`: the event name, e.g. `workflow_job`.
    pub event: String,
    /// `X-GitHub-Hook-ID`, when sent.
    pub hook_id: Option<u64>,
    /// `X-GitHub-Hook-Installation-Target-Type`, when sent, as GitHub spells it
    /// (`integration` for App hooks, also `repository`, `organization`, ...).
    pub target_type: Option<String>,
    /// `X-GitHub-Hook-Installation-Target-ID`, when sent (the App id for App hooks).
    pub target_id: Option<u64>,
}

impl Delivery {
    /// Reads the delivery metadata through `header`, which returns a header's value by name.
    ///
    /// The lookup must ignore case, as HTTP header maps do (names are passed in GitHub's
    /// spelling, e.g. `X-GitHub-Hook-ID`), and return `None` for an absent header or one
    /// that is not valid text. The event name and delivery id are required; the hook and
    /// target headers are optional but must be well formed when present.
    ///
    /// ```
    /// # use github_webhook::Delivery;
    /// let delivery = Delivery::from_headers(|name| match name {
    ///     "X-GitHub-Event" => Some("ping"),
    ///     "X-GitHub-Delivery" => Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
    ///     _ => None,
    /// })?;
    /// assert_eq!(delivery.event, "ping");
    /// # Ok::<(), github_webhook::Error>(())
    /// ```
    pub fn from_headers<'a, F>(header: F) -> Result<Self, Error>
    where
        F: Fn(&str) -> Option<&'a str>,
    {
        let event = required_token(&header, headers::EVENT, MAX_EVENT_LEN)?;
        let id = required_token(&header, headers::DELIVERY, MAX_DELIVERY_ID_LEN)?;
        let hook_id = optional_id(&header, headers::HOOK_ID)?;
        let target_type = optional_token(&header, headers::TARGET_TYPE, MAX_TARGET_TYPE_LEN)?;
        let target_id = optional_id(&header, headers::TARGET_ID)?;
        Ok(Self {
            id,
            event,
            hook_id,
            target_type,
            target_id,
        })
    }
}

/// Trims optional whitespace and treats an empty value as absent.
fn present<'a, F>(header: &F, name: &str) -> Option<&'a str>
where
    F: Fn(&str) -> Option<&'a str>,
{
    header(name)
        .map(|value| value.trim_matches([' ', '\t']))
        .filter(|value| !value.is_empty())
}

fn required_token<'a, F>(header: &F, name: &'static str, max_len: usize) -> Result<String, Error>
where
    F: Fn(&str) -> Option<&'a str>,
{
    optional_token(header, name, max_len)?.ok_or(Error::MissingHeader(name))
}

fn optional_token<'a, F>(
    header: &F,
    name: &'static str,
    max_len: usize,
) -> Result<Option<String>, Error>
where
    F: Fn(&str) -> Option<&'a str>,
{
    let Some(value) = present(header, name) else {
        return Ok(None);
    };
    if value.len() > max_len {
        return Err(Error::InvalidHeader {
            name,
            reason: format!("longer than {max_len} bytes"),
        });
    }
    // Visible ASCII only: these values end up in logs, metrics and database keys.
    if !value.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::InvalidHeader {
            name,
            reason: "contains characters other than visible ASCII".into(),
        });
    }
    Ok(Some(value.to_owned()))
}

fn optional_id<'a, F>(header: &F, name: &'static str) -> Result<Option<u64>, Error>
where
    F: Fn(&str) -> Option<&'a str>,
{
    let Some(value) = present(header, name) else {
        return Ok(None);
    };
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::InvalidHeader {
            name,
            reason: "not a decimal number".into(),
        });
    }
    value.parse().map(Some).map_err(|_| Error::InvalidHeader {
        name,
        reason: "number too large".into(),
    })
}

#[cfg(test)]
mod tests;
