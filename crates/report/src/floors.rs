//! "Floors and peers": each model or channel read against the floor of its mechanism (the
//! least the machine can do) or its best peer (another implementation), measured in the
//! same run, with the target the catalog sets and whether the run met it.

use crate::catalog::{Against, Comparison};
use crate::data::{PairedRun, RunData};
use crate::stats::{self, Ratio};

/// Whether a ratio met its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The whole interval is at or under the target.
    Met,
    /// The whole interval is over it.
    Missed,
    /// The interval straddles it.
    Inconclusive,
    /// Over the target, and so is the least the ratio can be on this machine: a part of the
    /// subject's work timed in the same rounds ([`Reach`](crate::catalog::Reach)) already
    /// puts it over, whatever the rest of the subject costs.
    OutOfReach,
    /// No target: the ratio is for scale.
    NoTarget,
}

impl Outcome {
    /// As the report says it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Met => "met",
            Outcome::Missed => "missed",
            Outcome::Inconclusive => "inconclusive",
            Outcome::OutOfReach => "out of reach",
            Outcome::NoTarget => "for scale",
        }
    }
}

/// One line of the table.
#[derive(Clone, Debug, PartialEq)]
pub struct FloorRow<'a> {
    /// What is compared.
    pub comparison: &'a Comparison,
    /// The subject's median, ns.
    pub subject_ns: f64,
    /// What it is read against: median, ns.
    pub against_ns: f64,
    /// `subject / against`, with its interval.
    pub ratio: Ratio,
    /// Against the target.
    pub outcome: Outcome,
    /// When the ratio comes from paired rounds: how many it took, and the most it could
    /// take (it stops once the ratio is decided against the target).
    pub rounds: Option<(usize, Option<usize>)>,
    /// The CPU pair the paired rounds were pinned to, if they were.
    pub placement: Option<crate::data::Placement>,
    /// The least the ratio can be, when the comparison has a [`Reach`](crate::catalog::Reach) whose part was timed
    /// in the same rounds.
    pub reach: Option<ReachFigure<'a>>,
}

/// What a [`Reach`](crate::catalog::Reach)'s part measured in a row's paired rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct ReachFigure<'a> {
    /// The part, timed alone.
    pub part: &'a str,
    /// `part / against`, from the same rounds as the row's ratio.
    pub part_ratio: Ratio,
    /// The least `subject / against` can be ([`Reach::least`](crate::catalog::Reach::least)), at the part's point
    /// estimate and at its interval's lower end.
    pub least: Ratio,
}

/// The row's bound: its [`Reach`](crate::catalog::Reach)'s part over `against`, read from `paired` (the rounds
/// that gave the row's ratio), if they timed the part.
fn reach_of<'a>(c: &'a Comparison, paired: Option<&PairedRun>) -> Option<ReachFigure<'a>> {
    let reach = c.reach.as_ref()?;
    let paired = paired?;
    let seed = stats::seed(&[&c.group, &reach.part, &c.against, ""]);
    let part_ratio = stats::paired_ratio(
        paired.times_of(&reach.part)?,
        paired.times_of(&c.against)?,
        seed,
    )?;
    let least = Ratio {
        value: reach.least(part_ratio.value),
        lo: reach.least(part_ratio.lo),
        hi: reach.least(part_ratio.hi),
        paired: true,
    };
    Some(ReachFigure {
        part: &reach.part,
        part_ratio,
        least,
    })
}

