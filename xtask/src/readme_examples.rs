//! `cargo xtask readme-examples`: every crate's README examples, built and run the way a user
//! outside this workspace would: a fresh package in a temporary directory that depends on the
//! crate (by path) plus exactly what the README's `[dependencies]` block tells the user to
//! add, one binary per ```` ```rust ```` block.
//!
//! A block without `fn main` is wrapped in one (as rustdoc does); `# ` hidden lines are
//! shown; `ignore` blocks are skipped and `no_run` blocks only built. The workspace's
//! `Cargo.lock` is copied in, so the scratch package builds against the same versions, and
//! all scratch packages share one target directory (`target/readme-examples`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::{target_dir, workspace_root};

/// How long one example may run before it counts as hung.
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// One ```` ```rust ```` block of a README.
#[derive(Debug, PartialEq)]
struct Example {
    /// The line of the opening fence (1-based).
    line: usize,
    code: String,
    run: bool,
}

/// A crate of the workspace: its package name and directory.
struct Crate {
    name: String,
    dir: PathBuf,
}

/// Runs the check for every crate under `crates/`.
pub(crate) fn run() -> Result<()> {
    let crates = workspace_crates()?;
    ensure!(!crates.is_empty(), "no crates found under crates/");
    let scratch = tempfile::Builder::new()
        .prefix("concur-readme-examples-")
        .tempdir()
        .context("creating the scratch directory")?;
    let target = target_dir().join("readme-examples");
    let mut failures = Vec::new();
    let mut count = 0;
    for krate in &crates {
        let readme = std::fs::read_to_string(krate.dir.join("README.md"))
            .with_context(|| format!("{}: reading README.md", krate.name))?;
        let examples = examples(&readme);
        if examples.is_empty() {
            failures.push(format!("{}: README.md has no ```rust example", krate.name));
            continue;
        }
        let deps = dependencies(&readme, &crates)
            .with_context(|| format!("{}: README.md's [dependencies] block", krate.name))?;
        ensure!(
            deps.iter().any(|(name, _)| *name == krate.name),
            "{}: README.md's [dependencies] block does not name the crate itself",
            krate.name
        );
        let pkg = scratch.path().join(&krate.name);
        write_package(&pkg, &krate.name, &deps, &examples)?;
        println!(
            "readme-examples: {} ({} example{}, depends on {})",
            krate.name,
            examples.len(),
            if examples.len() == 1 { "" } else { "s" },
            deps.iter()
                .map(|(n, _)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let built = Command::new(env!("CARGO"))
            .args(["build", "--quiet", "--bins"])
            .current_dir(&pkg)
            .env("CARGO_TARGET_DIR", &target)
            .status()
            .context("running cargo build")?;
        if !built.success() {
            failures.push(format!("{}: the examples do not build", krate.name));
            continue;
        }
        for (i, ex) in examples.iter().enumerate() {
            count += 1;
            if !ex.run {
                continue;
            }
            let bin = target.join("debug").join(bin_name(&krate.name, i));
            if let Err(e) = run_one(&bin) {
                failures.push(format!(
                    "{}: the example at README.md line {} {e}",
                    krate.name, ex.line
                ));
            }
        }
    }
    if !failures.is_empty() {
        bail!(
            "{} README example problem(s):\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
    println!(
        "readme-examples: {count} examples of {} crates built and ran outside the workspace",
        crates.len()
    );
    Ok(())
}

/// Runs one example binary, bounded by [`RUN_LIMIT`].
fn run_one(bin: &Path) -> Result<()> {
    let mut child = Command::new(bin)
        .spawn()
        .with_context(|| format!("could not start {}", bin.display()))?;
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            ensure!(status.success(), "failed: {status}");
            return Ok(());
        }
        if started.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            bail!("did not finish within {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn bin_name(krate: &str, i: usize) -> String {
    format!("{krate}-example-{}", i + 1)
}

/// The workspace's library crates: every `crates/*/Cargo.toml`.
fn workspace_crates() -> Result<Vec<Crate>> {
    let mut crates = Vec::new();
    for entry in std::fs::read_dir(workspace_root().join("crates"))? {
        let dir = entry?.path();
        let Ok(manifest) = std::fs::read_to_string(dir.join("Cargo.toml")) else {
            continue;
        };
        let name = manifest
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .with_context(|| format!("{}: no package name", dir.display()))?;
        crates.push(Crate {
            name: name.to_owned(),
            dir,
        });
    }
    crates.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(crates)
}

/// The ```` ```rust ```` blocks of a README, hidden lines shown.
fn examples(readme: &str) -> Vec<Example> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<String>, bool)> = None;
    for (n, line) in readme.lines().enumerate() {
        match &mut open {
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    let tags: Vec<&str> = info.split(',').map(str::trim).collect();
                    if tags.first() == Some(&"rust") && !tags.contains(&"ignore") {
                        open = Some((n + 1, Vec::new(), !tags.contains(&"no_run")));
                    }
                }
            }
            Some((start, lines, run)) => {
                if line.starts_with("```") {
                    let code = lines.join("\n");
                    let code = if code.contains("fn main(") {
                        code
                    } else {
                        format!("fn main() {{\n{code}\n}}")
                    };
                    out.push(Example {
                        line: *start,
                        code,
                        run: *run,
                    });
                    open = None;
                } else {
                    let shown = match line.strip_prefix('#') {
                        Some(rest) if rest.is_empty() || rest.starts_with(' ') => {
                            rest.trim_start_matches(' ')
                        }
                        _ => line,
                    };
                    lines.push(shown.to_owned());
                }
            }
        }
    }
    out
}

