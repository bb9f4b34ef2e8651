//! Screens of the TUI, built by feeding messages into `App::update` and drawing into a
//! `TestBackend` (80×24 and 120×40). Text only: every state carries a glyph and a word, so the
//! snapshots say everything colour would. Run with NO_COLOR=1 (the fixtures use mono anyway).

mod common;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sigscope::graph::{ChildSpec, Expansion, LoadState, NodeKind, Role};
use sigscope::inspect::{Details, Section, Table};
use sigscope::oci::media;
use sigscope::tui::Msg;
use sigscope::tui::app::Mode;
use sigscope::tui::keymap::Focus;

use common::tui::*;

fn snap(name: &str, h: &mut Harness) {
    for (w, ht) in [(80, 24), (120, 40)] {
        let terminal = h.render(w, ht);
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), terminal.backend());
    }
}

fn line_of(terminal: &ratatui::Terminal<ratatui::backend::TestBackend>, needle: &str) -> String {
    screen_text(terminal)
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}"))
        .to_string()
}

#[test]
fn start_shows_the_root_loading() {
    let mut h = Harness::new(vec![NodeKind::Tag { repository: "app".into(), tag: "v1".into() }]);
    assert_eq!(h.app.in_flight(), 1);
    let t = h.render(80, 24);
    assert!(line_of(&t, "tag v1").contains("⟳ loading"));
    assert!(row_text(&t, 23).contains("1 in flight"));
    snap("start", &mut h);
}

#[test]
fn expanded_tree_with_several_kinds() {
    let mut sc = supply_chain();
    let t = sc.h.render(160, 40);
    let screen = screen_text(&t);
    let short = |n| sigscope::oci::short_digest(&digest(n));
    for expected in [
        format!("index {} v1,latest 2.0 KiB 2024-05-01 12:00", short(1)),
        format!("image {} linux/amd64 1.2 KiB", short(2)),
        format!("Notation signature {} 900 B 2024-05-02 08:30 via API", short(10)),
        format!("cosign signature {} 600 B via cosign tag", short(11)),
        format!("in-toto attestation {} 3.0 KiB via API", short(13)),
        "○ not loaded".to_string(),
    ] {
        assert!(screen.contains(&expected), "missing {expected:?} in\n{screen}");
    }
    snap("expanded_tree", &mut sc.h);
}

#[test]
fn failed_and_cycle_nodes_say_so_in_words() {
    let mut sc = supply_chain();
    assert!(matches!(sc.h.app.tree.graph.node(sc.sbom).load, LoadState::Failed(_)));
    assert!(sc.h.app.tree.graph.is_cycle(sc.cycle));
    let t = sc.h.render(200, 40);
    let sbom = line_of(&t, "SPDX SBOM");
    let expected = format!("SPDX SBOM {} ✗ failed: registry error from", sigscope::oci::short_digest(&digest(12)));
    assert!(sbom.contains(&expected), "{sbom}");
    assert!(line_of(&t, "↻ cycle").contains("refers back to an ancestor"));
    // Failures stay on their node.
    assert!(!line_of(&t, "in-toto attestation").contains("failed"));

    let mut h = sc.h;
    h.select(sc.sbom);
    snap("error_node", &mut h);
    let t = h.render(120, 40);
    assert!(screen_text(&t).contains("internal error"), "details carry the whole reason");
}

