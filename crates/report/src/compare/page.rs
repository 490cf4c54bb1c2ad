//! The comparison as a [`Document`]: written as `summary.md` and `index.html` by the same
//! emitters as the report.

use crate::crossover::Crossing;
use crate::doc::{Block, Column, Document, Table, Text};
use crate::machine::Machine;
use crate::stats::Ratio;
use crate::units::human_time;
use crate::verdicts::Class;

use super::{Change, Comparison, Decided, Kind, NOISE, Side};

/// The heading `cargo xtask check-report --compare` looks for.
pub const HEADING: &str = "What changed";

/// The comparison's document; `plot` says whether `plots/changes.svg` was drawn.
pub fn document(c: &Comparison<'_>, plot: bool) -> Document {
    let (a, b) = (c.before, c.after);
    let mut doc = Document {
        title: format!("concur: {} → {}", a.label, b.label),
        blocks: Vec::new(),
    };
    doc.paragraph(Text::with_code(&format!(
        "Run `{}` ({}, {}) against run `{}` ({}, {}). A change is the second run's figure \
         over the first's; its 95% interval is resampled from both runs' saved samples (paired \
         rounds where the runs have them, else criterion's samples), not from two medians. A \
         change is decided when its whole interval is on one side of no change and it is \
         at least {:.0}% (smaller decided changes are \"within noise\": two runs on a shared \
         machine drift by more than one run's samples show).",
        a.label,
        a.data.profile.name(),
        a.data.started_at,
        b.label,
        b.data.profile.name(),
        b.data.started_at,
        NOISE * 100.0,
    )));
    if let Some(why) = &c.left_out.times {
        doc.blocks.push(Block::Warning(Text::plain(format!(
            "Times left out: {why}."
        ))));
    }
    doc.section(HEADING);
    doc.blocks.push(Block::List(headline(c)));
    doc.section("The machines");
    doc.blocks.push(Block::Table(machines(a, b)));
    verdicts_section(&mut doc, c);
    picks_section(&mut doc, c);
    crossovers_section(&mut doc, c);
    figures_section(&mut doc, c, plot);
    if !c.left_out.is_empty() {
        doc.section("Left out");
        doc.paragraph("What only one run has is not compared:");
        doc.blocks.push(Block::List(left_out(c)));
    }
    doc
}

/// The comparison in a few lines, linked to its sections.
fn headline(c: &Comparison<'_>) -> Vec<Text> {
    let count = |d: Decided| c.changes.iter().filter(|x| x.decided == d).count();
    let moved = c.crossovers.iter().filter(|m| m.moved()).count();
    vec![
        Text::plain(format!(
            "{} of {} tutorial rows changed their verdict",
            c.verdicts.len(),
            c.verdicts.len() + c.verdicts_kept
        ))
        .link("#the-tutorials-rows"),
        Text::plain(format!(
            "{} of {} picks changed",
            c.picks.len(),
            c.picks.len() + c.picks_kept
        ))
        .link("#what-to-pick"),
        Text::plain(format!(
            "{moved} of {} crossovers moved",
            c.crossovers.len()
        ))
        .link("#granularity"),
        Text::plain(format!(
            "of {} figures: {} slower, {} faster, {} within noise, {} not significant",
            c.changes.len(),
            count(Decided::Slower),
            count(Decided::Faster),
            count(Decided::WithinNoise),
            count(Decided::NotSignificant),
        ))
        .link("#every-figure"),
    ]
}

/// The two machines, a row per field, marked where they differ.
fn machines(a: Side<'_>, b: Side<'_>) -> Table {
    let row = |field: &str, x: String, y: String| -> Vec<Text> {
        let differs = if x == y { "" } else { "≠" };
        vec![
            Text::plain(field),
            Text::plain(x),
            Text::plain(y),
            Text::plain(differs),
        ]
    };
    let noise = |s: Side<'_>| noise_line(s.data);
    let (ma, mb): (&Machine, &Machine) = (&a.data.machine, &b.data.machine);
    Table {
        columns: vec![
            Column::text(""),
            Column::text(Text::code(a.label)),
            Column::text(Text::code(b.label)),
            Column::text("differs"),
        ],
        rows: vec![
            row("host", ma.host.clone(), mb.host.clone()),
            row("CPU", ma.cpu.clone(), mb.cpu.clone()),
            row("cores", ma.cores.to_string(), mb.cores.to_string()),
            row(
                "memory",
                format!("{:.1} GiB", ma.memory_gib),
                format!("{:.1} GiB", mb.memory_gib),
            ),
            row("kernel", ma.kernel.clone(), mb.kernel.clone()),
            row("rustc", ma.rustc.clone(), mb.rustc.clone()),
            row(
                "git revision",
                a.data.git_revision.clone(),
                b.data.git_revision.clone(),
            ),
            row(
                "profile",
                a.data.profile.name().to_owned(),
                b.data.profile.name().to_owned(),
            ),
            row(
                "started",
                a.data.started_at.clone(),
                b.data.started_at.clone(),
            ),
            row("noise", noise(a), noise(b)),
        ],
    }
}

