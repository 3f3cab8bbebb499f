//! The embedded store: one SQLite file in WAL mode, fully synchronous commits.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Caps, Change, ChangeEach, Fenced, Ingested, RunnerNamer, Store, StoreError, codec};
use crate::machine;
use crate::model::{JobFacts, JobKey, JobRecord, Observation, State};
use crate::policy::CapKey;

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
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
";

/// The states a worker claims, as SQL: the same list as [`State::WORK`].
const WORK_STATES: &str = "('queued', 'waiting', 'launching', 'cancelling', 'replacing')";

/// Records that hold a live HF Job (or are creating one): what the caps count.
const LIVE: &str = "(state = 'launching' OR (hf_job_id IS NOT NULL
    AND state IN ('launched', 'running', 'replacing', 'cancelling')))";

/// Columns added after the first release, filled from the records on the first open.
/// Candidates looked at per claim: jobs over a cap are passed over, so a claim may look past
/// many of them to the first that can start.
const CLAIM_WINDOW: usize = 512;

const ADDED_COLUMNS: &[(&str, &str)] = &[
    ("repo", "TEXT"),
    ("installation", "INTEGER"),
    ("flavor", "TEXT"),
    ("hf_job_id", "TEXT"),
    ("created_ms", "INTEGER"),
];

/// SQLite behind a mutex; calls run on tokio's blocking pool so they never stall a server thread.
#[derive(Clone)]
pub struct SqliteStore {
    connection: Arc<Mutex<Connection>>,
    hooks: Arc<Hooks>,
    path: PathBuf,
}

