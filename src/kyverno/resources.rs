//! Whether a rule applies to the admission being explained at all, before any image is
//! looked at: a namespaced `Policy` only sees its own namespace, then the rule's `match` and
//! `exclude` (`any`/`all` filters, or the older `resources` with `subjects`/`roles`), then its
//! `preconditions` — as Kyverno's `pkg/engine/utils/match.go` (`MatchesResourceDescription`)
//! decides them.
//!
//! sigscope knows little of the admission request: the Pod's kind, namespace and name when a
//! pasted denial (or `--namespace`) says them, and the labels of the Namespaces given beside the
//! policies. Everything else a filter reads — the Pod's labels and annotations, the user who
//! sent it, an operation other than creation — is unknown, and an unknown is never taken as
//! "does not apply": a rule that might apply is replayed, and if it would block, the answer is
//! "not decided" with what is missing named. Only what is known to exclude a rule does.

use std::collections::BTreeMap;

use super::matching::wildcard_match;

/// A `match` or `exclude` block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceBlock {
    pub any: Vec<Filter>,
    pub all: Vec<Filter>,
    /// The older form: `resources` (with `subjects`/`roles`/`clusterRoles`) at the top.
    pub legacy: Option<Filter>,
}

/// One `ResourceFilter`: every field given must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Filter {
    pub kinds: Vec<String>,
    /// `names`, and the older `name`.
    pub names: Vec<String>,
    pub namespaces: Vec<String>,
    pub annotations: BTreeMap<String, String>,
    pub selector: Option<LabelSelector>,
    pub namespace_selector: Option<LabelSelector>,
    pub operations: Vec<String>,
    /// `subjects`, `roles` or `clusterRoles` given: who sent the request.
    pub user_info: Vec<String>,
}

