//! Round trips of a small message, and 1 MiB transfers, over every channel concur compares:
//! the floors the models are measured against.
//!
//! Every channel is one entry of [`channels`]. Thread channels run between two threads (or a
//! thread and a tokio task); process channels and the floors run between this process and an
//! echo child: this
//! same executable started again with [`ECHO_ENV`] set, which [`crate::init_workers`] turns
//! into [`serve_echo`].
//!
//! Wire format on the byte streams: `[len: u32 LE][payload]`. The echo peer answers a payload
//! of at most 8 bytes with the payload itself (ping-pong) and a longer one with its length as
//! 8 bytes (an acknowledgement: bulk transfer).

use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::process::{Child, ChildStdin, ChildStdout, Stdio};
use std::thread;
use std::time::Instant;

use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender, IpcOneShotServer, IpcSender};
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use concur_shm::mailbox::{Mailbox, Slot};
use concur_shm::ring::{self, Receiver, Sender};
use concur_shm::{Segment, Wait, pid_gone, slots};

use crate::stats::Summary;

pub use crate::peer::{ECHO_ENV, RoundTrip};
use crate::peer::{answer, echo_child};

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

/// The spinning shared-memory ring's channel name (read against its floor and its peer).
pub const SHM_SPIN: &str = "shm-spin";

/// The zero-copy shared-memory channel's name (concur-shm's slots, both ends spinning).
pub const SHM_LOAN: &str = "shm-loan";

/// A channel `concur pingpong` and the `ipc` bench measure: one registry entry each.
#[derive(Debug)]
pub struct ChannelSpec {
    /// CLI name.
    pub name: &'static str,
    /// What it connects.
    pub peers: Peers,
    /// One line saying what it is.
    pub summary: &'static str,
    /// A floor (one word bounced between two processes) rather than a channel: it carries
    /// no payload, so it is not in the bulk-transfer group.
    pub is_floor: bool,
    /// The floor this channel is read against, if any.
    pub floor: Option<&'static str>,
    /// The model whose transport this channel is, if any: one empty task through that
    /// model is benched beside it (`MODEL-task` in `ipc/pingpong`) to read the model's
    /// overhead against its transport.
    pub transport_of: Option<&'static str>,
    open: fn() -> io::Result<Box<dyn RoundTrip>>,
}

