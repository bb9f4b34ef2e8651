//! Typed domain errors. Each renders as a sentence that says what went wrong and what to do.

use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Errors are `Clone` because one failed fetch is cached and shown on every node that shares it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Error {
    /// `rejected`: credentials were sent and refused, so the advice is to check them, not to
    /// pass some.
    #[error("{}", auth_sentence(.target, .detail, *.rejected))]
    Auth { target: String, detail: String, rejected: bool },
    #[error("access denied to {target} ({detail}); the credentials lack permission")]
    Denied { target: String, detail: String },
    #[error("not found: {what}")]
    NotFound { what: String },
    #[error("rate limited by {target} after {attempts} attempts; try again later or lower --concurrency")]
    RateLimited { target: String, attempts: u32 },
    #[error("network error talking to {target}: {detail}")]
    Network { target: String, detail: String },
    /// `detail` is the whole sentence: who did not finish what within which limit (`--timeout`,
    /// `--deadline`).
    #[error("{detail}")]
    Timeout { target: String, detail: String },
    /// Not only registries answer with these: ECR and AWS Signer do too, so the sentence names
    /// the server, not its kind.
    #[error("server error from {target}: HTTP {status}: {detail}")]
    Server { target: String, status: u16, detail: String },
    #[error("unsupported: {what}")]
    Unsupported { what: String },
    #[error(
        "integrity error: {what} has digest {actual}, expected {expected}; the content was altered or the server is lying"
    )]
    Integrity { what: String, expected: String, actual: String },
    #[error("refused {what}: {size} bytes is over the {limit}-byte limit")]
    TooLarge { what: String, size: u64, limit: u64 },
    #[error("malformed {what}: {detail}")]
    Malformed { what: String, detail: String },
    #[error("{0}")]
    Usage(String),
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
}

fn auth_sentence(target: &str, detail: &str, rejected: bool) -> String {
    if rejected {
        format!(
            "{target} rejected the credentials ({detail}); check the user name and password given with --username \
             and --password-stdin, or the docker login for {target}"
        )
    } else {
        format!(
            "authentication required for {target} ({detail}); pass --username with --password-stdin or log in \
             with docker"
        )
    }
}

impl Error {
    /// Exit code of the command-line contract: 2 usage/config, 3 registry/network.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => 2,
            _ => 3,
        }
    }

    /// Exit code for an error met in a local OCI layout. Something the layout does not hold or
    /// cannot be read — a tag or digest that is not there, a file that cannot be opened — is the
    /// user's input being wrong (2), not "registry or network" (3): a layout has neither.
    /// Content that fails a check keeps the code it has everywhere else.
    pub fn exit_code_in_layout(&self) -> i32 {
        match self {
            Error::NotFound { .. } | Error::Io { .. } | Error::Usage(_) => 2,
            e => e.exit_code(),
        }
    }

    /// Whether asking again may succeed: the network, a timeout, rate limiting, a server's 5xx.
    /// Content that failed a check, a refusal or a missing thing stays what it is.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Network { .. } | Error::Timeout { .. } | Error::RateLimited { .. } => true,
            Error::Server { status, .. } => *status >= 500,
            _ => false,
        }
    }

    pub fn malformed(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Error::Malformed { what: what.into(), detail: detail.to_string() }
    }

    pub fn io(path: impl AsRef<std::path::Path>, err: impl std::fmt::Display) -> Self {
        Error::Io { path: path.as_ref().display().to_string(), detail: err.to_string() }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound { what: what.into() }
    }

    /// The same error with `note` added to what it says, keeping its kind where it has a
    /// detail to carry it (so exit codes and "try again" stay right); otherwise an `Io` error
    /// about `what` with the whole sentence.
    pub fn noting(self, what: &str, note: &str) -> Self {
        let add = |detail: String| format!("{detail}; {note}");
        match self {
            Error::Auth { target, detail, rejected } => Error::Auth { target, detail: add(detail), rejected },
            Error::Denied { target, detail } => Error::Denied { target, detail: add(detail) },
            Error::Network { target, detail } => Error::Network { target, detail: add(detail) },
            Error::Timeout { target, detail } => Error::Timeout { target, detail: add(detail) },
            Error::Server { target, status, detail } => Error::Server { target, status, detail: add(detail) },
            Error::Malformed { what, detail } => Error::Malformed { what, detail: add(detail) },
            Error::Io { path, detail } => Error::Io { path, detail: add(detail) },
            Error::Usage(text) => Error::Usage(add(text)),
            other => Error::Io { path: what.to_string(), detail: add(other.to_string()) },
        }
    }

    /// The same error with `f` applied to every text in it (e.g. to scrub secrets).
    pub fn map_text(self, f: impl Fn(String) -> String) -> Self {
        match self {
            Error::Auth { target, detail, rejected } => Error::Auth { target: f(target), detail: f(detail), rejected },
            Error::Denied { target, detail } => Error::Denied { target: f(target), detail: f(detail) },
            Error::NotFound { what } => Error::NotFound { what: f(what) },
            Error::RateLimited { target, attempts } => Error::RateLimited { target: f(target), attempts },
            Error::Network { target, detail } => Error::Network { target: f(target), detail: f(detail) },
            Error::Timeout { target, detail } => Error::Timeout { target: f(target), detail: f(detail) },
            Error::Server { target, status, detail } => Error::Server { target: f(target), status, detail: f(detail) },
            Error::Unsupported { what } => Error::Unsupported { what: f(what) },
            Error::Integrity { what, expected, actual } => {
                Error::Integrity { what: f(what), expected: f(expected), actual: f(actual) }
            }
            Error::TooLarge { what, size, limit } => Error::TooLarge { what: f(what), size, limit },
            Error::Malformed { what, detail } => Error::Malformed { what: f(what), detail: f(detail) },
            Error::Usage(text) => Error::Usage(f(text)),
            Error::Io { path, detail } => Error::Io { path: f(path), detail: f(detail) },
        }
    }
}
