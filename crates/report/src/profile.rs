//! How big a run is: smoke, quick or full, chosen by `cargo xtask bench` and recorded with
//! the run. The workloads' own sizes per profile are in their registry entries.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How big the benches are. `cargo xtask bench` sets `CONCUR_BENCH_PROFILE`; a bare
/// `cargo bench` gets [`Profile::Full`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Every bench once at tiny sizes (criterion's `--test` mode): CI's check that benches run.
    Smoke,
    /// Small sizes and short measurements: a couple of minutes in all.
    Quick,
    /// The sizes the report is meant to be read at.
    Full,
}

impl Profile {
    /// Every profile, smallest first.
    pub const ALL: [Profile; 3] = [Profile::Smoke, Profile::Quick, Profile::Full];

    /// The environment variable that selects the profile.
    pub const ENV_NAME: &'static str = "CONCUR_BENCH_PROFILE";

    /// The profile named by `CONCUR_BENCH_PROFILE` (`smoke`, `quick`, `full`; default full).
    pub fn from_env() -> Profile {
        std::env::var(Self::ENV_NAME)
            .ok()
            .and_then(|name| Profile::parse(&name))
            .unwrap_or(Profile::Full)
    }

    /// The profile called `name` (`smoke`, `quick`, `full`), if there is one.
    pub fn parse(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The profile's name, as `CONCUR_BENCH_PROFILE` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Smoke => "smoke",
            Profile::Quick => "quick",
            Profile::Full => "full",
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

    /// Paired rounds (`concur compare`, `concur pingpong --against`): at least the first,
    /// then more while a ratio is undecided, up to the second
    /// (`concur_harness::paired::Rounds`).
    pub fn paired_rounds(self) -> (usize, usize) {
        match self {
            Profile::Smoke => (2, 2),
            Profile::Quick => (8, 15),
            Profile::Full => (10, 30),
        }
    }

    /// Paired rounds of round trips (`concur pingpong --against`): the same least number as
    /// [`Profile::paired_rounds`], a cap twice as high. A round there is two batches of
    /// about 2 ms after 80 ms of warm-up each (`concur_harness::paired::compare_channels`),
    /// and a spinning pair's ratio is the one the host's placement widens most: 30 rounds
    /// left `shm-spin` against `atomic-spin` at 1.32× (1.21–1.51) against a target of 1.5×
    /// (a fresh clone's full run of 7338b2a).
    pub fn round_trip_rounds(self) -> (usize, usize) {
        let (least, cap) = self.paired_rounds();
        match self {
            Profile::Smoke => (least, cap),
            Profile::Quick | Profile::Full => (least, 2 * cap),
        }
    }

    /// Criterion's bootstrap resamples per benchmark: 5 000 in every profile. Criterion's
    /// intervals only show on its own pages (the report bootstraps its ratios itself, 2 000
    /// resamples), and 20 000 cost a third of a second more per benchmark (10 `seed`
    /// benchmarks: 18.1 s against 14.7 s), a minute of a full run.
    pub fn bootstrap_resamples(self) -> usize {
        5_000
    }

    /// Criterion's measurement time per benchmark.
    pub fn measurement_time(self) -> Duration {
        match self {
            Profile::Smoke => Duration::from_millis(100),
            Profile::Quick => Duration::from_millis(150),
            Profile::Full => Duration::from_secs(2),
        }
    }

    /// Its column in per-profile tables (smoke 0, quick 1, full 2).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Criterion's warm-up time per benchmark.
    pub fn warm_up_time(self) -> Duration {
        match self {
            Profile::Smoke => Duration::from_millis(10),
            Profile::Quick => Duration::from_millis(50),
            // Models are started outside the timed loop, so warming up only has to fault in
            // the batch's pages and caches: one iteration of the slowest batch (~0.2 s).
            Profile::Full => Duration::from_millis(200),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_take_the_same_least_rounds_and_a_higher_cap() {
        for p in [Profile::Quick, Profile::Full] {
            let ((least, cap), (rt_least, rt_cap)) = (p.paired_rounds(), p.round_trip_rounds());
            assert_eq!(least, rt_least, "{p:?}");
            assert_eq!(rt_cap, 2 * cap, "{p:?}");
        }
        // A smoke run records nothing: its rounds stay as few as they are.
        assert_eq!(
            Profile::Smoke.round_trip_rounds(),
            Profile::Smoke.paired_rounds()
        );
        assert_eq!(Profile::Full.round_trip_rounds(), (10, 60));
    }
}
