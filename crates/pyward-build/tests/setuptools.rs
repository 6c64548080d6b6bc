//! A setup.py-only sdist (no pyproject.toml) builds with the legacy
//! setuptools backend, whose requirements come from the testkit index
//! through pyward's resolver, index client and installer. The setuptools
//! (and, for setuptools < 70.1, wheel) wheels are the ones CPython ships
//! (`ensurepip/_bundled`, `test/`, `test/wheeldata`) on this machine; the
//! test is skipped, saying so, when there are none.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};

use common::index_installer::IndexInstaller;
use common::{install_and_run, python, write_sdist};
use pyward_build::{Builder, SandboxPolicy, Sdist};
use pyward_dist::InterpreterInfo;
use pyward_guard::{Check, Severity};
use pyward_testkit::index::{RunningIndex, TestIndex};
use pyward_testkit::wheel::SdistBuilder;
use sha2::Digest;

/// Wheels of `setuptools` and `wheel` that Python installations on this
/// machine ship, newest first per project.
fn shipped_wheels(py: &InterpreterInfo) -> Vec<PathBuf> {
    let mut prefixes = vec![py.base_prefix.clone()];
    // Other installations beside this one (e.g. pyenv's versions/).
    if let Some(parent) = py.base_prefix.parent() {
        if let Ok(entries) = std::fs::read_dir(parent) {
            prefixes.extend(entries.flatten().map(|e| e.path()));
        }
    }
    let mut found: Vec<PathBuf> = Vec::new();
    for prefix in prefixes {
        let Ok(libs) = std::fs::read_dir(prefix.join("lib")) else {
            continue;
        };
        for lib in libs.flatten() {
            let lib = lib.path();
            if !lib
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("python3"))
            {
                continue;
            }
            for sub in ["ensurepip/_bundled", "test", "test/wheeldata"] {
                let Ok(files) = std::fs::read_dir(lib.join(sub)) else {
                    continue;
                };
                for f in files.flatten() {
                    let name = f.file_name().to_string_lossy().to_string();
                    let wanted = (name.starts_with("setuptools-") || name.starts_with("wheel-"))
                        && name.ends_with("-none-any.whl");
                    if wanted && !found.iter().any(|p| p.file_name() == f.path().file_name()) {
                        found.push(f.path());
                    }
                }
            }
        }
    }
    found
}

fn project_of(path: &Path) -> String {
    let name = path.file_name().unwrap().to_string_lossy();
    name.split('-').next().unwrap().to_string()
}

fn setuptools_version(path: &Path) -> Option<(u64, u64)> {
    let name = path.file_name()?.to_string_lossy().to_string();
    let version = name
        .strip_prefix("setuptools-")?
        .split('-')
        .next()?
        .to_string();
    let mut parts = version.split('.').map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??))
}

/// A test index serving the setuptools (and wheel) wheels that ship with
/// the Pythons on this machine; `None` (and a message) when they cannot
/// build anything.
fn setuptools_index(py: &InterpreterInfo) -> Option<RunningIndex> {
    let wheels = shipped_wheels(py);
    let newest_setuptools = wheels.iter().filter_map(|w| setuptools_version(w)).max();
    let has_wheel = wheels.iter().any(|w| project_of(w) == "wheel");
    match newest_setuptools {
        None => {
            eprintln!("skipped: no setuptools wheel ships with the Pythons on this machine");
            return None;
        }
        Some(v) if v < (70, 1) && !has_wheel => {
            eprintln!("skipped: setuptools {}.{} needs the `wheel` package, and no wheel of it ships with the Pythons on this machine", v.0, v.1);
            return None;
        }
        Some(_) => {}
    }
    let mut index = TestIndex::new();
    for w in &wheels {
        let name = w.file_name().unwrap().to_string_lossy().to_string();
        index.add_file(&project_of(w), &name, std::fs::read(w).unwrap());
    }
    Some(index.serve())
}

