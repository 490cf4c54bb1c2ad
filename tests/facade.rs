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
