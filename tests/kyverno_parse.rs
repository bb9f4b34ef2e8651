//! Every Kyverno denial sample and every policy file of `tests/vectors/kyverno/` read by the
//! kyverno room, checked against what the sample's `parse:` (or the upstream test) says.

use serde_norway::Value;
use sigscope::kyverno::cause::Cause;
use sigscope::kyverno::denial::{self, Denial, Form};
use sigscope::kyverno::matching::{ClusterMatch, Glob, cluster_policy_applies};
use sigscope::kyverno::policy::{self, AttestorKind, FailureAction, PolicySet, Support, VerifierType};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/kyverno");

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn samples(rel: &str) -> Vec<Value> {
    let doc: Value = serde_norway::from_str(&read(rel)).unwrap();
    doc["samples"].as_sequence().unwrap().clone()
}

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// The entry fields a sample can name, as (field, parsed value).
fn entry_fields(e: &denial::Entry) -> Vec<(&'static str, Option<String>)> {
    vec![
        ("policy", e.policy.clone()),
        ("rule", e.rule.clone()),
        ("image", e.image.clone()),
        ("attestor_path", e.attestor_path.clone()),
        ("cause", Some(e.cause.slug().to_string())),
    ]
}

/// Asserts every field the expectation names; returns how many it checked.
fn assert_entry(id: &str, want: &Value, got: &denial::Entry) -> usize {
    let mut n = 0;
    for (field, value) in entry_fields(got) {
        if let Some(w) = s(want, field) {
            assert_eq!(value.as_deref(), Some(w), "{id}: {field} in {got:#?}");
            n += 1;
        }
    }
    if want.get("message_is_policy_authored").and_then(Value::as_bool) == Some(true) {
        assert_eq!(got.cause, Cause::PolicyAuthored, "{id}");
        assert!(got.cause_note.unwrap().contains("policy author's own message"), "{id}");
        n += 1;
    }
    if want.get("real_cause_only_in_logs").is_some() {
        assert!(!got.cause.carried_by_denial(), "{id}: {got:#?}");
        assert!(got.cause_note.is_some(), "{id}: the denial must say it does not carry the cause");
        n += 1;
    }
    n
}

fn assert_envelope(id: &str, want: &Value, d: &Denial) -> usize {
    let mut n = 0;
    if let Some(w) = s(want, "webhook") {
        assert_eq!(d.webhook.as_deref(), Some(w), "{id}: webhook");
        n += 1;
    }
    if let Some(w) = s(want, "resource") {
        assert_eq!(d.resource.as_ref().map(|r| r.display()).as_deref(), Some(w), "{id}: resource");
        n += 1;
    }
    n
}

