//! Everything `concur pingpong` times: the channels and floors of [`crate::pingpong`], and
//! `MODEL-task`: one empty task through a model whose transport is one of the ping-pong
//! channels (`process-pool` over `ipc-channel`, `shm-pool` over `shm-futex`, `cluster` over
//! `tcp`), timed as a round trip. `benches/ipc.rs` benches these beside the channels, and
//! [`open`] lets `concur pingpong` (and its paired rounds, `--against`) time them like any
//! channel, so a pool's overhead over its channel is read from times taken back to back.

use std::io;

use concur_workloads::{AnyWorkload, Batch, Echo, Params, Sleep};

use crate::Model;
use crate::pingpong::{PingPongReport, RoundTrip, channels, transport_workers};
use crate::runner::reference_checksum;

/// The empty task: a zero-millisecond sleep.
static EMPTY: Sleep = Sleep;

/// The function in `ipc/pingpong` that sends one empty task through `model`.
pub fn pool_task(model: &str) -> String {
    format!("{model}-task")
}

/// The model whose pool task `name` is, when it is one (`cluster-task` → `cluster`).
pub fn pool_task_model(name: &str) -> Option<&'static str> {
    channels()
        .iter()
        .filter_map(|c| c.transport_of)
        .find(|m| pool_task(m) == name)
}

/// Every pool task's name, in channel order.
pub fn pool_task_names() -> Vec<String> {
    channels()
        .iter()
        .filter_map(|c| c.transport_of)
        .map(pool_task)
        .collect()
}

/// Whether `name` is something [`open`] opens: a channel, a floor or a pool task.
pub fn is_round_trip(name: &str) -> bool {
    crate::pingpong::channel(name).is_some() || pool_task_model(name).is_some()
}

/// `unknown channel 'x' (valid: …; floors: …; pool tasks: …)`, for an error message.
pub fn unknown_round_trip(name: &str) -> String {
    format!(
        "{}; pool tasks: {})",
        crate::pingpong::unknown_channel(name).trim_end_matches(')'),
        pool_task_names().join(", ")
    )
}

/// Opens a channel or floor ([`crate::pingpong::open`]) or, for a pool task, starts its
/// model with the workers its benchmark uses ([`transport_workers`]).
pub fn open(name: &str) -> io::Result<Box<dyn RoundTrip>> {
    match pool_task_model(name) {
        Some(model) => Ok(Box::new(TaskPeer::start(model)?)),
        None => crate::pingpong::open(name),
    }
}

/// Opens `name` ([`open`]) and times `round_trips` round trips of `bytes` bytes through it,
/// one sample per round trip (`concur pingpong`).
pub fn pingpong(name: &str, round_trips: usize, bytes: usize) -> io::Result<PingPongReport> {
    let mut peer = open(name)?;
    crate::pingpong::time_round_trips(name, peer.as_mut(), round_trips, bytes)
}

/// A started pool and the empty batch it runs, with sequential's checksum of it.
struct TaskPeer {
    model: Box<dyn Model>,
    batch: Batch,
    expected: u64,
}

impl TaskPeer {
    fn start(name: &'static str) -> io::Result<TaskPeer> {
        let spec = crate::model(name).expect("a pool task names a registered model");
        let batch = EMPTY
            .prepare(&Params { tasks: 1, size: 0 })
            .map_err(|e| io::Error::other(e.to_string()))?;
        let expected = reference_checksum(&batch).map_err(|e| io::Error::other(e.to_string()))?;
        let model = spec
            .build(transport_workers(name))
            .map_err(|e| io::Error::other(format!("{name} did not start: {e}")))?;
        Ok(TaskPeer {
            model,
            batch,
            expected,
        })
    }
}

impl RoundTrip for TaskPeer {
    /// Runs the empty task once and checks its result; the payload is not sent (a pool
    /// task carries no message of the caller's).
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        let outputs = self
            .model
            .run(&self.batch, Echo::Off)
            .map_err(|e| io::Error::other(format!("{}: {e}", self.model.name())))?;
        if self.batch.checksum_of(&outputs) != self.expected {
            return Err(io::Error::other(format!(
                "{} gave a wrong result for the empty task",
                self.model.name()
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_tasks_name_their_models() {
        assert_eq!(
            pool_task_model(&pool_task(crate::names::CLUSTER)),
            Some(crate::names::CLUSTER)
        );
        assert_eq!(pool_task_model("tcp"), None);
        assert_eq!(pool_task_model("sequential-task"), None);
        assert!(is_round_trip("tcp") && is_round_trip("shm-pool-task"));
        assert!(!is_round_trip("nope-task"));
        let msg = unknown_round_trip("nope");
        assert!(msg.contains("pool tasks: ") && msg.contains("process-pool-task"));
        assert!(msg.ends_with(')'), "{msg}");
    }
}
