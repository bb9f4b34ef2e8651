//! `sigscope explain` replaying a rule's `attestations` against images built here in an OCI
//! layout: cosign `.att` DSSE envelopes signed with a P-256 key (a predicate that satisfies the
//! conditions, one that does not, one signed by another key, a statement about another image),
//! Notary attestations as referrers of an `artifactType`, signed with Notation under a root of
//! this test or not signed at all, under Kyverno's own test policies
//! (`tests/vectors/kyverno/cpol-notary-attestation-verification`,
//! `cpol-cosign-keyless-attestation-count`) with only the certificate swapped.

mod common;

use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::cmd::sigscope;
use common::layout::{Layout, MANIFEST};
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer as _;
use p256::pkcs8::EncodePublicKey;
use serde_json::{Value, json};

const SLSA: &str = "https://slsa.dev/provenance/v1";
const BUILDER: &str = "https://ci.example.com/builder";

fn public_pem(seed: u8) -> String {
    let sk = SigningKey::from_slice(&[seed; 32]).unwrap();
    sk.verifying_key().to_public_key_pem(p256::pkcs8::LineEnding::LF).unwrap()
}

/// A DSSE envelope over an in-toto statement about `subject_digest`, signed by `seed`'s key.
fn envelope(seed: u8, subject_digest: &str, predicate: Value) -> Vec<u8> {
    let statement = serde_json::to_vec(&json!({"_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "ghcr.io/acme/app", "digest": {"sha256": subject_digest.strip_prefix("sha256:").unwrap()}}],
        "predicateType": SLSA, "predicate": predicate}))
    .unwrap();
    let ptype = "application/vnd.in-toto+json";
    let mut pae = format!("DSSEv1 {} {ptype} {} ", ptype.len(), statement.len()).into_bytes();
    pae.extend_from_slice(&statement);
    let sk = SigningKey::from_slice(&[seed; 32]).unwrap();
    let sig: p256::ecdsa::Signature = sk.sign(&pae);
    let b64 = base64::engine::general_purpose::STANDARD;
    serde_json::to_vec(&json!({"payloadType": ptype, "payload": b64.encode(&statement),
        "signatures": [{"keyid": "", "sig": b64.encode(sig.to_der().as_bytes())}]}))
    .unwrap()
}

/// The `sha256-<hex>.att` tag of `image` holding `envelopes`, as cosign writes it.
fn attach_att(l: &mut Layout, image: &Value, envelopes: &[Vec<u8>]) {
    let config = l.blob(b"{}");
    let layers: Vec<Value> = envelopes
        .iter()
        .map(|e| {
            let b = l.blob(e);
            json!({"mediaType": "application/vnd.dsse.envelope.v1+json", "digest": b["digest"], "size": b["size"],
                "annotations": {"dev.cosignproject.cosign/signature": "", "predicateType": SLSA}})
        })
        .collect();
    let tag = format!("{}.att", image["digest"].as_str().unwrap().replace(':', "-"));
    l.manifest(
        &json!({"schemaVersion": 2, "mediaType": MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config["digest"], "size": config["size"]},
            "layers": layers}),
        Some(&tag),
    );
}

/// A referrer of `subject` of `artifact_type` whose one layer is `content`.
fn referrer(l: &mut Layout, subject: &Value, artifact_type: &str, content: &Value) -> Value {
    let empty = l.blob(b"{}");
    let layer = l.blob(&serde_json::to_vec(content).unwrap());
    let mut d = l.manifest(
        &json!({"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": artifact_type,
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty["digest"], "size": empty["size"]},
            "layers": [{"mediaType": "application/json", "digest": layer["digest"], "size": layer["size"]}],
            "subject": {"mediaType": MANIFEST, "digest": subject["digest"], "size": subject["size"]}}),
        None,
    );
    l.index.last_mut().unwrap()["artifactType"] = json!(artifact_type);
    d["artifactType"] = json!(artifact_type);
    d
}

/// A Notation signature (JWS) of `target` by `signer`, stored as its referrer.
fn notation_sign(l: &mut Layout, target: &Value, signer: &common::notary::Signer) {
    let desc: sigscope::oci::Descriptor =
        serde_json::from_value(json!({"mediaType": MANIFEST, "digest": target["digest"], "size": target["size"]}))
            .unwrap();
    let env = common::notary::jws(signer, &desc, &common::notary::Attrs::x509(chrono::Utc::now(), None)).bytes();
    let empty = l.blob(b"{}");
    let layer = l.blob(&env);
    l.manifest(
        &json!({"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": "application/vnd.cncf.notary.signature",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty["digest"], "size": empty["size"]},
            "layers": [{"mediaType": "application/jose+json", "digest": layer["digest"], "size": layer["size"]}],
            "subject": {"mediaType": MANIFEST, "digest": target["digest"], "size": target["size"]}}),
        None,
    );
    l.index.last_mut().unwrap()["artifactType"] = json!("application/vnd.cncf.notary.signature");
}

