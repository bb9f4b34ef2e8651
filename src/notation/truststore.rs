//! Named trust stores: `{notation}/truststore/x509/{ca|signingAuthority|tsa}/{name}/`.
//! Stores are loaded when a statement is used, not with the policy, because Notation
//! reports a missing store as a verification failure of the statement that names it.

use std::path::{Path, PathBuf};

use der::Decode;

use crate::fsread;

use super::policy::{TrustStoreKind, TrustStoreRef};
use super::timestamp::sigverify::issued_by;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustStoreError {
    #[error("{0}")]
    BadReference(String),
    #[error("the trust store {store} does not exist ({path})")]
    Missing { store: String, path: String },
    #[error("the trust store {store} is not a plain directory ({path}); symlinks are refused")]
    NotADirectory { store: String, path: String },
    #[error("trust store {store}: {path}: {detail}")]
    BadEntry { store: String, path: String, detail: String },
    #[error("trust store {store}: {path}: certificate {subject:?} is {detail}")]
    NotAnAnchor { store: String, path: String, subject: String, detail: String },
    #[error("the trust store {store} holds no x509 certificates ({path})")]
    Empty { store: String, path: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCertificate {
    pub der: Vec<u8>,
    /// RFC 4514 rendering, for messages.
    pub subject: String,
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStore {
    pub store: TrustStoreRef,
    pub certificates: Vec<StoreCertificate>,
    /// Files skipped because their extension is not .pem, .crt or .cer.
    pub ignored: Vec<PathBuf>,
}

impl TrustStore {
    /// `reference` is a policy value such as `ca:NAME`.
    pub fn load(notation_dir: &Path, reference: &str) -> Result<TrustStore, TrustStoreError> {
        let store = TrustStoreRef::parse(reference).map_err(TrustStoreError::BadReference)?;
        Self::load_ref(notation_dir, &store)
    }

    pub fn load_ref(notation_dir: &Path, store: &TrustStoreRef) -> Result<TrustStore, TrustStoreError> {
        let label = store.to_string();
        let dir = notation_dir.join("truststore/x509").join(store.kind.dir_name()).join(&store.name);
        let shown = dir.display().to_string();
        let meta = std::fs::symlink_metadata(&dir)
            .map_err(|_| TrustStoreError::Missing { store: label.clone(), path: shown.clone() })?;
        if !meta.file_type().is_dir() {
            return Err(TrustStoreError::NotADirectory { store: label, path: shown });
        }
        let bad = |path: &Path, detail: String| TrustStoreError::BadEntry {
            store: label.clone(),
            path: path.display().to_string(),
            detail,
        };
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| bad(&dir, e.to_string()))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| bad(&dir, e.to_string()))?;
        // Deterministic order, so the certificates (and the first error) do not depend on
        // the filesystem.
        entries.sort();
        let mut out = TrustStore { store: store.clone(), certificates: Vec::new(), ignored: Vec::new() };
        for path in entries {
            let ft = std::fs::symlink_metadata(&path).map_err(|e| bad(&path, e.to_string()))?.file_type();
            // Notation errors on anything but regular files (the spec would ignore
            // sub-directories); refusing is the safer reading of an ambiguous store.
            if !ft.is_file() {
                return Err(bad(&path, "not a regular file (symlinks and sub-directories are refused)".into()));
            }
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            if !matches!(ext.as_deref(), Some("pem" | "crt" | "cer")) {
                out.ignored.push(path);
                continue;
            }
            // Checked again on the opened file: the entry may have been swapped for a FIFO or a
            // device since it was listed, and a regular file may be huge.
            let bytes = fsread::read(&path, fsread::MAX_CONFIG_BYTES, fsread::Symlinks::Refuse)
                .map_err(|e| bad(&path, e.reason()))?;
            for der in split_certificates(&bytes).map_err(|e| bad(&path, e))? {
                let subject =
                    check_anchor(&der, store.kind).map_err(|(subject, detail)| TrustStoreError::NotAnAnchor {
                        store: label.clone(),
                        path: path.display().to_string(),
                        subject,
                        detail,
                    })?;
                out.certificates.push(StoreCertificate { der, subject, path: path.clone() });
            }
        }
        if out.certificates.is_empty() {
            return Err(TrustStoreError::Empty { store: label, path: shown });
        }
        Ok(out)
    }
}

/// PEM (every block) or DER (one or several concatenated certificates).
pub fn split_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let mut ders = Vec::new();
    if bytes.windows(11).any(|w| w == b"-----BEGIN ") {
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|e| format!("bad PEM: {e}"))?;
            ders.push(pem.contents);
        }
    } else {
        let mut rest = bytes;
        while !rest.is_empty() {
            let (next, _) =
                x509_parser::parse_x509_certificate(rest).map_err(|e| format!("not a PEM or DER certificate: {e}"))?;
            ders.push(rest[..rest.len() - next.len()].to_vec());
            rest = next;
        }
    }
    for der in &ders {
        x509_parser::parse_x509_certificate(der).map_err(|e| format!("bad certificate: {e}"))?;
    }
    if ders.is_empty() {
        return Err("no certificate in file".into());
    }
    Ok(ders)
}

/// A store holds trust anchors: a CA certificate, or a self-signed one (so that a
/// self-signed signing certificate can be pinned); a TSA store holds only roots.
/// Returns the subject, or (subject, why not).
fn check_anchor(der: &[u8], kind: TrustStoreKind) -> Result<String, (String, String)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(der).map_err(|e| (String::new(), e.to_string()))?;
    let subject = parsed.subject().to_string();
    let is_ca = parsed.basic_constraints().ok().flatten().is_some_and(|bc| bc.value.ca);
    // Go's CheckSignatureFrom lets a v1/v2 certificate (no extensions) act as an issuer.
    let may_issue = is_ca || parsed.version().0 < 2;
    let cert = x509_cert::Certificate::from_der(der).map_err(|e| (subject.clone(), e.to_string()))?;
    let self_signed = issued_by(der, &cert, &cert).is_ok();
    match kind {
        TrustStoreKind::Tsa if !(self_signed && may_issue) => {
            Err((subject, "not a self-signed CA; a tsa store holds only root CA certificates".into()))
        }
        _ if !is_ca && !self_signed => {
            Err((subject, "neither a CA certificate nor self-signed; it cannot be a trust anchor".into()))
        }
        _ => Ok(subject),
    }
}
