//! Local files replaced atomically: the new contents go to a temporary file in the same
//! directory (a rename never crosses file systems), which is then renamed over the target, so
//! a concurrent reader sees the old file or the new one, never half of one.
//!
//! The temporary name is unique per process and per write and is created with `create_new`,
//! so two writers never share it and nothing already at that name (a symlink) is written
//! through; on any failure it is removed again. Callers choose whether the data is synced
//! before the rename and whether the new file keeps the permissions of the one it replaces.
//!
//! Writes into an OCI layout on unix do not come here: `source/layout_write.rs` writes through
//! directory handles, to stay inside the layout.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// How [`write_atomic`] writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// `fsync` the file's data before the rename, so a crash never leaves an empty or partial
    /// file under the target's name.
    pub sync: bool,
    /// The new file takes the permissions of the file it replaces (when there is one).
    pub keep_permissions: bool,
}

/// How many temporary names are tried when one is already taken (a leftover of a crash).
const TEMP_ATTEMPTS: u32 = 16;

/// The temporary file's name beside `path`: hidden, naming the target, the process and the write.
fn temp_path(path: &Path, dir: &Path) -> PathBuf {
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.sigscope-{}-{n}.tmp", std::process::id()))
}

/// Writes `bytes` to `path` atomically: a temporary file in `path`'s directory (created if
/// missing), then a rename over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8], options: WriteOptions) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let (tmp, mut file) = {
        let mut attempt = 0;
        loop {
            let tmp = temp_path(path, dir);
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&tmp) {
                Ok(file) => break (tmp, file),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt + 1 < TEMP_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e),
            }
        }
    };
    let result = (|| {
        file.write_all(bytes)?;
        if options.sync {
            file.sync_all()?;
        }
        if options.keep_permissions
            && let Ok(meta) = std::fs::metadata(path)
        {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        drop(file);
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn writes_a_new_file_creating_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/file.json");
        write_atomic(&path, b"one", WriteOptions::default()).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"one");
        assert_eq!(names(&dir.path().join("a/b")), ["file.json"], "no temporary file is left");
    }

    #[test]
    fn replaces_a_file_with_or_without_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        std::fs::write(&path, b"a much longer old content").unwrap();
        write_atomic(&path, b"new", WriteOptions { sync: true, keep_permissions: false }).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
        write_atomic(&path, b"newer", WriteOptions { sync: false, keep_permissions: false }).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"newer");
        assert_eq!(names(dir.path()), ["file"]);
    }

    #[test]
    fn a_failed_rename_leaves_the_target_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A non-empty directory cannot be replaced by a file.
        let path = dir.path().join("taken");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"x").unwrap();
        assert!(write_atomic(&path, b"new", WriteOptions { sync: true, keep_permissions: true }).is_err());
        assert!(path.is_dir());
        assert_eq!(names(dir.path()), ["taken"]);
    }

    #[test]
    fn the_temporary_file_is_beside_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("policy.json");
        let tmp = temp_path(&path, dir.path());
        assert_eq!(tmp.parent(), Some(dir.path()));
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(".policy.json.sigscope-") && name.ends_with(".tmp"), "{name}");
        assert_ne!(tmp, temp_path(&path, dir.path()), "each write has its own name");
    }

    #[cfg(unix)]
    #[test]
    fn permissions_are_kept_only_when_asked() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let kept = dir.path().join("kept");
        std::fs::write(&kept, b"old").unwrap();
        std::fs::set_permissions(&kept, std::fs::Permissions::from_mode(0o601)).unwrap();
        write_atomic(&kept, b"new", WriteOptions { sync: true, keep_permissions: true }).unwrap();
        assert_eq!(mode(&kept), 0o601);
        let fresh = dir.path().join("fresh");
        std::fs::write(&fresh, b"old").unwrap();
        std::fs::set_permissions(&fresh, std::fs::Permissions::from_mode(0o601)).unwrap();
        write_atomic(&fresh, b"new", WriteOptions::default()).unwrap();
        assert_ne!(mode(&fresh), 0o601, "a new file gets the default mode (which never has an execute bit)");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_target_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::write(&elsewhere, b"untouched").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&elsewhere, &link).unwrap();
        write_atomic(&link, b"new", WriteOptions::default()).unwrap();
        assert_eq!(std::fs::read(&elsewhere).unwrap(), b"untouched");
        assert!(!std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read(&link).unwrap(), b"new");
    }
}
