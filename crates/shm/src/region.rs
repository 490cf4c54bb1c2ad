//! Read-only shared regions: a large input written once, then sealed, so any number of
//! processes map one copy and nobody can change it under them.

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use memmap2::{Mmap, MmapMut};
use rustix::fs::{MemfdFlags, SealFlags};

use crate::segment::MAX_LEN;
use crate::{Error, Result};

/// An immutable shared region: a memfd filled once, then sealed against writing, shrinking
/// and growing, mapped read-only. K worker processes that map it share its pages, so the
/// process tree holds one copy (its PSS counts it once).
#[derive(Debug)]
pub struct Region {
    map: Mmap,
    file: File,
}

impl Region {
    /// Creates a region of `len` bytes, lets `fill` write it through a temporary writable
    /// mapping, then seals it.
    pub fn create(name: &str, len: usize, fill: impl FnOnce(&mut [u8])) -> Result<Region> {
        let len64 = u64::try_from(len).unwrap_or(u64::MAX);
        if len == 0 || len64 > MAX_LEN {
            return Err(Error::Corrupt(format!("region length {len} out of range")));
        }
        let fd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
            .map_err(std::io::Error::from)?;
        rustix::fs::ftruncate(&fd, len64).map_err(std::io::Error::from)?;
        let file = File::from(fd);
        {
            // SAFETY: the memfd was created just now and nobody else has it, so nothing can
            // truncate or write it while this mapping lives.
            let mut writable = unsafe { MmapMut::map_mut(&file)? };
            fill(&mut writable);
        } // Unmapped here: F_SEAL_WRITE requires no writable shared mapping.
        rustix::fs::fcntl_add_seals(
            &file,
            SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL,
        )
        .map_err(std::io::Error::from)?;
        Self::map(file)
    }

    /// Maps a region received from another process. It must be sealed against writing and
    /// shrinking: then its contents cannot change and its pages cannot vanish under us.
    pub fn from_fd(fd: OwnedFd) -> Result<Region> {
        let seals = rustix::fs::fcntl_get_seals(&fd).map_err(std::io::Error::from)?;
        if !seals.contains(SealFlags::WRITE | SealFlags::SHRINK) {
            return Err(Error::Corrupt(
                "a shared region must be sealed against writing and shrinking".into(),
            ));
        }
        Self::map(File::from(fd))
    }

    fn map(file: File) -> Result<Region> {
        let len = file.metadata()?.len();
        if len == 0 || len > MAX_LEN {
            return Err(Error::Corrupt(format!("region length {len} out of range")));
        }
        // SAFETY: the file is sealed against writing and shrinking (checked or done by us),
        // so the mapped bytes can neither change nor disappear while the mapping lives.
        let map = unsafe { Mmap::map(&file)? };
        Ok(Region { map, file })
    }

    /// The contents.
    pub fn as_bytes(&self) -> &[u8] {
        &self.map
    }

    /// The descriptor to hand to another process.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filled_sealed_and_shared_read_only() {
        let r = Region::create("test", 10_000, |b| {
            b.iter_mut().enumerate().for_each(|(i, x)| *x = i as u8);
        })
        .unwrap();
        let again = Region::from_fd(r.fd().try_clone_to_owned().unwrap()).unwrap();
        assert_eq!(again.as_bytes(), r.as_bytes());
        assert_eq!(again.as_bytes()[300], 44); // 300 mod 256
        // Sealed: neither writes nor resizes get through.
        assert!(rustix::io::pwrite(r.fd(), b"x", 0).is_err());
        assert!(rustix::fs::ftruncate(r.fd(), 1).is_err());
    }

    #[test]
    fn an_unsealed_memfd_is_refused() {
        let fd = rustix::fs::memfd_create("plain", MemfdFlags::CLOEXEC).unwrap();
        rustix::fs::ftruncate(&fd, 4096).unwrap();
        assert!(matches!(Region::from_fd(fd), Err(Error::Corrupt(_))));
        assert!(Region::create("empty", 0, |_| ()).is_err());
    }
}
