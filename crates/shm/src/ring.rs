//! A bounded single-producer, single-consumer byte ring in a shared segment.
//!
//! Layout: a 384-byte header, then `capacity` bytes of data (a power of two).
//!
//! ```text
//!   0  magic, capacity, flags                written once by `create`, magic last
//! 128  tail, data_seq, consumer_waiting, producer_pid, producer_closed   (producer's line)
//! 256  head, space_seq, producer_waiting, consumer_pid, consumer_closed  (consumer's line)
//! 384  data: messages as [word: u32][payload][padding to 8], wrapping around the end
//! ```
//!
//! Every message starts at a multiple of 8 with a *word*: its length with the `PUBLISHED`
//! bit set. The word is the publication: the producer writes the payload, writes 0 in the
//! word of the message that will follow (old bytes lie there), then stores the word with
//! release. The consumer spins on the word at `head` alone, so a small message and its
//! publication travel in one cache line, as a spinning round trip of one atomic word does;
//! `tail`, stored after the word, is read only to follow a message longer than 64 KiB, which
//! is published a chunk at a time (the word with the first chunk, `tail` after each further
//! one), so the consumer copies chunk i out while the producer copies chunk i+1 in. A
//! producer that closes the ring writes `CLOSED` in the word after its last message.
//!
//! `head` and `tail` count bytes since the start and never wrap in practice (2^64). The
//! producer keeps 4 bytes free after its last message (the next word), so a message of `len`
//! bytes needs `footprint(len) + 4` free bytes. The consumer frees a message with one
//! release store of `head` once it has copied all of it. A side about to sleep raises its
//! `*_waiting` flag, then re-checks, then sleeps on the other side's `*_seq` word; a side
//! that publishes checks the flag after a SeqCst fence and, if raised, bumps the word and
//! wakes the sleeper. Either the sleeper sees the publication or the publisher sees the flag:
//! no lost wake-up.
//!
//! Everything read from shared memory is validated: a word must be 0, `CLOSED`, or
//! `PUBLISHED` with a length that fits the ring; `tail - head` must lie in `0..=capacity`;
//! otherwise the call returns [`Error::Corrupt`].

use std::any::Any;
use std::sync::Arc;

use crate::primitive::{AtomicU32, AtomicU64, Ordering};
use crate::wait::{Deadline, Wait, futex_wake, notify, wait_until};
use crate::{Error, Result, Segment};
use std::time::Duration;

/// "CONCURR2", little-endian (2: the format with a word per message).
const MAGIC: u64 = u64::from_le_bytes(*b"CONCURR2");
/// Bytes before the data area.
pub const HEADER_LEN: usize = 384;
/// Bytes of each message's word (its length and state), before its payload.
const PREFIX: u64 = 4;
/// Every message starts at a multiple of this: its word is an aligned `u32` that never
/// wraps around the end of the ring.
const ALIGN: u64 = 8;
/// Set in a message's word once the message (its first chunk) is written.
const PUBLISHED: u32 = 1 << 31;
/// The word after the last message of a producer that closed the ring.
const CLOSED: u32 = 1 << 30;
/// The length bits of a word: a message is at most 1 GiB - 1.
const LEN_MASK: u32 = CLOSED - 1;
/// A cache line: the producer zeroes ahead a line at a time.
const LINE: u64 = 64;
/// Bytes kept free after the last message: the next message's word, zeroed before the
/// message is published.
pub(crate) const RESERVE: u64 = PREFIX;

/// The bytes a message of `len` bytes takes in a ring: its word and payload, padded to 8.
pub(crate) const fn footprint(len: u64) -> u64 {
    // `next_multiple_of`, for a power of two as a mask (the general one tests and branches).
    (PREFIX + len + ALIGN - 1) & !(ALIGN - 1)
}

/// The longest message a ring of `capacity` bytes (a power of two, at least 64) carries:
/// its footprint, a multiple of 8, must leave the 4 reserved bytes free, so it is at most
/// `capacity - 8`, and the payload at most `capacity - 12` (and under 1 GiB).
pub const fn max_message(capacity: usize) -> usize {
    let fits = capacity - (ALIGN + PREFIX) as usize;
    if fits > LEN_MASK as usize {
        LEN_MASK as usize
    } else {
        fits
    }
}

/// A message longer than this is published a chunk at a time, so the receiver copies one
/// chunk out while the sender copies the next one in (small under loom, so the model checks
/// chunked messages too).
#[cfg(not(loom))]
pub const CHUNK: u64 = 64 << 10;
/// Under loom, small, so the model checks chunked messages too.
#[cfg(loom)]
pub const CHUNK: u64 = 16;
/// Messages of at most this many bytes take the inline paths of [`Sender::send`] and
/// [`Receiver::recv`] (a ping-pong's 8 bytes among them): a few dozen instructions each way
/// instead of a call through the general path, whose bookkeeping added half again to a
/// spinning round trip when the two ends shared a core (46–50 ns against a cache line's
/// 33). At most `max_message(64)`, so such a message fits any ring.
const SMALL: usize = 32;
const _: () = assert!(SMALL <= max_message(64));

/// How long a receiver in the middle of a message spins for the next chunk before sleeping:
/// the chunk is due within microseconds (a 64 KiB copy), far less than a futex round trip.
const MID_MESSAGE_SPINS: u32 = 1 << 14;

#[repr(C)]
struct Header {
    magic: AtomicU64,
    capacity: AtomicU64,
    flags: AtomicU64,
    _pad0: [u64; 13],
    tail: AtomicU64,
    data_seq: AtomicU32,
    consumer_waiting: AtomicU32,
    producer_pid: AtomicU32,
    producer_closed: AtomicU32,
    _pad1: [u64; 13],
    head: AtomicU64,
    space_seq: AtomicU32,
    producer_waiting: AtomicU32,
    consumer_pid: AtomicU32,
    consumer_closed: AtomicU32,
    _pad2: [u64; 13],
}

#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Header>() == HEADER_LEN);

/// The bytes a ring of `capacity` data bytes needs.
pub fn segment_len(capacity: usize) -> usize {
    HEADER_LEN + capacity
}

/// `flags` bit: both ends only ever spin, so neither ever sleeps and publishing skips the
/// fence-and-check that wakes a sleeper (a fence per message is a large part of a
/// cache-line round trip).
pub(crate) const SPIN_ONLY: u64 = 1;

