//! PEP 751 lock files (`pylock.toml`): the model, a validating parser that
//! reports every error the specification requires of installers and that
//! can be checked without an interpreter, a deterministic writer, and the
//! selection of packages and files for one interpreter.
//!
//! Reads what uv (`uv pip compile -o pylock.toml`, `uv export --format
//! pylock.toml`) and pip (`pip lock`) write.

mod marker;
mod parse;
mod select;
mod toml_value;
mod write;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName};

pub use marker::LockMarker;
pub use select::{Selected, SelectedSource};
pub use toml_edit::Datetime;
pub use toml_value::{TomlTable, TomlValue};

use crate::pep508::clean_join;

/// A parsed and validated `pylock.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct PyLock {
    /// Where the lock file is; relative paths in it are relative to its directory.
    pub path: PathBuf,
    pub lock_version: Version,
    /// Markers of the environments the lock supports (`None`: any).
    pub environments: Option<Vec<LockMarker>>,
    pub requires_python: Option<VersionSpecifiers>,
    /// Extras the lock supports (`None`: not recorded, a single-use lock).
    pub extras: Option<Vec<ExtraName>>,
    pub dependency_groups: Option<Vec<String>>,
    /// Groups installed when the user names none.
    pub default_groups: Option<Vec<String>>,
    pub created_by: String,
    pub packages: Vec<LockedPackage>,
    pub tool: Option<TomlTable>,
    /// Things worth telling the user that do not stop an install (a newer
    /// minor lock-version, unknown keys).
    pub warnings: Vec<String>,
}

/// One `[[packages]]` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedPackage {
    pub name: PackageName,
    /// Absent for source trees (directory, VCS).
    pub version: Option<Version>,
    pub marker: Option<LockMarker>,
    pub requires_python: Option<VersionSpecifiers>,
    /// Informational only (PEP 751: MUST NOT drive installation).
    pub dependencies: Vec<TomlTable>,
    /// The index the files came from.
    pub index: Option<String>,
    pub source: PackageSource,
    pub attestation_identities: Vec<AttestationIdentity>,
    pub tool: Option<TomlTable>,
}

impl LockedPackage {
    /// `name version` (or just `name`) for messages.
    pub fn label(&self) -> String {
        match &self.version {
            Some(v) => format!("{} {v}", self.name),
            None => self.name.to_string(),
        }
    }
}

/// Where a package's code comes from: exactly one kind per entry.
#[derive(Debug, Clone, PartialEq)]
pub enum PackageSource {
    Vcs(LockedVcs),
    Directory(LockedDirectory),
    Archive(LockedArchive),
    /// An sdist and/or wheels (usually from an index).
    Distributions {
        sdist: Option<LockedFile>,
        wheels: Vec<LockedFile>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockedVcs {
    /// `git`, `hg`, `svn`, `bzr`.
    pub kind: String,
    pub url: Option<String>,
    pub path: Option<String>,
    /// Informational; never used to check out.
    pub requested_revision: Option<String>,
    pub commit_id: String,
    pub subdirectory: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockedDirectory {
    pub path: String,
    pub editable: bool,
    pub subdirectory: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockedArchive {
    pub url: Option<url::Url>,
    pub path: Option<String>,
    pub size: Option<u64>,
    pub upload_time: Option<Datetime>,
    /// Algorithm (lowercase) → lowercase hex digest; never empty.
    pub hashes: BTreeMap<String, String>,
    pub subdirectory: Option<String>,
}

/// An sdist or wheel file.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedFile {
    /// The filename (given, or the last component of the URL or path).
    pub name: String,
    pub url: Option<url::Url>,
    pub path: Option<String>,
    pub size: Option<u64>,
    /// In UTC.
    pub upload_time: Option<Datetime>,
    /// Algorithm (lowercase) → lowercase hex digest; never empty, and always
    /// with at least one of sha256, sha384, sha512.
    pub hashes: BTreeMap<String, String>,
}

impl LockedFile {
    /// The strongest hash pyward verifies: sha512, then sha384, then sha256.
    pub fn strongest_hash(&self) -> Option<(&str, &str)> {
        strongest_hash(&self.hashes)
    }
}

impl LockedArchive {
    /// The strongest hash pyward verifies: sha512, then sha384, then sha256.
    pub fn strongest_hash(&self) -> Option<(&str, &str)> {
        strongest_hash(&self.hashes)
    }
}

fn strongest_hash(hashes: &BTreeMap<String, String>) -> Option<(&str, &str)> {
    ["sha512", "sha384", "sha256"]
        .into_iter()
        .find_map(|alg| hashes.get(alg).map(|h| (alg, h.as_str())))
}

/// A trusted-publisher identity expected to have attested the files.
#[derive(Debug, Clone, PartialEq)]
pub struct AttestationIdentity {
    /// `GitHub`, `GitLab`, `Google`, …
    pub kind: String,
    /// The publisher-specific keys (`repository`, `workflow`, `environment`, …).
    pub fields: TomlTable,
}

impl PyLock {
    /// Read and validate the lock file at `path`.
    pub fn read(path: &Path) -> Result<PyLock, PyLockError> {
        let text = std::fs::read_to_string(path).map_err(|source| PyLockError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        PyLock::parse(&text, path)
    }

    /// Parse and validate lock-file text; `lock_path` is where it lives (for
    /// messages and relative paths).
    pub fn parse(text: &str, lock_path: &Path) -> Result<PyLock, PyLockError> {
        parse::parse(text, lock_path)
    }

    /// A path from the lock file, made usable: relative paths are relative to
    /// the lock file's directory and may use `/` separators.
    pub fn resolve_path(&self, path: &str) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        clean_join(dir, Path::new(path))
    }

    /// The lock file as TOML: same model, same bytes. Packages are sorted by
    /// name then version, keys follow the specification's order, wheels are
    /// sorted by filename.
    pub fn to_toml_string(&self) -> String {
        write::to_toml_string(self)
    }
}

/// Where in a lock file something is: `pylock.toml:14 (package numpy 2.2.3)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockLocation {
    pub path: PathBuf,
    pub line: Option<usize>,
    /// `name version` of the package entry, when inside one.
    pub package: Option<String>,
}

impl fmt::Display for LockLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(package) = &self.package {
            write!(f, " (package {package})")?;
        }
        Ok(())
    }
}

