//! Verifies GitHub webhook deliveries and turns them into typed events.
//!
//! A delivery is handled in three steps, all pure functions of the request:
//!
//! 1. [`Delivery::from_headers`] reads the metadata headers (`X-GitHub-Event`,
//!    `X-GitHub-Delivery`, hook and installation-target ids) through a lookup closure, so
//!    the caller's HTTP types (actix, `http` 0.2 or 1.x) stay out of this API.
//! 2. [`Verifier::verify`] checks `X-Hub-Signature-256` over the raw body bytes with
//!    `ring`'s constant-time HMAC-SHA256. A [`Verifier`] is built once from one or more
//!    secrets, so the webhook secret can be rotated without dropping deliveries. Only
//!    `sha256=<64 hex>` is accepted; the legacy `sha1=` header is not.
//! 3. [`Event::parse`] picks the payload type from the event name: [`WorkflowJobEvent`],
//!    [`PingEvent`], [`InstallationEvent`] and [`InstallationRepositoriesEvent`]. Any other
//!    event is [`Event::Unknown`], not an error. [`WorkflowJobEvent::is_launchable`] says
//!    whether a runner should be started (action and status both `queued`).
//!
//! ```
//! use github_webhook::{Delivery, Event, Verifier, sign};
//! use secrecy::SecretString;
//!
//! let secret = SecretString::from("It's a Secret to Everybody");
//! let verifier = Verifier::new([secret.clone()])?;
//! let body = br#"{"zen": "Design for failure.", "hook_id": 1}"#;
//! let signature = sign(&secret, body);
//! let headers = [
//!     ("x-github-event", "ping"),
//!     ("x-github-delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
//!     ("x-hub-signature-256", signature.as_str()),
//! ];
//! let header = |name: &str| {
//!     headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| *value)
//! };
//!
//! let delivery = Delivery::from_headers(header)?;
//! verifier.verify(header(github_webhook::SIGNATURE_HEADER), body)?;
//! match Event::parse(&delivery.event, body)? {
//!     Event::Ping(ping) => assert_eq!(ping.hook_id, Some(1)),
//!     other => panic!("unexpected {}", other.name()),
//! }
//! # Ok::<(), github_webhook::Error>(())
//! ```
//!
//! Payload structs keep the fields the dispatcher needs and ignore the rest (GitHub adds
//! keys without versioning); every key GitHub sends as `null` or omits in older payloads is
//! an `Option` or has a default, and enums have an `Unknown` variant for new values.
//!
//! What it deliberately does not do: no IO (it never reads sockets, files or the
//! environment, and never logs), no HTTP framework types, no form-encoded
//! (`application/x-www-form-urlencoded`) bodies, and no replay protection: de-duplicating on
//! the delivery id is the caller's job. Errors never quote the body or a secret, and
//! [`Verifier`]'s `Debug` shows only how many secrets it holds.

mod delivery;
mod error;
mod event;
mod payload;
mod signature;

pub use delivery::{Delivery, headers};
pub use error::Error;
pub use event::{Event, names};
pub use payload::{
    Account, AccountType, Conclusion, Deployment, Hook, HookConfig, Installation,
    InstallationAction, InstallationEvent, InstallationRepositoriesAction,
    InstallationRepositoriesEvent, InstallationRepository, JobStatus, PingEvent, Repository,
    RepositorySelection, Step, WorkflowJob, WorkflowJobAction, WorkflowJobEvent,
};
pub use signature::{SIGNATURE_HEADER, Verifier, sign};
