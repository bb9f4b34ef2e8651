//! One frame of a fully expanded 100,000-node tree at 120×40 on a `TestBackend`; plus the cost
//! of re-flattening that tree (done on structure changes only) and of typing a filter.

mod common;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use sigscope::tui::view;

use common::tree::big_tree;

fn render(c: &mut Criterion) {
    let mut h = big_tree(1_000, 99);
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
    let h = big_tree(1_000, 99);
    let g = &h.app.tree.graph;
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
