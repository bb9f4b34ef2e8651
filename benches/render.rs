//! One frame of a fully expanded 100,000-node tree at 120×40 on a `TestBackend`; plus the cost
//! of re-flattening that tree (done on structure changes only) and of typing a filter.

#[path = "../tests/tui_support/mod.rs"]
mod tui_support;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sigscope::graph::{ArtifactKind, ArtifactNode, Expansion, NodeKind, Role, Via};
use sigscope::oci::{Descriptor, media};
use sigscope::tui::view;

use tui_support::{Harness, desc, referrer};

const REFERRERS: u64 = 1_000;
const PER_REFERRER: u64 = 99;

/// A root image with 1,000 signatures, each with 99 referrers of its own: 100,001 nodes, all open.
fn big_tree() -> Harness {
    let root = NodeKind::Artifact(ArtifactNode {
        repository: "app".into(),
        descriptor: Descriptor { digest: tui_support::digest(0), ..Default::default() },
        kind: ArtifactKind::Image,
        role: Role::Root,
        manifest: None,
    });
    let mut h = Harness::new(vec![root]);
    let app = &mut h.app;
    let root = app.graph.roots[0];
    let kinds = [Some(media::NOTATION_SIGNATURE), Some(media::SPDX_JSON), Some(media::IN_TOTO), None];
    let children = (1..=REFERRERS)
        .map(|i| referrer(desc(i, media::OCI_MANIFEST, Some(media::NOTATION_SIGNATURE), 900 + i), Via::ReferrersApi))
        .collect();
    app.graph.apply(root, Ok(Expansion { manifest: None, children }));
    app.open.insert(root);
    let mut n = REFERRERS;
    for parent in app.graph.node(root).children.clone() {
        let children = (0..PER_REFERRER)
            .map(|j| {
                n += 1;
                referrer(desc(n, media::OCI_MANIFEST, kinds[j as usize % kinds.len()], n), Via::ReferrersApi)
            })
            .collect();
        app.graph.apply(parent, Ok(Expansion { manifest: None, children }));
        app.open.insert(parent);
    }
    app.rebuild_rows();
    assert_eq!(app.rows.len() as u64, 1 + REFERRERS * (1 + PER_REFERRER));
    app.cursor = app.rows.len() / 2;
    h
}

fn render(c: &mut Criterion) {
    let mut h = big_tree();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    c.bench_function("frame_100k_nodes_120x40", |b| {
        b.iter(|| {
            terminal.draw(|f| view::draw(&h.app, f)).unwrap();
        });
    });
    c.bench_function("flatten_100k_nodes", |b| b.iter(|| h.app.rebuild_rows()));
    c.bench_function("filter_type_4_chars_and_clear_100k_nodes", |b| {
        b.iter(|| {
            h.key(crossterm::event::KeyCode::Char('/'));
            h.chars("sbom");
            h.key(crossterm::event::KeyCode::Esc);
        })
    });
}

/// For comparison: the whole opened tree handed to tui-tree-widget, which flattens all of it on
/// every frame. Items are built once (the cheapest case for the widget).
fn whole_tree_in_the_widget(c: &mut Criterion) {
    use sigscope::tui::label::node_text;
    use tui_tree_widget::{Tree, TreeItem, TreeState};
    let h = big_tree();
    let g = &h.app.graph;
    let build = |id: usize| -> TreeItem<'static, usize> {
        let kids = g.node(id).children.iter().map(|&k| TreeItem::new_leaf(k, node_text(g, k))).collect();
        TreeItem::new(id, node_text(g, id), kids).unwrap()
    };
    let root = g.roots[0];
    let items = vec![
        TreeItem::new(root, node_text(g, root), g.node(root).children.iter().map(|&k| build(k)).collect()).unwrap(),
    ];
    let mut state = TreeState::default();
    state.open(vec![root]);
    for &k in &g.node(root).children {
        state.open(vec![root, k]);
    }
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    c.bench_function("whole_tree_in_tui_tree_widget_100k_120x40", |b| {
        b.iter(|| {
            terminal.draw(|f| f.render_stateful_widget(Tree::new(&items).unwrap(), f.area(), &mut state)).unwrap();
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30);
    targets = render, whole_tree_in_the_widget
}
criterion_main!(benches);
