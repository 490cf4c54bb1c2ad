//! The workspace's map, generated from its own files: every crate with its manifest's
//! `description`, every source file of the root package, benches, tests, examples, xtask
//! tasks, scripts and docs with their first doc line, and which of our crates each crate
//! depends on. `cargo xtask codegen` writes them into README.md and docs/ARCHITECTURE.md, so
//! the layout the docs show is the one on disk (a new crate, file or doc shows up, a removed
//! one disappears, with nothing edited by hand).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result, bail};

/// The layout table: one row per crate, directory entry and doc, in the order a reader
/// meets them.
pub(crate) fn layout_table(root: &Path) -> Result<String> {
    let manifest = Manifest::read(&root.join("Cargo.toml"))?;
    let mut rows: Vec<(String, String)> = vec![(
        "`Cargo.toml`".into(),
        format!(
            "the workspace ({} members) and its root package `concur`: the facade re-exporting \
             the crates, and the `concur` CLI",
            manifest.members.len()
        ),
    )];
    // The root package's sources file by file (`src/cli/` too: the CLI is most of it).
    rows.extend(files_with_docs(root, "src", false)?);
    rows.extend(files_with_docs(root, "src/cli", false)?);
    for member in &manifest.members {
        let crate_manifest = Manifest::read(&root.join(member).join("Cargo.toml"))?;
        let description = crate_manifest
            .description
            .with_context(|| format!("{member}/Cargo.toml has no description"))?;
        rows.push((
            format!("`{member}/`"),
            format!("`{}`: {description}", crate_manifest.name),
        ));
    }
    for dir in [
        "benches",
        "tests",
        "examples",
        "xtask/src",
        "python",
        ".ci",
        "docs",
    ] {
        rows.extend(files_with_docs(root, dir, true)?);
    }
    let mut t = String::from("| path | what it is |\n|---|---|\n");
    for (path, what) in rows {
        t.push_str(&format!("| {path} | {} |\n", what.replace('|', "\\|")));
    }
    Ok(t)
}

/// Which of the workspace's crates each member depends on (normal dependencies), one line
/// per member: the direction of the arrows the architecture promises.
pub(crate) fn dependency_list(root: &Path) -> Result<String> {
    let manifest = Manifest::read(&root.join("Cargo.toml"))?;
    let mut ours = vec![manifest.name.clone()];
    let mut members = Vec::new();
    for member in &manifest.members {
        let m = Manifest::read(&root.join(member).join("Cargo.toml"))?;
        ours.push(m.name.clone());
        members.push(m);
    }
    members.push(manifest);
    let mut t = String::new();
    for m in &members {
        let deps: Vec<String> = m
            .dependencies
            .iter()
            .filter(|d| ours.contains(d))
            .map(|d| format!("`{d}`"))
            .collect();
        let deps = if deps.is_empty() {
            "nothing of ours".to_owned()
        } else {
            deps.join(", ")
        };
        t.push_str(&format!("- `{}` → {deps}\n", m.name));
    }
    Ok(t)
}

/// What the layout needs from one `Cargo.toml`.
struct Manifest {
    name: String,
    description: Option<String>,
    members: Vec<String>,
    /// Names of the normal dependencies, sorted.
    dependencies: Vec<String>,
}

impl Manifest {
    fn read(path: &Path) -> Result<Manifest> {
        #[derive(serde::Deserialize)]
        struct Raw {
            package: Option<Package>,
            workspace: Option<Workspace>,
            #[serde(default)]
            dependencies: BTreeMap<String, toml::Value>,
        }
        #[derive(serde::Deserialize)]
        struct Package {
            name: String,
            description: Option<String>,
        }
        #[derive(serde::Deserialize)]
        struct Workspace {
            #[serde(default)]
            members: Vec<String>,
        }
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let raw: Raw =
            toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
        let package = raw
            .package
            .with_context(|| format!("{} has no [package]", path.display()))?;
        Ok(Manifest {
            name: package.name,
            description: package.description,
            members: raw.workspace.map(|w| w.members).unwrap_or_default(),
            dependencies: raw.dependencies.into_keys().collect(),
        })
    }
}

