//! Verifying 1,000 Notation signatures (JWS ES384, JWS PS256, COSE ES256) with the full
//! verifier, against the bare signature primitive of the same algorithm over the same
//! messages, measured side by side in the same run, on one core and on both.
//!
//! `cargo bench --bench verify` prints a table; BENCHMARKS.md records the figures.
//! Every verifier result is checked to be "verified", so the bench cannot time a failure path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Utc};
use coset::cbor::value::Value as Cbor;
use coset::{CoseSign1Builder, HeaderBuilder, Label, TaggedCborSerializable as _, iana};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use sha2::{Digest as _, Sha256};
use sigscope::oci::Descriptor;
use sigscope::trust::policy::{Statement, TrustPolicy};
use sigscope::trust::revocation::RevocationMode;
use sigscope::trust::verify::{SignatureVerdict, Verifier};

const N: usize = 1000;
const ROUNDS: usize = 7;
const SIGNING_TIME: &str = "2026-01-01T00:00:00Z";

/// Fixed-seed RNG for the RSA key: the bench must not depend on OS entropy.
struct SplitMix(u64);
impl rsa::rand_core::RngCore for SplitMix {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes()[..chunk.len()]);
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rsa::rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}
impl rsa::rand_core::CryptoRng for SplitMix {}

#[derive(Clone)]
enum Key {
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    Rsa(Box<rsa::RsaPrivateKey>),
}

impl Key {
    fn alg(&self) -> &'static str {
        match self {
            Key::P256(_) => "ES256",
            Key::P384(_) => "ES384",
            Key::Rsa(_) => "PS256",
        }
    }

    fn sign(&self, msg: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        match self {
            Key::P256(k) => {
                let s: p256::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            Key::P384(k) => {
                let s: p384::ecdsa::Signature = k.sign(msg);
                s.to_bytes().to_vec()
            }
            Key::Rsa(k) => {
                let digest = Sha256::digest(msg);
                k.sign_with_rng(&mut SplitMix(1), rsa::Pss::new::<Sha256>(), &digest).unwrap()
            }
        }
    }

    /// The bare primitive: verify `sig` over `msg`, nothing else.
    fn verifier(&self) -> impl Fn(&[u8], &[u8]) -> bool + Sync + use<> {
        use p256::ecdsa::signature::Verifier as _;
        let key = self.clone();
        move |msg: &[u8], sig: &[u8]| match &key {
            Key::P256(k) => {
                let s = p256::ecdsa::Signature::from_slice(sig).unwrap();
                k.verifying_key().verify(msg, &s).is_ok()
            }
            Key::P384(k) => {
                let s = p384::ecdsa::Signature::from_slice(sig).unwrap();
                k.verifying_key().verify(msg, &s).is_ok()
            }
            Key::Rsa(k) => {
                let digest = Sha256::digest(msg);
                k.to_public_key().verify(rsa::Pss::new::<Sha256>(), &digest, sig).is_ok()
            }
        }
    }
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, cn);
    d.push(DnType::OrganizationName, "sigscope bench");
    d.push(DnType::StateOrProvinceName, "WA");
    d.push(DnType::CountryName, "US");
    d
}

struct Pki {
    root_pem: String,
    chain: Vec<Vec<u8>>,
    key: Key,
}

