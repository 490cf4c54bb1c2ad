//! Type erasure: a prepared list of inputs any model can schedule without knowing its type.

use std::sync::Arc;

use crate::{
    Arena, Cx, Heap, Info, IoDone, IoOp, MAX_TASKS, Params, ParamsError, SharedBytes, TaskOutput,
    Workload,
};

/// A unit of work that failed (an I/O error, a corrupt input). Serialisable, so it can come
/// back from a worker process.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
#[error("{message}")]
pub struct TaskError {
    /// What went wrong, in one line.
    pub message: String,
}

impl TaskError {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        TaskError {
            message: message.into(),
        }
    }
}

/// The object-safe face of a [`Workload`], as the registry hands it out.
pub trait AnyWorkload: Send + Sync {
    /// The static description.
    fn info(&self) -> &'static Info;
    /// Checks `params`: `tasks` in `1..=MAX_TASKS`, and the workload's own rules for `size`.
    fn validate(&self, params: &Params) -> Result<(), ParamsError>;
    /// Validates `params` and generates the inputs (any large input on the heap).
    fn prepare(&'static self, params: &Params) -> Result<Batch, ParamsError> {
        self.prepare_in(params, &Heap)
    }
    /// Validates `params` and generates the inputs, the large input (if any) in `arena`.
    fn prepare_in(&'static self, params: &Params, arena: &dyn Arena) -> Result<Batch, ParamsError>;
    /// Decodes one input produced by [`Batch::encode`] and runs it: what a worker process does.
    fn run_encoded(&self, input: &[u8], cx: &Cx<'_>) -> Result<TaskOutput, TaskError>;
    /// Runs one input produced by [`Batch::encode_ref`] against the shared input (both from
    /// another process, so both are validated).
    fn run_encoded_ref(
        &self,
        reference: &[u8],
        shared: &[u8],
        cx: &Cx<'_>,
    ) -> Result<TaskOutput, TaskError>;
}

impl<W: Workload> AnyWorkload for W {
    fn info(&self) -> &'static Info {
        Workload::info(self)
    }

    fn validate(&self, params: &Params) -> Result<(), ParamsError> {
        if params.tasks == 0 || params.tasks > MAX_TASKS {
            return Err(ParamsError(format!(
                "--tasks must be between 1 and {MAX_TASKS}, got {}",
                params.tasks
            )));
        }
        Workload::validate(self, params)
    }

    fn prepare_in(&'static self, params: &Params, arena: &dyn Arena) -> Result<Batch, ParamsError> {
        AnyWorkload::validate(self, params)?;
        let inputs = self.inputs_in(params, arena)?;
        debug_assert_eq!(inputs.len(), params.tasks);
        Ok(Batch {
            inner: Arc::new(Typed {
                workload: self,
                inputs,
            }),
            info: Workload::info(self),
            params: *params,
        })
    }

    fn run_encoded(&self, input: &[u8], cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let name = self.info().name;
        let (input, rest): (W::Input, _) = postcard::take_from_bytes(input)
            .map_err(|e| TaskError::new(format!("{name}: undecodable input: {e}")))?;
        if !rest.is_empty() {
            return Err(TaskError::new(format!(
                "{name}: {} stray bytes after the input",
                rest.len()
            )));
        }
        // `run` checks the decoded values themselves: they came from another process.
        self.run(&input, cx)
    }

    fn run_encoded_ref(
        &self,
        reference: &[u8],
        shared: &[u8],
        cx: &Cx<'_>,
    ) -> Result<TaskOutput, TaskError> {
        self.run_ref(reference, shared, cx)
    }
}

trait ErasedInputs: Send + Sync {
    fn len(&self) -> usize;
    fn run(&self, index: usize, cx: &Cx<'_>) -> Result<TaskOutput, TaskError>;
    fn encode(&self, index: usize) -> Vec<u8>;
    fn encode_into(&self, index: usize, out: &mut Vec<u8>);
    fn shared(&self) -> Option<Arc<dyn SharedBytes>>;
    fn encode_ref(&self, index: usize) -> Option<Vec<u8>>;
    fn io(&self, index: usize) -> Option<IoOp>;
    fn after_io(&self, index: usize, done: IoDone, cx: &Cx<'_>) -> Result<TaskOutput, TaskError>;
    fn merge(&self, outputs: &[TaskOutput]) -> u64;
}

/// Aligned to 128 bytes (two lines, the pair an adjacent-line prefetcher fetches) so the
/// `Arc`'s counts, which every `Batch` clone writes, share no line with the inputs that
/// workers on other CPUs read.
#[repr(align(128))]
struct Typed<W: Workload> {
    workload: &'static W,
    inputs: Vec<W::Input>,
}

impl<W: Workload> ErasedInputs for Typed<W> {
    fn len(&self) -> usize {
        self.inputs.len()
    }

    fn merge(&self, outputs: &[TaskOutput]) -> u64 {
        self.workload.merge(outputs)
    }

    fn run(&self, index: usize, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        self.workload.run(&self.inputs[index], cx)
    }

    fn encode(&self, index: usize) -> Vec<u8> {
        postcard::to_allocvec(&self.inputs[index]).expect("workload inputs always serialise")
    }

    fn encode_into(&self, index: usize, out: &mut Vec<u8>) {
        let mut bytes = std::mem::take(out);
        bytes = postcard::to_extend(&self.inputs[index], bytes)
            .expect("workload inputs always serialise");
        *out = bytes;
    }

    fn shared(&self) -> Option<Arc<dyn SharedBytes>> {
        self.workload.shared(&self.inputs).cloned()
    }

    fn encode_ref(&self, index: usize) -> Option<Vec<u8>> {
        self.workload.encode_ref(&self.inputs[index])
    }

    fn io(&self, index: usize) -> Option<IoOp> {
        self.workload.io(&self.inputs[index])
    }

    fn after_io(&self, index: usize, done: IoDone, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        self.workload.after_io(&self.inputs[index], done, cx)
    }
}

/// A workload's inputs for one `(tasks, size)`, ready to run in any order on any thread.
/// Cheap to clone (shared), so a pool can move it into `'static` jobs.
#[derive(Clone)]
pub struct Batch {
    inner: Arc<dyn ErasedInputs>,
    info: &'static Info,
    params: Params,
}

impl std::fmt::Debug for Batch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("workload", &self.info.name)
            .field("params", &self.params)
            .finish()
    }
}

impl Batch {
    /// Number of tasks.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no tasks (never, for a validated batch).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The workload's description.
    pub fn info(&self) -> &'static Info {
        self.info
    }

