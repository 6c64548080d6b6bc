//! The source tree of an sdist or a project directory: safe extraction
//! (through `pyward-archive`, which refuses the same attacks as for wheels),
//! the single top-level directory, and the `[build-system]` table of `pyproject.toml` (PEP 517/518)
//! with its defaults and the rule that `backend-path` stays inside the tree.

use std::path::{Path, PathBuf};

use pyward_archive::{ArchiveError, Limits};
use pyward_dist::{parse_requirement, Requirement};

/// What builds a source tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSystem {
    /// `[build-system] requires`.
    pub requires: Vec<Requirement>,
    /// `module` or `module:object.attr`.
    pub backend: String,
    /// `backend-path` entries, resolved to absolute paths inside the tree.
    pub backend_path: Vec<PathBuf>,
    /// True when the tree has no `[build-system]` (the setup.py defaults).
    pub legacy: bool,
}

/// The backend used when a tree names none.
pub const LEGACY_BACKEND: &str = "setuptools.build_meta:__legacy__";
/// The requirement used when a tree has no `[build-system]`.
pub const LEGACY_REQUIRES: &str = "setuptools>=40.8.0";

/// Why a source tree cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("its pyproject.toml is not valid TOML: {0}")]
    Toml(String),
    #[error("its pyproject.toml is not valid: {0}")]
    Invalid(String),
    #[error("its pyproject.toml sets backend-path `{entry}`, which {reason}")]
    BackendPath { entry: String, reason: String },
    #[error("the archive {0}")]
    Layout(String),
    #[error("there is no such directory")]
    NotFound,
    #[error("it is not a directory")]
    NotADirectory,
    #[error("it has no pyproject.toml or setup.py, so it is not a Python project")]
    NotAProject,
    #[error("it holds {0}, more than pyward copies to build a project")]
    TooLarge(String),
}

/// Extract `archive` (`zip` when `extension` is `zip`, else tar, plain or
/// gzip) into `dest`, which must not exist yet.
pub(crate) fn extract(archive: &Path, extension: &str, dest: &Path) -> Result<(), ArchiveError> {
    let limits = Limits::default();
    if extension.eq_ignore_ascii_case("zip") {
        pyward_archive::extract_zip(archive, dest, &limits)?;
    } else {
        pyward_archive::extract_tar(archive, dest, &limits)?;
    }
    Ok(())
}

