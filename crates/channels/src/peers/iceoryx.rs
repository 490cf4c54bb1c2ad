//! The `iceoryx2` channel: the best-known Rust shared-memory IPC, measured beside concur-shm
//! in the same run. Two publish-subscribe services of byte slices (ping: parent to child,
//! pong: back), both ends polling `receive` (iceoryx2's fastest round trip: its events would
//! add a wake-up), every message written straight into a loaned sample (its zero-copy API:
//! the payload is copied once, into shared memory, and read in place).
//!
//! Files: iceoryx2 keeps its service and node descriptions under a root directory and its
//! data segments in `/dev/shm`, both named with a prefix. Ours are per parent process
//! (`concur_iox2_<pid>_` in `/dev/shm`, `<tmp>/concur-iox2-<pid>/`), so [`remove_files`]
//! (on drop, on Ctrl-C) and [`remove_stale_files`] (files of processes that no longer
//! exist) leave nothing behind.

use std::io;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use iceoryx2::port::publisher::Publisher;
use iceoryx2::port::subscriber::Subscriber;
use iceoryx2::port::update_connections::UpdateConnections;
use iceoryx2::prelude::*;

use crate::child::{answer, echo_child};
use crate::{Channel, RoundTrip};

/// The largest message: the bulk group's 1 MiB, and room for more.
const MAX_SLICE: usize = 2 << 20;

/// Both ends poll; after this long without an answer the other side is checked for life.
const CHECK_EVERY: Duration = Duration::from_millis(100);

/// The name prefix of our files in `/dev/shm` for parent process `pid`.
fn prefix(pid: u32) -> String {
    format!("concur_iox2_{pid}_")
}

/// The root directory of our service and node files for parent process `pid`.
fn root(pid: u32) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("concur-iox2-{pid}"))
}

fn err(e: impl std::fmt::Debug) -> io::Error {
    io::Error::other(format!("iceoryx2: {e:?}"))
}

/// The iceoryx2 configuration shared by a parent (`pid`) and its echo child.
fn config(pid: u32) -> io::Result<Config> {
    let mut config = Config::default();
    config.global.prefix = FileName::new(prefix(pid).as_bytes()).map_err(err)?;
    let root = format!("{}/", root(pid).display());
    config
        .global
        .set_root_path(&Path::new(root.as_bytes()).map_err(err)?);
    Ok(config)
}

/// A node of `pid`'s configuration; it leaves signals to us (Ctrl-C is concur's to handle).
fn node(pid: u32) -> io::Result<Node<ipc::Service>> {
    NodeBuilder::new()
        .config(&config(pid)?)
        .signal_handling_mode(SignalHandlingMode::Disabled)
        .create::<ipc::Service>()
        .map_err(err)
}

type Service =
    iceoryx2::service::port_factory::publish_subscribe::PortFactory<ipc::Service, [u8], ()>;

/// The two services of channel `id` of a node, created (parent) or opened (child).
fn services(node: &Node<ipc::Service>, id: &str, create: bool) -> io::Result<(Service, Service)> {
    let one = |name: &str| -> io::Result<Service> {
        let name = ServiceName::new(name).map_err(err)?;
        let builder = node
            .service_builder(&name)
            .publish_subscribe::<[u8]>()
            .max_publishers(1)
            .max_subscribers(1);
        if create {
            builder.create().map_err(err)
        } else {
            builder.open().map_err(err)
        }
    };
    Ok((
        one(&format!("concur/{id}/ping"))?,
        one(&format!("concur/{id}/pong"))?,
    ))
}

fn publisher(service: &Service) -> io::Result<Publisher<ipc::Service, [u8], ()>> {
    service
        .publisher_builder()
        .initial_max_slice_len(MAX_SLICE)
        .create()
        .map_err(err)
}

fn subscriber(service: &Service) -> io::Result<Subscriber<ipc::Service, [u8], ()>> {
    service.subscriber_builder().create().map_err(err)
}

/// Writes `payload` into a loaned sample and publishes it.
fn send(publisher: &Publisher<ipc::Service, [u8], ()>, payload: &[u8]) -> io::Result<()> {
    if payload.len() > MAX_SLICE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "iceoryx2: {} bytes exceed the channel's {MAX_SLICE}",
                payload.len()
            ),
        ));
    }
    let sample = publisher.loan_slice_uninit(payload.len()).map_err(err)?;
    sample.write_from_slice(payload).send().map_err(err)?;
    Ok(())
}

/// Polls `subscriber` until a sample arrives, handing its payload (in shared memory) to
/// `read`; every [`CHECK_EVERY`] asks `alive` whether the other side still is.
fn receive<T>(
    subscriber: &Subscriber<ipc::Service, [u8], ()>,
    mut alive: impl FnMut() -> bool,
    read: impl FnOnce(&[u8]) -> T,
) -> io::Result<T> {
    let mut last_check = Instant::now();
    let mut spins = 0u32;
    loop {
        if let Some(sample) = subscriber.receive().map_err(err)? {
            return Ok(read(sample.payload()));
        }
        spins = spins.wrapping_add(1);
        if spins % 1024 == 0 && last_check.elapsed() >= CHECK_EVERY {
            if !alive() {
                return Err(io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "iceoryx2: the other side is gone",
                ));
            }
            last_check = Instant::now();
        }
        std::hint::spin_loop();
    }
}