/// Creates a segment holding an empty ring of `capacity` bytes (a power of two, at least 64)
/// whose ends may sleep on a futex ([`Wait::SpinThenFutex`]).
pub fn create(capacity: usize) -> Result<Arc<Segment>> {
    create_with_flags(capacity, 0)
}

/// Like [`create`], for a ring whose ends only spin: whatever [`Wait`] they attach with,
/// they wait by spinning. The lowest latency, for two processes that each own a core. Each
/// end maps the whole ring into its process as it attaches ([`Segment::prefault`]), so no
/// message waits on a page fault (a ring that may sleep maps its pages as they are first
/// used: attaching stays cheap, as a worker pool's start needs).
pub fn create_spinning(capacity: usize) -> Result<Arc<Segment>> {
    create_with_flags(capacity, SPIN_ONLY)
}

fn create_with_flags(capacity: usize, flags: u64) -> Result<Arc<Segment>> {
    check_capacity(capacity)?;
    let seg = Segment::create("concur-ring", segment_len(capacity))?;
    // SAFETY: the segment is page-aligned, `segment_len(capacity)` long, zero-filled, and
    // nobody else has its descriptor yet.
    unsafe { init_at(seg.as_ptr(), capacity as u64, flags) };
    Ok(Arc::new(seg))
}

/// Refuses a capacity that is not a power of two from 64 to 2^31.
pub(crate) fn check_capacity(capacity: usize) -> Result<()> {
    if !capacity.is_power_of_two() || capacity < 64 || capacity > u32::MAX as usize {
        return Err(Error::Corrupt(format!(
            "ring capacity {capacity} must be a power of two from 64 to 2^31"
        )));
    }
    Ok(())
}

/// Writes the header of an empty ring of `capacity` bytes at `at`, magic last: a peer that
/// sees the magic sees an initialised header.
///
/// # Safety
///
/// `at` is 8-byte aligned, the start of `segment_len(capacity)` zero-filled bytes that stay
/// mapped for the call, and no other process has been handed them yet.
pub(crate) unsafe fn init_at(at: *mut u8, capacity: u64, flags: u64) {
    // SAFETY: per the contract; a zero-filled Header is valid (all atomics).
    let hdr = unsafe { &*(at as *const Header) };
    hdr.capacity.store(capacity, Ordering::Relaxed);
    hdr.flags.store(flags, Ordering::Relaxed);
    hdr.magic.store(MAGIC, Ordering::Release);
}

/// One end's view of a ring: where the header and data are, and what keeps them mapped.
struct Core {
    hdr: *const Header,
    data: *mut u8,
    /// Under loom, the messages' words live in an array of loom atomics beside the data
    /// (loom cannot see atomics made from raw bytes): `cap / 4` of them, or null for a ring
    /// in a segment, which loom tests do not use.
    #[cfg(loom)]
    words: *const AtomicU32,
    cap: u64,
    spin_only: bool,
    _keep: Arc<dyn Any + Send + Sync>,
}

// SAFETY: the pointers target memory kept alive by `_keep` (a mapping or a heap block) and
// are only dereferenced as atomics (header, message words) or through the copy helpers
// (payloads), which the SPSC protocol keeps disjoint between the two ends.
unsafe impl Send for Core {}

impl Core {
    fn attach(seg: &Arc<Segment>) -> Result<Core> {
        Core::attach_at(seg, 0, seg.len())
    }

    /// The ring in `len` bytes of `seg` from `offset` (8-byte aligned; checked by callers
    /// that place rings, here checked again).
    fn attach_at(seg: &Arc<Segment>, offset: usize, len: usize) -> Result<Core> {
        if offset % 8 != 0 || offset.checked_add(len).is_none_or(|end| end > seg.len()) {
            return Err(Error::Corrupt(format!(
                "a ring of {len} bytes at {offset} does not fit a segment of {} bytes",
                seg.len()
            )));
        }
        if len < HEADER_LEN + 64 {
            return Err(Error::Corrupt(format!(
                "{len} bytes are too few for a ring"
            )));
        }
        // SAFETY: `offset` is inside the page-aligned mapping and 8-byte aligned, with at
        // least HEADER_LEN bytes after it; a Header is all atomics, valid for any bit
        // pattern another process may have written.
        let at = unsafe { seg.as_ptr().add(offset) };
        let hdr = unsafe { &*(at as *const Header) };
        if hdr.magic.load(Ordering::Acquire) != MAGIC {
            return Err(Error::Corrupt("bad magic: not a concur ring".into()));
        }
        let cap = hdr.capacity.load(Ordering::Relaxed);
        let spin_only = match hdr.flags.load(Ordering::Relaxed) {
            0 => false,
            SPIN_ONLY => true,
            other => return Err(Error::Corrupt(format!("unknown ring flags {other:#x}"))),
        };
        if !cap.is_power_of_two() || cap < 64 || Some(cap) != (len - HEADER_LEN).try_into().ok() {
            return Err(Error::Corrupt(format!(
                "capacity {cap} does not match a ring of {len} bytes"
            )));
        }
        if spin_only {
            // A spinning ring is for latency: its first lap would otherwise take a page
            // fault every 4 KiB in each process (about 1 µs each, the p99 of an 8-byte round
            // trip over a fresh ring), so both ends map the whole ring as they attach.
            seg.prefault(offset, len)?;
        }
        Ok(Core {
            hdr,
            // SAFETY: offset + HEADER_LEN < offset + len <= seg.len(): inside the mapping.
            data: unsafe { at.add(HEADER_LEN) },
            #[cfg(loom)]
            words: std::ptr::null(),
            cap,
            spin_only,
            _keep: Arc::clone(seg) as Arc<dyn Any + Send + Sync>,
        })
    }

    #[inline]
    fn hdr(&self) -> &Header {
        // SAFETY: see `Send for Core`: valid, aligned, alive while `self` is.
        unsafe { &*self.hdr }
    }

    /// The word of the message at byte counter `at` (a multiple of [`ALIGN`]).
    #[cfg(not(loom))]
    #[inline]
    fn word(&self, at: u64) -> &AtomicU32 {
        debug_assert_eq!(at % ALIGN, 0);
        let off = (at & (self.cap - 1) & !(ALIGN - 1)) as usize;
        // SAFETY: `off` is a multiple of 8 below `cap`, a multiple of 8, and the data area
        // starts 8-aligned (a mapping's offset + HEADER_LEN, or a u64 heap block): an
        // aligned u32 inside the data area, alive while `self` is. Both ends access it
        // atomically while it is a message's word; the producer writes it as payload bytes
        // only once the consumer freed that space (`head`, release/acquire).
        unsafe { &*(self.data.add(off) as *const AtomicU32) }
    }

