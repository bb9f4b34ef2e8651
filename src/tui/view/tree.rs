//! The tree panel. The app keeps the flattened rows; only the visible window becomes widget
//! items, so a frame costs the same for ten nodes as for a hundred thousand.

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use tui_tree_widget::{Tree, TreeItem, TreeState};

use unicode_width::UnicodeWidthStr;

use crate::graph::{LoadState, NodeId, NodeKind};
use crate::oci::short_digest;
use crate::sanitize::sanitize;

use super::super::app::NodeVerify;
use super::super::app::{App, Mode};
use super::super::keymap::Focus;
use super::super::label::node_spans;
use super::super::layout::Areas;
use super::super::theme::ThemeToken;
use super::{fit, line, panel};

const SELECTED_MARK: &str = "> ";

/// The panel title: where the cursor is among the rows (`12/340`), then the target or filter.
/// The position comes first so a narrow title keeps it.
fn title(app: &App) -> String {
    let position = if app.tree.rows.is_empty() {
        String::new()
    } else {
        format!("{}/{} · ", app.tree.cursor + 1, app.tree.rows.len())
    };
    if app.tree.filter.query.is_empty() {
        format!("Tree · {position}{}", app.target_label())
    } else {
        let n = app.tree.filter.matches.len();
        let query = sanitize(&app.tree.filter.query);
        format!("Tree · {position}filter {query:?} · {n} match{}", if n == 1 { "" } else { "es" })
    }
}

pub fn draw(app: &App, frame: &mut Frame, areas: &Areas) {
    let (area, inner) = (areas.tree, areas.tree_rows);
    let focused = app.focus == Focus::Tree && matches!(app.mode, Mode::Normal | Mode::Filter);
    let block = panel(&app.look.theme, title(app), focused, area.width);
    frame.render_widget(block, area);
    if app.tree.rows.is_empty() {
        let text =
            if app.tree.filter.query.is_empty() { "(empty)" } else { "no node matches the filter (Esc clears it)" };
        frame.render_widget(Paragraph::new(line(&app.look.theme, [(ThemeToken::Muted, text.to_string())])), inner);
        return;
    }
    let height = usize::from(inner.height);
    let start = areas.tree_start;
    let end = (start + height).min(app.tree.rows.len());
    // The tree widget puts the selection marker (or as many spaces) before every row.
    let width = usize::from(inner.width).saturating_sub(SELECTED_MARK.width());

    let items: Vec<TreeItem<'_, NodeId>> =
        (start..end).map(|i| TreeItem::new_leaf(app.tree.rows[i].id, row_line(app, i, width))).collect();
    let tree = match Tree::new(&items) {
        Ok(t) => t,
        Err(_) => return, // rows never repeat a node; nothing sensible to draw if they did
    };
    let tree = tree
        .highlight_symbol(SELECTED_MARK)
        .highlight_style(app.look.theme.style(ThemeToken::Selection))
        .node_closed_symbol("")
        .node_open_symbol("")
        .node_no_children_symbol("");
    let mut state = TreeState::default();
    state.select(vec![app.tree.rows[app.tree.cursor].id]);
    frame.render_stateful_widget(tree, inner, &mut state);
}