static CHANNEL_SPECS: &[ChannelSpec] = &[
    ChannelSpec {
        name: "crossbeam",
        peers: Peers::Threads,
        summary: "a crossbeam bounded channel each way",
        is_floor: false,
        floor: None,
        transport_of: None,
        open: || Ok(Box::new(ThreadPeer::crossbeam())),
    },
    ChannelSpec {
        name: "std-mpsc",
        peers: Peers::Threads,
        summary: "a std::sync::mpsc sync_channel (bounded) each way",
        is_floor: false,
        floor: None,
        transport_of: None,
        open: || Ok(Box::new(ThreadPeer::std_mpsc())),
    },
    ChannelSpec {
        name: "tokio-mpsc",
        peers: Peers::ThreadAndTask,
        summary: "tokio mpsc channels between a thread and a task on a runtime",
        is_floor: false,
        floor: None,
        transport_of: None,
        open: || Ok(Box::new(ThreadPeer::tokio_mpsc()?)),
    },
    ChannelSpec {
        name: "pipe",
        peers: Peers::Processes,
        summary: "the child's stdin and stdout pipes, length-prefixed",
        is_floor: false,
        floor: Some("futex"),
        transport_of: None,
        open: || Ok(Box::new(StreamPeer::pipe()?)),
    },
    ChannelSpec {
        name: "unix-socket",
        peers: Peers::Processes,
        summary: "a Unix stream socket pair, length-prefixed",
        is_floor: false,
        floor: Some("futex"),
        transport_of: None,
        open: || Ok(Box::new(StreamPeer::unix_socket()?)),
    },
    ChannelSpec {
        name: "tcp",
        peers: Peers::Processes,
        summary: "a loopback TCP connection (TCP_NODELAY), length-prefixed (what cluster's timely processes talk over)",
        is_floor: false,
        floor: Some("futex"),
        transport_of: Some(crate::names::CLUSTER),
        open: || Ok(Box::new(StreamPeer::tcp()?)),
    },
    ChannelSpec {
        name: "ipc-channel",
        peers: Peers::Processes,
        summary: "ipc-channel byte channels (what process-pool uses)",
        is_floor: false,
        floor: Some("futex"),
        transport_of: Some(crate::names::PROCESS_POOL),
        open: || Ok(Box::new(IpcPeer::start()?)),
    },
    ChannelSpec {
        name: SHM_SPIN,
        peers: Peers::Processes,
        summary: "concur-shm rings in one shared segment, both ends spinning",
        is_floor: false,
        floor: Some("atomic-spin"),
        transport_of: None,
        open: || Ok(Box::new(ShmPeer::start(SHM_SPIN)?)),
    },
    ChannelSpec {
        name: "shm-futex",
        peers: Peers::Processes,
        summary: "concur-shm rings, spin briefly then sleep on a futex (what shm-pool uses)",
        is_floor: false,
        floor: Some("futex"),
        transport_of: Some(crate::names::SHM_POOL),
        open: || Ok(Box::new(ShmPeer::start("shm-futex")?)),
    },
    ChannelSpec {
        name: SHM_LOAN,
        peers: Peers::Processes,
        summary: "concur-shm slots: each message written into a loaned slot and read in place (zero-copy), both ends spinning",
        is_floor: false,
        floor: Some("atomic-spin"),
        transport_of: None,
        open: || Ok(Box::new(LoanPeer::start()?)),
    },
    ChannelSpec {
        name: crate::iceoryx::CHANNEL,
        peers: Peers::Processes,
        summary: "iceoryx2 0.10 publish-subscribe of byte slices, written into loaned samples, both ends polling (the best-known Rust shared-memory IPC, for comparison)",
        is_floor: false,
        floor: Some("atomic-spin"),
        transport_of: None,
        open: || Ok(Box::new(crate::iceoryx::IceoryxPeer::start()?)),
    },
    ChannelSpec {
        name: "atomic-spin",
        peers: Peers::Processes,
        summary: "floor: one 32-bit word in shared memory handed back and forth by spinning (a cache-line round trip)",
        is_floor: true,
        floor: None,
        transport_of: None,
        open: || Ok(Box::new(FloorPeer::start("atomic-spin")?)),
    },
    ChannelSpec {
        name: "futex",
        peers: Peers::Processes,
        summary: "floor: one word handed back and forth by futex wait and wake (a blocking wake-up)",
        is_floor: true,
        floor: None,
        transport_of: None,
        open: || Ok(Box::new(FloorPeer::start("futex")?)),
    },
];

/// How many workers `model` needs for one empty task to cross its transport (its
/// `MODEL-task` benchmark): a pool's one worker; two processes for `cluster`, whose unit 0
/// runs on process 1 (process 0 is the caller).
pub fn transport_workers(model: &str) -> usize {
    if model == crate::names::CLUSTER { 2 } else { 1 }
}

/// Every channel and floor, in report order (channels first, then the floors).
pub fn channels() -> &'static [ChannelSpec] {
    CHANNEL_SPECS
}

/// The channel or floor called `name`, if there is one.
pub fn channel(name: &str) -> Option<&'static ChannelSpec> {
    CHANNEL_SPECS.iter().find(|c| c.name == name)
}

/// `unknown channel 'x' (valid: …; floors: …)`: every name, for an error message.
pub fn unknown_channel(name: &str) -> String {
    let names = |floor: bool| {
        CHANNEL_SPECS
            .iter()
            .filter(|c| c.is_floor == floor)
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "unknown channel '{name}' (valid: {}; floors: {})",
        names(false),
        names(true)
    )
}

/// Ring capacity for the shm channels: room for the 1 MiB bulk message.
const SHM_RING: usize = 4 << 20;

/// The mailbox value that tells a floor echo child to exit.
const QUIT: u32 = u32::MAX;

