//! `cargo xtask bench`: build the benches, run each suite with a progress line, then write
//! the report from what criterion recorded in this run.

use std::fs::{self, File};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use concur_report::noise::{self, CpuTimes, Noise, SuitePlacement, SuiteSteal};
use concur_report::{
    Catalog, IdleProbe, Machine, Module, PairedRun, PythonRun, RunData, criterion, verdicts,
};

/// The environment variable the benches read their profile from (the harness's
/// `Profile::ENV_NAME`; a test checks they agree).
pub(crate) const PROFILE_ENV: &str = "CONCUR_BENCH_PROFILE";

/// How big the run is (the benches read it from [`PROFILE_ENV`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Profile {
    /// Every benchmark once, criterion's `--test` mode, tiny sizes.
    Smoke,
    /// Small sizes, short measurements.
    Quick,
    /// The full run.
    Full,
}

impl Profile {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Profile::Smoke => "smoke",
            Profile::Quick => "quick",
            Profile::Full => "full",
        }
    }
}

/// The suites, in order, with the seconds each took per profile (smoke, quick, full) on the
/// 2-core VM of 2026-11-25: only for the time-left estimate, which scales them by the pace
/// of the suites already run.
const SUITES: [(&str, [f64; 3]); 6] = [
    ("seed", [1.0, 4.0, 25.0]),
    ("spawn", [1.0, 4.0, 25.0]),
    ("cpu_bound", [2.0, 16.0, 150.0]),
    ("ipc", [2.0, 8.0, 60.0]),
    ("shared_data", [2.0, 10.0, 90.0]),
    ("io_bound", [2.0, 20.0, 180.0]),
];

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs the suites and writes the report; `passthrough` goes to every criterion binary
/// (a filter, `--save-baseline NAME`, `--baseline NAME`).
pub(crate) fn run(profile: Profile, passthrough: &[String]) -> Result<()> {
    let started = SystemTime::now();
    let started_at = concur_report::now_rfc3339();
    let column = match profile {
        Profile::Smoke => 0,
        Profile::Quick => 1,
        Profile::Full => 2,
    };
    println!(
        "concur bench ({} profile): building the benches…",
        profile.name()
    );
    let executables = build_benches()?;
    // The `concur` binary the probes run, built now too: the whole run measures one build,
    // even if the sources change while it runs.
    let concur = crate::concur_binary(true)?;

    // How noisy the machine is, before anything runs.
    let stall = noise::stall_probe(Duration::from_secs(1));
    println!(
        "[noise] a spinning thread was stalled {:.2}% of 1 s ({} stalls, longest {:.0} µs)",
        stall.stalled_pct, stall.stalls, stall.max_stall_us
    );
    let mut noise = Noise {
        steal: Vec::new(),
        stall: Some(stall),
        placement: Vec::new(),
    };

    let logs = crate::target_dir().join("concur").join("logs");
    fs::create_dir_all(&logs)?;
    let mut timings = Vec::new();
    let (mut expected_done, mut actual_done) = (0.0, 0.0);
    for (i, (suite, expected)) in SUITES.iter().enumerate() {
        let pace = if expected_done > 0.0 {
            actual_done / expected_done
        } else {
            1.0
        };
        let bar = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} [{prefix}] {msg} {elapsed}")
                .expect("a valid template"),
        );
        bar.set_prefix(format!("{}/{}", i + 1, SUITES.len()));
        bar.set_message(format!(
            "{suite:<11} running (about {} for this suite)…",
            human_duration(Duration::from_secs_f64(expected[column] * pace))
        ));
        bar.enable_steady_tick(Duration::from_millis(200));
        // Without a terminal (CI logs) indicatif draws nothing: say it in plain lines.
        let plain = bar.is_hidden();
        if plain {
            println!("[{}/{}] {suite:<11} running…", i + 1, SUITES.len());
        }
        let log_path = logs.join(format!("{suite}.log"));
        let log = File::create(&log_path)?;
        let exe = executables
            .iter()
            .find(|(name, _)| name == suite)
            .map(|(_, path)| path)
            .with_context(|| format!("cargo built no executable for the {suite} bench"))?;
        let mut cmd = Command::new(exe);
        // As `cargo bench` runs it: from the package root, in bench mode.
        cmd.current_dir(crate::workspace_root())
            .arg("--bench")
            .env(PROFILE_ENV, profile.name())
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        if profile == Profile::Smoke {
            cmd.arg("--test");
        }
        cmd.args(passthrough);
        let line_before = noise::line_round_trip_ns();
        let t = Instant::now();
        let cpu_before = CpuTimes::read();
        let status = cmd
            .status()
            .with_context(|| format!("running the {suite} bench"))?;
        let secs = t.elapsed().as_secs_f64();
        if let (Some(before_ns), Some(after_ns)) = (line_before, noise::line_round_trip_ns()) {
            noise.placement.push(SuitePlacement {
                suite: suite.to_string(),
                before_ns,
                after_ns,
            });
        }
        if let (Some(before), Some(after)) = (cpu_before, CpuTimes::read()) {
            noise.steal.push(SuiteSteal {
                suite: suite.to_string(),
                steal_pct: after.steal_pct_since(&before),
            });
        }
        if !status.success() {
            let msg = format!("{suite:<11} FAILED after {secs:.1} s");
            if plain {
                println!("      {msg}");
            }
            bar.finish_with_message(msg);
            let text = fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            for line in tail.iter().rev() {
                eprintln!("    {line}");
            }
            bail!(
                "the {suite} bench failed ({status}); full log: {}",
                log_path.display()
            );
        }
        expected_done += expected[column];
        actual_done += secs;
        let remaining: f64 = SUITES[i + 1..].iter().map(|(_, e)| e[column]).sum();
        let pace = if expected_done > 0.0 {
            actual_done / expected_done
        } else {
            1.0
        };
        let msg = format!(
            "{suite:<11} done in {secs:.1} s (about {} left)",
            human_duration(Duration::from_secs_f64(remaining * pace))
        );
        if plain {
            println!("      {msg}");
        }
        bar.finish_with_message(msg);
        timings.push((suite.to_string(), secs));
    }

    let catalog = crate::catalog(&concur)?;
    let idle = run_idle_probes(&concur, &catalog, column)?;
    let results = criterion::load(&crate::target_dir().join("criterion"), Some(started))?;
    let paired = if passthrough.is_empty() {
        run_paired(&concur, &catalog, profile, &results)?
    } else {
        println!("[paired] skipped: a filter or baseline was given");
        Vec::new()
    };
    let python = run_python(&concur, profile)?;
    let data = RunData {
        profile: profile.name().to_owned(),
        started_at,
        git_revision: concur_report::git_revision(),
        machine: Machine::detect(),
        suites: timings,
        results,
        idle,
        python,
        catalog,
        paired,
        modules: modules()?,
        noise: Some(noise),
        program: None,
    };
    let written = concur_report::write(&crate::report_dir(), &data)?;
    println!(
        "{} benchmark results; summary: {}",
        data.results.len(),
        written.markdown.display()
    );
    println!("{}", written.html.display());
    Ok(())
}

