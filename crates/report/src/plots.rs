//! The report's plots, drawn with plotters as standalone SVG files next to the report
//! (referenced by relative path: nothing is fetched from anywhere).
//!
//! One colour per model in every plot (by its place in the catalog, in a hue of its family:
//! blues for threads, oranges and reds for processes, green for async tasks, grey for the
//! reference); legends sit beside the data, never over it; ratios carry error bars from
//! their 95% intervals; worker counts are integer ticks, with the ideal linear speedup up to
//! the machine's cores; log axes are labelled in time units.

use std::path::Path;

use plotters::prelude::*;

use crate::catalog::{Axis, Family, Peers};
use crate::criterion::BenchResult;
use crate::data::RunData;
use crate::units::human_time;
use crate::{Error, write_file};

/// A plot written into the report directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// Path relative to the report directory, e.g. `plots/cpu_bound_primes.svg`.
    pub file: String,
    /// What it shows.
    pub title: String,
}

/// Plot size, and the width kept for the legend on the right.
const WIDTH: u32 = 820;
const HEIGHT: u32 = 420;
const LEGEND: u32 = 170;

/// Draws every plot the run's data allows into `dir/plots/`; returns them in report order:
/// a speedup plot per group by workers, a time plot per group by concurrency, a bar chart
/// per group the catalog asks bars for.
pub fn write(dir: &Path, data: &RunData) -> Result<Vec<Plot>, Error> {
    let plots_dir = dir.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| Error::io("creating", &plots_dir, e))?;
    let mut plots = Vec::new();
    let groups = &data.catalog.groups;
    let order = [Axis::Workers, Axis::Concurrency, Axis::None];
    for axis in order {
        for g in groups.iter().filter(|g| g.axis == axis) {
            let (title, svg) = match axis {
                Axis::Workers => (
                    format!(
                        "{}: speedup over `{}` by workers (error bars: 95% intervals; dashed: \
                         ideal)",
                        g.id, data.catalog.roles.sequential
                    ),
                    speedup_svg(&g.id, data),
                ),
                Axis::Concurrency => (
                    format!("{}: time per batch by concurrent requests (log–log)", g.id),
                    io_svg(&g.id, data),
                ),
                Axis::None if g.bars => (
                    format!("{}: time per function, fastest first (log scale)", g.id),
                    bars_svg(&g.id, data),
                ),
                Axis::None => continue,
            };
            if let Some(svg) = svg {
                let file = format!("plots/{}.svg", g.id.replace('/', "_"));
                write_file(&dir.join(&file), svg)?;
                plots.push(Plot { file, title });
            }
        }
    }
    if let Some((svg, workers)) = granularity_svg(data) {
        write_file(&dir.join(GRANULARITY_PLOT), svg)?;
        plots.push(Plot {
            file: GRANULARITY_PLOT.to_owned(),
            title: format!(
                "granularity: speedup over `{}` by work per task at {workers} workers (log x; \
                 error bars: 95% intervals; dashed: ideal; grey: published rules of thumb, not \
                 measured here)",
                data.catalog.roles.sequential
            ),
        });
    }
    Ok(plots)
}

/// The granularity plot's file, relative to the report directory.
pub const GRANULARITY_PLOT: &str = "plots/granularity.svg";

