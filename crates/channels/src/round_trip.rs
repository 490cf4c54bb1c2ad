//! Timing round trips over an open channel: the one loop every ping-pong figure comes from.

use std::io;
use std::time::{Duration, Instant};

use concur_measure::Summary;
use serde::Serialize;

/// One side of an established channel: send a message, wait for the answer.
pub trait RoundTrip {
    /// Sends `payload` and waits for the peer's answer (the payload back, or an ack).
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()>;

    /// Times `n` round trips itself and returns how long they took in all, for a peer whose
    /// round trips are timed where they happen rather than around a call (a copy read by
    /// another process, timed from the signal to its answer). `None`, the
    /// default: the caller times [`RoundTrip::round_trip`].
    fn time_itself(&mut self, _n: usize, _payload: &[u8]) -> Option<io::Result<Duration>> {
        None
    }
}

/// How long `n` round trips of `payload` through `peer` took in all: timed by the peer when
/// it times itself ([`RoundTrip::time_itself`]), else around the calls.
pub fn time_n(peer: &mut dyn RoundTrip, n: usize, payload: &[u8]) -> io::Result<Duration> {
    if let Some(took) = peer.time_itself(n, payload) {
        return took;
    }
    let t = Instant::now();
    for _ in 0..n {
        peer.round_trip(payload)?;
    }
    Ok(t.elapsed())
}

/// Untimed round trips before measuring.
pub const WARMUP: usize = 200;

/// What `concur pingpong` reports.
#[derive(Clone, Debug, Serialize)]
pub struct PingPongReport {
    /// The channel, floor or pool task.
    pub channel: String,
    /// Bytes sent each round trip (the answer: at most 8).
    pub bytes: usize,
    /// How many round trips were timed.
    pub round_trips: usize,
    /// Median round trip, ns.
    pub median_ns: f64,
    /// 99th percentile, ns.
    pub p99_ns: f64,
    /// Fastest, ns.
    pub min_ns: f64,
    /// Mean, ns (bimodal on a busy machine: read the median first).
    pub mean_ns: f64,
    /// The CPU pair both ends were pinned to, if they were ([`crate::pin`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned: Option<crate::pin::CpuPair>,
}

/// The largest payload [`time_round_trips`] sends: the bulk group's 1 MiB, which every channel
/// carries.
pub const MAX_PAYLOAD: usize = 1 << 20;

/// Times `round_trips` round trips of `bytes` bytes (at most [`MAX_PAYLOAD`]; the peer
/// answers at most 8) through `peer`, already opened on `channel` (its name in the report),
/// one sample per round trip.
pub fn time_round_trips(
    channel: &str,
    peer: &mut dyn RoundTrip,
    round_trips: usize,
    bytes: usize,
) -> io::Result<PingPongReport> {
    if bytes > MAX_PAYLOAD {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{bytes} bytes exceed the {MAX_PAYLOAD} a ping-pong sends"),
        ));
    }
    let msg: Vec<u8> = (0..bytes).map(|i| i as u8).collect();
    for _ in 0..WARMUP {
        peer.round_trip(&msg)?;
    }
    let mut samples = Vec::with_capacity(round_trips);
    for _ in 0..round_trips {
        samples.push(time_n(peer, 1, &msg)?.as_nanos() as f64);
    }
    let s = Summary::of(&samples).expect("round_trips >= 1");
    Ok(PingPongReport {
        channel: channel.to_owned(),
        bytes,
        round_trips,
        median_ns: s.median,
        p99_ns: s.p99,
        min_ns: s.min,
        mean_ns: s.mean,
        pinned: None,
    })
}