/// Every comparison of the catalog that this run measured both sides of.
pub fn rows(data: &RunData) -> Vec<FloorRow<'_>> {
    data.catalog
        .comparisons
        .iter()
        .filter_map(|c| {
            let param = c.param.as_deref();
            let subject_ns = data.time(&c.group, &c.subject, param)?;
            let against_ns = data.time(&c.group, &c.against, param)?;
            let ratio = data.time_ratio(&c.group, &c.subject, &c.against, param)?;
            let outcome = match c.target {
                None => Outcome::NoTarget,
                Some(t) if ratio.below(t) => Outcome::Met,
                Some(t) if ratio.lo > t => Outcome::Missed,
                Some(_) => Outcome::Inconclusive,
            };
            let paired = ratio
                .paired
                .then(|| data.paired_run(&c.group, param.unwrap_or(""), &c.subject, &c.against))
                .flatten();
            let rounds = paired.map(|p| (p.rounds(), p.max_rounds));
            let placement = paired.and_then(|p| p.placement);
            let reach = reach_of(c, paired);
            // Not met, and even the least the ratio can be is over the target. The bound
            // decides an undecided ratio too: the subject does its part and more, so a part
            // whose whole interval is over the target puts the ratio over it, whatever the
            // ratio's own noise (a bulk ring at 2.00× (1.98–2.02) `memcpy` beside its
            // transfer alone at 2.04× (2.02–2.05)).
            let outcome = match (outcome, &reach, c.target) {
                (Outcome::Missed | Outcome::Inconclusive, Some(r), Some(t)) if r.least.lo > t => {
                    Outcome::OutOfReach
                }
                _ => outcome,
            };
            Some(FloorRow {
                comparison: c,
                subject_ns,
                against_ns,
                ratio,
                outcome,
                rounds,
                placement,
                reach,
            })
        })
        .collect()
}

