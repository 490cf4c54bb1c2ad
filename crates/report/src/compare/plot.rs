//! The plot of the changes: one row per figure (the largest changes), its slowdown on a log
//! axis with its 95% interval, coloured by whether the change is decided.

use plotters::prelude::*;

use super::{Change, Decided};

/// At most this many figures are drawn (the largest changes); the table has them all.
pub(super) const MAX_ROWS: usize = 40;

const WIDTH: u32 = 900;
const LABELS: u32 = 360;

/// The SVG, or `None` when there is nothing to draw.
pub(super) fn changes_svg(changes: &[Change]) -> Option<String> {
    let rows: Vec<&Change> = changes
        .iter()
        .filter(|c| c.slowdown.value.is_finite() && c.slowdown.value > 0.0)
        .take(MAX_ROWS)
        .collect();
    if rows.is_empty() {
        return None;
    }
    let n = rows.len();
    let ends = rows
        .iter()
        .flat_map(|c| [c.slowdown.lo, c.slowdown.value, c.slowdown.hi])
        .filter(|x| x.is_finite() && *x > 0.0);
    let (lo, hi) = ends.fold((1.0f64, 1.0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    // Symmetric around 1× so that slower and faster read alike.
    let reach = (hi.ln().max(-lo.ln()) * 1.15).max(0.1f64.ln_1p());
    let (x0, x1) = ((-reach).exp(), reach.exp());
    let labels: Vec<String> = rows.iter().map(|c| short(&c.name())).collect();
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, 80 + 20 * n as u32)).into_drawing_area();
        root.fill(&WHITE).ok()?;
        let mut chart = ChartBuilder::on(&root)
            .caption("changes (after / before, as slowdowns)", ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(LABELS)
            .build_cartesian_2d((x0..x1).log_scale(), 0f64..n as f64)
            .ok()?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(WHITE)
            .x_desc("slowdown (right of 1×: slower)")
            .x_label_formatter(&|x| format!("{x:.2}×"))
            // Row i sits at n - 0.5 - i, the largest change at the top.
            .y_labels(2 * n + 1)
            .y_label_formatter(&|y| crate::plots::row_label(&labels, *y))
            .draw()
            .ok()?;
        chart
            .draw_series(DashedLineSeries::new(
                [(1.0, 0.0), (1.0, n as f64)],
                4,
                3,
                BLACK.mix(0.6).stroke_width(1),
            ))
            .ok()?;
        let colour = |c: &Change| match c.decided {
            Decided::Slower => RGBColor(198, 40, 40),
            Decided::Faster => RGBColor(46, 125, 50),
            Decided::WithinNoise | Decided::NotSignificant => RGBColor(140, 140, 140),
        };
        let y = |i: usize| n as f64 - 0.5 - i as f64;
        let clamp = |x: f64| x.clamp(x0, x1);
        chart
            .draw_series(rows.iter().enumerate().map(|(i, c)| {
                ErrorBar::new_horizontal(
                    y(i),
                    clamp(c.slowdown.lo),
                    clamp(c.slowdown.value),
                    clamp(c.slowdown.hi),
                    colour(c).stroke_width(1),
                    6,
                )
            }))
            .ok()?;
        chart
            .draw_series(
                rows.iter().enumerate().map(|(i, c)| {
                    Circle::new((clamp(c.slowdown.value), y(i)), 4, colour(c).filled())
                }),
            )
            .ok()?;
        root.present().ok()?;
    }
    Some(svg)
}

/// A figure's name cut to fit the label area.
fn short(name: &str) -> String {
    const MAX: usize = 52;
    if name.chars().count() <= MAX {
        name.to_owned()
    } else {
        let head: String = name.chars().take(MAX - 1).collect();
        format!("{head}…")
    }
}
