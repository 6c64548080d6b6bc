//! The all-or-nothing step of a transaction. Files to replace or remove are
//! first moved into a backup area, then staged files are renamed into place
//! (whole directories at once where nothing is in the way). A journal on
//! disk lists every move before it happens, so a failure, or a process
//! killed mid-way, is undone: in-process at once, otherwise by the next
//! pyward run on the environment ([`recover_leftovers`]).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::environment::Environment;
use crate::error::{io_err, Result};

/// Prefix of staging directories inside site-packages.
pub(crate) const STAGING_PREFIX: &str = ".pyward-tx-";
const JOURNAL: &str = "journal.json";

/// Every move of one commit, in order.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Journal {
    /// `(original, backup)`: moved out of the way first.
    pub backups: Vec<(PathBuf, PathBuf)>,
    /// Directories created for destinations, parents first.
    pub created_dirs: Vec<PathBuf>,
    /// `(staged, destination)`: moved into place.
    pub placements: Vec<(PathBuf, PathBuf)>,
}

fn exists(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok()
}

impl Journal {
    fn save(&self, staging: &Path) -> Result<()> {
        let file = staging.join(JOURNAL);
        let tmp = staging.join("journal.tmp");
        let json = serde_json::to_vec(self).unwrap_or_default();
        std::fs::write(&tmp, json).map_err(io_err("could not write", &tmp))?;
        std::fs::rename(&tmp, &file).map_err(io_err("could not write", &file))
    }

    /// Undo whatever part of the journal was carried out.
    pub fn rollback(&self) {
        for (staged, dest) in self.placements.iter().rev() {
            if !exists(staged) && exists(dest) {
                if let Err(e) = std::fs::rename(dest, staged) {
                    tracing::warn!("rollback: could not remove {}: {e}", dest.display());
                }
            }
        }
        for dir in self.created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(dir);
        }
        for (original, backup) in self.backups.iter().rev() {
            if exists(backup) {
                if let Some(parent) = original.parent() {
                    let _ = std::fs::create_dir_all(parent);
                }
                if let Err(e) = std::fs::rename(backup, original) {
                    tracing::warn!("rollback: could not restore {}: {e}", original.display());
                }
            }
        }
    }
}

/// Move `remove` into backups, create `roots` as needed, then move each
/// staged tree `staging/<tree>` into its root. Rolls back on any error.
/// Returns after the commit point; the caller deletes `staging`.
pub(crate) fn commit(
    staging: &Path,
    remove: &[PathBuf],
    trees: &[(PathBuf, PathBuf)],
) -> Result<()> {
    let mut journal = Journal::default();
    let backup_dir = staging.join("backup");
    std::fs::create_dir_all(&backup_dir).map_err(io_err("could not create", &backup_dir))?;
    journal.backups = remove
        .iter()
        .enumerate()
        .map(|(i, p)| (p.clone(), backup_dir.join(i.to_string())))
        .collect();
    let result = (|| {
        journal.save(staging)?;
        for (original, backup) in &journal.backups {
            std::fs::rename(original, backup).map_err(io_err("could not move aside", original))?;
        }
        for (_, root) in trees {
            let mut missing = Vec::new();
            let mut dir = root.as_path();
            while !exists(dir) {
                missing.push(dir.to_path_buf());
                match dir.parent() {
                    Some(p) => dir = p,
                    None => break,
                }
            }
            for dir in missing.into_iter().rev() {
                journal.created_dirs.push(dir.clone());
                journal.save(staging)?;
                std::fs::create_dir(&dir).map_err(io_err("could not create", &dir))?;
            }
        }
        for (tree, root) in trees {
            plan_moves(tree, root, &mut journal.placements)?;
        }
        journal.save(staging)?;
        #[cfg_attr(not(test), allow(clippy::unused_enumerate_index))]
        for (_n, (staged, dest)) in journal.placements.iter().enumerate() {
            #[cfg(test)]
            if let Some(abort) = fault::injected(_n) {
                if abort {
                    std::process::abort();
                }
                return Err(crate::error::InstallError::Invalid("injected fault".into()));
            }
            std::fs::rename(staged, dest).map_err(io_err("could not move into place", dest))?;
        }
        // The commit point: from here on the new state stands.
        let file = staging.join(JOURNAL);
        std::fs::remove_file(&file).map_err(io_err("could not remove", &file))
    })();
    if result.is_err() {
        journal.rollback();
        let _ = std::fs::remove_file(staging.join(JOURNAL));
    }
    result
}

/// The renames that put `staged` into `dest`: a whole directory when the
/// destination does not exist, else its children one by one.
fn plan_moves(staged: &Path, dest: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
    let entries = match std::fs::read_dir(staged) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err("could not read", staged)(e)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err("could not read", staged))?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        match std::fs::symlink_metadata(&to) {
            Err(_) => out.push((from, to)),
            // Follow a link to a directory (e.g. `lib64 -> lib`).
            Ok(_) if is_dir && to.is_dir() => plan_moves(&from, &to, out)?,
            Ok(_) => {
                return Err(io_err("could not install", &to)(std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "something is already there",
                )))
            }
        }
    }
    Ok(())
}

/// Undo and delete staging directories left by a pyward process that was
/// killed. Call with the environment lock held.
pub fn recover_leftovers(env: &Environment) -> Result<usize> {
    let mut dirs = vec![env.site_packages().to_path_buf()];
    if env.platlib() != env.site_packages() {
        dirs.push(env.platlib().to_path_buf());
    }
    let mut recovered = 0;
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().starts_with(STAGING_PREFIX) {
                continue;
            }
            let staging = entry.path();
            if let Ok(bytes) = std::fs::read(staging.join(JOURNAL)) {
                if let Ok(journal) = serde_json::from_slice::<Journal>(&bytes) {
                    journal.rollback();
                }
            }
            std::fs::remove_dir_all(&staging).map_err(io_err("could not remove", &staging))?;
            recovered += 1;
        }
    }
    Ok(recovered)
}

/// Remove the parent directories of `paths` that are now empty, deepest
/// first, never removing (or going above) any of `roots`.
pub(crate) fn remove_empty_parents(paths: &[PathBuf], roots: &[&Path]) {
    let mut dirs: Vec<&Path> = paths
        .iter()
        .filter_map(|p| p.parent())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in dirs {
        let mut dir = Some(dir);
        while let Some(d) = dir {
            let inside = roots.iter().any(|r| d.starts_with(r));
            if roots.contains(&d) || !inside {
                break;
            }
            if std::fs::remove_dir(d).is_err() {
                break;
            }
            dir = d.parent();
        }
    }
}

/// Fault injection for tests: fail (or abort the process) before the n-th
/// placement of a commit.
#[cfg(test)]
pub(crate) mod fault {
    use std::cell::Cell;

    thread_local! {
        pub(crate) static FAIL_AT: Cell<Option<usize>> = const { Cell::new(None) };
    }

    /// `Some(true)`: abort the process; `Some(false)`: return an error.
    pub(crate) fn injected(n: usize) -> Option<bool> {
        if FAIL_AT.with(Cell::get) == Some(n) {
            return Some(false);
        }
        let abort_at = std::env::var("PYWARD_TEST_ABORT_AT").ok()?;
        (abort_at.parse::<usize>().ok()? == n).then_some(true)
    }
}
