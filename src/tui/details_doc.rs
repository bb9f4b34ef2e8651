//! The details panel as lines of semantic spans, built once per described node (a manifest can
//! be megabytes; sanitising it every frame would not do) and windowed at draw time.

use std::sync::{Arc, Mutex};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::graph::{Graph, LoadState, NodeId, NodeKind, Role};
use crate::inspect::{Details, Section, Table};
use crate::sanitize::{sanitize, sanitize_lines};

use super::label::{Spans, human_size, kind_token, short_time};
use super::theme::ThemeToken;

/// Section errors are folded at this width at most, even in a wide panel.
const FOLD: usize = 60;

/// The decoded details of one node and their lines, rendered for the panel's width (values and
/// manifest lines wrap instead of being cut off; tables too wide to fit become one record per
/// row). The rendering is cached until the width changes.
#[derive(Debug, Default)]
pub struct DetailsDoc {
    details: Details,
    rendered: Mutex<Option<(usize, Arc<Vec<Spans>>)>>,
}

impl Clone for DetailsDoc {
    fn clone(&self) -> Self {
        DetailsDoc::from_details(&self.details)
    }
}

impl PartialEq for DetailsDoc {
    fn eq(&self, other: &Self) -> bool {
        self.details == other.details
    }
}

impl Eq for DetailsDoc {}

impl DetailsDoc {
    pub fn from_details(details: &Details) -> DetailsDoc {
        DetailsDoc { details: details.clone(), rendered: Mutex::new(None) }
    }

    /// The lines at `width` columns.
    pub fn lines(&self, width: usize) -> Arc<Vec<Spans>> {
        let width = width.max(20);
        let mut cache = self.rendered.lock().expect("details cache lock");
        if let Some((w, lines)) = cache.as_ref()
            && *w == width
        {
            return lines.clone();
        }
        let lines = Arc::new(render(&self.details, width));
        *cache = Some((width, lines.clone()));
        lines
    }
}

fn render(details: &Details, width: usize) -> Vec<Spans> {
    let mut lines = Vec::new();
    for section in &details.sections {
        push_section(&mut lines, section, width);
    }
    if let Some(manifest) = &details.manifest {
        lines.push(vec![(ThemeToken::Heading, "Manifest".into())]);
        for l in sanitize_lines(manifest) {
            for piece in wrap_code(&format!("  {l}"), width) {
                lines.push(vec![(ThemeToken::Text, piece)]);
            }
        }
    }
    lines
}

/// Cuts a code line into `width`-column pieces; continuations keep its indentation plus two.
fn wrap_code(line: &str, width: usize) -> Vec<String> {
    if line.width() <= width {
        return vec![line.to_string()];
    }
    let indent = line.len() - line.trim_start().len() + 2;
    let room = width.saturating_sub(indent).max(8);
    let mut out = Vec::new();
    let mut rest: Vec<char> = line.chars().collect();
    let first = rest.drain(..width.min(rest.len())).collect::<String>();
    out.push(first);
    while !rest.is_empty() {
        let take = room.min(rest.len());
        out.push(format!("{}{}", " ".repeat(indent), rest.drain(..take).collect::<String>()));
    }
    out
}

/// `name  value` lines with the value folded to the room left of `width`. The name column is as
/// wide as the longest name that fits in half the width; a longer name gets a line of its own
/// (folded, never cut) and its value goes below it, in the value column.
fn push_fields(lines: &mut Vec<Spans>, pairs: &[(String, String)], width: usize, lead: &str) {
    let half = width.saturating_sub(lead.width()) / 2;
    let name_width = pairs.iter().map(|(n, _)| n.width()).filter(|&w| w <= half).max().unwrap_or(0);
    let gutter = lead.width() + name_width + 2;
    let room = width.saturating_sub(gutter).max(1);
    for (name, value) in pairs {
        let mut pieces = Vec::new();
        for v in sanitize_lines(value) {
            if v.width() <= room { pieces.push(v) } else { pieces.extend(fold(&v, room)) }
        }
        if pieces.is_empty() {
            pieces.push(String::new());
        }
        let mut rest = &pieces[..];
        if name.width() <= name_width {
            let pad = name_width - name.width();
            lines.push(vec![
                (ThemeToken::FieldName, format!("{lead}{name}{}  ", " ".repeat(pad))),
                (ThemeToken::Text, pieces[0].clone()),
            ]);
            rest = &pieces[1..];
        } else {
            for part in fold(name, width.saturating_sub(lead.width()).max(1)) {
                lines.push(vec![(ThemeToken::FieldName, format!("{lead}{part}"))]);
            }
        }
        for more in rest {
            lines.push(vec![(ThemeToken::Text, format!("{}{more}", " ".repeat(gutter)))]);
        }
    }
}

