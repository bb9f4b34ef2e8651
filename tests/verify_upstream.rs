//! `sigscope verify` on signatures made by the reference implementation: notation-go's
//! `jws_signature.sig` and `cose_signature.sig` (PS256, self-signed `CN=alpine`) attached as
//! referrers to the alpine manifest they sign, in an OCI layout laid out as notation does
//! (signature manifests listed in index.json).

mod common;

use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};

use common::layout::put_blob;

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/notation");
const ALPINE: &str = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0";

/// The alpine layout plus one signature manifest per envelope (media type, file).
fn layout_with_signatures(dir: &Path, envelopes: &[(&str, &str)]) -> std::path::PathBuf {
    let layout = dir.join("layout");
    std::fs::create_dir_all(layout.join("blobs/sha256")).unwrap();
    let src = Path::new(VECTORS).join("oci-layout-alpine");
    std::fs::copy(src.join("oci-layout"), layout.join("oci-layout")).unwrap();
    for e in std::fs::read_dir(src.join("blobs/sha256")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), layout.join("blobs/sha256").join(e.file_name())).unwrap();
    }
    let mut index: Value = serde_json::from_slice(&std::fs::read(src.join("index.json")).unwrap()).unwrap();
    let mut empty = put_blob(&layout, b"{}");
    empty["mediaType"] = json!("application/vnd.oci.empty.v1+json");
    for (i, (media_type, file)) in envelopes.iter().enumerate() {
        let mut layer = put_blob(&layout, &std::fs::read(Path::new(VECTORS).join(file)).unwrap());
        layer["mediaType"] = json!(media_type);
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.cncf.notary.signature",
            "config": empty,
            "layers": [layer],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": ALPINE, "size": 481},
            "annotations": {"org.example.copy": i.to_string()},
        });
        let mut d = put_blob(&layout, &serde_json::to_vec(&manifest).unwrap());
        d["mediaType"] = json!("application/vnd.oci.image.manifest.v1+json");
        d["artifactType"] = json!("application/vnd.cncf.notary.signature");
        index["manifests"].as_array_mut().unwrap().push(d);
    }
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    layout
}

/// A notation dir trusting `cert_der` in `ca:upstream`, with the given identities.
fn notation_dir(dir: &Path, cert_der: &[u8], identities: Value) -> std::path::PathBuf {
    let n = dir.join("notation");
    let store = n.join("truststore/x509/ca/upstream");
    std::fs::create_dir_all(&store).unwrap();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64::engine::general_purpose::STANDARD.encode(cert_der)
    );
    std::fs::write(store.join("alpine.pem"), pem).unwrap();
    let policy = json!({"version": "1.0", "trustPolicies": [{
        "name": "upstream", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:upstream"], "trustedIdentities": identities}]});
    std::fs::write(n.join("trustpolicy.oci.json"), serde_json::to_vec(&policy).unwrap()).unwrap();
    n
}

fn alpine_cert() -> Vec<u8> {
    // The signer's self-signed certificate, as the JWS carries it: this test pins it the way
    // a user pins a self-signed signing certificate in a `ca` store.
    let env: Value =
        serde_json::from_slice(&std::fs::read(Path::new(VECTORS).join("jws_signature.sig")).unwrap()).unwrap();
    base64::engine::general_purpose::STANDARD.decode(env["header"]["x5c"][0].as_str().unwrap()).unwrap()
}

fn verify(layout: &Path, notation: &Path) -> (i32, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_sigscope"))
        .args(["verify", "--oci-layout", &format!("{}:v2", layout.display()), "--notation-dir"])
        .arg(notation)
        .args(["-o", "json"])
        .output()
        .unwrap();
    let v =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.code().unwrap(), v)
}

#[test]
fn notation_go_signatures_verify() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_with_signatures(
        dir.path(),
        &[("application/jose+json", "jws_signature.sig"), ("application/cose", "cose_signature.sig")],
    );
    let notation = notation_dir(dir.path(), &alpine_cert(), json!(["x509.subject: C=US, ST=WA, O=Notary"]));
    let (code, v) = verify(&layout, &notation);
    assert_eq!((code, v["verdict"]["state"].as_str()), (0, Some("verified")), "{v:#}");
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    for s in sigs {
        assert_eq!(s["verdict"]["state"], "verified", "{s:#}");
        assert_eq!(s["algorithm"], "PS256");
        assert_eq!(s["signer"], "CN=alpine,O=Notary,L=Seattle,ST=WA,C=US");
    }
}

#[test]
fn notation_go_signatures_fail_each_check_they_should() {
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_with_signatures(dir.path(), &[("application/jose+json", "jws_signature.sig")]);
    // Another organisation in the trusted identity: authenticity (identity) fails.
    let n = notation_dir(dir.path(), &alpine_cert(), json!(["x509.subject: C=US, ST=WA, O=Acme"]));
    let (code, v) = verify(&layout, &n);
    assert_eq!((code, v["verdict"]["check"].as_str()), (1, Some("trustedIdentity")), "{v:#}");

    // The envelope announced as COSE: integrity.
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_with_signatures(dir.path(), &[("application/cose", "jws_signature.sig")]);
    let n = notation_dir(dir.path(), &alpine_cert(), json!(["*"]));
    let (code, v) = verify(&layout, &n);
    assert_eq!((code, v["verdict"]["check"].as_str()), (1, Some("integrity")), "{v:#}");

    // A different certificate in the store: authenticity.
    let dir = tempfile::tempdir().unwrap();
    let layout = layout_with_signatures(dir.path(), &[("application/jose+json", "jws_signature.sig")]);
    let other = sigscope::demo::keys::pem_to_der(sigscope::demo::keys::ROOT_CA_PEM);
    let n = notation_dir(dir.path(), &other, json!(["*"]));
    let (code, v) = verify(&layout, &n);
    assert_eq!((code, v["verdict"]["check"].as_str()), (1, Some("authenticity")), "{v:#}");
}

#[test]
fn evaluation_stops_after_100_signatures() {
    // A registry (here a layout) listing more signatures than notation's default limit: the
    // first 100 are evaluated, and the report says evaluation stopped.
    let dir = tempfile::tempdir().unwrap();
    let envelopes = vec![("application/jose+json", "jws_signature.sig"); 105];
    let layout = layout_with_signatures(dir.path(), &envelopes);
    let notation = notation_dir(dir.path(), &alpine_cert(), json!(["*"]));
    let (code, v) = verify(&layout, &notation);
    assert_eq!((code, v["verdict"]["state"].as_str()), (0, Some("verified")));
    let sigs = v["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 101, "100 evaluated + the note that evaluation stopped");
    assert!(sigs[..100].iter().all(|s| s["verdict"]["state"] == "verified"));
    let reason = sigs[100]["verdict"]["reason"].as_str().unwrap();
    assert!(reason.contains("evaluation stopped: 105 signature candidates"), "{reason}");
}
