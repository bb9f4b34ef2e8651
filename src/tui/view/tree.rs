//! The tree panel. The app keeps the flattened rows; only the visible window becomes widget
//! items, so a frame costs the same for ten nodes as for a hundred thousand.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;
use tui_tree_widget::{Tree, TreeItem, TreeState};

use crate::graph::{LoadState, NodeId};

use super::super::app::{App, Mode};
use super::super::keymap::Focus;
use super::super::label::node_spans;
use super::super::theme::Token;
use super::{line, panel};

const SELECTED_MARK: &str = "> ";

/// First visible row: the previous offset, moved just enough to keep the cursor in view.
fn window_start(previous: usize, cursor: usize, height: usize, rows: usize) -> usize {
    let mut start = previous.min(rows.saturating_sub(height));
    if cursor < start {
        start = cursor;
    } else if cursor >= start + height {
        start = cursor + 1 - height;
    }
    start
}

fn title(app: &App) -> String {
    if app.filter.query.is_empty() {
        format!("Tree · {}", app.target_label())
    } else {
        let n = app.filter.matches.len();
        format!("Tree · filter {:?} · {n} match{}", app.filter.query, if n == 1 { "" } else { "es" })
    }
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let focused = app.focus == Focus::Tree && matches!(app.mode, Mode::Normal | Mode::Filter);
    let block = panel(&app.theme, title(app), focused);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    app.last_frame.tree.set(inner);
    if app.rows.is_empty() {
        let text = if app.filter.query.is_empty() { "(empty)" } else { "no node matches the filter (Esc clears it)" };
        frame.render_widget(Paragraph::new(line(&app.theme, [(Token::Muted, text.to_string())])), inner);
        return;
    }
    let height = usize::from(inner.height);
    let start = window_start(app.last_frame.tree_offset.get(), app.cursor, height, app.rows.len());
    app.last_frame.tree_offset.set(start);
    let end = (start + height).min(app.rows.len());

    let items: Vec<TreeItem<'_, NodeId>> =
        (start..end).map(|i| TreeItem::new_leaf(app.rows[i].id, row_line(app, i))).collect();
    let tree = match Tree::new(&items) {
        Ok(t) => t,
        Err(_) => return, // rows never repeat a node; nothing sensible to draw if they did
    };
    let tree = tree
        .highlight_symbol(SELECTED_MARK)
        .highlight_style(app.theme.style(Token::Selection))
        .node_closed_symbol("")
        .node_open_symbol("")
        .node_no_children_symbol("");
    let mut state = TreeState::default();
    state.select(vec![app.rows[app.cursor].id]);
    frame.render_stateful_widget(tree, inner, &mut state);
}

fn row_line(app: &App, i: usize) -> Line<'static> {
    let row = app.rows[i];
    let node = app.graph.node(row.id);
    let shows_children = app.rows.get(i + 1).is_some_and(|next| next.depth > row.depth);
    let can_open = !node.children.is_empty()
        || matches!(node.load, LoadState::NotLoaded | LoadState::Failed(_)) && app.graph.expandable(row.id);
    let fold = if shows_children {
        "▼ "
    } else if can_open {
        "▶ "
    } else {
        "  "
    };
    let mut spans = vec![(Token::Muted, format!("{}{fold}", "  ".repeat(usize::from(row.depth))))];
    let matched = app.filter.matches.contains(&row.id);
    if matched {
        spans.push((Token::Match, "◆ ".into()));
    }
    let mut body = node_spans(&app.graph, row.id);
    // The verdict goes right after the identity (kind, digest), where the eye finds it.
    if let Some(b) = super::verify_badge(app, row.id) {
        // After a loading or failed badge, which belongs to the identity.
        let loud = matches!(node.load, LoadState::Loading | LoadState::Failed(_));
        let mut at = (if loud { 5 } else { 3 }).min(body.len());
        // One space on each side, whatever separators the label already has around `at`.
        if at > 0 && body[at - 1].1 == " " {
            at -= 1;
        } else {
            body.insert(at, (Token::Text, " ".into()));
        }
        body.insert(at + 1, b);
        if body.get(at + 2).is_some_and(|(_, next)| !next.starts_with(' ')) {
            body.insert(at + 2, (Token::Text, " ".into()));
        }
    }
    if matched {
        spans.extend(body.into_iter().map(|(_, s)| (Token::Match, s)));
    } else {
        spans.extend(body);
    }
    line(&app.theme, spans)
}

#[cfg(test)]
mod tests {
    use super::window_start;

    #[test]
    fn window_follows_the_cursor() {
        assert_eq!(window_start(0, 5, 10, 100), 0);
        assert_eq!(window_start(0, 10, 10, 100), 1);
        assert_eq!(window_start(50, 10, 10, 100), 10);
        assert_eq!(window_start(95, 99, 10, 100), 90);
        assert_eq!(window_start(3, 0, 10, 4), 0);
    }
}
