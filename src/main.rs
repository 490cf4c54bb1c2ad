//! The `concur` command line: `list`, `run`, `spawn`, `pingpong`, `idle`, `compare`, `cpython`
//! (see docs/ARCHITECTURE.md, "The CLI contract"). The whole of it is [`concur::cli::main`],
//! so a program with its own workloads gets the same CLI from `concur::cli::main_with`.

use std::process::ExitCode;

fn main() -> ExitCode {
    concur::cli::main()
}
