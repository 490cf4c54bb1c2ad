//! Describing how a process ended.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use nix::sys::signal::Signal;

/// `exited with status 101`, `was killed by signal 9 (SIGKILL)`, ...
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(sig) = status.signal() {
        let name = Signal::try_from(sig).map_or("unknown signal", Signal::as_str);
        let core = if status.core_dumped() {
            ", core dumped"
        } else {
            ""
        };
        return format!("was killed by signal {sig} ({name}{core})");
    }
    match status.code() {
        Some(101) => "exited with status 101 (a Rust panic)".to_owned(),
        Some(code) => format!("exited with status {code}"),
        None => format!("ended with {status}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_signals_and_codes() {
        assert_eq!(
            describe_status(ExitStatus::from_raw(9)),
            "was killed by signal 9 (SIGKILL)"
        );
        assert_eq!(
            describe_status(ExitStatus::from_raw(101 << 8)),
            "exited with status 101 (a Rust panic)"
        );
        assert_eq!(
            describe_status(ExitStatus::from_raw(3 << 8)),
            "exited with status 3"
        );
        assert!(describe_status(ExitStatus::from_raw(6 | 0x80)).contains("SIGABRT, core dumped"));
    }
}
