//! The git repository around a project directory, shown to the build of
//! the project's copy so that tools which take the version from git
//! (setuptools-scm, hatch-vcs, versioneer, dunamai) work, while the user's
//! repository is never written.
//!
//! The copy is placed where the project sits in its work tree (a project
//! in `repo/python/pkg` is copied to `<top>/python/pkg`), and `<top>/.git`
//! is a file naming a private git directory in the build directory, as a
//! linked worktree's does. That directory holds copies of the checkout's
//! own files (`HEAD`, `index`, and the like) and a `commondir` naming the
//! user's repository, whose objects, refs and configuration git then reads
//! in place. What git writes while it reads (`git status` and `git describe
//! --dirty` refresh the index) goes to the private copies; git writes
//! nothing else there when it only reads, and the sandbox forbids it anyway.
//! No `GIT_DIR` is set, so git run by the build on other repositories
//! behaves as usual. Index entries that are not in the copy (the rest of a
//! monorepo, links that were left out) are marked skip-worktree in the
//! private index, so the build does not see them as deleted and a version
//! is not marked as modified for that.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Files of a checkout's own git directory that the private one copies
/// when they exist (`sharedindex.*` files, used by a split index, too).
const CHECKOUT_FILES: &[&str] = &["HEAD", "index", "config.worktree"];

/// Largest `.git` file read.
const MAX_GITFILE: u64 = 4096;

/// A git work tree holding a project directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Repository {
    /// The top of the work tree (the directory holding `.git`), canonical.
    pub top: PathBuf,
    /// The project's path inside the work tree; empty at its top.
    pub prefix: PathBuf,
    /// The checkout's own git directory (`HEAD`, `index`).
    pub git_dir: PathBuf,
    /// The repository's shared git directory (objects, refs, config); the
    /// same as `git_dir` except for linked worktrees and submodules.
    pub common_dir: PathBuf,
}

/// The git work tree around `project` (canonical), found as git finds it:
/// the nearest `.git` directory or `.git` file in `project` or a parent.
/// A `.git` directory that is not a repository is passed over, as git does;
/// a `.git` file that names no repository ends the search.
pub(crate) fn find(project: &Path) -> Option<Repository> {
    for top in project.ancestors() {
        let dot_git = top.join(".git");
        let Ok(meta) = std::fs::metadata(&dot_git) else {
            continue;
        };
        let git_dir = if meta.is_dir() {
            dot_git
        } else if meta.is_file() {
            read_gitfile(&dot_git, top)?
        } else {
            continue;
        };
        match checked_git_dir(&git_dir) {
            Some((git_dir, common_dir)) => {
                return Some(Repository {
                    top: top.to_path_buf(),
                    prefix: project.strip_prefix(top).ok()?.to_path_buf(),
                    git_dir,
                    common_dir,
                })
            }
            None if meta.is_file() => return None,
            None => {}
        }
    }
    None
}

/// The directory a `.git` file (`gitdir: <path>`, relative to `top`) names.
fn read_gitfile(path: &Path, top: &Path) -> Option<PathBuf> {
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_GITFILE)
        .read_to_string(&mut text)
        .ok()?;
    let named = text.strip_prefix("gitdir:")?.trim();
    if named.is_empty() {
        return None;
    }
    Some(top.join(named))
}

/// `(git_dir, common_dir)`, canonical, when `git_dir` holds a `HEAD` and its
/// common directory holds `objects` and `refs`, as git requires.
fn checked_git_dir(git_dir: &Path) -> Option<(PathBuf, PathBuf)> {
    let git_dir = git_dir.canonicalize().ok()?;
    if !git_dir.join("HEAD").is_file() {
        return None;
    }
    let common_dir = match std::fs::read_to_string(git_dir.join("commondir")) {
        Ok(text) => git_dir.join(text.trim()).canonicalize().ok()?,
        Err(_) => git_dir.clone(),
    };
    let is_repository = common_dir.join("objects").is_dir() && common_dir.join("refs").is_dir();
    is_repository.then_some((git_dir, common_dir))
}

impl Repository {
    /// Where the work tree's top and the project go when copied under
    /// `base`: `(top, project)`.
    pub fn layout(&self, base: &Path, top_name: &str) -> (PathBuf, PathBuf) {
        let top = base.join(top_name);
        let project = top.join(&self.prefix);
        (top, project)
    }

