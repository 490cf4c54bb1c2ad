//! The report's plots, drawn with plotters as standalone SVG files next to the report
//! (referenced by relative path: nothing is fetched from anywhere).

use std::path::Path;

use plotters::prelude::*;

use crate::catalog::Axis;
use crate::criterion::BenchResult;
use crate::data::RunData;
use crate::{Error, write_file};

/// A plot written into the report directory.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    /// Path relative to the report directory, e.g. `plots/cpu_bound_primes.svg`.
    pub file: String,
    /// What it shows.
    pub title: String,
}

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
                        "{}: speedup over `{}` by workers",
                        g.id, data.catalog.roles.sequential
                    ),
                    speedup_svg(&g.id, data),
                ),
                Axis::Concurrency => (
                    format!("{}: time per batch by concurrent requests", g.id),
                    io_svg(&g.id, data),
                ),
                Axis::None if g.bars => (
                    format!("{}: time per function (log scale)", g.id),
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
    Ok(plots)
}

/// Functions of `group` in first-seen order.
fn functions<'a>(members: &[&'a BenchResult]) -> Vec<&'a str> {
    let mut f: Vec<&str> = Vec::new();
    for m in members {
        if !f.contains(&m.function.as_str()) {
            f.push(&m.function);
        }
    }
    f
}

fn param(r: &BenchResult) -> Option<f64> {
    r.parameter.as_deref()?.parse().ok()
}

fn color(i: usize) -> RGBColor {
    const PALETTE: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
    PALETTE[i % PALETTE.len()]
}

/// A line per function of `members`: (parameter, `y(result)`) points, where both exist.
fn series<'a>(
    members: &[&'a BenchResult],
    y: impl Fn(&BenchResult) -> Option<f64>,
) -> Vec<(&'a str, Vec<(f64, f64)>)> {
    functions(members)
        .into_iter()
        .map(|f| {
            let points: Vec<(f64, f64)> = members
                .iter()
                .filter(|r| r.function == f)
                .filter_map(|r| Some((param(r)?, y(r)?)))
                .collect();
            (f, points)
        })
        .filter(|(_, points)| !points.is_empty())
        .collect()
}

/// The smallest and largest x and y over every point.
fn bounds(series: &[(&str, Vec<(f64, f64)>)]) -> ((f64, f64), (f64, f64)) {
    let mut b = ((f64::MAX, 0f64), (f64::MAX, 0f64));
    for &(x, y) in series.iter().flat_map(|(_, p)| p) {
        b = ((b.0.0.min(x), b.0.1.max(x)), (b.1.0.min(y), b.1.1.max(y)));
    }
    b
}

/// Draws each series as a coloured line with dots, and the legend; any axes.
fn draw_lines<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    series: &[(&str, Vec<(f64, f64)>)],
) -> Option<()>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    for (i, (name, points)) in series.iter().enumerate() {
        let c = color(i);
        chart
            .draw_series(LineSeries::new(points.clone(), c.stroke_width(2)))
            .ok()?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
        chart
            .draw_series(points.iter().map(|&p| Circle::new(p, 3, c.filled())))
            .ok()?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .ok()
}

/// Speedup against workers, a line per model.
fn speedup_svg(group: &str, data: &RunData) -> Option<String> {
    let members: Vec<&BenchResult> = data.members(group).collect();
    let series = series(&members, |r| data.ratio(r).map(|x| x.value));
    let ((_, max_x), (_, max_y)) = bounds(&series);
    if series.is_empty() || max_x <= 0.0 {
        return None;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(group, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(48)
            .build_cartesian_2d(0.5f64..max_x + 0.5, 0f64..(max_y * 1.15).max(2.2))
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("workers")
            .y_desc("speedup over sequential")
            .draw()
            .ok()?;
        draw_lines(&mut chart, &series)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Time per batch against concurrency, log-log, a line per model.
fn io_svg(group: &str, data: &RunData) -> Option<String> {
    let members: Vec<&BenchResult> = data.members(group).collect();
    let series = series(&members, |r| Some(r.median_ns / 1e6));
    if series.is_empty() {
        return None;
    }
    let ((min_x, max_x), (min_y, max_y)) = bounds(&series);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption(group, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(
                (min_x / 1.5..max_x * 1.5).log_scale(),
                (min_y / 1.5..max_y * 1.5).log_scale(),
            )
            .ok()?;
        chart
            .configure_mesh()
            .x_desc("concurrent requests")
            .y_desc("ms per batch")
            .draw()
            .ok()?;
        draw_lines(&mut chart, &series)?;
        root.present().ok()?;
    }
    Some(svg)
}

/// Time per function: a horizontal bar each, log scale.
fn bars_svg(group: &str, data: &RunData) -> Option<String> {
    let bars: Vec<(&str, f64)> = data
        .members(group)
        .map(|r| (r.function.as_str(), r.median_ns))
        .collect();
    if bars.is_empty() {
        return None;
    }
    let (lo, hi) = bars
        .iter()
        .fold((f64::MAX, 0f64), |a, b| (a.0.min(b.1), a.1.max(b.1)));
    let n = bars.len() as u32;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 60 + 26 * n)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.to_owned()).collect();
        let mut chart = ChartBuilder::on(&root)
            .caption(group, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(130)
            .build_cartesian_2d((lo / 2.0..hi * 2.0).log_scale(), (0u32..n).into_segmented())
            .ok()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc("ns (log)")
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .y_labels(n as usize)
            .draw()
            .ok()?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, (_, ns))| {
                let i = i as u32;
                Rectangle::new(
                    [
                        (lo / 2.0, SegmentValue::Exact(i)),
                        (*ns, SegmentValue::Exact(i + 1)),
                    ],
                    color(i as usize).mix(0.8).filled(),
                )
            }))
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
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
