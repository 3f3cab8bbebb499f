//! `X-Hub-Signature-256` verification (HMAC-SHA256 of the raw body).

use std::borrow::Borrow;
use std::fmt;

use ring::hmac;
use secrecy::{ExposeSecret, SecretString};

use crate::Error;

/// Name of the header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

const PREFIX: &str = "sha256=";
const DIGEST_LEN: usize = 32;
const HEX_LEN: usize = DIGEST_LEN * 2;

/// Checks `X-Hub-Signature-256` against one or more webhook secrets.
///
/// Several secrets let an operator rotate the webhook secret without dropping deliveries:
/// configure old and new, change it on GitHub, then remove the old one. The HMAC keys are
/// built once here; `verify` only hashes the body and compares in constant time.
#[derive(Clone)]
pub struct Verifier {
    keys: Vec<hmac::Key>,
}

impl Verifier {
    /// Builds a verifier from the configured secrets, in order of preference.
    ///
    /// Fails when the list is empty or a secret is empty: GitHub never signs with an empty
    /// secret, so an empty one is a configuration mistake, not a way to accept anything.
    pub fn new<I>(secrets: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Borrow<SecretString>,
    {
        let mut keys = Vec::new();
        for (index, secret) in secrets.into_iter().enumerate() {
            let bytes = secret.borrow().expose_secret().as_bytes();
            if bytes.is_empty() {
                return Err(Error::EmptySecret { index });
            }
            keys.push(hmac::Key::new(hmac::HMAC_SHA256, bytes));
        }
        if keys.is_empty() {
            return Err(Error::NoSecrets);
        }
        Ok(Self { keys })
    }

    /// Number of secrets this verifier accepts.
    pub fn secret_count(&self) -> usize {
        self.keys.len()
    }

    /// Verifies the raw request body against the `X-Hub-Signature-256` header value.
    ///
    /// Call this before parsing the body. Only `sha256=` followed by 64 hex digits is
    /// accepted; the legacy `sha1=` form is rejected.
    pub fn verify(&self, signature_header: Option<&str>, body: &[u8]) -> Result<(), Error> {
        self.verify_with_index(signature_header, body).map(|_| ())
    }

    /// Like [`Verifier::verify`], but says which secret matched (its position in the list
    /// given to [`Verifier::new`]), so an operator can tell when an old secret is unused.
    pub fn verify_with_index(
        &self,
        signature_header: Option<&str>,
        body: &[u8],
    ) -> Result<usize, Error> {
        let header = signature_header.ok_or(Error::MissingSignature)?;
        let tag = parse_signature(header)?;
        self.keys
            .iter()
            .position(|key| hmac::verify(key, body, &tag).is_ok())
            .ok_or(Error::SignatureMismatch)
    }
}

impl fmt::Debug for Verifier {
    // The keys are secret material: show only how many there are.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("secrets", &self.keys.len())
            .finish()
    }
}

/// Computes the `X-Hub-Signature-256` value GitHub would send for `body`.
///
/// Meant for tests and fakes that need to sign deliveries the way GitHub does.
pub fn sign(secret: &SecretString, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose_secret().as_bytes());
    let tag = hmac::sign(&key, body);
    format!("{PREFIX}{}", hex::encode(tag.as_ref()))
}

/// Extracts the 32-byte digest from `sha256=<64 hex>`, without echoing the value in errors.
fn parse_signature(header: &str) -> Result<[u8; DIGEST_LEN], Error> {
    let bad = |reason: String| Error::BadSignatureFormat { reason };
    if header.is_empty() {
        return Err(bad("the header is empty".into()));
    }
    let Some(hex_digest) = header.strip_prefix(PREFIX) else {
        if header.starts_with("sha1=") {
            return Err(bad(
                "sha1= signatures are not accepted; only sha256= is".into()
            ));
        }
        return Err(bad("expected it to start with sha256=".into()));
    };
    if hex_digest.len() != HEX_LEN {
        return Err(bad(format!(
            "expected {HEX_LEN} hex digits after sha256=, got {} bytes",
            hex_digest.len()
        )));
    }
    let mut tag = [0u8; DIGEST_LEN];
    hex::decode_to_slice(hex_digest, &mut tag)
        .map_err(|_| bad("the digest after sha256= is not hexadecimal".into()))?;
    Ok(tag)
}

#[cfg(test)]
mod tests;
