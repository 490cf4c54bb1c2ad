//! `cargo xtask recipe-check`: follows `docs/CONTRIBUTING.md`'s "add a workload" recipe
//! literally in a scratch clone of this repository, and checks that the new workload then
//! shows up everywhere the doc promises, with only the files the doc lists changed.
//!
//! The recipe's code blocks say where they go: ```` ```rust recipe=PATH ```` creates PATH,
//! ```` ```rust recipe=PATH after="LINE" ```` inserts the block after the first line equal to
//! LINE. The steps the doc lists as commands (accept the `concur list` snapshot, run
//! `cargo xtask codegen`) are run as written. The scratch clone builds into
//! `target/recipe-check` (its own binaries must not replace this checkout's), kept between
//! runs so a second check compiles only the workspace crates. The clone is of `HEAD`:
//! commit before checking.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::{target_dir, workspace_root};

/// The workload the recipe adds.
const NAME: &str = "digit-sum";

/// The files the recipe says it touches (the workload's own file, the registry, the
/// accepted snapshot, the generated tables).
const EXPECTED: [&str; 6] = [
    "README.md",
    "crates/workloads/README.md",
    "crates/workloads/src/digit_sum.rs",
    "crates/workloads/src/lib.rs",
    "docs/ARCHITECTURE.md",
    "tests/snapshots/cli__list.snap",
];

/// One placement of a recipe block.
#[derive(Debug, PartialEq)]
struct Block {
    path: String,
    after: Option<String>,
    code: String,
}

pub(crate) fn run() -> Result<()> {
    let doc = std::fs::read_to_string(workspace_root().join("docs/CONTRIBUTING.md"))?;
    let blocks = blocks(&doc);
    ensure!(
        !blocks.is_empty(),
        "docs/CONTRIBUTING.md has no ```rust recipe=… blocks"
    );
    let scratch = tempfile::Builder::new()
        .prefix("concur-recipe-check-")
        .tempdir()?;
    let repo = scratch.path().join("concur");
    run_in(
        workspace_root(),
        Command::new("git")
            .args(["clone", "--quiet", "--no-hardlinks"])
            .arg(workspace_root())
            .arg(&repo),
    )?;
    for b in &blocks {
        apply(&repo, b)?;
    }
    println!(
        "recipe-check: applied {} blocks of docs/CONTRIBUTING.md in {}",
        blocks.len(),
        repo.display()
    );
    let cargo = env!("CARGO");
    // The recipe's commands, as the doc gives them.
    run_in(
        &repo,
        Command::new(cargo)
            .args(["test", "-q", "--test", "cli", "list"])
            .env("INSTA_UPDATE", "always"),
    )?;
    run_in(&repo, Command::new(cargo).args(["xtask", "codegen"]))?;

    // What the doc promises.
    let changed = changed_files(&repo)?;
    ensure!(
        changed == EXPECTED,
        "the recipe changed {changed:?}, the doc lists {EXPECTED:?}"
    );
    let list = output(&repo, Command::new(cargo).args(["run", "-q", "--", "list"]))?;
    ensure!(list.contains(NAME), "`concur list` does not show {NAME}");
    run_in(
        &repo,
        Command::new(cargo).args(["xtask", "codegen", "--check"]),
    )?;
    for file in [
        "README.md",
        "docs/ARCHITECTURE.md",
        "crates/workloads/README.md",
    ] {
        let text = std::fs::read_to_string(repo.join(file))?;
        ensure!(
            text.contains(&format!("`{NAME}`")),
            "{file}'s table lacks {NAME}"
        );
    }
    let equivalence = output(
        &repo,
        Command::new(cargo).args(["test", "-q", "--test", "equivalence"]),
    )?;
    ensure!(
        equivalence.contains("test result: ok"),
        "the equivalence tests did not pass:\n{equivalence}"
    );
    let bench = output(
        &repo,
        Command::new(cargo)
            .args(["bench", "-q", "--bench", "cpu_bound", "--", "--test", NAME])
            .env("CONCUR_BENCH_PROFILE", "smoke"),
    )?;
    ensure!(
        bench.contains(&format!("cpu_bound/{NAME}")),
        "the cpu_bound bench has no cpu_bound/{NAME} group:\n{bench}"
    );
    // The report of a quick run of just this workload: its group's table, description and
    // plot, all from the catalog the scratch clone's `concur list --json` describes.
    run_in(
        &repo,
        Command::new(cargo).args(["xtask", "bench", "--quick", "--filter", NAME]),
    )?;
    let report = target_dir().join("recipe-check/concur/report");
    let summary = std::fs::read_to_string(report.join("summary.md"))?;
    let group = format!("cpu_bound/{NAME}");
    ensure!(
        summary.contains(&format!("## {group}\n")),
        "the quick run's report has no {group} section"
    );
    ensure!(
        summary.contains("Summing decimal digits"),
        "the report does not describe {group} from the registry"
    );
    let plot = report.join(format!("plots/{}.svg", group.replace('/', "_")));
    ensure!(plot.is_file(), "the report has no plot {}", plot.display());
    println!(
        "recipe-check: {NAME} is in concur list, the equivalence tests, the cpu_bound bench, \
         a quick run's report (table, description, plot) and the generated tables; the recipe \
         touched exactly {} files",
        EXPECTED.len()
    );
    Ok(())
}