    /// Make `private` (which must not exist) the git directory of the
    /// copied work tree at `top_copy`, reading the repository in place.
    pub fn attach(&self, top_copy: &Path, private: &Path) -> std::io::Result<()> {
        std::fs::create_dir(private)?;
        let mut common = path_bytes(&self.common_dir);
        common.push(b'\n');
        std::fs::write(private.join("commondir"), common)?;
        for entry in std::fs::read_dir(&self.git_dir)? {
            let entry = entry?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if CHECKOUT_FILES.contains(&name.as_ref()) || name.starts_with("sharedindex.") {
                if entry.path().is_file() {
                    std::fs::copy(entry.path(), private.join(entry.file_name()))?;
                }
            } else if name == "reftable" && entry.file_type()?.is_dir() {
                // The reftable ref store keeps this checkout's HEAD there.
                copy_files(&entry.path(), &private.join("reftable"))?;
            }
        }
        let mut gitfile = b"gitdir: ".to_vec();
        gitfile.extend(path_bytes(private));
        gitfile.push(b'\n');
        std::fs::write(top_copy.join(".git"), gitfile)
    }

    /// Mark skip-worktree, in the private index of the copy at `top_copy`,
    /// the entries the copy lacks because they are outside the project or
    /// were left out of the copy (entries the user deleted stay as they
    /// are). git runs there with only the variables `env` and `prepare`
    /// applied (the sandbox). `Ok(false)` when git is not installed.
    pub fn hide_absent(
        &self,
        top_copy: &Path,
        env: &[(String, String)],
        prepare: impl Fn(&mut Command) -> Result<(), String>,
    ) -> Result<bool, String> {
        let command = |args: &[&str]| {
            let mut command = Command::new("git");
            command
                .args(args)
                .current_dir(top_copy)
                .env_clear()
                .envs(env.iter().map(|(k, v)| (k, v)));
            command
        };
        let mut list = command(&["ls-files", "-z"]);
        list.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        prepare(&mut list)?;
        let listed = match list.output() {
            Ok(out) => out,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(format!("git could not be started: {e}")),
        };
        if !listed.status.success() {
            return Err(failure("git ls-files", &listed));
        }
        let mut hidden: Vec<u8> = Vec::new();
        let mut previous: &[u8] = &[];
        for raw in listed.stdout.split(|b| *b == 0) {
            // Unmerged entries are listed once per stage.
            if raw.is_empty() || raw == previous {
                continue;
            }
            previous = raw;
            let Some(path) = path_from_bytes(raw) else {
                continue;
            };
            let absent = || {
                std::fs::symlink_metadata(top_copy.join(&path)).is_err()
                    && std::fs::symlink_metadata(self.top.join(&path)).is_ok()
            };
            if !path.starts_with(&self.prefix) || absent() {
                hidden.extend_from_slice(raw);
                hidden.push(0);
            }
        }
        if hidden.is_empty() {
            return Ok(true);
        }
        let mut update = command(&["update-index", "-z", "--skip-worktree", "--stdin"]);
        update
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        prepare(&mut update)?;
        let mut child = update
            .spawn()
            .map_err(|e| format!("git could not be started: {e}"))?;
        let written = match child.stdin.take() {
            Some(mut stdin) => stdin.write_all(&hidden),
            None => Ok(()),
        };
        let out = child
            .wait_with_output()
            .map_err(|e| format!("git update-index did not finish: {e}"))?;
        if !out.status.success() {
            return Err(failure("git update-index", &out));
        }
        written.map_err(|e| format!("git update-index did not read its input: {e}"))?;
        Ok(true)
    }
}

