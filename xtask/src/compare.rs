//! `cargo xtask compare A B [--fail-above PCT]`: two saved runs compared into
//! `target/concur/compare/{summary.md,index.html}` ([`concur_report::compare`]); with
//! `--fail-above`, a CI gate that exits 1 naming every figure that got slower by more than
//! PCT% with significance.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Result;
use concur_report::compare::{Comparison, Decided, Side};
use concur_report::runs::{RunError, Runs};

/// Input the user got wrong (other than a run that cannot be found or read, which is a
/// [`RunError`]): `cargo xtask` exits 2 on it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadInput(pub String);

/// Whether `e` is the user's input (a run that cannot be found, read or saved, a bad flag):
/// exit 2, as every bad input does.
pub(crate) fn is_bad_input(e: &anyhow::Error) -> bool {
    e.downcast_ref::<RunError>().is_some() || e.downcast_ref::<BadInput>().is_some()
}

/// Where the comparison is written.
fn compare_dir() -> PathBuf {
    crate::target_dir().join("concur").join("compare")
}

/// `cargo xtask compare`: exit 0, or 1 when the gate found a figure slower than it allows.
pub(crate) fn run(before: &str, after: &str, fail_above: Option<f64>) -> Result<ExitCode> {
    let passed = compare(&crate::runs(), &compare_dir(), before, after, fail_above)?;
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The name a run goes by in the comparison: its file's name without `.json`.
fn label(spec: &str, path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| spec.to_owned(), |s| s.to_string_lossy().into_owned())
}

