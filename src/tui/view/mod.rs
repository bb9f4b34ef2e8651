//! Pure draw functions: they read the [`App`] and write a frame, nothing else. Where things go
//! comes from [`layout::areas`], which `update` asks too, so nothing needs reporting back.

use ratatui::Frame;
use ratatui::layout::Alignment;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use super::app::{App, Mode, RightPanel};
use super::label::Spans;
use super::layout::{self, MIN_HEIGHT, MIN_WIDTH};
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

pub fn draw(app: &App, frame: &mut Frame) {
    // The same layout `update` pages and hit-tests by, from the size of this very frame.
    let areas = layout::areas(frame.area().as_size(), app);
    if !areas.fits {
        too_small(app, frame);
        return;
    }
    breadcrumb::draw(app, frame, areas.breadcrumb);
    // A zoomed-out panel is not on screen: nothing drawn there.
    if !areas.tree.is_empty() {
        tree::draw(app, frame, &areas);
    }
    if !areas.details.is_empty() {
        let (area, inner) = (areas.details, areas.details_text);
        match app.details.panel {
            RightPanel::Details => details::draw(app, frame, area, inner),
            RightPanel::Verification => verification::draw(app, frame, area, inner),
            RightPanel::Explain => explain::draw(app, frame, area, inner),
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
        Mode::Help { scroll } => help::draw(app, frame, &areas, *scroll),
        Mode::Messages { back } => messages::draw(app, frame, frame.area(), *back),
        Mode::Confirm { .. } => verification::draw_confirm(app, frame, frame.area()),
        Mode::Sign(_) => sign::draw(app, frame, frame.area()),
        _ => {}
    }
}

/// The whole screen is a notice; no panel is on it (the layout gives none to click or page).
fn too_small(app: &App, frame: &mut Frame) {
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
