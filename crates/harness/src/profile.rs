//! Bench sizes for smoke, quick and full runs, chosen by `cargo xtask bench`.

use std::time::Duration;

use concur_workloads::Params;

/// How big the benches are. `cargo xtask bench` sets `CONCUR_BENCH_PROFILE`; a bare
/// `cargo bench` gets [`Profile::Full`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    /// Every bench once at tiny sizes (criterion's `--test` mode): CI's check that benches run.
    Smoke,
    /// Small sizes and short measurements: a couple of minutes in all.
    Quick,
    /// The sizes the report is meant to be read at.
    Full,
}

impl Profile {
    /// The environment variable that selects the profile.
    pub const ENV_NAME: &'static str = "CONCUR_BENCH_PROFILE";

    /// The profile named by `CONCUR_BENCH_PROFILE` (`smoke`, `quick`, `full`; default full).
    pub fn from_env() -> Profile {
        match std::env::var(Self::ENV_NAME).as_deref() {
            Ok("smoke") => Profile::Smoke,
            Ok("quick") => Profile::Quick,
            _ => Profile::Full,
        }
    }

    /// The profile's name, as `CONCUR_BENCH_PROFILE` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Smoke => "smoke",
            Profile::Quick => "quick",
            Profile::Full => "full",
        }
    }

    /// `primes` parameters for the `cpu_bound` bench.
    pub fn primes(self) -> Params {
        let size = match self {
            Profile::Smoke => 20_000,
            Profile::Quick => 200_000,
            Profile::Full => 2_000_000,
        };
        Params { tasks: 16, size }
    }

    /// `grayscale` parameters for the `cpu_bound` bench (images, side in pixels).
    pub fn grayscale(self) -> Params {
        match self {
            Profile::Smoke => Params { tasks: 2, size: 32 },
            Profile::Quick => Params { tasks: 4, size: 96 },
            Profile::Full => Params {
                tasks: 16,
                size: 384,
            },
        }
    }

    /// `shared-sum` parameters for the `shared_data` bench (size in MiB).
    pub fn shared_sum(self) -> Params {
        let size = match self {
            Profile::Smoke => 1,
            Profile::Quick => 16,
            Profile::Full => 64,
        };
        Params { tasks: 16, size }
    }

    /// Milliseconds each `sleep` task blocks and the loopback server waits before each
    /// `http-fetch` answer, in the `io_bound` bench.
    pub fn io_latency_ms(self) -> u64 {
        match self {
            Profile::Smoke => 1,
            Profile::Quick => 5,
            Profile::Full => 50,
        }
    }

    /// Concurrent requests (tasks, and workers for the thread and process models) on the x
    /// axis of the `io_bound` bench.
    pub fn concurrency_axis(self) -> &'static [usize] {
        match self {
            Profile::Smoke => &[8],
            Profile::Quick => &[8, 64],
            Profile::Full => &[8, 64, 512],
        }
    }

    /// Worker counts on the x axis of scaling benches.
    pub fn workers_axis(self) -> &'static [usize] {
        match self {
            Profile::Smoke | Profile::Quick => &[1, 2],
            Profile::Full => &[1, 2, 4],
        }
    }

    /// Criterion samples per benchmark (criterion's minimum is 10).
    pub fn sample_size(self) -> usize {
        match self {
            Profile::Smoke | Profile::Quick => 10,
            Profile::Full => 20,
        }
    }

    /// Criterion's bootstrap resamples per benchmark.
    pub fn bootstrap_resamples(self) -> usize {
        match self {
            Profile::Smoke | Profile::Quick => 5_000,
            Profile::Full => 20_000,
        }
    }

    /// Criterion's measurement time per benchmark.
    pub fn measurement_time(self) -> Duration {
        match self {
            Profile::Smoke => Duration::from_millis(100),
            Profile::Quick => Duration::from_millis(150),
            Profile::Full => Duration::from_secs(2),
        }
    }

    /// Criterion's warm-up time per benchmark.
    pub fn warm_up_time(self) -> Duration {
        match self {
            Profile::Smoke => Duration::from_millis(10),
            Profile::Quick => Duration::from_millis(50),
            Profile::Full => Duration::from_millis(500),
        }
    }
}
