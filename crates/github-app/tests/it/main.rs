//! github-app against `testkit::FakeGitHub`.

mod app;
mod errors;
mod lists;
mod repo;
mod runners;
mod scopes;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use github_app::{
    AppIdentity, ClientConfig, GitHubAppClient, ManualClock, RepoRef, RetryPolicy, RunnerScope,
};
use secrecy::SecretString;
use testkit::FakeGitHub;
use testkit::github::{APP_ID, keys};

/// The installation every test uses.
pub const INSTALLATION: u64 = 77;

/// A fake with one installation on `octo-org` covering `hello` and `world`, a client on a manual
/// clock, and fast retries.
pub struct Setup {
    pub fake: FakeGitHub,
    pub client: GitHubAppClient,
    pub clock: Arc<ManualClock>,
}

impl Setup {
    pub fn start() -> Self {
        Self::on(FakeGitHub::start())
    }

    pub fn on(fake: FakeGitHub) -> Self {
        fake.add_installation(
            INSTALLATION,
            "octo-org",
            &["octo-org/hello", "octo-org/world"],
        );
        let clock = Arc::new(ManualClock::starting_now());
        let client = GitHubAppClient::new(config(&fake, clock.clone())).unwrap();
        Self {
            fake,
            client,
            clock,
        }
    }

    /// Moves both the client's and the fake's clocks.
    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
        self.fake.advance_time(by);
    }
}

pub fn config(fake: &FakeGitHub, clock: Arc<ManualClock>) -> ClientConfig {
    ClientConfig::new(
        AppIdentity::AppId(APP_ID),
        SecretString::from(keys::APP_PRIVATE_KEY_PKCS1),
    )
    .with_base_url(&fake.base_url())
    .unwrap()
    .with_clock(clock)
    .with_retry(fast_retries())
    .with_timeout(Duration::from_secs(5))
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        max_rate_limit_wait: Duration::from_secs(2),
    }
}

pub fn hello() -> RepoRef {
    RepoRef::new("octo-org", "hello")
}

pub fn hello_scope() -> RunnerScope {
    RunnerScope::Repo(hello())
}
