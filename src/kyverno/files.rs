//! Policies from files: a YAML file, or every `*.yaml`/`*.yml` of a directory in name order,
//! merged; and a fingerprint of those files, so a watcher sees an edit without reading them.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::policy::{MAX_POLICY_BYTES, PolicySet, load};

/// The policies of a file or a directory of them.
pub fn load_path(path: &Path) -> Result<PolicySet, String> {
    let read = |p: &Path| {
        crate::fsread::read(p, MAX_POLICY_BYTES as u64 + 1, crate::fsread::Symlinks::Follow)
            .map_err(|e| e.to_string())
            .and_then(|b| String::from_utf8(b).map_err(|_| format!("{}: not UTF-8 text", p.display())))
            .and_then(|t| load(&t, &p.display().to_string()).map_err(|e| e.to_string()))
    };
    if !path.is_dir() {
        return read(path);
    }
    let files = yaml_files(path)?;
    if files.is_empty() {
        return Err(format!("{}: no *.yaml or *.yml files", path.display()));
    }
    let mut set = PolicySet::default();
    for f in files {
        merge(&mut set, read(&f)?);
    }
    Ok(set)
}

/// Every path of `paths` (files or directories, no `-`), merged; the first that cannot be
/// loaded is the error.
pub fn load_paths(paths: &[PathBuf]) -> Result<PolicySet, String> {
    let mut set = PolicySet::default();
    for p in paths {
        merge(&mut set, load_path(p)?);
    }
    Ok(set)
}

pub fn merge(into: &mut PolicySet, from: PolicySet) {
    into.cluster_policies.extend(from.cluster_policies);
    into.image_validating.extend(from.image_validating);
    into.config_maps.extend(from.config_maps);
    into.namespaces.extend(from.namespaces);
    into.ignored.extend(from.ignored);
}

fn yaml_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml") && p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

/// What changes when a policy file is written, added or removed: each file's name, size and
/// modification time (a directory's files included), or why it could not be looked at.
pub type Fingerprint = Vec<(PathBuf, Result<(u64, SystemTime), String>)>;

pub fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    let stat = |p: &Path| std::fs::metadata(p).and_then(|m| Ok((m.len(), m.modified()?))).map_err(|e| e.to_string());
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            match yaml_files(p) {
                Ok(files) => out.extend(files.into_iter().map(|f| {
                    let s = stat(&f);
                    (f, s)
                })),
                Err(e) => out.push((p.clone(), Err(e))),
            }
        } else {
            out.push((p.clone(), stat(p)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str =
        "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: NAME\nspec:\n  rules: []\n";

    #[test]
    fn a_directory_is_its_yaml_files_and_an_edit_changes_the_fingerprint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), POLICY.replace("NAME", "a")).unwrap();
        std::fs::write(dir.path().join("notes.txt"), "not a policy").unwrap();
        let paths = vec![dir.path().to_path_buf()];
        let set = load_paths(&paths).unwrap();
        assert_eq!(set.cluster_policies.len(), 1);
        let before = fingerprint(&paths);
        std::fs::write(dir.path().join("b.yml"), POLICY.replace("NAME", "b")).unwrap();
        assert_ne!(fingerprint(&paths), before, "a new file shows");
        assert_eq!(load_paths(&paths).unwrap().cluster_policies.len(), 2);
        let empty = tempfile::tempdir().unwrap();
        assert!(load_paths(&[empty.path().to_path_buf()]).unwrap_err().contains("no *.yaml"));
    }
}
