//! Claim: "threads for I/O-bound work (network, files)".
//!
//! One group per I/O-bound workload of the registry (`io_bound/sleep`,
//! `io_bound/http-fetch`): N tasks that each wait (a blocking
//! sleep; a GET from the loopback server, which answers after the same latency), for N = 8,
//! 64 and 512 concurrent requests. Thread models and process models get N workers, so every
//! request is in flight at once; `tokio` gets as many runtime threads as cores and N tasks.
//! Process models stop at 64 (64 worker processes on two cores is already far past what
//! `multiprocessing` is used for); `sequential` runs only at 8 (at 512 one iteration would
//! wait 512 latencies). Every run's checksum is checked.

mod common;

use concur::harness::{Profile, available_cores};
use concur::http::TcpFloor;
use concur::workloads::{HttpFetch, Kind};

fn main() {
    // First thing: the process models' workers and the loopback server re-run this binary.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    for w in common::workloads_of(Kind::IoBound) {
        let fetch = w.info().name == HttpFetch::NAME;
        concur_bench::bench_io(&mut c, w, profile, |group, n, params| {
            // The floor under fetches: the same exchanges over raw loopback TCP, no HTTP, on
            // as many client threads as the tokio model has.
            if fetch {
                let latency = std::time::Duration::from_millis(params.size);
                let floor = TcpFloor::start(latency, available_cores()).expect("tcp floor");
                group.bench_with_input(
                    criterion::BenchmarkId::new(concur::http::TcpFloor::NAME, n),
                    &n,
                    |b, &n| b.iter(|| floor.exchange(n).expect("tcp floor exchange")),
                );
            }
        });
    }
    c.final_summary();
}
