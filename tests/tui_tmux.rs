//! The real binary in a real terminal (tmux): it starts on an OCI layout, loads referrers when
//! asked, escapes hostile annotations, and leaves the terminal usable after `q` and after
//! SIGTERM. Fails with how to install tmux when it is missing.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::json;

use common::layout::{INDEX, MANIFEST, put_blob};
use common::tmux::{Tmux, have_tmux};

fn merge(mut a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    for (k, v) in b.as_object().unwrap() {
        a[k] = v.clone();
    }
    a
}

/// An index tagged `v1` with one platform image, a Notation signature carrying a hostile
/// annotation, and a signature of that signature.
fn write_layout(dir: &Path) {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    let config = put_blob(dir, br#"{"architecture":"amd64","os":"linux"}"#);
    let empty = put_blob(dir, b"{}");
    let image = put_blob(
        dir,
        &serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": MANIFEST,
            "config": merge(json!({"mediaType": "application/vnd.oci.image.config.v1+json"}), config),
            "layers": []}))
        .unwrap(),
    );
    let image_entry =
        merge(json!({"mediaType": MANIFEST, "platform": {"os": "linux", "architecture": "amd64"}}), image);
    let index = put_blob(
        dir,
        &serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [image_entry]})).unwrap(),
    );
    let referrer = |subject: serde_json::Value, subject_type: &str, annotations: serde_json::Value| {
        let layer = put_blob(dir, b"{\"payload\":\"x\"}");
        put_blob(
            dir,
            &serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": MANIFEST,
                "artifactType": "application/vnd.cncf.notary.signature",
                "config": merge(json!({"mediaType": "application/vnd.oci.empty.v1+json"}), empty.clone()),
                "layers": [merge(json!({"mediaType": "application/jose+json"}), layer)],
                "subject": merge(json!({"mediaType": subject_type}), subject),
                "annotations": annotations}))
            .unwrap(),
        )
    };
    let sig = referrer(index.clone(), INDEX, json!({"evil": "\u{1b}[2J\u{1b}]0;pwned\u{7}"}));
    let countersig = referrer(sig.clone(), MANIFEST, json!({}));
    let tagged = merge(json!({"mediaType": INDEX, "annotations": {"org.opencontainers.image.ref.name": "v1"}}), index);
    let entries =
        [tagged, merge(json!({"mediaType": MANIFEST}), sig), merge(json!({"mediaType": MANIFEST}), countersig)];
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&json!({"schemaVersion": 2, "manifests": entries})).unwrap(),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
}

#[test]
fn the_binary_in_tmux() {
    assert!(have_tmux(), "tmux is needed for the real-terminal test: apt-get install tmux (scripts/test.sh does)");
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("layout");
    write_layout(&layout);
    let bin = env!("CARGO_BIN_EXE_sigscope");
    let run = format!(
        "SIGSCOPE_CONFIG=/nonexistent/config.toml {bin} --oci-layout {}:v1; echo EXIT=$?; stty -a | grep -o -- '-\\?icanon'",
        layout.display()
    );

    let t = Tmux::start(&run);
    t.wait_for("linux/amd64");
    let screen = t.wait_for("Notation signature");
    assert!(screen.contains("▼ ? index") && screen.contains("no policy"), "{screen}");
    // The missing explicit config file is reported, not fatal.
    assert!(screen.contains("/nonexistent/config.toml"), "{screen}");
    // Down to the signature, expand it: its own referrer appears.
    t.keys(&["j", "j", "j", "l"]);
    let screen = t.wait_for("604 B via");
    assert!(screen.contains("▼ ? Notation signature"), "{screen}");
    // The signature's details show the hostile annotation escaped.
    let screen = t.wait_for("evil");
    assert!(screen.contains("\\x1b[2J\\x1b]0;pwned\\x07"), "{screen}");
    t.keys(&["q"]);
    let screen = t.wait_until("the exit", |s| {
        s.lines().any(|l| l.starts_with("EXIT=0")) && s.lines().any(|l| l.trim().ends_with("icanon"))
    });
    assert!(screen.lines().any(|l| l.trim() == "icanon"), "terminal left in raw mode:\n{screen}");

    // SIGTERM restores the terminal too.
    t.keys(&[&run, "Enter"]);
    t.wait_for("Notation signature");
    let pid =
        Command::new("pgrep").args(["-n", "-f", &format!("{bin} --oci-layout {}", layout.display())]).output().unwrap();
    let pid = String::from_utf8_lossy(&pid.stdout).trim().to_string();
    assert!(!pid.is_empty(), "process not found");
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let settled = |s: &str| {
        s.lines().filter(|l| l.starts_with("EXIT=")).count() == 2
            && s.lines().filter(|l| l.trim().ends_with("icanon")).count() == 2
    };
    let screen = t.wait_until("the second exit", settled);
    assert_eq!(screen.lines().filter(|l| l.trim() == "icanon").count(), 2, "terminal left in raw mode:\n{screen}");
}

