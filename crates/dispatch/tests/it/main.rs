//! End-to-end tests: the real dispatcher HTTP server and workers against `FakeGitHub` and
//! `FakeHub`, driven by signed deliveries built from real GitHub payloads.

mod flows;
mod harness;
mod recovery;
mod secrets;
mod soak;
mod sweeper;
