//! The details panel as lines of semantic spans, built once per described node (a manifest can
//! be megabytes; sanitising it every frame would not do) and windowed at draw time.

use unicode_width::UnicodeWidthStr;

use crate::artifact::{Details, Section, Table};
use crate::graph::{Graph, LoadState, NodeId, NodeKind, Role};
use crate::sanitize::{clip, sanitize, sanitize_lines};

use super::label::{Spans, human_size, kind_token, short_time};
use super::theme::Token;

const MAX_NAME: usize = 20;
const MAX_CELL: usize = 40;
/// Section errors in cached documents are folded at this width rather than cut.
const FOLD: usize = 60;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DetailsDoc {
    pub lines: Vec<Spans>,
}

impl DetailsDoc {
    pub fn from_details(details: &Details) -> DetailsDoc {
        let mut lines = Vec::new();
        for section in &details.sections {
            push_section(&mut lines, section);
        }
        if let Some(manifest) = &details.manifest {
            lines.push(vec![(Token::Heading, "Manifest".into())]);
            for l in sanitize_lines(manifest) {
                lines.push(vec![(Token::Text, format!("  {l}"))]);
            }
        }
        DetailsDoc { lines }
    }
}

fn push_section(lines: &mut Vec<Spans>, section: &Section) {
    lines.push(vec![(Token::Heading, sanitize(&section.title).into_owned())]);
    if let Some(err) = &section.error {
        for (i, chunk) in fold(&sanitize(err), FOLD).into_iter().enumerate() {
            let lead = if i == 0 { "  ✗ error: " } else { "           " };
            lines.push(vec![(Token::Error, lead.into()), (Token::Error, chunk)]);
        }
    }
    let names: Vec<String> = section.fields.iter().map(|f| clip(&sanitize(&f.name), MAX_NAME).into_owned()).collect();
    let width = names.iter().map(|n| n.width()).max().unwrap_or(0);
    for (name, field) in names.iter().zip(&section.fields) {
        let values = sanitize_lines(&field.value);
        let pad = width - name.width();
        let first = values.first().cloned().unwrap_or_default();
        lines.push(vec![(Token::FieldName, format!("  {name}{}  ", " ".repeat(pad))), (Token::Text, first)]);
        for more in values.iter().skip(1) {
            lines.push(vec![(Token::Text, format!("  {}  {more}", " ".repeat(width)))]);
        }
    }
    if let Some(table) = &section.table {
        push_table(lines, table);
    }
    if section.fields.is_empty() && section.table.is_none() && section.error.is_none() {
        lines.push(vec![(Token::Muted, "  (none)".into())]);
    }
}

fn push_table(lines: &mut Vec<Spans>, table: &Table) {
    let cell = |s: &str| clip(&sanitize(s), MAX_CELL).into_owned();
    let headers: Vec<String> = table.headers.iter().map(|h| cell(h)).collect();
    let rows: Vec<Vec<String>> = table.rows.iter().map(|r| r.iter().map(|c| cell(c)).collect()).collect();
    let columns = headers.len().max(rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut widths = vec![0; columns];
    for r in std::iter::once(&headers).chain(&rows) {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.width());
        }
    }
    let render = |r: &[String]| {
        let cells: Vec<String> = (0..columns)
            .map(|i| {
                let c = r.get(i).map(String::as_str).unwrap_or("");
                format!("{c}{}", " ".repeat(widths[i] - c.width()))
            })
            .collect();
        format!("  {}", cells.join("  ").trim_end())
    };
    if !headers.is_empty() {
        lines.push(vec![(Token::FieldName, render(&headers))]);
    }
    for r in &rows {
        lines.push(vec![(Token::Text, render(r))]);
    }
}

