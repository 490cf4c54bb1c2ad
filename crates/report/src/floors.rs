//! "Floors and peers": each model or channel read against the floor of its mechanism (the
//! least the machine can do) or its best peer (another implementation), measured in the
//! same run, with the target the catalog sets and whether the run met it.

use crate::catalog::{Against, Comparison};
use crate::data::RunData;
use crate::stats::Ratio;

/// Whether a ratio met its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The whole interval is at or under the target.
    Met,
    /// The whole interval is over it.
    Missed,
    /// The interval straddles it.
    Inconclusive,
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
            Some(FloorRow {
                comparison: c,
                subject_ns,
                against_ns,
                ratio,
                outcome,
                rounds,
                placement,
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

    fn r(function: &str, ns: f64, spread: f64) -> BenchResult {
        BenchResult {
            group: "ipc/pingpong".into(),
            function: function.into(),
            parameter: None,
            directory: format!("ipc_pingpong/{function}"),
            median_ns: ns,
            median_ci_ns: (ns, ns),
            mad_ns: 0.0,
            mean_ns: ns,
            samples_ns: (0..10)
                .map(|i| ns * (1.0 + spread * (f64::from(i % 5) - 2.0) / 2.0))
                .collect(),
        }
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
        data.paired.push(crate::PairedRun {
            workload: "pingpong".into(),
            group: "ipc/pingpong".into(),
            param: String::new(),
            tasks: 1000,
            size: 8,
            models: vec![
                crate::PairedModel {
                    name: "fast".into(),
                    times_ns: vec![200.0, 210.0, 190.0, 205.0],
                },
                crate::PairedModel {
                    name: "atomic-spin".into(),
                    times_ns: vec![100.0, 100.0, 100.0, 100.0],
                },
            ],
            max_rounds: Some(30),
            placement: None,
        });
        let rows = super::rows(&data);
        assert!(rows[0].ratio.paired);
        assert!(
            (rows[0].ratio.value - 2.0).abs() < 0.06,
            "{}",
            rows[0].ratio
        );
        assert_eq!(rows[0].outcome, Outcome::Missed);
        assert_eq!(rows[0].rounds, Some((4, Some(30))));
    }
}
