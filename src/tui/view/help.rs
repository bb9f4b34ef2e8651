//! The help overlay, generated from the live keymap so it always tells the truth.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, Paragraph};

use super::super::app::App;
use super::super::keymap::Scope;
use super::super::label::Spans;
use super::super::theme::Token;
use super::{line, panel};

pub fn lines(app: &App) -> Vec<Spans> {
    let mut out: Vec<Spans> = Vec::new();
    for scope in [Scope::Global, Scope::Panels, Scope::Tree, Scope::Details] {
        let bindings: Vec<_> = app.keymap.bindings.iter().filter(|b| b.scope == scope).collect();
        if bindings.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Vec::new());
        }
        out.push(vec![(Token::Heading, scope.title().to_string())]);
        for b in bindings {
            out.push(vec![(Token::HintKey, format!("  {:<18}", b.keys_text())), (Token::HintDesc, b.desc.to_string())]);
        }
    }
    out.push(Vec::new());
    out.push(vec![(Token::Heading, "Prompts (/ and :)".to_string())]);
    out.push(vec![(Token::HintKey, format!("  {:<18}", "Enter")), (Token::HintDesc, "accept / run".to_string())]);
    out.push(vec![
        (Token::HintKey, format!("  {:<18}", "Esc")),
        (Token::HintDesc, "cancel (clears the filter)".to_string()),
    ]);
    out.push(vec![
        (Token::HintKey, format!("  {:<18}", "Esc (tree)")),
        (Token::HintDesc, "clear the filter".to_string()),
    ]);
    out
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect, scroll: usize) {
    let width = area.width.saturating_sub(4).min(72);
    let height = area.height.saturating_sub(2);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    let block = panel(&app.theme, "Help · Esc closes · config.toml [keys] remaps".into(), true);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    app.last_frame.help_height.set(inner.height);
    let all = lines(app);
    let scroll = scroll.min(all.len().saturating_sub(usize::from(inner.height)));
    let shown: Vec<_> =
        all.into_iter().skip(scroll).take(usize::from(inner.height)).map(|l| line(&app.theme, l)).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
