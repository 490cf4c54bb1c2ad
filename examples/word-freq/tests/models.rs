//! `word-freq` under every model, in the equivalence style: each model's checksum of the
//! merged counts equals `sequential`'s, at every test size and at 1 to 3 workers. A custom
//! `main` (`harness = false`): the process models' workers re-run this binary, so it
//! registers the workload and serves as a worker first.

use concur::harness::{Model, models, reference_checksum};
use concur::workloads::{AnyWorkload, Echo};
use word_freq::WORD_FREQ;

fn main() {
    concur::workloads::register(&[&WORD_FREQ]).expect("registered first");
    concur::harness::init_workers();
    let w: &dyn AnyWorkload = &WORD_FREQ;
    let mut checked = 0;
    for params in w.info().test_params {
        for spec in models() {
            for workers in 1..=3 {
                let batch = w.prepare_in(params, spec.arena()).expect("prepares");
                let expected = reference_checksum(&batch).expect("reference");
                let model: Box<dyn Model> = spec.build(workers).expect("model starts");
                let outputs = model.run(&batch, Echo::Off).expect("runs");
                assert_eq!(
                    batch.checksum_of(&outputs),
                    expected,
                    "{} at {workers} workers, {params:?}",
                    spec.name
                );
                checked += 1;
            }
        }
    }
    // Registering again, or after the registry was used, is refused with a clear error.
    let again = concur::workloads::register(&[&WORD_FREQ]).unwrap_err();
    assert!(again.to_string().contains("first thing in main"), "{again}");
    println!("word-freq: {checked} model runs equal sequential's checksum");
}
