//! The ipc-channel transport of [`crate::ProcessPool`] and [`crate::ProcessPerTask`]: the
//! parent's side (a one-shot server handshake per worker, one receiver set over all reply
//! channels) and the worker's side ([`serve`]).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use ipc_channel::ipc::{
    self, IpcBytesReceiver, IpcBytesSender, IpcOneShotServer, IpcReceiver, IpcReceiverSet,
    IpcSelectionResult, IpcSender,
};
use serde::{Deserialize, Serialize};

use crate::child::{PARENT_ENV, WORKER_ENV, die_with_parent, exit_code, init_hint};
use crate::scheduler::{Config, Event, Slot, Transport, kill_and_reap};
use crate::{Error, Handler, describe_status};

/// What a worker sends once, through the parent's one-shot server: its end of both channels.
#[derive(Serialize, Deserialize)]
struct Hello {
    pid: u32,
    tasks: IpcBytesSender,
    replies: IpcReceiver<Reply>,
}

/// A worker's answer to one task.
#[derive(Debug, Serialize, Deserialize)]
enum Reply {
    Done(Vec<u8>),
    Failed(String),
}

/// One-shot servers waiting for a worker to connect. Each is a socket in a temporary
/// directory that ipc-channel removes when the handshake ends; if the process is interrupted
/// mid-handshake it would stay behind, so [`remove_pending_handshakes`] can remove it.
static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Set once the process is shutting down: no new handshake starts (a pool would otherwise
/// start a replacement for a worker the same Ctrl-C killed, after the cleanup ran).
static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);
/// Handshakes between creating their one-shot server and registering it in [`PENDING`].
static CREATING: AtomicUsize = AtomicUsize::new(0);

/// Removes the sockets (and their temporary directories) of handshakes still in flight, and
/// refuses new ones from then on. For a signal handler that is about to exit the process
/// (`concur` calls it on Ctrl-C): the workers themselves die with their parent
/// (`PR_SET_PDEATHSIG`).
pub fn remove_pending_handshakes() {
    // SeqCst with `start`'s increment-then-check: either `start` sees the flag and backs
    // out, or we see its count and wait for it to register its server.
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(1);
    while CREATING.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(1));
    }
    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    for name in pending.iter() {
        let socket = Path::new(name);
        let _ = std::fs::remove_file(socket);
        if let Some(dir) = socket.parent() {
            let _ = std::fs::remove_dir(dir); // Only if empty: never more than ours.
        }
    }
}

/// Where [`handshakes_on_tmpfs`] puts the handshakes.
const TMPFS: &str = "/dev/shm";

/// Makes `/dev/shm` (a tmpfs, in memory) this process's default temporary directory when
/// `TMPDIR` is unset and `/dev/shm` is a directory this process can write, and returns it;
/// otherwise changes nothing and returns `None`.
///
/// Every worker's handshake is a socket in a temporary directory that ipc-channel makes and
/// removes (its one-shot server); on a disk file system those directory operations are a
/// large part of a worker's start (`concur spawn --model process-pool --against exec-self`
/// read 1.50× with `/tmp` on ext4 and 1.30× with `TMPDIR=/dev/shm`, back to back). This is
/// for an application's `main` (the `concur` binary and the bench driver call it): it sets
/// tempfile's process-wide default (`tempfile::env::override_temp_dir`), once, for every
/// temporary file or directory made without an explicit place. Libraries should not call it;
/// a user of [`crate::ProcessPool`] gets the same by setting `TMPDIR`.
pub fn handshakes_on_tmpfs() -> Option<std::path::PathBuf> {
    let dir = tmpfs_for(std::env::var_os("TMPDIR").as_deref(), Path::new(TMPFS))?;
    tempfile::env::override_temp_dir(&dir).ok()?;
    Some(dir)
}

/// `candidate`, if `tmpdir` (the `TMPDIR` variable) is unset and `candidate` is a
/// directory this process can create entries in.
fn tmpfs_for(tmpdir: Option<&std::ffi::OsStr>, candidate: &Path) -> Option<std::path::PathBuf> {
    if tmpdir.is_some() || !candidate.is_dir() {
        return None;
    }
    let access = rustix::fs::Access::WRITE_OK | rustix::fs::Access::EXEC_OK;
    rustix::fs::access(candidate, access).ok()?;
    Some(candidate.to_path_buf())
}

/// Registers a pending handshake for as long as the guard lives.
struct PendingHandshake(String);

impl PendingHandshake {
    fn new(name: &str) -> Self {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name.to_owned());
        PendingHandshake(name.to_owned())
    }
}

impl Drop for PendingHandshake {
    fn drop(&mut self) {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = pending.iter().position(|n| *n == self.0) {
            pending.swap_remove(i);
        }
    }
}

/// The parent's side: one receiver set watches every worker's reply channel, so the calling
/// thread drives all workers with one `select` and no helper thread.
pub(crate) struct IpcTransport {
    set: IpcReceiverSet,
}

/// A worker's task channel, and its reply channel's id in the receiver set.
pub(crate) struct IpcLink {
    tasks: IpcBytesSender,
    id: u64,
}

impl IpcTransport {
    pub(crate) fn new() -> Result<Self, Error> {
        Ok(IpcTransport {
            set: IpcReceiverSet::new()?,
        })
    }
}

impl Transport for IpcTransport {
    type Link = IpcLink;
    type Shared<'a> = ();

