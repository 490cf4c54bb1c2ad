//! `cargo xtask`: concur's build tasks. This file only parses flags and dispatches; each
//! task lives in its own module.
//!
//! - `cargo xtask bench [--quick | --smoke] [--filter RE] [--save-baseline N] [--baseline N]
//!   [--save-run NAME]`: run every bench suite, the probes and the CPython reference, then
//!   write the report and keep the run in `target/concur/runs/`.
//! - `cargo xtask report`: re-render the report from the data the last bench run saved.
//! - `cargo xtask compare A B [--fail-above PCT]`: two saved runs compared (and gated).
//! - `cargo xtask check-report [--fixture | --compare]`: load the report (or the fixtures'
//!   comparison) in headless Chromium, check links and plots.
//! - `cargo xtask codegen [--check]`: the docs' registry tables, written (or checked).
//! - `cargo xtask recipe-check`: follow the "add a workload" recipe in a scratch clone.
//! - `cargo xtask chaos`: run the fault matrix and write its table into docs/RELIABILITY.md.
//! - `cargo xtask readme-examples`: build and run every crate README's examples in a scratch
//!   package outside the workspace.

mod bench;
mod check;
mod codegen;
mod compare;
mod layout;
mod readme_examples;
mod recipe_check;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use concur_report::Catalog;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "concur's build tasks")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Run every bench suite, then write target/concur/report/{summary.md,index.html}.
    Bench {
        /// Small sizes and short measurements: a couple of minutes.
        #[arg(long, conflicts_with = "smoke")]
        quick: bool,
        /// Every benchmark once in criterion's test mode, at tiny sizes (CI's check).
        #[arg(long)]
        smoke: bool,
        /// Only the benchmarks whose id matches this regular expression (criterion's filter).
        #[arg(long, value_name = "REGEX")]
        filter: Option<String>,
        /// Save this run's figures as criterion baseline NAME.
        #[arg(long, value_name = "NAME", conflicts_with = "baseline")]
        save_baseline: Option<String>,
        /// Compare against criterion baseline NAME (saved earlier) instead of the last run.
        #[arg(long, value_name = "NAME")]
        baseline: Option<String>,
        /// Keep this run as target/concur/runs/NAME.json (default: named by its start time
        /// and host); a saved run is never overwritten.
        #[arg(long, value_name = "NAME")]
        save_run: Option<String>,
    },
    /// Re-render the report from target/concur/report/data.json without running anything.
    Report,
    /// Compare two saved runs into target/concur/compare/{summary.md,index.html}: the
    /// machines, the verdicts, picks and crossovers that changed, every figure's change.
    Compare {
        /// The first run (before): a saved run's name, a path to a run file, `latest` or
        /// `previous`.
        before: String,
        /// The second run (after), named the same ways.
        after: String,
        /// Exit 1 when a figure got slower by more than PCT percent with significance (its
        /// estimate past PCT, its whole 95% interval on the slow side), naming it.
        #[arg(long, value_name = "PCT")]
        fail_above: Option<f64>,
    },
    /// Load the report in headless Chromium, check every link and plot and save a
    /// screenshot beside it (skipped when no Chromium is installed, unless
    /// CONCUR_REQUIRE_CHROMIUM is set).
    CheckReport {
        /// Check the report rendered from the saved fixture run (real figures from a quick
        /// run) instead of the last bench run's.
        #[arg(long, conflicts_with = "compare")]
        fixture: bool,
        /// Check the comparison of the two committed fixture runs instead.
        #[arg(long)]
        compare: bool,
    },
    /// Write the docs' tables of models, workloads and channels from the registries; with
    /// `--check`, fail when they are stale instead.
    Codegen {
        /// Only check that the tables are up to date (CI).
        #[arg(long)]
        check: bool,
    },
    /// Follow docs/CONTRIBUTING.md's "add a workload" recipe in a scratch clone and check the
    /// workload shows up everywhere the doc promises.
    RecipeCheck,
    /// Run the fault matrix (every model under every fault) and write its table into
    /// docs/RELIABILITY.md.
    Chaos,
    /// Build and run every crate README's examples in a scratch package outside the
    /// workspace, depending only on what the README tells a user to add.
    ReadmeExamples,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.task {
        Task::Bench {
            quick,
            smoke,
            filter,
            save_baseline,
            baseline,
            save_run,
        } => {
            let profile = if smoke {
                concur_report::Profile::Smoke
            } else if quick {
                concur_report::Profile::Quick
            } else {
                concur_report::Profile::Full
            };
            let mut passthrough = Vec::new();
            if let Some(f) = filter {
                passthrough.push(f);
            }
            if let Some(n) = save_baseline {
                passthrough.extend(["--save-baseline".to_owned(), n]);
            }
            if let Some(n) = baseline {
                passthrough.extend(["--baseline".to_owned(), n]);
            }
            bench::run(profile, &passthrough, save_run.as_deref()).map(|()| ExitCode::SUCCESS)
        }
        Task::Compare {
            before,
            after,
            fail_above,
        } => compare::run(&before, &after, fail_above),
        other => run_task(other).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            if compare::is_bad_input(&e) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The tasks that only succeed or fail.
fn run_task(task: Task) -> Result<()> {
    match task {
        Task::Report => rerender(),
        Task::CheckReport { fixture, compare } => check::run(if compare {
            check::Page::FixtureComparison
        } else if fixture {
            check::Page::FixtureReport
        } else {
            check::Page::LastReport
        }),
        Task::ReadmeExamples => readme_examples::run(),
        Task::Codegen { check } => codegen::run(check),
        Task::RecipeCheck => recipe_check::run(),
        Task::Chaos => chaos(),
        Task::Bench { .. } | Task::Compare { .. } => unreachable!("dispatched in main"),
    }
}

/// The fault matrix (`tests/chaos.rs`), run in release mode, writing its table into
/// docs/RELIABILITY.md.
fn chaos() -> Result<()> {
    let doc = workspace_root().join("docs/RELIABILITY.md");
    let status = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["test", "--release", "-p", "concur", "--test", "chaos"])
        .env("CONCUR_CHAOS_WRITE", &doc)
        .status()
        .context("cargo test --test chaos")?;
    if !status.success() {
        bail!("the fault matrix failed: see the cells above");
    }
    Ok(())
}

