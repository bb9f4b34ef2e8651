//! The verifier against the upstream Notation vector index `tests/vectors/notation/vectors.json`
//! (provenance in tests/vectors/README.md). Every entry of the index is handled; the test
//! counts them so that a new entry without a handler fails instead of being skipped.
//!
//! Outcomes are compared by category (which check fails, enforced or logged), not by Go's
//! error text. Time is pinned: several upstream certificates have expired since the tests
//! were written, and the expectations below hold at `now()`.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use sha2::Digest as _;
use sigscope::notation::policy::{Statement, TrustPolicy};
use sigscope::notation::revocation::RevocationMode;
use sigscope::notation::verifier::{
    CheckKind, Outcome, SignatureInput, SignatureReport, SignatureVerdict, Verdict, Verifier,
};
use sigscope::notation::{chain, envelope, timestamp};
use sigscope::oci::Descriptor;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/notation");
const JWS: &str = "application/jose+json";
const TSA_HEADER: &str = "io.cncf.notary.timestampSignature";
const PLUGIN_HEADER: &str = "io.cncf.notary.verificationPlugin";
const PLUGIN_MIN_HEADER: &str = "io.cncf.notary.verificationPluginMinVersion";

/// Upstream sub-paths whose files an earlier import (tests/artifacts.rs, timestamp.rs,
/// trust_policy.rs) already holds under another name: reused rather than duplicated.
const ALIASES: &[(&str, &str)] = &[
    ("envelopes/mock-jws/ca_valid_sig_env.json", "ca_valid_sig_env.json"),
    ("envelopes/mock-jws/ca_invalid_sig_env.json", "ca_invalid_sig_env.json"),
    ("envelopes/timestamped/", "timestamp/"),
    ("envelopes/oci-layout-sigs/", ""),
    ("envelopes/blob-e2e/malformed.jws.sig", "malformed.jws.sig"),
    ("rfc3161/tspclient-go/", "rfc3161/"),
    // The store root is used as a Notation directory, whose stores live under truststore/.
    ("truststores/notation-go/", "notation-go-config/truststore/"),
    ("truststores/notation-go", "notation-go-config"),
];

fn local(upstream: &str) -> PathBuf {
    for (from, to) in ALIASES {
        if let Some(rest) = upstream.strip_prefix(from) {
            return Path::new(DIR).join(format!("{to}{rest}"));
        }
    }
    Path::new(DIR).join(upstream)
}

fn read(upstream: &str) -> Vec<u8> {
    let p = local(upstream);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{upstream} ({}): {e}", p.display()))
}

fn read_json(upstream: &str) -> Value {
    serde_json::from_slice(&read(upstream)).unwrap_or_else(|e| panic!("{upstream}: {e}"))
}

/// After every leaf the vectors rely on was issued, before the mock-jws chain (2122) and the
/// CN=alpine leaf (2123) expire, after the CN=testTSA leaves (2024) and the metadata leaf
/// (2023) expired and after the mock `expiry` headers (2022).
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 0, 0, 0).unwrap()
}

fn offline() -> (tempfile::TempDir, RevocationMode) {
    let cache = tempfile::tempdir().unwrap();
    let mode = RevocationMode::Offline { cache_dir: cache.path().to_path_buf() };
    (cache, mode)
}

/// The first statement of `policy`, with the vector's `trustPolicyOverride` merged in, the
/// level replaced and extra per-check overrides added. Blob policies have no registry
/// scopes; `*` is added so that the OCI policy parser accepts the statement unchanged
/// otherwise.
fn statement(policy: &str, overrides: Option<&Value>, level: Option<&str>, checks: &[(&str, &str)]) -> Statement {
    let mut doc = read_json(policy);
    let st = &mut doc["trustPolicies"][0];
    if let Some(Value::Object(o)) = overrides {
        for (k, v) in o {
            if k == "signatureVerification" {
                for (k2, v2) in v.as_object().unwrap() {
                    st["signatureVerification"][k2] = v2.clone();
                }
            } else {
                st[k] = v.clone();
            }
        }
    }
    if let Some(level) = level {
        st["signatureVerification"]["level"] = json!(level);
    }
    for (check, action) in checks {
        st["signatureVerification"]["override"][*check] = json!(action);
    }
    if st.get("registryScopes").is_none() {
        st["registryScopes"] = json!(["*"]);
    }
    let parsed = TrustPolicy::parse(&doc.to_string()).unwrap_or_else(|e| panic!("{policy}: {e}"));
    parsed.statements[0].clone()
}

async fn verify(dir: &Path, st: &Statement, subject: &Descriptor, media_type: &str, bytes: &[u8]) -> SignatureReport {
    let (_cache, mode) = offline();
    let verifier = Verifier::new(TrustPolicy { statements: vec![st.clone()] }, dir, mode);
    verifier.verify_signature(st, subject, media_type, bytes, now()).await
}

