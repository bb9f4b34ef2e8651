//! Trust policy loading and validation, scope selection, per-check actions, DN matching
//! and trust stores, driven by Notation's own policies and stores.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sigscope::notation::dn::{Dn, DnError, matches};
use sigscope::notation::policy::{
    Action, Check, Level, MatchKind, PolicyError, PolicyField, TrustPolicy, TrustStoreKind, TrustedIdentity,
};
use sigscope::notation::truststore::{TrustStore, TrustStoreError};

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/notation")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(vectors().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    Ok,
    Malformed,
    Version,
    NoStatements,
    DuplicateName,
    DuplicateScope,
    Field(PolicyField),
    /// "either missing trust stores or trusted identities" / skip with either: Go reports
    /// the pair as one error, we name the first field that is wrong.
    StoresOrIdentities,
}

fn check(name: &str, result: Result<TrustPolicy, PolicyError>, expect: Expect) {
    match (expect, &result) {
        (Expect::Ok, Ok(_)) => {}
        (Expect::Malformed, Err(PolicyError::Malformed { .. })) => {}
        (Expect::Version, Err(PolicyError::UnsupportedVersion { .. })) => {}
        (Expect::NoStatements, Err(PolicyError::NoStatements)) => {}
        (Expect::DuplicateName, Err(PolicyError::DuplicateName { .. })) => {}
        (Expect::DuplicateScope, Err(PolicyError::DuplicateScope { .. })) => {}
        (Expect::Field(f), Err(PolicyError::Invalid { field, statement, .. })) if *field == f => {
            assert!(!statement.is_empty() || f == PolicyField::Name, "{name}: statement not named");
        }
        (
            Expect::StoresOrIdentities,
            Err(PolicyError::Invalid { field: PolicyField::TrustStores | PolicyField::TrustedIdentities, .. }),
        ) => {}
        _ => panic!("{name}: expected {expect:?}, got {result:?}"),
    }
    if let Err(e) = &result {
        // Every error must render as a sentence naming what is wrong.
        assert!(e.to_string().len() > 20, "{name}: {e}");
    }
}

