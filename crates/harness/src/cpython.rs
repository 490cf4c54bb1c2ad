//! The CPython reference (`concur cpython`): `python/concur_ref.py` run under threading,
//! multiprocessing and asyncio on the same inputs as the Rust benches, each result checked
//! against Rust's `sequential` checksum. Skipped, with one notice, when `python3` is absent.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use concur_report::PythonMode::{self, Asyncio, Multiprocessing, Threading};
use concur_report::PythonRun;
use concur_workloads::{AnyWorkload, HttpFetch, Kind, Params, all};
use serde::Deserialize;

use crate::{Profile, ProfileSizes};

#[derive(Deserialize)]
struct Printed {
    wall_s: f64,
    checksum: String,
    workers: usize,
    python: String,
}

/// A workload, its inputs, and the (mode, workers) pairs to run it under.
type Case = (&'static dyn AnyWorkload, Params, Vec<(PythonMode, usize)>);

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
                Kind::Seed | Kind::SharedData => vec![(Threading, 2), (Multiprocessing, 2)],
                Kind::CpuBound | Kind::Calibrated => {
                    vec![(Threading, 1), (Threading, 2), (Multiprocessing, 2)]
                }
                Kind::IoBound => {
                    params.tasks = n;
                    vec![(Threading, n), (Multiprocessing, n), (Asyncio, 1)]
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

/// Runs `script` (concur's `python/concur_ref.py`) on every workload that has a CPython
/// version, at `profile`'s bench sizes; an empty list, after a notice on stderr, when
/// `python3` is absent. An error names the run that failed.
pub fn run_reference(script: &Path, profile: Profile) -> Result<Vec<PythonRun>, String> {
    if !python_available() {
        eprintln!("[python] python3 not found: skipping the CPython reference runs");
        return Ok(Vec::new());
    }
    if !script.is_file() {
        return Err(format!("{} does not exist", script.display()));
    }
    let repeat = if profile == Profile::Smoke { "1" } else { "3" };
    let mut runs = Vec::new();
    for (w, params, modes) in cases(profile) {
        let workload = w.info().name;
        let batch = w.prepare(&params).map_err(|e| format!("{workload}: {e}"))?;
        let expected = format!(
            "{:016x}",
            crate::reference_checksum(&batch).map_err(|e| format!("{workload}: {e}"))?
        );
        // The same loopback server the Rust runs use (latency = the profile's).
        let server = (workload == HttpFetch::NAME)
            .then(|| concur_http::Server::start(Duration::from_millis(params.size)))
            .transpose()
            .map_err(|e| format!("{workload}: starting the loopback server: {e}"))?;
        for (mode, workers) in modes {
            let mut cmd = Command::new("python3");
            cmd.arg(script)
                .args(["--workload", workload, "--mode", mode.name()])
                .args(["--tasks", &params.tasks.to_string()])
                .args(["--size", &params.size.to_string()])
                .args(["--workers", &workers.to_string(), "--repeat", repeat])
                .stdin(Stdio::null());
            if let Some(s) = &server {
                cmd.args(["--base-url", &format!("http://{}", s.addr())]);
            }
            let out = cmd
                .output()
                .map_err(|e| format!("running python3 {}: {e}", script.display()))?;
            if !out.status.success() {
                return Err(format!(
                    "python3 {} --workload {workload} --mode {mode} failed: {}",
                    script.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            let printed: Printed = serde_json::from_slice(&out.stdout)
                .map_err(|e| format!("parsing the output of {workload} {mode}: {e}"))?;
            runs.push(PythonRun {
                workload: workload.to_owned(),
                mode,
                tasks: params.tasks,
                size: params.size,
                workers: printed.workers,
                wall_s: printed.wall_s,
                checksum_ok: printed.checksum == expected,
                python: printed.python,
            });
        }
    }
    Ok(runs)
}
