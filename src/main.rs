//! sigscope command line: no subcommand opens the TUI; `tree`, `demo`, … run headless.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use sigscope::discover::{DiscoverOptions, discover};
use sigscope::open::OpenOptions;
use sigscope::report;
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

    /// What to open in the TUI (default: the built-in demo).
    target: Option<String>,

    #[command(flatten)]
    common: Common,

    /// Colour theme: dark, light, high-contrast, mono (NO_COLOR implies mono).
    #[arg(long, global = true, value_name = "NAME")]
    theme: Option<String>,

    /// Do not capture the mouse (keeps the terminal's own text selection).
    #[arg(long, global = true)]
    no_mouse: bool,
}

#[derive(Args, Debug, Clone)]
struct Common {
    /// TARGET is an OCI image layout directory: PATH[:tag|@digest].
    #[arg(long, global = true)]
    oci_layout: bool,

    /// Allow plain HTTP to a non-loopback registry (loopback hosts always may).
    #[arg(long, global = true)]
    plain_http: bool,

    /// PEM file of extra root certificates for a registry behind a private CA.
    #[arg(long, global = true, value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// Registry user name; the password is read from stdin with --password-stdin.
    #[arg(long, global = true, requires = "password_stdin")]
    username: Option<String>,

    /// Read the registry password from standard input.
    #[arg(long, global = true, requires = "username")]
    password_stdin: bool,

    /// Requests in flight per registry.
    #[arg(long, global = true, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,

    /// Largest blob fetched for a preview (envelopes, SBOMs), in bytes.
    #[arg(long, global = true, default_value_t = sigscope::source::DEFAULT_PREVIEW_LIMIT)]
    preview_limit: u64,

    /// Seconds one registry request may take, from connecting to the last byte of the answer
    /// (token requests and each page of a listing count as requests of their own).
    #[arg(long, global = true, default_value_t = 30, value_name = "SECS")]
    timeout: u64,

    /// Append every registry request to FILE (`METHOD URL STATUS`), for benchmarks.
    #[arg(long, global = true, value_name = "FILE", hide = true)]
    request_log: Option<PathBuf>,

    /// Notation configuration directory holding trustpolicy.oci.json and truststore/
    /// (default: notation's own, $XDG_CONFIG_HOME/notation or ~/.config/notation; the TUI's
    /// built-in demo uses its own). The TUI watches it and re-verifies on every change.
    #[arg(long, global = true, value_name = "DIR")]
    notation_dir: Option<PathBuf>,

