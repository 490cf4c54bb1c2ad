//! How noisy the machine was (measured by `concur-measure`'s noise probes): CPU steal time
//! over each suite, how often and how long a spinning thread was stalled, and the cache-line
//! round trip between two threads before and after each suite (on a VM it moves with where
//! the host runs the virtual CPUs). Shown at the top of the report, with a warning above
//! [`STEAL_WARN_PCT`], [`STALL_WARN_PCT`] or [`PLACEMENT_SHIFT`].

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Steal time, as a share of all CPU time during a suite, above which the report warns. The
/// verdicts' margins are 15% (two figures "as fast as" each other) to 25% (parallel or not):
/// a machine that loses 5% of its time to other guests, at moments no one chooses, can move
/// one side of a ratio by a third of the narrowest margin.
pub const STEAL_WARN_PCT: f64 = 5.0;

/// Share of a spinning thread's time lost in stalls above which the report warns (same
/// reasoning as [`STEAL_WARN_PCT`], stricter because the probe is short).
pub const STALL_WARN_PCT: f64 = 2.0;

/// How far the cache-line round trip between two threads may move during a suite (the
/// larger of its before and after figures over the smaller) before the report warns. On
/// the 2-vCPU VM this project is measured on it is either about 60 ns or about 380 ns,
/// switching every few minutes as the host moves its virtual CPUs: a suite measured across
/// a switch compares figures from two different machines.
pub const PLACEMENT_SHIFT: f64 = 1.5;

/// A gap between two consecutive clock reads longer than this counts as a stall (a read takes
/// tens of nanoseconds: a gap this long means the thread was off its CPU).
pub const STALL_THRESHOLD: Duration = Duration::from_micros(50);

/// The machine's noise during a run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Noise {
    /// Steal time per suite.
    pub steal: Vec<SuiteSteal>,
    /// The spin-stall probe, run before the suites.
    pub stall: Option<StallProbe>,
    /// The cache-line round trip before and after each suite (absent from runs older than
    /// the probe, and on a machine with one CPU).
    #[serde(default)]
    pub placement: Vec<SuitePlacement>,
}

/// The cache-line round trip between two threads around one suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuitePlacement {
    /// The suite.
    pub suite: String,
    /// Before it, ns (median of batches).
    pub before_ns: f64,
    /// After it, ns.
    pub after_ns: f64,
}

impl SuitePlacement {
    /// The larger figure over the smaller: how far the round trip moved.
    pub fn shift(&self) -> f64 {
        let (lo, hi) = if self.before_ns <= self.after_ns {
            (self.before_ns, self.after_ns)
        } else {
            (self.after_ns, self.before_ns)
        };
        hi / lo.max(1e-9)
    }
}

/// Steal time over one suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SuiteSteal {
    /// The suite.
    pub suite: String,
    /// Steal time as a percentage of all CPU time (every CPU) during the suite.
    pub steal_pct: f64,
}

/// What a thread that only reads the clock saw.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StallProbe {
    /// How long it spun, seconds.
    pub seconds: f64,
    /// Gaps longer than [`STALL_THRESHOLD`].
    pub stalls: u64,
    /// Their total, as a percentage of the time spun.
    pub stalled_pct: f64,
    /// The longest gap, µs.
    pub max_stall_us: f64,
}

impl Noise {
    /// The suites over which the cache-line round trip moved by [`PLACEMENT_SHIFT`] or more.
    pub fn placement_moved(&self) -> Vec<&SuitePlacement> {
        self.placement
            .iter()
            .filter(|p| p.shift() >= PLACEMENT_SHIFT)
            .collect()
    }

    /// The largest steal share of any suite.
    pub fn max_steal_pct(&self) -> Option<f64> {
        self.steal.iter().map(|s| s.steal_pct).reduce(f64::max)
    }

    /// Why the verdicts may be inconclusive on this machine, if they may.
    pub fn warning(&self) -> Option<String> {
        let mut why = Vec::new();
        if let Some(s) = self.max_steal_pct().filter(|s| *s >= STEAL_WARN_PCT) {
            why.push(format!(
                "other guests took {s:.1}% of the CPU time during a suite (warning at \
                 {STEAL_WARN_PCT}%)"
            ));
        }
        if let Some(p) = self
            .stall
            .as_ref()
            .filter(|p| p.stalled_pct >= STALL_WARN_PCT)
        {
            why.push(format!(
                "a spinning thread lost {:.1}% of its time in stalls (warning at \
                 {STALL_WARN_PCT}%)",
                p.stalled_pct
            ));
        }
        let moved = self.placement_moved();
        if !moved.is_empty() {
            let each: Vec<String> = moved
                .iter()
                .map(|p| format!("{} ({:.0} → {:.0} ns)", p.suite, p.before_ns, p.after_ns))
                .collect();
            why.push(format!(
                "the cache-line round trip between the two CPUs moved by {PLACEMENT_SHIFT}× or \
                 more over {} (the host moved the virtual CPUs): the figures of {}, the \
                 spinning ones above all, may come from two different machines",
                each.join(", "),
                if moved.len() == 1 {
                    "that suite"
                } else {
                    "those suites"
                }
            ));
        }
        (!why.is_empty()).then(|| why.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_above_the_thresholds_only() {
        let mut n = Noise {
            steal: vec![SuiteSteal {
                suite: "cpu_bound".into(),
                steal_pct: 1.0,
            }],
            stall: Some(StallProbe {
                seconds: 1.0,
                stalls: 3,
                stalled_pct: 0.1,
                max_stall_us: 80.0,
            }),
            placement: Vec::new(),
        };
        assert_eq!(n.warning(), None);
        n.steal[0].steal_pct = 7.5;
        assert!(n.warning().unwrap().contains("7.5%"));
        n.steal[0].steal_pct = 1.0;
        n.placement.push(SuitePlacement {
            suite: "ipc".into(),
            before_ns: 62.0,
            after_ns: 80.0,
        });
        assert_eq!(n.warning(), None);
        n.placement.push(SuitePlacement {
            suite: "spawn".into(),
            before_ns: 380.0,
            after_ns: 61.0,
        });
        let why = n.warning().unwrap();
        assert!(why.contains("over spawn (380 → 61 ns)"), "{why}");
        assert!(!why.contains("ipc"), "{why}");
    }
}
