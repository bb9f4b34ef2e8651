//! Local signing keys and the checks before signing (issue 10), on real keys and certificates
//! made by the openssl CLI: every key type and PEM format signs, in JWS and COSE, an envelope
//! the library's own verifier calls verified under the signing root and refuses under another
//! root; every bad key, file and chain is refused with a sentence naming what is wrong.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use sigscope::notation::envelope::crypto::Algorithm;
use sigscope::notation::policy::TrustPolicy;
use sigscope::notation::revocation::RevocationMode;
use sigscope::notation::truststore::{MemoryStores, TrustStores};
use sigscope::notation::verifier::{CheckKind, SignatureInput, Verdict, Verifier, VerifierOptions};
use sigscope::oci::Descriptor;
use sigscope::sign::key::{KeyError, LocalSigner};
use sigscope::sign::precheck::ChainError;
use sigscope::sign::{Attrs, Signer as _, cose, jws, payload};

const EXTENSIONS: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[inter]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
[leaf_no_eku]
keyUsage = critical,digitalSignature
[leaf_server_auth]
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
[leaf_document_signing]
keyUsage = critical,digitalSignature
extendedKeyUsage = 1.3.6.1.4.1.311.10.3.12
";

/// The key types notation signs with, the algorithm each must give, and the traditional
/// (non-PKCS#8) PEM label openssl writes for it.
const KEY_TYPES: &[(&str, Algorithm, &str)] = &[
    ("p256", Algorithm::ES256, "EC PRIVATE KEY"),
    ("p384", Algorithm::ES384, "EC PRIVATE KEY"),
    ("p521", Algorithm::ES512, "EC PRIVATE KEY"),
    ("rsa2048", Algorithm::PS256, "RSA PRIVATE KEY"),
    ("rsa3072", Algorithm::PS384, "RSA PRIVATE KEY"),
    ("rsa4096", Algorithm::PS512, "RSA PRIVATE KEY"),
];

