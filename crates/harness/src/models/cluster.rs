//! The model that deals tasks to timely-dataflow processes over TCP: `cluster` (what each
//! of its processes runs is `crate::cluster`).

use concur_channels::Channel;
use concur_workloads::{Batch, Cx, Echo, TaskError, TaskOutput};

use super::processes::decode_outputs;
use super::{Family, Model, ModelError, ModelSpec, Transport, names};

/// This file's models.
pub(super) static SPECS: &[ModelSpec] = &[ModelSpec {
        name: names::CLUSTER,
        summary: "WORKERS timely-dataflow processes over TCP, this one process 0 (the others started again here, or on other hosts with --hosts); each rebuilds the batch, units dealt by index (multiprocessing across machines)",
        family: Family::Processes,
        per_task: false,
        maps_shared_input: false,
        idle: None,
        transport: // Two processes: unit 0 runs on process 1 (process 0 is the caller). A unit
        // is handed by the caller to process 0's worker and rides timely's relay (a send and
        // a receive thread a side around the TCP connection), which `tcp-relay` does with a
        // word; concur adds the job and the unit's result, timely its dataflow and progress
        // tracking.
        Some(Transport {
            channel: Channel::TcpRelay,
            workers: 2,
            target: 1.5,
            pool_work: false,
        }),
        build: |k| Ok(Box::new(ClusterModel::local(k)?)),
        spawn_join_one: ClusterModel::spawn_join_one,
    }];

/// A cluster of this process and one other, as `cluster` starts it, for its echo (the
/// `cluster-echo` round trip).
pub(crate) struct ClusterOfTwo(ClusterModel);

/// Starts a [`ClusterOfTwo`].
pub(crate) fn cluster_of_two() -> Result<ClusterOfTwo, ModelError> {
    Ok(ClusterOfTwo(ClusterModel::local(2)?))
}

impl ClusterOfTwo {
    /// `n` empty units bounced to the other process and back, as its worker timed them
    /// ([`concur_cluster::Cluster::echo`]).
    pub(crate) fn echo(&self, n: u64) -> std::io::Result<std::time::Duration> {
        self.0
            .0
            .echo(n)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// `cluster`: units dealt by index to timely-dataflow processes (`crate::cluster` is what
/// each of them runs).
pub(crate) struct ClusterModel(concur_cluster::Cluster);

impl ClusterModel {
    /// `workers` processes on this machine (this one is process 0). Started while a CPU
    /// pair is pinned ([`concur_channels::pin::Pinned`]: `concur pingpong`'s paired rounds),
    /// the others run on the pair's other CPU, as an echo child does, and process 0's
    /// threads on this thread's one CPU: a process a CPU, in one placement.
    pub(crate) fn local(workers: usize) -> Result<Self, ModelError> {
        let options = concur_cluster::Options {
            member_cpu: concur_channels::pin::child_cpu(),
            ..concur_cluster::Options::default()
        };
        Ok(ClusterModel::holding(concur_cluster::Cluster::local(
            workers,
            crate::cluster::run_unit,
            options,
        )?))
    }

    /// The model around a started cluster, counted among this process's live ones.
    fn holding(cluster: concur_cluster::Cluster) -> ClusterModel {
        crate::cluster::hold_model();
        ClusterModel(cluster)
    }

    /// Starts one other process the way the model does, and ends it: a two-process cluster.
    fn spawn_join_one() -> Result<(), ModelError> {
        drop(ClusterModel::local(2)?);
        Ok(())
    }
}

/// The `cluster` model across the hosts of a host file (this process is process 0, at the
/// first line; the others run `concur cluster-worker`).
pub(crate) fn cluster_with_hosts(
    hosts: Vec<concur_cluster::Host>,
) -> Result<Box<dyn Model>, ModelError> {
    Ok(Box::new(ClusterModel::holding(
        concur_cluster::Cluster::with_hosts(
            hosts,
            crate::cluster::run_unit,
            concur_cluster::Options::default(),
        )?,
    )))
}

impl Drop for ClusterModel {
    fn drop(&mut self) {
        // The batch kept for this process's own units (and its temporary files), unless
        // another cluster model of this process still runs units on it.
        crate::cluster::release_model();
    }
}

impl Model for ClusterModel {
    fn name(&self) -> &'static str {
        names::CLUSTER
    }
    fn workers(&self) -> usize {
        self.0.processes()
    }
    /// Units run quietly wherever they land; their lines come back in their outputs and
    /// are printed here, in task order.
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let desc = crate::cluster::describe(batch);
        let outputs = self.0.run(&desc, batch.len() as u64).map_err(|e| match e {
            concur_cluster::Error::Unit { index, message, .. } => ModelError::Task {
                task: index as usize,
                error: TaskError::new(message),
            },
            other => ModelError::Cluster(other),
        })?;
        let outputs = decode_outputs(outputs)?;
        if echo == Echo::Stdout {
            let out = Cx::stdout();
            for line in outputs.iter().filter_map(|o| o.text.as_deref()) {
                out.print_line(line);
            }
        }
        Ok(outputs)
    }
}