/// The whole artifact path: the statement is found by the repository of the vector's
/// `artifactReference` (an exact registry scope in these policies), and the signature is
/// fetched as a referrer would be.
async fn verify_reference(v: &Value, dir: &Path, st: &Statement, bytes: &[u8]) -> Verdict {
    let reference = v["artifactReference"].as_str().unwrap();
    let (scope, digest) = reference.split_once('@').unwrap();
    assert!(st.registry_scopes.iter().any(|s| s == scope), "{reference}: {:?}", st.registry_scopes);
    let subject = descriptor(&v["descriptor"]);
    let (_cache, mode) = offline();
    let verifier = Verifier::new(TrustPolicy { statements: vec![st.clone()] }, dir, mode);
    let input = SignatureInput { digest: "sha256:sig".into(), media_type: JWS.into(), envelope: Ok(bytes.to_vec()) };
    let report = verifier.verify_artifact(scope, &subject, &[input], now()).await;
    assert_eq!(report.reference, format!("{scope}@{digest}"), "the reference names the signed descriptor");
    assert_eq!(report.statement.as_ref().map(|s| s.name.as_str()), Some(st.name.as_str()), "{reference}");
    report.verdict
}

fn descriptor(v: &Value) -> Descriptor {
    serde_json::from_value(v.clone()).unwrap()
}

fn outcome(r: &SignatureReport, check: CheckKind) -> Outcome {
    r.check(check).unwrap_or_else(|| panic!("no {check:?} row in {r:#?}")).outcome
}

fn reason(r: &SignatureReport, check: CheckKind) -> &str {
    &r.check(check).unwrap().reason
}

/// The six rows every non-plugin signature has, in evaluation order.
const ROWS: [CheckKind; 6] = [
    CheckKind::Integrity,
    CheckKind::Authenticity,
    CheckKind::TrustedIdentity,
    CheckKind::Expiry,
    CheckKind::AuthenticTimestamp,
    CheckKind::Revocation,
];

fn assert_all_pass(r: &SignatureReport, ctx: &str) {
    for c in ROWS {
        assert_eq!(outcome(r, c), Outcome::Pass, "{ctx}: {c:?}: {}", reason(r, c));
    }
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{ctx}");
}

/// `check` failed as `enforced` says; every check before it passed; after an enforced failure
/// nothing else ran, after a logged one everything else passed.
fn assert_fails(r: &SignatureReport, check: CheckKind, enforced: bool, ctx: &str) {
    let want = if enforced { Outcome::FailEnforced } else { Outcome::FailLogged };
    assert_eq!(outcome(r, check), want, "{ctx}: {check:?}: {r:#?}");
    let at = ROWS.iter().position(|c| *c == check).unwrap();
    for (i, c) in ROWS.iter().enumerate() {
        if i == at {
            continue;
        }
        let expected = if i > at && enforced { Outcome::NotRun } else { Outcome::Pass };
        assert_eq!(outcome(r, *c), expected, "{ctx}: {c:?}: {}", reason(r, *c));
    }
    if enforced {
        assert!(matches!(r.verdict, SignatureVerdict::Failed { check: c, .. } if c == check), "{ctx}: {:?}", r.verdict);
    } else {
        assert_eq!(r.verdict, SignatureVerdict::VerifiedWithWarnings, "{ctx}");
    }
}

fn check_named(name: &str) -> CheckKind {
    match name {
        "integrity" => CheckKind::Integrity,
        "authenticity" => CheckKind::Authenticity,
        // Go reports the identity mismatch inside its authenticity result; we give it a row.
        "authenticity (trusted identity)" => CheckKind::TrustedIdentity,
        "expiry" => CheckKind::Expiry,
        other => panic!("unknown failingCheck {other:?}"),
    }
}

fn levels(v: &Value) -> Vec<Option<String>> {
    match v.get("levels") {
        Some(Value::Array(ls)) => ls.iter().map(|l| Some(l.as_str().unwrap().to_string())).collect(),
        // No list: the policy file's own level.
        _ => vec![None],
    }
}

fn jws_protected(bytes: &[u8]) -> Value {
    let env: Value = serde_json::from_slice(bytes).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(env["protected"].as_str().unwrap()).unwrap()).unwrap()
}

/// Counts what was asserted, so the total can be checked against the index.
#[derive(Default)]
struct Tally {
    entries: usize,
    cases: usize,
}

/// mock-jws envelopes with a per-check expectation: pass, or one failing check whose
/// action follows the level.
async fn mock_jws(v: &Value, t: &mut Tally) {
    let file = v["file"].as_str().unwrap();
    let bytes = read(file);
    let dir = local(v["trustStoreRoot"].as_str().unwrap());
    let subject = descriptor(&v["descriptor"]);
    let exp = &v["expected"];
    for level in levels(v) {
        let ctx = format!("{file} {level:?} {}", v.get("trustPolicyOverride").unwrap_or(&Value::Null));
        let st = statement(v["trustPolicy"].as_str().unwrap(), v.get("trustPolicyOverride"), level.as_deref(), &[]);
        let r = verify(&dir, &st, &subject, JWS, &bytes).await;
        let verdict = verify_reference(v, &dir, &st, &bytes).await;
        match exp.get("failingCheck").and_then(Value::as_str) {
            None => {
                assert_all_pass(&r, &ctx);
                assert_eq!(verdict, Verdict::Verified, "{ctx}");
            }
            Some(name) => {
                let enforced = match &exp["action"] {
                    Value::String(s) => {
                        assert_eq!(s, "enforce at every level");
                        true
                    }
                    Value::Object(m) => m[level.as_deref().unwrap()] == "enforce",
                    other => panic!("{ctx}: action {other}"),
                };
                let check = check_named(name);
                assert_fails(&r, check, enforced, &ctx);
                if enforced {
                    assert!(
                        matches!(verdict, Verdict::Failed { check: Some(c), .. } if c == check),
                        "{ctx}: {verdict:?}"
                    );
                } else {
                    assert!(matches!(verdict, Verdict::VerifiedWithWarnings { .. }), "{ctx}: {verdict:?}");
                }
            }
        }
        t.cases += 1;
    }
}

