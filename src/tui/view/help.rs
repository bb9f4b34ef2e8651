//! The help overlay, generated from the live keymap so it always tells the truth.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Clear, Paragraph};

use super::super::app::App;
use super::super::keymap::Scope;
use super::super::label::Spans;
use super::super::theme::Token;
use super::{fit, line, panel};

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
    out.push(Vec::new());
    out.push(vec![(Token::Heading, "Legend (every glyph on the screen)".to_string())]);
    for (token, glyph, meaning) in LEGEND {
        out.push(vec![
            (Token::Text, "  ".into()),
            (*token, format!("{glyph:<2}")),
            (Token::HintDesc, meaning.to_string()),
        ]);
    }
    out
}

/// What each glyph of the tree, the panels and the status line means. Every state has a word
/// beside its glyph on screen too; this is where the glyph alone is explained.
const LEGEND: &[(Token, &str, &str)] = &[
    (Token::Verified, "✓", "verified: a signature passed every enforced check"),
    (Token::Warning, "!", "warnings: verified, but a logged check failed"),
    (Token::Failed, "✗", "failed: a check failed, or it could not be loaded or verified"),
    (Token::Warning, "-", "unsigned: a policy applies and no Notation signature does"),
    (Token::Muted, "~", "skipped: the statement's level is skip, nothing is checked"),
    (Token::Muted, "?", "not verified: no policy applies, or verification is off"),
    (Token::Muted, "·", "a check that did not run; in the status line, a note"),
    (Token::Pending, "⟳", "loading or verifying"),
    (Token::Muted, "○", "not loaded yet (expand loads it)"),
    (Token::Failed, "↻", "cycle: refers back to an ancestor, not expanded again"),
    (Token::Failed, "⊘", "depth limit reached: not loaded"),
    (Token::Match, "◆", "a filter match; WHAT-IF: the policy is edited on screen"),
    (Token::Muted, "▶", "closed: has or may have children"),
    (Token::Muted, "▼", "open: its children are below it"),
    (Token::Muted, "→", "the digest a tag's verdict is for (what it resolves to)"),
    (Token::Muted, "…", "cut to fit: the details panel has the whole text"),
    (Token::Muted, "›", "breadcrumb: registry › repository › tag › digest"),
    (Token::Title, "▸", "the focused panel (also a thick border)"),
    (Token::Muted, ">", "the selected row"),
    (Token::Text, "█", "the cursor of the / and : prompts"),
    (Token::Pending, "⠋", "requests in flight (status line, bottom right)"),
];

pub fn draw(app: &App, frame: &mut Frame, area: Rect, scroll: usize) {
    let width = area.width.saturating_sub(4).min(72);
    let height = area.height.saturating_sub(2);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    let block = panel(&app.theme, "Help · Esc closes · config.toml [keys] remaps".into(), true, popup.width);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    app.last_frame.help_height.set(inner.height);
    let all = lines(app);
    let scroll = scroll.min(all.len().saturating_sub(usize::from(inner.height)));
    let width = usize::from(inner.width);
    let shown: Vec<_> =
        all.into_iter().skip(scroll).take(usize::from(inner.height)).map(|l| line(&app.theme, fit(l, width))).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
