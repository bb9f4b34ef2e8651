//! Kyverno policies read from YAML text: several documents, `kind: List` (as `kubectl get
//! clusterpolicy -o yaml` prints them), other kinds (the Namespace and ConfigMap a test file
//! carries) set aside by name. Only what decides image verification is kept.
//!
//! Fields and defaults: `api/kyverno/v1/image_verification_types.go` and, for
//! ImageValidatingPolicy, `api/policies.kyverno.io/v1beta1/imagevalidating_policy.go`. Inside
//! `verifyImages` an unknown field is an error: a misspelt `requried: false` silently ignored
//! would change the verdict.

use serde_norway::Value;

pub use super::resources::NamespaceLabels;
use super::resources::{Filter, LabelExpression, LabelSelector, ResourceBlock};

/// As for every other configuration file the tool reads (`fsread::MAX_CONFIG_BYTES`).
pub const MAX_POLICY_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{document}: {field}: {reason}")]
pub struct KyvernoPolicyError {
    /// "document 3" or "document 1, item 2 of the List", with the policy's name when known.
    pub document: String,
    /// The field's path inside that document, e.g. `spec.rules[0].verifyImages[0].required`.
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PolicySet {
    pub cluster_policies: Vec<ClusterPolicy>,
    pub image_validating: Vec<ImageValidatingPolicy>,
    /// ConfigMaps given beside the policies: what a rule's `context` can read them from.
    pub config_maps: Vec<ConfigMap>,
    /// Namespaces given beside the policies: what a `namespaceSelector` reads.
    pub namespaces: Vec<NamespaceLabels>,
    /// Documents that are not policies sigscope evaluates: (where, apiVersion, kind, name).
    pub ignored: Vec<Ignored>,
}

/// A `v1` ConfigMap's name, namespace and string data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigMap {
    pub name: String,
    pub namespace: Option<String>,
    pub data: std::collections::BTreeMap<String, String>,
}

/// One entry of a rule's `context`: a ConfigMap it reads, or another source of variables
/// (`apiCall`, `variable`, `imageRegistry`, `globalReference`) sigscope does not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextEntry {
    ConfigMap { name: String, config_map: String, namespace: Option<String> },
    Other { name: String, kind: String },
}

