//! The help lines, generated from the live keymap so they always tell the truth, and the
//! legend of every glyph; searchable. Shared by `update` (scrolling) and the view.

use super::super::app::App;
use super::super::keymap::{Context, Modal};
use super::super::label::Spans;
use super::super::theme::ThemeToken;

/// The help lines, or with a search (`/` in help) the lines holding it (smart-case), each under
/// its section heading; a heading that holds it brings its whole section. Nothing found is
/// said in a line, never an empty box.
pub fn lines(app: &App) -> Vec<Spans> {
    let (all, names) = all_lines(app);
    let query = app.prompts.help_search.text();
    if query.is_empty() {
        return all;
    }
    let case_sensitive = query.chars().any(char::is_uppercase);
    let needle = if case_sensitive { query.to_string() } else { query.to_lowercase() };
    let text = |l: &Spans| l.iter().map(|(_, s)| s.as_str()).collect::<String>();
    let holds = |s: &str| super::super::label::contains(s, &needle, case_sensitive);
    let mut out = Vec::new();
    let mut heading: Option<Spans> = None;
    let mut whole_section = false;
    for (i, l) in all.into_iter().enumerate() {
        if l.first().is_some_and(|(t, _)| *t == ThemeToken::Heading) {
            whole_section = holds(&text(&l));
            if whole_section {
                out.push(l);
                heading = None;
            } else {
                heading = Some(l);
            }
            continue;
        }
        if l.is_empty() {
            continue;
        }
        let searched = format!("{} {}", text(&l), names.get(&i).copied().unwrap_or_default());
        if whole_section || holds(&searched) {
            if let Some(h) = heading.take() {
                out.push(h);
            }
            out.push(l);
        }
    }
    if out.is_empty() {
        out.push(vec![(
            ThemeToken::Muted,
            format!("nothing in help holds {:?} (Esc clears the search)", crate::sanitize::sanitize(query)),
        )]);
    }
    out
}

/// Every help line, and the config names of the lines that are key bindings (by line index).
fn all_lines(app: &App) -> (Vec<Spans>, std::collections::HashMap<usize, &'static str>) {
    let mut out: Vec<Spans> = Vec::new();
    let mut names = std::collections::HashMap::new();
    for context in [Context::Global, Context::Panels, Context::Tree, Context::Details] {
        let bindings: Vec<_> = app.look.keymap.bindings.iter().filter(|b| b.context == context).collect();
        if bindings.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(Vec::new());
        }
        out.push(vec![(ThemeToken::Heading, context.title().to_string())]);
        for b in bindings {
            out.push(vec![
                (ThemeToken::HintKey, format!("  {:<18}", b.keys_text())),
                (ThemeToken::HintDesc, b.desc.to_string()),
            ]);
            // The config name is searched too: it is what `[keys]` in config.toml takes.
            names.insert(out.len() - 1, b.name);
        }
    }
    for modal in [Modal::Prompt, Modal::Confirm, Modal::Sign, Modal::Overlay] {
        out.push(Vec::new());
        out.push(vec![(ThemeToken::Heading, modal.title().to_string())]);
        if modal == Modal::Prompt {
            continue; // its answers go with its editing keys, below
        }
        if modal == Modal::Sign && app.look.keymap.get(super::super::keymap::Action::Sign).is_none() {
            out.pop();
            out.pop();
            continue; // --read-only: no signing, so no dialog to explain
        }
        for (keys, what) in modal.rows() {
            out.push(vec![(ThemeToken::HintKey, format!("  {keys:<18}")), (ThemeToken::HintDesc, what.to_string())]);
        }
    }
    // The prompts section, back at its heading: answers from the table, then line editing.
    let at = out.iter().position(|l| l.first().is_some_and(|(_, t)| t == Modal::Prompt.title())).expect("heading") + 1;
    let mut prompt_rows: Vec<Spans> = Modal::Prompt
        .rows()
        .into_iter()
        .map(|(keys, what)| {
            vec![(ThemeToken::HintKey, format!("  {keys:<18}")), (ThemeToken::HintDesc, what.to_string())]
        })
        .collect();
    for (keys, what) in [
        ("Left/Right", "move the cursor (also Ctrl-b / Ctrl-f)"),
        ("Home/End", "start / end of the line (also Ctrl-a / Ctrl-e)"),
        ("Ctrl-w", "delete the word before the cursor"),
        ("Ctrl-u / Ctrl-k", "delete to the start / to the end"),
        ("Up/Down", "history of : (the / prompt moves in the tree)"),
        ("Ctrl-p / Ctrl-n", "history of / and :"),
        ("Tab", "complete a command or a theme name"),
        ("/ (in help)", "search the help"),
    ] {
        prompt_rows
            .push(vec![(ThemeToken::HintKey, format!("  {keys:<18}")), (ThemeToken::HintDesc, what.to_string())]);
    }
    out.splice(at..at, prompt_rows);
    out.push(Vec::new());
    out.push(vec![(ThemeToken::Heading, "Legend (every glyph on the screen)".to_string())]);
    for (token, glyph, meaning) in LEGEND {
        out.push(vec![
            (ThemeToken::Text, "  ".into()),
            (*token, format!("{glyph:<2}")),
            (ThemeToken::HintDesc, meaning.to_string()),
        ]);
    }
    (out, names)
}

/// What each glyph of the tree, the panels and the status line means. Every state has a word
/// beside its glyph on screen too; this is where the glyph alone is explained.
const LEGEND: &[(ThemeToken, &str, &str)] = &[
    (ThemeToken::Verified, "✓", "verified: a signature passed every enforced check; after \"kyverno\": allowed"),
    (ThemeToken::Warning, "!", "warnings: verified, but a logged check failed; after \"kyverno\": an Audit rule fails"),
    (
        ThemeToken::Failed,
        "✗",
        "failed: a check failed, or it could not be loaded or verified; after \"kyverno\": blocked",
    ),
    (ThemeToken::Warning, "-", "unsigned: a policy applies and no Notation signature does"),
    (ThemeToken::Muted, "~", "skipped: the statement's level is skip, nothing is checked"),
    (ThemeToken::Muted, "?", "not verified: no policy applies, or verification is off; after \"kyverno\": not decided"),
    (ThemeToken::Muted, "·", "a check that did not run; in the status line, a note"),
    (ThemeToken::Pending, "⟳", "loading or verifying"),
    (ThemeToken::Muted, "○", "not loaded yet (expand loads it)"),
    (ThemeToken::Failed, "↻", "cycle: refers back to an ancestor, not expanded again"),
    (ThemeToken::Failed, "⊘", "depth limit reached: not loaded"),
    (ThemeToken::Match, "◆", "a filter match; WHAT-IF: the policy is edited on screen"),
    (ThemeToken::Muted, "▶", "closed: has or may have children"),
    (ThemeToken::Muted, "▼", "open: its children are below it"),
    (ThemeToken::Muted, "→", "the digest a tag's verdict is for (what it resolves to)"),
    (ThemeToken::Muted, "…", "cut to fit: the details panel has the whole text"),
    (ThemeToken::Muted, "›", "breadcrumb: registry › repository › tag › digest"),
    (ThemeToken::Title, "▸", "the focused panel (also a thick border)"),
    (ThemeToken::Muted, ">", "the selected row"),
    (ThemeToken::Text, "█", "the cursor of the / and : prompts"),
    (ThemeToken::Pending, "⠋", "requests in flight (status line, bottom right)"),
];