/// Envelopes naming a verification plugin. sigscope runs no plugins, so each one must fail
/// closed on the plugin row naming the plugin, whatever Go does with a mock plugin installed
/// (the `compatible` ones pass there). The signature itself is sound: integrity passes.
async fn plugin(v: &Value, t: &mut Tally) {
    let file = v["file"].as_str().unwrap();
    let bytes = read(file);
    let protected = jws_protected(&bytes);
    let name = protected[PLUGIN_HEADER].as_str().unwrap();
    let dir = local(v["trustStoreRoot"].as_str().unwrap());
    let subject = descriptor(&v["descriptor"]);
    for level in levels(v) {
        let ctx = format!("{file} {level:?}");
        let st = statement(v["trustPolicy"].as_str().unwrap(), v.get("trustPolicyOverride"), level.as_deref(), &[]);
        let r = verify(&dir, &st, &subject, JWS, &bytes).await;
        assert_eq!(outcome(&r, CheckKind::Integrity), Outcome::Pass, "{ctx}: {}", reason(&r, CheckKind::Integrity));
        assert_eq!(outcome(&r, CheckKind::VerificationPlugin), Outcome::FailEnforced, "{ctx}");
        let why = reason(&r, CheckKind::VerificationPlugin);
        assert!(why.contains(&format!("requires plugin {name}")), "{ctx}: {why}");
        if let Some(min) = protected.get(PLUGIN_MIN_HEADER).and_then(Value::as_str) {
            assert!(why.contains(min), "{ctx}: {why}");
        }
        assert!(
            matches!(r.verdict, SignatureVerdict::Failed { check: CheckKind::VerificationPlugin, .. }),
            "{ctx}: {:?}",
            r.verdict
        );
        for c in &ROWS[1..] {
            assert_eq!(outcome(&r, *c), Outcome::NotRun, "{ctx}: {c:?}");
        }
        let verdict = verify_reference(v, &dir, &st, &bytes).await;
        assert!(
            matches!(verdict, Verdict::Failed { check: Some(CheckKind::VerificationPlugin), .. }),
            "{ctx}: {verdict:?}"
        );
        t.cases += 1;
    }
    // A missing plugin is not a policy-governed check: even audit, which only logs
    // authenticity, must not let the signature through.
    let st = statement(v["trustPolicy"].as_str().unwrap(), v.get("trustPolicyOverride"), Some("audit"), &[]);
    let r = verify(&dir, &st, &subject, JWS, &bytes).await;
    assert_eq!(outcome(&r, CheckKind::VerificationPlugin), Outcome::FailEnforced, "{file} at audit");
    assert!(!r.passed(), "{file} at audit");
    t.cases += 1;
}

/// `sig_env_with_metadata.json` at level audit. sigscope has no user-metadata option, so
/// the five upstream metadata cases reduce to the base case (`{}` passes); the payload
/// annotations the other cases would match are asserted instead.
async fn metadata(v: &Value, t: &mut Tally) {
    let file = v["file"].as_str().unwrap();
    let bytes = read(file);
    let dir = local(v["trustStoreRoot"].as_str().unwrap());
    let subject = descriptor(&v["descriptor"]);
    let st = statement(v["trustPolicy"].as_str().unwrap(), v.get("trustPolicyOverride"), None, &[]);
    let r = verify(&dir, &st, &subject, JWS, &bytes).await;
    // The leaf (expired 2023-01-12) is in no store and has another subject: audit logs the
    // authenticity, identity and validity-period failures and the signature still passes.
    assert_eq!(outcome(&r, CheckKind::Integrity), Outcome::Pass, "{file}");
    assert_eq!(outcome(&r, CheckKind::Authenticity), Outcome::FailLogged, "{file}");
    assert_eq!(outcome(&r, CheckKind::AuthenticTimestamp), Outcome::FailLogged, "{file}");
    assert_eq!(outcome(&r, CheckKind::Expiry), Outcome::Pass, "{file}");
    assert_eq!(r.verdict, SignatureVerdict::VerifiedWithWarnings, "{file}: {r:#?}");
    t.cases += 1;

    let env = envelope::parse(JWS, &bytes).unwrap();
    let target = envelope::target_artifact(&env.payload).unwrap();
    let has = |k: &str, val: &str| target.annotations.iter().any(|(a, b)| a == k && b == val);
    for case in v["expected"]["userMetadataCases"].as_array().unwrap() {
        let wanted = case["userMetadata"].as_object().unwrap();
        let found = wanted.iter().all(|(k, val)| has(k, val.as_str().unwrap()));
        assert_eq!(found, case["overall"] == "pass", "{file}: {case}");
        t.cases += 1;
    }
}

