//! `cargo xtask check-report`: loads the report in headless Chromium and checks what a reader
//! would hit: every link and image resolves (into criterion's pages, the plots, the report's
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

/// Runs the check on `target/concur/report/index.html`.
pub(crate) fn run() -> Result<()> {
    let dir = crate::report_dir();
    let index = dir.join("index.html");
    if !index.is_file() {
        bail!(
            "{} does not exist: run `cargo xtask bench` first",
            index.display()
        );
    }
    let Some(chromium) = browser() else {
        println!("check-report: no Chromium installed (tried {BROWSERS:?}): skipped");
        return Ok(());
    };
    let profile = std::env::temp_dir().join(format!("concur-chromium-{}", std::process::id()));
    let out = Command::new(&chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", index.canonicalize()?.display()))
        .output()
        .with_context(|| format!("running {}", chromium.display()))?;
    let _ = std::fs::remove_dir_all(&profile);
    if !out.status.success() {
        bail!(
            "{} failed: {}",
            chromium.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let dom = String::from_utf8_lossy(&out.stdout);
    if !dom.contains("The tutorial's table, measured") {
        bail!(
            "Chromium's DOM of {} has no tutorial table",
            index.display()
        );
    }
    let bad = broken(&dom, &dir);
    let plots = attributes(&dom, "src")
        .into_iter()
        .filter(|s| s.starts_with("plots/"))
        .count();
    let non_svg: Vec<&str> = attributes(&dom, "src")
        .into_iter()
        .filter(|s| {
            s.starts_with("plots/")
                && !std::fs::read_to_string(dir.join(s)).is_ok_and(|t| t.starts_with("<svg"))
        })
        .collect();
    if !bad.is_empty() || !non_svg.is_empty() {
        bail!(
            "the report has {} broken references and {} unreadable plots:\n  {}",
            bad.len(),
            non_svg.len(),
            bad.iter()
                .map(String::as_str)
                .chain(non_svg.iter().copied())
                .collect::<Vec<_>>()
                .join("\n  ")
        );
    }
    println!(
        "check-report: {} links and {plots} plots resolve in Chromium's rendering of {}",
        attributes(&dom, "href").len(),
        index.display()
    );
    Ok(())
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
