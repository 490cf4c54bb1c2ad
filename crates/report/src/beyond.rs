//! "Beyond one machine": the cluster model beside the process pool (start-up, per-task
//! overhead, speedup), and a projection, from those figures, of the smallest unit of work
//! for which a second host pays off.
//!
//! The projection: one host runs a batch of `N` units of `w` each on `c` cores with a
//! process pool (per-unit overhead `o_pool`, start-up `S_pool`); two hosts run it on `2c`
//! cores as a cluster (`o_cluster`, `S_cluster`). Per-unit overheads are paid by the worker
//! that runs the unit, so
//!
//! ```text
//! T_one = S_pool    + N (w + o_pool)    / c
//! T_two = S_cluster + N (w + o_cluster) / 2c
//! T_two < T_one  ⇔  w > o_cluster − 2·o_pool + 2c·(S_cluster − S_pool) / N
//! ```
//!
//! With the cluster started once and reused (as concur reuses its pools), the last term
//! vanishes. The cluster's overhead here crosses loopback; on a real network it grows by
//! the network's round trip minus loopback's, measured in the same group.

use crate::data::RunData;
use crate::stats::Ratio;

/// One figure of the cluster beside the process pool's.
#[derive(Clone, Debug, PartialEq)]
pub struct Beside {
    /// What it is.
    pub what: &'static str,
    /// Where it was measured.
    pub group: String,
    /// The cluster's figure, ns (or a speedup).
    pub cluster: Figure,
    /// The process pool's.
    pub pool: Figure,
}

/// A time or a speedup.
#[derive(Clone, Debug, PartialEq)]
pub enum Figure {
    /// A median time, ns.
    Time(f64),
    /// A speedup over the reference, with its interval.
    Speedup(Ratio),
}

/// The break-even projection, from this run's figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Projection {
    /// Per-unit overhead of the cluster (one empty task through it), ns.
    pub o_cluster: f64,
    /// Per-unit overhead of the process pool, ns.
    pub o_pool: f64,
    /// Start-up of the cluster (one more process joining), ns.
    pub s_cluster: f64,
    /// Start-up of one pool worker, ns.
    pub s_pool: f64,
    /// The raw loopback TCP round trip, ns, if measured.
    pub rtt: Option<f64>,
    /// Cores per host (this machine's).
    pub cores: usize,
    /// The batch size the start-up term is shown for.
    pub units: usize,
}

impl Projection {
    /// The break-even unit of work for a cluster started once and reused, ns (at most 0:
    /// any unit pays off).
    pub fn steady_ns(&self) -> f64 {
        self.o_cluster - 2.0 * self.o_pool
    }

    /// The break-even unit of work for a batch of `self.units` units that starts the
    /// cluster for itself, ns.
    pub fn with_start_ns(&self) -> f64 {
        self.steady_ns()
            + 2.0 * self.cores as f64 * (self.s_cluster - self.s_pool) / self.units as f64
    }
}

/// The section's content, if the run measured the cluster.
#[derive(Clone, Debug, PartialEq)]
pub struct Beyond {
    /// The figures side by side.
    pub rows: Vec<Beside>,
    /// The projection, when every figure it needs was measured.
    pub projection: Option<Projection>,
}

