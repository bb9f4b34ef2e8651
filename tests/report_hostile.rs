//! Hostile graphs and hostile text through the reports: chains far deeper than any real
//! supply chain (`tree -o json`, `-o tree`, the library walk, the TUI), very wide graphs, and
//! registry-provided strings carrying C1 controls, DEL and bidi overrides through both JSON
//! outputs and the text ones. Layouts are written on disk by the test; the real binary runs.

mod common;

use std::time::Duration;

use serde_json::{Value, json};
use sigscope::graph::MAX_DEPTH;

use common::cmd::{self, Limits, Run};
use common::layout::{INDEX, Layout, MANIFEST};

const EMPTY: &str = "application/vnd.oci.empty.v1+json";
const LINK: &str = "application/vnd.example.link";
const NOTATION: &str = "application/vnd.cncf.notary.signature";

/// A generous wall-clock bound for a debug build: proves "no hang", not speed.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// Code points that must never reach stdout raw, with their UTF-8 bytes: C1 (8-bit CSI),
/// DEL, bidi embeddings/overrides/isolates/marks (U+061C, the Arabic letter mark, among them),
/// and the JSON-hostile line separators.
const HOSTILE: [char; 12] = [
    '\u{9b}', '\u{7f}', '\u{85}', '\u{202e}', '\u{202a}', '\u{200e}', '\u{200f}', '\u{2066}', '\u{2069}', '\u{2028}',
    '\u{2029}', '\u{61c}',
];

fn hostile_text(prefix: &str) -> String {
    let mut s = format!("{prefix}:");
    for c in HOSTILE {
        s.push(c);
        s.push('x');
    }
    s
}

fn raw_hostile_in(bytes: &[u8], chars: &[char]) -> Vec<char> {
    let text = String::from_utf8_lossy(bytes);
    chars.iter().copied().filter(|c| text.contains(*c)).collect()
}

fn all_hostile() -> Vec<char> {
    HOSTILE.to_vec()
}

// ----- layouts ---------------------------------------------------------------------------

/// The referrers of this test's layouts: every field a report shows, nothing more.
impl Layout {
    /// A small referrer of `subject`.
    fn referrer_body(&self, subject: &Value, artifact_type: &str, layer_type: &str, annotations: Value) -> Value {
        let empty = self.blob(b"{}");
        json!({
            "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type,
            "config": {"mediaType": EMPTY, "digest": empty["digest"], "size": 2},
            "layers": [{"mediaType": layer_type, "digest": empty["digest"], "size": 2}],
            "subject": {"mediaType": subject["mediaType"], "digest": subject["digest"], "size": subject["size"]},
            "annotations": annotations,
        })
    }

    fn referrer(&mut self, subject: &Value, artifact_type: &str, annotations: Value, listed: bool) -> Value {
        let body = self.referrer_body(subject, artifact_type, artifact_type, annotations);
        self.write(MANIFEST, &body, None, listed)
    }
}

/// An image tagged `v1` and a chain of `depth` referrers, each the subject of the next.
fn referrer_chain(depth: usize) -> (Layout, Vec<String>) {
    let mut l = Layout::new();
    let mut link = l.image("v1", json!({}));
    let mut chain = vec![link["digest"].as_str().unwrap().to_string()];
    for _ in 0..depth {
        link = l.referrer(&link, LINK, json!({}), true);
        chain.push(link["digest"].as_str().unwrap().to_string());
    }
    l.finish();
    (l, chain)
}

// ----- the binary ------------------------------------------------------------------------

/// Runs sigscope; kills it and fails the test if it outlives [`HANG_GUARD`].
fn sigscope(args: &[&str]) -> Run {
    let limits = Limits { memory_kib: None, file_blocks: None, hang: HANG_GUARD };
    let run = cmd::sigscope(args).private_cache().bounded(limits).run();
    assert!(run.code.is_some(), "sigscope {args:?} still running after {HANG_GUARD:?}");
    run
}

fn tree_json(target: &str) -> (Run, Value) {
    let run = sigscope(&["tree", "--oci-layout", target, "-o", "json"]);
    let v: Value = serde_json::from_slice(&run.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}); exit {:?}, stderr: {}", run.code, run.stderr));
    (run, v)
}

fn depth_marker() -> String {
    format!("depth limit {MAX_DEPTH} reached")
}

/// Follows `manifests[0]` from the top: the digests along the way, and the last node.
fn follow_first_referrer(top: &Value) -> (Vec<String>, Value) {
    let mut path = Vec::new();
    let mut node = top.clone();
    loop {
        path.push(node["digest"].as_str().unwrap().to_string());
        match node["manifests"].as_array().and_then(|m| m.first()) {
            Some(next) => node = next.clone(),
            None => return (path, node),
        }
    }
}

