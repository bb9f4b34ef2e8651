//! RFC 3161 countersignature verification against the upstream Notation vectors
//! (tests/vectors/notation/{timestamp,rfc3161}/, provenance in tests/vectors/README.md).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeZone, Utc};
use sigscope::notation::timestamp::{TimestampInfo, check_signing_chain_validity, verify_timestamp};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/notation");
const TSA_HEADER: &str = "io.cncf.notary.timestampSignature";

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{rel}")).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn pem_to_der(pem: &[u8]) -> Vec<u8> {
    let text = std::str::from_utf8(pem).unwrap();
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

/// The pieces of an envelope a timestamp check needs: raw signature, token, x5c chain.
struct Parts {
    signature: Vec<u8>,
    token: Option<Vec<u8>>,
    chain: Vec<Vec<u8>>,
}

fn jws_parts(rel: &str) -> Parts {
    let v: serde_json::Value = serde_json::from_slice(&read(rel)).unwrap();
    let signature = URL_SAFE_NO_PAD.decode(v["signature"].as_str().unwrap()).unwrap();
    let token = v["header"][TSA_HEADER].as_str().map(|t| STANDARD.decode(t).unwrap());
    let chain =
        v["header"]["x5c"].as_array().unwrap().iter().map(|c| STANDARD.decode(c.as_str().unwrap()).unwrap()).collect();
    Parts { signature, token, chain }
}

fn cose_parts(rel: &str) -> Parts {
    use coset::{CborSerializable, CoseSign1, Label, TaggedCborSerializable};
    let bytes = read(rel);
    let msg = CoseSign1::from_tagged_slice(&bytes).or_else(|_| CoseSign1::from_slice(&bytes)).unwrap();
    let find =
        |name: &str| msg.unprotected.rest.iter().find(|(l, _)| *l == Label::Text(name.into())).map(|(_, v)| v.clone());
    let token = find(TSA_HEADER).map(|v| v.into_bytes().unwrap());
    // x5chain is label 33: a single bstr or an array of them.
    let x5 = msg.unprotected.rest.iter().find(|(l, _)| *l == Label::Int(33)).map(|(_, v)| v.clone()).unwrap();
    let chain = match x5 {
        coset::cbor::value::Value::Array(items) => items.into_iter().map(|i| i.into_bytes().unwrap()).collect(),
        other => vec![other.into_bytes().unwrap()],
    };
    Parts { signature: msg.signature.clone(), token, chain }
}

fn globalsign_r6() -> Vec<Vec<u8>> {
    vec![read("timestamp/globalsignRoot.cer")]
}

fn verify(parts: &Parts, roots: &[Vec<u8>]) -> Result<TimestampInfo, String> {
    verify_timestamp(parts.token.as_ref().expect("envelope carries a token"), &parts.signature, roots, now())
}

#[test]
fn jws_token_verifies_with_its_time_range() {
    let parts = jws_parts("timestamp/jwsWithTimestamp.sig");
    let info = verify(&parts, &globalsign_r6()).unwrap();
    assert!(info.earliest < info.gen_time && info.gen_time < info.latest, "{info:?}");
    assert!(info.tsa_subject.contains("Globalsign TSA for Advanced - G4"), "{}", info.tsa_subject);
    assert_eq!(info.tsa_chain.last(), globalsign_r6().last(), "the chain ends at the trusted root");
    check_signing_chain_validity(&info, &parts.chain).unwrap();
}

#[test]
fn cose_token_verifies() {
    let parts = cose_parts("timestamp/coseWithTimestamp.sig");
    let info = verify(&parts, &globalsign_r6()).unwrap();
    check_signing_chain_validity(&info, &parts.chain).unwrap();
}

#[test]
fn expired_leaf_is_covered_by_the_timestamp() {
    // CN=testTSA is valid only 2024-06-18 07:20:31–07:30:31Z; the token says 07:21:42Z ± 1 s.
    for (parts, gen_time) in [
        (jws_parts("timestamp/jwsExpiredWithTimestamp.sig"), "2024-06-18T07:21:42"),
        (cose_parts("timestamp/coseExpiredWithTimestamp.sig"), "2024-06-18T07:21:12"),
    ] {
        let info = verify(&parts, &globalsign_r6()).unwrap();
        assert_eq!(info.gen_time.format("%Y-%m-%dT%H:%M:%S").to_string(), gen_time);
        assert_eq!(info.latest - info.earliest, chrono::Duration::seconds(2), "accuracy is 1 s each way");
        check_signing_chain_validity(&info, &parts.chain).unwrap();
    }
}