/// The parent's end: an echo child and the two services.
pub(crate) struct IceoryxPeer {
    child: Child,
    ports: Option<Ports>,
}

/// What a peer holds in iceoryx2. Field order is drop order: ports, services, node.
struct Ports {
    ping: Publisher<ipc::Service, [u8], ()>,
    pong: Subscriber<ipc::Service, [u8], ()>,
    _services: (Service, Service),
    _node: Node<ipc::Service>,
}

/// Peers alive in this process: the last one to go removes the process's files.
static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl IceoryxPeer {
    /// Creates the services, then starts the echo child, which opens them.
    pub(crate) fn start() -> io::Result<Self> {
        remove_stale_files();
        let me = std::process::id();
        LIVE.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        // From here, a failure drops `guard`, which removes the files if we were the last.
        let guard = LiveGuard;
        std::fs::create_dir_all(root(me))?;
        // Each peer of this process has its own services.
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let id = NEXT
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .to_string();
        let node = node(me)?;
        let services = services(&node, &id, true)?;
        let ping = publisher(&services.0)?;
        let pong = subscriber(&services.1)?;
        let mut child = echo_child(
            &format!("{}:{id}", Channel::Iceoryx2),
            Stdio::null(),
            Stdio::null(),
        )?;
        // The child opens the services and answers one ping before we time anything.
        let mut ready = false;
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if child.try_wait()?.is_some() {
                break;
            }
            if ping.update_connections().is_ok() && send(&ping, &[0]).is_ok() {
                let started = Instant::now();
                while started.elapsed() < Duration::from_millis(20) {
                    if pong.receive().map_err(err)?.is_some() {
                        ready = true;
                        break;
                    }
                }
            }
            if ready {
                break;
            }
        }
        if !ready {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::other(
                "iceoryx2: the echo child did not answer within 10 s",
            ));
        }
        // Drain answers to earlier hello pings.
        while pong.receive().map_err(err)?.is_some() {}
        std::mem::forget(guard); // The peer's own drop takes over.
        Ok(IceoryxPeer {
            child,
            ports: Some(Ports {
                ping,
                pong,
                _services: services,
                _node: node,
            }),
        })
    }
}

/// Counts a peer out when it goes (or fails to start): the last one removes the files.
struct LiveGuard;

impl Drop for LiveGuard {
    fn drop(&mut self) {
        if LIVE.fetch_sub(1, std::sync::atomic::Ordering::SeqCst) == 1 {
            remove_files();
        }
    }
}

impl RoundTrip for IceoryxPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        let ports = self.ports.as_ref().expect("open until drop");
        send(&ports.ping, payload)?;
        let child = &mut self.child;
        receive(&ports.pong, || matches!(child.try_wait(), Ok(None)), |_| ())
    }
}

impl Drop for IceoryxPeer {
    fn drop(&mut self) {
        let _guard = LiveGuard;
        let Some(ports) = self.ports.take() else {
            return;
        };
        // An empty message tells the child to exit.
        let _ = send(&ports.ping, &[]);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        drop(ports);
    }
}

/// The echo child of channel `id`: opens the parent's services and answers until the
/// parent sends an empty message or is gone.
pub(crate) fn serve_echo(id: &str) -> io::Result<()> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("iceoryx2: bad channel id '{id}'"),
        ));
    }
    let parent = std::os::unix::process::parent_id();
    let node = node(parent)?;
    let services = services(&node, id, false)?;
    let pong = publisher(&services.1)?;
    let ping = subscriber(&services.0)?;
    loop {
        let reply = receive(
            &ping,
            || !concur_shm::pid_gone(parent),
            |msg| (!msg.is_empty()).then(|| answer(msg)),
        )?;
        match reply {
            Some(reply) => send(&pong, reply.as_bytes())?,
            None => return Ok(()),
        }
    }
}

/// Removes this process's iceoryx2 files (its `/dev/shm` segments and its root directory):
/// for Ctrl-C and for the end of a run.
pub fn remove_files() {
    remove_files_of(std::process::id());
}

fn remove_files_of(pid: u32) {
    let _ = std::fs::remove_dir_all(root(pid));
    let prefix = prefix(pid);
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for e in entries.flatten() {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Removes the iceoryx2 files of concur processes that no longer exist (killed before they
/// could clean up).
pub fn remove_stale_files() {
    let Ok(entries) = std::fs::read_dir("/dev/shm") else {
        return;
    };
    let mut dead = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix("concur_iox2_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid.filter(|p| concur_shm::pid_gone(*p)) {
            dead.push(pid);
        }
    }
    dead.sort_unstable();
    dead.dedup();
    for pid in dead {
        remove_files_of(pid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_named_per_process() {
        assert_eq!(prefix(42), "concur_iox2_42_");
        assert!(root(42).ends_with("concur-iox2-42"));
        let c = config(42).unwrap();
        assert_eq!(c.global.prefix.as_bytes(), b"concur_iox2_42_");
    }
}
