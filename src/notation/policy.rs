//! The Notation OCI trust policy (version 1.0): loading, every validation rule of the
//! specification, scope selection and the per-check actions a statement implies.
//! Validation happens at load time so that a bad policy is reported before any registry
//! traffic, naming the statement and field at fault.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::dir::{LEGACY_POLICY_FILE, OCI_POLICY_FILE};
use super::dn::{Dn, DnError};

/// The field of a statement an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyField {
    Name,
    RegistryScopes,
    Level,
    Override,
    VerifyTimestamp,
    TrustStores,
    TrustedIdentities,
}

impl fmt::Display for PolicyField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyField::Name => "name",
            PolicyField::RegistryScopes => "registryScopes",
            PolicyField::Level => "signatureVerification.level",
            PolicyField::Override => "signatureVerification.override",
            PolicyField::VerifyTimestamp => "signatureVerification.verifyTimestamp",
            PolicyField::TrustStores => "trustStores",
            PolicyField::TrustedIdentities => "trustedIdentities",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("no trust policy in {dir}: expected {OCI_POLICY_FILE} (or legacy {LEGACY_POLICY_FILE})")]
    Missing { dir: String },
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
    /// `file`: the policy file, when the text came from one ([`TrustPolicy::load`]).
    #[error("malformed trust policy{}: {detail}", .file.as_deref().map(|f| format!(" {f}")).unwrap_or_default())]
    Malformed { detail: String, file: Option<String> },
    #[error("trust policy version {found:?} is not supported; the only version is \"1.0\"")]
    UnsupportedVersion { found: String },
    #[error("trust policy has no statements; add at least one to trustPolicies")]
    NoStatements,
    #[error("trust policy statement {statement:?}: {field}: {reason}")]
    Invalid { statement: String, field: PolicyField, reason: String },
    #[error("two trust policy statements are named {name:?}; statement names must be unique")]
    DuplicateName { name: String },
    #[error(
        "registry scope {scope:?} is in statements {first:?} and {second:?}; a scope may belong to one statement only"
    )]
    DuplicateScope { scope: String, first: String, second: String },
    /// Any other error of a policy read from a file, with the file: the user may not know which
    /// of the two names, in which directory, is in force.
    #[error("{path}: {error}")]
    InFile { path: String, error: Box<PolicyError> },
}

impl PolicyError {
    /// The error of a policy read from `path`, saying so.
    pub(super) fn in_file(self, path: &Path) -> PolicyError {
        let path = path.display().to_string();
        match self {
            PolicyError::Malformed { detail, .. } => PolicyError::Malformed { detail, file: Some(path) },
            e @ (PolicyError::Missing { .. } | PolicyError::Io { .. } | PolicyError::InFile { .. }) => e,
            e => PolicyError::InFile { path, error: Box::new(e) },
        }
    }

    pub fn statement(&self) -> Option<&str> {
        match self {
            PolicyError::InFile { error, .. } => error.statement(),
            PolicyError::Invalid { statement, .. } => Some(statement),
            PolicyError::DuplicateName { name } => Some(name),
            PolicyError::DuplicateScope { second, .. } => Some(second),
            _ => None,
        }
    }

    pub fn field(&self) -> Option<PolicyField> {
        match self {
            PolicyError::InFile { error, .. } => error.field(),
            PolicyError::Invalid { field, .. } => Some(*field),
            PolicyError::DuplicateName { .. } => Some(PolicyField::Name),
            PolicyError::DuplicateScope { .. } => Some(PolicyField::RegistryScopes),
            _ => None,
        }
    }
}

/// A bad policy is a configuration error: the command-line contract's exit code 2.
impl From<PolicyError> for crate::error::Error {
    fn from(e: PolicyError) -> Self {
        crate::error::Error::Usage(e.to_string())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Strict,
    Permissive,
    Audit,
    Skip,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Strict, Level::Permissive, Level::Audit, Level::Skip];

    pub fn name(self) -> &'static str {
        match self {
            Level::Strict => "strict",
            Level::Permissive => "permissive",
            Level::Audit => "audit",
            Level::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    Integrity,
    Authenticity,
    AuthenticTimestamp,
    Expiry,
    Revocation,
}

impl Check {
    pub const ALL: [Check; 5] =
        [Check::Integrity, Check::Authenticity, Check::AuthenticTimestamp, Check::Expiry, Check::Revocation];

