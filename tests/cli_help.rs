//! The command line's own surface (issue 8, CLI): each subcommand's `--help` lists the flags it
//! reads and no others, every positional says what it is, a theme that does not exist is a
//! usage error, and flags given before the subcommand still reach it.

mod common;

use std::collections::BTreeSet;

use common::cmd;

fn sigscope(args: &[&str]) -> (i32, String, String) {
    cmd::sigscope(args).output()
}

fn help(args: &[&str]) -> String {
    let mut all = args.to_vec();
    all.push("--help");
    let (code, out, err) = sigscope(&all);
    assert_eq!(code, 0, "{args:?} --help: {err}");
    out
}

/// The long flags an `Options:` section lists.
fn flags(help: &str) -> BTreeSet<String> {
    help.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split([' ', ',', '=']).find(|w| w.starts_with("--")).map(str::to_string))
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// Flags every command that talks to a registry or opens a layout reads.
const SOURCE: [&str; 12] = [
    "--oci-layout",
    "--plain-http",
    "--ca-file",
    "--username",
    "--password-stdin",
    "--concurrency",
    "--timeout",
    "--ecr",
    "--region",
    "--profile",
    "--registry-id",
    "--help",
];

#[test]
fn each_help_lists_only_the_flags_that_command_reads() {
    let mut tree = set(&SOURCE);
    tree.extend(set(&["--output", "--depth", "--artifact-type", "--deadline"]));
    assert_eq!(flags(&help(&["tree"])), tree);

    let mut verify = set(&SOURCE);
    verify.extend(set(&["--output", "--offline", "--deadline", "--notation-dir", "--cosign-key"]));
    assert_eq!(flags(&help(&["verify"])), verify);

    let mut tui = set(&SOURCE);
    tui.extend(set(&[
        "--version",
        "--notation-dir",
        "--read-only",
        "--theme",
        "--no-mouse",
        "--preview-limit",
        "--kyverno-policy",
        "--cosign-key",
    ]));
    assert_eq!(flags(&help(&[])), tui);

    let mut explain = set(&SOURCE);
    explain.extend(set(&[
        "--kyverno-policy",
        "--denial",
        "--image",
        "--namespace",
        "--output",
        "--offline",
        "--deadline",
    ]));
    assert_eq!(flags(&help(&["explain"])), explain);

    for cmd in [&["completions"][..], &["demo"], &["demo", "export"]] {
        assert_eq!(flags(&help(cmd)), set(&["--help"]), "{cmd:?}");
    }
}

#[test]
fn every_positional_is_described() {
    for cmd in [&[][..], &["tree"], &["verify"], &["completions"], &["demo", "export"]] {
        let text = help(cmd);
        let section: Vec<&str> = text
            .split("Arguments:")
            .nth(1)
            .unwrap_or_else(|| panic!("{cmd:?} has an Arguments section: {text}"))
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        let entries: Vec<usize> =
            (0..section.len()).filter(|&i| section[i].trim_start().starts_with(['<', '['])).collect();
        assert!(!entries.is_empty(), "{cmd:?}: {text}");
        for i in entries {
            // Short help puts the description beside the name, long help on the next line.
            let beside = section[i].trim().split_once("  ").map(|(_, d)| d.trim()).unwrap_or("");
            let below = section.get(i + 1).map(|l| l.trim()).filter(|l| !l.starts_with(['<', '['])).unwrap_or("");
            assert!(
                !beside.is_empty() || !below.is_empty(),
                "{cmd:?}: positional without a description: {:?}",
                section[i]
            );
        }
    }
}

#[test]
fn an_unknown_theme_is_a_usage_error_naming_the_themes() {
    let (code, _, err) = sigscope(&["--theme", "nope"]);
    assert_eq!(code, 2, "{err}");
    for name in ["dark", "light", "high-contrast", "mono"] {
        assert!(err.contains(name), "{name} offered: {err}");
    }
}

#[test]
fn flags_for_another_command_are_refused_not_ignored() {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let layout = format!("{}:signed", dir.path().join("d/layout").display());

    // A TUI flag after `tree` is unknown to it.
    let (code, _, err) = sigscope(&["tree", "--oci-layout", &layout, "--preview-limit", "10"]);
    assert_eq!(code, 2, "{err}");
    // Before the subcommand: said plainly, not dropped.
    let (code, _, err) = sigscope(&["--preview-limit", "10", "tree", "--oci-layout", &layout]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--preview-limit") && err.contains("tree"), "{err}");
    // The common flags of the command-line contract are accepted everywhere (tree draws no UI,
    // writes nothing), unlisted; an unknown theme is still refused.
    for args in [
        &["tree", "--oci-layout", &layout, "--theme", "dark", "--no-mouse", "--read-only"][..],
        &["--theme", "mono", "--no-mouse", "--read-only", "tree", "--oci-layout", &layout][..],
    ] {
        let (code, _, err) = sigscope(args);
        assert_eq!(code, 0, "{args:?}: {err}");
    }
    let (code, _, err) = sigscope(&["tree", "--oci-layout", &layout, "--theme", "nope"]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = sigscope(&["--no-mouse", "demo", "export", dir.path().join("e").to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(!dir.path().join("e").exists(), "nothing written after a usage error");
}

#[test]
fn flags_before_the_subcommand_still_reach_it() {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let layout = format!("{}:signed", dir.path().join("d/layout").display());
    let notation = dir.path().join("d/notation").display().to_string();

    let (code, out, err) = sigscope(&["--oci-layout", "tree", &layout, "-o", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"digest\""), "{out}");
    let (code, _, err) = sigscope(&["--oci-layout", "--notation-dir", &notation, "verify", &layout]);
    assert_eq!(code, 0, "{err}");
    // tree and verify write nothing anywhere: --read-only holds for them by nature and stays accepted.
    let (code, _, err) = sigscope(&["verify", "--read-only", "--oci-layout", &layout, "--notation-dir", &notation]);
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = sigscope(&["--read-only", "tree", "--oci-layout", &layout]);
    assert_eq!(code, 0, "{err}");
    // --username without --password-stdin is still refused from either side.
    let (code, _, err) = sigscope(&["--username", "u", "tree", "--oci-layout", &layout]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--password-stdin"), "{err}");
}