/// What a terminal does to a paste: hard wrap at `width` columns, cutting words.
fn hard_wrap(text: &str, width: usize) -> String {
    text.lines()
        .flat_map(|l| {
            let chars: Vec<char> = l.chars().collect();
            if chars.is_empty() {
                return vec![String::new()];
            }
            chars.chunks(width).map(|c| c.iter().collect::<String>()).collect()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn summary(d: &Denial) -> Vec<Vec<(&'static str, Option<String>)>> {
    d.entries.iter().map(entry_fields).collect()
}

/// A re-wrapped or re-indented paste must read exactly as the original.
fn assert_survives_rewrap(id: &str, text: &str, original: &Denial) {
    for width in [60, 72] {
        let wrapped = hard_wrap(text, width);
        let d = denial::parse(&wrapped).unwrap_or_else(|e| panic!("{id} wrapped at {width}: {e}"));
        assert_eq!(summary(&d), summary(original), "{id} wrapped at {width}:\n{wrapped}");
        assert_eq!(d.webhook, original.webhook, "{id} wrapped at {width}");
    }
    let indented: String = text.lines().map(|l| format!("    {l}\n")).collect();
    let d = denial::parse(&indented).unwrap();
    assert_eq!(summary(&d), summary(original), "{id} indented");
    let flattened: String = text.lines().map(|l| format!("{}\n", l.trim_start())).collect();
    let d = denial::parse(&flattened).unwrap();
    assert_eq!(summary(&d), summary(original), "{id} with indentation lost");
}

const IMG: &str = "ghcr.io/acme/app:v1";

fn instantiate(template: &str) -> String {
    template
        .replace("%s/%s/%s", "Pod/default/app")
        .replace("<YAML map policy -> rule -> message>", &format!("p:\n  r: unverified image {IMG}"))
        .replace("<attestorPath>[.keys|.certificates|.keyless]", ".attestors[0].entries[1].keyless")
        .replace("<verifier error>", "subject mismatch: expected a, received b")
        .replace("<image>", IMG)
        .replace("<n>", "0")
        .replace("<m>", "1")
        .replace("<path>", ".attestors[0].entries[0]")
        .replace("<type>", "https://slsa.dev/provenance/v0.2")
        .replace("<condition message>", "builder id mismatch")
        .replace("<validate.message>", "scan report should be created after sbom")
}

#[test]
fn every_upstream_sample_parses_as_its_parse_fields_say() {
    let (mut verbatim, mut templates, mut fields) = (0, 0, 0);
    for sample in samples("admission-denials.yaml") {
        let id = s(&sample, "id").unwrap();
        let text = s(&sample, "text").unwrap();
        if sample.get("inferred").and_then(Value::as_bool) == Some(true) {
            let d = denial::parse(&instantiate(text)).unwrap_or_else(|e| panic!("{id}: {e}"));
            let e = &d.entries[0];
            let want_cause = match id {
                "template-block-envelope" => {
                    assert_eq!(d.form, Form::ClusterPolicy);
                    assert_eq!(d.resource.as_ref().unwrap().display(), "Pod/default/app");
                    assert_eq!((e.policy.as_deref(), e.rule.as_deref()), (Some("p"), Some("r")));
                    Cause::RequiredButNotVerified
                }
                "template-attestor-failure" => {
                    assert_eq!(e.attestor_path.as_deref(), Some(".attestors[0].entries[1].keyless"));
                    Cause::IdentityMismatch
                }
                "template-attestation-failure" => {
                    assert_eq!(e.predicate_type.as_deref(), Some("https://slsa.dev/provenance/v0.2"));
                    assert_eq!(e.attestor_path.as_deref(), Some(".attestors[0].entries[0]"));
                    Cause::AttestationConditionFailed
                }
                "template-missing-digest" => Cause::MissingDigest,
                "template-unverified" => Cause::RequiredButNotVerified,
                "template-validate-deny" => Cause::ValidateDenyFailed,
                other => panic!("a template this test does not know: {other}"),
            };
            assert_eq!(e.cause, want_cause, "{id}");
            if text.contains("<image>") || id == "template-block-envelope" {
                assert_eq!(e.image.as_deref(), Some(IMG), "{id}");
            }
            templates += 1;
            continue;
        }
        let d = denial::parse(text).unwrap_or_else(|e| panic!("{id}: {e}"));
        let want = &sample["parse"];
        assert_eq!(d.entries.len(), 1, "{id}: {d:#?}");
        fields += assert_envelope(id, want, &d) + assert_entry(id, want, &d.entries[0]);
        assert_survives_rewrap(id, text, &d);
        verbatim += 1;
    }
    assert_eq!((verbatim, templates), (8, 6));
    // Every field the eight samples name, their notes aside.
    assert_eq!(fields, 27);
}

#[test]
fn every_generated_sample_parses_as_its_parse_fields_say() {
    let mut n = 0;
    for sample in samples("generated-denials.yaml") {
        let id = s(&sample, "id").unwrap();
        let text = s(&sample, "text").unwrap();
        let d = denial::parse(text).unwrap_or_else(|e| panic!("{id}: {e}"));
        let want = &sample["parse"];
        assert_envelope(id, want, &d);
        let entries = want["entries"].as_sequence().unwrap();
        assert_eq!(d.entries.len(), entries.len(), "{id}: {d:#?}");
        for (w, e) in entries.iter().zip(&d.entries) {
            assert_entry(id, w, e);
        }
        assert_survives_rewrap(id, text, &d);
        n += 1;
    }
    assert_eq!(n, 11);
}

#[test]
fn the_1_18_and_1_19_encodings_read_the_same() {
    let all = samples("generated-denials.yaml");
    let by_id = |id: &str| {
        let sample = all.iter().find(|x| s(x, "id") == Some(id)).unwrap();
        denial::parse(s(sample, "text").unwrap()).unwrap()
    };
    let (old, new) = (by_id("cpol-untrusted-multiline-1.18"), by_id("cpol-untrusted-multiline-1.19"));
    assert_eq!(old.entries[0].message, new.entries[0].message);
    assert!(old.entries[0].message.contains("signature verification failed\nfailed to verify signature"));
    assert!(old.entries[0].message.contains("signature's certificate chain"));
}

#[test]
fn garbage_and_cut_pastes_get_a_sentence() {
    for text in ["", "   \n", "kubectl: command not found", "Error from server (Forbidden): pods is forbidden"] {
        let e = denial::parse(text).unwrap_err();
        assert!(!e.to_string().is_empty());
    }
    assert!(denial::parse("pods is forbidden").unwrap_err().to_string().contains("could not find an image reference"));
    let text = s(&samples("admission-denials.yaml")[0], "text").unwrap().to_string();
    for cut in (0..text.len()).step_by(7) {
        let _ = denial::parse(&text[..cut]);
    }
}

fn load(rel: &str) -> PolicySet {
    policy::load(&read(rel), rel).unwrap_or_else(|e| panic!("{e}"))
}

fn pod_images(rel: &str) -> Vec<String> {
    let mut out = Vec::new();
    for de in serde_norway::Deserializer::from_str(&read(rel)) {
        let v: Value = serde::Deserialize::deserialize(de).unwrap();
        let spec = if v["kind"].as_str() == Some("Pod") { &v["spec"] } else { continue };
        for c in spec["containers"].as_sequence().unwrap() {
            out.push(c["image"].as_str().unwrap().to_string());
        }
    }
    out
}

#[test]
fn every_policy_file_loads() {
    let mut files = Vec::new();
    for dir in std::fs::read_dir(DIR).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|e| e == "yaml") {
                files.push(f.strip_prefix(DIR).unwrap().to_str().unwrap().trim_start_matches('/').to_string());
            }
        }
    }
    files.sort();
    let (mut cpol, mut ivpol) = (0, 0);
    for f in &files {
        let set = load(f);
        cpol += set.cluster_policies.len();
        ivpol += set.image_validating.len();
        if f.contains("/pod")
            || f.ends_with("resources.yaml")
            || f.ends_with("kyverno-test.yaml")
            || f.ends_with("chainsaw-test.yaml")
        {
            assert!(set.cluster_policies.is_empty() && set.image_validating.is_empty(), "{f}");
            assert!(!set.ignored.is_empty(), "{f}");
        } else {
            assert_eq!(set.cluster_policies.len() + set.image_validating.len(), 1, "{f}");
        }
    }
    assert_eq!(files.len(), 31, "{files:#?}");
    assert_eq!((cpol, ivpol), (11, 3));
}

