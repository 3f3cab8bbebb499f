//! The installation-token cache: one token per installation and scope, shared by all callers.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::models::{InstallationToken, Permissions};

/// What an installation token may reach. The default, empty scope asks for everything the
/// installation was granted.
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

    pub fn is_all(&self) -> bool {
        self.repositories.is_empty() && self.permissions.is_empty()
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
