//! A real RFC 3161 timestamp authority for the tests: `openssl ts -reply` (OpenSSL's TSA) behind
//! a small loopback HTTP handler. The PKI (a root and a TSA certificate with the critical
//! timeStamping EKU) is made by the openssl CLI. Besides answering honestly it can be told to
//! misbehave the ways a broken or hostile TSA does.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How the TSA answers the next requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Behaviour {
    /// `openssl ts -reply` to the query received.
    Honest,
    /// Bytes that are no TimeStampResp.
    Garbage,
    /// A genuine granted token, but for a query over other bytes.
    OtherBytes,
    /// A genuine granted token over the right imprint, answering another request (its nonce).
    OtherNonce,
    /// PKIStatus rejection, no token.
    Rejected,
    /// HTTP 500.
    ServerError,
    /// Reads the query and never answers.
    Stall,
}

#[derive(Clone)]
pub struct Tsa {
    pub url: String,
    dir: Arc<tempfile::TempDir>,
    behaviour: Arc<Mutex<Behaviour>>,
    pub requests: Arc<Mutex<usize>>,
}

const EXT: &str = "[ca_ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n\
    [tsa_ext]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
    extendedKeyUsage=critical,timeStamping\n";

const CONFIG: &str = "[ tsa ]\ndefault_tsa = tsa1\n[ tsa1 ]\ndir = .\nserial = ./serial\n\
    crypto_device = builtin\nsigner_cert = ./tsa.pem\ncerts = ./tsa.pem\nsigner_key = ./tsa.key\n\
    signer_digest = sha256\ndefault_policy = 1.2.3.4.1\nother_policies = 1.2.3.4.5\n\
    digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\ntsa_name = no\n\
    ess_cert_id_chain = no\ness_cert_id_alg = sha256\n";

fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl must be installed (apt-get install openssl)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

impl Tsa {
    /// A TSA with its own root (`root.pem`), listening on a loopback port.
    pub fn start() -> Tsa {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("ext.cnf"), EXT).unwrap();
        std::fs::write(d.join("tsa.cnf"), CONFIG).unwrap();
        std::fs::write(d.join("serial"), "01\n").unwrap();
        for (key, subject) in [("root", "/CN=Test TSA Root/O=Test"), ("tsa", "/CN=Test TSA/O=Test")] {
            openssl(
                d,
                &["genpkey", "-algorithm", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", &format!("{key}.key")],
            );
            openssl(
                d,
                &["req", "-new", "-key", &format!("{key}.key"), "-subj", subject, "-out", &format!("{key}.csr")],
            );
        }
        openssl(
            d,
            &["x509", "-req", "-in", "root.csr", "-signkey", "root.key", "-days", "30"]
                .into_iter()
                .chain(["-extfile", "ext.cnf", "-extensions", "ca_ext", "-out", "root.pem"])
                .collect::<Vec<_>>(),
        );
        openssl(
            d,
            &["x509", "-req", "-in", "tsa.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial"]
                .into_iter()
                .chain(["-days", "20", "-extfile", "ext.cnf", "-extensions", "tsa_ext", "-out", "tsa.pem"])
                .collect::<Vec<_>>(),
        );
        // OpenSSL 3.0's `x509 -req` cannot backdate notBefore, and a token whose genTime less
        // its accuracy (1 s) falls before it is rightly refused: let the certificate age.
        std::thread::sleep(Duration::from_millis(2100));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let tsa = Tsa {
            url: format!("http://{}/tsr", listener.local_addr().unwrap()),
            dir: Arc::new(dir),
            behaviour: Arc::new(Mutex::new(Behaviour::Honest)),
            requests: Arc::new(Mutex::new(0)),
        };
        let t = tsa.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let t = t.clone();
                std::thread::spawn(move || t.answer(stream));
            }
        });
        tsa
    }

    pub fn root_pem(&self) -> PathBuf {
        self.dir.path().join("root.pem")
    }

    pub fn root_der(&self) -> Vec<u8> {
        openssl(self.dir.path(), &["x509", "-in", "root.pem", "-outform", "DER"])
    }

    pub fn set(&self, b: Behaviour) {
        *self.behaviour.lock().unwrap() = b;
    }

    pub fn request_count(&self) -> usize {
        *self.requests.lock().unwrap()
    }

    fn answer(&self, mut stream: TcpStream) {
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let Some(query) = read_post(&stream) else { return };
        *self.requests.lock().unwrap() += 1;
        let behaviour = *self.behaviour.lock().unwrap();
        let body = match behaviour {
            Behaviour::Stall => {
                std::thread::sleep(Duration::from_secs(600));
                return;
            }
            Behaviour::ServerError => return respond(&mut stream, 500, b"tsa broke"),
            Behaviour::Garbage => b"<html>not a timestamp</html>".to_vec(),
            Behaviour::Rejected => vec![0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x02],
            Behaviour::Honest => self.reply(&query),
            Behaviour::OtherBytes => {
                let other = self.query(&["-data", "tsa.cnf", "-sha256", "-cert"]);
                self.reply(&other)
            }
            Behaviour::OtherNonce => {
                // The same imprint, asked again: openssl picks a fresh random nonce.
                let imprint = self.imprint_hex(&query);
                let other = self.query(&["-digest", &imprint, "-sha256", "-cert"]);
                self.reply(&other)
            }
        };
        respond(&mut stream, 200, &body);
    }

    fn scratch(&self, bytes: &[u8]) -> String {
        let name = format!("q{}.tsq", rand_suffix());
        std::fs::write(self.dir.path().join(&name), bytes).unwrap();
        name
    }

    fn reply(&self, query: &[u8]) -> Vec<u8> {
        let q = self.scratch(query);
        let out = format!("{q}.tsr");
        let status = Command::new("openssl")
            .args(["ts", "-reply", "-config", "tsa.cnf", "-queryfile", &q, "-out", &out])
            .current_dir(self.dir.path())
            .output()
            .expect("openssl");
        if !status.status.success() {
            // What OpenSSL's TSA does with a query it cannot parse is its own answer: pass on
            // whatever it wrote, or nothing.
            return std::fs::read(self.dir.path().join(&out)).unwrap_or_default();
        }
        std::fs::read(self.dir.path().join(out)).unwrap()
    }

    fn query(&self, args: &[&str]) -> Vec<u8> {
        let out = format!("o{}.tsq", rand_suffix());
        openssl(self.dir.path(), &[&["ts", "-query"], args, &["-out", &out]].concat());
        std::fs::read(self.dir.path().join(out)).unwrap()
    }

    /// The hashed message of a TimeStampReq: SEQUENCE { version, messageImprint SEQUENCE {
    /// algorithm, OCTET STRING }, … }.
    fn imprint_hex(&self, query: &[u8]) -> String {
        use der::{Decode, Reader};
        let req = der::asn1::AnyRef::from_der(query).expect("a DER TimeStampReq");
        let mut r = der::SliceReader::new(req.value()).unwrap();
        let _version: der::asn1::AnyRef<'_> = r.decode().unwrap();
        let imprint: der::asn1::AnyRef<'_> = r.decode().unwrap();
        let mut r = der::SliceReader::new(imprint.value()).unwrap();
        let _alg: der::asn1::AnyRef<'_> = r.decode().unwrap();
        let hashed: der::asn1::OctetStringRef<'_> = r.decode().unwrap();
        hex::encode(hashed.as_bytes())
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn read_post(stream: &TcpStream) -> Option<Vec<u8>> {
    let mut reader = BufReader::new(stream);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(body)
}

fn respond(stream: &mut TcpStream, status: u16, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Type: application/timestamp-reply\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}
