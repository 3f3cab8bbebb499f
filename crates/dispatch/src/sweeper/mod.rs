//! The delivery sweeper: GitHub never redelivers a webhook by itself, so deliveries that
//! failed (the dispatcher was restarting, asleep, or answered 5xx) are asked for again.
//!
//! Each pass reads the App's delivery log from the newest entry back to the persisted
//! cursor (the newest delivery id an earlier pass finished with), groups the entries by
//! guid, and redelivers the `workflow_job` guids that never succeeded: not in GitHub's log,
//! and not recorded in our store. A guid is asked for at most `max_redeliveries` times.
//!
//! On a start with an empty store, [`DeliverySweeper::scan`] also looks for queued jobs
//! directly (with a bounded number of calls): a lost state directory loses the deliveries
//! GitHub thinks we received.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::adapters::GitHubAdapter;
use crate::model::now_ms;
use crate::model::{JobFacts, Observation};
use crate::store::{Ingested, Store};

const CURSOR: &str = "sweeper.cursor";
/// Set while a scan for queued jobs is owed: written before the dispatcher serves webhooks,
/// so deliveries that arrive first cannot make a lost store look full, and kept until a scan
/// finished, so a crash mid-scan scans again.
const SCAN_OWED: &str = "sweeper.scan-owed";
const ASKED_PREFIX: &str = "sweeper.asked.";

#[derive(Debug, Clone)]
pub struct SweepSettings {
    pub interval: Duration,
    /// Without a cursor (a first start), how far back the log is read.
    pub first_lookback: Duration,
    /// Pages of the log read per pass at most (100 deliveries each).
    pub max_pages: usize,
    pub max_redeliveries: u32,
    /// API calls the empty-store scan may make.
    pub scan_calls: usize,
    /// The newest part of the log is read again on the next pass: a delivery still in flight
    /// during a pass may be logged later under a lower id.
    pub overlap: Duration,
}

impl Default for SweepSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(120),
            first_lookback: Duration::from_secs(24 * 3600),
            max_pages: 20,
            max_redeliveries: 3,
            scan_calls: 200,
            overlap: Duration::from_secs(60),
        }
    }
}

/// What one pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub read: usize,
    pub redelivered: Vec<u64>,
    /// Failed guids left alone because they were asked for `max_redeliveries` times.
    pub given_up: usize,
    pub errors: Vec<String>,
}

/// Decides which queued jobs found by a scan are Ferry's, as the webhook would, and fills in
/// the flavor they ask for.
pub type Classify = Arc<dyn Fn(&mut JobFacts) -> Option<Observation> + Send + Sync>;

pub struct DeliverySweeper {
    store: Arc<dyn Store>,
    github: Arc<GitHubAdapter>,
    settings: SweepSettings,
    wake: Arc<Notify>,
}

