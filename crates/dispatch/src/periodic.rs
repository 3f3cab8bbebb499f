//! The one loop behind every periodic task (reconciler, sweeper, check runs, probes, pruning).

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Runs `pass` now (when `at_once`) and then after every `interval`, until `shutdown`; a
/// shutdown during the sleep returns at once, one during a pass after it.
pub async fn every<F, Fut>(
    interval: Duration,
    at_once: bool,
    shutdown: &CancellationToken,
    mut pass: F,
) where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    if at_once {
        pass().await;
    }
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = shutdown.cancelled() => return,
        }
        pass().await;
    }
}
