//! Paired rounds (`concur compare`): several models run alternately on one batch, round after
//! round, so the ratios between them are read from times taken back to back and the slow
//! drift of a shared machine cancels. The report's verdicts use these ratios when a run has
//! them. Every run's checksum is checked against `sequential`. Two ping-pong channels are
//! paired the same way ([`compare_channels`], `concur pingpong --against`).

use std::io;
use std::time::Instant;

use concur_channels::Channel;
use concur_channels::pin::{CpuPair, Pinned};
use concur_report::stats::{paired_ratio, straddles, undecided};
use concur_report::{PairedModel, PairedRun, Placement};
use concur_workloads::{AnyWorkload, Batch, Echo, Kind, Params};

use crate::models::{Family, ModelSpec, models};
use crate::runner::{RunError, reference_checksum};

/// The most worker processes a process model is given at a concurrency parameter (64 worker
/// processes on two cores is already far past what `multiprocessing` is used for).
pub const PROCESS_CAP: usize = 64;

/// The most processes `cluster` gets in an I/O group.
pub const CLUSTER_IO_CAP: usize = 8;

/// How many workers `spec` gets at parameter `param` of a bench group of `kind` — the rule
/// the benches and [`compare`] share — or `None` when the bench does not run it there.
/// Scaling groups: `param` workers (`sequential` one). I/O groups (`param` concurrent
/// requests): threads and processes get one worker per request, processes up to
/// [`PROCESS_CAP`], tokio as many runtime threads as cores, `sequential` only up to 8.
pub fn bench_workers(spec: &ModelSpec, kind: Kind, param: usize) -> Option<usize> {
    match (kind, spec.family) {
        (_, Family::Sequential) if kind == Kind::IoBound && param > 8 => None,
        (_, Family::Sequential) => Some(1),
        (Kind::IoBound, Family::Processes) if param > PROCESS_CAP => None,
        // A cluster is a full mesh: n processes hold n(n-1)/2 connections and two timely
        // threads per peer each. Eight processes show the shape without a thousand threads.
        (Kind::IoBound, _) if spec.name == crate::names::CLUSTER && param > CLUSTER_IO_CAP => None,
        (Kind::IoBound, Family::Tasks) => Some(crate::available_cores()),
        _ => Some(param),
    }
}

/// How many paired rounds to take: at least `min`, then, while some side's ratio to the
/// first side (the reference: `sequential` in a model comparison; two channels' ratio is
/// read both ways, so either side will do) is undecided against `thresholds`
/// ([`undecided`]: its 95% interval holds one and is not yet narrow), more in steps of `min / 2`, up to `max`. Time goes where a verdict is still
/// open, and a comparison that is clear after `min` rounds stops there. (Every pair of ten
/// models would never be clear: among 45 ratios one always sits on some threshold.)
#[derive(Clone, Debug, PartialEq)]
pub struct Rounds {
    /// Rounds always taken (at least 1).
    pub min: usize,
    /// The cap (at least `min`).
    pub max: usize,
    /// The ratios the comparison's readers compare with (a verdict's thresholds, a floor's
    /// target); empty: none, so `min` rounds are taken.
    pub thresholds: Vec<f64>,
}

/// How many bootstrap seeds [`Rounds`] checks a ratio under before it calls it decided.
const STOP_SEEDS: u64 = 4;

impl Rounds {
    /// Exactly `n` rounds.
    pub fn fixed(n: usize) -> Rounds {
        Rounds {
            min: n,
            max: n,
            thresholds: Vec::new(),
        }
    }

    /// How many more rounds to take after `times` (each side's times so far): 0 to stop.
    fn next_batch(&self, times: &[Vec<f64>]) -> usize {
        let taken = times.first().map_or(0, Vec::len);
        if taken < self.min {
            return self.min - taken;
        }
        if taken >= self.max || !self.any_undecided(times) {
            return 0;
        }
        (self.min / 2).clamp(1, self.max - taken)
    }