#[test]
fn details_of_an_artifact() {
    let mut sc = supply_chain();
    sc.h.select(sc.notation);
    let request = *sc.h.describe.get(&sc.notation).expect("selecting an artifact describes it");
    let details = Details {
        sections: vec![
            Section::new("Descriptor")
                .field("kind", "Notation signature")
                .field("mediaType", media::OCI_MANIFEST)
                .field("digest", digest(10)),
            Section::new("Signature")
                .field("envelope", "JWS")
                .field("signing time", "2024-05-02T08:30:00Z")
                .field("x509 subject", "CN=release,O=Example"),
            Section {
                title: "Certificates".into(),
                table: Some(Table {
                    headers: vec!["subject".into(), "expires".into()],
                    rows: vec![
                        vec!["CN=release".into(), "2025-05-02".into()],
                        vec!["CN=Example Root".into(), "2034-01-01".into()],
                    ],
                }),
                ..Default::default()
            },
            Section::failed("Timestamp", "no countersignature in the envelope"),
        ],
        manifest: Some(
            "{\n  \"schemaVersion\": 2,\n  \"artifactType\": \"application/vnd.cncf.notary.signature\"\n}".into(),
        ),
    };
    sc.h.send(Msg::Described { request, node: sc.notation, details });
    snap("details", &mut sc.h);

    // With focus on details, j scrolls the document and G goes to its end.
    sc.h.key(KeyCode::Tab);
    assert_eq!(sc.h.app.focus, Focus::Details);
    sc.h.render(80, 24);
    sc.h.key(KeyCode::Char('j'));
    assert_eq!(sc.h.app.details.scroll, 1);
    sc.h.key(KeyCode::Char('G'));
    let t = sc.h.render(80, 24);
    assert!(screen_text(&t).contains("artifactType"), "end of the manifest is in view");
}

#[test]
fn help_overlay_comes_from_the_keymap() {
    let mut sc = supply_chain();
    sc.h.key(KeyCode::Char('?'));
    assert!(matches!(sc.h.app.mode, Mode::Help { .. }));
    let t = sc.h.render(120, 40);
    let screen = screen_text(&t);
    assert!(screen.contains("l/Enter/→"), "{screen}");
    assert!(screen.contains("Copy host/repo@digest"));
    snap("help", &mut sc.h);
    sc.h.key(KeyCode::Esc);
    assert_eq!(sc.h.app.mode, Mode::Normal);
    sc.h.send(Msg::Key(KeyEvent::new(KeyCode::F(1), KeyModifiers::NONE)));
    assert!(matches!(sc.h.app.mode, Mode::Help { .. }));
}

#[test]
fn filter_prompt_with_matches() {
    let mut sc = supply_chain();
    sc.h.key(KeyCode::Char('/'));
    sc.h.chars("signature");
    assert_eq!(sc.h.app.tree.filter.matches.len(), 3, "Notation ×2, cosign");
    let t = sc.h.render(80, 24);
    assert!(row_text(&t, 23).contains("/signature█  3 matches"));
    assert!(line_of(&t, "cosign signature").contains("◆"));
    assert!(!screen_text(&t).contains("SPDX SBOM"), "non-matching leaves are hidden");
    snap("filter_prompt", &mut sc.h);

    // Enter keeps the filter; n/N walk the matches; Esc clears it.
    sc.h.key(KeyCode::Enter);
    let first = sc.h.app.selected();
    sc.h.key(KeyCode::Char('n'));
    assert_ne!(sc.h.app.selected(), first);
    sc.h.key(KeyCode::Char('N'));
    assert_eq!(sc.h.app.selected(), first);
    sc.h.key(KeyCode::Esc);
    assert!(sc.h.app.tree.filter.query.is_empty());
    assert_eq!(sc.h.app.selected(), first, "the selection survives clearing the filter");

    // Smart case: an upper-case letter makes it case-sensitive.
    sc.h.key(KeyCode::Char('/'));
    sc.h.chars("notation");
    assert_eq!(sc.h.app.tree.filter.matches.len(), 2);
    sc.h.key(KeyCode::Esc);
    sc.h.key(KeyCode::Char('/'));
    sc.h.chars("notation S");
    assert_eq!(sc.h.app.tree.filter.matches.len(), 0);
}

