//! `sigscope completions SHELL`: the shell completion script, from the clap definition.

use super::args::Cli;

pub fn run_completions(shell: clap_complete::Shell) -> i32 {
    use clap::CommandFactory;
    clap_complete::generate(shell, &mut Cli::command(), "sigscope", &mut std::io::stdout());
    0
}
