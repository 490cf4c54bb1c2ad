//! `primes`: count primes by trial division, the pure CPU-bound unit.

use serde::{Deserialize, Serialize};

use crate::{BenchSizes, Cx, Info, Kind, Params, ParamsError, TaskError, TaskOutput, Workload};

/// Counts the primes below `size`, split into `tasks` equal ranges; a task counts its range
/// by trial division (deliberately not a sieve: the point is to burn CPU evenly).
#[derive(Clone, Copy, Debug, Default)]
pub struct Primes;

/// One task: count the primes in `lo..hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// Inclusive start.
    pub lo: u64,
    /// Exclusive end.
    pub hi: u64,
}

/// The largest `--size`: trial division stays in `u64` and a run stays finite.
pub(crate) const MAX_SIZE: u64 = 1 << 32;

/// How many candidates a unit tests between two [`Cx::checkpoint`] calls.
const CHECK_EVERY: u64 = 256;

impl Primes {
    /// Its CLI name, for code that names this workload.
    pub const NAME: &'static str = "primes";
}

static INFO: Info = Info {
    name: Primes::NAME,
    summary: "count primes below SIZE by trial division, in TASKS equal ranges",
    kind: Kind::CpuBound,
    default_tasks: 16,
    default_size: 12_000_000,
    size_meaning: "the exclusive upper bound of the numbers tested",
    epilogue: None,
    test_params: &[
        Params {
            tasks: 7,
            size: 20_000,
        },
        Params { tasks: 1, size: 3 },
    ],
    bench: BenchSizes {
        smoke: Params {
            tasks: 16,
            size: 20_000,
        },
        quick: Params {
            tasks: 16,
            size: 1_500_000,
        },
        full: Params {
            tasks: 16,
            size: 2_000_000,
        },
        samples: None,
    },
    bench_description: "Counting primes by trial division (CPU-bound), by number of workers.",
    python: true,
};

impl Workload for Primes {
    type Input = Range;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if params.size > MAX_SIZE {
            return Err(ParamsError(format!(
                "--size for primes must be at most {MAX_SIZE}, got {}",
                params.size
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<Range>, ParamsError> {
        let tasks = params.tasks as u64;
        let (width, rest) = (params.size / tasks, params.size % tasks);
        // The first `rest` ranges are one longer, so the ranges tile 0..size exactly.
        let mut lo = 0;
        Ok((0..tasks)
            .map(|i| {
                let hi = lo + width + u64::from(i < rest);
                let r = Range { lo, hi };
                lo = hi;
                r
            })
            .collect())
    }

    fn run(&self, input: &Range, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        if input.lo > input.hi || input.hi > MAX_SIZE {
            return Err(TaskError::new(format!(
                "range {}..{} is not within 0..{MAX_SIZE}",
                input.lo, input.hi
            )));
        }
        let mut count = 0;
        let mut n = input.lo;
        while n < input.hi {
            let end = input.hi.min(n + CHECK_EVERY);
            count += (n..end).filter(|&k| is_prime(k)).count() as u64;
            n = end;
            cx.checkpoint();
        }
        Ok(TaskOutput {
            digest: count,
            text: None,
            data: Vec::new(),
        })
    }
}

/// Trial division by 2, 3 and numbers of the form 6k ± 1 up to √n.
pub(crate) fn is_prime(n: u64) -> bool {
    if n < 4 {
        return n >= 2;
    }
    if n % 2 == 0 || n % 3 == 0 {
        return false;
    }
    let mut d = 5;
    while d * d <= n {
        if n % d == 0 || n % (d + 2) == 0 {
            return false;
        }
        d += 6;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(size: u64, tasks: usize) -> u64 {
        let p = Params { tasks, size };
        Primes
            .inputs(&p)
            .unwrap()
            .iter()
            .map(|r| Primes.run(r, &Cx::quiet()).unwrap().digest)
            .sum()
    }

    #[test]
    fn counts_known_values() {
        assert_eq!(count(10, 1), 4);
        assert_eq!(count(1_000, 7), 168);
        assert_eq!(count(100_000, 16), 9_592);
    }

    #[test]
    fn ranges_tile_the_interval() {
        let ranges = Primes
            .inputs(&Params {
                tasks: 7,
                size: 100,
            })
            .unwrap();
        assert_eq!(ranges.first().unwrap().lo, 0);
        assert_eq!(ranges.last().unwrap().hi, 100);
        assert!(ranges.windows(2).all(|w| w[0].hi == w[1].lo));
        // More tasks than numbers: empty ranges, still tiling.
        assert_eq!(count(3, 5), 1);
    }

    #[test]
    fn small_numbers() {
        let primes: Vec<u64> = (0..30).filter(|&n| is_prime(n)).collect();
        assert_eq!(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
        assert!(is_prime(4_294_967_291)); // the largest prime below 2^32
        assert!(!is_prime(4_294_967_297)); // 641 × 6700417
    }
}
