//! Anonymous shared-memory segments: `memfd_create`, sealed at their size, mapped shared.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use memmap2::MmapRaw;
use rustix::fs::{MemfdFlags, SealFlags};

use crate::{Error, Result};

/// The largest segment this crate maps: far above any use here, low enough that a length
/// read from another process cannot make us map the address space away.
pub(crate) const MAX_LEN: u64 = 1 << 40;

/// A shared-memory segment: a memfd mapped `MAP_SHARED` into this process.
///
/// The memfd is sealed against shrinking and growing, so a peer holding the descriptor
/// cannot truncate it under our mapping (which would turn reads into `SIGBUS`). It has no
/// path: it is freed when the last descriptor and mapping go away, whatever happens to the
/// processes holding them.
#[derive(Debug)]
pub struct Segment {
    map: MmapRaw,
    file: File,
}

impl Segment {
    /// Creates a zero-filled segment of `len` bytes.
    pub fn create(name: &str, len: usize) -> Result<Segment> {
        let len64 = u64::try_from(len).unwrap_or(u64::MAX);
        if len == 0 || len64 > MAX_LEN {
            return Err(Error::Corrupt(format!("segment length {len} out of range")));
        }
        let fd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
            .map_err(std::io::Error::from)?;
        rustix::fs::ftruncate(&fd, len64).map_err(std::io::Error::from)?;
        rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL)
            .map_err(std::io::Error::from)?;
        Self::map(File::from(fd))
    }

    /// Maps a segment received from another process. Its size comes from the kernel, and it
    /// must be sealed against shrinking, else the peer could truncate it under the mapping.
    pub fn from_fd(fd: OwnedFd) -> Result<Segment> {
        let seals = rustix::fs::fcntl_get_seals(&fd).map_err(std::io::Error::from)?;
        if !seals.contains(SealFlags::SHRINK) {
            return Err(Error::Corrupt(
                "the segment is not sealed against shrinking".into(),
            ));
        }
        Self::map(File::from(fd))
    }

    fn map(file: File) -> Result<Segment> {
        let len = file.metadata()?.len();
        if len == 0 || len > MAX_LEN {
            return Err(Error::Corrupt(format!("segment length {len} out of range")));
        }
        let map = MmapRaw::map_raw(&file)?;
        Ok(Segment { map, file })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the segment is empty (never: creation refuses zero length).
    pub fn is_empty(&self) -> bool {
        self.map.len() == 0
    }

    /// Maps every page of `len` bytes from `offset` into this process now, allocating the
    /// ones no process has touched yet, so that the first pass over them takes no page
    /// fault: a ring's first lap otherwise faults once per 4 KiB page in each process that
    /// maps it (about 1 µs each here, several spinning round trips). Costs about
    /// 0.3 ms per MiB the first time (the pages are allocated and zeroed) and 0.07 ms per
    /// MiB in a process mapping pages that exist. The range must lie inside the segment;
    /// the pages it touches are mapped whole.
    ///
    /// Uses `MADV_POPULATE_WRITE` (Linux 5.14); where that fails (an older kernel), reads a
    /// byte of every page instead (a read fault maps a shared memory page writable).
    pub fn prefault(&self, offset: usize, len: usize) -> Result<()> {
        self.check_range(offset, len)?;
        if len == 0 {
            return Ok(());
        }
        // memmap2 rounds the start down to a page (the kernel rounds the length up).
        if self
            .map
            .advise_range(memmap2::Advice::PopulateWrite, offset, len)
            .is_ok()
        {
            return Ok(());
        }
        self.touch_pages(offset, len);
        Ok(())
    }

    /// Reads a byte of every page of `len` bytes (more than 0) from `offset`, a range
    /// checked to lie inside the segment: [`Segment::prefault`] where the kernel cannot.
    fn touch_pages(&self, offset: usize, len: usize) {
        // Every 4 KiB, the smallest page Linux has, so every page whatever its size.
        for at in (offset..offset + len)
            .step_by(4096)
            .chain([offset + len - 1])
        {
            // SAFETY: `at` lies inside the checked range; an atomic byte is valid for any
            // value a peer may be writing there.
            let byte = unsafe { &*(self.as_ptr().add(at) as *const std::sync::atomic::AtomicU8) };
            byte.load(std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Start of the mapping. Page-aligned. Other processes may write to it at any time.
    pub fn as_ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// Copies `src` into the segment from `offset`. Another process may read or write the
    /// same bytes meanwhile: it sees some mix of them, nothing else is touched.
    pub fn write(&self, offset: usize, src: &[u8]) -> Result<()> {
        self.check_range(offset, src.len())?;
        // SAFETY: the range lies inside the mapping (checked), which lives as long as
        // `self`; a concurrent writer in another process only changes which bytes land.
        unsafe {
            std::ptr::copy_nonoverlapping(src.as_ptr(), self.as_ptr().add(offset), src.len())
        };
        Ok(())
    }

    /// Copies `dst.len()` bytes out of the segment from `offset`: whatever another process
    /// wrote there, as plain bytes.
    pub fn read(&self, offset: usize, dst: &mut [u8]) -> Result<()> {
        self.check_range(offset, dst.len())?;
        // SAFETY: as in `write`; every bit pattern is a valid `u8`.
        unsafe {
            std::ptr::copy_nonoverlapping(self.as_ptr().add(offset), dst.as_mut_ptr(), dst.len())
        };
        Ok(())
    }

    fn check_range(&self, offset: usize, len: usize) -> Result<()> {
        if offset.checked_add(len).is_none_or(|end| end > self.len()) {
            return Err(Error::Corrupt(format!(
                "{len} bytes at {offset} lie outside a segment of {} bytes",
                self.len()
            )));
        }
        Ok(())
    }

    /// The descriptor to hand to another process (e.g. as a child's stdin, or by SCM_RIGHTS).
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_maps_and_shares_through_a_descriptor() {
        let a = Segment::create("test", 8192).unwrap();
        assert_eq!(a.len(), 8192);
        assert_eq!(a.as_ptr() as usize % 4096, 0);
        let b = Segment::from_fd(a.fd().try_clone_to_owned().unwrap()).unwrap();
        // SAFETY: both mappings are 8192 bytes long and no other thread touches them.
        unsafe {
            a.as_ptr().add(100).write(42);
            assert_eq!(b.as_ptr().add(100).read(), 42);
        }
    }

    #[test]
    fn copies_in_and_out_within_bounds_only() {
        let a = Segment::create("copies", 4096).unwrap();
        a.write(4090, b"abcdef").unwrap();
        let mut out = [0u8; 6];
        a.read(4090, &mut out).unwrap();
        assert_eq!(&out, b"abcdef");
        assert!(matches!(a.write(4091, b"abcdef"), Err(Error::Corrupt(_))));
        assert!(matches!(
            a.read(usize::MAX, &mut out),
            Err(Error::Corrupt(_))
        ));
    }

    #[test]
    fn refuses_bad_lengths_and_unsealed_files() {
        assert!(Segment::create("zero", 0).is_err());
        let unsealed = rustix::fs::memfd_create("plain", MemfdFlags::CLOEXEC).unwrap();
        rustix::fs::ftruncate(&unsealed, 4096).unwrap();
        assert!(matches!(Segment::from_fd(unsealed), Err(Error::Corrupt(_))));
    }

    #[test]
    fn prefault_maps_a_range_and_refuses_one_outside() {
        let a = Segment::create("prefault", 3 * 4096).unwrap();
        a.prefault(100, 5000).unwrap();
        a.prefault(0, a.len()).unwrap();
        a.prefault(a.len(), 0).unwrap();
        assert!(matches!(a.prefault(4096, 3 * 4096), Err(Error::Corrupt(_))));
        a.touch_pages(4095, 2);
        a.touch_pages(0, a.len());
        // Prefaulting changes no byte.
        let mut out = [1u8; 16];
        a.read(4090, &mut out).unwrap();
        assert_eq!(out, [0; 16]);
    }

    #[test]
    fn sealed_size_cannot_change() {
        let a = Segment::create("sealed", 4096).unwrap();
        assert!(rustix::fs::ftruncate(a.fd(), 1).is_err());
        assert!(rustix::fs::ftruncate(a.fd(), 1 << 20).is_err());
    }
}