/// The largest message an echo peer accepts: lengths come from another process.
const MAX_MESSAGE: usize = 64 << 20;

/// Untimed round trips before measuring.
pub(crate) const WARMUP: usize = 200;

/// What `concur pingpong` reports.
#[derive(Clone, Debug, Serialize)]
pub struct PingPongReport {
    /// The channel, floor or pool task.
    pub channel: String,
    /// Bytes sent each round trip (the answer: at most 8).
    pub bytes: usize,
    /// How many round trips were timed.
    pub round_trips: usize,
    /// Median round trip, ns.
    pub median_ns: f64,
    /// 99th percentile, ns.
    pub p99_ns: f64,
    /// Fastest, ns.
    pub min_ns: f64,
    /// Mean, ns (bimodal on a busy machine: read the median first).
    pub mean_ns: f64,
}

/// Opens `channel` (starting its peer thread or process).
pub fn open(channel: &str) -> io::Result<Box<dyn RoundTrip>> {
    match self::channel(channel) {
        Some(spec) => (spec.open)(),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            unknown_channel(channel),
        )),
    }
}

/// The largest payload [`time_round_trips`] sends: the bulk group's 1 MiB, which every channel
/// carries.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// Times `round_trips` round trips of `bytes` bytes (at most [`MAX_PAYLOAD`]; the peer
/// answers at most 8) through `peer`, already opened on `channel`, one sample per round
/// trip.
pub fn time_round_trips(
    channel: &str,
    peer: &mut dyn RoundTrip,
    round_trips: usize,
    bytes: usize,
) -> io::Result<PingPongReport> {
    if bytes > MAX_PAYLOAD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{bytes} bytes exceed the {MAX_PAYLOAD} a ping-pong sends"),
        ));
    }
    let msg: Vec<u8> = (0..bytes).map(|i| i as u8).collect();
    for _ in 0..WARMUP {
        peer.round_trip(&msg)?;
    }
    let mut samples = Vec::with_capacity(round_trips);
    for _ in 0..round_trips {
        let t = Instant::now();
        peer.round_trip(&msg)?;
        samples.push(t.elapsed().as_nanos() as f64);
    }
    let s = Summary::of(&samples).expect("round_trips >= 1");
    Ok(PingPongReport {
        channel: channel.to_owned(),
        bytes,
        round_trips,
        median_ns: s.median,
        p99_ns: s.p99,
        min_ns: s.min,
        mean_ns: s.mean,
    })
}

// ---- threads -------------------------------------------------------------------------

/// A peer thread that answers over a pair of in-process channels. Messages are `Vec<u8>`
/// moved (not copied) between threads: that is what sharing an address space buys.
struct ThreadPeer {
    send: Box<dyn FnMut(Vec<u8>) -> bool>,
    recv: Box<dyn FnMut() -> Option<Vec<u8>>>,
    buf: Vec<u8>,
    peer: Option<thread::JoinHandle<()>>,
}

/// A [`ThreadPeer`] over two bounded(1) channels made by `$bounded`: crossbeam's and std's
/// have the same `send`/`recv` shape but no common trait.
macro_rules! thread_peer {
    ($bounded:expr) => {{
        let (to_peer, peer_rx) = $bounded;
        let (peer_tx, from_peer) = $bounded;
        let peer = thread::spawn(move || {
            while let Ok(m) = peer_rx.recv() {
                if peer_tx.send(m).is_err() {
                    break;
                }
            }
        });
        ThreadPeer {
            send: Box::new(move |m| to_peer.send(m).is_ok()),
            recv: Box::new(move || from_peer.recv().ok()),
            buf: Vec::new(),
            peer: Some(peer),
        }
    }};
}

impl ThreadPeer {
    fn crossbeam() -> Self {
        thread_peer!(crossbeam_channel::bounded::<Vec<u8>>(1))
    }

    fn std_mpsc() -> Self {
        thread_peer!(std::sync::mpsc::sync_channel::<Vec<u8>>(1))
    }

