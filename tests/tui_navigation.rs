//! Moving around as k9s and lazygit users expect: `:open` of any kind of target whatever
//! sigscope started with, a failed `:open` that leaves the tree alone, `[` / `]` / Backspace
//! through opened targets, `E` / `C` on a subtree, a filter that matches the verdict words
//! the rows show, `n` saying when it wraps, tags in version order and referrers by kind.

mod common;

use crossterm::event::KeyCode;
use sigscope::graph::{ArtifactKind, LoadState, NodeKind};
use sigscope::notation::dir::snapshot;
use sigscope::tui::theme::Theme;
use sigscope::tui::{AppOptions, Msg};

use common::tui::*;

fn demo(notation: Option<&std::path::Path>) -> Harness {
    let mut options = options(notation);
    options.open_options.registry = common::test_options();
    verifying(sigscope::demo::opened(), options)
}

fn command(h: &mut Harness, line: &str) {
    h.key(KeyCode::Char(':'));
    h.chars(line);
    h.key(KeyCode::Enter);
    h.run_effects();
}

#[test]
fn open_takes_a_layout_from_the_demo_and_a_registry_from_a_layout_and_back_returns() {
    let tmp = tempfile::tempdir().unwrap();
    sigscope::demo::export(tmp.path()).unwrap();
    let layout = tmp.path().join("layout");
    let mut h = demo(None);
    assert_eq!(h.app.location.target, sigscope::demo::opened().target);

    command(&mut h, &format!("open {}", layout.display()));
    assert_eq!(h.app.location.target, layout.display().to_string(), "{:?}", h.app.notices.status);
    assert!(h.app.location.source.name().contains(&layout.display().to_string()));
    let tagged = format!("open {}:signed", layout.display());
    command(&mut h, &tagged);
    assert!(
        matches!(&h.app.tree.graph.node(h.app.tree.graph.roots[0]).kind, NodeKind::Tag { tag, .. } if tag == "signed")
    );

    // A registry from a layout.
    let server = common::Server::docker_registry();
    command(&mut h, &format!("open {}", server.host));
    assert_eq!(h.app.location.source.name(), server.host, "{:?}", h.app.notices.status);
    assert!(matches!(h.app.tree.graph.node(h.app.tree.graph.roots[0]).kind, NodeKind::Registry { .. }));

    // A failed :open leaves what is shown in place and says why.
    let before = h.app.location.target.clone();
    command(&mut h, "open /nonexistent/sigscope/layout-that-is-not-there");
    assert_eq!(h.app.location.target, before);
    assert!(h.app.notices.status.as_ref().unwrap().text.contains("cannot open"), "{:?}", h.app.notices.status);

    // Back through what was opened, then forward.
    h.key(KeyCode::Char('['));
    h.run_effects();
    assert!(h.app.location.target.ends_with(":signed"), "{}", h.app.location.target);
    h.key(KeyCode::Backspace);
    h.run_effects();
    assert_eq!(h.app.location.target, layout.display().to_string());
    h.key(KeyCode::Char('['));
    h.run_effects();
    assert_eq!(h.app.location.target, sigscope::demo::opened().target);
    assert!(matches!(h.app.tree.graph.node(tag_node(&h, "signed")).load, LoadState::NotLoaded | LoadState::Loaded));
    h.key(KeyCode::Char('['));
    assert!(h.app.notices.status.as_ref().unwrap().text.contains("nothing to go back to"));
    h.key(KeyCode::Char(']'));
    h.run_effects();
    assert_eq!(h.app.location.target, layout.display().to_string());
}

#[test]
fn expand_all_opens_and_loads_the_subtree_and_collapse_all_closes_it() {
    let mut h = demo(None);
    let tag = tag_node(&h, "signed");
    h.select(tag);
    h.key(KeyCode::Char('E'));
    h.run_effects();
    let image = h.child(tag, 0);
    assert!(h.app.tree.open.contains(&tag) && h.app.tree.open.contains(&image));
    let referrers = h.app.tree.graph.node(image).children.clone();
    assert!(referrers.len() >= 4, "the demo's signed image has its referrers loaded");
    for r in &referrers {
        assert!(h.app.tree.graph.node(*r).load != LoadState::NotLoaded, "referrer {r} was loaded");
    }
    let rows_open = h.app.tree.rows.len();
    h.select(tag);
    h.key(KeyCode::Char('C'));
    assert!(!h.app.tree.open.contains(&tag) && !h.app.tree.open.contains(&image));
    assert!(h.app.tree.rows.len() < rows_open);
}

