//! `spin`: calibrated CPU work whose size sets how long a task runs, the unit the granularity
//! sweep (`concur crossover`) varies.

use serde::{Deserialize, Serialize};

use crate::{BenchSizes, Cx, Info, Kind, Params, ParamsError, TaskError, TaskOutput, Workload};

/// Each task runs SIZE rounds of an integer mixing loop: a chain of dependent multiply-adds
/// (a few nanoseconds a round on a current x86 core), so a task's duration is its size and
/// nothing else (no memory traffic, no allocation, no system call).
#[derive(Clone, Copy, Debug, Default)]
pub struct Spin;

/// One task: `rounds` rounds from a start value of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rounds {
    /// The task's index (its start value).
    pub index: u64,
    /// Rounds to run.
    pub rounds: u64,
}

/// The largest `--size`: ten billion rounds, several seconds a task.
pub(crate) const MAX_SIZE: u64 = 10_000_000_000;

/// Rounds between two [`Cx::checkpoint`] calls (a few microseconds).
const CHECK_EVERY: u64 = 4096;

impl Spin {
    /// Its CLI name, for code that names this workload.
    pub const NAME: &'static str = "spin";
}

static INFO: Info = Info {
    name: Spin::NAME,
    summary: "each task runs SIZE rounds of an integer mixing loop (a few ns a round): CPU work whose size sets a task's duration",
    kind: Kind::Calibrated,
    default_tasks: 16,
    default_size: 1_000_000,
    size_meaning: "rounds of the mixing loop per task",
    epilogue: None,
    test_params: &[
        Params {
            tasks: 7,
            size: 10_000,
        },
        Params { tasks: 1, size: 0 },
    ],
    // Benched by no suite: `concur crossover` sweeps its size instead.
    bench: BenchSizes {
        smoke: Params {
            tasks: 8,
            size: 10_000,
        },
        quick: Params {
            tasks: 8,
            size: 1_000_000,
        },
        full: Params {
            tasks: 8,
            size: 1_000_000,
        },
        samples: None,
    },
    bench_description: "Calibrated CPU work, swept over its size by `concur crossover` (the granularity section), not benched at one size.",
    python: false,
};

impl Workload for Spin {
    type Input = Rounds;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if params.size > MAX_SIZE {
            return Err(ParamsError(format!(
                "--size for spin must be at most {MAX_SIZE}, got {}",
                params.size
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<Rounds>, ParamsError> {
        Ok((0..params.tasks as u64)
            .map(|index| Rounds {
                index,
                rounds: params.size,
            })
            .collect())
    }

    fn run(&self, input: &Rounds, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        if input.rounds > MAX_SIZE {
            return Err(TaskError::new(format!(
                "{} rounds exceed the {MAX_SIZE} a task may run",
                input.rounds
            )));
        }
        let mut x = input.index ^ 0x9e37_79b9_7f4a_7c15;
        let mut left = input.rounds;
        while left > 0 {
            let n = left.min(CHECK_EVERY);
            for _ in 0..n {
                x = mix(x);
            }
            left -= n;
            cx.checkpoint();
        }
        Ok(TaskOutput {
            digest: x,
            text: None,
            data: Vec::new(),
        })
    }
}

/// One round: a 64-bit LCG step and a xor-shift, each depending on the last (the compiler
/// cannot fold or vectorise a chain).
#[inline]
fn mix(x: u64) -> u64 {
    let x = x
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    x ^ (x >> 29)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_are_deterministic_and_distinct_per_task() {
        let run = |index, rounds| {
            Spin.run(&Rounds { index, rounds }, &Cx::quiet())
                .unwrap()
                .digest
        };
        assert_eq!(run(3, 10_000), run(3, 10_000));
        assert_ne!(run(3, 10_000), run(4, 10_000));
        assert_ne!(run(3, 10_000), run(3, 10_001));
        assert_eq!(run(0, 0), 0x9e37_79b9_7f4a_7c15);
    }

    #[test]
    fn its_size_sets_the_work() {
        let time = |rounds| {
            let t = std::time::Instant::now();
            std::hint::black_box(
                Spin.run(&Rounds { index: 1, rounds }, &Cx::quiet())
                    .unwrap(),
            );
            t.elapsed()
        };
        // Ten times the rounds take longer (not a timing bound: a direction).
        let (small, large) = (time(200_000), time(2_000_000));
        assert!(large > small, "{small:?} then {large:?}");
        assert!(
            Spin.validate(&Params {
                tasks: 1,
                size: MAX_SIZE + 1
            })
            .is_err()
        );
    }
}
