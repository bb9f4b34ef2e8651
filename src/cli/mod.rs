//! One file per subcommand; what they share (source options, the flags given before the
//! subcommand, exit codes) is here.

pub mod args;
pub mod completions;
pub mod demo;
pub mod explain;
pub mod sign;
pub mod tree;
pub mod tui;
pub mod verify;

use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use sigscope::open::OpenOptions;
use sigscope::source::registry::RegistryOptions;

use args::{Command, DeadlineArg, SourceArgs, TuiArgs};

pub fn open_options(source: &SourceArgs, preview_limit: Option<u64>) -> anyhow::Result<OpenOptions> {
    let credentials = match (&source.username, source.password_stdin) {
        (Some(user), true) => {
            let mut password = String::new();
            // A password is short; a stream that never ends must not grow memory without bound.
            std::io::stdin().take(64 * 1024).read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            if password.is_empty() {
                anyhow::bail!("--password-stdin: no password on standard input");
            }
            Some((user.clone(), password))
        }
        // Checked here, not by clap: the two halves may sit on either side of the subcommand.
        (Some(_), false) => anyhow::bail!("--username needs --password-stdin (the password is read from stdin)"),
        (None, true) => anyhow::bail!("--password-stdin needs --username"),
        (None, false) => None,
    };
    let timeout = Duration::from_secs(source.timeout.unwrap_or(30).max(1));
    Ok(OpenOptions {
        oci_layout: source.oci_layout,
        registry: RegistryOptions {
            plain_http: source.plain_http,
            ca_file: source.ca_file.clone(),
            credentials,
            concurrency: source.concurrency.unwrap_or(16) as usize,
            preview_limit: preview_limit.unwrap_or(sigscope::source::DEFAULT_PREVIEW_LIMIT),
            read_timeout: timeout,
            request_timeout: timeout,
            request_log: source.request_log.clone(),
            ..RegistryOptions::default()
        },
        ecr: source.ecr_options(),
    })
}

/// Flags given before a subcommand that it does not read: a usage error naming them, so a
/// flag that would change nothing is never silently dropped.
pub fn refuse_flags(command: &str, flags: &[&str]) -> i32 {
    let them = if flags.len() == 1 { "it" } else { "them" };
    eprintln!("sigscope: `sigscope {command}` does not read {}; remove {them}", flags.join(", "));
    2
}

/// The open options of a subcommand: its own source flags, those before it filled in.
pub fn command_options(own: &SourceArgs, outer: SourceArgs) -> Option<OpenOptions> {
    match open_options(&own.clone().or(outer), None) {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("sigscope: {e}");
            None
        }
    }
}

/// The flags given before the subcommand (`sigscope [FLAGS] SUBCOMMAND …`) that it reads,
/// to be merged into its own.
pub struct Outer {
    source: SourceArgs,
    pub notation_dir: Option<PathBuf>,
    pub read_only: bool,
}

impl Outer {
    /// Keeps the flags before `command` that it reads; any other, or a TARGET before the
    /// subcommand, is a usage error (the exit code).
    pub fn take(command: &Command, target: Option<&str>, source: SourceArgs, tui: TuiArgs) -> Result<Outer, i32> {
        let mut not_read = tui.given();
        match command {
            // Neither writes anything nor draws a UI: the contract's common flags are accepted.
            Command::Tree(_) => not_read.retain(|f| !["--read-only", "--theme", "--no-mouse"].contains(f)),
            Command::Verify(_) => {
                not_read.retain(|f| !["--read-only", "--theme", "--no-mouse", "--notation-dir"].contains(f))
            }
            // --read-only before `sign` is read (and refuses); the UI flags mean nothing to it.
            Command::Sign(_) => not_read.retain(|f| !["--read-only", "--theme", "--no-mouse"].contains(f)),
            Command::Explain(_) => not_read.retain(|f| !["--read-only", "--theme", "--no-mouse"].contains(f)),
            Command::Completions { .. } | Command::Demo { .. } => not_read.extend(source.given()),
        }
        if let Some(target) = target {
            eprintln!("sigscope: the TARGET goes after the subcommand: sigscope {} … {target}", command.name());
            return Err(2);
        }
        if !not_read.is_empty() {
            return Err(refuse_flags(command.name(), &not_read));
        }
        Ok(Outer { source, notation_dir: tui.notation.dir, read_only: tui.read_only })
    }

    /// The subcommand's open options ([`command_options`]: its own source flags, these filling
    /// in) with its `--deadline`, `default_secs` when not given; `None` when they are refused.
    pub fn options(&self, own: &SourceArgs, deadline: DeadlineArg, default_secs: u64) -> Option<OpenOptions> {
        command_options(own, self.source.clone()).map(|opts| deadline.apply(&opts, default_secs))
    }
}

/// The exit code of `e`: what a local layout does not hold is no registry or network error.
pub fn exit_code(e: &sigscope::Error, opts: &OpenOptions) -> i32 {
    if opts.oci_layout { e.exit_code_in_layout() } else { e.exit_code() }
}
