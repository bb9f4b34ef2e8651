//! Where verification settings come from by default: notation's configuration directory
//! (and its layout) and sigscope's CRL cache.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::notation::policy::TrustStoreKind;
use crate::notation::revocation::RevocationMode;

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
