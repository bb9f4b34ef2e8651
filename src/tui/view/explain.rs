//! The Kyverno panel (`:explain`), drawn from the lines `present::explain` builds.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::Paragraph;

use super::super::app::{App, Mode};
use super::super::keymap::Focus;
use super::super::present::explain::lines;
use super::{line, panel};

/// The panel at `area`, its text at `inner` (inside the border, as the layout gives it).
pub fn draw(app: &App, frame: &mut Frame, area: Rect, inner: Rect) {
    let focused = app.focus == Focus::Details && app.mode == Mode::Normal;
    let all = lines(app, app.selected(), usize::from(inner.width));
    let height = usize::from(inner.height);
    let scroll = app.details.scroll.min(all.len().saturating_sub(height));
    let mut title = "Kyverno · v: details".to_string();
    if all.len() > height {
        title.push_str(&format!(" · {}-{}/{}", scroll + 1, (scroll + height).min(all.len()), all.len()));
    }
    let block = panel(&app.look.theme, title, focused, area.width);
    frame.render_widget(block, area);
    let shown: Vec<Line<'_>> =
        all.into_iter().skip(scroll).take(usize::from(inner.height)).map(|l| line(&app.look.theme, l)).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
