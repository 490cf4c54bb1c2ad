//! The `cluster` model: timely-dataflow processes through concur-cluster. Every process
//! rebuilds the batch from its description (workload, tasks, size) and runs the units dealt
//! to it; only the description, unit indices and outputs cross the network. Units run
//! quietly wherever they land; the lines they would print travel back in their outputs and
//! process 0 prints them, in task order (a remote host's terminal is not the user's).

use std::sync::Mutex;

use concur_cluster::{Cluster, Host, Options};
use concur_workloads::{Batch, Cx, Echo, Params, TaskError, TaskOutput, by_name};
use serde::{Deserialize, Serialize};

use crate::models::{Model, ModelError, names};
use crate::worker::decode_output;

/// A job as every cluster process sees it: enough to rebuild the batch.
#[derive(Serialize, Deserialize)]
struct JobDesc {
    workload: String,
    params: Params,
}

/// The batch this process last rebuilt (or, in process 0, was handed), by description:
/// a bench runs one batch many times, and each process rebuilds it once.
static PREPARED: Mutex<Option<(Vec<u8>, Batch)>> = Mutex::new(None);

/// What every cluster process runs for concur: unit `index` of the batch `desc` names.
pub fn run_unit(desc: &[u8], index: u64) -> Result<Vec<u8>, String> {
    let batch = {
        let mut prepared = PREPARED.lock().unwrap_or_else(|e| e.into_inner());
        match &*prepared {
            Some((d, batch)) if d == desc => batch.clone(),
            _ => {
                let job: JobDesc =
                    postcard::from_bytes(desc).map_err(|e| format!("undecodable job: {e}"))?;
                let workload = by_name(&job.workload)
                    .ok_or_else(|| format!("unknown workload '{}'", job.workload))?;
                let batch = workload.prepare(&job.params).map_err(|e| e.0)?;
                *prepared = Some((desc.to_vec(), batch.clone()));
                batch
            }
        }
    };
    let i = usize::try_from(index)
        .ok()
        .filter(|&i| i < batch.len())
        .ok_or_else(|| format!("unit {index} of a batch of {}", batch.len()))?;
    let output = batch.run(i, &Cx::quiet()).map_err(|e| e.to_string())?;
    postcard::to_allocvec(&output).map_err(|e| e.to_string())
}

/// The `cluster` model over a running cluster.
pub(crate) struct ClusterModel(Cluster);

impl ClusterModel {
    /// `workers` processes on this machine (this one is process 0).
    pub(crate) fn local(workers: usize) -> Result<Self, ModelError> {
        Ok(ClusterModel(Cluster::local(
            workers,
            run_unit,
            Options::default(),
        )?))
    }
}

/// The `cluster` model across the hosts of a host file (this process is process 0, at the
/// first line; the others run `concur cluster-worker`).
pub fn with_hosts(hosts: Vec<Host>) -> Result<Box<dyn Model>, ModelError> {
    Ok(Box::new(ClusterModel(Cluster::with_hosts(
        hosts,
        run_unit,
        Options::default(),
    )?)))
}

/// Serves as process `process` of the cluster in `hosts` (`concur cluster-worker`).
pub fn serve(hosts: &[Host], process: usize) -> Result<(), concur_cluster::Error> {
    concur_cluster::serve(hosts, process, run_unit, Options::default())
}

/// Starts one other process the way the model does, and ends it: a two-process cluster.
pub(crate) fn spawn_join_one() -> Result<(), ModelError> {
    drop(ClusterModel::local(2)?);
    Ok(())
}

impl Model for ClusterModel {
    fn name(&self) -> &'static str {
        names::CLUSTER
    }
    fn workers(&self) -> usize {
        self.0.processes()
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let job = JobDesc {
            workload: batch.info().name.to_owned(),
            params: batch.params(),
        };
        let desc = postcard::to_allocvec(&job).expect("a job description serialises");
        // Process 0 runs its units on the batch it was handed, not a rebuilt copy.
        *PREPARED.lock().unwrap_or_else(|e| e.into_inner()) = Some((desc.clone(), batch.clone()));
        let outputs = self.0.run(&desc, batch.len() as u64).map_err(|e| match e {
            concur_cluster::Error::Unit { index, message, .. } => ModelError::Task {
                task: index as usize,
                error: TaskError::new(message),
            },
            other => ModelError::Cluster(other),
        })?;
        let outputs = outputs
            .iter()
            .enumerate()
            .map(|(task, bytes)| {
                decode_output(bytes).map_err(|message| ModelError::Task {
                    task,
                    error: TaskError::new(message),
                })
            })
            .collect::<Result<Vec<TaskOutput>, ModelError>>()?;
        if echo == Echo::Stdout {
            let cx = Cx::stdout();
            for line in outputs.iter().filter_map(|o| o.text.as_deref()) {
                cx.print_line(line);
            }
        }
        Ok(outputs)
    }
}