    #[cfg(loom)]
    fn word(&self, at: u64) -> &AtomicU32 {
        assert!(!self.words.is_null(), "loom models rings on the heap only");
        let index = ((at & (self.cap - 1)) / 4) as usize;
        // SAFETY: the heap ring's array holds cap / 4 words, alive while `self` is.
        unsafe { &*self.words.add(index) }
    }

    /// Where the payload of a message whose word is at byte counter `at` starts in the data
    /// area, if its `len` bytes do not wrap around the end (`None` if they do: the general
    /// path copies them in two pieces).
    #[inline(always)]
    fn unwrapped(&self, at: u64, len: usize) -> Option<*mut u8> {
        let off = ((at + PREFIX) & (self.cap - 1)) as usize;
        // SAFETY: off < cap: inside the data area.
        (off + len <= self.cap as usize).then(|| unsafe { self.data.add(off) })
    }

    /// Copies `src` into the ring at byte counter `at`, wrapping around the end.
    #[inline]
    fn write_at(&self, at: u64, src: &[u8]) {
        let off = (at & (self.cap - 1)) as usize;
        let first = src.len().min(self.cap as usize - off);
        // SAFETY: off < cap and first <= cap - off, so both copies stay inside the data area;
        // the protocol gives these bytes to the producer alone until they are published.
        unsafe {
            copy_bytes(src.as_ptr(), self.data.add(off), first);
            if first < src.len() {
                copy_bytes(src.as_ptr().add(first), self.data, src.len() - first);
            }
        }
    }

    /// Zeroes `len` bytes of the ring from byte counter `at` (a multiple of 4), wrapping
    /// around the end: free space only, so no word the consumer reads changes under it.
    #[inline]
    fn zero(&self, at: u64, len: u64) {
        debug_assert!(at % 4 == 0 && len % 4 == 0 && len <= self.cap);
        #[cfg(loom)]
        for word in (at..at + len).step_by(4) {
            self.word(word).store(0, Ordering::Relaxed);
        }
        #[cfg(not(loom))]
        {
            let off = (at & (self.cap - 1)) as usize;
            let first = (len as usize).min(self.cap as usize - off);
            // SAFETY: off < cap and first <= cap - off: inside the data area; free space
            // belongs to the producer until it publishes it.
            unsafe {
                if len == LINE && first == LINE as usize {
                    std::ptr::write_bytes(self.data.add(off), 0, LINE as usize);
                } else {
                    std::ptr::write_bytes(self.data.add(off), 0, first);
                    std::ptr::write_bytes(self.data, 0, len as usize - first);
                }
            }
        }
    }

    /// Copies `dst.len()` bytes out of the ring from byte counter `at`, wrapping around.
    #[inline]
    fn read_at(&self, at: u64, dst: &mut [u8]) {
        let off = (at & (self.cap - 1)) as usize;
        let first = dst.len().min(self.cap as usize - off);
        // SAFETY: as in `write_at`; these bytes were published and are the consumer's until
        // it publishes `head`. A hostile peer writing them concurrently can only change which
        // bytes we copy, and every length derived from them is checked.
        unsafe {
            copy_bytes(self.data.add(off), dst.as_mut_ptr(), first);
            if first < dst.len() {
                copy_bytes(self.data, dst.as_mut_ptr().add(first), dst.len() - first);
            }
        }
    }

    /// Bytes published and not yet consumed, checked against the capacity.
    #[inline]
    fn used(&self, tail: u64, head: u64) -> Result<u64> {
        let used = tail.wrapping_sub(head);
        if used > self.cap {
            return Err(Error::Corrupt(format!(
                "head {head} and tail {tail} are {used} bytes apart in a ring of {}",
                self.cap
            )));
        }
        Ok(used)
    }
}

/// Copies `len` bytes from `src` to `dst`, which do not overlap. Up to 32 bytes (a
/// ping-pong's message, any [`SMALL`] one) inline, in two possibly overlapping loads and
/// stores, with no call to `memcpy`: on the round trip of an 8-byte message, four such
/// calls each way cost more than the rest of the protocol.
///
/// # Safety
///
/// As [`std::ptr::copy_nonoverlapping`]: `src` readable and `dst` writable for `len` bytes,
/// the two ranges disjoint.
#[inline(always)]
unsafe fn copy_bytes(src: *const u8, dst: *mut u8, len: usize) {
    // SAFETY: every access below lies within the first `len` bytes of `src` or `dst`;
    // unaligned reads and writes of plain integers.
    unsafe {
        match len {
            0 => {}
            1..=3 => {
                let (a, b, c) = (src.read(), src.add(len / 2).read(), src.add(len - 1).read());
                dst.write(a);
                dst.add(len / 2).write(b);
                dst.add(len - 1).write(c);
            }
            8 => dst
                .cast::<u64>()
                .write_unaligned(src.cast::<u64>().read_unaligned()),
            4..=7 => {
                let a = src.cast::<u32>().read_unaligned();
                let b = src.add(len - 4).cast::<u32>().read_unaligned();
                dst.cast::<u32>().write_unaligned(a);
                dst.add(len - 4).cast::<u32>().write_unaligned(b);
            }
            9..=16 => {
                let a = src.cast::<u64>().read_unaligned();
                let b = src.add(len - 8).cast::<u64>().read_unaligned();
                dst.cast::<u64>().write_unaligned(a);
                dst.add(len - 8).cast::<u64>().write_unaligned(b);
            }
            17..=32 => {
                let a = src.cast::<u128>().read_unaligned();
                let b = src.add(len - 16).cast::<u128>().read_unaligned();
                dst.cast::<u128>().write_unaligned(a);
                dst.add(len - 16).cast::<u128>().write_unaligned(b);
            }
            _ => std::ptr::copy_nonoverlapping(src, dst, len),
        }
    }
}

/// Whether the peer is gone: `pid` is the one it wrote when it attached (read from shared
/// memory: any value), 0 while it has not attached; then `expected`, the process the
/// creator said would attach (0: unknown), is the one checked.
fn process_gone(pid: u32, expected: u32) -> Option<String> {
    match (pid, expected) {
        (0, 0) => None,
        (0, expected) => {
            crate::pid_gone(expected).then(|| format!("(pid {expected}) died before attaching"))
        }
        (pid, _) => crate::pid_gone(pid).then(|| format!("(pid {pid}) died")),
    }
}

