//! concur's report as a library: the data of a bench run, the verdicts computed from it,
//! the plots, and one document written out as Markdown (`summary.md`) and HTML
//! (`index.html`). It reads and renders; it measures nothing (the probes are
//! `concur-measure`'s) and names no model (everything comes from the [`Catalog`]).
//!
//! - [`RunData`]: what one run measured (criterion's figures, idle probes, the CPython
//!   reference) and the [`Catalog`] of models, workloads and groups it was measured with;
//!   its lookups (`find`, `speedup`, `ratio`, `group_link`) are the only ones the report uses.
//! - [`criterion::load`]: criterion's own output files as [`BenchResult`]s.
//! - [`crossover`], [`granularity`]: where each model starts to pay off, measured by a sweep
//!   of task sizes and predicted from its per-task cost.
//! - [`page::document`]: the report as a [`doc::Document`]; [`markdown`] and [`html`] write it.
//! - [`compare`]: two runs compared (what changed, by how much, and whether it is real).
//! - [`runs`]: every run kept as one versioned JSON file, found by name, path, `latest` or
//!   `previous`.
//! - [`write()`]: all of it into a directory: `data.json`, `plots/*.svg`, `summary.md`,
//!   `index.html`.
//!
//! ```
//! use concur_report::{Catalog, Machine, Profile, RunData, markdown, page};
//!
//! let machine = Machine {
//!     cpu: "a CPU".into(),
//!     cores: 2,
//!     memory_gib: 4.0,
//!     kernel: "6.1".into(),
//!     rustc: "rustc 1.95.0".into(),
//!     host: "a-host".into(),
//! };
//! let data = RunData {
//!     catalog: Catalog::default(),
//!     ..RunData::new(Profile::Quick, machine)
//! };
//! let md = markdown::render(&page::document(&data, &[]));
//! assert!(md.starts_with("# concur report"));
//! assert!(md.contains("No criterion results were written in this run."));
//! ```

pub mod beyond;
pub mod catalog;
pub mod compare;
pub mod criterion;
pub mod crossover;
mod data;
pub mod doc;
pub mod floors;
pub mod granularity;
pub mod html;
mod machine;
pub mod markdown;
pub mod noise;
pub mod page;
pub mod plots;
mod profile;
pub mod runs;
pub mod stats;
#[cfg(test)]
mod testing;
pub mod units;
pub mod verdicts;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

pub use catalog::Catalog;
pub use criterion::BenchResult;
pub use data::{
    CRITERION_FROM_REPORT, IdleProbe, Module, PairedModel, PairedRun, Placement, PythonMode,
    PythonRun, RunData,
};
pub use machine::Machine;
pub use profile::Profile;

/// What can go wrong reading or writing a report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done: `reading`, `writing`, `creating`.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A JSON file did not hold what it should.
    #[error("parsing {}: {source}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
}

impl Error {
    fn io(action: &'static str, path: &Path, source: io::Error) -> Error {
        Error::Io {
            action,
            path: path.to_owned(),
            source,
        }
    }
}

/// Reads and parses one JSON file.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let bytes = fs::read(path).map_err(|e| Error::io("reading", path, e))?;
    serde_json::from_slice(&bytes).map_err(|source| Error::Parse {
        path: path.to_owned(),
        source,
    })
}

fn write_file(path: &Path, contents: impl AsRef<[u8]>) -> Result<(), Error> {
    fs::write(path, contents).map_err(|e| Error::io("writing", path, e))
}

/// The files [`write()`] produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Written {
    /// `summary.md`.
    pub markdown: PathBuf,
    /// `index.html`.
    pub html: PathBuf,
}

/// Saves `data` as `dir/data.json` and writes the plots, `summary.md` and `index.html`
/// into `dir` (created if needed).
pub fn write(dir: &Path, data: &RunData) -> Result<Written, Error> {
    write_with(dir, data, |plots| page::document(data, &plots))
}

/// Saves `data` into `dir` (created if needed), draws the plots, and writes the document
/// `page` builds from them as `summary.md` and `index.html`.
fn write_with(
    dir: &Path,
    data: &RunData,
    page: impl FnOnce(Vec<plots::Plot>) -> doc::Document,
) -> Result<Written, Error> {
    fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    let json = serde_json::to_vec_pretty(data).expect("run data always serialises");
    write_file(&dir.join("data.json"), json)?;
    let doc = page(plots::write(dir, data)?);
    let written = Written {
        markdown: dir.join("summary.md"),
        html: dir.join("index.html"),
    };
    write_file(&written.markdown, markdown::render(&doc))?;
    write_file(&written.html, html::render(&doc))?;
    Ok(written)
}

/// Saves `data` as `dir/data.json` and writes the report of one workload (`workload`'s
/// group alone: "threads or processes" for it, what to pick, its plot and table) into `dir`.
pub fn write_workload(dir: &Path, data: &RunData, workload: &str) -> Result<Written, Error> {
    let file = format!("plots/{}.svg", data.group_of(workload).replace('/', "_"));
    write_with(dir, data, |plots| {
        let own: Vec<plots::Plot> = plots.into_iter().filter(|p| p.file == file).collect();
        page::workload_document(data, workload, &own)
    })
}

/// Reads `dir/data.json` (saved by [`write()`]) and writes the report again from it alone.
pub fn rerender(dir: &Path) -> Result<Written, Error> {
    let data: RunData = read_json(&dir.join("data.json"))?;
    write(dir, &data)
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
