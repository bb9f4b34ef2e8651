//! The `:` commands, and the actions that are commands in all but name (copy, quit, messages).

use crate::sanitize::{clip, sanitize};

use super::super::prompt::Prompt;
use super::super::theme::Theme;
use super::{App, Effect, Mode, Severity};

/// What `:` knows, for Tab.
const COMMANDS: [&str; 8] = ["open", "theme", "refresh", "refresh!", "explain", "sign", "messages", "quit"];

impl App {
    /// Tab: command names, then theme names after `theme `.
    pub(super) fn complete_command(&mut self, line: &mut Prompt) {
        let text = line.text().to_string();
        let (prefix_len, candidates): (usize, Vec<String>) = match text.split_once(' ') {
            // Under --read-only there is nothing to sign with: not offered.
            None => (
                0,
                COMMANDS
                    .iter()
                    .filter(|c| !(self.settings.read_only && **c == "sign"))
                    .map(|c| c.to_string())
                    .collect(),
            ),
            Some(("theme", _)) => (6, super::super::theme::BUILTIN.iter().map(|(n, _)| n.to_string()).collect()),
            Some(_) => return,
        };
        if !line.complete(prefix_len, &candidates) {
            self.set_status(Severity::Warning, format!("nothing to complete for {:?}", clip(&sanitize(&text), 30)));
        }
    }

    /// `:open TARGET`, `:theme NAME`, `:quit`.
    pub fn run_command(&mut self, line: &str) -> Vec<Effect> {
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        match cmd {
            "" => Vec::new(),
            "q" | "quit" => self.quit_unless_unwritten(false),
            "q!" | "quit!" => {
                self.quit = true;
                vec![Effect::Quit]
            }
            "open" | "o" if arg.is_empty() => {
                self.set_status(Severity::Error, ":open needs a TARGET (host/repo:tag, host/repo@digest, …)".into());
                Vec::new()
            }
            "open" | "o" => {
                let request = self.request_id();
                self.requests.open = Some(request);
                self.set_status(Severity::Info, format!("opening {}…", sanitize(arg)));
                vec![Effect::Open {
                    request,
                    target: arg.to_string(),
                    options: Box::new(self.settings.open_options.clone()),
                }]
            }
            "theme" => {
                self.set_theme(arg);
                Vec::new()
            }
            "refresh" | "r" => match self.selected() {
                Some(id) => self.act_refresh(id),
                None => Vec::new(),
            },
            "refresh!" | "r!" => self.refresh_all(),
            "messages" | "mes" => self.open_messages(),
            "explain" => self.run_explain(arg),
            "sign" => self.open_sign_dialog(),
            other => {
                let other = clip(&sanitize(other), 30).into_owned();
                self.set_status(
                    Severity::Error,
                    format!("unknown command :{other} (try :open TARGET, :explain, :theme NAME, :quit)"),
                );
                Vec::new()
            }
        }
    }

    pub(super) fn set_theme(&mut self, name: &str) {
        match Theme::builtin(name) {
            Ok(_) if self.look.no_color => {
                self.set_status(Severity::Warning, "NO_COLOR is set: staying with the mono theme".into());
            }
            Ok(mut theme) => {
                for (token, style) in &self.look.colors {
                    theme.set(*token, *style);
                }
                self.look.theme = theme;
                self.set_status(Severity::Info, format!("theme {name}"));
            }
            Err(e) => self.set_status(Severity::Error, e.to_string()),
        }
    }

    /// Quits, unless what-if edits would be lost: then the first `q` asks, and a second quits.
    pub(super) fn quit_unless_unwritten(&mut self, armed: bool) -> Vec<Effect> {
        if self.vs.what_if.is_active() && !armed {
            self.quit_armed = true;
            let write = if self.settings.read_only { "" } else { ", W writes them to the policy file" };
            self.set_status(
                Severity::Warning,
                format!("what-if edits are not written: q again quits without them{write} (:q! quits at once)"),
            );
            return Vec::new();
        }
        self.quit = true;
        vec![Effect::Quit]
    }

    pub(super) fn open_messages(&mut self) -> Vec<Effect> {
        if self.notices.messages.is_empty() {
            self.show_toast("no messages yet".into());
        } else {
            // Newest at the bottom, shown first.
            self.mode = Mode::Messages { back: 0 };
        }
        Vec::new()
    }

    pub(super) fn copy(&mut self, full: bool) -> Vec<Effect> {
        let Some(id) = self.selected() else { return Vec::new() };
        let text = if full {
            Some(self.tree.graph.reference(self.location.source.as_ref(), id))
        } else {
            self.tree.graph.node(id).digest().map(ToString::to_string)
        };
        match text {
            Some(text) if !text.is_empty() => {
                // OSC 52 has no answer: whether the terminal took it cannot be known, so say "sent".
                self.show_toast(format!("Sent to the terminal's clipboard: {}", sanitize(&text)));
                vec![Effect::Copy(text)]
            }
            _ => {
                self.set_status(
                    Severity::Warning,
                    "nothing to copy: this node has no digest (Y copies its reference)".into(),
                );
                Vec::new()
            }
        }
    }
}
