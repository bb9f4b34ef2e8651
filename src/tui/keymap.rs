//! The keymap: one table of actions (keys, description, context) that drives key handling, the
//! status-bar hints and the help overlay alike, so the three cannot drift apart.

use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Quit,
    Help,
    FocusNext,
    FocusPrev,
    Filter,
    ClearFilter,
    Command,
    NextMatch,
    PrevMatch,
    ToggleMouse,
    CopyDigest,
    CopyReference,
    Refresh,
    RefreshAll,
    Messages,
    Zoom,
    Suspend,
    Down,
    Up,
    PageDown,
    PageUp,
    Top,
    Bottom,
    Expand,
    Collapse,
    ExpandAll,
    CollapseAll,
    Back,
    Forward,
    Toggle,
    VerifyPanel,
    WhatIfLevel,
    WhatIfStore,
    WhatIfIdentity,
    WhatIfReset,
    WritePolicy,
    Sign,
}

impl Action {
    /// Actions that change something outside sigscope (a file, later a registry): refused and
    /// unbound under `--read-only`.
    pub fn mutates(self) -> bool {
        matches!(self, Action::WritePolicy | Action::Sign)
    }
}

/// What a key means while a dialog, a prompt or an overlay has the keyboard. These keys are
/// fixed (a remapped `y` or `Esc` must still answer a dialog) and, like [`SPECS`], one table
/// drives the handling, the status-bar hints and the help overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modal {
    /// A yes/no question with something to read (the policy diff): anything but yes cancels.
    Confirm,
    /// The `/` and `:` prompts.
    Prompt,
    /// Help and the message log.
    Overlay,
    /// The sign dialog: its two buttons, Cancel focused; Enter presses the focused one, yes
    /// signs, every other key cancels.
    Sign,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Cancel,
    ScrollDown,
    ScrollUp,
    /// Switch an option of the dialog (the envelope format).
    Switch,
    /// Move the focus between the dialog's buttons.
    Focus,
    /// Press the focused button.
    Press,
}

struct ModalSpec {
    modal: Modal,
    answer: Answer,
    keys: &'static [&'static str],
    desc: &'static str,
}

#[rustfmt::skip]
const MODAL_SPECS: &[ModalSpec] = &[
    ModalSpec { modal: Modal::Confirm, answer: Answer::Accept, keys: &["y"], desc: "yes: do it" },
    ModalSpec { modal: Modal::Confirm, answer: Answer::ScrollDown, keys: &["j", "Down"], desc: "scroll down" },
    ModalSpec { modal: Modal::Confirm, answer: Answer::ScrollUp, keys: &["k", "Up"], desc: "scroll up" },
    ModalSpec { modal: Modal::Confirm, answer: Answer::Cancel, keys: &["Esc", "n", "Ctrl-c"], desc: "no (so does any other key)" },
    ModalSpec { modal: Modal::Sign, answer: Answer::Accept, keys: &["y"], desc: "yes: sign with the chosen key" },
    ModalSpec { modal: Modal::Sign, answer: Answer::Press, keys: &["Enter"], desc: "press the focused button (Cancel, until the focus moves to Sign)" },
    ModalSpec { modal: Modal::Sign, answer: Answer::Focus, keys: &["Left", "Right", "h", "l"], desc: "focus Sign / Cancel" },
    ModalSpec { modal: Modal::Sign, answer: Answer::ScrollDown, keys: &["j", "Down", "Tab"], desc: "next key" },
    ModalSpec { modal: Modal::Sign, answer: Answer::ScrollUp, keys: &["k", "Up"], desc: "previous key" },
    ModalSpec { modal: Modal::Sign, answer: Answer::Switch, keys: &["e"], desc: "JWS or COSE envelope" },
    ModalSpec { modal: Modal::Sign, answer: Answer::Cancel, keys: &["Esc", "n", "Ctrl-c"], desc: "cancel (so does any other key)" },
    ModalSpec { modal: Modal::Prompt, answer: Answer::Accept, keys: &["Enter"], desc: "accept / run" },
    ModalSpec { modal: Modal::Prompt, answer: Answer::Cancel, keys: &["Esc", "Ctrl-c"], desc: "cancel (clears the filter)" },
    ModalSpec { modal: Modal::Overlay, answer: Answer::Cancel, keys: &["Esc", "Ctrl-c"], desc: "close (a help search first clears)" },
];

