//! Every workload, by CLI name: the built-ins, then the workloads a program registered with
//! [`register`] before anything looked at the registry.

use std::sync::OnceLock;

use crate::WORKLOADS;
use crate::batch::AnyWorkload;

/// The registry as fixed at its first use: the built-ins and what [`register`] added.
static ALL: OnceLock<&'static [&'static dyn AnyWorkload]> = OnceLock::new();

/// Every workload, in the order `concur list` shows them: the built-ins, then the
/// registered ones.
pub fn all() -> &'static [&'static dyn AnyWorkload] {
    ALL.get_or_init(|| WORKLOADS)
}

/// The workload called `name`, if there is one.
pub fn by_name(name: &str) -> Option<&'static dyn AnyWorkload> {
    all().iter().copied().find(|w| w.info().name == name)
}

/// Whether `name` is one of concur's own workloads (not one a program registered).
pub fn is_builtin(name: &str) -> bool {
    WORKLOADS.iter().any(|w| w.info().name == name)
}

/// Every workload's name, for error messages.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|w| w.info().name).collect()
}

/// Why [`register`] refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegisterError {
    /// Something used the registry (or registered) before: the registry is fixed at first
    /// use, so a worker process and its parent always see the same one.
    #[error(
        "workloads must be registered first thing in main, before anything uses the \
         registry (call concur::main_with, or register, as main's first line)"
    )]
    TooLate,
    /// Two workloads would have the same name.
    #[error("a workload called '{0}' exists already: give yours another name")]
    Duplicate(&'static str),
    /// A name that could not be typed on a command line.
    #[error(
        "'{0}' is not a valid workload name: use lower-case letters, digits and '-', \
         starting with a letter"
    )]
    BadName(&'static str),
}

/// Adds workloads defined outside concur to the registry, after the built-ins: `concur
/// list`, `run`, the models' worker processes (which re-run the same program, so make this
/// main's first call) and the benches then find them by name. Refused once anything has
/// used the registry, for a duplicate name, or for a name that is not a plain CLI word.
pub fn register(extra: &[&'static dyn AnyWorkload]) -> Result<(), RegisterError> {
    let mut combined: Vec<&'static dyn AnyWorkload> = WORKLOADS.to_vec();
    for w in extra {
        let name = w.info().name;
        let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !valid {
            return Err(RegisterError::BadName(name));
        }
        if combined.iter().any(|c| c.info().name == name) {
            return Err(RegisterError::Duplicate(name));
        }
        combined.push(*w);
    }
    let leaked: &'static [&'static dyn AnyWorkload] = Box::leak(combined.into_boxed_slice());
    ALL.set(leaked).map_err(|_| RegisterError::TooLate)
}

/// Runs `workload` at its first test parameters the way the models will, and says what a
/// user must fix before measuring it: parameters it refuses, a unit that fails or panics, a
/// unit that is not deterministic (the checksum is compared across models), or an input
/// that does not survive serialisation (worker processes receive it encoded).
pub fn self_check(workload: &'static dyn AnyWorkload) -> Result<(), String> {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let info = workload.info();
    let name = info.name;
    let Some(params) = info.test_params.first() else {
        return Err(format!(
            "{name}: its Info has no test_params: give one small, fast set"
        ));
    };
    let batch = workload
        .prepare(params)
        .map_err(|e| format!("{name}: its own test parameters {params:?} are refused: {e}"))?;
    let run = |how: &str, f: &dyn Fn() -> Result<crate::TaskOutput, crate::TaskError>| {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(e)) => Err(format!("{name}: a task failed {how}: {}", e.message)),
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "(no message)".into());
                Err(format!("{name}: a task panicked {how}: {msg}"))
            }
        }
    };
    let cx = crate::Cx::reference();
    for i in 0..batch.len() {
        let first = run("at the test parameters", &|| batch.run(i, &cx))?;
        let again = run("at the test parameters", &|| batch.run(i, &cx))?;
        if first != again {
            return Err(format!(
                "{name}: task {i} gives different results on two runs: a unit must be \
                 deterministic (every model's checksum is compared with sequential's)"
            ));
        }
        let encoded = batch.encode(i);
        let via = run("after its input was encoded and decoded", &|| {
            workload.run_encoded(&encoded, &cx)
        })?;
        if via != first {
            return Err(format!(
                "{name}: task {i}'s input does not survive serialisation (the unit gives \
                 another result after encode and decode, as a worker process receives it): \
                 check that the Input's Serialize and Deserialize keep every field"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cx, Params};

    #[test]
    fn names_are_unique_and_found() {
        let names = names();
        for n in &names {
            assert_eq!(by_name(n).unwrap().info().name, *n);
            assert_eq!(names.iter().filter(|m| *m == n).count(), 1);
        }
        assert!(by_name("nope").is_none());
    }

    #[test]
    fn every_built_in_passes_the_self_check() {
        for w in all() {
            if w.info().kind != crate::Kind::IoBound {
                assert_eq!(self_check(*w), Ok(()), "{}", w.info().name);
            }
        }
    }

    /// What a worker process does (decode the input, run it) equals the in-process run.
    #[test]
    fn encoded_inputs_run_the_same() {
        for w in all() {
            let p = w.info().test_params[0];
            let batch = w.prepare(&p).unwrap();
            for i in 0..batch.len() {
                let direct = batch.run(i, &Cx::reference()).unwrap();
                let via_bytes = w.run_encoded(&batch.encode(i), &Cx::reference()).unwrap();
                assert_eq!(direct, via_bytes, "{} task {i}", w.info().name);
            }
            assert!(w.run_encoded(b"", &Cx::reference()).is_err());
            let mut stray = batch.encode(0);
            stray.push(0);
            assert!(w.run_encoded(&stray, &Cx::reference()).is_err());
        }
    }

    /// What the registry entry promises holds: test and bench parameters are valid, and
    /// names and bench groups are unique.
    #[test]
    fn test_and_bench_params_are_valid() {
        let mut groups = Vec::new();
        for w in all() {
            let info = w.info();
            assert!(
                !info.test_params.is_empty(),
                "{}: no test parameters",
                info.name
            );
            for p in info.test_params {
                assert!(w.validate(p).is_ok(), "{} {p:?}", info.name);
            }
            let b = info.bench;
            for mut p in [b.smoke, b.quick, b.full] {
                if info.kind == crate::Kind::IoBound {
                    p.tasks = 8; // The I/O suite sets the concurrency.
                }
                assert!(w.validate(&p).is_ok(), "{} bench {p:?}", info.name);
            }
            assert!(!info.bench_description.is_empty(), "{}", info.name);
            groups.push(info.bench_group());
        }
        groups.sort();
        groups.dedup();
        assert_eq!(groups.len(), all().len());
    }

    #[test]
    fn default_params_are_valid_and_zero_tasks_are_not() {
        for w in all() {
            let info = w.info();
            assert!(w.validate(&info.default_params()).is_ok(), "{}", info.name);
            let zero = Params {
                tasks: 0,
                ..info.default_params()
            };
            assert!(w.prepare(&zero).is_err(), "{}", info.name);
        }
    }
}