fn push_section(lines: &mut Vec<Spans>, section: &Section, width: usize) {
    lines.push(vec![(ThemeToken::Heading, sanitize(&section.title).into_owned())]);
    if let Some(err) = &section.error {
        for (i, chunk) in fold(&sanitize(err), FOLD.min(width.saturating_sub(11).max(12))).into_iter().enumerate() {
            let lead = if i == 0 { "  ✗ error: " } else { "           " };
            lines.push(vec![(ThemeToken::Error, lead.into()), (ThemeToken::Error, chunk)]);
        }
    }
    let pairs: Vec<(String, String)> =
        section.fields.iter().map(|f| (sanitize(&f.name).into_owned(), f.value.clone())).collect();
    push_fields(lines, &pairs, width, "  ");
    if let Some(table) = &section.table {
        push_table(lines, table, width);
    }
    if section.fields.is_empty() && section.table.is_none() && section.error.is_none() {
        lines.push(vec![(ThemeToken::Muted, "  (none)".into())]);
    }
}

fn push_table(lines: &mut Vec<Spans>, table: &Table, width: usize) {
    let cell = |s: &str| sanitize(s).into_owned();
    let headers: Vec<String> = table.headers.iter().map(|h| cell(h)).collect();
    let rows: Vec<Vec<String>> = table.rows.iter().map(|r| r.iter().map(|c| cell(c)).collect()).collect();
    let columns = headers.len().max(rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut widths = vec![0; columns];
    for r in std::iter::once(&headers).chain(&rows) {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.width());
        }
    }
    let total = 2 + widths.iter().sum::<usize>() + 2 * columns.saturating_sub(1);
    if total > width {
        // Too wide for the panel: one record per row, so no column is cut off.
        for (n, r) in rows.iter().enumerate() {
            let pairs: Vec<(String, String)> = (0..columns)
                .map(|i| (headers.get(i).cloned().unwrap_or_default(), r.get(i).cloned().unwrap_or_default()))
                .collect();
            lines.push(vec![(ThemeToken::Muted, format!("  [{}]", n + 1))]);
            push_fields(lines, &pairs, width, "    ");
        }
        return;
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
        lines.push(vec![(ThemeToken::FieldName, render(&headers))]);
    }
    for r in &rows {
        lines.push(vec![(ThemeToken::Text, render(r))]);
    }
}

