//! OCI image layout (a directory, or the built-in demo held in memory).

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::OnceCell;

use crate::error::{Error, Result};
use crate::fsread::{FileError, Root};
use crate::oci::{Descriptor, MAX_MANIFEST_BYTES, Manifest, annotations, check_digest_syntax, media, verify_digest};
use crate::source::{FetchedManifest, NewReferrer, Source, SourceStats, StoredReferrer};

/// Largest `index.json`. In a layout it is the tag list as well as an index: the registry path
/// reads a tag list as many pages of up to [`MAX_MANIFEST_BYTES`] each, so one index.json gets
/// four of them (16 MiB, about 100,000 tags), while manifests and blobs keep the registry's limits.
pub const MAX_LAYOUT_INDEX_BYTES: u64 = 4 * MAX_MANIFEST_BYTES;

/// Files of a layout, by path relative to its root (`index.json`, `blobs/sha256/<hex>`).
pub trait LayoutFiles: Send + Sync {
    fn read(&self, rel: &str, limit: u64) -> Result<Bytes>;

    /// Stores `bytes` as `rel`, whole or not at all (a reader never sees half a file).
    fn write(&self, rel: &str, _bytes: &[u8]) -> Result<()> {
        Err(Error::Unsupported { what: format!("writing {rel} into this layout") })
    }

    /// Replaces `rel` with `new` if it still holds exactly `old`; otherwise fails, saying that
    /// another writer changed it, and leaves it as that writer did.
    fn replace(&self, rel: &str, _old: &[u8], _new: &[u8]) -> Result<()> {
        Err(Error::Unsupported { what: format!("writing {rel} into this layout") })
    }

    /// The files as a [`LayoutSource`] holds them. A snapshot that cannot take writes itself
    /// (the demo's [`MemFiles`]) becomes a private copy that can.
    fn into_writable(self: Box<Self>) -> Box<dyn LayoutFiles>;
}

/// Files of a layout directory: only regular files, only inside it (symlinks may point within
/// the layout, never out of it), each read bounded (see [`crate::fsread`]). Writes go to a
/// temporary file renamed into place (see [`crate::source::layout_write`]).
pub struct DirFiles {
    root: Root,
    /// The layout directory as resolved when opened: writes must land below it.
    canonical: std::path::PathBuf,
}

impl DirFiles {
    pub fn new(dir: &Path) -> Result<Self> {
        let root = Root::new(dir)?;
        let canonical = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        Ok(DirFiles { root, canonical })
    }
}

impl LayoutFiles for DirFiles {
    fn read(&self, rel: &str, limit: u64) -> Result<Bytes> {
        self.root.read(rel, limit).map(Bytes::from).map_err(|e| match e {
            FileError::NotFound { .. } => Error::not_found(format!("{rel} in layout {}", self.root.path().display())),
            other => other.into(),
        })
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        crate::source::layout_write::write_file(&self.canonical, self.root.path(), rel, bytes)
    }

    /// Read again just before the rename: a writer that came in between is noticed (one that
    /// comes in the instant between the read and the rename is not: a directory has no
    /// compare-and-swap).
    fn replace(&self, rel: &str, old: &[u8], new: &[u8]) -> Result<()> {
        let limit = MAX_LAYOUT_INDEX_BYTES.max(old.len() as u64);
        let shown = self.root.path().join(rel).display().to_string();
        match self.read(rel, limit) {
            Ok(now) if now == old => {}
            Ok(_) | Err(Error::NotFound { .. } | Error::TooLarge { .. }) => {
                return Err(crate::source::layout_write::changed(&shown));
            }
            Err(e) => return Err(e),
        }
        self.write(rel, new)
    }

    fn into_writable(self: Box<Self>) -> Box<dyn LayoutFiles> {
        self
    }
}

/// In-memory layout files: the built-in demo as built. A [`LayoutSource`] opened on them holds
/// a private copy that takes writes.
#[derive(Default, Clone)]
pub struct MemFiles(pub HashMap<String, Bytes>);

