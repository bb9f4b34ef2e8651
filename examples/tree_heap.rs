//! Heap of a `sigscope tree HOST` walk, counted by the allocator: the peak while discovering
//! and writing the report, what is live once the graph is built, and what the graph's nodes
//! hold. Peak RSS (benches/tree-memory.sh) also counts malloc's overhead and freed memory it
//! keeps; this names the bytes the program itself asked for, so a change can be traced to
//! what it saved. Options as `sigscope tree` has them (`--concurrency 32`, its cache limit).
//!
//! usage: [PER_EXPANSION=4] cargo run --release --example tree_heap -- HOST [CONCURRENCY=32] [json|tree]
//! (PER_EXPANSION: cache entries per expansion in flight, to see what the caches cost)

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use sigscope::graph::discover::{DiscoverOptions, discover};
use sigscope::graph::{Graph, Node, NodeKind, report};
use sigscope::open::OpenOptions;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let now = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(now, Relaxed);
        COUNT.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        COUNT.fetch_sub(1, Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Counted as the old block and the new one side by side, as a moving realloc holds both.
        let now = LIVE.fetch_add(new_size, Relaxed) + new_size;
        PEAK.fetch_max(now, Relaxed);
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn mib(b: usize) -> f64 {
    b as f64 / (1 << 20) as f64
}

/// Bytes each node's own allocations take (requested sizes, not malloc's chunks), by field.
fn node_heap(graph: &Graph) -> Vec<(&'static str, usize)> {
    let (mut digest, mut tags, mut children, mut facts, mut listed, mut names, mut failed) = (0, 0, 0, 0, 0, 0, 0);
    for n in &graph.nodes {
        children += n.children.capacity() * std::mem::size_of::<usize>();
        tags += n.tags.capacity() * std::mem::size_of::<String>() + n.tags.iter().map(|t| t.capacity()).sum::<usize>();
        if let sigscope::graph::LoadState::Failed(r) = &n.load {
            failed += r.len();
        }
        match &n.kind {
            NodeKind::Artifact(a) => {
                digest += match &a.descriptor.digest {
                    sigscope::graph::NodeDigest::Sha256(_) => 0,
                    sigscope::graph::NodeDigest::Other(t) => t.len(),
                };
                listed += a.listed.iter().map(|(_, v)| 32 + v.len()).sum::<usize>();
                if let Some(m) = &a.manifest {
                    facts +=
                        std::mem::size_of_val(&**m) + m.annotations.iter().map(|(_, v)| 32 + v.len()).sum::<usize>();
                }
            }
            NodeKind::Tag { repository, tag } => names += repository.capacity() + tag.capacity(),
            NodeKind::Repository { name } => names += name.capacity(),
            NodeKind::Registry { host } => names += host.capacity(),
        }
    }
    vec![
        ("node arena (capacity)", graph.nodes.capacity() * std::mem::size_of::<Node>()),
        ("digests", digest),
        ("tags", tags),
        ("children", children),
        ("manifest facts", facts),
        ("listed annotations", listed),
        ("tag/repository names", names),
        ("failure reasons", failed),
    ]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(host) = args.first() else {
        eprintln!("usage: tree_heap HOST [CONCURRENCY] [json|tree]");
        std::process::exit(2);
    };
    let concurrency: usize = args.get(1).and_then(|c| c.parse().ok()).unwrap_or(32);
    let text = args.get(2).is_some_and(|f| f == "tree");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let mut opts = OpenOptions::default();
        opts.registry.concurrency = concurrency;
        let max_in_flight = concurrency * 2;
        // As src/cli/tree.rs: four entries per expansion in flight.
        let per: usize = std::env::var("PER_EXPANSION").ok().and_then(|v| v.parse().ok()).unwrap_or(4);
        opts.registry.cache_limit = Some(per * max_in_flight);
        let opened = sigscope::open::open(host, &opts).expect("open");
        let discover_opts = DiscoverOptions { max_in_flight, ..Default::default() };
        let start = LIVE.load(Relaxed);
        PEAK.store(start, Relaxed);
        let graph = discover(opened.source.clone(), opened.roots.clone(), &discover_opts).await;
        let (built, walk_peak, blocks) = (LIVE.load(Relaxed), PEAK.load(Relaxed), COUNT.load(Relaxed));
        let mut out = std::io::sink();
        let source = opened.source.as_ref();
        if text {
            report::write_text(&graph, source, &graph.roots, &mut out).expect("write");
        } else {
            let reports: Vec<_> = graph.roots.iter().map(|&r| report::report(&graph, source, r)).collect();
            sigscope::json_out::to_writer_pretty(&mut out, &reports).expect("write");
        }
        let n = graph.nodes.len();
        println!("graph nodes {n}, size_of::<Node>() {} B", std::mem::size_of::<Node>());
        println!("before the walk: live {:.2} MiB", mib(start));
        println!(
            "after the walk: live {:.2} MiB ({:.0} B/graph node above the start), {blocks} blocks",
            mib(built),
            (built - start) as f64 / n as f64
        );
        println!(
            "peak while walking {:.2} MiB, peak with the report {:.2} MiB",
            mib(walk_peak),
            mib(PEAK.load(Relaxed))
        );
        let mut total = 0;
        for (what, bytes) in node_heap(&graph) {
            total += bytes;
            println!("  {what:<24} {:>6.2} MiB  {:>4.0} B/node", mib(bytes), bytes as f64 / n as f64);
        }
        println!("  {:<24} {:>6.2} MiB  {:>4.0} B/node", "graph total (approx.)", mib(total), total as f64 / n as f64);
        drop(graph);
        println!("with the graph dropped: live {:.2} MiB (the source: caches, connections)", mib(LIVE.load(Relaxed)));
    });
}
