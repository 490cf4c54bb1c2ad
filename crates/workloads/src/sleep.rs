//! `sleep`: the simplest I/O-bound unit, a blocking wait.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::{
    Cx, IO_BENCH, Info, IoDone, IoOp, Kind, Params, ParamsError, TaskError, TaskOutput, Workload,
    mix,
};

/// Each task blocks for `size` milliseconds, then returns a digest of its index.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sleep;

/// One task: wait `ms` milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Nap {
    /// The task's position, so outputs differ per task.
    pub index: u64,
    /// How long to block.
    pub ms: u64,
}

/// The longest wait a task may ask for: one minute.
pub(crate) const MAX_MS: u64 = 60_000;

impl Sleep {
    /// Its CLI name, for code that names this workload.
    pub const NAME: &'static str = "sleep";
}

static INFO: Info = Info {
    name: Sleep::NAME,
    summary: "each task blocks for SIZE milliseconds (the simplest I/O-bound unit)",
    kind: Kind::IoBound,
    default_tasks: 16,
    default_size: 50,
    size_meaning: "milliseconds each task blocks",
    epilogue: None,
    test_params: &[Params { tasks: 6, size: 2 }],
    bench: IO_BENCH,
    bench_description: "N tasks that each block for the same latency, N concurrent: thread and process \
                        models get N workers (one blocked thread or process per request); `tokio` \
                        gets one runtime thread per core and N tasks awaiting timers. Process models \
                        stop at 64 workers and `sequential` runs only at 8 (at 512 it would wait 512 \
                        latencies).",
    python: true,
};

impl Workload for Sleep {
    type Input = Nap;

    fn info(&self) -> &'static Info {
        &INFO
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if params.size > MAX_MS {
            return Err(ParamsError(format!(
                "--size for sleep is in milliseconds and must be at most {MAX_MS}, got {}",
                params.size
            )));
        }
        Ok(())
    }

    fn inputs(&self, params: &Params) -> Result<Vec<Nap>, ParamsError> {
        Ok((0..params.tasks as u64)
            .map(|index| Nap {
                index,
                ms: params.size,
            })
            .collect())
    }

    fn run(&self, input: &Nap, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        if input.ms > MAX_MS {
            return Err(TaskError::new(format!(
                "sleep of {} ms exceeds {MAX_MS}",
                input.ms
            )));
        }
        // `--size 0` is the empty task: no syscall at all, only the model's own overhead.
        let done = self.io(input).expect("sleep waits").perform_blocking(cx)?;
        self.after_io(input, done, cx)
    }

    fn io(&self, input: &Nap) -> Option<IoOp> {
        Some(IoOp::Sleep(Duration::from_millis(input.ms.min(MAX_MS))))
    }

    fn after_io(&self, input: &Nap, done: IoDone, _cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        if done != IoDone::Slept {
            return Err(TaskError::new("sleep expected its timer"));
        }
        Ok(TaskOutput {
            digest: mix(input.index << 20 ^ input.ms),
            text: None,
            data: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipping_the_wait_gives_the_same_output() {
        let nap = Nap { index: 3, ms: 5 };
        let t = std::time::Instant::now();
        let real = Sleep.run(&nap, &Cx::quiet()).unwrap();
        assert!(t.elapsed() >= Duration::from_millis(5));
        assert_eq!(real, Sleep.run(&nap, &Cx::reference()).unwrap());
    }
}