impl LayoutFiles for MemFiles {
    fn read(&self, rel: &str, limit: u64) -> Result<Bytes> {
        let b = self.0.get(rel).cloned().ok_or_else(|| Error::not_found(format!("{rel} in the demo layout")))?;
        if b.len() as u64 > limit {
            return Err(Error::TooLarge { what: rel.to_string(), size: b.len() as u64, limit });
        }
        Ok(b)
    }

    fn into_writable(self: Box<Self>) -> Box<dyn LayoutFiles> {
        Box::new(crate::source::layout_write::MemStore::new(self.0))
    }
}

pub struct LayoutSource {
    name: String,
    repository: String,
    files: Box<dyn LayoutFiles>,
    /// What `index.json` said when last read; replaced when [`Source::forget_names`] asked for
    /// a fresh look, so a layout changed on disk shows as it is now.
    state: Mutex<Arc<IndexState>>,
    stale: AtomicBool,
    cache: Mutex<ManifestCache>,
    stats: Mutex<SourceStats>,
    /// Serialises this process's writes, so two signings of one layout do not take each other
    /// for a foreign writer.
    writing: Mutex<()>,
}

/// Manifests read, by digest. Finding referrers reads every manifest of the layout, so without
/// a limit all of them stay: what the TUI wants, as it comes back to what it showed. With one
/// (`tree`, which reads each artifact once) only the newest `limit` stay, the oldest dropped
/// first; a manifest asked for again later is read again from its blob and checked against its
/// digest, so it is the same content or a failure, never another manifest.
#[derive(Default)]
struct ManifestCache {
    by_digest: HashMap<String, Arc<FetchedManifest>>,
    /// With a limit: the digests kept, oldest first.
    order: VecDeque<String>,
    limit: Option<usize>,
}

impl ManifestCache {
    fn get(&self, digest: &str) -> Option<Arc<FetchedManifest>> {
        self.by_digest.get(digest).cloned()
    }

    fn insert(&mut self, digest: &str, fetched: Arc<FetchedManifest>) {
        if self.by_digest.insert(digest.to_string(), fetched).is_some() {
            return;
        }
        let Some(limit) = self.limit else { return };
        self.order.push_back(digest.to_string());
        while self.order.len() > limit {
            let Some(old) = self.order.pop_front() else { break };
            self.by_digest.remove(&old);
        }
    }

    fn clear(&mut self) {
        self.by_digest.clear();
        self.order.clear();
    }
}

/// One reading of `index.json` and what is derived from it.
struct IndexState {
    index: Manifest,
    tags: TagIndex,
    referrers: OnceCell<Referrers>,
}

impl IndexState {
    fn read(name: &str, files: &dyn LayoutFiles) -> Result<Self> {
        let raw = files.read("index.json", MAX_LAYOUT_INDEX_BYTES)?;
        let index = Manifest::parse(&raw).map_err(|e| Error::malformed(format!("{name}/index.json"), e))?;
        let tags = TagIndex::new(&index);
        Ok(IndexState { index, tags, referrers: OnceCell::new() })
    }
}

/// The layout's referrers, found by reading every listed manifest for its subject.
struct Referrers {
    by_subject: HashMap<String, Vec<Descriptor>>,
    /// Untagged manifests listed in `index.json` that cannot be read (missing, wrong digest,
    /// not a regular file…). Their subject is inside them, so it cannot be known: each is
    /// listed as a referrer of every *top-level* subject (a manifest that is not itself a
    /// referrer: images, indexes, artifacts), where its node fails with the reason. A
    /// signature that vanished silently would leave a screen saying less than the truth; one
    /// shown under every signature and SBOM as well would bury the tree.
    unreadable: Vec<Descriptor>,
    /// Readable manifests listed in `index.json` that refer to no subject and are not cosign
    /// tags: the images, indexes and artifacts a user addresses, where unreadable referrers
    /// are shown.
    top_level: HashSet<String>,
}

