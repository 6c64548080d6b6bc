//! Building an sdist from a project in a git repository: the build sees the
//! repository, so a version taken from a git tag works (at the top of the
//! work tree, in a subdirectory of a monorepo, in a linked worktree), and
//! the user's repository is left exactly as it was, with or without the
//! sandbox. Skipped without `python3` or `git`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::{python, InTree, LocalInstaller};
use pyward_build::{Builder, SandboxPolicy};
use sha2::{Digest, Sha256};

macro_rules! need_python_and_git {
    () => {{
        let Some(py) = python() else {
            eprintln!("skipped: no python3 on this machine");
            return;
        };
        if !has_git() {
            eprintln!("skipped: no git on this machine");
            return;
        }
        py
    }};
}

fn has_git() -> bool {
    Command::new("git")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run git in `dir` with no configuration but the test's; its stdout.
fn git(dir: &Path, args: &[&str]) -> String {
    let home = dir.join("..").join("git-home");
    std::fs::create_dir_all(&home).unwrap();
    let out = Command::new("git")
        .args([
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgSign=false",
            "-c",
            "tag.gpgSign=false",
        ])
        .args(args)
        .current_dir(dir)
        .env("HOME", &home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.org")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.org")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A repository at `dir` whose one commit holds everything in it, tagged `v1.2.3`.
fn commit_and_tag(dir: &Path) {
    git(dir, &["init", "-q"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", "first"]);
    git(dir, &["tag", "v1.2.3"]);
}

/// Every entry under `dir` (repository files included): kind, permissions,
/// contents or link target, and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            let mtime = meta.modified().unwrap();
            let what = if meta.is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                pending.push(path);
                format!("dir {:?} {mtime:?}", meta.permissions())
            } else {
                format!(
                    "file {:?} {mtime:?} {}",
                    meta.permissions(),
                    hex::encode(Sha256::digest(std::fs::read(&path).unwrap()))
                )
            };
            out.insert(rel, what);
        }
    }
    out
}

/// The entries that differ between two snapshots.
fn changes(before: &BTreeMap<PathBuf, String>, after: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let mut out = Vec::new();
    for (path, was) in before {
        match after.get(path) {
            None => out.push(format!("{} removed", path.display())),
            Some(now) if now != was => out.push(format!("{}: {was} -> {now}", path.display())),
            Some(_) => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        out.push(format!("{} added", path.display()));
    }
    out
}

/// A project whose `build_sdist` takes its version from `git describe
/// --tags --dirty` (`v1.2.3` gives 1.2.3, one commit later 1.2.3.post1, a
/// modified checkout 1.2.3.dev0),
/// after checking where git says the project is in its work tree.
fn git_versioned(name: &str, prefix: &str) -> InTree {
    let mut project = InTree::new(name, "0.0.0");
    project.sdist_code = format!(
        r#"global VERSION
import subprocess
def git(*args):
    run = subprocess.run(("git",) + args, capture_output=True, text=True)
    assert run.returncode == 0, "git %s: %s" % (args, run.stderr)
    return run.stdout.strip()
assert git("rev-parse", "--show-prefix") == {prefix:?}, git("rev-parse", "--show-prefix")
described = git("describe", "--tags", "--dirty").lstrip("v")
dirty = described.endswith("-dirty")
parts = (described[:-len("-dirty")] if dirty else described).split("-")
VERSION = parts[0] + (".post" + parts[1] if len(parts) == 3 else "") + (".dev0" if dirty else "")"#
    );
    project
}

/// Make a tracked file look changed to git's index (a newer modification
/// time, same contents), as an editor saving it would: git reading the
/// checkout in place would then rewrite the index.
fn touch(dir: &Path, file: &str) {
    let f = std::fs::File::options()
        .write(true)
        .open(dir.join(file))
        .unwrap();
    f.set_modified(SystemTime::now() + Duration::from_secs(5))
        .unwrap();
}

fn setup() -> (tempfile::TempDir, LocalInstaller) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("wheels")).unwrap();
    let installer = LocalInstaller::new(&dir.path().join("wheels"), &dir.path().join("icache"));
    (dir, installer)
}

