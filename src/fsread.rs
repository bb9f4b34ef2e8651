//! Bounded reads of local files (OCI layouts, trust stores, policies, caches, configs).
//!
//! Every local file sigscope reads goes through here, because a path can name far more than a
//! file: a FIFO (opening it blocks until a writer comes, which may be never), a device
//! (`/dev/zero` never ends and reports a length of 0), a directory, a file that grows while it is
//! read, or a sparse file of terabytes. So a read
//!
//! - opens without blocking (`O_NONBLOCK`, and `O_NOCTTY` so a terminal never becomes ours),
//! - checks with `fstat` on the *opened* handle that it is a regular file (a check on the path
//!   before opening could be raced),
//! - reads at most `limit + 1` bytes and refuses the file if it got them, whatever its length
//!   says (`/proc` files report 0),
//! - and, in a [`Root`], refuses a path whose symlinks resolve outside the root directory.
//!
//! Errors are [`FileError`]s that name the file and say why; they convert into
//! [`crate::Error`] for the sources.

use std::fs::{File, Metadata};
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Largest small configuration file read: trust policies, trust-store certificate files,
/// docker's `config.json`, the TUI's `config.toml`. The manifest limit: these are JSON/TOML/PEM
/// documents of the same order, and one limit is easier to document than five.
pub const MAX_CONFIG_BYTES: u64 = crate::oci::MAX_MANIFEST_BYTES;

/// Whether the last component of a path may be a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symlinks {
    Follow,
    /// Refuse a symlink (Notation's rule for policies and trust stores: the file in force is
    /// the file the user sees).
    Refuse,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("{path}: no such file")]
    NotFound { path: String },
    #[error("{path}: is {kind}, not a regular file; refusing to read it")]
    NotRegular { path: String, kind: &'static str },
    #[error("{path}: is a symlink; symlinks are refused here, replace it with the file itself")]
    Symlink { path: String },
    #[error("{path}: resolves to {target}, outside the layout {root}; refusing to follow it")]
    Outside { path: String, target: String, root: String },
    #[error("{path}: {shown} bytes is over the {limit}-byte limit; refusing to read it")]
    TooLarge { path: String, shown: String, size: u64, limit: u64 },
    #[error("{path}: {detail}")]
    Io { path: String, detail: String },
}

impl FileError {
    /// The file the error is about, as it was named.
    pub fn path(&self) -> &str {
        match self {
            FileError::NotFound { path }
            | FileError::NotRegular { path, .. }
            | FileError::Symlink { path }
            | FileError::Outside { path, .. }
            | FileError::TooLarge { path, .. }
            | FileError::Io { path, .. } => path,
        }
    }

    /// The reason without the path, for callers whose own message names the file.
    pub fn reason(&self) -> String {
        let full = self.to_string();
        full.strip_prefix(self.path()).and_then(|r| r.strip_prefix(": ")).map(str::to_string).unwrap_or(full)
    }

    fn io(path: &Path, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            FileError::NotFound { path: shown(path) }
        } else {
            FileError::Io { path: shown(path), detail: e.to_string() }
        }
    }
}

impl From<FileError> for crate::Error {
    fn from(e: FileError) -> Self {
        match e {
            FileError::NotFound { path } => crate::Error::not_found(path),
            FileError::TooLarge { path, size, limit, .. } => crate::Error::TooLarge { what: path, size, limit },
            other => crate::Error::Io { path: other.path().to_string(), detail: other.reason() },
        }
    }
}

fn shown(path: &Path) -> String {
    path.display().to_string()
}

/// What a non-regular file is, for messages.
fn kind_of(meta: &Metadata) -> Option<&'static str> {
    let ft = meta.file_type();
    if ft.is_file() {
        return None;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if ft.is_fifo() {
            return Some("a FIFO (named pipe)");
        }
        if ft.is_char_device() {
            return Some("a character device");
        }
        if ft.is_block_device() {
            return Some("a block device");
        }
        if ft.is_socket() {
            return Some("a socket");
        }
    }
    Some(if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symlink"
    } else {
        "not a file"
    })
}

fn check_regular(path: &Path, meta: &Metadata, symlinks: Symlinks) -> Result<(), FileError> {
    if symlinks == Symlinks::Refuse && meta.file_type().is_symlink() {
        return Err(FileError::Symlink { path: shown(path) });
    }
    match kind_of(meta) {
        None => Ok(()),
        Some(kind) => Err(FileError::NotRegular { path: shown(path), kind }),
    }
}

#[cfg(unix)]
fn open_flags(opts: &mut std::fs::OpenOptions, symlinks: Symlinks) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let nofollow = if symlinks == Symlinks::Refuse { libc::O_NOFOLLOW } else { 0 };
    opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY | nofollow);
}