/// Refuses a `head` or `tail` (read from shared memory) where no message can start.
fn check_aligned(what: &str, at: u64) -> Result<()> {
    if at % ALIGN != 0 {
        return Err(Error::Corrupt(format!(
            "{what} {at} is not a message boundary (a multiple of {ALIGN})"
        )));
    }
    Ok(())
}

/// The producing end of a ring.
pub struct Sender {
    core: Core,
    tail: u64,
    /// The consumer's `head` as last read: space known to be free without touching the
    /// consumer's cache line. Re-read only when it shows too little space.
    head_seen: u64,
    /// Every byte from `tail` up to this counter is known to be 0 (at least the next word):
    /// a message whose successor's word falls below it needs no zeroing before it is
    /// published. See `zero_ahead`.
    zeroed: u64,
    wait: Wait,
    /// The process expected to attach the receiving end (0: not said).
    peer: u32,
}

/// The consuming end of a ring.
pub struct Receiver {
    core: Core,
    head: u64,
    wait: Wait,
    /// The process expected to attach the sending end (0: not said).
    peer: u32,
}

impl Sender {
    /// Attaches to the ring in `seg` as its only producer.
    pub fn attach(seg: &Arc<Segment>, wait: Wait) -> Result<Sender> {
        Self::from_core(Core::attach(seg)?, wait)
    }

    /// Attaches to the ring in `len` bytes of `seg` from `offset` (a ring inside a larger
    /// layout, such as the two queues of a slots segment).
    pub(crate) fn attach_at(
        seg: &Arc<Segment>,
        offset: usize,
        len: usize,
        wait: Wait,
    ) -> Result<Sender> {
        Self::from_core(Core::attach_at(seg, offset, len)?, wait)
    }

    /// Whether the ring's ends only spin ([`create_spinning`]).
    pub(crate) fn spin_only(&self) -> bool {
        self.core.spin_only
    }

    fn from_core(core: Core, wait: Wait) -> Result<Sender> {
        let hdr = core.hdr();
        let tail = hdr.tail.load(Ordering::Acquire);
        let head_seen = hdr.head.load(Ordering::Acquire);
        core.used(tail, head_seen)?;
        check_aligned("tail", tail)?;
        hdr.producer_pid
            .store(std::process::id(), Ordering::Release);
        Ok(Sender {
            core,
            tail,
            head_seen,
            zeroed: tail + RESERVE,
            wait,
            peer: 0,
        })
    }

    /// Names the process that will attach the receiving end (the child this process handed
    /// the segment to). Until it has attached, a wait for space also ends with
    /// [`Error::PeerGone`] when that process is gone, instead of waiting for an attach that
    /// will never come.
    pub fn expect_peer(&mut self, pid: u32) {
        self.peer = pid;
    }

    /// The ring's capacity in bytes; a message may be up to [`max_message`]`(capacity)`
    /// bytes (`capacity - 12`).
    pub fn capacity(&self) -> usize {
        self.core.cap as usize
    }

    /// Sends `msg`, waiting for space. A closed or dead receiver is noticed when the sender
    /// next has to look at the receiver's side (the ring looks full): [`Error::PeerGone`].
    #[inline]
    pub fn send(&mut self, msg: &[u8]) -> Result<()> {
        if self.publish_small(msg) {
            return Ok(());
        }
        self.send_by(msg, None)
    }

    /// The common case, inline: publishes `msg` if it is [`SMALL`] and its footprint and
    /// the next word lie below `zeroed` (which never passes the space known free: see
    /// `zero_ahead`), so it needs no wait, no room check and no zeroing; `false` leaves
    /// it to the general path.
    #[inline(always)]
    fn publish_small(&mut self, msg: &[u8]) -> bool {
        let len = msg.len();
        if len > SMALL {
            return false;
        }
        let end = self.tail + footprint(len as u64);
        let core = &self.core;
        let Some(at) = core.unwrapped(self.tail, len) else {
            return false;
        };
        if end + RESERVE > self.zeroed {
            return false;
        }
        // SAFETY: `at` is the payload's place in the data area, `len` bytes that do not wrap
        // (`unwrapped`), free space the producer alone writes until the word below
        // publishes it; `msg` is a distinct slice of ours.
        unsafe { copy_bytes(msg.as_ptr(), at, len) };
        self.publish_whole(len as u32, end);
        true
    }

    /// Publishes the message of `len` bytes at `tail`, written whole, that ends at `end`:
    /// stores its word (the publication), then `tail`, wakes a sleeping consumer, and
    /// zeroes ahead if the zeroed bytes no longer reach past the next word's line.
    #[inline(always)]
    fn publish_whole(&mut self, len: u32, end: u64) {
        let core = &self.core;
        let hdr = core.hdr();
        core.word(self.tail)
            .store(len | PUBLISHED, Ordering::Release);
        hdr.tail.store(end, Ordering::Release);
        if !core.spin_only {
            notify(&hdr.consumer_waiting, &hdr.data_seq);
        }
        self.tail = end;
        if self.zeroed < zero_target(end) {
            self.zero_ahead();
        }
    }

    /// Like [`Sender::send`], but a wait for space longer than `timeout` ends with
    /// [`Error::Timeout`] (nothing of `msg` is sent then).
    pub fn send_timeout(&mut self, msg: &[u8], timeout: Duration) -> Result<()> {
        self.send_by(msg, Some(Deadline::after(timeout)))
    }

    #[inline(never)]
    fn send_by(&mut self, msg: &[u8], deadline: Option<Deadline>) -> Result<()> {
        let need = self.need(msg)?;
        // The common case, inline: the space last seen free is enough.
        if self.tail + need > self.head_seen + self.core.cap {
            self.wait_for_room(need, deadline)?;
        }
        self.publish(msg);
        Ok(())
    }

