//! Verifying 1,000 Notation signatures (JWS ES384, JWS PS256, JWS PS384 over RSA-3072, COSE
//! ES256) with the full verifier, against OpenSSL's own speed for the same primitive
//! (`openssl speed`, one core), ring's bare primitive (the library the verifier uses for these
//! algorithms: the verifier's own overhead is the difference) and RustCrypto's primitive over
//! the same messages, measured side by side in the same run, on one core and on both.
//! `SIGSCOPE_BENCH_CASES=PS256,ES384` runs only the cases whose names contain one of those.
//!
//! `cargo bench --bench verify` prints a table; BENCHMARKS.md records the figures.
//! Every verifier result is checked to be "verified", so the bench cannot time a failure path.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use common::signer::{Ca, SignKey, Signer, leaf_params, ymd};
use coset::TaggedCborSerializable as _;
use sha2::{Digest as _, Sha256};
use sigscope::notation::policy::{Statement, TrustPolicy};
use sigscope::notation::revocation::RevocationMode;
use sigscope::notation::verifier::{SignatureVerdict, Verifier};
use sigscope::oci::Descriptor;

const N: usize = 1000;
const ROUNDS: usize = 7;

/// The bare primitive: verify `sig` over `msg` with the signer's key, nothing else.
fn primitive(key: &SignKey) -> impl Fn(&[u8], &[u8]) -> bool + Sync + use<> {
    use p256::ecdsa::signature::Verifier as _;
    let key = key.clone();
    move |msg: &[u8], sig: &[u8]| match &key {
        SignKey::P256(k) => {
            let s = p256::ecdsa::Signature::from_slice(sig).unwrap();
            k.verifying_key().verify(msg, &s).is_ok()
        }
        SignKey::P384(k) => {
            let s = p384::ecdsa::Signature::from_slice(sig).unwrap();
            k.verifying_key().verify(msg, &s).is_ok()
        }
        SignKey::Rsa(k) if common::signer::rsa_bits(k) >= 3072 => {
            let digest = sha2::Sha384::digest(msg);
            k.to_public_key().verify(rsa::Pss::new::<sha2::Sha384>(), &digest, sig).is_ok()
        }
        SignKey::Rsa(k) => {
            let digest = Sha256::digest(msg);
            k.to_public_key().verify(rsa::Pss::new::<Sha256>(), &digest, sig).is_ok()
        }
    }
}

/// ring's primitive with the key parsed once, as a caller that keeps keys would use it.
fn ring_primitive(key: &SignKey) -> impl Fn(&[u8], &[u8]) -> bool + Sync + use<> {
    use ring::signature as r;
    let (alg, public): (&'static dyn r::VerificationAlgorithm, Vec<u8>) = match key {
        SignKey::P256(k) => {
            (&r::ECDSA_P256_SHA256_FIXED, k.verifying_key().to_encoded_point(false).as_bytes().to_vec())
        }
        SignKey::P384(k) => {
            (&r::ECDSA_P384_SHA384_FIXED, k.verifying_key().to_encoded_point(false).as_bytes().to_vec())
        }
        SignKey::Rsa(k) => {
            use rsa::pkcs1::EncodeRsaPublicKey as _;
            let der = k.to_public_key().to_pkcs1_der().expect("PKCS#1").as_bytes().to_vec();
            let alg: &'static dyn r::VerificationAlgorithm = if common::signer::rsa_bits(k) >= 3072 {
                &r::RSA_PSS_2048_8192_SHA384
            } else {
                &r::RSA_PSS_2048_8192_SHA256
            };
            (alg, der)
        }
    };
    move |msg: &[u8], sig: &[u8]| r::UnparsedPublicKey::new(alg, &public).verify(msg, sig).is_ok()
}

struct Pki {
    root: Vec<u8>,
    signer: Signer,
}

fn pki(key: SignKey) -> Pki {
    let root = Ca::root("bench root", 1, SignKey::p256(1));
    let mut leaf = leaf_params("bench signer", 2);
    leaf.not_before = ymd(2025, 1, 1);
    leaf.not_after = ymd(2035, 1, 1);
    let der = root.issue(&leaf, &key);
    Pki { signer: Signer { key, chain: vec![der, root.der.clone()] }, root: root.der }
}

fn descriptor(i: usize) -> Descriptor {
    Descriptor {
        media_type: sigscope::oci::media::OCI_MANIFEST.into(),
        digest: format!("sha256:{}", hex::encode(Sha256::digest(i.to_le_bytes()))),
        size: 1000 + i as u64,
        ..Default::default()
    }
}

fn attrs() -> sigscope::sign::Attrs {
    let signing_time = "2026-01-01T00:00:00Z".parse().unwrap();
    sigscope::sign::Attrs { signing_time, expiry: None, extended: &[], signing_agent: "sigscope-bench/1" }
}

/// (envelope, signed bytes, raw signature)
type Signed = (Vec<u8>, Vec<u8>, Vec<u8>);

/// A JWS written by `sigscope::sign`, and what the primitive checks: the signing input and
/// the signature, read back from the envelope.
fn jws(p: &Pki, d: &Descriptor) -> Signed {
    let env = sigscope::sign::jws::envelope(&p.signer, &sigscope::sign::payload(d), &attrs());
    let v: serde_json::Value = serde_json::from_slice(&env).unwrap();
    let input = format!("{}.{}", v["protected"].as_str().unwrap(), v["payload"].as_str().unwrap()).into_bytes();
    let sig = URL_SAFE_NO_PAD.decode(v["signature"].as_str().unwrap()).unwrap();
    (env, input, sig)
}

