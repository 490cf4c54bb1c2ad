//! `cargo xtask check-report`: loads the report (or, with `--compare`, a comparison of two
//! runs) in headless Chromium and checks what a reader would hit: every link and image resolves (into criterion's pages, the plots, the report's
//! own anchors), and every plot the report names is an SVG file. Skipped, with a notice,
//! when no Chromium is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where Chromium may be.
const BROWSERS: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

fn browser() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| BROWSERS.iter().map(move |b| dir.join(b)))
        .find(|p| p.is_file())
}

/// Every value of `attr="…"` in `html`.
fn attributes<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .filter_map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            rest.find('"').map(|end| &rest[..end])
        })
        .collect()
}

/// The broken references in a rendered DOM, relative to the report directory `dir`.
fn broken(dom: &str, dir: &Path) -> Vec<String> {
    let ids = attributes(dom, "id");
    let mut bad = Vec::new();
    for link in attributes(dom, "href")
        .into_iter()
        .chain(attributes(dom, "src"))
    {
        if let Some(anchor) = link.strip_prefix('#') {
            if !ids.contains(&anchor) {
                bad.push(format!("{link}: no element with that id"));
            }
        } else if link.contains("://") {
            bad.push(format!("{link}: the report must not fetch anything"));
        } else {
            let file = link.split('#').next().unwrap_or(link).replace("&amp;", "&");
            if !dir.join(&file).is_file() {
                bad.push(format!("{link}: no such file"));
            }
        }
    }
    bad
}

/// Set to require Chromium (CI does): without it the check fails instead of skipping.
const REQUIRE_ENV: &str = "CONCUR_REQUIRE_CHROMIUM";

/// The saved run `--fixture` renders: real figures from a quick run on the 2-core VM, so the
/// check sees tables, verdicts and plots even where no bench has run (CI's smoke run
/// records no timings).
fn fixture_data() -> PathBuf {
    crate::workspace_root().join("crates/report/tests/fixtures/run.json")
}

/// Which page the check loads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Page {
    /// The last bench run's report, `target/concur/report/index.html`.
    LastReport,
    /// The report rendered from the saved fixture run into `target/concur/fixture-report`.
    FixtureReport,
    /// The comparison of the two committed fixture runs, rendered into
    /// `target/concur/fixture-compare`.
    FixtureComparison,
}

/// The two runs `--compare` compares: real quick runs on the 2-core VM, on both CPUs and on
/// one.
const COMPARE_FIXTURES: [&str; 2] = ["two-cpus", "one-cpu"];

/// Renders `page` where it is checked; returns its directory and the text its DOM must hold
/// (its main table's heading).
fn render(page: Page) -> Result<(PathBuf, &'static str)> {
    let report_heading = "The tutorial's table, measured";
    match page {
        Page::LastReport => Ok((crate::report_dir(), report_heading)),
        Page::FixtureReport => {
            let dir = crate::target_dir().join("concur").join("fixture-report");
            let text = std::fs::read_to_string(fixture_data())
                .with_context(|| format!("reading {}", fixture_data().display()))?;
            let data: concur_report::RunData = serde_json::from_str(&text)
                .with_context(|| format!("parsing {}", fixture_data().display()))?;
            concur_report::write(&dir, &data)?;
            Ok((dir, report_heading))
        }
        Page::FixtureComparison => {
            let fixtures = crate::workspace_root().join("crates/report/tests/fixtures/compare");
            let [a, b] = COMPARE_FIXTURES
                .map(|name| concur_report::runs::read(&fixtures.join(format!("{name}.json"))));
            let (a, b) = (a?, b?);
            let side = |label, data| concur_report::compare::Side { label, data };
            let c = concur_report::compare::Comparison::new(
                side(COMPARE_FIXTURES[0], &a),
                side(COMPARE_FIXTURES[1], &b),
            );
            let dir = crate::target_dir().join("concur").join("fixture-compare");
            c.write(&dir)?;
            Ok((dir, concur_report::compare::HEADING))
        }
    }
}