#[test]
fn policies_say_what_the_upstream_files_say() {
    let set = load("cpol-notary-image-verification/policy.yaml");
    assert!(set.ignored.is_empty(), "{:?}", set.ignored);
    // The Namespace is kept for namespaceSelectors, with its name and labels.
    let names: Vec<_> = set.namespaces.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["notary-verify-images"]);
    // The ConfigMap the rule's context reads its certificate from is kept, with its data.
    let cm = &set.config_maps[0];
    assert_eq!((cm.name.as_str(), cm.namespace.as_deref()), ("keys", Some("notary-verify-images")));
    assert!(cm.data["certificate"].starts_with("-----BEGIN CERTIFICATE-----"), "{cm:?}");
    let p = &set.cluster_policies[0];
    assert_eq!(
        p.rules[0].context,
        [sigscope::kyverno::policy::ContextEntry::ConfigMap {
            name: "keys".into(),
            config_map: "keys".into(),
            namespace: Some("notary-verify-images".into())
        }]
    );
    assert_eq!((p.name.as_str(), p.api_version.as_str()), ("check-image-notary", "kyverno.io/v2beta1"));
    let vi = &p.rules[0].verify_images[0];
    assert_eq!(vi.verifier, VerifierType::Notary);
    assert_eq!(vi.failure_action, Some(FailureAction::Enforce));
    assert_eq!(vi.attestors[0].count, Some(1));
    assert!(matches!(&vi.attestors[0].entries[0].kind,
        AttestorKind::Certificates(c) if c.cert.as_deref() == Some("{{ keys.data.certificate }}")));

    let vi = &load("cpol-cosign-keyed-basic/policy.yaml").cluster_policies[0].rules[0].verify_images[0];
    let AttestorKind::Keys(k) = &vi.attestors[0].entries[0].kind else { panic!("keys") };
    assert!(k.public_keys.as_deref().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    assert!(k.rekor.as_ref().unwrap().ignore_tlog);

    let vi = &load("cpol-cosign-keyed-tsa/policy.yaml").cluster_policies[0].rules[0].verify_images[0];
    let AttestorKind::Keys(k) = &vi.attestors[0].entries[0].kind else { panic!("keys") };
    assert!(k.ctlog.as_ref().unwrap().tsa_cert_chain.as_deref().unwrap().contains("BEGIN CERTIFICATE"));

    let vi = &load("cpol-cosign-keyless-attestation-count/policy.yaml").cluster_policies[0].rules[0].verify_images[0];
    let a = &vi.attestations[0];
    assert_eq!(a.predicate_type, "https://slsa.dev/provenance/v0.2");
    assert_eq!((a.attestors[0].required_count(), a.attestors[0].entries.len()), (1, 2));
    assert!(matches!(&a.attestors[0].entries[0].kind,
        AttestorKind::Keyless(k) if k.subject.as_deref() == Some("invalid subject") && k.ctlog.as_ref().unwrap().ignore_sct));

    let vi = &load("cpol-verifydigest-only/policy.yaml").cluster_policies[0].rules[0].verify_images[0];
    assert!(vi.attestors.is_empty() && !vi.mutate_digest && vi.verify_digest && !vi.required);

    let p = &load("cpol-notary-multi-attestations-fail/policy.yaml").cluster_policies[0];
    assert_eq!(p.validation_failure_action, FailureAction::Enforce);
    let vi = &p.rules[0].verify_images[0];
    let names: Vec<_> = vi.attestations.iter().map(|a| a.name.clone().unwrap()).collect();
    assert_eq!(names, ["sbom", "scan"]);
    assert_eq!(vi.validate.as_ref().unwrap().message.as_deref(), Some("scan report should be created after sbom"));

    let vi = &load("cpol-notary-attestation-verification/policy.yaml").cluster_policies[0].rules[0].verify_images[0];
    let types: Vec<_> = vi.attestations.iter().map(|a| a.predicate_type.as_str()).collect();
    assert_eq!(types, ["sbom/cyclone-dx", "vulnerability-scan"]);
    assert!(vi.attestations.iter().all(|a| a.conditions.is_some()));

    let vi = &load("cli-cosign-static-key/policies.yaml").cluster_policies[0].rules[0].verify_images[0];
    assert!(vi.use_cache && vi.required && vi.mutate_digest);
    assert!(
        matches!(&vi.attestors[0].entries[0].kind, AttestorKind::Keys(k) if k.signature_algorithm.as_deref() == Some("sha256"))
    );

    let p = &load("policies-library/require-vulnerability-scan.yaml").cluster_policies[0];
    assert_eq!(p.validation_failure_action, FailureAction::Audit);
    assert_eq!(p.rules[0].verify_images[0].attestations[0].predicate_type, "cosign.sigstore.dev/attestation/vuln/v1");

    let ivp = &load("ivpol-notary-basic/policy.yaml").image_validating[0];
    assert_eq!(ivp.name, "ivpol-sample");
    assert_eq!(ivp.match_image_globs, ["ghcr.io/*"]);
    assert!(!ivp.required && !ivp.verify_digest && !ivp.mutate_digest);
    assert_eq!(ivp.attestors[0].kind, "notary");
    assert!(ivp.attestors[0].notary_certs.as_deref().unwrap().contains("BEGIN CERTIFICATE"));
    assert_eq!(ivp.validations.len(), 3);
    assert!(
        ivp.validations.iter().all(|v| matches!(v.support, Support::Unsupported(r) if r.contains("not supported yet")))
    );
    assert_eq!(ivp.validations[0].message.as_deref(), Some("failed to verify image with notary cert"));

    let ivp = &load("ivpol-cosign-keyless-slsa/policy.yaml").image_validating[0];
    assert_eq!(
        (ivp.attestations[0].via.as_str(), ivp.attestations[0].kind.as_str()),
        ("intoto", "https://slsa.dev/provenance/v1")
    );
    let ivp = &load("policies-library/verify-image-ivpol.yaml").image_validating[0];
    assert!(ivp.api_version.ends_with("v1alpha1"));
}

