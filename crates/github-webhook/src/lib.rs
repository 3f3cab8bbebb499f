//! Verifies GitHub webhook deliveries and turns them into typed events.
//!
//! Main types: a verifier for `X-Hub-Signature-256` (several secrets at once, for rotation),
//! delivery metadata read from the headers, and typed events such as `workflow_job`.
//!
//! This crate does no IO: it never reads sockets, files or the environment, and never logs
//! a secret or a body. Unknown events are data, not errors.
