//! The `concur` command line: `list`, `run`, `spawn` (see docs/ARCHITECTURE.md, "The CLI
//! contract").

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // First thing: in a worker process (process models) this serves tasks and never returns.
    concur::harness::init_workers();
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return cli::exit_on_parse_error(e),
    };
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
