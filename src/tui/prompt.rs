//! The one-line editors of the `:` and `/` prompts: a cursor, the readline keys people's hands
//! already know (Ctrl-A/E/W/U/K, arrows, Home/End, Delete), history, and Tab completion.

use std::ops::Deref;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::keymap::{Answer, Key, Modal};

/// Entries kept per prompt.
pub const HISTORY_LEN: usize = 200;

/// Text being typed and where the cursor is (a byte offset on a character boundary).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Prompt {
    text: String,
    cursor: usize,
    /// Tab pressed on this text: the prefix typed and the candidate shown last.
    completing: Option<(String, usize)>,
}

/// What a key did to a prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text changed.
    Changed,
    /// Only the cursor moved.
    Moved,
    Submit,
    Cancel,
    /// Backspace on an empty line: leave the prompt.
    Leave,
    Older,
    Newer,
    Complete,
    /// Not a prompt key.
    Other,
}

impl Deref for Prompt {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text
    }
}

impl Prompt {
    pub fn new(text: &str) -> Prompt {
        Prompt { text: text.to_string(), cursor: text.len(), completing: None }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text before and after the cursor, for drawing it.
    pub fn split(&self) -> (&str, &str) {
        self.text.split_at(self.cursor)
    }

    pub fn set(&mut self, text: &str) {
        *self = Prompt::new(text);
    }

    /// Inserts `text` at the cursor (a paste), the cursor after it.
    pub fn insert(&mut self, text: &str) {
        self.text.insert_str(self.cursor, text);
        self.cursor += text.len();
        self.completing = None;
    }

    fn prev_boundary(&self, from: usize) -> usize {
        self.text[..from].char_indices().next_back().map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, from: usize) -> usize {
        self.text[from..].chars().next().map_or(from, |c| from + c.len_utf8())
    }

    /// Start of the word before the cursor (spaces, then non-spaces), as Ctrl-W in a shell.
    fn word_start(&self) -> usize {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end_matches(' ');
        trimmed.rfind(' ').map_or(0, |i| i + 1)
    }

    /// Applies a key. Keys that are not editing keys change nothing and say [`Edit::Other`].
    pub fn key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let answer = Modal::Prompt.answer(Key::from_event(key));
        let edit = match key.code {
            _ if answer == Some(Answer::Cancel) => Edit::Cancel,
            _ if answer == Some(Answer::Accept) => Edit::Submit,
            KeyCode::Tab => Edit::Complete,
            KeyCode::Up => Edit::Older,
            KeyCode::Down => Edit::Newer,
            KeyCode::Char('p') if ctrl => Edit::Older,
            KeyCode::Char('n') if ctrl => Edit::Newer,
            KeyCode::Left | KeyCode::Char('b') if key.code == KeyCode::Left || ctrl => {
                self.cursor = self.prev_boundary(self.cursor);
                Edit::Moved
            }
            KeyCode::Right | KeyCode::Char('f') if key.code == KeyCode::Right || ctrl => {
                self.cursor = self.next_boundary(self.cursor);
                Edit::Moved
            }
            KeyCode::Home => self.move_to(0),
            KeyCode::End => self.move_to(self.text.len()),
            KeyCode::Char('a') if ctrl => self.move_to(0),
            KeyCode::Char('e') if ctrl => self.move_to(self.text.len()),
            KeyCode::Backspace if self.text.is_empty() => Edit::Leave,
            KeyCode::Backspace if ctrl => self.cut(self.word_start(), self.cursor),
            KeyCode::Backspace => self.cut(self.prev_boundary(self.cursor), self.cursor),
            KeyCode::Char('h') if ctrl => self.cut(self.prev_boundary(self.cursor), self.cursor),
            KeyCode::Delete => self.cut(self.cursor, self.next_boundary(self.cursor)),
            KeyCode::Char('d') if ctrl => self.cut(self.cursor, self.next_boundary(self.cursor)),
            KeyCode::Char('w') if ctrl => self.cut(self.word_start(), self.cursor),
            KeyCode::Char('u') if ctrl => self.cut(0, self.cursor),
            KeyCode::Char('k') if ctrl => self.cut(self.cursor, self.text.len()),
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                self.text.insert(self.cursor, c);
                self.cursor += c.len_utf8();
                Edit::Changed
            }
            _ => Edit::Other,
        };
        if edit != Edit::Complete {
            self.completing = None;
        }
        edit
    }

    fn move_to(&mut self, at: usize) -> Edit {
        self.cursor = at;
        Edit::Moved
    }

    fn cut(&mut self, from: usize, to: usize) -> Edit {
        if from >= to {
            return Edit::Moved;
        }
        self.text.replace_range(from..to, "");
        self.cursor = from;
        Edit::Changed
    }

    /// Tab: the next of `candidates` that starts with what was typed before the first Tab,
    /// cycling; with one candidate it is filled in and a space follows. `false` if none fits.
    pub fn complete(&mut self, typed_prefix_len: usize, candidates: &[String]) -> bool {
        let (stem, start) = match &self.completing {
            Some((stem, i)) => (stem.clone(), i + 1),
            None => (self.text[typed_prefix_len..].to_string(), 0),
        };
        let fitting: Vec<&String> = candidates.iter().filter(|c| c.starts_with(&stem)).collect();
        if fitting.is_empty() {
            return false;
        }
        let i = start % fitting.len();
        let mut text = format!("{}{}", &self.text[..typed_prefix_len], fitting[i]);
        if fitting.len() == 1 {
            text.push(' ');
        }
        self.text = text;
        self.cursor = self.text.len();
        self.completing = (fitting.len() > 1).then_some((stem, i));
        true
    }
}

