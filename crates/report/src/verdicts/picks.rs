//! "What to pick" and "threads or processes" per group: the models within noise of the
//! fastest, and the one that costs least among them.

use super::*;

/// One situation of "what to pick": the models within noise of the fastest, and the one to
/// pick among them.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    /// The situation, e.g. "CPU-bound work on 2 cores".
    pub situation: String,
    /// The recommended model.
    pub model: String,
    /// Its family.
    pub family: Option<Family>,
    /// The models tied with the fastest (the fastest first), when more than one.
    pub tied: Vec<String>,
    /// The text, with figures and links.
    pub text: Text,
}

/// What a model costs to keep, by the figures of this run: memory per idle worker (its own
/// probe, else its family's), then start-up (the spawn group). Lower is cheaper; `None` when
/// nothing was measured.
/// For CPU-bound work (`io` false) an async model's workers are blocking threads, so it costs
/// what a thread costs; only for I/O is a pending task its unit.
pub(super) fn cost(run: &Run<'_>, model: &str, io: bool) -> (f64, f64) {
    let n = run.n;
    let family = run.data.catalog.model(model).map(|m| m.family);
    let stand_in = match family {
        Some(Family::Threads) => &n.thread_per_task,
        Some(Family::Processes) => &n.process_pool,
        Some(Family::Tasks) if io => &n.tasks,
        Some(Family::Tasks) => &n.thread_per_task,
        _ => model,
    };
    let own = if family == Some(Family::Tasks) && !io {
        None
    } else {
        run.idle(model)
    };
    let memory = own
        .or_else(|| run.idle(stand_in))
        .map_or(f64::INFINITY, |p| p.pss_bytes_per_worker);
    let start = run
        .data
        .time(&n.spawn_group, model, None)
        .unwrap_or(f64::INFINITY);
    (memory, start)
}

