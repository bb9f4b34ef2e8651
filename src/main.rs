//! sigscope command line: no subcommand opens the TUI; `tree`, `demo`, … run headless.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use sigscope::graph::discover::{DiscoverOptions, discover};
use sigscope::graph::report;
use sigscope::open::OpenOptions;
use sigscope::source::referrers::ExploreOptions;
use sigscope::source::registry::RegistryOptions;

#[derive(Parser, Debug)]
#[command(
    name = "sigscope",
    version,
    about = "Explore the supply chain of container images: referrers, signatures, SBOMs, attestations",
    long_about = "Explore the supply chain of container images in a terminal UI.\n\n\
        With no arguments sigscope opens the built-in demo supply chain (offline).\n\
        TARGET is host[:port] (whole registry), host/repo, host/repo:tag, host/repo@sha256:…,\n\
        or with --oci-layout an OCI image layout PATH[:tag|@digest].\n\n\
        Exit codes: 0 success, 1 check failed, 2 usage or config error, 3 registry or network error.",
    after_help = "Examples:\n  sigscope                               built-in demo\n  \
        sigscope localhost:5000                browse a registry\n  \
        sigscope tree ghcr.io/org/app:v1 -o json\n  \
        sigscope demo export ./demo && sigscope --oci-layout ./demo/layout"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// What to open in the TUI: a registry, repository, image or (with --oci-layout) a layout;
    /// default: the built-in demo.
    target: Option<String>,

    #[command(flatten)]
    tui: TuiArgs,

    #[command(flatten)]
    source: SourceArgs,
}

/// Flags only the TUI reads. None is global: `tree --help` lists what `tree` reads. Given
/// before a subcommand they are refused with a sentence, never silently dropped.
#[derive(Args, Debug, Clone)]
struct TuiArgs {
    /// Notation configuration directory holding trustpolicy.oci.json and truststore/
    /// (default: notation's own, $XDG_CONFIG_HOME/notation or ~/.config/notation; the built-in
    /// demo uses its own). The TUI watches it and re-verifies on every change.
    #[arg(long, value_name = "DIR")]
    notation_dir: Option<PathBuf>,

    /// Change nothing outside sigscope: no writes to a registry (signing is refused) and no
    /// write-back of the what-if trust policy (its key is unbound).
    #[arg(long)]
    read_only: bool,

    /// Colour theme (NO_COLOR implies mono).
    #[arg(long, value_name = "NAME", value_parser = theme_names())]
    theme: Option<String>,

    /// Do not capture the mouse (keeps the terminal's own text selection).
    #[arg(long)]
    no_mouse: bool,

    /// Largest blob fetched for a preview (envelopes, SBOMs), in bytes [default: 8388608].
    #[arg(long, value_name = "BYTES")]
    preview_limit: Option<u64>,
}

impl TuiArgs {
    /// The flags set, by name, for the refusal of a subcommand that reads none of them.
    fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        for (set, name) in [
            (self.notation_dir.is_some(), "--notation-dir"),
            (self.read_only, "--read-only"),
            (self.theme.is_some(), "--theme"),
            (self.no_mouse, "--no-mouse"),
            (self.preview_limit.is_some(), "--preview-limit"),
        ] {
            if set {
                given.push(name);
            }
        }
        given
    }
}

/// The built-in theme names: an unknown one is a usage error that lists them.
fn theme_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(sigscope::tui::theme::BUILTIN.map(|(name, _)| name))
}

/// Where artifacts come from: every command that opens a TARGET reads these. Each subcommand
/// has its own copy; one given before the subcommand is merged into it.
#[derive(Args, Debug, Clone, Default)]
struct SourceArgs {
    /// TARGET is an OCI image layout directory: PATH[:tag|@digest].
    #[arg(long)]
    oci_layout: bool,

    /// Allow plain HTTP to a non-loopback registry (loopback hosts always may).
    #[arg(long)]
    plain_http: bool,

    /// PEM file of extra root certificates for a registry behind a private CA.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// Registry user name; the password is read from stdin with --password-stdin.
    #[arg(long)]
    username: Option<String>,

    /// Read the registry password from standard input (with --username).
    #[arg(long)]
    password_stdin: bool,

    /// Requests in flight per registry [default: 16].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: Option<u16>,

    /// Seconds one registry request may take, from connecting to the last byte of the answer
    /// (token requests and each page of a listing count as requests of their own) [default: 30].
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,

    /// Append every registry request to FILE (`METHOD URL STATUS`), for benchmarks.
    #[arg(long, value_name = "FILE", hide = true)]
    request_log: Option<PathBuf>,
}

