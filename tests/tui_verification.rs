//! Verification in the TUI, on the built-in demo with its own policy and CA: verdicts in tree
//! rows and in the verification panel (snapshots at 80×24 and 120×40, NO_COLOR), stale
//! results, an invalid policy keeping the last good one, what-if, and writing the policy back.
//! Reports come from the real verifier: the harness runs the app's effects for real.

mod common;

use std::path::Path;

use crossterm::event::KeyCode;
use sigscope::graph::{NodeId, NodeKind};
use sigscope::notation::dir::snapshot;
use sigscope::notation::policy::{Level, TrustPolicy};
use sigscope::notation::verifier::Verdict;
use sigscope::tui::app::Mode;
use sigscope::tui::app::NodeVerify;
use sigscope::tui::effects::execute;
use sigscope::tui::{Effect, Msg};

use common::tui::*;

/// A Notation directory with the demo's policy and CA, private to this run; its path shows in
/// the panel, so it keeps one length (see [`ShownNotationDir`]).
fn notation_dir(name: &str) -> ShownNotationDir {
    ShownNotationDir::new("sigscope-tui-verify-", name)
}

fn demo(name: &str) -> (Harness, ShownNotationDir) {
    demo_with(name, false)
}

fn demo_with(name: &str, read_only: bool) -> (Harness, ShownNotationDir) {
    let dir = notation_dir(name);
    let mut options = options(Some(&dir));
    options.read_only = read_only;
    let h = verifying(sigscope::demo::opened(), options);
    assert!(h.effects.iter().any(|e| e.starts_with("WatchPolicy")), "{:?}", h.effects);
    (h, dir)
}

/// Expands tag `tag` and returns its image node, verified.
fn open_tag(h: &mut Harness, tag: &str) -> NodeId {
    let id = tag_node(h, tag);
    h.select(id);
    h.key(KeyCode::Char('l'));
    h.run_effects();
    h.child(id, 0)
}

fn verdict(h: &Harness, id: NodeId) -> Verdict {
    match h.app.node_verify(id) {
        Some(NodeVerify::Done(r)) => r.verdict.clone(),
        other => panic!("node {id} not verified: {other:?}"),
    }
}

fn set_level(dir: &Path, from: &str, to: &str) {
    let path = dir.join("trustpolicy.oci.json");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from));
    std::fs::write(&path, text.replace(from, to)).unwrap();
}

fn snap_panel(name: &str, h: &mut Harness, dir: &ShownNotationDir) {
    h.run_effects(); // the selection's details
    h.app.notices.toast = None;
    for (w, ht) in [(80, 24), (120, 40)] {
        let screen = dir.redact(&h.render(w, ht).backend().to_string());
        insta::assert_snapshot!(format!("{name}_{w}x{ht}"), screen);
    }
}

/// The tree row of `id` (found by its short digest) on a wide screen.
fn row_of(h: &mut Harness, id: NodeId) -> String {
    let short = sigscope::oci::short_digest(&h.app.tree.graph.node(id).artifact().unwrap().descriptor.digest);
    let screen = screen_text(&h.render(200, 40));
    let row = screen.lines().skip(1).find(|l| l.contains(&format!("{short} ")));
    row.unwrap_or_else(|| panic!("no row of {short}:\n{screen}")).to_string()
}

/// Whether a tree row shows a verdict: its glyph in the verdict column (right after the fold
/// glyph) and its word after the identity.
fn shows(row: &str, badge: &str) -> bool {
    let (glyph, word) = badge.split_once(' ').expect("glyph and word");
    row.lines().any(|l| l.contains(&format!("{glyph} ")) && l.contains(word))
}

fn line_of(h: &mut Harness, width: u16, needle: &str) -> String {
    screen_text(&h.render(width, 40))
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}"))
        .to_string()
}