/// The tags of `index.json`, indexed once when the layout is opened (a lookup per tag in the
/// list made listing a large layout quadratic).
///
/// A tag is the value of `org.opencontainers.image.ref.name`, matched exactly, byte for byte,
/// as oras-go and skopeo do: no case folding, no Unicode normalisation, and a full reference
/// such as `example.com/app:v1` (which some tools write) is a name of its own, not the tag `v1`.
/// A name listed more than once for the *same* digest is one tag; for different digests it is
/// ambiguous and refused when looked up.
struct TagIndex {
    by_name: HashMap<String, TagEntries>,
    sorted: Arc<Vec<String>>,
}

/// The entries of one name with distinct digests: the first few positions in
/// `index.manifests` (for messages), and how many there are.
#[derive(Default)]
struct TagEntries {
    first: Vec<usize>,
    distinct: usize,
}

/// Digests named in an ambiguity error; the count says how many more there are.
const AMBIGUOUS_SHOWN: usize = 4;

impl TagIndex {
    fn new(index: &Manifest) -> Self {
        let mut by_name: HashMap<String, TagEntries> = HashMap::new();
        let mut seen: HashSet<(&str, &str)> = HashSet::new();
        for (i, d) in index.manifests.iter().enumerate() {
            let Some(name) = d.annotations.get(annotations::REF_NAME) else { continue };
            let entries = by_name.entry(name.clone()).or_default();
            if seen.insert((name.as_str(), d.digest.as_str())) {
                entries.distinct += 1;
                if entries.first.len() < AMBIGUOUS_SHOWN {
                    entries.first.push(i);
                }
            }
        }
        let mut sorted: Vec<String> = by_name.keys().cloned().collect();
        sorted.sort();
        TagIndex { by_name, sorted: Arc::new(sorted) }
    }
}

pub(crate) fn blob_path(digest: &str) -> Result<String> {
    check_digest_syntax(digest)?;
    let (alg, hex) = digest.split_once(':').expect("checked");
    Ok(format!("blobs/{alg}/{hex}"))
}

