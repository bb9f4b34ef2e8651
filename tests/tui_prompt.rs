//! The `:` and `/` prompts edit like a shell line: cursor keys, Ctrl-W / Ctrl-U, history on
//! ↑/↓ saved to a file, Tab completion of commands and theme names; Esc and Ctrl-C leave the
//! prompt, not the app; `q` with unwritten what-if edits asks first.

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sigscope::tui::app::Mode;
use sigscope::tui::prompt::Histories;
use sigscope::tui::theme::Theme;
use sigscope::tui::{AppOptions, Msg};

use common::tui::*;

fn ctrl(h: &mut Harness, c: char) {
    h.send(Msg::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)));
}

fn command_text(h: &Harness) -> String {
    match &h.app.mode {
        Mode::Command(p) => p.text().to_string(),
        other => panic!("not at the command prompt: {other:?}"),
    }
}

fn demo_harness(histories: Histories) -> Harness {
    let mut options = AppOptions::new(Theme::resolve(None, true).unwrap());
    options.no_color = true;
    options.histories = histories;
    let mut h = Harness::with(sigscope::demo::opened(), options);
    h.run_effects();
    h
}

#[test]
fn the_command_line_edits_at_the_cursor() {
    let mut h = demo_harness(Histories::default());
    h.key(KeyCode::Char(':'));
    h.chars("open reg.example/app");
    ctrl(&mut h, 'w');
    assert_eq!(command_text(&h), "open ");
    h.chars("x/y");
    h.key(KeyCode::Left);
    h.key(KeyCode::Left);
    h.key(KeyCode::Backspace);
    assert_eq!(command_text(&h), "open /y");
    h.key(KeyCode::Home);
    h.key(KeyCode::Delete);
    assert_eq!(command_text(&h), "pen /y");
    ctrl(&mut h, 'e');
    ctrl(&mut h, 'u');
    assert_eq!(command_text(&h), "");
    // The screen shows the cursor where it is, not at the end.
    h.chars("theme mono");
    h.key(KeyCode::Left);
    h.key(KeyCode::Left);
    let bottom = row_text(&h.render(80, 24), 23);
    assert!(bottom.contains(":theme m█no") || bottom.contains(":theme mo"), "{bottom}");
}

#[test]
fn tab_completes_commands_and_theme_names() {
    let mut h = demo_harness(Histories::default());
    h.key(KeyCode::Char(':'));
    h.chars("th");
    h.key(KeyCode::Tab);
    assert_eq!(command_text(&h), "theme ");
    h.chars("mo");
    h.key(KeyCode::Tab);
    assert_eq!(command_text(&h), "theme mono ");
    h.key(KeyCode::Enter);
    assert_eq!(h.app.mode, Mode::Normal);
    let status = h.app.notices.status.clone().unwrap();
    assert!(status.text.contains("mono"), "{status:?}");
    // Several fit: Tab cycles them.
    h.key(KeyCode::Char(':'));
    h.chars("re");
    h.key(KeyCode::Tab);
    let first = command_text(&h);
    h.key(KeyCode::Tab);
    let second = command_text(&h);
    assert_ne!(first, second);
    assert!(first.starts_with("refresh") && second.starts_with("refresh"), "{first} {second}");
}

#[test]
fn esc_and_ctrl_c_leave_the_prompt_not_the_app() {
    let mut h = demo_harness(Histories::default());
    h.key(KeyCode::Char(':'));
    h.chars("quit");
    ctrl(&mut h, 'c');
    assert_eq!(h.app.mode, Mode::Normal);
    assert!(!h.app.quit);
    h.key(KeyCode::Char('/'));
    h.chars("sig");
    ctrl(&mut h, 'c');
    assert_eq!(h.app.mode, Mode::Normal);
    assert!(h.app.tree.filter.query.is_empty(), "Ctrl-C cancels the filter like Esc");
    assert!(!h.app.quit);
    ctrl(&mut h, 'c');
    assert!(h.app.quit, "in the tree, Ctrl-C quits");
}

#[test]
fn history_walks_with_the_arrows_and_is_saved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data/history");
    let mut h = demo_harness(Histories::load(Some(path.clone())));
    for line in ["theme mono", "theme light"] {
        h.key(KeyCode::Char(':'));
        h.chars(line);
        h.key(KeyCode::Enter);
    }
    assert!(h.effects.iter().any(|e| e.starts_with("SaveHistory")), "{:?}", h.effects);
    h.key(KeyCode::Char(':'));
    h.chars("dr");
    h.key(KeyCode::Up);
    assert_eq!(command_text(&h), "theme light");
    h.key(KeyCode::Up);
    assert_eq!(command_text(&h), "theme mono");
    h.key(KeyCode::Down);
    h.key(KeyCode::Down);
    assert_eq!(command_text(&h), "dr", "the draft comes back");
    h.key(KeyCode::Esc);

    // The filter keeps its own history (Ctrl-P / Ctrl-N; the arrows move in the tree).
    h.key(KeyCode::Char('/'));
    h.chars("unsigned");
    h.key(KeyCode::Enter);
    h.key(KeyCode::Esc);
    h.key(KeyCode::Char('/'));
    ctrl(&mut h, 'p');
    assert_eq!(h.app.tree.filter.query, "unsigned");
    assert!(!h.app.tree.filter.matches.is_empty());

    // What the effect would write, read back by a new run.
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut saved = Histories::load(Some(path.clone()));
    saved.commands.push("theme mono");
    saved.filters.push("unsigned");
    sigscope::tui::prompt::save(&path, &saved.to_text()).unwrap();
    let back = Histories::load(Some(path));
    assert_eq!(back.commands.entries, ["theme mono"]);
    assert_eq!(back.filters.entries, ["unsigned"]);
}

#[test]
fn the_filter_prompt_edits_in_the_middle() {
    let mut h = demo_harness(Histories::default());
    h.key(KeyCode::Char('/'));
    h.chars("unxsigned");
    assert!(h.app.tree.filter.matches.is_empty());
    for _ in 0..6 {
        h.key(KeyCode::Left);
    }
    h.key(KeyCode::Backspace);
    assert_eq!(h.app.tree.filter.query, "unsigned");
    assert!(!h.app.tree.filter.matches.is_empty(), "the filter follows the edit");
    ctrl(&mut h, 'u');
    ctrl(&mut h, 'e');
    ctrl(&mut h, 'u');
    assert_eq!(h.app.tree.filter.query, "");
}

#[test]
fn quitting_with_unwritten_what_if_edits_asks_first() {
    let tmp = tempfile::tempdir().unwrap();
    let notation = demo_notation(tmp.path());
    let mut h = verifying(sigscope::demo::opened(), options(Some(&notation)));
    let tag = tag_node(&h, "signed");
    h.select(tag);
    h.key(KeyCode::Char('L'));
    h.run_effects();
    assert!(h.app.vs.what_if.is_active(), "{:?}", h.app.notices.status);

    h.key(KeyCode::Char('q'));
    assert!(!h.app.quit, "the first q asks");
    assert!(h.app.notices.status.as_ref().unwrap().text.contains("q again"), "{:?}", h.app.notices.status);
    h.key(KeyCode::Char('j'));
    h.key(KeyCode::Char('q'));
    assert!(!h.app.quit, "another key in between asks again");
    h.key(KeyCode::Char('q'));
    assert!(h.app.quit);
}
