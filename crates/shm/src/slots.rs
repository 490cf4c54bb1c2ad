//! Zero-copy transfer: fixed-size slots in one shared segment. The sender borrows a slot,
//! fills it in place and publishes it; the receiver reads it in place and releases it. Only
//! the slot's number and length travel through a ring; the payload is never copied by the
//! channel.
//!
//! Layout of the segment:
//!
//! ```text
//!    0  magic, slot count, slot size, queue capacity   written once by `create`, magic last
//!  128  the published queue: a ring of (slot, length) entries, sender to receiver
//!    …  the returned queue: a ring of slot numbers, receiver to sender
//! page  slot 0, slot 1, …: `slot size` bytes each, every slot 64-byte aligned
//! ```
//!
//! Ownership: a slot is the sender's (free, or borrowed through a [`Loan`]) until it is
//! published, then the receiver's until the [`Sample`] reading it is dropped, which returns
//! it. The sender tracks which slots it has published and refuses a slot returned that it
//! never handed over, or returned twice ([`Error::Corrupt`]); the receiver refuses a slot
//! number or a length outside the segment. Both queues hold at most one entry per slot, so
//! publishing and releasing never wait; only a [`Lender`] with every slot published waits,
//! for the receiver to release one, and a receiver that never does (alive but stuck) is what
//! [`Lender::loan_timeout`] bounds. A dead or closed peer is [`Error::PeerGone`], as with
//! the rings.
//!
//! What a hostile peer can still do: write a slot it does not own while you read or fill
//! it. That changes the bytes you see, never their bounds: every slot number and length is
//! checked, and no slot reaches outside the segment.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use crate::primitive::{AtomicU64, Ordering};
use crate::ring;
use crate::{Error, Result, Segment, Wait};

/// "CONCURSL", little-endian.
const MAGIC: u64 = u64::from_le_bytes(*b"CONCURSL");
/// Bytes of the slots header (one cache line pair).
const TOP: usize = 128;
/// Slots start on a page boundary.
const PAGE: usize = 4096;
/// Every slot starts on a cache line.
const LINE: usize = 64;
/// The most slots a segment holds.
pub const MAX_SLOTS: u32 = 1 << 16;
/// Bytes of a published-queue entry: slot number and length, u32 LE each.
const ENTRY: usize = 8;

#[repr(C)]
struct Header {
    magic: AtomicU64,
    count: AtomicU64,
    slot_size: AtomicU64,
    queue_cap: AtomicU64,
    _pad: [u64; 12],
}

#[cfg(not(loom))]
const _: () = assert!(std::mem::size_of::<Header>() == TOP);

/// Where everything lies in a segment of `count` slots of `slot_size` bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    count: u32,
    slot_size: usize,
    /// Bytes of each queue's data area (a power of two).
    queue_cap: usize,
    published_at: usize,
    returned_at: usize,
    slots_at: usize,
    stride: usize,
    len: usize,
}

impl Layout {
    /// The layout of `count` slots of `slot_size` bytes, or why there is none.
    fn new(count: u64, slot_size: u64) -> Result<Layout> {
        if count == 0 || count > u64::from(MAX_SLOTS) {
            return Err(Error::Corrupt(format!(
                "{count} slots: a segment holds 1 to {MAX_SLOTS}"
            )));
        }
        if slot_size == 0 || slot_size > u64::from(u32::MAX) {
            return Err(Error::Corrupt(format!(
                "slots of {slot_size} bytes: a slot holds 1 byte to 4 GiB"
            )));
        }
        let (count, slot_size) = (count as usize, slot_size as usize);
        // Room for every slot's entry at once (and the ring's reserve), so neither queue
        // can fill.
        let queue_cap = (count * ring::footprint(ENTRY as u64) as usize + ring::RESERVE as usize)
            .next_power_of_two()
            .max(64);
        let ring_len = ring::segment_len(queue_cap);
        let published_at = TOP;
        let returned_at = (published_at + ring_len).next_multiple_of(TOP);
        let slots_at = (returned_at + ring_len).next_multiple_of(PAGE);
        let stride = slot_size.next_multiple_of(LINE);
        let len = stride
            .checked_mul(count)
            .and_then(|s| s.checked_add(slots_at))
            .filter(|&len| len as u64 <= crate::segment::MAX_LEN)
            .ok_or_else(|| {
                Error::Corrupt(format!(
                    "{count} slots of {slot_size} bytes do not fit in a segment"
                ))
            })?;
        Ok(Layout {
            count: count as u32,
            slot_size,
            queue_cap,
            published_at,
            returned_at,
            slots_at,
            stride,
            len,
        })
    }
}

