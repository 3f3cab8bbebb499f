//! Detecting that the runner has started a job.
//!
//! The runner runs the script named by `ACTIONS_RUNNER_HOOK_JOB_STARTED` before the first step
//! of a job (with `bash -e`, or `sh -e` without bash). The entrypoint writes a small script that
//! creates a marker file and then runs any hook the image had set, and watches for the marker.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::settings::vars;

#[cfg(test)]
mod tests;

const SCRIPT_NAME: &str = "job-started.sh";
const MARKER_NAME: &str = "job-started";

/// The installed hook; its directory is removed when this is dropped.
#[derive(Debug)]
pub struct JobStartHook {
    dir: tempfile::TempDir,
    script: PathBuf,
    marker: PathBuf,
}

impl JobStartHook {
    /// Writes the hook into a fresh directory under `base`. `owner` is the uid/gid the runner
    /// will have when it differs from the entrypoint's: only the marker directory is theirs, the
    /// script stays read-only to them.
    pub fn install(
        base: &Path,
        chained: Option<&Path>,
        owner: Option<(u32, u32)>,
    ) -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("ferry-runner-")
            .tempdir_in(base)
            .map_err(|e| {
                Error::io(
                    format!("cannot create a state directory in {}", base.display()),
                    e,
                )
            })?;
        set_mode(dir.path(), 0o755)?;
        let marker_dir = dir.path().join("marker");
        fs::create_dir(&marker_dir)
            .map_err(|e| Error::io(format!("cannot create {}", marker_dir.display()), e))?;
        set_mode(&marker_dir, 0o755)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&marker_dir, Some(uid), Some(gid)).map_err(|e| {
                Error::io(
                    format!("cannot hand {} to uid {uid}", marker_dir.display()),
                    e,
                )
            })?;
        }
        let marker = marker_dir.join(MARKER_NAME);
        let script = dir.path().join(SCRIPT_NAME);
        fs::write(&script, script_text(&marker, chained))
            .map_err(|e| Error::io(format!("cannot write {}", script.display()), e))?;
        set_mode(&script, 0o755)?;
        Ok(JobStartHook {
            dir,
            script,
            marker,
        })
    }

    /// The value for `ACTIONS_RUNNER_HOOK_JOB_STARTED`.
    pub fn script(&self) -> &Path {
        &self.script
    }

    /// The directory holding the hook.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// True while the marker exists: the runner has run the hook, i.e. a job has started. A job
    /// step can delete the marker, so a caller latches the first true.
    pub fn job_started(&self) -> bool {
        self.marker.exists()
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), Error> {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io(format!("cannot set permissions of {}", path.display()), e))
}

/// The hook script. Creating the marker must never fail the job, a chained hook may.
pub fn script_text(marker: &Path, chained: Option<&Path>) -> String {
    let mut text = String::from(
        "#!/bin/sh\n# Written by Ferry's runner-entrypoint: tells it that this runner has started a job.\n",
    );
    text.push_str(&format!(
        "touch {} 2>/dev/null || true\n",
        shell_quote(&marker.to_string_lossy())
    ));
    if let Some(hook) = chained {
        let hook = shell_quote(&hook.to_string_lossy());
        text.push_str("# The image's own job-started hook, run the way the runner would run it.\n");
        text.push_str(&format!(
            "if command -v bash >/dev/null 2>&1; then exec bash -e {hook}; else exec sh -e {hook}; fi\n"
        ));
    }
    text
}

/// Quotes for POSIX sh with single quotes.
pub fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The job-started hook set in the runner's `.env` file, if any. The listener loads `.env`
/// over its environment, so such a hook replaces the entrypoint's one.
pub fn hook_in_dotenv(runner_dir: &Path) -> Option<String> {
    let text = fs::read_to_string(runner_dir.join(".env")).ok()?;
    text.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key == vars::HOOK_JOB_STARTED).then(|| value.to_owned())
    })
}
