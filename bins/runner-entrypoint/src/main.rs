//! The `runner-entrypoint` binary: runs one ephemeral GitHub Actions runner in an HF Job.
//!
//! It reads its inputs from the environment (see `docs/runner.md`), prints a short diagnosis,
//! configures the runner when given a registration token, starts `run.sh` with a scrubbed
//! environment and supervises it. The exit code says what happened (`runner_bootstrap::exit_code`).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use runner_bootstrap::diagnosis::{self, Diagnosis};
use runner_bootstrap::environment::{DEFAULT_PATH, runner_environment};
use runner_bootstrap::hook::{self, JobStartHook};
use runner_bootstrap::settings::vars;
use runner_bootstrap::user::{self, RunAs};
use runner_bootstrap::{
    Credential, Error, Outcome, Settings, StopReason, Supervisor, exit_code, launch,
};

fn main() {
    let env = process_environment();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            say(&format!("cannot start the async runtime: {e}"));
            std::process::exit(exit_code::INTERNAL);
        }
    };
    let code = runtime.block_on(run(env));
    std::process::exit(code);
}

/// Prefix of every line the entrypoint writes, so they stand out in the job log.
fn say(message: &str) {
    eprintln!("ferry-runner: {message}");
}

/// The environment as UTF-8 pairs; other entries cannot be settings and are skipped.
fn process_environment() -> BTreeMap<String, String> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect()
}

fn default_runner_name(env: &BTreeMap<String, String>) -> String {
    let host = env
        .get("HOSTNAME")
        .cloned()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "runner".to_owned());
    let epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut name = format!("ferry-{host}-{epoch}");
    name.truncate(64);
    name
}

fn fail(error: &Error) -> i32 {
    if error.is_configuration() {
        say(&format!("configuration error: {error}"));
        exit_code::CONFIG_ERROR
    } else {
        say(&format!("error: {error}"));
        exit_code::INTERNAL
    }
}

fn describe_stop(reason: StopReason, settings: &Settings) -> String {
    let secs =
        |d: Option<std::time::Duration>| durations::format_seconds(d.map_or(0, |d| d.as_secs()));
    match reason {
        StopReason::Signal(signal) => format!("stopped the runner after receiving {signal}"),
        StopReason::IdleTimeout => {
            format!(
                "stopped the runner: no job started within {} (RUNNER_IDLE_TIMEOUT)",
                secs(settings.idle_timeout)
            )
        }
        StopReason::MaxLifetime => {
            format!(
                "stopped the runner: maximum lifetime {} reached (RUNNER_MAX_LIFETIME)",
                secs(settings.max_lifetime)
            )
        }
    }
}

