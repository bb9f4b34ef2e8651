//! A short-lived note in the bottom-right corner ("Sent to the terminal's clipboard: …").

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::super::app::App;
use super::super::theme::Token;

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Some(toast) = &app.toast else { return };
    let width = (toast.text.width() as u16 + 4).min(area.width);
    if area.height < 3 || width < 5 {
        return;
    }
    let rect = Rect { x: area.right() - width, y: area.bottom() - 3, width, height: 3 };
    let style = app.theme.style(Token::Toast);
    frame.render_widget(Clear, rect);
    frame.render_widget(Paragraph::new(toast.text.as_str()).style(style).block(Block::bordered().style(style)), rect);
}