/// One row, at most `width` columns: indent and fold glyph, the verdict glyph (a column of its
/// own, so it is never cut off), the label's identity, the verdict's word (and for a tag the
/// digest it is the verdict of), the rest of the label; cut text ends in `…`.
fn row_line(app: &App, i: usize, width: usize) -> Line<'static> {
    let row = app.tree.rows[i];
    let node = app.tree.graph.node(row.id);
    let shows_children = app.tree.rows.get(i + 1).is_some_and(|next| next.depth > row.depth);
    let can_open = !node.children.is_empty()
        || matches!(node.load, LoadState::NotLoaded | LoadState::Failed(_)) && app.tree.graph.expandable(row.id);
    let fold = if shows_children {
        "▼ "
    } else if can_open {
        "▶ "
    } else {
        "  "
    };
    let mut spans = vec![(ThemeToken::Muted, format!("{}{fold}", "  ".repeat(usize::from(row.depth))))];
    let badge = super::verify_badge(app, row.id);
    // Every row keeps the column, so kind words line up whether a row has a verdict or not.
    let (glyph, word) = match &badge {
        Some((token, text)) => {
            let (glyph, word) = text.split_once(' ').unwrap_or((text.as_str(), ""));
            ((*token, format!("{glyph} ")), Some((*token, word.to_string())))
        }
        None => ((ThemeToken::Text, "  ".to_string()), None),
    };
    spans.push(glyph);
    let matched = app.tree.filter.matches.contains(&row.id);
    if matched {
        spans.push((ThemeToken::Match, "◆ ".into()));
    }
    let mut body = node_spans(&app.tree.graph, row.id);
    // Kyverno's admission verdict under the loaded policies, as a glyph and a word, beside the
    // verification's (the end of a row is the first thing a narrow panel cuts).
    if let Some(super::super::app::ExplainResult::Done(e, _)) = app.explain.results.get(&row.id) {
        use crate::kyverno::replay::Admission;
        let (token, text) = match e.admission {
            Admission::Allowed => (ThemeToken::Verified, "kyverno ✓ allowed"),
            Admission::Blocked => (ThemeToken::Failed, "kyverno ✗ blocked"),
            Admission::AuditWarning => (ThemeToken::Warning, "kyverno ! audit"),
            Admission::Unknown => (ThemeToken::Warning, "kyverno ? not decided"),
        };
        let at = identity_len(app, row.id).min(body.len());
        body.splice(at..at, [(ThemeToken::Text, " ·".to_string()), (token, format!(" {text}"))]);
    }
    if let Some(word) = word.filter(|(_, w)| !w.is_empty()) {
        let mut verdict = vec![(ThemeToken::Text, " ".to_string()), word];
        if let Some(digest) = tag_digest(app, row.id) {
            verdict.push((ThemeToken::Muted, " → ".into()));
            verdict.push((ThemeToken::Digest, digest));
        }
        let at = identity_len(app, row.id).min(body.len());
        // One space on each side, whatever separators the label has after the identity.
        if body.get(at).is_some_and(|(_, s)| s == " ") {
            body.remove(at);
        }
        if body.get(at).is_some_and(|(_, next)| !next.starts_with(' ')) {
            verdict.push((ThemeToken::Text, " ".into()));
        }
        body.splice(at..at, verdict);
    }
    // What is shown was fetched a while ago: say how long, so nobody mistakes it for now.
    if let Some(age) = app.fetched_age(row.id) {
        body.push((ThemeToken::Warning, format!(" · {}", super::super::app::age_text(age))));
    }
    // What the registry's own API recorded (ECR: pushed at, scan), when it was listed already.
    if let Some(a) = app.tree.graph.node(row.id).artifact()
        && let Some(r) = app.location.source.known_record(&a.repository, &a.descriptor.digest.text())
        && !r.summary.is_empty()
    {
        body.push((ThemeToken::Muted, format!(" · ECR {}", sanitize(&r.summary))));
    }
    if matched {
        spans.extend(body.into_iter().map(|(_, s)| (ThemeToken::Match, s)));
    } else {
        spans.extend(body);
    }
    line(&app.look.theme, fit(spans, width))
}

/// How many spans of the label name the node (kind and name or digest), with a loading or failed
/// badge that belongs to them.
fn identity_len(app: &App, id: NodeId) -> usize {
    let node = app.tree.graph.node(id);
    let base = if matches!(node.kind, NodeKind::Artifact(_)) { 3 } else { 2 };
    let loud = matches!(node.load, LoadState::Loading | LoadState::Failed(_));
    if loud { base + 2 } else { base }
}

/// The short digest a tag's verdict is for: the one it resolved to when it was verified.
fn tag_digest(app: &App, id: NodeId) -> Option<String> {
    if !matches!(app.tree.graph.node(id).kind, NodeKind::Tag { .. }) {
        return None;
    }
    let NodeVerify::Done(report) = app.node_verify(app.report_node(id)?)? else { return None };
    (!report.digest.is_empty()).then(|| sanitize(&short_digest(&report.digest)).into_owned())
}
