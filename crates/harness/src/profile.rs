//! A workload's bench sizes in each [`Profile`] (its registry entry's
//! [`BenchSizes`](concur_workloads::BenchSizes)).

use concur_workloads::{Info, Params};

pub use concur_report::Profile;

/// The sizes a profile gives a workload: `use concur_harness::ProfileSizes` and call them
/// on a [`Profile`].
pub trait ProfileSizes {
    /// A workload's bench parameters in this profile.
    fn bench_params(self, info: &Info) -> Params;

    /// Criterion samples per benchmark of a workload: its own count if it names one, else
    /// the profile's.
    fn bench_samples(self, info: &Info) -> usize;
}

impl ProfileSizes for Profile {
    fn bench_params(self, info: &Info) -> Params {
        match self {
            Profile::Smoke => info.bench.smoke,
            Profile::Quick => info.bench.quick,
            Profile::Full => info.bench.full,
        }
    }

    fn bench_samples(self, info: &Info) -> usize {
        info.bench.samples.unwrap_or_else(|| self.sample_size())
    }
}
