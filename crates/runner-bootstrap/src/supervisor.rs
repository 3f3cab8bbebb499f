//! Runs one runner script as a child in its own process group and supervises it.
//!
//! SIGTERM and SIGINT sent to the entrypoint (an HF cancel) are forwarded to the whole group,
//! the idle timeout and the maximum lifetime stop it the same way, and SIGKILL follows after the
//! grace period. The supervisor reaps every child (`waitpid(-1)`), so the entrypoint can be PID 1
//! or a child subreaper; it must not run other children at the same time.

use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;
use tokio::signal::unix::{SignalKind, signal};

use crate::Error;
use crate::hook::JobStartHook;

/// Exit codes of the entrypoint (documented in `docs/runner.md`).
pub mod exit_code {
    /// `config.sh` failed: the registration was refused or the runner could not configure.
    pub const CONFIGURE_FAILED: i32 = 70;
    /// The entrypoint could not prepare or start the runner (OS-level failure).
    pub const INTERNAL: i32 = 71;
    /// Missing or invalid inputs, or an unusable image (runner directory, user).
    pub const CONFIG_ERROR: i32 = 78;
    /// No job started within the idle timeout.
    pub const IDLE_TIMEOUT: i32 = 79;
    /// The maximum lifetime was reached (the code `timeout(1)` uses).
    pub const MAX_LIFETIME: i32 = 124;

    /// `128 + signal number`, as shells report a signal.
    pub fn signal(signal: nix::sys::signal::Signal) -> i32 {
        128 + signal as i32
    }
}

/// How long to wait for the group to vanish after SIGKILL before giving up.
const AFTER_KILL_WAIT: Duration = Duration::from_secs(5);
/// How often timers and the job-started marker are checked.
const TICK: Duration = Duration::from_millis(100);

/// One program to run: a runner script with its arguments and complete environment.
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The complete environment; nothing else is inherited.
    pub env: BTreeMap<String, String>,
    pub cwd: PathBuf,
    /// Uid and gid to switch to in the child.
    pub switch_to: Option<(u32, u32)>,
}

impl fmt::Debug for Launch {
    // Environment values may be credentials: show names only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Launch")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &self.env.keys().collect::<Vec<_>>())
            .field("cwd", &self.cwd)
            .field("switch_to", &self.switch_to)
            .finish()
    }
}

/// Why the supervisor stopped the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// The entrypoint received this signal and forwarded it.
    Signal(Signal),
    /// No job started within the idle timeout.
    IdleTimeout,
    /// The maximum lifetime was reached.
    MaxLifetime,
}

impl StopReason {
    pub fn exit_code(self) -> i32 {
        match self {
            StopReason::Signal(signal) => exit_code::signal(signal),
            StopReason::IdleTimeout => exit_code::IDLE_TIMEOUT,
            StopReason::MaxLifetime => exit_code::MAX_LIFETIME,
        }
    }
}

/// How a supervised program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It exited by itself with this code.
    Exited(i32),
    /// It died from a signal the supervisor did not send.
    Killed(Signal),
    /// The supervisor stopped it.
    Stopped(StopReason),
}

impl Outcome {
    /// The entrypoint's exit code for the runner step: the runner's own code when it ended by
    /// itself, otherwise the code of the reason.
    pub fn exit_code(self) -> i32 {
        match self {
            Outcome::Exited(code) => code,
            Outcome::Killed(signal) => exit_code::signal(signal),
            Outcome::Stopped(reason) => reason.exit_code(),
        }
    }
}

/// Forwards signals and enforces the lifetime across the configure and run steps.
pub struct Supervisor {
    sigterm: tokio::signal::unix::Signal,
    sigint: tokio::signal::unix::Signal,
    sigchld: tokio::signal::unix::Signal,
    deadline: Option<Instant>,
    stop_grace: Duration,
}

impl Supervisor {
    /// Installs the signal handlers; call it early, inside a Tokio runtime. The maximum
    /// lifetime counts from now.
    pub fn new(max_lifetime: Option<Duration>, stop_grace: Duration) -> Result<Self, Error> {
        let install = |kind: SignalKind| {
            signal(kind)
                .map_err(|e| Error::Supervise(format!("cannot install a signal handler: {e}")))
        };
        Ok(Supervisor {
            sigterm: install(SignalKind::terminate())?,
            sigint: install(SignalKind::interrupt())?,
            sigchld: install(SignalKind::child())?,
            deadline: max_lifetime.map(|d| Instant::now() + d),
            stop_grace,
        })
    }

    /// A stop requested before a step starts (a signal received meanwhile, or the lifetime
    /// already over): the next step must not start.
    pub async fn pending_stop(&mut self) -> Option<StopReason> {
        let signal = tokio::select! {
            biased;
            _ = self.sigterm.recv() => Some(Signal::SIGTERM),
            _ = self.sigint.recv() => Some(Signal::SIGINT),
            _ = std::future::ready(()) => None,
        };
        if let Some(signal) = signal {
            return Some(StopReason::Signal(signal));
        }
        self.deadline
            .filter(|d| Instant::now() >= *d)
            .map(|_| StopReason::MaxLifetime)
    }

