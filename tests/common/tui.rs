//! Fixtures for the TUI tests: a source that is never called (effects are not run; their
//! results are fed back by hand) and helpers to drive `App::update`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use sigscope::error::{Error, Result};
use sigscope::graph::{ChildSpec, Expansion, NodeId, NodeKind, Role, Via};
use sigscope::notation::dir::snapshot;
use sigscope::oci::{Descriptor, Platform, media};
use sigscope::open::Opened;
use sigscope::source::{FetchedManifest, Source};
use sigscope::tui::app::RequestId;
use sigscope::tui::theme::Theme;
use sigscope::tui::{App, AppOptions, Effect, Msg, view};

pub struct NoSource;

#[async_trait]
impl Source for NoSource {
    fn name(&self) -> String {
        "fixture".into()
    }
    fn host(&self) -> String {
        "registry.example".into()
    }
    async fn repositories(&self) -> Result<Vec<String>> {
        Err(Error::Unsupported { what: "fixture".into() })
    }
    async fn tags(&self, _: &str) -> Result<Arc<Vec<String>>> {
        Err(Error::Unsupported { what: "fixture".into() })
    }
    async fn manifest(&self, _: &str, _: &str) -> Result<Arc<FetchedManifest>> {
        Err(Error::Unsupported { what: "fixture".into() })
    }
    async fn blob(&self, _: &str, _: &Descriptor, _: u64) -> Result<Bytes> {
        Err(Error::Unsupported { what: "fixture".into() })
    }
    async fn referrers_api(&self, _: &str, _: &str, _: Option<&str>) -> Result<Option<Vec<Descriptor>>> {
        Err(Error::Unsupported { what: "fixture".into() })
    }
}

/// A stable digest per number, distinct in its first twelve hex digits.
pub fn digest(n: u64) -> String {
    sigscope::oci::sha256_digest(&n.to_le_bytes())
}

pub fn desc(n: u64, media_type: &str, artifact_type: Option<&str>, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.into(),
        digest: digest(n),
        size,
        artifact_type: artifact_type.map(str::to_string),
        ..Default::default()
    }
}

pub fn created(mut d: Descriptor, when: &str) -> Descriptor {
    d.annotations.insert("org.opencontainers.image.created".into(), when.into());
    d
}

pub fn platform(mut d: Descriptor, os: &str, arch: &str) -> Descriptor {
    d.platform = Some(Box::new(Platform { os: os.into(), architecture: arch.into(), ..Default::default() }));
    d
}

pub fn referrer(d: Descriptor, via: Via) -> ChildSpec {
    ChildSpec::Artifact { repository: "app".into(), descriptor: d, role: Role::Referrer(via), tags: vec![] }
}

pub fn index_manifest(platforms: &[Descriptor]) -> Arc<FetchedManifest> {
    let body = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media::OCI_INDEX,
        "manifests": platforms,
        "annotations": {"org.opencontainers.image.created": "2024-05-01T12:00:00Z"},
    });
    let raw = Bytes::from(serde_json::to_vec_pretty(&body).unwrap());
    Arc::new(FetchedManifest::from_bytes(raw, None, None, "fixture index").unwrap())
}

/// Drives an app: remembers the request ids of the effects it returned.
pub struct Harness {
    pub app: App,
    pub expand: HashMap<NodeId, RequestId>,
    pub describe: HashMap<NodeId, RequestId>,
    pub effects: Vec<String>,
    /// Effects that do work (expand, describe, verify, write), for [`Harness::run_effects`].
    pub queue: Vec<Effect>,
}

impl Harness {
    pub fn new(roots: Vec<NodeKind>) -> Harness {
        let opened = Opened { target: "registry.example/app:v1".into(), source: Arc::new(NoSource), roots };
        let theme = Theme::resolve(None, true).unwrap();
        let mut options = AppOptions::new(theme);
        options.no_color = true; // as if NO_COLOR=1: snapshots never depend on the environment
        Harness::with(opened, options)
    }

    /// An app on `opened` with `options` (NO_COLOR-style mono theme expected), started.
    pub fn with(opened: Opened, options: AppOptions) -> Harness {
        let app = App::new(opened, options);
        let mut h =
            Harness { app, expand: HashMap::new(), describe: HashMap::new(), effects: Vec::new(), queue: Vec::new() };
        let first = h.app.start();
        h.record(first);
        h
    }