/// Speedup against work per task (log x), a line per swept model with error bars, the ideal
/// speedup dashed, 1× dotted, and the published rules of thumb as labelled grey marks.
fn granularity_svg(data: &RunData) -> Option<(String, usize)> {
    let series: Vec<Series<'_>> = data
        .crossover
        .iter()
        .map(|s| Series {
            name: s.model.as_str(),
            points: s
                .curve()
                .into_iter()
                .map(|(x, r)| (x, r.value, r.lo, r.hi))
                .collect(),
        })
        .filter(|s| !s.points.is_empty())
        .collect();
    let workers = data.crossover.iter().map(|s| s.workers).max()?;
    let points = || series.iter().flat_map(|s| s.points.iter());
    let min_x = points().map(|p| p.0).fold(f64::MAX, f64::min);
    let max_x = points().map(|p| p.0).fold(0f64, f64::max);
    if series.is_empty() || min_x <= 0.0 || max_x <= min_x {
        return None;
    }
    let max_y = points()
        .map(|p| p.3)
        .fold(workers as f64, f64::max)
        .min(workers as f64 * 1.5);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let (plot, side) = root.split_horizontally(WIDTH - LEGEND);
        let (x0, x1) = (min_x / 1.5, max_x * 1.5);
        let mut chart = ChartBuilder::on(&plot)
            .caption("granularity", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d((x0..x1).log_scale(), 0f64..max_y * 1.1)
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("work per task (sequential's time)")
            .y_desc("speedup over sequential")
            .light_line_style(WHITE)
            .x_label_formatter(&|x| human_time(*x))
            .draw()
            .ok()?;
        let w = workers as f64;
        for (y, dash) in [(w, 6), (1.0, 2)] {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, y), (x1, y)],
                    dash,
                    4,
                    BLACK.mix(0.5).stroke_width(1),
                ))
                .ok()?;
        }
        let grey = RGBColor(150, 150, 150);
        for (i, p) in crate::granularity::PUBLISHED.iter().enumerate() {
            if p.ns < x0 || p.ns > x1 {
                continue;
            }
            chart
                .draw_series(DashedLineSeries::new(
                    [(p.ns, 0.0), (p.ns, max_y * 1.1)],
                    3,
                    3,
                    grey.stroke_width(1),
                ))
                .ok()?;
            let y = max_y * (1.05 - 0.08 * i as f64);
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("{} (published)", p.label),
                    (p.ns, y),
                    ("sans-serif", 11).into_font().color(&grey),
                )))
                .ok()?;
        }
        draw_series(&mut chart, &side, data, &series)?;
        root.present().ok()?;
    }
    Some((svg, workers))
}

/// Functions of `group`, in the catalog's order.
fn functions<'a>(data: &RunData, members: &[&'a BenchResult]) -> Vec<&'a str> {
    let mut f: Vec<&str> = Vec::new();
    for m in members {
        if !f.contains(&m.function.as_str()) {
            f.push(&m.function);
        }
    }
    if let Some(g) = members.first().map(|m| m.group.as_str()) {
        f.sort_by_key(|name| (data.catalog.rank(g, name), name.to_string()));
    }
    f
}

fn param(r: &BenchResult) -> Option<f64> {
    r.parameter.as_deref()?.parse().ok()
}

/// The colour of `function` in every plot: a hue of its family, a shade by its place in the
/// family.
fn color(data: &RunData, function: &str) -> RGBColor {
    const THREADS: [RGBColor; 4] = [
        RGBColor(21, 101, 192),
        RGBColor(66, 165, 245),
        RGBColor(0, 151, 167),
        RGBColor(92, 107, 192),
    ];
    const PROCESSES: [RGBColor; 4] = [
        RGBColor(230, 81, 0),
        RGBColor(198, 40, 40),
        RGBColor(255, 167, 38),
        RGBColor(173, 20, 87),
    ];
    const TASKS: [RGBColor; 2] = [RGBColor(46, 125, 50), RGBColor(124, 179, 66)];
    const OTHER: [RGBColor; 4] = [
        RGBColor(97, 97, 97),
        RGBColor(141, 110, 99),
        RGBColor(171, 71, 188),
        RGBColor(120, 144, 156),
    ];
    let cat = &data.catalog;
    let nth = |names: Vec<&str>| names.iter().position(|n| *n == function).unwrap_or(0);
    if let Some(m) = cat.model(function) {
        let same: Vec<&str> = cat
            .models
            .iter()
            .filter(|x| x.family == m.family)
            .map(|x| x.name.as_str())
            .collect();
        let i = nth(same);
        return match m.family {
            Family::Threads => THREADS[i % THREADS.len()],
            Family::Processes => PROCESSES[i % PROCESSES.len()],
            Family::Tasks => TASKS[i % TASKS.len()],
            Family::Sequential => OTHER[0],
        };
    }
    if let Some(c) = cat.channels.iter().find(|c| c.name == function) {
        let same: Vec<&str> = cat
            .channels
            .iter()
            .filter(|x| x.peers == c.peers && x.is_floor == c.is_floor)
            .map(|x| x.name.as_str())
            .collect();
        let i = nth(same);
        return match (c.peers, c.is_floor) {
            (_, true) => OTHER[(1 + i) % OTHER.len()],
            (Peers::Threads, _) => THREADS[i % THREADS.len()],
            (Peers::ThreadAndTask, _) => TASKS[i % TASKS.len()],
            (Peers::Processes, _) => PROCESSES[i % PROCESSES.len()],
        };
    }
    // A pool's task through its transport: the pool's colour.
    if let Some(h) = cat.handoffs.iter().find(|h| h.function == function) {
        return color(data, &h.model);
    }
    OTHER[3]
}

