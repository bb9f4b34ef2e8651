//! Verification state of the TUI: the live trust policy (last good one, current error), the
//! trust stores on disk, the what-if edits laid over the policy, and each image node's result.
//! File reading and watching happen on effect tasks ([`snapshot`], [`fingerprint`]); the
//! functions here that touch the disk are only ever called from there (or from tests).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crate::notation::dn::Dn;
use crate::notation::policy::{
    LEGACY_POLICY_FILE, Level, OCI_POLICY_FILE, PolicyError, TrustPolicy, TrustStoreKind, TrustStoreRef,
    TrustedIdentity,
};
use crate::notation::verify::ArtifactReport;

/// What the watcher read from a Notation directory.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub dir: PathBuf,
    /// The file the policy was (or would be) read from; write-back goes there.
    pub path: PathBuf,
    pub policy: Result<TrustPolicy, PolicyError>,
    /// The policy file's text as read (for the write-back diff).
    pub text: Option<String>,
    /// `ca` and `signingAuthority` stores that exist under `truststore/x509/`.
    pub stores: Vec<TrustStoreRef>,
}

/// `trustpolicy.oci.json` if present, else a present legacy `trustpolicy.json`, else the OCI name.
pub fn policy_path(dir: &Path) -> PathBuf {
    let oci = dir.join(OCI_POLICY_FILE);
    let legacy = dir.join(LEGACY_POLICY_FILE);
    if !oci.exists() && legacy.exists() { legacy } else { oci }
}

/// Reads the policy and lists the stores (disk I/O: effect tasks only).
pub fn snapshot(dir: &Path) -> Snapshot {
    let path = policy_path(dir);
    Snapshot {
        dir: dir.to_path_buf(),
        // Bounded, and never blocked by a FIFO: this runs on every change the watcher sees.
        text: crate::fsread::read_to_string(&path, crate::fsread::MAX_CONFIG_BYTES, crate::fsread::Symlinks::Refuse)
            .ok(),
        path,
        policy: TrustPolicy::load(dir),
        stores: list_stores(dir),
    }
}

/// Directory entries looked at per listing: a store directory is a handful of names, and the
/// watcher lists it on every change, so a directory of millions of entries must not stall it.
pub const MAX_LISTED_ENTRIES: usize = 10_000;

pub fn list_stores(dir: &Path) -> Vec<TrustStoreRef> {
    let mut out = Vec::new();
    for kind in [TrustStoreKind::Ca, TrustStoreKind::SigningAuthority] {
        let Ok(entries) = std::fs::read_dir(dir.join("truststore/x509").join(kind.dir_name())) else { continue };
        let mut names: Vec<String> = entries
            .take(MAX_LISTED_ENTRIES)
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| crate::notation::policy::valid_store_name(n))
            .collect();
        names.sort();
        out.extend(names.into_iter().map(|name| TrustStoreRef { kind, name }));
    }
    out
}

