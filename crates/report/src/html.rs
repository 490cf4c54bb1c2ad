//! Writes a [`Document`] as one self-contained HTML page (`index.html`): the style is
//! inline and nothing is fetched from elsewhere.

use std::fmt::Write as _;

use crate::doc::{Block, Document, Span, Text};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;\
padding:0 1rem;color:#222}\n\
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .6rem;\
vertical-align:top}\n\
td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}\n\
code{background:#f3f3f3;padding:0 .2rem}figure{margin:1rem 0}img{max-width:100%}\n\
.badge{display:inline-block;padding:.05rem .45rem;border-radius:.7rem;font-size:.8rem;\
font-weight:600;white-space:nowrap;color:#fff;background:#777}\n\
.badge.holds{background:#2e7d32}.badge.partly-holds{background:#7c9a1e}\
.badge.does-not-hold{background:#c62828}.badge.inconclusive{background:#ef8f00}\
.badge.not-measured{background:#9e9e9e}.badge.in-rust{background:#1565c0}\n\
.badge.slower{background:#c62828}.badge.faster{background:#2e7d32}\
.badge.within-noise,.badge.not-significant{background:#9e9e9e}\n\
.warning{border-left:.3rem solid #ef8f00;background:#fff6e5;padding:.5rem .8rem}\n\
details summary{cursor:pointer;color:#1565c0}\n";

/// The document as an HTML page.
pub fn render(doc: &Document) -> String {
    let title = esc(&doc.title);
    let mut h = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>\n{STYLE}</style></head><body>\n<h1>{title}</h1>\n"
    );
    for block in &doc.blocks {
        match block {
            Block::Heading { level, id, text } => {
                let _ = writeln!(
                    h,
                    "<h{level} id=\"{}\">{}</h{level}>",
                    esc(id),
                    inline(text)
                );
            }
            Block::Paragraph(text) => {
                let _ = writeln!(h, "<p>{}</p>", inline(text));
            }
            Block::Warning(text) => {
                let _ = writeln!(
                    h,
                    "<p class=\"warning\"><b>Warning:</b> {}</p>",
                    inline(text)
                );
            }
            Block::List(items) => {
                h.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(h, "<li>{}</li>", inline(item));
                }
                h.push_str("</ul>\n");
            }
            Block::Table(table) => {
                h.push_str("<table>\n<tr>");
                for c in &table.columns {
                    let _ = write!(h, "<th>{}</th>", inline(&c.title));
                }
                h.push_str("</tr>\n");
                for row in &table.rows {
                    h.push_str("<tr>");
                    for (cell, column) in row.iter().zip(&table.columns) {
                        let class = if column.numeric { " class=\"num\"" } else { "" };
                        let _ = write!(h, "<td{class}>{}</td>", inline(cell));
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</table>\n");
            }
            Block::Figure { src, caption } => {
                let _ = writeln!(
                    h,
                    "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                    esc(src),
                    esc(&caption.to_plain()),
                    inline(caption)
                );
            }
        }
    }
    h.push_str("</body></html>\n");
    h
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn inline(text: &Text) -> String {
    let mut out = String::new();
    for span in &text.0 {
        match span {
            Span::Plain(s) => out.push_str(&esc(s)),
            Span::Code(s) => {
                let _ = write!(out, "<code>{}</code>", esc(s));
            }
            Span::Strong(t) => {
                let _ = write!(out, "<b>{}</b>", inline(t));
            }
            Span::Link { text, href } => {
                let _ = write!(out, "<a href=\"{}\">{}</a>", esc(href), inline(text));
            }
            Span::Break => out.push_str("<br>"),
            Span::Badge { kind, label } => {
                let _ = write!(
                    out,
                    "<span class=\"badge {}\">{}</span>",
                    esc(kind),
                    esc(label)
                );
            }
            Span::More { summary, body } => {
                let _ = write!(
                    out,
                    "<details><summary>{}</summary>{}</details>",
                    inline(summary),
                    inline(body)
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_links() {
        let mut doc = Document {
            title: "a <b>".into(),
            ..Document::default()
        };
        doc.section("idle workers");
        doc.paragraph(Text::with_code("x `y<z>` & ").and(Text::plain("go").link("#idle-workers")));
        let h = render(&doc);
        assert!(h.contains("<title>a &lt;b&gt;</title>"));
        assert!(h.contains("<h2 id=\"idle-workers\">idle workers</h2>"));
        assert!(
            h.contains("<p>x <code>y&lt;z&gt;</code> &amp; <a href=\"#idle-workers\">go</a></p>"),
            "{h}"
        );
    }
}
