//! The status line, toasts and the message log: what the app says, and for how long.

use std::time::{Duration, Instant};

use super::App;

/// How long a toast stays.
const TOAST_FOR: Duration = Duration::from_secs(3);

/// Messages kept; the oldest go first.
pub const MAX_MESSAGES: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Info,
    Warning,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub level: Severity,
    pub text: String,
}

/// One status message as it was shown, kept for the message log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub at: chrono::DateTime<chrono::Local>,
    pub status: Status,
}

/// Messages kept; the oldest go first.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub expires: Instant,
}

/// What the app has said: the status line, a toast, and every message of the run.
#[derive(Default)]
pub struct Notices {
    pub status: Option<Status>,
    pub toast: Option<Toast>,
    /// Every status message of the run, for `M` / `:messages`.
    pub messages: Vec<LogEntry>,
}

impl App {
    pub(super) fn set_status(&mut self, level: Severity, text: String) {
        let status = Status { level, text };
        self.log(status.clone());
        self.notices.status = Some(status);
        self.dirty = true;
    }

    pub(super) fn log(&mut self, status: Status) {
        if self.notices.messages.len() >= MAX_MESSAGES {
            self.notices.messages.remove(0);
        }
        self.notices.messages.push(LogEntry { at: self.clock.utc().with_timezone(&chrono::Local), status });
    }

    pub(super) fn show_toast(&mut self, text: String) {
        self.notices.toast = Some(Toast { text, expires: self.clock.now() + TOAST_FOR });
        self.dirty = true;
    }
}
