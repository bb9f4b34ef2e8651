//! Writing into an OCI image layout: a referrer's blobs, then its manifest, then `index.json`
//! replaced atomically with one entry appended. On disk each file is written to a temporary
//! name beside its final one, synced and renamed, so a reader (or a crash) sees the old file or
//! the new one, never half of one; the directory is synced after the rename.
//!
//! Writes stay inside the layout like its reads ([`crate::fsread::Root`]): the directory
//! written into is opened first, and on Linux the kernel's name for it (`/proc/self/fd`) must
//! lie inside the layout; the file is then created and renamed relative to that open
//! directory, so a directory swapped for a symlink afterwards changes nothing.

use std::collections::HashMap;
use std::path::{Component, Path};
use std::sync::RwLock;

use bytes::Bytes;

use crate::error::{Error, Result};
use crate::oci::{Descriptor, Manifest, verify_digest};
use crate::source::layout::{LayoutFiles, MAX_LAYOUT_INDEX_BYTES, blob_path};
use crate::source::{ListedBy, NewReferrer, StoredReferrer};

/// The file every writer of a layout replaces.
pub const INDEX: &str = "index.json";

/// The error for a file that changed between our read and our write.
pub(crate) fn changed(shown: &str) -> Error {
    Error::Io {
        path: shown.to_string(),
        detail: "changed since sigscope read it: another program wrote the layout at the same time, so sigscope \
                 left it as that program did and listed nothing (the signature's blobs are stored, unlisted); run \
                 the command again"
            .into(),
    }
}

/// Stores `referrer` into the layout `name` held by `files` (see
/// [`crate::source::Source::push_referrer`]).
pub(crate) fn store(files: &dyn LayoutFiles, name: &str, referrer: &NewReferrer) -> Result<StoredReferrer> {
    let entry = crate::source::push::check_referrer(referrer)?;
    let raw = files.read(INDEX, MAX_LAYOUT_INDEX_BYTES)?;
    let index = Manifest::parse(&raw).map_err(|e| Error::malformed(format!("{name}/{INDEX}"), e))?;
    if index.config.is_some() || !index.layers().is_empty() {
        return Err(Error::malformed(format!("{name}/{INDEX}"), "is not an image index; refusing to write it"));
    }
    for (d, bytes) in &referrer.blobs {
        put_blob(files, d, bytes)?;
    }
    put_blob(files, &entry, &referrer.manifest)?;
    let stored = StoredReferrer {
        reference: format!("{name}@{}", entry.digest),
        descriptor: entry.clone(),
        listed_by: ListedBy::LayoutIndex,
    };
    if index.manifests.iter().any(|d| d.digest == entry.digest) {
        return Ok(stored);
    }
    let updated = append_to_index(&raw, &serde_json::to_vec(&entry).expect("descriptor serialises"))
        .map_err(|e| Error::malformed(format!("{name}/{INDEX}"), e))?;
    if updated.len() as u64 > MAX_LAYOUT_INDEX_BYTES {
        return Err(Error::TooLarge {
            what: format!("{name}/{INDEX} with the new entry"),
            size: updated.len() as u64,
            limit: MAX_LAYOUT_INDEX_BYTES,
        });
    }
    files.replace(INDEX, &raw, &updated)?;
    Ok(stored)
}

/// Writes a blob unless the layout already holds it intact.
fn put_blob(files: &dyn LayoutFiles, d: &Descriptor, bytes: &[u8]) -> Result<()> {
    let rel = blob_path(&d.digest)?;
    match files.read(&rel, d.size) {
        Ok(have) if verify_digest(&rel, &have, &d.digest).is_ok() => return Ok(()),
        // Missing, or damaged (too long, other bytes): written anew, it is content-addressed.
        Ok(_) | Err(Error::NotFound { .. } | Error::TooLarge { .. }) => {}
        Err(e) => return Err(e),
    }
    files.write(&rel, bytes)
}

