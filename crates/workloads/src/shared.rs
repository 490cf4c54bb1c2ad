//! A workload's one large read-only input, and where it is allocated.
//!
//! Threads read it through an `Arc`; process models either copy slices of it into each task
//! (what `multiprocessing` does) or — given an [`Arena`] that allocates in shared memory —
//! map the very same pages into every worker and send tasks as references into it.

use std::any::Any;
use std::sync::Arc;

/// Bytes every task of a batch reads. Aligned to 8 bytes at least.
pub trait SharedBytes: Send + Sync + 'static {
    /// The contents.
    fn bytes(&self) -> &[u8];
    /// For a model that knows the concrete type (a shared-memory region it can hand on).
    fn as_any(&self) -> &dyn Any;
}

impl std::fmt::Debug for dyn SharedBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SharedBytes({} bytes)", self.bytes().len())
    }
}

/// Allocates a workload's large input: on the heap ([`Heap`]), or in memory other processes
/// can map (the `shm-pool` model's arena), so the input exists once whoever reads it.
pub trait Arena: Sync {
    /// `len` bytes, 8-byte aligned, written once by `fill`, then read-only.
    fn alloc(
        &self,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<Arc<dyn SharedBytes>, String>;
}

/// The default arena: a heap block of `u64`s (so the bytes are 8-byte aligned).
#[derive(Clone, Copy, Debug, Default)]
pub struct Heap;

struct HeapBytes {
    words: Box<[u64]>,
    len: usize,
}

impl SharedBytes for HeapBytes {
    fn bytes(&self) -> &[u8] {
        &bytemuck::cast_slice(&self.words)[..self.len]
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Arena for Heap {
    fn alloc(
        &self,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<Arc<dyn SharedBytes>, String> {
        let mut words = vec![0u64; len.div_ceil(8)].into_boxed_slice();
        fill(&mut bytemuck::cast_slice_mut(&mut words)[..len]);
        Ok(Arc::new(HeapBytes { words, len }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_bytes_are_aligned_and_filled() {
        let b = Heap.alloc(13, &mut |b| b.fill(3)).unwrap();
        assert_eq!(b.bytes(), [3; 13]);
        assert_eq!(b.bytes().as_ptr() as usize % 8, 0);
        assert!(b.as_any().downcast_ref::<HeapBytes>().is_some());
    }
}
