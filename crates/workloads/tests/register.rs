//! Registering a workload from outside: valid names only, no duplicates, and only before
//! anything used the registry. One test (the registry is per process).

mod common;

use concur_workloads::{
    Cx, Info, Params, ParamsError, RegisterError, TaskError, TaskOutput, Workload, all, by_name,
    names, register,
};

struct Toy(&'static Info);

static GOOD: Info = common::toy_info("toy-sum");
static BAD: Info = common::toy_info("Toy Sum");
static CLASH: Info = common::toy_info("primes");

impl Workload for Toy {
    type Input = u64;
    fn info(&self) -> &'static Info {
        self.0
    }
    fn validate(&self, _: &Params) -> Result<(), ParamsError> {
        Ok(())
    }
    fn inputs(&self, p: &Params) -> Result<Vec<u64>, ParamsError> {
        Ok((0..p.tasks as u64).collect())
    }
    fn run(&self, i: &u64, _: &Cx<'_>) -> Result<TaskOutput, TaskError> {
        Ok(TaskOutput {
            digest: *i,
            text: None,
            data: Vec::new(),
        })
    }
}

static GOOD_TOY: Toy = Toy(&GOOD);
static BAD_TOY: Toy = Toy(&BAD);
static CLASH_TOY: Toy = Toy(&CLASH);

#[test]
fn register_checks_names_and_timing() {
    assert_eq!(
        register(&[&BAD_TOY]),
        Err(RegisterError::BadName("Toy Sum"))
    );
    assert_eq!(
        register(&[&GOOD_TOY, &CLASH_TOY]),
        Err(RegisterError::Duplicate("primes"))
    );
    assert_eq!(
        register(&[&GOOD_TOY, &GOOD_TOY]),
        Err(RegisterError::Duplicate("toy-sum"))
    );
    register(&[&GOOD_TOY]).unwrap();
    assert_eq!(by_name("toy-sum").unwrap().info().name, "toy-sum");
    assert_eq!(*names().last().unwrap(), "toy-sum");
    assert!(all().len() >= 2);
    assert_eq!(register(&[]), Err(RegisterError::TooLate));
}