    /// Whether some side's ratio to the first side is still undecided, read either way and
    /// under a few bootstrap seeds: the interval's ends are order statistics of the
    /// per-round ratios, and whichever seed a reader's interval is drawn with (the report
    /// seeds by the figures' names) must find it decided too. (One seed stopped `shm-spin`
    /// against `atomic-spin` at an upper end of 1.49 that the printed interval put at 1.55.)
    ///
    /// With one threshold — a floor's target — a ratio is open while its interval holds
    /// it, however narrow: the floors table reads it met or missed, so the rounds go on until
    /// it is one or the other, or the cap says how many were taken. With several (a verdict's
    /// thresholds, among the many ratios of a model comparison, one of which always sits on
    /// one), a ratio settled on a threshold ([`undecided`]) stops the rounds.
    fn any_undecided(&self, times: &[Vec<f64>]) -> bool {
        let Some((reference, others)) = times.split_first() else {
            return false;
        };
        let open = |r: &concur_report::stats::Ratio| match self.thresholds.as_slice() {
            [_] => straddles(r, &self.thresholds),
            _ => undecided(r, &self.thresholds),
        };
        others.iter().any(|side| {
            (1..=STOP_SEEDS).any(|seed| {
                [(side, reference), (reference, side)]
                    .iter()
                    .any(|(a, b)| paired_ratio(a, b, seed).is_some_and(|r| open(&r)))
            })
        })
    }

    /// Whether the numbers make sense: at least one round, a cap no lower than that.
    pub fn check(&self) -> Result<(), String> {
        if self.min == 0 {
            return Err("--rounds must be at least 1".into());
        }
        if self.max < self.min {
            return Err(format!(
                "--max-rounds ({}) must be at least --rounds ({})",
                self.max, self.min
            ));
        }
        Ok(())
    }
}

/// Times `sides` sides in rounds as `rounds` says (at least its `min`, then more while a
/// ratio among the first `deciding` sides is undecided, up to its `max`), each round timing
/// every side once with `time(side)`, in an order that rotates from round to round (two
/// sides: `a, b`, then `b, a`, …), so no side always runs first. Each side's times, in round
/// order.
pub(crate) fn alternate<E>(
    rounds: &Rounds,
    sides: usize,
    deciding: usize,
    mut time: impl FnMut(usize) -> Result<f64, E>,
) -> Result<Vec<Vec<f64>>, E> {
    let mut times = vec![Vec::with_capacity(rounds.max); sides];
    let mut round = 0;
    loop {
        let batch_of_rounds = rounds.next_batch(&times[..deciding.min(sides)]);
        if batch_of_rounds == 0 {
            return Ok(times);
        }
        for _ in 0..batch_of_rounds {
            for k in 0..sides {
                let i = (round + k) % sides;
                times[i].push(time(i)?);
            }
            round += 1;
        }
    }
}

/// Each side's times from [`alternate`], named: the models of a [`PairedRun`].
pub(crate) fn named<'a>(
    names: impl IntoIterator<Item = &'a str>,
    times: Vec<Vec<f64>>,
) -> Vec<PairedModel> {
    names
        .into_iter()
        .zip(times)
        .map(|(name, times_ns)| PairedModel {
            name: name.to_owned(),
            times_ns,
        })
        .collect()
}

/// What to compare.
pub struct CompareRequest {
    /// The workload.
    pub workload: &'static dyn AnyWorkload,
    /// Its batch.
    pub params: Params,
    /// The bench group's parameter (workers, or concurrent requests).
    pub param: usize,
    /// The models; empty: every model the bench runs at `param`.
    pub models: Vec<&'static ModelSpec>,
    /// Timed rounds (each times every model once).
    pub rounds: Rounds,
    /// Also time the floor under the workload, first (the reference every ratio is read
    /// against): only `tcp-floor` under `http-fetch`, the same exchanges over raw loopback
    /// TCP ([`concur_http::TcpFloor`]), `param` at once. `false`: models only.
    pub with_floor: bool,
}

/// One side of a comparison: a model on its batch, or the floor under the workload.
enum Side {
    Model {
        spec: &'static ModelSpec,
        model: Box<dyn crate::Model>,
        /// A batch of its own (a model that maps large inputs), else the shared one.
        batch: Option<Batch>,
    },
    TcpFloor(concur_http::TcpFloor),
}

