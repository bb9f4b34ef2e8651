//! Expanding one node: the children of a registry (repositories), of a repository (tags, in
//! version order), of a tag (the manifest it names), and of an artifact (its index entries and
//! its referrers, grouped by kind). Runs on a task with a copy of what it needs from the graph.

use crate::error::{Error, Result};
use crate::graph::{ChildSpec, Expansion, Graph, NodeId, NodeKind, Role, Via};
use crate::source::Source;
pub use crate::source::referrers::ExploreOptions;
use crate::source::referrers::{find_referrers, is_referrer_tag};

/// Everything needed to expand one node, copied out of the graph so it can run on a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpandRequest {
    pub kind: NodeKind,
    /// Digest of the parent when this node is a referrer found through an index, whose manifest
    /// must name that parent as its subject.
    pub expected_subject: Option<String>,
}

impl ExpandRequest {
    pub fn for_node(graph: &Graph, id: NodeId) -> Self {
        let node = graph.node(id);
        let expected_subject = match node.artifact().map(|a| &a.role) {
            Some(Role::Referrer(Via::ReferrersApi | Via::TagSchema)) => {
                node.parent.and_then(|p| graph.node(p).digest()).map(ToString::to_string)
            }
            _ => None,
        };
        ExpandRequest { kind: node.kind.clone(), expected_subject }
    }
}

/// Tags in the order a reader expects versions: runs of digits compare as numbers
/// (`v1.9` < `v1.10` < `v2`), everything else byte by byte; equal under that, plain order.
pub fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> impl Iterator<Item = (bool, &str)> {
        let mut rest = s;
        std::iter::from_fn(move || {
            let first = rest.chars().next()?;
            let digits = first.is_ascii_digit();
            let end = rest.find(|c: char| c.is_ascii_digit() != digits).unwrap_or(rest.len());
            let (chunk, tail) = rest.split_at(end);
            rest = tail;
            Some((digits, chunk))
        })
    }
    let mut x = chunks(a);
    let mut y = chunks(b);
    loop {
        let order = match (x.next(), y.next()) {
            (None, None) => return a.cmp(b),
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (Some((true, p)), Some((true, q))) => {
                let (p, q) = (p.trim_start_matches('0'), q.trim_start_matches('0'));
                p.len().cmp(&q.len()).then_with(|| p.cmp(q))
            }
            (Some((_, p)), Some((_, q))) => p.cmp(q),
        };
        if order != std::cmp::Ordering::Equal {
            return order;
        }
    }
}

fn kind_group(kind: crate::graph::ArtifactKind) -> u8 {
    use crate::graph::ArtifactKind as K;
    match kind {
        k if k.is_signature() => 0,
        k if k.is_sbom() => 1,
        K::CosignAttestation | K::InTotoAttestation => 2,
        K::ScanReport => 3,
        _ => 4,
    }
}

/// Loads the children of a node: repositories of a registry, tags of a repository, the manifest
/// a tag points at, the platform manifests of an index and the referrers of an artifact.
pub async fn expand(source: &dyn Source, req: &ExpandRequest, opts: &ExploreOptions) -> Result<Expansion> {
    match &req.kind {
        NodeKind::Registry { .. } => {
            let repos = source.repositories().await?;
            Ok(Expansion { manifest: None, children: repos.into_iter().map(ChildSpec::Repository).collect() })
        }
        NodeKind::Repository { name } => {
            let tags = source.tags(name).await?;
            let mut shown: Vec<&String> = tags.iter().filter(|t| !is_referrer_tag(t)).collect();
            shown.sort_by(|a, b| version_order(a, b));
            let children =
                shown.into_iter().map(|t| ChildSpec::Tag { repository: name.clone(), tag: t.clone() }).collect();
            Ok(Expansion { manifest: None, children })
        }
        NodeKind::Tag { repository, tag } => {
            let fetched = source.manifest(repository, tag).await?;
            Ok(Expansion {
                manifest: None,
                children: vec![ChildSpec::Artifact {
                    repository: repository.clone(),
                    descriptor: fetched.descriptor.clone(),
                    role: Role::Root,
                    tags: vec![tag.clone()],
                }],
            })
        }
        NodeKind::Artifact(a) => {
            let digest = a.descriptor.digest.to_string();
            let fetched = source.manifest(&a.repository, &digest).await?;
            if a.descriptor.size != 0 && a.descriptor.size != fetched.descriptor.size {
                return Err(Error::Integrity {
                    what: format!("manifest {} (size)", a.descriptor.digest),
                    expected: format!("{} bytes", a.descriptor.size),
                    actual: format!("{} bytes", fetched.descriptor.size),
                });
            }
            if let Some(subject) = &req.expected_subject {
                let claimed = fetched.manifest.subject.as_ref().map(|s| s.digest.as_str());
                if claimed != Some(subject.as_str()) {
                    return Err(Error::malformed(
                        format!("referrer {}", a.descriptor.digest),
                        format!("listed as a referrer of {subject} but its subject is {}", claimed.unwrap_or("absent")),
                    ));
                }
            }
            let mut children: Vec<ChildSpec> = fetched
                .manifest
                .manifests
                .iter()
                .map(|d| ChildSpec::Artifact {
                    repository: a.repository.to_string(),
                    descriptor: d.clone(),
                    role: Role::Platform,
                    tags: Vec::new(),
                })
                .collect();
            let mut referrers = find_referrers(source, &a.repository, &digest, opts.artifact_type.as_deref()).await?;
            // Grouped by kind (signatures first, then SBOMs, attestations, the rest), in the
            // order found within a kind.
            referrers.sort_by_key(|r| kind_group(crate::graph::classify_descriptor(&r.descriptor)));
            children.extend(referrers.into_iter().map(|r| ChildSpec::Artifact {
                repository: a.repository.to_string(),
                descriptor: r.descriptor,
                role: Role::Referrer(r.via),
                tags: Vec::new(),
            }));
            Ok(Expansion { manifest: Some(fetched), children })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_sort_as_versions() {
        let mut tags = vec!["v1.10", "latest", "v1.9", "v2", "1.0.0-rc1", "1.0.0", "v1.9.1", "v01.9"];
        tags.sort_by(|a, b| version_order(a, b));
        assert_eq!(tags, ["1.0.0", "1.0.0-rc1", "latest", "v01.9", "v1.9", "v1.9.1", "v1.10", "v2"]);
    }
}