/// The exported demo with its notation directory: the expired image fails at strict; editing
/// the policy file on disk to permissive turns it into warnings on screen, without a key.
#[test]
fn live_policy_in_tmux() {
    assert!(have_tmux(), "tmux is needed for the real-terminal test: apt-get install tmux (scripts/test.sh does)");
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let bin = env!("CARGO_BIN_EXE_sigscope");
    let out = Command::new(bin).args(["demo", "export"]).arg(&demo).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let run = format!(
        "SIGSCOPE_CONFIG={} {bin} --oci-layout {d}/layout --notation-dir {d}/notation; echo EXIT=$?",
        config.display(),
        d = demo.display()
    );
    let t = Tmux::start_named("policy", &run);
    // Tags carry the verdict of the image they name before anyone opens them.
    let tag_row =
        |s: &str, tag: &str| s.lines().find(|l| l.contains(&format!("tag {tag} "))).unwrap_or_default().to_string();
    let screen = t.wait_until("tag verdicts", |s| {
        tag_row(s, "untrusted").contains("✗ tag untrusted failed: authenticity → sha256:") && !s.contains("verifying")
    });
    assert!(tag_row(&screen, "expired").contains("✗ tag expired failed: expiry → sha256:"), "{screen}");
    assert!(tag_row(&screen, "signed").contains("✓ tag signed verified → sha256:"), "{screen}");
    assert!(tag_row(&screen, "tampered").contains("✗ tag tampered failed: integrity → sha256:"), "{screen}");
    assert!(tag_row(&screen, "unsigned").contains("- tag unsigned unsigned → sha256:"), "{screen}");
    // The first tag is `expired`: open it, its image is verified in the background.
    t.keys(&["j", "l"]);
    // The glyph in its column after the fold glyph, the word after the digest.
    let image_row = |s: &str| s.lines().find(|l| l.contains("image sha256:")).unwrap_or_default().to_string();
    let says =
        |row: String, glyph: &str, word: &str| row.contains(&format!("{glyph} image sha256:")) && row.contains(word);
    t.wait_until("the image's verdict", |s| says(image_row(s), "✗", " failed: expiry"));
    // Edit the policy on disk, as a user would in another window.
    let policy = demo.join("notation/trustpolicy.oci.json");
    let text = std::fs::read_to_string(&policy).unwrap();
    assert!(text.contains("\"strict\""), "{text}");
    std::fs::write(&policy, text.replace("\"strict\"", "\"permissive\"")).unwrap();
    let screen = t.wait_until("the verdict to change to warnings", |s| says(image_row(s), "!", " warnings "));
    assert!(!screen.contains("failed: expiry"), "{screen}");
    // A broken policy keeps the last good one and says why.
    std::fs::write(&policy, text.replace("\"strict\"", "\"lenient\"")).unwrap();
    t.wait_for("policy invalid");
    // The status line may cut the reason; the message log (M) has it whole.
    t.keys(&["M"]);
    t.wait_for("lenient");
    t.keys(&["Escape"]);
    t.wait_until("the last good verdict", |s| says(image_row(s), "!", " warnings "));
    t.keys(&["q"]);
    t.wait_until("the exit", |s| s.lines().any(|l| l.starts_with("EXIT=0")));
}