    /// Waits until `need` bytes are free (re-reading `head`), or the deadline, or the
    /// receiver is gone.
    #[inline(never)]
    fn wait_for_room(&mut self, need: u64, deadline: Option<Deadline>) -> Result<()> {
        if !self.has_room(need)? {
            let (core, tail) = (&self.core, self.tail);
            let hdr = core.hdr();
            let (mut head_seen, peer) = (self.head_seen, self.peer);
            wait_until(
                self.wait,
                core.spin_only,
                &hdr.producer_waiting,
                &hdr.space_seq,
                deadline,
                || {
                    head_seen = hdr.head.load(Ordering::Acquire);
                    // A receiver that closed also ends the wait (its `Drop` bumps the word we
                    // sleep on, but maybe before we read it): `has_room` below reports it.
                    Ok(core.cap - core.used(tail, head_seen)? >= need
                        || hdr.consumer_closed.load(Ordering::Acquire) != 0)
                },
                || consumer_gone(hdr, peer),
            )?;
            self.head_seen = head_seen;
            if !self.has_room(need)? {
                return Err(Error::Corrupt("the ring had room and then none".into()));
            }
        }
        Ok(())
    }

    /// Sends `msg` if there is space now; `Ok(false)` if not.
    pub fn try_send(&mut self, msg: &[u8]) -> Result<bool> {
        let need = self.need(msg)?;
        if !self.has_room(need)? {
            return Ok(false);
        }
        self.publish(msg);
        Ok(true)
    }

    /// Whether `need` bytes are free: first by the cached head, then by re-reading it (and
    /// checking that the receiver is still there).
    fn has_room(&mut self, need: u64) -> Result<bool> {
        if self.core.cap - self.core.used(self.tail, self.head_seen)? >= need {
            return Ok(true);
        }
        let hdr = self.core.hdr();
        if hdr.consumer_closed.load(Ordering::Acquire) != 0 {
            return Err(Error::PeerGone("the receiver closed the ring".into()));
        }
        self.head_seen = hdr.head.load(Ordering::Acquire);
        Ok(self.core.cap - self.core.used(self.tail, self.head_seen)? >= need)
    }

    /// The free bytes `msg` needs: its footprint and the next message's word.
    #[inline]
    fn need(&self, msg: &[u8]) -> Result<u64> {
        if msg.len() > max_message(self.core.cap as usize) {
            return Err(Error::TooLarge {
                len: msg.len(),
                capacity: self.core.cap as usize,
            });
        }
        Ok(footprint(msg.len() as u64) + RESERVE)
    }

    /// Writes the payload, zeroes the word of the message after it, then stores this
    /// message's word: the publication. A message longer than [`CHUNK`] goes with its first
    /// chunk, and each further chunk is published by storing `tail`.
    #[inline]
    fn publish(&mut self, msg: &[u8]) {
        let len = u32::try_from(msg.len()).expect("checked against the capacity");
        let core = &self.core;
        let hdr = core.hdr();
        let start = self.tail + PREFIX;
        let end = self.tail + footprint(u64::from(len));
        // Old bytes may lie where the next word will be: the consumer must read 0 there until
        // that message is published (released by the store of this message's word). Usually
        // zeroed already, after an earlier message.
        if end + RESERVE > self.zeroed {
            core.word(end).store(0, Ordering::Relaxed);
            self.zeroed = end + RESERVE;
        }
        if msg.len() <= CHUNK as usize {
            // One chunk (every small message): the payload, then the word that publishes it.
            core.write_at(start, msg);
            self.publish_whole(len, end);
            return;
        }
        let mut done = CHUNK as usize;
        core.write_at(start, &msg[..done]);
        core.word(self.tail)
            .store(len | PUBLISHED, Ordering::Release);
        loop {
            let published = if done == msg.len() {
                end
            } else {
                start + done as u64
            };
            hdr.tail.store(published, Ordering::Release);
            if !core.spin_only {
                notify(&hdr.consumer_waiting, &hdr.data_seq);
            }
            if done == msg.len() {
                break;
            }
            let next = (done + CHUNK as usize).min(msg.len());
            core.write_at(start + done as u64, &msg[done..next]);
            done = next;
        }
        self.tail = end;
        self.zero_ahead();
    }

    /// After a message is published (its word stored): zeroes the free bytes up to the end
    /// of the cache line after the one the next word lies in, so the next messages find
    /// their successor's word zeroed already. Zeroing before a publication would put a store
    /// to a line the consumer may hold ahead of the word it waits for; here the stores go
    /// while the consumer reads the message. Only free space is touched (up to the last
    /// `head` read, plus the capacity).
    #[inline(never)]
    fn zero_ahead(&mut self) {
        let upto = zero_target(self.tail).min(self.head_seen + self.core.cap);
        while self.zeroed < upto {
            // A line at a time (lines never straddle the end: the capacity is a multiple),
            // a whole one with a fixed-size write the compiler inlines.
            let line_end = ((self.zeroed + LINE) & !(LINE - 1)).min(upto);
            self.core.zero(self.zeroed, line_end - self.zeroed);
            self.zeroed = line_end;
        }
    }
}

/// Resizes a receive buffer to `len` bytes, out of line: a buffer reused for messages of
/// one size never needs it.
#[inline(never)]
fn resize(buf: &mut Vec<u8>, len: usize) {
    buf.resize(len, 0);
}

/// Where [`Sender`]'s `zero_ahead` zeroes up to after a message ending at `tail`: the end of
/// the cache line after the one the next word lies in.
#[inline(always)]
fn zero_target(tail: u64) -> u64 {
    ((tail + RESERVE + LINE - 1) & !(LINE - 1)) + LINE
}

fn consumer_gone(hdr: &Header, expected: u32) -> Option<String> {
    if hdr.consumer_closed.load(Ordering::Acquire) != 0 {
        return Some("the receiver closed the ring".into());
    }
    let pid = hdr.consumer_pid.load(Ordering::Acquire);
    process_gone(pid, expected).map(|how| format!("the receiver {how}"))
}

fn producer_gone(hdr: &Header, expected: u32) -> Option<String> {
    if hdr.producer_closed.load(Ordering::Acquire) != 0 {
        return Some("the sender closed the ring".into());
    }
    let pid = hdr.producer_pid.load(Ordering::Acquire);
    process_gone(pid, expected).map(|how| format!("the sender {how}"))
}

impl Drop for Sender {
    fn drop(&mut self) {
        let hdr = self.core.hdr();
        hdr.producer_closed.store(1, Ordering::Release);
        // Where a spinning consumer looks (the word after the last message, kept free).
        self.core.word(self.tail).store(CLOSED, Ordering::Release);
        hdr.data_seq.fetch_add(1, Ordering::Release);
        futex_wake(&hdr.data_seq);
    }
}

