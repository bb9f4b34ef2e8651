//! The in-process half of `benches/sign.sh`: the bare signing primitive, and the signing
//! pipeline (`sigscope::sign::pipeline::sign_manifest`) in one loop over the images, without a
//! process per signature.
//!
//! `cargo bench --bench sign -- KEY.pem CHAIN.pem [TARGETS_FILE]`: prints `primitive_us=` (one
//! ES256 signature, RustCrypto `p256` as `LocalSigner` uses it, over a JWS signing input of the
//! very size sigscope signs) and, given a file of `HOST/REPO@DIGEST` lines, `pipeline_s=` (wall
//! time of signing them all in turn: manifest fetched by digest, envelope, read-back, push).
//! The script starts the registries and records the figures; every signature must succeed.

use std::path::Path;
use std::time::Instant;

use sigscope::oci::Descriptor;
use sigscope::sign::key::LocalSigner;
use sigscope::sign::pipeline::{EnvelopeFormat, LocalEnvelopes, SIGNING_AGENT, SignOptions, sign_manifest};

/// Enough signatures that one is timed to well under a microsecond of clock noise.
const PRIMITIVE_ROUNDS: usize = 2000;

/// The bytes a JWS ES256 signature covers (`protected.payload`), as sigscope writes them.
fn jws_signing_input(signer: &LocalSigner) -> Vec<u8> {
    let subject = Descriptor {
        media_type: sigscope::oci::media::OCI_MANIFEST.into(),
        digest: format!("sha256:{}", "ab".repeat(32)),
        size: 1234,
        ..Descriptor::default()
    };
    let attrs = sigscope::sign::Attrs {
        signing_time: chrono::Utc::now(),
        expiry: None,
        extended: &[],
        signing_agent: SIGNING_AGENT,
    };
    let envelope = sigscope::sign::jws::envelope(signer, &sigscope::sign::payload(&subject), &attrs);
    let v: serde_json::Value = serde_json::from_slice(&envelope).expect("JWS is JSON");
    format!("{}.{}", v["protected"].as_str().expect("protected"), v["payload"].as_str().expect("payload")).into_bytes()
}

/// One ES256 signature with the leaf's own key, nothing else, in microseconds.
fn primitive_us(key: &Path, msg: &[u8]) -> f64 {
    use p256::ecdsa::signature::Signer as _;
    use p256::pkcs8::DecodePrivateKey as _;
    let pem = std::fs::read_to_string(key).expect("read the key");
    let key = p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).expect("a PKCS#8 P-256 key (openssl genpkey)");
    let _: p256::ecdsa::Signature = key.sign(msg);
    let t = Instant::now();
    for _ in 0..PRIMITIVE_ROUNDS {
        let s: p256::ecdsa::Signature = key.sign(std::hint::black_box(msg));
        std::hint::black_box(s);
    }
    t.elapsed().as_secs_f64() * 1e6 / PRIMITIVE_ROUNDS as f64
}

/// Signs every target in turn with one signer and one connection pool per host, as a
/// long-running process (the TUI) would; returns the wall time.
async fn pipeline(targets: &[String], signer: &LocalEnvelopes<LocalSigner>) -> f64 {
    let opts = sigscope::open::OpenOptions {
        oci_layout: false,
        registry: sigscope::source::registry::RegistryOptions { plain_http: true, ..Default::default() },
        ..Default::default()
    };
    let first = sigscope::open::open(&targets[0], &opts).expect("open the first target");
    let source = first.source.clone();
    let t = Instant::now();
    for target in targets {
        let (repository, digest) = parse(target);
        let subject = source.manifest(repository, digest).await.expect("the image").descriptor.clone();
        let now = chrono::Utc::now();
        let options = SignOptions { format: EnvelopeFormat::Jws, signing_time: now, expiry: None, timestamp: None };
        sign_manifest(source.as_ref(), repository, &subject, signer, &options)
            .await
            .unwrap_or_else(|e| panic!("signing {target}: {e}"));
    }
    t.elapsed().as_secs_f64()
}

/// `HOST/REPO@DIGEST` → (REPO, DIGEST); every target shares the first one's host.
fn parse(target: &str) -> (&str, &str) {
    let (name, digest) = target.split_once('@').expect("HOST/REPO@DIGEST");
    let (_, repository) = name.split_once('/').expect("HOST/REPO@DIGEST");
    (repository, digest)
}

fn main() {
    // cargo passes `--bench`; the rest are ours.
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    if args.is_empty() && !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs every bench once without arguments: this one has
        // nothing to time without the key, chain and registry benches/sign.sh sets up.
        println!("sign bench: nothing to time without arguments; benches/sign.sh runs it");
        return;
    }
    let [key, cert, rest @ ..] = args.as_slice() else {
        eprintln!("usage: cargo bench --bench sign -- KEY.pem CHAIN.pem [TARGETS_FILE] (benches/sign.sh runs it)");
        std::process::exit(2);
    };
    let local = LocalSigner::from_files(Path::new(key), Path::new(cert)).unwrap_or_else(|e| panic!("{e}"));
    let msg = jws_signing_input(&local);
    println!("primitive_us={:.2} signing_input_bytes={}", primitive_us(Path::new(key), &msg), msg.len());
    if let Some(file) = rest.first() {
        let targets: Vec<String> = std::fs::read_to_string(file)
            .expect("read the targets")
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let runtime = tokio::runtime::Runtime::new().expect("tokio");
        let secs = runtime.block_on(pipeline(&targets, &LocalEnvelopes(local)));
        println!("pipeline_s={secs:.4} signatures={}", targets.len());
    }
}
