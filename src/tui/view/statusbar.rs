//! The bottom line: the filter or command prompt when typing, else a status message or the key
//! hints of the focused panel (from the keymap); requests in flight on the right.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthStr;

use crate::sanitize::{clip, sanitize};

use super::super::app::{App, Level, Mode};
use super::super::keymap::Action;
use super::super::label::Spans;
use super::super::theme::Token;
use super::line;

const CURSOR: &str = "█";

fn left(app: &App) -> Spans {
    match &app.mode {
        Mode::Filter => {
            let n = app.filter.matches.len();
            vec![
                (Token::HintKey, "/".into()),
                (Token::Text, sanitize(&app.filter.query).into_owned()),
                (Token::Text, CURSOR.into()),
                (Token::Muted, format!("  {n} match{}", if n == 1 { "" } else { "es" })),
                (Token::HintDesc, "  Enter keep · Esc clear".into()),
            ]
        }
        Mode::Command(cmd) => vec![
            (Token::HintKey, ":".into()),
            (Token::Text, sanitize(cmd).into_owned()),
            (Token::Text, CURSOR.into()),
            (Token::HintDesc, "  open TARGET · theme NAME · quit   Enter run · Esc cancel".into()),
        ],
        Mode::Confirm { .. } => vec![
            (Token::HintKey, "y".into()),
            (Token::HintDesc, " write the policy file  ".into()),
            (Token::HintKey, "j/k".into()),
            (Token::HintDesc, " scroll  ".into()),
            (Token::HintKey, "Esc".into()),
            (Token::HintDesc, " (or any other key) cancel".into()),
        ],
        Mode::Help { .. } => {
            let first = |a: Action| {
                app.keymap
                    .get(a)
                    .map(|b| b.keys_text())
                    .unwrap_or_default()
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_string()
            };
            vec![
                (Token::HintKey, "Esc".into()),
                (Token::HintDesc, " close help  ".into()),
                (Token::HintKey, format!("{}/{}", first(Action::Down), first(Action::Up))),
                (Token::HintDesc, " scroll".into()),
            ]
        }
        Mode::Normal => match &app.status {
            Some(s) => {
                let (token, glyph) = match s.level {
                    Level::Error => (Token::Error, "✗ "),
                    Level::Warning => (Token::Warning, "! "),
                    Level::Info => (Token::Text, "· "),
                };
                vec![(token, format!("{glyph}{}", s.text))]
            }
            None => {
                let mut spans = Vec::new();
                for (key, hint) in app.keymap.hints(app.focus) {
                    spans.push((Token::HintKey, key));
                    spans.push((Token::HintDesc, format!(" {hint}  ")));
                }
                spans
            }
        },
    }
}

fn right(app: &App) -> Spans {
    let mut spans = Vec::new();
    if !app.filter.query.is_empty() && app.mode == Mode::Normal {
        spans.push((Token::Match, format!(" /{} (n/N) ", clip(&sanitize(&app.filter.query), 16))));
    }
    if app.vs.what_if.is_active() {
        spans.push((Token::Match, " ◆ WHAT-IF ".into()));
    }
    // A missing file with nothing loaded before is the usual state without notation set up:
    // the rows say "no policy" already.
    if app.vs.error.is_some() && (app.vs.base.is_some() || !app.vs.missing) {
        let what = if app.vs.missing { " ✗ policy file missing " } else { " ✗ policy invalid " };
        spans.push((Token::Error, what.into()));
    }
    if !app.mouse {
        spans.push((Token::Muted, " mouse off ".into()));
    }
    let n = app.in_flight();
    if n > 0 {
        spans.push((Token::Pending, format!(" {} {n} in flight ", app.spinner_frame())));
    }
    spans
}

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let right = right(app);
    let right_width: usize = right.iter().map(|(_, s)| s.width()).sum();
    let room = usize::from(area.width).saturating_sub(right_width + 1);
    let mut spans = vec![(Token::Statusbar, " ".to_string())];
    let mut used = 1;
    for (t, s) in left(app) {
        if used >= room {
            break;
        }
        let s = clip(&s, room - used).into_owned();
        used += s.width();
        spans.push((t, s));
    }
    spans.push((Token::Statusbar, " ".repeat(usize::from(area.width).saturating_sub(used + right_width))));
    spans.extend(right);
    frame.render_widget(Paragraph::new(line(&app.theme, spans)).style(app.theme.style(Token::Statusbar)), area);
}