impl Side {
    fn name(&self) -> &'static str {
        match self {
            Side::Model { spec, .. } => spec.name,
            Side::TcpFloor(_) => concur_http::TcpFloor::NAME,
        }
    }
}

/// Runs every side once untimed, then rounds as `req.rounds` says, each timing every side
/// once in an order that rotates from round to round; checks every model's result (the
/// floor checks its own answers).
pub fn compare(req: &CompareRequest) -> Result<PairedRun, RunError> {
    req.rounds.check().map_err(RunError::Invalid)?;
    let info = req.workload.info();
    let chosen: Vec<&'static ModelSpec> = if req.models.is_empty() {
        models().iter().collect()
    } else {
        req.models.clone()
    };
    let mut sides = Vec::new();
    if req.with_floor {
        if info.name != concur_workloads::HttpFetch::NAME {
            return Err(RunError::Invalid(format!(
                "--floor: only http-fetch has a floor to pair (tcp-floor), not {}",
                info.name
            )));
        }
        let latency = std::time::Duration::from_millis(req.params.size);
        let floor =
            concur_http::TcpFloor::start(latency, crate::available_cores()).map_err(|source| {
                RunError::Floor {
                    floor: concur_http::TcpFloor::NAME,
                    source,
                }
            })?;
        sides.push(Side::TcpFloor(floor));
    }
    let shared = req.workload.prepare(&req.params)?;
    let expected = reference_checksum(&shared).map_err(|source| RunError::Model {
        model: crate::names::SEQUENTIAL,
        source,
    })?;
    for spec in chosen {
        let Some(workers) = bench_workers(spec, info.kind, req.param) else {
            continue;
        };
        let model_err = |source| RunError::Model {
            model: spec.name,
            source,
        };
        // A model that maps large inputs gets its batch in its own arena.
        let batch = if spec.maps_shared_input {
            Some(req.workload.prepare_in(&req.params, spec.arena())?)
        } else {
            None
        };
        let model = spec.build(workers).map_err(model_err)?;
        sides.push(Side::Model { spec, model, batch });
    }
    let run_once = |side: &Side| -> Result<f64, RunError> {
        let t = Instant::now();
        match side {
            Side::Model { spec, model, batch } => {
                let batch = batch.as_ref().unwrap_or(&shared);
                let outputs = model
                    .run(batch, Echo::Off)
                    .map_err(|source| RunError::Model {
                        model: spec.name,
                        source,
                    })?;
                let ns = t.elapsed().as_secs_f64() * 1e9;
                if batch.checksum_of(&outputs) != expected {
                    return Err(RunError::WrongResult {
                        model: spec.name,
                        workload: info.name,
                    });
                }
                Ok(ns)
            }
            Side::TcpFloor(floor) => {
                floor
                    .exchange(req.param)
                    .map_err(|source| RunError::Floor {
                        floor: concur_http::TcpFloor::NAME,
                        source,
                    })?;
                Ok(t.elapsed().as_secs_f64() * 1e9)
            }
        }
    };
    for side in &sides {
        run_once(side)?;
    }
    let times = alternate(&req.rounds, sides.len(), sides.len(), |i| {
        run_once(&sides[i])
    })?;
    Ok(PairedRun {
        workload: info.name.to_owned(),
        group: info.bench_group(),
        param: req.param.to_string(),
        tasks: req.params.tasks,
        size: req.params.size,
        models: named(sides.iter().map(Side::name), times),
        max_rounds: Some(req.rounds.max),
        placement: None,
    })
}