#[cfg(not(unix))]
fn open_flags(_: &mut std::fs::OpenOptions, _: Symlinks) {}

/// Opens `path` for reading if, and only if, the opened handle is a regular file.
pub fn open_regular(path: &Path, symlinks: Symlinks) -> Result<(File, Metadata), FileError> {
    // A first look at the path keeps devices and FIFOs from being opened at all (opening some
    // devices has effects); it decides nothing, the fstat below does.
    let first = match symlinks {
        Symlinks::Follow => std::fs::metadata(path),
        Symlinks::Refuse => std::fs::symlink_metadata(path),
    }
    .map_err(|e| FileError::io(path, e))?;
    check_regular(path, &first, symlinks)?;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    open_flags(&mut opts, symlinks);
    let file = opts.open(path).map_err(|e| {
        // O_NOFOLLOW on a symlink that appeared since the first look.
        if symlinks == Symlinks::Refuse && e.raw_os_error() == Some(eloop()) {
            FileError::Symlink { path: shown(path) }
        } else {
            FileError::io(path, e)
        }
    })?;
    let meta = file.metadata().map_err(|e| FileError::io(path, e))?;
    check_regular(path, &meta, Symlinks::Follow)?;
    Ok((file, meta))
}

#[cfg(unix)]
fn eloop() -> i32 {
    libc::ELOOP
}

#[cfg(not(unix))]
fn eloop() -> i32 {
    -1
}

/// Reads a regular file of at most `limit` bytes.
pub fn read(path: &Path, limit: u64, symlinks: Symlinks) -> Result<Vec<u8>, FileError> {
    let (file, meta) = open_regular(path, symlinks)?;
    read_open(path, file, &meta, limit)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, limit: u64, symlinks: Symlinks) -> Result<String, FileError> {
    let bytes = read(path, limit, symlinks)?;
    String::from_utf8(bytes)
        .map_err(|e| FileError::Io { path: shown(path), detail: format!("not UTF-8 text ({})", e.utf8_error()) })
}

/// Like [`read`], but a missing file is `Ok(None)` (optional configuration files).
pub fn read_optional(path: &Path, limit: u64, symlinks: Symlinks) -> Result<Option<Vec<u8>>, FileError> {
    match read(path, limit, symlinks) {
        Err(FileError::NotFound { .. }) => Ok(None),
        other => other.map(Some),
    }
}

fn too_large(path: &Path, size: u64, limit: u64, exact: bool) -> FileError {
    let shown_size = if exact { size.to_string() } else { format!("more than {limit}") };
    FileError::TooLarge { path: shown(path), shown: shown_size, size, limit }
}

fn read_open(path: &Path, file: File, meta: &Metadata, limit: u64) -> Result<Vec<u8>, FileError> {
    if meta.len() > limit {
        return Err(too_large(path, meta.len(), limit, true));
    }
    // The length is a hint only (it is 0 in /proc, and a file can grow): the bound is the read.
    let mut buf = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1)).read_to_end(&mut buf).map_err(|e| FileError::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(too_large(path, buf.len() as u64, limit, false));
    }
    Ok(buf)
}

/// A directory whose files are read only if they resolve inside it (an OCI layout).
#[derive(Debug, Clone)]
pub struct Root {
    /// As the user named it, for messages.
    shown: PathBuf,
    canonical: PathBuf,
}

impl Root {
    /// Resolves `dir` once; later reads are checked against this resolution.
    pub fn new(dir: &Path) -> Result<Root, FileError> {
        let canonical = dir.canonicalize().map_err(|e| FileError::io(dir, e))?;
        Ok(Root { shown: dir.to_path_buf(), canonical })
    }

    pub fn path(&self) -> &Path {
        &self.shown
    }

