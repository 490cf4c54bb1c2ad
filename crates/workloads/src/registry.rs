//! Every workload, by CLI name.

use crate::batch::AnyWorkload;
use crate::{Grayscale, HttpFetch, Primes, SeedSquareCube, SharedSum, Sleep};

static SEED: SeedSquareCube = SeedSquareCube;
static PRIMES: Primes = Primes;
static SLEEP: Sleep = Sleep;
static SHARED_SUM: SharedSum = SharedSum;
static HTTP_FETCH: HttpFetch = HttpFetch;
static GRAYSCALE: Grayscale = Grayscale;

static ALL: [&'static dyn AnyWorkload; 6] =
    [&SEED, &PRIMES, &GRAYSCALE, &SLEEP, &HTTP_FETCH, &SHARED_SUM];

/// Every workload, in the order `concur list` shows them.
pub fn all() -> &'static [&'static dyn AnyWorkload] {
    &ALL
}

/// The workload called `name`, if there is one.
pub fn by_name(name: &str) -> Option<&'static dyn AnyWorkload> {
    ALL.iter().copied().find(|w| w.info().name == name)
}

/// Every workload's name, for error messages.
pub fn names() -> Vec<&'static str> {
    ALL.iter().map(|w| w.info().name).collect()
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

    /// What a worker process does (decode the input, run it) equals the in-process run.
    #[test]
    fn encoded_inputs_run_the_same() {
        for w in all() {
            // Small and valid for every workload (8 ms, 8 MiB, numbers below 8, 8×8 images).
            let p = Params { tasks: 3, size: 8 };
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
