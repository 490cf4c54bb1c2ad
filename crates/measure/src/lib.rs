//! concur's measuring instruments: what a process and the machine cost and how noisy the
//! machine is, read from the kernel. Everything here reads; nothing here decides (the
//! report's verdicts read these figures).
//!
//! - [`probe`]: CPU time and peak RSS (getrusage), PSS of a process tree
//!   (`/proc/<pid>/smaps_rollup`), sampled while a run goes.
//! - [`noise`]: steal time, spin stalls and the cache-line round trip around each suite.
//! - [`detect_machine`], [`git_revision`], [`now_rfc3339`], [`this_run`]: what and when a run
//!   measured.
//! - [`Summary`]: order statistics over samples (median, p99), never a lone mean.
//!
//! ```
//! use concur_measure::{Summary, noise::SuiteNoise, this_run};
//! use concur_report::Profile;
//!
//! let mut run = this_run(Profile::Quick);
//! let probe = SuiteNoise::start();
//! let s = Summary::of(&[3.0, 1.0, 2.0]).unwrap();
//! assert_eq!(s.median, 2.0);
//! probe.finish("example", run.noise.get_or_insert_with(Default::default));
//! assert!(run.machine.cores >= 1);
//! ```

mod machine;
pub mod noise;
pub mod probe;
mod stats;

pub use machine::{detect_machine, git_revision, now_rfc3339};
pub use stats::Summary;

use concur_report::{Profile, RunData};

/// An empty run of `profile` on this machine, started now, at the working directory's git
/// revision: fill in what was measured.
pub fn this_run(profile: Profile) -> RunData {
    RunData {
        started_at: now_rfc3339(),
        git_revision: git_revision(),
        ..RunData::new(profile, detect_machine())
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
