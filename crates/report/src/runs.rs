//! Saved runs: every `cargo xtask bench` keeps its [`RunData`] as one versioned JSON file
//! under `target/concur/runs/`, named by when it started and on which host (or by the name
//! given with `--save-run`), never overwritten. A run copied from another machine is dropped
//! into the same directory (or named by its path) and compared like any other (`cargo xtask
//! compare`). The format is documented in `docs/RUNS.md`.
//!
//! Everything read here comes from a file someone may have edited or copied from elsewhere:
//! a file is checked to be a run, of this schema, before anything uses it.
//!
//! ```
//! use concur_report::runs::{Runs, SCHEMA};
//! use concur_report::{Machine, Profile, RunData};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let runs = Runs::new(dir.path());
//! let machine = Machine {
//!     cpu: "a CPU".into(),
//!     cores: 2,
//!     memory_gib: 4.0,
//!     kernel: "6.1".into(),
//!     rustc: "rustc 1.95.0".into(),
//!     host: "box".into(),
//! };
//! let run = RunData {
//!     started_at: "2026-12-04T10:00:00Z".into(),
//!     ..RunData::new(Profile::Quick, machine)
//! };
//! let saved = runs.save(&run, Some("before")).unwrap();
//! assert!(runs.save(&run, Some("before")).is_err()); // never overwritten
//! assert_eq!(runs.resolve("latest").unwrap(), saved);
//! assert_eq!(runs.read("before").unwrap().schema, SCHEMA);
//! ```

use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use crate::data::RunData;

pub use crate::data::SCHEMA;

/// What can go wrong finding, reading or saving a run. Every variant is the user's input
/// (a name, a path, a file's contents): the CLI exits 2 on it.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No run has that name, and no file that path.
    #[error("no run named `{name}` in {} (saved runs: {})", dir.display(), list_or_none(available))]
    Missing {
        /// The name or path asked for.
        name: String,
        /// The directory searched.
        dir: PathBuf,
        /// The names there.
        available: Vec<String>,
    },
    /// `latest` or `previous` asked for more runs than are saved.
    #[error("`{name}` needs {needed} saved run(s) in {}, there are {found}", dir.display())]
    TooFew {
        /// `latest` or `previous`.
        name: String,
        /// The directory searched.
        dir: PathBuf,
        /// How many runs it needs.
        needed: usize,
        /// How many there are.
        found: usize,
    },
    /// The file is not a concur run.
    #[error("{} is not a concur run: {why}", path.display())]
    NotARun {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// The file is a run of another schema version.
    #[error(
        "{} is a run of schema {found}; this concur reads schema {expected} (re-run \
         `cargo xtask bench` with the concur that wrote it to compare it, or with this one \
         to get a run of schema {expected})",
        path.display()
    )]
    Schema {
        /// The file.
        path: PathBuf,
        /// Its schema version (0: saved before runs were versioned).
        found: u32,
        /// [`SCHEMA`].
        expected: u32,
    },
    /// A run is already saved under that name.
    #[error("a run named `{name}` is already saved ({}): saved runs are never overwritten; pick another name", path.display())]
    Exists {
        /// The name.
        name: String,
        /// Its file.
        path: PathBuf,
    },
    /// The name cannot be a file name.
    #[error(
        "`{0}` cannot name a run: use letters, digits, `.`, `_` and `-` (up to 100), not \
         starting with `.`, and not `latest` or `previous`"
    )]
    BadName(String),
    /// A file or directory could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// The directory of saved runs.
#[derive(Clone, Debug)]
pub struct Runs {
    dir: PathBuf,
}