#[test]
fn pod_images_meet_the_policies_as_kyverno_matches_them() {
    // verify-exclude-refs: imageReferences ghcr.io/*, skipImageReferences ghcr.io/kyverno*.
    // Every pod of the scenario is under ghcr.io/kyverno, so Kyverno skips them all: "verified"
    // in pod-verified.yaml is admitted by the skip, not by a signature.
    let vi = load("cpol-notary-skip-image-reference/policy.yaml").cluster_policies[0].rules[0].verify_images[0].clone();
    for pod in ["pod-verified.yaml", "pod-skipped.yaml", "pod-bad.yaml"] {
        for image in pod_images(&format!("cpol-notary-skip-image-reference/{pod}")) {
            let m = cluster_policy_applies(&vi.image_references, &vi.skip_image_references, &image).unwrap();
            assert!(
                matches!(m, ClusterMatch::Skipped { ref pattern, .. } if pattern == "ghcr.io/kyverno*"),
                "{pod} {image}: {m:?}"
            );
        }
    }
    // The digest drops the tag before matching.
    let image = &pod_images("cpol-notary-skip-image-reference/pod-skipped.yaml")[0];
    let ClusterMatch::Skipped { normalised, .. } =
        cluster_policy_applies(&vi.image_references, &vi.skip_image_references, image).unwrap()
    else {
        panic!()
    };
    assert_eq!(
        normalised,
        "ghcr.io/kyverno/zulu@sha256:476b21f1a75dc90fac3579ee757f4607bb5546f476195cf645c54badf558c0db"
    );

    for (dir, pod) in [
        ("cpol-notary-image-verification", "pod-signed.yaml"),
        ("cpol-cosign-keyed-basic", "pod-signed.yaml"),
        ("cpol-cosign-keyed-tsa", "pod-tsa.yaml"),
        ("cpol-cosign-keyless-attestation-count", "pod.yaml"),
        ("cpol-verifydigest-only", "pod-with-digest.yaml"),
        ("cpol-verifydigest-only", "pod-without-digest.yaml"),
        ("cli-cosign-static-key", "resources.yaml"),
    ] {
        let set = load(&format!("{dir}/{}", if dir.starts_with("cli") { "policies.yaml" } else { "policy.yaml" }));
        let vi = &set.cluster_policies[0].rules[0].verify_images[0];
        for image in pod_images(&format!("{dir}/{pod}")) {
            let m = cluster_policy_applies(&vi.image_references, &vi.skip_image_references, &image).unwrap();
            assert!(matches!(m, ClusterMatch::Matched { .. }), "{dir}/{pod} {image}: {m:?}");
        }
    }

    let ivp = &load("ivpol-notary-basic/policy.yaml").image_validating[0];
    let glob = Glob::compile(&ivp.match_image_globs[0]).unwrap();
    for pod in ["pod-good.yaml", "pod-bad.yaml"] {
        for image in pod_images(&format!("ivpol-notary-basic/{pod}")) {
            assert_eq!(glob.matches(&image), Ok(true), "{pod} {image}");
        }
    }
}