/// Creates a segment of `count` slots of `slot_size` bytes each whose ends may sleep on a
/// futex ([`Wait::SpinThenFutex`]). Hand its descriptor to the other process; one end
/// attaches a [`Lender`], the other a [`Reader`].
pub fn create(count: u32, slot_size: usize) -> Result<Arc<Segment>> {
    create_with(count, slot_size, false)
}

/// Like [`create`], for ends that only spin (see [`ring::create_spinning`]); each end maps
/// the whole segment into its process as it attaches, so no loan waits on a page fault.
pub fn create_spinning(count: u32, slot_size: usize) -> Result<Arc<Segment>> {
    create_with(count, slot_size, true)
}

fn create_with(count: u32, slot_size: usize, spinning: bool) -> Result<Arc<Segment>> {
    let layout = Layout::new(u64::from(count), slot_size as u64)?;
    let seg = Segment::create("concur-slots", layout.len)?;
    let flags = if spinning { ring::SPIN_ONLY } else { 0 };
    // SAFETY: the segment is page-aligned, `layout.len` bytes, zero-filled and not shared
    // yet; both queues lie inside it at 128-byte aligned offsets, `segment_len(queue_cap)`
    // bytes each, and the header at 0 is all atomics.
    unsafe {
        ring::init_at(
            seg.as_ptr().add(layout.published_at),
            layout.queue_cap as u64,
            flags,
        );
        ring::init_at(
            seg.as_ptr().add(layout.returned_at),
            layout.queue_cap as u64,
            flags,
        );
        let hdr = &*(seg.as_ptr() as *const Header);
        hdr.count.store(u64::from(count), Ordering::Relaxed);
        hdr.slot_size.store(slot_size as u64, Ordering::Relaxed);
        hdr.queue_cap
            .store(layout.queue_cap as u64, Ordering::Relaxed);
        hdr.magic.store(MAGIC, Ordering::Release);
    }
    Ok(Arc::new(seg))
}

/// Reads and checks the layout a segment's header describes (written by the other process:
/// any value).
fn layout_of(seg: &Segment) -> Result<Layout> {
    if seg.len() < TOP {
        return Err(Error::Corrupt(format!(
            "segment of {} bytes is too small for slots",
            seg.len()
        )));
    }
    // SAFETY: the mapping is page-aligned and at least TOP bytes; a Header is all atomics.
    let hdr = unsafe { &*(seg.as_ptr() as *const Header) };
    if hdr.magic.load(Ordering::Acquire) != MAGIC {
        return Err(Error::Corrupt("bad magic: not concur slots".into()));
    }
    let layout = Layout::new(
        hdr.count.load(Ordering::Relaxed),
        hdr.slot_size.load(Ordering::Relaxed),
    )?;
    let queue_cap = hdr.queue_cap.load(Ordering::Relaxed);
    if queue_cap != layout.queue_cap as u64 || layout.len != seg.len() {
        return Err(Error::Corrupt(format!(
            "slots header (queues of {queue_cap} bytes) does not match a segment of {} bytes",
            seg.len()
        )));
    }
    Ok(layout)
}

/// A loan of at least this many bytes first takes back the slots the receiver returned, so
/// it gets the slot this core wrote last (the free slots are a stack): a ping-pong of large
/// messages then writes one slot, still in this core's caches, instead of going round every
/// slot. A smaller loan takes slots back only when none is free, sparing the read of the
/// returned queue's line, which the receiver wrote, for a copy too short to care. (With two
/// slots of a 1 MiB ping-pong alternating, `shm-loan` took 40–44 µs against `iceoryx2`'s
/// 33–36; with the same slot each time, 32–34 µs.)
const WARM_LOAN: usize = 64 << 10;

/// Maps the slots of a spinning segment into this process at once (its queues are mapped
/// as they attach), as a spinning ring's ends do: the first loan of each slot would
/// otherwise fault on every page of it.
fn prefault_if_spinning(seg: &Segment, layout: &Layout, spinning: bool) -> Result<()> {
    if spinning {
        seg.prefault(layout.slots_at, layout.len - layout.slots_at)?;
    }
    Ok(())
}

