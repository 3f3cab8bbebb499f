//! The dispatcher's core: from a verified `workflow_job` webhook to one HF Job, durably.
//!
//! Main types: the store (SQLite by default), the per-job state machine, the launch workers and
//! the actix-web application.
//!
//! It reads no environment variables: the `dispatcher` binary parses configuration and hands it
//! in. The webhook answer never waits on GitHub or HF.

pub mod adapters;
pub mod config;
pub mod health;
pub mod hf_labels;
pub mod http;
pub mod launcher;
pub mod machine;
pub mod model;
pub mod ports;
pub mod service;
pub mod store;