struct World {
    layout: Layout,
    root_pem: String,
    policies: tempfile::TempDir,
}

fn world() -> World {
    use common::notary::{Ca, SignKey, Signer, der_to_pem, leaf_params};
    let mut l = Layout::new();
    let good = l.image("good", json!({}));
    let failing = l.image("failing", json!({}));
    let elsewhere = l.image("elsewhere", json!({}));
    let other = l.image("other", json!({}));
    let predicate =
        |id: &str| json!({"buildDefinition": {"buildType": "container"}, "runDetails": {"builder": {"id": id}}});
    attach_att(&mut l, &good, &[envelope(31, good["digest"].as_str().unwrap(), predicate(BUILDER))]);
    attach_att(
        &mut l,
        &failing,
        &[envelope(31, failing["digest"].as_str().unwrap(), predicate("https://evil.example"))],
    );
    // Signed with the right key, but a statement about another image.
    attach_att(&mut l, &elsewhere, &[envelope(31, other["digest"].as_str().unwrap(), predicate(BUILDER))]);

    // Notary attestations of `good`: two signed under the root, one not signed at all.
    let root = Ca::root("attestation test root", 1, SignKey::p256(81));
    let key = SignKey::p256(82);
    let mut params = leaf_params("attestation test signer", 2);
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let leaf = root.issue(&params, &key);
    let signer = Signer { key, chain: vec![leaf, root.der.clone()] };
    let sbom = json!({"bomFormat": "CycloneDX", "specVersion": "1.5",
        "components": [{"name": "a", "licenses": [{"expression": "GPL-3.0"}]}, {"name": "b", "licenses": [{"expression": "GPL-3.0"}]}]});
    let r = referrer(&mut l, &good, "sbom/cyclone-dx", &sbom);
    notation_sign(&mut l, &r, &signer);
    let r = referrer(&mut l, &good, "vulnerability-scan", &json!({"source": {"type": "image"}, "results": []}));
    notation_sign(&mut l, &r, &signer);
    referrer(&mut l, &good, "application/vnd.example.unsigned", &json!({"ok": true}));
    l.finish();
    World { layout: l, root_pem: der_to_pem(&root.der), policies: tempfile::tempdir().unwrap() }
}

impl World {
    fn policy(&self, name: &str, text: &str) -> PathBuf {
        let p = self.policies.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn explain(&self, tag: &str, image: &str, policy: &Path, json: bool) -> (i32, String, String) {
        let target = format!("{}:{tag}", self.layout.path().display());
        let mut args = vec!["explain", "--oci-layout", &target, "--image", image];
        if json {
            args.extend(["-o", "json"]);
        }
        sigscope(&args).arg("--kyverno-policy").arg(policy).output()
    }

    /// A Cosign ClusterPolicy with one attestation of SLSA provenance checked with `pem`.
    fn cosign_policy(&self, name: &str, pem: &str, ignore_tlog: bool, expected_builder: &str) -> PathBuf {
        let key: String = pem.trim().lines().map(|l| format!("                {l}\n")).collect();
        let tlog = if ignore_tlog { "              rekor:\n                ignoreTlog: true\n" } else { "" };
        let text = [
            "apiVersion: kyverno.io/v1",
            "kind: ClusterPolicy",
            "metadata:",
            "  name: provenance",
            "spec:",
            "  validationFailureAction: Enforce",
            "  rules:",
            "  - name: slsa",
            "    match:",
            "      any:",
            "      - resources:",
            "          kinds: [Pod]",
            "    verifyImages:",
            "    - imageReferences: [\"ghcr.io/acme/*\"]",
            "      attestations:",
            &format!("      - type: {SLSA}"),
            "        attestors:",
            "        - entries:",
            "          - keys:",
            "              publicKeys: |-",
        ]
        .join("\n");
        let conditions = [
            "        conditions:",
            "        - all:",
            "          - key: \"{{ runDetails.builder.id }}\"",
            "            operator: Equals",
            &format!("            value: \"{expected_builder}\""),
            "            message: built elsewhere",
        ]
        .join("\n");
        self.policy(name, &format!("{text}\n{key}{tlog}{conditions}\n"))
    }

    /// Kyverno's upstream Notary attestation policy with this test's root as the ConfigMap's
    /// certificate.
    fn upstream_notary(&self, name: &str, edit: impl Fn(String) -> String) -> PathBuf {
        let text = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/vectors/kyverno/cpol-notary-attestation-verification/policy.yaml"),
        )
        .unwrap();
        let begin = text.find("    -----BEGIN CERTIFICATE-----").unwrap();
        let end = text.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
        let ours: String = self.root_pem.trim().lines().map(|l| format!("    {l}\n")).collect();
        let text = format!("{}{}{}", &text[..begin], ours.trim_end(), &text[end..]);
        self.policy(name, &edit(text))
    }
}