    /// Change nothing outside sigscope: no writes to a registry (signing is refused) and, in the
    /// TUI, no write-back of the what-if trust policy (its key is unbound).
    #[arg(long, global = true)]
    read_only: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print the referrers graph of TARGET without the UI (the shape of `oras discover`).
    Tree(TreeArgs),
    /// Verify the Notation signatures of one image against a trust policy (like `notation verify`).
    Verify(VerifyArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Work with the built-in demo supply chain.
    Demo {
        #[command(subcommand)]
        command: DemoCommand,
    },
}

#[derive(Args, Debug)]
struct TreeArgs {
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
    #[command(flatten)]
    deadline: DeadlineArg,
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
    Export { dir: PathBuf },
}

fn open_options(common: &Common) -> anyhow::Result<OpenOptions> {
    let credentials = match &common.username {
        Some(user) => {
            let mut password = String::new();
            // A password is short; a stream that never ends must not grow memory without bound.
            std::io::stdin().take(64 * 1024).read_to_string(&mut password)?;
            let password = password.trim_end_matches(['\r', '\n']).to_string();
            if password.is_empty() {
                anyhow::bail!("--password-stdin: no password on standard input");
            }
            Some((user.clone(), password))
        }
        None => None,
    };
    Ok(OpenOptions {
        oci_layout: common.oci_layout,
        registry: RegistryOptions {
            plain_http: common.plain_http,
            ca_file: common.ca_file.clone(),
            credentials,
            concurrency: common.concurrency as usize,
            preview_limit: common.preview_limit,
            read_timeout: Duration::from_secs(common.timeout.max(1)),
            request_timeout: Duration::from_secs(common.timeout.max(1)),
            request_log: common.request_log.clone(),
            ..RegistryOptions::default()
        },
    })
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
    let opts = match open_options(&cli.common) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    match cli.command {
        None if cli.target.is_none() && cli.common.oci_layout => {
            // Without a path this would open the demo, which is not what was asked for.
            eprintln!("sigscope: --oci-layout needs a layout: sigscope --oci-layout PATH[:tag|@digest]");
            2
        }
        None => {
            let read_only = cli.common.read_only;
            run_tui(cli.target, &opts, cli.theme, !cli.no_mouse, cli.common.notation_dir.clone(), read_only).await
        }
        Some(Command::Tree(args)) => {
            let opts = args.deadline.apply(&opts, 0);
            run_tree(args, &opts).await
        }
        Some(Command::Verify(args)) => {
            let opts = args.deadline.apply(&opts, 300);
            run_verify(args, &opts, cli.common.notation_dir.clone()).await
        }
        Some(Command::Completions { shell }) => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "sigscope", &mut std::io::stdout());
            0
        }
        Some(Command::Demo { command: DemoCommand::Export { dir } }) => match sigscope::demo::export(&dir) {
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

async fn run_tree(args: TreeArgs, opts: &OpenOptions) -> i32 {
    let opened = match sigscope::open::open(&args.target, opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sigscope tree: {e}");
            return e.exit_code();
        }
    };
    let discover_opts = DiscoverOptions {
        depth: args.depth,
        explore: ExploreOptions { artifact_type: args.artifact_type },
        max_in_flight: opts.registry.concurrency * 2,
    };
    let graph = discover(opened.source.clone(), opened.roots, &discover_opts).await;
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
    if failures.is_empty() { 0 } else { 3 }
}

async fn run_verify(args: VerifyArgs, opts: &OpenOptions, notation_dir: Option<PathBuf>) -> i32 {
    use sigscope::trust::verify::{Verdict, Verifier};
    let fail = |e: &dyn std::fmt::Display, code: i32| {
        eprintln!("sigscope verify: {e}");
        code
    };
    let Some(dir) = notation_dir.or_else(sigscope::verification::default_notation_dir) else {
        return fail(&"no notation directory: pass --notation-dir DIR", 2);
    };
    let policy = match sigscope::trust::policy::TrustPolicy::load(&dir) {
        Ok(p) => p,
        Err(e) => return fail(&e, 2),
    };
    let opened = match sigscope::open::open(&args.target, opts) {
        Ok(o) => o,
        Err(e) => return fail(&e, e.exit_code()),
    };
    let (repository, subject) = match sigscope::signatures::resolve_target(&opened).await {
        Ok(r) => r,
        Err(e) => return fail(&e, e.exit_code()),
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
    let verifier = Verifier::new(policy, dir, sigscope::verification::revocation_mode(args.offline));
    let now = chrono::Utc::now();
    let report = match sigscope::signatures::verify_artifact(
        opened.source.as_ref(),
        &repository,
        &subject,
        &verifier,
        now,
    )
    .await
    {
        Ok(r) => r,
        Err(e) => return fail(&e, e.exit_code()),
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
        return fail(&format!("cannot write output: {e}"), 3);
    }
    match &report.verdict {
        Verdict::Verified | Verdict::VerifiedWithWarnings { .. } | Verdict::Skipped => 0,
        _ => {
            eprintln!("sigscope verify: {}", sigscope::sanitize::sanitize(&report.headline()));
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
        notation_dir: notation_dir.clone().or_else(sigscope::verification::default_notation_dir),
        read_only,
    };
    let Some(target) = target else {
        // The demo verifies against its own policy and CA, in a private directory the user may
        // edit while it runs (its path is in the verification panel); removed on exit.
        let mut demo_dir = None;
        if notation_dir.is_none() {
            match sigscope::demo::private_notation_dir() {
                Ok(dir) => {
                    tui_opts.notation_dir = Some(dir.clone());
                    demo_dir = Some(dir);
                }
                Err(e) => eprintln!("sigscope: the demo trust policy could not be written ({e}); nothing is verified"),
            }
        }
        let result = sigscope::tui::run(sigscope::demo::opened(), tui_opts).await;
        if let Some(dir) = demo_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        return finish_tui(result);
    };
    let open_opts = opts.clone();
    // Opening reads files and may set up TLS: not on the async workers.
    let opened = match tokio::task::spawn_blocking(move || sigscope::open::open(&target, &open_opts)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            eprintln!("sigscope: {e}");
            return e.exit_code();
        }
        Err(e) => {
            eprintln!("sigscope: {e}");
            return 2;
        }
    };
    finish_tui(sigscope::tui::run(opened, tui_opts).await)
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
