//! `sigscope demo export DIR`: the demo as an OCI layout plus a Notation config directory laid
//! out as notation expects, so notation itself could verify the demo.

use crate::notation::dir::{OCI_POLICY_FILE, trust_store_dir};
use crate::notation::policy::TrustStoreKind;
use std::path::Path;

use serde_json::json;

use super::keys;
use crate::error::{Error, Result};

/// Name of the trust store and policy statement in the exported notation dir.
pub const TRUST_STORE: &str = "demo";

/// Writes `DIR/layout/` (byte-identical to [`super::files`]), `DIR/notation/`
/// (`trustpolicy.oci.json`, `truststore/x509/ca/demo/demo-root-ca.pem`) and `DIR/cosign.pub`
/// (the key of the demo's cosign signature). Refuses a non-empty DIR rather than mix the demo
/// with other content.
pub fn export(dir: &Path) -> Result<()> {
    if dir.exists() {
        let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
        if entries.next().is_some() {
            return Err(Error::io(dir, "directory exists and is not empty; choose a new or empty directory"));
        }
    }
    let layout = dir.join("layout");
    let mut names: Vec<&String> = super::files().0.keys().collect();
    names.sort();
    for name in names {
        write(&layout.join(name), &super::files().0[name])?;
    }
    let notation = dir.join("notation");
    write(&notation.join(OCI_POLICY_FILE), &trust_policy())?;
    let store = trust_store_dir(&notation, TrustStoreKind::Ca, TRUST_STORE).join("demo-root-ca.pem");
    write(&store, keys::pem_block(keys::ROOT_CA_PEM).as_bytes())?;
    write(&dir.join(COSIGN_KEY_FILE), keys::demo_signer().public_key_pem().as_bytes())?;
    Ok(())
}

/// The exported public key of the demo's cosign signature, beside `layout/` and `notation/`.
pub const COSIGN_KEY_FILE: &str = "cosign.pub";

/// Writes the demo's policy and trust store into `dir` (the notation part of [`export`]).
pub fn write_notation(dir: &Path) -> Result<()> {
    write(&dir.join(OCI_POLICY_FILE), &trust_policy())?;
    let store = trust_store_dir(dir, TrustStoreKind::Ca, TRUST_STORE).join("demo-root-ca.pem");
    write(&store, keys::pem_block(keys::ROOT_CA_PEM).as_bytes())
}

/// A fresh directory only this user can read, `$TMPDIR/sigscope-demo-PID-N`, holding the demo's
/// notation configuration. The caller removes it.
pub fn private_notation_dir() -> Result<std::path::PathBuf> {
    let base = std::env::temp_dir();
    for n in 0..100u32 {
        let dir = base.join(format!("sigscope-demo-{}-{n}", std::process::id()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        match builder.create(&dir) {
            Ok(()) => {
                if let Err(e) = write_notation(&dir) {
                    // Half written is of no use to anyone, and nobody else would remove it.
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
                return Ok(dir);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(Error::io(&dir, e)),
        }
    }
    Err(Error::io(&base, "no free name for the demo's notation directory"))
}

/// Strict verification of every repository, trusting only the demo root.
pub fn trust_policy() -> Vec<u8> {
    let p = json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "sigscope-demo",
            "registryScopes": ["*"],
            "signatureVerification": {"level": "strict"},
            "trustStores": [format!("ca:{TRUST_STORE}")],
            "trustedIdentities": ["*"],
        }],
    });
    serde_json::to_vec_pretty(&p).expect("policy serialises")
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    std::fs::write(path, bytes).map_err(|e| Error::io(path, e))
}