/// The one top-level directory of an extracted sdist.
pub(crate) fn source_root(extracted: &Path) -> Result<PathBuf, SourceError> {
    let entries = std::fs::read_dir(extracted)
        .map_err(|e| SourceError::Layout(format!("could not be read after extraction: {e}")))?;
    let mut dirs = Vec::new();
    let mut others = Vec::new();
    for entry in entries {
        let entry = entry
            .map_err(|e| SourceError::Layout(format!("could not be read after extraction: {e}")))?;
        let kind = entry
            .file_type()
            .map_err(|e| SourceError::Layout(format!("could not be read after extraction: {e}")))?;
        if kind.is_dir() {
            dirs.push(entry.path());
        } else {
            others.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    match (dirs.as_slice(), others.is_empty()) {
        ([one], true) => Ok(one.clone()),
        ([], _) => Err(SourceError::Layout(
            "has no top-level directory (an sdist holds one `{name}-{version}/` directory)"
                .to_string(),
        )),
        _ => Err(SourceError::Layout(format!(
            "has {} top-level entries instead of one `{{name}}-{{version}}/` directory",
            dirs.len() + others.len()
        ))),
    }
}

/// Read `pyproject.toml` of the tree at `root` (absent = the setup.py defaults).
pub(crate) fn build_system(root: &Path) -> Result<BuildSystem, SourceError> {
    let path = root.join("pyproject.toml");
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| SourceError::Toml("it is not UTF-8 text".to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return legacy(),
        Err(e) => return Err(SourceError::Toml(format!("it could not be read: {e}"))),
    };
    parse_build_system(&text, root)
}

fn legacy() -> Result<BuildSystem, SourceError> {
    let requires = parse_requirement(LEGACY_REQUIRES).map_err(SourceError::Invalid)?;
    Ok(BuildSystem {
        requires: vec![requires],
        backend: LEGACY_BACKEND.to_string(),
        backend_path: Vec::new(),
        legacy: true,
    })
}

/// Parse the `[build-system]` table of `text`; `root` is the tree
/// `backend-path` entries must stay inside.
pub fn parse_build_system(text: &str, root: &Path) -> Result<BuildSystem, SourceError> {
    let doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| SourceError::Toml(e.message().to_string()))?;
    let Some(table) = doc.get("build-system") else {
        return legacy();
    };
    let table = table
        .as_table_like()
        .ok_or_else(|| SourceError::Invalid("[build-system] is not a table".to_string()))?;

    let requires = table.get("requires").ok_or_else(|| {
        SourceError::Invalid(
            "[build-system] has no `requires` list (PEP 518 makes it required)".to_string(),
        )
    })?;
    let requires = requires.as_array().ok_or_else(|| {
        SourceError::Invalid("[build-system] `requires` is not a list".to_string())
    })?;
    let mut parsed = Vec::new();
    for value in requires.iter() {
        let text = value.as_str().ok_or_else(|| {
            SourceError::Invalid(
                "[build-system] `requires` holds something other than strings".to_string(),
            )
        })?;
        let req = parse_requirement(text).map_err(|e| {
            SourceError::Invalid(format!(
                "[build-system] requirement `{text}` is not valid: {e}"
            ))
        })?;
        parsed.push(req);
    }

    let backend = match table.get("build-backend") {
        None => LEGACY_BACKEND.to_string(),
        Some(v) => {
            let s = v.as_str().ok_or_else(|| {
                SourceError::Invalid("[build-system] `build-backend` is not a string".to_string())
            })?;
            if !is_backend_reference(s) {
                return Err(SourceError::Invalid(format!(
                    "[build-system] `build-backend` `{s}` is not a module path like `pkg.module:object`"
                )));
            }
            s.trim().to_string()
        }
    };

    let mut backend_path = Vec::new();
    if let Some(v) = table.get("backend-path") {
        let list = v.as_array().ok_or_else(|| {
            SourceError::Invalid("[build-system] `backend-path` is not a list".to_string())
        })?;
        for entry in list.iter() {
            let entry = entry.as_str().ok_or_else(|| {
                SourceError::Invalid(
                    "[build-system] `backend-path` holds something other than strings".to_string(),
                )
            })?;
            backend_path.push(inside_tree(root, entry)?);
        }
    }
    Ok(BuildSystem {
        requires: parsed,
        backend,
        backend_path,
        legacy: false,
    })
}

/// `module(.module)*(:attr(.attr)*)?` with Python identifiers.
fn is_backend_reference(s: &str) -> bool {
    let s = s.trim();
    let dotted = |part: &str| {
        !part.is_empty()
            && part.split('.').all(|ident| {
                let mut chars = ident.trim().chars();
                matches!(chars.next(), Some(c) if c == '_' || c.is_alphabetic())
                    && chars.all(|c| c == '_' || c.is_alphanumeric())
            })
    };
    match s.split_once(':') {
        Some((module, object)) => dotted(module) && dotted(object),
        None => dotted(s),
    }
}

/// Resolve a `backend-path` entry: relative, and inside `root` after
/// symbolic links are followed.
fn inside_tree(root: &Path, entry: &str) -> Result<PathBuf, SourceError> {
    let escape = |reason: &str| SourceError::BackendPath {
        entry: entry.to_string(),
        reason: reason.to_string(),
    };
    if entry.is_empty() || Path::new(entry).is_absolute() || entry.contains('\0') {
        return Err(escape("is not a relative path inside the source tree"));
    }
    let root = root
        .canonicalize()
        .map_err(|_| escape("cannot be checked: the source tree cannot be resolved"))?;
    let resolved = root
        .join(entry)
        .canonicalize()
        .map_err(|_| escape("does not exist in the source tree"))?;
    if !resolved.starts_with(&root) {
        return Err(escape("points outside the source tree"));
    }
    if !resolved.is_dir() {
        return Err(escape("is not a directory"));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_without_build_system() {
        let dir = tempfile::tempdir().unwrap();
        let bs = build_system(dir.path()).unwrap();
        assert!(bs.legacy);
        assert_eq!(bs.backend, LEGACY_BACKEND);
        assert_eq!(bs.requires[0].to_string(), "setuptools>=40.8.0");
        let bs = parse_build_system("[project]\nname = 'x'\n", dir.path()).unwrap();
        assert!(bs.legacy);
    }

    #[test]
    fn reads_requires_backend_and_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("_build")).unwrap();
        let bs = parse_build_system(
            "[build-system]\nrequires = ['flit_core >=3.2,<4']\nbuild-backend = 'backend:api'\nbackend-path = ['_build', '.']\n",
            dir.path(),
        )
        .unwrap();
        assert_eq!(bs.requires[0].name.as_ref(), "flit-core");
        assert_eq!(bs.backend, "backend:api");
        assert_eq!(bs.backend_path.len(), 2);
        // requires alone: the legacy backend, but not the legacy requirements.
        let bs = parse_build_system("[build-system]\nrequires = []\n", dir.path()).unwrap();
        assert_eq!(bs.backend, LEGACY_BACKEND);
        assert!(bs.requires.is_empty());
        assert!(!bs.legacy);
    }

    #[test]
    fn refuses_backend_paths_outside_the_tree() {
        let outer = tempfile::tempdir().unwrap();
        let root = outer.path().join("pkg-1.0");
        std::fs::create_dir(&root).unwrap();
        std::fs::create_dir(outer.path().join("elsewhere")).unwrap();
        for entry in ["..", "../elsewhere", "/tmp", "missing"] {
            let toml = format!(
                "[build-system]\nrequires = []\nbuild-backend = 'b'\nbackend-path = ['{entry}']\n"
            );
            let err = parse_build_system(&toml, &root).unwrap_err();
            assert!(
                matches!(err, SourceError::BackendPath { .. }),
                "{entry}: {err}"
            );
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(outer.path().join("elsewhere"), root.join("link")).unwrap();
            let toml =
                "[build-system]\nrequires = []\nbuild-backend = 'b'\nbackend-path = ['link']\n";
            assert!(matches!(
                parse_build_system(toml, &root),
                Err(SourceError::BackendPath { .. })
            ));
        }
    }

    #[test]
    fn refuses_malformed_tables() {
        let dir = tempfile::tempdir().unwrap();
        for toml in [
            "[build-system]\nbuild-backend = 'x'\n",
            "[build-system]\nrequires = 'setuptools'\n",
            "[build-system]\nrequires = [1]\n",
            "[build-system]\nrequires = ['not a req ((']\n",
            "[build-system]\nrequires = []\nbuild-backend = 'os; import evil'\n",
            "[build-system]\nrequires = []\nbackend-path = '.'\n",
            "build-system = 3\n",
            "[build-system\n",
        ] {
            assert!(parse_build_system(toml, dir.path()).is_err(), "{toml}");
        }
    }

    #[test]
    fn backend_references() {
        assert!(is_backend_reference("setuptools.build_meta:__legacy__"));
        assert!(is_backend_reference("flit_core.buildapi"));
        assert!(!is_backend_reference("a:"));
        assert!(!is_backend_reference("a..b"));
        assert!(!is_backend_reference("1abc"));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(text in "\\PC{0,200}") {
            let dir = tempfile::tempdir().unwrap();
            let _ = parse_build_system(&text, dir.path());
        }

        #[test]
        fn accepted_backend_paths_stay_inside(entry in "[a-z./]{0,12}") {
            let outer = tempfile::tempdir().unwrap();
            let root = outer.path().join("t");
            std::fs::create_dir_all(root.join("a/b")).unwrap();
            let toml = format!("[build-system]\nrequires = []\nbackend-path = ['{entry}']\n");
            if let Ok(bs) = parse_build_system(&toml, &root) {
                let root = root.canonicalize().unwrap();
                for p in bs.backend_path {
                    proptest::prop_assert!(p.starts_with(&root));
                }
            }
        }
    }
}