#[test]
fn verdicts_in_rows_match_the_demo() {
    let (mut h, _dir) = demo("rows");
    let expected = [
        ("signed", "verified"),
        ("tampered", "failed"),
        ("expired", "failed"),
        ("untrusted", "failed"),
        ("unsigned", "unsigned"),
    ];
    for (tag, word) in expected {
        let image = open_tag(&mut h, tag);
        assert_eq!(verdict(&h, image).word(), word, "{tag}");
    }
    let failed_check = |h: &Harness, tag| match verdict(h, open_tag_id(h, tag)) {
        Verdict::Failed { check, .. } => check.map(|c| c.name()),
        v => panic!("{v:?}"),
    };
    assert_eq!(failed_check(&h, "tampered"), Some("integrity"));
    assert_eq!(failed_check(&h, "expired"), Some("expiry"));
    assert_eq!(failed_check(&h, "untrusted"), Some("authenticity"));
    // Rows carry glyph and word; the signature row its own result.
    let screen = screen_text(&h.render(160, 40));
    let row = |tag: &str| {
        let short = sigscope::oci::short_digest(
            &h.app.tree.graph.node(open_tag_id(&h, tag)).artifact().unwrap().descriptor.digest,
        );
        screen.lines().find(|l| l.contains(&short)).unwrap().to_string()
    };
    assert!(shows(&row("signed"), "✓ verified"), "{screen}");
    assert!(shows(&row("expired"), "✗ failed: expiry"), "{screen}");
    assert!(shows(&row("tampered"), "✗ failed: integrity"), "{screen}");
    assert!(shows(&row("unsigned"), "- unsigned"), "{screen}");
    let sigs: Vec<&str> = screen.lines().filter(|l| l.contains("Notation signature")).collect();
    assert!(sigs.iter().any(|l| shows(l, "✗ failed: expiry")), "{screen}");
    assert!(sigs.iter().any(|l| shows(l, "✓ verified")), "{screen}");
}

fn open_tag_id(h: &Harness, tag: &str) -> NodeId {
    let id = (0..h.app.tree.graph.nodes.len())
        .find(|&i| matches!(&h.app.tree.graph.node(i).kind, NodeKind::Tag { tag: t, .. } if t == tag))
        .unwrap();
    h.child(id, 0)
}

#[test]
fn multiarch_platforms_are_verified_each() {
    let (mut h, _dir) = demo("multiarch");
    let index = open_tag(&mut h, "multiarch");
    let platforms: Vec<NodeId> = h
        .app
        .tree
        .graph
        .node(index)
        .children
        .iter()
        .copied()
        .filter(|&c| sigscope::tui::app::is_subject(&h.app, c))
        .collect();
    assert_eq!(platforms.len(), 2);
    for p in platforms {
        assert_eq!(verdict(&h, p).word(), "verified");
    }
    // The index carries its own signature too.
    assert_eq!(verdict(&h, index).word(), "verified");
}

#[test]
fn panel_for_a_verified_image() {
    let (mut h, dir) = demo("panel-verified");
    let image = open_tag(&mut h, "signed");
    h.select(image);
    h.key(KeyCode::Char('v'));
    snap_panel("verify_panel_verified", &mut h, &dir);
}

#[test]
fn panel_for_a_failed_image() {
    let (mut h, dir) = demo("panel-failed");
    let image = open_tag(&mut h, "untrusted");
    h.select(image);
    h.key(KeyCode::Char('v'));
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("✗ authenticity"), "{screen}");
    assert!(screen.contains("fail (enforced)"), "{screen}");
    snap_panel("verify_panel_failed", &mut h, &dir);
}

#[test]
fn panel_for_an_expired_image_at_permissive() {
    let (mut h, dir) = demo("panel-warnings");
    set_level(&dir, "\"strict\"", "\"permissive\"");
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    h.run_effects();
    let image = open_tag(&mut h, "expired");
    assert!(matches!(verdict(&h, image), Verdict::VerifiedWithWarnings { .. }));
    h.select(image);
    h.key(KeyCode::Char('v'));
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("! expiry"), "{screen}");
    assert!(screen.contains("fail (logged)"), "{screen}");
    snap_panel("verify_panel_warnings", &mut h, &dir);
}