/// "What to pick", derived from the figures: for each situation, the models whose time is
/// within noise of the fastest (their ratio's interval reaches 1), and among them the one
/// that costs least by this run's figures.
pub fn what_to_pick(data: &RunData) -> Vec<Pick> {
    let run = Run {
        data,
        n: &data.catalog.roles,
    };
    let n = run.n;
    let situation = |what: &str, workload: &str, param: &str| -> Option<Pick> {
        pick_in(&run, what, &run.group(workload), param)
    };
    let mut out: Vec<Pick> = [
        situation("CPU-bound work on 2 cores", &n.cpu_workload, "2"),
        situation("Image processing on 2 cores", &n.image_workload, "2"),
        situation(
            "A large input read by every worker",
            &n.shared_workload,
            "2",
        ),
        situation("A few concurrent requests (8)", &n.io_workload, "8"),
        situation("Dozens of concurrent requests (64)", &n.io_workload, "64"),
        situation(
            "Hundreds of concurrent requests (512)",
            &n.io_workload,
            "512",
        ),
        situation(
            "Tiny tasks, where start-up and hand-off dominate",
            &n.seed_workload,
            "2",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    out.extend(by_task_size(&run));
    if let (Some(t), Some(p)) = (run.idle(&n.thread_per_task), run.idle(&n.process_pool)) {
        let mut text = Text::plain("Isolation (a crash must not take the program down)")
            .strong()
            .and(Text::with_code(&format!(
                ": `{}` — at {} per idle worker against a thread's {}, and a pool, not a \
                 process per task",
                n.process_pool,
                human_bytes(p.pss_bytes_per_worker),
                human_bytes(t.pss_bytes_per_worker),
            )));
        // Link the spawn figures only when this run measured them (a smoke run does not).
        let spawn = &n.spawn_group;
        if data.members(spawn).next().is_some() {
            text = text
                .and(" (")
                .and(Text::plain(spawn.as_str()).link(run.link(spawn)))
                .and(")");
        }
        out.push(Pick {
            situation: "Isolation (a crash must not take the program down)".into(),
            model: n.process_pool.clone(),
            family: Some(Family::Processes),
            tied: Vec::new(),
            text,
        });
    }
    out
}

/// "Threads or processes?" for one group at 2 workers: the fastest model of each family,
/// and a verdict from the threads' time over the processes' (the same thresholds as the
/// tutorial's table: within [`SAME`] is a tie, which threads win on cost).
pub fn family_verdict(data: &RunData, group: &str) -> Option<(Class, String)> {
    let best = |family: Family| -> Option<(&str, f64)> {
        data.members(group)
            .filter(|r| r.parameter.as_deref() == Some("2"))
            .filter(|r| {
                data.catalog
                    .model(&r.function)
                    .is_some_and(|m| m.family == family)
            })
            .map(|r| (r.function.as_str(), r.median_ns))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let (t, _) = best(Family::Threads)?;
    let (p, _) = best(Family::Processes)?;
    let r = data.time_ratio(group, t, p, Some("2"))?;
    let speed = |m: &str| {
        data.speedup(group, m, "2").map_or(String::new(), |s| {
            format!(" ({s} over `{}`)", data.catalog.roles.sequential)
        })
    };
    let (ts, ps) = (speed(t), speed(p));
    Some(if r.above(SAME) {
        (
            Class::Holds,
            format!(
                "processes win: the fastest thread model, `{t}`{ts}, takes {r} the time of the \
                 fastest process model, `{p}`{ps}"
            ),
        )
    } else if r.below(SAME) && r.lo >= 1.0 / SAME {
        (
            Class::DoesNotHold,
            format!(
                "threads and processes tie: `{t}`{ts} takes {r} the time of `{p}`{ps}; threads \
                 cost less (no worker processes, no copies)"
            ),
        )
    } else if r.hi < 1.0 / SAME {
        (
            Class::DoesNotHold,
            format!("threads win: `{t}`{ts} takes {r} the time of `{p}`{ps}"),
        )
    } else {
        (
            Class::Inconclusive,
            format!(
                "not settled on this machine: `{t}`{ts} takes {r} the time of `{p}`{ps}, an \
                 interval across a threshold ({SAME}× either way); {}",
                settle(data)
            ),
        )
    })
}

/// The pick for one situation: the models of `group` at `param` within noise of the
/// fastest, and the cheapest of them (see [`what_to_pick`]).
pub fn pick(data: &RunData, what: &str, group: &str, param: &str) -> Option<Pick> {
    let run = Run {
        data,
        n: &data.catalog.roles,
    };
    pick_in(&run, what, group, param)
}

pub(super) fn pick_in(run: &Run<'_>, what: &str, group: &str, param: &str) -> Option<Pick> {
    let data = run.data;
    let n = run.n;
    let group = group.to_owned();
    let mut c: Vec<(&str, f64)> = data
        .members(&group)
        // Models only: a group's floors (`tcp-floor`) are what models are read against,
        // not something to pick.
        .filter(|r| {
            r.parameter.as_deref() == Some(param)
                && r.function != n.sequential
                && data.catalog.model(&r.function).is_some()
        })
        .map(|r| (r.function.as_str(), r.median_ns))
        .collect();
    c.sort_by(|a, b| a.1.total_cmp(&b.1));
    let &(fastest, best_ns) = c.first()?;
    let ratio = |m: &str| data.time_ratio(&group, m, fastest, Some(param));
    let tied: Vec<&str> = c
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| *m == fastest || ratio(m).is_some_and(|r| r.lo <= 1.0))
        .collect();
    let io = data
        .catalog
        .group(&group)
        .is_some_and(|g| g.axis == Axis::Concurrency);
    // Among models that cost alike: a pool before a model that starts a worker per task
    // (that one pays its start-up on every task), then the registry's order.
    let rank = |m: &str| {
        let per_task = data
            .catalog
            .model(m)
            .is_some_and(|e| e.default_workers == crate::catalog::DefaultWorkers::Tasks);
        (per_task, data.catalog.rank(&group, m))
    };
    let pick = *tied
        .iter()
        .min_by(|a, b| {
            let (ca, cb) = (cost(run, a, io), cost(run, b, io));
            clearly_less(ca.0, cb.0)
                .or_else(|| clearly_less(ca.1, cb.1))
                .unwrap_or_else(|| rank(a).cmp(&rank(b)))
        })
        .unwrap_or(&fastest);
    let family = data.catalog.model(pick).map(|m| m.family);
    let mut text = Text::plain(what).strong().and(": ");
    if tied.len() > 1 {
        let names: Vec<String> = tied.iter().map(|m| format!("`{m}`")).collect();
        let (last, rest) = names.split_last().expect("two or more");
        text = text.and(Text::with_code(&format!(
            "{} and {last} within noise of each other (the fastest, `{fastest}`, {}); \
             pick `{pick}`: {}",
            rest.join(", "),
            human_time(best_ns),
            why_cheapest(run, pick, &tied, io),
        )));
    } else {
        text = text.and(Text::with_code(&format!(
            "`{fastest}` ({})",
            human_time(best_ns)
        )));
        if let Some((second, _)) = c.get(1) {
            if let Some(r) = ratio(second) {
                text = text.and(Text::with_code(&format!(
                    ", then `{second}` at {r} its time"
                )));
            }
        }
    }
    Some(Pick {
        situation: what.to_owned(),
        model: pick.to_owned(),
        family,
        tied: if tied.len() > 1 {
            tied.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
        text: text
            .and(" — ")
            .and(Text::plain(group.as_str()).link(run.link(&group))),
    })
}

/// How `a` compares with `b` when one is clearly (more than [`COST_APART`] times) the
/// smaller; `None` when they are too close to tell, so noise cannot flip a pick.
pub(super) fn clearly_less(a: f64, b: f64) -> Option<std::cmp::Ordering> {
    if a * COST_APART < b {
        Some(std::cmp::Ordering::Less)
    } else if b * COST_APART < a {
        Some(std::cmp::Ordering::Greater)
    } else {
        None
    }
}

/// Two costs (bytes per idle worker, start-up time) decide between tied models only when
/// this far apart; closer than that, a pool goes before a per-task model, then the
/// registry's order decides (a stable choice).
pub const COST_APART: f64 = 1.5;

/// Why `pick` is the cheapest of `tied`, in the figures that decided it.
pub(super) fn why_cheapest(run: &Run<'_>, pick: &str, tied: &[&str], io: bool) -> String {
    let (memory, start) = cost(run, pick, io);
    let family = run
        .data
        .catalog
        .model(pick)
        .map_or("it", |m| m.family.label());
    let others_memory = tied
        .iter()
        .filter(|m| **m != pick)
        .map(|m| cost(run, m, io).0)
        .filter(|m| m.is_finite())
        .reduce(f64::max);
    match others_memory {
        Some(o) if memory.is_finite() && o > memory * 1.5 => format!(
            "{family} cost least ({} per idle worker, against up to {})",
            human_bytes(memory),
            human_bytes(o)
        ),
        _ if start.is_finite() => format!(
            "{family} cost least ({} per idle worker, {} to start one; a pool before a \
             per-task model, then the registry's order, among those that cost alike)",
            human_bytes(memory),
            human_time(start)
        ),
        _ => format!("{family} cost least by this run's figures"),
    }
}

/// The task sizes "what to pick" reads the granularity sweeps at: a decade apart.
const TASK_SIZES_NS: [f64; 6] = [1e3, 1e4, 1e5, 1e6, 1e7, 1e8];

/// A model's speedup at `task_ns` on its sweep's curve: linear in log size between the two
/// steps around it, its last step's above them (the sweep stopped once it had paid off);
/// `None` below its first step.
fn speedup_at(curve: &[(f64, Ratio)], task_ns: f64) -> Option<Ratio> {
    let (first, last) = (curve.first()?, curve.last()?);
    if task_ns < first.0 / 1.5 {
        return None;
    }
    if task_ns >= last.0 {
        return Some(last.1);
    }
    let i = curve.iter().rposition(|(x, _)| *x <= task_ns).unwrap_or(0);
    let ((x0, a), (x1, b)) = (curve[i], curve[(i + 1).min(curve.len() - 1)]);
    if x1 <= x0 {
        return Some(a);
    }
    let t = ((task_ns.ln() - x0.ln()) / (x1.ln() - x0.ln())).clamp(0.0, 1.0);
    let mix = |p: f64, q: f64| p + t * (q - p);
    Some(Ratio {
        value: mix(a.value, b.value),
        lo: mix(a.lo, b.lo),
        hi: mix(a.hi, b.hi),
        paired: true,
    })
}

/// "CPU-bound tasks of about X": at each size of [`TASK_SIZES_NS`] the sweeps cover, the
/// models whose speedup's interval reaches the fastest one's, the cheapest of them (as
/// elsewhere), or `sequential` when none surely breaks even; consecutive sizes with the same
/// pick make one band ("below", "between", "above").
fn by_task_size(run: &Run<'_>) -> Vec<Pick> {
    let data = run.data;
    if data.crossover.is_empty() {
        return Vec::new();
    }
    let curves: Vec<(&str, Vec<(f64, Ratio)>)> = data
        .crossover
        .iter()
        .map(|s| (s.model.as_str(), s.curve()))
        .collect();
    let workers = data.crossover[0].workers;
    // (size, pick, tied, best speedup) per size any sweep covers.
    let mut picks: Vec<(f64, String, Vec<String>, Option<Ratio>)> = Vec::new();
    for x in TASK_SIZES_NS {
        let at: Vec<(&str, Ratio)> = curves
            .iter()
            .filter_map(|(m, c)| Some((*m, speedup_at(c, x)?)))
            .collect();
        let Some(&(_, best)) = at.iter().max_by(|a, b| a.1.value.total_cmp(&b.1.value)) else {
            continue;
        };
        if best.hi < 1.0 || best.value < 1.0 {
            picks.push((x, run.n.sequential.clone(), Vec::new(), Some(best)));
            continue;
        }
        let mut tied: Vec<&str> = at
            .iter()
            .filter(|(_, r)| r.hi >= best.lo && r.value >= 1.0)
            .map(|(m, _)| *m)
            .collect();
        tied.sort_by(|a, b| {
            let (ca, cb) = (cost(run, a, false), cost(run, b, false));
            ca.0.total_cmp(&cb.0).then(ca.1.total_cmp(&cb.1))
        });
        let pick = tied[0].to_owned();
        let speed = at.iter().find(|(m, _)| *m == pick).map(|(_, r)| *r);
        picks.push((x, pick, tied.iter().map(|m| m.to_string()).collect(), speed));
    }
    // Bands of consecutive sizes with the same pick.
    let mut bands: Vec<(f64, f64, usize)> = Vec::new();
    for (i, p) in picks.iter().enumerate() {
        match bands.last_mut() {
            Some(b) if picks[b.2].1 == p.1 => b.1 = p.0,
            _ => bands.push((p.0, p.0, i)),
        }
    }
    let count = bands.len();
    bands
        .into_iter()
        .enumerate()
        .map(|(k, (from, to, i))| {
            let (_, model, tied, speed) = &picks[i];
            let range = match (k, k + 1 == count) {
                (0, true) => "of any size swept".to_owned(),
                (0, false) => format!("of about {} or less", human_time(to)),
                (_, true) => format!("of about {} or more", human_time(from)),
                _ if from == to => format!("of about {}", human_time(from)),
                _ => format!("of about {} to {}", human_time(from), human_time(to)),
            };
            let situation = format!("CPU-bound tasks {range} each");
            let why = if *model == run.n.sequential {
                "no model surely breaks even there (its speedup's interval reaches below 1×): \
                 a plain loop"
                    .to_owned()
            } else if tied.len() > 1 {
                format!(
                    "ties with {} within the sweeps' intervals, and costs least",
                    tied[1..]
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            } else {
                "the fastest there".to_owned()
            };
            let speedup = speed.map_or(String::new(), |r| {
                format!(" (best speedup there {r} at {workers} workers)")
            });
            let text = Text::plain(situation.as_str())
                .strong()
                .and(Text::with_code(&format!(": `{model}` — {why}{speedup}")))
                .and(" (")
                .and(Text::plain("granularity").link(format!(
                    "#{}",
                    crate::doc::slug(crate::granularity::HEADING)
                )))
                .and(")");
            Pick {
                situation,
                family: data.catalog.model(model).map(|m| m.family),
                model: model.clone(),
                tied: if tied.len() > 1 {
                    tied.clone()
                } else {
                    Vec::new()
                },
                text,
            }
        })
        .collect()
}