/// `raw` (an OCI index, as JSON text) with `entry` appended to its `manifests`, every other
/// byte as it was: unknown fields, key order, spacing and escapes of the other entries survive,
/// which a parse and re-serialisation would not promise. Used for a layout's `index.json` and
/// for a registry's tag-schema index alike. The error is the reason only.
pub fn append_to_index(raw: &[u8], entry: &[u8]) -> std::result::Result<Vec<u8>, String> {
    // Scanning is only safe on text known to be one JSON value.
    let value: serde_json::Value = serde_json::from_slice(raw).map_err(|e| format!("not JSON ({e})"))?;
    if !value.is_object() {
        return Err("not a JSON object".into());
    }
    let mut scan = Scan { s: raw, i: 0 };
    scan.ws();
    scan.expect(b'{')?;
    // Where `manifests` opens, and where its last element starts and ends.
    let mut manifests: Option<(usize, Option<(usize, usize)>)> = None;
    let close_brace;
    loop {
        scan.ws();
        if scan.peek() == Some(b'}') {
            close_brace = scan.i;
            break;
        }
        let key_start = scan.i;
        scan.string()?;
        let key: String =
            serde_json::from_slice(&raw[key_start..scan.i]).map_err(|e| format!("bad member name ({e})"))?;
        scan.ws();
        scan.expect(b':')?;
        scan.ws();
        if key == "manifests" {
            if manifests.is_some() {
                return Err("has two \"manifests\" members".into());
            }
            if scan.peek() != Some(b'[') {
                return Err("its \"manifests\" member is not an array".into());
            }
            let open = scan.i;
            scan.i += 1;
            let mut last = None;
            loop {
                scan.ws();
                if scan.peek() == Some(b']') {
                    break;
                }
                if last.is_some() {
                    scan.expect(b',')?;
                    scan.ws();
                }
                let start = scan.i;
                scan.value()?;
                last = Some((start, scan.i));
            }
            scan.i += 1;
            manifests = Some((open, last));
        } else {
            scan.value()?;
        }
        scan.ws();
        match scan.peek() {
            Some(b',') => scan.i += 1,
            Some(b'}') => {
                close_brace = scan.i;
                break;
            }
            _ => return Err(format!("unexpected byte at offset {}", scan.i)),
        }
    }
    let mut out = Vec::with_capacity(raw.len() + entry.len() + 16);
    match manifests {
        Some((_, Some((last_start, last_end)))) => {
            // Indented like the entry before it when that one is on a line of its own, so a
            // pretty-printed file stays so.
            let ws_start = raw[..last_start].iter().rposition(|b| !b" \t\r\n".contains(b)).map_or(0, |p| p + 1);
            let indent = &raw[ws_start..last_start];
            out.extend_from_slice(&raw[..last_end]);
            out.push(b',');
            if indent.contains(&b'\n') {
                out.extend_from_slice(indent);
            }
            out.extend_from_slice(entry);
            out.extend_from_slice(&raw[last_end..]);
        }
        Some((open, None)) => {
            out.extend_from_slice(&raw[..=open]);
            out.extend_from_slice(entry);
            out.extend_from_slice(&raw[open + 1..]);
        }
        None => {
            let has_members = value.as_object().is_some_and(|o| !o.is_empty());
            out.extend_from_slice(&raw[..close_brace]);
            if has_members {
                out.push(b',');
            }
            out.extend_from_slice(b"\"manifests\":[");
            out.extend_from_slice(entry);
            out.push(b']');
            out.extend_from_slice(&raw[close_brace..]);
        }
    }
    Ok(out)
}

/// A cursor over JSON text already known to be valid: it only finds where values end.
struct Scan<'a> {
    s: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r' | b'\n')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, b: u8) -> std::result::Result<(), String> {
        if self.peek() == Some(b) {
            self.i += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at offset {}", b as char, self.i))
        }
    }

    fn string(&mut self) -> std::result::Result<(), String> {
        self.expect(b'"')?;
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'\\' => self.i += 1,
                b'"' => return Ok(()),
                _ => {}
            }
        }
        Err("unterminated string".into())
    }

    /// Skips one value; objects and arrays by counting brackets outside strings.
    fn value(&mut self) -> std::result::Result<(), String> {
        match self.peek() {
            Some(b'"') => self.string(),
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                while let Some(b) = self.peek() {
                    match b {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                self.i += 1;
                                return Ok(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
                Err("unterminated value".into())
            }
            Some(_) => {
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n') {
                        break;
                    }
                    self.i += 1;
                }
                Ok(())
            }
            None => Err("unexpected end".into()),
        }
    }
}

