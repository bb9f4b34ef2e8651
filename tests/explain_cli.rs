//! `sigscope explain`, the binary as a user runs it: the demo's layout (real Notation
//! signatures: good, untrusted, expired, none) under a Kyverno Notary ClusterPolicy whose
//! attestor holds the demo's root, and real denials from Kyverno's documentation
//! (`tests/vectors/kyverno/admission-denials.yaml`).

mod common;

use std::path::{Path, PathBuf};

use common::cmd::sigscope;

const IMAGE: &str = "ghcr.io/acme/app:v1";

struct Demo {
    tmp: tempfile::TempDir,
}

impl Demo {
    fn new() -> Demo {
        let tmp = tempfile::tempdir().unwrap();
        sigscope::demo::export(tmp.path()).unwrap();
        Demo { tmp }
    }

    fn root_pem(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("notation/truststore/x509/ca/demo/demo-root-ca.pem")).unwrap()
    }

    /// A ClusterPolicy as Kyverno's docs write one, `attestors` given as YAML lines.
    fn policy(&self, name: &str, extra: &str, attestors: &str) -> PathBuf {
        let text = format!(
            "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nmetadata:\n  name: check-image\nspec:\n  \
             validationFailureAction: Enforce\n  rules:\n  - name: verify-notary\n    match:\n      any:\n      - \
             resources:\n          kinds: [Pod]\n    verifyImages:\n    - type: Notary\n      imageReferences: \
             [\"ghcr.io/acme/*\"]\n{extra}      attestors:\n{attestors}"
        );
        let path = self.tmp.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn cert_entry(&self, pem: &str) -> String {
        let body: String = pem.trim().lines().map(|l| format!("              {l}\n")).collect();
        format!("        - certificates:\n            cert: |-\n{body}")
    }

    fn root_policy(&self) -> PathBuf {
        self.policy("root.yaml", "", &format!("      - entries:\n{}", self.cert_entry(&self.root_pem())))
    }

    /// The TUI on the demo (verified with its own policy), with [`Demo::root_policy`] matching
    /// the demo's references (`docker.io/demo*`) loaded for `:explain`, loaded and started.
    fn tui_with_root_policy(&self) -> common::tui::Harness {
        let text = std::fs::read_to_string(self.root_policy()).unwrap().replace("ghcr.io/acme/*", "docker.io/demo*");
        let mut o = common::tui::options(Some(&common::tui::demo_notation(self.tmp.path())));
        o.kyverno_policies = Some(std::sync::Arc::new(sigscope::kyverno::policy::load(&text, "policy.yaml").unwrap()));
        let mut h = common::tui::Harness::with(sigscope::demo::opened(), o);
        h.run_effects();
        h
    }

    fn explain(&self, tag: &str, policy: &Path, extra: &[&str]) -> (i32, String, String) {
        let layout = format!("{}:{tag}", self.tmp.path().join("layout").display());
        let mut bin = sigscope(&["explain", "--oci-layout", &layout, "--image", IMAGE, "--kyverno-policy"]).arg(policy);
        for a in extra {
            bin = bin.arg(*a);
        }
        bin.output()
    }
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[test]
fn a_signature_under_the_attestors_root_is_allowed_and_the_rest_would_be_blocked() {
    let d = Demo::new();
    let policy = d.root_policy();
    let (code, out, err) = d.explain("signed", &policy, &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{IMAGE} is allowed")), "{out}");
    assert!(out.contains("matches   ghcr.io/acme/app:v1 ← imageReferences \"ghcr.io/acme/*\""), "{out}");

    let (code, out, err) = d.explain("untrusted", &policy, &[]);
    assert_eq!(code, 1, "{out}{err}");
    let summary = out.lines().last().unwrap();
    assert!(summary.starts_with(&format!("would block {IMAGE}: ClusterPolicy check-image/verify-notary")), "{out}");
    assert!(summary.contains(".attestors[0].entries[0].certificates"), "names the entry: {summary}");
    assert!(summary.contains("CN=untrusted example signer"), "names who signed what was found: {summary}");
    assert!(summary.contains("To pass: add the root certificate"), "{summary}");

    let (code, out, _) = d.explain("expired", &policy, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("fails expiry") && out.contains("sign the image again"), "{out}");

    let (code, out, _) = d.explain("unsigned", &policy, &["-o", "json"]);
    assert_eq!(code, 1);
    let v = json(&out);
    let e = &v["explanations"][0];
    assert!(e["digest"].as_str().unwrap().starts_with("sha256:f83fbe2db5ab"), "{v}");
    assert_eq!(e["explanation"]["admission"], "blocked");
    let entry = &e["explanation"]["rules"][0]["attestorSets"][0]["entries"][0];
    assert_eq!(entry["result"]["outcome"], "fail", "{v}");
    assert!(entry["result"]["reason"].as_str().unwrap().contains("no Notation signature"), "{v}");
}

#[test]
fn count_audit_skip_and_digest_change_the_decision_as_in_kyverno() {
    let d = Demo::new();
    let root = d.cert_entry(&d.root_pem());
    // A foreign certificate beside the demo root: both needed fails, one of two passes.
    let other = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/kyverno/cpol-notary-image-verification/policy.yaml"),
    )
    .unwrap();
    let begin = other.find("-----BEGIN CERTIFICATE-----").unwrap();
    let end = other.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----".len();
    let foreign: String = other[begin..end].lines().map(str::trim).collect::<Vec<_>>().join("\n");
    let both = d.policy("both.yaml", "", &format!("      - entries:\n{root}{}", d.cert_entry(&foreign)));
    let (code, out, _) = d.explain("signed", &both, &[]);
    assert_eq!(code, 1, "both entries are needed by default: {out}");
    assert!(out.contains(".attestors[0]: 2 of 2 entries needed, 1 passed: FAIL"), "{out}");
    let one =
        d.policy("one.yaml", "", &format!("      - count: 1\n        entries:\n{root}{}", d.cert_entry(&foreign)));
    let (code, out, _) = d.explain("signed", &one, &[]);
    assert_eq!(code, 0, "{out}");

    let audit = std::fs::read_to_string(d.root_policy()).unwrap().replace("Enforce", "Audit");
    let audit_path = d.tmp.path().join("audit.yaml");
    std::fs::write(&audit_path, audit).unwrap();
    let (code, out, _) = d.explain("untrusted", &audit_path, &[]);
    assert_eq!(code, 0, "Audit admits: {out}");
    assert!(out.contains("audit warning"), "{out}");

    let skip = d.policy(
        "skip.yaml",
        "      skipImageReferences: [\"ghcr.io/acme/app*\"]\n",
        &format!("      - entries:\n{root}"),
    );
    let (code, out, _) = d.explain("untrusted", &skip, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("skipImageReferences"), "{out}");

    let pinned = d.policy(
        "pinned.yaml",
        "      mutateDigest: false\n      verifyDigest: true\n",
        &format!("      - entries:\n{root}"),
    );
    let (code, out, _) = d.explain("signed", &pinned, &[]);
    assert_eq!(code, 1, "a tag without mutateDigest: {out}");
    assert!(out.contains("missing digest for ghcr.io/acme/app:v1"), "{out}");
}

/// The upstream policy reads its certificate from a ConfigMap through the rule's `context`
/// (`{{ keys.data.certificate }}`); with the ConfigMap in the files given, it is replayed; without
/// it, the rule is not decided, naming the ConfigMap to add — never allowed.
#[test]
fn configmap_variables_are_resolved_and_a_missing_one_is_not_decided() {
    let d = Demo::new();
    let upstream =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/kyverno/cpol-notary-image-verification/policy.yaml");
    let layout = format!("{}:signed", d.tmp.path().join("layout").display());
    let run = |policy: &Path| {
        sigscope(&[
            "explain",
            "--oci-layout",
            &layout,
            "--image",
            "ghcr.io/kyverno/test-verify-image:signed",
            "--kyverno-policy",
        ])
        .arg(policy)
        .output()
    };
    let (code, out, err) = run(&upstream);
    assert_eq!(code, 1, "{out}{err}");
    // The certificate from the ConfigMap was used: the demo's signatures are checked against it.
    assert!(out.contains("none of the 2 Notation signature(s) verifies against these certificates"), "{out}");
    assert!(out.contains("would be blocked"), "{out}");
    // The same policy without its ConfigMap.
    let text = std::fs::read_to_string(&upstream).unwrap();
    let without: Vec<&str> = text.split("\n---\n").filter(|doc| !doc.contains("kind: ConfigMap")).collect();
    let alone = d.tmp.path().join("alone.yaml");
    std::fs::write(&alone, without.join("\n---\n")).unwrap();
    let (code, out, err) = run(&alone);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("not decided"), "{out}");
    assert!(out.contains("reads the ConfigMap notary-verify-images/keys"), "{out}");
}

