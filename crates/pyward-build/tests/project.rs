//! Building an sdist from a project directory (`pyward install ./project`):
//! the directory is copied (never written to, without version-control data,
//! environments and links that leave it), the backend's `build_sdist` runs
//! in the sandbox, and the sdist it makes builds a wheel like a downloaded
//! one.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{python, InTree, LocalInstaller};
use pyward_build::{BuildError, Builder, SandboxPolicy, SandboxStatus, Sdist, SourceError};
use pyward_guard::{Check, Evidence, Severity};
use pyward_testkit::wheel::WheelBuilder;
use sha2::{Digest, Sha256};

macro_rules! need_python {
    () => {
        match python() {
            Some(p) => p,
            None => {
                eprintln!("skipped: no python3 on this machine");
                return;
            }
        }
    };
}

/// Every entry under `dir`: its kind, permissions and contents (or link
/// target), by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            let what = if meta.is_symlink() {
                format!("link -> {}", std::fs::read_link(&path).unwrap().display())
            } else if meta.is_dir() {
                pending.push(path);
                format!("dir {:?}", meta.permissions())
            } else {
                format!(
                    "file {:?} {}",
                    meta.permissions(),
                    hex::encode(Sha256::digest(std::fs::read(&path).unwrap()))
                )
            };
            out.insert(rel, what);
        }
    }
    out
}

/// The entries of an sdist, relative to its top-level directory, with `/`
/// after directories and ` -> target` after links.
fn sdist_listing(archive: &Path, scratch: &Path) -> Vec<String> {
    let dest = scratch.join("extracted");
    let entries =
        pyward_archive::extract_tar(archive, &dest, &pyward_archive::Limits::default()).unwrap();
    let mut out: Vec<String> = entries
        .iter()
        .map(|e| match &e.kind {
            pyward_archive::EntryKind::Symlink { target } => format!("{} -> {target}", e.path),
            _ => e.path.clone(),
        })
        .collect();
    out.sort();
    out
}

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

struct Setup {
    dir: tempfile::TempDir,
    installer: LocalInstaller,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("wheels")).unwrap();
    let installer = LocalInstaller::new(&dir.path().join("wheels"), &dir.path().join("icache"));
    Setup { dir, installer }
}