#[test]
fn a_kubectl_list_of_the_policies_loads_as_the_files_do() {
    // As `kubectl get clusterpolicy -o yaml` prints them: one List, server fields added.
    let mut items = Vec::new();
    let mut from_files = Vec::new();
    for rel in [
        "cpol-notary-image-verification/policy.yaml",
        "cpol-cosign-keyed-tsa/policy.yaml",
        "cpol-cosign-keyless-attestation-count/policy.yaml",
        "policies-library/verify-image.yaml",
    ] {
        from_files.extend(load(rel).cluster_policies);
        for de in serde_norway::Deserializer::from_str(&read(rel)) {
            let mut v: Value = serde::Deserialize::deserialize(de).unwrap();
            if v["kind"].as_str() != Some("ClusterPolicy") {
                continue;
            }
            let m = v.as_mapping_mut().unwrap();
            m.insert("status".into(), serde_norway::from_str("{ready: true, conditions: []}").unwrap());
            let meta = m.get_mut("metadata").unwrap().as_mapping_mut().unwrap();
            meta.insert("resourceVersion".into(), "12345".into());
            meta.insert("uid".into(), "5d1c-…".into());
            items.push(v);
        }
    }
    let mut list = serde_norway::Mapping::new();
    list.insert("apiVersion".into(), "v1".into());
    list.insert("kind".into(), "List".into());
    list.insert("items".into(), Value::Sequence(items));
    list.insert("metadata".into(), serde_norway::from_str("{resourceVersion: ''}").unwrap());
    let text = serde_norway::to_string(&list).unwrap();
    let set = policy::load(&text, "kubectl").unwrap();
    assert_eq!(set.cluster_policies, from_files);
    assert!(set.ignored.is_empty());
}