#[test]
fn the_filter_matches_verdict_words_and_envelope_formats() {
    let tmp = tempfile::tempdir().unwrap();
    let notation = demo_notation(tmp.path());
    let mut h = demo(Some(&notation));
    // Open every tag so the signatures are on screen with their verdicts.
    let root = h.app.tree.graph.roots[0];
    h.select(root);
    h.key(KeyCode::Char('E'));
    h.run_effects();

    h.key(KeyCode::Char('/'));
    h.chars("failed");
    h.key(KeyCode::Enter);
    // Nothing in the tampered image's label says "failed": only its verdict does.
    let tampered = h.child(tag_node(&h, "tampered"), 0);
    assert!(!sigscope::tui::label::node_text(&h.app.tree.graph, tampered).contains("failed"));
    assert!(h.app.tree.filter.matches.contains(&tampered), "the tampered image matches its verdict word");
    let signed = h.child(tag_node(&h, "signed"), 0);
    assert!(!h.app.tree.filter.matches.contains(&signed), "a verified image does not");
    h.key(KeyCode::Esc);

    h.key(KeyCode::Char('/'));
    h.chars("cose");
    h.key(KeyCode::Enter);
    assert!(!h.app.tree.filter.matches.is_empty(), "COSE signatures match their envelope format");
    for &m in &h.app.tree.filter.matches {
        let a = h.app.tree.graph.node(m).artifact().expect("only signatures match");
        assert_eq!(a.kind, ArtifactKind::NotationSignature);
    }
    // n past the last match wraps, and says so.
    let n = h.app.tree.filter.ordered.len();
    for _ in 0..n {
        h.key(KeyCode::Char('n'));
    }
    let toast = h.app.notices.toast.clone().map(|t| t.text).unwrap_or_default();
    assert!(toast.contains("wrapped"), "{toast:?} after {n} matches");
}

#[test]
fn tags_are_in_version_order_and_referrers_grouped_by_kind() {
    let server = common::Server::docker_registry();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let client = sigscope::source::registry::RegistryClient::new(&server.host, common::test_options()).unwrap();
    rt.block_on(async {
        for tag in ["v1.10", "v1.9", "v2", "latest"] {
            common::fixtures::push_image(&client, "app", tag, "amd64").await;
        }
    });
    let opened = sigscope::open::open(
        &format!("{}/app", server.host),
        &sigscope::open::OpenOptions { oci_layout: false, registry: common::test_options(), ..Default::default() },
    )
    .unwrap();
    let mut options = AppOptions::new(Theme::resolve(None, true).unwrap());
    options.no_color = true;
    let mut h = Harness::with(opened, options);
    h.run_effects();
    let repo = h.app.tree.graph.roots[0];
    let tags: Vec<String> = h
        .app
        .tree
        .graph
        .node(repo)
        .children
        .iter()
        .map(|&c| match &h.app.tree.graph.node(c).kind {
            NodeKind::Tag { tag, .. } => tag.clone(),
            k => panic!("{k:?}"),
        })
        .collect();
    assert_eq!(tags, ["latest", "v1.9", "v1.10", "v2"]);

    // The demo's signed image: signatures, then SBOMs, then attestations.
    let mut h = demo(None);
    let tag = tag_node(&h, "signed");
    h.select(tag);
    h.key(KeyCode::Char('l'));
    h.run_effects();
    let image = h.child(tag, 0);
    let groups: Vec<u8> = h
        .app
        .tree
        .graph
        .node(image)
        .children
        .iter()
        .map(|&c| match h.app.tree.graph.node(c).artifact().unwrap().kind {
            k if k.is_signature() => 0,
            k if k.is_sbom() => 1,
            ArtifactKind::InTotoAttestation | ArtifactKind::CosignAttestation => 2,
            _ => 3,
        })
        .collect();
    let mut sorted = groups.clone();
    sorted.sort();
    assert_eq!(groups, sorted, "grouped by kind");
    assert!(groups.contains(&0) && groups.contains(&1));
}

