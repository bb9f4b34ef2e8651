//! Asking an RFC 3161 TSA to countersign a signature, as `notation sign --timestamp-url` does:
//! the imprint is the signature algorithm's hash of the raw signature bytes, the answer must be
//! granted, carry our nonce, and pass the verifier's own timestamp checks against the given
//! roots before it is embedded — a token we could not verify would only fail later, elsewhere.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use sha2::Digest as _;

use crate::error::{Error, Result};
use crate::notation::envelope::Algorithm;

/// A token is a few kilobytes; anything far larger is not a TSA answering.
const MAX_RESPONSE: usize = 1 << 20;

/// Where to ask and what to trust the answer against.
#[derive(Debug, Clone)]
pub struct TimestampOptions {
    pub url: String,
    /// DER root certificates the TSA's chain must end in.
    pub roots: Vec<Vec<u8>>,
    /// The whole exchange with the TSA, connection to last byte.
    pub timeout: Duration,
}

/// A TSA's root certificates come in a small PEM file; anything far larger is not one.
const MAX_ROOT_FILE: u64 = 1 << 20;

impl TimestampOptions {
    /// The TSA at `url` and the roots in the PEM file `root`, checked before anything is asked
    /// of a registry: an http(s) URL, a regular file (a FIFO or device is refused, not waited
    /// on) with at least one certificate. `settings` names the two settings in messages
    /// (`--timestamp-url` and `--timestamp-root-cert`, or a `[[signing.key]]`'s). Reads a file:
    /// call it off the UI thread.
    pub fn from_files(url: &str, root: &std::path::Path, timeout: Duration, settings: (&str, &str)) -> Result<Self> {
        let usage = |detail: String| Error::Usage(detail);
        let (what_url, what) = settings;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(usage(format!("{what_url} {url:?} is not an http:// or https:// URL")));
        }
        let text = crate::fsread::read_to_string(root, MAX_ROOT_FILE, crate::fsread::Symlinks::Follow)
            .map_err(|e| usage(format!("{what}: cannot read it: {e}")))?;
        let roots =
            crate::inspect::x509::pem_certs(&text).map_err(|e| usage(format!("{what} {}: {e}", root.display())))?;
        if roots.is_empty() {
            return Err(usage(format!("{what} {}: no PEM certificate in it", root.display())));
        }
        Ok(TimestampOptions { url: url.to_string(), roots, timeout })
    }
}

#[derive(Clone, Copy)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    /// notation-core-go hashes the signature with the hash of the signature algorithm.
    fn of(alg: Algorithm) -> Self {
        match alg {
            Algorithm::PS256 | Algorithm::ES256 => Hash::Sha256,
            Algorithm::PS384 | Algorithm::ES384 => Hash::Sha384,
            Algorithm::PS512 | Algorithm::ES512 => Hash::Sha512,
        }
    }
    fn oid(self) -> const_oid::ObjectIdentifier {
        const_oid::ObjectIdentifier::new_unwrap(match self {
            Hash::Sha256 => "2.16.840.1.101.3.4.2.1",
            Hash::Sha384 => "2.16.840.1.101.3.4.2.2",
            Hash::Sha512 => "2.16.840.1.101.3.4.2.3",
        })
    }
    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}

/// Requests a token countersigning `signature` (made with `alg`) from the TSA at `options.url`
/// and returns its DER once it verifies against `options.roots` and its time lies within the
/// validity of every certificate of `signing_chain` (else the verifier's authenticTimestamp
/// check would refuse the signature later).
pub async fn request_token(
    options: &TimestampOptions,
    signature: &[u8],
    alg: Algorithm,
    signing_chain: &[Vec<u8>],
) -> Result<Vec<u8>> {
    let tsa = &options.url;
    let bad = |detail: String| Error::malformed(format!("the timestamp from the TSA {tsa}"), detail);
    let nonce = random_nonce();
    let query = time_stamp_req(Hash::of(alg), signature, nonce);
    let body = post(tsa, query, options.timeout).await?;
    let token = granted_token(&body).map_err(bad)?;
    let info = crate::notation::timestamp::verify_timestamp(&token, signature, &options.roots, chrono::Utc::now())
        .map_err(|e| bad(format!("it does not verify against the TSA root certificate given: {e}")))?;
    crate::notation::timestamp::check_signing_chain_validity(&info, signing_chain)
        .map_err(|e| bad(format!("its time is outside the signing certificates' validity: {e}")))?;
    match crate::notation::timestamp::token_nonce(&token).map_err(bad)? {
        Some(n) if n == nonce => {}
        Some(_) => return Err(bad("its nonce is not the one sent: it answers another request".into())),
        None => return Err(bad("it carries no nonce, though one was sent".into())),
    }
    Ok(token)
}

