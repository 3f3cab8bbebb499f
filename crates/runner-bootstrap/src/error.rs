//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can stop the runner from being configured or started.
///
/// Messages name the input and what is wrong with it, never its value: several inputs are
/// credentials.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A required input is not set (or is empty).
    #[error("{name} is not set: {hint}")]
    MissingInput {
        name: &'static str,
        hint: &'static str,
    },
    /// An input is set but cannot be used.
    #[error("{name} is invalid: {reason}")]
    InvalidInput { name: String, reason: String },
    /// Two inputs exclude each other.
    #[error("{first} and {second} are both set: {hint}")]
    ConflictingInputs {
        first: &'static str,
        second: &'static str,
        hint: &'static str,
    },
    /// The runner directory lacks a script the chosen mode needs.
    #[error("runner directory {dir}: {reason}")]
    RunnerDir { dir: PathBuf, reason: String },
    /// The user to run the runner as does not exist or cannot be used.
    #[error("cannot run the runner as user '{user}': {reason}")]
    RunAsUser { user: String, reason: String },
    /// The entrypoint runs as root, the image has no non-root runner user and running as root
    /// was not allowed.
    #[error(
        "refusing to run the runner as root: create a non-root 'runner' user in the image, set \
         RUNNER_USER to an existing non-root user, or set RUNNER_ALLOW_RUNASROOT=1"
    )]
    RootNotAllowed,
    /// A file or directory the entrypoint needs could not be prepared.
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    /// A runner script could not be started.
    #[error("cannot start {program}: {source}")]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    /// Waiting for or signalling the runner failed at the OS level.
    #[error("supervising the runner failed: {0}")]
    Supervise(String),
}

impl Error {
    /// True when the operator's inputs (environment, image) are at fault rather than the
    /// machine: those errors exit with [`crate::exit_code::CONFIG_ERROR`].
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            Error::MissingInput { .. }
                | Error::InvalidInput { .. }
                | Error::ConflictingInputs { .. }
                | Error::RunnerDir { .. }
                | Error::RunAsUser { .. }
                | Error::RootNotAllowed
        )
    }

    pub(crate) fn invalid(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            name: name.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