/// The workspace root (the parent of this crate's manifest directory).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
}

/// Cargo's target directory: `CARGO_TARGET_DIR` if set, else `<root>/target`.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// Where the report goes.
pub fn report_dir() -> PathBuf {
    target_dir().join("concur").join("report")
}

/// Where every run is kept (`cargo xtask compare` reads them).
pub fn runs() -> concur_report::runs::Runs {
    concur_report::runs::Runs::new(target_dir().join("concur").join("runs"))
}

/// `cargo xtask report`: the report written again from the saved `data.json`.
fn rerender() -> Result<()> {
    let dir = report_dir();
    if !dir.join("data.json").is_file() {
        bail!(
            "{} does not exist: run `cargo xtask bench` first",
            dir.join("data.json").display()
        );
    }
    let written = concur_report::rerender(&dir)?;
    println!("{}", written.html.display());
    Ok(())
}

/// Builds the `concur` binary (release or debug) and returns its path.
pub(crate) fn concur_binary(release: bool) -> Result<PathBuf> {
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build
        .current_dir(workspace_root())
        .args(["build", "-q", "-p", "concur", "--bin", "concur"]);
    if release {
        build.arg("--release");
    }
    let status = build.status().context("building the concur binary")?;
    if !status.success() {
        bail!("building the concur binary failed ({status})");
    }
    let profile = if release { "release" } else { "debug" };
    Ok(target_dir().join(profile).join("concur"))
}

/// The registries, as `concur list --json` describes them.
pub(crate) fn catalog(concur: &Path) -> Result<Catalog> {
    concur_json(concur, &["list", "--json"])
}

/// Runs `concur ARGS` (ending in `--json`) from the workspace root and parses what it
/// prints; its stderr is the error when it fails.
pub(crate) fn concur_json<T: serde::de::DeserializeOwned>(
    concur: &Path,
    args: &[&str],
) -> Result<T> {
    let what = format!("concur {}", args.join(" "));
    let out = Command::new(concur)
        .current_dir(crate::workspace_root())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    serde_json::from_slice(&out.stdout).with_context(|| format!("parsing what {what} printed"))
}
