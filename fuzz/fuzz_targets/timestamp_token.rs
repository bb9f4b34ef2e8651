//! The RFC 3161 timestamp token parser and verifier (CMS SignedData, TSTInfo, signer
//! attributes, the TSA chain), against a real TSA root from the Notation vectors.
#![no_main]
use libfuzzer_sys::fuzz_target;

const ROOT: &[u8] = include_bytes!("../../tests/vectors/notation/rfc3161/GlobalSignRootCA.crt");

fuzz_target!(|data: &[u8]| {
    let root = pem_or_der(ROOT);
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("a valid time");
    // Input: a 2-byte big-endian length, the countersigned signature, then the token. Seeds
    // (fuzz/seeds/timestamp_token) are genuine signature + token pairs from the Notation
    // vectors, so mutations of the token alone still get past the imprint check to the signer.
    let (signature, token) = match data {
        [hi, lo, rest @ ..] => rest.split_at((usize::from(*hi) << 8 | usize::from(*lo)).min(rest.len())),
        _ => return,
    };
    let _ = sigscope::notation::timestamp::verify_timestamp(token, signature, &[root], now);
});

fn pem_or_der(bytes: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let Some(body) = text.split("-----BEGIN CERTIFICATE-----").nth(1) else { return bytes.to_vec() };
    let b64: String = body.split("-----END").next().unwrap_or("").split_whitespace().collect();
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(b64).expect("the vector root is valid PEM")
}