/// The CN=testTSA leaves of these envelopes are in no trust store (the 2099 one of
/// timestampBeforeNotBefore is): upstream calls only the authenticTimestamp step, so
/// authenticity is logged here to let that step run.
const UNTRUSTED_LEAVES: [&str; 3] =
    ["jwsExpiredWithTimestamp.sig", "coseExpiredWithTimestamp.sig", "timestampAfterNotAfter.sig"];

/// The descriptor every timestamped envelope signs; the index omits it for the variants.
fn timestamped_descriptor() -> Descriptor {
    descriptor(&json!({
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "digest": "sha256:c0669ef34cdc14332c0f1ab0c2c01acb91d96014b172f1a76f3a39e63d1f0bda",
        "size": 528
    }))
}

/// Puts `token` into the JWS unprotected header: no signed byte changes, so integrity
/// must still pass and only the countersignature is judged.
fn inject_token(bytes: &[u8], token: &[u8]) -> Vec<u8> {
    let mut env: Value = serde_json::from_slice(bytes).unwrap();
    env["header"][TSA_HEADER] = json!(STANDARD.encode(token));
    serde_json::to_vec(&env).unwrap()
}

/// Timestamped envelopes with policy timestamp-unit (strict, verifyTimestamp always,
/// tsa:test-timestamp). Revocation is overridden to `skip`: the verifier then skips the
/// TSA chain revocation too, which otherwise needs GlobalSign's OCSP/CRL servers.
async fn timestamped(v: &Value, t: &mut Tally) {
    let file = v["file"].as_str().unwrap();
    let base = file.rsplit('/').next().unwrap();
    let media_type = v["envelopeMediaType"].as_str().unwrap();
    let mut bytes = read(file);
    let dir = local(v["trustStoreRoot"].as_str().unwrap());
    let subject = v.get("descriptor").map(descriptor).unwrap_or_else(timestamped_descriptor);
    assert_eq!(subject, timestamped_descriptor(), "{file}");
    let untrusted = UNTRUSTED_LEAVES.contains(&base);
    let mut checks = vec![("revocation", "skip")];
    if untrusted {
        checks.push(("authenticity", "log"));
    }
    let policy = v["trustPolicy"].as_str().unwrap();
    let mutation = v.get("mutation");
    if let Some(m) = mutation {
        bytes = inject_token(&bytes, &read(m["injectTimestampToken"].as_str().unwrap()));
    }
    let ctx =
        format!("{file} {} {}", v.get("trustPolicyOverride").unwrap_or(&Value::Null), mutation.unwrap_or(&Value::Null));
    let st = statement(policy, v.get("trustPolicyOverride"), None, &checks);
    let r = verify(&dir, &st, &subject, media_type, &bytes).await;
    let exp = &v["expected"];
    let pass = exp["authenticTimestamp"].as_str().unwrap().starts_with("pass");
    assert_authentic_timestamp(&r, pass, untrusted, &ctx);
    if !pass {
        let why = reason(&r, CheckKind::AuthenticTimestamp);
        let key = failure_key(base, v.get("trustPolicyOverride"), mutation);
        assert!(why.contains(key), "{ctx}: {why:?} lacks {key:?}");
    }
    t.cases += 1;

    if let Some(m) = mutation
        && let Some(replacement) = m.get("replacePrimitiveSignatureWithBytes").and_then(Value::as_str)
    {
        // Replacing the primitive signature breaks integrity end to end, so the upstream
        // mutation is reproduced on the countersignature check alone.
        let token = read(m["injectTimestampToken"].as_str().unwrap());
        let roots = vec![read("truststores/notation-go/x509/tsa/test-timestamp/globalsignRoot.cer")];
        let err = timestamp::verify_timestamp(&token, replacement.as_bytes(), &roots, now()).unwrap_err();
        let key = if replacement == "mismatch" { "message imprint" } else { "signing certificate not found" };
        assert!(err.contains(key), "{ctx}: {err}");
        t.cases += 1;
    }

    if pass && mutation.is_none() && v.get("trustPolicyOverride").is_none() && !untrusted {
        // Why the override: offline, with no cached CRL, the TSA chain's revocation status
        // is unknown, and unknown fails the timestamp as in Go.
        let st = statement(policy, None, None, &[]);
        let r = verify(&dir, &st, &subject, media_type, &bytes).await;
        assert_eq!(outcome(&r, CheckKind::AuthenticTimestamp), Outcome::FailEnforced, "{ctx}: {r:#?}");
        assert!(reason(&r, CheckKind::AuthenticTimestamp).contains("revocation"), "{ctx}: {r:#?}");
        t.cases += 1;
    }
    if let Some(also) = exp.get("alsoWith") {
        let vt = also["verifyTimestamp"].as_str().unwrap();
        let st = statement(policy, Some(&json!({"signatureVerification": {"verifyTimestamp": vt}})), None, &checks);
        let r = verify(&dir, &st, &subject, media_type, &bytes).await;
        assert_authentic_timestamp(
            &r,
            also["authenticTimestamp"].as_str().unwrap().starts_with("pass"),
            untrusted,
            &ctx,
        );
        // Not consulted: a countersignature verified would have set the timestamp.
        assert_eq!(r.timestamp, None, "{ctx}: afterCertExpiry with an unexpired chain");
        t.cases += 1;
    }
    if let Some(without) = exp.get("withPolicyWithoutTsaStore") {
        let o = json!({"trustStores": without["trustStores"].clone()});
        let st = statement(policy, Some(&o), None, &checks);
        let r = verify(&dir, &st, &subject, media_type, &bytes).await;
        assert_authentic_timestamp(&r, without["authenticTimestamp"] == "pass", untrusted, &ctx);
        let why = reason(&r, CheckKind::AuthenticTimestamp);
        assert!(why.contains("is after certificate") && why.contains("CN=testTSA"), "{ctx}: {why}");
        t.cases += 1;
    }
}

