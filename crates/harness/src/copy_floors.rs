//! The bulk group's copy floors, as round trips: `memcpy` (this thread copying the MiB),
//! `copy-pair` (a copy on each CPU of the pinned pair at once) and `copy-across` (the MiB
//! written here and copied out on the other CPU as it is written: a copying channel's
//! transfer with no channel around it), and `read-across` (the MiB written here beforehand
//! and copied out by another process on the other CPU, only the copy out timed: the
//! receiving side's part of any transfer). Paired rounds read the copying ring against them.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use concur_channels::{ReadAcross, RoundTrip};
use concur_shm::Segment;

/// `memcpy` as a round trip: the payload copied into a buffer of this thread's (what the
/// `ipc/bulk-1MiB` group's `memcpy` benchmark times), so paired rounds can read a copying
/// channel against it.
#[derive(Default)]
pub(crate) struct MemcpyPeer {
    buf: Vec<u8>,
}

impl RoundTrip for MemcpyPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        if self.buf.len() != payload.len() {
            self.buf = vec![0; payload.len()];
        }
        self.buf.copy_from_slice(std::hint::black_box(payload));
        std::hint::black_box(&self.buf);
        Ok(())
    }
}

/// A helper thread on the pinned pair's other CPU (the thread it is started from has that
/// thread's one CPU: it moves), told to stop and joined on drop.
struct Helper {
    quit: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    name: &'static str,
}

impl Helper {
    /// Starts `work`, which runs until the flag it is given is set.
    fn start(
        name: &'static str,
        work: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> io::Result<Helper> {
        let quit = Arc::new(AtomicBool::new(false));
        let theirs = Arc::clone(&quit);
        let cpu = concur_channels::pin::child_cpu();
        let thread = std::thread::Builder::new()
            .name(format!("concur-{name}"))
            .spawn(move || {
                if let Some(cpu) = cpu {
                    concur_channels::pin::pin_this_thread(cpu).expect("the pair's other CPU");
                }
                work(&theirs);
            })?;
        Ok(Helper {
            quit,
            thread: Some(thread),
            name,
        })
    }

    /// Spins until `done()`; an error if the helper ended (it panicked) meanwhile.
    fn wait_until(&self, mut done: impl FnMut() -> bool) -> io::Result<()> {
        let mut spins = 0;
        while !done() {
            if spin(&mut spins) && self.thread.as_ref().is_none_or(|t| t.is_finished()) {
                return Err(io::Error::other(format!(
                    "the {} helper thread ended",
                    self.name
                )));
            }
        }
        Ok(())
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.quit.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Spins between yields: on one CPU the other thread needs the CPU to finish.
const SPINS_PER_YIELD: u32 = 1 << 10;

/// One step of a spinning wait: a spin hint, and a yield every [`SPINS_PER_YIELD`] steps
/// (`true` then).
fn spin(spins: &mut u32) -> bool {
    *spins = spins.wrapping_add(1);
    let yields = *spins % SPINS_PER_YIELD == 0;
    if yields {
        std::thread::yield_now();
    }
    std::hint::spin_loop();
    yields
}

/// What `copy-pair`'s two threads share: the round the helper is to copy for, the round it
/// has copied, and the payload's length.
#[derive(Default)]
struct PairState {
    go: AtomicU64,
    done: AtomicU64,
    len: AtomicUsize,
}

/// `copy-pair` as a round trip: each one, a helper thread (on the other CPU of a pinned
/// pair) copies a buffer of the payload's length while this thread copies the payload; the
/// round trip ends when both have.
pub(crate) struct CopyPairPeer {
    state: Arc<PairState>,
    helper: Helper,
    /// This thread's copy.
    own: MemcpyPeer,
}

impl CopyPairPeer {
    pub(crate) fn start() -> io::Result<CopyPairPeer> {
        let state = Arc::new(PairState::default());
        let theirs = Arc::clone(&state);
        let helper = Helper::start("copy-pair", move |quit| {
            let (mut src, mut dst) = (Vec::new(), Vec::new());
            let (mut last, mut spins) = (0, 0);
            while !quit.load(Ordering::Acquire) {
                let go = theirs.go.load(Ordering::Acquire);
                if go == last {
                    spin(&mut spins);
                    continue;
                }
                let len = theirs.len.load(Ordering::Acquire);
                if src.len() != len {
                    (src, dst) = (vec![0xa5u8; len], vec![0u8; len]);
                }
                dst.copy_from_slice(std::hint::black_box(&src));
                std::hint::black_box(&dst);
                last = go;
                theirs.done.store(go, Ordering::Release);
            }
        })?;
        Ok(CopyPairPeer {
            state,
            helper,
            own: MemcpyPeer::default(),
        })
    }
}

impl RoundTrip for CopyPairPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        let s = &self.state;
        s.len.store(payload.len(), Ordering::Release);
        let round = s.go.load(Ordering::Relaxed) + 1;
        s.go.store(round, Ordering::Release);
        self.own.round_trip(payload)?;
        self.helper
            .wait_until(|| s.done.load(Ordering::Acquire) == round)
    }
}

/// What `copy-across`'s two threads share: the buffer the MiB crosses, how many messages
/// have been started and the current one's length, how many bytes have been written in all
/// (published chunk by chunk), and how many messages the helper has copied out.
struct AcrossState {
    buffer: Segment,
    started: AtomicU64,
    len: AtomicUsize,
    published: AtomicU64,
    copied: AtomicU64,
}

/// Messages the `copy-across` buffer holds: as the copying ring's 4 MiB holds four of the
/// bulk group's MiB, so a message is written over lines read four messages ago.
const ACROSS_SLOTS: usize = 4;

/// `copy-across` as a round trip: this thread writes the payload into a shared buffer a
/// chunk at a time (the copying ring's chunk, [`concur_shm::ring::CHUNK`]), publishing each
/// chunk by a counter, while a helper thread on the pair's other CPU copies each published
/// chunk out into a buffer of its own; the round trip ends when the helper has the whole
/// payload. The copying ring's bulk transfer with no ring around it: no message words, no
/// header, no acknowledgement through a second ring. Between two threads of one process
/// (the buffer is a shared-memory segment, as the ring's): the same cache lines cross the
/// same two CPUs as between two processes.
pub(crate) struct CopyAcrossPeer {
    state: Arc<AcrossState>,
    helper: Helper,
    /// Messages sent (and copied out).
    sent: u64,
    /// Bytes published in all.
    published: u64,
}

impl CopyAcrossPeer {
    pub(crate) fn start(max_len: usize) -> io::Result<CopyAcrossPeer> {
        let buffer = Segment::create("concur-copy-across", (max_len * ACROSS_SLOTS).max(1))
            .map_err(|e| io::Error::other(e.to_string()))?;
        let state = Arc::new(AcrossState {
            buffer,
            started: AtomicU64::new(0),
            len: AtomicUsize::new(0),
            published: AtomicU64::new(0),
            copied: AtomicU64::new(0),
        });
        let theirs = Arc::clone(&state);
        let helper = Helper::start("copy-across", move |quit| copy_out(&theirs, quit))?;
        Ok(CopyAcrossPeer {
            state,
            helper,
            sent: 0,
            published: 0,
        })
    }
}

/// The helper's loop: each message, copy its chunks out as they are published.
fn copy_out(s: &AcrossState, quit: &AtomicBool) {
    let mut out = Vec::new();
    let (mut consumed, mut messages, mut spins) = (0u64, 0u64, 0);
    while !quit.load(Ordering::Acquire) {
        if s.started.load(Ordering::Acquire) == messages {
            spin(&mut spins);
            continue;
        }
        // Stored before `started`, which the load above acquired.
        let len = s.len.load(Ordering::Relaxed);
        out.resize(len, 0);
        let at = (messages as usize % ACROSS_SLOTS) * len;
        let mut got = 0;
        while got < len {
            let avail = ((s.published.load(Ordering::Acquire) - consumed) as usize).min(len);
            if avail == got {
                if quit.load(Ordering::Acquire) {
                    return;
                }
                spin(&mut spins);
                continue;
            }
            if s.buffer.read(at + got, &mut out[got..avail]).is_err() {
                return; // Out of the buffer: cannot happen with the lengths checked on send.
            }
            got = avail;
        }
        std::hint::black_box(&out);
        consumed += len as u64;
        messages += 1;
        s.copied.store(messages, Ordering::Release);
    }
}

impl RoundTrip for CopyAcrossPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        let s = &self.state;
        if payload.len() * ACROSS_SLOTS > s.buffer.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{} bytes exceed this copy-across buffer", payload.len()),
            ));
        }
        s.len.store(payload.len(), Ordering::Relaxed);
        s.started.store(self.sent + 1, Ordering::Release);
        let at = (self.sent as usize % ACROSS_SLOTS) * payload.len();
        let chunk_len = concur_shm::ring::CHUNK as usize;
        for (i, chunk) in payload.chunks(chunk_len).enumerate() {
            s.buffer
                .write(at + i * chunk_len, chunk)
                .map_err(|e| io::Error::other(e.to_string()))?;
            self.published += chunk.len() as u64;
            s.published.store(self.published, Ordering::Release);
        }
        self.sent += 1;
        let sent = self.sent;
        self.helper
            .wait_until(|| s.copied.load(Ordering::Acquire) == sent)
    }
}

