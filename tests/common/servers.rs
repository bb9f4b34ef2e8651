//! Real registry servers started by the tests: Debian's docker-registry (distribution 2.8),
//! plain, with htpasswd or with token auth, and ferro-oci-server (native referrers API).
//! Each runs on a free loopback port with its own temp dir and is killed on drop. A missing
//! server fails the test with the command that installs it: nothing is skipped silently.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const INSTALL_DISTRIBUTION: &str = "apt-get install -y docker-registry apache2-utils python3-cryptography";
pub const INSTALL_FERRO: &str = "cargo install --root .tools ferro-oci-server";

pub struct Server {
    pub addr: SocketAddr,
    /// `127.0.0.1:PORT`, the registry host for sigscope.
    pub host: String,
    pub dir: tempfile::TempDir,
    children: Vec<Child>,
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port").local_addr().unwrap().port()
}

fn find_program(name: &str, candidates: &[PathBuf], install: &str) -> PathBuf {
    for c in candidates {
        if c.is_file() {
            return c.clone();
        }
    }
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!("{name} is not installed; these tests need it. Install it with: {install}");
}

/// Waits until `GET /v2/` answers with any HTTP status, or panics with the server's log.
fn wait_ready(addr: SocketAddr, path: &str, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server exited early ({status}); log:\n{}", std::fs::read_to_string(log).unwrap_or_default());
        }
        if let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
            let mut buf = [0u8; 5];
            if s.read_exact(&mut buf).is_ok() && &buf == b"HTTP/" {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "server on {addr} did not answer {path} within 20 s; log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

fn spawn(mut cmd: Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).expect("create log");
    cmd.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
    cmd.spawn().unwrap_or_else(|e| panic!("cannot start {:?}: {e}", cmd.get_program()))
}

pub const TLS_NAME: &str = "registry.sigscope.test";

fn distribution(auth_yaml: &str, dir: tempfile::TempDir, children: Vec<Child>) -> Server {
    start_distribution(auth_yaml, "", dir, children)
}

fn distribution_http_extra(http_yaml: &str, dir: tempfile::TempDir) -> Server {
    start_distribution("", http_yaml, dir, Vec::new())
}

