//! The cross-model equivalence matrix: every model × every workload, at small sizes and
//! several worker counts, produces exactly the `sequential` outputs.

use concur::harness::{Family, models, reference_checksum};
use concur::workloads::{self, Echo, Params};

/// Small but non-trivial parameters per workload: uneven task counts, more tasks than workers.
fn small(workload: &str) -> Vec<Params> {
    match workload {
        "seed-square-cube" => vec![Params { tasks: 2, size: 10 }, Params { tasks: 5, size: 7 }],
        "primes" => vec![
            Params {
                tasks: 7,
                size: 20_000,
            },
            Params { tasks: 1, size: 3 },
        ],
        "sleep" => vec![Params { tasks: 6, size: 2 }],
        other => panic!("add small parameters for the new workload {other}"),
    }
}

#[test]
fn every_model_matches_sequential_on_every_workload() {
    let sequential = concur::harness::model("sequential")
        .unwrap()
        .build(1)
        .unwrap();
    for w in workloads::all() {
        for params in small(w.info().name) {
            let batch = w.prepare(&params).unwrap();
            let expected = sequential.run(&batch, Echo::Off).unwrap();
            assert_eq!(expected.len(), params.tasks);
            assert_eq!(
                batch.checksum_of(&expected),
                reference_checksum(&batch).unwrap(),
                "{}: the fast reference must equal a real sequential run",
                w.info().name
            );
            for spec in models() {
                let worker_counts: &[usize] = match spec.family {
                    Family::Sequential => &[1],
                    _ => &[1, 2, 3],
                };
                for &k in worker_counts {
                    let model = spec.build(k).unwrap();
                    let got = model.run(&batch, Echo::Off).unwrap();
                    assert_eq!(
                        got,
                        expected,
                        "{} with {k} workers on {} {params:?}",
                        spec.name,
                        w.info().name
                    );
                }
            }
        }
    }
}

#[test]
fn a_pool_is_reusable_across_workloads() {
    for spec in models() {
        let model = spec.build(2).unwrap();
        for w in workloads::all() {
            let params = small(w.info().name)[0];
            let batch = w.prepare(&params).unwrap();
            let out = model.run(&batch, Echo::Off).unwrap();
            assert_eq!(batch.checksum_of(&out), reference_checksum(&batch).unwrap());
        }
    }
}
