//! `cargo xtask bench`: build the benches, run each suite with a progress line, then write
//! the report from what criterion recorded in this run.

use std::fs::{self, File};
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};

use concur_measure::noise::{self, SuiteNoise};
use concur_report::Profile;
use concur_report::crossover::Sweep;
use concur_report::noise::Noise;
use concur_report::{
    Catalog, IdleProbe, Module, PairedRun, PythonRun, RunData, criterion, verdicts,
};

/// The suites, in order, with the seconds each took per profile (smoke, quick, full) on the
/// 2-core VM (measured 2026-12-04): the estimate printed before the run, and the time left
/// after each suite (scaled by the pace of the suites already run).
const SUITES: [(&str, [f64; 3]); 6] = [
    ("seed", [1.0, 4.0, 16.0]),
    ("spawn", [1.0, 4.0, 30.0]),
    ("cpu_bound", [2.0, 16.0, 161.0]),
    ("ipc", [2.0, 8.0, 50.0]),
    ("shared_data", [2.0, 10.0, 78.0]),
    ("io_bound", [2.0, 20.0, 91.0]),
];

/// Seconds after the suites (idle probes, paired rounds, the granularity sweeps, the CPython
/// reference, the report) per profile, measured with [`SUITES`] (the sweeps, 2026-12-04:
/// 1 s smoke in CI's run, 45 s quick and 54–58 s full for the nine models).
const AFTER_SUITES: [f64; 3] = [30.0, 110.0, 230.0];

/// Seconds a fresh clone takes to build the benches (every dependency, bench profile) on the
/// same VM, once `cargo xtask` itself is built (201 s and 253 s, 2026-12-04).
const FRESH_BUILD: f64 = 230.0;

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// How the run is going against [`SUITES`]: the ratio of the seconds taken to the seconds
/// expected so far scales the estimate of what is left.
#[derive(Default)]
struct Pace {
    expected: f64,
    actual: f64,
}

impl Pace {
    fn scale(&self) -> f64 {
        if self.expected > 0.0 {
            self.actual / self.expected
        } else {
            1.0
        }
    }

    fn record(&mut self, expected: f64, actual: f64) {
        self.expected += expected;
        self.actual += actual;
    }

    fn estimate(&self, expected: f64) -> String {
        human_duration(Duration::from_secs_f64(expected * self.scale()))
    }
}

/// Runs the suites and writes the report; `passthrough` goes to every criterion binary
/// (a filter, `--save-baseline NAME`, `--baseline NAME`).
pub(crate) fn run(profile: Profile, passthrough: &[String], save_run: Option<&str>) -> Result<()> {
    // A name that cannot be used is refused before anything runs.
    let runs = crate::runs();
    if let Some(name) = save_run {
        runs.check_new(name)?;
    }
    let started = SystemTime::now();
    let mut run = concur_measure::this_run(profile);
    let column = profile.index();
    let measuring: f64 = SUITES.iter().map(|(_, e)| e[column]).sum::<f64>() + AFTER_SUITES[column];
    println!(
        "concur bench ({} profile): about {} of measuring on a 2-core machine, after the build \
         (about {} from a fresh clone, seconds when nothing changed); building the benches…",
        profile.name(),
        human_duration(Duration::from_secs_f64(measuring)),
        human_duration(Duration::from_secs_f64(FRESH_BUILD)),
    );
    // The suites and the `concur` binary the probes run, from one build (cargo builds a
    // package's binaries with its benches): the whole run measures one build, even if the
    // sources change while it runs, and nothing is compiled twice.
    let Built {
        suites: executables,
        concur,
    } = build_benches()?;

    // How noisy the machine is, before anything runs.
    let mut noise = noise::before_the_suites(Duration::from_secs(1));
    if let Some(stall) = &noise.stall {
        println!(
            "[noise] a spinning thread was stalled {:.2}% of 1 s ({} stalls, longest {:.0} µs)",
            stall.stalled_pct, stall.stalls, stall.max_stall_us
        );
    }

    let logs = crate::target_dir().join("concur").join("logs");
    fs::create_dir_all(&logs)?;
    let mut timings = Vec::new();
    let mut pace = Pace::default();
    for (i, (suite, expected)) in SUITES.iter().enumerate() {
        let exe = executables
            .iter()
            .find(|(name, _)| name == suite)
            .map(|(_, path)| path)
            .with_context(|| format!("cargo built no executable for the {suite} bench"))?;
        let bar = ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} [{prefix}] {msg} {elapsed}")
                .expect("a valid template"),
        );
        bar.set_prefix(format!("{}/{}", i + 1, SUITES.len()));
        bar.set_message(format!(
            "{suite:<11} running (about {} for this suite)…",
            pace.estimate(expected[column])
        ));
        bar.enable_steady_tick(Duration::from_millis(200));
        // Without a terminal (CI logs) indicatif draws nothing: say it in plain lines.
        let plain = bar.is_hidden();
        if plain {
            println!("[{}/{}] {suite:<11} running…", i + 1, SUITES.len());
        }
        let say = |msg: String| {
            if plain {
                println!("      {msg}");
            }
            bar.finish_with_message(msg);
        };
        let log_path = logs.join(format!("{suite}.log"));
        let run = run_suite(suite, exe, profile, passthrough, &log_path, &mut noise)?;
        let secs = run.secs;
        if let Err(e) = run.status {
            say(format!("{suite:<11} FAILED after {secs:.1} s"));
            let text = fs::read_to_string(&log_path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(40).collect();
            for line in tail.iter().rev() {
                eprintln!("    {line}");
            }
            return Err(e);
        }
        pace.record(expected[column], secs);
        let remaining: f64 =
            SUITES[i + 1..].iter().map(|(_, e)| e[column]).sum::<f64>() + AFTER_SUITES[column];
        say(format!(
            "{suite:<11} done in {secs:.1} s (about {} left)",
            pace.estimate(remaining)
        ));
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
    let crossover = if passthrough.is_empty() {
        run_crossover(&concur, &catalog, profile)?
    } else {
        println!("[granularity] skipped: a filter or baseline was given");
        Vec::new()
    };
    let python = run_python(&concur, profile)?;
    run.modules = modules(&catalog)?;
    let data = RunData {
        suites: timings,
        results,
        idle,
        python,
        catalog,
        paired,
        crossover,
        noise: Some(noise),
        ..run
    };
    let written = concur_report::write(&crate::report_dir(), &data)?;
    let saved = runs.save(&data, save_run)?;
    println!(
        "{} benchmark results; summary: {}",
        data.results.len(),
        written.markdown.display()
    );
    println!(
        "run kept as {} (compare two runs: cargo xtask compare previous latest)",
        saved.display()
    );
    println!("{}", written.html.display());
    Ok(())
}

