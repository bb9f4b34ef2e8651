//! The bottom line: the filter or command prompt when typing, else a status message or the key
//! hints of the focused panel (from the keymap); requests in flight on the right.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::sanitize::{clip, sanitize};

use super::super::app::{App, Mode, Severity};
use super::super::keymap::{Action, Answer, Modal};
use super::super::label::Spans;
use super::super::prompt::Prompt;
use super::super::theme::ThemeToken;
use super::{fit, line};

const CURSOR: &str = "█";

/// One part of the left side: dropped whole when the bar is too narrow, lowest `keep` first, so
/// the bar never ends in half a hint.
struct Piece {
    spans: Spans,
    keep: u8,
}

/// Never dropped: the prompt being typed, the status message, the one key that closes a mode.
const ALWAYS: u8 = u8::MAX;
const SEP: &str = "  ";

fn piece(keep: u8, spans: Spans) -> Piece {
    Piece { spans, keep }
}

fn key_hint(keep: u8, key: impl Into<String>, desc: impl Into<String>) -> Piece {
    piece(keep, vec![(ThemeToken::HintKey, key.into()), (ThemeToken::HintDesc, format!(" {}", desc.into()))])
}

/// The line being typed with the cursor where it is. Too long for `room`, it loses its start
/// (marked `…`), never the cursor.
fn prompt(prefix: &str, input: &Prompt, room: usize) -> Piece {
    let (before, after) = input.split();
    let (mut before, after) = (sanitize(before).into_owned(), sanitize(after).into_owned());
    let fixed = prefix.width() + CURSOR.width();
    let mut spans = vec![(ThemeToken::HintKey, prefix.to_string())];
    if fixed + before.width() > room {
        let keep = room.saturating_sub(fixed + 1);
        let mut tail: Vec<char> = Vec::new();
        let mut w = 0;
        for c in before.chars().rev() {
            w += c.width().unwrap_or(0);
            if w > keep {
                break;
            }
            tail.push(c);
        }
        before = tail.into_iter().rev().collect();
        spans.push((ThemeToken::Muted, "…".into()));
    }
    spans.extend([(ThemeToken::Text, before), (ThemeToken::Text, CURSOR.into()), (ThemeToken::Text, after)]);
    piece(ALWAYS, spans)
}

fn left(app: &App, room: usize) -> Vec<Piece> {
    match &app.mode {
        Mode::Filter => {
            let n = app.tree.filter.matches.len();
            vec![
                prompt("/", &app.prompts.filter, room),
                piece(20, vec![(ThemeToken::Muted, format!("{n} match{}", if n == 1 { "" } else { "es" }))]),
                key_hint(10, Modal::Prompt.keys(Answer::Accept, true), "keep"),
                key_hint(9, Modal::Prompt.keys(Answer::Cancel, true), "clear"),
            ]
        }
        Mode::Command(cmd) => vec![
            prompt(":", cmd, room),
            piece(10, vec![(ThemeToken::HintDesc, "open TARGET · theme NAME · quit".into())]),
            key_hint(20, Modal::Prompt.keys(Answer::Accept, true), "run"),
            key_hint(19, Modal::Prompt.keys(Answer::Cancel, true), "cancel"),
        ],
        Mode::Confirm { .. } => {
            let scroll = format!(
                "{}/{}",
                Modal::Confirm.keys(Answer::ScrollDown, true),
                Modal::Confirm.keys(Answer::ScrollUp, true)
            );
            vec![
                key_hint(ALWAYS, Modal::Confirm.keys(Answer::Accept, true), "write the policy file"),
                key_hint(10, scroll, "scroll"),
                key_hint(20, Modal::Confirm.keys(Answer::Cancel, true), "(or any other key) cancel"),
            ]
        }
        Mode::Sign(_) => vec![
            key_hint(ALWAYS, Modal::Sign.keys(Answer::Accept, true), "sign"),
            key_hint(ALWAYS, Modal::Sign.keys(Answer::Cancel, true), "cancel (any other key)"),
            key_hint(8, Modal::Sign.keys(Answer::Press, true), "press the focused button"),
            key_hint(10, Modal::Sign.keys(Answer::ScrollDown, true), "next key"),
            key_hint(9, Modal::Sign.keys(Answer::Switch, true), "envelope"),
        ],
        Mode::Help { .. } | Mode::Messages { .. } => {
            let first = |a: Action| {
                app.look
                    .keymap
                    .get(a)
                    .map(|b| b.keys_text())
                    .unwrap_or_default()
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            };
            let what = if matches!(app.mode, Mode::Help { .. }) { "close help" } else { "close the log" };
            vec![
                key_hint(ALWAYS, Modal::Overlay.keys(Answer::Cancel, true), what),
                key_hint(10, format!("{}/{}", first(Action::Down), first(Action::Up)), "scroll"),
            ]
        }
        Mode::Normal => match &app.notices.status {
            Some(s) => {
                let (token, glyph) = match s.level {
                    Severity::Error => (ThemeToken::Error, "✗ "),
                    Severity::Warning => (ThemeToken::Warning, "! "),
                    Severity::Info => (ThemeToken::Text, "· "),
                };
                let text = format!("{glyph}{}", s.text);
                // Cut to fit, it says where the whole text is: the message log.
                let log_key = app.look.keymap.get(Action::Messages).map(|b| b.keys_text());
                match log_key {
                    Some(key) if text.width() > room => {
                        let hint = key_hint(ALWAYS, key, "full text");
                        let hint_width = width_of(std::slice::from_ref(&hint)) + SEP.width();
                        let cut = fit(vec![(token, text)], room.saturating_sub(hint_width));
                        vec![piece(ALWAYS, cut), hint]
                    }
                    _ => vec![piece(ALWAYS, vec![(token, text)])],
                }
            }
            None => {
                app.look.keymap.ranked_hints(app.focus).into_iter().map(|h| key_hint(h.keep, h.key, h.label)).collect()
            }
        },
    }
}