/// Size and modification time of the policy files and of everything under `truststore/`:
/// when this changes, the policy or a store changed.
/// Symlinks are not followed and at most [`MAX_LISTED_ENTRIES`] entries are looked at.
pub fn fingerprint(dir: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    fn walk(path: &Path, depth: usize, out: &mut Vec<(PathBuf, u64, Option<SystemTime>)>) {
        if out.len() >= MAX_LISTED_ENTRIES {
            return;
        }
        let Ok(meta) = std::fs::symlink_metadata(path) else { return };
        out.push((path.to_path_buf(), meta.len(), meta.modified().ok()));
        if meta.is_dir()
            && depth < 6
            && let Ok(entries) = std::fs::read_dir(path)
        {
            let mut paths: Vec<PathBuf> = entries.take(MAX_LISTED_ENTRIES).flatten().map(|e| e.path()).collect();
            paths.sort();
            for p in paths {
                walk(&p, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    for name in [OCI_POLICY_FILE, LEGACY_POLICY_FILE] {
        walk(&dir.join(name), 6, &mut out);
    }
    walk(&dir.join("truststore"), 0, &mut out);
    out
}

/// A policy error as one line: statement, field, reason (the error's own sentence has them).
pub fn error_text(e: &PolicyError) -> String {
    crate::sanitize::sanitize(&e.to_string()).into_owned()
}

/// Changes to one statement that exist only on screen until written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementEdit {
    pub level: Option<Level>,
    pub trust_stores: Option<Vec<TrustStoreRef>>,
    pub trusted_identities: Option<Vec<TrustedIdentity>>,
}

/// What-if edits by statement name, laid over whatever policy the file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhatIf {
    pub edits: BTreeMap<String, StatementEdit>,
}

impl WhatIf {
    pub fn is_active(&self) -> bool {
        self.edits.values().any(|e| *e != StatementEdit::default())
    }

    /// The policy with the edits applied. A statement moved to `skip` loses its stores,
    /// identities and overrides (the specification forbids them there); moving it back
    /// restores them from the file.
    pub fn apply(&self, base: &TrustPolicy) -> TrustPolicy {
        let mut p = base.clone();
        for s in &mut p.statements {
            let Some(e) = self.edits.get(&s.name) else { continue };
            if let Some(l) = e.level {
                s.level = l;
            }
            if let Some(t) = &e.trust_stores {
                s.trust_stores = t.clone();
            }
            if let Some(i) = &e.trusted_identities {
                s.trusted_identities = i.clone();
            }
            if s.level == Level::Skip {
                s.trust_stores.clear();
                s.trusted_identities.clear();
                s.overrides.clear();
            }
        }
        p
    }

    /// Drops edits that the file now says itself (after a reload or a write).
    pub fn prune(&mut self, base: &TrustPolicy) {
        self.edits.retain(|name, e| {
            let Some(s) = base.statement(name) else { return false };
            if e.level == Some(s.level) {
                e.level = None;
            }
            if e.trust_stores.as_ref() == Some(&s.trust_stores) {
                e.trust_stores = None;
            }
            if e.trusted_identities.as_ref() == Some(&s.trusted_identities) {
                e.trusted_identities = None;
            }
            *e != StatementEdit::default()
        });
    }

    /// Cycles the level of `statement`: strict → permissive → audit → skip → strict.
    pub fn cycle_level(&mut self, base: &TrustPolicy, statement: &str) -> Option<Level> {
        let current = self.apply(base).statement(statement)?.level;
        let i = Level::ALL.iter().position(|l| *l == current).unwrap_or(0);
        let next = Level::ALL[(i + 1) % Level::ALL.len()];
        let original = base.statement(statement)?.level;
        let e = self.edits.entry(statement.to_string()).or_default();
        e.level = (next != original).then_some(next);
        Some(next)
    }

    /// Cycles the trust stores of `statement`: as in the file → each store on disk alone → back.
    pub fn cycle_store(
        &mut self,
        base: &TrustPolicy,
        statement: &str,
        available: &[TrustStoreRef],
    ) -> Option<Vec<TrustStoreRef>> {
        let original = base.statement(statement)?.trust_stores.clone();
        let mut options: Vec<Vec<TrustStoreRef>> = vec![original.clone()];
        for s in available {
            let alone = vec![s.clone()];
            if !options.contains(&alone) {
                options.push(alone);
            }
        }
        let e = self.edits.entry(statement.to_string()).or_default();
        let current = e.trust_stores.clone().unwrap_or_else(|| original.clone());
        let i = options.iter().position(|o| *o == current).unwrap_or(0);
        let next = options[(i + 1) % options.len()].clone();
        e.trust_stores = (next != original).then(|| next.clone());
        Some(next)
    }

    /// Toggles the trusted identities of `statement` between `*` and `x509.subject:<signer>`.
    pub fn toggle_identity(
        &mut self,
        base: &TrustPolicy,
        statement: &str,
        signer: Option<&str>,
    ) -> Result<Vec<TrustedIdentity>, String> {
        let original =
            base.statement(statement).ok_or("the statement is gone from the policy")?.trusted_identities.clone();
        let e = self.edits.entry(statement.to_string()).or_default();
        let current = e.trusted_identities.clone().unwrap_or_else(|| original.clone());
        let next = if current == [TrustedIdentity::Any] {
            let signer = signer.ok_or("no signer to trust: select an image with a signature that names its signer")?;
            let dn = Dn::parse(signer)
                .and_then(|dn| dn.require_mandatory(signer).map(|()| dn))
                .map_err(|err| format!("cannot trust the signer's subject as an identity: {err}"))?;
            vec![TrustedIdentity::X509Subject(dn)]
        } else {
            vec![TrustedIdentity::Any]
        };
        e.trusted_identities = (next != original).then(|| next.clone());
        Ok(next)
    }
}

/// Per image node: what verification found, or that it is on its way.
#[derive(Debug, Clone)]
pub enum NodeVerify {
    /// An effect is computing it (or the policy is still being read).
    Pending,
    Done(Arc<ArtifactReport>),
    /// Referrers or envelopes could not be read.
    Error(String),
}

/// One line of a diff: `' '` same, `'-'` removed, `'+'` added.
pub type DiffLine = (char, String);

/// Line diff of `old` and `new` (longest common subsequence; policies are small).
pub fn line_diff(old: &str, new: &str) -> Vec<DiffLine> {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            out.push((' ', a[i].to_string()));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push(('-', a[i].to_string()));
            i += 1;
        } else {
            out.push(('+', b[j].to_string()));
            j += 1;
        }
    }
    out
}

/// Pretty-printed JSON of a policy file as it is on disk, for the diff: the same printer as
/// [`TrustPolicy::to_json`], so only real changes show. Falls back to the text itself.
pub fn pretty(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => crate::json_out::to_string_pretty(&v).map(|s| s + "\n").unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

/// Writes `contents` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("trustpolicy.oci.json");
    let tmp = dir.join(format!(".{name}.sigscope-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        // The new file keeps the old one's permissions.
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_lines() {
        let d = line_diff("a\nb\nc\n", "a\nB\nc\nd\n");
        assert_eq!(
            d,
            vec![(' ', "a".into()), ('-', "b".into()), ('+', "B".into()), (' ', "c".into()), ('+', "d".into())]
        );
    }
}
