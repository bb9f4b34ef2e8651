//! The verification panel (beside details, `v` switches) and the write-back confirmation,
//! drawn from the lines `present::verification` builds.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Clear, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::sanitize::{clip, sanitize};

use super::super::app::{App, Mode};
use super::super::details_doc::fold;
use super::super::keymap::{Action, Focus};
use super::super::label::Spans;
use super::super::present::verification::{first_key, lines};
use super::super::theme::ThemeToken;
use super::{line, panel};

/// The panel at `area`, its text at `inner` (inside the border, as the layout gives it).
pub fn draw(app: &App, frame: &mut Frame, area: Rect, inner: Rect) {
    let focused = app.focus == Focus::Details && app.mode == Mode::Normal;
    let mut title = "Verification · v: details".to_string();
    if app.vs.what_if.is_active() {
        title.push_str(" · ◆ WHAT-IF");
    }
    let Some(id) = app.selected() else {
        frame.render_widget(panel(&app.look.theme, title, focused, area.width), area);
        return;
    };
    let all = lines(app, id, usize::from(inner.width));
    let height = usize::from(inner.height);
    let scroll = app.details.scroll.min(all.len().saturating_sub(height));
    if all.len() > height {
        title.push_str(&format!(" · {}-{}/{}", scroll + 1, (scroll + height).min(all.len()), all.len()));
    }
    let key = |a: Action| first_key(app, a).unwrap_or_default();
    // Under --read-only the write key does not exist, so it is not offered.
    let write = first_key(app, Action::WritePolicy).map(|k| format!(" · {k} write")).unwrap_or_default();
    let keys = format!(
        " what-if: {} level · {} store · {} identity · {} reset{write} ",
        key(Action::WhatIfLevel),
        key(Action::WhatIfStore),
        key(Action::WhatIfIdentity),
        key(Action::WhatIfReset),
    );
    let short = format!(
        " what-if {}/{}/{} · {} reset{write} ",
        key(Action::WhatIfLevel),
        key(Action::WhatIfStore),
        key(Action::WhatIfIdentity),
        key(Action::WhatIfReset),
    );
    let mut block = panel(&app.look.theme, title, focused, area.width);
    let room = usize::from(area.width).saturating_sub(2);
    if let Some(k) = [keys, short].into_iter().find(|k| k.width() <= room) {
        block = block.title_bottom(ratatui::text::Span::styled(k, app.look.theme.style(ThemeToken::HintDesc)));
    }
    frame.render_widget(block, area);
    let shown: Vec<Line<'_>> =
        all.into_iter().skip(scroll).take(usize::from(inner.height)).map(|l| line(&app.look.theme, l)).collect();
    frame.render_widget(Paragraph::new(shown), inner);
}

/// The write-back confirmation: the diff of the file and the what-if policy; `y` writes.
pub fn draw_confirm(app: &App, frame: &mut Frame, area: Rect) {
    let Mode::Confirm { path, diff, scroll, .. } = &app.mode else { return };
    let width = area.width.saturating_sub(4).min(100);
    let height = area.height.saturating_sub(2);
    let popup = Rect { x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width, height };
    frame.render_widget(Clear, popup);
    let block =
        panel(&app.look.theme, "Write the trust policy? · y writes · any other key cancels".into(), true, popup.width);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let w = usize::from(inner.width);
    let mut all: Vec<Spans> = Vec::new();
    for p in fold(&format!("{} will be replaced (atomically) by:", sanitize(&path.display().to_string())), w) {
        all.push(vec![(ThemeToken::Text, p)]);
    }
    all.push(vec![(ThemeToken::Muted, "- removed  + added".into())]);
    for (mark, text) in diff {
        let token = match mark {
            '+' => ThemeToken::Verified,
            '-' => ThemeToken::Failed,
            _ => ThemeToken::Muted,
        };
        all.push(vec![(token, clip(&format!("{mark} {}", sanitize(text)), w).into_owned())]);
    }
    let shown: Vec<Line<'_>> = all
        .into_iter()
        .skip((*scroll).min(diff.len()))
        .take(usize::from(inner.height))
        .map(|l| line(&app.look.theme, l))
        .collect();
    frame.render_widget(Paragraph::new(shown), inner);
}