impl Receiver {
    /// Attaches to the ring in `seg` as its only consumer.
    pub fn attach(seg: &Arc<Segment>, wait: Wait) -> Result<Receiver> {
        Self::from_core(Core::attach(seg)?, wait)
    }

    /// Attaches to the ring in `len` bytes of `seg` from `offset` (a ring inside a larger
    /// layout, such as the two queues of a slots segment).
    pub(crate) fn attach_at(
        seg: &Arc<Segment>,
        offset: usize,
        len: usize,
        wait: Wait,
    ) -> Result<Receiver> {
        Self::from_core(Core::attach_at(seg, offset, len)?, wait)
    }

    fn from_core(core: Core, wait: Wait) -> Result<Receiver> {
        let hdr = core.hdr();
        let head = hdr.head.load(Ordering::Acquire);
        core.used(hdr.tail.load(Ordering::Acquire), head)?;
        check_aligned("head", head)?;
        hdr.consumer_pid
            .store(std::process::id(), Ordering::Release);
        Ok(Receiver {
            core,
            head,
            wait,
            peer: 0,
        })
    }

    /// Names the process that will attach the sending end (the child this process handed
    /// the segment to). Until it has attached, a wait for a message also ends with
    /// [`Error::PeerGone`] when that process is gone, instead of waiting for an attach that
    /// will never come.
    pub fn expect_peer(&mut self, pid: u32) {
        self.peer = pid;
    }

    /// Receives the next message into `buf` (replacing its contents), waiting for one.
    /// After the sender closed the ring, the messages already sent are still delivered.
    /// A large message is copied out chunk by chunk as the sender publishes it.
    #[inline(always)]
    pub fn recv(&mut self, buf: &mut Vec<u8>) -> Result<()> {
        let mut word = self.core.word(self.head).load(Ordering::Acquire);
        if word == 0 {
            self.wait_for_word(None)?;
            word = self.core.word(self.head).load(Ordering::Acquire);
        }
        if self.take_small(word, buf) {
            return Ok(());
        }
        self.recv_by(buf, None)
    }

    /// The common case, inline: takes the message at `head` into `buf` if its `word` (just
    /// loaded, with acquire) says published and [`SMALL`] (so it fits any ring and is
    /// whole); `false` leaves the word (empty, closed, long or corrupt) to the general path,
    /// which loads and checks it again.
    #[inline(always)]
    fn take_small(&mut self, word: u32, buf: &mut Vec<u8>) -> bool {
        let len = (word & LEN_MASK) as usize;
        if word & (PUBLISHED | CLOSED) != PUBLISHED || len > SMALL {
            return false;
        }
        let Some(at) = self.core.unwrapped(self.head, len) else {
            return false;
        };
        if buf.len() != len {
            resize(buf, len);
        }
        // SAFETY: `at` is the payload's place in the data area, `len` bytes that do not wrap
        // (`unwrapped`), published and the consumer's until it frees them; `buf` is ours,
        // `len` bytes long. A hostile peer writing them meanwhile only changes the bytes.
        unsafe { copy_bytes(at, buf.as_mut_ptr(), len) };
        self.consume(len as u64);
        true
    }

    /// Like [`Receiver::recv`], but a wait longer than `timeout` (for the message, or for
    /// the rest of a large one) ends with [`Error::Timeout`]. Nothing is consumed then: a
    /// message cut off by the timeout stays in the ring, and the next `recv` reads it whole.
    pub fn recv_timeout(&mut self, buf: &mut Vec<u8>, timeout: Duration) -> Result<()> {
        self.recv_by(buf, Some(Deadline::after(timeout)))
    }

    #[inline(never)]
    fn recv_by(&mut self, buf: &mut Vec<u8>, deadline: Option<Deadline>) -> Result<()> {
        if self.core.word(self.head).load(Ordering::Acquire) == 0 {
            self.wait_for_word(deadline)?;
        }
        let Some((len, avail)) = self.peek()? else {
            return Err(Error::PeerGone("the sender closed the ring".into()));
        };
        if buf.len() != len as usize {
            buf.resize(len as usize, 0);
        }
        if PREFIX + len <= avail {
            // Whole already (every message of one chunk): the common case, inline.
            self.core.read_at(self.head + PREFIX, buf);
        } else {
            self.read_chunks(buf, avail, deadline)?;
        }
        self.consume(len);
        Ok(())
    }

    /// Waits until the word at `head` is no longer 0 (or the deadline, or the sender is
    /// gone).
    #[inline(never)]
    fn wait_for_word(&self, deadline: Option<Deadline>) -> Result<()> {
        let (core, peer) = (&self.core, self.peer);
        let hdr = core.hdr();
        let word = core.word(self.head);
        wait_until(
            self.wait,
            core.spin_only,
            &hdr.consumer_waiting,
            &hdr.data_seq,
            deadline,
            // The word alone while spinning: one cache line, the one the sender writes. A
            // sender that closed writes `CLOSED` there; one that may sleep also says so in
            // its header line (its `Drop` bumps the word we sleep on, maybe before we read
            // it, which would otherwise leave us asleep for a whole slice).
            || {
                Ok(word.load(Ordering::Acquire) != 0
                    || (!core.spin_only && hdr.producer_closed.load(Ordering::Acquire) != 0))
            },
            || producer_gone(hdr, peer),
        )
    }

    /// Copies a message of several chunks into `buf` (its length) as they are published,
    /// `avail` bytes of it (its word included) being published already.
    #[inline(never)]
    fn read_chunks(
        &self,
        buf: &mut [u8],
        mut avail: u64,
        deadline: Option<Deadline>,
    ) -> Result<()> {
        let len = buf.len() as u64;
        let mut got = 0;
        loop {
            let upto = (avail - PREFIX).min(len);
            if upto > got {
                self.core.read_at(
                    self.head + PREFIX + got,
                    &mut buf[got as usize..upto as usize],
                );
                got = upto;
            }
            if got == len {
                return Ok(());
            }
            avail = self.wait_for_more(PREFIX + got, deadline)?;
        }
    }

