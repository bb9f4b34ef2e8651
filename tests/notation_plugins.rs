//! The verifier's extension points: verification plugins an envelope names, and trust stores
//! given in memory. A test plugin (here, under tests/) records what it was asked and answers
//! as each test wants; envelopes come from the test signer (tests/common/notary.rs).
//!
//! The signer chooses the plugin its envelope names, so the plugin is treated as the
//! attacker's pick: with none registered nothing changes, and a registered one that says
//! "pass" to everything must not rescue a signature the core checks fail.

mod common;

use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use common::notary::*;
use coset::cbor::value::Value as Cbor;
use coset::{Label, RegisteredLabelWithPrivate};
use serde_json::json;
use sigscope::notation::envelope::Scheme;
use sigscope::notation::envelope::headers::{VERIFICATION_PLUGIN, VERIFICATION_PLUGIN_MIN_VERSION};
use sigscope::notation::plugin::{
    Capability, PluginMetadata, Plugins, VerificationPlugin, VerifyRequest, VerifyResponse,
};
use sigscope::notation::policy::TrustPolicy;
use sigscope::notation::revocation::RevocationMode;
use sigscope::notation::truststore::{MemoryStores, NotationDirStores, TrustStores};
use sigscope::notation::verifier::{
    CheckKind, Outcome, SignatureInput, SignatureReport, SignatureVerdict, Verdict, Verifier, VerifierOptions,
};
use sigscope::oci::Descriptor;

const JWS: &str = "application/jose+json";
const COSE: &str = "application/cose";
const PLUGIN: &str = "com.example.signer";
const TENANT: &str = "com.example.signer.tenant";
const ARN: &str = "arn:aws:signer:us-west-2:123456789012:/signing-profiles/release";

