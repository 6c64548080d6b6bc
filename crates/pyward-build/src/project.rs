//! Copying a project directory into a build directory, so that building it
//! never writes to the user's files. Version-control data, virtual
//! environments and tool caches are left out; a symbolic link is copied only
//! when it is relative and stays inside the project (others are left out
//! and listed, never followed); special files (sockets, pipes, devices) are
//! left out; file permissions are kept. The copy stops with an error past a
//! limit on entries and bytes, so a path that names a home directory by
//! mistake cannot fill the disk.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Entries never copied, whatever their kind: version-control data and the
/// caches of tools that have nothing to do with the build.
const SKIPPED_NAMES: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    "__pycache__",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "node_modules",
];

/// How much one copy may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CopyLimits {
    /// Files, directories and links together.
    pub max_entries: u64,
    pub max_bytes: u64,
}

/// The limits of a project copy: far above any real project's sources.
pub(crate) const PROJECT_LIMITS: CopyLimits = CopyLimits {
    max_entries: 100_000,
    max_bytes: 1 << 30,
};

/// What was copied.
#[derive(Debug, Default)]
pub(crate) struct Copied {
    /// Symbolic links left out because they are absolute or lead out of
    /// the project, relative to the project directory.
    pub skipped_links: Vec<PathBuf>,
}

/// Why a project could not be copied.
#[derive(Debug)]
pub(crate) enum CopyError {
    /// The project holds more than the limits allow; the text says which.
    TooLarge(String),
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

/// True when `dir` has a `pyproject.toml` or a `setup.py` (following links).
pub(crate) fn has_project_file(dir: &Path) -> bool {
    dir.join("pyproject.toml").is_file() || dir.join("setup.py").is_file()
}

/// Copy the project at `source` (canonical) to `dest` (which must not exist),
/// never entering the directories in `avoid` (canonical paths, e.g. the
/// cache the copy is written into).
pub(crate) fn copy_project(
    source: &Path,
    dest: &Path,
    avoid: &[PathBuf],
    limits: CopyLimits,
) -> Result<Copied, CopyError> {
    let mut copied = Copied::default();
    let mut budget = Budget {
        entries: 0,
        bytes: 0,
        limits,
    };
    create_dir(dest)?;
    let mut pending = vec![(source.to_path_buf(), dest.to_path_buf())];
    while let Some((from, to)) = pending.pop() {
        let entries = std::fs::read_dir(&from).map_err(io("read", &from))?;
        for entry in entries {
            let entry = entry.map_err(io("read", &from))?;
            let name = entry.file_name();
            if is_skipped_name(&name) {
                continue;
            }
            let path = entry.path();
            let target = to.join(&name);
            let kind = entry.file_type().map_err(io("read", &path))?;
            if kind.is_dir() {
                if avoid.contains(&path) || is_virtual_environment(&path) {
                    continue;
                }
                budget.add_entry()?;
                create_dir(&target)?;
                pending.push((path, target));
            } else if kind.is_file() {
                budget.add_entry()?;
                copy_file(&path, &target, &mut budget)?;
            } else if kind.is_symlink() {
                match link_inside(source, &path) {
                    Some(link) => {
                        budget.add_entry()?;
                        symlink(&link, &target)?;
                    }
                    None => copied
                        .skipped_links
                        .push(path.strip_prefix(source).unwrap_or(&path).to_path_buf()),
                }
            }
            // Sockets, pipes and devices are not part of a project's sources.
        }
    }
    copied.skipped_links.sort();
    Ok(copied)
}

fn is_skipped_name(name: &OsStr) -> bool {
    SKIPPED_NAMES.iter().any(|s| name == OsStr::new(s))
}

/// A virtual environment: a directory holding `pyvenv.cfg`.
fn is_virtual_environment(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join("pyvenv.cfg")).is_ok()
}

struct Budget {
    entries: u64,
    bytes: u64,
    limits: CopyLimits,
}

impl Budget {
    fn add_entry(&mut self) -> Result<(), CopyError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(CopyError::TooLarge(format!(
                "more than {} files and directories",
                self.limits.max_entries
            )));
        }
        Ok(())
    }

    fn bytes_left(&self) -> u64 {
        self.limits.max_bytes.saturating_sub(self.bytes)
    }

    fn too_many_bytes(&self) -> CopyError {
        CopyError::TooLarge(format!(
            "more than {} of files",
            human_size(self.limits.max_bytes)
        ))
    }
}

fn human_size(bytes: u64) -> String {
    if bytes >= 1 << 30 && bytes.is_multiple_of(1 << 30) {
        format!("{} GiB", bytes >> 30)
    } else if bytes >= 1 << 20 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{bytes} bytes")
    }
}

