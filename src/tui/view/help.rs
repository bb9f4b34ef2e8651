//! The help overlay, drawn from the lines `present::help` builds.

use ratatui::Frame;
use ratatui::widgets::{Clear, Paragraph};

use super::super::app::App;
use super::super::layout::Areas;
use super::super::present::help::lines;
use super::{fit, line, panel};

pub fn draw(app: &App, frame: &mut Frame, areas: &Areas, scroll: usize) {
    // Where `update` clamps the scrolling by, too.
    let (popup, inner) = (areas.help, areas.help_text);
    frame.render_widget(Clear, popup);
    let title = match (app.prompts.help_search.text(), app.prompts.help_typing) {
        ("", false) => "Help · / searches · Esc closes · config.toml [keys] remaps".to_string(),
        (q, typing) => {
            let (before, after) = app.prompts.help_search.split();
            let shown = if typing { format!("{before}█{after}") } else { q.to_string() };
            format!("Help · /{} · Esc {}", crate::sanitize::sanitize(&shown), if typing { "cancels" } else { "clears" })
        }
    };
    let block = panel(&app.look.theme, title, true, popup.width);
    frame.render_widget(block, popup);
    let all = lines(app);
    let scroll = scroll.min(all.len().saturating_sub(usize::from(inner.height)));
    let width = usize::from(inner.width);
    let shown: Vec<_> = all
        .into_iter()
        .skip(scroll)
        .take(usize::from(inner.height))
        .map(|l| line(&app.look.theme, fit(l, width)))
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
