//! The one error type of this crate.

/// Everything that can go wrong while verifying or parsing a delivery.
///
/// Messages name the header or the payload field at fault but never quote the body,
/// a header's full value or a secret: they are safe to log and to send back to GitHub.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `Verifier::new` was given no secret at all.
    #[error("no webhook secret configured: at least one secret is needed to verify deliveries")]
    NoSecrets,

    /// One of the secrets given to `Verifier::new` is empty.
    #[error("webhook secret number {index} (counting from 0) is empty")]
    EmptySecret {
        /// Position of the empty secret in the list.
        index: usize,
    },

    /// The delivery has no `X-Hub-Signature-256` header.
    #[error("missing X-Hub-Signature-256 header: the delivery is unsigned")]
    MissingSignature,

    /// The `X-Hub-Signature-256` header is not `sha256=` followed by 64 hex digits.
    #[error("malformed X-Hub-Signature-256 header: {reason}")]
    BadSignatureFormat {
        /// What is wrong with it, without quoting it.
        reason: String,
    },

    /// The signature is well formed but matches no configured secret.
    #[error("X-Hub-Signature-256 does not match the body for any configured secret")]
    SignatureMismatch,

    /// A required header is absent (or empty).
    #[error("missing header {0}")]
    MissingHeader(&'static str),

    /// A header is present but its value cannot be used.
    #[error("invalid header {name}: {reason}")]
    InvalidHeader {
        /// The header's name.
        name: &'static str,
        /// What is wrong with it, without quoting it.
        reason: String,
    },

    /// The body of a known event is not the JSON this crate expects.
    #[error("malformed {event} payload: {message}")]
    MalformedJson {
        /// The event name from `X-GitHub-Event`.
        event: String,
        /// Where and why parsing failed; string values from the body are redacted.
        message: String,
    },
}

impl Error {
    /// True when the delivery failed authentication (answer 401), as opposed to a
    /// malformed request (400) or a misconfiguration of ours (500).
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            Error::MissingSignature | Error::BadSignatureFormat { .. } | Error::SignatureMismatch
        )
    }

    /// True when the fault is in our configuration, not in the request.
    pub fn is_configuration(&self) -> bool {
        matches!(self, Error::NoSecrets | Error::EmptySecret { .. })
    }
}