/// Copy one regular file with its permissions and modification time; what
/// is read never exceeds the budget, even for a file that grows meanwhile.
fn copy_file(from: &Path, to: &Path, budget: &mut Budget) -> Result<(), CopyError> {
    let mut source = std::fs::File::open(from).map_err(io("read", from))?;
    let meta = source.metadata().map_err(io("read", from))?;
    if !meta.is_file() {
        // Replaced by something else since it was listed.
        return Ok(());
    }
    let left = budget.bytes_left();
    if meta.len() > left {
        return Err(budget.too_many_bytes());
    }
    let mut dest = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(io("create", to))?;
    let written = std::io::copy(&mut (&mut source).take(left + 1), &mut dest).map_err(|e| {
        let (action, path) = if e.kind() == std::io::ErrorKind::StorageFull {
            ("write", to)
        } else {
            ("read", from)
        };
        CopyError::Io {
            action,
            path: path.to_path_buf(),
            source: e,
        }
    })?;
    if written > left {
        return Err(budget.too_many_bytes());
    }
    budget.bytes += written;
    dest.set_permissions(meta.permissions())
        .map_err(io("set the permissions of", to))?;
    if let Ok(modified) = meta.modified() {
        // Only a nicety (some tools compare times); the build works without it.
        let _ = dest.set_modified(modified);
    }
    Ok(())
}

/// The target of the link at `link` when it is relative and stays inside
/// `root`, both as written (its `..` never climb above `root`) and, when it
/// resolves, after every link on the way is followed. A dangling link that
/// stays inside as written is kept: the build may create its target.
fn link_inside(root: &Path, link: &Path) -> Option<PathBuf> {
    let target = std::fs::read_link(link).ok()?;
    let parent = link.parent()?.strip_prefix(root).ok()?;
    let mut depth = parent.components().count();
    for component in target.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(_) => depth += 1,
            Component::ParentDir => depth = depth.checked_sub(1)?,
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    match link.canonicalize() {
        Ok(resolved) if !resolved.starts_with(root) => None,
        _ => Some(target),
    }
}

