//! How an echo child is started and what it answers: the part of the echo every peer
//! shares, so the peers and floors that start one depend on this alone, not on the serving
//! side (`serve_echo`, which depends on them).

use std::io;
use std::process::{Child, Command, Stdio};

/// Set in an echo child's environment: which channel to serve (and, for `ipc-channel`, the
/// one-shot server to connect to, after a colon).
pub const ECHO_ENV: &str = "CONCUR_ECHO_CHANNEL";

/// Starts this executable again as the echo peer `role`: a channel's name, or
/// [`READ_ACROSS`], and for some an argument after a colon.
/// While a pair is pinned ([`crate::pin::Pinned`]) the child pins itself to the pair's
/// child CPU.
pub(crate) fn echo_child(role: &str, stdin: Stdio, stdout: Stdio) -> io::Result<Child> {
    let mut command = Command::new(std::env::current_exe()?);
    command.env(ECHO_ENV, role).stdin(stdin).stdout(stdout);
    match crate::pin::child_cpu() {
        Some(cpu) => command.env(crate::pin::PIN_ENV, cpu.to_string()),
        None => command.env_remove(crate::pin::PIN_ENV),
    };
    command.spawn()
}

/// The echo rule: a payload of at most 8 bytes comes back as itself, a longer one as its
/// length (8 bytes, an acknowledgement). On the stack: an echo allocates nothing per message.
pub(crate) fn answer(msg: &[u8]) -> Answer {
    let mut bytes = [0u8; 8];
    let len = if let Ok(word) = <[u8; 8]>::try_from(msg) {
        // The ping-pong's own size: a fixed-size copy, inline.
        bytes = word;
        8
    } else if msg.len() < 8 {
        bytes[..msg.len()].copy_from_slice(msg);
        msg.len()
    } else {
        bytes = (msg.len() as u64).to_le_bytes();
        8
    };
    Answer { bytes, len }
}

/// An echo's answer: at most 8 bytes.
pub(crate) struct Answer {
    bytes: [u8; 8],
    len: usize,
}

impl Answer {
    /// The bytes to send back.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}