fn start_distribution(auth_yaml: &str, http_yaml: &str, dir: tempfile::TempDir, mut children: Vec<Child>) -> Server {
    let registry = find_program("docker-registry", &[PathBuf::from("/usr/bin/docker-registry")], INSTALL_DISTRIBUTION);
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let config = dir.path().join("config.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  delete:\n    enabled: true\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n{http_yaml}{auth_yaml}",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let log = dir.path().join("registry.log");
    let mut cmd = Command::new(registry);
    cmd.arg("serve").arg(&config).env("REGISTRY_HTTP_ADDR", addr.to_string());
    let mut child = spawn(cmd, &log);
    wait_ready(addr, "/v2/", &mut child, &log);
    children.push(child);
    Server { addr, host: addr.to_string(), dir, children }
}

impl Server {
    /// docker-registry (distribution 2.8), anonymous read and write.
    pub fn docker_registry() -> Server {
        distribution("", tempfile::tempdir().unwrap(), Vec::new())
    }

    /// docker-registry with htpasswd Basic auth for one user.
    pub fn docker_registry_htpasswd(user: &str, pass: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let htpasswd = find_program("htpasswd", &[], INSTALL_DISTRIBUTION);
        let file = dir.path().join("htpasswd");
        let st = Command::new(htpasswd).args(["-Bbc"]).arg(&file).args([user, pass]).output().expect("run htpasswd");
        assert!(st.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&st.stderr));
        let auth = format!("auth:\n  htpasswd:\n    realm: sigscope-test\n    path: {}\n", file.display());
        distribution(&auth, dir, Vec::new())
    }

    /// docker-registry with token auth, plus our token server (`tokenserver.py`): anonymous
    /// callers may pull; `user`/`pass` (Basic) or the OAuth2 `refresh` token get everything.
    pub fn docker_registry_token(user: &str, pass: &str, refresh: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let python = find_program("python3", &[], INSTALL_DISTRIBUTION);
        let script = repo_root().join("tests/common/tokenserver.py");
        let generated = Command::new(&python).arg(&script).arg("gen").arg(dir.path()).output().expect("run python3");
        assert!(
            generated.status.success(),
            "tokenserver.py gen failed (is python3-cryptography installed? {INSTALL_DISTRIBUTION}): {}",
            String::from_utf8_lossy(&generated.stderr)
        );
        let port = free_port();
        let taddr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = dir.path().join("tokenserver.log");
        let mut cmd = Command::new(&python);
        cmd.arg(&script)
            .arg("serve")
            .arg(port.to_string())
            .arg(dir.path())
            .env("TOKEN_USER", user)
            .env("TOKEN_PASS", pass)
            .env("TOKEN_REFRESH", refresh);
        let mut child = spawn(cmd, &log);
        wait_ready(taddr, "/token", &mut child, &log);
        let auth = format!(
            "auth:\n  token:\n    realm: http://{taddr}/token\n    service: sigscope-test\n    issuer: test-issuer\n    rootcertbundle: {}\n",
            dir.path().join("cert.pem").display()
        );
        distribution(&auth, dir, vec![child])
    }

    /// docker-registry over TLS with a private CA. `host` is `registry.sigscope.test:PORT`, a
    /// name only sigscope knows (pin it with [`Server::resolve`]); the CA is `dir/ca.pem`.
    pub fn docker_registry_tls() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let openssl = find_program("openssl", &[], "apt-get install -y openssl");
        let d = dir.path();
        let run = |args: &[&str]| {
            let out = Command::new(&openssl).current_dir(d).args(args).output().expect("run openssl");
            assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        };
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        run(&[
            &["req", "-x509"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "30",
                "-subj",
                "/CN=sigscope test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        ]
        .concat());
        run(&[
            &["req"][..],
            &ec,
            &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=registry.sigscope.test"],
        ]
        .concat());
        std::fs::write(
            d.join("ext.cnf"),
            "subjectAltName=DNS:registry.sigscope.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
        )
        .unwrap();
        run(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "30",
            "-extfile",
            "ext.cnf",
        ]);
        let tls = format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            d.join("server.pem").display(),
            d.join("server.key").display()
        );
        let mut server = distribution_http_extra(&tls, dir);
        server.host = format!("{TLS_NAME}:{}", server.addr.port());
        server
    }

    /// The `RegistryOptions::resolve` entry that reaches this server under its `host` name.
    pub fn resolve(&self) -> (String, SocketAddr) {
        (self.host.split(':').next().unwrap().to_string(), self.addr)
    }

    /// ferro-oci-server: `$SIGSCOPE_FERRO`, else `<repo>/.tools/bin/ferro-oci-server`, else PATH.
    pub fn ferro() -> Server {
        let mut candidates = Vec::new();
        if let Some(p) = std::env::var_os("SIGSCOPE_FERRO") {
            candidates.push(PathBuf::from(p));
        }
        candidates.push(repo_root().join(".tools/bin/ferro-oci-server"));
        let bin = find_program("ferro-oci-server", &candidates, INSTALL_FERRO);
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let log = dir.path().join("ferro.log");
        let mut cmd = Command::new(bin);
        cmd.env("FERRO_OCI_LISTEN", addr.to_string()).env("FERRO_OCI_STORAGE_DIR", &data);
        let mut child = spawn(cmd, &log);
        wait_ready(addr, "/v2/", &mut child, &log);
        Server { addr, host: addr.to_string(), dir, children: vec![child] }
    }
}

pub const INSTALL_MOTO: &str =
    "python3 -m venv .tools/moto && .tools/moto/bin/pip install 'moto[server]==5.2.5' (scripts/test.sh does this)";

/// The password of moto's fixed ECR token (`AWS:123456789012-auth-token`), for the registry
/// that stands in for ECR's registry endpoint.
pub const MOTO_ECR_PASSWORD: &str = "123456789012-auth-token";
/// The account moto answers for.
pub const MOTO_ACCOUNT: &str = "123456789012";

impl Server {
    /// moto's server (`moto[server]`), serving the AWS APIs (ECR among them) on one port:
    /// `$SIGSCOPE_MOTO`, else `<repo>/.tools/moto/bin/moto_server`, else PATH. `host` is
    /// `127.0.0.1:PORT`; the SDK reaches it with `AWS_ENDPOINT_URL_ECR=http://host`.
    pub fn moto() -> Server {
        let mut candidates = Vec::new();
        if let Some(p) = std::env::var_os("SIGSCOPE_MOTO") {
            candidates.push(PathBuf::from(p));
        }
        candidates.push(repo_root().join(".tools/moto/bin/moto_server"));
        let bin = find_program("moto_server", &candidates, INSTALL_MOTO);
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let log = dir.path().join("moto.log");
        let mut cmd = Command::new(bin);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut child = spawn(cmd, &log);
        wait_ready(addr, "/moto-api/", &mut child, &log);
        Server { addr, host: addr.to_string(), dir, children: vec![child] }
    }

    /// The processes this server runs, for a test that keeps a server in a `static` (never
    /// dropped) and must stop it at exit itself.
    pub fn pids(&self) -> Vec<u32> {
        self.children.iter().map(Child::id).collect()
    }

    /// docker-registry standing in for the registry endpoint of moto's ECR: htpasswd user
    /// `AWS` with the password of moto's token.
    pub fn moto_ecr_registry() -> Server {
        Server::docker_registry_htpasswd("AWS", MOTO_ECR_PASSWORD)
    }
}
