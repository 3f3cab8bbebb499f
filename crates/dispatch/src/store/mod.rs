//! Durable state: the `Store` trait and its embedded SQLite implementation.
//!
//! The store is the single source of truth: the webhook handler writes to it before answering,
//! workers claim work from it with a lease, and a restart resumes from it. Every change goes
//! through a [`crate::machine`] function applied to the record as it is inside the transaction,
//! so a webhook and a worker touching the same record never lose each other's writes.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::model::{JobFacts, JobKey, JobRecord, Observation, State};

mod codec;
mod sqlite;
#[cfg(test)]
mod tests;

pub use codec::CURRENT_VERSION as RECORD_SCHEMA_VERSION;
pub use sqlite::SqliteStore;

/// Why the store failed. Every store error is worth retrying later: nothing was half-written.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the state database failed: {0}")]
    Database(String),
    #[error("the state database at {path} cannot be opened: {message}")]
    Open { path: String, message: String },
    #[error("a stored record is unreadable: {0}")]
    Corrupt(String),
}

/// What happened to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ingested {
    /// The delivery id was seen before: nothing was done.
    Duplicate,
    /// The delivery was recorded; `job` holds the job's record when it changed.
    Recorded { job: Option<Box<JobRecord>> },
}

/// The answer to a fenced write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fenced {
    /// The claim still held; the record as stored now.
    Written(Box<JobRecord>),
    /// Another claim took the record (or it is gone): nothing was written.
    Lost,
}

/// Changes one record given its current value; `None` leaves it unchanged.
pub type Change = Box<dyn FnOnce(&JobRecord) -> Option<JobRecord> + Send>;

/// Changes each of many records given its current value; `None` leaves it unchanged.
pub type ChangeEach = Box<dyn Fn(&JobRecord) -> Option<JobRecord> + Send + 'static>;

/// The caps on live HF Jobs a record counts against when it launches.
pub type Caps = Box<dyn Fn(&JobRecord) -> Vec<crate::policy::Cap> + Send + Sync>;

/// Names a runner for a record that has none yet.
pub type RunnerNamer = Box<dyn Fn(&JobRecord) -> String + Send + Sync>;

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Records a delivery and applies what it says about a job, in one transaction.
    async fn ingest(
        &self,
        delivery_id: &str,
        event: &str,
        job: Option<(JobFacts, Observation)>,
        now_ms: i64,
    ) -> Result<Ingested, StoreError>;

    /// Leases the most overdue record that needs work, if any.
    async fn claim_next(&self, now_ms: i64, lease_ms: i64)
    -> Result<Option<JobRecord>, StoreError>;

    /// Applies `change` to the current record under `key`, returning the stored result.
    async fn update(
        &self,
        key: &JobKey,
        now_ms: i64,
        change: Change,
    ) -> Result<Option<JobRecord>, StoreError>;

    /// Like [`Store::update`], but only while the record's fencing token is still `token`: a
    /// worker whose lease was taken over writes nothing.
    async fn update_fenced(
        &self,
        key: &JobKey,
        token: u64,
        change: Change,
    ) -> Result<Fenced, StoreError>;

    async fn get(&self, key: &JobKey) -> Result<Option<JobRecord>, StoreError>;

    /// Every record not in a terminal state, and terminal ones updated since `since_ms`.
    async fn active(&self, since_ms: i64) -> Result<Vec<JobRecord>, StoreError>;

    /// Creates the record unless one exists under its key; true when it was created.
    async fn adopt(&self, record: JobRecord) -> Result<bool, StoreError>;

    /// Applies `change` to every record in `state`, in one transaction; how many changed.
    async fn update_all_in(&self, state: State, change: ChangeEach) -> Result<u64, StoreError>;

    /// Whether a delivery id was recorded (and is not yet pruned).
    async fn delivery_seen(&self, delivery_id: &str) -> Result<bool, StoreError>;

    /// True when the store holds no job at all (a first start, or a lost state directory).
    async fn is_empty(&self) -> Result<bool, StoreError>;

    /// A small named value that must survive restarts (the delivery sweeper's cursor).
    async fn get_meta(&self, name: &str) -> Result<Option<String>, StoreError>;
    async fn put_meta(&self, name: &str, value: &str) -> Result<(), StoreError>;

    /// The most recently updated records, newest first.
    async fn recent(&self, limit: usize) -> Result<Vec<JobRecord>, StoreError>;

    /// How many records are in each state.
    async fn counts(&self) -> Result<BTreeMap<State, u64>, StoreError>;

    /// How many records are in each state, per flavor (`None`: no flavor known). One query,
    /// however many records: the public status page asks on every view.
    async fn counts_by_flavor(&self) -> Result<BTreeMap<(Option<String>, State), u64>, StoreError>;

    /// The earliest time at which some record needs work, if any does.
    async fn next_due_ms(&self) -> Result<Option<i64>, StoreError>;

    /// Writes and reads back a probe row: the store can take acknowledged work.
    async fn check_writable(&self, now_ms: i64) -> Result<(), StoreError>;

    /// Frees every lease, for a start when no other process can hold one (the embedded
    /// store). Fencing tokens stay, so a late write of the dead process could not land anyway.
    async fn release_leases(&self, now_ms: i64) -> Result<u64, StoreError>;

    /// Forgets delivery ids older than `before_ms`; GitHub redelivers within days, not months.
    async fn prune_deliveries(&self, before_ms: i64) -> Result<u64, StoreError>;
}