impl Runs {
    /// The runs saved in `dir` (usually `target/concur/runs`).
    pub fn new(dir: impl Into<PathBuf>) -> Runs {
        Runs { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Checks that `name` can name a run that is not saved yet (before a run starts, so a
    /// bad name costs nothing).
    pub fn check_new(&self, name: &str) -> Result<(), RunError> {
        check_name(name)?;
        let path = self.path_of(name);
        if path.exists() {
            return Err(RunError::Exists {
                name: name.to_owned(),
                path,
            });
        }
        Ok(())
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Saves `run` as `NAME.json`, or (no name) as `<start time>-<host>.json` with a suffix
    /// if that is taken; never replaces a file. Returns its path.
    pub fn save(&self, run: &RunData, name: Option<&str>) -> Result<PathBuf, RunError> {
        fs::create_dir_all(&self.dir).map_err(|e| io_error("creating", &self.dir, e))?;
        let json = serde_json::to_vec_pretty(run).expect("run data always serialises");
        if let Some(name) = name {
            self.check_new(name)?;
            let path = self.path_of(name);
            return match create_new(&path, &json) {
                Ok(()) => Ok(path),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(RunError::Exists {
                    name: name.to_owned(),
                    path,
                }),
                Err(e) => Err(io_error("writing", &path, e)),
            };
        }
        let base = default_name(run);
        for n in 1.. {
            let name = if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            };
            let path = self.path_of(&name);
            match create_new(&path, &json) {
                Ok(()) => return Ok(path),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(io_error("writing", &path, e)),
            }
        }
        unreachable!("some suffix is free")
    }

    /// The saved runs (name, start time), oldest first: by the time each run started, then
    /// by name. Files that are not runs of this schema are left out (comparing them names
    /// what is wrong with them).
    pub fn list(&self) -> Result<Vec<(String, String)>, RunError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("reading", &self.dir, e)),
        };
        let mut runs = Vec::new();
        for entry in entries {
            let path = entry.map_err(|e| io_error("reading", &self.dir, e))?.path();
            let Some(name) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".json"))
            else {
                continue;
            };
            if let Ok(run) = read(&path) {
                runs.push((name.to_owned(), run.started_at));
            }
        }
        runs.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
        Ok(runs)
    }

    /// The file `spec` names: `latest` (the last run to start), `previous` (the one before
    /// it), the name of a saved run, or a path to a run file anywhere.
    pub fn resolve(&self, spec: &str) -> Result<PathBuf, RunError> {
        let back = match spec {
            "latest" => Some(0),
            "previous" => Some(1),
            _ => None,
        };
        if let Some(back) = back {
            let runs = self.list()?;
            return match runs.len().checked_sub(back + 1) {
                Some(i) => Ok(self.path_of(&runs[i].0)),
                None => Err(RunError::TooFew {
                    name: spec.to_owned(),
                    dir: self.dir.clone(),
                    needed: back + 1,
                    found: runs.len(),
                }),
            };
        }
        let as_path = Path::new(spec);
        if as_path.is_file() {
            return Ok(as_path.to_owned());
        }
        if check_name(spec).is_ok() && self.path_of(spec).is_file() {
            return Ok(self.path_of(spec));
        }
        Err(RunError::Missing {
            name: spec.to_owned(),
            dir: self.dir.clone(),
            available: self.list()?.into_iter().map(|(n, _)| n).collect(),
        })
    }

    /// The run `spec` names ([`Runs::resolve`]), read and checked ([`read`]).
    pub fn read(&self, spec: &str) -> Result<RunData, RunError> {
        read(&self.resolve(spec)?)
    }
}

/// `2026-12-04T10:00:00Z` on host `box` → `20261204T100000Z-box` (the host's characters
/// that cannot be in a name become `_`).
fn default_name(run: &RunData) -> String {
    let time: String = run
        .started_at
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let host: String = run
        .machine
        .host
        .chars()
        .map(|c| if name_char(c) { c } else { '_' })
        .take(60)
        .collect();
    let time = if time.is_empty() {
        "unknown-time"
    } else {
        &time
    };
    let host = if host.is_empty() {
        "unknown-host"
    } else {
        &host
    };
    format!("{time}-{host}")
}

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn check_name(name: &str) -> Result<(), RunError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(name_char)
        && !matches!(name, "latest" | "previous");
    if ok {
        Ok(())
    } else {
        Err(RunError::BadName(name.to_owned()))
    }
}