/// Greedy word wrap; words longer than a line are cut.
fn fold(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in s.split_whitespace() {
        let mut word: Vec<char> = word.chars().collect();
        loop {
            let used = current.chars().count();
            let sep = usize::from(used > 0);
            if used + sep + word.len() <= width {
                if sep == 1 {
                    current.push(' ');
                }
                current.extend(word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                continue;
            }
            let rest = word.split_off(width);
            lines.push(word.into_iter().collect());
            word = rest;
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

fn field(name: &str, value: impl Into<String>) -> Spans {
    vec![(Token::FieldName, format!("  {name:<9} ")), (Token::Text, value.into())]
}

/// What the graph itself knows about a node, shown above the decoded details: identity, the
/// reference to copy, and its load state (the whole failure sentence lives here, folded to
/// `width` columns).
pub fn node_header(graph: &Graph, source: &dyn crate::source::Source, id: NodeId, width: usize) -> Vec<Spans> {
    let node = graph.node(id);
    let mut lines: Vec<Spans> = Vec::new();
    let title = match &node.kind {
        NodeKind::Registry { .. } => "Registry".to_string(),
        NodeKind::Repository { .. } => "Repository".to_string(),
        NodeKind::Tag { .. } => "Tag".to_string(),
        NodeKind::Artifact(a) => match &a.role {
            Role::Root => format!("Artifact: {}", a.kind.label()),
            Role::Platform => format!("Platform manifest: {}", a.kind.label()),
            Role::Referrer(via) => format!("Referrer: {} (found via {via})", a.kind.label()),
        },
    };
    let title_token = node.artifact().map(|a| kind_token(a.kind)).unwrap_or(Token::Heading);
    lines.push(vec![(title_token, sanitize(&title).into_owned())]);
    lines.push(field("reference", sanitize(&graph.reference(source, id)).into_owned()));
    if let Some(a) = node.artifact() {
        if a.descriptor.size > 0 {
            lines.push(field("size", format!("{} ({} bytes)", human_size(a.descriptor.size), a.descriptor.size)));
        }
        if let Some(created) = a.created() {
            lines.push(field("created", short_time(created)));
        }
    }
    if !node.tags.is_empty() {
        let tags: Vec<String> = node.tags.iter().map(|t| sanitize(t).into_owned()).collect();
        lines.push(field("tags", tags.join(", ")));
    }
    match &node.load {
        LoadState::Failed(reason) => {
            let glyph = if graph.is_cycle(id) { "↻ cycle" } else { "✗ failed" };
            lines.push(vec![(Token::FieldName, format!("  {:<9} ", "state")), (Token::Failed, glyph.into())]);
            for chunk in fold(&sanitize(reason), width.saturating_sub(4).max(20)) {
                lines.push(vec![(Token::Failed, format!("    {chunk}"))]);
            }
            if !graph.is_cycle(id) {
                lines.push(vec![(Token::Muted, "    press r to retry".into())]);
            }
        }
        LoadState::Loading => lines.push(field("state", "⟳ loading")),
        LoadState::NotLoaded => lines.push(field("state", "○ not loaded (l or → to expand)")),
        LoadState::Loaded => {
            lines.push(field("state", format!("loaded, {} children", node.children.len())));
        }
    }
    lines.push(Vec::new());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::artifact::{Field, Section, Table};

    fn text(doc: &DetailsDoc) -> String {
        doc.lines.iter().map(|l| l.iter().map(|(_, s)| s.as_str()).collect::<String>() + "\n").collect()
    }

    #[test]
    fn folds_at_word_boundaries() {
        assert_eq!(fold("HTTP 500: internal error", 12), ["HTTP 500:", "internal", "error"]);
        assert_eq!(fold("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(fold("", 4), [""]);
    }

    #[test]
    fn sections_fields_tables_errors_and_manifest() {
        let details = Details {
            sections: vec![
                Section::new("Descriptor").field("digest", "sha256:aa").field("mediaType", "x"),
                Section {
                    title: "Packages".into(),
                    table: Some(Table {
                        headers: vec!["name".into(), "version".into()],
                        rows: vec![vec!["openssl".into(), "3.0".into()]],
                    }),
                    ..Default::default()
                },
                Section::failed("Envelope", "bad \x1b[31m signature"),
                Section {
                    title: "Multi".into(),
                    fields: vec![Field { name: "pem".into(), value: "a\nb".into() }],
                    ..Default::default()
                },
            ],
            manifest: Some("{\n  \"a\": \"\x1b]0;x\x07\"\n}".into()),
        };
        let t = text(&DetailsDoc::from_details(&details));
        assert!(t.contains("  digest     sha256:aa\n"), "{t}");
        assert!(t.contains("  name     version\n  openssl  3.0\n"), "{t}");
        assert!(t.contains("✗ error: bad \\x1b[31m signature"), "{t}");
        assert!(t.contains("  pem  a\n       b\n"), "{t}");
        assert!(t.contains("\\x1b]0;x\\x07"), "{t}");
        assert!(!t.contains('\x1b'));
    }
}