const APP: &str = "ghcr.io/acme/app:v1";
const KYVERNO_IMAGE: &str = "ghcr.io/kyverno/test-verify-image:signed";

fn parse(out: &str) -> Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_cosign_attestation_signed_with_the_key_whose_predicate_holds_is_allowed() {
    let w = world();
    let policy = w.cosign_policy("good.yaml", &public_pem(31), true, BUILDER);
    let (code, out, err) = w.explain("good", APP, &policy, false);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!(".attestations[0] type {SLSA}: pass")), "{out}");
    assert!(out.contains("verifies with the key, predicateType https://slsa.dev/provenance/v1"), "{out}");
    assert!(
        out.contains(&format!("conditions[0].all[0]: pass — key {{{{ runDetails.builder.id }}}} found \"{BUILDER}\"")),
        "each condition with the value found: {out}"
    );

    let (code, out, _) = w.explain("good", APP, &policy, true);
    assert_eq!(code, 0);
    let v = parse(&out);
    let a = &v["explanations"][0]["explanation"]["rules"][0]["attestations"][0];
    assert_eq!(a["type"], SLSA, "{v}");
    assert_eq!(a["outcome"], "pass");
    let entry = &a["sets"][0]["entries"][0];
    assert_eq!(entry["signature"]["outcome"], "pass", "{v}");
    let c = &entry["statements"][0]["conditions"]["conditions"][0];
    assert_eq!(c["found"], BUILDER, "{v}");
    assert_eq!(c["outcome"], "pass");

    // Without ignoreTlog Kyverno would also ask Rekor: not decided, never a pass.
    let tlog = w.cosign_policy("tlog.yaml", &public_pem(31), false, BUILDER);
    let (code, out, _) = w.explain("good", APP, &tlog, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not decided") && out.contains("Rekor"), "{out}");
}

#[test]
fn a_predicate_that_fails_a_condition_blocks_with_kyvernos_message_and_says_what_would_pass() {
    let w = world();
    let policy = w.cosign_policy("good.yaml", &public_pem(31), true, BUILDER);
    let (code, out, err) = w.explain("failing", APP, &policy, false);
    assert_eq!(code, 1, "{out}{err}");
    let summary = out.lines().last().unwrap();
    assert!(summary.starts_with("would block ghcr.io/acme/app:v1: ClusterPolicy provenance/slsa fails"), "{summary}");
    assert!(
        summary.contains("image attestations verification failed, verifiedCount: 0, requiredCount: 1, error: "),
        "{summary}"
    );
    assert!(
        summary.contains(&format!(
            "attestation checks failed for ghcr.io/acme/app:v1 and predicate {SLSA}: built elsewhere"
        )),
        "{summary}"
    );
    assert!(
        summary.contains("To pass: make the https://slsa.dev/provenance/v1 predicate satisfy conditions[0].all[0]")
            && summary.contains("\"https://evil.example\""),
        "{summary}"
    );
    assert!(
        out.contains("conditions[0].all[0]: FAIL — key {{ runDetails.builder.id }} found \"https://evil.example\""),
        "{out}"
    );
}