fn pki(kind: &str) -> Pki {
    let mut root = CertificateParams::default();
    root.distinguished_name = dn("bench root");
    root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let root = CertifiedIssuer::self_signed(root, KeyPair::generate().unwrap()).unwrap();
    let (kp, key) = match kind {
        "p256" => {
            let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
            let sk = <p256::ecdsa::SigningKey as p256::pkcs8::DecodePrivateKey>::from_pkcs8_der(&kp.serialize_der());
            (kp, Key::P256(sk.unwrap()))
        }
        "p384" => {
            let kp = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
            let sk = <p384::ecdsa::SigningKey as p384::pkcs8::DecodePrivateKey>::from_pkcs8_der(&kp.serialize_der());
            (kp, Key::P384(sk.unwrap()))
        }
        _ => {
            use rsa::pkcs8::EncodePrivateKey as _;
            let key = rsa::RsaPrivateKey::new(&mut SplitMix(7), 2048).unwrap();
            let der = key.to_pkcs8_der().unwrap();
            let kp = KeyPair::from_pkcs8_der_and_sign_algo(&der.as_bytes().into(), &rcgen::PKCS_RSA_SHA256).unwrap();
            (kp, Key::Rsa(Box::new(key)))
        }
    };
    let mut leaf = CertificateParams::default();
    leaf.distinguished_name = dn(&format!("bench signer {kind}"));
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    let leaf = leaf.signed_by(&kp, &root).unwrap();
    Pki { root_pem: root.pem(), chain: vec![leaf.der().to_vec(), root.der().to_vec()], key }
}

fn descriptor(i: usize) -> Descriptor {
    Descriptor {
        media_type: sigscope::oci::media::OCI_MANIFEST.into(),
        digest: format!("sha256:{}", hex::encode(Sha256::digest(i.to_le_bytes()))),
        size: 1000 + i as u64,
        ..Default::default()
    }
}

fn payload(d: &Descriptor) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"targetArtifact": {
        "mediaType": d.media_type, "digest": d.digest, "size": d.size}}))
    .unwrap()
}

/// (envelope, signed bytes, raw signature)
type Signed = (Vec<u8>, Vec<u8>, Vec<u8>);

fn jws(p: &Pki, d: &Descriptor) -> Signed {
    let header = format!(
        r#"{{"alg":"{}","crit":["io.cncf.notary.signingScheme"],"cty":"application/vnd.cncf.notary.payload.v1+json","io.cncf.notary.signingScheme":"notary.x509","io.cncf.notary.signingTime":"{SIGNING_TIME}"}}"#,
        p.key.alg()
    );
    let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload(d)));
    let sig = p.key.sign(signing_input.as_bytes());
    let (protected, body) = signing_input.split_once('.').unwrap();
    let env = serde_json::json!({
        "payload": body, "protected": protected,
        "header": {"x5c": p.chain.iter().map(|c| STANDARD.encode(c)).collect::<Vec<_>>()},
        "signature": URL_SAFE_NO_PAD.encode(&sig),
    });
    (serde_json::to_vec(&env).unwrap(), signing_input.into_bytes(), sig)
}

fn cose(p: &Pki, d: &Descriptor) -> Signed {
    let t: DateTime<Utc> = SIGNING_TIME.parse().unwrap();
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .add_critical_label(coset::RegisteredLabelWithPrivate::Text("io.cncf.notary.signingScheme".into()))
        .content_type("application/vnd.cncf.notary.payload.v1+json".into())
        .text_value("io.cncf.notary.signingScheme".into(), Cbor::Text("notary.x509".into()))
        .text_value("io.cncf.notary.signingTime".into(), Cbor::Tag(1, Box::new(Cbor::Integer(t.timestamp().into()))))
        .build();
    let mut unprotected = HeaderBuilder::new().build();
    unprotected.rest.push((Label::Int(33), Cbor::Array(p.chain.iter().map(|c| Cbor::Bytes(c.clone())).collect())));
    let msg = CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .payload(payload(d))
        .create_signature(b"", |tbs| p.key.sign(tbs))
        .build();
    let tbs = msg.tbs_data(b"");
    let sig = msg.signature.clone();
    (msg.to_tagged_vec().unwrap(), tbs, sig)
}

/// (artifact, envelope, signed bytes, raw signature)
type Item = (Descriptor, Vec<u8>, Vec<u8>, Vec<u8>);

