//! A loopback HTTP/1.1 server with injected latency, and GET clients that only talk to
//! loopback: the tutorial's "web scraping" example, made reproducible and offline.
//!
//! - [`Server`]: binds `127.0.0.1` on an ephemeral port, answers every `GET /path` after a
//!   fixed latency with [`body_for`]`(path)`, and stops when dropped. It runs on its own
//!   thread (a single-threaded tokio runtime, hyper), so it serves thousands of concurrent
//!   connections without a thread each.
//! - [`get_blocking`] (ureq: one thread waits per request) and [`get`] (hyper on tokio: no
//!   thread waits) fetch a URL over a new connection each time, like `requests.get` does.
//!   Both refuse any URL that is not `http://127.0.0.1:PORT/...` ([`Target::parse`]): the URL
//!   may come from another process, and nothing here ever leaves the machine.
//!
//! ```
//! use std::time::Duration;
//!
//! let server = concur_http::Server::start(Duration::from_millis(5)).unwrap();
//! let url = server.url("/example.com");
//! let body = concur_http::get_blocking(&url).unwrap();
//! assert_eq!(body, concur_http::body_for("/example.com"));
//! ```

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
#[cfg(feature = "blocking")]
use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
#[cfg(feature = "async-client")]
use http_body_util::{BodyExt, Empty};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::sync::oneshot;

mod floor;

pub use floor::TcpFloor;

/// How long a client waits for one response before giving up.
pub const TIMEOUT: Duration = Duration::from_secs(30);

/// The longest path a URL may have.
const MAX_PATH: usize = 1024;

/// The largest body a client accepts.
#[cfg(any(feature = "blocking", feature = "async-client"))]
const MAX_BODY: usize = 1 << 20;

/// Why a request or the server failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL is not `http://127.0.0.1:PORT/path`.
    #[error("not a loopback URL (http://127.0.0.1:PORT/path): {0:?}")]
    NotLoopback(String),
    /// A socket operation failed (connect, bind, too many open files...).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(String),
}

/// Where a loopback URL points: the address and the path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// `127.0.0.1:PORT`.
    pub addr: SocketAddrV4,
    /// Starts with `/`.
    pub path: String,
}

impl Target {
    /// Parses `http://127.0.0.1:PORT/path`; anything else (another host, a name that would
    /// need resolving, another scheme, user info, a long or non-ASCII path) is refused.
    pub fn parse(url: &str) -> Result<Target, Error> {
        let refuse = || Error::NotLoopback(url.chars().take(200).collect());
        let rest = url.strip_prefix("http://127.0.0.1:").ok_or_else(refuse)?;
        let slash = rest.find('/').ok_or_else(refuse)?;
        let (port, path) = rest.split_at(slash);
        let port: u16 = port.parse().map_err(|_| refuse())?;
        if port == 0
            || path.len() > MAX_PATH
            || !path.bytes().all(|b| b.is_ascii_graphic() && b != b'#')
        {
            return Err(refuse());
        }
        Ok(Target {
            addr: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
            path: path.to_owned(),
        })
    }
}

/// The body the server sends for `path`: a few hundred bytes to about 1.5 KiB of text,
/// a pure function of the path, so a client's result can be checked without the network.
pub fn body_for(path: &str) -> Vec<u8> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325; // FNV-1a over the path
    for b in path.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let lines = 8 + (h % 24) as usize;
    let mut body = format!("<html><head><title>{path}</title></head><body>\n");
    for i in 0..lines {
        h = h.rotate_left(13).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        body.push_str(&format!("<p>{path} line {i}: {h:016x}</p>\n"));
    }
    body.push_str("</body></html>\n");
    body.into_bytes()
}

/// Makes sure this process may open `needed` files (sockets): raises the soft
/// `RLIMIT_NOFILE` up to the hard limit if it is lower. The error names both limits.
pub fn ensure_open_files(needed: u64) -> Result<(), Error> {
    use rustix::process::{Resource, getrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.unwrap_or(u64::MAX) >= needed || raise_open_files_limit() >= needed {
        return Ok(());
    }
    let soft = getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX);
    let hard = limit
        .maximum
        .map_or("unlimited".to_owned(), |h| h.to_string());
    Err(Error::Io(std::io::Error::other(format!(
        "this process may open only {soft} files (ulimit -n; hard limit {hard}), {needed} needed"
    ))))
}

/// Raises the soft open-file limit to the hard one; returns the soft limit now in force.
pub fn raise_open_files_limit() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        let _ = setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        );
    }
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

/// Whether [`Server::start`] puts the server in a child process (this program called
/// [`init`]), so a connection costs this process one descriptor rather than two.
pub fn serves_from_child() -> bool {
    INITIALISED.load(Ordering::Acquire)
}

/// Set (to the latency in milliseconds) in the environment of a server child process; its
/// presence makes [`init`] serve instead of returning.
pub const SERVER_ENV: &str = "CONCUR_HTTP_SERVER";

