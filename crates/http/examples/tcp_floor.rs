//! The floor under `http-fetch`: N concurrent loopback TCP exchanges with no HTTP at all
//! (connect, 64-byte request, the server waits LATENCY then answers 1 KiB, close), on the same
//! runtimes as the real thing: a single-threaded server thread and a 2-thread client runtime,
//! in a fresh process. Compare its first run with `concur run --model tokio --workload
//! http-fetch --tasks N --workers 2`.
//!
//! `cargo run --release -p concur-http --example tcp_floor -- [N] [LATENCY_MS] [RUNS]`

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("a number"));
    let n = args.next().unwrap_or(512) as usize;
    let latency = Duration::from_millis(args.next().unwrap_or(50));
    let runs = args.next().unwrap_or(5);

    let server_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let listener = server_rt.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .unwrap();
        socket.listen(8192).unwrap()
    });
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        server_rt.block_on(async move {
            loop {
                let (mut s, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut req = [0u8; 64];
                    if s.read_exact(&mut req).await.is_ok() {
                        tokio::time::sleep(latency).await;
                        let _ = s.write_all(&[b'x'; 1024]).await;
                    }
                });
            }
        })
    });

    let client = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for run in 0..runs {
        let t = Instant::now();
        client.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for _ in 0..n {
                set.spawn(async move {
                    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
                    s.write_all(&[b'q'; 64]).await.unwrap();
                    let mut body = Vec::with_capacity(1024);
                    s.read_to_end(&mut body).await.unwrap();
                    body.len()
                });
            }
            while let Some(r) = set.join_next().await {
                assert_eq!(r.unwrap(), 1024);
            }
        });
        println!(
            "run {run}: {n} exchanges in {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