    /// The peer is a tokio task on a current-thread runtime of its own thread; this side
    /// blocks in `blocking_send` / `blocking_recv`: tokio's bounded mpsc between a thread
    /// and a task.
    fn tokio_mpsc() -> io::Result<Self> {
        let (to_peer, mut peer_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let (peer_tx, mut from_peer) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let rt = tokio::runtime::Builder::new_current_thread().build()?;
        let peer = thread::Builder::new()
            .name("concur-tokio-echo".into())
            .spawn(move || {
                rt.block_on(async move {
                    while let Some(m) = peer_rx.recv().await {
                        if peer_tx.send(m).await.is_err() {
                            break;
                        }
                    }
                })
            })?;
        Ok(ThreadPeer {
            send: Box::new(move |m| to_peer.blocking_send(m).is_ok()),
            recv: Box::new(move || from_peer.blocking_recv()),
            buf: Vec::new(),
            peer: Some(peer),
        })
    }
}

impl RoundTrip for ThreadPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        // Reuse the buffer that came back, so a round trip allocates nothing.
        let mut m = std::mem::take(&mut self.buf);
        if m.len() != payload.len() {
            m = payload.to_vec();
        }
        let lost = || io::Error::new(io::ErrorKind::BrokenPipe, "peer thread gone");
        if !(self.send)(m) {
            return Err(lost());
        }
        self.buf = (self.recv)().ok_or_else(lost)?;
        Ok(())
    }
}

impl Drop for ThreadPeer {
    fn drop(&mut self) {
        // Dropping the sender (inside `send`) ends the peer's loop.
        self.send = Box::new(|_| false);
        if let Some(p) = self.peer.take() {
            let _ = p.join();
        }
    }
}

// ---- byte streams between processes ----------------------------------------------------

/// An echo child over a byte stream: two pipes, or one socket.
struct StreamPeer {
    child: Child,
    writer: Box<dyn Write + Send>,
    reader: Box<dyn Read + Send>,
    ack: [u8; 8],
}

impl StreamPeer {
    fn pipe() -> io::Result<Self> {
        let mut child = echo_child("pipe", Stdio::piped(), Stdio::piped())?;
        let writer: ChildStdin = child.stdin.take().expect("piped");
        let reader: ChildStdout = child.stdout.take().expect("piped");
        Ok(StreamPeer {
            child,
            writer: Box::new(writer),
            reader: Box::new(reader),
            ack: [0; 8],
        })
    }

    /// A loopback TCP connection: accepted here, the child gets the other end as its stdin.
    fn tcp() -> io::Result<Self> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let theirs = std::net::TcpStream::connect(listener.local_addr()?)?;
        let (ours, _) = listener.accept()?;
        ours.set_nodelay(true)?;
        theirs.set_nodelay(true)?;
        let child = echo_child("tcp", Stdio::from(OwnedFd::from(theirs)), Stdio::null())?;
        Ok(StreamPeer {
            child,
            writer: Box::new(ours.try_clone()?),
            reader: Box::new(ours),
            ack: [0; 8],
        })
    }

    fn unix_socket() -> io::Result<Self> {
        let (ours, theirs) = UnixStream::pair()?;
        let child = echo_child(
            "unix-socket",
            Stdio::from(OwnedFd::from(theirs)),
            Stdio::null(),
        )?;
        Ok(StreamPeer {
            child,
            writer: Box::new(ours.try_clone()?),
            reader: Box::new(ours),
            ack: [0; 8],
        })
    }
}

impl RoundTrip for StreamPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        let len = u32::try_from(payload.len()).map_err(|_| io::ErrorKind::InvalidInput)?;
        self.writer.write_all(&len.to_le_bytes())?;
        self.writer.write_all(payload)?;
        // The echo peer answers a short message with itself and a long one with 8 bytes.
        let answer = if payload.len() <= 8 { payload.len() } else { 8 };
        self.reader.read_exact(&mut self.ack[..answer])
    }
}

impl Drop for StreamPeer {
    fn drop(&mut self) {
        // End-of-file on its input ends the echo child: close our ends (both, as a socket's
        // reader and writer are the same connection).
        self.writer = Box::new(io::sink());
        self.reader = Box::new(io::empty());
        let _ = self.child.wait();
    }
}