/// Environment variables for git run by a build that sees a repository:
/// `git status` must not even try to write, and a file-system monitor
/// configured for the user's checkout must not be asked about (or started
/// for) the copy. The system configuration is still read, as for the user.
pub(crate) fn environment() -> Vec<(String, String)> {
    [
        ("GIT_OPTIONAL_LOCKS", "0"),
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "core.fsmonitor"),
        ("GIT_CONFIG_VALUE_0", "false"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn failure(what: &str, out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or("").trim();
    format!("{what} failed ({}): {last}", out.status)
}

fn copy_files(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn path_bytes(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().to_vec()
}

#[cfg(not(unix))]
fn path_bytes(path: &Path) -> Vec<u8> {
    path.to_string_lossy().replace('\\', "/").into_bytes()
}

#[cfg(unix)]
fn path_from_bytes(raw: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(raw)))
}

#[cfg(not(unix))]
fn path_from_bytes(raw: &[u8]) -> Option<PathBuf> {
    std::str::from_utf8(raw).ok().map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A directory laid out as git lays out a repository's `.git`.
    fn fake_git_dir(dir: &Path) {
        std::fs::create_dir_all(dir.join("objects")).unwrap();
        std::fs::create_dir_all(dir.join("refs")).unwrap();
        std::fs::write(dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
    }

    fn canonical_tempdir() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().canonicalize().unwrap();
        (dir, path)
    }

    #[test]
    fn finds_the_repository_at_the_project_or_above_it() {
        let (_dir, root) = canonical_tempdir();
        let repo = root.join("repo");
        fake_git_dir(&repo.join(".git"));
        let project = repo.join("python/pkg");
        std::fs::create_dir_all(&project).unwrap();

        let found = find(&repo).unwrap();
        assert_eq!(found.top, repo);
        assert_eq!(found.prefix, Path::new(""));
        assert_eq!(found.git_dir, repo.join(".git"));
        assert_eq!(found.common_dir, repo.join(".git"));

        let found = find(&project).unwrap();
        assert_eq!(found.top, repo);
        assert_eq!(found.prefix, Path::new("python/pkg"));

        assert_eq!(find(&root), None);
    }

    #[test]
    fn follows_git_files_of_worktrees_and_submodules() {
        let (_dir, root) = canonical_tempdir();
        let main = root.join("main/.git");
        fake_git_dir(&main);
        let admin = main.join("worktrees/feature");
        std::fs::create_dir_all(&admin).unwrap();
        std::fs::write(admin.join("HEAD"), "0123\n").unwrap();
        std::fs::write(admin.join("commondir"), "../..\n").unwrap();
        let worktree = root.join("feature");
        std::fs::create_dir_all(&worktree).unwrap();
        std::fs::write(
            worktree.join(".git"),
            format!("gitdir: {}\n", admin.display()),
        )
        .unwrap();

        let found = find(&worktree).unwrap();
        assert_eq!(found.top, worktree);
        assert_eq!(found.git_dir, admin);
        assert_eq!(found.common_dir, main);

        // A submodule names its git directory relative to itself.
        let module = main.join("modules/sub");
        fake_git_dir(&module);
        let sub = root.join("main/sub");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(".git"), "gitdir: ../.git/modules/sub\n").unwrap();
        let found = find(&sub).unwrap();
        assert_eq!(found.git_dir, module);
        assert_eq!(found.common_dir, module);
    }

    #[test]
    fn passes_over_what_git_would_not_take_for_a_repository() {
        let (_dir, root) = canonical_tempdir();
        let outer = root.join("outer");
        fake_git_dir(&outer.join(".git"));
        // A `.git` directory without refs is not a repository: git goes on.
        let inner = outer.join("inner");
        std::fs::create_dir_all(inner.join(".git/objects")).unwrap();
        std::fs::write(inner.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
        assert_eq!(find(&inner).unwrap().top, outer);
        // A `.git` file naming nothing stops git.
        for text in ["gitdir: ../missing\n", "gitdir:\n", "not a gitfile", ""] {
            let stale = outer.join("stale");
            std::fs::create_dir_all(&stale).unwrap();
            std::fs::write(stale.join(".git"), text).unwrap();
            assert_eq!(find(&stale), None, "{text:?}");
        }
    }

    #[test]
    fn attaching_copies_the_checkout_files_and_names_the_repository() {
        let (_dir, root) = canonical_tempdir();
        let repo = root.join("repo");
        let git_dir = repo.join(".git");
        fake_git_dir(&git_dir);
        std::fs::write(git_dir.join("index"), "DIRC").unwrap();
        std::fs::write(git_dir.join("sharedindex.abc"), "shared").unwrap();
        std::fs::write(git_dir.join("config"), "[core]\n").unwrap();
        let found = find(&repo).unwrap();
        let top_copy = root.join("copy");
        std::fs::create_dir(&top_copy).unwrap();
        let private = root.join("private");
        found.attach(&top_copy, &private).unwrap();

        let gitfile = std::fs::read_to_string(top_copy.join(".git")).unwrap();
        assert_eq!(gitfile, format!("gitdir: {}\n", private.display()));
        assert_eq!(
            std::fs::read_to_string(private.join("commondir")).unwrap(),
            format!("{}\n", git_dir.display())
        );
        let mut names: Vec<String> = std::fs::read_dir(&private)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["HEAD", "commondir", "index", "sharedindex.abc"]);
        assert_eq!(std::fs::read(private.join("index")).unwrap(), b"DIRC");
    }
}