#[test]
fn command_line() {
    let mut sc = supply_chain();
    sc.h.key(KeyCode::Char(':'));
    sc.h.chars("open registry.example/other:v2");
    snap("command_line", &mut sc.h);
    sc.h.key(KeyCode::Enter);
    assert!(sc.h.effects.last().unwrap().starts_with("Open"), "{:?}", sc.h.effects.last());
    assert_eq!(sc.h.app.in_flight(), 1);

    sc.h.key(KeyCode::Char(':'));
    sc.h.chars("frobnicate");
    sc.h.key(KeyCode::Enter);
    let t = sc.h.render(80, 24);
    assert!(row_text(&t, 23).contains("✗ unknown command :frobnicate"), "{}", row_text(&t, 23));

    sc.h.key(KeyCode::Char(':'));
    sc.h.chars("theme nope");
    sc.h.key(KeyCode::Enter);
    assert!(row_text(&sc.h.render(80, 24), 23).contains("unknown theme"));

    sc.h.key(KeyCode::Char(':'));
    sc.h.chars("quit");
    sc.h.key(KeyCode::Enter);
    assert!(sc.h.app.quit);
}

#[test]
fn hostile_strings_render_escaped() {
    let mut h = Harness::new(vec![NodeKind::Repository { name: "app".into() }]);
    let repo = h.app.tree.graph.roots[0];
    let evil_tag = "v1\x1b[2J\x1b]52;c;cHduZWQ=\x07";
    h.expanded(
        repo,
        Ok(Expansion {
            manifest: None,
            children: vec![ChildSpec::Tag { repository: "app".into(), tag: evil_tag.into() }],
        }),
    );
    let tag = h.child(repo, 0);
    h.select(tag);
    h.key(KeyCode::Char('l'));
    let mut d = desc(5, media::OCI_MANIFEST, None, 10);
    d.annotations.insert("org.opencontainers.image.created".into(), "\x1b[31mred\u{202e}".into());
    h.expanded(
        tag,
        Ok(Expansion {
            manifest: None,
            children: vec![ChildSpec::Artifact {
                repository: "app".into(),
                descriptor: d,
                role: Role::Root,
                tags: vec![evil_tag.into()],
            }],
        }),
    );
    let artifact = h.child(tag, 0);
    h.expanded(artifact, Ok(Expansion::default()));
    h.select(artifact);
    let request = h.describe[&artifact];
    let details = Details {
        sections: vec![Section::new("Annotations").field("evil\x1b[H", "\x1b]8;;http://x\x07click\x1b]8;;\x07")],
        manifest: Some("{\"a\": \"\u{9b}31m\"}".into()),
    };
    h.send(Msg::Described { request, node: artifact, details });
    h.send(Msg::Expanded {
        request: 999,
        node: artifact,
        result: Err(sigscope::error::Error::malformed("manifest", "bad \x1b[5m reason")),
    });
    let t = h.render(120, 40);
    let buf = t.backend().buffer();
    for cell in buf.content() {
        assert!(
            !cell.symbol().chars().any(|c| c.is_control() || c == '\u{202e}'),
            "raw control in {:?}",
            cell.symbol()
        );
    }
    let screen = screen_text(&t);
    assert!(screen.contains("tag v1\\x1b[2J\\x1b]52;c;cHduZWQ=\\x07"), "{screen}");
    assert!(screen.contains("\\x1b[31mred\\u{202e}"), "{screen}");
    assert!(screen.contains("evil\\x1b[H"), "{screen}");
    assert!(screen.contains("\\x9b31m"), "{screen}");
}