fn cose(p: &Pki, d: &Descriptor) -> Signed {
    let env = sigscope::sign::cose::envelope(&p.signer, &sigscope::sign::payload(d), &attrs());
    let m = coset::CoseSign1::from_tagged_slice(&env).unwrap();
    let tbs = m.tbs_data(b"");
    (env, tbs, m.signature)
}

/// (artifact, envelope, signed bytes, raw signature)
type Item = (Descriptor, Vec<u8>, Vec<u8>, Vec<u8>);

struct Case {
    name: &'static str,
    /// `openssl speed` name of the same primitive (its verify/s is the floor).
    openssl: &'static str,
    media_type: &'static str,
    pki: Pki,
    build: fn(&Pki, &Descriptor) -> Signed,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// One verification by OpenSSL's own `openssl speed` (one core, wall clock), run between the
/// verifier's rounds so both see the same machine; `None` without openssl.
fn openssl_verify(name: &str, seconds: u32) -> Option<Duration> {
    let out = std::process::Command::new("openssl")
        .args(["speed", "-elapsed", "-seconds", &seconds.to_string(), name])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    // The summary line ends "... sign/s verify/s": `rsa 2048 bits ... 1531.4 52036.3`,
    // ` 256 bits ecdsa (nistp256) ... 43209.0 14302.2`.
    let want = if let Some(bits) = name.strip_prefix("rsa") {
        format!("rsa {bits} bits")
    } else {
        format!("(nist{})", name.trim_start_matches("ecdsa"))
    };
    let line = text.lines().rev().find(|l| l.contains(&want))?;
    let per_second: f64 = line.split_whitespace().last()?.parse().ok()?;
    Some(Duration::from_secs_f64(1.0 / per_second))
}

fn main() {
    // `cargo test --benches` runs this with --bench absent: keep that quick.
    let quick = !std::env::args().any(|a| a == "--bench");
    let n = if quick { 20 } else { N };
    let rounds = if quick { 1 } else { ROUNDS };
    let cases = [
        Case {
            name: "JWS ES384",
            openssl: "ecdsap384",
            media_type: "application/jose+json",
            pki: pki(SignKey::p384(3)),
            build: jws,
        },
        Case {
            name: "JWS PS256",
            openssl: "rsa2048",
            media_type: "application/jose+json",
            pki: pki(SignKey::rsa(2048)),
            build: jws,
        },
        Case {
            name: "JWS PS384 (RSA-3072)",
            openssl: "rsa3072",
            media_type: "application/jose+json",
            pki: pki(SignKey::rsa(3072)),
            build: jws,
        },
        Case {
            name: "COSE ES256",
            openssl: "ecdsap256",
            media_type: "application/cose",
            pki: pki(SignKey::p256(4)),
            build: cose,
        },
    ];
    let wanted: Vec<String> = std::env::var("SIGSCOPE_BENCH_CASES")
        .map(|v| v.split(',').map(str::to_string).filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let now: DateTime<Utc> = "2026-06-01T00:00:00Z".parse().unwrap();
    println!("{n} signatures per case, median of {rounds} rounds; per-signature times\n");
    println!(
        "| case | OpenSSL 1 core | ring 1 core | RustCrypto 1 core | verifier 1 core | vs OpenSSL | vs ring | \
         RustCrypto 2 cores | verifier 2 cores | vs RustCrypto | first (cold) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for case in cases.iter().filter(|c| wanted.is_empty() || wanted.iter().any(|w| c.name.contains(w.as_str()))) {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("truststore/x509/ca/bench");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::write(store.join("root.pem"), sigscope::demo::keys::der_to_pem(&case.pki.root)).unwrap();
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
        let primitive = primitive(&case.pki.signer.key);
        let ring_primitive = ring_primitive(&case.pki.signer.key);
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

        let mut results: [Vec<Duration>; 5] = Default::default();
        let mut openssl = Vec::new();
        for _ in 0..rounds {
            if let Some(d) = openssl_verify(case.openssl, if quick { 1 } else { 2 }) {
                openssl.push(d);
            }
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

            let t = Instant::now();
            assert!(items.iter().all(|(_, _, m, s)| ring_primitive(m, s)));
            results[4].push(t.elapsed());
        }
        let per = |d: Duration| d / n as u32;
        let [p1, v1, p2, v2, r1] = results.map(|r| per(median(r)));
        let us = |d: Duration| format!("{:.1} µs", d.as_secs_f64() * 1e6);
        let (floor, vs_openssl) = match openssl.is_empty() {
            true => ("no openssl".to_string(), "-".to_string()),
            false => {
                let o = median(openssl);
                (us(o), format!("**{:.2}×**", v1.as_secs_f64() / o.as_secs_f64()))
            }
        };
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2}× | {} | {} | {:.2}× | {} |",
            case.name,
            floor,
            us(r1),
            us(p1),
            us(v1),
            vs_openssl,
            v1.as_secs_f64() / r1.as_secs_f64(),
            us(p2),
            us(v2),
            v2.as_secs_f64() / p2.as_secs_f64(),
            us(cold),
        );
    }
}
