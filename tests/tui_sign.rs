//! The sign dialog, driven like a user would: in the demo, `unsigned` → `s` → `y` turns the
//! image into `✓ verified` (signed with the demo's key, stored in the demo's in-memory layout,
//! found again by refreshing the image and verified like every other node). The dialog shows
//! the exact digest signed; every key but yes cancels; `--read-only` has no sign key at all.
//! The harness runs the app's effects for real.

mod common;

use crossterm::event::KeyCode;
use sigscope::graph::NodeId;
use sigscope::tui::app::{Mode, NodeVerify};
use sigscope::tui::config::{KeySource, SigningKey};
use sigscope::tui::{Msg, demo_signing_key};

use common::tui::*;

fn demo(read_only: bool, keys: Vec<SigningKey>) -> (tempfile::TempDir, Harness) {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options(Some(&demo_notation(tmp.path())));
    o.read_only = read_only;
    o.signing_keys = keys;
    (tmp, verifying(sigscope::demo::opened(), o))
}

/// The image under tag `unsigned`, loaded, and selected.
fn unsigned_image(h: &mut Harness) -> NodeId {
    let tag = tag_node(h, "unsigned");
    h.select(tag);
    h.key(KeyCode::Char('l'));
    h.run_effects();
    let image = h.child(tag, 0);
    h.select(image);
    image
}

fn word(h: &Harness, id: NodeId) -> String {
    match h.app.node_verify(id) {
        Some(NodeVerify::Done(r)) => r.verdict.word().to_string(),
        other => panic!("node {id} has no verdict: {other:?}"),
    }
}

#[test]
fn s_then_y_signs_the_demos_unsigned_image_and_it_verifies() {
    let (_tmp, mut h) = demo(false, vec![demo_signing_key()]);
    let image = unsigned_image(&mut h);
    assert_eq!(word(&h, image), "unsigned");
    let digest = h.app.tree.graph.node(image).digest().unwrap().to_string();

    h.key(KeyCode::Char('s'));
    let Mode::Sign(dialog) = &h.app.mode else { panic!("no sign dialog: {:?}", h.app.mode) };
    assert_eq!(dialog.subject.digest, digest, "the digest is what is signed");
    for (w, ht) in [(80, 24), (120, 40)] {
        let screen = screen_text(&h.render(w, ht));
        assert!(screen.contains(&digest[..40]), "the dialog names the digest at {w}x{ht}:\n{screen}");
        assert!(screen.contains("Cancel") && screen.contains("demo"), "{screen}");
    }
    insta::assert_snapshot!("sign_dialog_80x24", screen_text(&h.render(80, 24)));

    h.key(KeyCode::Char('y'));
    assert!(matches!(h.app.mode, Mode::Normal));
    assert!(h.effects.iter().any(|e| e.starts_with("Sign {")), "{:?}", h.effects);
    h.run_effects();
    let said: Vec<String> = h.app.notices.messages.iter().map(|m| m.status.text.clone()).collect();
    assert!(said.iter().any(|t| t.starts_with(&format!("signed {digest}"))), "{said:?}");
    let image = h.child(tag_node(&h, "unsigned"), 0);
    assert_eq!(word(&h, image), "verified", "{}", screen_text(&h.render(120, 40)));
    let kids = &h.app.tree.graph.node(image).children;
    assert!(
        kids.iter().any(|&c| h.app.tree.graph.node(c).artifact().is_some_and(|a| a
            .descriptor
            .artifact_type
            .as_deref()
            == Some("application/vnd.cncf.notary.signature"))),
        "the new signature is under the image"
    );
    let screen = screen_text(&h.render(120, 40));
    let row = screen.lines().find(|l| l.contains(&format!("image {}", &digest[..19]))).unwrap();
    assert!(row.contains("✓") && row.contains("verified"), "{screen}");
}

#[test]
fn every_key_but_yes_cancels_and_nothing_is_signed() {
    let (_tmp, mut h) = demo(false, vec![demo_signing_key()]);
    let image = unsigned_image(&mut h);
    // Cancel is the default: Enter, the key pressed without reading, cancels too.
    for key in [KeyCode::Enter, KeyCode::Esc, KeyCode::Char('n'), KeyCode::Char('x'), KeyCode::Char('q')] {
        h.key(KeyCode::Char('s'));
        assert!(matches!(h.app.mode, Mode::Sign(_)));
        h.key(key);
        assert!(matches!(h.app.mode, Mode::Normal), "{key:?} cancels");
        assert!(!h.app.quit, "q in the dialog cancels, it does not quit");
    }
    h.run_effects();
    assert!(!h.effects.iter().any(|e| e.starts_with("Sign {")), "{:?}", h.effects);
    assert_eq!(word(&h, image), "unsigned");
}