    fn start(&mut self, program: &Path, cfg: &Config) -> Result<(Option<Child>, IpcLink), Error> {
        CREATING.fetch_add(1, Ordering::SeqCst);
        if SHUTTING_DOWN.load(Ordering::SeqCst) {
            CREATING.fetch_sub(1, Ordering::SeqCst);
            return Err(Error::Start("the process is shutting down".into()));
        }
        let created = IpcOneShotServer::<Hello>::new();
        let registered = created
            .as_ref()
            .ok()
            .map(|(_, name)| PendingHandshake::new(name));
        CREATING.fetch_sub(1, Ordering::SeqCst);
        let (server, name) = created?;
        let _pending = registered;
        let mut child = Command::new(program)
            .env(WORKER_ENV, &name)
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| Error::Start(format!("{}: {e}", program.display())))?;
        let pid = child.id();
        // `accept` has no timeout: it runs on a thread, and the wait for it is bounded.
        let (tx, rx) = crossbeam_channel::bounded(1);
        let acceptor = thread::Builder::new()
            .name("concur-procs-accept".into())
            .spawn(move || {
                let _ = tx.send(server.accept().map(|(_, hello)| hello));
            });
        let acceptor = match acceptor {
            Ok(a) => a,
            Err(e) => {
                kill_and_reap(&mut child);
                return Err(e.into());
            }
        };
        let deadline = Instant::now() + cfg.start_timeout;
        let outcome = loop {
            match rx.recv_timeout(Duration::from_millis(20)) {
                Ok(Ok(hello)) => break Ok(hello),
                Ok(Err(e)) => break Err(format!("worker {pid} failed the handshake: {e:?}")),
                Err(RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = child.try_wait() {
                        break Err(format!(
                            "worker {pid} {} before connecting {}",
                            describe_status(status),
                            init_hint(program)
                        ));
                    }
                    if Instant::now() >= deadline {
                        break Err(format!(
                            "worker {pid} did not connect within {:?} {}",
                            cfg.start_timeout,
                            init_hint(program)
                        ));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    break Err("the acceptor thread died".into());
                }
            }
        };
        let hello = match outcome {
            // The acceptor has sent its last word and only exits now: it is not waited
            // for (its exit would be on every start's critical path).
            Ok(hello) => hello,
            Err(message) => {
                // Unblock `accept` with a connection that closes at once.
                drop(IpcSender::<Hello>::connect(name));
                kill_and_reap(&mut child);
                let _ = acceptor.join();
                return Err(Error::Start(message));
            }
        };
        if hello.pid != pid {
            kill_and_reap(&mut child);
            return Err(Error::Start(format!(
                "worker {pid} introduced itself as pid {}",
                hello.pid
            )));
        }
        match self.set.add(hello.replies) {
            Ok(id) => Ok((
                Some(child),
                IpcLink {
                    tasks: hello.tasks,
                    id,
                },
            )),
            Err(e) => {
                kill_and_reap(&mut child);
                Err(e.into())
            }
        }
    }

    fn send(&mut self, link: &mut IpcLink, task: &[u8], (): ()) -> Result<(), ()> {
        link.tasks.send(task).map_err(drop)
    }

    fn wait(
        &mut self,
        slots: &mut [Option<Slot<IpcLink>>],
        events: &mut Vec<(usize, Event)>,
    ) -> Result<(), Error> {
        for event in self.set.select()? {
            let (id, event) = match event {
                IpcSelectionResult::MessageReceived(id, m) => (
                    id,
                    match m.to::<Reply>() {
                        Ok(Reply::Done(bytes)) => Event::Reply(Ok(bytes)),
                        Ok(Reply::Failed(message)) => Event::Reply(Err(message)),
                        Err(e) => Event::Garbage(format!("undecodable reply: {e}")),
                    },
                ),
                IpcSelectionResult::ChannelClosed(id) => (id, Event::Closed),
            };
            // Events of retired workers are stale: drop them.
            if let Some(slot) = slots
                .iter()
                .position(|s| s.as_ref().is_some_and(|w| w.link.id == id))
            {
                events.push((slot, event));
            }
        }
        Ok(())
    }
}

/// The worker's side: connects to the parent's one-shot server named `server`, hands it both
/// channels, then serves tasks with `handler` until the task channel closes. Returns the exit
/// code.
pub(crate) fn serve(server: String, handler: Handler) -> i32 {
    if !die_with_parent() {
        return exit_code::ORPHANED;
    }
    let Ok((tasks_tx, tasks)) = ipc::bytes_channel() else {
        return exit_code::NO_CHANNEL;
    };
    let Ok((replies, replies_rx)) = ipc::channel::<Reply>() else {
        return exit_code::NO_CHANNEL;
    };
    let Ok(boot) = IpcSender::<Hello>::connect(server) else {
        return exit_code::NO_PARENT;
    };
    let hello = Hello {
        pid: std::process::id(),
        tasks: tasks_tx,
        replies: replies_rx,
    };
    if boot.send(hello).is_err() {
        return exit_code::NO_PARENT;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handshakes_move_to_a_writable_tmpfs_only_when_tmpdir_is_unset() {
        let dir = tempfile::tempdir().unwrap();
        let here = dir.path();
        assert_eq!(tmpfs_for(None, here), Some(here.to_path_buf()));
        assert_eq!(tmpfs_for(Some("/elsewhere".as_ref()), here), None);
        assert_eq!(tmpfs_for(None, &here.join("missing")), None);
        let file = here.join("a-file");
        std::fs::write(&file, b"").unwrap();
        assert_eq!(tmpfs_for(None, &file), None, "not a directory");
    }
}