    /// The parameters it was prepared for.
    pub fn params(&self) -> Params {
        self.params
    }

    /// Runs task `index` on the calling thread.
    ///
    /// # Panics
    /// If `index >= self.len()`.
    pub fn run(&self, index: usize, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        self.inner.run(index, cx)
    }

    /// Task `index`'s input, serialised (postcard: compact binary), for a worker process
    /// ([`AnyWorkload::run_encoded`]).
    pub fn encode(&self, index: usize) -> Vec<u8> {
        self.inner.encode(index)
    }

    /// [`Batch::encode`], appended to `out` (no buffer of its own: a frame built around the
    /// input takes one allocation, not two).
    pub fn encode_into(&self, index: usize, out: &mut Vec<u8>) {
        self.inner.encode_into(index, out)
    }

    /// The large read-only input every task reads, if the workload has one.
    pub fn shared(&self) -> Option<Arc<dyn SharedBytes>> {
        self.inner.shared()
    }

    /// Task `index` as a reference into [`Batch::shared`] (no copy of the data), for a
    /// worker that maps the shared input ([`AnyWorkload::run_encoded_ref`]).
    pub fn encode_ref(&self, index: usize) -> Option<Vec<u8>> {
        self.inner.encode_ref(index)
    }

    /// Task `index`'s wait, if its unit waits on I/O ([`Workload::io`]): what an async model
    /// awaits instead of calling [`Batch::run`].
    pub fn io(&self, index: usize) -> Option<IoOp> {
        self.inner.io(index)
    }

    /// Finishes task `index` after its wait completed ([`Workload::after_io`]).
    pub fn after_io(
        &self,
        index: usize,
        done: IoDone,
        cx: &Cx<'_>,
    ) -> Result<TaskOutput, TaskError> {
        self.inner.after_io(index, done, cx)
    }

    /// The batch's checksum from `outputs`: the workload's [`crate::Workload::merge`] (by
    /// default [`crate::checksum`] of the digests).
    pub fn checksum_of(&self, outputs: &[TaskOutput]) -> u64 {
        self.inner.merge(outputs)
    }
}