/// The demo as a newcomer opens it, at 80×24 (the size most terminals open at): the hint bar
/// keeps `? help` and `q quit`, every tag row carries its verdict, `Y` reaches tmux's
/// clipboard through plain OSC 52, and Ctrl-Z suspends to the shell and `fg` comes back.
#[test]
fn the_demo_at_80x24_in_tmux() {
    assert!(have_tmux(), "tmux is needed for the real-terminal test: apt-get install tmux (scripts/test.sh does)");
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_sigscope");
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let run = format!(
        // Alone on the line: a job stopped inside a list would let the shell run the rest.
        "SIGSCOPE_CONFIG={0}/config.toml XDG_DATA_HOME={0}/data XDG_CACHE_HOME={0}/cache {bin}",
        dir.path().display()
    );
    let t = Tmux::start_sized("small", &run, 80, 24);
    let _ = Command::new("tmux").args(["set-option", "-s", "set-clipboard", "on"]).status();
    let tag_row =
        |s: &str, tag: &str| s.lines().find(|l| l.contains(&format!("tag {tag}"))).unwrap_or_default().to_string();
    let screen = t.wait_until("every tag's verdict", |s| {
        ["multiarch", "signed", "unsigned", "tampered", "expired", "untrusted"]
            .iter()
            .all(|tag| ["✓", "✗", "-", "!"].iter().any(|g| tag_row(s, tag).contains(g)))
            && !s.contains("verifying")
    });
    assert!(tag_row(&screen, "signed").contains("✓"), "{screen}");
    assert!(tag_row(&screen, "multiarch").contains("✓"), "{screen}");
    assert!(tag_row(&screen, "tampered").contains("✗"), "{screen}");
    assert!(tag_row(&screen, "unsigned").contains("unsigned"), "{screen}");
    let bottom = screen.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_default();
    assert!(bottom.contains("? help") && bottom.contains("q quit"), "hint bar at 80 columns: {bottom:?}\n{screen}");

    // Y copies the selected tag's reference; tmux keeps what OSC 52 sent in a paste buffer.
    t.keys(&["j", "Y"]);
    let screen = t.wait_for("clipboard");
    let buffer = Command::new("tmux").args(["show-buffer"]).output().unwrap();
    let buffer = String::from_utf8_lossy(&buffer.stdout).into_owned();
    assert!(buffer.starts_with("demo:"), "tmux received {buffer:?}; screen:\n{screen}");

    // Ctrl-Z gives the shell back; fg brings the same screen back.
    t.keys(&["C-z"]);
    t.wait_until("the shell", |s| s.contains("Stopped"));
    t.keys(&["fg", "Enter"]);
    t.wait_until("the tree again", |s| tag_row(s, "signed").contains("✓") && !s.contains("Stopped"));
    t.keys(&["q"]);
    // Keys sent before the shell's prompt is back could still be read by the exiting app.
    t.wait_until("the shell prompt", |s| {
        !s.contains("Tree ·") && s.lines().rev().find(|l| !l.trim().is_empty()).is_some_and(|l| l.starts_with("bash"))
    });
    t.keys(&["echo EXIT=$?", "Enter"]);
    t.wait_until("the exit", |s| s.lines().any(|l| l.starts_with("EXIT=0")));
}

/// The demo's whole loop in a real terminal: `unsigned` → `s` → `y` signs it with the demo's
/// key, offline, and its image row reads `✓ verified`.
#[test]
fn signing_the_demos_unsigned_image_in_tmux() {
    assert!(have_tmux(), "tmux is needed for the real-terminal test: apt-get install tmux (scripts/test.sh does)");
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_sigscope");
    std::fs::write(dir.path().join("config.toml"), "").unwrap();
    let run = format!(
        "SIGSCOPE_CONFIG={0}/config.toml XDG_DATA_HOME={0}/data XDG_CACHE_HOME={0}/cache {bin}",
        dir.path().display()
    );
    let t = Tmux::start_sized("sign", &run, 80, 24);
    let row = |s: &str, needle: &str| s.lines().find(|l| l.contains(needle)).unwrap_or_default().to_string();
    t.wait_until("the unsigned tag's verdict", |s| row(s, "tag unsigned").contains("- "));
    // The tags are in name order; unsigned is the fifth.
    t.keys(&["j", "j", "j", "j", "j"]);
    t.wait_until("unsigned selected", |s| row(s, "tag unsigned").starts_with("┃>"));
    t.keys(&["s"]);
    let dialog = t.wait_for("Sign this manifest?");
    assert!(dialog.contains("sha256:f83fbe2db5ab"), "the dialog names the digest:\n{dialog}");
    t.keys(&["y"]);
    t.wait_until("the image verified, with its new signature under it", |s| {
        let image = row(s, "image sha256:f83fbe2db5ab");
        image.contains("✓") && image.contains("verified") && row(s, "Notation signature").contains("✓ Notation")
    });
    t.keys(&["q"]);
}
