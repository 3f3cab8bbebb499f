//! When GitHub and HF last answered: the basis of `/readyz`.

use std::sync::atomic::{AtomicI64, Ordering};

/// Last successful contact with each service, in Unix milliseconds (0: never).
#[derive(Debug, Default)]
pub struct Health {
    github_ok_ms: AtomicI64,
    hf_ok_ms: AtomicI64,
}

/// The services the dispatcher depends on.
#[derive(Debug, Clone, Copy)]
pub enum Service {
    GitHub,
    Hf,
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

    fn slot(&self, service: Service) -> &AtomicI64 {
        match service {
            Service::GitHub => &self.github_ok_ms,
            Service::Hf => &self.hf_ok_ms,
        }
    }
}
