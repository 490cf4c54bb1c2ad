//! The machine a run happened on (read by `concur-measure`'s `detect_machine`).

use serde::{Deserialize, Serialize};

/// What the report says about the machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// `model name` from /proc/cpuinfo.
    pub cpu: String,
    /// Cores this process may use.
    pub cores: usize,
    /// Total memory, GiB.
    pub memory_gib: f64,
    /// Kernel release.
    pub kernel: String,
    /// `rustc --version`.
    pub rustc: String,
    /// The host's name (`/proc/sys/kernel/hostname`): a saved run's file is named by it.
    /// Empty in runs saved before it was recorded.
    #[serde(default)]
    pub host: String,
}