#[test]
fn upstream_e2e_policies() {
    use Expect::*;
    use PolicyField as F;
    let table: &[(&str, Expect)] = &[
        ("any_registry_scope_trust_policy", Ok),
        ("audit_trustpolicy", Ok),
        ("empty_registry_scope_trustpolicy", Field(F::RegistryScopes)),
        ("empty_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("generate_test_trustpolicy", Ok),
        ("invalid_format_trustpolicy", Malformed),
        ("invalid_registry_scope_trustpolicy", Ok),
        ("invalid_trust_store_trustpolicy", Ok),
        ("invalid_trusted_identity_trustpolicy", Ok),
        ("malformed_registry_scope_trustpolicy", Field(F::RegistryScopes)),
        ("malformed_trust_store_trustpolicy", Field(F::TrustStores)),
        ("malformed_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("missing_country_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("missing_organization_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("missing_state_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("multi_statements_with_multi_wildcard_registry_scope_trustpolicy", DuplicateScope),
        ("multi_statements_with_the_same_name_trustpolicy", DuplicateName),
        ("multi_statements_with_the_same_registry_scope_trustpolicy", DuplicateScope),
        ("multi_statements_with_wildcard_registry_scope_trustpolicy", Ok),
        ("multiple_registry_scope_trustpolicy", Ok),
        ("multiple_trust_store_trustpolicy", Ok),
        ("multiple_trusted_identity_trustpolicy", Ok),
        ("overlapped_registry_scope_trustpolicy", DuplicateScope),
        ("overlapped_trust_store_trustpolicy", Ok),
        ("overlapped_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("override_audit_trustpolicy", Ok),
        ("override_integrity_for_permissive_trustpolicy", Field(F::Override)),
        ("override_permissive_trustpolicy", Ok),
        ("override_strict_trustpolicy", Ok),
        ("permissive_trustpolicy", Ok),
        ("quickstart_trustpolicy", Ok),
        ("registry_scope_trustpolicy", Ok),
        ("skip_trustpolicy", Ok),
        ("timestamp_after_cert_expiry_trustpolicy", Ok),
        ("timestamp_trustpolicy", Ok),
        ("trustpolicy", Ok),
        ("unset_trust_store_trustpolicy", Field(F::TrustStores)),
        ("unset_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("valid_trusted_identity_trustpolicy", Ok),
        ("wildcard_plus_other_registry_scope_trustpolicy", Field(F::RegistryScopes)),
        ("wildcard_plus_other_trusted_identity_trustpolicy", Field(F::TrustedIdentities)),
        ("wildcard_trust_store_trustpolicy", Field(F::TrustStores)),
    ];
    let on_disk = std::fs::read_dir(vectors().join("trustpolicies/e2e")).unwrap().count();
    assert_eq!(on_disk, table.len(), "every copied e2e policy has an expectation");
    for (name, expect) in table {
        let json = read(&format!("trustpolicies/e2e/{name}.json"));
        check(name, TrustPolicy::parse(&json), *expect);
    }
}

#[test]
fn upstream_unit_policies_load() {
    for name in ["oci-dummy", "pluginver-unit", "timestamp-unit"] {
        let p = TrustPolicy::parse(&read(&format!("trustpolicies/unit/{name}.trustpolicy.oci.json")));
        assert!(p.is_ok(), "{name}: {p:?}");
    }
}

/// The category of a Go validation error string (the texts differ, the categories must not).
fn category(go: &str) -> Expect {
    use PolicyField as F;
    if go.contains("unsupported version") {
        Expect::Version
    } else if go.contains("zero trust policy statements") {
        Expect::NoStatements
    } else if go.contains("use the same name") {
        Expect::DuplicateName
    } else if go.contains("present in multiple") {
        Expect::DuplicateScope
    } else if go.contains("missing a name") {
        Expect::Field(F::Name)
    } else if go.contains("registry scope") {
        Expect::Field(F::RegistryScopes)
    } else if go.contains("verifyTimestamp") {
        Expect::Field(F::VerifyTimestamp)
    } else if go.contains("verification level") {
        Expect::Field(F::Level)
    } else if go.contains("missing trust stores or trusted identities") || go.contains("set to skip") {
        Expect::StoresOrIdentities
    } else if go.contains("trusted identity") {
        Expect::Field(F::TrustedIdentities)
    } else if go.contains("trust store") {
        Expect::Field(F::TrustStores)
    } else {
        panic!("no category for {go:?}")
    }
}

#[test]
fn upstream_validation_cases() {
    let cases: Value = serde_json::from_str(&read("trustpolicies/unit/validation-cases.json")).unwrap();
    let oci = cases["oci"].as_array().unwrap();
    assert!(oci.len() > 40);
    for c in oci {
        let name = c["name"].as_str().unwrap();
        let expect = c["expectedError"].as_str().map_or(Expect::Ok, category);
        let result = TrustPolicy::parse(&c["document"].to_string());
        check(name, result.clone(), expect);
        if let (Some(go), Err(e)) = (c["expectedError"].as_str(), &result)
            && go.contains("\"test-statement-name\"")
            && !matches!(e, PolicyError::DuplicateScope { .. })
        {
            assert_eq!(e.statement(), Some("test-statement-name"), "{name}");
        }
    }
}

fn statement_doc(signature_verification: Value, stores: Value, identities: Value) -> String {
    json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "test-statement-name",
            "registryScopes": ["*"],
            "signatureVerification": signature_verification,
            "trustStores": stores,
            "trustedIdentities": identities,
        }]
    })
    .to_string()
}

#[test]
fn upstream_trusted_identity_cases() {
    let cases: Value = serde_json::from_str(&read("trustpolicies/unit/trusted-identity-cases.json")).unwrap();
    for c in cases["cases"].as_array().unwrap() {
        let ids = c["trustedIdentities"].clone();
        let doc = statement_doc(json!({"level": "strict"}), json!(["ca:s"]), ids.clone());
        let expect =
            if c["expectedError"].is_null() { Expect::Ok } else { Expect::Field(PolicyField::TrustedIdentities) };
        check(&ids.to_string(), TrustPolicy::parse(&doc), expect);
    }
}

#[test]
fn upstream_verification_level_cases() {
    let cases: Value = serde_json::from_str(&read("trustpolicies/unit/verification-level-cases.json")).unwrap();
    for c in cases["cases"].as_array().unwrap() {
        let sv = c["signatureVerification"].clone();
        let skip = sv["level"] == "skip";
        let (stores, ids) = if skip { (json!([]), json!([])) } else { (json!(["ca:s"]), json!(["*"])) };
        let result = TrustPolicy::parse(&statement_doc(sv.clone(), stores, ids));
        match c.get("expectedActions").filter(|v| !v.is_null()) {
            Some(want) => {
                let p = result.unwrap_or_else(|e| panic!("{sv}: {e}"));
                let actions = p.statements[0].effective_actions();
                for check in Check::ALL {
                    let got = match actions.get(check) {
                        Action::Enforce => "enforce",
                        Action::Log => "log",
                        Action::Skip => "skip",
                    };
                    assert_eq!(want[check.name()], got, "{sv}: {}", check.name());
                }
            }
            None => match result {
                Err(PolicyError::Invalid { field: PolicyField::Level | PolicyField::Override, .. }) => {}
                other => panic!("{sv}: expected a level/override error, got {other:?}"),
            },
        }
    }
}

#[test]
fn e2e_override_policies_apply_their_overrides() {
    let p = TrustPolicy::parse(&read("trustpolicies/e2e/override_strict_trustpolicy.json")).unwrap();
    let a = p.statements[0].effective_actions();
    assert_eq!(p.statements[0].level, Level::Strict);
    assert_eq!(
        [a.integrity, a.authenticity, a.authentic_timestamp, a.expiry, a.revocation],
        [Action::Enforce, Action::Log, Action::Log, Action::Log, Action::Log]
    );
    let p = TrustPolicy::parse(&read("trustpolicies/e2e/override_audit_trustpolicy.json")).unwrap();
    assert!(Check::ALL.iter().all(|c| p.statements[0].effective_actions().get(*c) == Action::Enforce));
    let skip = TrustPolicy::parse(&read("trustpolicies/e2e/skip_trustpolicy.json")).unwrap();
    assert!(Check::ALL.iter().all(|c| skip.statements[0].effective_actions().get(*c) == Action::Skip));
}

#[test]
fn scope_selection() {
    let doc = json!({
        "version": "1.0",
        "trustPolicies": [
            {"name": "exact", "registryScopes": ["registry.example/team/app", "docker.io/library/alpine"],
             "signatureVerification": {"level": "strict"}, "trustStores": ["ca:a"], "trustedIdentities": ["*"]},
            {"name": "global", "registryScopes": ["*"],
             "signatureVerification": {"level": "audit"}, "trustStores": ["ca:b"], "trustedIdentities": ["*"]},
        ]
    });
    let p = TrustPolicy::parse(&doc.to_string()).unwrap();
    let pick = |s: &str| p.statement_for(s).map(|(st, k)| (st.name.as_str(), k));
    assert_eq!(pick("registry.example/team/app"), Some(("exact", MatchKind::Exact)));
    assert_eq!(pick("docker.io/library/alpine"), Some(("exact", MatchKind::Exact)));
    // No normalisation, no prefix matching, case-sensitive.
    assert_eq!(pick("alpine"), Some(("global", MatchKind::Wildcard)));
    assert_eq!(pick("library/alpine"), Some(("global", MatchKind::Wildcard)));
    assert_eq!(pick("registry.example/team/app/sub"), Some(("global", MatchKind::Wildcard)));
    assert_eq!(pick("registry.example/team"), Some(("global", MatchKind::Wildcard)));
    assert_eq!(pick("Registry.example/team/app"), Some(("global", MatchKind::Wildcard)));

    let only_exact = TrustPolicy::parse(&read("trustpolicies/unit/oci-dummy.trustpolicy.oci.json")).unwrap();
    assert!(only_exact.statement_for("registry.acme-rockets.io/software/net-monitor").is_some());
    assert!(only_exact.statement_for("registry.acme-rockets.io/software/other").is_none());
    assert!(only_exact.statement_for("registry.acme-rockets.io/software/net-monitor:v1").is_none());
}

#[test]
fn statement_model_from_upstream_policy() {
    let p = TrustPolicy::parse(&read("trustpolicies/unit/oci-dummy.trustpolicy.oci.json")).unwrap();
    let s = &p.statements[0];
    assert_eq!(s.name, "test-statement-name");
    let kinds: Vec<_> = s.trust_stores.iter().map(|t| (t.kind, t.name.as_str())).collect();
    assert_eq!(
        kinds,
        [(TrustStoreKind::Ca, "valid-trust-store"), (TrustStoreKind::SigningAuthority, "valid-trust-store")]
    );
    let ids: Vec<_> = s.x509_identities().collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(ids[0].get("CN"), Some("Notation Test Root"));
    assert!(!s.trusts_any_identity());

    let aws = statement_doc(
        json!({"level": "strict"}),
        json!(["signingAuthority:aws-signer-ts"]),
        json!(["arn:aws:signer:us-west-2:123456789012:/signing-profiles/p"]),
    );
    let p = TrustPolicy::parse(&aws).unwrap();
    assert!(matches!(&p.statements[0].trusted_identities[0], TrustedIdentity::Other { prefix, .. } if prefix == "arn"));
}

#[test]
fn load_prefers_the_oci_file_and_falls_back_to_the_legacy_one() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(TrustPolicy::load(dir.path()), Err(PolicyError::Missing { .. })));
    std::fs::write(dir.path().join("trustpolicy.json"), read("trustpolicies/e2e/trustpolicy.json")).unwrap();
    assert_eq!(TrustPolicy::load(dir.path()).unwrap().statements[0].name, "e2e");
    std::fs::write(dir.path().join("trustpolicy.oci.json"), read("trustpolicies/unit/oci-dummy.trustpolicy.oci.json"))
        .unwrap();
    assert_eq!(TrustPolicy::load(dir.path()).unwrap().statements[0].name, "test-statement-name");
    std::fs::write(dir.path().join("trustpolicy.oci.json"), "{").unwrap();
    assert!(matches!(TrustPolicy::load(dir.path()), Err(PolicyError::Malformed { .. })));
}