/// The slots' memory: `count` slots `stride` bytes apart from `base`.
struct Area {
    base: *mut u8,
    count: u32,
    slot_size: usize,
    stride: usize,
    _keep: Arc<dyn Any + Send + Sync>,
}

// SAFETY: `base` targets memory kept alive by `_keep`; a slot is touched only by the end
// that owns it under the protocol above.
unsafe impl Send for Area {}

impl Area {
    fn of(seg: &Arc<Segment>, layout: &Layout) -> Area {
        Area {
            // SAFETY: slots_at + count * stride == layout.len == seg.len(), checked by
            // `layout_of` or by construction in `create`.
            base: unsafe { seg.as_ptr().add(layout.slots_at) },
            count: layout.count,
            slot_size: layout.slot_size,
            stride: layout.stride,
            _keep: Arc::clone(seg) as Arc<dyn Any + Send + Sync>,
        }
    }

    /// The start of slot `slot` (`slot_size` bytes).
    ///
    /// # Safety
    ///
    /// `slot < count`, and the caller owns the slot under the protocol.
    unsafe fn ptr(&self, slot: u32) -> *mut u8 {
        // SAFETY: slot < count, so the offset is inside the area (see `of`).
        unsafe { self.base.add(slot as usize * self.stride) }
    }
}

/// The sending end: borrows slots, fills them in place, publishes them.
pub struct Lender {
    published: ring::Sender,
    returned: ring::Receiver,
    area: Area,
    /// Slots this end may lend: never published, or returned.
    free: Vec<u32>,
    /// Whether each slot is published and not yet returned.
    out: Vec<bool>,
    entry: Vec<u8>,
}

/// The receiving end: reads published slots in place and returns them.
pub struct Reader {
    published: ring::Receiver,
    returned: ring::Sender,
    area: Area,
    entry: Vec<u8>,
    /// A release that failed in a [`Sample`]'s drop, reported by the next receive.
    failed_release: Option<Error>,
}

impl Lender {
    /// Attaches to the slots in `seg` as their only sender.
    pub fn attach(seg: &Arc<Segment>, wait: Wait) -> Result<Lender> {
        let layout = layout_of(seg)?;
        let ring_len = ring::segment_len(layout.queue_cap);
        let published = ring::Sender::attach_at(seg, layout.published_at, ring_len, wait)?;
        prefault_if_spinning(seg, &layout, published.spin_only())?;
        Ok(Lender::from_parts(
            published,
            ring::Receiver::attach_at(seg, layout.returned_at, ring_len, wait)?,
            Area::of(seg, &layout),
        ))
    }

    fn from_parts(published: ring::Sender, returned: ring::Receiver, area: Area) -> Lender {
        Lender {
            published,
            returned,
            // Lent lowest first: slot 0 stays warm in this core's cache.
            free: (0..area.count).rev().collect(),
            out: vec![false; area.count as usize],
            area,
            entry: Vec::with_capacity(ENTRY),
        }
    }

    /// Names the process that will attach the [`Reader`]: until it has, a wait ends with
    /// [`Error::PeerGone`] when that process is gone.
    pub fn expect_peer(&mut self, pid: u32) {
        self.published.expect_peer(pid);
        self.returned.expect_peer(pid);
    }

    /// How many bytes a slot holds.
    pub fn slot_size(&self) -> usize {
        self.area.slot_size
    }

    /// How many slots the segment has.
    pub fn slots(&self) -> u32 {
        self.area.count
    }

