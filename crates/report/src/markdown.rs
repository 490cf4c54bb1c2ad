//! Writes a [`Document`] as GitHub-flavoured Markdown (`summary.md`).

use std::fmt::Write as _;

use crate::doc::{Block, Document, Span, Text};

/// The document as Markdown.
pub fn render(doc: &Document) -> String {
    let mut md = format!("# {}\n\n", plain(&doc.title));
    for block in &doc.blocks {
        match block {
            Block::Heading { level, text, .. } => {
                let _ = writeln!(
                    md,
                    "{} {}\n",
                    "#".repeat(usize::from(*level)),
                    render_text(text)
                );
            }
            Block::Paragraph(text) => {
                let _ = writeln!(md, "{}\n", render_text(text));
            }
            Block::Warning(text) => {
                let _ = writeln!(md, "> **Warning:** {}\n", render_text(text));
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(md, "- {}", render_text(item));
                }
                md.push('\n');
            }
            Block::Table(table) => {
                let cells = |row: &mut dyn Iterator<Item = String>| {
                    row.map(|c| format!(" {c} |")).collect::<String>()
                };
                let head = cells(&mut table.columns.iter().map(|c| render_text(&c.title)));
                let rule: String = table
                    .columns
                    .iter()
                    .map(|c| if c.numeric { "---:|" } else { "---|" })
                    .collect();
                let _ = writeln!(md, "|{head}\n|{rule}");
                for row in &table.rows {
                    let _ = writeln!(md, "|{}", cells(&mut row.iter().map(render_text)));
                }
                md.push('\n');
            }
            Block::Figure { src, caption } => {
                let _ = writeln!(md, "![{}]({src})\n", plain(&caption.to_plain()));
            }
        }
    }
    md
}

/// Plain text with Markdown's special characters escaped.
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | '*' | '[' | ']' | '<' | '`' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Inline spans as Markdown; a line break is `<br>`, which also works inside table cells.
pub fn render_text(text: &Text) -> String {
    let mut out = String::new();
    for span in &text.0 {
        match span {
            Span::Plain(s) => out.push_str(&plain(s)),
            Span::Code(s) if s.contains('`') => {
                let _ = write!(out, "`` {s} ``");
            }
            Span::Code(s) => {
                let _ = write!(out, "`{}`", s.replace('|', "\\|"));
            }
            Span::Strong(t) => {
                let _ = write!(out, "**{}**", render_text(t));
            }
            Span::Link { text, href } => {
                let _ = write!(out, "[{}]({href})", render_text(text));
            }
            Span::Break => out.push_str("<br>"),
            Span::Badge { label, .. } => {
                let _ = write!(out, "**{}**", plain(label));
            }
            // GitHub renders <details> inline, in table cells too.
            Span::More { summary, body } => {
                let _ = write!(
                    out,
                    "<details><summary>{}</summary>{}</details>",
                    render_text(summary),
                    render_text(body)
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::{Column, Table};

    #[test]
    fn escapes_what_markdown_would_read() {
        let mut doc = Document {
            title: "t".into(),
            ..Document::default()
        };
        doc.paragraph(Text::plain("a*b [c] x|y").and(Text::code("m|n")));
        doc.blocks.push(Block::Table(Table {
            columns: vec![Column::text("a"), Column::numeric("b")],
            rows: vec![vec![
                Text::lines([Text::plain("one"), Text::plain("two")]),
                Text::plain("3").strong().link("#x"),
            ]],
        }));
        let md = render(&doc);
        assert!(md.contains(r"a\*b \[c\] x\|y`m\|n`"), "{md}");
        assert!(
            md.contains("| a | b |\n|---|---:|\n| one<br>two | [**3**](#x) |"),
            "{md}"
        );
    }
}
