//! How the graph keeps what it knows of an artifact in little memory. A tree of 100,000
//! nodes is held whole (the TUI, `sigscope tree`), so a few hundred bytes per node are tens of
//! megabytes: a `BTreeMap` allocates a node of eleven slots (over 500 bytes) for a single
//! annotation, and the same few annotation keys, media types and repository names repeat on
//! every node.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::oci::{Descriptor, Platform, media};
use crate::source::FetchedManifest;

/// One copy of each distinct string the graph repeats (annotation keys, media and artifact
/// types). It lives as long as its graph, which never drops nodes either, so it grows no
/// further than the graph's own text does.
#[derive(Debug, Clone, Default)]
pub struct Interner {
    strings: HashSet<Arc<str>>,
}

impl Interner {
    pub fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(known) = self.strings.get(s) {
            return known.clone();
        }
        let new: Arc<str> = s.into();
        self.strings.insert(new.clone());
        new
    }
}

/// A node's digest. Nearly every digest is sha256, and as text (`sha256:` and 64 hex digits)
/// it is a 71-byte allocation per node, 80 with malloc's header; as its 32 bytes it needs
/// none (issue 13). Anything else (another algorithm, upper-case hex, the empty digest of a
/// root not read yet) is kept as the text it came as, so every digest prints as given.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum NodeDigest {
    Sha256([u8; 32]),
    Other(Box<str>),
}

impl Default for NodeDigest {
    fn default() -> Self {
        NodeDigest::Other(Box::default())
    }
}

impl NodeDigest {
    pub fn new(text: &str) -> Self {
        let canonical = text
            .strip_prefix("sha256:")
            .filter(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        let mut bytes = [0u8; 32];
        match canonical {
            Some(hex) if hex::decode_to_slice(hex, &mut bytes).is_ok() => NodeDigest::Sha256(bytes),
            _ => NodeDigest::Other(text.into()),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, NodeDigest::Other(t) if t.is_empty())
    }

    /// The text, borrowed when it is kept as text.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        match self {
            NodeDigest::Sha256(_) => self.to_string().into(),
            NodeDigest::Other(t) => std::borrow::Cow::Borrowed(t),
        }
    }

    fn eq_text(&self, text: &str) -> bool {
        match self {
            NodeDigest::Sha256(bytes) => {
                let mut hex = [0u8; 64];
                hex::encode_to_slice(bytes, &mut hex).is_ok()
                    && text.strip_prefix("sha256:").is_some_and(|t| t.as_bytes() == hex)
            }
            NodeDigest::Other(t) => &**t == text,
        }
    }
}

impl fmt::Display for NodeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeDigest::Sha256(bytes) => {
                let mut hex = [0u8; 64];
                hex::encode_to_slice(bytes, &mut hex).map_err(|_| fmt::Error)?;
                f.write_str("sha256:")?;
                f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
            }
            NodeDigest::Other(t) => f.write_str(t),
        }
    }
}

// As the string it stands for, so a node's `{:?}` reads as it did when the digest was one.
impl fmt::Debug for NodeDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.text(), f)
    }
}

impl From<&str> for NodeDigest {
    fn from(text: &str) -> Self {
        NodeDigest::new(text)
    }
}

impl From<NodeDigest> for String {
    fn from(d: NodeDigest) -> String {
        d.to_string()
    }
}

impl PartialEq<str> for NodeDigest {
    fn eq(&self, other: &str) -> bool {
        self.eq_text(other)
    }
}

impl PartialEq<&str> for NodeDigest {
    fn eq(&self, other: &&str) -> bool {
        self.eq_text(other)
    }
}

impl PartialEq<String> for NodeDigest {
    fn eq(&self, other: &String) -> bool {
        self.eq_text(other)
    }
}

impl PartialEq<NodeDigest> for String {
    fn eq(&self, other: &NodeDigest) -> bool {
        other.eq_text(self)
    }
}

impl PartialEq<NodeDigest> for str {
    fn eq(&self, other: &NodeDigest) -> bool {
        other.eq_text(self)
    }
}

impl PartialEq<NodeDigest> for &str {
    fn eq(&self, other: &NodeDigest) -> bool {
        other.eq_text(self)
    }
}

impl Serialize for NodeDigest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text())
    }
}

/// What a node keeps of the descriptor its parent listed (or of the manifest fetched for a
/// root): [`Descriptor`] without its annotations (the node holds them as [`Annotations`]), its
/// media and artifact types shared through the graph's [`Interner`] (a handful of distinct
/// values over a whole registry, where each node owned a copy of two, 100 bytes with their
/// headers) and its platform boxed (only index entries have one).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeDescriptor {
    pub media_type: Arc<str>,
    pub digest: NodeDigest,
    pub size: u64,
    pub artifact_type: Option<Arc<str>>,
    pub platform: Option<Box<Platform>>,
}

impl NodeDescriptor {
    /// The descriptor, and its annotations for the node to keep beside it.
    pub fn of(d: Descriptor, interner: &mut Interner) -> (Self, BTreeMap<String, String>) {
        let compact = NodeDescriptor {
            media_type: interner.intern(&d.media_type),
            digest: NodeDigest::new(&d.digest),
            size: d.size,
            artifact_type: d.artifact_type.as_deref().map(|t| interner.intern(t)),
            platform: d.platform,
        };
        (compact, d.annotations)
    }

