//! Process-based concurrency models: Python's `multiprocessing`, in Rust.
//!
//! - [`ProcessPool`]: K pre-spawned worker processes (`multiprocessing.Pool`), fed tasks over
//!   ipc-channel, reusable across batches. A worker that panics, aborts or is killed
//!   mid-task becomes a [`TaskFailure::Crashed`] naming its pid and exit status or signal;
//!   the pool starts a replacement and keeps serving.
//! - [`ProcessPerTask`]: a fresh process per task (`multiprocessing.Process`), at most K alive.
//! - [`ShmPool`]: K pre-spawned workers fed through shared-memory rings ([`concur_shm`]),
//!   with an optional read-only [`concur_shm::Region`] per batch that every worker maps once
//!   and reads in place: zero-copy inputs.
//! - [`InThreadPool`]: the same scheduler with the handler in the calling thread, no process
//!   and no channel: what a pool does to a task besides carrying it.
//!
//! # The bootstrap rule
//!
//! Workers are this same executable, started again with an environment variable
//! ([`WORKER_ENV`], or [`SHM_WORKER_ENV`] for an [`ShmPool`]) that tells it to serve tasks instead of running `main`. So **a program
//! that starts workers must call [`init`] first thing in `main`**, before parsing arguments
//! or doing any work: in a worker, `init` never returns. A pool refuses to start in a program
//! that has not called `init` (it would re-run the whole program in every worker), unless it
//! is told which other executable hosts the workers (the `program` field of [`Config`]).
//!
//! Tasks and results are opaque bytes: the program's handler, passed to [`init`], decodes a
//! task, runs it and encodes the result, so a worker needs nothing but the bytes.
//!
//! # Lifecycle guarantees
//!
//! - Dropping a pool closes every worker's task channel; workers exit on end-of-file and are
//!   reaped (killed after a grace period if they do not exit).
//! - Workers ask the kernel for `SIGKILL` when their parent dies (`PR_SET_PDEATHSIG`) and
//!   also exit on end-of-file of their task channel, so a crashed or killed parent leaves no
//!   worker behind.
//! - A worker that fails to start (exits early, or does not connect within
//!   [`Config::start_timeout`]) is killed and reaped, and the error says why.
//! - A program interrupted mid-handshake calls [`remove_pending_handshakes`] from its signal
//!   handler, so no one-shot server socket is left in the temporary directory.

mod child;
mod exit;
mod heap;
mod in_thread;
mod ipc;
mod pool;
mod scheduler;
mod shm;

pub use child::{Handler, SHM_WORKER_ENV, WORKER_ENV, is_initialised};
pub use exit::describe_status;
pub use heap::keep_receive_buffers;
pub use ipc::{handshakes_on_tmpfs, remove_pending_handshakes};
pub use pool::{InThreadPool, ProcessPerTask, ProcessPool, Results, ShmPool, TaskResult};
pub use scheduler::Config;
pub use shm::RING_CAPACITY;

/// Call first thing in `main` of any program that starts worker processes.
///
/// In a worker (its environment has [`WORKER_ENV`] or [`SHM_WORKER_ENV`]) this serves tasks
/// with `handler` until the parent closes the channel, then exits the process: it never
/// returns. Otherwise it records that this program can host workers and returns at once.
/// Either way it first fixes the allocator's thresholds so ipc-channel's receive buffers are
/// reused ([`keep_receive_buffers`]).
pub fn init(handler: Handler) {
    keep_receive_buffers();
    if let Some(server) = std::env::var_os(WORKER_ENV) {
        let code = match server.into_string() {
            Ok(name) => ipc::serve(name, handler),
            Err(_) => child::exit_code::NO_PARENT,
        };
        std::process::exit(code);
    }
    if std::env::var_os(SHM_WORKER_ENV).is_some() {
        std::process::exit(shm::serve(handler));
    }
    child::mark_initialised();
}

/// Why a pool could not be built, or a batch could not be run. [`Error::Task`] is one
/// task's failure (from `try_run`); every other variant is the pool's own.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A task failed, and `try_run` stopped at it; the pool is still usable.
    #[error(transparent)]
    Task(#[from] TaskFailure),
    /// A pool was asked for zero workers.
    #[error("a process pool needs at least one worker")]
    NoWorkers,
    /// The program did not call `concur_procs::init()` first thing in `main`.
    #[error(
        "this program cannot host worker processes: call concur_procs::init(handler) first thing in main, \
         or set Config::program to an executable that does"
    )]
    NotInitialised,
    /// The request is past what this machine lets the process start (processes,
    /// descriptors), checked before any worker starts.
    #[error(transparent)]
    Limit(#[from] concur_limits::LimitError),
    /// Starting a worker failed.
    #[error("could not start worker process: {0}")]
    Start(String),
    /// An operating-system call failed.
    #[error("process pool I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// Shared memory failed (an [`ShmPool`]'s rings, doorbell or region).
    #[error(transparent)]
    Shm(#[from] concur_shm::Error),
}

/// Why one task has no result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TaskFailure {
    /// The handler returned an error.
    #[error("task {task} failed: {message}")]
    Handler {
        /// Which task.
        task: usize,
        /// The handler's message.
        message: String,
    },
    /// The worker process died while running the task.
    #[error("task {task}: worker process {pid} {status} while running it")]
    Crashed {
        /// Which task.
        task: usize,
        /// The worker's process id.
        pid: u32,
        /// How it ended, e.g. `was killed by signal 9 (SIGKILL)`.
        status: String,
    },
    /// The task is larger than the transport carries (an [`ShmPool`]'s task ring): it was
    /// not sent, and the pool goes on with the other tasks.
    #[error(
        "task {task} is {len} bytes, more than the {limit} bytes a worker's task channel carries"
    )]
    TooLarge {
        /// Which task.
        task: usize,
        /// Its size in bytes.
        len: usize,
        /// The most the channel carries.
        limit: usize,
    },
    /// The worker sent something that is not a valid reply.
    #[error("task {task}: worker process {pid} broke the protocol: {detail}")]
    Protocol {
        /// Which task.
        task: usize,
        /// The worker's process id.
        pid: u32,
        /// What was wrong.
        detail: String,
    },
}

/// The text of a crate-level doc example, tested.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