fn genpkey_args(kind: &str) -> Vec<String> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    match kind {
        "p256" => s(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        "p384" => s(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"]),
        "p521" => s(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"]),
        "secp256k1" => s(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp256k1"]),
        "ed25519" => s(&["-algorithm", "ed25519"]),
        rsa => {
            let bits = rsa.strip_prefix("rsa").expect("rsa key kind");
            vec!["-algorithm".into(), "RSA".into(), "-pkeyopt".into(), format!("rsa_keygen_bits:{bits}")]
        }
    }
}

/// A root, an intermediate under it, leaves of every key type under that, and an unrelated
/// root; made once per test run.
struct Pki {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    root_pem: Vec<u8>,
    other_root_pem: Vec<u8>,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap()
    }

    /// A file holding the named files one after the other.
    fn cat(&self, out: &str, names: &[&str]) -> PathBuf {
        let bytes: Vec<u8> = names.iter().flat_map(|n| self.read(n)).collect();
        std::fs::write(self.path(out), bytes).unwrap();
        self.path(out)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        std::fs::write(self.path(name), bytes).unwrap();
        self.path(name)
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn genkey(dir: &Path, kind: &str, out: &str) {
    let args = genpkey_args(kind);
    let mut all: Vec<&str> = vec!["genpkey"];
    all.extend(args.iter().map(String::as_str));
    all.extend(["-out", out]);
    openssl(dir, &all);
}

/// A certificate for `key` with `subject`, issued by `ca` (cert, key) or self-signed, with the
/// extensions of config section `ext`. Serial numbers are openssl's random ones.
fn issue(dir: &Path, out: &str, key: &str, subject: &str, ca: Option<(&str, &str)>, ext: &str, days: u32) {
    let days = days.to_string();
    let common = ["-days", &days, "-extensions", ext, "-out", out];
    match ca {
        None => {
            let req = ["req", "-x509", "-new", "-key", key, "-subj", subject, "-config", "ext.cnf"];
            openssl(dir, &[&req[..], &common].concat());
        }
        Some((ca_cert, ca_key)) => {
            let csr = format!("{out}.csr");
            openssl(dir, &["req", "-new", "-key", key, "-subj", subject, "-config", "ext.cnf", "-out", &csr]);
            let x509 = ["x509", "-req", "-in", &csr, "-CA", ca_cert, "-CAkey", ca_key, "-extfile", "ext.cnf"];
            openssl(dir, &[&x509[..], &common].concat());
        }
    }
}

/// A leaf for `key` issued by the test intermediate.
fn leaf(dir: &Path, out: &str, key: &str, subject: &str, ext: &str, days: u32) {
    issue(dir, out, key, subject, Some(("inter.pem", "inter.key")), ext, days);
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::fs::write(dir.join("ext.cnf"), EXTENSIONS).unwrap();
        let d = dir.as_path();
        genkey(d, "p384", "root.key");
        issue(d, "root.pem", "root.key", "/O=Sigscope Test/CN=Test Root", None, "root", 3650);
        genkey(d, "rsa2048", "inter.key");
        let inter = Some(("root.pem", "root.key"));
        issue(d, "inter.pem", "inter.key", "/O=Sigscope Test/CN=Test Intermediate", inter, "inter", 3000);
        genkey(d, "p256", "other-root.key");
        issue(d, "other-root.pem", "other-root.key", "/O=Someone Else/CN=Other Root", None, "root", 3650);
        for (kind, _, _) in KEY_TYPES {
            genkey(d, kind, &format!("{kind}.pkcs8.pem"));
            openssl(
                d,
                &["pkey", "-in", &format!("{kind}.pkcs8.pem"), "-traditional", "-out", &format!("{kind}.trad.pem")],
            );
            let subject = format!("/O=Sigscope Test/CN=Leaf {kind}");
            leaf(d, &format!("{kind}.leaf.pem"), &format!("{kind}.pkcs8.pem"), &subject, "leaf", 365);
        }
        let pki = Pki {
            root_pem: std::fs::read(dir.join("root.pem")).unwrap(),
            other_root_pem: std::fs::read(dir.join("other-root.pem")).unwrap(),
            _tmp: tmp,
            dir,
        };
        for (kind, _, _) in KEY_TYPES {
            pki.cat(&format!("{kind}.chain.pem"), &[&format!("{kind}.leaf.pem"), "inter.pem", "root.pem"]);
        }
        pki
    })
}

const POLICY: &str = r#"{"version": "1.0", "trustPolicies": [{"name": "all", "registryScopes": ["*"],
  "signatureVerification": {"level": "strict"}, "trustStores": ["ca:test"], "trustedIdentities": ["*"]}]}"#;

fn image() -> Descriptor {
    Descriptor {
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        digest: format!("sha256:{}", "b".repeat(64)),
        size: 527,
        ..Descriptor::default()
    }
}