#[cfg(unix)]
#[test]
fn load_refuses_a_symlinked_policy() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    std::fs::write(&real, read("trustpolicies/e2e/trustpolicy.json")).unwrap();
    std::os::unix::fs::symlink(&real, dir.path().join("trustpolicy.oci.json")).unwrap();
    assert!(matches!(TrustPolicy::load(dir.path()), Err(PolicyError::Io { .. })));
}

fn store_cert(store: &str, file: &str) -> Vec<u8> {
    let path = vectors().join("notation-go-config/truststore/x509").join(store).join(file);
    let bytes = std::fs::read(&path).unwrap();
    sigscope::notation::truststore::split_certificates(&bytes).unwrap().remove(0)
}

#[test]
fn dn_matching_against_real_certificates() {
    let root = Dn::from_certificate(&store_cert("ca/valid-trust-store", "NotationTestRoot.pem")).unwrap();
    for (identity, want) in [
        ("CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US", true),
        ("C=US, ST=WA, O=Notary", true),
        ("C=US,S=WA,O=Notary", true),
        ("C=US,ST=WA,O=Notary,OU=Tools", false),
        ("C=US,ST=WA,O=notary", false),
        ("CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN", false),
        ("CN=e2e,O=Notary,L=Seattle,ST=WA,C=USB", false),
    ] {
        assert_eq!(matches(&Dn::parse(identity).unwrap(), &root), want, "{identity}");
    }
}

