//! Shared test helpers: a fresh venv from the machine's python3 and a
//! byte-exact snapshot of a directory tree.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use pyward_dist::InterpreterInfo;
use pyward_install::{create_venv, query_interpreter, venv_python, Environment, VenvOptions};
use sha2::{Digest, Sha256};

/// The machine's python3, queried once per test binary.
pub fn base_python() -> &'static InterpreterInfo {
    static INFO: OnceLock<InterpreterInfo> = OnceLock::new();
    INFO.get_or_init(|| {
        let python = pyward_install::find_python(None).expect("python3 on PATH");
        query_interpreter(&python, None).expect("query python3")
    })
}

/// A new venv in a temp dir, with its environment.
pub fn new_env() -> (tempfile::TempDir, Environment) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("venv");
    create_venv(&root, base_python(), &VenvOptions::default()).unwrap();
    let info = query_interpreter(&venv_python(&root), None).unwrap();
    let env = Environment::from_interpreter(info);
    // The lock file stays once created; create it before any snapshot.
    drop(pyward_install::EnvLock::acquire(&env).unwrap());
    (tmp, env)
}

/// Every path under `root` (not following links) with its content hash,
/// link target or `dir`, plus its permission bits.
pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for entry in walkdir::WalkDir::new(root).follow_links(false) {
        let entry = entry.unwrap();
        let meta = entry.path().symlink_metadata().unwrap();
        let rel = entry.path().strip_prefix(root).unwrap().to_path_buf();
        let mode = {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode()
        };
        let what = if meta.file_type().is_symlink() {
            format!(
                "link {}",
                std::fs::read_link(entry.path()).unwrap().display()
            )
        } else if meta.is_dir() {
            "dir".to_string()
        } else {
            hex::encode(Sha256::digest(std::fs::read(entry.path()).unwrap()))
        };
        out.insert(rel, format!("{what} {mode:o}"));
    }
    out
}

/// Run a command, return (success, stdout, stderr).
pub fn run(cmd: &mut std::process::Command) -> (bool, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
