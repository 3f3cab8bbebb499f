//! The dispatcher's core: from a verified `workflow_job` webhook to one HF Job, durably.
//!
//! Main types: [`store::SqliteStore`] behind the [`store::Store`] trait, the per-job state
//! machine in [`machine`] over [`model::JobRecord`], the launch workers in [`launcher`], the
//! [`reconciler`] that heals what a launch alone cannot (dead or stolen runners, lost records,
//! paused jobs), the delivery [`sweeper`] that asks GitHub again for failed deliveries, the
//! [`feedback`] pass that tells workflow authors through check runs, the actix-web
//! application in [`http`], and [`service::run`], which wires them together from
//! [`config::Settings`].
//!
//! It reads no environment variables: the `dispatcher` binary gathers configuration and hands
//! it in. The webhook answer never waits on GitHub or HF: the handler verifies, records in one
//! transaction and answers; workers do the network work. It never logs a secret, and the
//! runner's single-use credential goes only into the HF Job's `secrets`.

pub mod adapters;
pub mod config;
pub mod feedback;
pub mod health;
pub mod hf_labels;
pub mod http;
pub mod launcher;
pub mod machine;
pub mod model;
pub mod periodic;
pub mod policy;
pub mod ports;
pub mod reconciler;
pub mod scrub;
pub mod service;
pub mod store;
pub mod sweeper;