    /// Runs the queued effects for real (expansions, descriptions, verifications, policy writes)
    /// on a private runtime, through the app's own `execute` (so the tests map an effect to
    /// its message exactly as the app does), and feeds their results back until none are left.
    pub fn run_effects(&mut self) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        while !self.queue.is_empty() {
            for effect in std::mem::take(&mut self.queue) {
                let msg = rt.block_on(sigscope::tui::effects::execute(effect));
                if let Some(msg) = msg {
                    self.send(msg);
                }
            }
        }
    }

    fn record(&mut self, effects: Vec<Effect>) {
        for e in effects {
            self.effects.push(format!("{e:?}"));
            match &e {
                Effect::Expand { request, node, .. } => {
                    self.expand.insert(*node, *request);
                }
                Effect::Describe { request, node, .. } => {
                    self.describe.insert(*node, *request);
                }
                _ => {}
            }
            if matches!(
                e,
                Effect::Expand { .. }
                    | Effect::Describe { .. }
                    | Effect::Verify { .. }
                    | Effect::VerifyCosign { .. }
                    | Effect::WritePolicy { .. }
                    | Effect::Open { .. }
                    | Effect::Sign { .. }
                    | Effect::Explain { .. }
            ) {
                self.queue.push(e);
            }
        }
    }

    pub fn send(&mut self, msg: Msg) {
        let effects = self.app.update(msg);
        self.record(effects);
    }

    /// An expansion's answer; a failure given as text arrives as an error that reads as exactly
    /// that text (and is not one that asking again could fix).
    pub fn expanded(&mut self, node: NodeId, result: std::result::Result<Expansion, String>) {
        let request = *self.expand.get(&node).unwrap_or_else(|| panic!("no expand request for node {node}"));
        let result = result.map_err(Error::Usage);
        self.send(Msg::Expanded { request, node, result });
    }

    pub fn key(&mut self, code: KeyCode) {
        self.send(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    pub fn chars(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    /// Moves the cursor onto `node` with j/k.
    pub fn select(&mut self, node: NodeId) {
        let target = self.app.tree.rows.iter().position(|r| r.id == node).expect("node is visible");
        while self.app.tree.cursor < target {
            self.key(KeyCode::Char('j'));
        }
        while self.app.tree.cursor > target {
            self.key(KeyCode::Char('k'));
        }
    }

    pub fn child(&self, parent: NodeId, i: usize) -> NodeId {
        self.app.tree.graph.node(parent).children[i]
    }

    /// A frame at `width`×`height`, after telling the app that size as a terminal would
    /// (`Msg::Resize`), so the keys and clicks that follow are measured on this frame.
    pub fn render(&mut self, width: u16, height: u16) -> Terminal<TestBackend> {
        self.send(Msg::Resize(width, height));
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| view::draw(&self.app, f)).unwrap();
        terminal
    }
}

/// A left click at (`row`, `col`) of the screen.
pub fn click(row: u16, col: u16) -> Msg {
    Msg::Mouse(crossterm::event::MouseEvent {
        kind: crossterm::event::MouseEventKind::Down(crossterm::event::MouseButton::Left),
        column: col,
        row,
        modifiers: KeyModifiers::NONE,
    })
}

/// The text of one screen line.
pub fn row_text(terminal: &Terminal<TestBackend>, y: u16) -> String {
    let buf = terminal.backend().buffer();
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

pub fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let h = terminal.backend().buffer().area.height;
    (0..h).map(|y| row_text(terminal, y) + "\n").collect()
}

/// A tag `v1` → an index with two platforms and four referrers of different kinds; the Notation
/// signature has its own referrer and a referrer that points back at the index (a cycle); the
/// SBOM fails to load.
pub struct SupplyChain {
    pub h: Harness,
    pub tag: NodeId,
    pub index: NodeId,
    pub amd64: NodeId,
    pub notation: NodeId,
    pub cosign: NodeId,
    pub sbom: NodeId,
    pub attestation: NodeId,
    pub timestamp: NodeId,
    pub cycle: NodeId,
}

pub fn supply_chain() -> SupplyChain {
    let mut h = Harness::new(vec![NodeKind::Tag { repository: "app".into(), tag: "v1".into() }]);
    let tag = h.app.tree.graph.roots[0];
    let index_desc = desc(1, media::OCI_INDEX, None, 2048);
    h.expanded(
        tag,
        Ok(Expansion {
            manifest: None,
            children: vec![ChildSpec::Artifact {
                repository: "app".into(),
                descriptor: index_desc,
                role: Role::Root,
                tags: vec!["v1".into(), "latest".into()],
            }],
        }),
    );
    let index = h.child(tag, 0);
    let platforms = vec![
        platform(desc(2, media::OCI_MANIFEST, None, 1200), "linux", "amd64"),
        platform(desc(3, media::OCI_MANIFEST, None, 1300), "linux", "arm64"),
    ];
    let mut children: Vec<ChildSpec> = platforms
        .iter()
        .map(|d| ChildSpec::Artifact {
            repository: "app".into(),
            descriptor: d.clone(),
            role: Role::Platform,
            tags: vec![],
        })
        .collect();
    children.push(referrer(
        created(desc(10, media::OCI_MANIFEST, Some(media::NOTATION_SIGNATURE), 900), "2024-05-02T08:30:00Z"),
        Via::ReferrersApi,
    ));
    children.push(referrer(
        desc(11, media::OCI_MANIFEST, Some(media::COSIGN_SIMPLESIGNING), 600),
        Via::CosignTag(format!("{}.sig", sigscope::oci::digest_tag(&digest(1)))),
    ));
    children.push(referrer(desc(12, media::OCI_MANIFEST, Some(media::SPDX_JSON), 52_000), Via::TagSchema));
    children.push(referrer(desc(13, media::OCI_MANIFEST, Some(media::IN_TOTO), 3100), Via::ReferrersApi));
    h.expanded(index, Ok(Expansion { manifest: Some(index_manifest(&platforms)), children }));
    let (amd64, notation, cosign, sbom, attestation) =
        (h.child(index, 0), h.child(index, 2), h.child(index, 3), h.child(index, 4), h.child(index, 5));

    // Expand the Notation signature: a timestamp countersignature and a cycle back to the index.
    h.select(notation);
    h.key(KeyCode::Char('l'));
    h.expanded(
        notation,
        Ok(Expansion {
            manifest: None,
            children: vec![
                referrer(desc(20, media::OCI_MANIFEST, Some(media::NOTATION_SIGNATURE), 700), Via::ReferrersApi),
                referrer(desc(1, media::OCI_INDEX, None, 2048), Via::ReferrersApi),
            ],
        }),
    );
    let (timestamp, cycle) = (h.child(notation, 0), h.child(notation, 1));

    // The SBOM fails.
    h.select(sbom);
    h.key(KeyCode::Char('l'));
    h.expanded(sbom, Err("registry error from registry.example: HTTP 500: internal error".into()));
    h.select(tag);
    SupplyChain { h, tag, index, amd64, notation, cosign, sbom, attestation, timestamp, cycle }
}

/// The fixed "now" of the TUI tests that verify: the demo's `expired` signature expired in
/// 2025-06, its other signatures run to 2035.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-01-01T00:00:00Z".parse().unwrap()
}

