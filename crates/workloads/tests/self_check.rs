//! `self_check` names what a user must fix before an outside workload can be measured.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use concur_workloads::{
    Cx, Info, Params, ParamsError, TaskError, TaskOutput, Workload, self_check,
};
use serde::{Deserialize, Serialize};

/// What the toys do wrong.
#[derive(Clone, Copy)]
enum Fault {
    None,
    Lossy,
    Panics,
    Random,
}

struct Toy(&'static Info, Fault);

#[derive(Serialize, Deserialize)]
struct In {
    n: u64,
    /// Lost on the way to a worker process.
    #[serde(skip)]
    weight: u64,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Workload for Toy {
    type Input = In;
    fn info(&self) -> &'static Info {
        self.0
    }
    fn validate(&self, _: &Params) -> Result<(), ParamsError> {
        Ok(())
    }
    fn inputs(&self, p: &Params) -> Result<Vec<In>, ParamsError> {
        Ok((0..p.tasks as u64).map(|n| In { n, weight: 7 }).collect())
    }
    fn run(&self, i: &In, _: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        let digest = match self.1 {
            Fault::None => i.n,
            Fault::Lossy => i.n * i.weight,
            Fault::Panics => panic!("the unit fell over"),
            Fault::Random => COUNTER.fetch_add(1, Ordering::Relaxed),
        };
        Ok(TaskOutput {
            digest,
            text: None,
            data: Vec::new(),
        })
    }
}

static FINE: Info = common::toy_info("fine");
static LOSSY: Info = common::toy_info("lossy");
static PANICS: Info = common::toy_info("panics");
static RANDOM: Info = common::toy_info("random");
static FINE_TOY: Toy = Toy(&FINE, Fault::None);
static LOSSY_TOY: Toy = Toy(&LOSSY, Fault::Lossy);
static PANICS_TOY: Toy = Toy(&PANICS, Fault::Panics);
static RANDOM_TOY: Toy = Toy(&RANDOM, Fault::Random);

#[test]
fn each_fault_is_named_with_what_to_fix() {
    assert_eq!(self_check(&FINE_TOY), Ok(()));
    let lossy = self_check(&LOSSY_TOY).unwrap_err();
    assert!(
        lossy.starts_with("lossy: task 1's input does not survive serialisation"),
        "{lossy}"
    );
    let panics = self_check(&PANICS_TOY).unwrap_err();
    assert!(
        panics.contains("panics: a task panicked") && panics.contains("the unit fell over"),
        "{panics}"
    );
    let random = self_check(&RANDOM_TOY).unwrap_err();
    assert!(random.contains("must be deterministic"), "{random}");
}
