//! Named trust stores (`ca:NAME`, `signingAuthority:NAME`, `tsa:NAME`) and where the verifier
//! gets them: [`TrustStores`], implemented by a Notation directory ([`NotationDirStores`],
//! `{notation}/truststore/x509/{kind}/{name}/`) and by certificates given directly
//! ([`MemoryStores`], for policies that carry their certificates inline, as a Kyverno attestor
//! does). Both check every certificate as a trust anchor of its kind, with the same errors.
//! Stores are loaded when a statement is used, not with the policy, because Notation
//! reports a missing store as a verification failure of the statement that names it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use der::Decode;

use crate::fsread;

use super::policy::{TrustStoreKind, TrustStoreRef};
use super::timestamp::sigverify::issued_by;

/// What the verifier needs of trust stores: the anchors of one named store. An error is a
/// failed check of the statement that names the store, with the error as its reason.
pub trait TrustStores: Send + Sync {
    fn load(&self, store: &TrustStoreRef) -> Result<TrustStore, TrustStoreError>;
}

/// The trust stores under one Notation configuration directory (today's `notation` layout).
#[derive(Debug, Clone)]
pub struct NotationDirStores {
    dir: PathBuf,
}

impl NotationDirStores {
    pub fn new(notation_dir: impl Into<PathBuf>) -> Self {
        NotationDirStores { dir: notation_dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl TrustStores for NotationDirStores {
    fn load(&self, store: &TrustStoreRef) -> Result<TrustStore, TrustStoreError> {
        TrustStore::load_ref(&self.dir, store)
    }
}

/// Trust stores given as certificates rather than read from a directory. Certificates are
/// checked when they are added, with the directory's rules, so a store that could not be
/// loaded from disk cannot be built in memory either.
#[derive(Debug, Clone, Default)]
pub struct MemoryStores {
    stores: HashMap<TrustStoreRef, TrustStore>,
    /// Calls to `add`, so that a message can say which certificates it is about.
    added: usize,
}

impl MemoryStores {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the certificates in `bytes` (every PEM block, or concatenated DER) to the store
    /// `reference` names (`ca:NAME`…); adding to a store twice adds to its certificates. On
    /// an error nothing is added; the error names the call (`inline certificates #N`).
    pub fn add(&mut self, reference: &str, bytes: &[u8]) -> Result<&mut Self, TrustStoreError> {
        let store = TrustStoreRef::parse(reference).map_err(TrustStoreError::BadReference)?;
        let label = store.to_string();
        self.added += 1;
        let origin = format!("inline certificates #{}", self.added);
        let ders = split_certificates(bytes).map_err(|detail| TrustStoreError::BadEntry {
            store: label.clone(),
            path: origin.clone(),
            detail,
        })?;
        let mut certificates = Vec::with_capacity(ders.len());
        for der in ders {
            let subject = check_anchor(&der, store.kind).map_err(|(subject, detail)| TrustStoreError::NotAnAnchor {
                store: label.clone(),
                path: origin.clone(),
                subject,
                detail,
            })?;
            certificates.push(StoreCertificate { der, subject, origin: origin.clone() });
        }
        self.stores
            .entry(store.clone())
            .or_insert_with(|| TrustStore { store, certificates: Vec::new(), ignored: Vec::new() })
            .certificates
            .extend(certificates);
        Ok(self)
    }

    /// The stores that were given, for messages.
    fn names(&self) -> String {
        let mut names: Vec<String> = self.stores.keys().map(ToString::to_string).collect();
        names.sort();
        if names.is_empty() { "none".into() } else { names.join(", ") }
    }
}

impl TrustStores for MemoryStores {
    fn load(&self, store: &TrustStoreRef) -> Result<TrustStore, TrustStoreError> {
        self.stores
            .get(store)
            .cloned()
            .ok_or_else(|| TrustStoreError::NotGiven { store: store.to_string(), given: self.names() })
    }
}

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
    #[error("the trust store {store} was not given to the verifier (stores given: {given})")]
    NotGiven { store: String, given: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCertificate {
    pub der: Vec<u8>,
    /// RFC 4514 rendering, for messages.
    pub subject: String,
    /// Where it came from, for messages: the file's path, or which inline certificates.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustStore {
    pub store: TrustStoreRef,
    pub certificates: Vec<StoreCertificate>,
    /// Files skipped because their extension is not .pem, .crt or .cer.
    pub ignored: Vec<PathBuf>,
}

impl TrustStore {
    /// Loads a store from a Notation directory; `reference` is a policy value such as `ca:NAME`.
    pub fn load(notation_dir: &Path, reference: &str) -> Result<TrustStore, TrustStoreError> {
        let store = TrustStoreRef::parse(reference).map_err(TrustStoreError::BadReference)?;
        Self::load_ref(notation_dir, &store)
    }

    pub fn load_ref(notation_dir: &Path, store: &TrustStoreRef) -> Result<TrustStore, TrustStoreError> {
        let label = store.to_string();
        let dir = super::dir::trust_store_dir(notation_dir, store.kind, &store.name);
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
                out.certificates.push(StoreCertificate { der, subject, origin: path.display().to_string() });
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

#[cfg(test)]
mod tests {
    use super::*;

    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};

    fn params(cn: &str, ca: bool) -> CertificateParams {
        let mut p = CertificateParams::default();
        p.distinguished_name.push(DnType::OrganizationName, "Sigscope Test");
        p.distinguished_name.push(DnType::CommonName, cn);
        p.is_ca = if ca { IsCa::Ca(BasicConstraints::Unconstrained) } else { IsCa::ExplicitNoCa };
        p
    }

    /// A root, an intermediate under it, and a leaf under that (DER each).
    struct Pki {
        root: Vec<u8>,
        intermediate: Vec<u8>,
        leaf: Vec<u8>,
    }

    fn pki() -> Pki {
        let root = CertifiedIssuer::self_signed(params("Root", true), KeyPair::generate().unwrap()).unwrap();
        let inter =
            CertifiedIssuer::signed_by(params("Intermediate", true), KeyPair::generate().unwrap(), &root).unwrap();
        let leaf = params("Leaf", false).signed_by(&KeyPair::generate().unwrap(), &inter).unwrap();
        Pki { root: root.der().to_vec(), intermediate: inter.der().to_vec(), leaf: leaf.der().to_vec() }
    }

    fn pem(der: &[u8]) -> Vec<u8> {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64.as_bytes().chunks(64).map(|c| std::str::from_utf8(c).unwrap()).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n")).into_bytes()
    }

    fn r(s: &str) -> TrustStoreRef {
        TrustStoreRef::parse(s).unwrap()
    }

    #[test]
    fn memory_stores_hold_what_was_given_by_kind_and_name() {
        let p = pki();
        let mut m = MemoryStores::new();
        m.add("ca:inline", &pem(&p.root)).unwrap();
        // A second call adds to the store; DER is accepted as the directory accepts it.
        m.add("ca:inline", &p.intermediate).unwrap();
        m.add("tsa:inline", &p.root).unwrap();
        let s = m.load(&r("ca:inline")).unwrap();
        assert_eq!(s.store, r("ca:inline"));
        let ders: Vec<&[u8]> = s.certificates.iter().map(|c| c.der.as_slice()).collect();
        assert_eq!(ders, [p.root.as_slice(), p.intermediate.as_slice()]);
        assert_eq!(s.certificates[0].subject, "CN=Root, O=Sigscope Test");
        assert_eq!(s.certificates[0].origin, "inline certificates #1");
        assert_eq!(s.certificates[1].origin, "inline certificates #2");
        assert_eq!(m.load(&r("tsa:inline")).unwrap().certificates.len(), 1);

        // Another kind or name is another store, and its absence is an error naming what exists.
        let e = m.load(&r("signingAuthority:inline")).unwrap_err();
        assert!(matches!(e, TrustStoreError::NotGiven { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "the trust store signingAuthority:inline was not given to the verifier (stores given: ca:inline, tsa:inline)"
        );
        let e = MemoryStores::new().load(&r("ca:x")).unwrap_err();
        assert!(e.to_string().ends_with("(stores given: none)"), "{e}");
    }

    #[test]
    fn memory_stores_refuse_what_a_directory_store_refuses() {
        let p = pki();
        let mut m = MemoryStores::new();
        let e = m.add("ca:s", &p.leaf).unwrap_err();
        assert!(matches!(&e, TrustStoreError::NotAnAnchor { subject, .. } if subject.starts_with("CN=Leaf")), "{e}");
        // A TSA store holds only roots.
        let e = m.add("tsa:s", &p.intermediate).unwrap_err();
        assert!(matches!(e, TrustStoreError::NotAnAnchor { .. }), "{e}");
        // One bad certificate among good ones adds none of them.
        let mut both = pem(&p.root);
        both.extend_from_slice(&pem(&p.leaf));
        assert!(matches!(m.add("ca:s", &both), Err(TrustStoreError::NotAnAnchor { .. })));
        for junk in [&b"not a certificate"[..], b"", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
        {
            let e = m.add("ca:s", junk).unwrap_err();
            assert!(matches!(e, TrustStoreError::BadEntry { .. }), "{e}");
        }
        for bad in ["ca:", "root:x", "ca:../x", "nocolon"] {
            assert!(matches!(m.add(bad, &p.root), Err(TrustStoreError::BadReference(_))), "{bad}");
        }
        // Nothing above was added, so neither store exists.
        assert!(matches!(m.load(&r("ca:s")), Err(TrustStoreError::NotGiven { .. })));
        assert!(matches!(m.load(&r("tsa:s")), Err(TrustStoreError::NotGiven { .. })));
    }

    #[test]
    fn memory_and_directory_stores_agree_on_the_same_certificates() {
        let p = pki();
        let dir = tempfile::tempdir().unwrap();
        let store = crate::notation::dir::trust_store_dir(dir.path(), TrustStoreKind::Ca, "same");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::write(store.join("a.pem"), pem(&p.root)).unwrap();
        std::fs::write(store.join("b.crt"), pem(&p.intermediate)).unwrap();
        let from_dir = NotationDirStores::new(dir.path()).load(&r("ca:same")).unwrap();
        let mut m = MemoryStores::new();
        m.add("ca:same", &pem(&p.root)).unwrap().add("ca:same", &pem(&p.intermediate)).unwrap();
        let from_memory = m.load(&r("ca:same")).unwrap();
        let view =
            |s: &TrustStore| s.certificates.iter().map(|c| (c.der.clone(), c.subject.clone())).collect::<Vec<_>>();
        assert_eq!(view(&from_dir), view(&from_memory));
        // The directory implementation is the directory loader, errors included.
        let e = NotationDirStores::new(dir.path()).load(&r("ca:absent")).unwrap_err();
        assert!(matches!(e, TrustStoreError::Missing { .. }), "{e}");
        assert!(e.to_string().contains("truststore/x509/ca/absent"), "{e}");
    }
}
