//! Pure draw functions: they read the [`App`] and write a frame, nothing else (the only state
//! they leave behind is where things landed, for mouse hits).

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};

use super::app::{App, Mode, RightPanel};
use super::label::Spans;
use super::theme::{Theme, Token};

mod breadcrumb;
mod details;
mod help;
mod statusbar;
mod toast;
mod tree;
mod verify;

pub use help::lines as help_lines;
pub use verify::{badge as verify_badge, lines as verify_lines};

pub struct Areas {
    pub breadcrumb: Rect,
    pub tree: Rect,
    pub details: Rect,
    pub status: Rect,
}

pub fn layout(area: Rect, right: RightPanel) -> Areas {
    let [breadcrumb, main, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    // The check table needs room for its reasons.
    let tree_share = if right == RightPanel::Verification { 45 } else { 60 };
    let [tree, details] =
        Layout::horizontal([Constraint::Percentage(tree_share), Constraint::Percentage(100 - tree_share)]).areas(main);
    Areas { breadcrumb, tree, details, status }
}

pub fn draw(app: &App, frame: &mut Frame) {
    let areas = layout(frame.area(), app.right);
    breadcrumb::draw(app, frame, areas.breadcrumb);
    tree::draw(app, frame, areas.tree);
    match app.right {
        RightPanel::Details => details::draw(app, frame, areas.details),
        RightPanel::Verification => verify::draw(app, frame, areas.details),
    }
    statusbar::draw(app, frame, areas.status);
    if app.toast.is_some() {
        toast::draw(app, frame, areas.tree.union(areas.details));
    }
    if let Mode::Help { scroll } = app.mode {
        help::draw(app, frame, frame.area(), scroll);
    }
    if matches!(app.mode, Mode::Confirm { .. }) {
        verify::draw_confirm(app, frame, frame.area());
    }
}

/// Semantic spans to a styled line.
pub fn line<'a>(theme: &Theme, spans: impl IntoIterator<Item = (Token, String)>) -> Line<'a> {
    Line::from(spans.into_iter().map(|(t, s)| Span::styled(s, theme.style(t))).collect::<Vec<_>>())
}

pub fn line_ref<'a>(theme: &Theme, spans: &'a Spans) -> Line<'a> {
    Line::from(spans.iter().map(|(t, s)| Span::styled(s.as_str(), theme.style(*t))).collect::<Vec<_>>())
}

/// A panel frame; focus shows as a thick border and a marked title, not only as colour.
pub fn panel<'a>(theme: &Theme, title: String, focused: bool) -> Block<'a> {
    let (border, token, title) = if focused {
        (BorderType::Thick, Token::BorderFocused, format!(" ▸ {title} "))
    } else {
        (BorderType::Plain, Token::BorderUnfocused, format!(" {title} "))
    };
    Block::bordered()
        .border_type(border)
        .border_style(theme.style(token))
        .title(Span::styled(title, theme.style(Token::Title)))
}