/// Builds every suite once and returns (suite, executable) pairs: the suites then run these
/// files, so an edit made while a long run is going cannot rebuild a suite half-way.
fn build_benches() -> Result<Vec<(String, std::path::PathBuf)>> {
    let mut build = Command::new(cargo());
    build
        .current_dir(crate::workspace_root())
        .args(["bench", "--no-run", "-p", "concur"])
        .args(["--message-format", "json-render-diagnostics"])
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped());
    for (suite, _) in SUITES {
        build.args(["--bench", suite]);
    }
    let out = build.output().context("running cargo bench --no-run")?;
    if !out.status.success() {
        bail!("building the benches failed ({})", out.status);
    }
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let is_bench = msg["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "bench"));
        if msg["reason"] == "compiler-artifact" && is_bench {
            if let (Some(name), Some(exe)) =
                (msg["target"]["name"].as_str(), msg["executable"].as_str())
            {
                found.push((name.to_owned(), std::path::PathBuf::from(exe)));
            }
        }
    }
    Ok(found)
}

/// The models the verdicts compare, in paired rounds (`concur compare --json`).
fn run_paired(
    concur: &std::path::Path,
    catalog: &Catalog,
    profile: Profile,
    results: &[concur_report::BenchResult],
) -> Result<Vec<PairedRun>> {
    let rounds = match profile {
        Profile::Smoke => 2,
        Profile::Quick => 15,
        Profile::Full => 30,
    };
    // Only where the suites measured the same group at the same parameter (the quick
    // profile stops the I/O axis at 64); a smoke run, which records nothing, runs them all.
    let plan: Vec<(String, usize)> = verdicts::paired_plan(catalog)
        .into_iter()
        .filter(|(w, p)| {
            let group = catalog.group_of(w).unwrap_or_default();
            results.is_empty()
                || results
                    .iter()
                    .any(|r| r.group == group && r.parameter.as_deref() == Some(&p.to_string()))
        })
        .collect();
    let mut runs = Vec::new();
    print!("[paired] {} comparisons of {rounds} rounds:", plan.len());
    for (workload, param) in &plan {
        print!(" {workload}@{param}");
        std::io::stdout().flush()?;
        let (param, rounds) = (param.to_string(), rounds.to_string());
        runs.push(crate::concur_json(
            concur,
            &[
                "compare",
                "--workload",
                workload,
                "--param",
                &param,
                "--profile",
                profile.name(),
                "--rounds",
                &rounds,
                "--json",
            ],
        )?);
    }
    println!(" done");
    // Channels against their floors and peers, and pools against their transports:
    // placement moves these most (a spinning round trip is a handful of cache-line
    // transfers; a blocking one, a few wake-ups), so they are paired too.
    let pairs: Vec<(&str, &str)> = catalog
        .comparisons
        .iter()
        .filter(|c| c.paired)
        .map(|c| (c.subject.as_str(), c.against.as_str()))
        .collect();
    print!(
        "[paired] {} ping-pong comparisons of {rounds} rounds:",
        pairs.len()
    );
    for (subject, against) in pairs {
        print!(" {subject}/{against}");
        std::io::stdout().flush()?;
        let rounds = rounds.to_string();
        runs.push(crate::concur_json(
            concur,
            &[
                "pingpong",
                "--channel",
                subject,
                "--against",
                against,
                "--rounds",
                &rounds,
                "--json",
            ],
        )?);
    }
    println!(" done");
    Ok(runs)
}

