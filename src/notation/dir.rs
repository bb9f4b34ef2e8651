//! The Notation configuration directory: where it is by default, how it is laid out (the only
//! place that knows `truststore/x509/{kind}/{name}/` and the policy file names), reading it as
//! a whole (policy, stores, a fingerprint to notice changes) and writing the policy back
//! atomically; and sigscope's CRL cache.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::notation::policy::{PolicyError, TrustPolicy, TrustStoreKind, TrustStoreRef};
use crate::notation::revocation::RevocationMode;

/// The trust policy file of a Notation directory.
pub const OCI_POLICY_FILE: &str = "trustpolicy.oci.json";
/// Read only when the OCI file is absent, as Notation does; Notation warns it is deprecated.
pub const LEGACY_POLICY_FILE: &str = "trustpolicy.json";
/// The policy files in Notation's order: the first one present is the policy in force.
pub const POLICY_FILES: [&str; 2] = [OCI_POLICY_FILE, LEGACY_POLICY_FILE];

/// Every trust store of a Notation directory lives under this.
pub const TRUST_STORE_ROOT: &str = "truststore";

/// The x509 trust stores of a Notation directory live under this, one folder per kind
/// (`ca`, `signingAuthority`, `tsa`) and per store name.
pub const X509_TRUST_STORES: &str = "truststore/x509";

/// `{notation_dir}/truststore/x509`.
pub fn x509_trust_stores(notation_dir: &Path) -> PathBuf {
    notation_dir.join(X509_TRUST_STORES)
}

/// `{notation_dir}/truststore/x509/{kind}/{name}`: the folder of one named store.
pub fn trust_store_dir(notation_dir: &Path, kind: TrustStoreKind, name: &str) -> PathBuf {
    x509_trust_stores(notation_dir).join(kind.dir_name()).join(name)
}

/// How long a CRL download may take before the status is "unknown".
pub const CRL_TIMEOUT: Duration = Duration::from_secs(5);

/// notation's own configuration directory: `$XDG_CONFIG_HOME/notation`, else
/// `~/.config/notation` (what Go's `os.UserConfigDir` gives on Linux).
pub fn default_notation_dir() -> Option<PathBuf> {
    directories::BaseDirs::new().map(|b| b.config_dir().join("notation"))
}

/// `$XDG_CACHE_HOME/sigscope/crl` (or the platform's cache directory).
pub fn crl_cache_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "sigscope")
        .map(|p| p.cache_dir().join("crl"))
        .unwrap_or_else(|| std::env::temp_dir().join("sigscope-crl"))
}

pub fn revocation_mode(offline: bool) -> RevocationMode {
    let cache_dir = crl_cache_dir();
    if offline {
        RevocationMode::Offline { cache_dir }
    } else {
        RevocationMode::Online { cache_dir, timeout: CRL_TIMEOUT }
    }
}

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
    POLICY_FILES.iter().map(|name| dir.join(name)).find(|p| p.exists()).unwrap_or_else(|| dir.join(OCI_POLICY_FILE))
}

/// Reads the policy in force ([`POLICY_FILES`]: the OCI file, else the legacy one): what
/// [`TrustPolicy::load`] does. A file that is there but cannot be read (a symlink, a directory,
/// a FIFO, too big, not UTF-8) is an error, never a reason to fall back to the other name.
pub fn load_policy(notation_dir: &Path) -> Result<TrustPolicy, PolicyError> {
    use crate::fsread::{MAX_CONFIG_BYTES, Symlinks, read_optional};
    for name in POLICY_FILES {
        let path = notation_dir.join(name);
        // Checked on the opened file (a FIFO is refused without blocking, a device or a
        // sparse giant without being read), so no swap between a check and the read helps.
        let io = |detail: String| PolicyError::Io { path: path.display().to_string(), detail };
        let Some(bytes) = read_optional(&path, MAX_CONFIG_BYTES, Symlinks::Refuse).map_err(|e| io(e.reason()))? else {
            continue;
        };
        let text = String::from_utf8(bytes).map_err(|e| io(format!("not UTF-8 text ({})", e.utf8_error())))?;
        return TrustPolicy::parse(&text).map_err(|e| e.in_file(&path));
    }
    Err(PolicyError::Missing { dir: notation_dir.display().to_string() })
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
        let Ok(entries) = std::fs::read_dir(x509_trust_stores(dir).join(kind.dir_name())) else { continue };
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
    for name in POLICY_FILES {
        walk(&dir.join(name), 6, &mut out);
    }
    walk(&dir.join(TRUST_STORE_ROOT), 0, &mut out);
    out
}

/// Writes the policy back to `path` atomically ([`crate::fswrite`]): a temporary file beside
/// it, synced, keeping the old file's permissions, then a rename.
pub fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    use crate::fswrite::WriteOptions;
    crate::fswrite::write_atomic(path, contents.as_bytes(), WriteOptions { sync: true, keep_permissions: true })
}
