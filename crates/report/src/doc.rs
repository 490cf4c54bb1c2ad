//! The report as a document: headings, paragraphs, lists, tables and figures made of text
//! spans. It is built once (by the `page` module) and written out by two small emitters,
//! `markdown` and `html`, so the two outputs cannot drift apart.

/// A whole document.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Document {
    /// The title (the page's `<title>` and its first heading).
    pub title: String,
    /// The blocks, in order.
    pub blocks: Vec<Block>,
}

/// One block of a document.
#[derive(Clone, Debug, PartialEq)]
pub enum Block {
    /// A section heading (level 2 or 3) with an anchor id.
    Heading {
        /// 2 for a section, 3 for a subsection.
        level: u8,
        /// The anchor other parts of the report link to (`#id`).
        id: String,
        /// The heading's text.
        text: Text,
    },
    /// A paragraph.
    Paragraph(Text),
    /// A paragraph set apart as a warning.
    Warning(Text),
    /// A bulleted list.
    List(Vec<Text>),
    /// A table.
    Table(Table),
    /// An image file (relative to the report) with its caption.
    Figure {
        /// Path relative to the report directory.
        src: String,
        /// What it shows.
        caption: Text,
    },
}

/// A table: column headings and rows of cells.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows; each has one cell per column.
    pub rows: Vec<Vec<Text>>,
}

/// A table column.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// Its heading.
    pub title: Text,
    /// Numbers, right-aligned.
    pub numeric: bool,
}

impl Column {
    /// A text column.
    pub fn text(title: impl Into<Text>) -> Column {
        Column {
            title: title.into(),
            numeric: false,
        }
    }

    /// A numeric (right-aligned) column.
    pub fn numeric(title: impl Into<Text>) -> Column {
        Column {
            title: title.into(),
            numeric: true,
        }
    }
}

/// A run of inline spans.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Text(pub Vec<Span>);

/// One inline span.
#[derive(Clone, Debug, PartialEq)]
pub enum Span {
    /// Plain text.
    Plain(String),
    /// A code span (a model, workload or group name, a command).
    Code(String),
    /// Strong emphasis.
    Strong(Text),
    /// A link.
    Link {
        /// What is shown.
        text: Text,
        /// Where it goes: a path relative to the report, or `#anchor`.
        href: String,
    },
    /// A line break inside a paragraph or a cell.
    Break,
    /// A verdict's class, shown as a coloured badge (`kind` is its CSS class, e.g.
    /// `does-not-hold`; `label` its text).
    Badge {
        /// CSS class.
        kind: String,
        /// Text.
        label: String,
    },
    /// Text one click away: `summary` shown, `body` revealed (HTML `<details>`).
    More {
        /// What is shown.
        summary: Text,
        /// What is revealed.
        body: Text,
    },
}

impl Text {
    /// Plain text.
    pub fn plain(s: impl Into<String>) -> Text {
        Text(vec![Span::Plain(s.into())])
    }

    /// A code span.
    pub fn code(s: impl Into<String>) -> Text {
        Text(vec![Span::Code(s.into())])
    }

    /// Text in which `` `…` `` marks code spans, the one piece of markup the report's own
    /// sentences use (names of models, workloads and commands).
    pub fn with_code(s: &str) -> Text {
        Text(
            s.split('`')
                .enumerate()
                .filter(|(_, part)| !part.is_empty())
                .map(|(i, part)| {
                    if i % 2 == 1 {
                        Span::Code(part.to_owned())
                    } else {
                        Span::Plain(part.to_owned())
                    }
                })
                .collect(),
        )
    }

    /// A badge of CSS class `kind` reading `label`.
    pub fn badge(kind: &str, label: &str) -> Text {
        Text(vec![Span::Badge {
            kind: kind.to_owned(),
            label: label.to_owned(),
        }])
    }

    /// `summary`, with `body` one click away.
    pub fn more(summary: impl Into<Text>, body: Text) -> Text {
        Text(vec![Span::More {
            summary: summary.into(),
            body,
        }])
    }

    /// This text as strong emphasis.
    pub fn strong(self) -> Text {
        Text(vec![Span::Strong(self)])
    }

    /// This text as a link to `href`.
    pub fn link(self, href: impl Into<String>) -> Text {
        Text(vec![Span::Link {
            text: self,
            href: href.into(),
        }])
    }

    /// Appends `other`.
    pub fn and(mut self, other: impl Into<Text>) -> Text {
        self.0.extend(other.into().0);
        self
    }

    /// The texts joined by line breaks.
    pub fn lines(texts: impl IntoIterator<Item = Text>) -> Text {
        let mut out = Text::default();
        for (i, t) in texts.into_iter().enumerate() {
            if i > 0 {
                out.0.push(Span::Break);
            }
            out.0.extend(t.0);
        }
        out
    }

    /// Whether there is nothing in it.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text without markup.
    pub fn to_plain(&self) -> String {
        let mut s = String::new();
        for span in &self.0 {
            match span {
                Span::Plain(t) | Span::Code(t) => s.push_str(t),
                Span::Strong(t) | Span::Link { text: t, .. } => s.push_str(&t.to_plain()),
                Span::Break => s.push(' '),
                Span::Badge { label, .. } => s.push_str(label),
                Span::More { summary, .. } => s.push_str(&summary.to_plain()),
            }
        }
        s
    }
}

impl From<&str> for Text {
    fn from(s: &str) -> Text {
        Text::plain(s)
    }
}

impl From<String> for Text {
    fn from(s: String) -> Text {
        Text::plain(s)
    }
}

impl Document {
    /// Appends a section heading; its anchor is [`slug`] of its text, as GitHub makes it,
    /// so `#anchor` links work in both outputs.
    pub fn section(&mut self, text: impl Into<Text>) {
        let text = text.into();
        self.blocks.push(Block::Heading {
            level: 2,
            id: slug(&text.to_plain()),
            text,
        });
    }

    /// Appends a paragraph.
    pub fn paragraph(&mut self, text: impl Into<Text>) {
        self.blocks.push(Block::Paragraph(text.into()));
    }
}

/// A heading's anchor as GitHub derives it: lower case, spaces to `-`, punctuation other
/// than `-` and `_` dropped.
pub fn slug(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