    /// Reads `rel` (a relative path without `..`) of at most `limit` bytes. Symlinks are
    /// followed only while they stay inside the root.
    pub fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>, FileError> {
        let named = self.shown.join(rel);
        if Path::new(rel).components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
            return Err(FileError::Io { path: shown(&named), detail: "not a plain relative path".into() });
        }
        let resolved = self.canonical.join(rel).canonicalize().map_err(|e| FileError::io(&named, e))?;
        if !resolved.starts_with(&self.canonical) {
            return Err(FileError::Outside { path: shown(&named), target: shown(&resolved), root: shown(&self.shown) });
        }
        // The resolved path has no symlinks left; one that appears now is a race, refused.
        let (file, meta) = open_regular(&resolved, Symlinks::Refuse).map_err(|e| rename(e, &named))?;
        self.check_opened(&file, &named)?;
        read_open(&named, file, &meta, limit)
    }

    /// Where the opened handle really is. `O_NOFOLLOW` covers the last component only: a
    /// directory on the way swapped for a symlink out of the root between the resolution and
    /// the open would be followed. The kernel's own name for the open file settles it.
    #[cfg(target_os = "linux")]
    fn check_opened(&self, file: &File, named: &Path) -> Result<(), FileError> {
        use std::os::fd::AsRawFd as _;
        let fds = Path::new("/proc/self/fd");
        if !fds.is_dir() {
            // No /proc (a bare chroot): the resolution above is the check.
            return Ok(());
        }
        let actual = std::fs::read_link(fds.join(file.as_raw_fd().to_string())).map_err(|e| FileError::io(named, e))?;
        if actual.starts_with(&self.canonical) {
            Ok(())
        } else {
            Err(FileError::Outside { path: shown(named), target: shown(&actual), root: shown(&self.shown) })
        }
    }

    /// Elsewhere the resolution is the check (a race on a directory on the way is not caught).
    #[cfg(not(target_os = "linux"))]
    fn check_opened(&self, _: &File, _: &Path) -> Result<(), FileError> {
        Ok(())
    }
}

/// The same error, about the file as the user named it rather than its resolution.
fn rename(e: FileError, named: &Path) -> FileError {
    let path = shown(named);
    match e {
        FileError::NotFound { .. } => FileError::NotFound { path },
        FileError::NotRegular { kind, .. } => FileError::NotRegular { path, kind },
        FileError::Symlink { .. } => FileError::Symlink { path },
        FileError::Outside { target, root, .. } => FileError::Outside { path, target, root },
        FileError::TooLarge { shown, size, limit, .. } => FileError::TooLarge { path, shown, size, limit },
        FileError::Io { detail, .. } => FileError::Io { path, detail },
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn fifo(path: &Path) {
        assert!(std::process::Command::new("mkfifo").arg(path).status().unwrap().success());
    }

    #[test]
    fn reads_a_regular_file_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, b"hello").unwrap();
        assert_eq!(read(&p, 5, Symlinks::Refuse).unwrap(), b"hello");
        let e = read(&p, 4, Symlinks::Refuse).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { size: 5, limit: 4, .. }), "{e}");
    }

    #[test]
    fn refuses_fifos_devices_directories_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pipe");
        fifo(&p);
        let e = read(&p, 10, Symlinks::Follow).unwrap_err();
        assert!(e.to_string().contains("FIFO") && e.path().ends_with("pipe"), "{e}");
        let e = read(Path::new("/dev/zero"), 10, Symlinks::Follow).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        let e = read(dir.path(), 10, Symlinks::Follow).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
    }

    #[test]
    fn a_file_with_no_length_is_still_bounded() {
        // /proc files report a length of 0 whatever they hold.
        let e = read(Path::new("/proc/self/maps"), 16, Symlinks::Follow).unwrap_err();
        assert!(matches!(e, FileError::TooLarge { limit: 16, .. }), "{e}");
        assert!(e.to_string().contains("more than 16"), "{e}");
    }

    #[test]
    fn refuse_means_refuse_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("t");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert_eq!(read(&link, 10, Symlinks::Follow).unwrap(), b"x");
        assert!(matches!(read(&link, 10, Symlinks::Refuse), Err(FileError::Symlink { .. })));
        assert!(matches!(read_optional(&dir.path().join("none"), 10, Symlinks::Refuse), Ok(None)));
    }

    #[test]
    fn root_refuses_escapes_and_names_the_file_as_given() {
        let dir = tempfile::tempdir().unwrap();
        let root_dir = dir.path().join("root");
        std::fs::create_dir_all(root_dir.join("sub")).unwrap();
        std::fs::write(dir.path().join("secret"), b"s").unwrap();
        std::fs::write(root_dir.join("inside"), b"i").unwrap();
        std::os::unix::fs::symlink("../../secret", root_dir.join("sub/out")).unwrap();
        std::os::unix::fs::symlink("../inside", root_dir.join("sub/in")).unwrap();
        let root = Root::new(&root_dir).unwrap();
        assert_eq!(root.read("sub/in", 10).unwrap(), b"i");
        let e = root.read("sub/out", 10).unwrap_err();
        assert!(matches!(e, FileError::Outside { .. }), "{e}");
        assert!(e.to_string().starts_with(&format!("{}: resolves to ", root_dir.join("sub/out").display())), "{e}");
        assert!(root.read("../secret", 10).is_err());
        assert!(matches!(root.read("nothing", 10), Err(FileError::NotFound { .. })));
    }
}