impl SourceArgs {
    /// These flags with those given before the subcommand filled in; the subcommand's own win.
    fn or(self, outer: SourceArgs) -> SourceArgs {
        SourceArgs {
            oci_layout: self.oci_layout || outer.oci_layout,
            plain_http: self.plain_http || outer.plain_http,
            ca_file: self.ca_file.or(outer.ca_file),
            username: self.username.or(outer.username),
            password_stdin: self.password_stdin || outer.password_stdin,
            concurrency: self.concurrency.or(outer.concurrency),
            timeout: self.timeout.or(outer.timeout),
            request_log: self.request_log.or(outer.request_log),
        }
    }

    fn given(&self) -> Vec<&'static str> {
        let mut given = Vec::new();
        for (set, name) in [
            (self.oci_layout, "--oci-layout"),
            (self.plain_http, "--plain-http"),
            (self.ca_file.is_some(), "--ca-file"),
            (self.username.is_some(), "--username"),
            (self.password_stdin, "--password-stdin"),
            (self.concurrency.is_some(), "--concurrency"),
            (self.timeout.is_some(), "--timeout"),
            (self.request_log.is_some(), "--request-log"),
        ] {
            if set {
                given.push(name);
            }
        }
        given
    }
}

/// The common flags of the command-line contract (DESIGN.md) that a headless command has no
/// use for: `--read-only` (it never writes, so it holds by nature), `--theme` and `--no-mouse`
/// (it draws no UI). Accepted, so scripts may pass them everywhere, but not listed in its
/// `--help`; an unknown theme is still a usage error.
#[derive(Args, Debug, Clone)]
struct UnusedCommonArgs {
    #[arg(long, hide = true)]
    read_only: bool,
    #[arg(long, hide = true, value_name = "NAME", value_parser = theme_names())]
    theme: Option<String>,
    #[arg(long, hide = true)]
    no_mouse: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the referrers graph of TARGET without the UI (the shape of `oras discover`).
    Tree(TreeArgs),
    /// Verify the Notation signatures of one image against a trust policy (like `notation verify`).
    Verify(VerifyArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to write the script for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Work with the built-in demo supply chain.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
}

impl Command {
    fn name(&self) -> &'static str {
        match self {
            Command::Tree(_) => "tree",
            Command::Verify(_) => "verify",
            Command::Completions { .. } => "completions",
            Command::Demo { command: DemoCommand::Export { .. } } => "demo export",
        }
    }
}

#[derive(Args, Debug)]
struct TreeArgs {
    /// What to show: host[:port] (every repository), host/repo, host/repo:tag,
    /// host/repo@sha256:…, or with --oci-layout a layout PATH[:tag|@digest].
    target: String,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = TreeFormat::Tree)]
    output: TreeFormat,
    /// How many levels of referrers to follow below each image (default: all, within the
    /// 50 levels of nesting any node may be below its root).
    #[arg(long)]
    depth: Option<usize>,
    /// Only show referrers of this artifactType.
    #[arg(long, value_name = "TYPE")]
    artifact_type: Option<String>,
    #[command(flatten)]
    deadline: DeadlineArg,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    unused: UnusedCommonArgs,
}

/// A wall-clock bound on all the registry traffic of one `tree` or `verify`.
#[derive(Args, Debug, Clone, Copy)]
struct DeadlineArg {
    /// Seconds all registry requests of the command may take together; what is not fetched by
    /// then fails with a deadline error (0: no deadline). Default: 300 for verify, none for tree
    /// (a whole registry can legitimately take longer). Each request is also bounded by --timeout.
    #[arg(long, value_name = "SECS")]
    deadline: Option<u64>,
}

impl DeadlineArg {
    fn apply(self, opts: &OpenOptions, default_secs: u64) -> OpenOptions {
        let mut opts = opts.clone();
        let secs = self.deadline.unwrap_or(default_secs);
        opts.registry.deadline = (secs > 0).then(|| Duration::from_secs(secs));
        opts
    }
}

#[derive(Args, Debug)]
#[command(after_help = "Exit codes: 0 verified (or skipped by policy), 1 not verified, 2 usage or policy error, \
    3 registry error.")]