impl Modal {
    pub fn title(self) -> &'static str {
        match self {
            Modal::Confirm => "Questions (write the policy file?)",
            Modal::Prompt => "Prompts (/ and :)",
            Modal::Overlay => "Help and the message log",
            Modal::Sign => "The sign dialog (s)",
        }
    }

    /// What `key` answers here, if anything.
    pub fn answer(self, key: Key) -> Option<Answer> {
        MODAL_SPECS
            .iter()
            .filter(|s| s.modal == self)
            .find(|s| s.keys.iter().any(|k| Key::parse(k).is_ok_and(|k| k == key)))
            .map(|s| s.answer)
    }

    /// The keys of an answer as shown: `Esc/n/Ctrl-c`; `first` gives only the first.
    pub fn keys(self, answer: Answer, first: bool) -> String {
        let keys = MODAL_SPECS.iter().filter(|s| s.modal == self && s.answer == answer).flat_map(|s| s.keys.iter());
        let shown: Vec<String> = keys.map(|k| Key::parse(k).map(|k| k.to_string()).unwrap_or_default()).collect();
        if first { shown.into_iter().next().unwrap_or_default() } else { shown.join("/") }
    }

    /// Every answer of this modal with its keys, for help.
    pub fn rows(self) -> Vec<(String, &'static str)> {
        MODAL_SPECS.iter().filter(|s| s.modal == self).map(|s| (self.keys(s.answer, false), s.desc)).collect()
    }
}

/// Where an action applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    /// Both panels: movement means "move the selection" in the tree and "scroll" in details.
    Panels,
    Tree,
    Details,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::Panels => "Tree and details",
            Context::Tree => "Tree",
            Context::Details => "Details",
        }
    }

    fn applies_to(self, focus: Focus) -> bool {
        match self {
            Context::Global | Context::Panels => true,
            Context::Tree => focus == Focus::Tree,
            Context::Details => focus == Focus::Details,
        }
    }
}

/// The panel that has the keyboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Tree,
    Details,
}

struct Spec {
    action: Action,
    /// Name in `[keys]` of config.toml.
    name: &'static str,
    desc: &'static str,
    context: Context,
    /// Remappable defaults; the first is the one shown in hints.
    keys: &'static [&'static str],
    /// Always bound whatever the config says: arrows and friends must keep working.
    fixed: &'static [&'static str],
    /// Short label in the status bar, if the action earns a place there.
    hint: Option<&'static str>,
}