    /// The next message's length and the bytes of it published so far (its word
    /// included), once its word is published; `None` if there is none yet or the sender
    /// closed the ring after its last one. A word that is none of these, or a length that
    /// cannot fit, is [`Error::Corrupt`].
    #[inline]
    fn peek(&self) -> Result<Option<(u64, u64)>> {
        let core = &self.core;
        let word = core.word(self.head).load(Ordering::Acquire);
        if word == 0 || word == CLOSED {
            return Ok(None);
        }
        if word & (PUBLISHED | CLOSED) != PUBLISHED {
            return Err(Error::Corrupt(format!(
                "message word {word:#x} is neither empty, closed nor published"
            )));
        }
        let len = u64::from(word & LEN_MASK);
        if len as usize > max_message(core.cap as usize) {
            return Err(Error::Corrupt(format!(
                "a message of {len} bytes claimed in a ring of {}",
                core.cap
            )));
        }
        // The word publishes the first chunk with it; the rest is followed through `tail`
        // (which may still be behind: stored after the word).
        let first = PREFIX + len.min(CHUNK);
        if len <= CHUNK {
            return Ok(Some((len, first)));
        }
        let published = core.used(core.hdr().tail.load(Ordering::Acquire), self.head)?;
        Ok(Some((len, published.max(first))))
    }

    /// In the middle of a message: waits until more than `have` bytes are published and
    /// returns how many are. Spins longer than usual before sleeping (the next chunk is due
    /// within microseconds); a sender that closes or dies mid-message is [`Error::PeerGone`].
    fn wait_for_more(&self, have: u64, deadline: Option<Deadline>) -> Result<u64> {
        let (core, head, peer) = (&self.core, self.head, self.peer);
        let hdr = core.hdr();
        let wait = match self.wait {
            Wait::SpinThenFutex { spins } => Wait::SpinThenFutex {
                spins: spins.max(MID_MESSAGE_SPINS),
            },
            Wait::Spin => Wait::Spin,
        };
        let published = || core.used(hdr.tail.load(Ordering::Acquire), head);
        wait_until(
            wait,
            core.spin_only,
            &hdr.consumer_waiting,
            &hdr.data_seq,
            deadline,
            || Ok(published()? > have || hdr.producer_closed.load(Ordering::Acquire) != 0),
            || producer_gone(hdr, peer),
        )?;
        // Read again: a sender that published its last chunk and then closed may have been
        // seen closed by a check that read `tail` before the chunk (loom found this).
        let avail = published()?;
        if avail > have {
            Ok(avail)
        } else {
            Err(Error::PeerGone(
                "the sender closed the ring in the middle of a message".into(),
            ))
        }
    }

    /// Frees the message of `len` bytes just read and wakes a sender waiting for space.
    #[inline]
    fn consume(&mut self, len: u64) {
        self.head += footprint(len);
        let hdr = self.core.hdr();
        hdr.head.store(self.head, Ordering::Release);
        if !self.core.spin_only {
            notify(&hdr.producer_waiting, &hdr.space_seq);
        }
    }

    /// Whether a message is waiting (without taking it): for a caller that watches several
    /// rings and sleeps on a [`crate::Doorbell`].
    pub fn pending(&self) -> Result<bool> {
        Ok(self.peek()?.is_some())
    }