// ----- depth -----------------------------------------------------------------------------

#[test]
fn a_20000_deep_referrer_chain_is_cut_at_the_depth_limit() {
    let (l, chain) = referrer_chain(20_000);
    let target = format!("{}:v1", l.dir.path().display());

    let (run, v) = tree_json(&target);
    // A cut-off node is a per-node failure, as a failed or cyclic node is: listed on stderr,
    // exit 3. Never a crash (a signal leaves no exit code).
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    let (path, last) = follow_first_referrer(&v);
    assert_eq!(path[..], chain[..path.len()], "the top of the chain, in order");
    // The tag is level 0 and the image level 1: the node at the limit is chain[MAX_DEPTH - 1].
    assert_eq!(path.len(), MAX_DEPTH, "levels shown");
    let error = last["error"].as_str().unwrap_or_else(|| panic!("the last node says why it stops: {last:#}"));
    assert!(error.contains(&depth_marker()), "{error}");
    assert!(run.stderr.contains(&depth_marker()), "stderr warns: {}", run.stderr);
    assert!(run.stderr.contains(path.last().unwrap()), "stderr names the node: {}", run.stderr);

    let run = sigscope(&["tree", "--oci-layout", &target]);
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    let out = run.utf8_out();
    // The tag, then the image it names.
    assert!(out.lines().nth(1).unwrap().contains(&chain[0]), "{}", &out[..out.len().min(400)]);
    for d in &chain[..MAX_DEPTH] {
        assert!(out.contains(d.as_str()), "{d} missing from the text tree");
    }
    assert!(!out.contains(chain[MAX_DEPTH].as_str()), "nothing below the limit is shown");
    assert!(out.lines().last().unwrap().contains(&depth_marker()), "{}", out.lines().last().unwrap());
    assert!(run.stderr.contains(&depth_marker()), "{}", run.stderr);
}

/// Own case: the limit is not a referrer count. Indexes nested 20,000 deep (each the only
/// entry of its parent) are platforms, which `--depth` does not count.
#[test]
fn a_20000_deep_nested_index_chain_is_cut_at_the_depth_limit() {
    let mut l = Layout::new();
    let config = l.blob(br#"{"architecture":"amd64","os":"linux"}"#);
    let mut inner = l.write(
        MANIFEST,
        &json!({"schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config["digest"], "size": config["size"]},
            "layers": []}),
        None,
        false,
    );
    let mut chain = vec![inner["digest"].as_str().unwrap().to_string()];
    for i in 0..20_000 {
        let body = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [inner]});
        inner = l.write(INDEX, &body, if i == 19_999 { Some("deep") } else { None }, i == 19_999);
        chain.push(inner["digest"].as_str().unwrap().to_string());
    }
    chain.reverse();
    let path = l.finish().display().to_string();

    let run = sigscope(&["tree", "--oci-layout", &format!("{path}:deep"), "-o", "json", "--depth", "1"]);
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    let v: Value = serde_json::from_slice(&run.stdout).expect("JSON any parser reads");
    let mut node = &v;
    let mut shown = 0;
    while let Some(next) = node["platforms"].as_array().and_then(|p| p.first()) {
        shown += 1;
        assert_eq!(next["digest"], chain[shown].as_str());
        node = next;
    }
    // The tag is level 0, the outermost index level 1.
    assert_eq!(shown, MAX_DEPTH - 1, "levels shown below the outermost index");
    assert!(node["error"].as_str().unwrap_or_default().contains(&depth_marker()), "{node:#}");

    let run = sigscope(&["tree", "--oci-layout", &format!("{path}:deep")]);
    assert_eq!(run.code, Some(3), "stderr: {}", run.stderr);
    assert!(run.utf8_out().contains(&depth_marker()));
}

