//! Units of work by index across processes and hosts, on
//! [timely-dataflow](https://github.com/TimelyDataflow/timely-dataflow), with a watchdog.
//!
//! Every process of a cluster runs the same program. Process 0 (the caller) submits a job:
//! a few bytes that describe it and a number of units. Every process rebuilds the job from
//! the description, so a large input is built where it is used, never shipped; units are
//! dealt by index (`(index + 1) mod processes`) and run where they land; only descriptions,
//! indices and results cross the network, and the results gather at process 0 in index
//! order.
//!
//! - [`Cluster::local`] starts N processes on this machine (this executable again, each
//!   listening on a free loopback port it chose); they must call [`init`] first thing in
//!   `main`.
//! - [`Cluster::with_hosts`] and [`serve`] run one process per line of a host file
//!   ([`parse_hosts`]) across machines.
//!
//! Timely has no fault tolerance of its own; this crate adds the watchdog. Every member
//! keeps a control connection to process 0 and writes a heartbeat on it: a member that
//! exits or is killed closes it (noticed at once; a local child's exit status names the
//! signal), a host that vanishes falls silent (noticed after [`DETECTION_BOUND`]). Either
//! way the job fails with [`Error::ProcessLost`] naming the process and its host, the local
//! processes are killed and reaped, and a member whose process 0 is gone exits by itself.
//! A process that does not join within [`Options::join_timeout`] is [`Error::JoinTimeout`],
//! a host that never answers is [`Error::Unreachable`].
//!
//! ```no_run
//! use concur_cluster::{Cluster, Options};
//!
//! fn square(_job: &[u8], index: u64) -> Result<Vec<u8>, String> {
//!     Ok((index * index).to_le_bytes().to_vec())
//! }
//!
//! fn main() {
//!     concur_cluster::init(square); // in a process Cluster::local started: serve, exit
//!     let cluster = Cluster::local(2, square, Options::default()).unwrap();
//!     let results = cluster.run(b"squares", 10).unwrap();
//!     assert_eq!(results[3], 9u64.to_le_bytes());
//! }
//! ```

mod cluster;
mod dataflow;
mod hosts;
mod member;
mod pin;
mod wire;

use std::time::Duration;

pub use cluster::{Cluster, FAULT_ENV, WATCHDOG_SPAWN};
pub use dataflow::Runner;
pub use hosts::{Host, HostsError, MAX_PROCESSES, parse_host, parse_hosts};
pub use member::{init, on_exit, serve};

/// Set in the environment of the processes [`Cluster::local`] starts:
/// `INDEX/PROCESSES/HOST:PORT` (process 0's address).
pub const MEMBER_ENV: &str = "CONCUR_CLUSTER_MEMBER";

/// Set in the environment of the processes [`Cluster::local`] starts when
/// [`Options::member_cpu`] names a CPU: the one CPU each of them pins itself to, every
/// thread of it included, before it starts any.
pub const MEMBER_CPU_ENV: &str = "CONCUR_CLUSTER_CPU";

/// The longest a lost process goes unnoticed: a member that exits or is killed is noticed
/// at once (its connections close; a local child is also polled every 20 ms), a host that
/// vanishes without closing them once its heartbeats stop for this long.
pub const DETECTION_BOUND: Duration = wire::SILENT_FOR;

/// How a cluster starts, and how its process waits (each process uses its own).
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How long every process has to join and connect (default 10 s).
    pub join_timeout: Duration,
    /// How long a process's timely worker, after its last work, and process 0's caller,
    /// while it waits for results, keep polling before they block (default 200 µs). They
    /// yield the CPU between polls, so a thread with work to do runs first; polling costs
    /// a few microseconds a turn where waking a blocked thread costs tens on a VM, which
    /// is what a short task pays (one empty task through two processes on a 2-vCPU VM:
    /// 117–127 µs with process 1's worker blocking, 93–102 µs with it polling; see
    /// "Where concur's part goes" in docs/ARCHITECTURE.md). Zero: block at once.
    pub poll_for: Duration,
    /// The one CPU every process [`Cluster::local`] starts runs on, all its threads
    /// included (`None`, the default: wherever the scheduler puts them). Process 0 is not
    /// moved: its threads start on the CPUs of the thread that starts the cluster. With
    /// that thread pinned to one CPU and this set to another, each process has a CPU of its
    /// own, as the members of a cluster across hosts have a machine of their own, and two
    /// runs of it see the same placement (unpinned, whichever threads the scheduler puts
    /// together decides a round trip: 15 or 50 µs for the same relay on a 2-vCPU VM).
    pub member_cpu: Option<usize>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            join_timeout: Duration::from_secs(10),
            poll_for: Duration::from_micros(200),
            member_cpu: None,
        }
    }
}

/// What can go wrong with a cluster.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// A setting is out of range, or the processes disagree on the host list.
    #[error("{0}")]
    Config(String),
    /// The request is past what this machine lets the process start.
    #[error(transparent)]
    Limit(#[from] concur_limits::LimitError),
    /// A system call failed.
    #[error("{what}: {why}")]
    Io {
        /// What was being done.
        what: String,
        /// The operating system's message.
        why: String,
    },
    /// A process did not join or connect in time.
    #[error("{process} did not join within {} s", after.as_secs_f64())]
    JoinTimeout {
        /// Which process, and its host.
        process: String,
        /// The join timeout.
        after: Duration,
    },
    /// A host never answered.
    #[error("could not reach {what} within {} s: {why}", after.as_secs_f64())]
    Unreachable {
        /// Which process, and its host.
        what: String,
        /// The join timeout.
        after: Duration,
        /// The last connection error.
        why: String,
    },
    /// A process exited, was killed, or fell silent: the cluster cannot go on.
    #[error("cluster process {process} ({host}) {why}")]
    ProcessLost {
        /// Its index.
        process: usize,
        /// Where it ran.
        host: String,
        /// How it ended, as far as process 0 can tell.
        why: String,
    },
    /// A unit returned an error.
    #[error("unit {index} failed on cluster process {process}: {message}")]
    Unit {
        /// The unit's index.
        index: u64,
        /// The process it ran on.
        process: usize,
        /// What it said.
        message: String,
    },
    /// Another process broke the protocol.
    #[error("cluster protocol: {0}")]
    Protocol(String),
}

impl Error {
    fn io(what: &str, e: std::io::Error) -> Error {
        Error::Io {
            what: what.to_owned(),
            why: e.to_string(),
        }
    }
}

/// The README's example, compiled as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