// ---- ipc-channel ------------------------------------------------------------------------

/// What an ipc-channel echo child sends through the one-shot server.
#[derive(Serialize, Deserialize)]
struct EchoHello {
    to_child: IpcBytesSender,
    from_child: IpcBytesReceiver,
}

struct IpcPeer {
    child: Child,
    to_child: Option<IpcBytesSender>,
    from_child: IpcBytesReceiver,
}

impl IpcPeer {
    fn start() -> io::Result<Self> {
        let (server, name) = IpcOneShotServer::<EchoHello>::new()?;
        let mut child = echo_child(&format!("ipc-channel:{name}"), Stdio::null(), Stdio::null())?;
        // The child connects at once; if it died instead, unblock accept() and report it.
        let accepted = thread::scope(|s| {
            let acceptor = s.spawn(move || server.accept());
            loop {
                if acceptor.is_finished() {
                    return acceptor.join().ok().and_then(Result::ok);
                }
                if let Ok(Some(_)) = child.try_wait() {
                    drop(IpcSender::<EchoHello>::connect(name.clone()));
                    let _ = acceptor.join();
                    return None;
                }
                thread::sleep(std::time::Duration::from_micros(200));
            }
        });
        let Some((_, hello)) = accepted else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(
                "the ipc-channel echo child did not connect",
            ));
        };
        Ok(IpcPeer {
            child,
            to_child: Some(hello.to_child),
            from_child: hello.from_child,
        })
    }
}

impl RoundTrip for IpcPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.to_child
            .as_ref()
            .expect("open until drop")
            .send(payload)?;
        self.from_child
            .recv()
            .map(drop)
            .map_err(|e| io::Error::new(io::ErrorKind::BrokenPipe, format!("{e:?}")))
    }
}

impl Drop for IpcPeer {
    fn drop(&mut self) {
        drop(self.to_child.take());
        let _ = self.child.wait();
    }
}

// ---- shared memory ---------------------------------------------------------------------

/// `*-spin` channels only spin; `*futex` channels sleep on the futex whenever they wait
/// (no spin phase), so they measure the sleep/wake path itself.
fn shm_wait(channel: &str) -> Wait {
    if channel.ends_with("spin") || channel == READ_ACROSS {
        Wait::Spin
    } else {
        Wait::SpinThenFutex { spins: 0 }
    }
}

fn shm_err(e: concur_shm::Error) -> io::Error {
    io::Error::other(e.to_string())
}

/// An echo child over two shm rings: one each way. It gets them as stdin and stdout.
struct ShmPeer {
    child: Child,
    tx: Option<Sender>,
    rx: Receiver,
    buf: Vec<u8>,
}

impl ShmPeer {
    fn start(channel: &str) -> io::Result<Self> {
        let wait = shm_wait(channel);
        let create = if wait == Wait::Spin {
            ring::create_spinning
        } else {
            ring::create
        };
        let (to_child, from_child) = (
            create(SHM_RING).map_err(shm_err)?,
            create(SHM_RING).map_err(shm_err)?,
        );
        let tx = Sender::attach(&to_child, wait).map_err(shm_err)?;
        let rx = Receiver::attach(&from_child, wait).map_err(shm_err)?;
        let child = echo_child(
            channel,
            Stdio::from(to_child.fd().try_clone_to_owned()?),
            Stdio::from(from_child.fd().try_clone_to_owned()?),
        )?;
        Ok(ShmPeer {
            child,
            tx: Some(tx),
            rx,
            buf: Vec::new(),
        })
    }
}

impl RoundTrip for ShmPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.tx
            .as_mut()
            .expect("open until drop")
            .send(payload)
            .map_err(shm_err)?;
        self.rx.recv(&mut self.buf).map_err(shm_err)
    }
}

impl Drop for ShmPeer {
    fn drop(&mut self) {
        drop(self.tx.take()); // The child sees the ring closed and exits.
        let _ = self.child.wait();
    }
}