/// A word of the failure reason that shows the intended cause (not Go's full text).
fn failure_key(base: &str, overrides: Option<&Value>, mutation: Option<&Value>) -> &'static str {
    if let Some(m) = mutation {
        let token = m["injectTimestampToken"].as_str().unwrap();
        return if token.ends_with("WithInvalideContentType.p7s") {
            "content type"
        } else if token.ends_with("WithInvalidTSTInfo.p7s") {
            "TSTInfo"
        } else if token.ends_with("WithoutCertificate.p7s") {
            // The token countersigns "notation", not this signature, and Go reports the
            // missing certificate first; we check the imprint first. The missing
            // certificate is asserted with the replaced signature below.
            "imprint"
        } else {
            "imprint"
        };
    }
    if let Some(o) = overrides {
        let stores = o["trustStores"].to_string();
        if stores.contains("does-not-exist") {
            return "does-not-exist";
        }
        if stores.contains("test-mismatch") {
            return "does not chain to a trusted TSA root";
        }
    }
    match base {
        "withoutTimestamp.sig" => "no timestamp countersignature was found",
        "timestampBeforeNotBefore.sig" => "before certificate",
        "timestampAfterNotAfter.sig" => "after certificate",
        other => panic!("no failure key for {other}"),
    }
}

fn assert_authentic_timestamp(r: &SignatureReport, pass: bool, untrusted_leaf: bool, ctx: &str) {
    assert_eq!(outcome(r, CheckKind::Integrity), Outcome::Pass, "{ctx}: {}", reason(r, CheckKind::Integrity));
    let auth = if untrusted_leaf { Outcome::FailLogged } else { Outcome::Pass };
    assert_eq!(outcome(r, CheckKind::Authenticity), auth, "{ctx}: {}", reason(r, CheckKind::Authenticity));
    assert_eq!(outcome(r, CheckKind::TrustedIdentity), Outcome::Pass, "{ctx}");
    assert_eq!(outcome(r, CheckKind::Expiry), Outcome::Pass, "{ctx}");
    assert_eq!(outcome(r, CheckKind::Revocation), Outcome::Skipped, "{ctx}");
    if pass {
        assert_eq!(
            outcome(r, CheckKind::AuthenticTimestamp),
            Outcome::Pass,
            "{ctx}: {}",
            reason(r, CheckKind::AuthenticTimestamp)
        );
        assert!(r.passed(), "{ctx}");
    } else {
        assert_eq!(outcome(r, CheckKind::AuthenticTimestamp), Outcome::FailEnforced, "{ctx}");
        assert!(
            matches!(r.verdict, SignatureVerdict::Failed { check: CheckKind::AuthenticTimestamp, .. }),
            "{ctx}: {:?}",
            r.verdict
        );
    }
}

/// A Notation directory whose trust store `ca:NAME` holds exactly `certs`.
fn store_dir(name: &str, certs: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("truststore/x509/ca").join(name);
    std::fs::create_dir_all(&store).unwrap();
    for (file, bytes) in certs {
        std::fs::write(store.join(file), bytes).unwrap();
    }
    dir
}