#[test]
fn a_signature_node_shows_its_own_checks() {
    let (mut h, _dir) = demo("signature");
    let image = open_tag(&mut h, "expired");
    let sig = h.child(image, 0);
    h.select(sig);
    h.key(KeyCode::Char('v'));
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("Verdict (signature) ✗ failed: expiry"), "{screen}");
    assert!(shows(&row_of(&mut h, sig), "✗ failed: expiry"), "{}", row_of(&mut h, sig));
}

#[test]
fn stale_results_are_dropped() {
    let (mut h, dir) = demo("stale");
    let image = open_tag(&mut h, "expired");
    // A reload (same strict policy) asks for the image again; that answer is held back.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    let old = h
        .queue
        .remove(h.queue.iter().position(|e| matches!(e, Effect::Verify { node, .. } if *node == image)).unwrap());
    assert!(matches!(h.app.node_verify(image), Some(NodeVerify::Pending)));
    assert!(
        shows(&line_of(&mut h, 160, "expired"), "⟳ verifying…")
            || shows(&screen_text(&h.render(160, 40)), "⟳ verifying…")
    );
    // The policy changes to permissive before the strict answer arrives.
    set_level(&dir, "\"strict\"", "\"permissive\"");
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    let stale = rt.block_on(execute(old)).unwrap();
    h.send(stale);
    assert!(matches!(h.app.node_verify(image), Some(NodeVerify::Pending)), "the strict answer was dropped");
    h.run_effects();
    assert!(matches!(verdict(&h, image), Verdict::VerifiedWithWarnings { .. }));
}

#[test]
fn an_invalid_policy_keeps_the_last_good_one_and_says_why() {
    let (mut h, dir) = demo("invalid");
    let image = open_tag(&mut h, "expired");
    set_level(&dir, "\"strict\"", "\"lenient\"");
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    h.run_effects();
    // Still verified with the strict policy.
    assert!(matches!(verdict(&h, image), Verdict::Failed { .. }));
    let status = h.app.notices.status.clone().expect("status says why");
    assert!(status.text.contains("\"sigscope-demo\""), "{}", status.text);
    assert!(status.text.contains("signatureVerification.level"), "{}", status.text);
    assert!(status.text.contains("lenient"), "{}", status.text);
    assert!(status.text.contains("keeping the last good policy"), "{}", status.text);
    assert!(h.app.notices.toast.as_ref().is_some_and(|t| t.text.contains("invalid")));
    h.select(image);
    h.key(KeyCode::Char('v'));
    h.key(KeyCode::Tab);
    h.key(KeyCode::Char('G'));
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("✗ not in force"), "{screen}");
    assert!(screen.contains("last good policy"), "{screen}");
    assert!(screen.contains("✗ policy invalid"), "{screen}");
    // Fixed again: back in force, with a toast.
    set_level(&dir, "\"lenient\"", "\"permissive\"");
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    h.run_effects();
    assert!(h.app.vs.error.is_none());
    assert!(matches!(verdict(&h, image), Verdict::VerifiedWithWarnings { .. }));
}

#[test]
fn what_if_changes_verdicts_and_resets() {
    let (mut h, _dir) = demo("what-if");
    let expired = open_tag(&mut h, "expired");
    let untrusted = open_tag(&mut h, "untrusted");
    h.select(expired);
    assert!(matches!(verdict(&h, expired), Verdict::Failed { .. }));
    h.key(KeyCode::Char('L')); // strict → permissive
    h.run_effects();
    assert!(h.app.vs.what_if.is_active());
    assert!(matches!(verdict(&h, expired), Verdict::VerifiedWithWarnings { .. }));
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("◆ WHAT-IF"), "{screen}");
    assert!(shows(&row_of(&mut h, expired), "! warnings"));
    // audit: authenticity is only logged, so the untrusted signer passes with warnings.
    h.key(KeyCode::Char('L'));
    h.run_effects();
    assert!(matches!(verdict(&h, untrusted), Verdict::VerifiedWithWarnings { .. }));
    h.key(KeyCode::Char('L')); // skip
    h.run_effects();
    assert_eq!(verdict(&h, expired), Verdict::Skipped);
    h.key(KeyCode::Char('X'));
    h.run_effects();
    assert!(!h.app.vs.what_if.is_active());
    assert!(matches!(verdict(&h, expired), Verdict::Failed { .. }));
    assert!(matches!(verdict(&h, untrusted), Verdict::Failed { .. }));
}

