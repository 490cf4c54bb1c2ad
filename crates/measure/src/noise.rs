//! How noisy the machine is: CPU steal time (from `/proc/stat`), how often and how long a
//! spinning thread is stalled, and the cache-line round trip between two threads (on a VM it
//! moves with where the host runs the virtual CPUs). [`SuiteNoise`] takes the readings around
//! one suite; the report's [`Noise`] holds them and says when to warn.

use std::time::{Duration, Instant};

use concur_report::noise::{Noise, STALL_THRESHOLD, StallProbe, SuitePlacement, SuiteSteal};

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

/// The readings taken before a suite: [`SuiteNoise::finish`] takes them again after it and
/// records the difference in a run's [`Noise`].
#[derive(Debug)]
pub struct SuiteNoise {
    line_before: Option<f64>,
    cpu_before: Option<CpuTimes>,
}

impl SuiteNoise {
    /// Reads the cache-line round trip and the CPU times before a suite.
    pub fn start() -> SuiteNoise {
        SuiteNoise {
            line_before: line_round_trip_ns(),
            cpu_before: CpuTimes::read(),
        }
    }

    /// Reads them again after `suite` and adds its steal time and placement to `noise`
    /// (nothing where a reading is missing: no `/proc/stat`, one CPU).
    pub fn finish(self, suite: &str, noise: &mut Noise) {
        if let (Some(before), Some(after)) = (self.cpu_before, CpuTimes::read()) {
            noise.steal.push(SuiteSteal {
                suite: suite.to_owned(),
                steal_pct: after.steal_pct_since(&before),
            });
        }
        if let (Some(before_ns), Some(after_ns)) = (self.line_before, line_round_trip_ns()) {
            noise.placement.push(SuitePlacement {
                suite: suite.to_owned(),
                before_ns,
                after_ns,
            });
        }
    }
}

/// A run's [`Noise`] with the stall probe taken now, for `duration`: the suites add theirs
/// with [`SuiteNoise`].
pub fn before_the_suites(duration: Duration) -> Noise {
    Noise {
        steal: Vec::new(),
        stall: Some(stall_probe(duration)),
        placement: Vec::new(),
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

    #[test]
    fn a_suite_records_its_steal_and_placement() {
        let mut noise = Noise::default();
        let probe = SuiteNoise::start();
        probe.finish("a-suite", &mut noise);
        if CpuTimes::read().is_some() {
            assert_eq!(noise.steal.len(), 1);
            assert_eq!(noise.steal[0].suite, "a-suite");
            assert!((0.0..=100.0).contains(&noise.steal[0].steal_pct));
        }
        if line_round_trip_ns().is_some() {
            assert_eq!(noise.placement[0].suite, "a-suite");
        }
    }
}
