//! How one graph node reads as a tree line: state glyph and word, kind, short digest, tags, size,
//! created time, platform, and how a referrer was found. Everything from the registry is
//! sanitised here, before it can reach a widget.

use crate::graph::{ArtifactKind, Graph, LoadState, NodeId, NodeKind, Role, Via};
use crate::oci::short_digest;
use crate::sanitize::{clip, sanitize};

use super::theme::ThemeToken;

pub type Spans = Vec<(ThemeToken, String)>;

/// Longest failure reason shown inline; the details panel has the whole sentence.
const REASON_WIDTH: usize = 40;
/// Longest declared artifact type shown inline (`artifact application/vnd.…`).
const KIND_WIDTH: usize = 60;

pub fn kind_token(kind: ArtifactKind) -> ThemeToken {
    match kind {
        k if k.is_signature() => ThemeToken::KindSignature,
        k if k.is_sbom() => ThemeToken::KindSbom,
        ArtifactKind::CosignAttestation | ArtifactKind::InTotoAttestation => ThemeToken::KindAttestation,
        ArtifactKind::Image | ArtifactKind::Index => ThemeToken::KindImage,
        _ => ThemeToken::KindOther,
    }
}

/// Glyph and word of a load state; `None` once loaded (the children say it).
pub fn state_badge(graph: &Graph, id: NodeId) -> Option<(ThemeToken, String)> {
    let node = graph.node(id);
    match &node.load {
        LoadState::Loaded => None,
        LoadState::NotLoaded => Some((ThemeToken::Muted, "○ not loaded".into())),
        LoadState::Loading => Some((ThemeToken::Pending, "⟳ loading".into())),
        LoadState::Failed(_) if graph.is_cycle(id) => {
            let short = node.digest().map(short_digest).unwrap_or_default();
            Some((ThemeToken::Failed, format!("↻ cycle: {short} refers back to an ancestor")))
        }
        LoadState::Failed(_) if graph.is_depth_limited(id) => {
            Some((ThemeToken::Failed, format!("⊘ depth limit {} reached: not loaded", crate::graph::MAX_DEPTH)))
        }
        LoadState::Failed(reason) => {
            Some((ThemeToken::Failed, format!("✗ failed: {}", clip(&sanitize(reason), REASON_WIDTH))))
        }
    }
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// `2024-05-01 12:00` (UTC) from RFC 3339; anything else is shown as given, made safe.
pub fn short_time(created: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(created) {
        Ok(t) => t.with_timezone(&chrono::Utc).format("%Y-%m-%d %H:%M").to_string(),
        Err(_) => clip(&sanitize(created), 25).into_owned(),
    }
}

fn via_word(via: &Via) -> &'static str {
    match via {
        Via::ReferrersApi => "via API",
        Via::TagSchema => "via tag schema",
        Via::CosignTag(_) => "via cosign tag",
    }
}

/// The line of a node without tree decoration (fold glyph, markers): identity first, then a
/// loading or failed badge where the eye still finds it on a narrow screen, then the rest.
/// "Not loaded" is the common case and comes last, quietly.
pub fn node_spans(graph: &Graph, id: NodeId) -> Spans {
    let node = graph.node(id);
    let mut out: Spans = Vec::with_capacity(16);
    let badge = state_badge(graph, id);
    let quiet = matches!(node.load, LoadState::NotLoaded);
    let (loud, quiet_badge) = if quiet { (None, badge) } else { (badge, None) };
    let push_loud = |out: &mut Spans, loud: Option<(ThemeToken, String)>| {
        if let Some(b) = loud {
            out.push((ThemeToken::Text, " ".into()));
            out.push(b);
        }
    };
    match &node.kind {
        NodeKind::Registry { host } => {
            out.push((ThemeToken::Muted, "registry ".into()));
            out.push((ThemeToken::Text, sanitize(host).into_owned()));
            push_loud(&mut out, loud);
        }
        NodeKind::Repository { name } => {
            out.push((ThemeToken::Muted, "repo ".into()));
            out.push((ThemeToken::Text, sanitize(name).into_owned()));
            push_loud(&mut out, loud);
        }
        NodeKind::Tag { tag, .. } => {
            out.push((ThemeToken::Muted, "tag ".into()));
            out.push((ThemeToken::Tag, sanitize(tag).into_owned()));
            push_loud(&mut out, loud);
        }
        NodeKind::Artifact(a) => {
            out.push((kind_token(a.kind), clip(&sanitize(&a.kind_label()), KIND_WIDTH).into_owned()));
            out.push((ThemeToken::Text, " ".into()));
            out.push((ThemeToken::Digest, sanitize(&short_digest(&a.descriptor.digest)).into_owned()));
            push_loud(&mut out, loud);
            if !node.tags.is_empty() {
                let tags: Vec<String> = node.tags.iter().map(|t| sanitize(t).into_owned()).collect();
                out.push((ThemeToken::Text, " ".into()));
                out.push((ThemeToken::Tag, tags.join(",")));
            }
            if let Some(p) = &a.descriptor.platform {
                out.push((ThemeToken::Text, format!(" {}", sanitize(&p.to_string()))));
            }
            if a.descriptor.size > 0 {
                out.push((ThemeToken::Muted, format!(" {}", human_size(a.descriptor.size))));
            }
            if let Some(created) = a.created() {
                out.push((ThemeToken::Muted, format!(" {}", short_time(created))));
            }
            if let Role::Referrer(via) = &a.role {
                out.push((ThemeToken::Muted, format!(" {}", via_word(via))));
            }
        }
    }
    if let Some(b) = quiet_badge {
        out.push((ThemeToken::Text, " ".into()));
        out.push(b);
    }
    out
}