/// Slots per direction of the zero-copy channel: one being read while the next is filled.
const LOAN_SLOTS: u32 = 2;

/// Bytes per slot: the bulk group's 1 MiB and room for more (as the iceoryx2 channel).
const LOAN_SLOT_SIZE: usize = 2 << 20;

/// An echo child over two sets of concur-shm slots, one each way (stdin: ours to it,
/// stdout: its to us). Each message is written into a loaned slot and read in place.
struct LoanPeer {
    child: Child,
    tx: Option<slots::Lender>,
    rx: slots::Reader,
}

impl LoanPeer {
    fn start() -> io::Result<Self> {
        let to_child = slots::create_spinning(LOAN_SLOTS, LOAN_SLOT_SIZE).map_err(shm_err)?;
        let from_child = slots::create_spinning(LOAN_SLOTS, LOAN_SLOT_SIZE).map_err(shm_err)?;
        let mut tx = slots::Lender::attach(&to_child, Wait::Spin).map_err(shm_err)?;
        let mut rx = slots::Reader::attach(&from_child, Wait::Spin).map_err(shm_err)?;
        let child = echo_child(
            SHM_LOAN,
            Stdio::from(to_child.fd().try_clone_to_owned()?),
            Stdio::from(from_child.fd().try_clone_to_owned()?),
        )?;
        tx.expect_peer(child.id());
        rx.expect_peer(child.id());
        Ok(LoanPeer {
            child,
            tx: Some(tx),
            rx,
        })
    }
}

/// Writes `payload` into a slot loaned from `tx` and publishes it.
fn loan_send(tx: &mut slots::Lender, payload: &[u8]) -> concur_shm::Result<()> {
    let mut loan = tx.loan(payload.len())?;
    loan.copy_from_slice(payload);
    loan.publish()
}

impl RoundTrip for LoanPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        let tx = self.tx.as_mut().expect("open until drop");
        loan_send(tx, payload).map_err(shm_err)?;
        // Read in place; dropping the sample returns the slot.
        self.rx.recv().map(drop).map_err(shm_err)
    }
}

impl Drop for LoanPeer {
    fn drop(&mut self) {
        drop(self.tx.take()); // The child sees the sender gone and exits.
        let _ = self.child.wait();
    }
}

/// The floor: a child that copies the ping word into the pong word.
struct FloorPeer {
    child: Child,
    mailbox: Mailbox,
    wait: Wait,
    last: u32,
}

impl FloorPeer {
    fn start(channel: &str) -> io::Result<Self> {
        Self::start_with(channel, Stdio::null())
    }