/// Cancel has the focus when the dialog opens, so Enter cancels; moved to Sign (→), Enter
/// signs; moved back, Enter cancels again.
#[test]
fn enter_presses_the_focused_button_and_cancel_has_the_focus_at_first() {
    let (_tmp, mut h) = demo(false, vec![demo_signing_key()]);
    unsigned_image(&mut h);
    h.key(KeyCode::Char('s'));
    let Mode::Sign(d) = &h.app.mode else { panic!("no dialog") };
    assert!(!d.sign_focused, "Cancel is focused at first");
    h.key(KeyCode::Right);
    h.key(KeyCode::Left);
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.mode, Mode::Normal), "focus back on Cancel: Enter cancels");
    assert!(!h.effects.iter().any(|e| e.starts_with("Sign {")), "{:?}", h.effects);

    h.key(KeyCode::Char('s'));
    h.key(KeyCode::Right);
    let screen = screen_text(&h.render(80, 24));
    assert!(screen.contains("Sign ]") && screen.contains("Cancel ]"), "{screen}");
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.mode, Mode::Normal));
    assert!(h.effects.iter().any(|e| e.starts_with("Sign {")), "Enter on Sign signs: {:?}", h.effects);
    h.run_effects();
    assert_eq!(word(&h, h.child(tag_node(&h, "unsigned"), 0)), "verified");
}

#[test]
fn the_dialog_switches_keys_and_envelopes_and_a_bad_key_fails_with_nothing_stored() {
    let missing = SigningKey {
        name: "broken".into(),
        source: KeySource::Files { key: "/nonexistent/k.pem".into(), cert: "/nonexistent/c.pem".into() },
        envelope: sigscope::sign::pipeline::EnvelopeFormat::Cose,
        timestamp: None,
    };
    let (_tmp, mut h) = demo(false, vec![demo_signing_key(), missing]);
    let image = unsigned_image(&mut h);
    h.key(KeyCode::Char('s'));
    h.key(KeyCode::Char('j'));
    let Mode::Sign(d) = &h.app.mode else { panic!() };
    assert_eq!(d.key, 1);
    assert_eq!(d.envelope, sigscope::sign::pipeline::EnvelopeFormat::Cose, "the key's own envelope");
    h.key(KeyCode::Char('e'));
    let Mode::Sign(d) = &h.app.mode else { panic!() };
    assert_eq!(d.envelope, sigscope::sign::pipeline::EnvelopeFormat::Jws);
    h.key(KeyCode::Char('y'));
    h.run_effects();
    let status = h.app.notices.status.clone().unwrap();
    assert!(status.text.contains("signing failed") && status.text.contains("/nonexistent/k.pem"), "{status:?}");
    assert_eq!(word(&h, image), "unsigned", "nothing was stored");
    // The failure is on the node too, not only in the status line that the next message replaces.
    let digest = h.app.tree.graph.node(image).digest().unwrap().to_string();
    let row = |h: &mut Harness| {
        let screen = screen_text(&h.render(120, 40));
        screen.lines().find(|l| l.contains(&format!("image {}", &digest[..19]))).unwrap_or_default().to_string()
    };
    let failed = row(&mut h);
    assert!(failed.contains("✗") && failed.contains("not signed: cannot read"), "{failed}");
    // Refreshed, the row shows the image as it is now: still unsigned, the old failure gone.
    h.select(image);
    h.key(KeyCode::Char('r'));
    h.run_effects();
    let image = h.child(tag_node(&h, "unsigned"), 0);
    assert!(h.app.sign_failure(image).is_none());
    let now = row(&mut h);
    assert!(!now.contains("not signed") && now.contains("unsigned"), "{now}");
}

#[test]
fn the_sign_command_opens_the_dialog_and_refuses_under_read_only_saying_why() {
    let (_tmp, mut h) = demo(false, vec![demo_signing_key()]);
    unsigned_image(&mut h);
    h.key(KeyCode::Char(':'));
    h.chars("sign");
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.mode, Mode::Sign(_)), ":sign opens the dialog: {:?}", h.app.mode);
    h.key(KeyCode::Esc);

    let (_tmp, mut h) = demo(true, vec![demo_signing_key()]);
    unsigned_image(&mut h);
    h.key(KeyCode::Char(':'));
    h.chars("sign");
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.mode, Mode::Normal));
    assert!(!h.effects.iter().any(|e| e.starts_with("Sign {")));
    let status = h.app.notices.status.clone().unwrap();
    assert!(status.text.contains("refused") && status.text.contains("read-only"), "{status:?}");
}