struct VerifyArgs {
    /// One image: host/repo:tag, host/repo@sha256:…, or with --oci-layout PATH:tag / PATH@digest.
    target: String,
    /// Output format: text, or json with every check of every signature.
    #[arg(short, long, value_enum, default_value_t = VerifyFormat::Text)]
    output: VerifyFormat,
    /// Do not download CRLs; use only those already cached (an unknown status then fails or
    /// warns as the policy's revocation action says).
    #[arg(long)]
    offline: bool,
    /// Notation configuration directory holding trustpolicy.oci.json and truststore/
    /// (default: notation's own, $XDG_CONFIG_HOME/notation or ~/.config/notation).
    #[arg(long, value_name = "DIR")]
    notation_dir: Option<PathBuf>,
    #[command(flatten)]
    deadline: DeadlineArg,
    #[command(flatten)]
    source: SourceArgs,
    #[command(flatten)]
    unused: UnusedCommonArgs,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum VerifyFormat {
    Text,
    Json,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum TreeFormat {
    Tree,
    Json,
}

#[derive(Subcommand, Debug)]
enum DemoCommand {
    /// Write the demo as an OCI image layout (DIR/layout) plus a Notation config dir (DIR/notation).
    Export {
        /// Directory to write into; it must be new or empty.
        dir: PathBuf,
    },
}

fn open_options(source: &SourceArgs, preview_limit: Option<u64>) -> anyhow::Result<OpenOptions> {
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
    })
}

/// Flags given before a subcommand that it does not read: a usage error naming them, so a
/// flag that would change nothing is never silently dropped.
fn refuse_flags(command: &str, flags: &[&str]) -> i32 {
    let them = if flags.len() == 1 { "it" } else { "them" };
    eprintln!("sigscope: `sigscope {command}` does not read {}; remove {them}", flags.join(", "));
    2
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sigscope: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(run(cli));
    ExitCode::from(code as u8)
}

async fn run(cli: Cli) -> i32 {
    let Some(command) = cli.command else {
        return run_tui_command(cli.target, cli.source, cli.tui).await;
    };
    // What was given before the subcommand: the flags it reads are merged into its own, any
    // other is refused.
    let mut not_read = cli.tui.given();
    let outer_source = cli.source;
    match &command {
        // Neither writes anything nor draws a UI: the contract's common flags are accepted.
        Command::Tree(_) => not_read.retain(|f| !["--read-only", "--theme", "--no-mouse"].contains(f)),
        Command::Verify(_) => {
            not_read.retain(|f| !["--read-only", "--theme", "--no-mouse", "--notation-dir"].contains(f))
        }
        Command::Completions { .. } | Command::Demo { .. } => not_read.extend(outer_source.given()),
    }
    if let Some(target) = &cli.target {
        eprintln!("sigscope: the TARGET goes after the subcommand: sigscope {} … {target}", command.name());
        return 2;
    }
    if !not_read.is_empty() {
        return refuse_flags(command.name(), &not_read);
    }
    let outer_notation_dir = cli.tui.notation_dir;
    match command {
        Command::Tree(args) => {
            let Some(opts) = command_options(&args.source, outer_source) else { return 2 };
            let opts = args.deadline.apply(&opts, 0);
            run_tree(args, &opts).await
        }
        Command::Verify(args) => {
            let Some(opts) = command_options(&args.source, outer_source) else { return 2 };
            let opts = args.deadline.apply(&opts, 300);
            let notation_dir = args.notation_dir.clone().or(outer_notation_dir);
            run_verify(args, &opts, notation_dir).await
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "sigscope", &mut std::io::stdout());
            0
        }
        Command::Demo { command: DemoCommand::Export { dir } } => match sigscope::demo::export(&dir) {
            Ok(()) => {
                eprintln!(
                    "wrote the demo: {0}/layout (OCI image layout) and {0}/notation (trust policy + trust store)\n\
                     try: sigscope --oci-layout {0}/layout",
                    dir.display()
                );
                0
            }
            Err(e) => {
                eprintln!("sigscope demo export: {e}");
                match e {
                    sigscope::Error::Io { .. } => 2,
                    e => e.exit_code(),
                }
            }
        },
    }
}

/// The open options of a subcommand: its own source flags, those before it filled in.
fn command_options(own: &SourceArgs, outer: SourceArgs) -> Option<OpenOptions> {
    match open_options(&own.clone().or(outer), None) {
        Ok(o) => Some(o),
        Err(e) => {
            eprintln!("sigscope: {e}");
            None
        }
    }
}

/// No subcommand: the TUI on TARGET, or on the demo.
async fn run_tui_command(target: Option<String>, source: SourceArgs, tui: TuiArgs) -> i32 {
    if target.is_none() && source.oci_layout {
        // Without a path this would open the demo, which is not what was asked for.
        eprintln!("sigscope: --oci-layout needs a layout: sigscope --oci-layout PATH[:tag|@digest]");
        return 2;
    }
    let opts = match open_options(&source, tui.preview_limit) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    run_tui(target, &opts, tui.theme, !tui.no_mouse, tui.notation_dir, tui.read_only).await
}