fn at(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

/// Leaves are valid 2026-01-01..2027-01-01.
fn now() -> DateTime<Utc> {
    at(2026, 6, 1)
}

fn attrs() -> Attrs {
    Attrs::x509(at(2026, 5, 31), Some(at(2026, 12, 31)))
}

const POLICY: &str = r#"{"version": "1.0", "trustPolicies": [
  {"name": "any", "registryScopes": ["example.com/any"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:test"], "trustedIdentities": ["*"]},
  {"name": "subject", "registryScopes": ["example.com/subject"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:test"], "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Sigscope Test, CN=plugin signer"]},
  {"name": "mismatch", "registryScopes": ["example.com/mismatch"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:test"], "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Someone Else"]},
  {"name": "profile", "registryScopes": ["example.com/profile"], "signatureVerification": {"level": "strict"},
   "trustStores": ["ca:test"],
   "trustedIdentities": ["x509.subject: C=US, ST=WA, O=Someone Else",
                         "arn:aws:signer:us-west-2:123456789012:/signing-profiles/release"]},
  {"name": "audit", "registryScopes": ["example.com/audit"], "signatureVerification": {"level": "audit"},
   "trustStores": ["ca:test"], "trustedIdentities": ["*"]},
  {"name": "no-revocation", "registryScopes": ["example.com/no-revocation"],
   "signatureVerification": {"level": "strict", "override": {"revocation": "skip"}},
   "trustStores": ["ca:test"], "trustedIdentities": ["*"]}
]}"#;

type Answer = dyn Fn(&VerifyRequest) -> Result<VerifyResponse, String> + Send + Sync;

/// A plugin that answers with `answer` and keeps every request it got.
struct TestPlugin {
    metadata: PluginMetadata,
    answer: Box<Answer>,
    calls: Mutex<Vec<VerifyRequest>>,
}

impl TestPlugin {
    fn new(version: &str, capabilities: &[Capability], answer: Box<Answer>) -> Arc<TestPlugin> {
        let metadata =
            PluginMetadata { name: PLUGIN.into(), version: version.into(), capabilities: capabilities.to_vec() };
        Arc::new(TestPlugin { metadata, answer, calls: Mutex::default() })
    }

    /// Says "pass" to everything it is asked and claims to have processed every attribute:
    /// the most a hostile or sloppy plugin can say.
    fn approving() -> Arc<TestPlugin> {
        Self::new("1.2.0", &ALL, Box::new(approve))
    }

    fn calls(&self) -> Vec<VerifyRequest> {
        self.calls.lock().unwrap().clone()
    }
}

fn approve(request: &VerifyRequest) -> Result<VerifyResponse, String> {
    Ok(VerifyResponse {
        results: request.capabilities.iter().map(|c| (*c, Ok(format!("{} approved", c.name())))).collect(),
        processed_attributes: request.unprocessed_attributes.clone(),
    })
}

const ALL: [Capability; 2] = [Capability::TrustedIdentity, Capability::Revocation];

#[async_trait::async_trait]
impl VerificationPlugin for TestPlugin {
    fn metadata(&self) -> PluginMetadata {
        self.metadata.clone()
    }

    async fn verify_signature(&self, request: &VerifyRequest) -> Result<VerifyResponse, String> {
        self.calls.lock().unwrap().push(request.clone());
        (self.answer)(request)
    }
}

struct World {
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    _cache: tempfile::TempDir,
    policy: TrustPolicy,
    root: Ca,
    signer: Signer,
    untrusted: Signer,
    image: Descriptor,
}

impl World {
    fn new() -> World {
        let root = Ca::root("Plugin Test Root", 1, SignKey::p256(1));
        let inter = root.intermediate("Plugin Test Intermediate", 2, SignKey::p256(2));
        let key = SignKey::p256(10);
        let signer = Signer {
            chain: vec![inter.issue(&leaf_params("plugin signer", 10), &key), inter.der.clone(), root.der.clone()],
            key,
        };
        let other = Ca::root("Untrusted Root", 20, SignKey::p256(20));
        let key = SignKey::p256(21);
        let untrusted = Signer { chain: vec![other.issue(&leaf_params("plugin signer", 21), &key), other.der], key };
        let dir = tempfile::tempdir().unwrap();
        write_store(dir.path(), "ca", "test", &[&root.der]);
        World {
            rt: tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap(),
            dir,
            _cache: tempfile::tempdir().unwrap(),
            policy: TrustPolicy::parse(POLICY).unwrap(),
            root,
            signer,
            untrusted,
            image: Descriptor {
                media_type: "application/vnd.oci.image.manifest.v1+json".into(),
                digest: format!("sha256:{}", "a".repeat(64)),
                size: 1234,
                ..Descriptor::default()
            },
        }
    }

    fn options(&self, plugins: Plugins) -> VerifierOptions {
        VerifierOptions { revocation: RevocationMode::Offline { cache_dir: self._cache.path().to_path_buf() }, plugins }
    }

    fn verifier(&self, plugin: Option<Arc<TestPlugin>>) -> Verifier {
        let mut plugins = Plugins::new();
        if let Some(p) = plugin {
            plugins.register(p);
        }
        let stores: Arc<dyn TrustStores> = Arc::new(NotationDirStores::new(self.dir.path()));
        Verifier::with_options(self.policy.clone(), stores, self.options(plugins))
    }

    fn verify_with(&self, verifier: &Verifier, statement: &str, media_type: &str, bytes: &[u8]) -> SignatureReport {
        let statement = self.policy.statement(statement).expect("statement");
        self.rt.block_on(verifier.verify_signature(statement, &self.image, media_type, bytes, now()))
    }

    fn verify(&self, plugin: &Arc<TestPlugin>, statement: &str, bytes: &[u8]) -> SignatureReport {
        self.verify_with(&self.verifier(Some(plugin.clone())), statement, JWS, bytes)
    }
}

/// A JWS by `s` for the world's image naming the plugin (and `min`), with the signed
/// attributes `extra` marked critical.
fn plugin_jws(w: &World, s: &Signer, min: Option<&str>, extra: &[(&str, &str)]) -> Jws {
    let mut h = jws_header(s.key.jws_alg(), &attrs());
    let crit = h["crit"].as_array_mut().unwrap();
    crit.push(json!(VERIFICATION_PLUGIN));
    if min.is_some() {
        crit.push(json!(VERIFICATION_PLUGIN_MIN_VERSION));
    }
    for (k, _) in extra {
        crit.push(json!(k));
    }
    h.insert(VERIFICATION_PLUGIN.into(), json!(PLUGIN));
    if let Some(v) = min {
        h.insert(VERIFICATION_PLUGIN_MIN_VERSION.into(), json!(v));
    }
    for (k, v) in extra {
        h.insert(k.to_string(), json!(v));
    }
    Jws::sign(&s.key, &serde_json::to_vec(&h).unwrap(), &payload(&w.image), &s.chain)
}

fn row(r: &SignatureReport, check: CheckKind) -> (Outcome, String) {
    let c = r.check(check).unwrap_or_else(|| panic!("no {check:?} row: {:#?}", r.checks));
    (c.outcome, c.reason.clone())
}

fn failed_at(r: &SignatureReport) -> Option<CheckKind> {
    match &r.verdict {
        SignatureVerdict::Failed { check, .. } => Some(*check),
        _ => None,
    }
}

#[test]
fn with_no_plugin_registered_the_signature_fails_closed_as_before() {
    let w = World::new();
    let bytes = plugin_jws(&w, &w.signer, Some("1.0.0"), &[]).bytes();
    let want = format!(
        "requires plugin {PLUGIN} (version ≥ 1.0.0), which sigscope does not implement; a signature that names a \
         verification plugin cannot be verified without it, so it fails closed"
    );
    // The convenience constructor, explicit empty options, and a registry holding only another
    // plugin all give today's report, at every level.
    let other = TestPlugin::new("1.0.0", &ALL, Box::new(approve));
    let mut only_other = Plugins::new();
    only_other.register(Arc::new(OtherName(other.clone())));
    let stores: Arc<dyn TrustStores> = Arc::new(NotationDirStores::new(w.dir.path()));
    let verifiers = [
        Verifier::new(w.policy.clone(), w.dir.path(), RevocationMode::Offline { cache_dir: w._cache.path().into() }),
        Verifier::with_options(w.policy.clone(), stores.clone(), w.options(Plugins::new())),
        Verifier::with_options(w.policy.clone(), stores, w.options(only_other)),
    ];
    for v in &verifiers {
        for statement in ["any", "audit"] {
            let r = w.verify_with(v, statement, JWS, &bytes);
            assert_eq!(row(&r, CheckKind::Integrity).0, Outcome::Pass, "{statement}");
            assert_eq!(row(&r, CheckKind::VerificationPlugin), (Outcome::FailEnforced, want.clone()), "{statement}");
            assert_eq!(failed_at(&r), Some(CheckKind::VerificationPlugin));
            for c in [CheckKind::Authenticity, CheckKind::TrustedIdentity, CheckKind::Revocation] {
                assert_eq!(row(&r, c).0, Outcome::NotRun, "{statement} {c:?}");
            }
        }
    }
    assert!(other.calls().is_empty(), "a plugin of another name is never asked");
}

/// Registered under another name than the one the envelope gives.
struct OtherName(Arc<TestPlugin>);

#[async_trait::async_trait]
impl VerificationPlugin for OtherName {
    fn metadata(&self) -> PluginMetadata {
        PluginMetadata { name: "com.example.other".into(), ..self.0.metadata() }
    }
    async fn verify_signature(&self, request: &VerifyRequest) -> Result<VerifyResponse, String> {
        self.0.verify_signature(request).await
    }
}

#[test]
fn a_registered_plugin_is_called_with_the_envelopes_data() {
    let w = World::new();
    let plugin = TestPlugin::approving();
    let bytes = plugin_jws(&w, &w.signer, Some("1.0.0"), &[(TENANT, "t-42")]).bytes();
    let r = w.verify(&plugin, "subject", &bytes);
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    let calls = plugin.calls();
    assert_eq!(calls.len(), 1);
    let req = &calls[0];
    assert_eq!(req.content_type, "application/vnd.cncf.notary.payload.v1+json");
    assert_eq!(req.signing_scheme, Scheme::X509);
    assert_eq!(req.signing_time, Some(at(2026, 5, 31)));
    assert_eq!(req.expiry, Some(at(2026, 12, 31)));
    assert_eq!(req.authentic_signing_time, None);
    assert_eq!(req.certificate_chain, w.signer.chain);
    assert!(req.extended_attributes.contains(&(TENANT.to_string(), "t-42".to_string())), "{req:?}");
    assert_eq!(req.unprocessed_attributes, [TENANT]);
    assert_eq!(req.trusted_identities, ["x509.subject:C=US,ST=WA,O=Sigscope Test,CN=plugin signer"]);
    assert_eq!(req.capabilities, ALL);
    // Its answers are in the report, next to the core checks' own.
    let (outcome, why) = row(&r, CheckKind::VerificationPlugin);
    assert_eq!(outcome, Outcome::Pass);
    assert!(why.contains(&format!("{PLUGIN} 1.2.0 was run")) && why.contains(TENANT), "{why}");
    let (outcome, why) = row(&r, CheckKind::TrustedIdentity);
    assert_eq!(outcome, Outcome::Pass);
    assert!(why.contains("matches x509.subject") && why.contains("trusted identity approved"), "{why}");
    assert!(row(&r, CheckKind::Revocation).1.contains("revocation approved"));

    // COSE carries the same data.
    let mut p = cose_protected(w.signer.key.cose_alg(), &attrs());
    p.rest.push((Label::Text(VERIFICATION_PLUGIN.into()), Cbor::Text(PLUGIN.into())));
    p.crit.push(RegisteredLabelWithPrivate::Text(VERIFICATION_PLUGIN.into()));
    let cose = cose_bytes(cose_sign(&w.signer.key, p, cose_unprotected(&w.signer.chain), &payload(&w.image)));
    let r = w.verify_with(&w.verifier(Some(plugin.clone())), "any", COSE, &cose);
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    let req = plugin.calls().pop().unwrap();
    assert_eq!((req.certificate_chain, req.signing_time), (w.signer.chain.clone(), Some(at(2026, 5, 31))));
    assert_eq!(req.trusted_identities, ["*"]);

    // A policy that skips revocation does not ask the plugin about it.
    let r = w.verify(&plugin, "no-revocation", &bytes);
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    assert_eq!(plugin.calls().pop().unwrap().capabilities, [Capability::TrustedIdentity]);
    assert_eq!(row(&r, CheckKind::Revocation).0, Outcome::Skipped);
}

#[test]
fn a_plugin_saying_pass_cannot_rescue_what_the_core_checks_fail() {
    let w = World::new();
    let plugin = TestPlugin::approving();
    let good = plugin_jws(&w, &w.signer, None, &[]);

    // Tampered: the payload swapped after signing, a flipped signature byte, another artifact.
    let mut swapped = good.clone();
    let other = Descriptor { digest: format!("sha256:{}", "b".repeat(64)), ..w.image.clone() };
    swapped.payload = base64_url(&payload(&other));
    let mut flipped = good.clone();
    let mut sig = flipped.raw_signature.clone();
    sig[5] ^= 1;
    flipped.signature = base64_url(&sig);
    let mut h = jws_header(w.signer.key.jws_alg(), &attrs());
    h["crit"].as_array_mut().unwrap().push(json!(VERIFICATION_PLUGIN));
    h.insert(VERIFICATION_PLUGIN.into(), json!(PLUGIN));
    let for_other = Jws::sign(&w.signer.key, &serde_json::to_vec(&h).unwrap(), &payload(&other), &w.signer.chain);
    for (what, bytes) in [
        ("swapped payload", swapped.bytes()),
        ("flipped signature", flipped.bytes()),
        ("other artifact", for_other.bytes()),
    ] {
        for statement in ["any", "audit"] {
            let r = w.verify(&plugin, statement, &bytes);
            assert_eq!(failed_at(&r), Some(CheckKind::Integrity), "{what} {statement}: {:#?}", r.checks);
            assert!(
                r.check(CheckKind::VerificationPlugin).is_none(),
                "{what}: the plugin row is only for sound envelopes"
            );
        }
    }
    assert!(plugin.calls().is_empty(), "a plugin is never asked about a signature that fails integrity");

    // Not chained to the trust store: strict stops before the plugin; audit only logs the
    // failure, and the plugin's "pass" leaves the row failed.
    let untrusted = plugin_jws(&w, &w.untrusted, None, &[]).bytes();
    let r = w.verify(&plugin, "any", &untrusted);
    assert_eq!(failed_at(&r), Some(CheckKind::Authenticity), "{:#?}", r.checks);
    assert!(plugin.calls().is_empty());
    let r = w.verify(&plugin, "audit", &untrusted);
    assert_eq!(row(&r, CheckKind::Authenticity).0, Outcome::FailLogged, "{:#?}", r.checks);
    assert_eq!(r.verdict, SignatureVerdict::VerifiedWithWarnings);
    assert_eq!(plugin.calls().len(), 1);

    // An x509.subject the leaf does not match is not the plugin's to excuse...
    let r = w.verify(&plugin, "mismatch", &good.bytes());
    let (outcome, why) = row(&r, CheckKind::TrustedIdentity);
    assert_eq!(outcome, Outcome::FailEnforced, "{why}");
    assert!(why.contains("does not match the x509 trusted identities"), "{why}");
    // ...but an identity only a plugin can read is (the AWS Signer profile case).
    let r = w.verify(&plugin, "profile", &good.bytes());
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    assert_eq!(plugin.calls().pop().unwrap().trusted_identities[1], ARN);

    // Expired: the plugin decides neither expiry nor the timestamp.
    let r = w.rt.block_on(w.verifier(Some(plugin.clone())).verify_signature(
        w.policy.statement("any").unwrap(),
        &w.image,
        JWS,
        &good.bytes(),
        at(2027, 1, 2),
    ));
    assert_eq!(failed_at(&r), Some(CheckKind::Expiry), "{:#?}", r.checks);
}

fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[test]
fn a_plugin_can_fail_a_signature_the_core_checks_pass() {
    let w = World::new();
    let bytes = plugin_jws(&w, &w.signer, None, &[]).bytes();
    let refuse = |capability: Capability| {
        TestPlugin::new(
            "1.2.0",
            &ALL,
            Box::new(move |req| {
                let mut r = approve(req)?;
                r.results.insert(capability, Err(format!("{} refused by the service", capability.name())));
                Ok(r)
            }),
        )
    };
    let r = w.verify(&refuse(Capability::TrustedIdentity), "any", &bytes);
    assert_eq!(failed_at(&r), Some(CheckKind::TrustedIdentity), "{:#?}", r.checks);
    assert_eq!(
        row(&r, CheckKind::TrustedIdentity).1,
        format!("verification plugin {PLUGIN}: trusted identity refused by the service")
    );
    let r = w.verify(&refuse(Capability::Revocation), "any", &bytes);
    assert_eq!(failed_at(&r), Some(CheckKind::Revocation), "{:#?}", r.checks);
    // The statement's action applies to what the plugin decides: audit logs a refused identity.
    let r = w.verify(&refuse(Capability::TrustedIdentity), "audit", &bytes);
    assert_eq!(row(&r, CheckKind::TrustedIdentity).0, Outcome::FailLogged, "{:#?}", r.checks);
}

/// What the plugin does, the plugin, the envelope, the check that must fail and why.
type Misbehaviour<'a> = (&'a str, Arc<TestPlugin>, &'a [u8], CheckKind, &'a str);

#[test]
fn a_plugin_that_misbehaves_fails_the_signature_at_every_level() {
    let w = World::new();
    let plain = plugin_jws(&w, &w.signer, None, &[]).bytes();
    let with_tenant = plugin_jws(&w, &w.signer, None, &[(TENANT, "t-42")]).bytes();
    let needs_two = plugin_jws(&w, &w.signer, Some("2.0.0"), &[]).bytes();
    let cases: Vec<Misbehaviour> = vec![
        (
            "errors",
            TestPlugin::new("1.2.0", &ALL, Box::new(|_| Err("service unavailable".into()))),
            &plain,
            CheckKind::VerificationPlugin,
            "failed: service unavailable",
        ),
        (
            "ignores an unknown critical attribute",
            TestPlugin::new(
                "1.2.0",
                &ALL,
                Box::new(|req| Ok(VerifyResponse { processed_attributes: vec![], ..approve(req)? })),
            ),
            &with_tenant,
            CheckKind::VerificationPlugin,
            "did not process the critical attribute(s) com.example.signer.tenant",
        ),
        (
            "gives no verdict",
            TestPlugin::new("1.2.0", &ALL, Box::new(|_| Ok(VerifyResponse::default()))),
            &plain,
            CheckKind::TrustedIdentity,
            "gave no trusted identity verdict",
        ),
        (
            "panics",
            TestPlugin::new("1.2.0", &ALL, Box::new(|_| panic!("test plugin panics on purpose"))),
            &plain,
            CheckKind::VerificationPlugin,
            "panicked, so the signature fails closed",
        ),
        (
            "is too old",
            TestPlugin::new("1.2.0", &ALL, Box::new(approve)),
            &needs_two,
            CheckKind::VerificationPlugin,
            "version ≥ 2.0.0, but version 1.2.0",
        ),
        (
            "has no version",
            TestPlugin::new("dev", &ALL, Box::new(approve)),
            &plain,
            CheckKind::VerificationPlugin,
            "not a semantic version",
        ),
        (
            "verifies nothing",
            TestPlugin::new("1.2.0", &[], Box::new(approve)),
            &plain,
            CheckKind::VerificationPlugin,
            "no signature verification capability",
        ),
    ];
    for (what, plugin, bytes, check, why) in cases {
        // Audit only logs authenticity; a plugin-level failure still fails the signature.
        let statements: &[&str] = if check == CheckKind::VerificationPlugin { &["any", "audit"] } else { &["any"] };
        for statement in statements {
            let r = w.verify(&plugin, statement, bytes);
            assert!(!r.passed(), "{what} {statement}: {:#?}", r.checks);
            assert_eq!(failed_at(&r), Some(check), "{what} {statement}: {:#?}", r.checks);
            let (outcome, reason) = row(&r, check);
            assert_eq!(outcome, Outcome::FailEnforced, "{what}");
            assert!(reason.contains(why), "{what}: {reason}");
        }
    }
}

#[test]
fn memory_stores_verify_as_the_directory_does() {
    let w = World::new();
    let mut memory = MemoryStores::new();
    memory.add("ca:test", der_to_pem(&w.root.der).as_bytes()).unwrap();
    let from_memory = Verifier::with_options(w.policy.clone(), Arc::new(memory), w.options(Plugins::new()));
    let from_dir = w.verifier(None);
    let good = jws(&w.signer, &w.image, &attrs()).bytes();
    let untrusted = jws(&w.untrusted, &w.image, &attrs()).bytes();
    for (bytes, statement) in [(&good, "any"), (&good, "mismatch"), (&untrusted, "any")] {
        let a = w.verify_with(&from_memory, statement, JWS, bytes);
        let b = w.verify_with(&from_dir, statement, JWS, bytes);
        // Every field of the report, as `verify -o json` would show it.
        assert_eq!(serde_json::to_value(&a).unwrap(), serde_json::to_value(&b).unwrap(), "{statement}");
    }
    assert_eq!(w.verify_with(&from_memory, "any", JWS, &good).verdict, SignatureVerdict::Verified);
    // A store the statement names but nobody gave fails authenticity, naming it.
    let only_other = {
        let mut m = MemoryStores::new();
        m.add("ca:other", der_to_pem(&w.root.der).as_bytes()).unwrap();
        m
    };
    let v = Verifier::with_options(w.policy.clone(), Arc::new(only_other), w.options(Plugins::new()));
    let input = SignatureInput { digest: "sha256:sig".into(), media_type: JWS.into(), envelope: Ok(good) };
    let report = w.rt.block_on(v.verify_artifact("example.com/any", &w.image, &[input], now()));
    let Verdict::Failed { check: Some(CheckKind::Authenticity), reason } = &report.verdict else {
        panic!("{:?}", report.verdict)
    };
    assert!(reason.contains("ca:test was not given to the verifier (stores given: ca:other)"), "{reason}");
}

/// A leaf with a CRL distribution point on a stand-in CA web server, signed now.
struct Revocable {
    server: common::fileserver::FileServer,
    root: Ca,
    signer: Signer,
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

const REVOCABLE_SERIAL: u64 = 0x52;

impl Revocable {
    fn new() -> Revocable {
        use time::OffsetDateTime;
        let server = common::fileserver::FileServer::start();
        let mut root_params = ca_params("Revocation Root", 1);
        root_params.not_before = OffsetDateTime::now_utc() - time::Duration::days(30);
        root_params.not_after = OffsetDateTime::now_utc() + time::Duration::days(3650);
        let root = Ca::root_with(root_params, SignKey::p256(101));
        let mut leaf = leaf_params("revocable signer", REVOCABLE_SERIAL);
        leaf.not_before = OffsetDateTime::now_utc() - time::Duration::days(1);
        leaf.not_after = OffsetDateTime::now_utc() + time::Duration::days(30);
        leaf.crl_distribution_points = vec![rcgen::CrlDistributionPoint { uris: vec![server.url("/leaf.crl")] }];
        let key = SignKey::p256(102);
        let signer = Signer { chain: vec![root.issue(&leaf, &key), root.der.clone()], key };
        let dir = tempfile::tempdir().unwrap();
        write_store(dir.path(), "ca", "test", &[&root.der]);
        Revocable { server, root, signer, dir, cache: tempfile::tempdir().unwrap() }
    }

    fn crl(&self, revoked: bool) -> Vec<u8> {
        use time::OffsetDateTime;
        let now = OffsetDateTime::now_utc();
        let params = rcgen::CertificateRevocationListParams {
            this_update: now - time::Duration::minutes(1),
            next_update: now + time::Duration::days(1),
            crl_number: rcgen::SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .then(|| rcgen::RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from(REVOCABLE_SERIAL),
                    revocation_time: now - time::Duration::minutes(1),
                    reason_code: Some(rcgen::RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .into_iter()
                .collect(),
            key_identifier_method: rcgen::KeyIdMethod::Sha256,
        };
        params.signed_by(&self.root.issuer).unwrap().der().to_vec()
    }

    fn verify(&self, plugin: &Arc<TestPlugin>) -> SignatureReport {
        let policy = TrustPolicy::parse(POLICY).unwrap();
        let mut plugins = Plugins::new();
        plugins.register(plugin.clone());
        let options = VerifierOptions {
            revocation: RevocationMode::Online {
                cache_dir: self.cache.path().to_path_buf(),
                timeout: std::time::Duration::from_secs(5),
            },
            plugins,
        };
        let verifier =
            Verifier::with_options(policy.clone(), Arc::new(NotationDirStores::new(self.dir.path())), options);
        let image = World::new().image;
        let mut h = jws_header(self.signer.key.jws_alg(), &Attrs::x509(Utc::now(), None));
        h["crit"].as_array_mut().unwrap().push(json!(VERIFICATION_PLUGIN));
        h.insert(VERIFICATION_PLUGIN.into(), json!(PLUGIN));
        let bytes =
            Jws::sign(&self.signer.key, &serde_json::to_vec(&h).unwrap(), &payload(&image), &self.signer.chain).bytes();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(verifier.verify_signature(policy.statement("any").unwrap(), &image, JWS, &bytes, Utc::now()))
    }
}

#[test]
fn a_plugin_cannot_unrevoke_a_certificate_but_settles_an_unknown_status() {
    let plugin = TestPlugin::approving();
    // The CRL says revoked: the plugin's "not revoked" does not count, and it is not asked.
    let w = Revocable::new();
    w.server.put("/leaf.crl", w.crl(true));
    let r = w.verify(&plugin);
    assert_eq!(failed_at(&r), Some(CheckKind::Revocation), "{:#?}", r.checks);
    assert!(row(&r, CheckKind::Revocation).1.contains("is revoked"));
    assert!(plugin.calls().is_empty(), "nothing is left to ask once the chain is revoked");

    // No CRL to be had (404): the status is unknown to sigscope, and the plugin that offers
    // revocation checking answers it.
    let w = Revocable::new();
    let r = w.verify(&plugin);
    assert_eq!(r.verdict, SignatureVerdict::Verified, "{:#?}", r.checks);
    let why = row(&r, CheckKind::Revocation).1;
    assert!(why.contains("revocation approved") && why.contains("revocation status is unknown"), "{why}");
    assert_eq!(plugin.calls().pop().unwrap().capabilities, ALL);

    // A good CRL and a plugin that says revoked: revoked.
    let refusing = TestPlugin::new(
        "1.2.0",
        &ALL,
        Box::new(|req| {
            let mut r = approve(req)?;
            r.results.insert(Capability::Revocation, Err("revoked by the signing service".into()));
            Ok(r)
        }),
    );
    let w = Revocable::new();
    w.server.put("/leaf.crl", w.crl(false));
    let r = w.verify(&refusing);
    assert_eq!(failed_at(&r), Some(CheckKind::Revocation), "{:#?}", r.checks);
    assert!(row(&r, CheckKind::Revocation).1.ends_with("revoked by the signing service"));
}