/// Own case: the library walk (`discover`, `report`, `render_text`) on the 20,000-deep
/// chain: nothing below the limit is loaded, and the limit node says so.
#[test]
fn the_library_walk_never_loads_below_the_depth_limit() {
    use sigscope::graph::LoadState;
    let (l, chain) = referrer_chain(20_000);
    let opts = sigscope::open::OpenOptions { oci_layout: true, ..Default::default() };
    let opened = sigscope::open::open(&format!("{}:v1", l.dir.path().display()), &opts).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let discover_opts = sigscope::graph::discover::DiscoverOptions { max_in_flight: 4, ..Default::default() };
    let graph = rt.block_on(sigscope::graph::discover::discover(opened.source.clone(), opened.roots, &discover_opts));

    assert!(graph.nodes.len() <= MAX_DEPTH + 2, "{} nodes loaded", graph.nodes.len());
    assert!(graph.nodes.iter().all(|n| n.depth <= MAX_DEPTH));
    let cut: Vec<_> =
        graph.nodes.iter().filter(|n| matches!(&n.load, LoadState::Failed(r) if r.contains(&depth_marker()))).collect();
    assert_eq!(cut.len(), 1, "exactly one node is cut off");
    assert!(!cut[0].expandable(), "a cut-off node is never expanded");
    assert!(chain.contains(&cut[0].digest().unwrap().to_string()));

    let root = graph.roots[0];
    let report = sigscope::graph::report::report(&graph, opened.source.as_ref(), root);
    let text = sigscope::json_out::to_string_pretty(&report).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["digest"], chain[0].as_str());
    let tree = sigscope::graph::report::render_text(&graph, opened.source.as_ref(), &graph.roots);
    assert!(tree.contains(&depth_marker()), "{tree}");
    let mut failures = Vec::new();
    sigscope::graph::report::failures(&graph, opened.source.as_ref(), root, &mut failures);
    assert_eq!(failures.len(), 1, "{failures:?}");
}

/// Own case: depth is not the only way to blow a graph up. Thirty tiny indexes, each listing
/// the next one twice, unfold into 2^31 nodes (a "billion laughs" of OCI indexes, 150 KB on
/// disk). The walk stops at the node limit and says so.
#[test]
fn an_index_dag_doubling_per_level_stops_at_the_node_limit() {
    use sigscope::graph::discover::MAX_NODES;
    let mut l = Layout::new();
    let config = l.blob(br#"{"architecture":"amd64","os":"linux"}"#);
    let mut inner = l.write(
        MANIFEST,
        &json!({"schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config["digest"], "size": config["size"]},
            "layers": []}),
        None,
        false,
    );
    for level in 0..30 {
        let body = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [inner, inner]});
        inner = l.write(INDEX, &body, (level == 29).then_some("v1"), level == 29);
    }
    let target = format!("{}:v1", l.finish().display());

    let (run, v) = tree_json(&target);
    assert_eq!(run.code, Some(3), "stderr: {}", &run.stderr[..run.stderr.len().min(2000)]);
    let marker = format!("node limit {MAX_NODES} reached");
    assert!(run.stderr.contains(&marker), "{}", &run.stderr[..run.stderr.len().min(2000)]);
    assert!(run.stderr.lines().count() < 50, "the same reason is summed up, not repeated 50,000 times");
    assert!(run.stderr.contains("more nodes failed the same way: node limit"), "{}", run.stderr);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains(&marker), "the cut nodes say why");
    // Every node is counted: the JSON holds no more artifacts than the limit.
    assert!(text.matches("\"digest\"").count() <= MAX_NODES);
    assert_eq!(v["digest"], inner["digest"]);
}

/// Own case: 50,000 referrers of one image (listed through two nested indexes, each within
/// the manifest size limit) finish and are all listed, in JSON and in the text tree.
#[test]
fn fifty_thousand_referrers_of_one_image_are_all_listed() {
    let mut l = Layout::new();
    let img = l.image("v1", json!({}));
    let mut bags = vec![Vec::new(), Vec::new()];
    for i in 0..50_000 {
        let r = l.referrer(&img, NOTATION, json!({"n": i.to_string()}), false);
        bags[i % 2].push(json!({"mediaType": MANIFEST, "digest": r["digest"], "size": r["size"]}));
    }
    for bag in bags {
        let body = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": bag});
        l.write(INDEX, &body, None, true);
    }
    let target = format!("{}:v1", l.finish().display());

    let (run, v) = tree_json(&target);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let manifests = v["manifests"].as_array().unwrap();
    assert_eq!(manifests.len(), 50_000);
    assert!(manifests.iter().all(|m| m["kind"] == "notation-signature" && m.get("error").is_none()));

    let run = sigscope(&["tree", "--oci-layout", &target]);
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    // The tag, the image it names, and one line per referrer.
    assert_eq!(run.utf8_out().lines().count(), 50_002);
}