#[test]
fn dev_null_is_an_empty_config_not_an_error() {
    let (config, error) = sigscope::tui::config::load_file(std::path::Path::new("/dev/null"));
    assert!(error.is_none(), "{error:?}");
    assert!(!config.read_only);
}

#[test]
fn a_config_that_does_not_parse_makes_the_session_read_only() {
    use sigscope::tui::{TuiOptions, config, startup_options};
    let path = std::path::Path::new("/home/u/.config/sigscope/config.toml");
    for (text, read_only) in [("read_only = tru\n", true), ("read_only = true\n", true), ("theme = \"light\"\n", false)]
    {
        let opts = TuiOptions { mouse: true, ..Default::default() };
        let options = startup_options(config::load_str(path, text), &opts, true);
        assert_eq!(options.read_only, read_only, "{text:?}");
        if text.contains("tru\n") {
            let status = options.startup_status.clone().expect("said");
            assert!(status.text.contains("read-only until it is fixed"), "{}", status.text);
        }
    }
}

#[test]
fn read_only_has_no_sign_key_in_help_hints_or_the_tree() {
    let (_tmp, mut h) = demo(true, vec![demo_signing_key()]);
    unsigned_image(&mut h);
    h.key(KeyCode::Char('s'));
    assert!(matches!(h.app.mode, Mode::Normal), "s is unbound under --read-only");
    assert!(!h.effects.iter().any(|e| e.starts_with("Sign {")));
    h.key(KeyCode::Char('?'));
    let mut help = String::new();
    for _ in 0..8 {
        help.push_str(&screen_text(&h.render(120, 40)));
        h.key(KeyCode::PageDown);
    }
    assert!(!help.contains("Sign the selected"), "{help}");
    assert!(!help.contains("sign dialog"), "{help}");
    h.key(KeyCode::Esc);
    let hints = |h: &mut Harness| {
        let t = h.render(200, 40);
        row_text(&t, 39)
    };
    let read_only_hints = hints(&mut h);
    assert!(!read_only_hints.contains("s sign"), "no sign hint under --read-only: {read_only_hints}");
    // Without --read-only, help lists it.
    let (_tmp2, mut h) = demo(false, vec![demo_signing_key()]);
    h.key(KeyCode::Char('?'));
    let mut help = String::new();
    for _ in 0..8 {
        help.push_str(&screen_text(&h.render(120, 40)));
        h.key(KeyCode::PageDown);
    }
    assert!(help.contains("Sign the selected"), "{help}");
    h.key(KeyCode::Esc);
    unsigned_image(&mut h);
    let writable_hints = hints(&mut h);
    assert!(writable_hints.contains("s sign"), "the hint is there when signing is on: {writable_hints}");
}

#[test]
fn without_a_key_the_dialog_says_how_to_configure_one() {
    let (_tmp, mut h) = demo(false, Vec::new());
    unsigned_image(&mut h);
    h.key(KeyCode::Char('s'));
    assert!(matches!(h.app.mode, Mode::Normal));
    let status = h.app.notices.status.clone().unwrap();
    assert!(status.text.contains("[[signing.key]]"), "{status:?}");
}

#[test]
fn s_on_a_tag_not_loaded_yet_loads_it_and_asks_about_the_manifest_it_names() {
    let (_tmp, mut h) = demo(false, vec![demo_signing_key()]);
    let tag = tag_node(&h, "unsigned");
    h.select(tag);
    assert!(h.app.tree.graph.node(tag).children.is_empty(), "not loaded yet");
    h.key(KeyCode::Char('s'));
    h.run_effects();
    let Mode::Sign(d) = &h.app.mode else { panic!("no dialog: {:?}", h.app.notices.status) };
    let image = h.child(tag, 0);
    assert_eq!(
        Some(d.subject.digest.as_str()),
        h.app.tree.graph.node(image).digest().map(ToString::to_string).as_deref()
    );
    h.key(KeyCode::Char('y'));
    h.run_effects();
    assert_eq!(word(&h, h.child(tag_node(&h, "unsigned"), 0)), "verified");
}

/// The request id of the last ListSigningProfiles the app asked for.
fn listing_request(h: &Harness) -> u64 {
    let last =
        h.effects.iter().rev().find(|e| e.starts_with("ListSigningProfiles")).expect("ListSigningProfiles asked");
    last.trim_start_matches("ListSigningProfiles { request: ").trim_end_matches(" }").parse().unwrap()
}

