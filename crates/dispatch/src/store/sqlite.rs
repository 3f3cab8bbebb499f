//! The embedded store: one SQLite file in WAL mode, fully synchronous commits.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Change, Ingested, RunnerNamer, Store, StoreError};
use crate::machine;
use crate::model::{JobFacts, JobKey, JobRecord, Observation, State};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS deliveries (
    id          TEXT PRIMARY KEY,
    event       TEXT NOT NULL,
    received_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
    key            TEXT PRIMARY KEY,
    state          TEXT NOT NULL,
    not_before_ms  INTEGER NOT NULL,
    lease_until_ms INTEGER,
    updated_ms     INTEGER NOT NULL,
    data           TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, not_before_ms);
CREATE INDEX IF NOT EXISTS jobs_updated ON jobs (updated_ms);
CREATE TABLE IF NOT EXISTS probe (id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL);
";

/// SQLite behind a mutex; calls run on tokio's blocking pool so they never stall a server thread.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    namer: Arc<RunnerNamer>,
    path: PathBuf,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating if needed) `dispatcher.sqlite3` in `dir`.
    pub fn open(dir: &Path, namer: RunnerNamer) -> Result<Self, StoreError> {
        let open_error = |message: String| StoreError::Open {
            path: dir.display().to_string(),
            message,
        };
        std::fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
        let path = dir.join("dispatcher.sqlite3");
        let connection = Connection::open(&path).map_err(|e| open_error(e.to_string()))?;
        // FULL makes every acknowledged delivery survive a power cut, not only a crash.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(|e| open_error(e.to_string()))?;
        connection
            .execute_batch(SCHEMA)
            .map_err(|e| open_error(e.to_string()))?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            namer: Arc::new(namer),
            path,
        })
    }

    /// Where the database file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, &RunnerNamer) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = self.connection.clone();
        let namer = self.namer.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut connection, &namer).map_err(database)
        })
        .await
        .map_err(|e| StoreError::Database(format!("store task failed: {e}")))?
    }
}

fn database(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(_, _, cause) => {
            StoreError::Corrupt(cause.to_string())
        }
        other => StoreError::Database(other.to_string()),
    }
}

fn corrupt(message: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, message.into())
}

fn decode(data: &str) -> rusqlite::Result<JobRecord> {
    serde_json::from_str(data).map_err(|e| corrupt(format!("job record: {e}")))
}