/// Steal, stalls and the cache-line round trip, in one line.
fn noise_line(data: &crate::RunData) -> String {
    let Some(n) = &data.noise else {
        return "not measured".to_owned();
    };
    let mut parts = Vec::new();
    if let Some(max) = n.steal.iter().map(|s| s.steal_pct).reduce(f64::max) {
        parts.push(format!("steal up to {max:.1}%"));
    }
    if let Some(s) = &n.stall {
        parts.push(format!(
            "stalled {:.2}% of {:.0} s",
            s.stalled_pct, s.seconds
        ));
    }
    let lines = n.placement.iter().flat_map(|p| [p.before_ns, p.after_ns]);
    let (lo, hi) = lines.fold((f64::MAX, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
    if hi > 0.0 {
        parts.push(format!(
            "cache-line round trip {}–{}",
            human_time(lo),
            human_time(hi)
        ));
    }
    if parts.is_empty() {
        "not measured".to_owned()
    } else {
        parts.join("; ")
    }
}

fn badge(class: Class) -> Text {
    Text::badge(&crate::doc::slug(class.label()), class.label())
}

/// `1 row`, `3 rows`.
fn rows(n: usize) -> String {
    format!("{n} row{}", if n == 1 { "" } else { "s" })
}

fn verdicts_section(doc: &mut Document, c: &Comparison<'_>) {
    doc.section("The tutorial's rows");
    if c.verdicts.is_empty() {
        doc.paragraph(format!(
            "Every row kept its verdict ({} rows).",
            c.verdicts_kept
        ));
        return;
    }
    doc.paragraph(format!(
        "{} changed {} verdict; {} kept {}.",
        rows(c.verdicts.len()),
        if c.verdicts.len() == 1 {
            "its"
        } else {
            "their"
        },
        rows(c.verdicts_kept),
        if c.verdicts_kept == 1 {
            "its"
        } else {
            "theirs"
        },
    ));
    let cell =
        |(class, headline): &(Class, String)| badge(*class).and(" ").and(Text::with_code(headline));
    let rows = c
        .verdicts
        .iter()
        .map(|v| (v.feature.to_owned(), cell(&v.before), cell(&v.after)));
    doc.blocks.push(Block::Table(before_after(c, "row", rows)));
}

/// A table of what changed: a first column titled `what`, then the first run's cell and
/// the second's, headed by the runs' names.
fn before_after(
    c: &Comparison<'_>,
    what: &str,
    rows: impl Iterator<Item = (String, Text, Text)>,
) -> Table {
    Table {
        columns: vec![
            Column::text(what),
            Column::text(Text::code(c.before.label)),
            Column::text(Text::code(c.after.label)),
        ],
        rows: rows
            .map(|(name, before, after)| vec![Text::plain(name), before, after])
            .collect(),
    }
}

fn picks_section(doc: &mut Document, c: &Comparison<'_>) {
    doc.section("What to pick");
    if c.picks.is_empty() {
        doc.paragraph(format!(
            "Every situation kept its pick ({} situations).",
            c.picks_kept
        ));
        return;
    }
    doc.paragraph(format!(
        "{} situations changed their pick (or the models tied with the fastest); {} kept it.",
        c.picks.len(),
        c.picks_kept
    ));
    let cell = |p: &Option<(String, Vec<String>)>| match p {
        None => Text::plain("–"),
        Some((model, tied)) if tied.len() > 1 => {
            Text::code(model.clone()).and(format!(" (tied: {})", tied.join(", ")))
        }
        Some((model, _)) => Text::code(model.clone()),
    };
    let rows = c
        .picks
        .iter()
        .map(|p| (p.situation.clone(), cell(&p.before), cell(&p.after)));
    doc.blocks
        .push(Block::Table(before_after(c, "situation", rows)));
}

fn crossovers_section(doc: &mut Document, c: &Comparison<'_>) {
    doc.section("Granularity");
    if c.crossovers.is_empty() {
        doc.paragraph("Neither run swept the same model at the same worker count.");
        return;
    }
    doc.paragraph(Text::with_code(
        "Where each model breaks even with `sequential` and where it pays off (the \
         granularity sweeps), in both runs. A crossover moved when its two 95% intervals do \
         not overlap.",
    ));
    let cross = |x: &Crossing| Text::plain(x.to_string());
    doc.blocks.push(Block::Table(Table {
        columns: vec![
            Column::text("model"),
            Column::text("crossover"),
            Column::numeric(Text::code(c.before.label)),
            Column::numeric(Text::code(c.after.label)),
            Column::numeric("after / before"),
            Column::text("moved"),
        ],
        rows: c
            .crossovers
            .iter()
            .map(|m| {
                vec![
                    Text::code(m.model.clone()),
                    Text::plain(m.what),
                    cross(&m.before),
                    cross(&m.after),
                    Text::plain(m.factor().map_or("–".to_owned(), |f| format!("{f:.2}×"))),
                    Text::plain(if m.moved() { "moved" } else { "no" }),
                ]
            })
            .collect(),
    }));
}

/// A figure's value as its kind reads: a time, or a ratio.
fn value(kind: Kind, r: &Ratio) -> String {
    match kind {
        Kind::Time if r.lo != r.hi => format!(
            "{} ({} – {})",
            human_time(r.value),
            human_time(r.lo),
            human_time(r.hi)
        ),
        Kind::Time => human_time(r.value),
        Kind::Speedup | Kind::Cost => r.to_string(),
    }
}

fn figures_section(doc: &mut Document, c: &Comparison<'_>, plot: bool) {
    doc.section("Every figure");
    if c.changes.is_empty() {
        doc.paragraph("The two runs have no figure in common (a smoke run records none).");
        return;
    }
    doc.paragraph(
        "Every time and ratio both runs measured, the largest change first. A speedup that \
         fell, or a time or cost ratio that rose, is slower.",
    );
    if plot {
        doc.blocks.push(Block::Figure {
            src: "plots/changes.svg".to_owned(),
            caption: Text::plain(format!(
                "the {} largest changes (of {}), after / before on a log scale, as \
                 slowdowns: right of 1× is slower; error bars: 95% intervals; red slower, \
                 green faster, grey undecided",
                c.changes.len().min(super::plot::MAX_ROWS),
                c.changes.len()
            )),
        });
    }
    doc.blocks.push(Block::Table(Table {
        columns: vec![
            Column::text("figure"),
            Column::text("kind"),
            Column::numeric(Text::code(c.before.label)),
            Column::numeric(Text::code(c.after.label)),
            Column::numeric("after / before"),
            Column::text("change"),
        ],
        rows: c.changes.iter().map(figure_row).collect(),
    }));
}

fn figure_row(x: &Change) -> Vec<Text> {
    let decided = Text::badge(&crate::doc::slug(x.decided.label()), x.decided.label());
    vec![
        Text::code(x.name()),
        Text::plain(x.kind.label()),
        Text::plain(value(x.kind, &x.before)),
        Text::plain(value(x.kind, &x.after)),
        Text::plain(x.change.to_string()),
        decided,
    ]
}

fn left_out(c: &Comparison<'_>) -> Vec<Text> {
    let l = &c.left_out;
    let (a, b) = (c.before.label, c.after.label);
    let mut out = Vec::new();
    if let Some(why) = &l.times {
        out.push(Text::plain(format!("every time: {why}")));
    }
    let list = |what: &str, names: &[String], only: &str| -> Option<Text> {
        (!names.is_empty()).then(|| {
            Text::plain(format!("{} {what} only in ", names.len()))
                .and(Text::code(only.to_owned()))
                .and(": ")
                .and(Text::code(names.join(", ")))
        })
    };
    out.extend(list("workloads", &l.workloads_before, a));
    out.extend(list("workloads", &l.workloads_after, b));
    out.extend(list("figures", &l.figures_before, a));
    out.extend(list("figures", &l.figures_after, b));
    out.extend(l.other.iter().map(|s| Text::with_code(s)));
    out
}
