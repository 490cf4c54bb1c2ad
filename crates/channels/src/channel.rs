//! The registry of channels: every channel and floor `concur pingpong` and the `ipc` bench
//! measure, by [`Channel`], each with what it connects and the floor it is read against.

use std::io;

use serde::{Deserialize, Serialize};

use crate::RoundTrip;
use crate::floors::FloorPeer;
use crate::peers::{
    IceoryxPeer, IpcPeer, LatchPeer, LoanPeer, RelayPeer, ShmPeer, StreamPeer, ThreadPeer,
};

/// A channel or floor, by CLI name ([`Channel::name`]): a typo in code is a compile error,
/// one in a command line is [`unknown_channel`]'s message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// crossbeam bounded channels between two threads.
    Crossbeam,
    /// std's `sync_channel` between two threads.
    StdMpsc,
    /// tokio mpsc between a thread and a task.
    TokioMpsc,
    /// A child's stdin and stdout.
    Pipe,
    /// A Unix stream socket pair.
    UnixSocket,
    /// A loopback TCP connection.
    Tcp,
    /// ipc-channel byte channels.
    IpcChannel,
    /// concur-shm rings, both ends spinning.
    ShmSpin,
    /// concur-shm rings, sleeping on a futex whenever they wait.
    ShmFutex,
    /// concur-shm rings with the pool's own wait: spin, then sleep on a futex.
    ShmAdaptive,
    /// concur-shm slots, zero-copy.
    ShmLoan,
    /// iceoryx2 publish-subscribe.
    Iceoryx2,
    /// Floor: one word bounced by spinning.
    AtomicSpin,
    /// Floor: one word bounced by futex wait and wake.
    Futex,
    /// Floor: a word posted to a spinning thread, answered through a mutex and condvar.
    Latch,
    /// Floor: a word over loopback TCP through a send and a receive thread a side, as
    /// timely-dataflow relays its workers' messages.
    TcpRelay,
}

impl Channel {
    /// Every channel and floor, in report order (channels first, then the floors).
    pub const ALL: [Channel; 16] = [
        Channel::Crossbeam,
        Channel::StdMpsc,
        Channel::TokioMpsc,
        Channel::Pipe,
        Channel::UnixSocket,
        Channel::Tcp,
        Channel::IpcChannel,
        Channel::ShmSpin,
        Channel::ShmFutex,
        Channel::ShmAdaptive,
        Channel::ShmLoan,
        Channel::Iceoryx2,
        Channel::AtomicSpin,
        Channel::Futex,
        Channel::Latch,
        Channel::TcpRelay,
    ];

