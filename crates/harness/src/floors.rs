//! The floors the `spawn` group reads the process models against: what starting a process
//! costs at the least on this machine, measured in the same run.
//!
//! - [`fork_exit`] (`fork-exit`): fork, the child exits at once, the parent waits.
//! - [`exec_self`] (`exec-self`): spawn this same executable in a mode that exits at once
//!   ([`EXIT_AT_ONCE_ENV`], handled first thing by [`crate::init_workers`]), and wait: what
//!   every process model pays to start a worker before the worker does anything.

use std::io;
use std::process::{Command, Stdio};

use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::ForkResult;

/// The `spawn` group's fork floor.
pub const FORK_EXIT: &str = "fork-exit";
/// The `spawn` group's exec floor.
pub const EXEC_SELF: &str = "exec-self";
/// The `io_bound/http-fetch` group's floor: the raw loopback TCP exchange
/// ([`concur_http::TcpFloor`]).
pub const TCP_FLOOR: &str = "tcp-floor";

/// Set in a child's environment: [`crate::init_workers`] exits at once (status 0).
pub const EXIT_AT_ONCE_ENV: &str = "CONCUR_EXIT_AT_ONCE";

/// Forks; the child exits at once; waits for it.
#[allow(unsafe_code)]
pub fn fork_exit() -> io::Result<()> {
    // SAFETY: after fork in a multi-threaded process the child may only call
    // async-signal-safe functions; it calls `_exit` and nothing else (no allocation, no lock,
    // no destructor).
    match unsafe { nix::unistd::fork() }.map_err(io::Error::from)? {
        // SAFETY: `_exit` is async-signal-safe and never returns.
        ForkResult::Child => unsafe { nix::libc::_exit(0) },
        ForkResult::Parent { child } => match waitpid(child, None).map_err(io::Error::from)? {
            WaitStatus::Exited(_, 0) => Ok(()),
            other => Err(io::Error::other(format!(
                "fork-exit child ended as {other:?}"
            ))),
        },
    }
}

/// Spawns this executable, which exits at once, and waits for it.
pub fn exec_self() -> io::Result<()> {
    let status = Command::new(std::env::current_exe()?)
        .env(EXIT_AT_ONCE_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "exec-self child ended as {status}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fork_exit_forks_and_reaps() {
        fork_exit().unwrap();
    }
}
