//! The clock `update` reads: the system's in the runner, one that moves only when told in
//! tests, so toasts, row ages and the time verification runs at are all testable without
//! sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

pub trait Clock: Send + Sync {
    /// Monotonic time, for durations (toasts, row ages, ticks).
    fn now(&self) -> Instant;
    /// Wall time, for verification and the message log.
    fn utc(&self) -> DateTime<Utc>;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn utc(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Stands still at a given wall time until [`ManualClock::advance`] moves both readings.
pub struct ManualClock {
    start: Instant,
    utc: DateTime<Utc>,
    elapsed: Mutex<Duration>,
}

impl ManualClock {
    pub fn at(utc: DateTime<Utc>) -> Self {
        ManualClock { start: Instant::now(), utc, elapsed: Mutex::new(Duration::ZERO) }
    }

    pub fn advance(&self, by: Duration) {
        *self.elapsed.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }

    fn elapsed(&self) -> Duration {
        *self.elapsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.elapsed()
    }

    fn utc(&self) -> DateTime<Utc> {
        self.utc + chrono::Duration::from_std(self.elapsed()).unwrap_or(chrono::Duration::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_both_readings_together() {
        let t = DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        let c = ManualClock::at(t);
        let before = c.now();
        assert_eq!(c.utc(), t);
        c.advance(Duration::from_secs(90));
        assert_eq!(c.now() - before, Duration::from_secs(90));
        assert_eq!(c.utc(), t + chrono::Duration::seconds(90));
    }
}