/// The blob-unit signature (notation-go TestVerifyBlob). sigscope verifies no blobs, but
/// the envelope is an ordinary Notation JWS over a descriptor: verified here as an artifact
/// with that descriptor, under a statement built from the blob policy's fields.
async fn blob_unit(v: &Value, t: &mut Tally) {
    let file = v["file"].as_str().unwrap();
    let bytes = read(file);
    let stores = v["trustStore"].as_object().unwrap();
    assert_eq!(stores.len(), 1);
    let (store, certs) = stores.iter().next().unwrap();
    let name = store.strip_prefix("ca:").unwrap();
    let cert_path = certs[0].as_str().unwrap();
    let dir = store_dir(name, &[("trustedCert.pem", &read(cert_path))]);
    let policy = v["trustPolicy"].as_str().unwrap();
    let st = statement(policy, None, None, &[]);
    assert_eq!(st.name, v["policyName"].as_str().unwrap());
    let subject = descriptor(&v["blobDescriptor"]);
    let env = envelope::parse(JWS, &bytes).unwrap();
    let target = envelope::target_artifact(&env.payload).unwrap();

    for case in v["expected"]["cases"].as_array().unwrap() {
        let ctx = format!("{file} {case}");
        let pass = case["overall"].as_str().unwrap().starts_with("pass");
        if let Some(meta) = case.get("userMetadata") {
            // No user-metadata option in sigscope: the annotations it would match are checked.
            let found = meta
                .as_object()
                .unwrap()
                .iter()
                .all(|(k, val)| target.annotations.iter().any(|(a, b)| a == k && b == val.as_str().unwrap()));
            assert_eq!(found, pass, "{ctx}");
        } else if let Some(digest) = case.get("blobDigestOverride") {
            let mut other = subject.clone();
            other.digest = digest.as_str().unwrap().to_string();
            let r = verify(dir.path(), &st, &other, JWS, &bytes).await;
            assert!(!pass);
            assert_eq!(outcome(&r, CheckKind::Integrity), Outcome::FailEnforced, "{ctx}");
            assert!(reason(&r, CheckKind::Integrity).contains("content descriptor mismatch"), "{ctx}");
        } else if let Some(sig) = case.get("signatureBytes") {
            let sig = sig.as_str().unwrap().as_bytes();
            assert!(!pass);
            assert!(envelope::parse(JWS, sig).is_err(), "{ctx}");
            let r = verify(dir.path(), &st, &subject, JWS, sig).await;
            assert_eq!(outcome(&r, CheckKind::Integrity), Outcome::FailEnforced, "{ctx}");
        } else if let Some(level) = case.get("level").and_then(Value::as_str) {
            // Level skip: nothing is verified, not even the envelope.
            assert!(pass);
            let doc = json!({"version": "1.0", "trustPolicies": [{
                "name": st.name, "registryScopes": ["*"], "signatureVerification": {"level": level},
            }]});
            let (_cache, mode) = offline();
            let verifier = Verifier::new(TrustPolicy::parse(&doc.to_string()).unwrap(), dir.path(), mode);
            let input = SignatureInput { digest: String::new(), media_type: JWS.into(), envelope: Ok(Vec::new()) };
            let a = verifier.verify_artifact("blob", &subject, &[input], now()).await;
            assert_eq!(a.verdict, Verdict::Skipped, "{ctx}");
        } else {
            assert!(pass);
            let r = verify(dir.path(), &st, &subject, JWS, &bytes).await;
            assert_all_pass(&r, &ctx);
        }
        t.cases += 1;
    }
}