/// The crates that stand for `threading` and `multiprocessing`, at the versions the
/// workspace's `Cargo.lock` pins. Read from the lockfile itself, not `cargo metadata`: that
/// needs the registry's index (network, or whatever cargo's cache happens to hold), while
/// the lockfile is in every checkout.
fn modules() -> Result<Vec<Module>> {
    let path = crate::workspace_root().join("Cargo.lock");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    modules_from_lockfile(&text).with_context(|| format!("parsing {}", path.display()))
}

/// [`modules`] from a lockfile's text.
fn modules_from_lockfile(lockfile: &str) -> Result<Vec<Module>> {
    const CRATES: [&str; 5] = [
        "crossbeam-channel",
        "rayon",
        "tokio",
        "ipc-channel",
        "rustix",
    ];
    #[derive(serde::Deserialize)]
    struct Lock {
        #[serde(default)]
        package: Vec<Package>,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        name: String,
        version: String,
    }
    let lock: Lock = toml::from_str(lockfile)?;
    Ok(CRATES
        .iter()
        .filter_map(|name| {
            let mut versions: Vec<&str> = lock
                .package
                .iter()
                .filter(|p| p.name == *name)
                .map(|p| p.version.as_str())
                .collect();
            versions.sort_unstable();
            versions.dedup();
            (!versions.is_empty()).then(|| Module {
                name: (*name).to_owned(),
                version: versions.join("/"),
            })
        })
        .collect())
}

/// `concur cpython --json` at this profile's sizes.
fn run_python(concur: &std::path::Path, profile: Profile) -> Result<Vec<PythonRun>> {
    print!("[python] CPython reference… ");
    std::io::stdout().flush()?;
    let out = Command::new(concur)
        .current_dir(crate::workspace_root())
        .args(["cpython", "--profile", profile.name()])
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running concur cpython")?;
    if !out.status.success() {
        bail!("concur cpython failed ({})", out.status);
    }
    let runs: Vec<PythonRun> =
        serde_json::from_slice(&out.stdout).context("parsing concur cpython's output")?;
    println!("done ({} runs)", runs.len());
    Ok(runs)
}

/// Runs `concur idle --json` for each model whose catalog entry asks for a bench probe.
fn run_idle_probes(
    concur: &std::path::Path,
    catalog: &Catalog,
    column: usize,
) -> Result<Vec<IdleProbe>> {
    print!("[probes] idle workers… ");
    std::io::stdout().flush()?;
    let mut probes = Vec::new();
    let asked = catalog
        .models
        .iter()
        .filter_map(|m| Some((m.name.as_str(), m.idle_bench_workers?)));
    for (model, counts) in asked {
        let workers = counts[column];
        let workers_arg = workers.to_string();
        let reading: serde_json::Value = crate::concur_json(
            concur,
            &[
                "idle",
                "--model",
                model,
                "--workers",
                &workers_arg,
                "--json",
            ],
        )?;
        let per = reading["pss_bytes_per_worker"]
            .as_f64()
            .context("concur idle printed no pss_bytes_per_worker")?;
        probes.push(IdleProbe {
            model: model.to_owned(),
            workers,
            pss_bytes_per_worker: per,
        });
    }
    println!("done");
    Ok(probes)
}

fn human_duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_come_from_the_workspace_lockfile() {
        let found = modules().unwrap();
        let names: Vec<&str> = found.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "crossbeam-channel",
                "rayon",
                "tokio",
                "ipc-channel",
                "rustix"
            ]
        );
        assert!(
            found
                .iter()
                .all(|m| m.version.starts_with(char::is_numeric))
        );
    }

    #[test]
    fn a_crate_locked_at_two_versions_shows_both() {
        let lock = r#"
version = 4

[[package]]
name = "rustix"
version = "1.1.2"

[[package]]
name = "rustix"
version = "0.38.44"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "rayon"
version = "1.11.0"
"#;
        let found = modules_from_lockfile(lock).unwrap();
        assert_eq!(
            found,
            [
                Module {
                    name: "rayon".into(),
                    version: "1.11.0".into()
                },
                Module {
                    name: "rustix".into(),
                    version: "0.38.44/1.1.2".into()
                },
            ]
        );
        assert!(modules_from_lockfile("[[package]]\nname = 3").is_err());
    }
}