#[test]
fn a_pasted_denial_is_taken_apart() {
    let samples: serde_json::Value = serde_norway::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/kyverno/admission-denials.yaml"),
        )
        .unwrap(),
    )
    .unwrap();
    let text = samples["samples"][0]["text"].as_str().unwrap();
    let (code, out, err) = sigscope(&["explain", "--denial", "-", "-o", "json"]).stdin(text).output();
    assert_eq!(code, 1, "a denial says the Pod was blocked: {out}{err}");
    let v = json(&out);
    assert_eq!(v["denial"]["resource"]["name"], "test");
    assert_eq!(v["denial"]["entries"][0]["policy"], "check-image-notary");
    assert_eq!(v["denial"]["entries"][0]["cause"], "no-signature");
    assert_eq!(v["denial"]["entries"][0]["image"], "ghcr.io/kyverno/test-verify-image:unsigned");
    let (code, out, _) = sigscope(&["explain", "--denial", text]).output();
    assert_eq!(code, 1);
    assert!(out.contains("cause     no-signature") && out.contains("--kyverno-policy"), "{out}");
}

/// A rule's `match` decides before any image is looked at: a Pod outside the namespaces it
/// matches is not checked by it; a namespace not known leaves a failing rule "not decided",
/// never allowed; the pasted denial's resource is the one replayed.
#[test]
fn the_rules_match_block_is_replayed_for_the_resource() {
    let d = Demo::new();
    let root = d.cert_entry(&d.root_pem());
    let text = std::fs::read_to_string(d.policy("p.yaml", "", &format!("      - entries:\n{root}"))).unwrap();
    let prod = d.tmp.path().join("prod.yaml");
    std::fs::write(&prod, text.replace("kinds: [Pod]", "kinds: [Pod]\n          namespaces: [\"prod-*\"]")).unwrap();
    let (code, out, _) = d.explain("untrusted", &prod, &["--namespace", "prod-eu"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("admitting a Pod in namespace prod-eu"), "{out}");
    let (code, out, _) = d.explain("untrusted", &prod, &["--namespace", "dev"]);
    assert_eq!(code, 0, "the rule does not match a Pod in dev: {out}");
    assert!(out.contains("does not apply") && out.contains("namespaces [prod-*]"), "{out}");
    let (code, out, _) = d.explain("untrusted", &prod, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not decided") && out.contains("if it applies") && out.contains("--namespace"), "{out}");

    // exclude, through a namespaceSelector over a Namespace given beside the policy.
    let excl = d.tmp.path().join("excl.yaml");
    std::fs::write(
        &excl,
        text.replace(
            "    verifyImages:",
            "    exclude:\n      any:\n      - resources:\n          namespaceSelector:\n            matchLabels:\n              \
             tier: system\n    verifyImages:",
        ) + "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: infra\n  labels:\n    tier: system\n",
    )
    .unwrap();
    let (code, out, _) = d.explain("untrusted", &excl, &["--namespace", "infra"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("exclude"), "{out}");
    let (code, out, _) = d.explain("untrusted", &excl, &["--namespace", "shop"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("kubectl get namespace shop"), "the labels to add: {out}");
}

#[test]
fn usage_and_policy_errors_are_exit_2() {
    let d = Demo::new();
    let layout = format!("{}:signed", d.tmp.path().join("layout").display());
    let (code, _, err) = sigscope(&["explain", "--oci-layout", &layout]).output();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--kyverno-policy"), "{err}");
    let bad = d.tmp.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec: [").unwrap();
    let (code, _, err) = d.explain("signed", &bad, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.yaml"), "the file is named: {err}");
    let (code, _, err) = sigscope(&["explain", "--denial", "nothing to see here"]).output();
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = sigscope(&["explain"]).output();
    assert_eq!(code, 2, "{err}");
}

/// `:explain` in the TUI (the harness runs its effects for real): the demo's `untrusted` tag,
/// not loaded yet, is loaded, replayed under a policy whose attestor holds the demo's root, and
/// the Kyverno panel says it would be blocked and why, at both sizes; `signed` is allowed.
#[test]
fn explain_in_the_tui_replays_the_selected_tag() {
    use common::tui::{screen_text, tag_node};
    use crossterm::event::KeyCode;
    let d = Demo::new();
    let mut h = d.tui_with_root_policy();
    for (tag, says) in [("untrusted", "demo:untrusted: would be blocked"), ("signed", "demo:signed: allowed")] {
        let id = tag_node(&h, tag);
        h.select(id);
        h.chars(":explain");
        h.key(KeyCode::Enter);
        h.run_effects();
        for (w, ht) in [(80, 24), (120, 40)] {
            // At 80 columns the panel is short: its title shows, the text is checked at 120.
            let screen = screen_text(&h.render(w, ht));
            assert!(screen.contains("Kyverno"), "the panel at {w}x{ht}:\n{screen}");
            if w == 120 {
                assert!(screen.contains(says), "{tag} at {w}x{ht}:\n{screen}");
            }
        }
    }
    let untrusted = tag_node(&h, "untrusted");
    h.select(untrusted);
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("CN=untrusted example"), "the signer found is named:\n{screen}");
    // Every image a tag names carries its verdict on its row, as a glyph and a word.
    let wide = screen_text(&h.render(200, 40));
    let row = |s: &str, tag: &str| {
        let image = h.child(tag_node(&h, tag), 0);
        let short = &h.app.tree.graph.node(image).digest().unwrap().to_string()[7..19];
        s.lines().find(|l| l.contains(short) && l.contains("image")).unwrap_or_default().to_string()
    };
    assert!(row(&wide, "untrusted").contains("kyverno ✗ blocked"), "{wide}");
    assert!(row(&wide, "signed").contains("kyverno ✓ allowed"), "{wide}");
    // `v` goes back to the details.
    h.key(KeyCode::Char('v'));
    assert!(!screen_text(&h.render(120, 40)).contains("Kyverno ·"));
}

/// Without --kyverno-policy, `:explain` says how to give them, in the panel.
#[test]
fn explain_in_the_tui_without_policies_says_how_to_load_them() {
    use common::tui::{Harness, options, screen_text};
    use crossterm::event::KeyCode;
    let mut h = Harness::with(sigscope::demo::opened(), options(None));
    h.run_effects();
    h.chars(":explain");
    h.key(KeyCode::Enter);
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("--kyverno-policy"), "{screen}");
}

/// `:explain TEXT`: the pasted denial is taken apart in the panel, and the image it names,
/// found in the tree by its reference, is selected and replayed.
#[test]
fn explain_in_the_tui_takes_a_pasted_denial_apart_and_replays_its_image() {
    use common::tui::{screen_text, tag_node};
    use crossterm::event::KeyCode;
    let d = Demo::new();
    let mut h = d.tui_with_root_policy();
    let denial = "admission webhook \"validate.kyverno.svc-fail\" denied the request: resource Pod/prod/web was \
                  blocked due to the following policies check-image: check-image: 'failed to verify image \
                  demo:untrusted: .attestors[0].entries[0]: failed to verify demo@sha256:2bf5ad71c534: the \
                  signature''s certificate chain does not contain any trusted certificate'";
    h.chars(&format!(":explain {denial}"));
    h.key(KeyCode::Enter);
    h.run_effects();
    assert_eq!(h.app.selected(), Some(tag_node(&h, "untrusted")), "the denial's image is selected");
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("The denial says:") && screen.contains("Pod/prod/web"), "{screen}");
    assert!(screen.contains("untrusted-certificate"), "the cause the text names:\n{screen}");
    assert!(screen.contains("demo:untrusted: would be blocked"), "and the replay:\n{screen}");
    assert!(screen.contains("admitting Pod prod/web"), "replayed for the denial's resource:\n{screen}");
}

/// A denial pasted into the terminal (bracketed paste) opens `:explain` with it, its lines
/// joined; Enter runs it.
#[test]
fn a_pasted_denial_opens_explain_and_enter_runs_it() {
    use common::tui::{screen_text, tag_node};
    use crossterm::event::KeyCode;
    use sigscope::tui::Msg;
    let d = Demo::new();
    let mut h = d.tui_with_root_policy();
    let pasted = "Error from server: admission webhook \"mutate.kyverno.svc-fail\" denied the request:\n\nresource \
                  Pod/default/web was blocked due to the following policies\n\ncheck-image:\n  check-image: 'failed \
                  to verify image demo:untrusted:\n    .attestors[0].entries[0]: failed to verify demo@sha256:2bf5:\n    \
                  the signature''s certificate chain does not contain any trusted certificate'\n";
    h.send(Msg::Paste(pasted.into()));
    let sigscope::tui::app::Mode::Command(line) = &h.app.mode else { panic!("no prompt: {:?}", h.app.mode) };
    assert!(line.text().starts_with("explain Error from server:") && !line.text().contains('\n'), "{}", line.text());
    h.key(KeyCode::Enter);
    h.run_effects();
    assert_eq!(h.app.selected(), Some(tag_node(&h, "untrusted")));
    let screen = screen_text(&h.render(120, 40));
    assert!(screen.contains("Pod/default/web") && screen.contains("would be blocked"), "{screen}");
}

/// Adds a cosign signature of the layout's `tag` image, signed by `seed`'s P-256 key, as cosign
/// stores it (the `sha256-<hex>.sig` tag, a simple-signing layer with its signature annotation);
/// returns the public key's PEM of `pem_seed`.
fn cosign_sign(layout: &Path, tag: &str, seed: u8, pem_seed: u8) -> String {
    cosign_sign_with(layout, tag, seed, pem_seed, None)
}

/// [`cosign_sign`], the layer also carrying `certificate` as its certificate annotation.
fn cosign_sign_with(layout: &Path, tag: &str, seed: u8, pem_seed: u8, certificate: Option<&str>) -> String {
    cosign_sign_as(layout, tag, seed, pem_seed, certificate, false)
}

/// `oci11`: stored as cosign's `--registry-referrers-mode=oci-1-1` stores it, a referrer of the
/// image (config media type cosign's signature artifact type, no `.sig` tag).
fn cosign_sign_as(layout: &Path, tag: &str, seed: u8, pem_seed: u8, certificate: Option<&str>, oci11: bool) -> String {
    use base64::Engine as _;
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer;
    use p256::pkcs8::EncodePublicKey;
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let digest = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == tag)
        .unwrap()["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let payload =
        serde_json::to_vec(&serde_json::json!({"critical": {"identity": {"docker-reference": "ghcr.io/acme/app"},
        "image": {"docker-manifest-digest": digest}, "type": "cosign container image signature"}, "optional": null}))
        .unwrap();
    let sk = SigningKey::from_slice(&[seed; 32]).unwrap();
    let sig: p256::ecdsa::Signature = sk.sign(&payload);
    let layer = common::layout::put_blob(layout, &payload);
    let config = common::layout::put_blob(layout, b"{}");
    let manifest = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config["digest"], "size": config["size"]},
        "layers": [{"mediaType": "application/vnd.dev.cosign.simplesigning.v1+json", "digest": layer["digest"],
            "size": layer["size"], "annotations": {"dev.cosignproject.cosign/signature":
            base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())}}]}));
    let mut manifest: serde_json::Value = serde_json::from_slice(&manifest.unwrap()).unwrap();
    if let Some(c) = certificate {
        manifest["layers"][0]["annotations"]["dev.sigstore.cosign/certificate"] = c.into();
    }
    if oci11 {
        let image = index["manifests"].as_array().unwrap().iter().find(|m| m["digest"] == digest.as_str()).unwrap();
        manifest["config"]["mediaType"] = "application/vnd.dev.cosign.artifact.sig.v1+json".into();
        manifest["subject"] =
            serde_json::json!({"mediaType": image["mediaType"], "digest": digest, "size": image["size"]});
    }
    let manifest = serde_json::to_vec(&manifest).unwrap();
    let m = common::layout::put_blob(layout, &manifest);
    let mut index = index;
    let mut entry = serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m["digest"], "size": m["size"]});
    if !oci11 {
        entry["annotations"] =
            serde_json::json!({"org.opencontainers.image.ref.name": format!("{}.sig", digest.replace(':', "-"))});
    }
    index["manifests"].as_array_mut().unwrap().push(entry);
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    let pk = SigningKey::from_slice(&[pem_seed; 32]).unwrap();
    pk.verifying_key().to_public_key_pem(p256::pkcs8::LineEnding::LF).unwrap()
}

