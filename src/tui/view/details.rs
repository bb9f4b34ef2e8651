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

/// The panel at `area`, its text at `inner` (inside the border, as the layout gives it).
pub fn draw(app: &App, frame: &mut Frame, area: Rect, inner: Rect) {
    let focused = app.focus == Focus::Details && app.mode == Mode::Normal;
    let Some(id) = app.selected() else {
        frame.render_widget(panel(&app.look.theme, "Details".into(), focused, area.width), area);
        return;
    };
    let width = usize::from(inner.width);
    let header = node_header(&app.tree.graph, app.location.source.as_ref(), id, width);
    let doc = app.details.docs.get(&id);
    let pending =
        if app.describing(id) { Some(vec![(ThemeToken::Pending, "⟳ loading details".to_string())]) } else { None };
    let total = header.len() + doc.map_or(usize::from(pending.is_some()), |d| d.lines(width).len());
    let height = usize::from(inner.height);
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
    frame.render_widget(block, area);

    let doc_lines = doc.map(|d| d.lines(width)).unwrap_or_default();
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
