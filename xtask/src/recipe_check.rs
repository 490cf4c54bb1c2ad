//! `cargo xtask recipe-check`: follows `docs/CONTRIBUTING.md`'s "add a workload" and "add a
//! model" recipes literally in a scratch clone of this repository, one after the other, and
//! checks that the new workload and the new model then show up everywhere the doc promises,
//! each recipe with only the files the doc lists changed.
//!
//! The recipes' code blocks say where they go: ```` ```rust recipe=PATH ```` creates PATH,
//! ```` ```rust recipe=PATH after="LINE" ```` inserts the block after the first line equal to
//! LINE, `before="LINE"` before it; a block belongs to the recipe of the `## ` section it
//! stands in. The steps the doc lists as commands (accept the snapshots, run `cargo xtask
//! codegen`, `cargo xtask chaos`) are run as written. The scratch clone builds into
//! `target/recipe-check` (its own binaries must not replace this checkout's), kept between
//! runs so a second check compiles only the workspace crates. The clone is of `HEAD`:
//! commit before checking.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::{target_dir, workspace_root};

/// The workload the recipe adds.
const NAME: &str = "digit-sum";

/// The model the model recipe adds.
const MODEL: &str = "scoped-threads";

/// The doc sections the two recipes stand in.
const WORKLOAD_SECTION: &str = "Add a workload";
const MODEL_SECTION: &str = "Add a model";

/// The files the model recipe says it touches (the registry with the adapter, three
/// snapshots, three generated tables, the fault matrix's table).
const MODEL_EXPECTED: [&str; 8] = [
    "README.md",
    "crates/harness/README.md",
    "crates/harness/src/models/threads.rs",
    "docs/ARCHITECTURE.md",
    "docs/RELIABILITY.md",
    "tests/snapshots/cli__bad_input_is_one_line_and_exit_code_2.snap",
    "tests/snapshots/cli__list.snap",
    "tests/snapshots/cli__seed_output_under_every_model.snap",
];

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
    /// The `## ` heading the block stands under: which recipe it belongs to.
    section: String,
    path: String,
    at: Anchor,
    code: String,
}

/// Where a block goes.
#[derive(Debug, PartialEq)]
enum Anchor {
    /// A new file.
    NewFile,
    /// After the first line equal to this one.
    After(String),
    /// Before the first line equal to this one.
    Before(String),
}

