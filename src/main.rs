//! sigscope command line: no subcommand opens the TUI; `tree`, `demo`, … run headless.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::args::{Cli, Command, DemoCommand};
use cli::{command_options, refuse_flags};

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
        return cli::tui::run_tui_command(cli.target, cli.source, cli.tui).await;
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
        // --read-only before `sign` is read (and refuses); the UI flags mean nothing to it.
        Command::Sign(_) => not_read.retain(|f| !["--read-only", "--theme", "--no-mouse"].contains(f)),
        Command::Explain(_) => not_read.retain(|f| !["--read-only", "--theme", "--no-mouse"].contains(f)),
        Command::Completions { .. } | Command::Demo { .. } => not_read.extend(outer_source.given()),
    }
    if let Some(target) = &cli.target {
        eprintln!("sigscope: the TARGET goes after the subcommand: sigscope {} … {target}", command.name());
        return 2;
    }
    if !not_read.is_empty() {
        return refuse_flags(command.name(), &not_read);
    }
    let outer_notation_dir = cli.tui.notation.dir;
    match command {
        Command::Tree(args) => {
            let Some(opts) = command_options(&args.source, outer_source) else { return 2 };
            let opts = args.deadline.apply(&opts, 0);
            cli::tree::run_tree(args, &opts).await
        }
        Command::Verify(args) => {
            let Some(opts) = command_options(&args.source, outer_source) else { return 2 };
            let opts = args.deadline.apply(&opts, 300);
            let notation_dir = args.notation.dir.clone().or(outer_notation_dir);
            cli::verify::run_verify(args, &opts, notation_dir).await
        }
        Command::Sign(mut args) => {
            let Some(opts) = command_options(&args.source, outer_source) else { return 2 };
            let opts = args.deadline.apply(&opts, 300);
            args.read_only |= cli.tui.read_only;
            cli::sign::run_sign(args, &opts).await
        }
        Command::Explain(args) => {
            let Some(opts) = command_options(&args.source, outer_source) else { return 2 };
            let opts = args.deadline.apply(&opts, 300);
            cli::explain::run_explain(args, &opts).await
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