#[test]
fn what_if_identity_pins_the_signer() {
    let (mut h, _dir) = demo("identity");
    let signed = open_tag(&mut h, "signed");
    h.select(signed);
    h.key(KeyCode::Char('I'));
    h.run_effects();
    let policy = h.app.vs.effective().unwrap();
    let ids: Vec<String> = policy.statements[0].trusted_identities.iter().map(|i| i.to_string()).collect();
    assert_eq!(ids.len(), 1);
    assert!(ids[0].starts_with("x509.subject:CN=sigscope demo signer"), "{ids:?}");
    assert_eq!(verdict(&h, signed), Verdict::Verified);
    h.key(KeyCode::Char('I'));
    h.run_effects();
    assert!(!h.app.vs.what_if.is_active(), "back to * as in the file");
}

#[test]
fn write_back_shows_the_diff_and_writes_the_file() {
    let (mut h, dir) = demo("write");
    let expired = open_tag(&mut h, "expired");
    h.select(expired);
    h.key(KeyCode::Char('W'));
    assert_eq!(h.app.mode, Mode::Normal, "nothing to write without edits");
    h.key(KeyCode::Char('L'));
    h.run_effects();
    h.key(KeyCode::Char('W'));
    let Mode::Confirm { diff, json, path, .. } = h.app.mode.clone() else { panic!("no confirmation") };
    assert_eq!(path, dir.join("trustpolicy.oci.json"));
    let changed: Vec<String> =
        diff.iter().filter(|(m, _)| *m != ' ').map(|(m, l)| format!("{m}{}", l.trim())).collect();
    assert_eq!(changed, vec!["-\"level\": \"strict\"", "+\"level\": \"permissive\""]);
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("Write the trust policy?"), "{screen}");
    assert!(screen.lines().any(|l| l.contains("+ ") && l.contains("\"level\": \"permissive\"")), "{screen}");
    assert!(screen.lines().any(|l| l.contains("- ") && l.contains("\"level\": \"strict\"")), "{screen}");
    // Anything but y cancels.
    h.key(KeyCode::Enter);
    assert_eq!(h.app.mode, Mode::Normal);
    assert!(h.queue.iter().all(|e| !matches!(e, Effect::WritePolicy { .. })));
    let on_disk = std::fs::read_to_string(&path).unwrap();
    assert!(on_disk.contains("strict"));
    // y writes.
    h.key(KeyCode::Char('W'));
    h.key(KeyCode::Char('y'));
    h.run_effects();
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(written, json);
    let expected = TrustPolicy::parse(&String::from_utf8(sigscope::demo::export::trust_policy()).unwrap()).unwrap();
    let mut expected = expected;
    expected.statements[0].level = Level::Permissive;
    assert_eq!(TrustPolicy::parse(&written).unwrap(), expected);
    assert_eq!(written, expected.to_json());
    assert!(!h.app.vs.what_if.is_active(), "the file holds the edit now");
    assert!(matches!(verdict(&h, expired), Verdict::VerifiedWithWarnings { .. }));
    // No temporary file is left beside it.
    let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.iter().filter(|n| n.to_string_lossy().contains("tmp")).count(), 0, "{names:?}");
    // The watcher's reload of the same content changes nothing.
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    h.run_effects();
    assert!(!h.app.vs.what_if.is_active());
}

