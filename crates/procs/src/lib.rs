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
//!
//! # The bootstrap rule
//!
//! Workers are this same executable, started again with an environment variable
//! ([`WORKER_ENV`], or [`SHM_WORKER_ENV`] for an [`ShmPool`]) that tells it to serve tasks instead of running `main`. So **a program
//! that starts workers must call [`init`] first thing in `main`**, before parsing arguments
//! or doing any work: in a worker, `init` never returns. A pool refuses to start in a program
//! that has not called `init` (it would re-run the whole program in every worker), unless it
//! is told which other executable hosts the workers ([`Config::program`]).
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

mod exit;
mod pool;
mod shm_pool;
mod shm_worker;
mod worker;

pub use exit::describe_status;
pub use pool::{
    Config, ProcessPerTask, ProcessPool, Results, TaskResult, remove_pending_handshakes,
};
pub use shm_pool::{RING_CAPACITY, ShmPool};
pub use shm_worker::SHM_WORKER_ENV;
pub use worker::{Handler, WORKER_ENV, init, is_initialised};

/// Why a pool could not be built or a batch could not be run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pool was asked for zero workers.
    #[error("a process pool needs at least one worker")]
    NoWorkers,
    /// The program did not call `concur_procs::init()` first thing in `main`.
    #[error(
        "this program cannot host worker processes: call concur_procs::init(handler) first thing in main, \
         or set Config::program to an executable that does"
    )]
    NotInitialised,
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