fn create_new(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    let written = file.write_all(contents).and_then(|()| file.sync_all());
    if written.is_err() {
        // A half-written run must not be read later as a run.
        let _ = fs::remove_file(path);
    }
    written
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> RunError {
    RunError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// Reads the run in `path`, checking first that it is one (a JSON object with a profile, a
/// machine and results), then that its schema is [`SCHEMA`].
pub fn read(path: &Path) -> Result<RunData, RunError> {
    let bytes = fs::read(path).map_err(|e| io_error("reading", path, e))?;
    let not_a_run = |why: String| RunError::NotARun {
        path: path.to_owned(),
        why,
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| not_a_run(format!("not JSON ({e})")))?;
    let object = value
        .as_object()
        .ok_or_else(|| not_a_run("not a JSON object".to_owned()))?;
    let missing: Vec<&str> = ["profile", "machine", "results"]
        .into_iter()
        .filter(|k| !object.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        return Err(not_a_run(format!("no {}", missing.join(", "))));
    }
    let found = match object.get("schema") {
        None => 0,
        Some(v) => v
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| not_a_run(format!("its schema is {v}, not a version number")))?,
    };
    if found != SCHEMA {
        return Err(RunError::Schema {
            path: path.to_owned(),
            found,
            expected: SCHEMA,
        });
    }
    serde_json::from_value(value).map_err(|e| not_a_run(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(started_at: &str, host: &str) -> RunData {
        let mut run = crate::testing::fixture();
        run.started_at = started_at.to_owned();
        run.machine.host = host.to_owned();
        run.schema = SCHEMA;
        run
    }

    #[test]
    fn runs_are_named_by_time_and_host_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::new(dir.path().join("runs"));
        let r = run("2026-12-04T10:00:00Z", "my box/1");
        let first = runs.save(&r, None).unwrap();
        assert!(
            first.ends_with("20261204T100000Z-my_box_1.json"),
            "{first:?}"
        );
        let second = runs.save(&r, None).unwrap();
        assert!(second.ends_with("20261204T100000Z-my_box_1-2.json"));
        runs.save(&r, Some("base")).unwrap();
        let again = runs.save(&r, Some("base")).unwrap_err();
        assert!(matches!(again, RunError::Exists { .. }), "{again}");
        for bad in ["", "latest", "../x", ".hidden", "a b"] {
            assert!(
                matches!(runs.save(&r, Some(bad)), Err(RunError::BadName(_))),
                "{bad:?}"
            );
        }
        assert_eq!(runs.list().unwrap().len(), 3);
    }

    #[test]
    fn latest_and_previous_follow_the_start_times_not_the_names() {
        let dir = tempfile::tempdir().unwrap();
        let runs = Runs::new(dir.path());
        assert!(matches!(
            runs.resolve("latest"),
            Err(RunError::TooFew { found: 0, .. })
        ));
        runs.save(&run("2026-12-04T12:00:00Z", "b"), Some("a-later"))
            .unwrap();
        runs.save(&run("2026-12-04T11:00:00Z", "a"), Some("z-earlier"))
            .unwrap();
        assert!(runs.resolve("latest").unwrap().ends_with("a-later.json"));
        assert!(
            runs.resolve("previous")
                .unwrap()
                .ends_with("z-earlier.json")
        );
        let missing = runs.resolve("nope").unwrap_err().to_string();
        assert!(missing.contains("z-earlier, a-later"), "{missing}");
    }

    #[test]
    fn a_file_that_is_not_a_run_or_of_another_schema_is_named_as_such() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            fs::write(&p, text).unwrap();
            p
        };
        let text = write("notes.json", "hello");
        assert!(read(&text).unwrap_err().to_string().contains("not JSON"));
        let other = write("other.json", r#"{"name": "x"}"#);
        let e = read(&other).unwrap_err().to_string();
        assert!(e.contains("no profile, machine, results"), "{e}");
        let mut old = serde_json::to_value(run("2026-12-04T10:00:00Z", "h")).unwrap();
        old.as_object_mut().unwrap().remove("schema");
        let old = write("old.json", &old.to_string());
        let e = read(&old).unwrap_err();
        assert!(
            matches!(
                e,
                RunError::Schema {
                    found: 0,
                    expected: SCHEMA,
                    ..
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("schema 0; this concur reads schema 1")
        );
        let mut future = serde_json::to_value(run("2026-12-04T10:00:00Z", "h")).unwrap();
        future["schema"] = 7.into();
        let future = write("future.json", &future.to_string());
        assert!(read(&future).unwrap_err().to_string().contains("schema 7"));
        let mut broken = serde_json::to_value(run("2026-12-04T10:00:00Z", "h")).unwrap();
        broken["results"] = "many".into();
        let broken = write("broken.json", &broken.to_string());
        assert!(matches!(read(&broken), Err(RunError::NotARun { .. })));
        // None of them is listed as a run; each is still named when asked for by path.
        assert!(Runs::new(dir.path()).list().unwrap().is_empty());
    }
}