/// The cluster's figures beside the process pool's, and the projection.
pub fn beyond(data: &RunData) -> Option<Beyond> {
    let roles = &data.catalog.roles;
    let (cluster, pool) = (roles.cluster.as_str(), roles.process_pool.as_str());
    if cluster.is_empty() {
        return None;
    }
    let mut rows = Vec::new();
    let spawn = roles.spawn_group.as_str();
    let starts = (
        data.time(spawn, cluster, None),
        data.time(spawn, pool, None),
    );
    if let (Some(c), Some(p)) = starts {
        rows.push(Beside {
            what: "start-up (start a worker, end it)",
            group: spawn.to_owned(),
            cluster: Figure::Time(c),
            pool: Figure::Time(p),
        });
    }
    let handoffs = (data.handoff_ns(cluster), data.handoff_ns(pool));
    let handoff_group = data
        .catalog
        .handoffs
        .iter()
        .find(|h| h.model == cluster)
        .map(|h| h.group.clone())
        .unwrap_or_default();
    if let (Some(c), Some(p)) = handoffs {
        rows.push(Beside {
            what: "per-task overhead (one empty task there and back)",
            group: handoff_group,
            cluster: Figure::Time(c),
            pool: Figure::Time(p),
        });
    }
    let cpu = data.group_of(&roles.cpu_workload);
    let speedups = (
        data.speedup(&cpu, cluster, "2"),
        data.speedup(&cpu, pool, "2"),
    );
    if let (Some(c), Some(p)) = speedups {
        rows.push(Beside {
            what: "speedup over sequential at 2 workers",
            group: cpu.clone(),
            cluster: Figure::Speedup(c),
            pool: Figure::Speedup(p),
        });
    }
    if rows.is_empty() {
        return None;
    }
    let projection = match (starts, handoffs) {
        ((Some(s_cluster), Some(s_pool)), (Some(o_cluster), Some(o_pool))) => Some(Projection {
            o_cluster,
            o_pool,
            s_cluster,
            s_pool,
            rtt: transport_rtt(data, cluster),
            cores: data.machine.cores.max(1),
            units: data.bench_tasks(&roles.cpu_workload).unwrap_or(16).max(1),
        }),
        _ => None,
    };
    Some(Beyond { rows, projection })
}

/// The raw loopback TCP round trip in the cluster's hand-off group
/// ([`crate::catalog::Roles::loopback_tcp`]; in older runs, the channel its per-task
/// overhead was read against, raw TCP then). Not the cluster's floor today: `tcp-relay` wraps raw TCP
/// in the threads timely puts around it.
fn transport_rtt(data: &RunData, cluster: &str) -> Option<f64> {
    let handoff = data.catalog.handoffs.iter().find(|h| h.model == cluster)?;
    let loopback = data.catalog.roles.loopback_tcp.as_str();
    if !loopback.is_empty() {
        return data.time(&handoff.group, loopback, None);
    }
    let c = data
        .catalog
        .comparisons
        .iter()
        .find(|c| c.group == handoff.group && c.subject == handoff.function)?;
    data.time(&c.group, &c.against, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_break_even_unit_follows_the_formula() {
        let p = Projection {
            o_cluster: 130_000.0,
            o_pool: 55_000.0,
            s_cluster: 4_000_000.0,
            s_pool: 1_500_000.0,
            rtt: Some(60_000.0),
            cores: 2,
            units: 16,
        };
        // 130 − 2·55 = 20 µs; + 2·2·(4 − 1.5) ms / 16 = 625 µs.
        assert!((p.steady_ns() - 20_000.0).abs() < 1e-6);
        assert!((p.with_start_ns() - 645_000.0).abs() < 1e-6);
    }

    #[test]
    fn the_loopback_round_trip_is_raw_tcp_not_the_cluster_s_floor() {
        use crate::catalog::{Against, Comparison, Handoff};
        let mut data = crate::testing::fixture();
        data.results = vec![
            crate::testing::pingpong_result("tcp", 50_000.0, 0.0),
            crate::testing::pingpong_result("tcp-relay", 60_000.0, 0.0),
            crate::testing::pingpong_result("cluster-task", 72_000.0, 0.0),
        ];
        data.catalog.roles.cluster = "cluster".into();
        data.catalog.handoffs = vec![Handoff {
            model: "cluster".into(),
            group: "ipc/pingpong".into(),
            function: "cluster-task".into(),
        }];
        data.catalog.comparisons = vec![Comparison {
            group: "ipc/pingpong".into(),
            param: None,
            subject: "cluster-task".into(),
            against: "tcp-relay".into(),
            kind: Against::Floor,
            target: Some(1.5),
            paired: true,
            bytes: None,
            reach: None,
        }];
        data.catalog.roles.loopback_tcp = "tcp".into();
        assert_eq!(transport_rtt(&data, "cluster"), Some(50_000.0));
        // A run from before the role was named: the cluster's floor, raw TCP then.
        data.catalog.roles.loopback_tcp = String::new();
        assert_eq!(transport_rtt(&data, "cluster"), Some(60_000.0));
    }
}