pub(crate) fn run() -> Result<()> {
    let doc = std::fs::read_to_string(workspace_root().join("docs/CONTRIBUTING.md"))?;
    let blocks = blocks(&doc);
    let of =
        |section: &str| -> Vec<&Block> { blocks.iter().filter(|b| b.section == section).collect() };
    let (workload_blocks, model_blocks) = (of(WORKLOAD_SECTION), of(MODEL_SECTION));
    ensure!(
        !workload_blocks.is_empty() && !model_blocks.is_empty(),
        "docs/CONTRIBUTING.md needs ```rust recipe=… blocks under both `## {WORKLOAD_SECTION}` \
         and `## {MODEL_SECTION}`"
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
    check_workload_recipe(&repo, &workload_blocks)?;
    // The model recipe starts from the checkout with the workload added, so each recipe's
    // own changes are what `git status` shows.
    run_in(&repo, Command::new("git").args(["add", "--all"]))?;
    run_in(
        &repo,
        Command::new("git").args([
            "-c",
            "user.name=recipe-check",
            "-c",
            "user.email=recipe-check@localhost",
            "commit",
            "--quiet",
            "-m",
            "the workload recipe",
        ]),
    )?;
    check_model_recipe(&repo, &model_blocks)
}

/// Applies the workload recipe and checks `digit-sum` shows up everywhere the doc says.
fn check_workload_recipe(repo: &Path, blocks: &[&Block]) -> Result<()> {
    for b in blocks {
        apply(repo, b)?;
    }
    println!(
        "recipe-check: applied {} blocks of \"{WORKLOAD_SECTION}\" in {}",
        blocks.len(),
        repo.display()
    );
    let cargo = env!("CARGO");
    // The recipe's commands, as the doc gives them.
    run_in(
        repo,
        Command::new(cargo)
            .args(["test", "-q", "--test", "cli", "list"])
            .env("INSTA_UPDATE", "always"),
    )?;
    run_in(repo, Command::new(cargo).args(["xtask", "codegen"]))?;

    // What the doc promises.
    let changed = changed_files(repo)?;
    ensure!(
        changed == EXPECTED,
        "the recipe changed {changed:?}, the doc lists {EXPECTED:?}"
    );
    let list = output(repo, Command::new(cargo).args(["run", "-q", "--", "list"]))?;
    ensure!(list.contains(NAME), "`concur list` does not show {NAME}");
    run_in(
        repo,
        Command::new(cargo).args(["xtask", "codegen", "--check"]),
    )?;
    check_tables(
        repo,
        NAME,
        &[
            "README.md",
            "docs/ARCHITECTURE.md",
            "crates/workloads/README.md",
        ],
    )?;
    check_equivalence(repo, None)?;
    check_smoke_bench(repo, NAME, &format!("cpu_bound/{NAME}"))?;
    // The report of a quick run of just this workload: its group's table, description and
    // plot, all from the catalog the scratch clone's `concur list --json` describes.
    run_in(
        repo,
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

/// Applies the model recipe and checks `scoped-threads` shows up everywhere the doc says.
fn check_model_recipe(repo: &Path, blocks: &[&Block]) -> Result<()> {
    for b in blocks {
        apply(repo, b)?;
    }
    println!(
        "recipe-check: applied {} blocks of \"{MODEL_SECTION}\"",
        blocks.len()
    );
    let cargo = env!("CARGO");
    // The recipe's commands, as the doc gives them.
    run_in(
        repo,
        Command::new(cargo)
            .args(["test", "-q", "--test", "cli"])
            .env("INSTA_UPDATE", "always"),
    )?;
    run_in(repo, Command::new(cargo).args(["xtask", "codegen"]))?;
    run_in(repo, Command::new(cargo).args(["xtask", "chaos"]))?;

    let changed = changed_files(repo)?;
    ensure!(
        changed == MODEL_EXPECTED,
        "the model recipe changed {changed:?}, the doc lists {MODEL_EXPECTED:?}"
    );
    let list = output(repo, Command::new(cargo).args(["run", "-q", "--", "list"]))?;
    ensure!(list.contains(MODEL), "`concur list` does not show {MODEL}");
    let run = output(
        repo,
        Command::new(cargo).args([
            "run",
            "-q",
            "--",
            "run",
            "--model",
            MODEL,
            "--workload",
            "primes",
            "--size",
            "200000",
            "--workers",
            "2",
            "--json",
        ]),
    )?;
    let run: serde_json::Value = serde_json::from_str(&run).context("concur run --json")?;
    ensure!(
        run["checksum_ok"] == true,
        "{MODEL} gave another checksum than sequential: {run}"
    );
    run_in(
        repo,
        Command::new(cargo).args(["xtask", "codegen", "--check"]),
    )?;
    check_tables(
        repo,
        MODEL,
        &[
            "README.md",
            "docs/ARCHITECTURE.md",
            "crates/harness/README.md",
            "docs/RELIABILITY.md",
        ],
    )?;
    check_equivalence(repo, Some(MODEL))?;
    check_smoke_bench(repo, MODEL, &format!("/{MODEL}/"))?;
    println!(
        "recipe-check: {MODEL} is in concur list, concur run (checksum as sequential's), the \
         equivalence tests, the fault matrix, the cpu_bound bench and the generated tables; \
         the recipe touched exactly {} files",
        MODEL_EXPECTED.len()
    );
    Ok(())
}

/// `name` shows (as `` `name` ``) in each of `files`: their generated tables.
fn check_tables(repo: &Path, name: &str, files: &[&str]) -> Result<()> {
    for file in files {
        let text = std::fs::read_to_string(repo.join(file))?;
        ensure!(
            text.contains(&format!("`{name}`")),
            "{file}'s table lacks {name}"
        );
    }
    Ok(())
}

/// The equivalence tests (every model × every workload against `sequential`) pass, and,
/// given a model, have its trials (a workload has none of its own: every trial runs it).
fn check_equivalence(repo: &Path, model: Option<&str>) -> Result<()> {
    let cargo = env!("CARGO");
    if let Some(name) = model {
        let listed = output(
            repo,
            Command::new(cargo).args(["test", "-q", "--test", "equivalence", "--", "--list"]),
        )?;
        ensure!(
            listed.contains(&format!("{name}::")),
            "the equivalence tests have no trial of {name}:\n{listed}"
        );
    }
    let ran = output(
        repo,
        Command::new(cargo).args(["test", "-q", "--test", "equivalence"]),
    )?;
    ensure!(
        ran.contains("test result: ok"),
        "the equivalence tests did not pass:\n{ran}"
    );
    Ok(())
}

/// The `cpu_bound` bench, smoke profile, filtered to `filter`, prints `expect`.
fn check_smoke_bench(repo: &Path, filter: &str, expect: &str) -> Result<()> {
    let bench = output(
        repo,
        Command::new(env!("CARGO"))
            .args([
                "bench",
                "-q",
                "--bench",
                "cpu_bound",
                "--",
                "--test",
                filter,
            ])
            .env("CONCUR_BENCH_PROFILE", "smoke"),
    )?;
    ensure!(
        bench.contains(expect),
        "the cpu_bound bench has no {expect}:\n{bench}"
    );
    Ok(())
}

/// The ```` ```rust recipe=… ```` blocks of a document, in order.
fn blocks(doc: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(heading) = line.strip_prefix("## ") {
            section = heading.trim().to_owned();
            continue;
        }
        let Some(info) = line.strip_prefix("```rust recipe=") else {
            continue;
        };
        let (path, at) = if let Some((p, a)) = info.split_once(" after=") {
            (p, Anchor::After(a.trim_matches('"').to_owned()))
        } else if let Some((p, a)) = info.split_once(" before=") {
            (p, Anchor::Before(a.trim_matches('"').to_owned()))
        } else {
            (info, Anchor::NewFile)
        };
        let code: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        out.push(Block {
            section: section.clone(),
            path: path.trim().to_owned(),
            at,
            code: code.join("\n") + "\n",
        });
    }
    out
}

/// Puts one block where it says.
fn apply(repo: &Path, b: &Block) -> Result<()> {
    let path = repo.join(&b.path);
    let (anchor, offset) = match &b.at {
        Anchor::NewFile => {
            ensure!(!path.exists(), "{} exists already", b.path);
            std::fs::write(&path, &b.code)?;
            return Ok(());
        }
        Anchor::After(line) => (line, 1),
        Anchor::Before(line) => (line, 0),
    };
    let text = std::fs::read_to_string(&path)?;
    let at = text
        .lines()
        .position(|l| l == anchor)
        .with_context(|| format!("{}: no line {anchor:?}", b.path))?;
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(at + offset, b.code.trim_end_matches('\n'));
    std::fs::write(&path, lines.join("\n") + "\n")?;
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
        let doc = "## One\ntext\n```rust recipe=a/b.rs\nfn x() {}\n```\n```rust\nnot a recipe\n```\n\
                   ```rust recipe=lib.rs after=\"mod a;\"\nmod b;\n```\n## Two\n\
                   ```rust recipe=lib.rs before=\"    // \"here\".\"\nx\n```\n";
        assert_eq!(
            blocks(doc),
            [
                Block {
                    section: "One".into(),
                    path: "a/b.rs".into(),
                    at: Anchor::NewFile,
                    code: "fn x() {}\n".into()
                },
                Block {
                    section: "One".into(),
                    path: "lib.rs".into(),
                    at: Anchor::After("mod a;".into()),
                    code: "mod b;\n".into()
                },
                Block {
                    section: "Two".into(),
                    path: "lib.rs".into(),
                    at: Anchor::Before("    // \"here\".".into()),
                    code: "x\n".into()
                },
            ]
        );
    }

    /// The file counts the docs state are the recipes' (what `run` checks in a scratch
    /// clone), and each recipe's section names every file it changes.
    #[test]
    fn the_docs_state_the_recipes_file_counts() {
        let doc = std::fs::read_to_string(workspace_root().join("docs/CONTRIBUTING.md")).unwrap();
        let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
        for (section, files) in [
            (WORKLOAD_SECTION, &EXPECTED[..]),
            (MODEL_SECTION, &MODEL_EXPECTED[..]),
        ] {
            let start = doc.find(&format!("## {section}\n")).unwrap();
            let text = &doc[start + 3..];
            let text = &text[..text.find("\n## ").unwrap_or(text.len())];
            let count = format!("Files, exactly ({}):", files.len());
            assert!(text.contains(&count), "{section}: no {count:?}");
            for file in files {
                let name = file.rsplit('/').next().unwrap();
                assert!(
                    text.contains(file) || text.contains(name),
                    "{section} does not name {file}"
                );
            }
            let stated = format!("({} files)", files.len());
            assert!(
                readme.contains(&stated),
                "README.md lacks {stated:?} for {section}"
            );
        }
    }

    /// The recipe's anchors exist in this checkout, so the doc matches the code it edits.
    #[test]
    fn the_recipe_anchors_exist() {
        let doc = std::fs::read_to_string(workspace_root().join("docs/CONTRIBUTING.md")).unwrap();
        let blocks = blocks(&doc);
        for section in [WORKLOAD_SECTION, MODEL_SECTION] {
            assert!(blocks.iter().any(|b| b.section == section), "{section}");
        }
        for b in blocks {
            if let Anchor::After(anchor) | Anchor::Before(anchor) = &b.at {
                let text = std::fs::read_to_string(workspace_root().join(&b.path)).unwrap();
                assert!(text.lines().any(|l| l == anchor), "{}: {anchor}", b.path);
            }
        }
    }
}
