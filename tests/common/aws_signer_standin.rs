//! A stand-in for AWS Signer's SignPayload, for the tests: no real Signer can run here and
//! moto 5.2.5 has no SignPayload, so this small loopback HTTP server speaks the operation's
//! rest-json wire format as `../shared/reference/servers.md` §4 records it (botocore
//! `signer/2017-08-25`): `POST /signing-jobs/with-payload`, base64 blobs in JSON, errors as an
//! HTTP status with `x-amzn-ErrorType`. It answers with a REAL Notation JWS envelope over the
//! payload it was sent, signed by a test chain laid out like AWS Signer's (root, intermediate,
//! regional CA, leaf; ES384), under the signing-authority scheme, naming AWS Signer's
//! verification plugin, with the critical attributes `com.amazonaws.signer.signingProfileVersion`
//! and `com.amazonaws.signer.signingJob`, as the AWS Signer Notation plugin receives them. It can
//! be told to misbehave.
//!
//! It also answers GetRevocationStatus (`GET /revocations`, the `signer-data` service) from a
//! list of revoked entities the test sets, the way the service does: the profile-version ARN,
//! job ARN and certificate hashes of the question that are revoked; and ListSigningProfiles
//! (`GET /signing-profiles`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::common::notary::{self, Ca, SignKey};

pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-west-2";
pub const PLUGIN: &str = "com.amazonaws.signer.notation.plugin";
pub const PROFILE_VERSION: &str = "IrwHQeF7XW";

/// How the next SignPayload requests are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// A genuine envelope over the payload received.
    Honest,
    /// A genuine envelope, but over another payload (another digest).
    OtherPayload,
    /// A genuine envelope without the signing-job attribute.
    MissingJob,
    /// A genuine envelope whose profile-version attribute names another profile.
    OtherProfile,
    /// A `signature` that is no envelope.
    Garbage,
    /// 403 AccessDeniedException.
    AccessDenied,
    /// 429 TooManyRequestsException (the SDK retries it).
    Throttled,
    /// 500 InternalServiceErrorException.
    ServerError,
}

/// How GetRevocationStatus is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationBehaviour {
    /// The revoked entities of the question, from [`StandIn::revoked`].
    Honest,
    /// 403 AccessDeniedException.
    AccessDenied,
    /// 500 InternalServiceErrorException.
    ServerError,
    /// 200 with a body that is not JSON.
    Garbage,
    /// The honest answer, 5 seconds late.
    Slow,
}

/// One request as the stand-in received it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: String,
    /// Without the query.
    pub path: String,
    /// The query's pairs, decoded, in order.
    pub query: Vec<(String, String)>,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Clone)]
pub struct StandIn {
    pub endpoint: String,
    /// DER, leaf first, ending with the root.
    pub chain: Arc<Vec<Vec<u8>>>,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub received: Arc<Mutex<Vec<Received>>>,
    /// Profiles that exist (others: ResourceNotFoundException).
    pub profiles: Arc<Mutex<Vec<String>>>,
    /// Entities GetRevocationStatus reports revoked when asked about them.
    pub revoked: Arc<Mutex<Vec<String>>>,
    pub revocation: Arc<Mutex<RevocationBehaviour>>,
}

pub fn profile_arn(name: &str) -> String {
    format!("arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/{name}")
}

struct Pki {
    key: SignKey,
    chain: Vec<Vec<u8>>,
}

fn pki() -> Pki {
    let root = Ca::root("AWS Signer Code Signing Root CA G1 (test)", 1, SignKey::p384(0xa1));
    let int = root.intermediate("AWS Signer Code Signing Int CA G1 (test)", 2, SignKey::p384(0xa2));
    let regional = int.intermediate("AWS Signer us-west-2 Code Signing CA G1 (test)", 3, SignKey::p384(0xa3));
    let key = SignKey::p384(0xa4);
    // Valid around now, whenever the tests run: the stand-in signs at the current time.
    let mut leaf = notary::leaf_params("AWS Signer", 4);
    leaf.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    leaf.not_after = time::OffsetDateTime::now_utc() + time::Duration::days(365);
    let leaf = regional.issue(&leaf, &key);
    Pki { key, chain: vec![leaf, regional.der.clone(), int.der.clone(), root.der.clone()] }
}

