//! `cargo xtask compare A B [--fail-above PCT]`: two saved runs compared into
//! `target/concur/compare/{summary.md,index.html}` ([`concur_report::compare`]); with
//! `--fail-above`, a CI gate that exits 1 naming every figure that got slower by more than
//! PCT% with significance.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use concur_report::compare::{Comparison, Decided, Side};

/// Input the user got wrong (other than a run that cannot be found or read, which is a
/// [`concur_report::runs::RunError`]): `cargo xtask` exits 2 on it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct BadInput(pub String);

/// Where the comparison is written.
pub(crate) fn compare_dir() -> PathBuf {
    crate::target_dir().join("concur").join("compare")
}

/// The name a run goes by in the comparison: its saved name, else its file's stem.
fn label(spec: &str, path: &std::path::Path) -> String {
    path.file_stem()
        .map_or_else(|| spec.to_owned(), |s| s.to_string_lossy().into_owned())
}

pub(crate) fn run(before: &str, after: &str, fail_above: Option<f64>) -> Result<ExitCode> {
    if let Some(pct) = fail_above
        && !(pct.is_finite() && (0.0..=1000.0).contains(&pct))
    {
        return Err(BadInput(format!(
            "--fail-above takes a percentage from 0 to 1000, not {pct}"
        ))
        .into());
    }
    let runs = crate::runs();
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
    let dir = compare_dir();
    // What an earlier comparison wrote must not be read as this one's.
    for stale in ["summary.md", "index.html", "plots/changes.svg"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let written = c.write(&dir)?;
    let count = |d: Decided| c.changes.iter().filter(|x| x.decided == d).count();
    println!(
        "{label_a} → {label_b}: {} of {} verdicts changed, {} picks changed, {} crossovers \
         moved; of {} figures {} slower, {} faster",
        c.verdicts.len(),
        c.verdicts.len() + c.verdicts_kept,
        c.picks.len(),
        c.crossovers.iter().filter(|m| m.moved()).count(),
        c.changes.len(),
        count(Decided::Slower),
        count(Decided::Faster),
    );
    if !c.left_out.is_empty() {
        println!("(some figures only one run has were left out: see the summary's last section)");
    }
    println!("{}", written.markdown.display());
    let Some(pct) = fail_above else {
        return Ok(ExitCode::SUCCESS);
    };
    let slower = c.regressions(pct);
    if slower.is_empty() {
        println!(
            "gate: no figure got slower by more than {pct}% with significance ({} compared)",
            c.changes.len()
        );
        return Ok(ExitCode::SUCCESS);
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
    Ok(ExitCode::FAILURE)
}
