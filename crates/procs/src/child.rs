//! What every worker process does before it serves: its environment, dying with its parent,
//! and the exit codes that tell the parent why it could not start. Both transports' worker
//! sides build on this module; it depends on neither.

use std::sync::atomic::{AtomicBool, Ordering};

use nix::sys::signal::Signal;

/// Set (to the parent's one-shot server name) in the environment of a [`crate::ProcessPool`]
/// or [`crate::ProcessPerTask`] worker; its presence makes [`crate::init`] serve tasks
/// instead of returning.
pub const WORKER_ENV: &str = "CONCUR_PROCS_WORKER";

/// Set in the environment of an [`crate::ShmPool`] worker; its presence makes [`crate::init`]
/// serve tasks through shared-memory rings instead of returning.
pub const SHM_WORKER_ENV: &str = "CONCUR_SHM_WORKER";

/// The parent's pid, so a worker whose parent died before it could ask for `PR_SET_PDEATHSIG`
/// notices and exits.
pub(crate) const PARENT_ENV: &str = "CONCUR_PROCS_PARENT";

/// Exit codes of a worker that could not serve (the parent reports them).
pub(crate) mod exit_code {
    /// Its parent died before it could ask to die with it.
    pub(crate) const ORPHANED: i32 = 70;
    /// It could not create or receive its channels.
    pub(crate) const NO_CHANNEL: i32 = 71;
    /// It could not reach its parent.
    pub(crate) const NO_PARENT: i32 = 72;
    /// Its parent broke the protocol.
    pub(crate) const PROTOCOL: i32 = 73;
}

/// Decodes one task, runs it and encodes its result; an `Err` is reported to the parent as a
/// failed task. A panic kills the worker, which the parent reports as a crash.
///
/// The second argument is the batch's shared read-only input, mapped once and read by every
/// worker ([`crate::ShmPool`] with a [`concur_shm::Region`]); `None` elsewhere.
pub type Handler = fn(task: &[u8], shared: Option<&[u8]>) -> Result<Vec<u8>, String>;

/// What a start error suggests when a worker never got to serve: `program` probably runs its
/// `main` instead, because it does not call [`crate::init`] first.
pub(crate) fn init_hint(program: &std::path::Path) -> String {
    format!(
        "(does {} call concur_procs::init first thing in main? With concur: \
         concur::main_with, or concur::harness::init_workers)",
        program.display()
    )
}

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Records that this program called [`crate::init`] and is not a worker.
pub(crate) fn mark_initialised() {
    INITIALISED.store(true, Ordering::Release);
}

/// Whether [`crate::init`] has run in this (non-worker) process.
pub fn is_initialised() -> bool {
    INITIALISED.load(Ordering::Acquire)
}

/// Asks the kernel to kill this worker when its parent dies, then checks that the parent is
/// still the one that started it (if it died before the `prctl`, we were re-parented and
/// must not linger). `false`: exit at once.
pub(crate) fn die_with_parent() -> bool {
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() {
        return false;
    }
    let expected = std::env::var(PARENT_ENV)
        .ok()
        .and_then(|p| p.parse::<i32>().ok());
    expected == Some(nix::unistd::getppid().as_raw())
}
