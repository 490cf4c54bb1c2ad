//! Each re-exported crate is reachable through the facade.

#[test]
fn workloads() {
    assert!(concur::workloads::by_name("primes").is_some());
}

#[test]
fn threads() {
    let pool = concur::threads::ThreadPool::new(1).unwrap();
    assert_eq!(pool.map(vec![2], |x: i32| x * x).unwrap(), [4]);
}

#[test]
fn harness() {
    assert_eq!(concur::harness::model_names()[0], "sequential");
}

#[test]
fn procs() {
    // This libtest binary does not call init(), so a pool must refuse to start rather than
    // re-run the tests in every worker.
    assert!(matches!(
        concur::procs::ProcessPool::new(1),
        Err(concur::procs::Error::NotInitialised)
    ));
}