/// The README's ```` ```toml ```` block with `[dependencies]`, as (name, value) pairs; a
/// workspace crate's value becomes a path to it.
fn dependencies(readme: &str, crates: &[Crate]) -> Result<Vec<(String, String)>> {
    let block = readme
        .split("```toml")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .find(|b| b.contains("[dependencies]"))
        .context("no ```toml block with [dependencies] (tell the user what to add)")?;
    let mut deps = Vec::new();
    for line in block.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() || line.starts_with('[') {
            continue;
        }
        let (name, value) = line
            .split_once('=')
            .with_context(|| format!("not a `name = value` line: {line}"))?;
        let name = name.trim().to_owned();
        let value = match crates.iter().find(|c| c.name == name) {
            Some(c) => format!("{{ path = {:?} }}", c.dir.display().to_string()),
            None => value.trim().to_owned(),
        };
        deps.push((name, value));
    }
    Ok(deps)
}

/// Writes the scratch package: its manifest (its own workspace), the workspace's lock file,
/// one binary per example.
fn write_package(
    pkg: &Path,
    krate: &str,
    deps: &[(String, String)],
    examples: &[Example],
) -> Result<()> {
    let bins = pkg.join("src").join("bin");
    std::fs::create_dir_all(&bins)?;
    let mut manifest = format!(
        "[package]\nname = \"readme-check-{krate}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\
         publish = false\n\n[dependencies]\n"
    );
    for (name, value) in deps {
        manifest.push_str(&format!("{name} = {value}\n"));
    }
    manifest.push_str("\n[workspace]\n");
    std::fs::write(pkg.join("Cargo.toml"), manifest)?;
    std::fs::copy(workspace_root().join("Cargo.lock"), pkg.join("Cargo.lock"))?;
    for (i, ex) in examples.iter().enumerate() {
        std::fs::write(bins.join(format!("{}.rs", bin_name(krate, i))), &ex.code)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_rust_blocks_wraps_them_and_reads_the_dependencies() {
        let readme = "intro\n```toml\n[dependencies]\nconcur-x = \"0.1\"\nserde = { version = \"1\" } # also\n```\n\
                      ```rust\nlet a = 1;\n# let b = 2;\n```\n```text\nnot code\n```\n\
                      ```rust,no_run\nfn main() {}\n```\n```rust,ignore\nbroken\n```\n";
        let ex = examples(readme);
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0].code, "fn main() {\nlet a = 1;\nlet b = 2;\n}");
        assert!(ex[0].run && !ex[1].run);
        assert_eq!(ex[1].line, 14);
        let crates = [Crate {
            name: "concur-x".into(),
            dir: "/w/crates/x".into(),
        }];
        let deps = dependencies(readme, &crates).unwrap();
        assert_eq!(
            deps,
            [
                (
                    "concur-x".to_owned(),
                    "{ path = \"/w/crates/x\" }".to_owned()
                ),
                ("serde".to_owned(), "{ version = \"1\" }".to_owned()),
            ]
        );
        assert!(dependencies("no block", &crates).is_err());
    }
}
