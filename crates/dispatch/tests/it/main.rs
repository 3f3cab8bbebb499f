//! End-to-end tests: the real dispatcher HTTP server and workers against `FakeGitHub` and
//! `FakeHub`, driven by signed deliveries built from real GitHub payloads.

mod feedback;
mod flows;
mod harness;
mod policy;
mod privilege;
mod recovery;
mod secrets;
mod soak;
mod sweeper;