/// One row per source file, script or doc directly in `dir` (sorted), with its first doc
/// line; with `modules`, a subdirectory counts by its `mod.rs` (benches' `common/`, tests'
/// `support/`). A file without a doc line is an error: the map would have a hole.
fn files_with_docs(root: &Path, dir: &str, modules: bool) -> Result<Vec<(String, String)>> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(dir))
        .with_context(|| format!("listing {dir}"))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    let mut rows = Vec::new();
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = e.path();
        let (shown, file) = if path.is_dir() {
            let module = path.join("mod.rs");
            if !modules || !module.exists() {
                continue; // A package of its own (a member, listed as a crate) or data.
            }
            (format!("`{dir}/{name}/`"), module)
        } else if is_documented_kind(&name, dir) {
            (format!("`{dir}/{name}`"), path)
        } else {
            continue;
        };
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        let Some(doc) = first_doc_line(&text) else {
            bail!(
                "{} has no doc line (`//!`, a docstring, a `#` comment or a `# ` title): the \
                 layout table needs one",
                file.display()
            );
        };
        rows.push((shown, doc));
    }
    Ok(rows)
}

/// The files the layout shows: Rust sources, Python, Markdown docs, and CI's scripts.
fn is_documented_kind(name: &str, dir: &str) -> bool {
    name.ends_with(".rs") || name.ends_with(".py") || name.ends_with(".md") || dir == ".ci"
}

/// The first sentence of a file's leading doc: `//!` lines, a Python module docstring, a
/// shell script's first comment after the shebang, or a Markdown title.
fn first_doc_line(text: &str) -> Option<String> {
    let mut lines = text.lines().skip_while(|l| l.starts_with("#!"));
    let first = lines.next()?.trim();
    let (mut paragraph, rest_prefix): (String, &str) = if let Some(t) = first.strip_prefix("//!") {
        (t.trim().to_owned(), "//!")
    } else if let Some(t) = first.strip_prefix("\"\"\"") {
        (t.trim_end_matches("\"\"\"").trim().to_owned(), "")
    } else if let Some(t) = first.strip_prefix("# ") {
        (t.trim().to_owned(), "#")
    } else {
        return None;
    };
    // The paragraph goes on until a blank line (a Markdown title is followed by one).
    for line in lines {
        let line = line.trim();
        let body = if rest_prefix.is_empty() {
            if line.is_empty() || line.starts_with("\"\"\"") {
                break;
            }
            line.trim_end_matches("\"\"\"")
        } else {
            match line.strip_prefix(rest_prefix) {
                Some(b) if !b.trim().is_empty() => b.trim(),
                _ => break,
            }
        };
        paragraph.push(' ');
        paragraph.push_str(body);
    }
    let sentence = match paragraph.find(". ") {
        Some(i) => &paragraph[..=i],
        None => paragraph.as_str(),
    };
    // Rustdoc's intra-doc links read as plain code here.
    let sentence = sentence
        .trim()
        .trim_end_matches(':')
        .replace("[`", "`")
        .replace("`]", "`");
    (!sentence.is_empty()).then_some(sentence)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_doc_lines() {
        assert_eq!(
            first_doc_line("//! One thing. And more\n//! of it.\n\nuse x;").as_deref(),
            Some("One thing.")
        );
        assert_eq!(
            first_doc_line("//! Goes on\n//! here: a list\n//!\n//! - a").as_deref(),
            Some("Goes on here: a list")
        );
        assert_eq!(
            first_doc_line("#!/usr/bin/env python3\n\"\"\"A reference.\n\nMore.\"\"\"").as_deref(),
            Some("A reference.")
        );
        assert_eq!(first_doc_line("# Title\n\ntext").as_deref(), Some("Title"));
        assert_eq!(
            first_doc_line("#!/usr/bin/env bash\n# CI: every check\n# in turn.\nset -e").as_deref(),
            Some("CI: every check in turn.")
        );
        assert_eq!(first_doc_line("use x;\n"), None);
    }

    #[test]
    fn every_member_and_file_is_mapped() {
        let root = crate::workspace_root();
        let table = layout_table(root).unwrap();
        for member in [
            "crates/shm",
            "crates/limits",
            "crates/cluster",
            "crates/channels",
            "crates/measure",
            "examples/word-freq",
        ] {
            assert!(table.contains(&format!("`{member}/`")), "{member}: {table}");
        }
        for file in [
            "src/cli/args.rs",
            "tests/chaos.rs",
            "docs/RELIABILITY.md",
            ".ci/run",
        ] {
            assert!(table.contains(&format!("`{file}`")), "{file}: {table}");
        }
        let deps = dependency_list(root).unwrap();
        assert!(deps.contains("- `concur-shm` → nothing of ours"), "{deps}");
        assert!(
            deps.contains("- `xtask` → `concur-measure`, `concur-report`"),
            "{deps}"
        );
        assert!(
            deps.contains("- `concur-report` → nothing of ours"),
            "{deps}"
        );
    }
}
