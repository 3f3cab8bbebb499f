//! Integration tests of `hf-jobs` against `testkit::FakeHub`.

mod buckets;
mod errors;
mod golden;
mod jobs;
mod logs;
mod scheduled;
mod uv;
#[cfg(feature = "xet")]
mod xet;

use std::time::Duration;

use hf_jobs::jobs::StreamPolicy;
use hf_jobs::{HfClient, SecretString};
use testkit::FakeHub;

pub const TOKEN: &str = "hf_test_token";

pub fn hub() -> FakeHub {
    FakeHub::start(TOKEN, "alice")
}

pub fn client(hub: &FakeHub) -> HfClient {
    HfClient::new(hub.base_url(), SecretString::from(TOKEN)).unwrap()
}

/// Reconnection settings fast enough for tests.
pub fn fast(idle: Duration) -> StreamPolicy {
    StreamPolicy {
        idle_timeout: idle,
        max_retries: 5,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
    }
}

/// How many `whoami-v2` lookups the fake has seen.
pub fn whoami_calls(hub: &FakeHub) -> usize {
    hub.server.requests_to("GET", "/api/whoami-v2").len()
}