#[test]
fn timestamp_outside_signing_certificate_validity_fails() {
    let before = jws_parts("timestamp/timestampBeforeNotBefore.sig");
    let info = verify(&before, &globalsign_r6()).unwrap();
    let err = check_signing_chain_validity(&info, &before.chain).unwrap_err();
    assert!(err.contains("timestamp can be before certificate") && err.contains("18 Sep 2099 11:54:34"), "{err}");

    let after = cose_parts("timestamp/timestampAfterNotAfter.sig");
    let info = verify(&after, &globalsign_r6()).unwrap();
    let err = check_signing_chain_validity(&info, &after.chain).unwrap_err();
    assert!(err.contains("timestamp can be after certificate") && err.contains("18 Sep 2001 11:54:34"), "{err}");
}

#[test]
fn token_over_other_bytes_fails() {
    let mut parts = jws_parts("timestamp/jwsWithTimestamp.sig");
    parts.signature[0] ^= 1;
    let err = verify(&parts, &globalsign_r6()).unwrap_err();
    assert!(err.contains("message imprint"), "{err}");

    // The token of one envelope attached to another envelope's signature (replay).
    let other = cose_parts("timestamp/coseWithTimestamp.sig");
    let err = verify_timestamp(parts.token.as_ref().unwrap(), &other.signature, &globalsign_r6(), now()).unwrap_err();
    assert!(err.contains("message imprint"), "{err}");
}

#[test]
fn wrong_or_absent_tsa_root_fails() {
    let parts = cose_parts("timestamp/coseWithTimestamp.sig");
    let err = verify(&parts, &[read("timestamp/DigiCertTSARootSHA384.cer")]).unwrap_err();
    assert!(err.contains("does not chain to a trusted TSA root"), "{err}");
    let err = verify(&parts, &[]).unwrap_err();
    assert!(err.contains("no TSA root"), "{err}");
    // The GlobalSign R3 root of the tspclient-go tokens is not this token's root either.
    let err = verify(&parts, &[pem_to_der(&read("rfc3161/GlobalSignRootCA.crt"))]).unwrap_err();
    assert!(err.contains("does not chain"), "{err}");
}

#[test]
fn tampered_tst_info_fails() {
    let parts = jws_parts("timestamp/jwsWithTimestamp.sig");
    let token = parts.token.clone().unwrap();
    // Change a genTime digit: the imprint still matches, so only the messageDigest
    // attribute (and the signature over it) can notice.
    let g =
        token.windows(14).position(|w| w.starts_with(b"2024") && w.iter().all(u8::is_ascii_digit)).expect("genTime");
    let mut tampered = token.clone();
    tampered[g + 13] = if tampered[g + 13] == b'9' { b'8' } else { tampered[g + 13] + 1 };
    let err = verify_timestamp(&tampered, &parts.signature, &globalsign_r6(), now()).unwrap_err();
    assert!(err.contains("messageDigest"), "{err}");
}

#[test]
fn tampered_signed_attributes_fail() {
    let parts = jws_parts("timestamp/jwsWithTimestamp.sig");
    let mut token = parts.token.clone().unwrap();
    // Flip the last byte: inside the SignerInfo signature value.
    let last = token.len() - 1;
    token[last] ^= 0x55;
    let err = verify_timestamp(&token, &parts.signature, &globalsign_r6(), now()).unwrap_err();
    assert!(err.contains("does not verify"), "{err}");
}

#[test]
fn future_token_is_refused() {
    let parts = jws_parts("timestamp/jwsWithTimestamp.sig");
    let info = verify(&parts, &globalsign_r6()).unwrap();
    let err = verify_timestamp(
        parts.token.as_ref().unwrap(),
        &parts.signature,
        &globalsign_r6(),
        info.earliest - chrono::Duration::days(1),
    )
    .unwrap_err();
    assert!(err.contains("in the future"), "{err}");
}

mod tspclient {
    use super::*;

    fn r3() -> Vec<Vec<u8>> {
        vec![pem_to_der(&read("rfc3161/GlobalSignRootCA.crt"))]
    }

    fn check(file: &str) -> Result<TimestampInfo, String> {
        verify_timestamp(&read(&format!("rfc3161/{file}")), b"notation", &r3(), now())
    }