/// `--read-only`: what-if still works in memory, but `W` neither asks nor writes, and no screen
/// offers it (help overlay, panel hints, the what-if line).
#[test]
fn read_only_refuses_the_write_back_and_hides_its_key() {
    let (mut h, dir) = demo_with("read-only", true);
    let path = dir.join("trustpolicy.oci.json");
    let before = std::fs::read_to_string(&path).unwrap();
    let expired = open_tag(&mut h, "expired");
    h.select(expired);
    h.key(KeyCode::Char('L'));
    h.run_effects();
    assert!(h.app.vs.what_if.is_active(), "what-if is not a write and stays available");
    h.key(KeyCode::Char('W'));
    assert_eq!(h.app.mode, Mode::Normal, "no confirmation under --read-only");
    h.run_effects();
    assert!(h.queue.iter().all(|e| !matches!(e, Effect::WritePolicy { .. })));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), before, "the policy file is untouched");
    h.key(KeyCode::Char('v'));
    let screen = screen_text(&h.render(120, 40));
    assert!(!screen.contains("W write"), "{screen}");
    let panel: String =
        sigscope::tui::view::verify_lines(&h.app, expired, 80).iter().map(|l| format!("{l:?}")).collect();
    assert!(panel.contains("read-only: not written"), "the panel says why nothing is written: {panel}");
    h.key(KeyCode::Char('?'));
    let help = screen_text(&h.render(120, 40));
    assert!(help.contains("Help"), "{help}");
    let all_help: String = sigscope::tui::view::help_lines(&h.app).iter().map(|l| format!("{l:?}")).collect();
    assert!(!all_help.contains("Write the what-if policy"), "help offers no write: {all_help}");
    // The same app without --read-only does offer it (the assertion above can fail).
    let (h2, _dir2) = demo("read-write");
    let all_help: String = sigscope::tui::view::help_lines(&h2.app).iter().map(|l| format!("{l:?}")).collect();
    assert!(all_help.contains("Write the what-if policy"));
}

