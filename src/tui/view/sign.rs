//! The sign dialog: exactly what will be signed (by digest), with which key and envelope, and
//! that every key but yes cancels.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};

use crate::sanitize::sanitize;
use crate::sign::pipeline::EnvelopeFormat;

use super::super::app::{App, AwsProfiles, Mode};
use super::super::config::KeySource;
use super::super::details_doc::fold;
use super::super::keymap::{Answer, Modal};
use super::super::label::Spans;
use super::super::theme::ThemeToken;
use super::{line, panel};

pub fn draw(app: &App, frame: &mut Frame, area: Rect) {
    let Mode::Sign(d) = &app.mode else { return };
    let width = area.width.saturating_sub(4).min(90);
    let w = usize::from(width.saturating_sub(2));
    let mut all: Vec<Spans> = Vec::new();
    let mut field = |name: &str, value: String, token: ThemeToken| {
        for (i, part) in fold(&value, w.saturating_sub(11)).into_iter().enumerate() {
            let label = if i == 0 { format!("{name:<10} ") } else { " ".repeat(11) };
            all.push(vec![(ThemeToken::Muted, label), (token, part)]);
        }
    };
    field("sign", sanitize(&d.reference).into_owned(), ThemeToken::Text);
    field("digest", d.subject.digest.clone(), ThemeToken::Digest);
    field("type", sanitize(&d.subject.media_type).into_owned(), ThemeToken::Muted);
    let keys = app.signing_keys();
    match keys.get(d.key) {
        Some(key) => {
            let from = match &key.source {
                KeySource::Demo => "the demo's own key".to_string(),
                KeySource::Files { key, .. } => sanitize(&key.display().to_string()).into_owned(),
                KeySource::AwsSigner { profile, region } => {
                    let region = region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default();
                    format!("AWS Signer profile {}{region}", sanitize(profile))
                }
            };
            let count = if keys.len() > 1 { format!(" ({} of {})", d.key + 1, keys.len()) } else { String::new() };
            field("key", format!("{}{count}: {from}", sanitize(&key.name)), ThemeToken::Text);
        }
        None => field("key", "none yet".into(), ThemeToken::Muted),
    }
    let aws = match &app.aws_profiles {
        AwsProfiles::NotAsked => None,
        AwsProfiles::Listing { region, .. } => Some((
            format!("listing Notation signing profiles in {}…", region.as_deref().unwrap_or("the default region")),
            ThemeToken::Muted,
        )),
        AwsProfiles::Listed { region, offered, inactive, truncated } => {
            let mut text = format!("{offered} active Notation profile(s) in {region}");
            if *inactive > 0 {
                text.push_str(&format!("; {inactive} not active, not offered"));
            }
            if *truncated {
                text.push_str("; more not listed");
            }
            Some((text, ThemeToken::Muted))
        }
        AwsProfiles::Failed(e) => Some((format!("profiles could not be listed: {e}"), ThemeToken::Error)),
    };
    if let Some((text, token)) = aws {
        field("AWS Signer", text, token);
    }
    let envelope = match d.envelope {
        EnvelopeFormat::Jws => "JWS (application/jose+json)",
        EnvelopeFormat::Cose => "COSE (application/cose)",
    };
    field("envelope", envelope.into(), ThemeToken::Text);
    all.push(Vec::new());
    for part in fold("The digest is what is signed, never a tag; the signature is stored beside it.", w) {
        all.push(vec![(ThemeToken::Muted, part)]);
    }
    if let Some(note) = &d.note {
        for part in fold(&sanitize(note), w) {
            all.push(vec![(ThemeToken::Warning, part)]);
        }
    }
    all.push(Vec::new());
    let k = |a| Modal::Sign.keys(a, false);
    // The focused button is drawn as a selection; Cancel has it until ←/→ moves it.
    let button = |focused: bool| if focused { ThemeToken::Match } else { ThemeToken::HintDesc };
    all.push(vec![
        (button(d.sign_focused), format!(" [ {} Sign ] ", k(Answer::Accept))),
        (ThemeToken::HintDesc, "  ".into()),
        (button(!d.sign_focused), format!(" [ {} Cancel ] ", Modal::Sign.keys(Answer::Cancel, true))),
        (ThemeToken::HintDesc, " Enter presses the focused one".into()),
    ]);
    all.push(vec![
        (ThemeToken::HintKey, format!(" {} ", k(Answer::ScrollDown))),
        (ThemeToken::HintDesc, " next key   ".into()),
        (ThemeToken::HintKey, format!(" {} ", k(Answer::Switch))),
        (ThemeToken::HintDesc, " JWS / COSE   ".into()),
        (ThemeToken::HintKey, format!(" {} ", k(Answer::Focus))),
        (ThemeToken::HintDesc, " focus".into()),
    ]);
    let height = (all.len() as u16 + 2).min(area.height);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    let block = panel(&app.look.theme, "Sign this manifest? · Cancel unless you say yes".into(), true, popup.width);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let shown: Vec<Line<'_>> =
        all.into_iter().take(usize::from(inner.height)).map(|l| line(&app.look.theme, l)).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