impl LayoutSource {
    pub fn open_dir(path: &Path) -> Result<Self> {
        if !path.is_dir() {
            return Err(Error::Usage(format!("{} is not a directory holding an OCI image layout", path.display())));
        }
        let layout_file = path.join("oci-layout");
        let files = DirFiles::new(path)?;
        let marker = files.root.read("oci-layout", MAX_MANIFEST_BYTES).map_err(|e| {
            Error::Usage(format!("{}: not an OCI image layout ({})", layout_file.display(), e.reason()))
        })?;
        let marker: serde_json::Value =
            serde_json::from_slice(&marker).map_err(|e| Error::malformed(layout_file.display().to_string(), e))?;
        if marker.get("imageLayoutVersion").and_then(|v| v.as_str()).is_none() {
            return Err(Error::malformed(layout_file.display().to_string(), "no imageLayoutVersion"));
        }
        let name = path.display().to_string();
        let repository = path
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "layout".into());
        Self::open(name, repository, Box::new(files))
    }

    /// Keeps at most `limit` manifests once read (see [`ManifestCache`]); `None` keeps all.
    pub fn with_cache_limit(self, limit: Option<usize>) -> Self {
        self.cache.lock().expect("cache lock").limit = limit;
        self
    }

    pub fn open(name: String, repository: String, files: Box<dyn LayoutFiles>) -> Result<Self> {
        let files = files.into_writable();
        let state = IndexState::read(&name, files.as_ref())?;
        Ok(LayoutSource {
            name,
            repository,
            files,
            state: Mutex::new(Arc::new(state)),
            stale: AtomicBool::new(false),
            cache: Mutex::default(),
            stats: Mutex::default(),
            writing: Mutex::default(),
        })
    }

    /// The current reading of `index.json`, read again first if a refresh asked for it. A
    /// failed read fails this call and is tried again on the next.
    ///
    /// The flag is taken and the fresh reading stored under one lock: a caller that came
    /// between the two would otherwise be handed the old reading as current (the refresh
    /// after a signing then listed no signature while the verification beside it saw one).
    fn current(&self) -> Result<Arc<IndexState>> {
        let mut state = self.state.lock().expect("state lock");
        if self.stale.swap(false, Ordering::SeqCst) {
            match IndexState::read(&self.name, self.files.as_ref()) {
                Ok(fresh) => *state = Arc::new(fresh),
                Err(e) => {
                    self.stale.store(true, Ordering::SeqCst);
                    return Err(e);
                }
            }
        }
        Ok(state.clone())
    }

    /// The single repository a layout holds, named after its directory.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The one manifest `tag` names. See [`TagIndex`] for how names are matched.
    fn tagged(&self, state: &IndexState, tag: &str) -> Result<String> {
        let entries =
            state.tags.by_name.get(tag).ok_or_else(|| Error::not_found(format!("tag {tag} in {}", self.name)))?;
        match (entries.distinct, entries.first.as_slice()) {
            (1, [one]) => Ok(state.index.manifests[*one].digest.clone()),
            _ => Err(self.ambiguous(state, tag, entries)),
        }
    }

    fn ambiguous(&self, state: &IndexState, tag: &str, entries: &TagEntries) -> Error {
        let mut digests: Vec<&str> = entries.first.iter().map(|&i| state.index.manifests[i].digest.as_str()).collect();
        if entries.distinct > digests.len() {
            digests.push("…");
        }
        Error::malformed(
            format!("{}/index.json", self.name),
            format!(
                "tag {tag:?} is ambiguous: it is listed for {} different manifests ({}); tools disagree on which \
                 one it means (oras-go takes the last entry), so sigscope takes none. Remove the extra entries, \
                 or address the image by digest (PATH@sha256:…)",
                entries.distinct,
                digests.join(", ")
            ),
        )
    }

    fn load(&self, digest: &str) -> Result<Arc<FetchedManifest>> {
        if let Some(m) = self.cache.lock().expect("cache lock").get(digest) {
            self.stats.lock().expect("stats lock").cache_hits += 1;
            return Ok(m);
        }
        let raw = self.files.read(&blob_path(digest)?, MAX_MANIFEST_BYTES)?;
        let fetched = Arc::new(FetchedManifest::from_bytes(raw, None, Some(digest), digest)?);
        {
            let mut s = self.stats.lock().expect("stats lock");
            s.requests += 1;
            s.manifests_fetched += 1;
        }
        self.cache.lock().expect("cache lock").insert(digest, fetched.clone());
        Ok(fetched)
    }

    /// Every manifest reachable from index.json, indexed by the subject it refers to.
    fn scan_referrers(&self, state: &IndexState) -> Referrers {
        let mut by_subject: HashMap<String, Vec<Descriptor>> = HashMap::new();
        let mut unreadable = Vec::new();
        let mut top_level = HashSet::new();
        let mut seen = HashSet::new();
        let listed: HashSet<&str> = state.index.manifests.iter().map(|d| d.digest.as_str()).collect();
        let mut queue: Vec<Descriptor> = state.index.manifests.clone();
        while let Some(d) = queue.pop() {
            if !seen.insert(d.digest.clone()) || !media::is_manifest(&d.media_type) && !d.media_type.is_empty() {
                continue;
            }
            let Ok(m) = self.load(&d.digest) else {
                // A tagged manifest fails on its tag's node, a platform manifest on its
                // index's; an untagged one listed in index.json is what a referrer looks like.
                let tagged = d.annotations.contains_key(annotations::REF_NAME);
                if !tagged && listed.contains(d.digest.as_str()) {
                    unreadable.push(d);
                }
                continue;
            };
            let cosign_tag = d.annotations.get(annotations::REF_NAME).is_some_and(|t| t.starts_with("sha256-"));
            if m.manifest.subject.is_none() && !cosign_tag && listed.contains(d.digest.as_str()) {
                top_level.insert(d.digest.clone());
            }
            queue.extend(m.manifest.manifests.iter().cloned());
            if let Some(subject) = &m.manifest.subject {
                let mut entry = m.descriptor.clone();
                entry.artifact_type = m.manifest.effective_artifact_type().map(str::to_string);
                by_subject.entry(subject.digest.clone()).or_default().push(entry);
            }
        }
        for list in by_subject.values_mut() {
            list.sort_by(|a, b| a.digest.cmp(&b.digest));
        }
        unreadable.sort_by(|a, b| a.digest.cmp(&b.digest));
        Referrers { by_subject, unreadable, top_level }
    }
}

