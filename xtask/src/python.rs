//! The CPython reference: `python/concur_ref.py` run under threading, multiprocessing and
//! asyncio on the same inputs as the Rust benches, each result checked against Rust's
//! `sequential` checksum. Skipped, with one notice, when `python3` is absent.

use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use concur_harness::Profile;
use concur_workloads::{AnyWorkload, HttpFetch, Kind, Params, all};
use serde::{Deserialize, Serialize};

/// One CPython run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct PythonRun {
    /// The workload.
    pub workload: String,
    /// `threading`, `multiprocessing` or `asyncio`.
    pub mode: String,
    /// Tasks.
    pub tasks: usize,
    /// The workload's size.
    pub size: u64,
    /// Threads or processes in the pool (1 for asyncio).
    pub workers: usize,
    /// Median wall time, seconds.
    pub wall_s: f64,
    /// Whether the checksum equals Rust's `sequential` checksum on the same inputs.
    pub checksum_ok: bool,
    /// The CPython version.
    pub python: String,
}

#[derive(Deserialize)]
struct Printed {
    wall_s: f64,
    checksum: String,
    workers: usize,
    python: String,
}

/// A workload, its inputs, and the (mode, workers) pairs to run it under.
type Case = (&'static dyn AnyWorkload, Params, Vec<(&'static str, usize)>);

/// The cases for a profile: every workload whose registry entry says `concur_ref.py` has it,
/// at the Rust benches' sizes, under the modes its kind calls for.
fn cases(profile: Profile) -> Vec<Case> {
    // A worker per request, as the Rust thread and process models get in `io_bound`.
    let n = if profile == Profile::Smoke { 8 } else { 64 };
    all()
        .iter()
        .filter(|w| w.info().python)
        .map(|&w| {
            let info = w.info();
            let mut params = profile.bench_params(info);
            let modes = match info.kind {
                Kind::Seed | Kind::SharedData => vec![("threading", 2), ("multiprocessing", 2)],
                Kind::CpuBound => vec![("threading", 1), ("threading", 2), ("multiprocessing", 2)],
                Kind::IoBound => {
                    params.tasks = n;
                    vec![("threading", n), ("multiprocessing", n), ("asyncio", 1)]
                }
            };
            (w, params, modes)
        })
        .collect()
}

/// Whether `python3` runs here.
fn python_available() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs every case; an empty list (after a notice) when `python3` is absent.
pub(crate) fn run(profile: Profile) -> Result<Vec<PythonRun>> {
    if !python_available() {
        println!("[python] python3 not found: skipping the CPython reference runs");
        return Ok(Vec::new());
    }
    print!("[python] CPython reference… ");
    std::io::Write::flush(&mut std::io::stdout())?;
    let script = crate::workspace_root().join("python").join("concur_ref.py");
    let repeat = if profile == Profile::Smoke { "1" } else { "3" };
    let mut runs = Vec::new();
    for (w, params, modes) in cases(profile) {
        let workload = w.info().name;
        let batch = w
            .prepare(&params)
            .map_err(|e| anyhow::anyhow!("{workload}: {e}"))?;
        let expected = format!(
            "{:016x}",
            concur_harness::reference_checksum(&batch)
                .map_err(|e| anyhow::anyhow!("{workload}: {e}"))?
        );
        // The same loopback server the Rust runs use (latency = the profile's).
        let server = (workload == AnyWorkload::info(&HttpFetch).name)
            .then(|| concur_http::Server::start(Duration::from_millis(params.size)))
            .transpose()?;
        for (mode, workers) in modes {
            let mut cmd = Command::new("python3");
            cmd.arg(&script)
                .args(["--workload", workload, "--mode", mode])
                .args(["--tasks", &params.tasks.to_string()])
                .args(["--size", &params.size.to_string()])
                .args(["--workers", &workers.to_string(), "--repeat", repeat])
                .stdin(Stdio::null());
            if let Some(s) = &server {
                cmd.args(["--base-url", &format!("http://{}", s.addr())]);
            }
            let out = cmd
                .output()
                .with_context(|| format!("running {}", script.display()))?;
            if !out.status.success() {
                bail!(
                    "python3 {} --workload {workload} --mode {mode} failed: {}",
                    script.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
            }
            let printed: Printed = serde_json::from_slice(&out.stdout)
                .with_context(|| format!("parsing the output of {workload} {mode}"))?;
            runs.push(PythonRun {
                workload: workload.to_owned(),
                mode: mode.to_owned(),
                tasks: params.tasks,
                size: params.size,
                workers: printed.workers,
                wall_s: printed.wall_s,
                checksum_ok: printed.checksum == expected,
                python: printed.python,
            });
        }
    }
    println!("done ({} runs)", runs.len());
    Ok(runs)
}