    /// Its CLI name, e.g. `shm-spin`.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Crossbeam => "crossbeam",
            Channel::StdMpsc => "std-mpsc",
            Channel::TokioMpsc => "tokio-mpsc",
            Channel::Pipe => "pipe",
            Channel::UnixSocket => "unix-socket",
            Channel::Tcp => "tcp",
            Channel::IpcChannel => "ipc-channel",
            Channel::ShmSpin => "shm-spin",
            Channel::ShmFutex => "shm-futex",
            Channel::ShmAdaptive => "shm-adaptive",
            Channel::ShmLoan => "shm-loan",
            Channel::Iceoryx2 => "iceoryx2",
            Channel::AtomicSpin => "atomic-spin",
            Channel::Futex => "futex",
            Channel::Latch => "latch",
            Channel::TcpRelay => "tcp-relay",
        }
    }

    /// The channel called `name`, if there is one.
    pub fn parse(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == name)
    }

    /// Whether both ends spin while they wait (never sleep): such a pair's round trip is a
    /// few cache-line transfers between two CPUs, so where the two ends run decides it, and
    /// a comparison pins them ([`crate::pin`]).
    pub fn spins(self) -> bool {
        matches!(
            self,
            Channel::ShmSpin | Channel::ShmLoan | Channel::Iceoryx2 | Channel::AtomicSpin
        )
    }

    /// Its registry entry.
    pub fn spec(self) -> &'static ChannelSpec {
        CHANNEL_SPECS
            .iter()
            .find(|s| s.channel == self)
            .expect("every channel has a registry entry (a test checks)")
    }

    /// Opens it: starts its peer thread or echo process.
    pub fn open(self) -> io::Result<Box<dyn RoundTrip>> {
        Ok(match self {
            Channel::Crossbeam => Box::new(ThreadPeer::crossbeam()),
            Channel::StdMpsc => Box::new(ThreadPeer::std_mpsc()),
            Channel::TokioMpsc => Box::new(ThreadPeer::tokio_mpsc()?),
            Channel::Pipe => Box::new(StreamPeer::pipe()?),
            Channel::UnixSocket => Box::new(StreamPeer::unix_socket()?),
            Channel::Tcp => Box::new(StreamPeer::tcp()?),
            Channel::IpcChannel => Box::new(IpcPeer::start()?),
            Channel::ShmSpin | Channel::ShmFutex | Channel::ShmAdaptive => {
                Box::new(ShmPeer::start(self)?)
            }
            Channel::ShmLoan => Box::new(LoanPeer::start()?),
            Channel::Iceoryx2 => Box::new(IceoryxPeer::start()?),
            Channel::AtomicSpin | Channel::Futex => Box::new(FloorPeer::start(self)?),
            Channel::Latch => Box::new(LatchPeer::start()?),
            Channel::TcpRelay => Box::new(RelayPeer::start()?),
        })
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Which two ends a channel connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peers {
    /// Two threads of this process.
    Threads,
    /// A thread and a tokio task.
    ThreadAndTask,
    /// This process and an echo child process.
    Processes,
}

/// A channel `concur pingpong` and the `ipc` bench measure: one registry entry each.
#[derive(Debug)]
pub struct ChannelSpec {
    /// Which channel.
    pub channel: Channel,
    /// What it connects.
    pub peers: Peers,
    /// One line saying what it is.
    pub summary: &'static str,
    /// A floor (one word bounced between two processes) rather than a channel: it carries
    /// no payload, so it is not in the bulk-transfer group.
    pub is_floor: bool,
    /// The floor this channel is read against, if any.
    pub floor: Option<Channel>,
    /// The most its round trip may cost over its floor's, if concur sets itself a target
    /// (the report's "floors and peers" table).
    pub target: Option<f64>,
}

impl ChannelSpec {
    /// Its CLI name.
    pub fn name(&self) -> &'static str {
        self.channel.name()
    }
}