/// The demo's files once a source holds them: a private copy that takes writes, so each source
/// opened on the demo signs into its own memory and the built-in demo stays as built.
pub(crate) struct MemStore {
    files: RwLock<HashMap<String, Bytes>>,
}

impl MemStore {
    pub(crate) fn new(files: HashMap<String, Bytes>) -> Self {
        MemStore { files: RwLock::new(files) }
    }
}

impl LayoutFiles for MemStore {
    fn read(&self, rel: &str, limit: u64) -> Result<Bytes> {
        let files = self.files.read().expect("demo files lock");
        let b = files.get(rel).cloned().ok_or_else(|| Error::not_found(format!("{rel} in the demo layout")))?;
        if b.len() as u64 > limit {
            return Err(Error::TooLarge { what: rel.to_string(), size: b.len() as u64, limit });
        }
        Ok(b)
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        self.files.write().expect("demo files lock").insert(rel.to_string(), Bytes::copy_from_slice(bytes));
        Ok(())
    }

    fn replace(&self, rel: &str, old: &[u8], new: &[u8]) -> Result<()> {
        let mut files = self.files.write().expect("demo files lock");
        if files.get(rel).map(|b| &b[..]) != Some(old) {
            return Err(changed(&format!("{rel} of the demo layout")));
        }
        files.insert(rel.to_string(), Bytes::copy_from_slice(new));
        Ok(())
    }

    fn into_writable(self: Box<Self>) -> Box<dyn LayoutFiles> {
        self
    }
}

/// `rel` split into its directories and file name, refused unless it is a plain relative path.
fn split_plain(rel: &str) -> Option<(Vec<&str>, &str)> {
    let mut parts = Vec::new();
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_str()?),
            _ => return None,
        }
    }
    let name = parts.pop()?;
    Some((parts, name))
}

/// Writes `bytes` as `rel` under the layout directory `root` (canonical), atomically: a
/// temporary file in the same directory, synced, renamed over the old name, the directory
/// synced. A file being replaced keeps its permissions. `shown` names the layout in messages.
pub(crate) fn write_file(root: &Path, shown: &Path, rel: &str, bytes: &[u8]) -> Result<()> {
    let named = shown.join(rel);
    let (dirs, name) =
        split_plain(rel).ok_or_else(|| Error::io(&named, "not a plain relative path; refusing to write it"))?;
    imp::write_file(root, &dirs, name, bytes).map_err(|e| Error::io(&named, e))
}

#[cfg(unix)]
mod imp {
    use std::ffi::CString;
    use std::fs::File;
    use std::io::Write as _;
    use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
    use std::path::Path;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn cstr(s: &str) -> Result<CString, String> {
        CString::new(s).map_err(|_| "a name with a NUL byte".to_string())
    }

    fn last_error(what: &str) -> String {
        format!("{what}: {}", std::io::Error::last_os_error())
    }