#[rustfmt::skip]
const SPECS: &[Spec] = &[
    Spec { action: Action::Down, name: "down", desc: "Move down / scroll down", context: Context::Panels, keys: &["j"], fixed: &["Down"], hint: None },
    Spec { action: Action::Up, name: "up", desc: "Move up / scroll up", context: Context::Panels, keys: &["k"], fixed: &["Up"], hint: None },
    Spec { action: Action::PageDown, name: "page_down", desc: "Page down", context: Context::Panels, keys: &["Ctrl-d"], fixed: &["PageDown"], hint: None },
    Spec { action: Action::PageUp, name: "page_up", desc: "Page up", context: Context::Panels, keys: &["Ctrl-u"], fixed: &["PageUp"], hint: None },
    Spec { action: Action::Top, name: "top", desc: "Go to the top", context: Context::Panels, keys: &["g"], fixed: &["Home"], hint: Some("top") },
    Spec { action: Action::Bottom, name: "bottom", desc: "Go to the bottom", context: Context::Panels, keys: &["G"], fixed: &["End"], hint: Some("bottom") },
    Spec { action: Action::Expand, name: "expand", desc: "Expand node (load its referrers)", context: Context::Tree, keys: &["l", "Enter"], fixed: &["Right"], hint: Some("expand") },
    Spec { action: Action::Collapse, name: "collapse", desc: "Collapse node, or go to its parent", context: Context::Tree, keys: &["h"], fixed: &["Left"], hint: Some("collapse") },
    Spec { action: Action::ExpandAll, name: "expand_all", desc: "Expand everything below the node (loads up to 500 nodes)", context: Context::Tree, keys: &["E"], fixed: &[], hint: None },
    Spec { action: Action::CollapseAll, name: "collapse_all", desc: "Collapse the node and everything below it", context: Context::Tree, keys: &["C"], fixed: &[], hint: None },
    Spec { action: Action::Back, name: "back", desc: "Back to the target opened before (:open)", context: Context::Global, keys: &["["], fixed: &["Backspace"], hint: None },
    Spec { action: Action::Forward, name: "forward", desc: "Forward again", context: Context::Global, keys: &["]"], fixed: &[], hint: None },
    Spec { action: Action::Toggle, name: "toggle", desc: "Toggle node open/closed", context: Context::Tree, keys: &["Space"], fixed: &[], hint: None },
    Spec { action: Action::Refresh, name: "refresh", desc: "Reload the selected node and all below it", context: Context::Tree, keys: &["r"], fixed: &[], hint: Some("refresh") },
    Spec { action: Action::RefreshAll, name: "refresh_all", desc: "Reload the whole tree", context: Context::Global, keys: &["R"], fixed: &[], hint: None },
    Spec { action: Action::Zoom, name: "zoom", desc: "Zoom the focused panel / back", context: Context::Global, keys: &["z"], fixed: &[], hint: None },
    Spec { action: Action::Messages, name: "messages", desc: "Message log (every status message, in full)", context: Context::Global, keys: &["M"], fixed: &[], hint: None },
    Spec { action: Action::VerifyPanel, name: "verification", desc: "Verification panel / details panel", context: Context::Global, keys: &["v"], fixed: &[], hint: Some("verify") },
    Spec { action: Action::WhatIfLevel, name: "what_if_level", desc: "What-if: cycle the statement's level", context: Context::Global, keys: &["L"], fixed: &[], hint: None },
    Spec { action: Action::WhatIfStore, name: "what_if_store", desc: "What-if: cycle the statement's trust store", context: Context::Global, keys: &["T"], fixed: &[], hint: None },
    Spec { action: Action::WhatIfIdentity, name: "what_if_identity", desc: "What-if: identity * or the signer's subject", context: Context::Global, keys: &["I"], fixed: &[], hint: None },
    Spec { action: Action::WhatIfReset, name: "what_if_reset", desc: "What-if: reset to the policy file", context: Context::Global, keys: &["X"], fixed: &[], hint: None },
    Spec { action: Action::WritePolicy, name: "write_policy", desc: "Write the what-if policy (diff, then confirm)", context: Context::Global, keys: &["W"], fixed: &[], hint: None },
    Spec { action: Action::Sign, name: "sign", desc: "Sign the selected image or index (asks first)", context: Context::Tree, keys: &["s"], fixed: &[], hint: Some("sign") },
    Spec { action: Action::CopyDigest, name: "copy_digest", desc: "Copy the digest (OSC 52)", context: Context::Global, keys: &["y"], fixed: &[], hint: Some("copy") },
    Spec { action: Action::CopyReference, name: "copy_reference", desc: "Copy host/repo@digest (OSC 52)", context: Context::Global, keys: &["Y"], fixed: &[], hint: None },
    Spec { action: Action::Filter, name: "filter", desc: "Filter the tree (smart-case)", context: Context::Global, keys: &["/"], fixed: &[], hint: Some("filter") },
    Spec { action: Action::ClearFilter, name: "clear_filter", desc: "Clear the filter", context: Context::Global, keys: &[], fixed: &["Esc"], hint: None },
    Spec { action: Action::NextMatch, name: "next_match", desc: "Next filter match", context: Context::Global, keys: &["n"], fixed: &[], hint: None },
    Spec { action: Action::PrevMatch, name: "prev_match", desc: "Previous filter match", context: Context::Global, keys: &["N"], fixed: &[], hint: None },
    Spec { action: Action::FocusNext, name: "focus_next", desc: "Next panel", context: Context::Global, keys: &["Tab"], fixed: &[], hint: Some("panel") },
    Spec { action: Action::FocusPrev, name: "focus_prev", desc: "Previous panel", context: Context::Global, keys: &["BackTab"], fixed: &[], hint: None },
    Spec { action: Action::Command, name: "command", desc: "Command line (:open, :theme, :quit)", context: Context::Global, keys: &[":"], fixed: &[], hint: Some("cmd") },
    Spec { action: Action::ToggleMouse, name: "toggle_mouse", desc: "Mouse capture on/off", context: Context::Global, keys: &["m"], fixed: &[], hint: None },
    Spec { action: Action::Suspend, name: "suspend", desc: "Suspend to the shell (fg resumes)", context: Context::Global, keys: &["Ctrl-z"], fixed: &[], hint: None },
    Spec { action: Action::Help, name: "help", desc: "Help", context: Context::Global, keys: &["?"], fixed: &["F1"], hint: Some("help") },
    Spec { action: Action::Quit, name: "quit", desc: "Quit", context: Context::Global, keys: &["q"], fixed: &["Ctrl-c"], hint: Some("quit") },
];

