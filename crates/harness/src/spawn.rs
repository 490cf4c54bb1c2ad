//! Spawn+join cost of one worker, per model.

use std::time::Instant;

use serde::Serialize;

use crate::{ModelError, ModelSpec};
use concur_measure::Summary;

/// Untimed spawns before measuring, to warm caches and the allocator.
const WARMUP: usize = 3;

/// What `concur spawn` reports.
#[derive(Clone, Debug, Serialize)]
pub struct SpawnReport {
    /// The model.
    pub model: &'static str,
    /// How many spawn+join pairs were timed.
    pub count: usize,
    /// Median microseconds per spawn+join.
    pub median_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// Fastest.
    pub min_us: f64,
    /// Slowest.
    pub max_us: f64,
    /// Mean (bimodal on a busy machine: read the median first).
    pub mean_us: f64,
}

/// Times `count` spawn+join pairs of one no-op worker of `spec`.
pub fn spawn_cost(spec: &'static ModelSpec, count: usize) -> Result<SpawnReport, ModelError> {
    for _ in 0..WARMUP {
        spec.spawn_join_one()?;
    }
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        spec.spawn_join_one()?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let s = Summary::of(&samples).expect("count >= 1 finite samples");
    Ok(SpawnReport {
        model: spec.name,
        count,
        median_us: s.median,
        p99_us: s.p99,
        min_us: s.min,
        max_us: s.max,
        mean_us: s.mean,
    })
}