impl Setup {
    fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    /// An empty project directory named `name`.
    fn project_dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

#[test]
fn a_project_directory_builds_an_sdist_then_a_wheel_and_is_left_untouched() {
    let py = need_python!();
    let s = setup();
    WheelBuilder::new("helper-lib", "1.0")
        .file("helper_lib.py", "")
        .build()
        .write_to(&s.dir.path().join("wheels"));
    let mut project = InTree::new("demo-proj", "2.1");
    project.get_requires_sdist = vec!["helper-lib".into()];
    // The build writes into its working directory, as setuptools does.
    project.sdist_code =
        "import helper_lib\nopen('written-by-the-build.txt', 'w').write('x')".into();
    let dir = s.project_dir("demo-checkout");
    project.write_project(&dir);
    std::fs::write(dir.join("demo_proj.py"), "VALUE = 1\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(dir.join("run.sh"), "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(dir.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
    }
    for sub in [
        ".git/objects/ab",
        ".venv/bin",
        "node_modules/left-pad",
        ".tox/py311",
    ] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    std::fs::write(dir.join(".git/objects/ab/cdef"), "object").unwrap();
    std::fs::write(dir.join(".venv/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    std::fs::write(dir.join(".venv/bin/python"), "not really python").unwrap();
    std::fs::write(dir.join("node_modules/left-pad/index.js"), "").unwrap();
    let before = snapshot(&dir);

    let builder = Builder::new(py.clone(), s.cache(), SandboxPolicy::Prefer);
    let built = builder.build_sdist_from_tree(&dir, &s.installer).unwrap();

    assert_eq!(built.filename, "demo_proj-2.1.tar.gz");
    assert_eq!(built.path.file_name().unwrap(), "demo_proj-2.1.tar.gz");
    assert!(built.path.starts_with(s.cache().join("tree-sdists")));
    assert!(built.path.is_file());
    assert_eq!(built.sandboxed, builder.sandbox_status());
    if built.sandboxed == SandboxStatus::Full {
        assert!(built.findings.is_empty(), "{:?}", built.findings);
    }
    assert_eq!(s.installer.calls(), vec![vec!["helper-lib".to_string()]]);
    let listing = sdist_listing(&built.path, s.dir.path());
    assert_eq!(
        listing,
        [
            "demo_proj-2.1/PKG-INFO",
            "demo_proj-2.1/_build/backend.py",
            "demo_proj-2.1/demo_proj.py",
            "demo_proj-2.1/pyproject.toml",
            "demo_proj-2.1/run.sh",
            "demo_proj-2.1/written-by-the-build.txt",
        ]
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(s.dir.path().join("extracted/demo_proj-2.1/run.sh"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111, "the executable bits were kept");
    }
    assert_eq!(snapshot(&dir), before, "the project directory changed");
    let builds = s.cache().join("builds");
    assert_eq!(
        std::fs::read_dir(&builds).unwrap().count(),
        0,
        "the build directory was removed"
    );

    // The caller hashes the sdist and builds a wheel from it.
    let sdist = Sdist::new(&built.path, &built.filename, None, &sha256_of(&built.path)).unwrap();
    let wheel = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert_eq!(wheel.metadata.name.as_ref(), "demo-proj");
    assert_eq!(wheel.metadata.version.to_string(), "2.1");
    assert_eq!(wheel.filename.to_string(), "demo_proj-2.1-py3-none-any.whl");
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_directory_that_is_not_a_project_is_refused_before_anything_runs() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);

    let dir = s.project_dir("notes");
    std::fs::write(dir.join("README.md"), "just notes\n").unwrap();
    std::fs::create_dir(dir.join("setup.py")).unwrap();
    let err = builder
        .build_sdist_from_tree(&dir, &s.installer)
        .unwrap_err();
    assert!(
        matches!(&err, BuildError::Source { source: SourceError::NotAProject, package } if package == &dir.display().to_string()),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{} cannot be built: it has no pyproject.toml or setup.py, so it is not a Python project",
            dir.display()
        )
    );
    assert!(err.advice()[0].contains("pyproject.toml or setup.py"));

    let missing = s.dir.path().join("no-such-dir");
    let err = builder
        .build_sdist_from_tree(&missing, &s.installer)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            BuildError::Source {
                source: SourceError::NotFound,
                ..
            }
        ),
        "{err}"
    );
    let file = dir.join("README.md");
    let err = builder
        .build_sdist_from_tree(&file, &s.installer)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            BuildError::Source {
                source: SourceError::NotADirectory,
                ..
            }
        ),
        "{err}"
    );
    assert!(s.installer.calls().is_empty());
    assert!(!s.cache().join("tree-sdists").exists());
}

