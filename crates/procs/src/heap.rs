//! Keeping ipc-channel's receive buffers from shrinking and regrowing the heap.

/// Allocations under this size come from the heap, not a mapping of their own: the most
/// glibc's adaptive threshold grows to on 64-bit targets (and the most `mallopt` accepts).
const MMAP_THRESHOLD: usize = 32 << 20;

/// The heap is given back to the kernel only when this much is free at its top: twice the
/// mmap threshold, as glibc's adaptive scheme sets it.
const TRIM_THRESHOLD: usize = 64 << 20;

/// Fixes glibc's malloc thresholds so a receive buffer is reused, not returned to the kernel.
///
/// ipc-channel allocates, for every message it receives, a buffer the size of the socket's
/// receive buffer (212 KiB on a default Linux), and an `IpcReceiverSet`'s `select` two (the
/// second finds the socket empty). With glibc's default thresholds, which adapt as the
/// program runs, freeing that buffer can shrink the heap (`brk`) there and then, and the next
/// message grows it again and faults its pages back in: on the 2-vCPU VM this doubled a
/// `process-pool` task's round trip (`concur pingpong --channel process-pool-task --against
/// ipc-channel`: 41 µs against the channel's 17.5 µs; 23 µs with these thresholds).
///
/// This call sets the thresholds where glibc's adaptive scheme ends up after the program
/// frees a 32 MiB block: allocations under 32 MiB come from the heap, and the heap is
/// trimmed only once 64 MiB at its top are free (a process keeps up to that much freed
/// memory for reuse; the pages a receive buffer never touched are never faulted in).
/// [`init`](crate::init) calls it (in the parent and in every worker); call it yourself,
/// first in `main`, if the program receives on ipc-channel before `init` runs. Idempotent;
/// a no-op where the C library is not glibc (or the target not 64-bit).
// The crate's one `unsafe` (the workspace denies it elsewhere): a C call with no pointers.
#[allow(unsafe_code)]
pub fn keep_receive_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu", target_pointer_width = "64"))]
    {
        let as_int = |n: usize| libc::c_int::try_from(n).expect("thresholds fit a C int");
        // SAFETY: `mallopt` only sets malloc's parameters, under malloc's own lock; it is
        // safe to call at any time from any thread, and both values are within glibc's
        // limits (the mmap threshold at most 32 MiB on 64-bit targets).
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, as_int(MMAP_THRESHOLD));
            libc::mallopt(libc::M_TRIM_THRESHOLD, as_int(TRIM_THRESHOLD));
        }
    }
}

#[cfg(all(
    test,
    target_os = "linux",
    target_env = "gnu",
    target_pointer_width = "64"
))]
mod tests {
    /// Bytes malloc holds in blocks mapped on their own (every arena's).
    #[allow(unsafe_code)]
    fn mapped_block_bytes() -> usize {
        // SAFETY: `mallinfo2` only reads malloc's counters and returns them by value.
        unsafe { libc::mallinfo2() }.hblkhd
    }

    #[test]
    fn a_large_buffer_comes_from_the_heap_after_the_call() {
        // glibc's default threshold starts at 128 KiB: 24 MiB would be a mapping of its own.
        super::keep_receive_buffers();
        let before = mapped_block_bytes();
        let buffer: Vec<u8> = Vec::with_capacity(24 << 20);
        let during = mapped_block_bytes();
        drop(std::hint::black_box(buffer));
        assert!(
            during < before + (24 << 20),
            "a 24 MiB buffer was mapped on its own ({before} -> {during} bytes mapped)"
        );
    }
}