/// What the store asks of the dispatcher inside a claim.
struct Hooks {
    namer: RunnerNamer,
    caps: Option<Caps>,
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
        let mut connection = Connection::open(&path).map_err(|e| open_error(e.to_string()))?;
        // FULL makes every acknowledged delivery survive a power cut, not only a crash.
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;",
            )
            .map_err(|e| open_error(e.to_string()))?;
        connection
            .execute_batch(SCHEMA)
            .map_err(|e| open_error(e.to_string()))?;
        migrate(&mut connection).map_err(|e| open_error(e.to_string()))?;
        Ok(Self {
            connection: Arc::new(Mutex::new(connection)),
            hooks: Arc::new(Hooks { namer, caps: None }),
            path,
        })
    }

    /// Claims respect these caps on live HF Jobs: a job over one waits.
    pub fn with_caps(self, caps: Caps) -> Self {
        let namer_owner = Arc::try_unwrap(self.hooks)
            .unwrap_or_else(|_| panic!("with_caps is called before the store is shared"));
        Self {
            hooks: Arc::new(Hooks {
                namer: namer_owner.namer,
                caps: Some(caps),
            }),
            ..self
        }
    }

    /// Where the database file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection, &Hooks) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let connection = self.connection.clone();
        let hooks = self.hooks.clone();
        tokio::task::spawn_blocking(move || {
            let mut connection = connection
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            work(&mut connection, &hooks).map_err(database)
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
    codec::decode(data).map_err(corrupt)
}

/// The records a `SELECT data FROM jobs …` query finds.
fn select(
    connection: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<JobRecord>> {
    let mut statement = connection.prepare(sql)?;
    let rows = statement.query_map(params, |row| row.get::<_, String>(0))?;
    rows.map(|row| decode(&row?)).collect()
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
    let data = codec::encode(record).map_err(corrupt)?;
    tx.execute(
        "INSERT INTO jobs (key, state, not_before_ms, lease_until_ms, updated_ms, data,
                           repo, installation, flavor, hf_job_id, created_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)
         ON CONFLICT (key) DO UPDATE SET state = ?2, not_before_ms = ?3, lease_until_ms = ?4,
                                         updated_ms = ?5, data = ?6, repo = ?7,
                                         installation = ?8, flavor = ?9, hf_job_id = ?10,
                                         created_ms = ?11",
        params![
            record.key.id(),
            record.state.as_str(),
            record.not_before_ms,
            record.lease_until_ms,
            record.updated_ms,
            data,
            record.key.repo.to_ascii_lowercase(),
            record.installation_id.map(|i| i as i64),
            record.flavor.as_deref().map(str::to_ascii_lowercase),
            record.hf_job_id,
            record.created_ms,
        ],
    )?;
    Ok(())
}

/// Adds the columns a store of the first release lacks, and fills them from the records.
fn migrate(connection: &mut Connection) -> rusqlite::Result<()> {
    let present: Vec<String> = {
        let mut statement = connection.prepare("SELECT name FROM pragma_table_info('jobs')")?;
        let names = statement.query_map([], |row| row.get(0))?;
        names.collect::<rusqlite::Result<_>>()?
    };
    let missing: Vec<_> = ADDED_COLUMNS
        .iter()
        .filter(|(name, _)| !present.iter().any(|p| p == name))
        .collect();
    let tx = connection.transaction()?;
    if !missing.is_empty() {
        for (name, kind) in &missing {
            tx.execute_batch(&format!("ALTER TABLE jobs ADD COLUMN {name} {kind};"))?;
        }
        let records = select(&tx, "SELECT data FROM jobs", [])?;
        for record in &records {
            save(&tx, record)?;
        }
    }
    tx.execute_batch(
        "CREATE INDEX IF NOT EXISTS jobs_live ON jobs (state, repo, installation, flavor);",
    )?;
    tx.commit()
}

/// How many live HF Jobs count against `key`, counted once per claim.
fn live_count(
    tx: &Transaction<'_>,
    key: &CapKey,
    counted: &mut HashMap<CapKey, u32>,
) -> rusqlite::Result<u32> {
    if let Some(count) = counted.get(key) {
        return Ok(*count);
    }
    let count: i64 = match key {
        CapKey::Global => tx.query_row(
            &format!("SELECT COUNT(*) FROM jobs WHERE {LIVE}"),
            [],
            |row| row.get(0),
        )?,
        CapKey::Installation(id) => tx.query_row(
            &format!("SELECT COUNT(*) FROM jobs WHERE {LIVE} AND installation = ?1"),
            [*id as i64],
            |row| row.get(0),
        )?,
        CapKey::Repository(repo) => tx.query_row(
            &format!("SELECT COUNT(*) FROM jobs WHERE {LIVE} AND repo = ?1"),
            [repo.to_ascii_lowercase()],
            |row| row.get(0),
        )?,
        CapKey::Flavor(flavor) => tx.query_row(
            &format!("SELECT COUNT(*) FROM jobs WHERE {LIVE} AND flavor = ?1"),
            [flavor.to_ascii_lowercase()],
            |row| row.get(0),
        )?,
    };
    counted.insert(key.clone(), count as u32);
    Ok(count as u32)
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
        self.with(move |connection, hooks| {
            let tx = connection.transaction()?;
            // Jobs waiting on a cap go by age, so room goes to the job that waited longest;
            // everything else by when it is due (a fresh job is due when it arrived, a retry
            // later, so one failing job cannot take every turn). Rows are read
            // one at a time: without caps the first one is taken.
            let mut waits = Vec::new();
            let mut claimed = None;
            {
                let mut statement = tx.prepare_cached(&format!(
                    "SELECT data FROM jobs
                     WHERE state IN {WORK_STATES}
                       AND not_before_ms <= ?1 AND (lease_until_ms IS NULL OR lease_until_ms <= ?1)
                     ORDER BY CASE WHEN state = 'waiting' THEN created_ms
                                   ELSE not_before_ms END
                     LIMIT {CLAIM_WINDOW}"
                ))?;
                let mut rows = statement.query([now_ms])?;
                let mut counted = HashMap::new();
                while let Some(row) = rows.next()? {
                    let current = decode(&row.get::<_, String>(0)?)?;
                    if matches!(current.state, State::Queued | State::Waiting)
                        && let Some(caps) = &hooks.caps
                    {
                        let mut full = None;
                        for cap in caps(&current) {
                            if live_count(&tx, &cap.key, &mut counted)? >= cap.limit {
                                full = Some(cap);
                                break;
                            }
                        }
                        if let Some(cap) = full {
                            waits.extend(machine::wait(&current, &cap.label(), now_ms));
                            continue;
                        }
                    }
                    if let Some(next) =
                        machine::claim(&current, now_ms, lease_ms, || (hooks.namer)(&current))
                    {
                        claimed = Some(next);
                        break;
                    }
                }
            }
            for waiting in &waits {
                save(&tx, waiting)?;
            }
            if let Some(claimed) = claimed {
                save(&tx, &claimed)?;
                tx.commit()?;
                return Ok(Some(claimed));
            }
            tx.commit()?;
            Ok(None)
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

    async fn update_fenced(
        &self,
        key: &JobKey,
        token: u64,
        change: Change,
    ) -> Result<Fenced, StoreError> {
        let key = key.id();
        self.with(move |connection, _| {
            let tx = connection.transaction()?;
            let Some(current) = load(&tx, &key)? else {
                return Ok(Fenced::Lost);
            };
            if current.lease_token != token {
                return Ok(Fenced::Lost);
            }
            let result = match change(&current) {
                Some(next) => {
                    save(&tx, &next)?;
                    next
                }
                None => current,
            };
            tx.commit()?;
            Ok(Fenced::Written(Box::new(result)))
        })
        .await
    }

    async fn active(&self, since_ms: i64) -> Result<Vec<JobRecord>, StoreError> {
        self.with(move |connection, _| {
            select(
                connection,
                "SELECT data FROM jobs
                 WHERE state NOT IN ('finished', 'cancelled', 'failed') OR updated_ms >= ?1",
                [since_ms],
            )
        })
        .await
    }

    async fn adopt(&self, record: JobRecord) -> Result<bool, StoreError> {
        self.with(move |connection, _| {
            let tx = connection.transaction()?;
            if load(&tx, &record.key.id())?.is_some() {
                return Ok(false);
            }
            save(&tx, &record)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn update_all_in(&self, state: State, change: ChangeEach) -> Result<u64, StoreError> {
        self.with(move |connection, _| {
            let tx = connection.transaction()?;
            let records = select(
                &tx,
                "SELECT data FROM jobs WHERE state = ?1",
                [state.as_str()],
            )?;
            let mut changed = 0;
            for record in &records {
                if let Some(next) = change(record) {
                    save(&tx, &next)?;
                    changed += 1;
                }
            }
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    async fn delivery_seen(&self, delivery_id: &str) -> Result<bool, StoreError> {
        let id = delivery_id.to_owned();
        self.with(move |connection, _| {
            connection
                .query_row("SELECT 1 FROM deliveries WHERE id = ?1", [id], |_| Ok(()))
                .optional()
                .map(|found| found.is_some())
        })
        .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.with(|connection, _| {
            connection
                .query_row("SELECT 1 FROM jobs LIMIT 1", [], |_| Ok(()))
                .optional()
                .map(|found| found.is_none())
        })
        .await
    }

    async fn get_meta(&self, name: &str) -> Result<Option<String>, StoreError> {
        let name = name.to_owned();
        self.with(move |connection, _| {
            connection
                .query_row("SELECT value FROM meta WHERE name = ?1", [name], |row| {
                    row.get(0)
                })
                .optional()
        })
        .await
    }

    async fn put_meta(&self, name: &str, value: &str) -> Result<(), StoreError> {
        let (name, value) = (name.to_owned(), value.to_owned());
        self.with(move |connection, _| {
            connection.execute(
                "INSERT INTO meta (name, value) VALUES (?1, ?2)
                 ON CONFLICT (name) DO UPDATE SET value = ?2",
                params![name, value],
            )?;
            Ok(())
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
            select(
                connection,
                "SELECT data FROM jobs ORDER BY updated_ms DESC LIMIT ?1",
                [limit as i64],
            )
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

    async fn counts_by_flavor(&self) -> Result<BTreeMap<(Option<String>, State), u64>, StoreError> {
        self.with(|connection, _| {
            let mut statement = connection
                .prepare("SELECT flavor, state, COUNT(*) FROM jobs GROUP BY flavor, state")?;
            let rows = statement.query_map([], |row| {
                Ok((
                    row.get::<_, Option<String>>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })?;
            let mut counts = BTreeMap::new();
            for row in rows {
                let (flavor, state, count) = row?;
                let state = State::parse(&state)
                    .ok_or_else(|| corrupt(format!("unknown state '{state}'")))?;
                counts.insert((flavor, state), count as u64);
            }
            Ok(counts)
        })
        .await
    }

    async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        self.with(|connection, _| {
            // Waiting jobs are due when room frees, which wakes the workers: not by the clock.
            connection.query_row(
                &format!(
                    "SELECT MIN(MAX(not_before_ms, COALESCE(lease_until_ms, 0))) FROM jobs
                 WHERE state IN {WORK_STATES} AND state != 'waiting'"
                ),
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

    async fn release_leases(&self, now_ms: i64) -> Result<u64, StoreError> {
        self.with(move |connection, _| {
            let tx = connection.transaction()?;
            let records = select(
                &tx,
                "SELECT data FROM jobs WHERE lease_until_ms > ?1",
                [now_ms],
            )?;
            for record in &records {
                let mut next = record.clone();
                next.lease_until_ms = None;
                next.updated_ms = now_ms;
                save(&tx, &next)?;
            }
            tx.commit()?;
            Ok(records.len() as u64)
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
