//! The `concur` command line as a library: `concur`'s own `main` is [`main`], and a program
//! that measures its own workloads calls [`main_with`] and gets the same CLI with its
//! workloads beside the built-ins (docs/ARCHITECTURE.md, "The CLI contract").

mod args;
mod commands;
mod crossover;

use std::process::ExitCode;

use crate::workloads::AnyWorkload;

/// `concur`'s main: the worker bootstrap, then the command line.
pub fn main() -> ExitCode {
    main_with(&[])
}

/// Set by the Ctrl-C / SIGTERM handler as it starts: the run's result no longer decides
/// the exit code (130 does).
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The `concur` command line with `workloads` registered beside the built-ins: `list`
/// shows them, `run`, `compare` and `spawn` run them under every model. Call it as the
/// first thing in `main` (worker processes re-run the program and must find the same
/// workloads): it registers them, serves as a worker when the process is one, and otherwise
/// parses the arguments and runs the command. A registration error (a duplicate or invalid
/// name, or a registry already used) exits with code 2 and says what to fix.
pub fn main_with(workloads: &[&'static dyn AnyWorkload]) -> ExitCode {
    if let Err(e) = crate::workloads::register(workloads) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // In a worker process (process models) this serves tasks and never returns.
    crate::harness::init_workers();
    // Worker handshakes on a tmpfs when TMPDIR is unset: a faster worker start.
    let _ = crate::procs::handshakes_on_tmpfs();
    // A workload from outside is checked once, here, for what would make it unmeasurable.
    for w in workloads {
        if let Err(e) = crate::workloads::self_check(*w) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    // Ctrl-C or SIGTERM: remove half-done worker handshakes (ipc-channel sockets in the
    // temporary directory) and iceoryx2's files (`/dev/shm`, its root directory), and exit
    // as a shell expects (128 + SIGINT). Worker processes die with us (PR_SET_PDEATHSIG)
    // and, on Ctrl-C, from the terminal's own SIGINT.
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
        crate::procs::remove_pending_handshakes();
        crate::workloads::remove_temp_dirs();
        crate::channels::remove_iceoryx_files();
        std::process::exit(130);
    });
    let program = args::program_name();
    let cli = match args::parse(&program) {
        Ok(cli) => cli,
        Err(e) => return args::exit_on_parse_error(e, &program),
    };
    let result = commands::dispatch(cli);
    // Interrupted: the handler is removing the run's files (which may be what made the run
    // fail: its images gone) and then exits 130. Returning now would end the process with
    // the run's own code, and maybe before the files are gone.
    if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    match result {
        Ok(code) => code,
        Err(e) => {
            // A failed run may leave threads that still hold its batch (a lost cluster's
            // timely worker): remove its temporary files here, as the destructors would.
            crate::workloads::remove_temp_dirs();
            eprintln!("error: {}", e.message);
            ExitCode::from(e.code)
        }
    }
}
