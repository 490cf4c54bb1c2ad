//! The report: `target/concur/report/{data.json,summary.md,index.html}`.
//!
//! `data.json` holds everything measured in one `cargo xtask bench` run; `summary.md` and
//! `index.html` are rendered from it alone, so `cargo xtask report` can re-render them
//! without running anything.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use concur_harness::names;
use concur_workloads::{Info, Kind, Primes, SeedSquareCube};

use crate::criterion_data::BenchResult;
use crate::plots::Plot;
use crate::run_data::group;
use crate::run_data::{CRITERION_FROM_REPORT, IdleProbe, RunData};
use crate::units::{human_bytes, human_time};

/// How a group's figures are compared.
enum Compare {
    /// `baseline median / median`: how many times faster than the baseline.
    SpeedupOver(&'static str),
    /// `median / baseline median`: how many times the baseline's cost.
    CostOf(&'static str),
}

/// What a group measures, and how its figures are compared.
fn describe(group: &str) -> (&'static str, Compare) {
    match group {
        "spawn" => (
            "Spawn+join of one no-op worker, the way each model starts its workers \
             (`sequential`: a plain function call).",
            Compare::CostOf(names::THREAD_PER_TASK),
        ),
        "ipc/pingpong" => (
            "One 8-byte round trip per channel: crossbeam and std-mpsc between two threads, \
             tokio-mpsc between a thread and a tokio task; \
             pipe, unix-socket, ipc-channel, shm-spin and shm-futex between two processes; \
             `atomic-spin` and `futex` are the floors under the shm channels (one word bounced \
             between the same two processes); `process-pool-task` and `shm-pool-task` are one \
             empty task through `process-pool` and `shm-pool`, to read against their \
             transports, `ipc-channel` and `shm-futex`.",
            Compare::CostOf("ipc-channel"),
        ),
        "ipc/bulk-1MiB" => (
            "1 MiB to the peer and an 8-byte acknowledgement back; `memcpy` is one thread \
             copying the MiB, the bandwidth floor. Between threads the buffer is moved, not \
             copied: sharing an address space is the point.",
            Compare::CostOf("ipc-channel"),
        ),
        // A workload's group: its registry entry describes it; I/O is read against the
        // model that never blocks a thread, the rest as speedups over `sequential`.
        _ => match workload_of(group) {
            Some(info) => (
                info.bench_description,
                match info.kind {
                    Kind::IoBound => Compare::CostOf(names::TOKIO),
                    _ => Compare::SpeedupOver(names::SEQUENTIAL),
                },
            ),
            None => ("", Compare::SpeedupOver(names::SEQUENTIAL)),
        },
    }
}

/// The workload whose bench group `group` is.
fn workload_of(group: &str) -> Option<&'static Info> {
    concur_workloads::all()
        .iter()
        .map(|w| w.info())
        .find(|info| info.bench_group() == group)
}

/// One cell of a group's table.
#[derive(Debug, PartialEq)]
struct Cell {
    median_ns: f64,
    mad_ns: f64,
    link: String,
    ratio: Option<f64>,
}

/// A group as a table: a row per function (model), a column per parameter.
#[derive(Debug, PartialEq)]
struct GroupTable {
    id: String,
    about: &'static str,
    link: String,
    ratio_label: String,
    params: Vec<Option<String>>,
    rows: Vec<(String, Vec<Option<Cell>>)>,
}

fn tables(results: &[BenchResult]) -> Vec<GroupTable> {
    // Models in registry order, then channels in probe order.
    let mut order = concur_harness::model_names();
    order.extend(concur_harness::pingpong::channels().iter().map(|c| c.name));
    order.extend(["process-pool-task", "shm-pool-task", "memcpy"]);
    let rank = |f: &str| order.iter().position(|m| *m == f).unwrap_or(order.len());
    let mut groups: Vec<&str> = results.iter().map(|r| r.group.as_str()).collect();
    groups.dedup();
    groups
        .into_iter()
        .map(|group| {
            let members: Vec<&BenchResult> = results.iter().filter(|r| r.group == group).collect();
            let mut params: Vec<Option<String>> = Vec::new();
            let mut functions: Vec<&str> = Vec::new();
            for r in &members {
                if !params.contains(&r.parameter) {
                    params.push(r.parameter.clone());
                }
                if !functions.contains(&r.function.as_str()) {
                    functions.push(&r.function);
                }
            }
            functions.sort_by_key(|f| (rank(f), f.to_string()));
            params.sort_by_key(|p| {
                let text = p.clone().unwrap_or_default();
                (text.parse::<u64>().unwrap_or(u64::MAX), text)
            });
            let (about, compare) = describe(group);
            let (baseline, ratio_label) = match compare {
                Compare::SpeedupOver(b) => (b, format!("speedup over `{b}`")),
                Compare::CostOf(b) => (b, format!("cost relative to `{b}`")),
            };
            let find = |f: &str, p: &Option<String>| {
                members
                    .iter()
                    .find(|r| r.function == f && &r.parameter == p)
            };
            let rows = functions
                .iter()
                .map(|f| {
                    let cells = params
                        .iter()
                        .map(|p| {
                            let r = find(f, p)?;
                            // The baseline at the same parameter, else its first measurement.
                            let base = find(baseline, p)
                                .or_else(|| members.iter().find(|m| m.function == baseline));
                            let ratio = base.map(|b| match compare {
                                Compare::SpeedupOver(_) => b.median_ns / r.median_ns,
                                Compare::CostOf(_) => r.median_ns / b.median_ns,
                            });
                            Some(Cell {
                                median_ns: r.median_ns,
                                mad_ns: r.mad_ns,
                                link: format!(
                                    "{CRITERION_FROM_REPORT}/{}/report/index.html",
                                    r.directory
                                ),
                                ratio: ratio.filter(|x| x.is_finite()),
                            })
                        })
                        .collect();
                    (f.to_string(), cells)
                })
                .collect();
            let group_dir = members[0].directory.split('/').next().unwrap_or(group);
            GroupTable {
                id: group.to_owned(),
                about,
                link: format!("{CRITERION_FROM_REPORT}/{group_dir}/report/index.html"),
                ratio_label,
                params,
                rows,
            }
        })
        .collect()
}

/// A column heading: the parameter is a worker count, or (in `io_bound`) a number of
/// concurrent requests.
fn param_heading(group: &str, p: &Option<String>) -> String {
    match p.as_deref() {
        None => "median".to_owned(),
        Some(p) if group.starts_with(Kind::IoBound.suite()) => format!("{p} concurrent"),
        Some("1") => "1 worker".to_owned(),
        Some(p) => format!("{p} workers"),
    }
}

/// A ratio with about three significant digits.
fn ratio_text(r: f64) -> String {
    if r >= 10.0 {
        format!("{r:.1}×")
    } else if r >= 0.1 {
        format!("{r:.2}×")
    } else {
        format!("{r:.1e}×")
    }
}

/// A cell's time (median ± MAD) and its ratio, as text.
fn cell_text(c: &Cell) -> (String, String) {
    (
        format!("{} ± {}", human_time(c.median_ns), human_time(c.mad_ns)),
        c.ratio.map(ratio_text).unwrap_or_default(),
    )
}

fn header(data: &RunData) -> Vec<String> {
    let m = &data.machine;
    let suites = data
        .suites
        .iter()
        .map(|(s, secs)| format!("{s} ({secs:.0} s)"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        format!(
            "Run: `{}` profile, started {}, git revision `{}`; suites: {}.",
            data.profile, data.started_at, data.git_revision, suites
        ),
        format!(
            "Machine: {}, {} cores, {} GiB, Linux {}, {}.",
            m.cpu, m.cores, m.memory_gib, m.kernel, m.rustc
        ),
        "Every figure is criterion's median time per iteration, ± its median absolute \
         deviation, measured in this run; every iteration's result was checked against \
         `sequential`'s checksum."
            .to_owned(),
    ]
}

/// What the verdicts are, said once above the table.
const TABLE_INTRO: &str = "Each row of the tutorial's comparison, with the figures from this run \
     that test it and a verdict computed from them (the thresholds are in \
     `xtask/src/verdicts.rs`: a speedup of 1.5× or more on two workers is \"parallel\", 1.2× or \
     less is \"taking turns\"). `gil-threads` is Rust threads behind an emulated CPython GIL.";

/// Renders `summary.md`.
pub(crate) fn render_markdown(data: &RunData, plots: &[Plot]) -> String {
    let mut md = String::from("# concur report\n\n");
    for line in header(data) {
        let _ = writeln!(md, "{line}\n");
    }
    let tables = tables(&data.results);
    if !tables.is_empty() {
        let _ = writeln!(
            md,
            "Criterion's own report: [{CRITERION_FROM_REPORT}/report/index.html]({CRITERION_FROM_REPORT}/report/index.html)\n"
        );
    }
    if tables.is_empty() {
        md.push_str(&no_results_note(data));
        md.push('\n');
    }
    md.push_str("## The tutorial's table, measured\n\n");
    md.push_str(TABLE_INTRO);
    md.push_str("\n\n| feature | threading (tutorial) | multiprocessing (tutorial) | measured in this run | verdict |\n|---|---|---|---|---|\n");
    for row in crate::verdicts::rows(data) {
        let figures = if row.figures.is_empty() {
            "–".to_owned()
        } else {
            row.figures
                .iter()
                .map(|f| format!("[{}]({})", f.text, f.link))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(
            md,
            "| **{}** | {} | {} | {figures} | {} |",
            row.feature, row.threading, row.multiprocessing, row.verdict
        );
    }
    md.push('\n');
    let picks = crate::verdicts::what_to_pick(data);
    if !picks.is_empty() {
        md.push_str("## What to pick\n\nThe fastest model this run measured in each situation (`sequential` aside):\n\n");
        for p in &picks {
            let _ = writeln!(md, "- {p}");
        }
        md.push('\n');
    }
    if !plots.is_empty() {
        md.push_str("## Plots\n\n");
        for p in plots {
            let _ = writeln!(md, "![{}]({})\n", p.title, p.file);
        }
    }
    for t in &tables {
        let _ = writeln!(md, "## {}\n", t.id);
        if !t.about.is_empty() {
            let _ = writeln!(md, "{}\n", t.about);
        }
        let _ = writeln!(
            md,
            "Each cell: median ± MAD, then the {}. [Criterion's page for this group]({})\n",
            t.ratio_label, t.link
        );
        let mut head = String::from("| model |");
        let mut rule = String::from("|---|");
        for p in &t.params {
            let _ = write!(head, " {} |", param_heading(&t.id, p));
            rule.push_str("---:|");
        }
        let _ = writeln!(md, "{head}\n{rule}");
        for (f, cells) in &t.rows {
            let mut line = format!("| {f} |");
            for c in cells {
                match c {
                    Some(c) => {
                        let (time, ratio) = cell_text(c);
                        let _ = write!(line, " [{time}]({}) · **{ratio}** |", c.link);
                    }
                    None => line.push_str(" – |"),
                }
            }
            let _ = writeln!(md, "{line}");
        }
        md.push('\n');
    }
    for sec in appendix(data) {
        let _ = writeln!(md, "## {}\n\n{}\n", sec.heading, sec.about);
        let _ = writeln!(
            md,
            "| {} |",
            sec.columns
                .iter()
                .map(|c| c.0)
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let rule: Vec<&str> = sec
            .columns
            .iter()
            .map(|c| if c.1 { "---:" } else { "---" })
            .collect();
        let _ = writeln!(md, "|{}|", rule.join("|"));
        for r in &sec.rows {
            let _ = writeln!(md, "| {} |", r.join(" | "));
        }
        md.push('\n');
    }
    md
}

/// A table section after the group tables (CPython reference, idle workers): cells are
/// our own Markdown (`**bold**`, `` `code` ``), rendered as such in `index.html`.
struct Section {
    id: &'static str,
    heading: &'static str,
    about: String,
    /// Column names, and whether each is numeric (right-aligned).
    columns: Vec<(&'static str, bool)>,
    rows: Vec<Vec<String>>,
}

/// The sections this run has data for, in report order.
fn appendix(data: &RunData) -> Vec<Section> {
    let mut out = Vec::new();
    if let Some((about, rows)) = python_rows(data) {
        out.push(Section {
            id: "cpython-reference",
            heading: "CPython reference",
            about,
            columns: vec![
                ("workload", false),
                ("CPython", false),
                ("workers", true),
                ("inputs", false),
                ("median wall", true),
                ("checksum", false),
                ("Rust beside it", false),
            ],
            rows: rows.into_iter().map(Vec::from).collect(),
        });
    }
    if let Some((about, rows)) = idle_rows(&data.idle) {
        out.push(Section {
            id: "idle-workers",
            heading: "idle workers",
            about: about.to_owned(),
            columns: vec![
                ("model", false),
                ("idle workers", true),
                ("PSS per worker", true),
                ("× a tokio task", true),
            ],
            rows: rows
                .into_iter()
                .map(|[m, n, b, ratio]| vec![m, n, b, format!("**{ratio}**")])
                .collect(),
        });
    }
    out
}

/// The CPython table: about text and rows of (workload, mode, workers, inputs, wall,
/// checksum, the Rust figure beside it).
fn python_rows(data: &RunData) -> Option<(String, Vec<[String; 7]>)> {
    let first = data.python.first()?;
    let rust = |r: &crate::python::PythonRun| -> String {
        let pick = |group: &str, function: &str, param: &str| {
            data.results
                .iter()
                .find(|b| {
                    b.group == group
                        && b.function == function
                        && b.parameter.as_deref() == Some(param)
                })
                .map(|b| format!("`{function}` {}", human_time(b.median_ns)))
        };
        let n = r.tasks.to_string();
        let found = match (r.workload.as_str(), r.mode.as_str()) {
            (SeedSquareCube::NAME, "threading") => {
                pick(&group(SeedSquareCube::NAME), names::THREAD_POOL, "2")
            }
            (SeedSquareCube::NAME, _) => {
                pick(&group(SeedSquareCube::NAME), names::PROCESS_POOL, "2")
            }
            (Primes::NAME, "multiprocessing") => {
                pick(&group(Primes::NAME), names::PROCESS_POOL, "2")
            }
            (Primes::NAME, _) => pick(
                &group(Primes::NAME),
                names::THREAD_POOL,
                &r.workers.to_string(),
            ),
            (w, "asyncio") => pick(&format!("io_bound/{w}"), names::TOKIO, &n),
            (w, "threading") => pick(&format!("io_bound/{w}"), names::THREAD_POOL, &n),
            (w, _) => pick(&format!("io_bound/{w}"), names::PROCESS_POOL, &n),
        };
        found.unwrap_or_else(|| "–".into())
    };
    let rows = data
        .python
        .iter()
        .map(|r| {
            [
                r.workload.clone(),
                r.mode.clone(),
                r.workers.to_string(),
                format!("{} tasks, size {}", r.tasks, r.size),
                human_time(r.wall_s * 1e9),
                if r.checksum_ok {
                    "equals Rust's".to_owned()
                } else {
                    "**differs**".to_owned()
                },
                rust(r),
            ]
        })
        .collect();
    Some((
        format!(
            "The tutorial's own tools, CPython {} (`python/concur_ref.py`, standard library \
             only), on the same inputs (and, for `http-fetch`, the same loopback server) as \
             the Rust benches; median of 3 runs; every checksum compared with Rust's \
             `sequential`. The last column is the matching Rust model in this run's benches.",
            first.python
        ),
        rows,
    ))
}

/// The idle-worker table: about text and rows of (model, workers, bytes, ratio to tokio).
fn idle_rows(idle: &[IdleProbe]) -> Option<(&'static str, Vec<[String; 4]>)> {
    if idle.is_empty() {
        return None;
    }
    let task = idle
        .iter()
        .find(|p| p.model == names::TOKIO)
        .map(|p| p.pss_bytes_per_worker)
        .filter(|b| *b > 0.0);
    let rows = idle
        .iter()
        .map(|p| {
            [
                p.model.clone(),
                p.workers.to_string(),
                human_bytes(p.pss_bytes_per_worker),
                task.map(|t| ratio_text(p.pss_bytes_per_worker / t))
                    .unwrap_or_else(|| "–".into()),
            ]
        })
        .collect();
    Some((
        "What one idle worker adds to the process tree's PSS (`concur idle --json`, run after \
         the suites): a parked thread, a worker process waiting for tasks, a tokio task \
         waiting on a semaphore.",
        rows,
    ))
}

fn no_results_note(data: &RunData) -> String {
    if data.profile == "smoke" {
        "No timings: a smoke run executes every benchmark once in criterion's test mode, \
         which records nothing. Run `cargo xtask bench --quick` or `cargo xtask bench` for \
         figures."
            .to_owned()
    } else {
        "No criterion results were written in this run.".to_owned()
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Inline `code` spans of a line, as HTML.
fn inline(s: &str) -> String {
    esc(s)
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            if i % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

/// A line of our own Markdown (`**bold**`, `` `code` ``, `[text](link)`) as HTML.
fn markdown_inline(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        let Some(mid) = rest[open..].find("](").map(|m| open + m) else {
            break;
        };
        let Some(close) = rest[mid..].find(')').map(|c| mid + c) else {
            break;
        };
        out.push_str(&inline(&rest[..open]));
        let _ = write!(
            out,
            "<a href=\"{}\">{}</a>",
            esc(&rest[mid + 2..close]),
            inline(&rest[open + 1..mid])
        );
        rest = &rest[close + 1..];
    }
    out.push_str(&inline(rest));
    // Bold last: `inline` escaped everything else already.
    let mut bold = String::new();
    for (i, part) in out.split("**").enumerate() {
        if i % 2 == 1 {
            let _ = write!(bold, "<b>{part}</b>");
        } else {
            bold.push_str(part);
        }
    }
    bold
}

/// Renders `index.html`: self-contained, nothing fetched from elsewhere.
pub(crate) fn render_html(data: &RunData, plots: &[Plot]) -> String {
    let mut h = String::from(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>concur report</title>\n<style>\n\
         body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}\n\
         table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem}\n\
         td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n\
         code{background:#f3f3f3;padding:0 .2rem}\n</style></head><body>\n<h1>concur report</h1>\n",
    );
    for line in header(data) {
        let _ = writeln!(h, "<p>{}</p>", inline(&line));
    }
    let tables = tables(&data.results);
    if !tables.is_empty() {
        let _ = writeln!(
            h,
            "<p><a href=\"{CRITERION_FROM_REPORT}/report/index.html\">Criterion's own report</a></p>"
        );
    }
    if tables.is_empty() {
        let _ = writeln!(h, "<p>{}</p>", inline(&no_results_note(data)));
    }
    let _ = writeln!(
        h,
        "<h2 id=\"tutorial-table\">The tutorial's table, measured</h2>\n<p>{}</p>\n<table>\n<tr><th>feature</th><th>threading (tutorial)</th><th>multiprocessing (tutorial)</th><th>measured in this run</th><th>verdict</th></tr>",
        inline(TABLE_INTRO)
    );
    for row in crate::verdicts::rows(data) {
        let figures = if row.figures.is_empty() {
            "–".to_owned()
        } else {
            row.figures
                .iter()
                .map(|f| format!("<a href=\"{}\">{}</a>", esc(&f.link), inline(&f.text)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        let _ = writeln!(
            h,
            "<tr><td><b>{}</b></td><td>{}</td><td>{}</td><td>{figures}</td><td>{}</td></tr>",
            esc(row.feature),
            esc(row.threading),
            esc(row.multiprocessing),
            inline(&row.verdict)
        );
    }
    h.push_str("</table>\n");
    let picks = crate::verdicts::what_to_pick(data);
    if !picks.is_empty() {
        h.push_str("<h2 id=\"what-to-pick\">What to pick</h2>\n<p>The fastest model this run measured in each situation (<code>sequential</code> aside):</p>\n<ul>\n");
        for p in &picks {
            let _ = writeln!(h, "<li>{}</li>", markdown_inline(p));
        }
        h.push_str("</ul>\n");
    }
    if !plots.is_empty() {
        h.push_str("<h2 id=\"plots\">Plots</h2>\n");
        for p in plots {
            let _ = writeln!(
                h,
                "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                esc(&p.file),
                esc(&p.title),
                inline(&p.title)
            );
        }
    }
    for t in &tables {
        let _ = writeln!(h, "<h2>{}</h2>", esc(&t.id));
        if !t.about.is_empty() {
            let _ = writeln!(h, "<p>{}</p>", inline(t.about));
        }
        let _ = writeln!(
            h,
            "<p>Each cell: median ± MAD, then the {}. <a href=\"{}\">Criterion's page for this group</a></p>\n<table>\n<tr><th>model</th>",
            inline(&t.ratio_label),
            esc(&t.link)
        );
        for p in &t.params {
            let _ = write!(h, "<th>{}</th>", esc(&param_heading(&t.id, p)));
        }
        h.push_str("</tr>\n");
        for (f, cells) in &t.rows {
            let _ = write!(h, "<tr><td>{}</td>", esc(f));
            for c in cells {
                match c {
                    Some(c) => {
                        let (time, ratio) = cell_text(c);
                        let _ = write!(
                            h,
                            "<td class=\"num\"><a href=\"{}\">{}</a> · <b>{}</b></td>",
                            esc(&c.link),
                            esc(&time),
                            esc(&ratio)
                        );
                    }
                    None => h.push_str("<td class=\"num\">–</td>"),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    for sec in appendix(data) {
        let _ = writeln!(
            h,
            "<h2 id=\"{}\">{}</h2>\n<p>{}</p>\n<table>\n<tr>",
            sec.id,
            esc(sec.heading),
            inline(&sec.about)
        );
        for (name, _) in &sec.columns {
            let _ = write!(h, "<th>{}</th>", esc(name));
        }
        h.push_str("</tr>\n");
        for r in &sec.rows {
            h.push_str("<tr>");
            for (cell, (_, numeric)) in r.iter().zip(&sec.columns) {
                let class = if *numeric { " class=\"num\"" } else { "" };
                let _ = write!(h, "<td{class}>{}</td>", markdown_inline(cell));
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table>\n");
    }
    h.push_str("</body></html>\n");
    h
}

/// Saves `data` and writes both renderings into `dir`.
pub(crate) fn write(dir: &Path, data: &RunData) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fs::write(dir.join("data.json"), serde_json::to_vec_pretty(data)?)?;
    let plots = crate::plots::write(dir, data)?;
    fs::write(dir.join("summary.md"), render_markdown(data, &plots))?;
    fs::write(dir.join("index.html"), render_html(data, &plots))?;
    Ok(())
}

/// `cargo xtask report`: re-renders from the saved `data.json`.
pub(crate) fn rerender() -> Result<()> {
    let dir = crate::report_dir();
    let path = dir.join("data.json");
    let bytes = fs::read(&path)
        .with_context(|| format!("reading {} (run `cargo xtask bench` first)", path.display()))?;
    let data: RunData =
        serde_json::from_slice(&bytes).with_context(|| format!("parsing {}", path.display()))?;
    write(&dir, &data)?;
    println!("{}", dir.join("index.html").display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criterion_data;
    use crate::machine::Machine;

    fn fixture() -> RunData {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criterion");
        RunData {
            profile: "quick".into(),
            started_at: "2026-11-25T12:00:00Z".into(),
            git_revision: "0123abc".into(),
            machine: Machine {
                cpu: "Fixture CPU @ 2.0GHz".into(),
                cores: 2,
                memory_gib: 23.4,
                kernel: "6.1.0".into(),
                rustc: "rustc 1.95.0".into(),
            },
            suites: vec![("spawn".into(), 10.0), ("cpu_bound".into(), 60.0)],
            results: criterion_data::load(&dir, None).unwrap(),
            idle: vec![
                IdleProbe {
                    model: "thread-per-task".into(),
                    workers: 1000,
                    pss_bytes_per_worker: 10_240.0,
                },
                IdleProbe {
                    model: "tokio".into(),
                    workers: 100_000,
                    pss_bytes_per_worker: 409.6,
                },
            ],
            python: Vec::new(),
        }
    }

    #[test]
    fn idle_ratios_are_computed_against_a_tokio_task() {
        let (_, rows) = idle_rows(&fixture().idle).unwrap();
        assert_eq!(rows[0][2], "10.0 KiB");
        assert_eq!(rows[0][3], "25.0×"); // 10240 / 409.6
        assert_eq!(rows[1][3], "1.00×");
        assert!(idle_rows(&[]).is_none());
    }

    #[test]
    fn summary_from_fixture() {
        insta::assert_snapshot!(render_markdown(&fixture(), &[]));
    }

    #[test]
    fn html_is_self_contained_and_links_every_figure() {
        let data = fixture();
        let html = render_html(&data, &[]);
        assert!(!html.contains("http://") && !html.contains("https://"));
        for r in &data.results {
            assert!(html.contains(&format!("{}/report/index.html", r.directory)));
        }
    }

    #[test]
    fn speedups_are_computed_from_the_figures() {
        let t = tables(&fixture().results);
        let cpu = t.iter().find(|t| t.id == "cpu_bound/primes").unwrap();
        let pool = &cpu.rows.iter().find(|(f, _)| f == "thread-pool").unwrap().1;
        // Fixture: sequential 200 ms at every parameter; thread-pool 105 ms at 2 workers.
        let two = pool[1].as_ref().unwrap();
        assert!((two.ratio.unwrap() - 200.0 / 105.0).abs() < 1e-9);
    }

    #[test]
    fn round_trips_through_json() {
        let data = fixture();
        let back: RunData = serde_json::from_str(&serde_json::to_string(&data).unwrap()).unwrap();
        assert_eq!(back, data);
    }
}