/// A suite's run: how long it took, and whether it passed.
struct SuiteRun {
    secs: f64,
    status: Result<()>,
}

/// Runs one suite's executable as `cargo bench` would (from the package root, in bench
/// mode), its output into `log_path`, and records the machine's noise around it in `noise`.
fn run_suite(
    suite: &str,
    exe: &std::path::Path,
    profile: Profile,
    passthrough: &[String],
    log_path: &std::path::Path,
    noise: &mut Noise,
) -> Result<SuiteRun> {
    let log = File::create(log_path)?;
    let mut cmd = Command::new(exe);
    cmd.current_dir(crate::workspace_root())
        .arg("--bench")
        .env(Profile::ENV_NAME, profile.name())
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    if profile == Profile::Smoke {
        cmd.arg("--test");
    }
    cmd.args(passthrough);
    let probe = SuiteNoise::start();
    let t = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("running the {suite} bench"))?;
    let secs = t.elapsed().as_secs_f64();
    probe.finish(suite, noise);
    let status = if status.success() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "the {suite} bench failed ({status}); full log: {}",
            log_path.display()
        ))
    };
    Ok(SuiteRun { secs, status })
}

/// What [`build_benches`] built.
struct Built {
    /// (suite, executable) pairs.
    suites: Vec<(String, std::path::PathBuf)>,
    /// The `concur` binary, built with the benches (same profile, same features).
    concur: std::path::PathBuf,
}

/// Builds every suite once, and with them the `concur` binary: the suites then run these
/// files, so an edit made while a long run is going cannot rebuild a suite half-way.
fn build_benches() -> Result<Built> {
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
    let mut suites = Vec::new();
    let mut concur = None;
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let kind_is = |k: &str| {
            msg["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|x| x == k))
        };
        let (Some(name), Some(exe)) = (msg["target"]["name"].as_str(), msg["executable"].as_str())
        else {
            continue;
        };
        if kind_is("bench") {
            suites.push((name.to_owned(), std::path::PathBuf::from(exe)));
        } else if kind_is("bin") && name == "concur" {
            concur = Some(std::path::PathBuf::from(exe));
        }
    }
    let concur = concur.context("cargo bench --no-run built no concur binary")?;
    Ok(Built { suites, concur })
}

