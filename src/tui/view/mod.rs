//! Pure draw functions: they read the [`App`] and write a frame, nothing else (the only state
//! they leave behind is where things landed, for mouse hits).

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Mode, RightPanel};
use super::keymap::Focus;
use super::label::Spans;
use super::theme::{Theme, ThemeToken};

mod breadcrumb;
mod details;
mod explain;
mod help;
mod messages;
mod sign;
mod statusbar;
mod toast;
mod tree;
mod verification;

pub use super::present::help::lines as help_lines;
pub use super::present::verification::{badge as verify_badge, lines as verify_lines};

pub struct Areas {
    pub breadcrumb: Rect,
    pub tree: Rect,
    pub details: Rect,
    pub status: Rect,
}

/// Below this the panels cannot show a row and its verdict: a notice says so instead.
pub const MIN_WIDTH: u16 = 40;
pub const MIN_HEIGHT: u16 = 10;
/// Narrower than this, side by side leaves each panel too thin to read: tree above details.
pub const STACK_BELOW: u16 = 100;

/// The tree's share of the width when the panels sit side by side, in percent.
const TREE_SHARE: u16 = 55;

/// Where the panels go, or `None` when the terminal is below the minimum size. `zoom` gives the
/// whole main area to that panel; the other gets an empty rectangle (nothing drawn or clicked).
pub fn layout(area: Rect, zoom: Option<Focus>) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let [breadcrumb, main, status] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(3), Constraint::Length(1)]).areas(area);
    let [tree, details] = match zoom {
        Some(Focus::Tree) => [main, Rect::default()],
        Some(Focus::Details) => [Rect::default(), main],
        // One split for both right-hand panels, so `v` does not move the tree.
        None if area.width < STACK_BELOW => {
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(main)
        }
        // The same split for details and verification too: `v` must not make the tree jump.
        // 55/45 leaves the tree its long rows and the check table room for its reasons.
        None => Layout::horizontal([Constraint::Percentage(TREE_SHARE), Constraint::Percentage(100 - TREE_SHARE)])
            .areas(main),
    };
    Some(Areas { breadcrumb, tree, details, status })
}

pub fn draw(app: &App, frame: &mut Frame) {
    let Some(areas) = layout(frame.area(), app.zoom.then_some(app.focus)) else {
        too_small(app, frame);
        return;
    };
    breadcrumb::draw(app, frame, areas.breadcrumb);
    // A zoomed-out panel is not on screen: nothing there to click or page through.
    if areas.tree.is_empty() {
        app.last_frame.tree.set(Rect::default());
    } else {
        tree::draw(app, frame, areas.tree);
    }
    if areas.details.is_empty() {
        app.last_frame.details.set(Rect::default());
    } else {
        match app.details.panel {
            RightPanel::Details => details::draw(app, frame, areas.details),
            RightPanel::Verification => verification::draw(app, frame, areas.details),
            RightPanel::Explain => explain::draw(app, frame, areas.details),
        }
    }
    statusbar::draw(app, frame, areas.status);
    if app.notices.toast.is_some() {
        // Not a union with an empty rectangle: that one sits at the origin.
        let panels = match (areas.tree.is_empty(), areas.details.is_empty()) {
            (true, _) => areas.details,
            (_, true) => areas.tree,
            _ => areas.tree.union(areas.details),
        };
        toast::draw(app, frame, panels);
    }
    match &app.mode {
        Mode::Help { scroll } => help::draw(app, frame, frame.area(), *scroll),
        Mode::Messages { back } => messages::draw(app, frame, frame.area(), *back),
        Mode::Confirm { .. } => verification::draw_confirm(app, frame, frame.area()),
        Mode::Sign(_) => sign::draw(app, frame, frame.area()),
        _ => {}
    }
}

/// The whole screen is a notice; no panel is on it, so no click or page size refers to one.
fn too_small(app: &App, frame: &mut Frame) {
    app.last_frame.tree.set(Rect::default());
    app.last_frame.details.set(Rect::default());
    app.last_frame.help_height.set(0);
    let area = frame.area();
    let text = format!(
        "terminal too small (need at least {MIN_WIDTH}×{MIN_HEIGHT}, this one is {}×{}): make it larger, or q quits",
        area.width, area.height
    );
    let lines = super::details_doc::fold(&text, usize::from(area.width));
    let top = usize::from(area.height).saturating_sub(lines.len()) / 2;
    let mut shown: Vec<Line<'_>> = vec![Line::from(""); top];
    shown.extend(lines.into_iter().map(|l| Line::from(Span::styled(l, app.look.theme.style(ThemeToken::Warning)))));
    frame.render_widget(Paragraph::new(shown).alignment(Alignment::Center), area);
}

/// `spans` cut to `width` columns, the cut marked with `…` (ratatui would cut silently).
pub fn fit(spans: Spans, width: usize) -> Spans {
    let total: usize = spans.iter().map(|(_, s)| s.width()).sum();
    if total <= width {
        return spans;
    }
    let room = width.saturating_sub(1);
    let mut out = Vec::with_capacity(spans.len());
    let mut used = 0;
    for (token, s) in spans {
        if used + s.width() <= room {
            used += s.width();
            out.push((token, s));
            continue;
        }
        let mut cut = String::new();
        for c in s.chars() {
            let w = c.width().unwrap_or(0);
            if used + w > room {
                break;
            }
            used += w;
            cut.push(c);
        }
        cut.push('…');
        out.push((token, cut));
        break;
    }
    if width == 0 {
        out.clear();
    }
    out
}

/// Semantic spans to a styled line.
pub fn line<'a>(theme: &Theme, spans: impl IntoIterator<Item = (ThemeToken, String)>) -> Line<'a> {
    Line::from(spans.into_iter().map(|(t, s)| Span::styled(s, theme.style(t))).collect::<Vec<_>>())
}

pub fn line_ref<'a>(theme: &Theme, spans: &'a Spans) -> Line<'a> {
    Line::from(spans.iter().map(|(t, s)| Span::styled(s.as_str(), theme.style(*t))).collect::<Vec<_>>())
}

/// A panel frame `width` columns wide; focus shows as a thick border and a marked title, not
/// only as colour. A title too long for the frame ends in `…`.
pub fn panel<'a>(theme: &Theme, title: String, focused: bool, width: u16) -> Block<'a> {
    let (border, token, mark) = if focused {
        (BorderType::Thick, ThemeToken::BorderFocused, " ▸ ")
    } else {
        (BorderType::Plain, ThemeToken::BorderUnfocused, " ")
    };
    // The corners and the spaces around the title.
    let room = usize::from(width).saturating_sub(2 + mark.width() + 1);
    let title: String = fit(vec![(ThemeToken::Title, title)], room).into_iter().map(|(_, s)| s).collect();
    Block::bordered()
        .border_type(border)
        .border_style(theme.style(token))
        .title(Span::styled(format!("{mark}{title} "), theme.style(ThemeToken::Title)))
}
