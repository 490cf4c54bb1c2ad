//! The worker side: [`init`] turns this process into a worker when the parent asked for one.

use std::sync::atomic::{AtomicBool, Ordering};

use ipc_channel::ipc::{self, IpcBytesReceiver, IpcBytesSender, IpcReceiver, IpcSender};
use nix::sys::signal::Signal;
use serde::{Deserialize, Serialize};

/// Set (to the parent's one-shot server name) in a worker's environment; its presence makes
/// [`init`] serve tasks instead of returning.
pub const WORKER_ENV: &str = "CONCUR_PROCS_WORKER";

/// The parent's pid, so a worker whose parent died before it could ask for `PR_SET_PDEATHSIG`
/// notices and exits.
pub(crate) const PARENT_ENV: &str = "CONCUR_PROCS_PARENT";

/// Decodes one task, runs it and encodes its result; an `Err` is reported to the parent as a
/// failed task. A panic kills the worker, which the parent reports as a crash.
///
/// The second argument is the batch's shared read-only input, mapped once and read by every
/// worker ([`crate::ShmPool`] with a [`concur_shm::Region`]); `None` elsewhere.
pub type Handler = fn(task: &[u8], shared: Option<&[u8]>) -> Result<Vec<u8>, String>;

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Exit codes of a worker that could not start serving (the parent reports them).
pub(crate) const EXIT_ORPHANED: i32 = 70;
pub(crate) const EXIT_NO_CHANNEL: i32 = 71;
pub(crate) const EXIT_NO_PARENT: i32 = 72;

/// What a worker sends once, through the parent's one-shot server: its end of both channels.
#[derive(Serialize, Deserialize)]
pub(crate) struct Hello {
    pub(crate) pid: u32,
    pub(crate) tasks: IpcBytesSender,
    pub(crate) replies: IpcReceiver<Reply>,
}

/// A worker's answer to one task.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    Done(Vec<u8>),
    Failed(String),
}

/// Call first thing in `main` of any program that starts worker processes.
///
/// In a worker (its environment has [`WORKER_ENV`]) this serves tasks with `handler` until the
/// parent closes the channel, then exits the process: it never returns. Otherwise it records
/// that this program can host workers and returns at once.
pub fn init(handler: Handler) {
    if let Some(server) = std::env::var_os(WORKER_ENV) {
        let code = match server.into_string() {
            Ok(name) => serve(name, handler),
            Err(_) => EXIT_NO_PARENT,
        };
        std::process::exit(code);
    }
    if std::env::var_os(crate::shm_worker::SHM_WORKER_ENV).is_some() {
        std::process::exit(crate::shm_worker::serve(handler));
    }
    INITIALISED.store(true, Ordering::Release);
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

/// Whether [`init`] has run in this (non-worker) process.
pub fn is_initialised() -> bool {
    INITIALISED.load(Ordering::Acquire)
}

fn serve(server: String, handler: Handler) -> i32 {
    if !die_with_parent() {
        return EXIT_ORPHANED;
    }
    let Ok((tasks_tx, tasks)) = ipc::bytes_channel() else {
        return EXIT_NO_CHANNEL;
    };
    let Ok((replies, replies_rx)) = ipc::channel::<Reply>() else {
        return EXIT_NO_CHANNEL;
    };
    let Ok(boot) = IpcSender::<Hello>::connect(server) else {
        return EXIT_NO_PARENT;
    };
    let hello = Hello {
        pid: std::process::id(),
        tasks: tasks_tx,
        replies: replies_rx,
    };
    if boot.send(hello).is_err() {
        return EXIT_NO_PARENT;
    }
    drop(boot);
    serve_tasks(&tasks, &replies, handler)
}

/// One task at a time until the parent closes the task channel (end-of-file): exit 0.
fn serve_tasks(tasks: &IpcBytesReceiver, replies: &IpcSender<Reply>, handler: Handler) -> i32 {
    while let Ok(task) = tasks.recv() {
        let reply = match handler(&task, None) {
            Ok(bytes) => Reply::Done(bytes),
            Err(message) => Reply::Failed(message),
        };
        if replies.send(reply).is_err() {
            break; // The parent is gone.
        }
    }
    0
}
