//! A fully expanded tree of 100,000 nodes in an [`App`], for the render and footprint benches:
//! built in memory on a source that is never called (no effect is run). The source is the
//! library's in-memory layout, empty: the TUI tests' never-called source lives in
//! `tests/common/tui.rs`, which a bench cannot include, and a second copy of it here would be
//! one more thing to keep in step with the `Source` trait.

use std::collections::HashMap;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use sigscope::graph::{ArtifactKind, ArtifactNode, ChildSpec, Expansion, NodeKind, Role};
use sigscope::oci::{Descriptor, media};
use sigscope::open::Opened;
use sigscope::source::layout::{LayoutSource, MemFiles};
use sigscope::source::referrers::Via;
use sigscope::tui::theme::Theme;
use sigscope::tui::{App, AppOptions, Msg};

/// An OCI layout in memory that lists nothing.
fn empty_layout() -> LayoutSource {
    let index = bytes::Bytes::from_static(br#"{"schemaVersion":2,"manifests":[]}"#);
    let files = MemFiles(HashMap::from([("index.json".to_string(), index)]));
    LayoutSource::open("registry.example".into(), "app".into(), Box::new(files)).expect("an empty layout")
}

/// The app and its tree. Effects the app asks for are dropped: the benches time the app.
pub struct Tree {
    pub app: App,
}

impl Tree {
    pub fn key(&mut self, code: KeyCode) {
        drop(self.app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))));
    }

    pub fn chars(&mut self, s: &str) {
        for c in s.chars() {
            self.key(KeyCode::Char(c));
        }
    }
}

/// A stable digest per number, distinct in its first twelve hex digits.
fn digest(n: u64) -> String {
    sigscope::oci::sha256_digest(&n.to_le_bytes())
}

/// A referrer of `app` created at a fixed time.
fn referrer(n: u64, artifact_type: Option<&str>, size: u64) -> ChildSpec {
    let mut descriptor = Descriptor {
        media_type: media::OCI_MANIFEST.into(),
        digest: digest(n),
        size,
        artifact_type: artifact_type.map(str::to_string),
        ..Default::default()
    };
    descriptor.annotations.insert("org.opencontainers.image.created".into(), "2026-01-01T00:00:00Z".into());
    ChildSpec::Artifact { repository: "app".into(), descriptor, role: Role::Referrer(Via::ReferrersApi), tags: vec![] }
}

/// A root image with `referrers` signatures, each with `per_referrer` referrers of its own
/// (`1 + referrers * (1 + per_referrer)` nodes), every node open, the cursor in the middle.
pub fn big_tree(referrers: u64, per_referrer: u64) -> Tree {
    let descriptor = Descriptor { digest: digest(0), ..Default::default() };
    let root = NodeKind::Artifact(ArtifactNode::new("app", descriptor, ArtifactKind::Image, Role::Root));
    let opened =
        Opened { target: "registry.example/app:v1".into(), source: Arc::new(empty_layout()), roots: vec![root] };
    let mut options = AppOptions::new(Theme::resolve(None, true).unwrap());
    options.no_color = true;
    let mut app = App::new(opened, options);
    drop(app.start());
    let root = app.tree.graph.roots[0];
    let kinds = [Some(media::NOTATION_SIGNATURE), Some(media::SPDX_JSON), Some(media::IN_TOTO), None];
    let children = (1..=referrers).map(|i| referrer(i, Some(media::NOTATION_SIGNATURE), 900 + i)).collect();
    app.tree.graph.apply(root, Ok(Expansion { manifest: None, children }));
    app.tree.open.insert(root);
    let mut n = referrers;
    for parent in app.tree.graph.node(root).children.clone() {
        let children = (0..per_referrer)
            .map(|j| {
                n += 1;
                referrer(n, kinds[j as usize % kinds.len()], n)
            })
            .collect();
        app.tree.graph.apply(parent, Ok(Expansion { manifest: None, children }));
        app.tree.open.insert(parent);
    }
    app.rebuild_rows();
    assert_eq!(app.tree.rows.len() as u64, 1 + referrers * (1 + per_referrer));
    app.tree.cursor = app.tree.rows.len() / 2;
    Tree { app }
}