/// Times `a` and `b` (channels, floors or pool tasks: [`crate::round_trips::open`])
/// alternately, as many rounds as `rounds` says: each round opens one, times a batch of
/// 8-byte round trips (a pool task: empty tasks), closes it, then does the same with the
/// other (the order swapping from round to round), so the two medians compared are taken back to back. On a VM whose
/// host moves the virtual CPUs every few minutes (a cache-line round trip of 60 ns one
/// minute, 380 ns the next) a ratio of two figures measured a minute apart compares two
/// machines; a per-round ratio does not. A batch lasts about 2 ms (its size is calibrated
/// on `a`, between 200 and 20 000 round trips), after 80 ms of warm-up. Only one echo process
/// (or pool) is alive at a time: two spinning peers on a 2-core machine would take each
/// other's core.
///
/// With `pin`, this thread and every echo child run on the pair's two CPUs for the whole
/// comparison (both sides of every round cross the same two CPUs), and the run records the
/// pair and a cache-line round trip (`atomic-spin`) between them timed right before the
/// rounds.
///
/// `bytes` is the ping-pong's 8 (group `ipc/pingpong`) or the bulk group's 1 MiB
/// ([`BULK_BYTES`](crate::catalog::BULK_BYTES), group `ipc/bulk-1MiB`: each round trip
/// sends the MiB and gets an 8-byte acknowledgement back, as the bulk benchmark does; a
/// batch then holds at least 20). A round's figure is the batch's mean for 8 bytes (timing
/// each 100 ns round trip would time the clock) and the median of its timed round trips for
/// the MiB (a round trip the host stretched, tens of times the others, would otherwise
/// decide the mean of 20).
///
/// `beside`, if given, is timed in every round too (a [`Reach`](concur_report::catalog::Reach)'s
/// part, so the bound it sets comes from the same rounds as the ratio it bounds); only `a`
/// over `b` decides how many rounds are taken.
pub fn compare_channels(
    a: &str,
    b: &str,
    beside: Option<&str>,
    rounds: &Rounds,
    pin: Option<CpuPair>,
    bytes: usize,
) -> io::Result<PairedRun> {
    let invalid = |why: String| io::Error::new(io::ErrorKind::InvalidInput, why);
    rounds.check().map_err(invalid)?;
    use crate::catalog::{BULK_BYTES, BULK_GROUP, PINGPONG_GROUP};
    let group = match bytes {
        8 => PINGPONG_GROUP,
        BULK_BYTES => BULK_GROUP,
        _ => {
            return Err(invalid(format!(
                "paired rounds send 8 bytes or {BULK_BYTES} (the bulk group's MiB), not {bytes}"
            )));
        }
    };
    let pinned = pin.map(Pinned::new).transpose()?;
    let word = 42u64.to_le_bytes();
    let msg: Vec<u8> = if bytes == 8 {
        word.to_vec()
    } else {
        vec![0xa5; bytes]
    };
    // One batch: open, warm up, time `n` round trips, close; ns per round trip. The warm-up
    // lasts 80 ms, more than one lap of a spinning ring at its usual speed (4 MiB of
    // 16-byte messages, about 30 ms at 100 ns): a batch on a fresh ring would otherwise
    // time its first touch of lines (measured: 128 ns against 106 ns after a whole lap,
    // before a spinning ring's pages were mapped as it attaches), which criterion's long
    // runs of one open channel never see.
    let batch_of = |channel: &str, n: usize, msg: &[u8]| -> io::Result<f64> {
        let mut peer = crate::round_trips::open(channel)?;
        let warm = Instant::now();
        let mut done = 0;
        while done < concur_channels::WARMUP
            || warm.elapsed() < std::time::Duration::from_millis(80)
        {
            peer.round_trip(msg)?;
            done += 1;
        }
        if msg.len() < BULK_BYTES {
            let took = concur_channels::time_n(peer.as_mut(), n, msg)?;
            return Ok(took.as_nanos() as f64 / n as f64);
        }
        // The MiB: each round trip timed (tens of µs: the clock costs nothing against it) and
        // the batch's median taken, so one round trip stretched by the host (a spinning pair
        // needs both virtual CPUs running, a copy one) does not decide a batch of 20.
        let mut each = Vec::with_capacity(n);
        for _ in 0..n {
            let took = concur_channels::time_n(peer.as_mut(), 1, msg)?;
            each.push(took.as_nanos() as f64);
        }
        Ok(concur_report::stats::median(&mut each))
    };
    let batch = |channel: &str, n: usize| batch_of(channel, n, &msg);
    let placement = match &pinned {
        Some(p) => Some(Placement {
            parent_cpu: p.pair().parent,
            child_cpu: p.pair().child,
            line_round_trip_ns: batch_of(Channel::AtomicSpin.name(), 20_000, &word)?,
        }),
        None => None,
    };
    let per_trip = batch(a, concur_channels::WARMUP)?.max(1.0);
    let least = if bytes == 8 { 200 } else { 20 };
    let n = ((2e6 / per_trip) as usize).clamp(least, 20_000);
    let sides: Vec<&str> = [a, b].into_iter().chain(beside).collect();
    let times = alternate(rounds, sides.len(), 2, |i| batch(sides[i], n))?;
    Ok(PairedRun {
        workload: "pingpong".into(),
        group: group.into(),
        param: String::new(),
        tasks: n,
        size: msg.len() as u64,
        models: named(sides, times),
        max_rounds: Some(rounds.max),
        placement,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use concur_workloads::by_name;

    #[test]
    fn every_model_gets_every_round() {
        let run = compare(&CompareRequest {
            workload: by_name("primes").unwrap(),
            params: Params {
                tasks: 4,
                size: 20_000,
            },
            param: 2,
            models: vec![
                crate::model(crate::names::SEQUENTIAL).unwrap(),
                crate::model(crate::names::THREAD_POOL).unwrap(),
            ],
            rounds: Rounds::fixed(3),
            with_floor: false,
        })
        .unwrap();
        assert_eq!(run.group, "cpu_bound/primes");
        assert_eq!(run.models.len(), 2);
        assert!(run.models.iter().all(|m| m.times_ns.len() == 3));
        assert!(
            run.models
                .iter()
                .flat_map(|m| &m.times_ns)
                .all(|t| *t > 0.0)
        );
    }

    #[test]
    fn two_channels_get_every_round() {
        let run =
            compare_channels("crossbeam", "std-mpsc", None, &Rounds::fixed(2), None, 8).unwrap();
        assert_eq!(
            (run.group.as_str(), run.param.as_str()),
            ("ipc/pingpong", "")
        );
        let names: Vec<&str> = run.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["crossbeam", "std-mpsc"]);
        // What is timed beside them gets every round too, last among the sides.
        let beside = compare_channels(
            "crossbeam",
            "std-mpsc",
            Some("pool-work"),
            &Rounds::fixed(2),
            None,
            8,
        )
        .unwrap();
        let names: Vec<&str> = beside.models.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["crossbeam", "std-mpsc", "pool-work"]);
        assert!(beside.models.iter().all(|m| m.times_ns.len() == 2));
        for m in &run.models {
            assert_eq!(m.times_ns.len(), 2);
            assert!(
                m.times_ns.iter().all(|t| *t > 0.0 && t.is_finite()),
                "{m:?}"
            );
        }
        assert!((200..=20_000).contains(&run.tasks));
        assert!(
            compare_channels("crossbeam", "std-mpsc", None, &Rounds::fixed(0), None, 8).is_err()
        );
        let backwards = Rounds {
            min: 5,
            max: 4,
            thresholds: Vec::new(),
        };
        assert!(compare_channels("crossbeam", "std-mpsc", None, &backwards, None, 8).is_err());
    }

    #[test]
    fn the_io_rule_matches_the_bench() {
        let m = |n| crate::model(n).unwrap();
        assert_eq!(
            bench_workers(m(crate::names::SEQUENTIAL), Kind::IoBound, 64),
            None
        );
        assert_eq!(
            bench_workers(m(crate::names::PROCESS_POOL), Kind::IoBound, 512),
            None
        );
        assert_eq!(
            bench_workers(m(crate::names::THREAD_PER_TASK), Kind::IoBound, 512),
            Some(512)
        );
        assert_eq!(
            bench_workers(m(crate::names::SEQUENTIAL), Kind::CpuBound, 4),
            Some(1)
        );
        assert_eq!(
            bench_workers(m(crate::names::RAYON), Kind::CpuBound, 4),
            Some(4)
        );
        assert!(
            compare(&CompareRequest {
                workload: concur_workloads::by_name("primes").unwrap(),
                params: Params {
                    tasks: 2,
                    size: 100
                },
                param: 1,
                models: Vec::new(),
                rounds: Rounds::fixed(0),
                with_floor: false,
            })
            .is_err()
        );
    }

    /// Synthetic rounds: two sides whose ratio is `ratio`, with ±`wobble` alternating noise.
    fn sides(ratio: f64, wobble: f64, n: usize) -> Vec<Vec<f64>> {
        let a = (0..n)
            .map(|i| 100.0 * ratio * (1.0 + if i % 2 == 0 { wobble } else { -wobble }))
            .collect();
        vec![a, vec![100.0; n]]
    }

    #[test]
    fn rounds_stop_once_every_ratio_is_decided() {
        let rounds = Rounds {
            min: 10,
            max: 30,
            thresholds: vec![1.15, 1.5],
        };
        // Before the minimum: the rest of it.
        assert_eq!(rounds.next_batch(&sides(2.0, 0.01, 4)), 6);
        // Far from every threshold: stop at the minimum.
        assert_eq!(rounds.next_batch(&sides(2.0, 0.01, 10)), 0);
        // Noisy and on a threshold: another half of the minimum.
        assert_eq!(rounds.next_batch(&sides(1.15, 0.2, 10)), 5);
        // On a threshold but already narrow: settled there, stop.
        assert_eq!(rounds.next_batch(&sides(1.15, 0.01, 10)), 0);
        // The cap holds however undecided, and the last step stops at it.
        assert_eq!(rounds.next_batch(&sides(1.15, 0.2, 28)), 2);
        assert_eq!(rounds.next_batch(&sides(1.15, 0.2, 30)), 0);
        // A ratio read the other way (1/1.5) counts too.
        assert_eq!(rounds.next_batch(&sides(1.0 / 1.5, 0.2, 10)), 5);
        // No thresholds: nothing to decide, `min` rounds.
        assert_eq!(Rounds::fixed(10).next_batch(&sides(1.15, 0.2, 10)), 0);
        // One threshold (a floor's target): narrow on it is still open, up to the cap.
        let target = Rounds {
            thresholds: vec![1.15],
            ..rounds
        };
        assert_eq!(target.next_batch(&sides(1.15, 0.01, 10)), 5);
        assert_eq!(target.next_batch(&sides(1.15, 0.01, 30)), 0);
        assert_eq!(target.next_batch(&sides(2.0, 0.01, 10)), 0);
    }

    #[test]
    fn a_side_timed_beside_does_not_decide_the_rounds() {
        let rounds = Rounds {
            min: 4,
            max: 12,
            thresholds: vec![1.5],
        };
        // The first two sides are 2× apart (decided at once); the third, 1.5× the first with
        // noise, sits on the target, which alone would keep the rounds going.
        let mut k = 0.0f64;
        let mut time = |side: usize| -> Result<f64, ()> {
            k += 1.0;
            Ok(match side {
                0 => 200.0,
                1 => 100.0,
                _ => 300.0 * (1.0 + 0.3 * (k * 1.7).sin()),
            })
        };
        let beside = alternate(&rounds, 3, 2, &mut time).unwrap();
        assert!(beside.iter().all(|t| t.len() == 4), "{beside:?}");
        let all = alternate(&rounds, 3, 3, &mut time).unwrap();
        assert!(all.iter().all(|t| t.len() > 4), "{all:?}");
    }

    #[test]
    fn an_undecided_comparison_takes_more_rounds_up_to_the_cap() {
        // Two identical models and the threshold 1: the ratio's interval holds it until it
        // is narrow, which a noisy machine may never let it be; the cap ends it either way.
        let run = compare(&CompareRequest {
            workload: by_name("primes").unwrap(),
            params: Params {
                tasks: 2,
                size: 2_000,
            },
            param: 1,
            models: vec![
                crate::model(crate::names::SEQUENTIAL).unwrap(),
                crate::model(crate::names::SEQUENTIAL).unwrap(),
            ],
            rounds: Rounds {
                min: 2,
                max: 6,
                thresholds: vec![1.0],
            },
            with_floor: false,
        })
        .unwrap();
        let taken = run.models[0].times_ns.len();
        assert!((2..=6).contains(&taken), "{taken}");
        assert!(run.models.iter().all(|m| m.times_ns.len() == taken));
    }
}