#[test]
fn what_if_cycles_the_trust_stores_on_disk() {
    let (mut h, dir) = demo("stores");
    let signed = open_tag(&mut h, "signed");
    h.select(signed);
    // One store only: nothing to cycle to, and the status says how to add one.
    h.key(KeyCode::Char('T'));
    assert!(!h.app.vs.what_if.is_active());
    assert!(h.app.notices.status.as_ref().is_some_and(|s| s.text.contains("no other trust store")));
    let x509 = dir.join("truststore/x509");
    std::fs::create_dir_all(x509.join("ca/second")).unwrap();
    std::fs::copy(x509.join("ca/demo/demo-root-ca.pem"), x509.join("ca/second/root.pem")).unwrap();
    std::fs::create_dir_all(x509.join("signingAuthority/empty")).unwrap();
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    h.run_effects();
    let stores = |h: &Harness| {
        h.app.vs.effective().unwrap().statements[0].trust_stores.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    h.key(KeyCode::Char('T'));
    h.run_effects();
    assert_eq!(stores(&h), ["ca:second"]);
    assert_eq!(verdict(&h, signed), Verdict::Verified);
    h.key(KeyCode::Char('T'));
    h.run_effects();
    assert_eq!(stores(&h), ["signingAuthority:empty"]);
    assert!(matches!(verdict(&h, signed), Verdict::Failed { .. }), "{:?}", verdict(&h, signed));
    h.key(KeyCode::Char('T'));
    h.run_effects();
    assert_eq!(stores(&h), ["ca:demo"]);
    assert!(!h.app.vs.what_if.is_active());
    assert_eq!(verdict(&h, signed), Verdict::Verified);
}

#[test]
fn an_invalid_policy_at_start_evaluates_nothing_and_says_why() {
    let dir = notation_dir("invalid-at-start");
    set_level(&dir, "\"strict\"", "\"lenient\"");
    let mut h = verifying(sigscope::demo::opened(), options(Some(&dir)));
    assert!(h.app.notices.status.as_ref().is_some_and(|s| s.text.contains("signatureVerification.level")));
    let image = open_tag(&mut h, "signed");
    match verdict(&h, image) {
        Verdict::NotEvaluated { reason } => assert!(reason.contains("lenient"), "{reason}"),
        v => panic!("{v:?}"),
    }
    assert!(shows(&row_of(&mut h, image), "? no policy"));
    assert!(screen_text(&h.render(120, 40)).contains("✗ policy invalid"));
    // What-if needs a policy: it says so instead of doing something.
    h.select(image);
    h.key(KeyCode::Char('L'));
    assert!(h.app.notices.status.as_ref().is_some_and(|s| s.text.contains("what-if needs a trust policy")));
    assert!(!h.app.vs.what_if.is_active());
    // Fixed: everything is verified.
    set_level(&dir, "\"lenient\"", "\"strict\"");
    h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    h.run_effects();
    assert_eq!(verdict(&h, image), Verdict::Verified);
}

#[test]
fn a_closed_tag_shows_its_images_verdict() {
    let (mut h, _dir) = demo("closed-tag");
    let image = open_tag(&mut h, "tampered");
    let tag = h.app.tree.graph.node(image).parent.unwrap();
    h.select(tag);
    h.key(KeyCode::Char('h'));
    assert!(!h.app.tree.open.contains(&tag));
    assert!(shows(&line_of(&mut h, 160, "tag tampered"), "✗ failed: integrity"));
}

#[test]
fn opening_a_verified_tag_does_not_verify_its_image_twice() {
    let (mut h, _dir) = demo("once");
    let tag = (0..h.app.tree.graph.nodes.len())
        .find(|&i| matches!(&h.app.tree.graph.node(i).kind, NodeKind::Tag { tag: t, .. } if t == "signed"))
        .unwrap();
    // The tag was verified in the background already.
    assert!(matches!(h.app.node_verify(tag), Some(NodeVerify::Done(_))));
    h.select(tag);
    h.key(KeyCode::Char('l'));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let expand = h.queue.remove(h.queue.iter().position(|e| matches!(e, Effect::Expand { .. })).unwrap());
    let msg = rt.block_on(execute(expand)).unwrap();
    h.send(msg);
    let image = h.child(tag, 0);
    assert!(!h.queue.iter().any(|e| matches!(e, Effect::Verify { node, .. } if *node == image)), "{:?}", h.queue);
    assert_eq!(verdict(&h, image), Verdict::Verified);
}

#[test]
fn two_runs_of_a_test_do_not_share_its_notation_directory() {
    // Two copies of one test (two `cargo test` runs at once) must not write each other's
    // policy, nor delete each other's directory when they start or end.
    let a = notation_dir("same-name");
    let b = notation_dir("same-name");
    assert_ne!(&*a, &*b, "both runs use {}", a.display());
    assert!(a.join("trustpolicy.oci.json").is_file(), "the first run's policy is still there");
    assert_eq!(a.as_os_str().len(), b.as_os_str().len(), "the shown path has one length");
}

/// The tree panel's row of `id`: [`row_of`], without the right-hand panel beside it (which can
/// name the same digest).
fn tree_row(h: &mut Harness, id: NodeId) -> String {
    let short = sigscope::oci::short_digest(&h.app.tree.graph.node(id).artifact().unwrap().descriptor.digest);
    let screen = screen_text(&h.render(200, 40));
    let tree_part = |l: &str| {
        let mut borders = l.match_indices(['┃', '│']).map(|(i, _)| i);
        let (start, end) = (borders.next().unwrap_or(0), borders.next().unwrap_or(l.len()));
        l[start..end].to_string()
    };
    let row = screen.lines().skip(1).map(tree_part).find(|l| l.contains(&format!("{short} ")));
    row.unwrap_or_else(|| panic!("no row of {short}:\n{screen}"))
}

/// The bottom of `image`'s verification panel at 120×40, where the Cosign section is.
fn panel_bottom(h: &mut Harness, image: NodeId) -> String {
    h.select(image);
    h.key(KeyCode::Char('v'));
    h.key(KeyCode::Tab);
    h.render(120, 40); // G scrolls by the size last drawn
    h.key(KeyCode::Char('G'));
    screen_text(&h.render(120, 40))
}

/// A cosign key as `--cosign-key` gives one: the demo signer's own, or a stranger's.
fn cosign_key(demo: bool) -> sigscope::verify::cosign::NamedKey {
    use p256::pkcs8::EncodePublicKey as _;
    let pem = if demo {
        sigscope::demo::keys::demo_signer().public_key_pem()
    } else {
        let sk = p256::ecdsa::SigningKey::from_slice(&[41; 32]).unwrap();
        sk.verifying_key().to_public_key_pem(p256::pkcs8::LineEnding::LF).unwrap()
    };
    let name = if demo { "demo.pub" } else { "stranger.pub" };
    sigscope::verify::cosign::NamedKey { name: name.into(), key: sigscope::cosign::CosignKey::from_pem(&pem).unwrap() }
}

fn demo_with_cosign(name: &str, key: Option<sigscope::verify::cosign::NamedKey>) -> (Harness, ShownNotationDir) {
    let dir = notation_dir(name);
    let mut options = options(Some(&dir));
    options.cosign_keys = std::sync::Arc::new(key.into_iter().collect());
    (verifying(sigscope::demo::opened(), options), dir)
}

/// Issue 12: cosign results in the verification panel beside Notation's. The demo's cosign
/// signature verifies with the demo signer's key: its row says so, the image stays verified
/// and the panel lists the signature, its key and that Rekor was not consulted. With a
/// stranger's key the image row turns to the cosign failure although Notation verifies, and
/// the panel gives cosign's reason. Without keys the panel only says how to check.
#[test]
fn cosign_signatures_are_checked_beside_notation() {
    let (mut h, dir) = demo_with_cosign("cosign-good", Some(cosign_key(true)));
    let image = open_tag(&mut h, "signed");
    let sig = (0..3).map(|i| h.child(image, i)).find(|&c| h.app.is_cosign_signature_node(c)).expect("a cosign child");
    let row = tree_row(&mut h, sig);
    assert!(row.contains("✓ cosign signature") && row.contains(" verified (cosign)"), "{row}");
    let row = tree_row(&mut h, image);
    assert!(row.contains("✓ image") && row.contains(" verified "), "{row}");
    let screen = panel_bottom(&mut h, image);
    assert!(screen.contains("Cosign ✓ verified"), "{screen}");
    assert!(screen.contains("verifies with demo.pub") && screen.contains("transparency log was not"), "{screen}");
    snap_panel("verify_panel_cosign", &mut h, &dir);

    let (mut h, _dir) = demo_with_cosign("cosign-bad", Some(cosign_key(false)));
    let image = open_tag(&mut h, "signed");
    assert!(matches!(verdict(&h, image), Verdict::Verified), "Notation's verdict is its own");
    let row = tree_row(&mut h, image);
    assert!(row.contains("✗ image") && row.contains(" failed (cosign)"), "{row}");
    let screen = panel_bottom(&mut h, image);
    assert!(screen.contains("Cosign ✗ failed") && screen.contains("did not match"), "{screen}");
    // An image with no cosign signature stays Notation's; its panel says there is none.
    let children: Vec<NodeId> = (0..6).map(|i| h.child(image, i)).collect();
    let sbom = children.into_iter().find(|&c| tree_row(&mut h, c).contains("SPDX SBOM")).expect("the SPDX SBOM");
    h.run_effects();
    let row = tree_row(&mut h, sbom);
    assert!(row.contains("✓ SPDX SBOM") && row.contains(" verified ") && !row.contains("cosign"), "{row}");

    let (mut h, _dir) = demo_with_cosign("cosign-none", None);
    let image = open_tag(&mut h, "signed");
    let screen = panel_bottom(&mut h, image);
    assert!(screen.contains("not checked: no cosign key"), "{screen}");
    assert!(!h.effects.iter().any(|e| e.starts_with("VerifyCosign")), "{:?}", h.effects);
}