#[async_trait]
impl Source for LayoutSource {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn host(&self) -> String {
        self.name.clone()
    }

    fn repository_ref(&self, _repository: &str) -> String {
        self.name.clone()
    }

    async fn repositories(&self) -> Result<Vec<String>> {
        Ok(vec![self.repository.clone()])
    }

    async fn tags(&self, _repository: &str) -> Result<Arc<Vec<String>>> {
        Ok(self.current()?.tags.sorted.clone())
    }

    async fn manifest(&self, _repository: &str, reference: &str) -> Result<Arc<FetchedManifest>> {
        if check_digest_syntax(reference).is_ok() {
            return self.load(reference);
        }
        let state = self.current()?;
        let digest = self.tagged(&state, reference)?;
        self.load(&digest)
    }

    async fn blob(&self, _repository: &str, descriptor: &Descriptor, limit: u64) -> Result<Bytes> {
        if descriptor.size > limit {
            return Err(Error::TooLarge { what: format!("blob {}", descriptor.digest), size: descriptor.size, limit });
        }
        let raw = self.files.read(&blob_path(&descriptor.digest)?, limit)?;
        verify_digest(&format!("blob {}", descriptor.digest), &raw, &descriptor.digest)?;
        self.stats.lock().expect("stats lock").blobs_fetched += 1;
        Ok(raw)
    }

    async fn referrers_api(
        &self,
        _repository: &str,
        digest: &str,
        artifact_type: Option<&str>,
    ) -> Result<Option<Vec<Descriptor>>> {
        let state = self.current()?;
        let all = state.referrers.get_or_init(|| async { self.scan_referrers(&state) }).await;
        let wanted = |d: &&Descriptor| artifact_type.is_none_or(|at| d.artifact_type.as_deref() == Some(at));
        let own = all.by_subject.get(digest).into_iter().flatten();
        let top_level = all.top_level.contains(digest);
        let unreadable = all.unreadable.iter().filter(|d| top_level && d.digest != digest);
        Ok(Some(own.chain(unreadable).filter(wanted).cloned().collect()))
    }

    /// A layout is one repository, so any refresh reads `index.json` again. Manifests cached by
    /// digest go too: on disk a blob can be deleted or overwritten while sigscope runs, reading
    /// local files again is cheap, and the screen must show the layout as it is now.
    fn forget_names(&self, _repository: Option<&str>) {
        self.stale.store(true, Ordering::SeqCst);
        self.cache.lock().expect("cache lock").clear();
    }

    fn stats(&self) -> SourceStats {
        self.stats.lock().expect("stats lock").clone()
    }

