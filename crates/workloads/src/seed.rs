//! `seed-square-cube`: the tutorial's own example.

use serde::{Deserialize, Serialize};

use crate::{BenchSizes, Cx, Info, Kind, Params, ParamsError, TaskError, TaskOutput, Workload};

/// The tutorial's example: one worker prints `Square: 100`, the other `Cube: 1000`, then the
/// program prints `Done!`. With more than two tasks, even tasks square and odd tasks cube.
#[derive(Clone, Copy, Debug, Default)]
pub struct SeedSquareCube;

/// Which power a task computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `print_square(num)`.
    Square,
    /// `print_cube(num)`.
    Cube,
}

/// One task: `print_square(num)` or `print_cube(num)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedInput {
    /// Square or cube.
    pub op: Op,
    /// The tutorial's `args=(10,)`.
    pub num: u64,
}

/// The largest `num` whose cube fits in a `u64`.
const MAX_NUM: u64 = 2_642_245;

impl SeedSquareCube {
    /// Its CLI name, for code that names this workload.
    pub const NAME: &'static str = "seed-square-cube";
}

static INFO: Info = Info {
    name: SeedSquareCube::NAME,
    summary: "the tutorial's example: print_square(10) and print_cube(10), then Done!",
    kind: Kind::Seed,
    default_tasks: 2,
    default_size: 10,
    size_meaning: "the number squared and cubed",
    epilogue: Some("Done!"),
    test_params: &[Params { tasks: 2, size: 10 }, Params { tasks: 5, size: 7 }],
    bench: BenchSizes {
        smoke: Params { tasks: 2, size: 10 },
        quick: Params { tasks: 2, size: 10 },
        full: Params { tasks: 2, size: 10 },
        samples: None,
    },
    bench_description: "The tutorial's own example (square and cube of 10) with two workers: the cost of \
                        getting two tiny tasks onto workers and back.",
    python: true,
};

impl Workload for SeedSquareCube {
    type Input = SeedInput;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if params.size > MAX_NUM {
            return Err(ParamsError(format!(
                "--size for seed-square-cube must be at most {MAX_NUM} (its cube must fit in 64 bits), got {}",
                params.size
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<SeedInput>, ParamsError> {
        Ok((0..params.tasks)
            .map(|i| SeedInput {
                op: if i % 2 == 0 { Op::Square } else { Op::Cube },
                num: params.size,
            })
            .collect())
    }

    fn run(&self, input: &SeedInput, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let (label, value) = match input.op {
            Op::Square => ("Square", input.num.checked_mul(input.num)),
            Op::Cube => (
                "Cube",
                input
                    .num
                    .checked_mul(input.num)
                    .and_then(|sq| sq.checked_mul(input.num)),
            ),
        };
        let value =
            value.ok_or_else(|| TaskError::new(format!("{label} of {} overflows", input.num)))?;
        let line = format!("{label}: {value}");
        cx.print_line(&line);
        Ok(TaskOutput {
            digest: value,
            text: Some(line),
            data: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_the_tutorials_lines() {
        let inputs = SeedSquareCube.inputs(&INFO.default_params()).unwrap();
        let lines: Vec<_> = inputs
            .iter()
            .map(|i| SeedSquareCube.run(i, &Cx::quiet()).unwrap().text.unwrap())
            .collect();
        assert_eq!(lines, ["Square: 100", "Cube: 1000"]);
    }

    #[test]
    fn rejects_a_size_whose_cube_overflows() {
        let p = Params {
            tasks: 2,
            size: MAX_NUM + 1,
        };
        assert!(SeedSquareCube.validate(&p).is_err());
        let p = Params {
            tasks: 2,
            size: MAX_NUM,
        };
        assert!(SeedSquareCube.validate(&p).is_ok());
        let out = SeedSquareCube.run(
            &SeedInput {
                op: Op::Cube,
                num: MAX_NUM,
            },
            &Cx::quiet(),
        );
        assert!(out.is_ok());
    }
}
