//! The order in which registry credentials are looked up (`source/registry/creds.rs`,
//! `RegistryOptions`): the command line's, else the injected `credential_source`, else
//! docker's config.json. The first source that has a credential for the host decides, and a
//! source that fails to answer fails the request: no later source and no anonymous try stands
//! in for it. On a real docker-registry with htpasswd, so "the credential won" means the
//! registry accepted it.

mod common;

use std::path::Path;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::{Server, test_options};
use sigscope::error::{Error, Result};
use sigscope::source::Source as _;
use sigscope::source::registry::creds::{Credential, CredentialSource};
use sigscope::source::registry::{RegistryClient, RegistryOptions};

const USER: &str = "tester";
const PASS: &str = "Pa55-word-for-basic";
const WRONG: &str = "not-the-Pa55-word";
const REPO: &str = "secure/app";

/// What the injected source answers.
#[derive(Clone)]
enum Answer {
    Password(&'static str),
    Nothing,
    Fails(&'static str),
}

/// A credential source standing in for the next one (AWS for ECR): answers as told and
/// records the hosts it was asked about.
struct Injected {
    answer: Answer,
    asked: Mutex<Vec<String>>,
}

impl Injected {
    fn new(answer: Answer) -> Arc<Injected> {
        Arc::new(Injected { answer, asked: Mutex::new(Vec::new()) })
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl CredentialSource for Injected {
    fn name(&self) -> String {
        "the injected test source".into()
    }

    fn credential_for(&self, host: &str) -> Result<Option<Credential>> {
        self.asked.lock().unwrap().push(host.to_string());
        match &self.answer {
            Answer::Password(p) => Ok(Some(Credential::Basic { username: USER.into(), password: p.to_string() })),
            Answer::Nothing => Ok(None),
            // Not naming itself: the client must say which source failed.
            Answer::Fails(why) => Err(Error::Usage(format!("failed: {why}"))),
        }
    }
}

/// A registry holding `secure/app:v1`, behind htpasswd for USER/PASS.
fn registry() -> Server {
    let server = Server::docker_registry_htpasswd(USER, PASS);
    let opts = RegistryOptions { credentials: Some((USER.into(), PASS.into())), ..test_options() };
    runtime().block_on(async {
        let client = RegistryClient::new(&server.host, opts).unwrap();
        common::seed(&client, REPO).await;
    });
    server
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// A docker config directory whose config.json logs USER in to `host` with `password`.
fn docker_config(host: &str, password: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{password}"));
    let config = serde_json::json!({"auths": {host: {"auth": auth}}});
    std::fs::write(dir.path().join("config.json"), serde_json::to_vec(&config).unwrap()).unwrap();
    dir
}

fn options(docker: &Path, injected: &Arc<Injected>) -> RegistryOptions {
    RegistryOptions {
        docker_config: Some(docker.to_path_buf()),
        credential_source: Some(injected.clone() as Arc<dyn CredentialSource>),
        ..test_options()
    }
}

/// The tags of the repository, asked with `opts` on a fresh source (no credential cached).
fn tags(server: &Server, opts: RegistryOptions) -> Result<Vec<String>> {
    let source = common::source(&server.host, opts);
    runtime().block_on(common::guard(source.tags(REPO))).map(|t| t.to_vec())
}

fn assert_lists_v1(r: Result<Vec<String>>, what: &str) {
    match r {
        Ok(tags) => assert!(tags.contains(&"v1".to_string()), "{what}: {tags:?}"),
        Err(e) => panic!("{what}: {e}"),
    }
}

fn assert_rejected(r: Result<Vec<String>>, what: &str) {
    match r {
        Err(e @ Error::Auth { rejected: true, .. }) => {
            assert!(e.to_string().contains("rejected the credentials"), "{what}: {e}")
        }
        other => panic!("{what}: the registry must refuse the credential, got {other:?}"),
    }
}

#[test]
fn the_injected_credential_comes_before_the_docker_config() {
    let server = registry();
    // Its right password wins over a wrong one in config.json...
    let docker = docker_config(&server.host, WRONG);
    let injected = Injected::new(Answer::Password(PASS));
    assert_lists_v1(tags(&server, options(docker.path(), &injected)), "right injected, wrong docker config");
    assert_eq!(injected.asked(), vec![server.host.clone()]);

    // ...and its wrong password is what is sent, even with the right one in config.json: the
    // first source that has a credential decides, and a refusal is not retried with the next.
    let docker = docker_config(&server.host, PASS);
    let injected = Injected::new(Answer::Password(WRONG));
    assert_rejected(tags(&server, options(docker.path(), &injected)), "wrong injected, right docker config");
    assert_eq!(injected.asked(), vec![server.host.clone()]);

    // The controls: the docker config alone, right and wrong, is what the cases above overrode.
    let alone = |docker: &tempfile::TempDir| RegistryOptions {
        docker_config: Some(docker.path().to_path_buf()),
        ..test_options()
    };
    assert_lists_v1(tags(&server, alone(&docker_config(&server.host, PASS))), "right docker config alone");
    assert_rejected(tags(&server, alone(&docker_config(&server.host, WRONG))), "wrong docker config alone");
}

#[test]
fn an_injected_source_without_a_credential_falls_through_to_the_docker_config() {
    let server = registry();
    let docker = docker_config(&server.host, PASS);
    let injected = Injected::new(Answer::Nothing);
    assert_lists_v1(tags(&server, options(docker.path(), &injected)), "nothing injected, right docker config");
    assert_eq!(injected.asked(), vec![server.host.clone()], "the injected source was asked first");

    // With nothing anywhere, the request goes anonymous and the registry asks for a login.
    let empty = tempfile::tempdir().unwrap();
    let injected = Injected::new(Answer::Nothing);
    match tags(&server, options(empty.path(), &injected)) {
        Err(e @ Error::Auth { rejected: false, .. }) => {
            assert!(e.to_string().contains("authentication required"), "{e}")
        }
        other => panic!("no credential anywhere must end in a login request, got {other:?}"),
    }
    assert_eq!(injected.asked(), vec![server.host.clone()]);
}

#[test]
fn an_injected_source_that_fails_fails_the_request() {
    let server = registry();
    // The docker config holds the right password: falling through to it would succeed, and
    // so would hide the failure.
    let docker = docker_config(&server.host, PASS);
    let injected = Injected::new(Answer::Fails("vault sealed"));
    let source = common::source(&server.host, options(docker.path(), &injected));
    let rt = runtime();
    for attempt in 1..=2 {
        match rt.block_on(common::guard(source.tags(REPO))) {
            Err(e @ Error::Usage(_)) => {
                let text = e.to_string();
                assert!(text.contains("failed: vault sealed"), "attempt {attempt}: {text}");
                assert!(text.contains("from the injected test source"), "the source is named: {text}");
                assert!(!text.contains("pass --username"), "not an anonymous try: {text}");
            }
            other => panic!("attempt {attempt}: the source's failure must fail the request, got {other:?}"),
        }
        // A failed lookup is not remembered as "no credential": each request asks again.
        assert_eq!(injected.asked().len(), attempt, "attempt {attempt}");
    }
}

#[test]
fn command_line_credentials_come_before_the_injected_source() {
    let server = registry();
    let docker = docker_config(&server.host, WRONG);
    let injected = Injected::new(Answer::Password(WRONG));
    let opts = RegistryOptions { credentials: Some((USER.into(), PASS.into())), ..options(docker.path(), &injected) };
    assert_lists_v1(tags(&server, opts), "right --username, wrong injected and docker config");
    assert!(injected.asked().is_empty(), "the injected source is not asked: {:?}", injected.asked());

    let opts = RegistryOptions { credentials: Some((USER.into(), WRONG.into())), ..options(docker.path(), &injected) };
    let injected_right = Injected::new(Answer::Password(PASS));
    let opts = RegistryOptions { credential_source: Some(injected_right.clone() as Arc<dyn CredentialSource>), ..opts };
    assert_rejected(tags(&server, opts), "wrong --username, right injected");
    assert!(injected_right.asked().is_empty());
}