async fn run(env: BTreeMap<String, String>) -> i32 {
    let settings = match Settings::from_env(&env, &default_runner_name(&env)) {
        Ok(settings) => settings,
        Err(e) => return fail(&e),
    };
    // Signals first: an HF cancel during the diagnosis must still be honoured.
    let mut supervisor = match Supervisor::new(settings.max_lifetime, settings.stop_grace) {
        Ok(supervisor) => supervisor,
        Err(e) => return fail(&e),
    };
    // Orphans of the runner (a listener whose run.sh died) become ours to reap and to wait for.
    if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
        say(&format!(
            "warning: cannot become a child subreaper ({e}); stray runner processes may be missed"
        ));
    }
    let current_uid = user::current_uid();
    let run_as = match user::resolve(
        current_uid,
        settings.user.as_deref(),
        settings.allow_root,
        user::lookup_system,
    ) {
        Ok(run_as) => run_as,
        Err(e) => return fail(&e),
    };
    if let Err(e) = launch::check_runner_dir(&settings) {
        return fail(&e);
    }
    let base_env = runner_environment(&env, &settings.passthrough, &run_as);
    let dotenv_hook = hook::hook_in_dotenv(&settings.runner_dir);

    let path = base_env.get("PATH").map_or(DEFAULT_PATH, String::as_str);
    let mut report = diagnosis::machine(&settings.runner_dir, path);
    add_settings_facts(
        &mut report,
        &settings,
        &run_as,
        current_uid,
        dotenv_hook.is_some(),
    );
    for line in report.to_string().lines() {
        say(line);
    }

    let switch_to = run_as.switch_to();
    let job_hook = match JobStartHook::install(
        &settings.state_dir,
        settings.existing_job_started_hook.as_deref(),
        switch_to,
    ) {
        Ok(hook) => hook,
        Err(e) => return fail(&e),
    };

    if let Credential::Registration(registration) = &settings.credential {
        say(&format!(
            "registering runner '{}' at {} (config.sh)",
            registration.name, registration.url
        ));
        let configure = launch::configure(&settings.runner_dir, registration, &base_env, switch_to);
        match supervisor.run(&configure, None).await {
            Ok(Outcome::Exited(0)) => {}
            Ok(Outcome::Stopped(reason)) => {
                say(&describe_stop(reason, &settings));
                return reason.exit_code();
            }
            Ok(Outcome::Exited(code)) => {
                say(&format!(
                    "config.sh failed with exit code {code}; the runner was not started"
                ));
                return exit_code::CONFIGURE_FAILED;
            }
            Ok(Outcome::Killed(signal)) => {
                say(&format!(
                    "config.sh was killed by {signal}; the runner was not started"
                ));
                return exit_code::CONFIGURE_FAILED;
            }
            Err(e) => return fail(&e),
        }
    }

    let idle = settings
        .idle_timeout
        .filter(|_| dotenv_hook.is_none())
        .map(|timeout| (timeout, &job_hook));
    let run = launch::run(
        &settings.runner_dir,
        &settings.credential,
        &base_env,
        job_hook.script(),
        switch_to,
    );
    say("starting the runner (run.sh)");
    let code = match supervisor.run(&run, idle).await {
        Ok(Outcome::Exited(code)) => {
            say(&format!("the runner exited with code {code}"));
            code
        }
        Ok(Outcome::Killed(signal)) => {
            say(&format!("the runner was killed by {signal}"));
            exit_code::signal(signal)
        }
        Ok(Outcome::Stopped(reason)) => {
            say(&describe_stop(reason, &settings));
            reason.exit_code()
        }
        Err(e) => fail(&e),
    };
    drop(job_hook);
    code
}

fn add_settings_facts(
    report: &mut Diagnosis,
    settings: &Settings,
    run_as: &RunAs,
    current_uid: u32,
    dotenv_hook: bool,
) {
    let limit = |d: Option<std::time::Duration>| match d {
        Some(d) => durations::format_seconds(d.as_secs()),
        None => "none".to_owned(),
    };
    report.fact(
        "runner directory",
        settings.runner_dir.display().to_string(),
    );
    report.fact("credential", settings.mode());
    report.fact("runs as", run_as.describe());
    report.fact("idle timeout", limit(settings.idle_timeout));
    report.fact("max lifetime", limit(settings.max_lifetime));
    if !settings.ignored.is_empty() {
        report.warn(format!(
            "ignored with a JIT config (it carries its own): {}",
            settings.ignored.join(", ")
        ));
    }
    if dotenv_hook {
        report.warn(format!(
            "{}/.env sets {}, which replaces the entrypoint's hook: the idle timeout is disabled",
            settings.runner_dir.display(),
            vars::HOOK_JOB_STARTED
        ));
    }
    match run_as {
        RunAs::Root => report.warn("the runner runs as root: job steps can read everything in this container"),
        RunAs::Current { .. } if current_uid != 0 => report.warn(
            "the entrypoint is not root, so job steps run as its user and could read its original \
             environment from /proc; start the container as root and let it switch to the runner user",
        ),
        _ => {}
    }
}