/// Own case: the TUI stops expanding at the limit and shows why; frames still draw.
#[test]
fn the_tui_stops_expanding_at_the_depth_limit() {
    use common::tui::{Harness, desc, referrer, screen_text};
    use crossterm::event::KeyCode;
    use sigscope::graph::{ArtifactKind, ArtifactNode, Expansion, NodeKind, Role, Via};

    let root =
        NodeKind::Artifact(ArtifactNode::new("app", desc(0, MANIFEST, None, 10), ArtifactKind::Image, Role::Root));
    let mut h = Harness::new(vec![root]);
    let mut node = h.app.tree.graph.roots[0];
    h.select(node);
    h.key(KeyCode::Right);
    let mut levels = 0;
    // Far more levels than the limit: the loop ends when the app stops asking.
    while levels < 1_000 && h.expand.contains_key(&node) {
        let child = desc(levels + 1, MANIFEST, Some(LINK), 10);
        h.expanded(node, Ok(Expansion { manifest: None, children: vec![referrer(child, Via::ReferrersApi)] }));
        h.expand.remove(&node);
        node = h.child(node, 0);
        assert!(matches!(h.app.tree.graph.node(node).artifact().map(|a| &a.role), Some(Role::Referrer(_))));
        h.select(node);
        h.key(KeyCode::Right);
        levels += 1;
    }
    assert!(levels as usize <= MAX_DEPTH, "the app asked for {levels} levels");
    assert!(!h.app.tree.graph.node(node).expandable());
    let screen = screen_text(&h.render(160, 40));
    assert!(screen.contains("depth limit"), "{screen}");
}

// ----- hostile text ----------------------------------------------------------------------

/// A layout whose every registry-provided string that reports show carries the hostile code
/// points: annotation keys and values, a tag name, artifactType, a platform field.
fn hostile_layout() -> (Layout, Value, Value) {
    let mut l = Layout::new();
    let value = hostile_text("value");
    let key = hostile_text("key");
    let img = l.image("v1", json!({ "org.example.note": value, (key.clone()): "k" }));
    // The same image under a second, hostile tag.
    let mut entry = img.clone();
    entry["annotations"] = json!({"org.opencontainers.image.ref.name": hostile_text("tag")});
    l.index.push(entry);
    let at = format!("application/vnd.example+{}", hostile_text("type"));
    l.referrer(&img, &at, json!({"org.example.note": hostile_text("referrer")}), true);
    // A signature whose envelope media type is hostile: verify reports it.
    let body = l.referrer_body(&img, NOTATION, &format!("application/jose+json{}", hostile_text("")), json!({}));
    l.write(MANIFEST, &body, None, true);
    // An index with one platform entry whose os is hostile.
    let mut platform = img.clone();
    platform["platform"] = json!({"os": hostile_text("os"), "architecture": "amd64"});
    l.write(INDEX, &json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [platform]}), Some("multi"), true);
    l.finish();
    (l, json!({ "org.example.note": value, (key): "k" }), img)
}

fn all_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| all_strings(x, out)),
        Value::Object(o) => {
            for (k, x) in o {
                out.push(k.clone());
                all_strings(x, out);
            }
        }
        _ => {}
    }
}

#[test]
fn json_outputs_escape_c1_del_and_bidi() {
    let (l, annotations, img) = hostile_layout();
    let path = l.dir.path().display().to_string();
    let everything = all_hostile();

    // The whole layout: tags, annotations, artifactType, platform.
    let (run, v) = tree_json(&path);
    assert_eq!(raw_hostile_in(&run.stdout, &everything), Vec::<char>::new(), "raw in tree -o json");
    for raw in [&[0xc2u8, 0x9b][..], &[0x7f], &[0xe2, 0x80, 0xae]] {
        assert!(!run.stdout.windows(raw.len()).any(|w| w == raw), "bytes {raw:x?} in tree -o json");
    }
    assert!(String::from_utf8_lossy(&run.stdout).contains("\\u009b"), "escaped, not dropped");
    let mut strings = Vec::new();
    all_strings(&v, &mut strings);
    // Round trip: every hostile string comes back exactly.
    for want in ["value", "key", "tag", "type", "referrer", "os"] {
        let h = hostile_text(want);
        assert!(strings.iter().any(|s| s.contains(&h)), "{want}: {h:?} not found after parsing");
    }
    let (_, v) = tree_json(&format!("{path}:v1"));
    assert_eq!(v["annotations"], annotations, "annotations round-trip");

    // verify -o json: the signature's envelope media type comes from the registry.
    let notation = tempfile::tempdir().unwrap();
    sigscope::demo::export(&notation.path().join("d")).unwrap();
    let notation_dir = notation.path().join("d/notation");
    let target = format!("{path}@{}", img["digest"].as_str().unwrap());
    let run =
        sigscope(&["verify", "--oci-layout", &target, "--notation-dir", notation_dir.to_str().unwrap(), "-o", "json"]);
    assert_eq!(run.code, Some(1), "not verified: {}", run.stderr);
    assert_eq!(raw_hostile_in(&run.stdout, &everything), Vec::<char>::new(), "raw in verify -o json");
    for raw in [&[0xc2u8, 0x9b][..], &[0x7f], &[0xe2, 0x80, 0xae]] {
        assert!(!run.stdout.windows(raw.len()).any(|w| w == raw), "bytes {raw:x?} in verify -o json");
    }
    let v: Value = serde_json::from_slice(&run.stdout).unwrap();
    let want = format!("application/jose+json{}", hostile_text(""));
    let sigs = v["signatures"].as_array().unwrap();
    assert!(sigs.iter().any(|s| s["envelopeMediaType"] == want.as_str()), "round-trips: {v:#}");
}

