//! The installation-token cache: one token per installation and scope, shared by all callers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::models::{InstallationToken, Permissions, RepoRef, RunnerScope};

/// The names and levels of the App permissions Ferry's calls need, as GitHub spells them.
pub mod permission {
    /// Repository: workflow runs and jobs (`GET .../actions/runs`, `.../actions/jobs`).
    pub const ACTIONS: &str = "actions";
    /// Repository: settings, collaborators and self-hosted runners of the repository.
    pub const ADMINISTRATION: &str = "administration";
    /// Repository: check runs.
    pub const CHECKS: &str = "checks";
    /// Repository: names and visibility of the repositories; every installation has it.
    pub const METADATA: &str = "metadata";
    /// Organisation: the organisation's self-hosted runners and runner groups.
    pub const ORGANIZATION_SELF_HOSTED_RUNNERS: &str = "organization_self_hosted_runners";
    pub const READ: &str = "read";
    pub const WRITE: &str = "write";
}

/// What an installation token may reach. The default, empty scope asks for everything the
/// installation was granted; [`GitHubAppClient`](crate::GitHubAppClient) never uses it: each
/// of its calls asks for the narrowest scope that serves it ([`TokenScope::runners`],
/// [`TokenScope::actions`], [`TokenScope::checks`], [`TokenScope::metadata`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct TokenScope {
    /// Repository names without the owner; empty means every repository of the installation.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    repositories: Vec<String>,
    /// Permissions to narrow to; empty means all of the installation's.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    permissions: Permissions,
}

impl TokenScope {
    /// Everything the installation was granted.
    pub fn all() -> Self {
        Self::default()
    }

    /// Narrowed to these repositories (names without the owner).
    pub fn repositories<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.repositories.extend(names.into_iter().map(Into::into));
        // Sorted and deduplicated so equal scopes share one cache entry.
        self.repositories.sort();
        self.repositories.dedup();
        self
    }

    /// Narrowed to this permission at this level (`read`, `write`).
    pub fn permission(mut self, name: impl Into<String>, level: impl Into<String>) -> Self {
        self.permissions.insert(name.into(), level.into());
        self
    }

    /// What the runner endpoints of `scope` need (JIT config, registration token, list, get,
    /// delete): on a repository, Administration (write) on that repository alone; on an
    /// organisation, organisation Self-hosted runners (write) and no repository, since a token
    /// narrowed to repositories cannot act on the organisation.
    ///
    /// One scope for reading and writing: the dispatcher lists, mints and deletes runners on
    /// the same repositories, so a separate read token would double the token requests and
    /// take nothing away from what the process already holds.
    pub fn runners(scope: &RunnerScope) -> Self {
        match scope {
            RunnerScope::Repo(repo) => Self::all()
                .repositories([repo.name.as_str()])
                .permission(permission::ADMINISTRATION, permission::WRITE),
            RunnerScope::Org(_) => Self::all().permission(
                permission::ORGANIZATION_SELF_HOSTED_RUNNERS,
                permission::WRITE,
            ),
        }
    }

    /// What reading a repository's workflow runs and jobs needs: Actions (read) on it alone.
    pub fn actions(repo: &RepoRef) -> Self {
        Self::all()
            .repositories([repo.name.as_str()])
            .permission(permission::ACTIONS, permission::READ)
    }

    /// What creating and updating a repository's check runs needs: Checks (write) on it alone.
    pub fn checks(repo: &RepoRef) -> Self {
        Self::all()
            .repositories([repo.name.as_str()])
            .permission(permission::CHECKS, permission::WRITE)
    }

    /// Metadata (read) on every repository of the installation: enough to list them
    /// (`GET /installation/repositories`) and to read the rate limit, nothing more.
    pub fn metadata() -> Self {
        Self::all().permission(permission::METADATA, permission::READ)
    }

    pub fn is_all(&self) -> bool {
        self.repositories.is_empty() && self.permissions.is_empty()
    }

    /// `administration=write (repositories: ml)`, `metadata=read (repositories: all of the
    /// installation's)`: for messages.
    pub fn describe(&self) -> String {
        let permissions = if self.permissions.is_empty() {
            "every permission of the installation".to_owned()
        } else {
            self.permissions
                .iter()
                .map(|(name, level)| format!("{name}={level}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let repositories = if self.repositories.is_empty() {
            "all of the installation's".to_owned()
        } else {
            self.repositories.join(", ")
        };
        format!("{permissions} (repositories: {repositories})")
    }

    pub fn repository_names(&self) -> &[String] {
        &self.repositories
    }

    pub fn permission_levels(&self) -> &Permissions {
        &self.permissions
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<InstallationToken>>>;

/// Per (installation, scope), an async mutex around the cached token: the first caller holds it
/// while fetching, the others wait and then find the fresh token, so N callers cause one request.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    slots: Mutex<HashMap<(u64, TokenScope), Slot>>,
}

impl TokenCache {
    pub(crate) fn slot(&self, installation_id: u64, scope: &TokenScope) -> Slot {
        let mut slots = self.slots.lock().unwrap();
        slots
            .entry((installation_id, scope.clone()))
            .or_default()
            .clone()
    }

    /// Forgets `rejected` if it is still the cached token (another caller may have replaced it).
    pub(crate) async fn invalidate(
        &self,
        installation_id: u64,
        scope: &TokenScope,
        rejected: &str,
    ) {
        let slot = self.slot(installation_id, scope);
        let mut cached = slot.lock().await;
        if cached
            .as_ref()
            .is_some_and(|t| t.token.expose_secret() == rejected)
        {
            *cached = None;
        }
    }

    /// Forgets every token of an installation (for example after it was suspended).
    pub(crate) fn forget_installation(&self, installation_id: u64) {
        self.slots
            .lock()
            .unwrap()
            .retain(|(id, _), _| *id != installation_id);
    }
}

/// Whether a cached token is still good for at least `margin` from `now`.
pub(crate) fn still_fresh(
    token: &InstallationToken,
    now: Timestamp,
    margin: std::time::Duration,
) -> bool {
    let margin = jiff::SignedDuration::try_from(margin).unwrap_or(jiff::SignedDuration::MAX);
    match now.checked_add(margin) {
        Ok(deadline) => token.expires_at > deadline,
        Err(_) => false,
    }
}