fn aws_demo() -> (tempfile::TempDir, Harness) {
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options(Some(&demo_notation(tmp.path())));
    o.aws_signer = Some(sigscope::tui::config::AwsSignerListing { region: Some("us-west-2".into()) });
    (tmp, verifying(sigscope::demo::opened(), o))
}

/// With `[signing.aws_signer]` and no key of its own, the dialog opens, lists AWS Signer's
/// profiles, and signs with nothing until one is listed; a listing that fails says why in the
/// dialog and yes does not sign. Only active profiles are offered.
#[test]
fn aws_signer_profiles_are_listed_in_the_dialog_and_nothing_signs_before() {
    use sigscope::sign::aws_signer::{ListedProfile, ProfileList};
    let (_tmp, mut h) = aws_demo();
    unsigned_image(&mut h);
    h.key(KeyCode::Char('s'));
    assert!(matches!(h.app.mode, Mode::Sign(_)), "the dialog opens without a key of its own");
    let screen = screen_text(&h.render(100, 30));
    assert!(screen.contains("listing Notation signing profiles in us-west-2"), "{screen}");
    assert!(screen.contains("none yet"), "{screen}");
    let request = listing_request(&h);
    h.key(KeyCode::Char('y'));
    let Mode::Sign(d) = &h.app.mode else { panic!("yes without a key closed the dialog") };
    assert!(d.note.as_deref().unwrap_or("").contains("being listed"), "{:?}", d.note);
    assert!(!h.effects.iter().any(|e| e.starts_with("Sign {")), "nothing signed: {:?}", h.effects);

    let denied = sigscope::error::Error::Denied {
        target: "AWS Signer ListSigningProfiles in us-west-2".into(),
        detail: "AccessDeniedException: not authorized; the IAM identity needs signer:ListSigningProfiles".into(),
    };
    h.send(Msg::SigningProfiles { request, result: Err(denied) });
    let screen = screen_text(&h.render(100, 30));
    assert!(
        screen.contains("profiles could not be listed") && screen.contains("signer:ListSigningProfiles"),
        "{screen}"
    );
    h.key(KeyCode::Char('y'));
    assert!(matches!(h.app.mode, Mode::Sign(_)));
    assert!(!h.effects.iter().any(|e| e.starts_with("Sign {")));
    h.key(KeyCode::Enter);
    assert!(matches!(h.app.mode, Mode::Normal), "Enter cancels");

    // Opened again, the failed listing is asked again; a late answer to the old one is dropped.
    h.key(KeyCode::Char('s'));
    let again = listing_request(&h);
    assert_ne!(again, request);
    let profile = |name: &str, status: &str| ListedProfile {
        name: name.into(),
        arn: format!("arn:aws:signer:us-west-2:123456789012:/signing-profiles/{name}"),
        version_arn: Some(format!("arn:aws:signer:us-west-2:123456789012:/signing-profiles/{name}/v1")),
        status: status.into(),
    };
    let stale =
        ProfileList { region: "us-west-2".into(), profiles: vec![profile("stale", "Active")], truncated: false };
    h.send(Msg::SigningProfiles { request, result: Ok(stale) });
    assert!(h.app.signing_keys().is_empty(), "a stale answer is dropped");
    let list = ProfileList {
        region: "us-west-2".into(),
        profiles: vec![profile("gone", "Canceled"), profile("release", "Active")],
        truncated: false,
    };
    h.send(Msg::SigningProfiles { request: again, result: Ok(list) });
    let names: Vec<&str> = h.app.signing_keys().iter().map(|k| k.name.as_str()).collect();
    assert_eq!(names, ["release"], "only the active profile is offered");
    assert!(
        matches!(&h.app.signing_keys()[0].source, KeySource::AwsSigner { profile, .. } if profile.ends_with("/release"))
    );
    let screen = screen_text(&h.render(100, 30));
    assert!(screen.contains("1 active Notation profile(s) in us-west-2; 1 not active, not offered"), "{screen}");
    // COSE is refused for it, in the dialog.
    h.key(KeyCode::Char('e'));
    let Mode::Sign(d) = &h.app.mode else { panic!() };
    assert_eq!(d.envelope, sigscope::sign::pipeline::EnvelopeFormat::Jws);
    assert!(d.note.as_deref().unwrap_or("").contains("JWS envelopes only"));
    h.key(KeyCode::Esc);
    // Listed once: opening the dialog again asks nothing.
    let asked = h.effects.iter().filter(|e| e.starts_with("ListSigningProfiles")).count();
    h.key(KeyCode::Char('s'));
    assert_eq!(h.effects.iter().filter(|e| e.starts_with("ListSigningProfiles")).count(), asked);
}