struct Case {
    name: &'static str,
    media_type: &'static str,
    pki: Pki,
    build: fn(&Pki, &Descriptor) -> Signed,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = if quick { 20 } else { N };
    let rounds = if quick { 1 } else { ROUNDS };
    let cases = [
        Case { name: "JWS ES384", media_type: "application/jose+json", pki: pki("p384"), build: jws },
        Case { name: "JWS PS256", media_type: "application/jose+json", pki: pki("rsa"), build: jws },
        Case { name: "COSE ES256", media_type: "application/cose", pki: pki("p256"), build: cose },
    ];
    let now: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
    println!("{n} signatures per case, median of {rounds} rounds; per-signature times\n");
    println!(
        "| case | primitive 1 core | verifier 1 core | ratio | primitive 2 cores | verifier 2 cores | ratio | first (cold) |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("truststore/x509/ca/bench");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::write(store.join("root.pem"), &case.pki.root_pem).unwrap();
        let policy = TrustPolicy::parse(
            r#"{"version":"1.0","trustPolicies":[{"name":"bench","registryScopes":["*"],
            "signatureVerification":{"level":"strict"},"trustStores":["ca:bench"],"trustedIdentities":["*"]}]}"#,
        )
        .unwrap();
        let statement: Statement = policy.statements[0].clone();
        let items: Vec<Item> = (0..n)
            .map(|i| {
                let d = descriptor(i);
                let (env, msg, sig) = (case.build)(&case.pki, &d);
                (d, env, msg, sig)
            })
            .collect();
        let items = Arc::new(items);
        let primitive = case.pki.key.verifier();
        let cache = dir.path().join("crl");

        let fresh = || {
            Arc::new(Verifier::new(
                policy.clone(),
                dir.path(),
                RevocationMode::Online { cache_dir: cache.clone(), timeout: Duration::from_secs(5) },
            ))
        };
        let one = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let two = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();

        // Cold: a new verifier, so the first signature pays for the chain and trust store.
        let cold = {
            let v = fresh();
            let (d, env, _, _) = &items[0];
            let t = Instant::now();
            let r = one.block_on(v.verify_signature(&statement, d, case.media_type, env, now));
            assert_eq!(r.verdict, SignatureVerdict::Verified, "{:?}", r.checks);
            t.elapsed()
        };

        let mut results: [Vec<Duration>; 4] = Default::default();
        for _ in 0..rounds {
            let t = Instant::now();
            assert!(items.iter().all(|(_, _, m, s)| primitive(m, s)));
            results[0].push(t.elapsed());

            let v = fresh();
            let t = Instant::now();
            one.block_on(async {
                for (d, env, _, _) in items.iter() {
                    let r = v.verify_signature(&statement, d, case.media_type, env, now).await;
                    assert_eq!(r.verdict, SignatureVerdict::Verified);
                }
            });
            results[1].push(t.elapsed());

            let t = Instant::now();
            std::thread::scope(|s| {
                for half in items.chunks(n.div_ceil(2)) {
                    let primitive = &primitive;
                    s.spawn(move || assert!(half.iter().all(|(_, _, m, sig)| primitive(m, sig))));
                }
            });
            results[2].push(t.elapsed());

            let v = fresh();
            let t = Instant::now();
            two.block_on(async {
                let mut tasks = Vec::new();
                for part in 0..2 {
                    let (v, items, statement, mt) = (v.clone(), items.clone(), statement.clone(), case.media_type);
                    tasks.push(tokio::spawn(async move {
                        for (d, env, _, _) in items.iter().skip(part).step_by(2) {
                            let r = v.verify_signature(&statement, d, mt, env, now).await;
                            assert_eq!(r.verdict, SignatureVerdict::Verified);
                        }
                    }));
                }
                for t in tasks {
                    t.await.unwrap();
                }
            });
            results[3].push(t.elapsed());
        }
        let per = |d: Duration| d / n as u32;
        let [p1, v1, p2, v2] = results.map(|r| per(median(r)));
        let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
        println!(
            "| {} | {} | {} | {:.2}× | {} | {} | {:.2}× | {} |",
            case.name,
            us(p1),
            us(v1),
            v1.as_secs_f64() / p1.as_secs_f64(),
            us(p2),
            us(v2),
            v2.as_secs_f64() / p2.as_secs_f64(),
            us(cold),
        );
    }
}