#[test]
fn another_key_or_a_statement_about_another_image_fails() {
    let w = world();
    let other_key = w.cosign_policy("other.yaml", &public_pem(32), true, BUILDER);
    let (code, out, _) = w.explain("good", APP, &other_key, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not verify with the key"), "{out}");
    assert!(out.contains("cosign attest --key"), "{out}");

    let policy = w.cosign_policy("good.yaml", &public_pem(31), true, BUILDER);
    let (code, out, _) = w.explain("elsewhere", APP, &policy, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no matching subject digest found"), "{out}");
    assert!(out.contains("To pass: attest this very image"), "{out}");

    // No .att tag at all.
    let (code, out, _) = w.explain("other", APP, &policy, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no cosign attestation") && out.contains("cosign attest --key"), "{out}");

    // Another predicate type than the statements carry.
    let text =
        std::fs::read_to_string(&policy).unwrap().replace(&format!("type: {SLSA}"), "type: https://example.com/other");
    let (code, out, _) = w.explain("good", APP, &w.policy("type.yaml", &text), false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("attestions not found for predicate type https://example.com/other"), "{out}");
}

#[test]
fn kyvernos_notary_attestation_policy_replays_with_this_tests_root() {
    let w = world();
    let policy = w.upstream_notary("notary.yaml", |t| t);
    let (code, out, err) = w.explain("good", KYVERNO_IMAGE, &policy, false);
    assert_eq!(code, 0, "upstream admits the pod: {out}{err}");
    assert!(out.contains(".attestations[0] type sbom/cyclone-dx: pass"), "{out}");
    assert!(out.contains(".attestations[1] type vulnerability-scan: pass"), "{out}");
    assert!(
        out.contains(
            "key {{ components[].licenses[].expression }} found [\"GPL-3.0\",\"GPL-3.0\"], AllIn [\"GPL-3.0\"]"
        ),
        "{out}"
    );
    assert!(out.contains("signed by CN=attestation test signer"), "the referrer's signer: {out}");

    // A license outside the list: the condition fails and the closing sentence names it.
    let strict = w.upstream_notary("strict.yaml", |t| t.replace("value: [\"GPL-3.0\"]", "value: [\"MIT\"]"));
    let (code, out, _) = w.explain("good", KYVERNO_IMAGE, &strict, false);
    assert_eq!(code, 1, "{out}");
    let summary = out.lines().last().unwrap();
    assert!(
        summary.contains(
            "attestation checks failed for ghcr.io/kyverno/test-verify-image:signed and predicate sbom/cyclone-dx"
        ),
        "{summary}"
    );
    assert!(summary.contains("To pass: make the sbom/cyclone-dx predicate satisfy conditions[0].all[0]"), "{summary}");

    // An unsigned referrer of the type fails; a type with no referrer says Kyverno's words.
    let unsigned = w.upstream_notary("unsigned.yaml", |t| {
        t.replace("type: vulnerability-scan", "type: application/vnd.example.unsigned")
            .replace("{{ source.type }}", "{{ ok }}")
            .replace("value: \"image\"", "value: true")
    });
    let (code, out, _) = w.explain("good", KYVERNO_IMAGE, &unsigned, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no Notation signature of"), "{out}");
    assert!(
        out.lines().last().unwrap().contains("sign the application/vnd.example.unsigned referrer with Notation"),
        "{out}"
    );
    let missing = w.upstream_notary("missing.yaml", |t| t.replace("type: vulnerability-scan", "type: no/such-type"));
    let (code, out, _) = w.explain("good", KYVERNO_IMAGE, &missing, false);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "no matching attestations found for image ghcr.io/kyverno/test-verify-image:signed with type no/such-type"
        ),
        "{out}"
    );
    assert!(out.contains("oras attach --artifact-type no/such-type"), "{out}");
}

#[test]
fn what_cannot_be_replayed_stays_not_decided() {
    let w = world();
    // Kyverno's keyless attestation test: Fulcio and Rekor are online services.
    let keyless = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors/kyverno/cpol-cosign-keyless-attestation-count/policy.yaml");
    let (code, out, err) = w.explain("good", "ghcr.io/kyverno/zulu:v0.0.14", &keyless, false);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not decided") && out.contains("keyless"), "{out}");
    assert!(
        !out.contains(": pass —") || !out.contains(".attestations[0] type https://slsa.dev/provenance/v0.2: pass"),
        "{out}"
    );

    // Kyverno's multi-attestation policy ("fail" upstream): validate.deny reads the SBOM's
    // metadata.timestamp, which this SBOM lacks — Kyverno's "Unknown key", so the rule fails.
    let multi = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/vectors/kyverno/cpol-notary-multi-attestations-fail/policy.yaml"),
    )
    .unwrap();
    let begin = multi.find("    -----BEGIN CERTIFICATE-----").unwrap();
    let end = multi.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
    let ours: String = w.root_pem.trim().lines().map(|l| format!("    {l}\n")).collect();
    let multi = format!("{}{}{}", &multi[..begin], ours.trim_end(), &multi[end..]);
    let (code, out, _) = w.explain("good", KYVERNO_IMAGE, &w.policy("multi.yaml", &multi), false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("would be blocked") && out.contains("failed to check deny conditions"), "{out}");
    assert!(out.contains("Unknown key \"metadata\""), "{out}");

    // A Kyverno JMESPath function in a condition: not replayed, naming it.
    let policy = w.cosign_policy("fn.yaml", &public_pem(31), true, BUILDER);
    let text = std::fs::read_to_string(&policy)
        .unwrap()
        .replace("{{ runDetails.builder.id }}", "{{ base64_decode(runDetails.builder.id) }}");
    let (code, out, _) = w.explain("good", APP, &w.policy("fn2.yaml", &text), false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not decided") && out.contains("base64_decode()"), "{out}");
}

/// `validate.deny` after the attestations pass: its conditions read each attestation's
/// predicate under its `name`; true denies with the policy's message, false admits; a key
/// missing along the path is Kyverno's error, which fails the rule too.
#[test]
fn validate_deny_reads_the_named_attestations() {
    let w = world();
    let base = std::fs::read_to_string(w.cosign_policy("base.yaml", &public_pem(31), true, BUILDER)).unwrap();
    let with_deny = |name: &str, key: &str, value: &str| {
        let text = base
            .replace(&format!("      - type: {SLSA}\n"), &format!("      - type: {SLSA}\n        name: prov\n"))
            + &[
                "      validate:",
                "        message: not a container build",
                "        deny:",
                "          conditions:",
                "            any:",
                &format!("            - key: \"{{{{ {key} }}}}\""),
                "              operator: NotEquals",
                &format!("              value: {value}"),
            ]
            .join("\n")
            + "\n";
        w.policy(name, &text)
    };
    let holds = with_deny("ok.yaml", "prov.buildDefinition.buildType", "container");
    let (code, out, err) = w.explain("good", APP, &holds, false);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("validate: pass — validate.deny: the deny conditions do not hold"), "{out}");

    let denies = with_deny("deny.yaml", "prov.buildDefinition.buildType", "vm");
    let (code, out, _) = w.explain("good", APP, &denies, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("validation in verifyImages failed: not a container build"), "{out}");
    assert!(out.contains("found \"container\""), "the value found: {out}");

    let missing = with_deny("missing.yaml", "prov.nothing.here", "x");
    let (code, out, _) = w.explain("good", APP, &missing, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("failed to check deny conditions"), "{out}");

    // Kyverno's own JMESPath functions: those sigscope has are evaluated, the others not decided.
    let upper = with_deny("up.yaml", "to_upper(prov.buildDefinition.buildType)", "CONTAINER");
    let (code, out, _) = w.explain("good", APP, &upper, false);
    assert_eq!(code, 0, "{out}");
    let function = with_deny("fn.yaml", "base64_decode(prov.buildDefinition.buildType)", "x");
    let (code, out, _) = w.explain("good", APP, &function, false);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not decided") && out.contains("base64_decode"), "a Kyverno function is not replayed: {out}");
}

/// A Cosign attestation checked with a `certificates.cert` entry: the certificate's key, as for
/// image signatures (Kyverno hands a lone cert to cosign as its key).
#[test]
fn a_cosign_attestation_checked_with_a_certificate() {
    use common::notary::{Ca, SignKey, der_to_pem, leaf_params};
    let w = world();
    let root = Ca::root("attestation cert root", 93, SignKey::p256(93));
    let cert_for = |seed: u8| {
        let mut params = leaf_params("attestation cosign signer", 94);
        params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
        der_to_pem(&root.issue(&params, &SignKey::P256(SigningKey::from_slice(&[seed; 32]).unwrap())))
    };
    let policy = |name: &str, cert: &str| {
        let text = std::fs::read_to_string(w.cosign_policy(name, &public_pem(31), true, BUILDER)).unwrap();
        let key_block: String = public_pem(31).trim().lines().map(|l| format!("                {l}\n")).collect();
        let cert_block: String = cert.trim().lines().map(|l| format!("                {l}\n")).collect();
        let text = text
            .replace(
                "          - keys:\n              publicKeys: |-\n",
                "          - certificates:\n              cert: |-\n",
            )
            .replace(&key_block, &cert_block);
        w.policy(name, &text)
    };
    let (code, out, err) = w.explain("good", APP, &policy("c.yaml", &cert_for(31)), false);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verify with the attestor's certificate"), "{out}");
    let (code, out, _) = w.explain("good", APP, &policy("o.yaml", &cert_for(32)), false);
    assert_eq!(code, 1, "another key's certificate: {out}");
}
