//! What this machine lets one process start, checked before starting it.
//!
//! Starting N threads or processes fails in different ways past different limits, some of
//! them fatal: every thread Rust starts maps its stack and a signal stack, and once a process
//! reaches `vm.max_map_count` mappings the standard library cannot set up the next thread's
//! signal stack and *aborts the process* (`failed to set up alternative stack guard page`);
//! past `kernel.threads-max` or `RLIMIT_NPROC` the spawn fails; past `RLIMIT_NOFILE` a
//! process pool runs out of descriptors for its channels. [`threads`] and [`processes`]
//! compare a request with what is left (read from `/proc` and `getrlimit`, so nothing is
//! started) and refuse
//! it with a [`LimitError`] naming the limit, its value, what is in use, and how to raise it.
//!
//! What is in use can change after the check (another program's threads count against
//! `threads-max`), so the spawns themselves must still handle failure; the check is what
//! turns the abort, which cannot be handled, into an error.
//!
//! ```
//! concur_limits::threads(4).unwrap();
//! let e = concur_limits::threads(1_000_000_000).unwrap_err();
//! assert!(e.to_string().contains("1000000000 threads"));
//! ```

use rustix::process::Resource;

/// Memory mappings one thread costs: its stack with its guard page, and the signal stack
/// with its guard page the standard library maps for it (the kernel merges some of them;
/// measured: 32 708 threads filled a `vm.max_map_count` of 65 530).
pub const MAPS_PER_THREAD: u64 = 2;

/// Mappings left free for everything else the process maps meanwhile (allocator arenas,
/// libraries, channels).
pub const MAP_MARGIN: u64 = 1024;

/// Threads the rest of the system may start meanwhile, kept free under `threads-max`.
pub const THREAD_MARGIN: u64 = 256;

/// The default stack of a thread Rust starts (`std::thread`), for `RLIMIT_AS`.
pub const THREAD_STACK: u64 = 2 << 20;

/// A request that would cross a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{wanted} {what} would exceed {limit} = {value} ({in_use} in use here, room for about {room}); {raise}"
)]
pub struct LimitError {
    /// What was asked for: "threads", "processes".
    pub what: &'static str,
    /// How many.
    pub wanted: u64,
    /// The limit's name: `vm.max_map_count`, `kernel.threads-max`, `RLIMIT_NPROC`, ….
    pub limit: &'static str,
    /// Its value.
    pub value: u64,
    /// What already counts against it.
    pub in_use: u64,
    /// How many more fit.
    pub room: u64,
    /// How to raise it.
    pub raise: &'static str,
}

/// Checks that this process can start `n` more threads: memory maps (`vm.max_map_count`,
/// per process), threads system-wide (`kernel.threads-max`), this user's processes and
/// threads (`RLIMIT_NPROC`) and the address space for their stacks (`RLIMIT_AS`).
pub fn threads(n: usize) -> Result<(), LimitError> {
    let n = n as u64;
    if let (Some(max), Some(used)) = (read_u64("/proc/sys/vm/max_map_count"), maps_in_use()) {
        let room = max.saturating_sub(used + MAP_MARGIN) / MAPS_PER_THREAD;
        check(
            "threads",
            n,
            room,
            "vm.max_map_count",
            max,
            used,
            "raise it with `sysctl -w vm.max_map_count=1048576` (as root), or ask for fewer workers",
        )?;
    }
    threads_max("threads", n)?;
    nproc("threads", n)?;
    if let Some(max) = soft_limit(Resource::As)
        && let Some(used) = vm_size()
    {
        let room = max.saturating_sub(used) / THREAD_STACK;
        check(
            "threads",
            n,
            room,
            "RLIMIT_AS (bytes)",
            max,
            used,
            "raise it with `ulimit -v unlimited`, or ask for fewer workers",
        )?;
    }
    Ok(())
}

/// Checks that this process can start `n` more processes, each costing it
/// `fds_per_process` descriptors: this user's processes (`RLIMIT_NPROC`), threads
/// system-wide (`kernel.threads-max`: a process is a thread too) and this process's
/// descriptors (`RLIMIT_NOFILE`).
pub fn processes(n: usize, fds_per_process: usize) -> Result<(), LimitError> {
    let n = n as u64;
    nproc("processes", n)?;
    threads_max("processes", n)?;
    if let Some(max) = soft_limit(Resource::Nofile)
        && let Some(used) = fds_in_use()
    {
        let per = (fds_per_process as u64).max(1);
        let room = max.saturating_sub(used + 64) / per;
        check(
            "processes",
            n,
            room,
            "RLIMIT_NOFILE",
            max,
            used,
            "raise it with `ulimit -n` (up to the hard limit), or ask for fewer workers",
        )?;
    }
    Ok(())
}