async fn run_tree(args: TreeArgs, opts: &OpenOptions) -> i32 {
    let opened = match sigscope::open::open(&args.target, opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sigscope tree: {e}");
            return exit_code(&e, opts);
        }
    };
    let discover_opts = DiscoverOptions {
        depth: args.depth,
        explore: ExploreOptions { artifact_type: args.artifact_type },
        max_in_flight: opts.registry.concurrency * 2,
    };
    let graph = discover(opened.source.clone(), opened.roots.clone(), &discover_opts).await;
    let roots = graph.roots.clone();
    let mut stdout = std::io::stdout().lock();
    let written = match args.output {
        TreeFormat::Json => {
            let reports: Vec<_> = roots.iter().map(|&r| report::report(&graph, opened.source.as_ref(), r)).collect();
            // Escapes C1, DEL and bidi controls too, and writes through one buffer.
            let written = match reports.as_slice() {
                [one] => sigscope::json_out::to_writer_pretty(&mut stdout, one),
                all => sigscope::json_out::to_writer_pretty(&mut stdout, all),
            };
            written.map_err(sigscope::json_out::io_error).and_then(|_| writeln!(stdout))
        }
        TreeFormat::Tree => stdout.write_all(report::render_text(&graph, opened.source.as_ref(), &roots).as_bytes()),
    };
    match written {
        // The reader went away (`| head`): nothing left to say.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return 0,
        Err(e) => {
            eprintln!("sigscope tree: cannot write output: {e}");
            return 3;
        }
        Ok(()) => {}
    }
    let mut failures = Vec::new();
    for &r in &roots {
        report::failures(&graph, opened.source.as_ref(), r, &mut failures);
    }
    for f in &failures {
        eprintln!("sigscope tree: {f}");
    }
    if failures.is_empty() {
        0
    } else if opts.oci_layout {
        layout_failure_code(&graph, &opened).await
    } else {
        3
    }
}

/// The exit code of `e`: what a local layout does not hold is no registry or network error.
fn exit_code(e: &sigscope::Error, opts: &OpenOptions) -> i32 {
    if opts.oci_layout { e.exit_code_in_layout() } else { e.exit_code() }
}

/// Exit code of a tree over a local layout that has failures. When the tag or digest named
/// on the command line failed, it is the exit code of that error as `verify` gives it (a tag
/// the layout does not hold is 2, not "registry or network"); the graph keeps reasons as text,
/// so the target is asked again for the typed error. Failures further down keep 3: the tree
/// is incomplete.
async fn layout_failure_code(graph: &sigscope::graph::Graph, opened: &sigscope::open::Opened) -> i32 {
    use sigscope::graph::{LoadState, NodeKind};
    let root_failed = graph.roots.iter().any(|&r| matches!(graph.node(r).load, LoadState::Failed(_)));
    let named = matches!(opened.roots.as_slice(), [NodeKind::Tag { .. } | NodeKind::Artifact(_)]);
    if !(root_failed && named) {
        return 3;
    }
    match sigscope::verify::resolve_target(opened).await {
        Err(e) => e.exit_code_in_layout(),
        // Read fine this time: the layout changed under us; still not a success.
        Ok(_) => 3,
    }
}

/// What `verify -o json` writes when it cannot verify at all: the shape `tree -o json` gives a
/// target it could not resolve, so a script reads one error shape from both.
#[derive(serde::Serialize)]
struct VerifyError<'a> {
    reference: &'a str,
    error: String,
}

