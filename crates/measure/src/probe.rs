//! Resource readings: CPU time and peak RSS from getrusage, PSS of a process tree from
//! `/proc/<pid>/smaps_rollup`.
//!
//! PSS (proportional set size) charges each shared page to its sharers in equal parts, so the
//! PSS of a process tree counts memory shared between processes once: it is the figure that
//! tells threads, worker processes and shared memory apart.

use std::fs;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use nix::sys::resource::{UsageWho, getrusage};

/// CPU time (user + system) used so far by this process, its reaped children, and its live
/// descendants (read from `/proc/<pid>/stat`, so long-lived pool workers count too).
///
/// The difference of two readings is the CPU the whole tree spent in between: a child's time
/// moves from the live sum to the reaped total when it is waited for, so it counts once.
pub fn cpu_time() -> Duration {
    let own: Duration = [UsageWho::RUSAGE_SELF, UsageWho::RUSAGE_CHILDREN]
        .into_iter()
        .filter_map(|who| getrusage(who).ok())
        .map(|u| timeval(u.user_time()) + timeval(u.system_time()))
        .sum();
    own + live_descendants_cpu_time()
}

/// CPU time (user + system) of this process's live descendants so far.
pub fn live_descendants_cpu_time() -> Duration {
    descendants(std::process::id())
        .into_iter()
        .filter_map(process_cpu_time)
        .sum()
}

/// User + system time of one live process, from `/proc/<pid>/stat`.
pub fn process_cpu_time(pid: u32) -> Option<Duration> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat_cpu_ticks(&stat).map(|ticks| Duration::from_secs_f64(ticks as f64 / clock_ticks()))
}

/// utime + stime, in clock ticks, from a `/proc/<pid>/stat` line. The command name (field 2)
/// may contain spaces and parentheses, so fields are counted from the last `)`.
fn parse_stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // after[0] is field 3 (state); utime and stime are fields 14 and 15.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks() -> f64 {
    use nix::unistd::{SysconfVar, sysconf};
    match sysconf(SysconfVar::CLK_TCK) {
        Ok(Some(t)) if t > 0 => t as f64,
        _ => 100.0, // USER_HZ on every Linux architecture.
    }
}

/// Peak RSS (`VmHWM`) of one live process, in bytes.
pub fn process_peak_rss_bytes(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_rollup_kib(&status, "VmHWM:").map(|kib| kib * 1024)
}

/// Peak RSS of the largest process among this one and its waited-for children (live
/// descendants are covered by [`PssSampler`]).
pub fn peak_rss_bytes() -> u64 {
    [UsageWho::RUSAGE_SELF, UsageWho::RUSAGE_CHILDREN]
        .into_iter()
        .filter_map(|who| getrusage(who).ok())
        .map(|u| u64::try_from(u.max_rss()).unwrap_or(0) * 1024) // Linux reports KiB.
        .max()
        .unwrap_or(0)
}

fn timeval(tv: nix::sys::time::TimeVal) -> Duration {
    let secs = u64::try_from(tv.tv_sec()).unwrap_or(0);
    let micros = u32::try_from(tv.tv_usec()).unwrap_or(0);
    Duration::new(secs, micros * 1000)
}

/// PSS of one process in bytes, or `None` if it is gone or unreadable.
pub fn pss_bytes(pid: u32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    parse_rollup_kib(&text, "Pss:").map(|kib| kib * 1024)
}

