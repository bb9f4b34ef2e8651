//! A short-lived note in the bottom-right corner ("Sent to the terminal's clipboard: …"),
//! wrapped rather than cut: what was copied should be readable whole.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::super::app::App;
use super::super::details_doc::fold;
use super::super::theme::ThemeToken;
use super::fit;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(toast) = &app.notices.toast else { return };
    let width = (toast.text.width() as u16 + 4).min(area.width);
    if area.height < 3 || width < 5 {
        return;
    }
    let room = usize::from(width - 4);
    let mut lines = fold(&toast.text, room);
    // At most the area's height: the last line shown says more was cut.
    let max = usize::from(area.height - 2);
    if lines.len() > max {
        lines.truncate(max);
        if let Some(last) = lines.last_mut() {
            *last = fit(vec![(ThemeToken::Toast, format!("{last} …"))], room).into_iter().map(|(_, s)| s).collect();
        }
    }
    let height = lines.len() as u16 + 2;
    let rect = Rect { x: area.right() - width, y: area.bottom() - height, width, height };
    let style = app.look.theme.style(ThemeToken::Toast);
    frame.render_widget(Clear, rect);
    let text: Vec<Line<'_>> = lines.into_iter().map(Line::from).collect();
    frame.render_widget(
        Paragraph::new(text)
            .style(style)
            .block(Block::bordered().style(style).padding(ratatui::widgets::Padding::horizontal(1))),
        rect,
    );
}