/// Greedy word wrap to `width` columns; words longer than a line are cut (nothing is lost).
pub(crate) fn fold(s: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    let mut used = 0;
    for word in s.split_whitespace() {
        let mut word = word;
        loop {
            let sep = usize::from(used > 0);
            if used + sep + word.width() <= width {
                if sep == 1 {
                    current.push(' ');
                }
                current.push_str(word);
                used += sep + word.width();
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut current));
                used = 0;
                continue;
            }
            // A word wider than a line: as much as fits (at least one character), then the rest.
            let mut end = 0;
            let mut w = 0;
            for (i, c) in word.char_indices() {
                let cw = c.width().unwrap_or(0);
                if w + cw > width && end > 0 {
                    break;
                }
                w += cw;
                end = i + c.len_utf8();
            }
            lines.push(word[..end].to_string());
            word = &word[end..];
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// The header's `  name      value` lines, the value folded under itself within `width`.
fn field(lines: &mut Vec<Spans>, name: &str, value: impl Into<String>, width: usize) {
    let lead = format!("  {name:<9} ");
    let room = width.saturating_sub(lead.width()).max(1);
    for (i, piece) in fold(&value.into(), room).into_iter().enumerate() {
        let l = if i == 0 { lead.clone() } else { " ".repeat(lead.width()) };
        lines.push(vec![(ThemeToken::FieldName, l), (ThemeToken::Text, piece)]);
    }
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
    let title_token = node.artifact().map(|a| kind_token(a.kind)).unwrap_or(ThemeToken::Heading);
    for part in fold(&sanitize(&title), width.max(1)) {
        lines.push(vec![(title_token, part)]);
    }
    field(&mut lines, "reference", sanitize(&graph.reference(source, id)).into_owned(), width);
    if let Some(a) = node.artifact() {
        if a.descriptor.size > 0 {
            let size = format!("{} ({} bytes)", human_size(a.descriptor.size), a.descriptor.size);
            field(&mut lines, "size", size, width);
        }
        if let Some(created) = a.created() {
            field(&mut lines, "created", short_time(created), width);
        }
    }
    if !node.tags.is_empty() {
        let tags: Vec<String> = node.tags.iter().map(|t| sanitize(t).into_owned()).collect();
        field(&mut lines, "tags", tags.join(", "), width);
    }
    match &node.load {
        LoadState::Failed(reason) => {
            let glyph = if graph.is_cycle(id) {
                "↻ cycle"
            } else if graph.is_depth_limited(id) {
                "⊘ depth limit"
            } else {
                "✗ failed"
            };
            lines.push(vec![(ThemeToken::FieldName, format!("  {:<9} ", "state")), (ThemeToken::Failed, glyph.into())]);
            for chunk in fold(&sanitize(reason), width.saturating_sub(4).max(20)) {
                lines.push(vec![(ThemeToken::Failed, format!("    {chunk}"))]);
            }
            if graph.expandable(id) {
                lines.push(vec![(ThemeToken::Muted, "    press r to retry".into())]);
            }
        }
        LoadState::Loading => field(&mut lines, "state", "⟳ loading", width),
        LoadState::NotLoaded => field(&mut lines, "state", "○ not loaded (l or → to expand)", width),
        LoadState::Loaded => field(&mut lines, "state", format!("loaded, {} children", node.children.len()), width),
    }
    lines.push(Vec::new());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::{Field, Section, Table};

    fn text(doc: &DetailsDoc) -> String {
        doc.lines(80).iter().map(|l| l.iter().map(|(_, s)| s.as_str()).collect::<String>() + "\n").collect()
    }

    #[test]
    fn folds_at_word_boundaries() {
        assert_eq!(fold("HTTP 500: internal error", 12), ["HTTP 500:", "internal", "error"]);
        assert_eq!(fold("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(fold("", 4), [""]);
        // Columns, not characters: wide characters take two.
        assert_eq!(fold("日本語のタグ", 4), ["日本", "語の", "タグ"]);
        assert_eq!(fold("日本", 1), ["日", "本"], "a character wider than the line still goes somewhere");
    }

    #[test]
    fn long_field_names_are_never_cut_to_the_same_text() {
        let names = ["org.opencontainers.image.created", "org.opencontainers.image.source", "short"];
        let details = Details {
            sections: vec![names.iter().fold(Section::new("Annotations"), |s, n| s.field(*n, "value of it"))],
            manifest: None,
        };
        let doc = DetailsDoc::from_details(&details);
        for width in [30, 50, 80, 120] {
            let lines = doc.lines(width);
            let t: String =
                lines.iter().map(|l| l.iter().map(|(_, s)| s.as_str()).collect::<String>() + "\n").collect();
            // A name wider than the panel is folded onto the next lines, never cut.
            let joined = t.replace("\n  ", "");
            for n in names {
                assert!(joined.contains(n), "{n} at {width}:\n{t}");
            }
            assert!(!t.contains('…'), "{t}");
            assert!(lines.iter().all(|l| l.iter().map(|(_, s)| s.width()).sum::<usize>() <= width), "{t}");
            // Every value starts in the same column, whether its name fits beside it or not.
            let columns: Vec<usize> = t.lines().filter_map(|l| l.find("value of it")).collect();
            assert_eq!(columns.len(), 3, "{t}");
            assert!(columns.iter().all(|&c| c == columns[0]), "{columns:?}\n{t}");
        }
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

    #[test]
    fn narrow_panels_wrap_values_and_turn_wide_tables_into_records() {
        let long = format!("sha256:{}", "ab".repeat(32));
        let details = Details {
            sections: vec![Section {
                title: "Certificate chain".into(),
                fields: vec![Field { name: "digest".into(), value: long.clone() }],
                table: Some(Table {
                    headers: vec!["subject".into(), "issuer".into(), "sha256".into()],
                    rows: vec![vec![
                        "CN=leaf,O=Acme Corporation".into(),
                        "CN=root,O=Acme Corporation".into(),
                        long.clone(),
                    ]],
                }),
                ..Default::default()
            }],
            manifest: Some(format!("{{\n  \"digest\": \"{long}\"\n}}")),
        };
        let doc = DetailsDoc::from_details(&details);
        let narrow = doc.lines(40);
        let t: String = narrow.iter().map(|l| l.iter().map(|(_, s)| s.as_str()).collect::<String>() + "\n").collect();
        assert!(narrow.iter().all(|l| l.iter().map(|(_, s)| s.width()).sum::<usize>() <= 40), "{t}");
        assert!(t.contains("[1]") && t.contains("issuer") && t.contains("CN=root,O=Acme Corporation"), "{t}");
        // Nothing is lost: the long digest is all there, across lines.
        let joined: String = t.split_whitespace().collect();
        assert!(joined.matches(&long[..40]).count() >= 3, "{t}");
        let wide = doc.lines(200);
        assert!(wide.iter().any(|l| l.iter().any(|(_, s)| s.contains("subject") && s.contains("issuer"))));
    }
}