#[test]
fn stale_results_are_dropped() {
    let mut sc = supply_chain();
    sc.h.select(sc.attestation);
    sc.h.key(KeyCode::Char('l'));
    let old = sc.h.expand[&sc.attestation];
    sc.h.key(KeyCode::Char('r'));
    let new = sc.h.expand[&sc.attestation];
    assert_ne!(old, new);
    let one_child = Expansion {
        manifest: None,
        children: vec![referrer(
            desc(30, media::OCI_MANIFEST, Some(media::NOTATION_SIGNATURE), 1),
            sigscope::graph::Via::ReferrersApi,
        )],
    };
    sc.h.send(Msg::Expanded { request: old, node: sc.attestation, result: Ok(one_child.clone()) });
    assert_eq!(sc.h.app.tree.graph.node(sc.attestation).load, LoadState::Loading, "the old answer is ignored");
    sc.h.send(Msg::Expanded { request: new, node: sc.attestation, result: Ok(one_child) });
    assert_eq!(sc.h.app.tree.graph.node(sc.attestation).load, LoadState::Loaded);
    assert_eq!(sc.h.app.tree.graph.node(sc.attestation).children.len(), 1);

    // A description for a node no longer awaited is dropped too.
    sc.h.select(sc.cosign);
    let stale = sc.h.describe[&sc.cosign];
    sc.h.select(sc.amd64);
    sc.h.send(Msg::Described { request: stale, node: sc.cosign, details: Details::default() });
    assert!(!sc.h.app.details.docs.contains_key(&sc.cosign));
}

#[test]
fn expand_collapse_and_parent_navigation() {
    let mut sc = supply_chain();
    sc.h.select(sc.timestamp);
    sc.h.key(KeyCode::Left); // a closed leaf: go to the parent
    assert_eq!(sc.h.app.selected(), Some(sc.notation));
    sc.h.key(KeyCode::Char('h')); // open: close it
    assert!(!sc.h.app.tree.rows.iter().any(|r| r.id == sc.timestamp));
    sc.h.key(KeyCode::Right); // loaded: open again without a request
    assert!(sc.h.app.tree.rows.iter().any(|r| r.id == sc.timestamp));
    sc.h.key(KeyCode::Char('G'));
    assert_eq!(sc.h.app.tree.cursor, sc.h.app.tree.rows.len() - 1);
    sc.h.key(KeyCode::Home);
    assert_eq!(sc.h.app.tree.cursor, 0);
    sc.h.select(sc.cycle);
    sc.h.key(KeyCode::Enter);
    assert_eq!(sc.h.app.tree.graph.node(sc.cycle).children.len(), 0, "a cycle is never expanded");
}

#[test]
fn copy_digest_and_reference() {
    let mut sc = supply_chain();
    sc.h.select(sc.notation);
    sc.h.key(KeyCode::Char('y'));
    assert_eq!(sc.h.effects.last().unwrap(), &format!("Copy({:?})", digest(10)));
    assert!(sc.h.app.notices.toast.as_ref().unwrap().text.starts_with("Sent to the terminal's clipboard: sha256:"));
    sc.h.key(KeyCode::Char('Y'));
    assert_eq!(sc.h.effects.last().unwrap(), &format!("Copy(\"registry.example/app@{}\")", digest(10)));
    snap("toast", &mut sc.h);
}

#[test]
fn mouse_click_selects_and_toggles_and_can_be_turned_off() {
    let mut sc = supply_chain();
    sc.h.render(80, 24);
    let tree = sc.h.app.areas().tree_rows;
    sc.h.send(click(tree.y + 1, tree.x + 12));
    assert_eq!(sc.h.app.selected(), Some(sc.index));
    sc.h.send(click(tree.y + 1, tree.x + 12)); // again: toggles it closed
    assert!(!sc.h.app.tree.open.contains(&sc.index));
    sc.h.key(KeyCode::Char('m'));
    assert!(!sc.h.app.look.mouse);
    assert_eq!(sc.h.effects.last().unwrap(), "SetMouse(false)");
    sc.h.send(click(tree.y, tree.x + 12));
    assert_eq!(sc.h.app.selected(), Some(sc.index), "clicks are ignored with the mouse off");
}

