//! What every process of the `cluster` model runs (the model itself, `ClusterModel`, is in
//! `models`): timely-dataflow processes through concur-cluster. Every process
//! rebuilds the batch from its description (workload, tasks, size) and runs the units dealt
//! to it; only the description, unit indices and outputs cross the network. Units run
//! quietly wherever they land; the lines they would print travel back in their outputs and
//! process 0 prints them, in task order (a remote host's terminal is not the user's).

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use concur_cluster::{Host, Options};
use concur_workloads::{Batch, Cx, Params, by_name};
use serde::{Deserialize, Serialize};

/// A job as every cluster process sees it: enough to rebuild the batch.
#[derive(Serialize, Deserialize)]
struct JobDesc {
    workload: String,
    params: Params,
}

/// The batch this process last rebuilt (or, in process 0, was handed), by description:
/// a bench runs one batch many times, and each process rebuilds it once.
static PREPARED: Mutex<Prepared> = Mutex::new(Prepared::Empty);

/// What [`PREPARED`] holds.
enum Prepared {
    /// Nothing yet: the first unit rebuilds its batch.
    Empty,
    /// A batch and the description it was built from.
    Ready(Vec<u8>, Batch),
    /// Released: this process is ending, or its model was dropped. A unit still running
    /// (the timely worker of a cluster that lost a process cannot be stopped) must not
    /// rebuild a batch, and with it temporary files, that nothing would remove.
    Released,
}

/// What every cluster process runs for concur: unit `index` of the batch `desc` names.
pub fn run_unit(desc: &[u8], index: u64) -> Result<Vec<u8>, String> {
    let batch = {
        let mut prepared = PREPARED.lock().unwrap_or_else(|e| e.into_inner());
        match &*prepared {
            Prepared::Ready(d, batch) if d == desc => batch.clone(),
            Prepared::Released => return Err("the cluster is closing".into()),
            _ => {
                let job: JobDesc =
                    postcard::from_bytes(desc).map_err(|e| format!("undecodable job: {e}"))?;
                let workload = by_name(&job.workload)
                    .ok_or_else(|| format!("unknown workload '{}'", job.workload))?;
                let batch = workload.prepare(&job.params).map_err(|e| e.0)?;
                *prepared = Prepared::Ready(desc.to_vec(), batch.clone());
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

/// The description of `batch` every cluster process rebuilds it from; this process (process
/// 0) keeps `batch` itself under it, so its own units run on the batch it was handed.
pub(crate) fn describe(batch: &Batch) -> Vec<u8> {
    let job = JobDesc {
        workload: batch.info().name.to_owned(),
        params: batch.params(),
    };
    let desc = postcard::to_allocvec(&job).expect("a job description serialises");
    *PREPARED.lock().unwrap_or_else(|e| e.into_inner()) =
        Prepared::Ready(desc.clone(), batch.clone());
    desc
}

/// How many `cluster` models this process has alive (it is process 0 of each). They share
/// [`PREPARED`], so only the last one to go releases it: a model dropped while another runs
/// a batch must not fail that batch's units here ("the cluster is closing").
static LIVE_MODELS: AtomicUsize = AtomicUsize::new(0);

/// A started `cluster` model of this process: [`release_model`] when it is dropped.
pub(crate) fn hold_model() {
    LIVE_MODELS.fetch_add(1, Ordering::AcqRel);
}

/// A `cluster` model of this process was dropped: release the prepared batch if it was the
/// last one alive.
pub(crate) fn release_model() {
    if LIVE_MODELS.fetch_sub(1, Ordering::AcqRel) == 1 {
        release();
    }
}

/// Serves as process `process` of the cluster in `hosts` (`concur cluster-worker`).
pub fn serve(hosts: &[Host], process: usize) -> Result<(), concur_cluster::Error> {
    let served = concur_cluster::serve(hosts, process, run_unit, Options::default());
    release();
    served
}

/// Drops the batch this process rebuilt (its temporary files go with it), and removes any
/// temporary directory a batch of this process still holds: before a member exits, and
/// when process 0's model is dropped (a static is never dropped on its own).
pub(crate) fn release() {
    let released = std::mem::replace(
        &mut *PREPARED.lock().unwrap_or_else(|e| e.into_inner()),
        Prepared::Released,
    );
    drop(released);
}

/// In a process `Cluster::local` started: clean up on every way out (the end of the job,
/// a lost process 0, Ctrl-C or SIGTERM to the process group), then serve and exit.
pub(crate) fn init_member() {
    if std::env::var_os(concur_cluster::MEMBER_ENV).is_none() {
        return;
    }
    concur_cluster::on_exit(|| {
        release();
        concur_workloads::remove_temp_dirs();
    });
    let _ = ctrlc::set_handler(|| {
        release();
        concur_workloads::remove_temp_dirs();
        std::process::exit(130);
    });
    concur_cluster::init(run_unit);
}
