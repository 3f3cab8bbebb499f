//! The two runner steps: `config.sh` (registration token only) and `run.sh`.
//!
//! Credentials travel in the runner's `ACTIONS_RUNNER_INPUT_*` variables, never in argv: the
//! listener reads every `ACTIONS_RUNNER_INPUT_<ARG>` as if `--<arg>` had been given and removes
//! them from its environment before it starts the worker that runs the steps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::Error;
use crate::settings::{Credential, Registration, Settings, expose, vars};
use crate::supervisor::Launch;

#[cfg(test)]
mod tests;

pub const CONFIG_SCRIPT: &str = "config.sh";
pub const RUN_SCRIPT: &str = "run.sh";

/// Checks that the runner directory has the scripts the chosen mode needs.
pub fn check_runner_dir(settings: &Settings) -> Result<(), Error> {
    let dir = &settings.runner_dir;
    let mut needed = vec![RUN_SCRIPT];
    if matches!(settings.credential, Credential::Registration(_)) {
        needed.push(CONFIG_SCRIPT);
    }
    if !dir.is_dir() {
        return Err(Error::RunnerDir {
            dir: dir.clone(),
            reason: "does not exist; install the runner there or set RUNNER_DIR".to_owned(),
        });
    }
    for script in needed {
        if !is_executable(&dir.join(script)) {
            return Err(Error::RunnerDir {
                dir: dir.clone(),
                reason: format!("{script} is missing or not executable"),
            });
        }
    }
    Ok(())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// `config.sh` for an ephemeral, unattended registration. The token goes in
/// `ACTIONS_RUNNER_INPUT_TOKEN`.
pub fn configure(
    runner_dir: &Path,
    registration: &Registration,
    base_env: &BTreeMap<String, String>,
    switch_to: Option<(u32, u32)>,
) -> Launch {
    let mut args: Vec<String> = vec![
        "--unattended".into(),
        "--url".into(),
        registration.url.clone(),
        "--name".into(),
        registration.name.clone(),
        "--labels".into(),
        registration.labels.join(","),
        "--no-default-labels".into(),
        "--work".into(),
        registration.work_dir.clone(),
        "--ephemeral".into(),
        "--disableupdate".into(),
        "--replace".into(),
    ];
    if let Some(group) = &registration.group {
        args.extend(["--runnergroup".into(), group.clone()]);
    }
    let mut env = base_env.clone();
    env.insert(
        vars::RUNNER_INPUT_TOKEN.to_owned(),
        expose(&registration.token).to_owned(),
    );
    Launch {
        program: runner_dir.join(CONFIG_SCRIPT),
        args,
        env,
        cwd: runner_dir.to_owned(),
        switch_to,
    }
}

/// `run.sh` with the job-started hook and, for JIT, `ACTIONS_RUNNER_INPUT_JITCONFIG`.
pub fn run(
    runner_dir: &Path,
    credential: &Credential,
    base_env: &BTreeMap<String, String>,
    hook_script: &Path,
    switch_to: Option<(u32, u32)>,
) -> Launch {
    let mut env = base_env.clone();
    env.insert(
        vars::HOOK_JOB_STARTED.to_owned(),
        hook_script.to_string_lossy().into_owned(),
    );
    if let Credential::Jit(config) = credential {
        env.insert(
            vars::RUNNER_INPUT_JITCONFIG.to_owned(),
            expose(config).to_owned(),
        );
    }
    Launch {
        program: runner_dir.join(RUN_SCRIPT),
        args: Vec::new(),
        env,
        cwd: PathBuf::from(runner_dir),
        switch_to,
    }
}