/// Lines typed at one prompt, oldest first, and where ↑/↓ are in them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    pub entries: Vec<String>,
    /// Index being shown while walking with ↑/↓; `None`: the line being typed.
    at: Option<usize>,
    /// What was typed before walking started, given back after the newest entry.
    draft: String,
}

impl History {
    pub fn new(entries: Vec<String>) -> History {
        History { entries, at: None, draft: String::new() }
    }

    /// Remembers a submitted line (not twice in a row, never empty).
    pub fn push(&mut self, line: &str) {
        self.at = None;
        let line = line.trim();
        if line.is_empty() || self.entries.last().is_some_and(|l| l == line) {
            return;
        }
        self.entries.push(line.to_string());
        if self.entries.len() > HISTORY_LEN {
            self.entries.remove(0);
        }
    }

    /// The stop walking: the next ↑ starts from the newest again.
    pub fn reset(&mut self) {
        self.at = None;
    }

    /// ↑: the entry before the one shown, `None` at the oldest.
    pub fn older(&mut self, current: &str) -> Option<&str> {
        let next = match self.at {
            None if self.entries.is_empty() => return None,
            None => {
                self.draft = current.to_string();
                self.entries.len() - 1
            }
            Some(0) => return None,
            Some(i) => i - 1,
        };
        self.at = Some(next);
        Some(&self.entries[next])
    }

    /// ↓: the entry after the one shown, then the draft.
    pub fn newer(&mut self) -> Option<&str> {
        match self.at {
            None => None,
            Some(i) if i + 1 < self.entries.len() => {
                self.at = Some(i + 1);
                Some(&self.entries[i + 1])
            }
            Some(_) => {
                self.at = None;
                Some(&self.draft)
            }
        }
    }
}

/// Both prompts' histories, as saved in the history file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histories {
    pub commands: History,
    pub filters: History,
    /// Where they are saved; `None` keeps them for the run only.
    pub path: Option<PathBuf>,
}

/// Largest history file read.
const MAX_HISTORY_BYTES: u64 = 256 * 1024;

impl Histories {
    /// `$XDG_DATA_HOME/sigscope/history` (or the platform's data directory).
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "sigscope").map(|p| p.data_dir().join("history"))
    }

    /// Reads the file (`:` lines and `/` lines); a missing or unreadable file is an empty history.
    pub fn load(path: Option<PathBuf>) -> Histories {
        let mut h = Histories { path: path.clone(), ..Histories::default() };
        let Some(path) = path else { return h };
        let Ok(bytes) = crate::fsread::read(&path, MAX_HISTORY_BYTES, crate::fsread::Symlinks::Follow) else {
            return h;
        };
        for line in String::from_utf8_lossy(&bytes).lines() {
            if let Some(cmd) = line.strip_prefix(':') {
                h.commands.push(cmd);
            } else if let Some(f) = line.strip_prefix('/') {
                h.filters.push(f);
            }
        }
        h.commands.reset();
        h.filters.reset();
        h
    }

    /// The file's contents.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for c in &self.commands.entries {
            out.push_str(&format!(":{}\n", one_line(c)));
        }
        for f in &self.filters.entries {
            out.push_str(&format!("/{}\n", one_line(f)));
        }
        out
    }
}

