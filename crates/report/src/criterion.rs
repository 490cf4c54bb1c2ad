//! Reads criterion's own output files: `<dir>/new/benchmark.json` for the ids and
//! `<dir>/new/estimates.json` for the statistics (nanoseconds per iteration).

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::Error;

/// One benchmark's figures, as the report uses them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Criterion's group id, e.g. `cpu_bound/primes`.
    pub group: String,
    /// The function id: the model.
    pub function: String,
    /// The parameter (workers), if the benchmark has one.
    pub parameter: Option<String>,
    /// Criterion's directory for it, relative to `target/criterion`.
    pub directory: String,
    /// Median time per iteration, ns.
    pub median_ns: f64,
    /// 95% confidence interval of the median, ns.
    pub median_ci_ns: (f64, f64),
    /// Median absolute deviation, ns.
    pub mad_ns: f64,
    /// Mean time per iteration, ns.
    pub mean_ns: f64,
    /// Each sample's time per iteration, ns (`new/sample.json`: `times[i] / iters[i]`):
    /// what the report's intervals are bootstrapped from.
    #[serde(default)]
    pub samples_ns: Vec<f64>,
}

#[derive(Deserialize)]
struct Samples {
    iters: Vec<f64>,
    times: Vec<f64>,
}

#[derive(Deserialize)]
struct BenchmarkId {
    group_id: String,
    function_id: Option<String>,
    value_str: Option<String>,
    directory_name: String,
}

#[derive(Deserialize)]
struct Estimates {
    mean: Estimate,
    median: Estimate,
    median_abs_dev: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    confidence_interval: Interval,
}

#[derive(Deserialize)]
struct Interval {
    lower_bound: f64,
    upper_bound: f64,
}

/// Every benchmark under `criterion_dir` whose estimates were written at or after `since`
/// (all of them when `since` is `None`), sorted by group, then function, then parameter.
pub fn load(criterion_dir: &Path, since: Option<SystemTime>) -> Result<Vec<BenchResult>, Error> {
    let mut found = Vec::new();
    if criterion_dir.is_dir() {
        walk(criterion_dir, since, &mut found)?;
    }
    found.sort_by(|a, b| {
        (&a.group, &a.function, param_key(a)).cmp(&(&b.group, &b.function, param_key(b)))
    });
    Ok(found)
}

/// Numeric parameters sort numerically, others after them by text.
fn param_key(r: &BenchResult) -> (u64, String) {
    let p = r.parameter.clone().unwrap_or_default();
    (p.parse().unwrap_or(u64::MAX), p)
}

fn walk(dir: &Path, since: Option<SystemTime>, found: &mut Vec<BenchResult>) -> Result<(), Error> {
    let new = dir.join("new");
    let (id_file, est_file) = (new.join("benchmark.json"), new.join("estimates.json"));
    if id_file.is_file() && est_file.is_file() {
        let fresh = match since {
            None => true,
            Some(t) => fs::metadata(&est_file)
                .and_then(|m| m.modified())
                .is_ok_and(|m| m >= t),
        };
        if fresh {
            found.push(read_one(&id_file, &est_file)?);
        }
    }
    let entries = fs::read_dir(dir).map_err(|e| Error::io("reading", dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io("reading", dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // Criterion's own per-run folders hold no nested benchmarks.
        if path.is_dir() && !matches!(name, "new" | "base" | "change" | "report") {
            walk(&path, since, found)?;
        }
    }
    Ok(())
}

fn read_one(id_file: &Path, est_file: &Path) -> Result<BenchResult, Error> {
    let id: BenchmarkId = crate::read_json(id_file)?;
    let est: Estimates = crate::read_json(est_file)?;
    // Older criterion directories may lack the samples: the figure then has no interval.
    let sample_file = est_file.with_file_name("sample.json");
    let samples_ns = if sample_file.is_file() {
        let s: Samples = crate::read_json(&sample_file)?;
        s.times
            .iter()
            .zip(&s.iters)
            .filter(|(_, n)| **n > 0.0)
            .map(|(t, n)| t / n)
            .collect()
    } else {
        Vec::new()
    };
    Ok(BenchResult {
        function: id.function_id.unwrap_or_else(|| id.group_id.clone()),
        group: id.group_id,
        parameter: id.value_str,
        directory: id.directory_name,
        median_ns: est.median.point_estimate,
        median_ci_ns: (
            est.median.confidence_interval.lower_bound,
            est.median.confidence_interval.upper_bound,
        ),
        mad_ns: est.median_abs_dev.point_estimate,
        mean_ns: est.mean.point_estimate,
        samples_ns,
    })
}