/// A Kubernetes `LabelSelector`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelExpression>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelExpression {
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`.
    pub operator: String,
    pub values: Vec<String>,
}

/// A `v1` Namespace given beside the policies: what a `namespaceSelector` reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespaceLabels {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// The resource being admitted, as far as it is known: from a pasted denial, `--namespace`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmittedResource {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl AdmittedResource {
    pub fn in_namespace(namespace: Option<String>) -> Self {
        AdmittedResource { namespace, ..AdmittedResource::default() }
    }

    /// The resource with the labels of the namespaces given beside the policies.
    pub fn admitting<'a>(&'a self, namespaces: &'a [NamespaceLabels]) -> Admitting<'a> {
        Admitting {
            kind: self.kind.as_deref(),
            namespace: self.namespace.as_deref(),
            name: self.name.as_deref(),
            namespaces,
        }
    }

    /// `Pod default/web`, `a Pod in prod`, or nothing when nothing is known.
    pub fn describe(&self) -> Option<String> {
        let kind = self.kind.as_deref().unwrap_or("Pod");
        match (&self.namespace, &self.name) {
            (Some(ns), Some(n)) => Some(format!("{kind} {ns}/{n}")),
            (Some(ns), None) => Some(format!("a {kind} in namespace {ns}")),
            (None, Some(n)) => Some(format!("{kind} {n}")),
            (None, None) => self.kind.as_ref().map(|k| format!("a {k}")),
        }
    }
}

/// What is known of the admission request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Admitting<'a> {
    /// `Pod`, `Deployment`…; unknown, a Pod is assumed for a rule about Pods.
    pub kind: Option<&'a str>,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
    pub namespaces: &'a [NamespaceLabels],
}

/// Whether a rule applies, in three values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applies {
    Yes,
    /// It does not, and why.
    No(String),
    /// It may: what would decide it is not known here.
    Unknown(String),
}

impl Applies {
    fn and(self, other: impl FnOnce() -> Applies) -> Applies {
        match self {
            Applies::No(_) => self,
            Applies::Yes => other(),
            Applies::Unknown(why) => match other() {
                Applies::No(n) => Applies::No(n),
                _ => Applies::Unknown(why),
            },
        }
    }
}

/// The controllers Kyverno's autogen turns a Pod rule into rules for (`autogen-…`,
/// `autogen-cronjob-…`).
const POD_CONTROLLERS: &[&str] =
    &["DaemonSet", "Deployment", "Job", "StatefulSet", "ReplicaSet", "ReplicationController", "CronJob"];

fn list(patterns: &[String]) -> String {
    patterns.join(", ")
}

/// A `kinds` entry as Kyverno reads it: `v1/Pod`, `apps/v1/Deployment`, `*/Pod` name the kind
/// after the group and version; `Pod/ephemeralcontainers` names a subresource, which no Pod
/// creation is.
fn kind_and_subresource(pattern: &str) -> (&str, Option<&str>) {
    let segments: Vec<&str> = pattern.split('/').collect();
    match segments.iter().position(|s| s.starts_with(|c: char| c.is_ascii_uppercase())) {
        Some(i) => (segments[i], segments.get(i + 1).copied()),
        None => (segments.last().copied().unwrap_or(""), None),
    }
}

fn kinds_match(patterns: &[String], kind: &str) -> bool {
    patterns.iter().any(|p| match kind_and_subresource(p) {
        (k, None) => k == "*" || wildcard_match(k, kind),
        (_, Some(_)) => false,
    })
}

fn kinds(patterns: &[String], at: &Admitting) -> Applies {
    if patterns.is_empty() {
        return Applies::Yes;
    }
    let pod = kinds_match(patterns, "Pod");
    match at.kind {
        Some(kind) => {
            if kinds_match(patterns, kind) || (pod && POD_CONTROLLERS.contains(&kind)) {
                Applies::Yes
            } else {
                Applies::No(format!("it matches kinds [{}], and the resource is a {kind}", list(patterns)))
            }
        }
        None if pod => Applies::Yes,
        None => Applies::Unknown(format!(
            "it matches kinds [{}], not Pods, and the kind of the resource is not known (paste the denial)",
            list(patterns)
        )),
    }
}

fn wildcards(field: &str, patterns: &[String], value: Option<&str>, how: &str) -> Applies {
    if patterns.is_empty() {
        return Applies::Yes;
    }
    match value {
        Some(v) if patterns.iter().any(|p| wildcard_match(p, v)) => Applies::Yes,
        Some(v) => Applies::No(format!("it matches {field} [{}], and the {how} is {v}", list(patterns))),
        None => Applies::Unknown(format!("it matches {field} [{}], and the {how} is not known{}", list(patterns), {
            if field == "namespaces" { " (give --namespace, or paste the denial)" } else { " (paste the denial)" }
        })),
    }
}

impl LabelSelector {
    /// Kubernetes' semantics: every `matchLabels` pair and every expression must hold; an empty
    /// selector matches everything.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> Result<bool, String> {
        if !self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v)) {
            return Ok(false);
        }
        for e in &self.match_expressions {
            let value = labels.get(&e.key);
            let holds = match e.operator.as_str() {
                "In" => value.is_some_and(|v| e.values.contains(v)),
                "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                "Exists" => value.is_some(),
                "DoesNotExist" => value.is_none(),
                other => return Err(format!("the label selector operator {other:?} is not Kubernetes'")),
            };
            if !holds {
                return Ok(false);
            }
        }
        Ok(true)
    }

    fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

pub(super) fn namespace_selector(selector: &LabelSelector, at: &Admitting) -> Applies {
    if selector.is_empty() {
        return Applies::Yes;
    }
    let Some(ns) = at.namespace else {
        return Applies::Unknown(
            "it has a namespaceSelector, and the Pod's namespace is not known (give --namespace, or paste the denial)"
                .into(),
        );
    };
    let Some(found) = at.namespaces.iter().find(|n| n.name == ns) else {
        return Applies::Unknown(format!(
            "it has a namespaceSelector, and the labels of namespace {ns} are not known: add it (kubectl get namespace \
             {ns} -o yaml) with --kyverno-policy"
        ));
    };
    let mut labels = found.labels.clone();
    // The API server sets this label on every namespace.
    labels.insert("kubernetes.io/metadata.name".into(), ns.to_string());
    match selector.matches(&labels) {
        Ok(true) => Applies::Yes,
        Ok(false) => Applies::No(format!("its namespaceSelector does not select namespace {ns}")),
        Err(e) => Applies::Unknown(e),
    }
}

impl Filter {
    fn applies(&self, at: &Admitting) -> Applies {
        kinds(&self.kinds, at)
            .and(|| wildcards("names", &self.names, at.name, "Pod's name"))
            .and(|| wildcards("namespaces", &self.namespaces, at.namespace, "Pod's namespace"))
            .and(|| match &self.namespace_selector {
                Some(s) => namespace_selector(s, at),
                None => Applies::Yes,
            })
            .and(|| {
                if self.operations.is_empty() || self.operations.iter().any(|o| o == "CREATE") {
                    Applies::Yes
                } else {
                    Applies::Unknown(format!(
                        "it applies to {} only, and sigscope replays the Pod's creation",
                        list(&self.operations)
                    ))
                }
            })
            .and(|| match &self.selector {
                Some(s) if !s.is_empty() => {
                    Applies::Unknown("it has a label selector, and the Pod's labels are not known here".into())
                }
                _ => Applies::Yes,
            })
            .and(|| {
                if self.annotations.is_empty() {
                    Applies::Yes
                } else {
                    Applies::Unknown("it matches annotations, and the Pod's annotations are not known here".into())
                }
            })
            .and(|| {
                if self.user_info.is_empty() {
                    Applies::Yes
                } else {
                    Applies::Unknown(format!(
                        "it matches who sends the request ({}), which is not known here",
                        list(&self.user_info)
                    ))
                }
            })
    }
}

fn any_of(filters: &[Filter], at: &Admitting) -> Applies {
    let mut unknown = None;
    let mut no = Vec::new();
    for f in filters {
        match f.applies(at) {
            Applies::Yes => return Applies::Yes,
            Applies::Unknown(why) => unknown = unknown.or(Some(why)),
            Applies::No(why) => no.push(why),
        }
    }
    match unknown {
        Some(why) => Applies::Unknown(why),
        None => Applies::No(no.join("; ")),
    }
}

fn all_of(filters: &[Filter], at: &Admitting) -> Applies {
    filters.iter().fold(Applies::Yes, |acc, f| acc.and(|| f.applies(at)))
}

impl ResourceBlock {
    fn selects(&self, at: &Admitting) -> Applies {
        let mut result = Applies::Yes;
        if !self.any.is_empty() {
            result = result.and(|| any_of(&self.any, at));
        }
        if !self.all.is_empty() {
            result = result.and(|| all_of(&self.all, at));
        }
        if let Some(f) = &self.legacy {
            result = result.and(|| f.applies(at));
        }
        result
    }

    fn is_empty(&self) -> bool {
        self.any.is_empty() && self.all.is_empty() && self.legacy.is_none()
    }
}

/// The rule's `match`, then its `exclude`: whether Kyverno would apply it to the admission.
pub fn rule_applies(matched: Option<&ResourceBlock>, exclude: Option<&ResourceBlock>, at: &Admitting) -> Applies {
    let matched = match matched {
        Some(m) if !m.is_empty() => match m.selects(at) {
            Applies::No(why) => return Applies::No(format!("its match does not select the resource: {why}")),
            Applies::Unknown(why) => Applies::Unknown(format!("whether its match selects the resource: {why}")),
            Applies::Yes => Applies::Yes,
        },
        _ => Applies::Yes,
    };
    let excluded = match exclude {
        Some(e) if !e.is_empty() => e.selects(at),
        _ => Applies::No(String::new()),
    };
    match excluded {
        Applies::Yes => Applies::No("its exclude block selects the resource".into()),
        Applies::Unknown(why) => matched.and(|| Applies::Unknown(format!("whether its exclude block applies: {why}"))),
        Applies::No(_) => matched,
    }
}

/// A namespaced `Policy` applies to resources of its own namespace only.
pub fn policy_scope(policy_namespace: Option<&str>, at: &Admitting) -> Applies {
    match (policy_namespace, at.namespace) {
        (Some(p), Some(ns)) if p == ns => Applies::Yes,
        (Some(p), Some(ns)) => Applies::No(format!("the Policy lives in namespace {p}, and the Pod is in {ns}")),
        (Some(p), None) => Applies::Unknown(format!(
            "the Policy applies in namespace {p} only, and the Pod's namespace is not known (give --namespace, or \
             paste the denial)"
        )),
        (None, _) => Applies::Unknown(
            "the Policy has no metadata.namespace: it applies in the namespace it was created in, which is not known"
                .into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(kinds: &[&str]) -> Filter {
        Filter { kinds: kinds.iter().map(|s| s.to_string()).collect(), ..Filter::default() }
    }

    fn pod<'a>(namespace: Option<&'a str>, namespaces: &'a [NamespaceLabels]) -> Admitting<'a> {
        Admitting { kind: Some("Pod"), namespace, name: Some("web"), namespaces }
    }

    #[test]
    fn kinds_are_read_as_kyverno_writes_them() {
        for (pattern, kind, hit) in [
            ("Pod", "Pod", true),
            ("v1/Pod", "Pod", true),
            ("*/Pod", "Pod", true),
            ("apps/v1/Deployment", "Deployment", true),
            ("apps/v1/Deployment", "Pod", false),
            ("*", "Pod", true),
            ("Po*", "Pod", true),
            ("Pod/ephemeralcontainers", "Pod", false),
            ("ConfigMap", "Pod", false),
        ] {
            assert_eq!(kinds_match(&[pattern.to_string()], kind), hit, "{pattern} against {kind}");
        }
    }

    #[test]
    fn a_pod_rule_applies_to_the_controllers_autogen_writes_rules_for() {
        let m = ResourceBlock { any: vec![filter(&["Pod"])], ..ResourceBlock::default() };
        let deployment = Admitting { kind: Some("Deployment"), ..Admitting::default() };
        assert_eq!(rule_applies(Some(&m), None, &deployment), Applies::Yes);
        let cm = Admitting { kind: Some("ConfigMap"), ..Admitting::default() };
        assert!(matches!(rule_applies(Some(&m), None, &cm), Applies::No(_)));
        // Unknown kind: sigscope replays a Pod.
        assert_eq!(rule_applies(Some(&m), None, &Admitting::default()), Applies::Yes);
        let tasks = ResourceBlock { any: vec![filter(&["Task"])], ..ResourceBlock::default() };
        assert!(matches!(rule_applies(Some(&tasks), None, &Admitting::default()), Applies::Unknown(_)));
    }

    #[test]
    fn namespaces_decide_only_when_known() {
        let f = Filter { namespaces: vec!["prod-*".into()], ..filter(&["Pod"]) };
        let m = ResourceBlock { any: vec![f], ..ResourceBlock::default() };
        assert_eq!(rule_applies(Some(&m), None, &pod(Some("prod-eu"), &[])), Applies::Yes);
        assert!(matches!(rule_applies(Some(&m), None, &pod(Some("dev"), &[])), Applies::No(w) if w.contains("dev")));
        assert!(
            matches!(rule_applies(Some(&m), None, &pod(None, &[])), Applies::Unknown(w) if w.contains("--namespace"))
        );
    }

    #[test]
    fn an_exclusion_that_might_apply_is_not_taken_as_applying_or_not() {
        let m = ResourceBlock { any: vec![filter(&["Pod"])], ..ResourceBlock::default() };
        let e = ResourceBlock {
            any: vec![Filter { namespaces: vec!["kube-system".into()], ..Filter::default() }],
            ..ResourceBlock::default()
        };
        assert!(matches!(rule_applies(Some(&m), Some(&e), &pod(Some("kube-system"), &[])), Applies::No(_)));
        assert_eq!(rule_applies(Some(&m), Some(&e), &pod(Some("default"), &[])), Applies::Yes);
        assert!(matches!(rule_applies(Some(&m), Some(&e), &pod(None, &[])), Applies::Unknown(_)));
        // An unknown exclusion does not hide a match that certainly fails.
        let dev_only = ResourceBlock {
            any: vec![Filter { namespaces: vec!["dev".into()], ..filter(&["Pod"]) }],
            ..ResourceBlock::default()
        };
        let by_user = ResourceBlock {
            any: vec![Filter { user_info: vec!["subjects".into()], ..Filter::default() }],
            ..ResourceBlock::default()
        };
        assert!(matches!(rule_applies(Some(&dev_only), Some(&by_user), &pod(Some("prod"), &[])), Applies::No(_)));
    }

    #[test]
    fn all_filters_must_match_and_any_one_suffices() {
        let ns = Filter { namespaces: vec!["prod".into()], ..Filter::default() };
        let named = Filter { names: vec!["api-*".into()], ..Filter::default() };
        let all = ResourceBlock { all: vec![ns.clone(), named.clone()], ..ResourceBlock::default() };
        let any = ResourceBlock { any: vec![ns, named], ..ResourceBlock::default() };
        let web = pod(Some("prod"), &[]);
        assert!(matches!(rule_applies(Some(&all), None, &web), Applies::No(_)));
        assert_eq!(rule_applies(Some(&any), None, &web), Applies::Yes);
    }

    #[test]
    fn namespace_selectors_read_the_namespaces_given() {
        let sel = LabelSelector {
            match_labels: [("env".to_string(), "prod".to_string())].into(),
            match_expressions: vec![LabelExpression {
                key: "team".into(),
                operator: "NotIn".into(),
                values: vec!["infra".into()],
            }],
        };
        let f = Filter { namespace_selector: Some(sel), ..filter(&["Pod"]) };
        let m = ResourceBlock { any: vec![f], ..ResourceBlock::default() };
        let nss = [
            NamespaceLabels { name: "shop".into(), labels: [("env".to_string(), "prod".to_string())].into() },
            NamespaceLabels {
                name: "ops".into(),
                labels: [("env".to_string(), "prod".to_string()), ("team".to_string(), "infra".to_string())].into(),
            },
        ];
        assert_eq!(rule_applies(Some(&m), None, &pod(Some("shop"), &nss)), Applies::Yes);
        assert!(matches!(rule_applies(Some(&m), None, &pod(Some("ops"), &nss)), Applies::No(_)));
        assert!(
            matches!(rule_applies(Some(&m), None, &pod(Some("other"), &nss)), Applies::Unknown(w) if w.contains("kubectl get namespace other"))
        );
        let by_name = LabelSelector {
            match_labels: [("kubernetes.io/metadata.name".to_string(), "shop".to_string())].into(),
            ..LabelSelector::default()
        };
        assert_eq!(by_name.matches(&BTreeMap::new()), Ok(false));
        let f = Filter { namespace_selector: Some(by_name), ..Filter::default() };
        assert_eq!(f.applies(&pod(Some("shop"), &nss)), Applies::Yes);
    }

    #[test]
    fn what_is_not_known_is_unknown() {
        for f in [
            Filter {
                selector: Some(LabelSelector {
                    match_labels: [("a".to_string(), "b".to_string())].into(),
                    ..LabelSelector::default()
                }),
                ..Filter::default()
            },
            Filter { annotations: [("a".to_string(), "b".to_string())].into(), ..Filter::default() },
            Filter { user_info: vec!["clusterRoles".into()], ..Filter::default() },
            Filter { operations: vec!["UPDATE".into()], ..Filter::default() },
        ] {
            assert!(matches!(f.applies(&pod(Some("prod"), &[])), Applies::Unknown(_)), "{f:?}");
        }
        // An empty selector selects everything.
        let f = Filter { selector: Some(LabelSelector::default()), ..Filter::default() };
        assert_eq!(f.applies(&pod(None, &[])), Applies::Yes);
    }

    #[test]
    fn a_policy_sees_its_own_namespace_only() {
        assert_eq!(policy_scope(Some("team-a"), &pod(Some("team-a"), &[])), Applies::Yes);
        assert!(matches!(policy_scope(Some("team-a"), &pod(Some("team-b"), &[])), Applies::No(_)));
        assert!(matches!(policy_scope(Some("team-a"), &pod(None, &[])), Applies::Unknown(_)));
    }
}