/// Own case: a registry-provided string inside an error message (a manifest whose parse error
/// quotes it) reaches JSON `error` fields escaped, and the text tree and stderr escaped.
#[test]
fn error_messages_quoting_registry_text_are_escaped() {
    let mut l = Layout::new();
    let img = l.image("v1", json!({}));
    let evil = hostile_text("schema");
    // A referrer whose schemaVersion is a hostile string: its parse error quotes it.
    let empty = l.blob(b"{}");
    let body = json!({"schemaVersion": evil, "mediaType": MANIFEST, "artifactType": LINK,
        "config": {"mediaType": EMPTY, "digest": empty["digest"], "size": 2}, "layers": [],
        "subject": {"mediaType": MANIFEST, "digest": img["digest"], "size": img["size"]}});
    let bad = l.write(MANIFEST, &body, None, false);
    // It is listed as a referrer through a nested index carrying its artifactType.
    let mut entry = bad.clone();
    entry["artifactType"] = json!(LINK);
    let subject = json!({"mediaType": MANIFEST, "digest": img["digest"], "size": img["size"]});
    let idx = json!({"schemaVersion": 2, "mediaType": INDEX, "manifests": [entry], "subject": subject});
    l.write(INDEX, &idx, None, true);
    let target = format!("{}:v1", l.finish().display());
    let everything = all_hostile();

    let (run, v) = tree_json(&target);
    assert_eq!(raw_hostile_in(&run.stdout, &everything), Vec::<char>::new(), "raw in tree -o json");
    let mut strings = Vec::new();
    all_strings(&v, &mut strings);
    let errors: Vec<&String> = strings.iter().filter(|s| s.contains("schema:")).collect();
    assert!(!errors.is_empty(), "the hostile text is in an error field: {v:#}");
    // However the message carries it (escaped when it was built, or raw and escaped by the
    // JSON writer), nothing raw reaches stdout: checked above on the bytes.
    assert!(errors.iter().all(|e| e.contains("malformed")), "{errors:?}");
    assert!(!evil.is_empty());
    assert_eq!(raw_hostile_in(run.stderr.as_bytes(), &HOSTILE), Vec::<char>::new(), "raw on stderr");

    let run = sigscope(&["tree", "--oci-layout", &target]);
    assert_eq!(raw_hostile_in(&run.stdout, &HOSTILE), Vec::<char>::new(), "raw in the text tree");
    assert_eq!(raw_hostile_in(run.stderr.as_bytes(), &HOSTILE), Vec::<char>::new(), "raw on stderr");
    assert!(run.utf8_out().contains("schema:\\u{9b}x"), "shown escaped: {}", run.utf8_out());
}

/// Own case: the text outputs (`tree`, `verify`) and stderr escape every hostile code point
/// of the hostile layout, tags and annotation keys included.
#[test]
fn text_outputs_escape_c1_del_and_bidi() {
    let (l, _, img) = hostile_layout();
    let path = l.dir.path().display().to_string();
    let run = sigscope(&["tree", "--oci-layout", &path]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(raw_hostile_in(&run.stdout, &HOSTILE), Vec::<char>::new(), "raw in the text tree");
    assert!(run.utf8_out().contains("\\u{202e}"), "{}", run.utf8_out());
    assert_eq!(raw_hostile_in(run.stderr.as_bytes(), &HOSTILE), Vec::<char>::new());

    let notation = tempfile::tempdir().unwrap();
    sigscope::demo::export(&notation.path().join("d")).unwrap();
    let notation_dir = notation.path().join("d/notation");
    let target = format!("{path}@{}", img["digest"].as_str().unwrap());
    let run = sigscope(&["verify", "--oci-layout", &target, "--notation-dir", notation_dir.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert_eq!(raw_hostile_in(&run.stdout, &HOSTILE), Vec::<char>::new(), "raw in verify's text");
    assert_eq!(raw_hostile_in(run.stderr.as_bytes(), &HOSTILE), Vec::<char>::new(), "raw on stderr");
}