fn load(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<Option<JobRecord>> {
    let data: Option<String> = tx
        .query_row("SELECT data FROM jobs WHERE key = ?1", [key], |row| {
            row.get(0)
        })
        .optional()?;
    data.as_deref().map(decode).transpose()
}

fn save(tx: &Transaction<'_>, record: &JobRecord) -> rusqlite::Result<()> {
    let data = serde_json::to_string(record).map_err(|e| corrupt(e.to_string()))?;
    tx.execute(
        "INSERT INTO jobs (key, state, not_before_ms, lease_until_ms, updated_ms, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (key) DO UPDATE SET state = ?2, not_before_ms = ?3, lease_until_ms = ?4,
                                         updated_ms = ?5, data = ?6",
        params![
            record.key.id(),
            record.state.as_str(),
            record.not_before_ms,
            record.lease_until_ms,
            record.updated_ms,
            data
        ],
    )?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn ingest(
        &self,
        delivery_id: &str,
        event: &str,
        job: Option<(JobFacts, Observation)>,
        now_ms: i64,
    ) -> Result<Ingested, StoreError> {
        let (delivery_id, event) = (delivery_id.to_owned(), event.to_owned());
        self.with(move |connection, _| {
            let tx = connection.transaction()?;
            let inserted = tx.execute(
                "INSERT INTO deliveries (id, event, received_ms) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
                params![delivery_id, event, now_ms],
            )?;
            if inserted == 0 {
                return Ok(Ingested::Duplicate);
            }
            let mut changed = None;
            if let Some((facts, observation)) = job {
                let current = load(&tx, &facts.key.id())?;
                if let Some(next) = machine::observe(current.as_ref(), &facts, &observation, now_ms) {
                    save(&tx, &next)?;
                    changed = Some(Box::new(next));
                }
            }
            tx.commit()?;
            Ok(Ingested::Recorded { job: changed })
        })
        .await
    }

    async fn claim_next(
        &self,
        now_ms: i64,
        lease_ms: i64,
    ) -> Result<Option<JobRecord>, StoreError> {
        self.with(move |connection, namer| {
            let tx = connection.transaction()?;
            let data: Option<String> = tx
                .query_row(
                    "SELECT data FROM jobs
                     WHERE state IN ('queued', 'launching', 'cancelling')
                       AND not_before_ms <= ?1 AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                     ORDER BY not_before_ms LIMIT 1",
                    [now_ms],
                    |row| row.get(0),
                )
                .optional()?;
            let Some(current) = data.as_deref().map(decode).transpose()? else {
                return Ok(None);
            };
            let claimed = machine::claim(&current, now_ms, lease_ms, || namer(&current));
            if let Some(claimed) = &claimed {
                save(&tx, claimed)?;
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    async fn update(
        &self,
        key: &JobKey,
        _now_ms: i64,
        change: Change,
    ) -> Result<Option<JobRecord>, StoreError> {
        let key = key.id();
        self.with(move |connection, _| {
            let tx = connection.transaction()?;
            let Some(current) = load(&tx, &key)? else {
                return Ok(None);
            };
            let result = match change(&current) {
                Some(next) => {
                    save(&tx, &next)?;
                    next
                }
                None => current,
            };
            tx.commit()?;
            Ok(Some(result))
        })
        .await
    }

    async fn get(&self, key: &JobKey) -> Result<Option<JobRecord>, StoreError> {
        let key = key.id();
        self.with(move |connection, _| {
            let tx = connection.transaction()?;
            load(&tx, &key)
        })
        .await
    }

    async fn recent(&self, limit: usize) -> Result<Vec<JobRecord>, StoreError> {
        self.with(move |connection, _| {
            let mut statement =
                connection.prepare("SELECT data FROM jobs ORDER BY updated_ms DESC LIMIT ?1")?;
            let rows = statement.query_map([limit as i64], |row| row.get::<_, String>(0))?;
            rows.map(|row| decode(&row?)).collect()
        })
        .await
    }

    async fn counts(&self) -> Result<BTreeMap<State, u64>, StoreError> {
        self.with(|connection, _| {
            let mut statement =
                connection.prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state")?;
            let rows = statement.query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })?;
            let mut counts = BTreeMap::new();
            for row in rows {
                let (state, count) = row?;
                let state = State::parse(&state)
                    .ok_or_else(|| corrupt(format!("unknown state '{state}'")))?;
                counts.insert(state, count as u64);
            }
            Ok(counts)
        })
        .await
    }

    async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        self.with(|connection, _| {
            connection.query_row(
                "SELECT MIN(MAX(not_before_ms, COALESCE(lease_until_ms, 0))) FROM jobs
                 WHERE state IN ('queued', 'launching', 'cancelling')",
                [],
                |row| row.get(0),
            )
        })
        .await
    }

    async fn check_writable(&self, now_ms: i64) -> Result<(), StoreError> {
        self.with(move |connection, _| {
            connection.execute(
                "INSERT OR REPLACE INTO probe (id, at_ms) VALUES (1, ?1)",
                [now_ms],
            )?;
            let read: i64 =
                connection
                    .query_row("SELECT at_ms FROM probe WHERE id = 1", [], |row| row.get(0))?;
            if read == now_ms {
                Ok(())
            } else {
                Err(corrupt("probe row did not read back".into()))
            }
        })
        .await
    }

    async fn prune_deliveries(&self, before_ms: i64) -> Result<u64, StoreError> {
        self.with(move |connection, _| {
            connection
                .execute("DELETE FROM deliveries WHERE received_ms < ?1", [before_ms])
                .map(|n| n as u64)
        })
        .await
    }
}
