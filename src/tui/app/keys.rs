//! Keys: the modes decide what a key means; in the tree the keymap turns it into an
//! [`Action`], and `act` sends each action to the feature that owns it.

use super::super::prompt::Histories;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::keymap::{Action, Answer, Focus, Key, Modal};
use super::super::prompt::{Edit, Prompt};
use super::{App, Effect, Mode};

/// The line editors: the `/` filter (its text is the filter query while typing), the help
/// search and whether it is being typed, and what was typed before.
#[derive(Default)]
pub struct Prompts {
    pub filter: Prompt,
    pub help_search: Prompt,
    pub help_typing: bool,
    pub(super) histories: Histories,
}

impl App {
    pub(super) fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // In the tree Ctrl-C quits at once, even with unwritten what-if edits (the way out that
        // always works); in a dialog, prompt or overlay it cancels (the modal tables say so).
        let ctrl_c = key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl_c && self.mode == Mode::Normal {
            self.quit = true;
            return vec![Effect::Quit];
        }
        match self.mode.clone() {
            Mode::Help { scroll } => {
                self.on_help_key(key, scroll);
                Vec::new()
            }
            Mode::Messages { back } => {
                self.on_messages_key(key, back);
                Vec::new()
            }
            Mode::Filter => self.on_filter_key(key),
            Mode::Command(line) => self.on_command_key(key, line),
            Mode::Confirm { path, json, diff, scroll } => self.on_confirm_key(key, path, json, diff, scroll),
            Mode::Sign(dialog) => self.on_sign_key(key, dialog),
            Mode::Normal => {
                self.notices.status = None;
                match self.look.keymap.lookup(Key::from_event(&key), self.focus) {
                    Some(action) => self.act(action),
                    None => Vec::new(),
                }
            }
        }
    }

    pub(super) fn on_help_key(&mut self, key: KeyEvent, scroll: usize) {
        if self.prompts.help_typing {
            match self.prompts.help_search.key(&key) {
                Edit::Cancel => {
                    self.prompts.help_typing = false;
                    self.prompts.help_search = Prompt::default();
                }
                Edit::Submit | Edit::Leave => self.prompts.help_typing = false,
                Edit::Changed => self.mode = Mode::Help { scroll: 0 },
                _ => {}
            }
            return;
        }
        if key.code == KeyCode::Char('/') {
            self.prompts.help_typing = true;
            return;
        }
        let closes = Modal::Overlay.answer(Key::from_event(&key)) == Some(Answer::Cancel);
        if closes && !self.prompts.help_search.is_empty() {
            self.prompts.help_search = Prompt::default();
            self.mode = Mode::Help { scroll: 0 };
            return;
        }
        let max =
            super::super::present::help::lines(self).len().saturating_sub(usize::from(self.areas().help_text.height));
        let scroll = scroll.min(max);
        let action = self.look.keymap.lookup(Key::from_event(&key), self.focus);
        self.mode = match (closes, action) {
            (true, _) | (_, Some(Action::Help | Action::Quit)) => Mode::Normal,
            (_, Some(Action::Bottom)) => Mode::Help { scroll: max },
            (_, Some(Action::Down)) => Mode::Help { scroll: (scroll + 1).min(max) },
            (_, Some(Action::Up)) => Mode::Help { scroll: scroll.saturating_sub(1) },
            (_, Some(Action::PageDown)) => Mode::Help { scroll: (scroll + 10).min(max) },
            (_, Some(Action::PageUp)) => Mode::Help { scroll: scroll.saturating_sub(10) },
            (_, Some(Action::Top)) => Mode::Help { scroll: 0 },
            _ => Mode::Help { scroll },
        };
    }

    pub(super) fn on_messages_key(&mut self, key: KeyEvent, back: usize) {
        let last = self.notices.messages.len().saturating_sub(1);
        let action = self.look.keymap.lookup(Key::from_event(&key), self.focus);
        let closes = Modal::Overlay.answer(Key::from_event(&key)) == Some(Answer::Cancel);
        self.mode = match (closes, action) {
            (true, _) | (_, Some(Action::Messages | Action::Quit | Action::Help)) => Mode::Normal,
            (_, Some(Action::Up)) => Mode::Messages { back: (back + 1).min(last) },
            (_, Some(Action::Down)) => Mode::Messages { back: back.saturating_sub(1) },
            (_, Some(Action::PageUp)) => Mode::Messages { back: (back + 10).min(last) },
            (_, Some(Action::PageDown)) => Mode::Messages { back: back.saturating_sub(10) },
            (_, Some(Action::Top)) => Mode::Messages { back: last },
            (_, Some(Action::Bottom)) => Mode::Messages { back: 0 },
            _ => Mode::Messages { back },
        };
    }

    pub(super) fn on_filter_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        // ↑/↓ move through the tree while filtering (the matches are what one looks at);
        // history is Ctrl-P / Ctrl-N here.
        match key.code {
            KeyCode::Down => return self.move_cursor(self.tree.cursor + 1),
            KeyCode::Up => return self.move_cursor(self.tree.cursor.saturating_sub(1)),
            _ => {}
        }
        match self.prompts.filter.key(&key) {
            Edit::Cancel => {
                self.mode = Mode::Normal;
                self.prompts.histories.filters.reset();
                self.clear_filter()
            }
            Edit::Submit | Edit::Leave => {
                self.mode = Mode::Normal;
                let query = self.tree.filter.query.clone();
                self.remember(false, &query)
            }
            Edit::Changed => self.filter_from_input(),
            Edit::Older | Edit::Newer => {
                let current = self.prompts.filter.text().to_string();
                let h = &mut self.prompts.histories.filters;
                let line = if matches!(key.code, KeyCode::Char('p')) { h.older(&current) } else { h.newer() };
                match line.map(str::to_string) {
                    Some(line) => {
                        self.prompts.filter.set(&line);
                        self.filter_from_input()
                    }
                    None => Vec::new(),
                }
            }
            Edit::Moved | Edit::Complete | Edit::Other => Vec::new(),
        }
    }

    pub(super) fn on_command_key(&mut self, key: KeyEvent, mut line: Prompt) -> Vec<Effect> {
        match line.key(&key) {
            Edit::Cancel | Edit::Leave => {
                self.mode = Mode::Normal;
                self.prompts.histories.commands.reset();
                Vec::new()
            }
            Edit::Submit => {
                self.mode = Mode::Normal;
                let text = line.text().trim().to_string();
                let mut effects = self.remember(true, &text);
                effects.extend(self.run_command(&text));
                effects
            }
            Edit::Older | Edit::Newer => {
                let h = &mut self.prompts.histories.commands;
                let entry =
                    if matches!(key.code, KeyCode::Up | KeyCode::Char('p')) { h.older(line.text()) } else { h.newer() };
                if let Some(entry) = entry.map(str::to_string) {
                    line.set(&entry);
                }
                self.mode = Mode::Command(line);
                Vec::new()
            }
            Edit::Complete => {
                self.complete_command(&mut line);
                self.mode = Mode::Command(line);
                Vec::new()
            }
            Edit::Changed | Edit::Moved | Edit::Other => {
                self.mode = Mode::Command(line);
                Vec::new()
            }
        }
    }

    /// Keeps a submitted line in its history and saves the histories (off the UI thread).
    pub(super) fn remember(&mut self, command: bool, line: &str) -> Vec<Effect> {
        let h = if command { &mut self.prompts.histories.commands } else { &mut self.prompts.histories.filters };
        h.push(line);
        match &self.prompts.histories.path {
            Some(path) if !line.trim().is_empty() => {
                vec![Effect::SaveHistory { path: path.clone(), text: self.prompts.histories.to_text() }]
            }
            _ => Vec::new(),
        }
    }

    /// Sends an action to the feature that owns it.
    pub(super) fn act(&mut self, action: Action) -> Vec<Effect> {
        use Action::*;
        let armed = std::mem::take(&mut self.quit_armed);
        match action {
            Quit => self.quit_unless_unwritten(armed),
            Down | Up | PageDown | PageUp | Top | Bottom => self.navigate(action),
            Expand | Collapse | ExpandAll | CollapseAll | Toggle => self.act_on_tree(action),
            Refresh => self.selected().map(|id| self.act_refresh(id)).unwrap_or_default(),
            RefreshAll => self.refresh_all(),
            Filter | ClearFilter | NextMatch | PrevMatch => self.act_on_filter(action),
            VerifyPanel | WhatIfLevel | WhatIfStore | WhatIfIdentity | WhatIfReset | WritePolicy => {
                self.act_on_verification(action)
            }
            Back => self.go_back(),
            Forward => self.go_forward(),
            Help | Messages | Command | FocusNext | FocusPrev | Zoom | ToggleMouse | Suspend => {
                self.act_on_screen(action)
            }
            Sign => self.open_sign_dialog(),
            CopyDigest => self.copy(false),
            CopyReference => self.copy(true),
        }
    }

    /// Overlays, prompts, panels and the terminal.
    fn act_on_screen(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Help => {
                self.prompts.help_search = Prompt::default();
                self.prompts.help_typing = false;
                self.mode = Mode::Help { scroll: 0 };
            }
            Action::Messages => return self.open_messages(),
            Action::Command => self.mode = Mode::Command(Prompt::default()),
            Action::FocusNext | Action::FocusPrev => {
                self.focus = if self.focus == Focus::Tree { Focus::Details } else { Focus::Tree };
            }
            Action::Zoom => self.zoom = !self.zoom,
            Action::ToggleMouse => {
                self.look.mouse = !self.look.mouse;
                self.show_toast(if self.look.mouse {
                    "Mouse on".into()
                } else {
                    "Mouse off: the terminal's own text selection works".into()
                });
                return vec![Effect::SetMouse(self.look.mouse)];
            }
            Action::Suspend => return vec![Effect::Suspend],
            _ => {}
        }
        Vec::new()
    }
}