    pub fn name(self) -> &'static str {
        match self {
            Check::Integrity => "integrity",
            Check::Authenticity => "authenticity",
            Check::AuthenticTimestamp => "authenticTimestamp",
            Check::Expiry => "expiry",
            Check::Revocation => "revocation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A failure fails the signature.
    Enforce,
    /// A failure is reported and verification continues.
    Log,
    /// The check is not performed.
    Skip,
}

impl Action {
    /// As written in a policy's `override`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Log => "log",
            Action::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyTimestamp {
    Always,
    AfterCertExpiry,
}

/// The action for each check, in the order of the specification's table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Actions {
    pub integrity: Action,
    pub authenticity: Action,
    pub authentic_timestamp: Action,
    pub expiry: Action,
    pub revocation: Action,
}

impl Actions {
    pub fn get(&self, check: Check) -> Action {
        match check {
            Check::Integrity => self.integrity,
            Check::Authenticity => self.authenticity,
            Check::AuthenticTimestamp => self.authentic_timestamp,
            Check::Expiry => self.expiry,
            Check::Revocation => self.revocation,
        }
    }

    fn set(&mut self, check: Check, action: Action) {
        match check {
            Check::Integrity => self.integrity = action,
            Check::Authenticity => self.authenticity = action,
            Check::AuthenticTimestamp => self.authentic_timestamp = action,
            Check::Expiry => self.expiry = action,
            Check::Revocation => self.revocation = action,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrustStoreKind {
    Ca,
    SigningAuthority,
    Tsa,
}

impl TrustStoreKind {
    pub fn dir_name(self) -> &'static str {
        match self {
            TrustStoreKind::Ca => "ca",
            TrustStoreKind::SigningAuthority => "signingAuthority",
            TrustStoreKind::Tsa => "tsa",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ca" => Some(TrustStoreKind::Ca),
            "signingAuthority" => Some(TrustStoreKind::SigningAuthority),
            "tsa" => Some(TrustStoreKind::Tsa),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrustStoreRef {
    pub kind: TrustStoreKind,
    pub name: String,
}

impl TrustStoreRef {
    /// `type:name` as written in a policy; `None` says what is wrong.
    pub fn parse(value: &str) -> Result<Self, String> {
        let (kind, name) = value
            .split_once(':')
            .ok_or_else(|| format!("malformed trust store value {value:?}; the format is <type>:<name>"))?;
        let kind = TrustStoreKind::parse(kind).ok_or_else(|| {
            format!("unsupported trust store type {kind:?} in {value:?}; use ca, signingAuthority or tsa")
        })?;
        if !valid_store_name(name) {
            return Err(format!("unsupported trust store name {name:?} in {value:?}; names follow [a-zA-Z0-9_.-]+"));
        }
        Ok(TrustStoreRef { kind, name: name.to_string() })
    }
}

impl fmt::Display for TrustStoreRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.dir_name(), self.name)
    }
}

pub fn valid_store_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedIdentity {
    /// `*`: any identity the trust stores vouch for.
    Any,
    X509Subject(Dn),
    /// Another `prefix:value` (e.g. an AWS Signer profile ARN): accepted because plugins
    /// interpret them, ignored by the x509 identity check.
    Other {
        prefix: String,
        value: String,
    },
}

/// As written in a policy: `*`, `x509.subject:DN`, `prefix:value`.
impl fmt::Display for TrustedIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustedIdentity::Any => f.write_str("*"),
            TrustedIdentity::X509Subject(dn) => write!(f, "x509.subject:{dn}"),
            TrustedIdentity::Other { prefix, value } => write!(f, "{prefix}:{value}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub name: String,
    pub registry_scopes: Vec<String>,
    pub level: Level,
    pub overrides: Vec<(Check, Action)>,
    pub verify_timestamp: VerifyTimestamp,
    pub trust_stores: Vec<TrustStoreRef>,
    pub trusted_identities: Vec<TrustedIdentity>,
}

impl Statement {
    /// The level's row of the specification's table, then each override.
    pub fn effective_actions(&self) -> Actions {
        let (e, l, s) = (Action::Enforce, Action::Log, Action::Skip);
        let mut a = match self.level {
            Level::Strict => {
                Actions { integrity: e, authenticity: e, authentic_timestamp: e, expiry: e, revocation: e }
            }
            Level::Permissive => {
                Actions { integrity: e, authenticity: e, authentic_timestamp: l, expiry: l, revocation: l }
            }
            Level::Audit => Actions { integrity: e, authenticity: l, authentic_timestamp: l, expiry: l, revocation: l },
            Level::Skip => Actions { integrity: s, authenticity: s, authentic_timestamp: s, expiry: s, revocation: s },
        };
        for (check, action) in &self.overrides {
            a.set(*check, *action);
        }
        a
    }

    pub fn is_wildcard(&self) -> bool {
        self.registry_scopes.iter().any(|s| s == "*")
    }

    /// The `x509.subject` identities; empty with `*` (check `trusts_any_identity`).
    pub fn x509_identities(&self) -> impl Iterator<Item = &Dn> {
        self.trusted_identities.iter().filter_map(|t| match t {
            TrustedIdentity::X509Subject(dn) => Some(dn),
            _ => None,
        })
    }

    pub fn trusts_any_identity(&self) -> bool {
        self.trusted_identities.contains(&TrustedIdentity::Any)
    }

    /// Whether it names identities only a verification plugin can read (`prefix:value`).
    pub fn has_plugin_identities(&self) -> bool {
        self.trusted_identities.iter().any(|t| matches!(t, TrustedIdentity::Other { .. }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Exact,
    Wildcard,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    pub statements: Vec<Statement>,
}

/// Refuses JSON in which an object repeats a key, at any depth: typed deserialisation
/// would silently keep one of them, and which one a reader keeps differs between parsers.
pub(crate) fn reject_duplicate_keys(json: &[u8]) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_slice(json);
    NoDuplicateKeys.deserialize(&mut de)?;
    de.end()
}

impl TrustPolicy {
    /// Reads the policy in force in a Notation configuration directory: `trustpolicy.oci.json`,
    /// else the legacy `trustpolicy.json` ([`super::dir::load_policy`], which knows the files).
    /// Symlinks and directories are refused, as Notation does, so that the policy in force is
    /// the file the user sees.
    pub fn load(notation_dir: &Path) -> Result<TrustPolicy, PolicyError> {
        super::dir::load_policy(notation_dir)
    }

    pub fn parse(json: &str) -> Result<TrustPolicy, PolicyError> {
        let malformed = |e: serde_json::Error| PolicyError::Malformed { detail: e.to_string(), file: None };
        // Typed deserialisation keeps the last of two equal keys in maps and ignores
        // repeats of unknown fields; a repeated key is ambiguous, so refuse it anywhere.
        reject_duplicate_keys(json.as_bytes()).map_err(malformed)?;
        let raw: RawDocument = serde_json::from_str(json).map_err(malformed)?;
        validate(raw)
    }

    /// The statement for a repository (the reference without `@digest`): an exact scope
    /// wins, then `*`. No normalisation: `docker.io/library/x` and `x` are different keys.
    pub fn statement_for(&self, reference_scope: &str) -> Option<(&Statement, MatchKind)> {
        if let Some(s) = self.statements.iter().find(|s| s.registry_scopes.iter().any(|r| r == reference_scope)) {
            return Some((s, MatchKind::Exact));
        }
        self.statements.iter().find(|s| s.is_wildcard()).map(|s| (s, MatchKind::Wildcard))
    }

    pub fn statement(&self, name: &str) -> Option<&Statement> {
        self.statements.iter().find(|s| s.name == name)
    }

    /// The policy as a version 1.0 document, pretty-printed, fields in the specification's
    /// order; `parse(to_json(p)) == p`. Defaults (`verifyTimestamp: always`, no overrides)
    /// are left out, as Notation's own examples do.
    pub fn to_json(&self) -> String {
        use serde_json::{Map, Value, json};
        let statements: Vec<Value> = self
            .statements
            .iter()
            .map(|s| {
                let mut sv = Map::new();
                sv.insert("level".into(), json!(s.level.name()));
                if !s.overrides.is_empty() {
                    let o: Map<String, Value> =
                        s.overrides.iter().map(|(c, a)| (c.name().to_string(), json!(a.name()))).collect();
                    sv.insert("override".into(), Value::Object(o));
                }
                if s.verify_timestamp == VerifyTimestamp::AfterCertExpiry {
                    sv.insert("verifyTimestamp".into(), json!("afterCertExpiry"));
                }
                json!({
                    "name": s.name,
                    "registryScopes": s.registry_scopes,
                    "signatureVerification": sv,
                    "trustStores": s.trust_stores.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                    "trustedIdentities": s.trusted_identities.iter().map(|t| t.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect();
        let doc = json!({"version": "1.0", "trustPolicies": statements});
        let mut out = crate::json_out::to_string_pretty(&doc).expect("a JSON value serialises");
        out.push('\n');
        out
    }
}

#[derive(Deserialize)]
struct RawDocument {
    version: Option<String>,
    #[serde(rename = "trustPolicies")]
    trust_policies: Option<Vec<RawStatement>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawStatement {
    name: Option<String>,
    registry_scopes: Option<Vec<String>>,
    signature_verification: Option<RawVerification>,
    trust_stores: Option<Vec<String>>,
    trusted_identities: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawVerification {
    level: Option<String>,
    #[serde(rename = "override")]
    overrides: Option<serde_json::Map<String, serde_json::Value>>,
    verify_timestamp: Option<String>,
}

/// Order follows Notation's `OCIDocument.Validate`, so the first error reported for a
/// document with several faults is the one Notation reports.
fn validate(raw: RawDocument) -> Result<TrustPolicy, PolicyError> {
    let version = raw.version.unwrap_or_default();
    if version != "1.0" {
        return Err(PolicyError::UnsupportedVersion { found: version });
    }
    let raws = raw.trust_policies.unwrap_or_default();
    if raws.is_empty() {
        return Err(PolicyError::NoStatements);
    }
    let mut names = HashSet::new();
    let mut statements = Vec::with_capacity(raws.len());
    for r in raws {
        let name = r.name.clone().unwrap_or_default();
        if !names.insert(name.clone()) {
            return Err(PolicyError::DuplicateName { name });
        }
        statements.push(validate_statement(r)?);
    }
    let mut owners: Vec<(&str, &str)> = Vec::new();
    for s in &statements {
        let bad = |reason: String| PolicyError::Invalid {
            statement: s.name.clone(),
            field: PolicyField::RegistryScopes,
            reason,
        };
        if s.registry_scopes.is_empty() {
            return Err(bad("no registry scopes; give at least one repository or \"*\"".into()));
        }
        if s.is_wildcard() && s.registry_scopes.len() > 1 {
            return Err(bad("the wildcard scope \"*\" cannot be combined with other scopes".into()));
        }
        for scope in &s.registry_scopes {
            if scope != "*" {
                check_scope(scope).map_err(bad)?;
            }
            if let Some((_, first)) = owners.iter().find(|(sc, _)| *sc == scope.as_str()) {
                return Err(PolicyError::DuplicateScope {
                    scope: scope.clone(),
                    first: first.to_string(),
                    second: s.name.clone(),
                });
            }
            owners.push((scope, &s.name));
        }
    }
    Ok(TrustPolicy { statements })
}

fn validate_statement(r: RawStatement) -> Result<Statement, PolicyError> {
    let name = r.name.unwrap_or_default();
    let err = |field, reason: String| PolicyError::Invalid { statement: name.clone(), field, reason };
    if name.is_empty() {
        return Err(err(PolicyField::Name, "missing; every statement needs a unique name".into()));
    }
    let sv =
        r.signature_verification.unwrap_or(RawVerification { level: None, overrides: None, verify_timestamp: None });
    let level = match sv.level.as_deref().unwrap_or("") {
        "strict" => Level::Strict,
        "permissive" => Level::Permissive,
        "audit" => Level::Audit,
        "skip" => Level::Skip,
        other => {
            return Err(err(
                PolicyField::Level,
                format!("invalid level {other:?}; use strict, permissive, audit or skip"),
            ));
        }
    };
    let mut overrides = Vec::new();
    if let Some(map) = sv.overrides {
        if level == Level::Skip && !map.is_empty() {
            return Err(err(PolicyField::Override, "the skip level cannot be overridden".into()));
        }
        for (key, value) in map {
            let check = Check::ALL.into_iter().find(|c| c.name() == key).ok_or_else(|| {
                err(
                    PolicyField::Override,
                    format!("unknown check {key:?}; use authenticity, authenticTimestamp, expiry or revocation"),
                )
            })?;
            if check == Check::Integrity {
                return Err(err(PolicyField::Override, "integrity cannot be overridden".into()));
            }
            let action = match value.as_str() {
                Some("enforce") => Action::Enforce,
                Some("log") => Action::Log,
                Some("skip") if check == Check::Revocation => Action::Skip,
                _ => {
                    let allowed = if check == Check::Revocation { "enforce, log or skip" } else { "enforce or log" };
                    return Err(err(PolicyField::Override, format!("{key}: invalid action {value}; use {allowed}")));
                }
            };
            overrides.push((check, action));
        }
    }
    let verify_timestamp = match sv.verify_timestamp.as_deref() {
        None | Some("always") => VerifyTimestamp::Always,
        Some("afterCertExpiry") => VerifyTimestamp::AfterCertExpiry,
        Some(other) => {
            return Err(err(
                PolicyField::VerifyTimestamp,
                format!("invalid value {other:?}; use always or afterCertExpiry"),
            ));
        }
    };
    let stores = r.trust_stores.unwrap_or_default();
    let identities = r.trusted_identities.unwrap_or_default();
    if level == Level::Skip {
        if !stores.is_empty() {
            return Err(err(PolicyField::TrustStores, "must be empty when the level is skip".into()));
        }
        if !identities.is_empty() {
            return Err(err(PolicyField::TrustedIdentities, "must be empty when the level is skip".into()));
        }
    } else {
        if stores.is_empty() {
            return Err(err(
                PolicyField::TrustStores,
                "missing; both trust stores and trusted identities are required".into(),
            ));
        }
        if identities.is_empty() {
            return Err(err(
                PolicyField::TrustedIdentities,
                "missing; both trust stores and trusted identities are required".into(),
            ));
        }
    }
    // Notation tolerates a store listed twice; so do we, but keep one copy.
    let mut trust_stores: Vec<TrustStoreRef> = Vec::new();
    for s in &stores {
        let store = TrustStoreRef::parse(s).map_err(|reason| err(PolicyField::TrustStores, reason))?;
        if !trust_stores.contains(&store) {
            trust_stores.push(store);
        }
    }
    let trusted_identities =
        parse_identities(&identities).map_err(|reason| err(PolicyField::TrustedIdentities, reason))?;
    Ok(Statement {
        registry_scopes: r.registry_scopes.unwrap_or_default(),
        name,
        level,
        overrides,
        verify_timestamp,
        trust_stores,
        trusted_identities,
    })
}

fn parse_identities(values: &[String]) -> Result<Vec<TrustedIdentity>, String> {
    if values.iter().any(|v| v == "*") {
        if values.len() > 1 {
            return Err("the wildcard identity \"*\" cannot be combined with other identities".into());
        }
        return Ok(vec![TrustedIdentity::Any]);
    }
    let mut out = Vec::with_capacity(values.len());
    let mut x509: Vec<(&str, Dn)> = Vec::new();
    for v in values {
        if v.is_empty() {
            return Err("an identity is empty; remove it or write prefix:value".into());
        }
        let (prefix, value) =
            v.split_once(':').ok_or_else(|| format!("identity {v:?} has no \"prefix:\" separator"))?;
        if value.is_empty() {
            return Err(format!("identity {v:?} has no value after the prefix"));
        }
        if prefix == "x509.subject" {
            let dn = Dn::parse(value)
                .and_then(|dn| dn.require_mandatory(value).map(|()| dn))
                .map_err(|e: DnError| format!("identity {v:?}: {e}"))?;
            if let Some((other, _)) = x509.iter().find(|(_, d)| d.is_subset_of(&dn) || dn.is_subset_of(d)) {
                return Err(format!("identities {other:?} and {v:?} overlap; one would trust what the other does"));
            }
            x509.push((v, dn.clone()));
            out.push(TrustedIdentity::X509Subject(dn));
        } else {
            out.push(TrustedIdentity::Other { prefix: prefix.to_string(), value: value.to_string() });
        }
    }
    Ok(out)
}

/// A registry scope is `domain[:port]/repository` with the distribution grammar's
/// lower-case path components, so a scope can never carry a tag, a scheme or a glob.
pub fn check_scope(scope: &str) -> Result<(), String> {
    let hint = "it must be a fully qualified repository without scheme or tag, e.g. example.com/my/repository";
    if scope.contains('*') {
        return Err(format!("scope {scope:?} has a wildcard, which only \"*\" alone may use; {hint}"));
    }
    let ok = scope.split_once('/').is_some_and(|(domain, repo)| valid_domain(domain) && valid_repository(repo));
    if ok { Ok(()) } else { Err(format!("scope {scope:?} is not valid; {hint}")) }
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return false;
    }
    host.split('.').all(|label| {
        let b = label.as_bytes();
        !b.is_empty()
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
    })
}

fn valid_repository(repo: &str) -> bool {
    repo.split('/').all(valid_path_component)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// Walks any JSON value and fails on an object that repeats a key.
struct NoDuplicateKeys;

impl<'de> DeserializeSeed<'de> for NoDuplicateKeys {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(NoDuplicateKeys)
    }
}

impl<'de> Visitor<'de> for NoDuplicateKeys {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(NoDuplicateKeys)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            map.next_value_seed(NoDuplicateKeys)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_grammar() {
        for ok in [
            "example.com/rep",
            "example.com:8080/rep/rep2",
            "domain/rep",
            "10.10.10.10:8080/rep/rep2",
            "a/b__c/d-e--f/g.h",
        ] {
            assert!(check_scope(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "1:1",
            "a,b",
            "abcd",
            "example.com",
            "example.com/rep:tag",
            "example.com/*",
            "ex*test",
            "Example.com/Rep",
            "https://example.com/rep",
            "localhost:5000\\test-repo",
            "example.com/rep/",
            "example.com:/rep",
            "a/b___c",
        ] {
            assert!(check_scope(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn to_json_round_trips_notations_policies() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/notation/trustpolicies");
        let mut n = 0;
        for sub in ["e2e", "unit"] {
            for entry in std::fs::read_dir(root.join(sub)).unwrap() {
                let path = entry.unwrap().path();
                let Ok(p) = TrustPolicy::parse(&std::fs::read_to_string(&path).unwrap()) else { continue };
                let json = p.to_json();
                assert_eq!(TrustPolicy::parse(&json).as_ref(), Ok(&p), "{}:\n{json}", path.display());
                assert_eq!(TrustPolicy::parse(&json).unwrap().to_json(), json, "stable: {}", path.display());
                n += 1;
            }
        }
        assert!(n >= 5, "only {n} valid policies found");
    }

    #[test]
    fn to_json_keeps_overrides_and_verify_timestamp() {
        let doc = r#"{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":["example.com/app"],
            "signatureVerification":{"level":"permissive","override":{"revocation":"skip","expiry":"enforce"},
            "verifyTimestamp":"afterCertExpiry"},
            "trustStores":["ca:x","signingAuthority:y"],
            "trustedIdentities":["x509.subject: C=US, ST=WA, O=wabbit-network.io, CN=\\, odd","awssigner:arn"]}]}"#;
        let p = TrustPolicy::parse(doc).unwrap();
        let json = p.to_json();
        assert!(json.contains("\"afterCertExpiry\""), "{json}");
        assert!(json.contains("\"revocation\": \"skip\""), "{json}");
        assert_eq!(TrustPolicy::parse(&json).unwrap(), p);
    }

    #[test]
    fn duplicate_keys_are_refused_at_any_depth() {
        let e = TrustPolicy::parse(r#"{"version":"1.0","version":"1.0","trustPolicies":[]}"#).unwrap_err();
        assert!(matches!(e, PolicyError::Malformed { .. }), "{e}");
        let doc = r#"{"version":"1.0","trustPolicies":[{"name":"a","registryScopes":["*"],
            "signatureVerification":{"level":"strict","override":{"expiry":"log","expiry":"enforce"}},
            "trustStores":["ca:x"],"trustedIdentities":["*"]}]}"#;
        assert!(matches!(TrustPolicy::parse(doc), Err(PolicyError::Malformed { .. })));
    }
}