static INITIALISED: AtomicBool = AtomicBool::new(false);

/// Call first thing in `main` of a program that starts [`Server`]s and may open many
/// connections: in a server child process (its environment has [`SERVER_ENV`]) this serves
/// until its parent closes its stdin, then exits; otherwise it records that [`Server::start`]
/// may run the server in a child process (so the server's sockets do not count against this
/// process's open-file limit) and returns at once.
pub fn init() {
    if let Some(ms) = std::env::var_os(SERVER_ENV) {
        std::process::exit(match ms.to_str().and_then(|m| m.parse::<u64>().ok()) {
            Some(ms) => serve_child(Duration::from_millis(ms)),
            None => 2,
        });
    }
    INITIALISED.store(true, Ordering::Release);
}

/// The server child: dies with its parent, raises its open-file limit, prints its port,
/// serves until stdin reaches end-of-file.
fn serve_child(latency: Duration) -> i32 {
    use rustix::process::{Signal, set_parent_process_death_signal};
    if set_parent_process_death_signal(Some(Signal::KILL)).is_err() {
        return 3;
    }
    raise_open_files_limit();
    let server = match InProcess::start(latency) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("concur http server: {e}");
            return 1;
        }
    };
    println!("{}", server.addr.port());
    let _ = std::io::Write::flush(&mut std::io::stdout());
    // Parent gone or done: stdin closes.
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
    drop(server);
    0
}

/// A loopback HTTP server answering every GET after a fixed latency. Stops when dropped.
#[derive(Debug)]
pub struct Server {
    addr: SocketAddrV4,
    latency: Duration,
    host: Host,
}

/// Where the server runs.
#[derive(Debug)]
enum Host {
    /// A thread of this process (stopped and joined when dropped).
    Thread(#[allow(dead_code, reason = "held for its Drop")] InProcess),
    /// A child process (this program called [`init`]).
    Child(std::process::Child),
}

impl Server {
    /// Starts a server on `127.0.0.1` (an ephemeral port, a deep accept backlog): in a child
    /// process of this program if it called [`init`], else on a thread of this process.
    pub fn start(latency: Duration) -> Result<Server, Error> {
        if serves_from_child() {
            Self::start_child(latency)
        } else {
            let server = InProcess::start(latency)?;
            Ok(Server {
                addr: server.addr,
                latency,
                host: Host::Thread(server),
            })
        }
    }

    fn start_child(latency: Duration) -> Result<Server, Error> {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let mut child = Command::new(std::env::current_exe()?)
            .env(SERVER_ENV, latency.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut line = String::new();
        let read = std::io::BufReader::new(stdout).read_line(&mut line);
        let port = match (read, line.trim().parse::<u16>()) {
            (Ok(_), Ok(port)) if port != 0 => port,
            _ => {
                let _ = child.kill();
                let status = child.wait()?;
                return Err(Error::Io(std::io::Error::other(format!(
                    "the server process {} did not report its port ({status}): does {} call \
                     concur_http::init() first thing in main? The server child is this program \
                     started again, and init() is what makes it serve instead of running main",
                    child.id(),
                    std::env::current_exe()?.display()
                ))));
            }
        };
        Ok(Server {
            addr: SocketAddrV4::new(Ipv4Addr::LOCALHOST, port),
            latency,
            host: Host::Child(child),
        })
    }
}

impl Server {
    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> SocketAddrV4 {
        self.addr
    }