impl ContextEntry {
    pub fn name(&self) -> &str {
        match self {
            ContextEntry::ConfigMap { name, .. } | ContextEntry::Other { name, .. } => name,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignored {
    pub document: String,
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    ClusterPolicy,
    Policy,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureAction {
    Enforce,
    Audit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterPolicy {
    pub kind: PolicyKind,
    pub api_version: String,
    pub name: String,
    pub namespace: Option<String>,
    /// `spec.validationFailureAction`; Kyverno's default is Audit.
    pub validation_failure_action: FailureAction,
    /// `spec.failurePolicy`: whether a rule that errors (not fails) blocks.
    pub failure_policy_fail: bool,
    /// `spec.validationFailureActionOverrides`: the action for namespaces matching the patterns.
    pub action_overrides: Vec<ActionOverride>,
    pub rules: Vec<Rule>,
}

/// An entry of `validationFailureActionOverrides` (or a validate rule's
/// `failureActionOverrides`): the action for namespaces matching the patterns and the selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionOverride {
    pub action: FailureAction,
    /// `None` when the field is absent (then the selector alone decides).
    pub namespaces: Option<Vec<String>>,
    pub namespace_selector: Option<LabelSelector>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub context: Vec<ContextEntry>,
    pub verify_images: Vec<VerifyImages>,
    /// `match` and `exclude`: which admissions the rule sees.
    pub match_resources: Option<ResourceBlock>,
    pub exclude: Option<ResourceBlock>,
    /// `preconditions`, as `{any, all}` blocks (the older bare list is one `all`).
    pub preconditions: Option<serde_json::Value>,
    /// A `validate` rule's `failureAction` and `failureActionOverrides`: the first rule that sets
    /// an action sets the whole policy's.
    pub validate_action: Option<(Option<FailureAction>, Vec<ActionOverride>)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifierType {
    Cosign,
    SigstoreBundle,
    Notary,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyImages {
    pub verifier: VerifierType,
    pub image_references: Vec<String>,
    pub skip_image_references: Vec<String>,
    pub attestors: Vec<AttestorSet>,
    pub attestations: Vec<Attestation>,
    pub repository: Option<String>,
    pub required: bool,
    pub verify_digest: bool,
    pub mutate_digest: bool,
    pub use_cache: bool,
    /// Overrides the spec's action when set.
    pub failure_action: Option<FailureAction>,
    /// `validate`: its `message`, and its `deny.conditions` as `{any, all}` blocks.
    pub validate: Option<ImageValidate>,
    /// `cosignOCI11`: cosign signatures stored as OCI 1.1 referrers, not in `.sig` tags.
    pub cosign_oci11: bool,
}

/// A `verifyImages` entry's `validate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageValidate {
    pub message: Option<String>,
    /// `deny.conditions` as a list of `{any, all}` blocks; `None` without `deny`.
    pub deny: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestorSet {
    /// `None` (or 0 in the YAML) means every entry must pass.
    pub count: Option<usize>,
    pub entries: Vec<Attestor>,
}

impl AttestorSet {
    /// Of the entries as Kyverno counts them: call on `expand_static_keys()`'s result.
    pub fn required_count(&self) -> usize {
        self.count.unwrap_or(self.entries.len())
    }

    /// Kyverno's `ExpandStaticKeys` (`pkg/engine/internal/utils.go`): a `publicKeys` holding
    /// several PEM keys becomes one entry per key (the rest of the entry copied), before
    /// `count` is applied, so "count: 1" with two keys in one string means either key.
    pub fn expand_static_keys(&self) -> AttestorSet {
        let mut entries = Vec::with_capacity(self.entries.len());
        for e in &self.entries {
            if let AttestorKind::Keys(k) = &e.kind {
                let keys = split_pem(k.public_keys.as_deref().unwrap_or(""));
                if keys.len() > 1 {
                    for key in keys {
                        let mut one = e.clone();
                        if let AttestorKind::Keys(k) = &mut one.kind {
                            k.public_keys = Some(key.to_string());
                        }
                        entries.push(one);
                    }
                    continue;
                }
            }
            entries.push(e.clone());
        }
        AttestorSet { count: self.count, entries }
    }
}

/// Go's `strings.SplitAfter(pem, END)` without its last piece, as Kyverno's `splitPEM`: the
/// text after the last END line (often just a newline) is dropped.
fn split_pem(pem: &str) -> Vec<&str> {
    const END: &str = "-----END PUBLIC KEY-----";
    let mut out = Vec::new();
    let mut rest = pem;
    while let Some(i) = rest.find(END) {
        out.push(&rest[..i + END.len()]);
        rest = &rest[i + END.len()..];
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestor {
    pub kind: AttestorKind,
    pub repository: Option<String>,
    pub annotations: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttestorKind {
    Keys(Keys),
    Certificates(Certificates),
    Keyless(Keyless),
    Nested(AttestorSet),
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keys {
    /// PEM text (possibly several keys, which Kyverno expands into several entries), or a
    /// `k8s://` reference, or a `{{ variable }}`.
    pub public_keys: Option<String>,
    pub kms: Option<String>,
    pub secret: Option<(String, String)>,
    pub signature_algorithm: Option<String>,
    pub rekor: Option<Rekor>,
    pub ctlog: Option<CtLog>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Certificates {
    pub cert: Option<String>,
    pub cert_chain: Option<String>,
    pub rekor: Option<Rekor>,
    pub ctlog: Option<CtLog>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Keyless {
    pub issuer: Option<String>,
    pub issuer_reg_exp: Option<String>,
    pub subject: Option<String>,
    pub subject_reg_exp: Option<String>,
    pub roots: Option<String>,
    pub rekor: Option<Rekor>,
    pub ctlog: Option<CtLog>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rekor {
    pub url: Option<String>,
    pub pubkey: Option<String>,
    pub ignore_tlog: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CtLog {
    pub ignore_sct: bool,
    pub pubkey: Option<String>,
    pub tsa_cert_chain: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attestation {
    pub name: Option<String>,
    /// `type`, or the deprecated `predicateType`: an in-toto predicate type for Cosign, an OCI
    /// `artifactType` for Notary.
    pub predicate_type: String,
    pub attestors: Vec<AttestorSet>,
    /// JMESPath conditions over the predicate, kept as data.
    pub conditions: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageValidatingPolicy {
    pub api_version: String,
    pub namespaced: bool,
    pub name: String,
    pub match_image_globs: Vec<String>,
    /// `matchImageReferences[].expression`: CEL, not evaluated.
    pub match_image_expressions: Vec<String>,
    pub validation_actions: Vec<String>,
    pub attestors: Vec<IvpAttestor>,
    pub attestations: Vec<IvpAttestation>,
    pub required: bool,
    pub verify_digest: bool,
    pub mutate_digest: bool,
    pub validations: Vec<IvpValidation>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvpAttestor {
    pub name: String,
    /// `cosign` or `notary`.
    pub kind: String,
    pub notary_certs: Option<String>,
    pub notary_tsa_certs: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvpAttestation {
    pub name: String,
    /// `intoto` (predicate type) or `referrer` (OCI artifactType).
    pub via: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvpValidation {
    /// What the explanation calls the rule: "validations[0]" and its message.
    pub name: String,
    pub expression: String,
    pub message: Option<String>,
    pub support: Support,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Support {
    Evaluable,
    Unsupported(&'static str),
}

const CEL_UNSUPPORTED: &str =
    "not supported yet: ImageValidatingPolicy validations are CEL expressions, which sigscope does not evaluate";

/// Reads every document of `text`; `source` names the file in errors ("policy.yaml").
pub fn load(text: &str, source: &str) -> Result<PolicySet, KyvernoPolicyError> {
    if text.len() > MAX_POLICY_BYTES {
        return Err(KyvernoPolicyError {
            document: source.into(),
            field: "(file)".into(),
            reason: format!("longer than {MAX_POLICY_BYTES} bytes"),
        });
    }
    let mut set = PolicySet::default();
    for (i, de) in serde_norway::Deserializer::from_str(text).enumerate() {
        let document = format!("{source}: document {}", i + 1);
        let value: Value = serde::Deserialize::deserialize(de).map_err(|e| KyvernoPolicyError {
            document: document.clone(),
            field: "(document)".into(),
            reason: format!("not valid YAML: {e}"),
        })?;
        if value.is_null() {
            continue;
        }
        let node = Node { v: &value, path: String::new(), doc: &document };
        if node.opt_str("kind")? == Some("List") {
            for (j, item) in node.seq("items")?.into_iter().enumerate() {
                let doc = format!("{document}, item {} of the List", j + 1);
                load_one(Node { v: item.v, path: String::new(), doc: &doc }, &mut set)?;
            }
        } else {
            load_one(node, &mut set)?;
        }
    }
    Ok(set)
}

fn load_one(node: Node, set: &mut PolicySet) -> Result<(), KyvernoPolicyError> {
    node.mapping()?;
    let api_version = node.opt_str("apiVersion")?.unwrap_or("").to_string();
    let kind = node.req_str("kind")?.to_string();
    let meta = node.opt("metadata")?;
    let name = match &meta {
        Some(m) => m.opt_str("name")?.unwrap_or("").to_string(),
        None => String::new(),
    };
    let group = api_version.split('/').next().unwrap_or("");
    let named_doc = format!("{} ({kind} {name})", node.doc);
    let node = Node { doc: &named_doc, ..node };
    match (group, kind.as_str()) {
        ("kyverno.io", "ClusterPolicy" | "Policy") => {
            if !matches!(api_version.as_str(), "kyverno.io/v1" | "kyverno.io/v2beta1" | "kyverno.io/v2") {
                return Err(
                    node.error("apiVersion", format!("{api_version} is not a Kyverno policy version sigscope knows"))
                );
            }
            let namespace = match &meta {
                Some(m) => m.opt_str("namespace")?.map(str::to_string),
                None => None,
            };
            set.cluster_policies.push(cluster_policy(&node, api_version, kind == "Policy", name, namespace)?);
        }
        ("policies.kyverno.io", "ImageValidatingPolicy" | "NamespacedImageValidatingPolicy") => {
            let namespaced = kind.starts_with("Namespaced");
            set.image_validating.push(image_validating(&node, api_version, namespaced, name)?);
        }
        ("v1", "ConfigMap") => {
            let namespace = match &meta {
                Some(m) => m.opt_str("namespace")?.map(str::to_string),
                None => None,
            };
            let mut data = std::collections::BTreeMap::new();
            if let Some(d) = node.opt("data")? {
                for (k, v) in d.entries()? {
                    data.insert(k, v.as_str()?.to_string());
                }
            }
            set.config_maps.push(ConfigMap { name, namespace, data });
        }
        ("v1", "Namespace") => {
            let mut labels = std::collections::BTreeMap::new();
            if let Some(l) = meta.as_ref().map(|m| m.opt("labels")).transpose()?.flatten() {
                for (k, v) in l.entries()? {
                    labels.insert(k, v.as_str()?.to_string());
                }
            }
            set.namespaces.push(NamespaceLabels { name, labels });
        }
        _ => set.ignored.push(Ignored { document: node.doc.to_string(), api_version, kind, name }),
    }
    Ok(())
}

fn cluster_policy(
    node: &Node,
    api_version: String,
    namespaced: bool,
    name: String,
    namespace: Option<String>,
) -> Result<ClusterPolicy, KyvernoPolicyError> {
    if name.is_empty() {
        return Err(node.error("metadata.name", "missing".into()));
    }
    let spec = node.req("spec")?;
    let validation_failure_action = match spec.opt("validationFailureAction")? {
        Some(n) => failure_action(&n)?,
        None => FailureAction::Audit,
    };
    let failure_policy_fail = match spec.opt_str("failurePolicy")? {
        None | Some("Fail") => true,
        Some("Ignore") => false,
        Some(other) => return Err(spec.error("failurePolicy", format!("{other:?} is neither Fail nor Ignore"))),
    };
    let spec_overrides = action_overrides(&spec, "validationFailureActionOverrides")?;
    let mut rules = Vec::new();
    for r in spec.seq("rules")? {
        let verify_images =
            r.opt_seq("verifyImages")?.into_iter().map(|v| verify_images(&v)).collect::<Result<_, _>>()?;
        let mut context = Vec::new();
        for c in r.opt_seq("context")? {
            let name = c.req_str("name")?.to_string();
            context.push(match c.opt("configMap")? {
                Some(cm) => ContextEntry::ConfigMap {
                    name,
                    config_map: cm.req_str("name")?.to_string(),
                    namespace: cm.opt_str("namespace")?.map(str::to_string),
                },
                None => {
                    let kind = c.entries()?.into_iter().map(|(k, _)| k).find(|k| k != "name").unwrap_or_default();
                    ContextEntry::Other { name, kind }
                }
            });
        }
        let block = |key: &str| r.opt(key)?.map(|m| resource_block(&m)).transpose();
        let preconditions = r.opt("preconditions")?.map(|p| super::conditions::any_all_blocks(p.json()));
        rules.push(Rule {
            name: r.req_str("name")?.to_string(),
            context,
            verify_images,
            match_resources: block("match")?,
            exclude: block("exclude")?,
            preconditions,
            validate_action: match r.opt("validate")? {
                Some(v) => Some((
                    v.opt("failureAction")?.map(|a| failure_action(&a)).transpose()?,
                    action_overrides(&v, "failureActionOverrides")?,
                )),
                None => None,
            },
        });
    }
    Ok(ClusterPolicy {
        kind: if namespaced { PolicyKind::Policy } else { PolicyKind::ClusterPolicy },
        api_version,
        name,
        namespace,
        validation_failure_action,
        failure_policy_fail,
        action_overrides: spec_overrides,
        rules,
    })
}

fn action_overrides(n: &Node, key: &str) -> Result<Vec<ActionOverride>, KyvernoPolicyError> {
    let mut out = Vec::new();
    for o in n.opt_seq(key)? {
        out.push(ActionOverride {
            action: failure_action(&o.req("action")?)?,
            namespaces: if o.has("namespaces") { Some(o.str_list("namespaces")?) } else { None },
            namespace_selector: o.opt("namespaceSelector")?.map(|s| label_selector(&s)).transpose()?,
        });
    }
    Ok(out)
}

/// A rule's `match` or `exclude`.
fn resource_block(n: &Node) -> Result<ResourceBlock, KyvernoPolicyError> {
    n.only(&["any", "all", "resources", "subjects", "roles", "clusterRoles"])?;
    let filters = |key: &str| n.opt_seq(key)?.iter().map(filter).collect::<Result<Vec<_>, _>>();
    let legacy = if ["resources", "subjects", "roles", "clusterRoles"].iter().any(|k| n.has(k)) {
        Some(filter(n)?)
    } else {
        None
    };
    Ok(ResourceBlock { any: filters("any")?, all: filters("all")?, legacy })
}

/// A `ResourceFilter`: `resources` with who sent the request beside it.
fn filter(n: &Node) -> Result<Filter, KyvernoPolicyError> {
    n.only(&["resources", "subjects", "roles", "clusterRoles", "any", "all"])?;
    let mut f = Filter {
        user_info: ["subjects", "roles", "clusterRoles"].iter().filter(|k| n.has(k)).map(|k| k.to_string()).collect(),
        ..Filter::default()
    };
    let Some(r) = n.opt("resources")? else { return Ok(f) };
    r.only(&["kinds", "name", "names", "namespaces", "annotations", "selector", "namespaceSelector", "operations"])?;
    f.kinds = r.str_list("kinds")?;
    f.names = r.str_list("names")?;
    if let Some(name) = r.opt_str("name")? {
        f.names.push(name.to_string());
    }
    f.namespaces = r.str_list("namespaces")?;
    f.operations = r.str_list("operations")?;
    if let Some(a) = r.opt("annotations")? {
        for (k, v) in a.entries()? {
            f.annotations.insert(k, v.as_str()?.to_string());
        }
    }
    f.selector = r.opt("selector")?.map(|s| label_selector(&s)).transpose()?;
    f.namespace_selector = r.opt("namespaceSelector")?.map(|s| label_selector(&s)).transpose()?;
    Ok(f)
}

fn label_selector(n: &Node) -> Result<LabelSelector, KyvernoPolicyError> {
    n.only(&["matchLabels", "matchExpressions"])?;
    let mut s = LabelSelector::default();
    if let Some(m) = n.opt("matchLabels")? {
        for (k, v) in m.entries()? {
            s.match_labels.insert(k, v.as_str()?.to_string());
        }
    }
    for e in n.opt_seq("matchExpressions")? {
        e.only(&["key", "operator", "values"])?;
        let operator = e.req_str("operator")?.to_string();
        if !matches!(operator.as_str(), "In" | "NotIn" | "Exists" | "DoesNotExist") {
            return Err(e.error("operator", format!("{operator:?} is not In, NotIn, Exists or DoesNotExist")));
        }
        s.match_expressions.push(LabelExpression {
            key: e.req_str("key")?.to_string(),
            operator,
            values: e.str_list("values")?,
        });
    }
    Ok(s)
}

fn failure_action(n: &Node) -> Result<FailureAction, KyvernoPolicyError> {
    match n.as_str()? {
        "Enforce" | "enforce" => Ok(FailureAction::Enforce),
        "Audit" | "audit" => Ok(FailureAction::Audit),
        other => Err(n.error("", format!("{other:?} is neither Enforce nor Audit"))),
    }
}

const VERIFY_IMAGES_FIELDS: &[&str] = &[
    "type",
    "image",
    "imageReferences",
    "skipImageReferences",
    "key",
    "issuer",
    "subject",
    "roots",
    "additionalExtensions",
    "annotations",
    "repository",
    "attestors",
    "attestations",
    "validate",
    "mutateDigest",
    "verifyDigest",
    "required",
    "useCache",
    "failureAction",
    "cosignOCI11",
    "imageRegistryCredentials",
];

fn verify_images(n: &Node) -> Result<VerifyImages, KyvernoPolicyError> {
    n.only(VERIFY_IMAGES_FIELDS)?;
    let verifier = match n.opt_str("type")? {
        None | Some("Cosign") => VerifierType::Cosign,
        Some("SigstoreBundle") => VerifierType::SigstoreBundle,
        Some("Notary") => VerifierType::Notary,
        Some(other) => return Err(n.error("type", format!("{other:?} is not Cosign, SigstoreBundle or Notary"))),
    };
    let mut image_references = n.str_list("imageReferences")?;
    // Kyverno's Convert() folds the deprecated single-image fields into the current ones.
    if let Some(image) = n.opt_str("image")? {
        image_references.push(image.to_string());
    }
    if image_references.is_empty() {
        return Err(n.error("imageReferences", "an image reference is required".into()));
    }
    let mut attestors = n.opt_seq("attestors")?.into_iter().map(|a| attestor_set(&a)).collect::<Result<Vec<_>, _>>()?;
    if let Some(key) = n.opt_str("key")? {
        let keys = Keys { public_keys: Some(key.to_string()), ..Default::default() };
        attestors.push(single(AttestorKind::Keys(keys)));
    } else if n.opt("subject")?.is_some() || n.opt("issuer")?.is_some() {
        let keyless = Keyless {
            subject: n.opt_str("subject")?.map(str::to_string),
            issuer: n.opt_str("issuer")?.map(str::to_string),
            roots: n.opt_str("roots")?.map(str::to_string),
            ..Default::default()
        };
        attestors.push(single(AttestorKind::Keyless(keyless)));
    }
    let attestations = n.opt_seq("attestations")?.into_iter().map(|a| attestation(&a)).collect::<Result<_, _>>()?;
    let failure_action = match n.opt("failureAction")? {
        Some(f) => Some(failure_action(&f)?),
        None => None,
    };
    let vi = VerifyImages {
        verifier,
        image_references,
        skip_image_references: n.str_list("skipImageReferences")?,
        attestors,
        attestations,
        repository: n.opt_str("repository")?.map(str::to_string),
        required: n.bool_or("required", true)?,
        verify_digest: n.bool_or("verifyDigest", true)?,
        mutate_digest: n.bool_or("mutateDigest", true)?,
        use_cache: n.bool_or("useCache", true)?,
        failure_action,
        validate: match n.opt("validate")? {
            Some(v) => {
                v.only(&["message", "deny"])?;
                let deny = match v.opt("deny")? {
                    Some(d) => {
                        d.only(&["conditions"])?;
                        d.opt("conditions")?.map(|c| super::conditions::any_all_blocks(c.json()))
                    }
                    None => None,
                };
                Some(ImageValidate { message: v.opt_str("message")?.map(str::to_string), deny })
            }
            None => None,
        },
        cosign_oci11: n.bool_or("cosignOCI11", false)?,
    };
    if vi.verifier == VerifierType::Notary
        && vi
            .attestors
            .iter()
            .flat_map(|s| &s.entries)
            .any(|e| matches!(e.kind, AttestorKind::Keys(_) | AttestorKind::Keyless(_)))
    {
        return Err(n.error("attestors", "keys and keyless attestors are not allowed for type Notary".into()));
    }
    Ok(vi)
}

fn single(kind: AttestorKind) -> AttestorSet {
    AttestorSet { count: None, entries: vec![Attestor { kind, repository: None, annotations: Vec::new() }] }
}

fn attestor_set(n: &Node) -> Result<AttestorSet, KyvernoPolicyError> {
    n.only(&["count", "entries"])?;
    let entries = n.seq("entries")?.into_iter().map(|e| attestor(&e)).collect::<Result<Vec<_>, _>>()?;
    let count = match n.opt("count")? {
        Some(c) => match c.v.as_u64() {
            Some(0) => None,
            Some(k) if (k as usize) <= entries.len() => Some(k as usize),
            Some(k) => return Err(c.error("", format!("count {k} is more than the {} entries", entries.len()))),
            None => return Err(c.error("", "not a non-negative integer".into())),
        },
        None => None,
    };
    Ok(AttestorSet { count, entries })
}

fn attestor(n: &Node) -> Result<Attestor, KyvernoPolicyError> {
    n.only(&["keys", "certificates", "keyless", "attestor", "repository", "annotations", "signatureAlgorithm"])?;
    let present: Vec<&str> = ["keys", "certificates", "keyless", "attestor"].into_iter().filter(|k| n.has(k)).collect();
    if present.len() != 1 {
        return Err(n.error(
            "",
            format!("exactly one of keys, certificates, keyless or a nested attestor is required (found {present:?})"),
        ));
    }
    let kind = match present[0] {
        "keys" => {
            let k = n.req("keys")?;
            k.only(&["publicKeys", "kms", "secret", "signatureAlgorithm", "rekor", "ctlog"])?;
            let secret = match k.opt("secret")? {
                Some(s) => Some((s.req_str("name")?.to_string(), s.req_str("namespace")?.to_string())),
                None => None,
            };
            let keys = Keys {
                public_keys: k.opt_str("publicKeys")?.map(str::to_string),
                kms: k.opt_str("kms")?.map(str::to_string),
                secret,
                signature_algorithm: k
                    .opt_str("signatureAlgorithm")?
                    .or(n.opt_str("signatureAlgorithm")?)
                    .map(str::to_string),
                rekor: rekor(&k)?,
                ctlog: ctlog(&k)?,
            };
            if keys.public_keys.is_none() && keys.kms.is_none() && keys.secret.is_none() {
                return Err(k.error("", "one of publicKeys, kms or secret is required".into()));
            }
            AttestorKind::Keys(keys)
        }
        "certificates" => {
            let c = n.req("certificates")?;
            c.only(&["cert", "certChain", "rekor", "ctlog"])?;
            let certs = Certificates {
                cert: c.opt_str("cert")?.map(str::to_string),
                cert_chain: c.opt_str("certChain")?.map(str::to_string),
                rekor: rekor(&c)?,
                ctlog: ctlog(&c)?,
            };
            if certs.cert.is_none() && certs.cert_chain.is_none() {
                return Err(c.error("", "cert or certChain is required".into()));
            }
            AttestorKind::Certificates(certs)
        }
        "keyless" => {
            let k = n.req("keyless")?;
            k.only(&[
                "issuer",
                "issuerRegExp",
                "subject",
                "subjectRegExp",
                "roots",
                "additionalExtensions",
                "rekor",
                "ctlog",
            ])?;
            AttestorKind::Keyless(Keyless {
                issuer: k.opt_str("issuer")?.map(str::to_string),
                issuer_reg_exp: k.opt_str("issuerRegExp")?.map(str::to_string),
                subject: k.opt_str("subject")?.map(str::to_string),
                subject_reg_exp: k.opt_str("subjectRegExp")?.map(str::to_string),
                roots: k.opt_str("roots")?.map(str::to_string),
                rekor: rekor(&k)?,
                ctlog: ctlog(&k)?,
            })
        }
        _ => AttestorKind::Nested(attestor_set(&n.req("attestor")?)?),
    };
    let annotations = match n.opt("annotations")? {
        Some(a) => a
            .entries()?
            .into_iter()
            .map(|(k, v)| Ok((k, v.as_str()?.to_string())))
            .collect::<Result<_, KyvernoPolicyError>>()?,
        None => Vec::new(),
    };
    Ok(Attestor { kind, repository: n.opt_str("repository")?.map(str::to_string), annotations })
}

fn rekor(n: &Node) -> Result<Option<Rekor>, KyvernoPolicyError> {
    let Some(r) = n.opt("rekor")? else { return Ok(None) };
    r.only(&["url", "pubkey", "ignoreTlog"])?;
    Ok(Some(Rekor {
        url: r.opt_str("url")?.map(str::to_string),
        pubkey: r.opt_str("pubkey")?.map(str::to_string),
        ignore_tlog: r.bool_or("ignoreTlog", false)?,
    }))
}

fn ctlog(n: &Node) -> Result<Option<CtLog>, KyvernoPolicyError> {
    let Some(c) = n.opt("ctlog")? else { return Ok(None) };
    c.only(&["ignoreSCT", "pubkey", "tsaCertChain"])?;
    Ok(Some(CtLog {
        ignore_sct: c.bool_or("ignoreSCT", false)?,
        pubkey: c.opt_str("pubkey")?.map(str::to_string),
        tsa_cert_chain: c.opt_str("tsaCertChain")?.map(str::to_string),
    }))
}

fn attestation(n: &Node) -> Result<Attestation, KyvernoPolicyError> {
    n.only(&["type", "predicateType", "name", "attestors", "conditions"])?;
    let predicate_type = match (n.opt_str("type")?, n.opt_str("predicateType")?) {
        (Some(t), _) | (None, Some(t)) => t.to_string(),
        (None, None) => return Err(n.error("type", "an attestation needs a type (or predicateType)".into())),
    };
    Ok(Attestation {
        name: n.opt_str("name")?.map(str::to_string),
        predicate_type,
        attestors: n.opt_seq("attestors")?.into_iter().map(|a| attestor_set(&a)).collect::<Result<_, _>>()?,
        conditions: n.opt("conditions")?.map(|c| c.json()),
    })
}

fn image_validating(
    node: &Node,
    api_version: String,
    namespaced: bool,
    name: String,
) -> Result<ImageValidatingPolicy, KyvernoPolicyError> {
    if name.is_empty() {
        return Err(node.error("metadata.name", "missing".into()));
    }
    let spec = node.req("spec")?;
    let mut match_image_globs = Vec::new();
    let mut match_image_expressions = Vec::new();
    for m in spec.opt_seq("matchImageReferences")? {
        match (m.opt_str("glob")?, m.opt_str("expression")?) {
            (Some(g), None) => {
                super::matching::Glob::compile(g).map_err(|e| m.error("glob", e))?;
                match_image_globs.push(g.to_string());
            }
            (None, Some(e)) => match_image_expressions.push(e.to_string()),
            _ => return Err(m.error("", "exactly one of glob or expression is required".into())),
        }
    }
    let mut attestors = Vec::new();
    for a in spec.opt_seq("attestors")? {
        let kind = ["cosign", "notary"].into_iter().find(|k| a.has(k));
        let Some(kind) = kind else {
            return Err(a.error("", "an attestor needs cosign or notary".into()));
        };
        let (certs, tsa) = match a.opt("notary")? {
            Some(nt) => (string_or_value(&nt, "certs")?, string_or_value(&nt, "tsaCerts")?),
            None => (None, None),
        };
        attestors.push(IvpAttestor {
            name: a.req_str("name")?.to_string(),
            kind: kind.to_string(),
            notary_certs: certs,
            notary_tsa_certs: tsa,
        });
    }
    let mut attestations = Vec::new();
    for a in spec.opt_seq("attestations")? {
        let (via, inner) = match (a.opt("intoto")?, a.opt("referrer")?) {
            (Some(i), None) => ("intoto", i),
            (None, Some(r)) => ("referrer", r),
            _ => return Err(a.error("", "exactly one of intoto or referrer is required".into())),
        };
        attestations.push(IvpAttestation {
            name: a.req_str("name")?.to_string(),
            via: via.to_string(),
            kind: inner.req_str("type")?.to_string(),
        });
    }
    let config = spec.opt("validationConfigurations")?;
    let flag = |key: &str| match &config {
        Some(c) => c.bool_or(key, true),
        None => Ok(true),
    };
    let validations = spec
        .opt_seq("validations")?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            Ok(IvpValidation {
                name: format!("validations[{i}]"),
                expression: v.req_str("expression")?.to_string(),
                message: v.opt_str("message")?.map(str::to_string),
                support: Support::Unsupported(CEL_UNSUPPORTED),
            })
        })
        .collect::<Result<_, KyvernoPolicyError>>()?;
    Ok(ImageValidatingPolicy {
        api_version,
        namespaced,
        name,
        match_image_globs,
        match_image_expressions,
        validation_actions: spec.str_list("validationActions")?,
        attestors,
        attestations,
        required: flag("required")?,
        verify_digest: flag("verifyDigest")?,
        mutate_digest: flag("mutateDigest")?,
        validations,
    })
}

/// IVP's `StringOrExpression`: `{value: …}` or `{expression: …}` (kept as the CEL text).
fn string_or_value(n: &Node, key: &str) -> Result<Option<String>, KyvernoPolicyError> {
    let Some(v) = n.opt(key)? else { return Ok(None) };
    if let Some(s) = v.v.as_str() {
        return Ok(Some(s.to_string()));
    }
    Ok(v.opt_str("value")?.or(v.opt_str("expression")?).map(str::to_string))
}

/// A value with where it sits, so every error names its document and field.
#[derive(Clone)]
struct Node<'a> {
    v: &'a Value,
    path: String,
    doc: &'a str,
}

impl<'a> Node<'a> {
    fn error(&self, key: &str, reason: String) -> KyvernoPolicyError {
        let field = match (self.path.is_empty(), key.is_empty()) {
            (true, true) => "(document)".to_string(),
            (true, false) => key.to_string(),
            (false, true) => self.path.clone(),
            (false, false) => format!("{}.{key}", self.path),
        };
        KyvernoPolicyError { document: self.doc.to_string(), field, reason }
    }

    fn child(&self, key: &str, v: &'a Value) -> Node<'a> {
        let path = if self.path.is_empty() { key.to_string() } else { format!("{}.{key}", self.path) };
        Node { v, path, doc: self.doc }
    }

    fn mapping(&self) -> Result<&'a serde_norway::Mapping, KyvernoPolicyError> {
        self.v.as_mapping().ok_or_else(|| self.error("", format!("expected a mapping, found {}", kind_of(self.v))))
    }

    fn has(&self, key: &str) -> bool {
        self.v.as_mapping().and_then(|m| m.get(key)).is_some_and(|v| !v.is_null())
    }

    fn opt(&self, key: &str) -> Result<Option<Node<'a>>, KyvernoPolicyError> {
        Ok(self.mapping()?.get(key).filter(|v| !v.is_null()).map(|v| self.child(key, v)))
    }

    fn req(&self, key: &str) -> Result<Node<'a>, KyvernoPolicyError> {
        self.opt(key)?.ok_or_else(|| self.error(key, "missing".into()))
    }

    fn as_str(&self) -> Result<&'a str, KyvernoPolicyError> {
        self.v.as_str().ok_or_else(|| self.error("", format!("expected a string, found {}", kind_of(self.v))))
    }

    fn opt_str(&self, key: &str) -> Result<Option<&'a str>, KyvernoPolicyError> {
        self.opt(key)?.map(|n| n.as_str()).transpose()
    }

    fn req_str(&self, key: &str) -> Result<&'a str, KyvernoPolicyError> {
        self.req(key)?.as_str()
    }

    fn bool_or(&self, key: &str, default: bool) -> Result<bool, KyvernoPolicyError> {
        match self.opt(key)? {
            None => Ok(default),
            Some(n) => {
                n.v.as_bool().ok_or_else(|| n.error("", format!("expected true or false, found {}", kind_of(n.v))))
            }
        }
    }

    fn opt_seq(&self, key: &str) -> Result<Vec<Node<'a>>, KyvernoPolicyError> {
        let Some(n) = self.opt(key)? else { return Ok(Vec::new()) };
        let seq = n.v.as_sequence().ok_or_else(|| n.error("", format!("expected a list, found {}", kind_of(n.v))))?;
        Ok(seq.iter().enumerate().map(|(i, v)| Node { v, path: format!("{}[{i}]", n.path), doc: self.doc }).collect())
    }

    fn seq(&self, key: &str) -> Result<Vec<Node<'a>>, KyvernoPolicyError> {
        self.req(key)?;
        self.opt_seq(key)
    }

    fn str_list(&self, key: &str) -> Result<Vec<String>, KyvernoPolicyError> {
        self.opt_seq(key)?.iter().map(|n| n.as_str().map(str::to_string)).collect()
    }

    fn entries(&self) -> Result<Vec<(String, Node<'a>)>, KyvernoPolicyError> {
        self.mapping()?
            .iter()
            .map(|(k, v)| {
                let key = k.as_str().ok_or_else(|| self.error("", "keys must be strings".into()))?;
                Ok((key.to_string(), self.child(key, v)))
            })
            .collect()
    }

    /// Refuses fields this version does not know, naming the first.
    fn only(&self, known: &[&str]) -> Result<(), KyvernoPolicyError> {
        for (k, _) in self.mapping()? {
            let key = k.as_str().ok_or_else(|| self.error("", "keys must be strings".into()))?;
            if !known.contains(&key) {
                return Err(self.error(key, format!("unknown field (known here: {})", known.join(", "))));
            }
        }
        Ok(())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::to_value(self.v).unwrap_or(serde_json::Value::Null)
    }
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: kyverno.io/v1
  kind: ClusterPolicy
  metadata: {name: a}
  spec:
    validationFailureAction: enforce
    rules:
    - name: r
      verifyImages:
      - imageReferences: ["ghcr.io/*"]
        attestors:
        - count: 1
          entries:
          - keys: {publicKeys: "PEM", rekor: {ignoreTlog: true}}
          - attestor:
              entries:
              - certificates: {cert: "PEM"}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: keys}
"#;

    #[test]
    fn list_items_are_policies_and_others_are_set_aside() {
        let set = load(LIST, "list.yaml").unwrap();
        assert_eq!(set.cluster_policies.len(), 1);
        let p = &set.cluster_policies[0];
        assert_eq!(p.validation_failure_action, FailureAction::Enforce);
        let vi = &p.rules[0].verify_images[0];
        assert!(vi.required && vi.verify_digest && vi.mutate_digest);
        assert_eq!(vi.attestors[0].required_count(), 1);
        assert!(
            matches!(&vi.attestors[0].entries[0].kind, AttestorKind::Keys(k) if k.rekor.as_ref().unwrap().ignore_tlog)
        );
        assert!(matches!(&vi.attestors[0].entries[1].kind, AttestorKind::Nested(s) if s.entries.len() == 1));
        assert!(set.ignored.is_empty(), "{:?}", set.ignored);
        assert_eq!(set.config_maps.len(), 1);
        assert_eq!(set.config_maps[0].name, "keys");
    }

    #[test]
    fn several_keys_in_one_string_are_several_entries() {
        let two = "-----BEGIN PUBLIC KEY-----\nA\n-----END PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----\n";
        let keys = Keys {
            public_keys: Some(two.into()),
            rekor: Some(Rekor { ignore_tlog: true, ..Default::default() }),
            ..Default::default()
        };
        let set = AttestorSet {
            count: Some(1),
            entries: vec![
                Attestor { kind: AttestorKind::Keys(keys), repository: None, annotations: Vec::new() },
                Attestor {
                    kind: AttestorKind::Keys(Keys { kms: Some("awskms:///k".into()), ..Default::default() }),
                    repository: None,
                    annotations: Vec::new(),
                },
            ],
        };
        let expanded = set.expand_static_keys();
        assert_eq!(expanded.entries.len(), 3);
        let AttestorKind::Keys(second) = &expanded.entries[1].kind else { panic!() };
        assert_eq!(second.public_keys.as_deref(), Some("\n-----BEGIN PUBLIC KEY-----\nB\n-----END PUBLIC KEY-----"));
        assert!(second.rekor.as_ref().unwrap().ignore_tlog, "the rest of the entry is kept");
        assert_eq!(expanded.required_count(), 1);
        let all = AttestorSet { count: None, ..set };
        assert_eq!(all.expand_static_keys().required_count(), 3);
    }

    #[test]
    fn hostile_yaml_ends_in_an_error() {
        // Alias bombs and deep nesting: bounded by the YAML crate, not by luck.
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..12 {
            let prev = if i == 0 { "a".to_string() } else { format!("b{}", i - 1) };
            bomb.push_str(&format!("b{i}: &b{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        assert!(load(&bomb, "bomb.yaml").is_err());
        let deep = "[".repeat(10_000);
        assert!(load(&deep, "deep.yaml").is_err());
    }

    #[test]
    fn errors_name_document_and_field() {
        let typo = LIST
            .replace("imageReferences: [\"ghcr.io/*\"]", "imageReferences: [\"ghcr.io/*\"]\n        requried: false");
        let e = load(&typo, "list.yaml").unwrap_err();
        assert_eq!(e.document, "list.yaml: document 1, item 1 of the List (ClusterPolicy a)");
        assert_eq!(e.field, "spec.rules[0].verifyImages[0].requried");
        let e = load(&LIST.replace("count: 1", "count: 3"), "x").unwrap_err();
        assert_eq!(e.field, "spec.rules[0].verifyImages[0].attestors[0].count");
        let e = load(&LIST.replace("enforce", "Block"), "x").unwrap_err();
        assert_eq!(e.field, "spec.validationFailureAction");
        assert!(e.to_string().contains("neither Enforce nor Audit"));
        let e = load("---\nkind: ClusterPolicy\napiVersion: kyverno.io/v1\nmetadata: {name: b}\nspec: {}\n", "y")
            .unwrap_err();
        assert_eq!((e.document.as_str(), e.field.as_str()), ("y: document 1 (ClusterPolicy b)", "spec.rules"));
        let e = load("a: [", "z").unwrap_err();
        assert!(e.reason.starts_with("not valid YAML"), "{e}");
        let e = load("- 1\n", "z").unwrap_err();
        assert!(e.reason.contains("expected a mapping"), "{e}");
    }
}
