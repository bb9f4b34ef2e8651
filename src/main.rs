//! sigscope command line: no subcommand opens the TUI; `tree`, `demo`, … run headless.
//! Parse, start the runtime, dispatch: each subcommand is a file of `cli/`.

use std::process::ExitCode;

use clap::Parser;

mod cli;

use cli::Outer;
use cli::args::{Cli, Command};

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
    let outer = match Outer::take(&command, cli.target.as_deref(), cli.source, cli.tui) {
        Ok(outer) => outer,
        Err(code) => return code,
    };
    match command {
        Command::Tree(args) => {
            let Some(opts) = outer.options(&args.source, args.deadline, 0) else { return 2 };
            cli::tree::run_tree(args, &opts).await
        }
        Command::Verify(args) => {
            let Some(opts) = outer.options(&args.source, args.deadline, 300) else { return 2 };
            let notation_dir = args.notation.dir.clone().or(outer.notation_dir);
            cli::verify::run_verify(args, &opts, notation_dir).await
        }
        Command::Sign(mut args) => {
            let Some(opts) = outer.options(&args.source, args.deadline, 300) else { return 2 };
            args.read_only |= outer.read_only;
            cli::sign::run_sign(args, &opts).await
        }
        Command::Explain(args) => {
            let Some(opts) = outer.options(&args.source, args.deadline, 300) else { return 2 };
            cli::explain::run_explain(args, &opts).await
        }
        Command::Completions { shell } => cli::completions::run_completions(shell),
        Command::Demo { command } => cli::demo::run_demo(command),
    }
}
