//! One file per subcommand; what they share (source options, exit codes) is here.

pub mod args;
pub mod explain;
pub mod sign;
pub mod tree;
pub mod tui;
pub mod verify;

use std::io::Read;
use std::time::Duration;

use sigscope::open::OpenOptions;
use sigscope::source::registry::RegistryOptions;

use args::SourceArgs;

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

/// The exit code of `e`: what a local layout does not hold is no registry or network error.
pub fn exit_code(e: &sigscope::Error, opts: &OpenOptions) -> i32 {
    if opts.oci_layout { e.exit_code_in_layout() } else { e.exit_code() }
}
