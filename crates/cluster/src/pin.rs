//! A member's CPU ([`crate::Options::member_cpu`]): the number checked where the cluster
//! starts, and the pinning done in the member, which reads it from its environment.

use rustix::process::Pid;
use rustix::thread::{CpuSet, sched_setaffinity};

use crate::{Error, MEMBER_CPU_ENV};

/// Pins every thread of this process (any started before [`crate::init`], a signal handler's,
/// and so every thread started after) to the CPU [`MEMBER_CPU_ENV`] names, if it is set.
/// The value comes from another process: anything but a CPU number the kernel lets this
/// process run on is an error.
pub(crate) fn pin_from_env() -> Result<(), Error> {
    let Some(value) = std::env::var_os(MEMBER_CPU_ENV) else {
        return Ok(());
    };
    let bad = |why: &str| Error::Config(format!("{MEMBER_CPU_ENV}={value:?}: {why}"));
    let cpu = value
        .to_str()
        .and_then(|v| v.parse::<usize>().ok())
        .ok_or_else(|| bad("not a CPU number"))?;
    check_cpu(cpu).map_err(|e| bad(&e.to_string()))?;
    let mut only = CpuSet::new();
    only.set(cpu);
    let refused = |e: rustix::io::Errno| {
        bad(&format!(
            "the kernel refused to pin this process there: {e}"
        ))
    };
    // This thread first: the one that starts the rest.
    sched_setaffinity(None, &only).map_err(refused)?;
    let tasks = std::fs::read_dir("/proc/self/task")
        .map_err(|e| Error::io("list this process's threads", e))?;
    for tid in tasks
        .flatten()
        .filter_map(|t| t.file_name().to_str()?.parse::<i32>().ok())
    {
        match sched_setaffinity(Pid::from_raw(tid), &only) {
            // A thread that ended since it was listed.
            Ok(()) | Err(rustix::io::Errno::SRCH) => {}
            Err(e) => return Err(refused(e)),
        }
    }
    Ok(())
}

/// Whether `cpu` can name a CPU at all ([`crate::Options::member_cpu`]): below the size of the
/// kernel's CPU set. (Whether this machine has it, the kernel says when a member pins
/// itself.)
pub(crate) fn check_cpu(cpu: usize) -> Result<(), Error> {
    if cpu >= CpuSet::MAX_CPU {
        return Err(Error::Config(format!(
            "CPU {cpu}: not a CPU number below {}",
            CpuSet::MAX_CPU
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cpu_number_must_fit_the_kernel_s_set() {
        assert!(check_cpu(0).is_ok());
        assert!(check_cpu(CpuSet::MAX_CPU - 1).is_ok());
        let e = check_cpu(CpuSet::MAX_CPU).unwrap_err();
        assert!(matches!(e, Error::Config(_)), "{e}");
        assert!(e.to_string().contains("not a CPU number"), "{e}");
    }
}