/// Compares the runs `before` and `after` names in `runs` into `dir`; whether the gate (if
/// any) passed. Everything is checked before anything is written.
fn compare(
    runs: &Runs,
    dir: &Path,
    before: &str,
    after: &str,
    fail_above: Option<f64>,
) -> Result<bool> {
    if let Some(pct) = fail_above
        && !(pct.is_finite() && (0.0..=1000.0).contains(&pct))
    {
        return Err(BadInput(format!(
            "--fail-above takes a percentage from 0 to 1000, not {pct}"
        ))
        .into());
    }
    let (path_a, path_b) = (runs.resolve(before)?, runs.resolve(after)?);
    let (a, b) = (
        concur_report::runs::read(&path_a)?,
        concur_report::runs::read(&path_b)?,
    );
    let (label_a, label_b) = (label(before, &path_a), label(after, &path_b));
    let c = Comparison::new(
        Side {
            label: &label_a,
            data: &a,
        },
        Side {
            label: &label_b,
            data: &b,
        },
    );
    if fail_above.is_some() {
        if let Some(why) = &c.left_out.times {
            return Err(BadInput(format!("a gate compares runs of one profile: {why}")).into());
        }
        if c.changes.is_empty() {
            return Err(BadInput(format!(
                "{label_a} and {label_b} have no figure in common (a smoke run records none): \
                 there is nothing to gate"
            ))
            .into());
        }
    }
    // What an earlier comparison wrote must not be read as this one's.
    for stale in ["summary.md", "index.html", "plots/changes.svg"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let written = c.write(dir)?;
    let count = |d: Decided| c.changes.iter().filter(|x| x.decided == d).count();
    println!(
        "{label_a} → {label_b}: verdicts changed {} of {}, picks changed {}, crossovers moved {}; of \
         {} figures {} slower, {} faster",
        c.verdicts.len(),
        c.verdicts.len() + c.verdicts_kept,
        c.picks.len(),
        c.crossovers.iter().filter(|m| m.moved()).count(),
        c.changes.len(),
        count(Decided::Slower),
        count(Decided::Faster),
    );
    if !c.left_out.is_empty() {
        println!("(what only one run has was left out: see the summary's last section)");
    }
    println!("{}", written.markdown.display());
    let Some(pct) = fail_above else {
        return Ok(true);
    };
    let slower = c.regressions(pct);
    if slower.is_empty() {
        println!(
            "gate: no figure got slower by more than {pct}% with significance ({} compared)",
            c.changes.len()
        );
        return Ok(true);
    }
    eprintln!(
        "gate: {} figure(s) got slower by more than {pct}% with significance:",
        slower.len()
    );
    for x in slower {
        eprintln!(
            "  {}: {} slower ({label_a} → {label_b})",
            x.name(),
            x.slowdown
        );
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A runs directory holding the two committed fixture runs.
    fn fixture_runs() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let fixtures = crate::workspace_root().join("crates/report/tests/fixtures/compare");
        for name in ["two-cpus", "one-cpu"] {
            let file = format!("{name}.json");
            std::fs::copy(fixtures.join(&file), dir.path().join(&file)).unwrap();
        }
        dir
    }

    #[test]
    fn the_gate_fails_on_the_one_cpu_run_and_names_latest_and_previous() {
        let runs_dir = fixture_runs();
        let runs = Runs::new(runs_dir.path());
        let out = tempfile::tempdir().unwrap();
        // The one-CPU run started last: it is `latest`, the two-CPU run `previous`.
        assert!(runs.resolve("latest").unwrap().ends_with("one-cpu.json"));
        // On one CPU the parallel figures are about twice as slow: a 20% gate fails.
        assert!(!compare(&runs, out.path(), "previous", "latest", Some(20.0)).unwrap());
        let summary = std::fs::read_to_string(out.path().join("summary.md")).unwrap();
        assert!(
            summary.starts_with("# concur: two-cpus → one-cpu"),
            "{summary}"
        );
        assert!(out.path().join("index.html").is_file());
        // Without a gate it only writes.
        assert!(compare(&runs, out.path(), "two-cpus", "one-cpu", None).unwrap());
    }

    #[test]
    fn bad_input_is_an_error_of_exit_code_2_and_writes_nothing() {
        let runs_dir = fixture_runs();
        let runs = Runs::new(runs_dir.path());
        let out = tempfile::tempdir().unwrap();
        let not_a_run = runs_dir.path().join("notes.txt");
        std::fs::write(&not_a_run, "not a run").unwrap();
        let not_a_run = not_a_run.to_str().unwrap();
        let cases: [(&str, &str, Option<f64>, &str); 5] = [
            ("nope", "latest", None, "no run named `nope`"),
            (not_a_run, "latest", None, "is not a concur run: not JSON"),
            ("two-cpus", "one-cpu", Some(-1.0), "from 0 to 1000"),
            ("two-cpus", "one-cpu", Some(f64::NAN), "from 0 to 1000"),
            (
                "two-cpus",
                "two-cpus",
                Some(f64::INFINITY),
                "from 0 to 1000",
            ),
        ];
        for (a, b, gate, says) in cases {
            let e = compare(&runs, out.path(), a, b, gate).unwrap_err();
            assert!(is_bad_input(&e), "{e:#}");
            assert!(format!("{e:#}").contains(says), "{e:#}");
        }
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
        // A gate between runs of different profiles is refused, naming both.
        let mut full: serde_json::Value =
            serde_json::from_slice(&std::fs::read(runs_dir.path().join("one-cpu.json")).unwrap())
                .unwrap();
        full["profile"] = "full".into();
        std::fs::write(runs_dir.path().join("full.json"), full.to_string()).unwrap();
        let e = compare(&runs, out.path(), "two-cpus", "full", Some(10.0)).unwrap_err();
        assert!(
            is_bad_input(&e) && format!("{e}").contains("quick and full"),
            "{e}"
        );
        // A schema from elsewhere names both versions.
        full["schema"] = 9.into();
        std::fs::write(runs_dir.path().join("future.json"), full.to_string()).unwrap();
        let path = runs_dir.path().join("future.json");
        let e = compare(&runs, out.path(), path.to_str().unwrap(), "latest", None).unwrap_err();
        assert!(
            is_bad_input(&e) && format!("{e}").contains("schema 9; this concur reads schema 1")
        );
        assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
    }
}