/// `read-across` as a round trip ([`ReadAcross`]): the payload written into a buffer shared
/// with a process on the pair's other CPU (not timed), then one spinning signal, that
/// process copying the whole buffer out, and its answer (timed, by
/// [`RoundTrip::time_itself`]): the receiving side's part of any transfer between the two
/// CPUs, apart from the sender's copy in. Timed beside a copying channel (`concur pingpong
/// --beside read-across`), it says whether the copy out alone is what the placement makes
/// slow. The process is started at the first payload, and again when its length changes.
#[derive(Default)]
pub(crate) struct ReadAcrossPeer {
    across: Option<ReadAcross>,
}

impl ReadAcrossPeer {
    /// The reading process with a buffer of `payload`'s length; an empty payload is refused
    /// (nothing to copy across).
    fn for_payload(&mut self, payload: &[u8]) -> io::Result<&mut ReadAcross> {
        if payload.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "read-across copies at least one byte",
            ));
        }
        if self
            .across
            .as_ref()
            .is_none_or(|a| a.bytes() != payload.len())
        {
            self.across = None; // The old process is reaped before the next one starts.
            self.across = Some(ReadAcross::start(payload.len())?);
        }
        Ok(self.across.as_mut().expect("started above"))
    }
}

impl RoundTrip for ReadAcrossPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        self.for_payload(payload)?.transfer(payload).map(drop)
    }

    /// `n` transfers, each timed from the signal to the answer (the write before it is not).
    fn time_itself(&mut self, n: usize, payload: &[u8]) -> Option<io::Result<Duration>> {
        let mut total = Duration::ZERO;
        for _ in 0..n {
            match self.for_payload(payload).and_then(|a| a.transfer(payload)) {
                Ok(took) => total += took,
                Err(e) => return Some(Err(e)),
            }
        }
        Some(Ok(total))
    }
}