/// "floor" or "peer".
pub fn kind_label(kind: Against) -> &'static str {
    match kind {
        Against::Floor => "floor",
        Against::Peer => "peer",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::criterion::BenchResult;

    /// An `ipc/pingpong` figure of `ns`, its samples `spread` apart.
    fn r(function: &str, ns: f64, spread: f64) -> BenchResult {
        crate::testing::pingpong_result(function, ns, spread)
    }

    #[test]
    fn targets_are_met_missed_or_inconclusive() {
        let cmp = |subject: &str, target| Comparison {
            group: "ipc/pingpong".into(),
            param: None,
            subject: subject.into(),
            against: "atomic-spin".into(),
            kind: Against::Floor,
            target,
            paired: false,
            bytes: None,
            reach: None,
        };
        let mut data = crate::testing::fixture();
        data.catalog = Catalog {
            comparisons: vec![
                cmp("fast", Some(1.5)),
                cmp("slow", Some(1.5)),
                cmp("noisy", Some(1.5)),
                cmp("fast", None),
                cmp("absent", Some(1.5)),
            ],
            ..Catalog::default()
        };
        data.results = vec![
            r("atomic-spin", 100.0, 0.01),
            r("fast", 120.0, 0.01),
            r("slow", 300.0, 0.01),
            r("noisy", 150.0, 0.6),
        ];
        let rows = rows(&data);
        let outcomes: Vec<Outcome> = rows.iter().map(|r| r.outcome).collect();
        assert_eq!(
            outcomes,
            [
                Outcome::Met,
                Outcome::Missed,
                Outcome::Inconclusive,
                Outcome::NoTarget
            ]
        );
        assert!((rows[0].ratio.value - 1.2).abs() < 0.01);
        assert!(!rows[0].ratio.paired);
        // Paired rounds of the two, taken back to back, are what the ratio is read from.
        data.paired.push(pingpong_rounds(vec![
            crate::PairedModel {
                name: "fast".into(),
                times_ns: vec![200.0, 210.0, 190.0, 205.0],
            },
            crate::PairedModel {
                name: "atomic-spin".into(),
                times_ns: vec![100.0, 100.0, 100.0, 100.0],
            },
        ]));
        let rows = super::rows(&data);
        assert!(rows[0].ratio.paired);
        assert!(
            (rows[0].ratio.value - 2.0).abs() < 0.06,
            "{}",
            rows[0].ratio
        );
        assert_eq!(rows[0].outcome, Outcome::Missed);
        assert_eq!(rows[0].rounds, Some((4, Some(30))));
        assert_eq!(rows[0].reach, None, "no reach in the catalog");
    }

    /// Paired rounds of `models` in `ipc/pingpong`, as `concur pingpong --against` takes them.
    fn pingpong_rounds(models: Vec<crate::PairedModel>) -> crate::PairedRun {
        crate::PairedRun {
            workload: "pingpong".into(),
            group: "ipc/pingpong".into(),
            param: String::new(),
            tasks: 1000,
            size: 8,
            models,
            max_rounds: Some(30),
            placement: None,
        }
    }

    /// A run where `pool-task` is 2× `transport` in paired rounds that also timed `codec`
    /// at `codec_ns` (the transport at 100 ns), read against 1.5× with `codec` as the reach.
    fn reach_run(codec_ns: f64, after_against: bool) -> (RunData, Vec<Outcome>) {
        let mut data = crate::testing::fixture();
        data.catalog = Catalog {
            comparisons: vec![Comparison {
                group: "ipc/pingpong".into(),
                param: None,
                subject: "pool-task".into(),
                against: "transport".into(),
                kind: Against::Floor,
                target: Some(1.5),
                paired: true,
                bytes: None,
                reach: Some(crate::catalog::Reach {
                    part: "codec".into(),
                    after_against,
                }),
            }],
            ..Catalog::default()
        };
        data.results = vec![r("transport", 100.0, 0.01), r("pool-task", 200.0, 0.01)];
        let model = |name: &str, ns: f64| crate::PairedModel {
            name: name.into(),
            times_ns: (0..8)
                .map(|i| ns * (1.0 + 0.01 * f64::from(i % 3)))
                .collect(),
        };
        data.paired.push(pingpong_rounds(vec![
            model("pool-task", 200.0),
            model("transport", 100.0),
            model("codec", codec_ns),
        ]));
        let outcomes = rows(&data).iter().map(|r| r.outcome).collect();
        (data, outcomes)
    }

    #[test]
    fn a_missed_target_is_out_of_reach_only_when_the_bound_is_over_it_too() {
        // The codec alone is 0.8× the transport, done after it: at least 1.8×.
        let (data, outcomes) = reach_run(80.0, true);
        assert_eq!(outcomes, [Outcome::OutOfReach]);
        let read = rows(&data);
        let reach = read[0].reach.as_ref().expect("the codec was timed");
        assert_eq!(reach.part, "codec");
        assert!((reach.part_ratio.value - 0.8).abs() < 0.02, "{reach:?}");
        assert!((reach.least.value - 1.8).abs() < 0.02, "{reach:?}");
        assert!(reach.least.lo > 1.5);
        // At 0.3× the least is 1.3×: the pool could meet 1.5× and does not, so missed.
        assert_eq!(reach_run(30.0, true).1, [Outcome::Missed]);
        // The part as the subject's own floor (not after the transport): 1.6× is over 1.5×.
        assert_eq!(reach_run(160.0, false).1, [Outcome::OutOfReach]);
        assert_eq!(reach_run(80.0, false).1, [Outcome::Missed]);
        // A ratio whose interval holds the target is decided by a bound over it.
        let (mut data, _) = reach_run(60.0, true);
        let noisy: Vec<f64> = (0..8)
            .map(|i| if i % 2 == 0 { 130.0 } else { 200.0 })
            .collect();
        data.paired[0].models[0].times_ns = noisy;
        let read = rows(&data);
        assert!(
            read[0].ratio.lo < 1.5 && read[0].ratio.hi > 1.5,
            "{:?}",
            read[0].ratio
        );
        let least = read[0].reach.as_ref().unwrap().least;
        assert!(least.lo > 1.5, "{least:?}");
        assert_eq!(read[0].outcome, Outcome::OutOfReach);
        // Without the bound over the target, it stays inconclusive.
        let (mut data, _) = reach_run(30.0, true);
        data.paired[0].models[0].times_ns = (0..8)
            .map(|i| if i % 2 == 0 { 130.0 } else { 200.0 })
            .collect();
        assert_eq!(rows(&data)[0].outcome, Outcome::Inconclusive);
        // Not timed in the rounds (an older run): no bound, plain missed.
        let (mut data, _) = reach_run(80.0, true);
        data.paired[0].models.pop();
        let read = rows(&data);
        assert_eq!(
            (read[0].outcome, read[0].reach.as_ref()),
            (Outcome::Missed, None)
        );
    }
}
