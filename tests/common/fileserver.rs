//! Stand-in for a CA's CRL web server, shared by the revocation tests (no real CA server can
//! run here; this one only serves the bytes a test registers).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Stand-in for a CA's CRL web server: a plain TcpListener answering each GET with the
/// bytes registered for its path (404 otherwise), one request per connection, each
/// connection on its own thread (so a dripping answer does not hold up the others). Counts
/// the requests per path so tests can tell a cache hit from a fetch.
#[derive(Clone)]
pub struct FileServer {
    pub base: String,
    pub files: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    pub hits: Arc<Mutex<HashMap<String, usize>>>,
    /// Paths whose body is sent one byte per interval (a hostile or broken server that
    /// never stalls long enough for a per-read timeout to fire).
    pub drips: Arc<Mutex<HashMap<String, Duration>>>,
}

impl FileServer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let server = Self::at(format!("http://{}", listener.local_addr().unwrap()));
        let s = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || s.answer(stream));
            }
        });
        server
    }

    /// A server value for `base` with nothing listening behind it (a dead or silent host
    /// the test set up itself).
    pub fn at(base: String) -> Self {
        FileServer { base, files: Arc::default(), hits: Arc::default(), drips: Arc::default() }
    }

    fn answer(&self, mut stream: TcpStream) {
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&buf[..n]),
            }
        }
        let line = String::from_utf8_lossy(&request).lines().next().unwrap_or_default().to_string();
        let path = line.split(' ').nth(1).unwrap_or("/").to_string();
        *self.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
        let body = self.files.lock().unwrap().get(&path).cloned();
        let Some(body) = body else {
            let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return;
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        let drip = self.drips.lock().unwrap().get(&path).copied();
        match drip {
            None => {
                let mut r = head.into_bytes();
                r.extend_from_slice(&body);
                let _ = stream.write_all(&r);
            }
            Some(interval) => {
                let _ = stream.write_all(head.as_bytes());
                for byte in body {
                    std::thread::sleep(interval);
                    // The client gave up: stop dripping.
                    if stream.write_all(&[byte]).and_then(|()| stream.flush()).is_err() {
                        return;
                    }
                }
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.files.lock().unwrap().insert(path.to_string(), body);
    }

    /// Serves `body` at `path`, one byte every `interval` after the headers.
    pub fn put_dripping(&self, path: &str, body: Vec<u8>, interval: Duration) {
        self.drips.lock().unwrap().insert(path.to_string(), interval);
        self.put(path, body);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

/// Revocation checked online (against a [`FileServer`]), CRLs cached in `cache`.
pub fn online(cache: &std::path::Path) -> sigscope::notation::revocation::RevocationMode {
    sigscope::notation::revocation::RevocationMode::Online {
        cache_dir: cache.to_path_buf(),
        timeout: std::time::Duration::from_secs(5),
    }
}
