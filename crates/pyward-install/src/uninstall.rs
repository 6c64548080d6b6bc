//! Removing installed distributions: exactly the files their RECORD lists,
//! the `__pycache__` files of their modules, their metadata directory, and
//! directories left empty. RECORD paths that leave the environment are
//! refused. Atomic: everything is moved aside first and deleted only once
//! all of it could be moved.

use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};

use crate::commit::{commit, recover_leftovers, remove_empty_parents, STAGING_PREFIX};
use crate::environment::{Environment, InstalledDist};
use crate::error::{io_err, InstallError, Result};
use crate::lock::EnvLock;

/// What [`uninstall`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UninstallReport {
    pub removed: Vec<InstalledDist>,
    /// Files removed (the metadata directory counts as one).
    pub files: usize,
}

/// Remove `dists` from `env` (takes the environment lock).
pub fn uninstall(env: &Environment, dists: &[InstalledDist]) -> Result<UninstallReport> {
    let _lock = EnvLock::acquire(env)?;
    recover_leftovers(env)?;
    let mut seen = HashSet::new();
    let mut paths = Vec::new();
    for dist in dists {
        for path in removal_paths(env, dist)? {
            if seen.insert(path.clone()) {
                paths.push(path);
            }
        }
    }
    let staging = new_staging(env)?;
    commit(staging.path(), &paths, &[])?;
    drop(staging);
    let roots = env.scheme_roots();
    remove_empty_parents(&paths, &roots);
    Ok(UninstallReport {
        removed: dists.to_vec(),
        files: paths.len(),
    })
}

/// A fresh staging directory inside site-packages (same filesystem).
pub(crate) fn new_staging(env: &Environment) -> Result<tempfile::TempDir> {
    let dir = env.site_packages();
    std::fs::create_dir_all(dir).map_err(io_err("could not create", dir))?;
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(dir)
        .map_err(io_err("could not create a staging directory in", dir))
}

/// `path` with `.` and `..` resolved lexically.
pub(crate) fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Every path that removing `dist` deletes: its RECORD's files (that
/// exist), their bytecode, and the metadata directory (last).
pub(crate) fn removal_paths(env: &Environment, dist: &InstalledDist) -> Result<Vec<PathBuf>> {
    let rows = dist.record()?;
    let base = dist.site_packages();
    let roots = env.scheme_roots();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for row in rows {
        let path = normalize_lexically(&base.join(&row.path));
        if !roots.iter().any(|r| path.starts_with(r) && path != *r) {
            return Err(InstallError::RecordEscapes {
                dist: dist.to_string(),
                path: row.path,
            });
        }
        if path.starts_with(&dist.path) {
            continue;
        }
        let is_file = std::fs::symlink_metadata(&path).is_ok_and(|m| !m.is_dir());
        if is_file && seen.insert(path.clone()) {
            out.push(path.clone());
        }
        if path.extension().is_some_and(|e| e == "py") {
            for pyc in bytecode_of(&path) {
                if seen.insert(pyc.clone()) {
                    out.push(pyc);
                }
            }
        }
    }
    out.push(dist.path.clone());
    Ok(out)
}

/// `__pycache__/<stem>.*.pyc` beside a `.py` file.
fn bytecode_of(source: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(stem)) = (source.parent(), source.file_stem()) else {
        return Vec::new();
    };
    let prefix = format!("{}.", stem.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir.join("__pycache__")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with(&prefix) && name.ends_with(".pyc")
        })
        .map(|e| e.path())
        .collect()
}