#[test]
fn a_version_from_a_git_tag_builds_and_the_repository_is_not_written() {
    let py = need_python_and_git!();
    for policy in [SandboxPolicy::Prefer, SandboxPolicy::Off] {
        let (tmp, installer) = setup();
        let repo = tmp.path().join("tagged");
        git_versioned("tagged-proj", "").write_project(&repo);
        std::fs::write(repo.join("tagged_proj.py"), "VALUE = 1\n").unwrap();
        commit_and_tag(&repo);
        touch(&repo, "tagged_proj.py");
        let before = snapshot(&repo);

        let builder = Builder::new(py.clone(), tmp.path().join("cache"), policy);
        let built = builder
            .build_sdist_from_tree(&repo, &installer)
            .unwrap_or_else(|e| panic!("{policy:?}: {e}: {:?}", e.output_tail()));
        assert_eq!(built.filename, "tagged_proj-1.2.3.tar.gz", "{policy:?}");
        assert!(built.findings.iter().all(|f| !f.title.contains("git")));
        assert_eq!(
            changes(&before, &snapshot(&repo)),
            Vec::<String>::new(),
            "{policy:?}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_project_in_a_subdirectory_of_a_repository_sees_the_tags_and_no_deletions() {
    let py = need_python_and_git!();
    for policy in [SandboxPolicy::Prefer, SandboxPolicy::Off] {
        let (tmp, installer) = setup();
        let repo = tmp.path().join("monorepo");
        let project = repo.join("python/pkg");
        git_versioned("sub-proj", "python/pkg/").write_project(&project);
        std::fs::write(project.join("sub_proj.py"), "VALUE = 1\n").unwrap();
        // The rest of the monorepo, which the copy leaves out.
        std::fs::create_dir_all(repo.join("rust/src")).unwrap();
        std::fs::write(repo.join("rust/src/lib.rs"), "").unwrap();
        std::fs::write(repo.join("README.md"), "monorepo\n").unwrap();
        // A tracked link out of the project, which the copy leaves out too.
        std::os::unix::fs::symlink("../../README.md", project.join("README.md")).unwrap();
        commit_and_tag(&repo);
        touch(&project, "sub_proj.py");
        let before = snapshot(&repo);

        let builder = Builder::new(py.clone(), tmp.path().join("cache"), policy);
        let built = builder
            .build_sdist_from_tree(&project, &installer)
            .unwrap_or_else(|e| panic!("{e}: {:?}", e.output_tail()));
        assert_eq!(built.filename, "sub_proj-1.2.3.tar.gz", "{policy:?}");
        assert_eq!(
            changes(&before, &snapshot(&repo)),
            Vec::<String>::new(),
            "{policy:?}"
        );

        // A change the user made in the project still counts.
        std::fs::write(project.join("sub_proj.py"), "VALUE = 2\n").unwrap();
        let before = snapshot(&repo);
        let built = builder
            .build_sdist_from_tree(&project, &installer)
            .unwrap_or_else(|e| panic!("{e}: {:?}", e.output_tail()));
        assert_eq!(built.filename, "sub_proj-1.2.3.dev0.tar.gz", "{policy:?}");
        assert_eq!(
            changes(&before, &snapshot(&repo)),
            Vec::<String>::new(),
            "{policy:?}"
        );
    }
}

#[test]
fn a_linked_worktree_builds_from_its_own_checkout() {
    let py = need_python_and_git!();
    let (tmp, installer) = setup();
    let repo = tmp.path().join("main");
    git_versioned("tree-proj", "").write_project(&repo);
    commit_and_tag(&repo);
    std::fs::write(repo.join("later.txt"), "after the tag\n").unwrap();
    git(&repo, &["add", "later.txt"]);
    git(&repo, &["commit", "-q", "-m", "second"]);
    // The worktree checks out the tag; the main checkout is past it.
    let worktree = tmp.path().join("at-tag");
    git(
        &repo,
        &["worktree", "add", "-q", "--detach", "../at-tag", "v1.2.3"],
    );
    let before = snapshot(&repo);
    let before_worktree = snapshot(&worktree);

    let builder = Builder::new(py, tmp.path().join("cache"), SandboxPolicy::Prefer);
    let built = builder
        .build_sdist_from_tree(&worktree, &installer)
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.output_tail()));
    assert_eq!(built.filename, "tree_proj-1.2.3.tar.gz");
    let built = builder
        .build_sdist_from_tree(&repo, &installer)
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.output_tail()));
    assert_eq!(built.filename, "tree_proj-1.2.3.post1.tar.gz");
    assert_eq!(changes(&before, &snapshot(&repo)), Vec::<String>::new());
    assert_eq!(
        changes(&before_worktree, &snapshot(&worktree)),
        Vec::<String>::new()
    );
}

#[test]
fn a_project_outside_git_does_not_see_a_repository_around_the_cache() {
    let py = need_python_and_git!();
    let (tmp, installer) = setup();
    // A home directory kept in git, holding pyward's cache.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    git(&home, &["init", "-q"]);
    let mut project = InTree::new("plain", "1.0");
    project.sdist_code = r#"import subprocess
run = subprocess.run(["git", "rev-parse", "--git-dir"], capture_output=True, text=True)
assert run.returncode != 0, "git found " + run.stdout"#
        .into();
    let dir = tmp.path().join("plain");
    project.write_project(&dir);

    let builder = Builder::new(py, home.join(".cache/pyward"), SandboxPolicy::Prefer);
    let built = builder
        .build_sdist_from_tree(&dir, &installer)
        .unwrap_or_else(|e| panic!("{e}: {:?}", e.output_tail()));
    assert_eq!(built.filename, "plain-1.0.tar.gz");
}