/// Options for a test app: the mono theme, as if NO_COLOR=1 (screens never depend on the
/// environment), the fixed clock, and `notation` as the Notation directory when given.
pub fn options(notation: Option<&Path>) -> AppOptions {
    let mut options = AppOptions::new(Theme::resolve(None, true).unwrap());
    options.no_color = true;
    options.clock = std::sync::Arc::new(sigscope::tui::clock::ManualClock::at(now()));
    options.notation_dir = notation.map(Path::to_path_buf);
    options
}

/// An app on `opened`, started, its policy loaded from its Notation directory (sent by hand,
/// as the watcher would) and every effect run: loaded and verified as far as it goes alone.
pub fn verifying(opened: Opened, options: AppOptions) -> Harness {
    let notation = options.notation_dir.clone();
    let mut h = Harness::with(opened, options);
    if let Some(dir) = notation {
        h.send(Msg::PolicyLoaded(Box::new(snapshot(&dir))));
    }
    h.run_effects();
    h
}

/// `root/notation`, holding the built-in demo's policy and CA.
pub fn demo_notation(root: &Path) -> PathBuf {
    let dir = root.join("notation");
    std::fs::create_dir_all(&dir).unwrap();
    sigscope::demo::write_notation(&dir).unwrap();
    dir
}

/// The reachable node of tag `tag` (copies a refresh replaced stay in the arena, unreachable).
pub fn tag_node(h: &Harness, tag: &str) -> NodeId {
    let mut stack = h.app.tree.graph.roots.clone();
    while let Some(id) = stack.pop() {
        if matches!(&h.app.tree.graph.node(id).kind, NodeKind::Tag { tag: t, .. } if t == tag) {
            return id;
        }
        stack.extend(h.app.tree.graph.node(id).children.iter().copied());
    }
    panic!("tag {tag} is not in the tree")
}

/// How long the name of a [`ShownNotationDir`] is: that of the fixed directories the tests
/// used before (`sigscope-tui-verification`), so the screens they assert stay the same.
const SHOWN_DIR_NAME: usize = 25;

/// A Notation directory with the demo's policy and CA, private to this run and removed on
/// drop, for tests whose screens show its path: `/tmp/<prefix><random>/<name>`.
///
/// The verification panel shows the policy's path folded to the panel's width, so the length
/// of the path is part of every screen a snapshot asserts. The directory is therefore made in
/// `/tmp` (not `$TMPDIR`, whose length differs between machines) under a name of a fixed
/// length, and [`ShownNotationDir::redact`] replaces its random part in a screen.
pub struct ShownNotationDir {
    _run: tempfile::TempDir,
    random: String,
    path: PathBuf,
}

impl ShownNotationDir {
    pub fn new(prefix: &str, name: &str) -> ShownNotationDir {
        assert!(prefix.len() + 3 <= SHOWN_DIR_NAME, "prefix {prefix:?} leaves too little room for a random part");
        let run = tempfile::Builder::new()
            .prefix(prefix)
            .rand_bytes(SHOWN_DIR_NAME - prefix.len())
            .tempdir_in("/tmp")
            .expect("a private directory in /tmp");
        let file_name = run.path().file_name().unwrap().to_str().unwrap();
        let random = file_name[prefix.len()..].to_string();
        let path = run.path().join(name);
        std::fs::create_dir_all(&path).unwrap();
        sigscope::demo::write_notation(&path).unwrap();
        ShownNotationDir { _run: run, random, path }
    }

    /// `screen` with this run's random part of the path replaced by a fixed mark as wide.
    pub fn redact(&self, screen: &str) -> String {
        screen.replace(&self.random, &"#".repeat(self.random.len()))
    }
}

impl std::ops::Deref for ShownNotationDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for ShownNotationDir {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}