#[test]
fn unmatchable_certificate_subjects() {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CountryName, "US");
    params.distinguished_name.push(rcgen::DnType::StateOrProvinceName, "WA");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "acme");
    params.distinguished_name.push(rcgen::DnType::CustomDnType(vec![1, 2, 840, 113549, 1, 9, 1]), "a@b.example");
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = params.self_signed(&key).unwrap();
    assert!(matches!(Dn::from_certificate(cert.der()), Err(DnError::UnsupportedSubjectAttribute { .. })));
}

fn config() -> PathBuf {
    vectors().join("notation-go-config")
}

#[test]
fn upstream_trust_stores() {
    let s = TrustStore::load(&config(), "ca:valid-trust-store").unwrap();
    assert!(s.certificates.len() >= 5, "{}", s.certificates.len());
    assert!(s.certificates.iter().any(|c| c.subject.contains("Notation Test Root")));
    assert!(s.ignored.iter().any(|p| p.ends_with("GlobalSign.der")));

    let s = TrustStore::load(&config(), "ca:valid-trust-store-self-signed").unwrap();
    assert_eq!(s.certificates.len(), 1);
    assert!(TrustStore::load(&config(), "signingAuthority:valid-trust-store").is_ok());
    assert!(TrustStore::load(&config(), "tsa:test-timestamp").is_ok());
    assert!(TrustStore::load(&config(), "tsa:test-mismatch").is_ok());

    for bad in [
        "ca:trust-store-with-leaf-certs",
        "ca:trust-store-with-leaf-certs-in-single-file",
        "tsa:test-nonCA",
        "tsa:test-nonSelfIssued",
    ] {
        let e = TrustStore::load(&config(), bad).unwrap_err();
        assert!(matches!(e, TrustStoreError::NotAnAnchor { .. }), "{bad}: {e}");
    }
    // Its one file has no certificate extension, so nothing trustworthy is left.
    assert!(matches!(
        TrustStore::load(&config(), "ca:trust-store-with-invalid-certs"),
        Err(TrustStoreError::Empty { .. })
    ));
    assert!(matches!(TrustStore::load(&config(), "ca:does-not-exist"), Err(TrustStoreError::Missing { .. })));
    assert!(matches!(TrustStore::load(&config(), "ca:"), Err(TrustStoreError::BadReference(_))));
    assert!(matches!(TrustStore::load(&config(), "root:x"), Err(TrustStoreError::BadReference(_))));
}

