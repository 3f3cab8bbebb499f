//! When GitHub and HF last answered, and what stops launches now: the basis of `/readyz`.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

/// Last successful contact with each service, and the credential or account problems that
/// hold jobs back.
#[derive(Debug, Default)]
pub struct Health {
    github_ok_ms: AtomicI64,
    hf_ok_ms: AtomicI64,
    problems: Mutex<BTreeMap<Problem, String>>,
}

/// The services the dispatcher depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    GitHub,
    Hf,
}

impl std::fmt::Display for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Service::GitHub => "GitHub",
            Service::Hf => "HF Jobs",
        })
    }
}

/// Where a problem was seen: a sign-in probe clears only what a probe found, and a launch
/// only what a launch found (a token may sign in and still lack credits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Problem {
    SignIn(Service),
    Launch(Service),
}

impl Health {
    pub fn record_ok(&self, service: Service, now_ms: i64) {
        self.slot(service).fetch_max(now_ms, Ordering::Relaxed);
    }

    pub fn last_ok_ms(&self, service: Service) -> Option<i64> {
        let at = self.slot(service).load(Ordering::Relaxed);
        (at > 0).then_some(at)
    }

    /// True when the service answered within `window_ms` of `now_ms`.
    pub fn is_recent(&self, service: Service, now_ms: i64, window_ms: i64) -> bool {
        self.last_ok_ms(service)
            .is_some_and(|at| now_ms - at <= window_ms)
    }

    pub fn set_problem(&self, problem: Problem, message: String) {
        self.problems.lock().unwrap().insert(problem, message);
    }

    pub fn clear_problem(&self, problem: Problem) {
        self.problems.lock().unwrap().remove(&problem);
    }

    /// What stops launches now, one line each.
    pub fn problems(&self) -> Vec<String> {
        self.problems.lock().unwrap().values().cloned().collect()
    }

    fn slot(&self, service: Service) -> &AtomicI64 {
        match service {
            Service::GitHub => &self.github_ok_ms,
            Service::Hf => &self.hf_ok_ms,
        }
    }
}