#[test]
fn mangled_pastes_never_panic() {
    // Deterministic mutations of every sample: cuts, doubled and dropped lines, stray quotes,
    // multi-byte characters where indentation was.
    let mut texts: Vec<String> = Vec::new();
    for file in ["admission-denials.yaml", "generated-denials.yaml"] {
        texts.extend(samples(file).iter().map(|x| s(x, "text").unwrap().to_string()));
    }
    let mut seed: u64 = 0x5eed;
    let mut next = move |n: usize| {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % n.max(1)
    };
    let inserts = ["'", "\"", "\n", "\n\n", ":", " ", "é", "\u{3000}", "\t", "''", "|-\n", "Policy x failed: "];
    let mut parsed = 0;
    for round in 0..4000 {
        let mut t: Vec<char> = texts[round % texts.len()].chars().collect();
        for _ in 0..1 + next(6) {
            let at = next(t.len() + 1);
            match next(3) {
                0 => t.truncate(at),
                1 => t.splice(at..at, inserts[next(inserts.len())].chars()).for_each(drop),
                _ => {
                    if at < t.len() {
                        t.remove(at);
                    }
                }
            }
        }
        let text: String = t.into_iter().collect();
        if denial::parse(&text).is_ok() {
            parsed += 1;
        }
    }
    assert!(parsed > 2000, "most mangled pastes still read as a denial ({parsed} of 4000)");
}
