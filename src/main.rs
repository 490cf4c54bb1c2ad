//! The `concur` command line: `list`, `run`, `spawn`, `pingpong`, `idle`, `compare`, `cpython` (see
//! docs/ARCHITECTURE.md, "The CLI contract").

mod cli;
mod commands;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // First thing: in a worker process (process models) this serves tasks and never returns.
    concur::harness::init_workers();
    // Ctrl-C or SIGTERM: remove half-done worker handshakes (ipc-channel sockets in the
    // temporary directory) and iceoryx2's files (`/dev/shm`, its root directory), and exit as a shell expects (128 + SIGINT). Worker processes die
    // with us (PR_SET_PDEATHSIG) and, on Ctrl-C, from the terminal's own SIGINT.
    let _ = ctrlc::set_handler(|| {
        concur::procs::remove_pending_handshakes();
        concur::workloads::remove_temp_dirs();
        concur::harness::iceoryx::remove_files();
        std::process::exit(130);
    });
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