/// Blob signatures over LICENSE that upstream only inspects (their TSA root is not
/// published with them and the leaves have expired): the envelope parses, its chain passes
/// the structural checks, the signature verifies with the leaf key, it carries a
/// countersignature, and it names the LICENSE file by digest and size.
fn blob_e2e(v: &Value, t: &mut Tally) {
    let file = v["file"].as_str().unwrap();
    let bytes = read(file);
    let media_type = if file.ends_with(".cose.sig") { "application/cose" } else { JWS };
    let env = envelope::parse(media_type, &bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
    let valid = chain::validate(&env.chain).unwrap_or_else(|e| panic!("{file}: {e}"));
    valid.leaf_key.verify(env.alg, &env.signed_bytes, &env.signature).unwrap_or_else(|e| panic!("{file}: {e}"));
    assert!(env.timestamp_token.is_some(), "{file}");
    let target = envelope::target_artifact(&env.payload).unwrap();
    let want = descriptor(&v["blobDescriptor"]);
    assert_eq!(
        (target.media_type.as_str(), target.digest.as_str(), target.size),
        (want.media_type.as_str(), want.digest.as_str(), want.size)
    );
    let blob = read(v["blob"].as_str().unwrap());
    assert_eq!(format!("sha256:{}", hex(&sha2::Sha256::digest(&blob))), want.digest);
    assert_eq!(blob.len() as u64, want.size);
    // Tampering with the signed bytes must break the signature.
    let mut tampered = env.signed_bytes.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert!(valid.leaf_key.verify(env.alg, &tampered, &env.signature).is_err(), "{file}");
    t.cases += 1;
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Signatures over the OCI layout manifest; upstream only pushes them. Inferred: they verify
/// when their own self-signed CN=alpine leaf is the `ca` trust anchor.
async fn oci_layout(v: &Value, t: &mut Tally) {
    let file = v["file"].as_str().unwrap();
    let media_type = v["envelopeMediaType"].as_str().unwrap();
    let bytes = read(file);
    let env = envelope::parse(media_type, &bytes).unwrap();
    assert_eq!(env.chain.len(), 1, "{file}");
    let dir = store_dir("alpine", &[("alpine.cer", &env.chain[0])]);
    let doc = json!({"version": "1.0", "trustPolicies": [{
        "name": "alpine", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:alpine"], "trustedIdentities": ["*"],
    }]});
    let st = TrustPolicy::parse(&doc.to_string()).unwrap().statements[0].clone();
    let subject = descriptor(&v["descriptor"]);
    let r = verify(dir.path(), &st, &subject, media_type, &bytes).await;
    assert_all_pass(&r, file);
    // With another anchor the same signature is not authentic.
    let other = store_dir(
        "alpine",
        &[("root.pem", &read("truststores/notation-go/x509/ca/valid-trust-store/NotationTestRoot.pem"))],
    );
    let r = verify(other.path(), &st, &subject, media_type, &bytes).await;
    assert_fails(&r, CheckKind::Authenticity, true, file);
    t.cases += 2;
}

#[tokio::test]
async fn every_vector_entry_behaves_as_upstream_expects() {
    let index = read_json("vectors.json");
    let entries = index["vectors"].as_array().unwrap();
    let mut t = Tally::default();
    for v in entries {
        let file = v["file"].as_str().unwrap();
        let before = t.cases;
        if file.starts_with("envelopes/mock-jws/") {
            if file.contains("plugin") {
                plugin(v, &mut t).await;
            } else if file.ends_with("sig_env_with_metadata.json") {
                metadata(v, &mut t).await;
            } else {
                mock_jws(v, &mut t).await;
            }
        } else if file.starts_with("envelopes/timestamped/") {
            timestamped(v, &mut t).await;
        } else if file.starts_with("envelopes/blob-unit/") {
            blob_unit(v, &mut t).await;
        } else if file.ends_with("malformed.jws.sig") {
            // Upstream: `notation blob inspect` → "failed to parse signature".
            assert_eq!(v["expected"]["inspect"].as_str().unwrap(), "fail: failed to parse signature");
            assert!(envelope::parse(JWS, &read(file)).is_err());
            t.cases += 1;
        } else if file.starts_with("envelopes/blob-e2e/") {
            blob_e2e(v, &mut t);
        } else if file.starts_with("envelopes/oci-layout-sigs/") {
            oci_layout(v, &mut t).await;
        } else {
            panic!("vector entry without a handler: {file}");
        }
        assert!(t.cases > before, "{file}: nothing asserted");
        t.entries += 1;
    }
    assert_eq!(t.entries, entries.len());
    assert_eq!(t.entries, 40, "the index changed: review the handlers");
    eprintln!("{} vector entries, {} cases asserted", t.entries, t.cases);
}

fn chain_cert(name: &str) -> Vec<u8> {
    let pem = read(&format!("x509/codesigning-chain/{name}.pem"));
    let mut ders = sigscope::notation::truststore::split_certificates(&pem).unwrap();
    assert_eq!(ders.len(), 1, "{name}");
    ders.remove(0)
}

fn chain_of(names: &[&str]) -> Vec<Vec<u8>> {
    names.iter().map(|n| chain_cert(n)).collect()
}

fn assert_chain_err(names: &[&str], key: &str) {
    match chain::validate(&chain_of(names)) {
        Ok(_) => panic!("{names:?} validated; expected {key:?}"),
        Err(e) => assert!(e.contains(key), "{names:?}: {e:?} lacks {key:?}"),
    }
}

const VALID: [&str; 4] = ["codeSigningLeaf", "intermediateCert2", "intermediateCert1", "rootCert"];

/// notation-core-go ValidateCodeSigningCertChain cases (x509/codesigning-chain/, expected
/// errors in the shared README): every combination it lists.
#[test]
fn codesigning_chains_validate_as_notation_core_go() {
    let valid = chain::validate(&chain_of(&VALID)).unwrap();
    let subjects: Vec<&str> = valid.certs.iter().map(|c| c.subject.as_str()).collect();
    assert_eq!(subjects, ["CN=CodeSigningLeaf", "CN=Intermediate2", "CN=Intermediate1", "CN=Root"]);

    assert_chain_err(&["codeSigningLeaf"], "invalid self-signed certificate \"CN=CodeSigningLeaf\"");
    assert_chain_err(&VALID[..3], "root certificate \"CN=Intermediate1\" is invalid or not self-signed");
    assert_chain_err(
        &["codeSigningLeaf", "intermediateCert1", "intermediateCert2", "rootCert"],
        "\"CN=CodeSigningLeaf\" is not issued by \"CN=Intermediate1\"",
    );
    assert_chain_err(
        &["codeSigningLeaf", "unrelatedCert", "intermediateCert1", "rootCert"],
        "\"CN=CodeSigningLeaf\" is not issued by \"CN=Hello\"",
    );
    assert_chain_err(&["rootCert", "rootCert", "rootCert"], "leaf certificate \"CN=Root\" is self-signed");
    let mut extra_root = VALID.to_vec();
    extra_root.push("rootCert");
    assert_chain_err(&extra_root, "intermediate certificate \"CN=Root\" is self-signed");
    assert_chain_err(
        &[
            "codeSigningLeafInvalidPathLen",
            "intermediateCertInvalidPathLen",
            "intermediateCert2",
            "intermediateCert1",
            "rootCert",
        ],
        "\"CN=Intermediate2\": expected path length of 1 but certificate has path length 0 instead",
    );

    // Validation ignores time; the verifier asks the chain about an instant.
    let signed_at = Utc.with_ymd_and_hms(2021, 7, 7, 20, 48, 42).unwrap();
    let invalid = valid.invalid_at(signed_at, "signing time").expect("the leaf was not yet valid in 2021");
    assert!(invalid.contains("before certificate \"CN=CodeSigningLeaf\""), "{invalid}");
    assert_eq!(valid.invalid_at(now(), "verification time"), None);
}

#[test]
fn codesigning_ca_rules_as_notation_core_go() {
    let ca_err = |name: &str, cas_below: usize, key: &str| {
        let e = chain::validate_ca_certificate(&chain_cert(name), cas_below).expect_err(name);
        assert!(e.contains(key), "{name}: {e:?} lacks {key:?}");
    };
    ca_err("noBasicConstraintsCa", 0, "basic constraints must be present with the CA field set to true");
    ca_err("basicConstraintsNotCa", 0, "basic constraints must be present with the CA field set to true");
    ca_err("kuNotCriticalCertSignCa", 0, "key usage extension must be marked critical");
    ca_err("kuMissingCa", 0, "key usage extension must be present");
    ca_err("kuNotCertSignCa", 0, "key usage must have the bit positions for key cert sign set");
    ca_err("rootCert", 3, "expected path length of 3 but certificate has path length 2 instead");
    for (name, below) in [("rootCert", 2), ("intermediateCert1", 1), ("intermediateCert2", 0)] {
        chain::validate_ca_certificate(&chain_cert(name), below).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn codesigning_leaf_rules_as_notation_core_go() {
    chain::validate_leaf_certificate(&chain_cert("validNoOptionsLeaf")).unwrap();
    chain::validate(&chain_of(&["validNoOptionsLeaf"])).unwrap();
    for (name, key) in [
        ("caTrueLeaf", "if the basic constraints extension is present, the ca field must be set to false"),
        ("kuNoDigitalSignatureLeaf", "key usage must have the bit positions for \"Digital Signature\" set"),
        ("kuWrongValuesLeaf", "key usage must be \"Digital Signature\" only, but found CertSign, CRLSign"),
        ("rsaKeyTooSmallLeaf", "rsa key size 1024 bits is not supported"),
        // Go: "ecdsa key size 224 bits is not supported"; P-224 is refused by curve here.
        ("ecdsaKeyTooSmallLeaf", "is not supported"),
        ("ekuWrongValuesCodeLeaf", "extended key usage must not contain ServerAuth eku"),
        ("ekuMissingCodeSigningLeaf", "extended key usage must not contain OCSPSigning eku"),
    ] {
        let e = chain::validate_leaf_certificate(&chain_cert(name)).expect_err(name);
        assert!(e.contains(key), "{name}: {e:?} lacks {key:?}");
        // Each is self-signed: alone it is a one-certificate chain held to the leaf rules.
        let e = chain::validate(&chain_of(&[name])).expect_err(name);
        // No P-224 verifier here: its self-signature cannot be checked, so the chain is
        // refused one step earlier than Go refuses it (on the key size).
        let key = if name == "ecdsaKeyTooSmallLeaf" { "invalid self-signed certificate" } else { key };
        assert!(e.contains(key), "{name} as a chain: {e:?} lacks {key:?}");
    }
}

/// A chain of one certificate as the verifier holds it. The identity vectors are CA
/// certificates that `chain::validate` would refuse as leaves; the identity check only
/// reads the leaf's subject.
fn identity_chain(name: &str) -> chain::ValidChain {
    use der::Decode as _;
    let der =
        sigscope::notation::truststore::split_certificates(&read(&format!("x509/identity/{name}"))).unwrap().remove(0);
    let cert = x509_cert::Certificate::from_der(&der).unwrap();
    let leaf_key = envelope::crypto::PublicKey::from_spki(&cert.tbs_certificate.subject_public_key_info).unwrap();
    let c = chain::ChainCert {
        der,
        subject: cert.tbs_certificate.subject.to_string(),
        not_before: now(),
        not_after: now(),
    };
    chain::ValidChain { certs: vec![c], leaf_key }
}

/// notation-go TestVerifyX509TrustedIdentities (x509/identity/).
#[test]
fn trusted_identities_as_notation_go() {
    let good = identity_chain("signing-cert.pem");
    let bad = identity_chain("bad-cert.pem");
    let matching = "x509.subject:C=US,O=SomeOrg,ST=WA";
    let other = "x509.subject:C=IND,O=SomeOrg,ST=TS";
    let custom = "nonX509Prefix:my-custom-identity";
    let cases: [(&chain::ValidChain, &[&str], bool); 10] = [
        (&good, &[matching], true),
        (&good, &[custom], false),
        (&good, &[matching, custom], true),
        (&good, &[matching, other], true),
        (&good, &[other], false),
        (&good, &[other, custom], false),
        (&good, &[other, "x509.subject:C=LOL,O=LOL,ST=LOL"], false),
        (&good, &["x509.subject:C=bad=#identity,O=LOL,ST=LOL"], false),
        (&good, &["*"], true),
        // The leaf subject holds "=#": it cannot be matched even by a matching identity.
        (&bad, &[matching], false),
    ];
    for (leaf, ids, ok) in cases {
        let doc = json!({"version": "1.0", "trustPolicies": [{
            "name": "identity", "registryScopes": ["*"], "signatureVerification": {"level": "strict"},
            "trustStores": ["ca:x"], "trustedIdentities": ids,
        }]});
        let st = match TrustPolicy::parse(&doc.to_string()) {
            Ok(p) => p.statements[0].clone(),
            // A malformed identity refused when the policy loads fails the same signature.
            Err(e) => {
                assert!(!ok, "{ids:?}: {e}");
                continue;
            }
        };
        let got = sigscope::notation::verifier::trusted_identity(&st, leaf);
        assert_eq!(got.is_ok(), ok, "{ids:?} on {}: {got:?}", leaf.leaf().subject);
        if std::ptr::eq(leaf, &bad) {
            assert!(got.unwrap_err().contains("=#"), "bad-cert fails on its subject, not on a mismatch");
        }
    }
}
