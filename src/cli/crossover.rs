//! `concur crossover`: the granularity sweep of one model, as a table or one JSON object.

use std::fmt::Write as _;
use std::process::ExitCode;

use serde::Serialize;

use crate::cli::args::CrossoverArgs;
use crate::cli::commands::{Failure, print_json};
use crate::harness::RunError;
use crate::harness::crossover::{CrossoverRequest, SweepPlan, sweep};
use crate::report::crossover::{Crossing, PAYS_OFF_SHARE, Sweep};
use crate::report::units::human_time;

/// What `concur crossover --json` prints.
#[derive(Serialize)]
struct Printed<'a> {
    sweep: &'a Sweep,
    break_even: Option<Crossing>,
    pays_off: Option<Crossing>,
}

pub(crate) fn crossover(args: &CrossoverArgs) -> Result<ExitCode, Failure> {
    let workers = args.workers.unwrap_or_else(crate::harness::available_cores);
    let s = sweep(&CrossoverRequest {
        model: args.model,
        workload: args.workload,
        workers,
        plan: SweepPlan::of(args.profile),
    })
    .map_err(|e| match e {
        RunError::Invalid(m) => Failure::usage(m),
        other => Failure::runtime(other.to_string()),
    })?;
    if args.json {
        print_json(&Printed {
            sweep: &s,
            break_even: s.break_even(),
            pays_off: s.pays_off(),
        });
    } else {
        print!("{}", text(&s));
    }
    Ok(ExitCode::SUCCESS)
}

/// The sweep as `concur crossover` prints it: a line per size, then the two crossings.
fn text(s: &Sweep) -> String {
    let mut out = format!(
        "{} at {} workers against sequential, {} (work per task: sequential's time over the \
         tasks; speedup: median of the paired rounds, 95% interval)\n",
        s.model, s.workers, s.workload
    );
    let _ = writeln!(
        out,
        "  {:>12}  {:>6}  {:>12}  {:>6}  speedup",
        "work/task", "tasks", "size", "rounds"
    );
    for step in &s.steps {
        let speedup = step.speedup().map_or("–".to_owned(), |r| r.to_string());
        let _ = writeln!(
            out,
            "  {:>12}  {:>6}  {:>12}  {:>6}  {speedup}",
            human_time(step.task_ns()),
            step.tasks,
            step.size,
            step.sequential_ns.len()
        );
    }
    let say = |c: Option<Crossing>| c.map_or("no steps".to_owned(), |c| c.to_string());
    let pays = format!("pays off ({:.2}×):", PAYS_OFF_SHARE * s.workers as f64);
    let _ = writeln!(out, "  {:<20} {}", "break-even (1×):", say(s.break_even()));
    let _ = writeln!(out, "  {pays:<20} {}", say(s.pays_off()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::crossover::Step;

    #[test]
    fn the_table_names_every_step_and_both_crossings() {
        let step = |task_ns: f64, speedup: f64, wobble: f64| Step {
            size: (task_ns / 2.0) as u64,
            tasks: 8,
            sequential_ns: vec![task_ns * 8.0; 6],
            model_ns: (0..6)
                .map(|i| task_ns * 8.0 / speedup * if i % 2 == 0 { 1.0 + wobble } else { 1.0 })
                .collect(),
        };
        let s = Sweep {
            model: "thread-pool".into(),
            workload: "spin".into(),
            workers: 2,
            steps: vec![
                step(1e3, 0.4, 0.05),
                step(1e4, 1.3, 0.05),
                step(1e5, 1.85, 0.02),
                step(1e6, 1.95, 0.01),
            ],
        };
        insta::assert_snapshot!(text(&s));
    }
}