/// Threads in the whole system, `kernel.threads-max` (a process counts as one), with room
/// kept for the rest of the system.
fn threads_max(what: &'static str, n: u64) -> Result<(), LimitError> {
    if let (Some(max), Some(used)) = (
        read_u64("/proc/sys/kernel/threads-max"),
        threads_in_system(),
    ) {
        let room = max.saturating_sub(used + THREAD_MARGIN);
        check(
            what,
            n,
            room,
            "kernel.threads-max",
            max,
            used,
            "raise it with `sysctl -w kernel.threads-max=...` (as root), or ask for fewer workers",
        )?;
    }
    Ok(())
}

/// This user's processes and threads, `RLIMIT_NPROC` (only when it is set: root and most
/// users have it unlimited or far above the rest).
fn nproc(what: &'static str, n: u64) -> Result<(), LimitError> {
    if let Some(max) = soft_limit(Resource::Nproc) {
        // What counts is every thread of this user; this process's are a lower bound, so
        // the check is a floor, not a promise.
        let used = threads_here().unwrap_or(1);
        let room = max.saturating_sub(used);
        check(
            what,
            n,
            room,
            "RLIMIT_NPROC",
            max,
            used,
            "raise it with `ulimit -u` (up to the hard limit), or ask for fewer workers",
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn check(
    what: &'static str,
    wanted: u64,
    room: u64,
    limit: &'static str,
    value: u64,
    in_use: u64,
    raise: &'static str,
) -> Result<(), LimitError> {
    if wanted <= room {
        return Ok(());
    }
    Err(LimitError {
        what,
        wanted,
        limit,
        value,
        in_use,
        room,
        raise,
    })
}

fn read_u64(path: &str) -> Option<u64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Mappings of this process: the lines of `/proc/self/maps`.
fn maps_in_use() -> Option<u64> {
    let maps = std::fs::read("/proc/self/maps").ok()?;
    Some(maps.iter().filter(|&&b| b == b'\n').count() as u64)
}

/// Threads in the whole system: the total of `/proc/loadavg`'s `running/total` field.
fn threads_in_system() -> Option<u64> {
    let load = std::fs::read_to_string("/proc/loadavg").ok()?;
    load.split_whitespace()
        .nth(3)?
        .split('/')
        .nth(1)?
        .parse()
        .ok()
}

/// This process's threads: `num_threads`, field 20 of `/proc/self/stat` (a tenth of the
/// cost of `/proc/self/status`, which also sums up the memory maps).
fn threads_here() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 2, the command, is in parentheses and may hold spaces: count after its end.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(17)?.parse().ok()
}

/// `VmSize:` of `/proc/self/status`, bytes.
fn vm_size() -> Option<u64> {
    status_field("VmSize:").map(|kib| kib * 1024)
}

fn status_field(name: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(name))?;
    line[name.len()..].split_whitespace().next()?.parse().ok()
}

/// Open descriptors of this process: the entries of `/proc/self/fd`.
fn fds_in_use() -> Option<u64> {
    Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as u64)
}

/// The soft value of resource limit `which` (`getrlimit`, no file to read: a pool checks
/// limits every time it starts), `None` when unlimited.
fn soft_limit(which: Resource) -> Option<u64> {
    rustix::process::getrlimit(which).current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_requests_pass_and_huge_ones_name_a_limit() {
        threads(8).unwrap();
        processes(8, 4).unwrap();
        let e = threads(10_000_000_000).unwrap_err();
        assert_eq!((e.what, e.wanted), ("threads", 10_000_000_000));
        assert!(e.room < e.wanted, "{e}");
        assert!(e.to_string().contains(e.limit), "{e}");
        assert!(e.to_string().contains("raise it"), "{e}");
        let e = processes(10_000_000_000, 4).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("10000000000 processes would exceed"),
            "{e}"
        );
    }

    #[test]
    fn the_map_limit_is_what_stops_tens_of_thousands_of_threads_here() {
        // The figure issue 17 met: 40 000 threads on a machine whose vm.max_map_count is
        // 65 530 abort; the check refuses them first, naming the limit.
        let Some(max) = read_u64("/proc/sys/vm/max_map_count") else {
            return;
        };
        let too_many = (max / MAPS_PER_THREAD + 1) as usize;
        let e = threads(too_many).unwrap_err();
        assert_eq!(e.limit, "vm.max_map_count", "{e}");
        assert_eq!(e.value, max);
    }

    #[test]
    fn proc_files_parse() {
        assert!(maps_in_use().unwrap() > 5);
        assert!(threads_in_system().unwrap() >= 1);
        assert!(threads_here().unwrap() >= 1);
        assert!(fds_in_use().unwrap() >= 3);
    }
}

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
