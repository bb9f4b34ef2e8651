//! The message log overlay (`M`, `:messages`): every status message of the run in full, with
//! its time, folded to the width; newest at the bottom, scrolled back entry by entry.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::sanitize::sanitize;

use super::super::app::{App, LogEntry, Severity};
use super::super::details_doc::fold;
use super::super::label::Spans;
use super::super::theme::ThemeToken;
use super::{line, panel};

/// The lines of `entries` at `width` columns: `12:00:01 ✗ text`, the text folded under itself.
pub fn lines(entries: &[LogEntry], width: usize) -> Vec<Spans> {
    let mut out = Vec::new();
    for e in entries {
        let (token, glyph) = match e.status.level {
            Severity::Error => (ThemeToken::Error, "✗"),
            Severity::Warning => (ThemeToken::Warning, "!"),
            Severity::Info => (ThemeToken::Text, "·"),
        };
        let lead = format!("{} {glyph} ", e.at.format("%H:%M:%S"));
        let room = width.saturating_sub(lead.width()).max(1);
        for (i, piece) in fold(&sanitize(&e.status.text), room).into_iter().enumerate() {
            let l = if i == 0 { lead.clone() } else { " ".repeat(lead.width()) };
            out.push(vec![(ThemeToken::Muted, l), (token, piece)]);
        }
    }
    out
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect, back: usize) {
    let width = area.width.saturating_sub(4).min(110);
    let height = area.height.saturating_sub(2);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    let n = app.notices.messages.len();
    let end = n.saturating_sub(back);
    let title = if back == 0 {
        format!("Messages · {n} · newest last · Esc closes")
    } else {
        format!("Messages · {end}/{n} · Esc closes")
    };
    let block = panel(&app.look.theme, title, true, popup.width);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let all = lines(&app.notices.messages[..end], usize::from(inner.width));
    let skip = all.len().saturating_sub(usize::from(inner.height));
    let shown: Vec<_> = all.into_iter().skip(skip).map(|l| line(&app.look.theme, l)).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