    /// Runs `launch` to its end. With `idle`, the runner is stopped when the hook has not seen
    /// a job start within the duration; once seen, a job counts as started until the end.
    pub async fn run(
        &mut self,
        launch: &Launch,
        idle: Option<(Duration, &JobStartHook)>,
    ) -> Result<Outcome, Error> {
        if let Some(reason) = self.pending_stop().await {
            return Ok(Outcome::Stopped(reason));
        }
        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .env_clear()
            .envs(&launch.env)
            .current_dir(&launch.cwd)
            .stdin(Stdio::null())
            .process_group(0);
        if let Some((uid, gid)) = launch.switch_to {
            // std drops supplementary groups when it changes the uid as root.
            command.gid(gid).uid(uid);
        }
        let child = command.spawn().map_err(|source| Error::Spawn {
            program: launch.program.clone(),
            source,
        })?;
        let pid = Pid::from_raw(child.id() as i32);
        // The group id is the child's pid (process_group(0)); reaping goes through waitpid
        // below, so the std handle is not used again.
        drop(child);

        let started = Instant::now();
        let mut ended: Option<Outcome> = None;
        let mut stop: Option<(StopReason, Instant)> = None;
        let mut give_up_at: Option<Instant> = None;
        // Latched, never reset: a job step may delete the marker (say, by cleaning /tmp), and
        // that must not make a busy runner look idle.
        let mut job_started = false;
        let mut tick = tokio::time::interval(TICK);
        loop {
            reap(pid, &mut ended)?;
            if let Some(outcome) = ended {
                match stop {
                    // Ended by itself: nothing of the group may outlive it.
                    None => {
                        let _ = killpg(pid, Signal::SIGKILL);
                        return Ok(outcome);
                    }
                    // Stopping: wait until every process of the group has gone (the listener
                    // may outlive a shell wrapper that died at once).
                    Some((reason, _)) if group_is_empty(pid) => {
                        return Ok(Outcome::Stopped(reason));
                    }
                    Some(_) => {}
                }
            }
            let now = Instant::now();
            // Polled on every tick, not only once the timeout is due: a marker deleted before
            // then must still have been seen.
            if let Some((_, hook)) = idle
                && !job_started
            {
                job_started = hook.job_started();
            }
            if stop.is_none() {
                let reason = if self.deadline.is_some_and(|d| now >= d) {
                    Some((StopReason::MaxLifetime, Signal::SIGTERM))
                } else if let Some((timeout, _)) = idle
                    && !job_started
                    && now.duration_since(started) >= timeout
                {
                    // SIGINT is the runner's graceful stop (what run.sh forwards itself).
                    Some((StopReason::IdleTimeout, Signal::SIGINT))
                } else {
                    None
                };
                if let Some((reason, signal)) = reason {
                    forward(pid, signal);
                    stop = Some((reason, now + self.stop_grace));
                }
            }
            if let Some((reason, kill_at)) = stop {
                match give_up_at {
                    None if now >= kill_at => {
                        forward(pid, Signal::SIGKILL);
                        give_up_at = Some(now + AFTER_KILL_WAIT);
                    }
                    Some(at) if now >= at => {
                        if let Some(Outcome::Exited(_) | Outcome::Killed(_)) = ended {
                            return Ok(Outcome::Stopped(reason));
                        }
                        return Err(Error::Supervise(format!(
                            "process group {pid} survived SIGKILL for {}s",
                            AFTER_KILL_WAIT.as_secs()
                        )));
                    }
                    _ => {}
                }
            }
            let received = tokio::select! {
                _ = self.sigterm.recv() => Some(Signal::SIGTERM),
                _ = self.sigint.recv() => Some(Signal::SIGINT),
                _ = self.sigchld.recv() => None,
                _ = tick.tick() => None,
            };
            if let Some(signal) = received {
                forward(pid, signal);
                if stop.is_none() {
                    stop = Some((StopReason::Signal(signal), Instant::now() + self.stop_grace));
                }
            }
        }
    }
}

/// Sends `signal` to the group; a group that has already gone is fine.
fn forward(group: Pid, signal: Signal) {
    let _ = killpg(group, signal);
}

fn group_is_empty(group: Pid) -> bool {
    killpg(group, None) == Err(Errno::ESRCH)
}

/// Reaps every exited child (orphans included) and records how `pid` ended.
fn reap(pid: Pid, ended: &mut Option<Outcome>) -> Result<(), Error> {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(p, code)) if p == pid => *ended = Some(Outcome::Exited(code)),
            Ok(WaitStatus::Signaled(p, signal, _)) if p == pid => {
                *ended = Some(Outcome::Killed(signal))
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return Ok(()),
            Ok(_) | Err(Errno::EINTR) => {}
            Err(e) => return Err(Error::Supervise(format!("waitpid failed: {e}"))),
        }
    }
}