/// Kyverno's Cosign verifier with a static key: a cosign signature by the attestor's key passes
/// (with `rekor.ignoreTlog`), another key's fails, and without ignoreTlog the transparency log
/// Kyverno would also ask for is said as not replayed.
#[test]
fn cosign_static_keys_are_replayed() {
    let d = Demo::new();
    let layout = d.tmp.path().join("layout");
    // `signed` has the demo's own cosign signature already; these tags have none.
    let good = cosign_sign(&layout, "expired", 21, 21);
    let policy = |name: &str, pem: &str, tlog: &str| {
        let body: String = pem.trim().lines().map(|l| format!("              {l}\n")).collect();
        let text = std::fs::read_to_string(d.policy(
            name,
            "",
            &format!("      - entries:\n        - keys:\n            publicKeys: |-\n{body}{tlog}"),
        ))
        .unwrap()
        .replace("type: Notary", "type: Cosign");
        std::fs::write(d.tmp.path().join(name), text).unwrap();
        d.tmp.path().join(name)
    };
    let ignore = "            rekor:\n              ignoreTlog: true\n";
    let (code, out, err) = d.explain("expired", &policy("k.yaml", &good, ignore), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verifies with the key"), "{out}");
    let other = cosign_sign(&layout, "untrusted", 22, 23);
    let (code, out, _) = d.explain("untrusted", &policy("o.yaml", &other, ignore), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("does not verify with the key") && out.contains("cosign sign --key"), "{out}");
    let (code, out, _) = d.explain("unsigned", &policy("u.yaml", &good, ignore), &[]);
    assert_eq!(code, 1);
    assert!(out.contains("no cosign signature"), "{out}");
    let (code, out, _) = d.explain("expired", &policy("t.yaml", &good, ""), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not decided") && out.contains("Rekor"), "{out}");
    // Signed with the key, but carrying a certificate for another key: cosign compares them only
    // on its way to Rekor, so with ignoreTlog Kyverno admits it (sigscope's own verify refuses it).
    let stranger = sigscope::demo::keys::untrusted_signer().leaf_pem();
    let keyed = cosign_sign_with(&layout, "tampered", 24, 24, Some(&stranger));
    let (code, out, _) = d.explain("tampered", &policy("c.yaml", &keyed, ignore), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("which Kyverno does not compare"), "{out}");
    // A certificate beside the signature that has expired: no Rekor or timestamp time, so cosign
    // refuses it ("expected a signed timestamp").
    let expired = {
        use common::notary::{Ca, SignKey, der_to_pem, leaf_params};
        let root = Ca::root("expired cert root", 91, SignKey::p256(91));
        let mut params = leaf_params("expired cosign signer", 92);
        params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
        params.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(1);
        der_to_pem(&root.issue(&params, &SignKey::P256(p256::ecdsa::SigningKey::from_slice(&[29; 32]).unwrap())))
    };
    let old = cosign_sign_with(&layout, "unsigned", 29, 29, Some(&expired));
    let (code, out, _) = d.explain("unsigned", &policy("x.yaml", &old, ignore), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("expected a signed timestamp to verify an expired certificate"), "{out}");

    // cosignOCI11: the signature stored as an OCI 1.1 referrer counts only for a rule that says
    // so; a failing referrer falls back to the .sig tag, as cosign does.
    let referred = cosign_sign_as(&layout, "multiarch", 25, 25, None, true);
    let oci11 = |name: &str, pem: &str| {
        let path = policy(name, pem, ignore);
        let text =
            std::fs::read_to_string(&path).unwrap().replace("type: Cosign", "type: Cosign\n      cosignOCI11: true");
        std::fs::write(&path, text).unwrap();
        path
    };
    let (code, out, err) = d.explain("multiarch", &oci11("r.yaml", &referred), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verifies with the key"), "{out}");
    let (code, out, _) = d.explain("multiarch", &policy("n.yaml", &referred, ignore), &[]);
    assert_eq!(code, 1, "without cosignOCI11 the referrer is not read: {out}");
    assert!(out.contains("no cosign signature"), "{out}");
    // A referrer by another key, and the good signature in the .sig tag: the fallback finds it.
    cosign_sign_as(&layout, "expired", 26, 26, None, true);
    let (code, out, err) = d.explain("expired", &oci11("f.yaml", &good), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("falls back to the .sig tag"), "{out}");
}

/// An attestor that lists an intermediate CA of the signature's chain, not its root:
/// notation-go, and so Kyverno, trusts a chain certificate found in the store, sigscope only the
/// root; the replay says it cannot decide instead of claiming a block Kyverno would not make.
/// The leaf itself in the attestor is refused by both (not a CA, not self-signed).
#[test]
fn an_attestor_holding_an_intermediate_is_not_decided() {
    use common::notary::{Attrs, Ca, SignKey, Signer, der_to_pem, jws, leaf_params};
    let d = Demo::new();
    let layout = d.tmp.path().join("layout");
    // A signature of `unsigned` by root → intermediate → leaf, valid now.
    let root = Ca::root("explain test root", 1, SignKey::p256(71));
    let int = root.intermediate("explain test intermediate", 2, SignKey::p256(72));
    let key = SignKey::p256(73);
    let mut params = leaf_params("explain test signer", 3);
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let leaf = int.issue(&params, &key);
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "unsigned")
        .unwrap()
        .clone();
    let subject: sigscope::oci::Descriptor = serde_json::from_value(serde_json::json!({
        "mediaType": entry["mediaType"], "digest": entry["digest"], "size": entry["size"]}))
    .unwrap();
    let signer = Signer { key, chain: vec![leaf.clone(), int.der.clone(), root.der.clone()] };
    let envelope = jws(&signer, &subject, &Attrs::x509(chrono::Utc::now(), None)).bytes();
    let layer = common::layout::put_blob(&layout, &envelope);
    let empty = common::layout::put_blob(&layout, b"{}");
    let manifest = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "artifactType": "application/vnd.cncf.notary.signature",
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty["digest"], "size": empty["size"]},
        "layers": [{"mediaType": "application/jose+json", "digest": layer["digest"], "size": layer["size"]}],
        "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": subject.size}}))
    .unwrap();
    let m = common::layout::put_blob(&layout, &manifest);
    let mut index = index;
    index["manifests"].as_array_mut().unwrap().push(serde_json::json!({
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": m["digest"], "size": m["size"],
        "artifactType": "application/vnd.cncf.notary.signature"}));
    std::fs::write(layout.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();

    let with =
        |name: &str, der: &[u8]| d.policy(name, "", &format!("      - entries:\n{}", d.cert_entry(&der_to_pem(der))));
    let (code, out, err) = d.explain("unsigned", &with("root.yaml", &root.der), &[]);
    assert_eq!(code, 0, "the root decides it: {out}{err}");
    let (code, out, _) = d.explain("unsigned", &with("int.yaml", &int.der), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not decided") && out.contains("inside the chain of signature"), "{out}");
    let (code, out, _) = d.explain("unsigned", &with("leaf.yaml", &leaf), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("would be blocked") && out.contains("cannot be a trust anchor"), "{out}");
}

/// The policies change on disk while the TUI runs: every verdict shown goes and is replayed
/// under the new policies; an edit that no longer loads leaves no verdict (none is true any
/// more) and says why, until the file is fixed.
#[test]
fn edited_policies_are_replayed_and_one_that_no_longer_loads_leaves_no_verdicts() {
    use common::tui::{screen_text, tag_node};
    use sigscope::kyverno::policy::load;
    use sigscope::tui::Msg;
    let d = Demo::new();
    let path = d.tmp.path().join("watched.yaml");
    let text = std::fs::read_to_string(d.root_policy()).unwrap().replace("ghcr.io/acme/*", "docker.io/demo*");
    std::fs::write(&path, &text).unwrap();
    let mut o = common::tui::options(Some(&common::tui::demo_notation(d.tmp.path())));
    o.kyverno_policies = Some(std::sync::Arc::new(load(&text, "watched.yaml").unwrap()));
    o.kyverno_paths = vec![path.clone()];
    let mut h = common::tui::Harness::with(sigscope::demo::opened(), o);
    h.run_effects();
    assert!(h.effects.iter().any(|e| e.starts_with("WatchKyverno")), "the files are watched: {:?}", h.effects);
    for tag in ["untrusted", "signed"] {
        let id = tag_node(&h, tag);
        h.select(id);
        h.key(crossterm::event::KeyCode::Char('l'));
        h.run_effects();
    }
    let row = |h: &mut common::tui::Harness, tag: &str| {
        let image = h.child(tag_node(h, tag), 0);
        let short = h.app.tree.graph.node(image).digest().unwrap().to_string()[7..19].to_string();
        let wide = screen_text(&h.render(200, 40));
        wide.lines().find(|l| l.contains(&short) && l.contains("image")).unwrap_or_default().to_string()
    };
    assert!(row(&mut h, "untrusted").contains("kyverno ✗ blocked"), "{}", row(&mut h, "untrusted"));

    let audit = text.replace("validationFailureAction: Enforce", "validationFailureAction: Audit");
    h.send(Msg::KyvernoLoaded(Ok(std::sync::Arc::new(load(&audit, "watched.yaml").unwrap()))));
    assert!(!row(&mut h, "untrusted").contains("✗ blocked"), "the old verdict is gone at once");
    h.run_effects();
    assert!(row(&mut h, "untrusted").contains("kyverno ! audit"), "{}", row(&mut h, "untrusted"));
    assert!(row(&mut h, "signed").contains("kyverno ✓ allowed"), "{}", row(&mut h, "signed"));

    h.send(Msg::KyvernoLoaded(Err("watched.yaml: document 1: spec.rules: not a list".into())));
    h.run_effects();
    for tag in ["untrusted", "signed"] {
        assert!(
            !row(&mut h, tag).contains("kyverno"),
            "no verdict from policies that no longer load: {}",
            row(&mut h, tag)
        );
    }
    let status = h.app.notices.status.clone().unwrap();
    assert!(status.text.contains("no longer load") && status.text.contains("not a list"), "{status:?}");
}

/// The same with the real binary and the real watcher: the file is rewritten while sigscope
/// runs in a terminal, and the row's verdict follows within the poll.
#[test]
fn the_running_tui_follows_an_edited_policy_file() {
    use common::tmux::{Tmux, have_tmux};
    assert!(have_tmux(), "tmux is needed for the real-terminal test: apt-get install tmux (scripts/test.sh does)");
    let d = Demo::new();
    let path = d.tmp.path().join("watched.yaml");
    let text = std::fs::read_to_string(d.root_policy()).unwrap().replace("ghcr.io/acme/*", "docker.io/demo*");
    std::fs::write(&path, &text).unwrap();
    let dir = d.tmp.path().display();
    let run = format!(
        "SIGSCOPE_CONFIG=/dev/null XDG_DATA_HOME={dir}/data XDG_CACHE_HOME={dir}/cache {} --kyverno-policy {}",
        env!("CARGO_BIN_EXE_sigscope"),
        path.display()
    );
    let t = Tmux::start_sized("kyverno-watch", &run, 200, 40);
    t.wait_for("tag untrusted");
    // Everything below the repository, loaded: every image gets its verdict.
    t.keys(&["E"]);
    t.wait_until("the untrusted image's verdict", |s| s.contains("kyverno ✗ blocked"));
    std::fs::write(&path, text.replace("validationFailureAction: Enforce", "validationFailureAction: Audit")).unwrap();
    let screen = t.wait_until("the verdict under the edited policy", |s| s.contains("kyverno ! audit"));
    assert!(!screen.contains("kyverno ✗ blocked"), "no row keeps the old verdict:\n{screen}");
    std::fs::write(&path, "apiVersion: kyverno.io/v1\nkind: ClusterPolicy\nspec: [\n").unwrap();
    let screen = t.wait_until("the broken file said", |s| s.contains("no longer load"));
    assert!(!screen.contains("kyverno ! audit") && !screen.contains("kyverno ✓"), "no verdict is left:\n{screen}");
}

/// Kyverno's Cosign verifier with a certificate (`certificates.cert`, cosign's `--certificate`):
/// the demo's cosign signature was made by the demo signer, so its certificate passes, alone or
/// with the demo root as `certChain`; a chain it is not issued under is not decided (sigscope's
/// chain rules are not cosign's everywhere), and another signer's certificate blocks.
#[test]
fn cosign_certificate_attestors_are_replayed() {
    let d = Demo::new();
    let leaf = sigscope::demo::keys::demo_signer().leaf_pem();
    let other = sigscope::demo::keys::untrusted_signer().leaf_pem();
    let block = |pem: &str, indent: usize| -> String {
        pem.trim().lines().map(|l| format!("{}{l}\n", " ".repeat(indent))).collect()
    };
    let policy_sct = |name: &str, cert: &str, chain: Option<&str>, ignore_sct: bool| {
        let chain = chain.map(|c| format!("            certChain: |-\n{}", block(c, 14))).unwrap_or_default();
        let ctlog = if ignore_sct { "            ctlog:\n              ignoreSCT: true\n" } else { "" };
        let entries = format!(
            "      - entries:\n        - certificates:\n            cert: |-\n{}{chain}            rekor:\n              \
             ignoreTlog: true\n{ctlog}",
            block(cert, 14)
        );
        let text =
            std::fs::read_to_string(d.policy(name, "", &entries)).unwrap().replace("type: Notary", "type: Cosign");
        std::fs::write(d.tmp.path().join(name), text).unwrap();
        d.tmp.path().join(name)
    };
    let policy = |name: &str, cert: &str, chain: Option<&str>| policy_sct(name, cert, chain, true);
    let (code, out, err) = d.explain("signed", &policy("c.yaml", &leaf, None), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("verifies with the attestor's certificate"), "{out}");
    let (code, out, _) = d.explain("signed", &policy("cc.yaml", &leaf, Some(&d.root_pem())), &[]);
    assert_eq!(code, 0, "{out}");
    // With a chain, cosign requires the certificate's SCT unless ctlog.ignoreSCT.
    let (code, out, _) = d.explain("signed", &policy_sct("cs.yaml", &leaf, Some(&d.root_pem()), false), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("required embedded SCT"), "{out}");
    let untrusted_root = sigscope::demo::keys::UNTRUSTED_ROOT_PEM;
    let (code, out, _) = d.explain("signed", &policy("cu.yaml", &leaf, Some(untrusted_root)), &[]);
    assert_eq!(code, 1, "not decided is not allowed: {out}");
    assert!(out.contains("not decided") && out.contains("does not chain"), "{out}");
    let (code, out, _) = d.explain("signed", &policy("o.yaml", &other, None), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("none of the 1 cosign signature(s) verifies"), "{out}");
}

/// A cosign `certificates.certChain` without `cert` (Kyverno passes every certificate of the
/// chain to cosign as a root): each signature's own certificate annotation must chain to it,
/// carry an embedded SCT unless `ctlog.ignoreSCT`, and verify the signature; a signature with
/// no certificate fails, as cosign's "no certificate found on signature".
#[test]
fn a_cosign_cert_chain_alone_checks_each_signatures_own_certificate() {
    use common::notary::{Ca, SignKey, der_to_pem, leaf_params};
    let d = Demo::new();
    let layout = d.tmp.path().join("layout");
    let root = Ca::root("cosign chain root", 71, SignKey::p256(71));
    let mut params = leaf_params("cosign chain signer", 72);
    params.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(1);
    params.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(30);
    let leaf_key = SignKey::P256(p256::ecdsa::SigningKey::from_slice(&[27; 32]).unwrap());
    let leaf = der_to_pem(&root.issue(&params, &leaf_key));
    cosign_sign_with(&layout, "expired", 27, 27, Some(&leaf));
    cosign_sign_with(&layout, "untrusted", 27, 27, None);
    let block = |pem: &str| -> String { pem.trim().lines().map(|l| format!("              {l}\n")).collect() };
    let policy = |name: &str, chain: &str, sct: bool| {
        let ctlog = if sct { "" } else { "            ctlog:\n              ignoreSCT: true\n" };
        let entries = format!(
            "      - entries:\n        - certificates:\n            certChain: |-\n{}            rekor:\n              \
             ignoreTlog: true\n{ctlog}",
            block(chain)
        );
        let text =
            std::fs::read_to_string(d.policy(name, "", &entries)).unwrap().replace("type: Notary", "type: Cosign");
        std::fs::write(d.tmp.path().join(name), text).unwrap();
        d.tmp.path().join(name)
    };
    let root_pem = der_to_pem(&root.der);
    let (code, out, err) = d.explain("expired", &policy("ok.yaml", &root_pem, false), &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("which chains to the attestor's certChain"), "{out}");
    let (code, out, _) = d.explain("untrusted", &policy("none.yaml", &root_pem, false), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("no certificate found on signature"), "{out}");
    let (code, out, _) = d.explain("expired", &policy("other.yaml", &d.root_pem(), false), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("signed by unknown authority"), "{out}");
    let (code, out, _) = d.explain("expired", &policy("sct.yaml", &root_pem, true), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("required embedded SCT"), "{out}");
}
