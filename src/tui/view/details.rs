//! The details panel: what the graph knows about the selected node, then its decoded details
//! and manifest, scrolled as one document.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use super::super::app::{App, Mode};
use super::super::details_doc::node_header;
use super::super::keymap::Focus;
use super::super::theme::ThemeToken;
use super::{line, line_ref, panel};

/// Columns inside the panel's border.
pub fn doc_width(area: Rect) -> usize {
    usize::from(area.width.saturating_sub(2))
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Details && app.mode == Mode::Normal;
    let Some(id) = app.selected() else {
        frame.render_widget(panel(&app.look.theme, "Details".into(), focused, area.width), area);
        return;
    };
    let header =
        node_header(&app.tree.graph, app.location.source.as_ref(), id, usize::from(area.width.saturating_sub(2)));
    let doc = app.details.docs.get(&id);
    let pending =
        if app.describing(id) { Some(vec![(ThemeToken::Pending, "⟳ loading details".to_string())]) } else { None };
    let total = header.len() + doc.map_or(usize::from(pending.is_some()), |d| d.lines(doc_width(area)).len());
    let height = usize::from(area.height.saturating_sub(2));
    let scroll = app.details.scroll.min(total.saturating_sub(height));
    let position = if total > height {
        format!("Details · {}-{}/{total}", scroll + 1, (scroll + height).min(total))
    } else {
        "Details".to_string()
    };
    // The key to the verification panel is the first thing to go in a narrow frame.
    let with_key = format!("{position} · v: verification");
    let position = if with_key.width() + 6 <= usize::from(area.width) { with_key } else { position };
    let block = panel(&app.look.theme, position, focused, area.width);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    app.last_frame.details.set(inner);

    let doc_lines = doc.map(|d| d.lines(usize::from(inner.width))).unwrap_or_default();
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(usize::from(inner.height));
    let header_lines = header.into_iter().map(|spans| line(&app.look.theme, spans));
    let rest = doc_lines.iter().map(|spans| line_ref(&app.look.theme, spans));
    let pending_lines = pending.into_iter().map(|spans| line(&app.look.theme, spans));
    for l in header_lines.chain(pending_lines).chain(rest).skip(scroll).take(usize::from(inner.height)) {
        lines.push(l);
    }
    if lines.is_empty() {
        lines.push(Line::from(Span::raw("")));
    }
    frame.render_widget(Paragraph::new(lines), inner);
}