    /// The floor peer of `channel`, its mailbox as stdin and `stdout` as given.
    fn start_with(channel: &str, stdout: Stdio) -> io::Result<Self> {
        let mailbox = Mailbox::create().map_err(shm_err)?;
        let child = echo_child(
            channel,
            Stdio::from(mailbox.segment().fd().try_clone_to_owned()?),
            stdout,
        )?;
        Ok(FloorPeer {
            child,
            mailbox,
            wait: shm_wait(channel),
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
        let floor =
            FloorPeer::start_with(READ_ACROSS, Stdio::from(data.fd().try_clone_to_owned()?))?;
        Ok(ReadAcross { floor, data })
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

// ---- the echo child ----------------------------------------------------------------------

/// Serves echo requests on `spec` (the value of [`ECHO_ENV`]) until end-of-file.
pub fn serve_echo(spec: &str) -> io::Result<()> {
    match spec.split_once(':') {
        Some((crate::iceoryx::CHANNEL, id)) => crate::iceoryx::serve_echo(id),
        Some(("ipc-channel", server)) => {
            let (to_child, rx) = ipc::bytes_channel()?;
            let (tx, from_child) = ipc::bytes_channel()?;
            IpcSender::connect(server.to_owned())?
                .send(EchoHello {
                    to_child,
                    from_child,
                })
                .map_err(|e| io::Error::other(format!("{e:?}")))?;
            while let Ok(msg) = rx.recv() {
                tx.send(answer(&msg).as_bytes())?;
            }
            Ok(())
        }
        None if spec == "pipe" => echo_stream(io::stdin().lock(), io::stdout().lock()),
        None if spec == SHM_SPIN || spec == "shm-futex" => {
            let wait = shm_wait(spec);
            let to_me = Arc::new(
                Segment::from_fd(io::stdin().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let from_me = Arc::new(
                Segment::from_fd(io::stdout().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let mut rx = Receiver::attach(&to_me, wait).map_err(shm_err)?;
            let mut tx = Sender::attach(&from_me, wait).map_err(shm_err)?;
            let mut buf = Vec::new();
            loop {
                match rx.recv(&mut buf) {
                    Ok(()) => tx.send(answer(&buf).as_bytes()).map_err(shm_err)?,
                    Err(concur_shm::Error::PeerGone(_)) => return Ok(()),
                    Err(e) => return Err(shm_err(e)),
                }
            }
        }
        None if spec == SHM_LOAN => {
            let to_me = Arc::new(
                Segment::from_fd(io::stdin().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let from_me = Arc::new(
                Segment::from_fd(io::stdout().as_fd().try_clone_to_owned()?).map_err(shm_err)?,
            );
            let mut rx = slots::Reader::attach(&to_me, Wait::Spin).map_err(shm_err)?;
            let mut tx = slots::Lender::attach(&from_me, Wait::Spin).map_err(shm_err)?;
            loop {
                // The answer is made from the slot in place, which is released before the reply.
                let reply = match rx.recv() {
                    Ok(sample) => answer(&sample),
                    Err(concur_shm::Error::PeerGone(_)) => return Ok(()),
                    Err(e) => return Err(shm_err(e)),
                };
                loan_send(&mut tx, reply.as_bytes()).map_err(shm_err)?;
            }
        }
        None if spec == "atomic-spin" || spec == "futex" || spec == READ_ACROSS => {
            let wait = shm_wait(spec);
            let seg =
                Segment::from_fd(io::stdin().as_fd().try_clone_to_owned()?).map_err(shm_err)?;
            let mailbox = Mailbox::from_segment(Arc::new(seg)).map_err(shm_err)?;
            // read-across: each signal, the whole shared buffer copied into our own.
            let data = if spec == READ_ACROSS {
                Some(
                    Segment::from_fd(io::stdout().as_fd().try_clone_to_owned()?)
                        .map_err(shm_err)?,
                )
            } else {
                None
            };
            let mut copy = vec![0u8; data.as_ref().map_or(0, Segment::len)];
            let parent = std::os::unix::process::parent_id();
            let mut last = 0;
            loop {
                let v = mailbox
                    .wait_change(Slot::Ping, last, wait, || pid_gone(parent))
                    .map_err(shm_err)?;
                if v == QUIT {
                    return Ok(());
                }
                if let Some(data) = &data {
                    data.read(0, &mut copy).map_err(shm_err)?;
                    std::hint::black_box(&copy);
                }
                mailbox.post(Slot::Pong, v, wait);
                last = v;
            }
        }
        None if spec == "unix-socket" => {
            let sock = UnixStream::from(io::stdin().as_fd().try_clone_to_owned()?);
            echo_stream(sock.try_clone()?, sock)
        }
        None if spec == "tcp" => {
            let sock = std::net::TcpStream::from(io::stdin().as_fd().try_clone_to_owned()?);
            echo_stream(sock.try_clone()?, sock)
        }
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown echo channel '{spec}'"),
        )),
    }
}

fn echo_stream(mut input: impl Read, mut output: impl Write) -> io::Result<()> {
    let mut len = [0u8; 4];
    let mut buf = Vec::new();
    loop {
        match input.read_exact(&mut len) {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            other => other?,
        }
        let n = u32::from_le_bytes(len) as usize;
        if n > MAX_MESSAGE {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("message of {n} bytes exceeds {MAX_MESSAGE}"),
            ));
        }
        buf.resize(n, 0);
        input.read_exact(&mut buf)?;
        output.write_all(answer(&buf).as_bytes())?;
        output.flush()?;
    }
}
