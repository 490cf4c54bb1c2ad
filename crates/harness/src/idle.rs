//! `concur idle`: what an idle worker costs in memory, as PSS of the whole process tree.

use serde::Serialize;

pub use crate::idle_probes::IdleProbe;
use crate::{ModelError, ModelSpec};

/// The models whose idle workers `concur idle` can measure, in registry order.
pub fn idle_models() -> impl Iterator<Item = &'static ModelSpec> {
    crate::models().iter().filter(|m| m.idle.is_some())
}

/// What `concur idle` reports.
#[derive(Clone, Debug, Serialize)]
pub struct IdleReport {
    /// The model.
    pub model: &'static str,
    /// Number of idle workers.
    pub workers: usize,
    /// Tree PSS before starting them, bytes.
    pub baseline_pss_bytes: u64,
    /// Tree PSS with them idle, bytes.
    pub pss_bytes: u64,
    /// `(pss_bytes - baseline_pss_bytes) / workers`.
    pub pss_bytes_per_worker: f64,
}

/// Starts `workers` idle workers of `spec`, reads the process tree's PSS, stops them. A
/// model without an idle probe is an error naming the ones that have one.
pub fn idle_cost(spec: &'static ModelSpec, workers: usize) -> Result<IdleReport, ModelError> {
    let probe = spec.idle.ok_or_else(|| {
        ModelError::Config(format!(
            "'{}' has no idle-worker probe (valid: {})",
            spec.name,
            idle_models().map(|m| m.name).collect::<Vec<_>>().join(", ")
        ))
    })?;
    let (baseline, reading) = (probe.measure)(workers)?;
    Ok(IdleReport {
        model: spec.name,
        workers,
        baseline_pss_bytes: baseline,
        pss_bytes: reading,
        pss_bytes_per_worker: (reading as f64 - baseline as f64) / workers as f64,
    })
}