/// The ```` ```rust recipe=… ```` blocks of a document, in order.
fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```rust recipe=") else {
            continue;
        };
        let (path, after) = match info.split_once(" after=") {
            Some((p, a)) => (p, Some(a.trim_matches('"').to_owned())),
            None => (info, None),
        };
        let code: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        out.push(Block {
            path: path.trim().to_owned(),
            after,
            code: code.join("\n") + "\n",
        });
    }
    out
}

/// Puts one block where it says.
fn apply(repo: &Path, b: &Block) -> Result<()> {
    let path = repo.join(&b.path);
    match &b.after {
        None => {
            ensure!(!path.exists(), "{} exists already", b.path);
            std::fs::write(&path, &b.code)?;
        }
        Some(anchor) => {
            let text = std::fs::read_to_string(&path)?;
            let at = text
                .lines()
                .position(|l| l == anchor)
                .with_context(|| format!("{}: no line {anchor:?}", b.path))?;
            let mut lines: Vec<&str> = text.lines().collect();
            lines.insert(at + 1, b.code.trim_end_matches('\n'));
            std::fs::write(&path, lines.join("\n") + "\n")?;
        }
    }
    Ok(())
}

/// The files that differ from the clone's HEAD, sorted.
fn changed_files(repo: &Path) -> Result<Vec<String>> {
    let status = output(
        repo,
        Command::new("git").args(["status", "--porcelain", "--untracked-files=all"]),
    )?;
    let mut files: Vec<String> = status
        .lines()
        .filter_map(|l| l.get(3..))
        .map(str::to_owned)
        .collect();
    files.sort();
    Ok(files)
}

fn run_in(dir: &Path, cmd: &mut Command) -> Result<()> {
    output(dir, cmd).map(drop)
}

/// Runs `cmd` in `dir` (building into `target/recipe-check`) and returns its
/// stdout; fails with its stderr.
fn output(dir: &Path, cmd: &mut Command) -> Result<String> {
    let out = cmd
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target_dir().join("recipe-check"))
        .output()
        .with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_recipe_blocks_and_their_places() {
        let doc = "text\n```rust recipe=a/b.rs\nfn x() {}\n```\n```rust\nnot a recipe\n```\n\
                   ```rust recipe=lib.rs after=\"mod a;\"\nmod b;\n```\n";
        assert_eq!(
            blocks(doc),
            [
                Block {
                    path: "a/b.rs".into(),
                    after: None,
                    code: "fn x() {}\n".into()
                },
                Block {
                    path: "lib.rs".into(),
                    after: Some("mod a;".into()),
                    code: "mod b;\n".into()
                },
            ]
        );
    }

    /// The recipe's anchors exist in this checkout, so the doc matches the code it edits.
    #[test]
    fn the_recipe_anchors_exist() {
        let doc = std::fs::read_to_string(workspace_root().join("docs/CONTRIBUTING.md")).unwrap();
        for b in blocks(&doc) {
            if let Some(anchor) = &b.after {
                let text = std::fs::read_to_string(workspace_root().join(&b.path)).unwrap();
                assert!(text.lines().any(|l| l == anchor), "{}: {anchor}", b.path);
            }
        }
    }
}