    /// Borrows a slot for a message of `len` bytes, waiting for the receiver to release one
    /// if all are published. Fill it through the [`Loan`] and [`Loan::publish`] it; a loan
    /// dropped unpublished goes back to the free slots.
    pub fn loan(&mut self, len: usize) -> Result<Loan<'_>> {
        self.loan_by(len, None)
    }

    /// Like [`Lender::loan`], but a wait for a free slot longer than `timeout` ends with
    /// [`Error::Timeout`]: the bound on a receiver that is alive and holds every slot.
    pub fn loan_timeout(&mut self, len: usize, timeout: Duration) -> Result<Loan<'_>> {
        self.loan_by(len, Some(timeout))
    }

    /// Borrows a slot if one is free now (after taking back what the receiver returned).
    pub fn try_loan(&mut self, len: usize) -> Result<Option<Loan<'_>>> {
        self.check_len(len)?;
        if self.free.is_empty() || len >= WARM_LOAN {
            self.reclaim()?;
        }
        Ok(self.free.pop().map(|slot| Loan::new(self, slot, len)))
    }

    fn loan_by(&mut self, len: usize, timeout: Option<Duration>) -> Result<Loan<'_>> {
        self.check_len(len)?;
        if self.free.is_empty() || len >= WARM_LOAN {
            self.reclaim()?;
        }
        if self.free.is_empty() {
            // Every slot is with the receiver: wait for one to come back.
            let waited = match timeout {
                None => self.returned.recv(&mut self.entry),
                Some(t) => self.returned.recv_timeout(&mut self.entry, t),
            };
            waited.map_err(|e| match e {
                // The returned queue's sender is the reader: say so in this end's terms.
                Error::PeerGone(why) => Error::PeerGone(format!(
                    "the reader is gone with every slot ({})",
                    why.replace("the sender", "it")
                )),
                other => other,
            })?;
            self.take_back()?;
        }
        let slot = self.free.pop().expect("a slot is free");
        Ok(Loan::new(self, slot, len))
    }

    fn check_len(&self, len: usize) -> Result<()> {
        if len > self.area.slot_size {
            return Err(Error::TooLarge {
                len,
                capacity: self.area.slot_size,
            });
        }
        Ok(())
    }

    /// Takes back every slot the receiver has returned so far.
    fn reclaim(&mut self) -> Result<()> {
        while self.returned.try_recv(&mut self.entry)? {
            self.take_back()?;
        }
        Ok(())
    }

    /// Checks the returned entry in `self.entry` and frees its slot.
    fn take_back(&mut self) -> Result<()> {
        let slot = <[u8; 4]>::try_from(self.entry.as_slice())
            .map(u32::from_le_bytes)
            .map_err(|_| {
                Error::Corrupt(format!(
                    "a returned entry of {} bytes (4 expected)",
                    self.entry.len()
                ))
            })?;
        match self.out.get_mut(slot as usize) {
            Some(out) if *out => {
                *out = false;
                self.free.push(slot);
                Ok(())
            }
            Some(_) => Err(Error::Corrupt(format!(
                "the receiver returned slot {slot}, which it did not hold"
            ))),
            None => Err(Error::Corrupt(format!(
                "the receiver returned slot {slot} of {}",
                self.area.count
            ))),
        }
    }
}

/// A slot borrowed from a [`Lender`]: `len` bytes to fill in place (they hold whatever the
/// slot last held), then [`Loan::publish`].
pub struct Loan<'a> {
    lender: &'a mut Lender,
    slot: u32,
    len: usize,
    published: bool,
}

impl<'a> Loan<'a> {
    fn new(lender: &'a mut Lender, slot: u32, len: usize) -> Loan<'a> {
        Loan {
            lender,
            slot,
            len,
            published: false,
        }
    }

    /// Shortens the message to its first `len` bytes (when it turned out smaller than the
    /// loan asked for). A longer `len` is ignored.
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Hands the slot to the receiver. Never waits: the published queue has room for every
    /// slot. A receiver that closed its end is noticed by the next wait for a free slot.
    pub fn publish(mut self) -> Result<()> {
        let mut entry = [0u8; ENTRY];
        entry[..4].copy_from_slice(&self.slot.to_le_bytes());
        entry[4..].copy_from_slice(&(self.len as u32).to_le_bytes());
        if !self.lender.published.try_send(&entry)? {
            return Err(Error::Corrupt(
                "the published queue is full, though it has room for every slot".into(),
            ));
        }
        self.lender.out[self.slot as usize] = true;
        self.published = true;
        Ok(())
    }
}

impl std::ops::Deref for Loan<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: the slot is this loan's (taken from the free list, not yet published),
        // slot < count and len <= slot_size (checked in `loan`).
        unsafe { std::slice::from_raw_parts(self.lender.area.ptr(self.slot), self.len) }
    }
}