/// One line of a plot: a function's points (x, y, and the y interval).
struct Series<'a> {
    name: &'a str,
    points: Vec<(f64, f64, f64, f64)>,
}

/// A series per function of `members`: (parameter, y, lo, hi) points, where they exist.
fn series<'a>(
    data: &RunData,
    members: &[&'a BenchResult],
    y: impl Fn(&BenchResult) -> Option<(f64, f64, f64)>,
) -> Vec<Series<'a>> {
    functions(data, members)
        .into_iter()
        .map(|f| {
            let mut points: Vec<(f64, f64, f64, f64)> = members
                .iter()
                .filter(|r| r.function == f)
                .filter_map(|r| {
                    let (v, lo, hi) = y(r)?;
                    Some((param(r)?, v, lo, hi))
                })
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series { name: f, points }
        })
        .filter(|s| !s.points.is_empty())
        .collect()
}

/// The legend, in its own area to the right of the chart: a swatch and a name per series.
fn legend(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    data: &RunData,
    names: &[&str],
) -> Option<()> {
    for (i, name) in names.iter().enumerate() {
        let y = 40 + 20 * i as i32;
        let c = color(data, name);
        area.draw(&PathElement::new(vec![(4, y), (24, y)], c.stroke_width(3)))
            .ok()?;
        area.draw(&Text::new(
            name.to_string(),
            (30, y - 7),
            ("sans-serif", 13),
        ))
        .ok()?;
    }
    Some(())
}

/// Each series as a line in its model's colour, a dot per point and an error bar from its
/// interval, on any axes; then the legend in `side`, beside the data.
fn draw_series<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    side: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    data: &RunData,
    series: &[Series<'_>],
) -> Option<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for s in series {
        let c = color(data, s.name);
        chart
            .draw_series(LineSeries::new(
                s.points.iter().map(|p| (p.0, p.1)),
                c.stroke_width(2),
            ))
            .ok()?;
        chart
            .draw_series(
                s.points
                    .iter()
                    .map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, c.stroke_width(1), 6)),
            )
            .ok()?;
        chart
            .draw_series(
                s.points
                    .iter()
                    .map(|p| Circle::new((p.0, p.1), 3, c.filled())),
            )
            .ok()?;
    }
    let names: Vec<&str> = series.iter().map(|s| s.name).collect();
    legend(side, data, &names)
}

