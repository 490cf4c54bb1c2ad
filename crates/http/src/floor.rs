//! The floor under `http-fetch`: N concurrent loopback TCP exchanges with no HTTP at all
//! (connect, a 64-byte request, the server waits the latency and answers 1 KiB, close), on
//! a single-threaded server runtime and a multi-threaded client runtime like the real thing.
//! What a model's time at N concurrent fetches is read against.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// Bytes of one request.
const REQUEST: usize = 64;
/// Bytes of one answer.
const ANSWER: usize = 1024;

/// A loopback TCP server that answers after a latency, and a client runtime to drive it.
pub struct TcpFloor {
    addr: SocketAddr,
    client: tokio::runtime::Runtime,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl TcpFloor {
    /// Its name in the `io_bound/http-fetch` bench group: the floor `tokio` is read against.
    pub const NAME: &'static str = "tcp-floor";

    /// Starts the server (answering after `latency`) and a client runtime of
    /// `client_threads` threads.
    pub fn start(latency: Duration, client_threads: usize) -> io::Result<TcpFloor> {
        let server_rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let listener = server_rt.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))?;
            socket.listen(8192)
        })?;
        let addr = listener.local_addr()?;
        let (stop, mut stopped) = oneshot::channel::<()>();
        let server = std::thread::Builder::new()
            .name("concur-tcp-floor".into())
            .spawn(move || {
                server_rt.block_on(async move {
                    loop {
                        tokio::select! {
                            _ = &mut stopped => return,
                            accepted = listener.accept() => {
                                let Ok((mut s, _)) = accepted else { continue };
                                tokio::spawn(async move {
                                    let mut req = [0u8; REQUEST];
                                    if s.read_exact(&mut req).await.is_ok() {
                                        tokio::time::sleep(latency).await;
                                        let _ = s.write_all(&[b'x'; ANSWER]).await;
                                    }
                                });
                            }
                        }
                    }
                })
            })?;
        let client = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(client_threads.max(1))
            .enable_all()
            .build()?;
        Ok(TcpFloor {
            addr,
            client,
            stop: Some(stop),
            server: Some(server),
        })
    }

    /// `n` concurrent exchanges; fails unless every answer is complete.
    pub fn exchange(&self, n: usize) -> io::Result<()> {
        let addr = self.addr;
        self.client.block_on(async move {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..n {
                set.spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await?;
                    s.write_all(&[b'q'; REQUEST]).await?;
                    let mut body = Vec::with_capacity(ANSWER);
                    s.read_to_end(&mut body).await?;
                    Ok::<usize, io::Error>(body.len())
                });
            }
            while let Some(r) = set.join_next().await {
                let got = r.map_err(io::Error::other)??;
                if got != ANSWER {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("a {ANSWER}-byte answer came back as {got} bytes"),
                    ));
                }
            }
            Ok(())
        })
    }
}

impl Drop for TcpFloor {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchanges_complete_and_take_the_latency() {
        let floor = TcpFloor::start(Duration::from_millis(20), 2).unwrap();
        let t = std::time::Instant::now();
        floor.exchange(16).unwrap();
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(20), "{took:?}");
        drop(floor); // The server thread stops.
    }
}