/// Plain text of [`node_spans`], what the filter matches against.
pub fn node_text(graph: &Graph, id: NodeId) -> String {
    node_spans(graph, id).into_iter().map(|(_, s)| s).collect()
}

/// Plain node texts kept between filter keystrokes: building a label costs far more than
/// searching it. A node's text depends on that node alone, so changing it invalidates one entry.
#[derive(Debug, Clone, Default)]
pub struct TextCache {
    texts: Vec<Option<Box<str>>>,
}

impl TextCache {
    pub fn get(&mut self, graph: &Graph, id: NodeId) -> &str {
        if self.texts.len() <= id {
            self.texts.resize(graph.nodes.len().max(id + 1), None);
        }
        self.texts[id].get_or_insert_with(|| node_text(graph, id).into_boxed_str())
    }

    pub fn invalidate(&mut self, id: NodeId) {
        if let Some(t) = self.texts.get_mut(id) {
            *t = None;
        }
    }

    pub fn clear(&mut self) {
        self.texts.clear();
    }
}

/// Substring search; without `case_sensitive` the needle must already be lower case.
pub fn contains(hay: &str, needle: &str, case_sensitive: bool) -> bool {
    if case_sensitive {
        hay.contains(needle)
    } else if needle.is_ascii() {
        // Bytes of multi-byte UTF-8 characters are never ASCII, so byte windows are exact here.
        let n = needle.as_bytes();
        n.is_empty() || hay.as_bytes().windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
    } else {
        hay.to_lowercase().contains(needle)
    }
}

/// One breadcrumb element: registry › repo › tag › digest › referrer.
pub fn crumb(graph: &Graph, id: NodeId) -> String {
    match &graph.node(id).kind {
        NodeKind::Registry { host } => sanitize(host).into_owned(),
        NodeKind::Repository { name } => sanitize(name).into_owned(),
        NodeKind::Tag { tag, .. } => sanitize(tag).into_owned(),
        NodeKind::Artifact(a) => {
            let digest = sanitize(&short_digest(&a.descriptor.digest)).into_owned();
            match a.role {
                Role::Root => digest,
                Role::Platform => match &a.descriptor.platform {
                    Some(p) => format!("{} {digest}", sanitize(&p.to_string())),
                    None => digest,
                },
                Role::Referrer(_) => format!("{} {digest}", clip(&sanitize(&a.kind_label()), KIND_WIDTH)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smart_case_contains() {
        assert!(contains("Notation signature", "notation", false));
        assert!(!contains("Notation signature", "notation", true));
        assert!(contains("Ünïcode tag", "ünï", false));
        assert!(contains("anything", "", false));
    }

    #[test]
    fn sizes_and_times() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(short_time("2024-05-01T12:00:59+02:00"), "2024-05-01 10:00");
        assert_eq!(short_time("yesterday\x1b[2J"), "yesterday\\x1b[2J");
    }
}