#[test]
fn bad_config_is_reported_with_file_and_line_and_defaults_kept() {
    use sigscope::tui::{TuiOptions, config, startup_options};
    let path = std::path::Path::new("/home/u/.config/sigscope/config.toml");
    let loaded = config::load_str(path, "theme = \"light\"\n[keys]\nquit = [\"Hyper-q\"]\n");
    let opts = TuiOptions { theme: None, mouse: true, ..Default::default() };
    let options = startup_options(loaded, &opts, true);
    let status = options.startup_status.clone().expect("status");
    assert!(status.text.starts_with("/home/u/.config/sigscope/config.toml:3: "), "{}", status.text);
    assert_eq!(options.keymap, sigscope::tui::keymap::Keymap::default());
    assert_eq!(options.theme.name, "mono", "NO_COLOR wins");

    let mut h = Harness::new(vec![NodeKind::Repository { name: "app".into() }]);
    let opened = sigscope::open::Opened {
        target: "x".into(),
        source: std::sync::Arc::new(NoSource),
        roots: vec![NodeKind::Repository { name: "app".into() }],
    };
    h.app = sigscope::tui::App::new(opened, options);
    let t = h.render(120, 24);
    assert!(
        row_text(&t, 23).contains("✗ /home/u/.config/sigscope/config.toml:3: [keys] quit:"),
        "{}",
        row_text(&t, 23)
    );
}

#[test]
fn theme_command_switches_and_cli_flag_wins_over_config() {
    use sigscope::tui::{TuiOptions, config, startup_options};
    let loaded = config::load_str(std::path::Path::new("c.toml"), "theme = \"light\"\nmouse = false\n");
    let opts = TuiOptions { theme: Some("high-contrast".into()), mouse: true, ..Default::default() };
    let options = startup_options(loaded, &opts, false);
    assert_eq!(options.theme.name, "high-contrast");
    assert!(!options.mouse, "config can turn the mouse off");
    let mut sc = supply_chain();
    sc.h.key(KeyCode::Char(':'));
    sc.h.chars("theme light");
    sc.h.key(KeyCode::Enter);
    // The harness runs as if NO_COLOR were set: mono stays.
    assert_eq!(sc.h.app.look.theme.name, "mono");
    assert!(row_text(&sc.h.render(80, 24), 23).contains("NO_COLOR"));
}

#[test]
fn descriptions_are_cached_per_node_and_the_spinner_only_ticks_while_busy() {
    let mut sc = supply_chain();
    sc.h.select(sc.cosign);
    let request = sc.h.describe[&sc.cosign];
    sc.h.send(Msg::Described { request, node: sc.cosign, details: Details::default() });
    let mine = format!("node: {} }}", sc.cosign);
    let describes = |h: &Harness| h.effects.iter().filter(|e| e.starts_with("Describe") && e.ends_with(&mine)).count();
    let before = describes(&sc.h);
    sc.h.select(sc.tag);
    sc.h.select(sc.cosign);
    assert_eq!(describes(&sc.h), before, "cached: no second request");
    assert_eq!(sc.h.app.in_flight(), 0);
    let frame = sc.h.app.spinner;
    sc.h.send(Msg::Tick);
    assert_eq!(sc.h.app.spinner, frame, "idle: the spinner stands still");
    sc.h.key(KeyCode::Char('r'));
    sc.h.send(Msg::Tick);
    assert_ne!(sc.h.app.spinner, frame);
    assert!(sc.h.render(80, 24).backend().buffer().content().iter().any(|c| c.symbol() == "⟳"));
}

#[test]
fn help_scrolls_within_bounds() {
    let mut sc = supply_chain();
    sc.h.key(KeyCode::Char('?'));
    sc.h.render(80, 24);
    for _ in 0..200 {
        sc.h.key(KeyCode::Char('j'));
    }
    let Mode::Help { scroll: bottom } = sc.h.app.mode else { panic!("help closed") };
    let all = sigscope::tui::view::help_lines(&sc.h.app).len();
    assert_eq!(bottom, all - usize::from(sc.h.app.areas().help_text.height), "stops at the last page");
    let t = sc.h.render(80, 24);
    assert!(screen_text(&t).contains("requests in flight"), "the last help line is reachable");
    sc.h.key(KeyCode::Char('k'));
    assert_eq!(sc.h.app.mode, Mode::Help { scroll: bottom - 1 }, "no dead scrolling past the end");
}
