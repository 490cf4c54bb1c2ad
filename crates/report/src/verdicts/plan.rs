//! Which comparisons the verdicts need measured in paired rounds: the run's plan, which
//! `cargo xtask bench` (and `concur-bench`) carry out with `concur compare`.

/// The (workload, parameter) pairs whose models the verdicts and "what to pick" compare:
/// `cargo xtask bench` measures each in paired rounds (`concur compare`), so these ratios
/// are read from times taken back to back.
pub fn paired_plan(catalog: &crate::Catalog) -> Vec<(String, usize)> {
    let n = &catalog.roles;
    [
        (&n.cpu_workload, 2),
        (&n.image_workload, 2),
        (&n.shared_workload, 2),
        (&n.io_workload, 8),
        (&n.io_workload, 64),
        (&n.io_workload, 512),
        (&n.seed_workload, 2),
    ]
    .into_iter()
    .filter(|(w, _)| !w.is_empty())
    .map(|(w, p)| (w.clone(), p))
    .collect()
}