fn one_line(s: &str) -> String {
    s.replace(['\n', '\r'], " ")
}

/// Writes the history file atomically, creating its directory.
pub fn save(path: &Path, text: &str) -> std::io::Result<()> {
    use crate::fswrite::WriteOptions;
    crate::fswrite::write_atomic(path, text.as_bytes(), WriteOptions { sync: true, keep_permissions: true })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    fn typed(s: &str) -> Prompt {
        let mut p = Prompt::default();
        for c in s.chars() {
            p.key(&key(KeyCode::Char(c)));
        }
        p
    }

    #[test]
    fn readline_keys_edit_at_the_cursor() {
        let mut p = typed("open reg/app");
        p.key(&key(KeyCode::Left));
        p.key(&key(KeyCode::Left));
        p.key(&key(KeyCode::Left));
        p.key(&key(KeyCode::Char('X')));
        assert_eq!(p.split(), ("open reg/X", "app"));
        p.key(&ctrl('w'));
        assert_eq!(p.split(), ("open ", "app"));
        p.key(&key(KeyCode::End));
        p.key(&key(KeyCode::Backspace));
        assert_eq!(p.text(), "open ap");
        p.key(&ctrl('a'));
        p.key(&key(KeyCode::Delete));
        assert_eq!(p.split(), ("", "pen ap"));
        p.key(&ctrl('e'));
        p.key(&ctrl('u'));
        assert_eq!(p.text(), "");
        assert_eq!(p.key(&key(KeyCode::Backspace)), Edit::Leave);
    }

    #[test]
    fn multibyte_characters_are_edited_whole() {
        let mut p = typed("tag é✓");
        p.key(&key(KeyCode::Left));
        p.key(&key(KeyCode::Backspace));
        assert_eq!(p.split(), ("tag ", "✓"));
        p.key(&key(KeyCode::Right));
        p.key(&key(KeyCode::Right));
        assert_eq!(p.split(), ("tag ✓", ""));
    }

    #[test]
    fn tab_cycles_the_fitting_candidates() {
        let names: Vec<String> = ["dark", "light", "mono", "high-contrast"].iter().map(|s| s.to_string()).collect();
        let mut p = typed("theme ");
        assert!(p.complete(6, &names));
        assert_eq!(p.text(), "theme dark");
        assert!(p.complete(6, &names));
        assert_eq!(p.text(), "theme light");
        let mut p = typed("theme m");
        assert!(p.complete(6, &names));
        assert_eq!(p.text(), "theme mono ");
        let mut p = typed("theme z");
        assert!(!p.complete(6, &names));
        assert_eq!(p.text(), "theme z");
    }

    #[test]
    fn history_walks_back_and_returns_the_draft() {
        let mut h = History::new(Vec::new());
        h.push("open a");
        h.push("open a");
        h.push("theme mono");
        assert_eq!(h.entries, ["open a", "theme mono"]);
        assert_eq!(h.older("dra"), Some("theme mono"));
        assert_eq!(h.older(""), Some("open a"));
        assert_eq!(h.older(""), None);
        assert_eq!(h.newer(), Some("theme mono"));
        assert_eq!(h.newer(), Some("dra"));
        assert_eq!(h.newer(), None);
    }

    #[test]
    fn history_file_round_trips_and_keeps_lines_single() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/history");
        let mut h = Histories::load(Some(path.clone()));
        h.commands.push("open x\ny");
        h.filters.push("failed");
        save(&path, &h.to_text()).unwrap();
        let back = Histories::load(Some(path));
        assert_eq!(back.commands.entries, ["open x y"]);
        assert_eq!(back.filters.entries, ["failed"]);
    }
}
