//! `sigscope tree`: the referrers graph without the UI, as text or oras-shaped JSON.

use std::io::Write;

use sigscope::graph::discover::{DiscoverOptions, discover};
use sigscope::graph::report;
use sigscope::open::OpenOptions;
use sigscope::source::referrers::ExploreOptions;

use super::args::{TreeArgs, TreeFormat};
use super::exit_code;

/// Manifests, referrer listings and blobs a walk keeps after reading them, per expansion in
/// flight. It reads each once, and an artifact's manifest right after its tag's (the artifact
/// is started as soon as the tag's expansion is taken in): in between, at most the other
/// expansions in flight finish, each keeping one or two new entries (its manifest, a
/// tag-schema index), so four per expansion keep what is asked again soon with room to spare.
/// Something asked again later is fetched again (by digest: the same bytes, the same output).
/// A fixed 512 was a third of the walk's memory at 10,000 nodes (BENCHMARKS.md); at the
/// default concurrency (16, so 32 expansions in flight) this keeps 128.
const WALK_CACHE_PER_EXPANSION: usize = 4;

pub async fn run_tree(args: TreeArgs, opts: &OpenOptions) -> i32 {
    let max_in_flight = opts.registry.concurrency * 2;
    let mut walk_opts = opts.clone();
    walk_opts.registry.cache_limit = Some(WALK_CACHE_PER_EXPANSION * max_in_flight.max(1));
    let opened = match sigscope::open::open(&args.target, &walk_opts) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sigscope tree: {e}");
            return exit_code(&e, opts);
        }
    };
    let discover_opts = DiscoverOptions {
        depth: args.depth,
        explore: ExploreOptions { artifact_type: args.artifact_type },
        max_in_flight,
    };
    let graph = discover(opened.source.clone(), opened.roots.clone(), &discover_opts).await;
    let roots = graph.roots.clone();
    load_records(&graph, opened.source.as_ref()).await;
    // Written as it is made, through one buffer: one syscall per 64 KiB, not per line, and no
    // copy of the whole output in memory.
    let mut stdout = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let source = opened.source.as_ref();
    let written = match args.output {
        TreeFormat::Json => {
            let reports: Vec<_> = roots.iter().map(|&r| report::report(&graph, source, r)).collect();
            // Escapes C1, DEL and bidi controls too.
            let written = match reports.as_slice() {
                [one] => sigscope::json_out::to_writer_pretty(&mut stdout, one),
                all => sigscope::json_out::to_writer_pretty(&mut stdout, all),
            };
            written.map_err(sigscope::json_out::io_error).and_then(|_| writeln!(stdout))
        }
        TreeFormat::Tree => report::write_text(&graph, source, &roots, &mut stdout),
    }
    .and_then(|_| stdout.flush());
    match written {
        // The reader went away (`| head`): nothing left to say.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return 0,
        Err(e) => {
            eprintln!("sigscope tree: cannot write output: {e}");
            return 3;
        }
        Ok(()) => {}
    }
    let mut failures = Vec::new();
    for &r in &roots {
        report::failures(&graph, opened.source.as_ref(), r, &mut failures);
    }
    for f in &failures {
        eprintln!("sigscope tree: {f}");
    }
    if failures.is_empty() {
        0
    } else if opts.oci_layout {
        layout_failure_code(&graph, &opened).await
    } else {
        3
    }
}

/// The registry API's records of every repository in the graph (ECR: one DescribeImages
/// listing each, most already made while discovering), for the report. A listing that fails
/// leaves its manifests without a record and says so on stderr; the tree itself stands.
async fn load_records(graph: &sigscope::graph::Graph, source: &dyn sigscope::source::Source) {
    let mut repositories: Vec<&str> = graph.nodes.iter().filter_map(|n| n.artifact().map(|a| &*a.repository)).collect();
    repositories.sort_unstable();
    repositories.dedup();
    use futures::StreamExt;
    let loads = repositories.iter().map(|r| async move { (*r, source.load_records(r).await) });
    let results: Vec<_> = futures::stream::iter(loads).buffer_unordered(8).collect().await;
    for (repository, result) in results {
        if let Err(e) = result {
            eprintln!(
                "sigscope tree: the registry's records of {} could not be read: {e}",
                sigscope::sanitize::sanitize(repository)
            );
        }
    }
}

/// Exit code of a tree over a local layout that has failures. When the tag or digest named
/// on the command line failed, it is the exit code of that error as `verify` gives it (a tag
/// the layout does not hold is 2, not "registry or network"); the graph keeps reasons as text,
/// so the target is asked again for the typed error. Failures further down keep 3: the tree
/// is incomplete.
pub async fn layout_failure_code(graph: &sigscope::graph::Graph, opened: &sigscope::open::Opened) -> i32 {
    use sigscope::graph::{LoadState, NodeKind};
    let root_failed = graph.roots.iter().any(|&r| matches!(graph.node(r).load, LoadState::Failed(_)));
    let named = matches!(opened.roots.as_slice(), [NodeKind::Tag { .. } | NodeKind::Artifact(_)]);
    if !(root_failed && named) {
        return 3;
    }
    match sigscope::verify::resolve_target(opened).await {
        Err(e) => e.exit_code_in_layout(),
        // Read fine this time: the layout changed under us; still not a success.
        Ok(_) => 3,
    }
}