#[test]
fn help_is_searchable_with_slash() {
    let mut h = demo(None);
    h.key(KeyCode::Char('?'));
    let full = sigscope::tui::view::help_lines(&h.app).len();
    h.key(KeyCode::Char('/'));
    h.chars("refresh");
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("/refresh█"), "{screen}");
    let found = sigscope::tui::view::help_lines(&h.app);
    assert!(found.len() < full / 3, "{} of {full} lines", found.len());
    let text: Vec<String> = found.iter().map(|l| l.iter().map(|(_, s)| s.as_str()).collect()).collect();
    assert!(text.iter().any(|l| l.contains("Reload the whole tree")), "{text:?}");
    assert!(text.iter().all(|l| l.to_lowercase().contains("refresh") || l.contains("Reload") || !l.starts_with("  ")));
    // Enter keeps the search, Esc clears it, a second Esc closes help.
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.mode, sigscope::tui::app::Mode::Help { .. }));
    h.key(KeyCode::Esc);
    assert_eq!(sigscope::tui::view::help_lines(&h.app).len(), full);
    h.key(KeyCode::Esc);
    assert_eq!(h.app.mode, sigscope::tui::app::Mode::Normal);
}

#[test]
fn the_tree_title_says_where_the_cursor_is() {
    let mut h = demo(None);
    let rows = h.app.tree.rows.len();
    assert!(rows > 3);
    assert!(row_text(&h.render(120, 40), 1).contains(&format!("1/{rows}")), "{}", screen_text(&h.render(120, 40)));
    h.key(KeyCode::Char('j'));
    h.key(KeyCode::Char('j'));
    assert!(row_text(&h.render(80, 24), 1).contains(&format!("3/{rows}")), "{}", screen_text(&h.render(80, 24)));
}

#[test]
fn rows_say_how_old_what_they_show_is() {
    // The app reads time only from its clock: moving it moves the rows' ages, no sleeping.
    let clock = std::sync::Arc::new(sigscope::tui::clock::ManualClock::at(chrono::Utc::now()));
    let mut options = AppOptions::new(Theme::resolve(None, true).unwrap());
    options.no_color = true;
    options.clock = clock.clone();
    let mut h = Harness::with(sigscope::demo::opened(), options);
    h.run_effects();
    assert!(!screen_text(&h.render(120, 40)).contains("fetched"), "fresh rows say nothing");
    clock.advance(sigscope::tui::app::STALE_AFTER - std::time::Duration::from_secs(1));
    h.send(Msg::Tick);
    assert!(!screen_text(&h.render(120, 40)).contains("fetched"), "not stale yet");
    clock.advance(std::time::Duration::from_secs(61));
    h.send(Msg::Tick);
    let screen = screen_text(&h.render(120, 40));
    let repo_row = screen.lines().find(|l| l.contains("repo demo")).unwrap();
    let mins = (sigscope::tui::app::STALE_AFTER.as_secs() + 60) / 60;
    assert!(repo_row.contains(&format!("fetched {mins} min ago")), "{screen}");
    // A refresh makes the row fresh again.
    h.key(KeyCode::Char('g'));
    h.key(KeyCode::Char('R'));
    h.run_effects();
    assert!(!screen_text(&h.render(120, 40)).contains("fetched"), "{}", screen_text(&h.render(120, 40)));
    assert_eq!(sigscope::tui::app::age_text(std::time::Duration::from_secs(7 * 60)), "fetched 7 min ago");
    assert_eq!(sigscope::tui::app::age_text(std::time::Duration::from_secs(3 * 3600)), "fetched 3 h ago");
}

#[test]
fn a_toast_goes_when_its_time_is_up_on_the_apps_clock() {
    let clock = std::sync::Arc::new(sigscope::tui::clock::ManualClock::at(chrono::Utc::now()));
    let mut options = AppOptions::new(Theme::resolve(None, true).unwrap());
    options.clock = clock.clone();
    let mut h = Harness::with(sigscope::demo::opened(), options);
    h.run_effects();
    h.key(KeyCode::Char('m'));
    assert!(h.app.notices.toast.is_some(), "switching the mouse off says so in a toast");
    clock.advance(std::time::Duration::from_secs(2));
    h.send(Msg::Tick);
    assert!(h.app.notices.toast.is_some(), "still shown after 2 s");
    clock.advance(std::time::Duration::from_secs(2));
    h.send(Msg::Tick);
    assert!(h.app.notices.toast.is_none(), "gone after 4 s");
}