/// The verdict of the library's verifier on one envelope, with `root` as the only trust anchor.
fn verdict(root: &[u8], media_type: &str, envelope: Vec<u8>, now: DateTime<Utc>) -> (Verdict, String) {
    let cache = tempfile::tempdir().unwrap();
    let mut stores = MemoryStores::new();
    stores.add("ca:test", root).unwrap();
    let stores: Arc<dyn TrustStores> = Arc::new(stores);
    let options = VerifierOptions::new(RevocationMode::Offline { cache_dir: cache.path().to_path_buf() });
    let verifier = Verifier::with_options(TrustPolicy::parse(POLICY).unwrap(), stores, options);
    let input = SignatureInput {
        digest: format!("sha256:{}", "c".repeat(64)),
        media_type: media_type.into(),
        envelope: Ok(envelope),
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let report = rt.block_on(verifier.verify_artifact("example.com/app", &image(), &[input], now));
    (report.verdict.clone(), report.render_text())
}

/// Both envelope formats made by `signer` verify under the signing root and fail authenticity
/// under another root.
fn assert_round_trips(signer: &LocalSigner, what: &str) {
    let p = pki();
    let now = Utc::now();
    let attrs = Attrs { signing_time: now, expiry: None, extended: &[], signing_agent: "sigscope/test" };
    let body = payload(&image());
    for (media_type, envelope) in [
        ("application/jose+json", jws::envelope(signer, &body, &attrs)),
        ("application/cose", cose::envelope(signer, &body, &attrs)),
    ] {
        let (v, text) = verdict(&p.root_pem, media_type, envelope.clone(), now);
        assert_eq!(v, Verdict::Verified, "{what} {media_type} under its root:\n{text}");
        let (v, text) = verdict(&p.other_root_pem, media_type, envelope, now);
        assert!(
            matches!(v, Verdict::Failed { check: Some(CheckKind::Authenticity), .. }),
            "{what} {media_type} under another root:\n{text}"
        );
    }
}

fn cose_name(alg: Algorithm) -> coset::iana::Algorithm {
    use coset::iana::Algorithm as A;
    match alg {
        Algorithm::PS256 => A::PS256,
        Algorithm::PS384 => A::PS384,
        Algorithm::PS512 => A::PS512,
        Algorithm::ES256 => A::ES256,
        Algorithm::ES384 => A::ES384,
        Algorithm::ES512 => A::ES512,
    }
}

fn der_of(pem: &[u8]) -> Vec<u8> {
    x509_parser::pem::parse_x509_pem(pem).unwrap().1.contents
}

#[test]
fn every_key_type_in_every_format_picks_notations_algorithm_and_signs_what_the_verifier_accepts() {
    let p = pki();
    for (kind, alg, traditional_label) in KEY_TYPES {
        for (form, label) in [("pkcs8", "PRIVATE KEY"), ("trad", *traditional_label)] {
            let key = p.path(&format!("{kind}.{form}.pem"));
            let first_line = String::from_utf8(p.read(&format!("{kind}.{form}.pem"))).unwrap();
            assert!(first_line.starts_with(&format!("-----BEGIN {label}-----\n")), "{kind} {form}: {first_line}");
            let signer = LocalSigner::from_files(&key, &p.path(&format!("{kind}.chain.pem")))
                .unwrap_or_else(|e| panic!("{kind} {form}: {e}"));
            assert_eq!(signer.algorithm(), *alg, "{kind} {form}");
            assert_eq!(signer.jws_alg(), alg.name(), "{kind} {form}");
            assert_eq!(signer.cose_alg(), cose_name(*alg), "{kind} {form}");
            let chain = signer.chain();
            assert_eq!(chain.len(), 3, "{kind} {form}");
            assert_eq!(chain[0], der_of(&p.read(&format!("{kind}.leaf.pem"))), "leaf first");
            assert_eq!(chain[2], der_of(&p.root_pem), "root last");
            assert_eq!(signer.leaf_subject(), format!("CN=Leaf {kind},O=Sigscope Test"));
            assert_round_trips(&signer, &format!("{kind} {form}"));
        }
    }
}

#[test]
fn the_same_signer_from_memory_and_key_files_with_extra_blocks() {
    let p = pki();
    let chain = p.read("p256.chain.pem");
    let signer = LocalSigner::from_pem(&p.read("p256.pkcs8.pem"), &chain).unwrap();
    assert_eq!(signer.jws_alg(), "ES256");
    // `openssl ecparam -genkey` writes EC PARAMETERS before the key; a key file may also hold
    // the certificates, and serve as both files.
    openssl(&p.dir, &["ecparam", "-name", "prime256v1", "-genkey", "-out", "ecparam.key"]);
    let text = String::from_utf8(p.read("ecparam.key")).unwrap();
    assert!(text.starts_with("-----BEGIN EC PARAMETERS-----"), "{text}");
    let csr_key = p.path("ecparam.key");
    leaf(&p.dir, "ecparam.leaf.pem", "ecparam.key", "/CN=Leaf ecparam", "leaf", 30);
    let chain = p.cat("ecparam.chain.pem", &["ecparam.leaf.pem", "inter.pem", "root.pem"]);
    assert_round_trips(&LocalSigner::from_files(&csr_key, &chain).unwrap(), "ecparam key");
    let both = p.cat("both.pem", &["p384.pkcs8.pem", "p384.chain.pem"]);
    assert_eq!(LocalSigner::from_files(&both, &both).unwrap().jws_alg(), "ES384");
    // Debug output names the algorithm and the leaf, never the key.
    let shown = format!("{signer:?}");
    assert!(shown.contains("ES256") && shown.contains("CN=Leaf p256"), "{shown}");
}

/// The verifier (and notation) accept a leaf with no extended key usage at all; the signer
/// does too, so it never refuses a certificate its own verifier would accept.
#[test]
fn a_leaf_without_any_extended_key_usage_signs_as_the_verifier_accepts_it() {
    let p = pki();
    leaf(&p.dir, "noeku.leaf.pem", "p256.pkcs8.pem", "/CN=No EKU", "leaf_no_eku", 30);
    let chain = p.cat("noeku.chain.pem", &["noeku.leaf.pem", "inter.pem", "root.pem"]);
    assert_round_trips(&LocalSigner::from_files(&p.path("p256.pkcs8.pem"), &chain).unwrap(), "no EKU");
}

fn refused(key: &Path, chain: &Path) -> KeyError {
    LocalSigner::from_files(key, chain).expect_err("refused")
}

/// `err` renders as a sentence holding each of `parts`.
fn assert_says(err: &KeyError, parts: &[&str]) {
    let text = err.to_string();
    for part in parts {
        assert!(text.contains(part), "{part:?} not in {text:?}");
    }
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused() {
    let p = pki();
    genkey(&p.dir, "p256", "stranger.pem");
    let chain = p.path("p256.chain.pem");
    let err = refused(&p.path("stranger.pem"), &chain);
    assert!(matches!(err, KeyError::Chain { error: ChainError::KeyMismatch { .. }, .. }), "{err:?}");
    assert_says(
        &err,
        &[
            &chain.display().to_string(),
            "the private key does not match certificate 1 (CN=Leaf p256,O=Sigscope Test), the signing certificate",
            "the key is EC P-256 and the certificate holds a different EC P-256 key",
        ],
    );
    let err = refused(&p.path("rsa2048.pkcs8.pem"), &chain);
    assert_says(&err, &["the key is RSA 2048 and the certificate holds a different EC P-256 key"]);
    // The key of another certificate of the chain: the leaf is not first.
    let err = refused(&p.path("inter.key"), &chain);
    assert_says(&err, &["it is the key of certificate 2 (CN=Test Intermediate,O=Sigscope Test)"]);
}

#[test]
fn a_leaf_without_code_signing_usage_is_refused() {
    let p = pki();
    for (ext, says) in [
        ("leaf_document_signing", "extended key usage is present but does not allow code signing"),
        ("leaf_server_auth", "extended key usage must not contain ServerAuth eku"),
    ] {
        leaf(&p.dir, &format!("{ext}.pem"), "p256.pkcs8.pem", "/CN=Wrong Usage", ext, 30);
        let chain = p.cat(&format!("{ext}.chain.pem"), &[&format!("{ext}.pem"), "inter.pem", "root.pem"]);
        let err = refused(&p.path("p256.pkcs8.pem"), &chain);
        assert!(matches!(err, KeyError::Chain { error: ChainError::Requirements(_), .. }), "{err:?}");
        assert_says(&err, &["does not meet the Notary Project's certificate requirements", "CN=Wrong Usage", says]);
    }
}

#[test]
fn a_ca_certificate_as_the_leaf_is_refused() {
    let p = pki();
    let chain = p.cat("ca-leaf.chain.pem", &["inter.pem", "root.pem"]);
    let err = refused(&p.path("inter.key"), &chain);
    assert_says(&err, &["CN=Test Intermediate", "a CA certificate cannot sign"]);
}

#[test]
fn a_chain_out_of_order_or_incomplete_is_refused_naming_the_certificates() {
    let p = pki();
    let key = p.path("p384.pkcs8.pem");
    let shuffled = p.cat("shuffled.pem", &["p384.leaf.pem", "root.pem", "inter.pem"]);
    assert_says(
        &refused(&key, &shuffled),
        &[
            "certificate 2 (CN=Test Root,O=Sigscope Test) did not sign certificate 1 (CN=Leaf p384,O=Sigscope Test): \
             chain out of order?",
            "certificate 3 (CN=Test Intermediate,O=Sigscope Test) did sign it",
        ],
    );
    let reversed = p.cat("reversed.pem", &["root.pem", "inter.pem", "p384.leaf.pem"]);
    assert_says(
        &refused(&key, &reversed),
        &["certificate 1 (CN=Test Root,O=Sigscope Test) is self-signed, so it can only end the chain"],
    );
    let no_root = p.cat("no-root.pem", &["p384.leaf.pem", "inter.pem"]);
    assert_says(
        &refused(&key, &no_root),
        &[
            "certificate 2 (CN=Test Intermediate,O=Sigscope Test) ends the chain but is not a self-signed root",
            "its issuer (CN=Test Root,O=Sigscope Test) is missing",
        ],
    );
    let no_intermediate = p.cat("no-inter.pem", &["p384.leaf.pem", "root.pem"]);
    assert_says(
        &refused(&key, &no_intermediate),
        &[
            "certificate 2 (CN=Test Root,O=Sigscope Test) did not sign certificate 1",
            "it was issued by CN=Test Intermediate,O=Sigscope Test, which is not in the chain",
        ],
    );
    let only_leaf = p.path("p384.leaf.pem");
    assert_says(&refused(&key, &only_leaf), &["certificate 1 (CN=Leaf p384,O=Sigscope Test) ends the chain"]);
}

#[test]
fn an_expired_or_not_yet_valid_leaf_is_refused_at_the_signing_time() {
    let p = pki();
    leaf(&p.dir, "short.pem", "p256.pkcs8.pem", "/CN=Short Lived", "leaf", 1);
    let chain = p.cat("short.chain.pem", &["short.pem", "inter.pem", "root.pem"]);
    let key = p.path("p256.pkcs8.pem");
    let now = Utc::now();
    assert!(LocalSigner::from_files_at(&key, &chain, now).is_ok(), "valid today");
    let err = LocalSigner::from_files_at(&key, &chain, now + Duration::days(3)).unwrap_err();
    assert!(matches!(err, KeyError::Chain { error: ChainError::Expired { number: 1, .. }, .. }), "{err:?}");
    assert_says(
        &err,
        &["certificate 1 (CN=Short Lived) expired at", "notation refuses to sign with an expired certificate"],
    );
    let err = LocalSigner::from_files_at(&key, &chain, now - Duration::days(3)).unwrap_err();
    assert_says(&err, &["certificate 1 (CN=Short Lived) is not valid until"]);
    // The intermediate's validity is checked as well as the leaf's.
    let err = LocalSigner::from_files_at(&key, &p.path("p256.chain.pem"), now + Duration::days(3200)).unwrap_err();
    assert_says(&err, &["certificate 1 (CN=Leaf p256,O=Sigscope Test) expired at"]);
}

#[test]
fn unsupported_key_types_and_sizes_are_refused_naming_them() {
    let p = pki();
    let chain = p.path("p256.chain.pem");
    genkey(&p.dir, "ed25519", "ed25519.pem");
    genkey(&p.dir, "rsa1024", "rsa1024.pem");
    openssl(&p.dir, &["pkey", "-in", "rsa1024.pem", "-traditional", "-out", "rsa1024.trad.pem"]);
    genkey(&p.dir, "secp256k1", "k1.pem");
    openssl(&p.dir, &["pkey", "-in", "k1.pem", "-traditional", "-out", "k1.trad.pem"]);
    for (file, what) in [
        ("ed25519.pem", "unsupported key: Ed25519"),
        ("rsa1024.pem", "unsupported key: RSA 1024 bits"),
        ("rsa1024.trad.pem", "unsupported key: RSA 1024 bits"),
        ("k1.pem", "unsupported key: EC key on curve secp256k1 (1.3.132.0.10)"),
        ("k1.trad.pem", "unsupported key: EC key on curve secp256k1 (1.3.132.0.10)"),
    ] {
        let err = refused(&p.path(file), &chain);
        assert!(matches!(err, KeyError::Unsupported { .. }), "{file}: {err:?}");
        assert_says(&err, &[&p.path(file).display().to_string(), what, "notation signs with EC P-256, P-384 or P-521"]);
    }
}

#[test]
fn encrypted_keys_are_refused_with_the_command_that_decrypts_them() {
    let p = pki();
    let chain = p.path("p256.chain.pem");
    let base = ["pkey", "-in", "p256.pkcs8.pem", "-aes256", "-passout", "pass:secret"];
    openssl(&p.dir, &[&base[..], &["-out", "enc.pkcs8.pem"]].concat());
    openssl(&p.dir, &[&base[..], &["-traditional", "-out", "enc.trad.pem"]].concat());
    assert!(String::from_utf8(p.read("enc.pkcs8.pem")).unwrap().starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(String::from_utf8(p.read("enc.trad.pem")).unwrap().contains("Proc-Type: 4,ENCRYPTED"));
    for file in ["enc.pkcs8.pem", "enc.trad.pem"] {
        let err = refused(&p.path(file), &chain);
        assert_eq!(
            err.to_string(),
            format!(
                "{}: encrypted keys are not supported: decrypt it with `openssl pkey -in KEY -out PLAIN`",
                p.path(file).display()
            )
        );
    }
    let err = LocalSigner::from_pem(&p.read("enc.trad.pem"), &p.read("p256.chain.pem")).unwrap_err();
    assert_says(&err, &["the signing key: encrypted keys are not supported"]);
}

#[test]
fn garbage_empty_missing_and_several_keys_are_refused() {
    let p = pki();
    let chain = p.path("p256.chain.pem");
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "bad-base64.pem",
            b"-----BEGIN PRIVATE KEY-----\n!!not base64!!\n-----END PRIVATE KEY-----\n",
            "malformed PRIVATE KEY block: its body is not base64",
        ),
        (
            "not-der.pem",
            b"-----BEGIN PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END PRIVATE KEY-----\n",
            "malformed PKCS#8 private key",
        ),
        (
            "not-sec1.pem",
            b"-----BEGIN EC PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END EC PRIVATE KEY-----\n",
            "malformed SEC1 EC private key",
        ),
        (
            "not-pkcs1.pem",
            b"-----BEGIN RSA PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n-----END RSA PRIVATE KEY-----\n",
            "malformed RSA private key",
        ),
        (
            "unterminated.pem",
            b"-----BEGIN PRIVATE KEY-----\naGVsbG8gd29ybGQ=\n",
            "is not a PEM file (the BEGIN PRIVATE KEY block has no END line)",
        ),
        ("text.pem", b"hello, I am not a key\n", "is not a PEM file (no -----BEGIN line)"),
        ("binary.der", &[0x30, 0x82, 0xff, 0xfe, 0x00], "is not a PEM file (it is binary, not text)"),
        ("empty.pem", b"", "is empty"),
        ("blank.pem", b"\n  \n", "is empty"),
    ];
    for (name, bytes, says) in cases {
        let path = p.write(name, bytes);
        let err = refused(&path, &chain);
        assert_says(&err, &[&path.display().to_string(), says]);
    }
    let two = p.cat("two-keys.pem", &["p256.pkcs8.pem", "p384.trad.pem"]);
    assert_says(&refused(&two, &chain), &["holds 2 private keys; give a file with exactly one"]);
    let same_twice = p.cat("same-twice.pem", &["p256.pkcs8.pem", "p256.pkcs8.pem"]);
    assert_says(&refused(&same_twice, &chain), &["holds 2 private keys"]);
    openssl(&p.dir, &["pkey", "-in", "p256.pkcs8.pem", "-pubout", "-out", "public.pem"]);
    assert_says(&refused(&p.path("public.pem"), &chain), &["holds no private key (only PUBLIC KEY)"]);
    assert_says(&refused(&chain, &chain), &["holds no private key (only CERTIFICATE)"]);

    let missing = p.path("nope.pem");
    let err = refused(&missing, &chain);
    assert_eq!(err.to_string(), format!("cannot read the signing key {}: no such file", missing.display()));
    let key = p.path("p256.pkcs8.pem");
    let err = refused(&key, &missing);
    assert_eq!(err.to_string(), format!("cannot read the certificate chain {}: no such file", missing.display()));
    assert_says(&refused(&p.dir, &chain), &["cannot read the signing key", "is a directory, not a regular file"]);
    assert_says(&refused(&key, &key), &["holds no certificate (-----BEGIN CERTIFICATE-----)"]);
    assert_says(&refused(&key, &p.write("empty-chain.pem", b"")), &["holds no certificate"]);
}

/// Every refusal is a usage error for the command line: exit code 2 (DESIGN.md).
#[test]
fn key_errors_are_usage_errors() {
    let p = pki();
    let err = refused(&p.path("nope.pem"), &p.path("p256.chain.pem"));
    let text = err.to_string();
    let err = sigscope::Error::from(err);
    assert_eq!(err.exit_code(), 2);
    assert_eq!(err.exit_code_in_layout(), 2);
    assert_eq!(err.to_string(), text);
}