/// Why a lock file cannot be used, or cannot be used for this interpreter.
/// Each message names the file and the place, and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum PyLockError {
    #[error("cannot read lock file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{location}: not valid TOML: {message}")]
    Toml {
        location: LockLocation,
        message: String,
    },
    #[error("{location}: lock-version {version} is not supported; pyward reads lock-version 1.x, regenerate the lock file with a tool that writes it")]
    UnsupportedVersion {
        location: LockLocation,
        version: String,
    },
    #[error("{location}: {message}")]
    Invalid {
        location: LockLocation,
        message: String,
    },
    #[error("{}: the lock file has no extra `{extra}` ({}); choose one it has, or regenerate the lock file with that extra", path.display(), available_list(available, "extras"))]
    UnknownExtra {
        path: PathBuf,
        extra: String,
        available: Vec<String>,
    },
    #[error("{}: the lock file has no dependency group `{group}` ({}); choose one it has, or regenerate the lock file with that group", path.display(), available_list(available, "dependency groups"))]
    UnknownGroup {
        path: PathBuf,
        group: String,
        available: Vec<String>,
    },
    #[error("{}: the lock file requires Python {requires}, but the target interpreter is Python {python}; use a matching interpreter or regenerate the lock file for this one", path.display())]
    RequiresPython {
        path: PathBuf,
        requires: VersionSpecifiers,
        python: Version,
    },
    #[error("{}: none of the lock file's environments ({}) matches this interpreter ({interpreter}); regenerate the lock file for this platform", path.display(), environments.join(", "))]
    NoMatchingEnvironment {
        path: PathBuf,
        environments: Vec<String>,
        interpreter: String,
    },
    #[error("{location}: requires Python {requires}, but the target interpreter is Python {python}; the lock file does not fit this interpreter, regenerate it for this Python")]
    PackageRequiresPython {
        location: LockLocation,
        requires: VersionSpecifiers,
        python: Version,
    },
    #[error("{}: two entries for `{name}` apply to this interpreter ({first} and {second}); their markers must not overlap, regenerate the lock file", path.display())]
    Ambiguous {
        path: PathBuf,
        name: PackageName,
        first: String,
        second: String,
    },
    #[error("{location}: no file fits this interpreter ({interpreter}): {detail}; regenerate the lock file on or for this platform")]
    NoUsableSource {
        location: LockLocation,
        interpreter: String,
        detail: String,
    },
}

fn available_list(available: &[String], what: &str) -> String {
    if available.is_empty() {
        format!("it records no {what}")
    } else {
        format!("it has {}", available.join(", "))
    }
}

#[cfg(test)]
mod tests;