/// Loads `page` in headless Chromium and checks every reference and plot in what it
/// rendered; saves a screenshot beside it.
pub(crate) fn run(page: Page) -> Result<()> {
    let (dir, heading) = render(page)?;
    let fixture = page != Page::LastReport;
    let index = dir.join("index.html");
    if !index.is_file() {
        bail!(
            "{} does not exist: run `cargo xtask bench` first",
            index.display()
        );
    }
    let Some(chromium) = browser() else {
        if std::env::var_os(REQUIRE_ENV).is_some() {
            bail!("no Chromium installed (tried {BROWSERS:?}) and {REQUIRE_ENV} is set");
        }
        println!("check-report: no Chromium installed (tried {BROWSERS:?}): skipped");
        return Ok(());
    };
    let url = format!("file://{}", index.canonicalize()?.display());
    let dom = chromium_run(&chromium, &["--dump-dom".to_owned(), url.clone()])?;
    if !dom.contains(heading) && !dom.contains(&heading.replace('\'', "&#39;")) {
        bail!("Chromium's DOM of {} has no \"{heading}\"", index.display());
    }
    // The fixture's figures link into criterion pages that exist only after a real run.
    let bad: Vec<String> = broken(&dom, &dir)
        .into_iter()
        .filter(|b| !(fixture && b.starts_with(concur_report::CRITERION_FROM_REPORT)))
        .collect();
    let plots: Vec<&str> = attributes(&dom, "src")
        .into_iter()
        .filter(|s| s.starts_with("plots/"))
        .collect();
    let unreadable: Vec<String> = plots
        .iter()
        .filter_map(|s| {
            let svg = std::fs::read_to_string(dir.join(s)).unwrap_or_default();
            if !svg.starts_with("<svg") {
                Some(format!("{s}: not an SVG file"))
            } else if concur_report::plots::data_marks(&svg) == 0 {
                Some(format!("{s}: the plot is empty (no dots or bars)"))
            } else {
                None
            }
        })
        .collect();
    if !bad.is_empty() || !unreadable.is_empty() {
        bail!(
            "the report has {} broken references and {} bad plots:\n  {}",
            bad.len(),
            unreadable.len(),
            bad.iter()
                .chain(&unreadable)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    if fixture && plots.is_empty() {
        bail!("the fixture's page has no plots");
    }
    // A full-page screenshot beside the report, for a reader (or a reviewer) to look at.
    let shot = dir.join("screenshot.png");
    chromium_run(
        &chromium,
        &[
            format!("--screenshot={}", shot.display()),
            format!("--window-size=1400,{}", page_height(&dom)),
            "--hide-scrollbars".to_owned(),
            url,
        ],
    )?;
    if !shot.is_file() {
        bail!("Chromium wrote no screenshot at {}", shot.display());
    }
    println!(
        "check-report: {} links and {} plots (none empty) resolve in Chromium's rendering of {}; \
         screenshot: {}",
        attributes(&dom, "href").len(),
        plots.len(),
        index.display(),
        shot.display()
    );
    Ok(())
}

/// Runs headless Chromium with `args` and a throw-away profile; returns its stdout.
fn chromium_run(chromium: &Path, args: &[String]) -> Result<String> {
    let profile = tempfile::Builder::new()
        .prefix("concur-chromium-")
        .tempdir()
        .context("creating Chromium's profile directory")?;
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .output()
        .with_context(|| format!("running {}", chromium.display()))?;
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            chromium.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A window tall enough for the whole page: headless Chromium's screenshot is the window.
fn page_height(dom: &str) -> usize {
    let count = |tag: &str| dom.matches(tag).count();
    let estimate = 600
        + 34 * count("<tr")
        + 470 * count("<img")
        + 44 * (count("<p") + count("<li") + count("<h2"));
    estimate.clamp(1200, 30_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_broken_links_anchors_and_remote_fetches() {
        let dir = std::env::temp_dir().join(format!("concur-check-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("plots")).unwrap();
        std::fs::write(dir.join("plots/a.svg"), "<svg/>").unwrap();
        let dom = r##"<h2 id="plots">x</h2><a href="#plots">ok</a><a href="#nope">bad</a>
            <img src="plots/a.svg"><img src="plots/b.svg"><a href="https://x.y/">remote</a>"##;
        let bad = broken(dom, &dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(bad.len(), 3, "{bad:?}");
        assert!(bad[0].starts_with("#nope"));
    }
}
