//! The floor under `http-fetch` ([`concur_http::TcpFloor`]): N concurrent loopback TCP
//! exchanges with no HTTP at all, on a single-threaded server runtime and a 2-thread client
//! runtime, in a fresh process. Compare its first run with `concur run --model tokio
//! --workload http-fetch --tasks N --workers 2`; `cargo xtask bench` measures it as
//! `tcp-floor` in `io_bound/http-fetch`.
//!
//! `cargo run --release -p concur-http --example tcp_floor -- [N] [LATENCY_MS] [RUNS]`

use std::time::{Duration, Instant};

use concur_http::TcpFloor;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<u64>().expect("a number"));
    let n = args.next().unwrap_or(512) as usize;
    let latency = Duration::from_millis(args.next().unwrap_or(50));
    let runs = args.next().unwrap_or(5);
    concur_http::ensure_open_files(2 * n as u64 + 64).map_err(std::io::Error::other)?;
    let floor = TcpFloor::start(latency, 2)?;
    for run in 0..runs {
        let t = Instant::now();
        floor.exchange(n)?;
        println!(
            "run {run}: {n} exchanges in {:.1} ms",
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}