impl StandIn {
    pub fn start() -> StandIn {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let pki = Arc::new(pki());
        let s = StandIn {
            endpoint,
            chain: Arc::new(pki.chain.clone()),
            behaviour: Arc::new(Mutex::new(Behaviour::Honest)),
            received: Arc::default(),
            profiles: Arc::new(Mutex::new(vec!["notation_test".into()])),
            revoked: Arc::default(),
            revocation: Arc::new(Mutex::new(RevocationBehaviour::Honest)),
        };
        let me = s.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let me = me.clone();
                let pki = pki.clone();
                std::thread::spawn(move || me.serve(conn, &pki));
            }
        });
        s
    }

    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }

    pub fn root(&self) -> &[u8] {
        self.chain.last().unwrap()
    }

    pub fn requests(&self) -> usize {
        self.received.lock().unwrap().len()
    }

    /// The GetRevocationStatus questions received so far.
    pub fn revocation_queries(&self) -> Vec<Received> {
        self.received.lock().unwrap().iter().filter(|r| r.path == "/revocations").cloned().collect()
    }

    pub fn revoke(&self, entity: &str) {
        self.revoked.lock().unwrap().push(entity.to_string());
    }

    fn serve(&self, conn: TcpStream, pki: &Pki) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut conn = conn;
        // Keep-alive: the SDK reuses its connections.
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut words = line.split_whitespace();
            let method = words.next().unwrap_or("").to_string();
            let target = words.next().unwrap_or("");
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let path = path.to_string();
            let query: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
            let (mut length, mut authorization) = (0usize, None);
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 {
                    return;
                }
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                let (name, value) = h.split_once(':').unwrap_or((h, ""));
                match name.to_ascii_lowercase().as_str() {
                    "content-length" => length = value.trim().parse().unwrap_or(0),
                    "authorization" => authorization = Some(value.trim().to_string()),
                    _ => {}
                }
            }
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                return;
            }
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            self.received.lock().unwrap().push(Received {
                method: method.clone(),
                path: path.clone(),
                query: query.clone(),
                authorization,
                body: body.clone(),
            });
            let (status, error, text) = match (method.as_str(), path.as_str()) {
                ("GET", "/revocations") => self.revocation_answer(&query),
                ("GET", "/signing-profiles") => (200, None, self.profiles_answer(&query).to_string()),
                _ => {
                    let (status, error, answer) = self.answer(&path, &body, pki);
                    (status, error, answer.to_string())
                }
            };
            let error = error.map(|e| format!("x-amzn-ErrorType: {e}\r\n")).unwrap_or_default();
            let head = format!(
                "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{error}Content-Length: {}\r\n\r\n",
                text.len()
            );
            if conn.write_all(head.as_bytes()).and_then(|_| conn.write_all(text.as_bytes())).is_err() {
                return;
            }
        }
    }

    fn revocation_answer(&self, query: &[(String, String)]) -> (u16, Option<&'static str>, String) {
        let fail =
            |status, code: &'static str, message: &str| (status, Some(code), json!({"message": message}).to_string());
        match *self.revocation.lock().unwrap() {
            RevocationBehaviour::AccessDenied => {
                return fail(
                    403,
                    "AccessDeniedException",
                    "User is not authorized to perform: signer:GetRevocationStatus",
                );
            }
            RevocationBehaviour::ServerError => return fail(500, "InternalServiceErrorException", "internal error"),
            RevocationBehaviour::Garbage => return (200, None, "<html>not json".into()),
            RevocationBehaviour::Slow => std::thread::sleep(std::time::Duration::from_secs(5)),
            RevocationBehaviour::Honest => {}
        }
        for required in ["signatureTimestamp", "platformId", "profileVersionArn", "jobArn", "certificateHashes"] {
            if !query.iter().any(|(k, _)| k == required) {
                return fail(400, "ValidationException", &format!("{required} is required"));
            }
        }
        let revoked = self.revoked.lock().unwrap();
        let asked = query
            .iter()
            .filter(|(k, _)| matches!(k.as_str(), "profileVersionArn" | "jobArn" | "certificateHashes"))
            .map(|(_, v)| v.clone());
        let hits: Vec<String> = asked.filter(|v| revoked.contains(v)).collect();
        (200, None, json!({"revokedEntities": hits}).to_string())
    }

    fn profiles_answer(&self, query: &[(String, String)]) -> Value {
        let platform = query.iter().find(|(k, _)| k == "platformId").map(|(_, v)| v.as_str());
        let profiles: Vec<Value> = self
            .profiles
            .lock()
            .unwrap()
            .iter()
            .filter(|_| platform.is_none_or(|p| p == "Notation-OCI-SHA384-ECDSA"))
            .map(|name| {
                json!({
                    "profileName": name,
                    "profileVersion": PROFILE_VERSION,
                    "profileVersionArn": format!("{}/{PROFILE_VERSION}", profile_arn(name)),
                    "arn": profile_arn(name),
                    "platformId": "Notation-OCI-SHA384-ECDSA",
                    "platformDisplayName": "Notation for Container Registries",
                    "status": "Active",
                })
            })
            .collect();
        json!({ "profiles": profiles })
    }

    fn answer(&self, path: &str, body: &Value, pki: &Pki) -> (u16, Option<&'static str>, Value) {
        let fail = |status, code: &'static str, message: &str| (status, Some(code), json!({"message": message}));
        if path != "/signing-jobs/with-payload" {
            return fail(404, "ResourceNotFoundException", "no such operation in the stand-in");
        }
        let name = body["profileName"].as_str().unwrap_or("");
        if body["payloadFormat"] != "application/vnd.cncf.notary.payload.v1+json" {
            return fail(400, "ValidationException", "payloadFormat");
        }
        if body["profileOwner"].as_str().is_some_and(|o| o != ACCOUNT) {
            return fail(403, "AccessDeniedException", "not this account's profile");
        }
        let Some(payload) = body["payload"].as_str().and_then(|p| STANDARD.decode(p).ok()) else {
            return fail(400, "ValidationException", "payload");
        };
        match *self.behaviour.lock().unwrap() {
            Behaviour::AccessDenied => {
                return fail(403, "AccessDeniedException", "User is not authorized to perform: signer:SignPayload");
            }
            Behaviour::Throttled => return fail(429, "TooManyRequestsException", "Rate exceeded"),
            Behaviour::ServerError => return fail(500, "InternalServiceErrorException", "internal error"),
            _ => {}
        }
        if !self.profiles.lock().unwrap().iter().any(|p| p == name) {
            return fail(404, "ResourceNotFoundException", &format!("Profile {name} not found"));
        }
        let n = self.requests();
        let job_id = format!("0c0f6c3e-test-job-{n}");
        let job_arn = format!("arn:aws:signer:{REGION}:{ACCOUNT}:/signing-jobs/{job_id}");
        let behaviour = *self.behaviour.lock().unwrap();
        let profile = if behaviour == Behaviour::OtherProfile { "another_profile" } else { name };
        let version_arn = format!("{}/{PROFILE_VERSION}", profile_arn(profile));
        let signature = match behaviour {
            Behaviour::Garbage => b"this is not a JWS".to_vec(),
            b => {
                let payload = if b == Behaviour::OtherPayload {
                    let mut v: Value = serde_json::from_slice(&payload).unwrap();
                    v["targetArtifact"]["digest"] = json!(format!("sha256:{}", "ab".repeat(32)));
                    serde_json::to_vec(&v).unwrap()
                } else {
                    payload
                };
                let job = (b != Behaviour::MissingJob).then_some(job_arn.as_str());
                envelope(pki, &payload, &version_arn, job)
            }
        };
        let metadata = json!({
            "com.amazonaws.signer.signingProfileVersion": version_arn,
            "com.amazonaws.signer.signingJob": job_arn,
        });
        (
            200,
            None,
            json!({"jobId": job_id, "jobOwner": ACCOUNT, "metadata": metadata, "signature": STANDARD.encode(signature)}),
        )
    }
}

/// A Notation JWS as AWS Signer writes it: signing-authority scheme, the plugin named, the two
/// AWS attributes critical, an expiry (the profile's validity).
fn envelope(pki: &Pki, payload: &[u8], version_arn: &str, job_arn: Option<&str>) -> Vec<u8> {
    let now = chrono::Utc::now();
    let attrs = notary::Attrs::signing_authority(now, Some(now + chrono::Duration::days(365)));
    let mut h = notary::jws_header("ES384", &attrs);
    h.insert("io.cncf.notary.verificationPlugin".into(), json!(PLUGIN));
    h.insert("com.amazonaws.signer.signingProfileVersion".into(), json!(version_arn));
    let crit = h["crit"].as_array_mut().unwrap();
    crit.push(json!("io.cncf.notary.verificationPlugin"));
    crit.push(json!("com.amazonaws.signer.signingProfileVersion"));
    if let Some(job) = job_arn {
        crit.push(json!("com.amazonaws.signer.signingJob"));
        h.insert("com.amazonaws.signer.signingJob".into(), json!(job));
    }
    h.sort_keys();
    let header = serde_json::to_vec(&h).unwrap();
    notary::Jws::sign(&pki.key, &header, payload, &pki.chain).bytes()
}