impl std::ops::DerefMut for Loan<'_> {
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`; the loan borrows the lender mutably, so this is the only
        // reference into the slot in this process.
        unsafe { std::slice::from_raw_parts_mut(self.lender.area.ptr(self.slot), self.len) }
    }
}

impl Drop for Loan<'_> {
    fn drop(&mut self) {
        if !self.published {
            self.lender.free.push(self.slot);
        }
    }
}

impl Reader {
    /// Attaches to the slots in `seg` as their only receiver.
    pub fn attach(seg: &Arc<Segment>, wait: Wait) -> Result<Reader> {
        let layout = layout_of(seg)?;
        let ring_len = ring::segment_len(layout.queue_cap);
        let returned = ring::Sender::attach_at(seg, layout.returned_at, ring_len, wait)?;
        prefault_if_spinning(seg, &layout, returned.spin_only())?;
        Ok(Reader::from_parts(
            ring::Receiver::attach_at(seg, layout.published_at, ring_len, wait)?,
            returned,
            Area::of(seg, &layout),
        ))
    }

    fn from_parts(published: ring::Receiver, returned: ring::Sender, area: Area) -> Reader {
        Reader {
            published,
            returned,
            area,
            entry: Vec::with_capacity(ENTRY),
            failed_release: None,
        }
    }

    /// Names the process that will attach the [`Lender`]: until it has, a wait ends with
    /// [`Error::PeerGone`] when that process is gone.
    pub fn expect_peer(&mut self, pid: u32) {
        self.published.expect_peer(pid);
        self.returned.expect_peer(pid);
    }

    /// Waits for the next published slot and reads it in place. Dropping the [`Sample`]
    /// returns the slot. After the sender closed, what it published is still delivered.
    pub fn recv(&mut self) -> Result<Sample<'_>> {
        self.check_released()?;
        self.published.recv(&mut self.entry)?;
        self.sample()
    }

    /// Like [`Reader::recv`], but a wait longer than `timeout` ends with
    /// [`Error::Timeout`].
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Sample<'_>> {
        self.check_released()?;
        self.published.recv_timeout(&mut self.entry, timeout)?;
        self.sample()
    }

    /// The next published slot if there is one now.
    pub fn try_recv(&mut self) -> Result<Option<Sample<'_>>> {
        self.check_released()?;
        if !self.published.try_recv(&mut self.entry)? {
            return Ok(None);
        }
        self.sample().map(Some)
    }

    fn check_released(&mut self) -> Result<()> {
        self.failed_release.take().map_or(Ok(()), Err)
    }

    /// Checks the published entry in `self.entry`: a slot of the segment, a length that fits.
    fn sample(&mut self) -> Result<Sample<'_>> {
        let entry = <[u8; ENTRY]>::try_from(self.entry.as_slice()).map_err(|_| {
            Error::Corrupt(format!(
                "a published entry of {} bytes ({ENTRY} expected)",
                self.entry.len()
            ))
        })?;
        let slot = u32::from_le_bytes(entry[..4].try_into().expect("4 bytes"));
        let len = u32::from_le_bytes(entry[4..].try_into().expect("4 bytes")) as usize;
        if slot >= self.area.count || len > self.area.slot_size {
            return Err(Error::Corrupt(format!(
                "slot {slot} of {} bytes published, in {} slots of {} bytes",
                len, self.area.count, self.area.slot_size
            )));
        }
        Ok(Sample {
            reader: self,
            slot,
            len,
        })
    }
}

/// A published slot, read in place; dropping it returns the slot to the sender.
pub struct Sample<'a> {
    reader: &'a mut Reader,
    slot: u32,
    len: usize,
}

impl Sample<'_> {
    /// Which slot this is (for diagnostics).
    pub fn slot(&self) -> u32 {
        self.slot
    }
}

impl std::ops::Deref for Sample<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        // SAFETY: slot < count and len <= slot_size (checked in `Reader::sample`); the slot
        // is the receiver's until this sample returns it.
        unsafe { std::slice::from_raw_parts(self.reader.area.ptr(self.slot), self.len) }
    }
}

impl Drop for Sample<'_> {
    fn drop(&mut self) {
        let reader = &mut *self.reader;
        // Never waits: the returned queue has room for every slot. A failure (the sender
        // closed, a corrupt queue) is reported by the next receive.
        match reader.returned.try_send(&self.slot.to_le_bytes()) {
            Ok(true) => {}
            Ok(false) => {
                reader.failed_release = Some(Error::Corrupt(
                    "the returned queue is full, though it has room for every slot".into(),
                ))
            }
            Err(e) => reader.failed_release = Some(e),
        }
    }
}

/// A lender and a reader over heap memory (no segment), for tests of the protocol in one
/// process, loom included.
#[cfg(any(test, loom))]
pub(crate) fn heap_pair(count: u32, slot_size: usize, wait: Wait) -> (Lender, Reader) {
    let layout = Layout::new(u64::from(count), slot_size as u64).expect("a valid layout");
    let (pub_tx, pub_rx) = ring::heap_pair(layout.queue_cap as u64, wait);
    let (ret_tx, ret_rx) = ring::heap_pair(layout.queue_cap as u64, wait);
    struct Heap(Box<[std::cell::UnsafeCell<u8>]>);
    // SAFETY: a slot's bytes are touched only by the end that owns it (the protocol above).
    unsafe impl Sync for Heap {}
    unsafe impl Send for Heap {}
    let heap = Arc::new(Heap(
        (0..count as usize * layout.stride)
            .map(|_| std::cell::UnsafeCell::new(0))
            .collect(),
    ));
    let area = || Area {
        base: heap.0.as_ptr() as *mut u8,
        count,
        slot_size,
        stride: layout.stride,
        _keep: Arc::clone(&heap) as Arc<dyn Any + Send + Sync>,
    };
    (
        Lender::from_parts(pub_tx, ret_rx, area()),
        Reader::from_parts(pub_rx, ret_tx, area()),
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_slot_is_filled_and_read_in_place_and_comes_back() {
        let seg = create(2, 100).unwrap();
        let mut tx = Lender::attach(&seg, Wait::default()).unwrap();
        let mut rx = Reader::attach(&seg, Wait::default()).unwrap();
        for i in 0..10u8 {
            let mut loan = tx.loan(50).unwrap();
            loan.fill(i);
            loan.truncate(40);
            loan.publish().unwrap();
            let sample = rx.recv().unwrap();
            assert_eq!(&*sample, &[i; 40]);
        }
        // Every slot came back: both can be published again with no receive between.
        tx.try_loan(1).unwrap().unwrap().publish().unwrap();
        tx.try_loan(1).unwrap().unwrap().publish().unwrap();
        assert!(tx.try_loan(1).unwrap().is_none());
    }

    #[test]
    fn a_large_loan_reuses_the_slot_last_written_and_a_small_one_does_not_look() {
        let seg = create(3, WARM_LOAN).unwrap();
        let mut tx = Lender::attach(&seg, Wait::default()).unwrap();
        let mut rx = Reader::attach(&seg, Wait::default()).unwrap();
        let mut ping_pong = |len: usize| {
            tx.loan(len).unwrap().publish().unwrap();
            rx.recv().unwrap().slot()
        };
        let large: Vec<u32> = (0..5).map(|_| ping_pong(WARM_LOAN)).collect();
        assert_eq!(large, [0; 5]);
        // Slot 0 went back after the last large loan, and stays there until no slot is
        // free; then the slots come back in the order returned, the last one lent first.
        let small: Vec<u32> = (0..4).map(|_| ping_pong(8)).collect();
        assert_eq!(
            small,
            [1, 2, 2, 1],
            "small loans take slots back only when none is free"
        );
    }

    #[test]
    fn a_reader_holding_every_slot_bounds_the_wait() {
        let (mut tx, mut rx) = heap_pair(2, 8, Wait::SpinThenFutex { spins: 10 });
        tx.loan(8).unwrap().publish().unwrap();
        tx.loan(8).unwrap().publish().unwrap();
        let held = rx.recv().unwrap();
        assert_eq!(held.len(), 8);
        std::mem::forget(held); // Never released.
        assert!(tx.try_loan(8).unwrap().is_none());
        let waited = tx.loan_timeout(8, Duration::from_millis(30)).map(drop);
        assert!(
            matches!(waited, Err(Error::Timeout(_))),
            "{:?}",
            waited.err()
        );
        // The reader releases the second: one slot is free again.
        drop(rx.recv().unwrap());
        assert!(tx.try_loan(8).unwrap().is_some());
    }

    #[test]
    fn an_unpublished_loan_goes_back_and_a_large_one_is_refused() {
        let (mut tx, mut rx) = heap_pair(1, 16, Wait::default());
        drop(tx.loan(16).unwrap());
        assert!(matches!(tx.loan(17), Err(Error::TooLarge { len: 17, .. })));
        tx.loan(3).unwrap().publish().unwrap();
        assert_eq!(rx.recv().unwrap().len(), 3);
    }

    #[test]
    fn a_closed_reader_fails_the_lender_once_it_must_wait() {
        let (mut tx, rx) = heap_pair(1, 8, Wait::default());
        drop(rx);
        tx.loan(8).unwrap().publish().unwrap();
        let waited = tx.loan(8).map(drop);
        assert!(
            matches!(waited, Err(Error::PeerGone(_))),
            "{:?}",
            waited.err()
        );
    }

    #[test]
    fn a_closed_lender_is_reported_after_its_samples() {
        let (mut tx, mut rx) = heap_pair(2, 8, Wait::default());
        tx.loan(8).unwrap().publish().unwrap();
        drop(tx);
        assert_eq!(rx.recv().unwrap().len(), 8);
        assert!(matches!(rx.recv(), Err(Error::PeerGone(_))));
    }

    #[test]
    fn a_hostile_lender_cannot_point_outside_the_slots() {
        let (mut tx, mut rx) = heap_pair(2, 16, Wait::default());
        let entry = |slot: u32, len: u32| [slot.to_le_bytes(), len.to_le_bytes()].concat();
        for bad in [
            entry(2, 1),
            entry(0, 17),
            entry(u32::MAX, u32::MAX),
            vec![0; 5],
        ] {
            tx.published.send(&bad).unwrap();
            let got = rx.recv().map(|s| s.len());
            assert!(matches!(got, Err(Error::Corrupt(_))), "{bad:?}: {got:?}");
        }
    }

    #[test]
    fn a_hostile_reader_cannot_return_what_it_does_not_hold() {
        // A slot returned twice, and a slot past the end: refused when the lender takes
        // slots back (a return is checked then: the slot must be out with the reader).
        for twice in [true, false] {
            let (mut tx, mut rx) = heap_pair(1, 16, Wait::default());
            tx.loan(4).unwrap().publish().unwrap();
            drop(rx.recv().unwrap()); // Slot 0 comes back: fine.
            let bad: u32 = if twice { 0 } else { 7 };
            rx.returned.send(&bad.to_le_bytes()).unwrap();
            let got = tx.loan(4).map(drop);
            assert!(matches!(got, Err(Error::Corrupt(_))), "slot {bad}: {got:?}");
        }
    }

    #[test]
    fn a_segment_that_is_not_slots_is_refused() {
        let ring_seg = ring::create(4096).unwrap();
        let refused = Lender::attach(&ring_seg, Wait::default());
        assert!(matches!(refused, Err(Error::Corrupt(_))));
        let seg = create(2, 64).unwrap();
        // SAFETY: the header is all atomics; no other end is attached.
        let hdr = unsafe { &*(seg.as_ptr() as *const Header) };
        hdr.count.store(3, Ordering::Relaxed); // No longer matches the segment's length.
        assert!(matches!(
            Reader::attach(&seg, Wait::default()),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn layouts_refuse_what_does_not_fit() {
        assert!(Layout::new(0, 8).is_err());
        assert!(Layout::new(u64::from(MAX_SLOTS) + 1, 8).is_err());
        assert!(Layout::new(1, 0).is_err());
        assert!(Layout::new(1, 1 << 33).is_err());
        assert!(Layout::new(u64::from(MAX_SLOTS), u64::from(u32::MAX)).is_err());
        let l = Layout::new(3, 100).unwrap();
        assert_eq!(
            (l.stride, l.slots_at % PAGE, l.len),
            (128, 0, l.slots_at + 384)
        );
        assert!(l.returned_at >= l.published_at + ring::segment_len(l.queue_cap));
    }
}

/// Model checks: `RUSTFLAGS="--cfg loom" cargo test -p concur-shm --release --lib loom`.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;

    /// One slot lent, read and returned twice over: the second fill never overtakes the
    /// first read (the release happens before the slot is lent again), whatever the
    /// interleaving, and nobody is left waiting.
    #[test]
    fn a_slot_is_reused_only_after_it_comes_back() {
        loom::model(|| {
            let (mut tx, mut rx) = heap_pair(1, 8, Wait::Spin);
            let lender = loom::thread::spawn(move || {
                for i in 1..=2u8 {
                    let mut loan = tx.loan(8).unwrap();
                    loan.fill(i);
                    loan.publish().unwrap();
                }
            });
            for i in 1..=2u8 {
                let sample = rx.recv().unwrap();
                assert_eq!(&*sample, &[i; 8]);
            }
            lender.join().unwrap();
        });
    }
}