#[test]
fn a_setup_py_only_sdist_builds_with_setuptools_from_the_index() {
    let Some(py) = python() else {
        eprintln!("skipped: no python3 on this machine");
        return;
    };
    let Some(index) = setuptools_index(&py) else {
        return;
    };

    let dir = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let setup_py = format!(
        r#"import socket
from setuptools import setup

try:
    socket.create_connection(("127.0.0.1", {port}), timeout=5)
except OSError:
    pass

setup(
    name="legacy-demo",
    version="1.0",
    py_modules=["legacy_demo"],
    install_requires=["six"],
)
"#
    );
    let sdist = write_sdist(
        dir.path(),
        &SdistBuilder::new("legacy-demo", "1.0")
            .file("setup.py", setup_py)
            .file("legacy_demo.py", "ANSWER = 'built by setuptools'\n")
            .build(),
    );
    let installer = IndexInstaller::new(&index.url(), &dir.path().join("icache")).unwrap();
    let builder = Builder::new(py.clone(), dir.path().join("cache"), SandboxPolicy::Prefer);
    let built = builder.build_wheel(&sdist, &installer).unwrap();

    let calls = installer.calls.lock().unwrap().clone();
    assert!(calls[0][0].starts_with("setuptools "), "{calls:?}");
    assert_eq!(
        built.filename.to_string(),
        "legacy_demo-1.0-py3-none-any.whl"
    );
    assert_eq!(built.metadata.requires_dist[0].name.as_ref(), "six");
    if builder.sandbox_status().blocks_network() {
        assert!(
            listener.accept().is_err(),
            "the connection reached the host"
        );
        let f = built
            .findings
            .iter()
            .find(|f| f.check == Check::Scan && f.severity == Severity::High)
            .expect("a network finding");
        assert_eq!(
            f.title,
            format!("setup.py of legacy-demo 1.0 tried to connect to 127.0.0.1:{port} during the build; the sandbox blocked it")
        );
    }
    let out = install_and_run(
        &py,
        dir.path(),
        &built.wheel_path,
        &built.filename,
        "import legacy_demo; print(legacy_demo.ANSWER)",
    );
    assert_eq!(out, "built by setuptools");
}

#[test]
fn a_setup_py_only_project_directory_builds_an_sdist_and_a_wheel() {
    let Some(py) = python() else {
        eprintln!("skipped: no python3 on this machine");
        return;
    };
    let Some(index) = setuptools_index(&py) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("legacytree");
    std::fs::create_dir(&project).unwrap();
    std::fs::write(
        project.join("setup.py"),
        "from setuptools import setup\n\nsetup(name='legacytree', version='0.3', py_modules=['legacytree'])\n",
    )
    .unwrap();
    std::fs::write(
        project.join("legacytree.py"),
        "ANSWER = 'from a directory'\n",
    )
    .unwrap();
    let installer = IndexInstaller::new(&index.url(), &dir.path().join("icache")).unwrap();
    let builder = Builder::new(py.clone(), dir.path().join("cache"), SandboxPolicy::Prefer);

    let built = builder.build_sdist_from_tree(&project, &installer).unwrap();
    assert_eq!(built.filename, "legacytree-0.3.tar.gz");
    let calls = installer.calls.lock().unwrap().clone();
    assert!(calls[0][0].starts_with("setuptools "), "{calls:?}");
    // setuptools wrote its egg-info into the copy, not into the project.
    let mut left: Vec<String> = std::fs::read_dir(&project)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    left.sort();
    assert_eq!(left, ["legacytree.py", "setup.py"]);

    let sha = hex::encode(sha2::Sha256::digest(std::fs::read(&built.path).unwrap()));
    let sdist = Sdist::new(&built.path, &built.filename, None, &sha).unwrap();
    let wheel = builder.build_wheel(&sdist, &installer).unwrap();
    assert_eq!(
        wheel.filename.to_string(),
        "legacytree-0.3-py3-none-any.whl"
    );
    let out = install_and_run(
        &py,
        dir.path(),
        &wheel.wheel_path,
        &wheel.filename,
        "import legacytree; print(legacytree.ANSWER)",
    );
    assert_eq!(out, "from a directory");
}