#[cfg(unix)]
#[test]
fn links_out_of_the_project_are_not_followed() {
    use std::os::unix::fs::symlink;
    let py = need_python!();
    let s = setup();
    let outside = s.dir.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "private key").unwrap();

    let mut project = InTree::new("linked", "1.0");
    // The build looks for what the links would have given it.
    project.sdist_code = "import os\nfor p in ('secret-abs.txt', 'secret-rel.txt', 'outside-dir'):\n    assert not os.path.lexists(p), p\nassert open('alias.py').read() == 'VALUE = 1\\n'".into();
    let dir = s.project_dir("linked");
    project.write_project(&dir);
    std::fs::write(dir.join("linked.py"), "VALUE = 1\n").unwrap();
    symlink(outside.join("secret.txt"), dir.join("secret-abs.txt")).unwrap();
    symlink("../outside/secret.txt", dir.join("secret-rel.txt")).unwrap();
    symlink("../outside", dir.join("outside-dir")).unwrap();
    symlink("linked.py", dir.join("alias.py")).unwrap();
    let before = snapshot(&dir);

    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let built = builder.build_sdist_from_tree(&dir, &s.installer).unwrap();
    let listing = sdist_listing(&built.path, s.dir.path());
    assert_eq!(
        listing,
        [
            "linked-1.0/PKG-INFO",
            "linked-1.0/_build/backend.py",
            "linked-1.0/alias.py -> linked.py",
            "linked-1.0/linked.py",
            "linked-1.0/pyproject.toml",
        ]
    );
    let notice = built
        .findings
        .iter()
        .find(|f| f.check == Check::Notice)
        .expect("a notice of the links left out");
    assert_eq!(notice.severity, Severity::Info);
    assert_eq!(
        notice.title,
        "3 symbolic links of linked 1.0 were left out of the build: a project's links must be relative and stay inside it"
    );
    let named: Vec<&str> = notice
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(named, ["outside-dir", "secret-abs.txt", "secret-rel.txt"]);
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn a_failing_build_sdist_names_the_directory_and_keeps_its_log() {
    let py = need_python!();
    let s = setup();
    let mut project = InTree::new("fails", "1.0");
    project.sdist_code = "raise RuntimeError('no sdist today')".into();
    let dir = s.project_dir("fails-checkout");
    project.write_project(&dir);
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let err = builder
        .build_sdist_from_tree(&dir, &s.installer)
        .unwrap_err();
    let BuildError::HookFailed {
        hook,
        output_tail,
        log,
        package,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(hook, "build_sdist");
    assert_eq!(package, &format!("the project in {}", dir.display()));
    assert!(output_tail.contains("no sdist today"), "{output_tail}");
    let log = log.as_ref().expect("a kept log");
    assert_eq!(log.file_name().unwrap(), "fails-checkout-build_sdist.log");
    assert!(log.is_file());
}

#[test]
fn build_sdist_answers_that_are_not_sdists_are_refused() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    for (i, (code, reason)) in [
        (
            "open(os.path.join(sdist_directory, 'x-1.0.whl'), 'w').close()\nreturn 'x-1.0.whl'",
            "`*.tar.gz` or `*.zip`",
        ),
        ("return 'ghost-1.0.tar.gz'", "the build did not create it"),
        (
            "os.mkdir(os.path.join(sdist_directory, 'd-1.0.tar.gz'))\nreturn 'd-1.0.tar.gz'",
            "not a regular file",
        ),
        (
            "open(os.path.join(sdist_directory, 'noversion.tar.gz'), 'w').close()\nreturn 'noversion.tar.gz'",
            "no `-` between name and version",
        ),
        ("return 42", "must return the sdist's file name"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut project = InTree::new("odd-answers", "1.0");
        project.sdist_code = code.to_string();
        let dir = s.project_dir(&format!("odd-{i}"));
        project.write_project(&dir);
        let err = builder
            .build_sdist_from_tree(&dir, &s.installer)
            .unwrap_err();
        assert!(
            matches!(&err, BuildError::WrongOutput { reason: r, .. } if r.contains(reason)),
            "{code}: {err}"
        );
    }
    assert!(!s.cache().join("tree-sdists").exists());
}

#[test]
fn a_backend_without_build_sdist_is_named() {
    let py = need_python!();
    let s = setup();
    let dir = s.project_dir("wheel-only");
    std::fs::create_dir(dir.join("_build")).unwrap();
    std::fs::write(
        dir.join("pyproject.toml"),
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("_build/backend.py"),
        "def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):\n    raise NotImplementedError\n",
    )
    .unwrap();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let err = builder
        .build_sdist_from_tree(&dir, &s.installer)
        .unwrap_err();
    assert!(
        matches!(&err, BuildError::HookRun { hook, message, .. } if hook == "build_sdist" && message.contains("has no build_sdist hook")),
        "{err}"
    );
}