fn width_of(pieces: &[Piece]) -> usize {
    let spans: usize = pieces.iter().flat_map(|p| &p.spans).map(|(_, s)| s.width()).sum();
    spans + SEP.width() * pieces.len().saturating_sub(1)
}

/// The pieces that fit in `room` columns, in their order; the lowest ranked (the later of equal
/// ones) go first. What must stay and still does not fit is cut with `…`.
fn fit_pieces(mut pieces: Vec<Piece>, room: usize) -> Spans {
    while width_of(&pieces) > room {
        let drop =
            pieces.iter().enumerate().filter(|(_, p)| p.keep < ALWAYS).min_by_key(|(i, p)| (p.keep, usize::MAX - i));
        match drop {
            Some((i, _)) => {
                pieces.remove(i);
            }
            None => break,
        }
    }
    let mut spans = Vec::new();
    for (i, p) in pieces.into_iter().enumerate() {
        if i > 0 {
            spans.push((ThemeToken::Statusbar, SEP.to_string()));
        }
        spans.extend(p.spans);
    }
    fit(spans, room)
}

fn right(app: &App) -> Spans {
    let mut spans = Vec::new();
    if !app.tree.filter.query.is_empty() && app.mode == Mode::Normal {
        spans.push((ThemeToken::Match, format!(" /{} (n/N) ", clip(&sanitize(&app.tree.filter.query), 16))));
    }
    if app.vs.what_if.is_active() {
        spans.push((ThemeToken::Match, " ◆ WHAT-IF ".into()));
    }
    // A missing file with nothing loaded before is the usual state without notation set up:
    // the rows say "no policy" already.
    if app.vs.error.is_some() && (app.vs.base.is_some() || !app.vs.missing) {
        let what = if app.vs.missing { " ✗ policy file missing " } else { " ✗ policy invalid " };
        spans.push((ThemeToken::Error, what.into()));
    }
    if !app.look.mouse {
        spans.push((ThemeToken::Muted, " mouse off ".into()));
    }
    let n = app.in_flight();
    if n > 0 {
        spans.push((ThemeToken::Pending, format!(" {} {n} in flight ", app.spinner_frame())));
    }
    spans
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let right = right(app);
    let right_width: usize = right.iter().map(|(_, s)| s.width()).sum();
    // A column of margin on each side of the left part.
    let room = usize::from(area.width).saturating_sub(right_width + 2);
    let left = fit_pieces(left(app, room), room);
    let used = 1 + left.iter().map(|(_, s)| s.width()).sum::<usize>();
    let mut spans = vec![(ThemeToken::Statusbar, " ".to_string())];
    spans.extend(left);
    spans.push((ThemeToken::Statusbar, " ".repeat(usize::from(area.width).saturating_sub(used + right_width))));
    spans.extend(right);
    frame.render_widget(
        Paragraph::new(line(&app.look.theme, spans)).style(app.look.theme.style(ThemeToken::Statusbar)),
        area,
    );
}
