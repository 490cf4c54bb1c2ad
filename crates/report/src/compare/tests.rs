use super::*;
use crate::Profile;
use crate::testing::{fixture, saved_run};

fn side<'a>(label: &'a str, data: &'a RunData) -> Side<'a> {
    Side { label, data }
}

/// `run` with every sample of `function`'s figures (criterion's and paired rounds') times
/// `factor`.
fn slowed(mut run: RunData, function: &str, factor: f64) -> RunData {
    for r in run.results.iter_mut().filter(|r| r.function == function) {
        r.median_ns *= factor;
        r.mean_ns *= factor;
        r.median_ci_ns = (r.median_ci_ns.0 * factor, r.median_ci_ns.1 * factor);
        r.samples_ns.iter_mut().for_each(|x| *x *= factor);
    }
    for p in &mut run.paired {
        for m in p.models.iter_mut().filter(|m| m.name == function) {
            m.times_ns.iter_mut().for_each(|x| *x *= factor);
        }
    }
    run
}

#[test]
fn a_run_against_itself_changes_nothing() {
    let run = saved_run();
    let c = Comparison::new(side("a", &run), side("b", &run));
    assert!(!c.changes.is_empty());
    assert!(
        c.changes
            .iter()
            .all(|x| x.decided == Decided::NotSignificant && x.change.value == 1.0),
        "{:?}",
        c.changes
            .iter()
            .find(|x| x.decided != Decided::NotSignificant)
    );
    assert!(c.verdicts.is_empty() && c.verdicts_kept > 0);
    assert!(c.picks.is_empty() && c.crossovers.iter().all(|m| !m.moved()));
    assert!(c.regressions(0.0).is_empty());
    assert!(c.left_out.is_empty(), "{:?}", c.left_out);
}

#[test]
fn a_slower_model_is_named_by_the_gate_and_its_ratios_move_too() {
    let before = fixture();
    let after = slowed(fixture(), "thread-pool", 1.3);
    let c = Comparison::new(side("before", &before), side("after", &after));
    let slower: Vec<String> = c
        .changes
        .iter()
        .filter(|x| x.decided == Decided::Slower)
        .map(Change::name)
        .collect();
    assert!(
        slower
            .iter()
            .any(|n| n.starts_with("cpu_bound/primes thread-pool @")),
        "{slower:?}"
    );
    // Its time rose 1.3×, its speedup over sequential fell by as much.
    let time = c
        .changes
        .iter()
        .find(|x| x.kind == Kind::Time && x.function == "thread-pool")
        .unwrap();
    assert!((time.change.value - 1.3).abs() < 1e-9, "{:?}", time.change);
    let speedup = c
        .changes
        .iter()
        .find(|x| x.kind == Kind::Speedup && x.function == "thread-pool")
        .unwrap();
    assert!((speedup.change.value - 1.0 / 1.3).abs() < 1e-9);
    assert!(speedup.slowdown.value > 1.0 && speedup.decided == Decided::Slower);
    // Nothing else moved.
    assert!(c.changes.iter().all(|x| x.function == "thread-pool"
        || x.against.as_deref() == Some("thread-pool")
        || x.decided == Decided::NotSignificant));
    // The largest change comes first.
    assert!(c.changes[0].size() >= c.changes.last().unwrap().size());
    // The gate: 30% slower fails a 10% gate, not a 50% one.
    assert!(
        c.regressions(10.0)
            .iter()
            .any(|x| x.function == "thread-pool")
    );
    assert!(c.regressions(50.0).is_empty());
    // Faster the other way round, and the gate passes.
    let back = Comparison::new(side("after", &after), side("before", &before));
    assert!(back.changes.iter().any(|x| x.decided == Decided::Faster));
    assert!(back.regressions(0.0).is_empty());
}

#[test]
fn runs_of_different_profiles_compare_ratios_and_leave_times_out() {
    let before = saved_run();
    let mut after = saved_run();
    after.profile = Profile::Full;
    let c = Comparison::new(side("quick", &before), side("full", &after));
    assert!(
        c.left_out
            .times
            .as_deref()
            .unwrap()
            .contains("quick and full")
    );
    assert!(c.changes.iter().all(|x| x.kind != Kind::Time));
    assert!(!c.changes.is_empty());
    let md = crate::markdown::render(&document(&c, false));
    assert!(
        md.contains("Times left out: the runs measured different profiles"),
        "{md}"
    );
}

#[test]
fn what_only_one_run_has_is_left_out_and_said() {
    let before = saved_run();
    let mut after = saved_run();
    let dropped = after.results[0].clone();
    after.results.retain(|r| r.group != dropped.group);
    after.catalog.workloads.retain(|w| w.name != "primes");
    let c = Comparison::new(side("a", &before), side("b", &after));
    assert!(c.left_out.workloads_before.contains(&"primes".to_owned()));
    assert!(
        c.left_out
            .figures_before
            .iter()
            .any(|f| f.starts_with(&dropped.group))
    );
    assert!(c.left_out.figures_after.is_empty());
    assert!(c.changes.iter().all(|x| x.group != dropped.group));
    let md = crate::markdown::render(&document(&c, false));
    assert!(md.contains("## Left out"), "{md}");
}

#[test]
fn the_plot_draws_a_mark_per_figure() {
    let before = fixture();
    let after = slowed(fixture(), "thread-pool", 1.3);
    let c = Comparison::new(side("before", &before), side("after", &after));
    let svg = plot::changes_svg(&c.changes).unwrap();
    assert!(svg.matches("<circle").count() >= c.changes.len().min(plot::MAX_ROWS));
    assert!(crate::plots::data_marks(&svg) > 0);
}

/// The two committed fixture runs (`tests/fixtures/compare/`: real quick runs on the 2-core
/// VM, one on both CPUs and one under `taskset -c 0`) compared: what a reader of the
/// comparison sees.
#[test]
fn the_fixture_runs_compare_as_the_snapshot_says() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/compare");
    let read = |name: &str| crate::runs::read(&std::path::Path::new(dir).join(name)).unwrap();
    let (two, one) = (read("two-cpus.json"), read("one-cpu.json"));
    let c = Comparison::new(side("two-cpus", &two), side("one-cpu", &one));
    // On one CPU nothing runs in parallel: the parallel verdicts must move.
    assert!(!c.verdicts.is_empty());
    let out = tempfile::tempdir().unwrap();
    let written = c.write(out.path()).unwrap();
    assert!(out.path().join("plots/changes.svg").is_file());
    let md = std::fs::read_to_string(&written.markdown).unwrap();
    insta::assert_snapshot!(md);
}
