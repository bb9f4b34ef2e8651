//! The words of an authentication failure (issue 8, CLI), on real registries: a password the
//! registry refuses says the credentials were rejected; only a caller who sent none is told to
//! pass --username. The real binary, docker-registry with htpasswd and with token auth.

mod common;

use common::{Server, test_options};
use sigscope::source::registry::{RegistryClient, RegistryOptions};

use common::cmd;

/// Runs the binary; with `login` its user goes to --username and its password to stdin.
fn sigscope(args: &[&str], login: Option<(&str, &str)>) -> (i32, String, String) {
    let bin = cmd::sigscope(args);
    match login {
        Some((user, password)) => bin.login(user, password),
        None => bin,
    }
    .output()
}

fn seed(server: &Server, user: &str, pass: &str) {
    let opts = RegistryOptions { credentials: Some((user.into(), pass.into())), ..test_options() };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = RegistryClient::new(&server.host, opts).unwrap();
        common::seed(&client, "secure/app").await;
    });
}

fn notation_dir() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    sigscope::demo::export(&dir.path().join("d")).unwrap();
    let notation = dir.path().join("d/notation").display().to_string();
    (dir, notation)
}

/// A refused password: rejected, not "pass --username"; exit 3; the password nowhere.
fn assert_rejected(code: i32, out: &str, err: &str, secret: &str) {
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("rejected the credentials"), "{err}");
    assert!(!err.contains("pass --username"), "the user did pass --username: {err}");
    assert!(!err.contains(secret) && !out.contains(secret), "{out}{err}");
}

fn check(server: &Server, user: &str, pass: &str) {
    let (_dir, notation) = notation_dir();
    let target = format!("{}/secure/app:v1", server.host);
    let wrong = "not-the-Pa55-word";
    let (code, out, err) = sigscope(&["tree", &target], Some((user, wrong)));
    assert_rejected(code, &out, &err, wrong);
    let (code, out, err) = sigscope(&["tree", &target, "-o", "json"], Some((user, wrong)));
    assert_rejected(code, &out, &err, wrong);
    assert!(out.contains("rejected the credentials"), "the JSON node says it too: {out}");
    let (code, out, err) = sigscope(&["verify", &target, "--notation-dir", &notation], Some((user, wrong)));
    assert_rejected(code, &out, &err, wrong);
    // A user the registry does not know is refused in the same words.
    let (code, out, err) = sigscope(&["tree", &target], Some(("nobody", pass)));
    assert_rejected(code, &out, &err, pass);

    // Without credentials the advice to log in is right.
    let (code, _, err) = sigscope(&["tree", &target], None);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("pass --username"), "{err}");
    assert!(!err.contains("rejected"), "{err}");

    // And the right password works.
    let (code, _, err) = sigscope(&["tree", &target], Some((user, pass)));
    assert_eq!(code, 0, "{err}");
}

#[test]
fn htpasswd_a_wrong_password_says_the_credentials_were_rejected() {
    let (user, pass) = ("tester", "Pa55-word-for-basic");
    let server = Server::docker_registry_htpasswd(user, pass);
    seed(&server, user, pass);
    check(&server, user, pass);
}

#[test]
fn token_auth_a_wrong_password_says_the_credentials_were_rejected() {
    let (user, pass) = ("tokenuser", "Token-Pa55");
    let server = Server::docker_registry_token(user, pass, "refresh-abc");
    seed(&server, user, pass);
    let (_dir, notation) = notation_dir();
    let target = format!("{}/secure/app:v1", server.host);
    let wrong = "WRONG-secret-1";
    let (code, out, err) = sigscope(&["tree", &target], Some((user, wrong)));
    assert_rejected(code, &out, &err, wrong);
    let (code, out, err) = sigscope(&["verify", &target, "--notation-dir", &notation], Some((user, wrong)));
    assert_rejected(code, &out, &err, wrong);
    // This token server lets anonymous callers pull: no credentials, no refusal.
    let (code, _, err) = sigscope(&["tree", &target], None);
    assert_eq!(code, 0, "{err}");
}
