//! The floors: the least a mechanism costs on this machine, measured in the same run, which
//! the models and channels are read against ("floor" means only this, everywhere in concur).
//!
//! - Hand-off floors, between two processes: `atomic-spin` (one word bounced by spinning: a
//!   cache-line round trip) and `futex` (a blocking wake-up), both [`crate::Channel`]s; and
//!   [`ReadAcross`] (`read-across`), the bulk group's: the other process copying a buffer
//!   this one wrote.
//! - Start floors, [`SpawnFloor`]: [`fork_exit`] (`fork-exit`: fork, the child exits at once,
//!   the parent waits) and [`exec_self`] (`exec-self`: spawn this same executable in a mode
//!   that exits at once, [`EXIT_AT_ONCE_ENV`], handled first thing by
//!   [`crate::serve_if_child`]): what every process model pays to start a worker.

use std::io;
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use concur_shm::mailbox::{Mailbox, Slot};
use concur_shm::{Segment, Wait, pid_gone};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::ForkResult;

use crate::child::echo_child;
use crate::peers::shm::channel_wait;
use crate::peers::shm_err;
use crate::{Channel, RoundTrip};

/// The mailbox value that tells a floor echo child to exit.
pub(crate) const QUIT: u32 = u32::MAX;

/// A start floor of the `spawn` group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnFloor {
    /// Fork; the child exits at once.
    ForkExit,
    /// Spawn this executable, which exits at once.
    ExecSelf,
}

impl SpawnFloor {
    /// Both, cheapest first.
    pub const ALL: [SpawnFloor; 2] = [SpawnFloor::ForkExit, SpawnFloor::ExecSelf];

    /// Its name in the `spawn` group.
    pub fn name(self) -> &'static str {
        match self {
            SpawnFloor::ForkExit => "fork-exit",
            SpawnFloor::ExecSelf => "exec-self",
        }
    }

    /// Starts one process and waits for it.
    pub fn run(self) -> io::Result<()> {
        match self {
            SpawnFloor::ForkExit => fork_exit(),
            SpawnFloor::ExecSelf => exec_self(),
        }
    }
}

/// Set in a child's environment: [`crate::serve_if_child`] exits at once (status 0).
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

/// The floor: a child that copies the ping word into the pong word.
pub(crate) struct FloorPeer {
    child: Child,
    mailbox: Mailbox,
    wait: Wait,
    last: u32,
}

impl FloorPeer {
    pub(crate) fn start(channel: Channel) -> io::Result<Self> {
        Self::start_with(channel.name(), channel_wait(channel), Stdio::null())
    }

    /// The floor peer `role` (a floor channel's name, or [`READ_ACROSS`]), its mailbox as
    /// stdin and `stdout` as given.
    fn start_with(role: &str, wait: Wait, stdout: Stdio) -> io::Result<Self> {
        let mailbox = Mailbox::create().map_err(shm_err)?;
        let child = echo_child(
            role,
            Stdio::from(mailbox.segment().fd().try_clone_to_owned()?),
            stdout,
        )?;
        Ok(FloorPeer {
            child,
            mailbox,
            wait,
            last: 0,
        })
    }
}

impl RoundTrip for FloorPeer {
    /// The payload is ignored: a floor moves one word.
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        let next = if self.last + 1 == QUIT {
            1
        } else {
            self.last + 1
        };
        self.mailbox.post(Slot::Ping, next, self.wait);
        let pid = self.child.id();
        let got = self
            .mailbox
            .wait_change(Slot::Pong, self.last, self.wait, || pid_gone(pid))
            .map_err(shm_err)?;
        if got != next {
            return Err(io::Error::other(format!(
                "floor peer answered {got}, expected {next}"
            )));
        }
        self.last = next;
        Ok(())
    }
}

impl Drop for FloorPeer {
    fn drop(&mut self) {
        self.mailbox.post(Slot::Ping, QUIT, self.wait);
        let _ = self.child.wait();
    }
}

/// The bulk group's floor under a copying channel, `read-across`: the least a transfer
/// between two processes must do is have the receiver pull the bytes the sender wrote, from
/// the sender's cache to its own. This process writes the bytes into a shared buffer (not
/// timed), then times one spinning signal, the other process copying the whole buffer out,
/// and its answer. `memcpy` is the same copy within one core; the two differ by what the
/// machine charges for moving cache lines between the cores the processes run on, which on a
/// VM changes with where the host places its virtual CPUs.
pub struct ReadAcross {
    floor: FloorPeer,
    data: Segment,
}

/// The name of the [`ReadAcross`] floor in the bulk group.
pub const READ_ACROSS: &str = "read-across";

impl ReadAcross {
    /// Starts the reading process, with a shared buffer of `bytes` bytes (at least 1).
    pub fn start(bytes: usize) -> io::Result<ReadAcross> {
        let data = Segment::create(READ_ACROSS, bytes).map_err(shm_err)?;
        let floor = FloorPeer::start_with(
            READ_ACROSS,
            Wait::Spin,
            Stdio::from(data.fd().try_clone_to_owned()?),
        )?;
        Ok(ReadAcross { floor, data })
    }

    /// The shared buffer's length: what [`ReadAcross::transfer`] takes.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    /// Writes `payload` (as long as the buffer) into the shared buffer, then times the other
    /// process copying it out: from the signal to its answer.
    pub fn transfer(&mut self, payload: &[u8]) -> io::Result<std::time::Duration> {
        if payload.len() != self.data.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "{} bytes for a buffer of {}",
                    payload.len(),
                    self.data.len()
                ),
            ));
        }
        self.data.write(0, payload).map_err(shm_err)?;
        let t = Instant::now();
        self.floor.round_trip(&[])?;
        Ok(t.elapsed())
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