/// A key with modifiers, normalised so that `G` and `Shift-g` are the same binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        // Terminals report Shift with upper-case letters and BackTab inconsistently; the
        // character itself already says it.
        let mods = match code {
            KeyCode::Char(_) | KeyCode::BackTab => mods - KeyModifiers::SHIFT,
            _ => mods,
        };
        Key { code, mods: mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT) }
    }

    pub fn from_event(ev: &KeyEvent) -> Key {
        Key::new(ev.code, ev.modifiers)
    }

    /// `j`, `G`, `?`, `Enter`, `Space`, `Tab`, `BackTab`, `Up`, `PageDown`, `F1`, `Ctrl-d`,
    /// `<C-d>`, `Alt-x`. Letters are case-sensitive; names are not.
    pub fn parse(s: &str) -> Result<Key, String> {
        let s = s.trim();
        let inner = s.strip_prefix('<').and_then(|t| t.strip_suffix('>')).unwrap_or(s);
        if inner.is_empty() {
            return Err("empty key".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = inner;
        while let Some((prefix, tail)) = rest.split_once(['-', '+']) {
            if tail.is_empty() {
                break; // "-" or "Ctrl--": the dash is the key itself
            }
            match prefix.to_ascii_lowercase().as_str() {
                "c" | "ctrl" | "control" => mods |= KeyModifiers::CONTROL,
                "a" | "m" | "alt" | "meta" => mods |= KeyModifiers::ALT,
                "s" | "shift" => mods |= KeyModifiers::SHIFT,
                _ => break,
            }
            rest = tail;
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" | "cr" => KeyCode::Enter,
                "esc" | "escape" => KeyCode::Esc,
                "tab" if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
                "tab" => KeyCode::Tab,
                "backtab" => KeyCode::BackTab,
                "space" => KeyCode::Char(' '),
                "up" => KeyCode::Up,
                "down" => KeyCode::Down,
                "left" => KeyCode::Left,
                "right" => KeyCode::Right,
                "home" => KeyCode::Home,
                "end" => KeyCode::End,
                "pageup" | "pgup" => KeyCode::PageUp,
                "pagedown" | "pgdn" | "pgdown" => KeyCode::PageDown,
                "backspace" | "bs" => KeyCode::Backspace,
                "delete" | "del" => KeyCode::Delete,
                "insert" | "ins" => KeyCode::Insert,
                f if f.starts_with('f') && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) => {
                    KeyCode::F(f[1..].parse().expect("checked"))
                }
                _ => return Err(format!("{s:?} is not a key (examples: j, G, Enter, Ctrl-d, F1, PageDown)")),
            },
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Insert => f.write_str("Ins"),
            KeyCode::F(n) => write!(f, "F{n}"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One row of the live keymap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    pub name: &'static str,
    pub desc: &'static str,
    pub context: Context,
    pub hint: Option<&'static str>,
    pub keys: Vec<Key>,
    pub fixed: Vec<Key>,
}

impl Binding {
    /// Every key, configured first, as shown in the help overlay: `j/↓`.
    pub fn keys_text(&self) -> String {
        let all: Vec<String> = self.keys.iter().chain(&self.fixed).map(Key::to_string).collect();
        if all.is_empty() { "(unbound)".into() } else { all.join("/") }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    pub bindings: Vec<Binding>,
}

impl Default for Keymap {
    fn default() -> Self {
        let parse = |ks: &[&str]| ks.iter().map(|k| Key::parse(k).expect("built-in key")).collect();
        Keymap {
            bindings: SPECS
                .iter()
                .map(|s| Binding {
                    action: s.action,
                    name: s.name,
                    desc: s.desc,
                    context: s.context,
                    hint: s.hint,
                    keys: parse(s.keys),
                    fixed: parse(s.fixed),
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// Names usable in `[keys]`.
    pub fn action_names() -> impl Iterator<Item = &'static str> {
        SPECS.iter().map(|s| s.name)
    }

    /// Replaces the remappable keys of action `name`. Keys taken by the override are removed from
    /// every other action, so rebinding a key never leaves it doing two things.
    pub fn set(&mut self, name: &str, keys: Vec<Key>) -> Result<(), String> {
        if !self.bindings.iter().any(|b| b.name == name) {
            let known: Vec<&str> = Keymap::action_names().collect();
            return Err(format!("unknown action {name:?} (known: {})", known.join(", ")));
        }
        for b in &mut self.bindings {
            if b.name == name {
                b.keys = keys.clone();
            } else {
                b.keys.retain(|k| !keys.contains(k));
            }
        }
        Ok(())
    }

    /// The action a key triggers with `focus`; panel-specific bindings win over global ones.
    pub fn lookup(&self, key: Key, focus: Focus) -> Option<Action> {
        let bound = |b: &&Binding| b.keys.contains(&key) || b.fixed.contains(&key);
        let specific = self.bindings.iter().filter(|b| matches!(b.context, Context::Tree | Context::Details));
        specific
            .filter(|b| b.context.applies_to(focus))
            .find(bound)
            .or_else(|| {
                self.bindings.iter().filter(|b| matches!(b.context, Context::Global | Context::Panels)).find(bound)
            })
            .map(|b| b.action)
    }

    /// `--read-only`: every mutating action loses its keys, so no key triggers it and neither the
    /// help overlay nor the hints offer it.
    pub fn without_mutations(mut self) -> Keymap {
        self.bindings.retain(|b| !b.action.mutates());
        self
    }

    /// The binding of `action`; an action removed by [`Keymap::without_mutations`] has none.
    pub fn get(&self, action: Action) -> Option<&Binding> {
        self.bindings.iter().find(|b| b.action == action)
    }

    /// The keymap as a Markdown table (docs/keys.md is generated from the defaults).
    pub fn markdown(&self) -> String {
        let mut out = String::from("| where | keys | action | name in `[keys]` |\n|---|---|---|---|\n");
        for b in &self.bindings {
            let keys = b.keys_text().replace('|', "\\|");
            out.push_str(&format!("| {} | `{}` | {} | `{}` |\n", b.context.title(), keys, b.desc, b.name));
        }
        out
    }

    /// Status-bar hints for the focused panel: (first key, label), panel-specific first, help
    /// and quit last.
    pub fn hints(&self, focus: Focus) -> Vec<(String, &'static str)> {
        self.ranked_hints(focus).into_iter().map(|h| (h.key, h.label)).collect()
    }

    /// [`Keymap::hints`] with how long each keeps its place in a narrow bar.
    pub fn ranked_hints(&self, focus: Focus) -> Vec<Hint> {
        let first = |b: &Binding| b.keys.first().or(b.fixed.first()).map(Key::to_string);
        let panel = self.bindings.iter().filter(|b| matches!(b.context, Context::Tree | Context::Details));
        let shared = self.bindings.iter().filter(|b| matches!(b.context, Context::Global | Context::Panels));
        let mut out: Vec<Hint> = panel
            .filter(|b| b.context.applies_to(focus))
            .chain(shared)
            .filter_map(|b| Some(Hint { key: first(b)?, label: b.hint?, keep: hint_keep(b.action) }))
            .collect();
        // Where they always are, at the end: the eye looks there for the way out.
        out.sort_by_key(|h| h.keep >= LAST_HINTS);
        out
    }
}

/// A status-bar hint: the first key, its label, and how long it keeps its place when the bar is
/// too narrow for all (higher stays longer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    pub key: String,
    pub label: &'static str,
    pub keep: u8,
}

/// Hints at or above this rank are help and quit: the way to every other key and the way out.
const LAST_HINTS: u8 = 254;

/// The rank of an action's hint. Help and quit go last; then the keys a first look needs.
fn hint_keep(action: Action) -> u8 {
    match action {
        Action::Help => 255,
        Action::Quit => 254,
        Action::VerifyPanel => 90,
        Action::Filter => 80,
        Action::Expand => 70,
        Action::Refresh => 60,
        Action::FocusNext => 50,
        Action::Command => 40,
        Action::CopyDigest => 30,
        Action::Collapse => 20,
        Action::Top | Action::Bottom => 10,
        _ => 25,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialog_keys_answer_from_the_one_table() {
        let k = |s: &str| Key::parse(s).unwrap();
        assert_eq!(Modal::Confirm.answer(k("y")), Some(Answer::Accept));
        assert_eq!(Modal::Confirm.answer(k("Ctrl-c")), Some(Answer::Cancel));
        assert_eq!(Modal::Confirm.answer(k("Down")), Some(Answer::ScrollDown));
        assert_eq!(Modal::Confirm.answer(k("x")), None, "other keys are the caller's to treat");
        assert_eq!(Modal::Prompt.answer(k("y")), None, "y is text in a prompt");
        assert_eq!(Modal::Prompt.answer(k("Enter")), Some(Answer::Accept));
        assert_eq!(Modal::Confirm.keys(Answer::ScrollDown, false), "j/↓");
        assert_eq!(Modal::Overlay.keys(Answer::Cancel, true), "Esc");
        // Every key in the table parses (a typo would make a dialog deaf to it).
        for s in MODAL_SPECS {
            for key in s.keys {
                assert!(Key::parse(key).is_ok(), "{key}");
            }
        }
    }

    fn key(s: &str) -> Key {
        Key::parse(s).unwrap()
    }

    #[test]
    fn parses_key_notations() {
        assert_eq!(key("j"), Key::new(KeyCode::Char('j'), KeyModifiers::NONE));
        assert_eq!(key("G"), Key::new(KeyCode::Char('G'), KeyModifiers::SHIFT));
        assert_eq!(key("Ctrl-d"), Key::new(KeyCode::Char('d'), KeyModifiers::CONTROL));
        assert_eq!(key("<C-d>"), key("ctrl+d"));
        assert_eq!(key("Shift-Tab"), key("BackTab"));
        assert_eq!(key("pgdn").code, KeyCode::PageDown);
        assert_eq!(key("F1").code, KeyCode::F(1));
        assert_eq!(key("-").code, KeyCode::Char('-'));
        assert_eq!(key("Space").code, KeyCode::Char(' '));
        assert!(Key::parse("Hyper-x").is_err());
        assert!(Key::parse("").is_err());
        assert_eq!(key("Ctrl-d").to_string(), "Ctrl-d");
        assert_eq!(key("Down").to_string(), "↓");
    }

    #[test]
    fn vim_keys_and_arrows_both_work() {
        let km = Keymap::default();
        let k = |s| km.lookup(key(s), Focus::Tree);
        assert_eq!(k("j"), Some(Action::Down));
        assert_eq!(k("Down"), Some(Action::Down));
        assert_eq!(k("l"), Some(Action::Expand));
        assert_eq!(k("Right"), Some(Action::Expand));
        assert_eq!(k("Enter"), Some(Action::Expand));
        assert_eq!(k("Left"), Some(Action::Collapse));
        assert_eq!(k("G"), Some(Action::Bottom));
        assert_eq!(k("Ctrl-c"), Some(Action::Quit));
        assert_eq!(k("F1"), Some(Action::Help));
        assert_eq!(km.lookup(key("l"), Focus::Details), None);
        assert_eq!(km.lookup(key("j"), Focus::Details), Some(Action::Down));
    }

    #[test]
    fn overrides_replace_keys_but_arrows_stay() {
        let mut km = Keymap::default();
        km.set("down", vec![key("J")]).unwrap();
        assert_eq!(km.lookup(key("J"), Focus::Tree), Some(Action::Down));
        assert_eq!(km.lookup(key("j"), Focus::Tree), None);
        assert_eq!(km.lookup(key("Down"), Focus::Tree), Some(Action::Down));
        // Taking `q` for copying removes it from quit; Ctrl-c still quits.
        km.set("copy_digest", vec![key("q")]).unwrap();
        assert_eq!(km.lookup(key("q"), Focus::Tree), Some(Action::CopyDigest));
        assert_eq!(km.lookup(key("Ctrl-c"), Focus::Tree), Some(Action::Quit));
        assert_eq!(km.get(Action::Quit).unwrap().keys_text(), "Ctrl-c");
        assert!(km.set("fly", vec![]).unwrap_err().contains("unknown action"));
    }

    #[test]
    fn hints_follow_the_keymap() {
        let mut km = Keymap::default();
        let hints = km.hints(Focus::Tree);
        assert_eq!(hints[0], ("l".to_string(), "expand"));
        assert!(hints.contains(&("?".to_string(), "help")));
        assert!(!km.hints(Focus::Details).iter().any(|(_, h)| *h == "expand"));
        km.set("help", vec![key("H")]).unwrap();
        assert!(km.hints(Focus::Tree).contains(&("H".to_string(), "help")));
    }

    #[test]
    fn help_and_quit_rank_highest_and_come_last() {
        let km = Keymap::default();
        for focus in [Focus::Tree, Focus::Details] {
            let hints = km.ranked_hints(focus);
            let labels: Vec<&str> = hints.iter().map(|h| h.label).collect();
            assert_eq!(labels[labels.len() - 2..], ["help", "quit"], "{labels:?}");
            let others = hints[..hints.len() - 2].iter().map(|h| h.keep).max().unwrap();
            assert!(hints[hints.len() - 2..].iter().all(|h| h.keep > others));
        }
    }
}
