//! Spawn+join cost of one worker, per model, and paired against the floors of starting a
//! process ([`compare_spawns`]).

use std::io;
use std::time::Instant;

use serde::Serialize;

use crate::ModelSpec;
use crate::paired::Rounds;
use concur_channels::SpawnFloor;
use concur_measure::Summary;
use concur_report::PairedRun;

/// The bench group of spawn+join costs (`benches/spawn.rs`), where [`compare_spawns`]
/// files its paired runs.
pub const SPAWN_GROUP: &str = "spawn";

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

/// Times `count` spawn+join pairs of one no-op worker of a model (or starts of a floor).
pub fn spawn_cost(starter: Starter, count: usize) -> io::Result<SpawnReport> {
    for _ in 0..WARMUP {
        starter.start_join_one()?;
    }
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        starter.start_join_one()?;
        samples.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let s = Summary::of(&samples).expect("count >= 1 finite samples");
    Ok(SpawnReport {
        model: starter.name(),
        count,
        median_us: s.median,
        p99_us: s.p99,
        min_us: s.min,
        max_us: s.max,
        mean_us: s.mean,
    })
}

/// Something whose start `concur spawn` times: a model's one worker, or a floor of starting
/// a process on this machine (`fork-exit`, `exec-self`).
#[derive(Clone, Copy, Debug)]
pub enum Starter {
    /// Spawn and join one no-op worker of the model.
    Model(&'static ModelSpec),
    /// Start one process and wait for it.
    Floor(SpawnFloor),
}

impl Starter {
    /// A model's or a floor's name; `None` for anything else.
    pub fn parse(name: &str) -> Option<Starter> {
        if let Some(floor) = SpawnFloor::ALL.into_iter().find(|f| f.name() == name) {
            return Some(Starter::Floor(floor));
        }
        crate::models()
            .iter()
            .find(|m| m.name == name)
            .map(Starter::Model)
    }

    /// Its name in the `spawn` group.
    pub fn name(&self) -> &'static str {
        match self {
            Starter::Model(spec) => spec.name,
            Starter::Floor(floor) => floor.name(),
        }
    }

    /// Every name [`Starter::parse`] accepts, for an error message.
    pub fn names() -> Vec<&'static str> {
        let models = crate::models().iter().map(|m| m.name);
        models
            .chain(SpawnFloor::ALL.into_iter().map(SpawnFloor::name))
            .collect()
    }

    /// Starts and joins one; an error names it.
    pub fn start_join_one(&self) -> io::Result<()> {
        let named = |e: &dyn std::fmt::Display| io::Error::other(format!("{}: {e}", self.name()));
        match self {
            Starter::Model(spec) => spec.spawn_join_one().map_err(|e| named(&e)),
            Starter::Floor(floor) => floor.run().map_err(|e| named(&e)),
        }
    }
}

/// Starts timed in each batch of a paired spawn comparison.
pub const SPAWNS_PER_BATCH: usize = 10;

/// Times `a` and `b` alternately in paired rounds (the `spawn` group's rows of the floors
/// table, `concur spawn --against`): each round times [`SPAWNS_PER_BATCH`] starts of one and
/// then of the other (the order swapping every round), each start timed on its own, and keeps
/// each batch's median, so the ratio is read from starts taken back to back and a start the
/// host stretched does not decide a batch. Rounds as `rounds` says (more while the ratio is
/// undecided against its thresholds, up to the cap).
pub fn compare_spawns(a: Starter, b: Starter, rounds: &Rounds) -> io::Result<PairedRun> {
    rounds
        .check()
        .map_err(|why| io::Error::new(io::ErrorKind::InvalidInput, why))?;
    for s in [a, b] {
        for _ in 0..WARMUP {
            s.start_join_one()?;
        }
    }
    let batch = |s: Starter| -> io::Result<f64> {
        let mut each = Vec::with_capacity(SPAWNS_PER_BATCH);
        for _ in 0..SPAWNS_PER_BATCH {
            let t = Instant::now();
            s.start_join_one()?;
            each.push(t.elapsed().as_nanos() as f64);
        }
        Ok(concur_report::stats::median(&mut each))
    };
    let times = crate::paired::alternate(rounds, 2, 2, |i| batch([a, b][i]))?;
    Ok(PairedRun {
        workload: "spawn".into(),
        group: SPAWN_GROUP.into(),
        param: String::new(),
        tasks: SPAWNS_PER_BATCH,
        size: 0,
        models: crate::paired::named([a.name(), b.name()], times),
        max_rounds: Some(rounds.max),
        placement: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back() {
        for name in Starter::names() {
            assert_eq!(Starter::parse(name).map(|s| s.name()), Some(name));
        }
        assert!(Starter::parse("exec").is_none());
    }

    #[test]
    fn paired_starts_take_every_round_for_both() {
        let (a, b) = (
            Starter::parse("thread-per-task").unwrap(),
            Starter::parse("fork-exit").unwrap(),
        );
        let run = compare_spawns(a, b, &Rounds::fixed(3)).unwrap();
        assert_eq!(run.group, SPAWN_GROUP);
        assert_eq!(run.models[0].name, "thread-per-task");
        assert_eq!(run.models[1].name, "fork-exit");
        assert!(run.models.iter().all(|m| m.times_ns.len() == 3));
        assert!(
            run.models
                .iter()
                .all(|m| m.times_ns.iter().all(|t| *t > 0.0))
        );
        assert!(compare_spawns(a, b, &Rounds::fixed(0)).is_err());
    }
}
