//! How noisy the machine is: CPU steal time (from `/proc/stat`) over each suite, a short
//! probe of how often and how long a spinning thread is stalled, and the cache-line round
//! trip between two threads before and after each suite (on a VM it moves with where the
//! host runs the virtual CPUs). Shown at the top of the report, with a warning above
//! [`STEAL_WARN_PCT`], [`STALL_WARN_PCT`] or [`PLACEMENT_SHIFT`].

use std::time::{Duration, Instant};

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

/// Jiffies since boot from `/proc/stat`'s `cpu` line: (steal, total).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTimes {
    steal: u64,
    total: u64,
}

impl CpuTimes {
    /// Reads `/proc/stat` (`None` where there is none).
    pub fn read() -> Option<CpuTimes> {
        parse_stat(&std::fs::read_to_string("/proc/stat").ok()?)
    }

    /// Steal as a percentage of all CPU time between `earlier` and `self`.
    pub fn steal_pct_since(&self, earlier: &CpuTimes) -> f64 {
        let total = self.total.saturating_sub(earlier.total);
        if total == 0 {
            return 0.0;
        }
        100.0 * self.steal.saturating_sub(earlier.steal) as f64 / total as f64
    }
}

/// The aggregate `cpu` line: user nice system idle iowait irq softirq steal [guest …].
fn parse_stat(text: &str) -> Option<CpuTimes> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().ok())
        .collect::<Option<_>>()?;
    // Guest time is already counted in user and nice.
    let total = fields.iter().take(8).sum();
    Some(CpuTimes {
        steal: *fields.get(7)?,
        total,
    })
}

/// Spins for `duration` reading the clock and records the gaps longer than
/// [`STALL_THRESHOLD`].
pub fn stall_probe(duration: Duration) -> StallProbe {
    let start = Instant::now();
    let mut last = start;
    let (mut stalls, mut stalled, mut max) = (0u64, Duration::ZERO, Duration::ZERO);
    loop {
        let now = Instant::now();
        let gap = now - last;
        if gap > STALL_THRESHOLD {
            stalls += 1;
            stalled += gap;
            max = max.max(gap);
        }
        last = now;
        if now - start >= duration {
            break;
        }
    }
    let seconds = (last - start).as_secs_f64();
    StallProbe {
        seconds,
        stalls,
        stalled_pct: 100.0 * stalled.as_secs_f64() / seconds.max(1e-9),
        max_stall_us: max.as_secs_f64() * 1e6,
    }
}

/// The round trip of one cache line between two threads spinning on it, ns: the median of
/// 15 batches of 20 000 bounces (about 30 ms on an idle machine). `None` with one CPU, where
/// the two threads would only take turns.
pub fn line_round_trip_ns() -> Option<f64> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};
    if std::thread::available_parallelism().map_or(1, |n| n.get()) < 2 {
        return None;
    }
    /// Ping and pong on lines of their own.
    #[repr(C, align(128))]
    struct Line(AtomicU32);
    const BOUNCES: u32 = 20_000;
    const BATCHES: usize = 15;
    let words = Arc::new([Line(AtomicU32::new(0)), Line(AtomicU32::new(0))]);
    let echo = {
        let words = Arc::clone(&words);
        std::thread::spawn(move || {
            for i in 1..=BOUNCES * BATCHES as u32 {
                while words[0].0.load(Ordering::Acquire) != i {
                    std::hint::spin_loop();
                }
                words[1].0.store(i, Ordering::Release);
            }
        })
    };
    let mut batches = Vec::with_capacity(BATCHES);
    let mut i = 0;
    for _ in 0..BATCHES {
        let t = Instant::now();
        for _ in 0..BOUNCES {
            i += 1;
            words[0].0.store(i, Ordering::Release);
            while words[1].0.load(Ordering::Acquire) != i {
                std::hint::spin_loop();
            }
        }
        batches.push(t.elapsed().as_nanos() as f64 / f64::from(BOUNCES));
    }
    echo.join().ok()?;
    batches.sort_by(f64::total_cmp);
    Some(batches[BATCHES / 2])
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
    fn reads_steal_from_proc_stat() {
        let a = parse_stat("cpu  100 0 50 800 10 0 5 20 0 0\ncpu0 1 2 3\n").unwrap();
        let b = parse_stat("cpu  150 0 70 1000 10 0 5 40 0 0\n").unwrap();
        assert_eq!(
            a,
            CpuTimes {
                steal: 20,
                total: 985
            }
        );
        // 20 stolen of 290 jiffies.
        assert!((b.steal_pct_since(&a) - 100.0 * 20.0 / 290.0).abs() < 1e-9);
        assert!(parse_stat("intr 1 2 3").is_none());
    }

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

    #[test]
    fn the_line_probe_measures_a_round_trip() {
        if let Some(ns) = line_round_trip_ns() {
            assert!(ns > 0.0 && ns.is_finite(), "{ns}");
        }
    }

    #[test]
    fn the_probe_spins_for_its_duration() {
        let p = stall_probe(Duration::from_millis(20));
        assert!(p.seconds >= 0.02 && p.stalled_pct <= 100.0);
    }
}
