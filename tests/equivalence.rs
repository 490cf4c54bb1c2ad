//! The cross-model equivalence matrix: every model × every workload, at small sizes and
//! several worker counts, produces exactly the `sequential` outputs. The sizes are each
//! workload's own `Info::test_params`: a new workload needs nothing here.
//!
//! The process models start this binary again as their workers, so it has its own `main`
//! that calls `init_workers()` first (the bootstrap rule), then runs two trials per model
//! (and two of the cluster's own that need such a `main`: two clusters side by side, and
//! one's placement while a CPU pair is pinned).

use concur::harness::{Family, ModelSpec, init_workers, model, models, reference_checksum};
use concur::workloads::{self, Arena, Echo, Heap};
use libtest_mimic::{Arguments, Failed, Trial};

mod support;

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

/// The CPUs every thread of process `pid` may run on, as `/proc` lists them.
fn cpus_of_every_thread(pid: u32) -> Vec<String> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .filter_map(|s| {
            let line = s.lines().find(|l| l.starts_with("Cpus_allowed_list:"))?;
            Some(line.split_whitespace().nth(1)?.to_owned())
        })
        .collect()
}

/// This process's children that are cluster members.
fn cluster_members() -> Vec<u32> {
    support::children_of(std::process::id())
        .into_iter()
        .filter(|pid| {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            environ
                .split(|&b| b == 0)
                .any(|v| v.starts_with(concur::cluster::MEMBER_ENV.as_bytes()))
        })
        .collect()
}

/// Set in the environment of this program started again to run
/// [`pinned_cluster_case`] alone (the other trials start cluster members too).
const PINNED_CASE_ENV: &str = "CONCUR_TEST_PINNED_CLUSTER";

/// A cluster opened while a CPU pair is pinned (as `concur pingpong` pins `cluster-task`
/// and `cluster-echo`) runs its other process on the pair's other CPU, every thread of it:
/// checked in a child of this program, where no other trial starts members meanwhile.
fn a_pinned_cluster_has_a_process_a_cpu() -> Result<(), Failed> {
    let out = std::process::Command::new(std::env::current_exe()?)
        .env(PINNED_CASE_ENV, "1")
        .output()?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("member threads on CPU") || said.contains("skipped"),
        "{said}"
    );
    Ok(())
}

/// The child's side of [`a_pinned_cluster_has_a_process_a_cpu`].
fn pinned_cluster_case() {
    use concur::channels::pin::{CpuPair, Pinned};
    let Some(pair) = CpuPair::first_allowed() else {
        println!("skipped: one CPU, no pair to pin to");
        return;
    };
    let pinned = Pinned::new(pair).unwrap();
    let echo = concur::harness::round_trips::open("cluster-echo").unwrap();
    drop(pinned);
    let members = cluster_members();
    assert_eq!(members.len(), 1, "{members:?}");
    let cpus = cpus_of_every_thread(members[0]);
    assert!(cpus.len() > 1, "a member runs timely's threads: {cpus:?}");
    assert!(
        cpus.iter().all(|c| *c == pair.child.to_string()),
        "{cpus:?}"
    );
    println!("{} member threads on CPU {}", cpus.len(), pair.child);
    drop(echo);
}

fn main() {
    init_workers();
    if std::env::var_os(PINNED_CASE_ENV).is_some() {
        pinned_cluster_case();
        return;
    }
    let args = Arguments::from_args();
    let mut trials = vec![
        Trial::test(
            "cluster::two_clusters_in_one_process",
            two_clusters_in_one_process,
        ),
        Trial::test(
            "cluster::a_pinned_cluster_has_a_process_a_cpu",
            a_pinned_cluster_has_a_process_a_cpu,
        ),
    ];
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