#[test]
fn trust_store_file_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("truststore/x509/ca/s");
    std::fs::create_dir_all(&store).unwrap();
    let root_der = store_cert("ca/valid-trust-store", "GlobalSign.der");
    let root_pem = std::fs::read(config().join("truststore/x509/ca/valid-trust-store/NotationTestRoot.pem")).unwrap();
    // Two certificates in one PEM file, two concatenated in one DER file.
    let mut pem = root_pem.clone();
    pem.extend_from_slice(&root_pem);
    std::fs::write(store.join("two.pem"), &pem).unwrap();
    std::fs::write(store.join("two.cer"), [root_der.clone(), root_der.clone()].concat()).unwrap();
    let s = TrustStore::load(dir.path(), "ca:s").unwrap();
    assert_eq!(s.certificates.len(), 4);

    std::fs::write(store.join("junk.crt"), b"not a certificate").unwrap();
    assert!(matches!(TrustStore::load(dir.path(), "ca:s"), Err(TrustStoreError::BadEntry { .. })));
    std::fs::remove_file(store.join("junk.crt")).unwrap();

    std::fs::create_dir(store.join("sub")).unwrap();
    assert!(matches!(TrustStore::load(dir.path(), "ca:s"), Err(TrustStoreError::BadEntry { .. })));
}

#[test]
fn demo_export_loads_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    sigscope::demo::export(&out).unwrap();
    let notation = out.join("notation");
    let policy = TrustPolicy::load(&notation).unwrap();
    let (statement, kind) = policy.statement_for("localhost:5000/anything").unwrap();
    assert_eq!(kind, MatchKind::Wildcard);
    assert_eq!(statement.level, Level::Strict);
    for store in &statement.trust_stores {
        let s = TrustStore::load_ref(&notation, store).unwrap();
        assert!(!s.certificates.is_empty());
    }
}

#[test]
fn errors_name_the_statement_and_the_field() {
    let e = TrustPolicy::parse(&read("trustpolicies/e2e/malformed_trust_store_trustpolicy.json")).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("\"e2e\"") && text.contains("trustStores") && text.contains("\"ca:\""), "{text}");
    let e = TrustPolicy::parse(&read("trustpolicies/e2e/missing_state_trusted_identity_trustpolicy.json")).unwrap_err();
    assert!(e.to_string().contains("\"ST\""), "{e}");
    let e =
        TrustPolicy::parse(&read("trustpolicies/e2e/multi_statements_with_the_same_registry_scope_trustpolicy.json"))
            .unwrap_err();
    assert_eq!(e.field(), Some(PolicyField::RegistryScopes));
    let usage: sigscope::error::Error = e.into();
    assert_eq!(usage.exit_code(), 2);
}