async fn run_verify(args: VerifyArgs, opts: &OpenOptions, notation_dir: Option<PathBuf>) -> i32 {
    use sigscope::notation::verify::{Verdict, Verifier};
    let json = args.output == VerifyFormat::Json;
    let mut reference = args.target.clone();
    // Says it on stderr, and with -o json on stdout too: a script reading stdout gets an answer.
    let fail_at = |reference: &str, e: &dyn std::fmt::Display, code: i32| {
        let error = e.to_string();
        eprintln!("sigscope verify: {}", sigscope::sanitize::sanitize(&error));
        if json {
            let mut stdout = std::io::stdout().lock();
            let _ = sigscope::json_out::to_writer_pretty(&mut stdout, &VerifyError { reference, error })
                .map_err(sigscope::json_out::io_error)
                .and_then(|_| writeln!(stdout));
        }
        code
    };
    let fail = |e: &dyn std::fmt::Display, code: i32| fail_at(&args.target, e, code);
    let Some(dir) = notation_dir.or_else(sigscope::notation::dir::default_notation_dir) else {
        return fail(&"no notation directory: pass --notation-dir DIR", 2);
    };
    let policy = match sigscope::notation::policy::TrustPolicy::load(&dir) {
        Ok(p) => p,
        Err(e) => return fail(&e, 2),
    };
    let opened = match sigscope::open::open(&args.target, opts) {
        Ok(o) => o,
        Err(e) => return fail(&e, exit_code(&e, opts)),
    };
    let code_of = |e: &sigscope::Error| exit_code(e, opts);
    reference.clone_from(&opened.target);
    let fail = |e: &dyn std::fmt::Display, code: i32| fail_at(&reference, e, code);
    let (repository, subject) = match sigscope::verify::resolve_target(&opened).await {
        Ok(r) => r,
        Err(e) => return fail(&e, code_of(&e)),
    };
    if let [sigscope::graph::NodeKind::Tag { tag, .. }] = opened.roots.as_slice() {
        // As notation says it: what was verified is the digest the tag named just now.
        eprintln!(
            "Warning: resolved tag {:?} to {}; the tag may point elsewhere later, verify by digest \
             (@sha256:…) to pin what you deploy.",
            sigscope::sanitize::sanitize(tag),
            subject.digest
        );
    }
    let verifier = Verifier::new(policy, dir, sigscope::notation::dir::revocation_mode(args.offline));
    let now = chrono::Utc::now();
    let report =
        match sigscope::verify::verify_artifact(opened.source.as_ref(), &repository, &subject, &verifier, now).await {
            Ok(r) => r,
            Err(e) => return fail(&e, code_of(&e)),
        };
    let mut stdout = std::io::stdout().lock();
    let written = match args.output {
        VerifyFormat::Json => sigscope::json_out::to_writer_pretty(&mut stdout, &report)
            .map_err(sigscope::json_out::io_error)
            .and_then(|_| writeln!(stdout)),
        VerifyFormat::Text => stdout.write_all(report.render_text().as_bytes()),
    };
    if let Err(e) = written
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("sigscope verify: cannot write output: {e}");
        return 3;
    }
    match &report.verdict {
        Verdict::Verified | Verdict::VerifiedWithWarnings { .. } | Verdict::Skipped => 0,
        _ => {
            // The text report opens with this very line: on a terminal it is already on screen.
            let on_screen = !json && std::io::stdout().is_terminal();
            if !on_screen {
                eprintln!("sigscope verify: {}", sigscope::sanitize::sanitize(&report.headline()));
            }
            1
        }
    }
}

/// Opens the TUI on TARGET, or on the built-in demo when there is none.
async fn run_tui(
    target: Option<String>,
    opts: &OpenOptions,
    theme: Option<String>,
    mouse: bool,
    notation_dir: Option<PathBuf>,
    read_only: bool,
) -> i32 {
    let mut tui_opts = sigscope::tui::TuiOptions {
        theme,
        mouse,
        open_options: opts.clone(),
        notation_dir: notation_dir.clone().or_else(sigscope::notation::dir::default_notation_dir),
        read_only,
        opened_notation_dir: None,
    };
    let Some(target) = target else {
        // The demo verifies against its own policy and CA, in a private directory the user may
        // edit while it runs (its path is in the verification panel); removed on exit.
        let mut _demo_dir = None;
        if notation_dir.is_none() {
            match sigscope::demo::private_notation_dir() {
                Ok(dir) => {
                    // What is opened from the demo with :open is verified with the user's policy.
                    tui_opts.opened_notation_dir = tui_opts.notation_dir.take();
                    tui_opts.notation_dir = Some(dir.clone());
                    _demo_dir = Some(RemoveOnDrop(dir));
                }
                Err(e) => eprintln!("sigscope: the demo trust policy could not be written ({e}); nothing is verified"),
            }
        }
        let result = sigscope::tui::run(sigscope::demo::opened(), tui_opts).await;
        drop(_demo_dir);
        return finish_tui(result);
    };
    let open_opts = opts.clone();
    // Opening reads files and may set up TLS: not on the async workers.
    let opened = match tokio::task::spawn_blocking(move || sigscope::open::open(&target, &open_opts)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            eprintln!("sigscope: {e}");
            return exit_code(&e, opts);
        }
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    finish_tui(sigscope::tui::run(opened, tui_opts).await)
}

/// A directory removed when this is dropped: at the end of the TUI, and also while a panic
/// unwinds. A terminal that went away (SIGHUP on hang-up) fails every write after it, and a
/// failed write on the way out panics in the terminal library; the demo's directory must not
/// outlive that.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn finish_tui(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sigscope: {e:#}");
            2
        }
    }
}