/// Speedup against workers, a line per model with error bars, and the ideal speedup.
fn speedup_svg(group: &str, data: &RunData) -> Option<String> {
    let members: Vec<&BenchResult> = data.members(group).collect();
    let series = series(data, &members, |r| {
        let s = data.ratio(r)?;
        Some((s.value, s.lo, s.hi))
    });
    let mut workers: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .collect();
    workers.sort_by(f64::total_cmp);
    workers.dedup();
    let max_x = *workers.last()?;
    let max_y = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.3))
        .fold(0f64, f64::max);
    let cores = data.machine.cores.max(1) as f64;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let (plot, side) = root.split_horizontally(WIDTH - LEGEND);
        let mut chart = ChartBuilder::on(&plot)
            .caption(group, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(
                0.5f64..max_x + 0.5,
                0f64..(max_y * 1.1).max(cores.min(max_x) * 1.1).max(2.2),
            )
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("workers")
            .y_desc("speedup over sequential")
            // Ticks every half worker; only whole workers are labelled.
            .x_labels((2.0 * max_x) as usize + 2)
            .x_label_formatter(&integer_label)
            .draw()
            .ok()?;
        // Ideal: linear up to the cores, flat after.
        let ideal: Vec<(f64, f64)> = [1.0, cores.min(max_x), max_x]
            .into_iter()
            .map(|x| (x, x.min(cores)))
            .collect();
        chart
            .draw_series(DashedLineSeries::new(
                ideal,
                6,
                4,
                BLACK.mix(0.5).stroke_width(1),
            ))
            .ok()?;
        draw_series(&mut chart, &side, data, &series)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Time per batch against concurrency, log-log, a line per model, error bars from
/// criterion's intervals of the median.
fn io_svg(group: &str, data: &RunData) -> Option<String> {
    let members: Vec<&BenchResult> = data.members(group).collect();
    let series = series(data, &members, |r| {
        Some((
            r.median_ns,
            r.median_ci_ns.0.min(r.median_ns),
            r.median_ci_ns.1.max(r.median_ns),
        ))
    });
    if series.is_empty() {
        return None;
    }
    let points = || series.iter().flat_map(|s| s.points.iter());
    let min_x = points().map(|p| p.0).fold(f64::MAX, f64::min);
    let max_x = points().map(|p| p.0).fold(0f64, f64::max);
    let min_y = points().map(|p| p.2).fold(f64::MAX, f64::min);
    let max_y = points().map(|p| p.3).fold(0f64, f64::max);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let (plot, side) = root.split_horizontally(WIDTH - LEGEND);
        let mut chart = ChartBuilder::on(&plot)
            .caption(group, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(
                (min_x / 1.5..max_x * 1.5).log_scale(),
                (min_y / 1.5..max_y * 1.5).log_scale(),
            )
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("concurrent requests")
            .y_desc("time per batch")
            // A log axis's fine grid is a band of lines: keep only the labelled ones.
            .light_line_style(WHITE)
            .y_labels(8)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| human_time(*y))
            .draw()
            .ok()?;
        draw_series(&mut chart, &side, data, &series)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Time per function: a horizontal bar each, fastest first, log scale in time units, with
/// criterion's interval of the median as an error bar.
fn bars_svg(group: &str, data: &RunData) -> Option<String> {
    let mut bars: Vec<&BenchResult> = data.members(group).filter(|r| r.median_ns > 0.0).collect();
    if bars.is_empty() {
        return None;
    }
    bars.sort_by(|a, b| a.median_ns.total_cmp(&b.median_ns));
    let lo = bars
        .iter()
        .map(|b| b.median_ci_ns.0.min(b.median_ns))
        .fold(f64::MAX, f64::min)
        .max(1e-3);
    let hi = bars
        .iter()
        .map(|b| b.median_ci_ns.1.max(b.median_ns))
        .fold(0f64, f64::max);
    let n = bars.len();
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, 70 + 24 * n as u32)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let labels: Vec<String> = bars.iter().map(|b| b.function.clone()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(group, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(140)
            .build_cartesian_2d((lo / 2.0..hi * 2.0).log_scale(), 0f64..n as f64)
            .ok()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .x_desc("time (log scale)")
            .x_label_formatter(&|x| human_time(*x))
            // Bar i fills [n-1-i, n-i), fastest at the top; its label sits at the middle.
            .y_labels(2 * n + 1)
            .y_label_formatter(&|y| row_label(&labels, *y))
            .draw()
            .ok()?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let top = (n - i) as f64 - 0.15;
                let bottom = (n - 1 - i) as f64 + 0.15;
                Rectangle::new(
                    [(lo / 2.0, bottom), (b.median_ns, top)],
                    color(data, &b.function).mix(0.85).filled(),
                )
            }))
            .ok()?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let mid = (n - 1 - i) as f64 + 0.5;
                ErrorBar::new_horizontal(
                    mid,
                    b.median_ci_ns.0.min(b.median_ns),
                    b.median_ns,
                    b.median_ci_ns.1.max(b.median_ns),
                    BLACK.stroke_width(1),
                    6,
                )
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// The label at height `y` of a chart with a row per label, row `i` centred at
/// `labels.len() - 0.5 - i` (the first at the top): the label there, or nothing between rows.
pub(crate) fn row_label(labels: &[String], y: f64) -> String {
    let i = labels.len() as f64 - 0.5 - y;
    if (i - i.round()).abs() < 1e-6 && i >= -0.5 {
        labels.get(i.round() as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// `x` as a whole number, or nothing when it is not one.
fn integer_label(x: &f64) -> String {
    if (x - x.round()).abs() < 1e-6 && *x > 0.0 {
        format!("{x:.0}")
    } else {
        String::new()
    }
}

/// How many data marks (a line plot's dots, a bar chart's bars) an SVG the plots above drew
/// holds: an empty plot has none (`cargo xtask check-report` fails on it). The background is
/// one rectangle; axes and grid are lines, not marks.
pub fn data_marks(svg: &str) -> usize {
    svg.matches("<circle").count() + svg.matches("<rect").count().saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(group: &str, function: &str, param: Option<&str>, ns: f64) -> BenchResult {
        BenchResult {
            group: group.into(),
            function: function.into(),
            parameter: param.map(str::to_owned),
            directory: String::new(),
            median_ns: ns,
            median_ci_ns: (ns, ns),
            mad_ns: 0.0,
            mean_ns: ns,
            samples_ns: Vec::new(),
        }
    }

    #[test]
    fn draws_the_plots_the_data_allows() {
        let results = vec![
            r("cpu_bound/primes", "sequential", Some("1"), 100.0),
            r("cpu_bound/primes", "sequential", Some("2"), 100.0),
            r("cpu_bound/primes", "thread-pool", Some("1"), 100.0),
            r("cpu_bound/primes", "thread-pool", Some("2"), 52.0),
            r("io_bound/sleep", "tokio", Some("8"), 2e7),
            r("io_bound/sleep", "tokio", Some("64"), 2.1e7),
            r("ipc/pingpong", "crossbeam", None, 800.0),
            r("ipc/pingpong", "ipc-channel", None, 1.1e5),
        ];
        let mut data = crate::testing::fixture();
        data.results = results;
        let speedup = speedup_svg("cpu_bound/primes", &data).unwrap();
        assert!(speedup.starts_with("<svg") && speedup.contains("thread-pool"));
        assert!(io_svg("io_bound/sleep", &data).unwrap().contains("tokio"));
        let latency = bars_svg("ipc/pingpong", &data).unwrap();
        assert!(latency.contains("ipc-channel") && latency.contains("crossbeam"));
        assert!(speedup_svg("cpu_bound/grayscale", &data).is_none());
        assert!(io_svg("io_bound/http-fetch", &data).is_none());
        let dir = tempfile::tempdir().unwrap();
        let plots = write(dir.path(), &data).unwrap();
        let files: Vec<&str> = plots.iter().map(|p| p.file.as_str()).collect();
        assert_eq!(
            files,
            [
                "plots/cpu_bound_primes.svg",
                "plots/io_bound_sleep.svg",
                "plots/ipc_pingpong.svg"
            ]
        );
    }
}
