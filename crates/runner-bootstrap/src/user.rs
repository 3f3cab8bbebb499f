//! Which user the runner runs as.

use std::path::PathBuf;

use crate::Error;
use crate::settings::DEFAULT_RUNNER_USER;

#[cfg(test)]
mod tests;

/// A user account as found in the user database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: PathBuf,
}

/// The decision: keep the entrypoint's identity or switch to an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunAs {
    /// The entrypoint already runs as a non-root user: the runner runs as that user too.
    Current { uid: u32 },
    /// Switch to this account before starting the runner (the entrypoint is root).
    Account(Account),
    /// Stay root; only with `RUNNER_ALLOW_RUNASROOT`.
    Root,
}

impl RunAs {
    /// Uid and gid to set on the child, when switching.
    pub fn switch_to(&self) -> Option<(u32, u32)> {
        match self {
            RunAs::Account(a) => Some((a.uid, a.gid)),
            RunAs::Current { .. } | RunAs::Root => None,
        }
    }

    /// The uid the runner will have.
    pub fn uid(&self) -> u32 {
        match self {
            RunAs::Current { uid } => *uid,
            RunAs::Account(a) => a.uid,
            RunAs::Root => 0,
        }
    }

    /// Short description for the diagnosis.
    pub fn describe(&self) -> String {
        match self {
            RunAs::Current { uid } => format!("uid {uid} (the entrypoint's own user)"),
            RunAs::Account(a) => format!("{} (uid {}, gid {})", a.name, a.uid, a.gid),
            RunAs::Root => "root (RUNNER_ALLOW_RUNASROOT is set)".to_owned(),
        }
    }
}

/// Decides the user. `current_uid` is the entrypoint's uid; `lookup` finds an account by name.
///
/// As root: `RUNNER_USER` if set, else the image's `runner` user if it exists, else root when
/// allowed. As non-root: the current user (switching needs root).
pub fn resolve(
    current_uid: u32,
    requested: Option<&str>,
    allow_root: bool,
    lookup: impl Fn(&str) -> Result<Option<Account>, String>,
) -> Result<RunAs, Error> {
    let find = |name: &str| -> Result<Option<Account>, Error> {
        lookup(name).map_err(|reason| Error::RunAsUser {
            user: name.to_owned(),
            reason,
        })
    };
    if current_uid != 0 {
        if let Some(name) = requested {
            let account = find(name)?.ok_or_else(|| Error::RunAsUser {
                user: name.to_owned(),
                reason: "no such user".to_owned(),
            })?;
            if account.uid != current_uid {
                return Err(Error::RunAsUser {
                    user: name.to_owned(),
                    reason: format!(
                        "the entrypoint runs as uid {current_uid} and only root can switch users"
                    ),
                });
            }
        }
        return Ok(RunAs::Current { uid: current_uid });
    }
    let root_or_refuse = || {
        if allow_root {
            Ok(RunAs::Root)
        } else {
            Err(Error::RootNotAllowed)
        }
    };
    match requested {
        Some(name) => match find(name)? {
            None => Err(Error::RunAsUser {
                user: name.to_owned(),
                reason: "no such user".to_owned(),
            }),
            Some(account) if account.uid == 0 => root_or_refuse(),
            Some(account) => Ok(RunAs::Account(account)),
        },
        None => match find(DEFAULT_RUNNER_USER)? {
            Some(account) if account.uid != 0 => Ok(RunAs::Account(account)),
            _ => root_or_refuse(),
        },
    }
}

/// Looks an account up in the system user database (`getpwnam`).
pub fn lookup_system(name: &str) -> Result<Option<Account>, String> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) => Ok(Some(Account {
            name: user.name,
            uid: user.uid.as_raw(),
            gid: user.gid.as_raw(),
            home: user.dir,
        })),
        Ok(None) => Ok(None),
        Err(errno) => Err(format!("user database lookup failed: {errno}")),
    }
}

/// The uid of the calling process.
pub fn current_uid() -> u32 {
    nix::unistd::getuid().as_raw()
}