    #[test]
    fn valid_token() {
        let info = check("TimeStampToken.p7s").unwrap();
        assert_eq!(info.gen_time, Utc.with_ymd_and_hms(2021, 9, 17, 14, 9, 10).unwrap());
        assert_eq!(info.earliest, info.gen_time - chrono::Duration::seconds(1));
        assert_eq!(info.latest, info.gen_time + chrono::Duration::seconds(1));
    }

    /// tspclient-go accepts this token (it tries each SignerInfo and takes the first that
    /// verifies). sigscope accepts exactly one SignerInfo (issue 7): with several, which
    /// one describes the token is the attacker's choice, and real TSAs sign once.
    #[test]
    fn several_signer_infos_are_refused_unlike_tspclient() {
        let err = check("TimeStampTokenWithValidAndInvalidSignerInfos.p7s").unwrap_err();
        assert!(err.contains("exactly one SignerInfo, this one has 2"), "{err}");
    }

    #[test]
    fn mismatch_message() {
        let err = verify_timestamp(&read("rfc3161/TimeStampToken.p7s"), b"mismatch", &r3(), now()).unwrap_err();
        assert!(err.contains("message imprint"), "{err}");
    }

    #[test]
    fn rejected_tokens() {
        let cases = [
            ("TimeStampTokenWithoutCertificate.p7s", "signing certificate not found"),
            ("TimeStampTokenWithInvalidSignature.p7s", "does not verify"),
            ("TimeStampTokenWithInvalideContentType.p7s", "unexpected content type 1.2.840.113549.1.7.1"),
            ("TimeStampTokenWithInvalidTSTInfo.p7s", "invalid TSTInfo"),
            ("TimeStampTokenWithTSTInfoVersion2.p7s", "version must be 1, but got 2"),
            // Over other bytes (SHA-512 imprint) and without SigningCertificateV2: either is fatal.
            ("TimeStampTokenWithSigningCertificateV1.p7s", "message imprint"),
            // tspclient-go only checks the attribute parsing on it; its RSA signature does
            // not verify (OpenSSL agrees), so it must be refused.
            ("TimeStampTokenWithoutSigningCertificateV2IssuerSerial.p7s", "does not verify"),
            ("TimeStampTokenWithoutSigningCertificate.p7s", "signingCertificateV2 is missing"),
            ("TimeStampTokenWithMismatchCertHash.p7s", "hash does not match"),
            ("TimeStampTokenWithSHA1CertHash.p7s", "unsupported hash algorithm 1.3.14.3.2.26"),
            ("TimeStampTokenWithSigningCertificateV2NoCert.p7s", "does not contain any certificate"),
            ("TimeStampTokenWithWrongSigningCertificateV2IssuerChoiceTag.p7s", ""),
            ("SHA1TimeStampToken.p7s", "unsupported"),
        ];
        for (file, want) in cases {
            let err = check(file).err().unwrap_or_else(|| panic!("{file} must be rejected"));
            assert!(err.contains(want), "{file}: {err}");
        }
    }
}

#[test]
fn garbage_errors_without_panic() {
    let parts = jws_parts("timestamp/jwsWithTimestamp.sig");
    let token = parts.token.clone().unwrap();
    let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![0x30], vec![0x30, 0x80], vec![0xff; 64], b"notation".to_vec()];
    // Every truncation and a byte flip at many positions.
    for cut in (0..token.len()).step_by(37) {
        inputs.push(token[..cut].to_vec());
    }
    for pos in (0..token.len()).step_by(13) {
        let mut t = token.clone();
        t[pos] ^= 0xa5;
        inputs.push(t);
    }
    // Only two regions are not covered by any signature the verifier relies on: the
    // SignedData digestAlgorithms set (offsets 26..41 in this token) and the token's own copy
    // of the GlobalSign root, which is never used because the trust store supplies the root.
    let root = &globalsign_r6()[0];
    let root_at = token.windows(root.len()).position(|w| w == &root[..]).expect("token embeds its root");
    let harmless = |p: usize| (26..41).contains(&p) || (root_at..root_at + root.len()).contains(&p);
    for input in &inputs {
        let result = verify_timestamp(input, &parts.signature, &globalsign_r6(), now());
        if result.is_ok() {
            let flipped = input.len() == token.len() && input != &token;
            let p = input.iter().zip(&token).position(|(a, b)| a != b);
            assert!(flipped && p.is_some_and(harmless), "mangled token accepted (change at {p:?})");
        }
    }
}