    /// Receives a message into `buf` if a whole one is there; `Ok(false)` if the ring is
    /// empty or its next message is still being published.
    pub fn try_recv(&mut self, buf: &mut Vec<u8>) -> Result<bool> {
        match self.peek()? {
            Some((len, avail)) if PREFIX + len <= avail => {
                buf.resize(len as usize, 0);
                self.core.read_at(self.head + PREFIX, buf);
                self.consume(len);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let hdr = self.core.hdr();
        hdr.consumer_closed.store(1, Ordering::Release);
        hdr.space_seq.fetch_add(1, Ordering::Release);
        futex_wake(&hdr.space_seq);
    }
}

/// A ring on the heap (no segment) for tests of the protocol in one process, loom included;
/// spin-only when `wait` is [`Wait::Spin`].
#[cfg(any(test, loom))]
pub(crate) fn heap_pair(cap: u64, wait: Wait) -> (Sender, Receiver) {
    struct Heap {
        hdr: Box<Header>,
        /// u64s: the data area starts 8-aligned, as in a segment.
        data: Box<[std::cell::UnsafeCell<u64>]>,
        #[cfg(loom)]
        words: Box<[AtomicU32]>,
    }
    // SAFETY: the data bytes are only touched through `Core`'s copy helpers and as message
    // words, which the SPSC protocol keeps disjoint between the two ends.
    unsafe impl Sync for Heap {}
    unsafe impl Send for Heap {}
    let zero = || AtomicU32::new(0);
    let heap = Arc::new(Heap {
        hdr: Box::new(Header {
            magic: AtomicU64::new(MAGIC),
            capacity: AtomicU64::new(cap),
            flags: AtomicU64::new(if wait == Wait::Spin { SPIN_ONLY } else { 0 }),
            _pad0: [0; 13],
            tail: AtomicU64::new(0),
            data_seq: zero(),
            consumer_waiting: zero(),
            producer_pid: zero(),
            producer_closed: zero(),
            _pad1: [0; 13],
            head: AtomicU64::new(0),
            space_seq: zero(),
            producer_waiting: zero(),
            consumer_pid: zero(),
            consumer_closed: zero(),
            _pad2: [0; 13],
        }),
        data: (0..cap / 8)
            .map(|_| std::cell::UnsafeCell::new(0))
            .collect(),
        #[cfg(loom)]
        words: (0..cap / 4).map(|_| zero()).collect(),
    });
    let core = || Core {
        hdr: &*heap.hdr as *const Header,
        data: heap.data.as_ptr() as *mut u8,
        #[cfg(loom)]
        words: heap.words.as_ptr(),
        cap,
        spin_only: wait == Wait::Spin,
        _keep: Arc::clone(&heap) as Arc<dyn Any + Send + Sync>,
    };
    (
        Sender::from_core(core(), wait).expect("fresh ring"),
        Receiver::from_core(core(), wait).expect("fresh ring"),
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn messages_wrap_around_the_end() {
        let (mut tx, mut rx) = heap_pair(64, Wait::Spin);
        let mut buf = Vec::new();
        for i in 0..1000u32 {
            let msg: Vec<u8> = (0..(i % 37) as u8).map(|b| b ^ i as u8).collect();
            tx.send(&msg).unwrap();
            rx.recv(&mut buf).unwrap();
            assert_eq!(buf, msg);
        }
        assert!(!rx.try_recv(&mut buf).unwrap());
    }

    #[test]
    fn full_ring_refuses_then_accepts() {
        // Footprints of 32 and 24 bytes and the 4-byte reserve: 60 of 64.
        let (mut tx, mut rx) = heap_pair(64, Wait::Spin);
        assert!(tx.try_send(&[7; 28]).unwrap());
        assert!(tx.try_send(&[8; 20]).unwrap());
        assert!(!tx.try_send(&[9; 1]).unwrap());
        assert_eq!(max_message(64), 52);
        assert!(matches!(tx.send(&[0; 53]), Err(Error::TooLarge { .. })));
        let mut buf = Vec::new();
        rx.recv(&mut buf).unwrap();
        assert_eq!(buf, [7; 28]);
        assert!(tx.try_send(&[9; 1]).unwrap());
        // The longest message fits an empty ring.
        let (mut tx, mut rx) = heap_pair(64, Wait::Spin);
        tx.send(&[5; 52]).unwrap();
        rx.recv(&mut buf).unwrap();
        assert_eq!(buf, [5; 52]);
    }

    #[test]
    fn a_closed_sender_is_reported_after_its_messages() {
        let (mut tx, mut rx) = heap_pair(128, Wait::default());
        tx.send(b"last words").unwrap();
        drop(tx);
        let mut buf = Vec::new();
        rx.recv(&mut buf).unwrap();
        assert_eq!(buf, b"last words");
        assert!(matches!(rx.recv(&mut buf), Err(Error::PeerGone(_))));
    }

    #[test]
    fn a_closed_receiver_fails_the_sender() {
        let (mut tx, rx) = heap_pair(64, Wait::default());
        drop(rx);
        // Noticed as soon as the sender must look at the receiver's side: when full.
        let outcome = (0..20).map(|_| tx.send(b"x")).find(Result::is_err);
        assert!(
            matches!(outcome, Some(Err(Error::PeerGone(_)))),
            "{outcome:?}"
        );
    }

    #[test]
    fn large_messages_stream_through_in_chunks() {
        // Messages of several chunks, wrapping around a ring that holds one and a half.
        let cap = 4 * CHUNK;
        let (mut tx, mut rx) = heap_pair(cap, Wait::SpinThenFutex { spins: 10 });
        let sizes = [
            0,
            1,
            CHUNK as usize,
            CHUNK as usize + 1,
            3 * CHUNK as usize - 4,
            7,
        ];
        let msgs: Vec<Vec<u8>> = (0..40)
            .map(|i| {
                (0..sizes[i % sizes.len()])
                    .map(|b| (b * 7 + i) as u8)
                    .collect()
            })
            .collect();
        let sent = msgs.clone();
        let t = std::thread::spawn(move || {
            for m in &sent {
                tx.send(m).unwrap();
            }
        });
        let mut buf = Vec::new();
        for m in &msgs {
            rx.recv(&mut buf).unwrap();
            assert_eq!(&buf, m);
        }
        t.join().unwrap();
    }

    #[test]
    fn threads_with_futex_waits() {
        let (mut tx, mut rx) = heap_pair(256, Wait::SpinThenFutex { spins: 10 });
        let t = std::thread::spawn(move || {
            for i in 0..20_000u64 {
                tx.send(&i.to_le_bytes()).unwrap();
            }
        });
        let mut buf = Vec::new();
        for i in 0..20_000u64 {
            rx.recv(&mut buf).unwrap();
            assert_eq!(buf, i.to_le_bytes());
        }
        t.join().unwrap();
    }
}

/// Model checks of the protocol: `RUSTFLAGS="--cfg loom" cargo test -p concur-shm --release
/// --lib loom` (see `.ci/loom`).
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    /// Every message arrives once, in order, intact, while the ring wraps and fills.
    #[test]
    fn spsc_delivers_in_order_through_wrap_and_full() {
        loom::model(|| {
            let (mut tx, mut rx) = heap_pair(64, Wait::Spin);
            let producer = loom::thread::spawn(move || {
                for i in 0..3u8 {
                    tx.send(&[i; 24]).unwrap();
                }
            });
            let mut buf = Vec::new();
            for i in 0..3u8 {
                rx.recv(&mut buf).unwrap();
                assert_eq!(buf, [i; 24]);
            }
            producer.join().unwrap();
        });
    }

    /// A spinning receiver (it watches the message word alone) reads a message of three
    /// chunks whole, then sees the close the sender wrote in the word after it.
    #[test]
    fn spinning_receiver_reads_chunks_then_sees_the_close() {
        loom::model(|| {
            let (mut tx, mut rx) = heap_pair(64, Wait::Spin);
            let producer = loom::thread::spawn(move || {
                tx.send(&[3; 40]).unwrap();
            });
            let mut buf = Vec::new();
            rx.recv(&mut buf).unwrap();
            assert_eq!(buf, [3; 40]);
            assert!(matches!(rx.recv(&mut buf), Err(Error::PeerGone(_))));
            producer.join().unwrap();
        });
    }

    /// The sleep/wake handshake loses no wake-up. The sender outlives the message (its `Drop`
    /// also wakes the receiver, which would hide a missing wake-up), so a lost wake-up leaves
    /// the receiver asleep with every other thread finished: loom reports the deadlock.
    #[test]
    fn no_lost_wakeup() {
        loom::model(|| {
            let (mut tx, mut rx) = heap_pair(64, Wait::SpinThenFutex { spins: 0 });
            let producer = loom::thread::spawn(move || {
                tx.send(b"one").unwrap();
                tx
            });
            let mut buf = Vec::new();
            rx.recv(&mut buf).unwrap();
            assert_eq!(buf, b"one");
            drop(producer.join().unwrap());
        });
    }

    /// The same for the other direction: a sender asleep on a full ring is woken by the
    /// receiver freeing space (the receiver is still alive when the sender finishes).
    #[test]
    fn no_lost_wakeup_when_full() {
        loom::model(|| {
            let (mut tx, mut rx) = heap_pair(64, Wait::SpinThenFutex { spins: 0 });
            tx.send(&[1; 40]).unwrap();
            let consumer = loom::thread::spawn(move || {
                let mut buf = Vec::new();
                rx.recv(&mut buf).unwrap();
                assert_eq!(buf, [1; 40]);
                rx
            });
            tx.send(&[2; 40]).unwrap(); // Fits only after the first is taken.
            let mut rx = consumer.join().unwrap();
            let mut buf = Vec::new();
            rx.recv(&mut buf).unwrap();
            assert_eq!(buf, [2; 40]);
        });
    }
}