    /// A directory opened without following a symlink at `name`.
    fn open_dir_at(dir: &OwnedFd, name: &str) -> Result<OwnedFd, String> {
        let c = cstr(name)?;
        let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a valid directory fd and a NUL-terminated name; the result is checked.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), c.as_ptr(), flags) };
        if fd < 0 {
            let e = std::io::Error::last_os_error();
            return Err(match e.raw_os_error() {
                Some(libc::ELOOP) | Some(libc::ENOTDIR) => format!(
                    "{name} is a symlink or not a directory; sigscope writes only into real directories of the layout"
                ),
                _ => format!("cannot open the directory {name}: {e}"),
            });
        }
        // SAFETY: fd is a fresh descriptor we own.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }

    /// The layout directory itself, checked to still be the directory resolved at open.
    fn open_root(root: &Path) -> Result<OwnedFd, String> {
        let c = cstr(root.to_str().ok_or("the layout path is not UTF-8")?)?;
        // SAFETY: a NUL-terminated path; the result is checked.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(last_error("cannot open the layout directory"));
        }
        // SAFETY: fd is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        check_inside(&fd, root)?;
        Ok(fd)
    }

    /// On Linux, where the open directory really is must be `root` or below it.
    #[cfg(target_os = "linux")]
    fn check_inside(fd: &OwnedFd, root: &Path) -> Result<(), String> {
        let fds = Path::new("/proc/self/fd");
        if !fds.is_dir() {
            return Ok(());
        }
        let actual = std::fs::read_link(fds.join(fd.as_raw_fd().to_string())).map_err(|e| e.to_string())?;
        if actual.starts_with(root) {
            Ok(())
        } else {
            Err(format!("resolves to {}, outside the layout; refusing to write there", actual.display()))
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn check_inside(_: &OwnedFd, _: &Path) -> Result<(), String> {
        Ok(())
    }

    fn temp_name(name: &str) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        format!(".{name}.sigscope-{}-{}-{nanos}.tmp", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
    }

    pub(super) fn write_file(root: &Path, dirs: &[&str], name: &str, bytes: &[u8]) -> Result<(), String> {
        let mut dir = open_root(root)?;
        for d in dirs {
            let c = cstr(d)?;
            // SAFETY: a valid directory fd and a NUL-terminated name; EEXIST is expected.
            if unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o755) } != 0
                && std::io::Error::last_os_error().raw_os_error() != Some(libc::EEXIST)
            {
                return Err(last_error(&format!("cannot create the directory {d}")));
            }
            dir = open_dir_at(&dir, d)?;
        }
        check_inside(&dir, root)?;
        let final_name = cstr(name)?;
        // The mode of the file replaced, if any (index.json keeps its permissions).
        // SAFETY: `st` is written by fstatat before it is read, and only when it succeeds.
        let mode = unsafe {
            let mut st: libc::stat = std::mem::zeroed();
            (libc::fstatat(dir.as_raw_fd(), final_name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) == 0
                && (st.st_mode & libc::S_IFMT) == libc::S_IFREG)
                .then_some(st.st_mode & 0o7777)
        };
        let temp = cstr(&temp_name(name))?;
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_CLOEXEC;
        // SAFETY: a valid directory fd and a NUL-terminated name; the result is checked.
        let fd = unsafe { libc::openat(dir.as_raw_fd(), temp.as_ptr(), flags, 0o644 as libc::c_uint) };
        if fd < 0 {
            return Err(last_error("cannot create a temporary file"));
        }
        // SAFETY: fd is a fresh descriptor we own.
        let mut file = unsafe { File::from_raw_fd(fd) };
        let written = (|| -> Result<(), String> {
            if let Some(mode) = mode {
                // SAFETY: a valid fd.
                if unsafe { libc::fchmod(file.as_raw_fd(), mode) } != 0 {
                    return Err(last_error("cannot keep the file's permissions"));
                }
            }
            file.write_all(bytes).map_err(|e| format!("cannot write: {e}"))?;
            file.sync_all().map_err(|e| format!("cannot sync: {e}"))?;
            // SAFETY: valid fds and NUL-terminated names, both in the same directory.
            if unsafe { libc::renameat(dir.as_raw_fd(), temp.as_ptr(), dir.as_raw_fd(), final_name.as_ptr()) } != 0 {
                return Err(last_error("cannot rename the temporary file into place"));
            }
            Ok(())
        })();
        drop(file);
        if let Err(e) = written {
            // SAFETY: valid fd and name; a failure leaves a stray temporary file only.
            unsafe { libc::unlinkat(dir.as_raw_fd(), temp.as_ptr(), 0) };
            return Err(e);
        }
        // The rename is durable once the directory is.
        // SAFETY: a valid fd.
        if unsafe { libc::fsync(dir.as_raw_fd()) } != 0 {
            return Err(last_error("cannot sync the directory"));
        }
        Ok(())
    }
}

#[cfg(not(unix))]
mod imp {
    use std::path::Path;