impl DeliverySweeper {
    pub fn new(
        store: Arc<dyn Store>,
        github: Arc<GitHubAdapter>,
        settings: SweepSettings,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            github,
            settings,
            wake,
        }
    }

    /// Notes that a scan is owed when the store is empty. Call it before serving webhooks.
    pub async fn note_empty_store(store: &dyn Store) -> Result<bool, crate::store::StoreError> {
        let empty = store.is_empty().await?;
        if empty {
            store.put_meta(SCAN_OWED, "1").await?;
        }
        Ok(empty)
    }

    /// The owed scan, if any, then a pass at once and every interval until `shutdown`.
    pub async fn run(self, classify: Classify, shutdown: CancellationToken) {
        match self.store.get_meta(SCAN_OWED).await {
            Ok(Some(owed)) if !owed.is_empty() => match self.scan(&classify).await {
                Ok(found) => {
                    info!(found, "empty store: scanned GitHub for queued jobs");
                    if let Err(e) = self.store.put_meta(SCAN_OWED, "").await {
                        warn!(error = %e, "cannot record that the scan is done");
                    }
                }
                Err(e) => warn!(error = e, "empty store: cannot scan GitHub for queued jobs"),
            },
            Ok(_) => {}
            Err(e) => warn!(error = %e, "cannot tell whether a scan is owed"),
        }
        crate::periodic::every(self.settings.interval, true, &shutdown, || async {
            let report = self.pass().await;
            if !report.redelivered.is_empty() || !report.errors.is_empty() {
                info!(?report, "delivery sweep");
            }
        })
        .await
    }

    /// Records every queued job of Ferry's that GitHub lists, as if its webhook had come.
    pub async fn scan(&self, classify: &Classify) -> Result<usize, String> {
        let jobs = self
            .github
            .queued_jobs(self.settings.scan_calls)
            .await
            .map_err(|e| e.to_string())?;
        let mut found = 0;
        for mut facts in jobs {
            let Some(observation) = classify(&mut facts) else {
                continue;
            };
            // A stable id: a second scan of the same job is a duplicate, like a redelivery.
            let id = format!("scan:{}", facts.key.id());
            match self
                .store
                .ingest(&id, "workflow_job", Some((facts, observation)), now_ms())
                .await
            {
                Ok(Ingested::Recorded { job: Some(_) }) => found += 1,
                Ok(_) => {}
                Err(e) => return Err(e.to_string()),
            }
        }
        if found > 0 {
            self.wake.notify_waiters();
        }
        Ok(found)
    }

    /// Reads the log back to the cursor and redelivers what never succeeded.
    pub async fn pass(&self) -> SweepReport {
        let mut report = SweepReport::default();
        let cursor = match self.store.get_meta(CURSOR).await {
            Ok(cursor) => cursor.and_then(|c| c.parse::<u64>().ok()),
            Err(e) => {
                report.errors.push(format!("store: {e}"));
                return report;
            }
        };
        let now = now_ms();
        let oldest_ms = now - self.settings.first_lookback.as_millis() as i64;
        let settled_ms = now - self.settings.overlap.as_millis() as i64;
        // guid → (any success, newest failed workflow_job delivery id)
        // `newest` is the cursor to keep: the newest id old enough not to be overtaken.
        let mut by_guid: BTreeMap<String, (bool, Option<u64>)> = BTreeMap::new();
        let mut newest = cursor;
        let mut page_cursor: Option<String> = None;
        let mut complete = false;
        for _ in 0..self.settings.max_pages {
            let page = match self.github.deliveries(page_cursor.as_deref()).await {
                Ok(page) => page,
                Err(e) => {
                    report.errors.push(format!("delivery log: {e}"));
                    break;
                }
            };
            let mut reached_end = page.next_cursor.is_none();
            for delivery in page.deliveries {
                let seen_before = cursor.is_some_and(|c| delivery.id <= c);
                let too_old = cursor.is_none() && delivery.delivered_ms < oldest_ms;
                if seen_before || too_old {
                    reached_end = true;
                    break;
                }
                report.read += 1;
                if delivery.delivered_ms <= settled_ms {
                    newest = newest.max(Some(delivery.id));
                }
                let entry = by_guid.entry(delivery.guid).or_default();
                if delivery.ok {
                    entry.0 = true;
                } else if delivery.event == "workflow_job" {
                    entry.1 = entry.1.max(Some(delivery.id));
                }
            }
            if reached_end {
                complete = true;
                break;
            }
            page_cursor = page.next_cursor;
        }

        let mut all_asked = true;
        for (guid, (succeeded, failed)) in by_guid {
            let Some(delivery_id) = failed.filter(|_| !succeeded) else {
                continue;
            };
            match self.store.delivery_seen(&guid).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => {
                    report.errors.push(format!("store: {e}"));
                    all_asked = false;
                    continue;
                }
            }
            let asked_key = format!("{ASKED_PREFIX}{guid}");
            let asked = match self.store.get_meta(&asked_key).await {
                Ok(asked) => asked.and_then(|a| a.parse::<u32>().ok()).unwrap_or(0),
                Err(e) => {
                    report.errors.push(format!("store: {e}"));
                    all_asked = false;
                    continue;
                }
            };
            if asked >= self.settings.max_redeliveries {
                report.given_up += 1;
                continue;
            }
            // Counted before asking: a crash in between asks once less, never once more.
            if let Err(e) = self
                .store
                .put_meta(&asked_key, &(asked + 1).to_string())
                .await
            {
                report.errors.push(format!("store: {e}"));
                all_asked = false;
                continue;
            }
            match self.github.redeliver(delivery_id).await {
                Ok(()) => {
                    info!(
                        delivery = guid,
                        delivery_id, "asked GitHub to redeliver a failed delivery"
                    );
                    report.redelivered.push(delivery_id);
                }
                Err(e) => {
                    report.errors.push(format!("redeliver {delivery_id}: {e}"));
                    all_asked = false;
                }
            }
        }
        // The cursor moves only past a log read to its end and fully acted on.
        if complete
            && all_asked
            && newest != cursor
            && let Some(newest) = newest
            && let Err(e) = self.store.put_meta(CURSOR, &newest.to_string()).await
        {
            report.errors.push(format!("store: {e}"));
        }
        report
    }
}