fn create_dir(dir: &Path) -> Result<(), CopyError> {
    std::fs::create_dir(dir).map_err(io("create", dir))
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> Result<(), CopyError> {
    std::os::unix::fs::symlink(target, link).map_err(io("create", link))
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> Result<(), CopyError> {
    // Links are rare in projects outside Unix; leaving one out is safe.
    Ok(())
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> CopyError {
    let path = path.to_path_buf();
    move |source| CopyError::Io {
        action,
        path,
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> CopyLimits {
        CopyLimits {
            max_entries: 1000,
            max_bytes: 1 << 20,
        }
    }

    fn project() -> (tempfile::TempDir, PathBuf) {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("proj");
        std::fs::create_dir_all(root.join("pkg/sub")).unwrap();
        std::fs::write(root.join("setup.py"), "from setuptools import setup\n").unwrap();
        std::fs::write(root.join("pkg/__init__.py"), "X = 1\n").unwrap();
        std::fs::write(root.join("pkg/sub/data.bin"), [0u8, 1, 2, 255]).unwrap();
        let root = root.canonicalize().unwrap();
        (outer, root)
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut pending = vec![dir.to_path_buf()];
        while let Some(d) = pending.pop() {
            for e in std::fs::read_dir(&d).unwrap().flatten() {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                if e.file_type().unwrap().is_dir() {
                    pending.push(e.path());
                    out.push(format!("{rel}/"));
                } else {
                    out.push(rel);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn copies_sources_and_leaves_out_vcs_caches_and_environments() {
        let (outer, root) = project();
        for dir in [
            ".git/objects",
            "__pycache__",
            "pkg/__pycache__",
            ".tox/py3",
            "node_modules/x",
            ".venv/bin",
            "env2",
        ] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        std::fs::write(root.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(root.join(".venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        std::fs::write(root.join("env2/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        std::fs::write(root.join("pkg/__pycache__/x.pyc"), "junk").unwrap();
        let dest = outer.path().join("copy");
        copy_project(&root, &dest, &[], limits()).unwrap();
        assert_eq!(
            listing(&dest),
            [
                "pkg/",
                "pkg/__init__.py",
                "pkg/sub/",
                "pkg/sub/data.bin",
                "setup.py"
            ]
        );
        assert_eq!(
            std::fs::read(dest.join("pkg/sub/data.bin")).unwrap(),
            [0u8, 1, 2, 255]
        );
    }

    #[cfg(unix)]
    #[test]
    fn keeps_executable_bits() {
        use std::os::unix::fs::PermissionsExt;
        let (outer, root) = project();
        let script = root.join("build.sh");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(
            root.join("setup.py"),
            std::fs::Permissions::from_mode(0o444),
        )
        .unwrap();
        let dest = outer.path().join("copy");
        copy_project(&root, &dest, &[], limits()).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dest.join("build.sh")), 0o755);
        assert_eq!(mode(&dest.join("setup.py")), 0o444);
    }

    #[cfg(unix)]
    #[test]
    fn links_are_copied_only_when_they_stay_inside() {
        use std::os::unix::fs::symlink;
        let (outer, root) = project();
        let secret = outer.path().join("secret.txt");
        std::fs::write(&secret, "private").unwrap();
        std::fs::create_dir(outer.path().join("elsewhere")).unwrap();
        symlink("pkg/__init__.py", root.join("inside.py")).unwrap();
        symlink("../__init__.py", root.join("pkg/sub/up.py")).unwrap();
        symlink("sub", root.join("pkg/subdir-link")).unwrap();
        symlink(&secret, root.join("absolute.txt")).unwrap();
        symlink("../secret.txt", root.join("escape.txt")).unwrap();
        symlink("../elsewhere", root.join("escape-dir")).unwrap();
        // Leaves the tree as written, even though it comes back.
        symlink("../proj/setup.py", root.join("round-trip.py")).unwrap();
        // An inside link to the root, then out through it.
        symlink(".", root.join("self")).unwrap();
        symlink("self/../secret.txt", root.join("via-self.txt")).unwrap();
        symlink("missing.py", root.join("dangling.py")).unwrap();
        symlink("../missing.py", root.join("dangling-outside.py")).unwrap();
        let dest = outer.path().join("copy");
        let copied = copy_project(&root, &dest, &[], limits()).unwrap();
        let skipped: Vec<String> = copied
            .skipped_links
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        assert_eq!(
            skipped,
            [
                "absolute.txt",
                "dangling-outside.py",
                "escape-dir",
                "escape.txt",
                "round-trip.py",
                "via-self.txt"
            ]
        );
        assert_eq!(
            std::fs::read_link(dest.join("inside.py")).unwrap(),
            Path::new("pkg/__init__.py")
        );
        assert_eq!(
            std::fs::read_to_string(dest.join("pkg/sub/up.py")).unwrap(),
            "X = 1\n"
        );
        assert!(dest.join("pkg/subdir-link/data.bin").is_file());
        assert!(dest.join("self").is_symlink());
        assert!(dest.join("dangling.py").is_symlink());
        for gone in ["absolute.txt", "escape.txt", "escape-dir", "via-self.txt"] {
            assert!(
                std::fs::symlink_metadata(dest.join(gone)).is_err(),
                "{gone}"
            );
        }
    }

    #[test]
    fn limits_stop_the_copy() {
        let (outer, root) = project();
        std::fs::write(root.join("big.bin"), vec![7u8; 5000]).unwrap();
        let small = CopyLimits {
            max_entries: 1000,
            max_bytes: 4096,
        };
        let err = copy_project(&root, &outer.path().join("a"), &[], small).unwrap_err();
        assert!(
            matches!(&err, CopyError::TooLarge(m) if m == "more than 4096 bytes of files"),
            "{err:?}"
        );
        let few = CopyLimits {
            max_entries: 3,
            max_bytes: 1 << 20,
        };
        let err = copy_project(&root, &outer.path().join("b"), &[], few).unwrap_err();
        assert!(
            matches!(&err, CopyError::TooLarge(m) if m.contains("3 files and directories")),
            "{err:?}"
        );
        assert_eq!(
            human_size(PROJECT_LIMITS.max_bytes),
            "1 GiB",
            "the message names the limit plainly"
        );
    }

    #[test]
    fn avoided_directories_are_not_entered() {
        let (outer, root) = project();
        let cache = root.join("cache");
        std::fs::create_dir_all(cache.join("builds")).unwrap();
        let dest = cache.join("builds/copy");
        copy_project(&root, &dest, std::slice::from_ref(&cache), limits()).unwrap();
        assert!(!dest.join("cache").exists());
        drop(outer);
    }

    #[test]
    fn project_files_are_recognised() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_project_file(dir.path()));
        std::fs::create_dir(dir.path().join("setup.py")).unwrap();
        assert!(!has_project_file(dir.path()), "a directory is not setup.py");
        std::fs::write(dir.path().join("pyproject.toml"), "").unwrap();
        assert!(has_project_file(dir.path()));
    }

    proptest::proptest! {
        #[test]
        fn accepted_links_stay_inside(target in "[a-z./]{1,16}") {
            let outer = tempfile::tempdir().unwrap();
            let root = outer.path().join("r");
            std::fs::create_dir_all(root.join("a/b")).unwrap();
            std::fs::write(root.join("a/b/f"), "").unwrap();
            let root = root.canonicalize().unwrap();
            let link = root.join("a/l");
            #[cfg(unix)]
            {
                if std::os::unix::fs::symlink(&target, &link).is_ok() {
                    if let Some(t) = link_inside(&root, &link) {
                        if let Ok(resolved) = root.join("a").join(t).canonicalize() {
                            proptest::prop_assert!(resolved.starts_with(&root));
                        }
                    }
                }
            }
        }
    }
}