/// The models the verdicts compare, in paired rounds (`concur compare --json`), then the
/// channels against their floors (`concur pingpong --against`). Each takes the profile's
/// least number of rounds, then more only while a ratio it decides is still undecided (up to
/// the profile's cap): time goes where a verdict is open.
fn run_paired(
    concur: &std::path::Path,
    catalog: &Catalog,
    profile: Profile,
    results: &[concur_report::BenchResult],
) -> Result<Vec<PairedRun>> {
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
    let mut runs: Vec<PairedRun> = Vec::new();
    print!("[paired] {} comparisons (rounds taken):", plan.len());
    for (workload, param) in &plan {
        print!(" {workload}@{param}");
        std::io::stdout().flush()?;
        let param = param.to_string();
        let run: PairedRun = crate::concur_json(
            concur,
            &[
                "compare",
                "--workload",
                workload,
                "--param",
                &param,
                "--profile",
                profile.name(),
                "--json",
            ],
        )?;
        print!(" ({})", run.rounds());
        runs.push(run);
    }
    println!(" done");
    // Channels against their floors and peers, and pools against their transports:
    // placement moves these most (a spinning round trip is a handful of cache-line
    // transfers; a blocking one, a few wake-ups), so they are paired too.
    // Those at a parameter the suites measured (a smoke run, which records nothing, runs
    // them all).
    let measured = |c: &&concur_report::catalog::Comparison| {
        results.is_empty()
            || c.param.as_ref().is_none_or(|p| {
                results
                    .iter()
                    .any(|r| r.group == c.group && r.parameter.as_ref() == Some(p))
            })
    };
    let pairs: Vec<_> = catalog
        .comparisons
        .iter()
        .filter(|c| c.paired)
        .filter(measured)
        .collect();
    print!(
        "[paired] {} floor comparisons: starts, fetches, ping-pong and bulk (rounds taken):",
        pairs.len()
    );
    for c in pairs {
        print!(" {}/{}", c.subject, c.against);
        std::io::stdout().flush()?;
        let target = c.target.map(|t| t.to_string());
        let bytes = c.bytes.map(|b| b.to_string());
        let param = c.param.clone().unwrap_or_default();
        // Starts (`concur spawn`), a model against the floor under its workload (`concur
        // compare --floor`), or round trips (`concur pingpong`).
        let workload = catalog
            .workloads
            .iter()
            .find(|w| w.bench_group == c.group)
            .map(|w| w.name.as_str());
        let mut args = if c.group == catalog.roles.spawn_group {
            vec!["spawn", "--model", &c.subject, "--against", &c.against]
        } else if let Some(workload) = workload {
            vec![
                "compare",
                "--workload",
                workload,
                "--param",
                &param,
                "--models",
                &c.subject,
                "--floor",
                &c.against,
            ]
        } else {
            vec!["pingpong", "--channel", &c.subject, "--against", &c.against]
        };
        args.extend(["--profile", profile.name(), "--json"]);
        if let Some(t) = &target {
            args.extend(["--target", t]);
        }
        if let Some(b) = &bytes {
            args.extend(["--bytes", b]);
        }
        if let Some(reach) = &c.reach {
            args.extend(["--beside", &reach.part]);
        }
        let run: PairedRun = crate::concur_json(concur, &args)?;
        print!(" ({})", run.rounds());
        runs.push(run);
    }
    println!(" done");
    Ok(runs)
}

/// The crates that stand for `threading` and `multiprocessing` (the catalog's `modules`),
/// at the versions the workspace's `Cargo.lock` pins. Read from the lockfile itself, not
/// `cargo metadata`: that needs the registry's index (network, or whatever cargo's cache
/// happens to hold), while the lockfile is in every checkout.
fn modules(catalog: &Catalog) -> Result<Vec<Module>> {
    let path = crate::workspace_root().join("Cargo.lock");
    let text = fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let names: Vec<&str> = catalog.modules.iter().map(|m| m.name.as_str()).collect();
    modules_from_lockfile(&text, &names).with_context(|| format!("parsing {}", path.display()))
}

/// [`modules`] from a lockfile's text: the versions of `crates`, in their order.
fn modules_from_lockfile(lockfile: &str, crates: &[&str]) -> Result<Vec<Module>> {
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
    Ok(crates
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
/// The workers every sweep uses: the verdicts' worker count (their figures are at 2).
const SWEEP_WORKERS: &str = "2";

/// Runs `concur crossover --json` for every model but the reference: the granularity
/// section's sweeps, each printed with its break-even as it ends.
fn run_crossover(
    concur: &std::path::Path,
    catalog: &Catalog,
    profile: Profile,
) -> Result<Vec<Sweep>> {
    /// What `concur crossover --json` prints (the crossings are recomputed from the sweep).
    #[derive(serde::Deserialize)]
    struct Printed {
        sweep: Sweep,
    }
    let t = Instant::now();
    print!("[granularity] work per task where each model breaks even:");
    let mut sweeps = Vec::new();
    for m in catalog
        .models
        .iter()
        .filter(|m| m.family != concur_report::catalog::Family::Sequential)
    {
        print!(" {}", m.name);
        std::io::stdout().flush()?;
        let printed: Printed = crate::concur_json(
            concur,
            &[
                "crossover",
                "--model",
                &m.name,
                "--workers",
                SWEEP_WORKERS,
                "--profile",
                profile.name(),
                "--json",
            ],
        )?;
        let at = printed
            .sweep
            .break_even()
            .map_or("–".to_owned(), |c| c.at.to_string());
        print!(" ({at})");
        sweeps.push(printed.sweep);
    }
    println!(" done in {:.0} s", t.elapsed().as_secs_f64());
    Ok(sweeps)
}

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
        let catalog = concur_harness::catalog();
        let found = modules(&catalog).unwrap();
        let names: Vec<&str> = found.iter().map(|m| m.name.as_str()).collect();
        let listed: Vec<&str> = catalog.modules.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, listed);
        assert!(names.contains(&"ipc-channel"), "{names:?}");
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
        let found = modules_from_lockfile(lock, &["rayon", "tokio", "rustix"]).unwrap();
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
        assert!(modules_from_lockfile("[[package]]\nname = 3", &["rayon"]).is_err());
    }
}