    /// Only a digest: a root named by digest, completed when its manifest is read.
    pub fn digest_only(digest: &str) -> Self {
        NodeDescriptor { digest: NodeDigest::new(digest), ..Default::default() }
    }

    /// The wire descriptor again, without annotations (as the node's descriptor has been since
    /// annotations moved to [`Annotations`]): what a signature's subject or a verification is
    /// given.
    pub fn to_oci(&self) -> Descriptor {
        Descriptor {
            media_type: self.media_type.to_string(),
            digest: self.digest.to_string(),
            size: self.size,
            artifact_type: self.artifact_type.as_deref().map(str::to_string),
            annotations: BTreeMap::new(),
            platform: self.platform.clone(),
        }
    }

    /// The same strings taken from `interner`, for a node made outside the graph.
    pub(crate) fn share(&mut self, interner: &mut Interner) {
        self.media_type = interner.intern(&self.media_type);
        if let Some(t) = &mut self.artifact_type {
            *t = interner.intern(t);
        }
    }
}

/// Annotations in key order (the order of the `BTreeMap` they come from, and of the JSON
/// report), keys shared through the graph's [`Interner`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotations {
    entries: Box<[(Arc<str>, Box<str>)]>,
}

impl Annotations {
    pub fn new(map: BTreeMap<String, String>, interner: &mut Interner) -> Self {
        let entries = map.into_iter().map(|(k, v)| (interner.intern(&k), v.into_boxed_str())).collect();
        Annotations { entries }
    }

    /// Without an interner: for nodes built outside a graph (tests, hand-made roots).
    pub fn from_map(map: &BTreeMap<String, String>) -> Self {
        Annotations { entries: map.iter().map(|(k, v)| (Arc::from(k.as_str()), v.as_str().into())).collect() }
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        // Sorted by key: a binary search, as the map it replaces would do.
        let i = self.entries.binary_search_by(|(k, _)| (**k).cmp(key)).ok()?;
        Some(&*self.entries[i].1)
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (&**k, &**v))
    }

    /// The map again, for code that wants one.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        self.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }
}

impl Serialize for Annotations {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.entries.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// What the graph keeps of a node's fetched manifest: what its line, its report and its
/// details header show. Not the bytes, layers or entries: those are read again from the
/// source (which caches by digest) when the details panel decodes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestFacts {
    /// mediaType of the manifest as fetched (its own field, else the response's Content-Type).
    pub media_type: Arc<str>,
    /// Bytes of the manifest as fetched.
    pub size: u64,
    /// The manifest's own `artifactType`.
    pub artifact_type: Option<Arc<str>>,
    /// The manifest's `artifactType`, else its config's mediaType (what the referrers API lists).
    pub effective_artifact_type: Option<Arc<str>>,
    pub annotations: Annotations,
}

impl ManifestFacts {
    pub fn of(fetched: &FetchedManifest, interner: &mut Interner) -> Self {
        let m = &fetched.manifest;
        ManifestFacts {
            media_type: interner.intern(&fetched.descriptor.media_type),
            size: fetched.descriptor.size,
            artifact_type: m.artifact_type.as_deref().map(|t| interner.intern(t)),
            effective_artifact_type: m.effective_artifact_type().map(|t| interner.intern(t)),
            annotations: Annotations::new(m.annotations.clone(), interner),
        }
    }

    /// The declared type worth naming beside "artifact": not empty, not the empty config.
    pub fn declared_type(&self) -> Option<&str> {
        self.effective_artifact_type.as_deref().filter(|t| !t.is_empty() && *t != media::OCI_EMPTY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_print_as_given() {
        let sha = format!("sha256:{}", "0123456789abcdef".repeat(4));
        let d = NodeDigest::new(&sha);
        assert!(matches!(d, NodeDigest::Sha256(_)));
        assert_eq!((d.to_string(), d == sha, sha == d), (sha.clone(), true, true));
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{sha}\""));
        // Not sha256's canonical text: kept as it came, so it prints as it came.
        for other in ["", "sha512:abc", &sha.to_uppercase(), "sha256:0123", &format!("{sha}0")] {
            let d = NodeDigest::new(other);
            assert!(matches!(d, NodeDigest::Other(_)), "{other}");
            assert_eq!((d.to_string(), d == other), (other.to_string(), true));
        }
        assert_ne!(NodeDigest::new(&sha), NodeDigest::new(&sha.replace('f', "e")));
    }

    #[test]
    fn annotations_keep_key_order_lookups_and_share_keys() {
        let mut interner = Interner::default();
        let map: BTreeMap<String, String> =
            [("b", "2"), ("a", "1"), ("c", "3")].into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let one = Annotations::new(map.clone(), &mut interner);
        let two = Annotations::new(map.clone(), &mut interner);
        assert_eq!(one.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2"), ("c", "3")]);
        assert_eq!((one.get("b"), one.get("z")), (Some("2"), None));
        assert!(Arc::ptr_eq(&one.entries[0].0, &two.entries[0].0), "one copy of each key");
        assert_eq!(one.to_map(), map);
        assert_eq!(serde_json::to_string(&one).unwrap(), serde_json::to_string(&map).unwrap());
    }
}