#[test]
fn open_from_the_demo_verifies_with_the_users_policy_not_the_demos() {
    let tmp = tempfile::tempdir().unwrap();
    sigscope::demo::export(tmp.path()).unwrap();
    let demo_dir = tmp.path().join("notation");
    // The user's own Notation directory: the same CA, but a permissive policy.
    let user_dir = tmp.path().join("user-notation");
    std::fs::create_dir_all(&user_dir).unwrap();
    sigscope::demo::write_notation(&user_dir).unwrap();
    let policy = user_dir.join("trustpolicy.oci.json");
    let text = std::fs::read_to_string(&policy).unwrap();
    std::fs::write(&policy, text.replace("\"strict\"", "\"permissive\"")).unwrap();

    let mut options = options(Some(&demo_dir));
    options.opened_notation_dir = Some(user_dir.clone());
    let mut h = verifying(sigscope::demo::opened(), options);
    let verdict_of = |h: &Harness, tag: &str| match h.app.node_verify(tag_node(h, tag)) {
        Some(sigscope::tui::app::NodeVerify::Done(r)) => r.verdict.word().to_string(),
        other => format!("{other:?}"),
    };
    assert_eq!(verdict_of(&h, "expired"), "failed");

    command(&mut h, &format!("open {}", tmp.path().join("layout").display()));
    assert_eq!(h.app.vs.dir.as_deref(), Some(user_dir.as_path()));
    assert!(h.effects.iter().any(|e| e.contains("WatchPolicy") && e.contains("user-notation")), "{:?}", h.effects);
    // The demo's watcher may still report once: it is not news any more.
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&demo_dir))));
    h.run_effects();
    assert_ne!(verdict_of(&h, "expired"), "failed", "the demo's policy is not applied to the opened layout");
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&user_dir))));
    h.run_effects();
    assert_eq!(verdict_of(&h, "expired"), "warnings", "the user's permissive policy is in force");

    h.key(KeyCode::Char('['));
    h.run_effects();
    assert_eq!(h.app.vs.dir.as_deref(), Some(demo_dir.as_path()), "back at the demo, the demo's policy again");
}

#[test]
fn a_cut_status_message_points_to_the_message_log_which_has_it_whole() {
    let mut h = demo(None);
    let target = format!("/nonexistent/{}/layout", "very-long-directory-name-".repeat(4));
    command(&mut h, &format!("open {target}"));
    let bottom = row_text(&h.render(80, 24), 23);
    assert!(bottom.contains('…') && bottom.contains("M full text"), "{bottom}");
    h.key(KeyCode::Char('M'));
    let screen = screen_text(&h.render(80, 24));
    let joined: String = screen.lines().map(|l| l.trim_matches(|c: char| c == '│' || c == ' ')).collect();
    assert!(joined.contains("very-long-directory-name-very-long-directory-name-"), "{screen}");
    h.key(KeyCode::Esc);
    assert_eq!(h.app.mode, sigscope::tui::app::Mode::Normal);
}

#[test]
fn a_help_search_for_a_section_shows_the_section_and_one_that_finds_nothing_says_so() {
    let mut h = demo(None);
    h.key(KeyCode::Char('?'));
    h.key(KeyCode::Char('/'));
    h.chars("legend");
    let found = sigscope::tui::view::help_lines(&h.app);
    let text: Vec<String> = found.iter().map(|l| l.iter().map(|(_, s)| s.as_str()).collect()).collect();
    assert!(text.iter().any(|l| l.contains("verified: a signature passed")), "{text:?}");
    assert!(text.len() > 15, "the whole legend: {text:?}");
    for _ in 0.."legend".len() {
        h.key(KeyCode::Backspace);
    }
    h.chars("zzqx");
    let screen = screen_text(&h.render(80, 24));
    assert!(screen.contains("nothing in help holds"), "{screen}");
}

#[test]
fn a_failure_that_may_pass_again_says_how_to_retry_and_one_that_cannot_does_not() {
    use sigscope::error::Error;
    let repo = || NodeKind::Repository { name: "app".into() };
    let fail = |error: Error| {
        let mut h = Harness::new(vec![repo()]);
        let root = h.app.tree.graph.roots[0];
        let request = h.expand[&root];
        h.send(Msg::Expanded { request, node: root, result: Err(error) });
        assert!(matches!(h.app.tree.graph.node(root).load, LoadState::Failed(_)), "the node shows the failure");
        h.app.notices.status.clone().map(|s| s.text).unwrap_or_default()
    };
    let timeout = fail(Error::Timeout { target: "registry.example".into(), detail: "no answer in 10 s".into() });
    assert!(timeout.contains("no answer in 10 s") && timeout.contains("r tries again"), "{timeout}");
    let busy = fail(Error::Server { target: "registry.example".into(), status: 503, detail: "busy".into() });
    assert!(busy.contains("r tries again"), "{busy}");
    let integrity =
        fail(Error::Integrity { what: "manifest".into(), expected: "sha256:aa".into(), actual: "sha256:bb".into() });
    assert!(!integrity.contains("tries again"), "asking again cannot fix content that failed its digest: {integrity}");
}
