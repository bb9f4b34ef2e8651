//! The TUI at the sizes terminals open at (80×24, 100 columns, 120×40) and below them: the hint
//! bar keeps help and quit, tree rows keep their verdict glyph and mark cut text with `…`, the
//! details header wraps and long keys stay distinct, the layout stacks under 100 columns, and a
//! screen too small says so. Cell-level checks on a ratatui `TestBackend`.

mod common;

use std::sync::Arc;

use crossterm::event::{KeyCode, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sigscope::graph::{ChildSpec, Expansion, NodeId, NodeKind, Role};
use sigscope::inspect::{Details, Section};
use sigscope::notation::verifier::{ArtifactReport, CheckKind, Verdict};
use sigscope::oci::{media, short_digest};
use sigscope::tui::app::NodeVerify;
use sigscope::tui::app::{LogEntry, Mode, Severity, Status};
use sigscope::tui::keymap::Focus;
use sigscope::tui::{Msg, view};

use common::tui::*;

const LONG_TAG: &str = "release-candidate-2024-05-01-build-1234567890-linux-amd64-with-debug-symbols";

/// The text of tree line `y` inside the tree panel (as the last frame placed it).
fn inside(h: &Harness, t: &Terminal<TestBackend>, y: u16) -> String {
    let tree = h.app.areas().tree_rows;
    let buf = t.backend().buffer();
    (tree.x..tree.right()).map(|x| buf[(x, y)].symbol()).collect::<String>().trim_end().to_string()
}

fn line_with(t: &Terminal<TestBackend>, needle: &str) -> (u16, String) {
    let h = t.backend().buffer().area.height;
    (0..h)
        .map(|y| (y, row_text(t, y)))
        .find(|(_, l)| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{}", screen_text(t)))
}

fn report(digest: &str, verdict: Verdict) -> NodeVerify {
    NodeVerify::Done(Arc::new(ArtifactReport::new("registry.example/app", digest, None, verdict, Vec::new())))
}

// ----- the hint bar ---------------------------------------------------------------------------

#[test]
fn help_and_quit_are_the_last_hints_to_go() {
    let mut sc = supply_chain();
    for focus in [Focus::Tree, Focus::Details] {
        if sc.h.app.focus != focus {
            sc.h.key(KeyCode::Tab);
        }
        assert_eq!(sc.h.app.focus, focus);
        for width in [60, 80, 100, 120] {
            let t = sc.h.render(width, 24);
            let bottom = row_text(&t, 23);
            assert!(bottom.contains("? help") && bottom.contains("q quit"), "{focus:?} at {width}: {bottom:?}");
            assert!(!bottom.contains('…'), "no cut hint at {width}: {bottom:?}");
            // Help and quit close the bar, whatever else had to go.
            assert!(bottom.trim_end().ends_with("? help  q quit"), "{focus:?} at {width}: {bottom:?}");
        }
        let at_80 = row_text(&sc.h.render(80, 24), 23);
        assert!(at_80.contains("v verify") && at_80.contains("/ filter"), "the useful ones stay at 80: {at_80:?}");
        let at_120 = row_text(&sc.h.render(120, 24), 23);
        assert!(at_120.contains("g top") && at_120.contains("Tab panel"), "all of them at 120: {at_120:?}");
    }
}

#[test]
fn hints_make_room_for_the_right_hand_side() {
    // One request in flight: the spinner on the right takes columns from the hints.
    let mut h = Harness::new(vec![NodeKind::Tag { repository: "app".into(), tag: "v1".into() }]);
    for width in [50, 80, 100] {
        let bottom = row_text(&h.render(width, 24), 23);
        assert!(bottom.contains("1 in flight"), "{bottom:?}");
        assert!(bottom.contains("? help  q quit"), "at {width}: {bottom:?}");
        assert!(!bottom.contains('…'), "at {width}: {bottom:?}");
    }
}

// ----- tree rows ------------------------------------------------------------------------------

/// A repository with a long tag and a short one, each with its own verification result (as the
/// app has for closed tags), and a short tag open on an image with many tags.
struct Rows {
    h: Harness,
    long: NodeId,
    short: NodeId,
}

fn rows() -> Rows {
    let mut h = Harness::new(vec![NodeKind::Repository { name: "app".into() }]);
    let repo = h.app.tree.graph.roots[0];
    let tags = [LONG_TAG, "v1", "v2"];
    let children = tags.iter().map(|t| ChildSpec::Tag { repository: "app".into(), tag: (*t).into() }).collect();
    h.expanded(repo, Ok(Expansion { manifest: None, children }));
    let (long, short, open) = (h.child(repo, 0), h.child(repo, 1), h.child(repo, 2));
    h.select(open);
    h.key(KeyCode::Char('l'));
    let many: Vec<String> = (0..12).map(|i| format!("build-{i:04}-x")).collect();
    h.expanded(
        open,
        Ok(Expansion {
            manifest: None,
            children: vec![ChildSpec::Artifact {
                repository: "app".into(),
                descriptor: desc(40, media::OCI_MANIFEST, None, 4096),
                role: Role::Root,
                tags: many,
            }],
        }),
    );
    let image = h.child(open, 0);
    // Loaded, without referrers: no fold glyph, no loading badge.
    h.expanded(image, Ok(Expansion::default()));
    h.app.vs.results.insert(long, report(&digest(41), Verdict::Verified));
    h.app.vs.results.insert(short, report(&digest(42), Verdict::Verified));
    let failed = Verdict::Failed { check: Some(CheckKind::Integrity), reason: "bad".into() };
    h.app.vs.results.insert(image, report(&digest(40), failed));
    h.select(repo);
    Rows { h, long, short }
}

#[test]
fn a_long_row_keeps_its_verdict_glyph_and_ends_cut_text_with_an_ellipsis() {
    let mut r = rows();
    assert!(r.h.app.tree.rows.iter().any(|row| row.id == r.long));
    for (w, ht) in [(80, 24), (120, 40)] {
        let t = r.h.render(w, ht);
        let (y, row) = line_with(&t, "tag release-candidate");
        assert!(row.contains("▶ ✓ tag release-candidate"), "glyph right after the fold glyph at {w}: {row:?}");
        let text = inside(&r.h, &t, y);
        assert!(text.ends_with('…'), "cut text ends with … at {w}: {text:?}");
        assert!(!text.contains(LONG_TAG), "the tag is too long for the row at {w}: {text:?}");

        // The image's many tags are cut; its verdict glyph and word come first.
        let (y, row) = line_with(&t, "image sha256:");
        let short = short_digest(&digest(40));
        assert!(row.contains(&format!("    ✗ image {short} failed: integrity build-0")), "at {w}: {row:?}");
        assert!(inside(&r.h, &t, y).ends_with('…'), "at {w}: {row:?}");
    }
}

#[test]
fn a_tag_row_names_the_digest_its_verdict_is_for() {
    let mut r = rows();
    for (w, ht) in [(80, 24), (120, 40)] {
        let t = r.h.render(w, ht);
        let (y, row) = line_with(&t, "tag v1 ");
        let expected = format!("▶ ✓ tag v1 verified → {}", short_digest(&digest(42)));
        assert!(row.contains(&expected), "at {w}: {row:?}");
        assert!(!inside(&r.h, &t, y).ends_with('…'), "a row that fits is not cut: {row:?}");
    }
    // Rows without a verdict keep the glyph column, so kinds line up.
    let t = r.h.render(120, 40);
    let (_, repo) = line_with(&t, "repo app");
    assert!(repo.contains("▼   repo app"), "{repo:?}");
    assert!(r.h.app.vs.results.contains_key(&r.short));
}

#[test]
fn at_any_width_a_row_that_reaches_the_border_ends_in_an_ellipsis() {
    let tree_lines = |h: &mut Harness, w: u16| {
        let t = h.render(w, 24);
        let tree = h.app.areas().tree_rows;
        let buf = t.backend().buffer();
        let lines: Vec<String> = (tree.y..tree.bottom())
            .map(|y| (tree.x..tree.right()).map(|x| buf[(x, y)].symbol()).collect::<String>())
            .collect();
        (lines, screen_text(&t))
    };
    let mut sc = supply_chain();
    let mut r = rows();
    for h in [&mut sc.h, &mut r.h] {
        let (whole, _) = tree_lines(h, 250);
        for w in [40, 55, 79, 80, 99, 100, 101, 140] {
            let (lines, screen) = tree_lines(h, w);
            for (i, l) in lines.iter().enumerate() {
                // Either the row fits (it is the whole row) or its last column says it was cut.
                let fits = l.trim_end() == whole[i].trim_end();
                assert!(fits || l.ends_with('…'), "at {w}, row {i} is cut without a mark:\n{screen}");
            }
        }
    }
}

/// The built-in demo verified with its own policy in a private directory (fixed clock, as in
/// tests/tui_verification.rs); the directory lives as long as the `TempDir`.
fn demo() -> (Harness, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let notation = demo_notation(tmp.path());
    (verifying(sigscope::demo::opened(), options(Some(&notation))), tmp)
}

#[test]
fn demo_tags_show_the_digest_they_resolve_to_at_80x24() {
    let (mut h, _dir) = demo();
    let t = h.render(80, 24);
    let (_, row) = line_with(&t, "tag signed");
    assert!(row.contains("▶ ✓ tag signed verified → sha256:"), "{row:?}");
    let (_, row) = line_with(&t, "tag tampered");
    assert!(row.contains("▶ ✗ tag tampered failed: integrity → sha256:"), "{row:?}");
    // The digest shown is the one the tag resolves to: open it and compare with its image.
    let tag = tag_node(&h, "signed");
    h.select(tag);
    h.key(KeyCode::Char('l'));
    h.run_effects();
    let image = h.child(tag, 0);
    let digest = h.app.tree.graph.node(image).artifact().unwrap().descriptor.digest.clone();
    assert!(row_of_text(&t, "tag signed").contains(&short_digest(&digest)));
}

fn row_of_text(t: &Terminal<TestBackend>, needle: &str) -> String {
    line_with(t, needle).1
}

// ----- details header -------------------------------------------------------------------------

fn described(keys: &[(&str, &str)]) -> Harness {
    let mut sc = supply_chain();
    sc.h.select(sc.notation);
    let request = sc.h.describe[&sc.notation];
    let mut section = Section::new("Annotations");
    for (k, v) in keys {
        section = section.field(*k, *v);
    }
    let details = Details { sections: vec![section], manifest: None };
    sc.h.send(Msg::Described { request, node: sc.notation, details });
    sc.h
}

const KEYS: [(&str, &str); 4] = [
    ("org.opencontainers.image.created", "2024-05-02T08:30:00Z"),
    ("org.opencontainers.image.source", "https://github.com/example/app"),
    ("org.opencontainers.image.revision", "0123456789abcdef0123456789abcdef01234567"),
    ("io.cncf.notary.x509chain.thumbprint#S256", "[\"aa\",\"bb\"]"),
];

#[test]
fn long_annotation_keys_are_shown_whole_and_distinct() {
    let mut h = described(&KEYS);
    let t = h.render(120, 40);
    let screen = screen_text(&t);
    for (k, v) in KEYS {
        assert!(screen.contains(k), "key {k:?} whole on screen:\n{screen}");
        assert!(screen.contains(v), "value {v:?}:\n{screen}");
    }
    // At 80×24 the details panel is short: scroll to its end and look there.
    h.key(KeyCode::Tab);
    h.render(80, 24);
    h.key(KeyCode::Char('G'));
    let t = h.render(80, 24);
    let screen = screen_text(&t);
    for (k, _) in &KEYS[1..] {
        assert!(screen.contains(k), "key {k:?} whole at 80×24:\n{screen}");
    }
}

#[test]
fn the_reference_and_title_wrap_instead_of_being_cut() {
    let mut h = described(&KEYS);
    let id = h.app.selected().unwrap();
    let reference = h.app.tree.graph.reference(h.app.location.source.as_ref(), id);
    for (w, ht) in [(80, 24), (120, 40)] {
        let t = h.render(w, ht);
        let details = h.app.areas().details_text;
        let buf = t.backend().buffer();
        let text: String = (details.y..details.bottom())
            .flat_map(|y| (details.x..details.right()).map(move |x| (x, y)))
            .map(|p| buf[p].symbol().to_string())
            .collect::<String>()
            .split_whitespace()
            .collect();
        assert!(text.contains(&reference), "the whole reference at {w}: {reference} in {text}");
        assert!(text.contains("Referrer:Notationsignature(foundviareferrersAPI)"), "the whole title at {w}: {text}");
    }
}

// ----- layout ---------------------------------------------------------------------------------

#[test]
fn under_100_columns_the_panels_stack() {
    let mut sc = supply_chain();
    let t = sc.h.render(80, 24);
    let (tree, details) = (sc.h.app.areas().tree_rows, sc.h.app.areas().details_text);
    assert!(tree.bottom() <= details.y, "tree above details: {tree:?} {details:?}\n{}", screen_text(&t));
    assert_eq!((tree.width, details.width), (78, 78), "both full width inside their borders");
    assert!(row_text(&t, 1).contains("Tree"), "{}", screen_text(&t));
    assert!(row_text(&t, details.y - 1).contains("Details"), "{}", screen_text(&t));
    assert!(row_text(&t, 23).contains("? help"));

    // Clicks land where the rows are drawn.
    sc.h.send(click(tree.y + 1, tree.x + 12));
    assert_eq!(sc.h.app.selected(), Some(sc.index));
    sc.h.send(click(details.y + 1, details.x + 3));
    assert_eq!(sc.h.app.focus, Focus::Details);

    // The verification panel stacks the same way, without moving the split.
    sc.h.key(KeyCode::Char('v'));
    sc.h.render(80, 24);
    assert_eq!(sc.h.app.areas().tree_rows, tree);
    assert_eq!(sc.h.app.areas().details_text, details);

    // From 100 columns on, side by side.
    for w in [100, 120] {
        sc.h.render(w, 40);
        let (tree, details) = (sc.h.app.areas().tree_rows, sc.h.app.areas().details_text);
        assert!(tree.right() <= details.x && tree.y == details.y, "at {w}: {tree:?} {details:?}");
    }
}

/// A repository of 60 tags, `t00`…`t59`: more rows than any panel here shows.
fn tall_tree() -> Harness {
    let mut h = Harness::new(vec![NodeKind::Repository { name: "app".into() }]);
    let repo = h.app.tree.graph.roots[0];
    let children = (0..60).map(|i| ChildSpec::Tag { repository: "app".into(), tag: format!("t{i:02}") }).collect();
    h.expanded(repo, Ok(Expansion { manifest: None, children }));
    h
}

/// The tag a tree row shows (`tag t07` → `t07`), or `None` for the repository's row.
fn shown_tag(line: &str) -> Option<String> {
    let at = line.find("tag t")?;
    Some(line[at + 4..at + 7].to_string())
}

fn selected_tag(h: &Harness) -> Option<String> {
    match &h.app.tree.graph.node(h.app.selected()?).kind {
        NodeKind::Tag { tag, .. } => Some(tag.clone()),
        _ => None,
    }
}

#[test]
fn pages_scroll_clamps_and_clicks_are_measured_on_the_frame_the_view_draws() {
    // update() measures with `App::areas`, the view draws with `layout::areas` of the frame:
    // at both common sizes the numbers update uses are the ones on screen.
    for (w, ht) in [(80, 24), (120, 40)] {
        let mut h = tall_tree();
        let t = h.render(w, ht);
        let rows = h.app.areas().tree_rows;
        let buf = t.backend().buffer();
        // The tree's border is drawn right around the rectangle update hit-tests and pages by.
        assert!(["┏", "┌"].contains(&buf[(rows.x - 1, rows.y - 1)].symbol()), "at {w}×{ht}:\n{}", screen_text(&t));
        assert!(["┛", "┘"].contains(&buf[(rows.right(), rows.bottom())].symbol()), "at {w}×{ht}:\n{}", screen_text(&t));

        // PageDown moves one row less than the panel shows, and the cursor is drawn where the
        // window update keeps says.
        h.key(KeyCode::PageDown);
        assert_eq!(h.app.tree.cursor, usize::from(rows.height) - 1, "at {w}×{ht}");
        for _ in 0..3 {
            h.key(KeyCode::PageDown);
        }
        let t = h.render(w, ht);
        let start = h.app.areas().tree_start;
        let y = rows.y + u16::try_from(h.app.tree.cursor - start).unwrap();
        assert!(row_text(&t, y).contains("> "), "the cursor's row at {w}×{ht}:\n{}", screen_text(&t));
        assert_eq!(shown_tag(&row_text(&t, y)), selected_tag(&h), "at {w}×{ht}:\n{}", screen_text(&t));
        assert!(shown_tag(&row_text(&t, rows.y)).is_some(), "the window scrolled at {w}×{ht}");

        // A click selects the row drawn under it, top, middle and bottom line.
        for y in [rows.y, rows.y + rows.height / 2, rows.bottom() - 1] {
            let t = h.render(w, ht);
            let drawn = shown_tag(&row_text(&t, y));
            assert!(drawn.is_some(), "a tag on line {y} at {w}×{ht}:\n{}", screen_text(&t));
            if drawn != selected_tag(&h) {
                h.send(click(y, rows.x + 8));
            }
            assert_eq!(selected_tag(&h), drawn, "click on line {y} at {w}×{ht}:\n{}", screen_text(&t));
        }

        // Help: its last page is the last one drawn, and scrolling stops there.
        h.key(KeyCode::Char('?'));
        h.render(w, ht);
        h.key(KeyCode::Char('G'));
        let Mode::Help { scroll } = h.app.mode else { panic!("help open") };
        let help = h.app.areas().help_text;
        let all = view::help_lines(&h.app);
        assert_eq!(scroll + usize::from(help.height), all.len(), "at {w}×{ht}");
        let t = h.render(w, ht);
        let last: String = all.last().unwrap().iter().map(|(_, s)| s.as_str()).collect();
        let bottom = row_text(&t, help.bottom() - 1);
        assert!(
            bottom.contains(last.trim().get(..12).unwrap_or(last.trim())),
            "{last:?} at {w}×{ht}:\n{}",
            screen_text(&t)
        );
        h.key(KeyCode::Esc);
    }

    // The details panel: `G` scrolls to where the view's last line is the document's last.
    for (w, ht) in [(80, 24), (120, 40)] {
        let mut h = described(&KEYS);
        h.key(KeyCode::Tab);
        h.render(w, ht);
        h.key(KeyCode::Char('G'));
        let t = h.render(w, ht);
        let text = h.app.areas().details_text;
        let title = row_text(&t, text.y - 1);
        let scroll = h.app.details.scroll;
        match title.split_once("Details · ").and_then(|(_, p)| p.split_once(' ')).map(|(p, _)| p.to_string()) {
            Some(position) if position.contains('/') => {
                let (range, total) = position.split_once('/').unwrap();
                let (first, last) = range.split_once('-').unwrap();
                assert_eq!(first.parse::<usize>().unwrap(), scroll + 1, "{title:?} at {w}×{ht}");
                assert_eq!(last, total, "the last line is on screen: {title:?} at {w}×{ht}");
                assert_eq!(total.parse::<usize>().unwrap(), scroll + usize::from(text.height), "{title:?}");
            }
            _ => assert_eq!(scroll, 0, "all of it fits: no scrolling at {w}×{ht}: {title:?}"),
        }
    }
}

#[test]
fn a_terminal_too_small_says_so() {
    let mut sc = supply_chain();
    for (w, ht) in [(30, 8), (39, 24), (120, 9)] {
        let t = sc.h.render(w, ht);
        let screen = screen_text(&t);
        let joined: String = screen.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(joined.contains("terminal too small"), "at {w}×{ht}:\n{screen}");
        assert!(joined.contains("need at least 40×10"), "at {w}×{ht}:\n{screen}");
        assert!(!screen.contains("Tree"), "nothing garbled behind it:\n{screen}");
        // Nothing to click: the panels are not on screen.
        assert_eq!(sc.h.app.areas().tree_rows.area(), 0);
        assert_eq!(sc.h.app.areas().details_text.area(), 0);
    }
    let before = sc.h.app.selected();
    sc.h.render(30, 8);
    sc.h.send(Msg::Mouse(MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 3,
        row: 3,
        modifiers: KeyModifiers::NONE,
    }));
    assert_eq!(sc.h.app.selected(), before);
    // The minimum itself is drawn normally.
    let t = sc.h.render(40, 10);
    assert!(!screen_text(&t).contains("too small"), "{}", screen_text(&t));
    assert!(screen_text(&t).contains("Tree"));
}

// ----- the legend in help ---------------------------------------------------------------------

#[test]
fn help_has_a_legend_of_every_glyph() {
    let mut sc = supply_chain();
    let lines: Vec<String> =
        view::help_lines(&sc.h.app).iter().map(|l| l.iter().map(|(_, s)| s.as_str()).collect()).collect();
    let at = lines.iter().position(|l| l.contains("Legend")).expect("a legend heading");
    let legend = &lines[at..];
    for (glyph, word) in [
        ("✓", "verified"),
        ("!", "warning"),
        ("✗", "failed"),
        ("-", "unsigned"),
        ("~", "skipped"),
        ("?", "not verified"),
        ("○", "not loaded"),
        ("⟳", "loading"),
        ("◆", "filter"),
        ("↻", "cycle"),
        ("⊘", "depth limit"),
        ("·", "not run"),
        ("▶", "closed"),
        ("▼", "open"),
        ("→", "digest"),
        ("…", "cut"),
        ("▸", "focus"),
    ] {
        let found = legend.iter().find(|l| l.trim_start().starts_with(&format!("{glyph} ")));
        let found = found.unwrap_or_else(|| panic!("no legend line for {glyph}:\n{}", legend.join("\n")));
        assert!(found.contains(word), "{glyph}: {found:?}");
    }
    // And it is reachable on screen at 80×24.
    sc.h.key(KeyCode::Char('?'));
    sc.h.render(80, 24);
    for _ in 0..200 {
        sc.h.key(KeyCode::Char('j'));
    }
    assert!(matches!(sc.h.app.mode, Mode::Help { .. }));
    let screen = screen_text(&sc.h.render(80, 24));
    let last = lines.last().unwrap().trim();
    assert!(screen.contains(last), "the legend's last line {last:?} is reachable:\n{screen}");
}

// ----- the same class elsewhere: a toast and panel titles -------------------------------------

#[test]
fn the_copy_toast_wraps_instead_of_cutting_what_was_copied() {
    let mut sc = supply_chain();
    sc.h.select(sc.notation);
    sc.h.key(KeyCode::Char('Y'));
    // The app may shorten what it says (the view cannot know more); the view shows all it says.
    let said: String = sc.h.app.notices.toast.as_ref().unwrap().text.split_whitespace().collect();
    for (w, ht) in [(60, 24), (80, 24), (120, 40)] {
        let t = sc.h.render(w, ht);
        let buf = t.backend().buffer();
        let (y, row) = line_with(&t, "Sent to");
        let x = row.chars().collect::<Vec<_>>();
        let start = x.windows(7).position(|s| s.iter().collect::<String>() == "Sent to").unwrap() as u16;
        // The toast's lines, from the first to its bottom border.
        let mut text = String::new();
        for y in y..ht {
            let line: String = (start..w).map(|x| buf[(x, y)].symbol().to_string()).collect();
            if line.starts_with('─') {
                break;
            }
            text.push_str(line.trim_end_matches([' ', '│', '┃']));
        }
        let text: String = text.split_whitespace().collect();
        assert_eq!(text, said, "at {w}:\n{}", screen_text(&t));
    }
}

#[test]
fn long_panel_titles_end_in_an_ellipsis() {
    let mut sc = supply_chain();
    sc.h.key(KeyCode::Char('/'));
    sc.h.chars("a-filter-long-enough-to-push-the-title-past-the-frame");
    let t = sc.h.render(60, 24);
    let top = row_text(&t, 1);
    assert!(top.contains("Tree · filter") && top.contains('…'), "{top:?}");
    let tree = sc.h.app.areas().tree_rows;
    assert!(["┓", "┐"].contains(&t.backend().buffer()[(tree.right(), 1)].symbol()), "the corner is intact: {top:?}");
}

// ----- zoom and the message log (state in the app, drawn here) --------------------------------

fn press(h: &mut Harness, action: sigscope::tui::keymap::Action) {
    let key = h.app.look.keymap.get(action).and_then(|b| b.keys.first().copied()).expect("bound");
    h.send(Msg::Key(crossterm::event::KeyEvent::new(key.code, key.mods)));
}

#[test]
fn zoom_gives_the_focused_panel_the_whole_main_area() {
    use sigscope::tui::keymap::Action;
    let mut sc = supply_chain();
    for (w, ht) in [(80, 24), (120, 40)] {
        press(&mut sc.h, Action::Zoom);
        assert!(sc.h.app.zoom);
        let t = sc.h.render(w, ht);
        let tree = sc.h.app.areas().tree_rows;
        assert_eq!((tree.width, tree.height), (w - 2, ht - 4), "{}", screen_text(&t));
        assert_eq!(sc.h.app.areas().details_text.area(), 0);
        assert!(!screen_text(&t).contains("Details"), "{}", screen_text(&t));
        // The zoomed tree shows rows the stacked one had no room for.
        assert!(screen_text(&t).contains("in-toto attestation"));
        sc.h.key(KeyCode::Tab);
        let t = sc.h.render(w, ht);
        let details = sc.h.app.areas().details_text;
        assert_eq!((details.width, details.height), (w - 2, ht - 4), "{}", screen_text(&t));
        assert_eq!(sc.h.app.areas().tree_rows.area(), 0);
        sc.h.key(KeyCode::Tab);
        press(&mut sc.h, Action::Zoom);
        sc.h.render(w, ht);
        assert!(sc.h.app.areas().details_text.area() > 0 && sc.h.app.areas().tree_rows.area() > 0);
    }
}

#[test]
fn the_message_log_shows_a_long_error_whole() {
    use sigscope::tui::keymap::Action;
    let mut sc = supply_chain();
    // A registry error as long as they come; the status line can only show its start.
    let long = format!("registry error from registry.example: {}", "the registry said something long ".repeat(6));
    let long = long.trim_end().to_string();
    sc.h.app
        .notices
        .messages
        .push(LogEntry { at: chrono::Local::now(), status: Status { level: Severity::Error, text: long.clone() } });
    press(&mut sc.h, Action::Messages);
    assert!(matches!(sc.h.app.mode, Mode::Messages { .. }));
    for (w, ht) in [(80, 24), (120, 40)] {
        let t = sc.h.render(w, ht);
        let screen = screen_text(&t);
        assert!(screen.contains("Messages"), "{screen}");
        let joined: String = screen.split_whitespace().map(|w| w.trim_matches(['┃', '│'])).collect();
        let want: String = long.split_whitespace().collect();
        assert!(joined.contains(&want), "{screen}");
        assert!(row_text(&t, ht - 1).contains("Esc close the log"), "{}", row_text(&t, ht - 1));
    }
    sc.h.key(KeyCode::Esc);
    assert_eq!(sc.h.app.mode, Mode::Normal);
}

#[test]
fn prompts_show_the_cursor_where_it_is_and_a_long_line_keeps_it_in_view() {
    let mut sc = supply_chain();
    sc.h.key(KeyCode::Char('/'));
    sc.h.chars("signature");
    for _ in 0..3 {
        sc.h.key(KeyCode::Left);
    }
    let bottom = row_text(&sc.h.render(80, 24), 23);
    assert!(bottom.contains("/signat█ure"), "{bottom:?}");
    sc.h.key(KeyCode::Esc);

    let long = format!("open registry.example/{}:v1", "very-long-repository-name/".repeat(8));
    sc.h.key(KeyCode::Char(':'));
    sc.h.chars(&long);
    for w in [40, 80, 120] {
        let bottom = row_text(&sc.h.render(w, 24), 23);
        assert!(bottom.starts_with(" :…"), "the start goes, marked: {bottom:?}");
        assert!(bottom.contains("name/:v1█"), "the cursor and what is just before it stay: {bottom:?}");
    }
}