    /// The injected latency.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Whether the server runs in a child process (see [`init`]).
    pub fn in_child_process(&self) -> bool {
        matches!(self.host, Host::Child(_))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Host::Child(child) = &mut self.host {
            drop(child.stdin.take()); // End-of-file: the child stops serving and exits.
            let deadline = std::time::Instant::now() + Duration::from_secs(2);
            while matches!(child.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The server on a thread of this process.
#[derive(Debug)]
struct InProcess {
    addr: SocketAddrV4,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl InProcess {
    /// Binds `127.0.0.1:0` with a deep accept backlog and serves on a background thread.
    fn start(latency: Duration) -> Result<InProcess, Error> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = rt.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.set_reuseaddr(true)?;
            socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
            // Thousands of clients may connect at once; the kernel caps this at somaxconn.
            socket.listen(8192)
        })?;
        let addr = match listener.local_addr()? {
            SocketAddr::V4(a) => a,
            SocketAddr::V6(_) => unreachable!("bound to an IPv4 address"),
        };
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("concur-http-server".into())
            .spawn(move || rt.block_on(serve(listener, latency, stopped)))?;
        Ok(InProcess {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Accepts until told to stop; each connection is a task. Dropping the runtime afterwards
/// ends the connections still open.
async fn serve(
    listener: tokio::net::TcpListener,
    latency: Duration,
    mut stopped: oneshot::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of descriptors, say: back off a little rather than spin.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    continue;
                };
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<hyper::body::Incoming>| async move {
                        tokio::time::sleep(latency).await;
                        let body = body_for(req.uri().path());
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body))))
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

#[cfg(feature = "blocking")]
/// One agent for every blocking request: no proxy (never leave loopback, whatever the
/// environment says), no connection pooling (a new connection per request, like
/// `requests.get`), a global timeout.
static AGENT: LazyLock<ureq::Agent> = LazyLock::new(|| {
    let config = ureq::Agent::config_builder()
        .proxy(None)
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .timeout_global(Some(TIMEOUT))
        .build();
    ureq::Agent::new_with_config(config)
});

/// GETs a loopback URL, blocking the calling thread until the body has arrived (feature
/// `blocking`, on by default).
#[cfg(feature = "blocking")]
pub fn get_blocking(url: &str) -> Result<Vec<u8>, Error> {
    Target::parse(url)?;
    let mut response = AGENT.get(url).call().map_err(|e| match e {
        ureq::Error::Io(io) => Error::Io(io),
        other => Error::Http(other.to_string()),
    })?;
    response
        .body_mut()
        .with_config()
        .limit(MAX_BODY as u64)
        .read_to_vec()
        .map_err(|e| Error::Http(e.to_string()))
}

/// GETs a loopback URL without blocking a thread (on a tokio runtime with I/O and time
/// enabled): a new connection, one request, the body (feature `async-client`, on by
/// default).
#[cfg(feature = "async-client")]
pub async fn get(url: &str) -> Result<Vec<u8>, Error> {
    let target = Target::parse(url)?;
    match tokio::time::timeout(TIMEOUT, fetch(&target)).await {
        Ok(result) => result,
        Err(_) => Err(Error::Http(format!("no response within {TIMEOUT:?}"))),
    }
}

#[cfg(feature = "async-client")]
async fn fetch(target: &Target) -> Result<Vec<u8>, Error> {
    let stream = tokio::net::TcpStream::connect(target.addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Error::Http(e.to_string()))?;
    // The connection is driven beside the request; it ends when `sender` is dropped.
    let conn = async move {
        let _ = conn.await;
    };
    let request = async move {
        let req = Request::get(target.path.as_str())
            .header(hyper::header::HOST, target.addr.to_string())
            .body(Empty::<Bytes>::new())
            .map_err(|e| Error::Http(e.to_string()))?;
        let response = sender
            .send_request(req)
            .await
            .map_err(|e| Error::Http(e.to_string()))?;
        if !response.status().is_success() {
            return Err(Error::Http(format!("status {}", response.status())));
        }
        let body = http_body_util::Limited::new(response.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| Error::Http(e.to_string()))?;
        Ok(body.to_bytes().to_vec())
    };
    let (result, ()) = tokio::join!(request, conn);
    result
}

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_urls_are_accepted() {
        let ok = Target::parse("http://127.0.0.1:8080/a/b?c=1").unwrap();
        assert_eq!(ok.addr.port(), 8080);
        assert_eq!(ok.path, "/a/b?c=1");
        for bad in [
            "https://127.0.0.1:8080/",
            "http://localhost:8080/",
            "http://127.0.0.2:8080/",
            "http://127.0.0.1.evil.com:80/",
            "http://127.0.0.1@evil.com:80/",
            "http://127.0.0.1:0/",
            "http://127.0.0.1:99999/",
            "http://127.0.0.1:80",
            "http://127.0.0.1:80/a b",
            "http://[::1]:80/",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bodies_are_deterministic_and_differ_by_path() {
        assert_eq!(body_for("/x"), body_for("/x"));
        assert_ne!(body_for("/x"), body_for("/y"));
        assert!((300..2000).contains(&body_for("/page/7").len()));
    }

    #[test]
    fn both_clients_fetch_with_the_latency_and_the_server_stops() {
        let server = Server::start(Duration::from_millis(20)).unwrap();
        let url = server.url("/page/1");
        let t = std::time::Instant::now();
        assert_eq!(get_blocking(&url).unwrap(), body_for("/page/1"));
        assert!(t.elapsed() >= Duration::from_millis(20));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let bodies = rt.block_on(async {
            let urls: Vec<String> = (0..50).map(|i| server.url(&format!("/p/{i}"))).collect();
            let t = std::time::Instant::now();
            let mut set = tokio::task::JoinSet::new();
            for (i, u) in urls.into_iter().enumerate() {
                set.spawn(async move { (i, get(&u).await) });
            }
            let mut out = vec![Vec::new(); 50];
            while let Some(r) = set.join_next().await {
                let (i, body) = r.unwrap();
                out[i] = body.unwrap();
            }
            // Fifty concurrent requests take about one latency, not fifty.
            assert!(
                t.elapsed() < Duration::from_millis(20 * 25),
                "{:?}",
                t.elapsed()
            );
            out
        });
        for (i, b) in bodies.iter().enumerate() {
            assert_eq!(b, &body_for(&format!("/p/{i}")));
        }
        let addr = server.addr();
        drop(server);
        assert!(std::net::TcpStream::connect(addr).is_err(), "stopped");
    }
}