static CHANNEL_SPECS: &[ChannelSpec] = &[
    ChannelSpec {
        channel: Channel::Crossbeam,
        peers: Peers::Threads,
        summary: "a crossbeam bounded channel each way",
        is_floor: false,
        floor: None,
        target: None,
    },
    ChannelSpec {
        channel: Channel::StdMpsc,
        peers: Peers::Threads,
        summary: "a std::sync::mpsc sync_channel (bounded) each way",
        is_floor: false,
        floor: None,
        target: None,
    },
    ChannelSpec {
        channel: Channel::TokioMpsc,
        peers: Peers::ThreadAndTask,
        summary: "tokio mpsc channels between a thread and a task on a runtime",
        is_floor: false,
        floor: None,
        target: None,
    },
    ChannelSpec {
        channel: Channel::Pipe,
        peers: Peers::Processes,
        summary: "the child's stdin and stdout pipes, length-prefixed",
        is_floor: false,
        floor: Some(Channel::Futex),
        target: None,
    },
    ChannelSpec {
        channel: Channel::UnixSocket,
        peers: Peers::Processes,
        summary: "a Unix stream socket pair, length-prefixed",
        is_floor: false,
        floor: Some(Channel::Futex),
        target: None,
    },
    ChannelSpec {
        channel: Channel::Tcp,
        peers: Peers::Processes,
        summary: "a loopback TCP connection (TCP_NODELAY), length-prefixed (what cluster's timely processes talk over)",
        is_floor: false,
        floor: Some(Channel::Futex),
        target: None,
    },
    ChannelSpec {
        channel: Channel::IpcChannel,
        peers: Peers::Processes,
        summary: "ipc-channel byte channels (what process-pool uses)",
        is_floor: false,
        floor: Some(Channel::Futex),
        target: None,
    },
    ChannelSpec {
        channel: Channel::ShmSpin,
        peers: Peers::Processes,
        summary: "concur-shm rings in one shared segment, both ends spinning",
        is_floor: false,
        floor: Some(Channel::AtomicSpin),
        target: Some(1.5),
    },
    ChannelSpec {
        channel: Channel::ShmFutex,
        peers: Peers::Processes,
        summary: "concur-shm rings, sleeping on a futex whenever they wait (no spin phase): the blocking path alone",
        is_floor: false,
        floor: Some(Channel::Futex),
        target: None,
    },
    ChannelSpec {
        channel: Channel::ShmAdaptive,
        peers: Peers::Processes,
        summary: "concur-shm rings with shm-pool's own wait: spin up to 2 000 checks, then sleep on a futex (what shm-pool uses)",
        is_floor: false,
        floor: Some(Channel::AtomicSpin),
        target: None,
    },
    ChannelSpec {
        channel: Channel::ShmLoan,
        peers: Peers::Processes,
        summary: "concur-shm slots: each message written into a loaned slot and read in place (zero-copy), both ends spinning",
        is_floor: false,
        floor: Some(Channel::AtomicSpin),
        target: None,
    },
    ChannelSpec {
        channel: Channel::Iceoryx2,
        peers: Peers::Processes,
        summary: "iceoryx2 0.10 publish-subscribe of byte slices, written into loaned samples, both ends polling (the best-known Rust shared-memory IPC, for comparison)",
        is_floor: false,
        floor: Some(Channel::AtomicSpin),
        target: None,
    },
    ChannelSpec {
        channel: Channel::AtomicSpin,
        peers: Peers::Processes,
        summary: "floor: one 32-bit word in shared memory handed back and forth by spinning (a cache-line round trip)",
        is_floor: true,
        floor: None,
        target: None,
    },
    ChannelSpec {
        channel: Channel::Futex,
        peers: Peers::Processes,
        summary: "floor: one word handed back and forth by futex wait and wake (a blocking wake-up)",
        is_floor: true,
        floor: None,
        target: None,
    },
    ChannelSpec {
        channel: Channel::Latch,
        peers: Peers::Threads,
        summary: "floor: a caller outside a rayon pool handing work in, with nothing of rayon's around it: a word posted to a thread that idles as a rayon worker does (33 yields, then sleep on a condvar), the answer awaited on a mutex and condvar (`install`'s `LockLatch`)",
        is_floor: true,
        floor: None,
        target: None,
    },
    ChannelSpec {
        channel: Channel::TcpRelay,
        peers: Peers::Processes,
        summary: "floor: one word handed by the caller to a worker thread, over loopback TCP through a send and a receive thread a side, to the peer's worker and back, every waiting thread polling for 200 µs before it blocks (timely's network threads with concur-cluster's caller and workers: what cluster uses)",
        is_floor: true,
        floor: Some(Channel::Tcp),
        target: None,
    },
];

/// Every channel and floor, in report order (channels first, then the floors).
pub fn channels() -> &'static [ChannelSpec] {
    CHANNEL_SPECS
}

/// `unknown channel 'x' (valid: …; floors: …)`: every name, for an error message.
pub fn unknown_channel(name: &str) -> String {
    let names = |floor: bool| {
        CHANNEL_SPECS
            .iter()
            .filter(|c| c.is_floor == floor)
            .map(ChannelSpec::name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "unknown channel '{name}' (valid: {}; floors: {})",
        names(false),
        names(true)
    )
}

/// Opens the channel called `name` (starting its peer thread or process).
pub fn open(name: &str) -> io::Result<Box<dyn RoundTrip>> {
    match Channel::parse(name) {
        Some(channel) => channel.open(),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            unknown_channel(name),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_has_one_entry_in_order() {
        let listed: Vec<Channel> = channels().iter().map(|s| s.channel).collect();
        assert_eq!(listed, Channel::ALL);
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.name()), Some(c));
            assert_eq!(c.spec().channel, c);
        }
        assert_eq!(Channel::parse("shm-spinn"), None);
        assert!(unknown_channel("x").contains("floors: atomic-spin, futex"));
    }
}