/// The envelope with `token` in its unprotected header, where notation-core-go puts it
/// (`io.cncf.notary.timestampSignature`: standard base64 in JWS, a byte string in COSE). The
/// signed parts are kept byte for byte, so the signature stays valid.
pub fn embed(media_type: &str, envelope: &[u8], token: &[u8]) -> Result<Vec<u8>> {
    use base64::Engine as _;
    let bad = |detail: String| Error::malformed("the signature envelope to timestamp", detail);
    let header = crate::notation::envelope::headers::TIMESTAMP_SIGNATURE;
    match media_type {
        crate::oci::media::JWS => {
            let mut v: serde_json::Value = serde_json::from_slice(envelope).map_err(|e| bad(e.to_string()))?;
            let unprotected = v
                .get_mut("header")
                .and_then(serde_json::Value::as_object_mut)
                .ok_or_else(|| bad("it has no unprotected header".into()))?;
            unprotected.insert(header.into(), base64::engine::general_purpose::STANDARD.encode(token).into());
            serde_json::to_vec(&v).map_err(|e| bad(e.to_string()))
        }
        crate::oci::media::COSE => {
            use coset::TaggedCborSerializable as _;
            let mut sign1 = coset::CoseSign1::from_tagged_slice(envelope).map_err(|e| bad(e.to_string()))?;
            sign1
                .unprotected
                .rest
                .push((coset::Label::Text(header.into()), coset::cbor::value::Value::Bytes(token.to_vec())));
            sign1.to_tagged_vec().map_err(|e| bad(e.to_string()))
        }
        other => Err(bad(format!("{other} is not a Notation envelope type"))),
    }
}

/// Random enough to tell this request's answer from a replayed one; no secrecy is needed.
fn random_nonce() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    // Positive and 63 bits, so every TSA's INTEGER handling reads it back the same.
    h.finish() >> 1
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// TimeStampReq (RFC 3161 §2.4.1): version 1, the imprint, our nonce, certReq true (the
/// verifier needs the TSA certificate from the token).
fn time_stamp_req(hash: Hash, signature: &[u8], nonce: u64) -> Vec<u8> {
    let alg = tlv(0x30, &[hash.oid().to_der().expect("OID encodes"), vec![0x05, 0x00]].concat());
    let digest = OctetStringRef::new(&hash.digest(signature)).expect("digest fits").to_der().expect("encodes");
    let imprint = tlv(0x30, &[alg, digest].concat());
    let version = 1u8.to_der().expect("encodes");
    let nonce = nonce.to_der().expect("encodes");
    let cert_req = true.to_der().expect("encodes");
    tlv(0x30, &[version, imprint, nonce, cert_req].concat())
}

async fn post(tsa: &str, query: Vec<u8>, timeout: Duration) -> Result<Vec<u8>> {
    let network = |detail: String| Error::Network { target: format!("the TSA {tsa}"), detail };
    let client = reqwest::Client::builder().timeout(timeout).build().map_err(|e| network(e.to_string()))?;
    let mut resp = client
        .post(tsa)
        .header(reqwest::header::CONTENT_TYPE, "application/timestamp-query")
        .body(query)
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                network(format!("no answer within {}s", timeout.as_secs()))
            } else {
                network(e.to_string())
            }
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err(Error::Server {
            target: format!("the TSA {tsa}"),
            status: status.as_u16(),
            detail: "timestamp request refused".into(),
        });
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| network(e.to_string()))? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Err(Error::TooLarge {
                what: format!("the answer of the TSA {tsa}"),
                size: (body.len() + chunk.len()) as u64,
                limit: MAX_RESPONSE as u64,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// TimeStampResp: PKIStatusInfo then the token; only granted (0) and grantedWithMods (1) carry
/// a token worth reading.
fn granted_token(body: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let resp = AnyRef::from_der(body).map_err(|e| format!("the answer is not a DER TimeStampResp: {e}"))?;
    if resp.tag() != Tag::Sequence {
        return Err("the answer is not a DER TimeStampResp".into());
    }
    let mut r = SliceReader::new(resp.value()).map_err(|e| e.to_string())?;
    let status_info: AnyRef<'_> = r.decode().map_err(|e| format!("TimeStampResp status: {e}"))?;
    let mut s = SliceReader::new(status_info.value()).map_err(|e| e.to_string())?;
    let status: u8 = s.decode().map_err(|e| format!("TimeStampResp status: {e}"))?;
    if status > 1 {
        return Err(format!("the TSA did not grant the request (PKIStatus {status})"));
    }
    if r.is_finished() {
        return Err("the TSA granted the request but sent no token".into());
    }
    let token: AnyRef<'_> = r.decode().map_err(|e| format!("timeStampToken: {e}"))?;
    token.to_der().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_der_with_imprint_and_nonce() {
        let req = time_stamp_req(Hash::Sha256, b"sig", 42);
        let any = AnyRef::from_der(&req).unwrap();
        assert_eq!(any.tag(), Tag::Sequence);
        let digest: [u8; 32] = sha2::Sha256::digest(b"sig").into();
        assert!(req.windows(32).any(|w| w == digest));
        assert!(req.ends_with(&[0x02, 0x01, 42, 0x01, 0x01, 0xff]));
    }

    #[test]
    fn refused_and_garbage_answers_are_errors() {
        assert!(granted_token(b"<html>").unwrap_err().contains("not a DER"));
        // status 2 (rejection), no token
        let rejected = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02];
        assert!(granted_token(&rejected).unwrap_err().contains("did not grant"));
        let granted_empty = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x00];
        assert!(granted_token(&granted_empty).unwrap_err().contains("no token"));
    }
}
