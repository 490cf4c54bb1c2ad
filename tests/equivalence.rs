//! The cross-model equivalence matrix: every model × every workload, at small sizes and
//! several worker counts, produces exactly the `sequential` outputs. The sizes are each
//! workload's own `Info::test_params`: a new workload needs nothing here.
//!
//! The process models start this binary again as their workers, so it has its own `main`
//! that calls `init_workers()` first (the bootstrap rule), then runs two trials per model.

use concur::harness::{Family, ModelSpec, init_workers, model, models, reference_checksum};
use concur::workloads::{self, Arena, Echo, Heap};
use libtest_mimic::{Arguments, Failed, Trial};

/// `spec` at 1–3 workers on every workload equals `sequential`, output for output.
fn matches_sequential(spec: &'static ModelSpec) -> Result<(), Failed> {
    let sequential = model("sequential").unwrap().build(1)?;
    // A model that maps shared inputs runs them both ways: allocated in its own arena (the
    // zero-copy path `concur run` takes) and on the heap (copied into a region once).
    let arenas: Vec<&dyn Arena> = if spec.maps_shared_input {
        vec![spec.arena(), &Heap]
    } else {
        vec![&Heap]
    };
    for w in workloads::all() {
        for (params, arena) in w
            .info()
            .test_params
            .iter()
            .flat_map(|&p| arenas.iter().map(move |&a| (p, a)))
        {
            let batch = w.prepare_in(&params, arena)?;
            let expected = sequential.run(&batch, Echo::Off)?;
            assert_eq!(expected.len(), params.tasks);
            assert_eq!(
                batch.checksum_of(&expected),
                reference_checksum(&batch)?,
                "{}: the fast reference must equal a real sequential run",
                w.info().name
            );
            let worker_counts: &[usize] = match spec.family {
                Family::Sequential => &[1],
                _ => &[1, 2, 3],
            };
            for &k in worker_counts {
                let got = spec.build(k)?.run(&batch, Echo::Off)?;
                assert_eq!(
                    without_ports(got),
                    without_ports(expected.clone()),
                    "{} with {k} workers on {} {params:?}",
                    spec.name,
                    w.info().name
                );
            }
        }
    }
    Ok(())
}

/// Outputs with loopback ports masked: `http-fetch` prints the URL it fetched, and a
/// `cluster` process fetches from its own loopback server (the batch is rebuilt on every
/// process, server included), whose port the OS chose.
fn without_ports(mut outputs: Vec<workloads::TaskOutput>) -> Vec<workloads::TaskOutput> {
    for o in &mut outputs {
        if let Some(text) = &mut o.text {
            let mut masked = String::new();
            let mut rest = text.as_str();
            while let Some(at) = rest.find("127.0.0.1:") {
                let (head, tail) = rest.split_at(at + "127.0.0.1:".len());
                masked.push_str(head);
                masked.push_str("PORT");
                rest = tail.trim_start_matches(|c: char| c.is_ascii_digit());
            }
            masked.push_str(rest);
            *text = masked;
        }
    }
    outputs
}

/// One started model serves every workload in turn.
fn reusable_across_workloads(spec: &'static ModelSpec) -> Result<(), Failed> {
    let model = spec.build(2)?;
    for w in workloads::all() {
        let batch = w.prepare(&w.info().test_params[0])?;
        let out = model.run(&batch, Echo::Off)?;
        assert_eq!(batch.checksum_of(&out), reference_checksum(&batch)?);
    }
    Ok(())
}

/// Two `cluster` models alive in one process (process 0 of both): dropping one while the
/// other runs a batch leaves the other's units alone. (Found by `.ci/flake-check`: the two
/// trials above ran side by side, and a drop failed the other's units with "the cluster is
/// closing".)
fn two_clusters_in_one_process() -> Result<(), Failed> {
    let spec = model("cluster").unwrap();
    let (first, second) = (spec.build(2)?, spec.build(2)?);
    let w = workloads::by_name("sleep").unwrap();
    // Eight units of 100 ms on two processes: process 0 is still taking units at 150 ms.
    let batch = w.prepare(&workloads::Params {
        tasks: 8,
        size: 100,
    })?;
    let dropper = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(150));
        drop(first);
    });
    let out = second.run(&batch, Echo::Off);
    dropper.join().unwrap();
    assert_eq!(batch.checksum_of(&out?), reference_checksum(&batch)?);
    Ok(())
}

fn main() {
    init_workers();
    let args = Arguments::from_args();
    let mut trials = vec![Trial::test(
        "cluster::two_clusters_in_one_process",
        two_clusters_in_one_process,
    )];
    for spec in models() {
        trials.push(Trial::test(
            format!("{}::matches_sequential", spec.name),
            move || matches_sequential(spec),
        ));
        trials.push(Trial::test(
            format!("{}::reusable_across_workloads", spec.name),
            move || reusable_across_workloads(spec),
        ));
    }
    libtest_mimic::run(&args, trials).exit();
}