/// The value in KiB of the line starting with `key` in a smaps_rollup or status text.
fn parse_rollup_kib(text: &str, key: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Every live descendant of `pid` (children, grandchildren, ...), found through
/// `/proc/<pid>/task/<tid>/children`.
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(p) = frontier.pop() {
        let Ok(tasks) = fs::read_dir(format!("/proc/{p}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let path = task.path().join("children");
            let Ok(list) = fs::read_to_string(path) else {
                continue;
            };
            for child in list.split_whitespace().filter_map(|c| c.parse().ok()) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

/// PSS of `pid` and all its descendants, in bytes.
pub fn tree_pss_bytes(pid: u32) -> u64 {
    let pids: Vec<u32> = std::iter::once(pid).chain(descendants(pid)).collect();
    summed_pss_bytes(&pids)
}

/// The summed PSS of `pids`, read as if at one instant.
///
/// Reading the processes one after another is not atomic: while a worker touches pages of
/// an input it shares with the parent, the parent's share shrinks as the worker's grows, so
/// a parent read *before* the worker over-counts the shared pages (a 256 MiB input mapped
/// by three processes summed to 1.4 copies in a 20 ms run). So each process is read twice,
/// in a forward then a reverse sweep, and the two readings are averaged: every process's
/// reading is then centred on the same instant, the middle of the sweep, and changes that
/// are steady during the sweep cancel out.
pub fn summed_pss_bytes(pids: &[u32]) -> u64 {
    let forward: Vec<Option<u64>> = pids.iter().map(|&p| pss_bytes(p)).collect();
    let mut total = 0;
    for (i, &p) in pids.iter().enumerate().rev() {
        total += match (forward[i], pss_bytes(p)) {
            (Some(a), Some(b)) => (a + b) / 2,
            (a, b) => a.or(b).unwrap_or(0), // Started or ended mid-sweep.
        };
    }
    total
}

/// What a [`PssSampler`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Peaks {
    /// Peak PSS of the whole tree, bytes.
    pub tree_pss_bytes: u64,
    /// Largest `VmHWM` of any live descendant seen, bytes.
    pub descendant_rss_bytes: u64,
}

/// Samples the PSS of this process's tree on a background thread and keeps the peak, along
/// with the largest peak RSS of any descendant (live workers are not in getrusage yet).
#[derive(Debug)]
pub struct PssSampler {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<Peaks>,
}

impl PssSampler {
    /// Starts sampling every `interval`, or less often when one sample takes more than a
    /// twentieth of it (the first sample is taken at once).
    pub fn start(interval: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let me = std::process::id();
        let handle = thread::Builder::new()
            .name("concur-pss-sampler".into())
            .spawn(move || {
                let mut peaks = Peaks::default();
                loop {
                    let started = std::time::Instant::now();
                    let tree: Vec<u32> = std::iter::once(me).chain(descendants(me)).collect();
                    let pss = summed_pss_bytes(&tree);
                    let rss = tree[1..]
                        .iter()
                        .filter_map(|&p| process_peak_rss_bytes(p))
                        .max();
                    peaks.tree_pss_bytes = peaks.tree_pss_bytes.max(pss);
                    peaks.descendant_rss_bytes = peaks.descendant_rss_bytes.max(rss.unwrap_or(0));
                    if flag.load(Ordering::Acquire) {
                        return peaks;
                    }
                    // Reading smaps_rollup walks every page table of the tree: for a large
                    // tree that takes milliseconds of kernel time. Sleep at least 20 times
                    // as long as the reading took, so the probe stays under 5% of a core.
                    thread::park_timeout(interval.max(started.elapsed() * 20));
                }
            })?;
        Ok(PssSampler { stop, handle })
    }

    /// Takes a last sample, stops, and returns the peaks seen.
    pub fn finish(self) -> Peaks {
        self.stop.store(true, Ordering::Release);
        self.handle.thread().unpark();
        self.handle.join().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_smaps_rollup() {
        let text = "55d0-7ffd ---p 00000000 00:00 0  [rollup]\nRss:  2048 kB\nPss:  1234 kB\nPss_Anon:  10 kB\n";
        assert_eq!(parse_rollup_kib(text, "Pss:"), Some(1234));
        assert_eq!(parse_rollup_kib(text, "Swap:"), None);
    }

    #[test]
    fn this_process_has_pss_and_cpu_time() {
        let me = std::process::id();
        let pss = pss_bytes(me).expect("smaps_rollup is readable");
        assert!(pss > 0);
        // Two readings at different instants are not comparable (the other tests of this
        // binary allocate and free meanwhile): the tree's sum only has to find this process.
        assert!(tree_pss_bytes(me) > 0);
        assert!(peak_rss_bytes() > 0);
        let t0 = cpu_time();
        let mut x = 0u64;
        for i in 0..5_000_000u64 {
            x = std::hint::black_box(x.wrapping_add(i * i));
        }
        assert!(cpu_time() > t0, "{x}");
    }

    #[test]
    fn parses_stat_lines_with_awkward_names() {
        let stat = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 99 1 1";
        assert_eq!(parse_stat_cpu_ticks(stat), Some(300));
        assert_eq!(parse_stat_cpu_ticks("garbage"), None);
    }

    #[test]
    fn counts_a_live_childs_cpu_and_rss() {
        let mut child = std::process::Command::new("sh")
            .args([
                "-c",
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5",
            ])
            .spawn()
            .unwrap();
        // On a loaded machine the child may wait for a CPU: wait until its time shows, up to
        // a bound that only says "never counted".
        let t0 = live_descendants_cpu_time();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut spent = Duration::ZERO;
        while spent < Duration::from_millis(20) && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
            spent = live_descendants_cpu_time().saturating_sub(t0);
        }
        let rss = process_peak_rss_bytes(child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        // Only the child counts here (other tests' threads share this process's own time).
        assert!(
            spent >= Duration::from_millis(20),
            "the busy child's CPU counts: {spent:?}"
        );
        assert!(rss.is_some_and(|r| r > 0));
    }

    #[test]
    fn sees_a_child_process() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .unwrap();
        let kids = descendants(std::process::id());
        let found = kids.contains(&child.id());
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(found, "{kids:?} lacks {}", child.id());
    }

    #[test]
    fn sampler_sees_an_allocation() {
        let sampler = PssSampler::start(Duration::from_millis(1)).unwrap();
        // Written, so every page is resident and private: this process's PSS holds all of
        // it while it lives. (Not compared with a reading taken before: the other tests of
        // this binary allocate and free meanwhile.)
        let big = vec![1u8; 64 << 20];
        thread::sleep(Duration::from_millis(30));
        // `finish` takes a last sample, and `big` is still alive then.
        let peak = sampler.finish().tree_pss_bytes;
        assert!(peak >= 64 << 20, "peak {peak}");
        drop(std::hint::black_box(big));
    }
}
