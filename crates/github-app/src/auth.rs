//! The App's identity, its RS256 JWT, and the clock both depend on.

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use jiff::Timestamp;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::Error;

/// Backdating of `iat`, as GitHub recommends, so a slightly fast GitHub clock still accepts it.
pub const JWT_BACKDATE: Duration = Duration::from_secs(60);
/// Lifetime of a JWT from now; GitHub's hard limit is 10 minutes, so keep a margin.
pub const JWT_LIFETIME: Duration = Duration::from_secs(9 * 60);

/// Where "now" comes from, so tests can move time instead of sleeping.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that moves only when told to; for tests.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<Timestamp>,
}

impl ManualClock {
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Mutex::new(start),
        }
    }

    /// Starts at the current system time (so a real or fake GitHub agrees on "now").
    pub fn starting_now() -> Self {
        Self::new(Timestamp::now())
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap();
        *now = now.checked_add(by).expect("clock stays in range");
    }

    pub fn set(&self, to: Timestamp) {
        *self.now.lock().unwrap() = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.lock().unwrap()
    }
}

/// Who the JWT says it is: the numeric App id (legacy) or the client id (`Iv23...`, recommended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppIdentity {
    AppId(u64),
    ClientId(String),
}

/// `iss` is an integer for an App id and a string for a client id, as GitHub expects.
#[derive(Serialize)]
#[serde(untagged)]
enum Issuer<'a> {
    Number(u64),
    Text(&'a str),
}

#[derive(Serialize)]
struct Claims<'a> {
    iat: i64,
    exp: i64,
    iss: Issuer<'a>,
}

/// Signs App JWTs with the App's private key. `Debug` never shows the key.
#[derive(Clone)]
pub struct AppJwtSigner {
    identity: AppIdentity,
    key: EncodingKey,
}

impl fmt::Debug for AppJwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppJwtSigner")
            .field("identity", &self.identity)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl AppJwtSigner {
    /// Reads a PKCS#1 (`BEGIN RSA PRIVATE KEY`, GitHub's format) or PKCS#8 (`BEGIN PRIVATE KEY`)
    /// PEM key.
    pub fn new(identity: AppIdentity, private_key_pem: &SecretString) -> Result<Self, Error> {
        let key = EncodingKey::from_rsa_pem(private_key_pem.expose_secret().as_bytes())
            // The underlying message never quotes the key.
            .map_err(|e| Error::Config(format!("cannot read the App private key: {e}")))?;
        let signer = Self { identity, key };
        // Fail now rather than at the first call (a malformed key body can still parse as PEM).
        signer.sign(Timestamp::now())?;
        Ok(signer)
    }

    pub fn identity(&self) -> &AppIdentity {
        &self.identity
    }

    /// A JWT valid from `now - 60 s` to `now + 9 min`.
    pub fn sign(&self, now: Timestamp) -> Result<SecretString, Error> {
        let now = now.as_second();
        let claims = Claims {
            iat: now - JWT_BACKDATE.as_secs() as i64,
            exp: now + JWT_LIFETIME.as_secs() as i64,
            iss: match &self.identity {
                AppIdentity::AppId(id) => Issuer::Number(*id),
                AppIdentity::ClientId(id) => Issuer::Text(id),
            },
        };
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map(SecretString::from)
            .map_err(|e| Error::Config(format!("cannot sign the App JWT: {e}")))
    }
}
