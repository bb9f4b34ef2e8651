//! Signing: a [`Signer`] (a key and its certificate chain) and the Notation envelope writers,
//! JWS (`jws`) and COSE_Sign1 (`cose`), with the headers notation-core-go writes (checked
//! against its conformance vectors). Who signs: a local key (`key`, checked by `precheck`), the
//! demo's key, or AWS Signer's SignPayload (`aws_signer`); `pipeline` stores the result,
//! `timestamp` asks a TSA to countersign it.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::oci::Descriptor;

pub mod aws_signer;
pub mod cose;
pub mod jws;
pub mod key;
pub mod manifest;
pub mod pipeline;
pub mod precheck;
pub mod timestamp;

/// What signs: the algorithm follows the key, the chain goes into the envelope (leaf first).
pub trait Signer {
    /// JOSE algorithm name (`ES256`, `PS384`…).
    fn jws_alg(&self) -> &'static str;
    /// The same algorithm as COSE names it.
    fn cose_alg(&self) -> coset::iana::Algorithm;
    /// The signature over `msg` in the raw form JWS and COSE carry (`r || s` for ECDSA).
    fn sign(&self, msg: &[u8]) -> Vec<u8>;
    /// DER certificates, leaf first, ending with the root.
    fn chain(&self) -> &[Vec<u8>];
}

/// Signed attributes of one signature.
#[derive(Debug, Clone, Copy)]
pub struct Attrs {
    pub signing_time: DateTime<Utc>,
    pub expiry: Option<DateTime<Utc>>,
    /// Extended signed attributes (string values), in the order the signer was given them.
    pub extended: &'static [Extended],
    /// `io.cncf.notary.signingAgent` (unprotected).
    pub signing_agent: &'static str,
}

#[derive(Debug, Clone, Copy)]
pub struct Extended {
    pub key: &'static str,
    pub value: &'static str,
    pub critical: bool,
}

/// The Notation payload: only mediaType, digest and size of the target, which is all a
/// verifier compares.
pub fn payload(target: &Descriptor) -> Vec<u8> {
    let v = json!({"targetArtifact": {
        "mediaType": target.media_type,
        "digest": target.digest,
        "size": target.size,
    }});
    serde_json::to_vec(&v).expect("payload serialises")
}
