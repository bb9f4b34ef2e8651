//! Resident memory with a fully expanded 100,000-node tree loaded and one frame drawn
//! (target: under 100 MB, issue 13). Prints the figures; no assertion on them.

mod common;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    // `cargo test --benches` runs this once too; the figure is the same either way.
    let before = rss_kib();
    let h = common::tree::big_tree(1_000, 99);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).expect("terminal");
    terminal.draw(|f| sigscope::tui::view::draw(&h.app, f)).expect("draw");
    let after = rss_kib();
    println!(
        "footprint: {} nodes loaded and drawn: resident {:.1} MiB (process before building: {:.1} MiB)",
        h.app.tree.graph.nodes.len(),
        after as f64 / 1024.0,
        before as f64 / 1024.0
    );
}