    /// Blobs, then the manifest, then `index.json` with one entry appended and everything else
    /// kept byte for byte; `index.json` is read afresh for this, and again just before it is
    /// replaced, so another program's write in between fails this one instead of being undone.
    async fn push_referrer(&self, _repository: &str, referrer: &NewReferrer) -> Result<StoredReferrer> {
        let stored = {
            let _writing = self.writing.lock().expect("write lock");
            crate::source::layout_write::store(self.files.as_ref(), &self.name, referrer)
        };
        // Whatever happened, the next look reads index.json as it is now.
        self.forget_names(None);
        stored
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// `index.json` whose second reading (the one a refresh asks for) waits until the test
    /// lets it finish, so another caller can arrive while it is under way.
    struct Gated {
        reads: Mutex<u32>,
        entered: Mutex<mpsc::Sender<()>>,
        go: Mutex<mpsc::Receiver<()>>,
    }

    fn index(entries: usize) -> Bytes {
        let manifests: Vec<serde_json::Value> = (0..entries)
            .map(|i| {
                serde_json::json!({
                    "mediaType": media::OCI_MANIFEST,
                    "digest": format!("sha256:{:064x}", i),
                    "size": 2,
                    "annotations": { annotations::REF_NAME: format!("t{i}") },
                })
            })
            .collect();
        Bytes::from(serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": manifests})).unwrap())
    }

    impl LayoutFiles for Gated {
        fn read(&self, rel: &str, _limit: u64) -> Result<Bytes> {
            assert_eq!(rel, "index.json");
            let n = {
                let mut reads = self.reads.lock().unwrap();
                *reads += 1;
                *reads
            };
            if n == 1 {
                return Ok(index(1));
            }
            self.entered.lock().unwrap().send(()).unwrap();
            self.go.lock().unwrap().recv_timeout(Duration::from_secs(10)).unwrap();
            Ok(index(2))
        }

        fn into_writable(self: Box<Self>) -> Box<dyn LayoutFiles> {
            self
        }
    }

    /// With a limit the oldest manifests go first; one asked for again is read again (the
    /// same bytes, checked against its digest), and the walk's result does not change.
    #[tokio::test]
    async fn a_limited_cache_reads_an_evicted_manifest_again() {
        let unlimited = crate::demo::source();
        let limited = crate::demo::source().with_cache_limit(Some(2));
        let repo = limited.repository().to_string();
        let tags = limited.tags(&repo).await.unwrap();
        let digests: Vec<String> = {
            let mut d = Vec::new();
            for t in tags.iter().take(3) {
                d.push(limited.manifest(&repo, t).await.unwrap().descriptor.digest.clone());
            }
            d
        };
        assert_eq!(limited.cache.lock().unwrap().by_digest.len(), 2.min(digests.len()));
        let before = limited.stats().manifests_fetched;
        let again = limited.manifest(&repo, &digests[0]).await.unwrap();
        assert_eq!(limited.stats().manifests_fetched, before + 1, "the oldest was dropped, so read again");
        let kept = limited.manifest(&repo, &digests[2]).await.unwrap();
        assert_eq!(limited.stats().manifests_fetched, before + 1, "the newest is kept");
        for (m, d) in [(again, &digests[0]), (kept, &digests[2])] {
            assert_eq!(&m.raw, &unlimited.manifest(&repo, d).await.unwrap().raw);
        }
    }

    /// The race a refresh after signing lost: one caller takes the "read again" flag and is
    /// reading; a second caller must wait for that reading, never be handed the old one.
    #[test]
    fn a_caller_during_a_fresh_reading_gets_the_fresh_reading() {
        let (entered_tx, entered) = mpsc::channel();
        let (go, go_rx) = mpsc::channel();
        let files = Gated { reads: Mutex::new(0), entered: Mutex::new(entered_tx), go: Mutex::new(go_rx) };
        let source = Arc::new(LayoutSource::open("gated".into(), "gated".into(), Box::new(files)).unwrap());
        assert_eq!(source.current().unwrap().index.manifests.len(), 1);
        source.forget_names(None);
        let first = {
            let s = source.clone();
            std::thread::spawn(move || s.current().unwrap().index.manifests.len())
        };
        entered.recv_timeout(Duration::from_secs(10)).unwrap();
        let second = {
            let s = source.clone();
            std::thread::spawn(move || s.current().unwrap().index.manifests.len())
        };
        // Give the second caller time to be answered wrongly, if it could be.
        std::thread::sleep(Duration::from_millis(50));
        go.send(()).unwrap();
        assert_eq!(first.join().unwrap(), 2);
        assert_eq!(second.join().unwrap(), 2, "the second caller was handed the reading from before the refresh");
    }
}