    pub(super) fn write_file(root: &Path, dirs: &[&str], name: &str, bytes: &[u8]) -> Result<(), String> {
        let dir = dirs.iter().fold(root.to_path_buf(), |p, d| p.join(d));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let resolved = dir.canonicalize().map_err(|e| e.to_string())?;
        if !resolved.starts_with(root) {
            return Err(format!("resolves to {}, outside the layout; refusing to write there", resolved.display()));
        }
        let options = crate::fswrite::WriteOptions { sync: true, keep_permissions: false };
        crate::fswrite::write_atomic(&resolved.join(name), bytes, options).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &[u8] = br#"{"mediaType":"m","digest":"d","size":1}"#;

    fn appended(raw: &str) -> String {
        let out = append_to_index(raw.as_bytes(), ENTRY).unwrap();
        let s = String::from_utf8(out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["manifests"].as_array().unwrap().last().unwrap()["digest"], "d", "{s}");
        s
    }

    #[test]
    fn appends_keeping_every_other_byte() {
        let raw = r#"{"schemaVersion":2,"manifests":[{"digest":"a","x-extra":{"k":"]}\"["},"size":1}],"zz":[1]}"#;
        assert_eq!(
            appended(raw),
            format!(
                r#"{{"schemaVersion":2,"manifests":[{{"digest":"a","x-extra":{{"k":"]}}\"["}},"size":1}},{}],"zz":[1]}}"#,
                std::str::from_utf8(ENTRY).unwrap()
            )
        );
        assert_eq!(
            appended(r#"{"manifests":[]}"#),
            format!(r#"{{"manifests":[{}]}}"#, std::str::from_utf8(ENTRY).unwrap())
        );
        assert_eq!(
            appended(r#"{"schemaVersion":2}"#),
            format!(r#"{{"schemaVersion":2,"manifests":[{}]}}"#, std::str::from_utf8(ENTRY).unwrap())
        );
        assert_eq!(appended("{ }"), format!(r#"{{ "manifests":[{}]}}"#, std::str::from_utf8(ENTRY).unwrap()));
    }

    #[test]
    fn a_pretty_file_stays_pretty() {
        let raw = "{\n    \"manifests\": [\n        {\n            \"digest\": \"a\"\n        }\n    ]\n}\n";
        let out = appended(raw);
        assert_eq!(
            out,
            format!(
                "{{\n    \"manifests\": [\n        {{\n            \"digest\": \"a\"\n        }},\n        {}\n    ]\n}}\n",
                std::str::from_utf8(ENTRY).unwrap()
            )
        );
    }

    #[test]
    fn refuses_what_it_cannot_splice() {
        assert!(append_to_index(b"[]", ENTRY).is_err());
        assert!(append_to_index(b"{\"manifests\":{}}", ENTRY).is_err());
        assert!(append_to_index(b"{\"manifests\":[],\"manifests\":[]}", ENTRY).is_err());
        assert!(append_to_index(b"{\"manifests\":[", ENTRY).is_err());
    }

    #[test]
    fn writes_atomically_inside_the_root_only() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        write_file(&root, dir.path(), "blobs/sha256/abc", b"one").unwrap();
        assert_eq!(std::fs::read(root.join("blobs/sha256/abc")).unwrap(), b"one");
        std::fs::write(root.join("index.json"), b"old").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(root.join("index.json"), std::fs::Permissions::from_mode(0o600)).unwrap();
            write_file(&root, dir.path(), "index.json", b"new").unwrap();
            let meta = std::fs::metadata(root.join("index.json")).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "the replaced file keeps its mode");
            // A directory on the way that is a symlink out of the layout is refused.
            let outside = tempfile::tempdir().unwrap();
            std::os::unix::fs::symlink(outside.path(), root.join("blobs/sha512")).unwrap();
            let e = write_file(&root, dir.path(), "blobs/sha512/x", b"x").unwrap_err();
            assert!(e.to_string().contains("symlink"), "{e}");
            assert!(std::fs::read_dir(outside.path()).unwrap().next().is_none(), "nothing written outside");
        }
        assert_eq!(std::fs::read(root.join("index.json")).unwrap(), b"new");
        assert!(write_file(&root, dir.path(), "../x", b"x").is_err());
        assert!(write_file(&root, dir.path(), "/etc/x", b"x").is_err());
        let leftovers: Vec<_> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("sigscope"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
