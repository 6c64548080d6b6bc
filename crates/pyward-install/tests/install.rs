//! Installing, upgrading and uninstalling wheels in a real venv.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use common::{new_env, run, snapshot};
use pyward_dist::WheelFilename;
use pyward_install::record::parse_record;
use pyward_install::{
    install, uninstall, unpack_wheel, ArchiveOrigin, EnvLock, Environment, InstallError,
    InstallItem, InstallOptions, UnpackedWheel,
};
use pyward_testkit::wheel::{record_hash, WheelBuilder};
use sha2::{Digest, Sha256};

fn unpack(builder: &WheelBuilder, dir: &Path) -> Result<UnpackedWheel, InstallError> {
    let wheel = builder.build();
    let archive = wheel.write_to(dir);
    let filename = WheelFilename::from_str(&wheel.filename).unwrap();
    unpack_wheel(&archive, &filename, &dir.join("cache"), None)
}

fn item(unpacked: UnpackedWheel) -> InstallItem {
    InstallItem {
        unpacked,
        requested: true,
        direct_url: None,
        origin: None,
    }
}

fn demo(version: &str) -> WheelBuilder {
    WheelBuilder::new("demo-pkg", version)
        .file("demo_pkg/__init__.py", format!("VERSION = '{version}'\n"))
        .file(
            "demo_pkg/cli.py",
            "import sys\ndef main():\n    print('hello from demo', sys.argv[1:])\n    return 3\n",
        )
        .entry_point("console_scripts", "demo = demo_pkg.cli:main")
        .data_file(
            "scripts/demo-data",
            "#!python\nimport sys\nprint(sys.prefix)\n",
        )
        .data_file("data/share/demo/readme.txt", "data file\n")
        .data_file("headers/demo.h", "int x;\n")
}

fn installed_record(env: &Environment, dist_info: &str) -> Vec<(PathBuf, String, Option<u64>)> {
    let dir = env.site_packages().join(dist_info);
    let rows = parse_record(&std::fs::read(dir.join("RECORD")).unwrap(), "t").unwrap();
    rows.into_iter()
        .map(|r| (env.site_packages().join(&r.path), r.hash, r.size))
        .collect()
}

#[test]
fn installs_runs_and_uninstalls_exactly_its_files() {
    let (tmp, env) = new_env();
    let before = snapshot(&env.root);
    let mut it = item(unpack(&demo("1.0"), tmp.path()).unwrap());
    it.origin = Some(ArchiveOrigin {
        filename: "demo_pkg-1.0-py3-none-any.whl".into(),
        url: Some("https://example.invalid/demo_pkg-1.0-py3-none-any.whl".into()),
        sha256: "ab".repeat(32),
        size: Some(123),
        index: Some("https://example.invalid/simple".into()),
    });
    let report = install(&env, &[it], &[], &InstallOptions::default()).unwrap();
    assert_eq!(report.installed.len(), 1);
    assert!(report.removed.is_empty());

    // The console script runs with the venv's python.
    let (ok, out, err) = run(Command::new(env.scripts_dir().join("demo")).arg("x"));
    assert!(!ok, "the entry point's return value is the exit code");
    assert_eq!(out.trim(), "hello from demo ['x']", "{err}");
    // The .data script got a real shebang and is executable.
    let script = std::fs::read_to_string(env.scripts_dir().join("demo-data")).unwrap();
    assert_eq!(
        script.lines().next().unwrap(),
        format!("#!{}", env.interpreter.executable.display())
    );
    let (ok, out, err) = run(&mut Command::new(env.scripts_dir().join("demo-data")));
    assert!(ok, "{err}");
    assert_eq!(Path::new(out.trim()), env.interpreter.prefix);
    // .data/data and .data/headers.
    assert_eq!(
        std::fs::read_to_string(env.root.join("share/demo/readme.txt")).unwrap(),
        "data file\n"
    );
    let (major, minor, _) = env.interpreter.version;
    assert!(env
        .root
        .join(format!(
            "include/site/python{major}.{minor}/demo-pkg/demo.h"
        ))
        .is_file());
    // The package imports.
    let (ok, out, err) = run(Command::new(&env.interpreter.executable)
        .args(["-c", "import demo_pkg; print(demo_pkg.VERSION)"]));
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "1.0");

    // Metadata written by the installer.
    let dist_info = env.site_packages().join("demo_pkg-1.0.dist-info");
    assert_eq!(
        std::fs::read_to_string(dist_info.join("INSTALLER")).unwrap(),
        "pyward\n"
    );
    assert!(dist_info.join("REQUESTED").exists());
    assert!(!dist_info.join("direct_url.json").exists());
    let listed = env.installed().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].name.as_ref(), "demo-pkg");
    assert_eq!(listed[0].installer.as_deref(), Some("pyward"));
    assert!(listed[0].requested);
    assert_eq!(listed[0].origin().unwrap().sha256, "ab".repeat(32));

    // RECORD lists every new file with a correct hash and size, itself with `,,`.
    let record = installed_record(&env, "demo_pkg-1.0.dist-info");
    let after = snapshot(&env.root);
    let new_files: Vec<PathBuf> = after
        .iter()
        .filter(|(p, v)| !before.contains_key(*p) && !v.starts_with("dir"))
        .map(|(p, _)| env.root.join(p))
        .collect();
    let mut recorded: Vec<PathBuf> = record
        .iter()
        .map(|(p, _, _)| pyward_install_normalize(p))
        .collect();
    recorded.sort();
    let mut new_sorted = new_files.clone();
    new_sorted.sort();
    assert_eq!(recorded, new_sorted);
    for (path, hash, size) in &record {
        if path.ends_with("RECORD") {
            assert!(hash.is_empty() && size.is_none());
            continue;
        }
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(hash, &record_hash(&bytes), "{}", path.display());
        assert_eq!(*size, Some(bytes.len() as u64));
    }
    assert!(record
        .iter()
        .any(|(p, _, _)| p.to_string_lossy().contains("../../../bin/demo")));

    // Uninstall removes exactly those files (and empty directories).
    let dist = env.installed().unwrap().remove(0);
    let report = uninstall(&env, &[dist]).unwrap();
    assert_eq!(report.removed.len(), 1);
    assert_eq!(snapshot(&env.root), before);
}

/// `a/b/../c` → `a/c` without touching the filesystem.
fn pyward_install_normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[test]
fn long_interpreter_paths_get_a_trampoline_that_works() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join(format!("with space {}", "x".repeat(120)));
    pyward_install::create_venv(&root, common::base_python(), &Default::default()).unwrap();
    let info =
        pyward_install::query_interpreter(&pyward_install::venv_python(&root), None).unwrap();
    let env = Environment::from_interpreter(info);
    let unpacked = unpack(&demo("1.0"), tmp.path()).unwrap();
    install(&env, &[item(unpacked)], &[], &InstallOptions::default()).unwrap();
    let script = std::fs::read_to_string(env.scripts_dir().join("demo")).unwrap();
    assert!(script.starts_with("#!/bin/sh\n'''exec' "), "{script}");
    let (_, out, err) = run(Command::new(env.scripts_dir().join("demo")).arg("y"));
    assert_eq!(out.trim(), "hello from demo ['y']", "{err}");
}

#[test]
fn direct_url_is_written_only_when_given() {
    let (tmp, env) = new_env();
    let mut it = item(unpack(&demo("1.0"), tmp.path()).unwrap());
    it.requested = false;
    it.direct_url = Some(serde_json::json!({"url": "file:///src/demo", "dir_info": {}}));
    install(&env, &[it], &[], &InstallOptions::default()).unwrap();
    let dist = env.installed().unwrap().remove(0);
    assert!(!dist.requested);
    assert_eq!(dist.direct_url().unwrap()["url"], "file:///src/demo");
}

#[test]
fn upgrade_replaces_the_old_version_in_one_transaction() {
    let (tmp, env) = new_env();
    let v1 = demo("1.0").file("demo_pkg/old_only.py", "x = 1\n");
    install(
        &env,
        &[item(unpack(&v1, tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap();
    let v2 = demo("2.0").file("demo_pkg/new_only.py", "y = 2\n");
    let report = install(
        &env,
        &[item(unpack(&v2, tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap();
    assert_eq!(report.removed.len(), 1, "the old version is removed");
    assert_eq!(report.removed[0].version.to_string(), "1.0");
    let sp = env.site_packages();
    assert!(!sp.join("demo_pkg/old_only.py").exists());
    assert!(sp.join("demo_pkg/new_only.py").exists());
    assert!(!sp.join("demo_pkg-1.0.dist-info").exists());
    assert_eq!(
        std::fs::read_to_string(sp.join("demo_pkg/__init__.py")).unwrap(),
        "VERSION = '2.0'\n"
    );
    let installed = env.installed().unwrap();
    assert_eq!(installed.len(), 1);
    assert_eq!(installed[0].version.to_string(), "2.0");
}

#[test]
fn file_conflicts_with_another_distribution_are_refused() {
    let (tmp, env) = new_env();
    let a = WheelBuilder::new("alpha", "1.0").file("shared/util.py", "a = 1\n");
    install(
        &env,
        &[item(unpack(&a, tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap();
    let before = snapshot(&env.root);
    let b = WheelBuilder::new("beta", "1.0").file("shared/util.py", "b = 2\n");
    let err = install(
        &env,
        &[item(unpack(&b, tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, InstallError::FileConflict { .. }),
        "{message}"
    );
    assert!(
        message.contains("beta 1.0") && message.contains("alpha 1.0"),
        "{message}"
    );
    assert_eq!(snapshot(&env.root), before);

    // Two new distributions writing the same file.
    let c = WheelBuilder::new("gamma", "1.0").file("both.py", "");
    let d = WheelBuilder::new("delta", "1.0").file("both.py", "");
    let err = install(
        &env,
        &[
            item(unpack(&c, tmp.path()).unwrap()),
            item(unpack(&d, tmp.path()).unwrap()),
        ],
        &[],
        &InstallOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::FileConflict { .. }), "{err}");
    assert_eq!(snapshot(&env.root), before);
}

#[test]
fn a_cancelled_install_changes_nothing() {
    let (tmp, env) = new_env();
    install(
        &env,
        &[item(unpack(&demo("1.0"), tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap();
    let before = snapshot(&env.root);
    let cancel = Arc::new(AtomicBool::new(true));
    let err = install(
        &env,
        &[item(unpack(&demo("2.0"), tmp.path()).unwrap())],
        &[],
        &InstallOptions {
            compile_bytecode: false,
            cancel: Some(cancel),
        },
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::Cancelled), "{err}");
    assert_eq!(snapshot(&env.root), before);
}

#[test]
fn scripts_may_not_replace_the_interpreter() {
    let (tmp, env) = new_env();
    let before = snapshot(&env.root);
    let evil = WheelBuilder::new("evil", "1.0").entry_point("console_scripts", "python3 = evil:x");
    let err = install(
        &env,
        &[item(unpack(&evil, tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::ForbiddenPath { .. }), "{err}");
    let evil = WheelBuilder::new("evil2", "1.0").data_file("scripts/python", "#!/bin/sh\n");
    let err = install(
        &env,
        &[item(unpack(&evil, tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::ForbiddenPath { .. }), "{err}");
    assert_eq!(snapshot(&env.root), before);
}

#[test]
fn bytecode_is_compiled_recorded_and_uninstalled() {
    let (tmp, env) = new_env();
    let before = snapshot(&env.root);
    let w = demo("1.0").file("demo_pkg/broken.py", "def (:\n");
    install(
        &env,
        &[item(unpack(&w, tmp.path()).unwrap())],
        &[],
        &InstallOptions {
            compile_bytecode: true,
            cancel: None,
        },
    )
    .unwrap();
    let tag = format!(
        "cpython-{}{}",
        env.interpreter.version.0, env.interpreter.version.1
    );
    let pyc = env
        .site_packages()
        .join(format!("demo_pkg/__pycache__/cli.{tag}.pyc"));
    assert!(pyc.is_file(), "{}", pyc.display());
    assert!(!env
        .site_packages()
        .join(format!("demo_pkg/__pycache__/broken.{tag}.pyc"))
        .exists());
    let record = installed_record(&env, "demo_pkg-1.0.dist-info");
    assert!(record
        .iter()
        .any(|(p, h, _)| p == &pyc && h == &record_hash(&std::fs::read(&pyc).unwrap())));
    // The bytecode names the installed file, not the staging area.
    let (ok, out, err) = run(Command::new(&env.interpreter.executable).args([
        "-c",
        "import demo_pkg.cli as m; print(m.main.__code__.co_filename)",
    ]));
    assert!(ok, "{err}");
    assert_eq!(
        Path::new(out.trim()),
        env.site_packages().join("demo_pkg/cli.py")
    );
    let dist = env.installed().unwrap().remove(0);
    uninstall(&env, &[dist]).unwrap();
    assert_eq!(snapshot(&env.root), before);
}

#[test]
fn attack_wheels_are_refused_before_anything_is_installed() {
    let (tmp, env) = new_env();
    let before = snapshot(&env.root);
    let base = || WheelBuilder::new("evil", "1.0").file("evil/__init__.py", "");
    let cases: Vec<(&str, &str, WheelBuilder)> = vec![
        ("path traversal", "`..` component", base().raw_entry("../../../../tmp/evil.py", "x")),
        ("absolute path", "is absolute", base().raw_entry("/tmp/evil.py", "x")),
        ("symlink", "symbolic link", base().symlink_entry("evil/link", "/etc/passwd")),
        ("duplicate", "more than once", base().raw_entry("evil/__init__.py", "other")),
        ("unrecorded file", "not listed in RECORD", base().unrecorded_entry("evil/hidden.py", "x")),
        ("no RECORD", "has no evil-1.0.dist-info/RECORD", base().omit_record()),
        (
            "RECORD hash mismatch",
            "does not match its RECORD hash",
            base().record_override(&format!(
                "evil/__init__.py,{},0\nevil-1.0.dist-info/METADATA,,\nevil-1.0.dist-info/WHEEL,,\nevil-1.0.dist-info/RECORD,,\n",
                record_hash(b"something else")
            )),
        ),
        (
            "md5 in RECORD",
            "too weak",
            base().record_override(
                "evil/__init__.py,md5=1B2M2Y8AsgTpgAmY7PhCfg,0\nevil-1.0.dist-info/RECORD,,\n",
            ),
        ),
        ("Wheel-Version 2", "Wheel-Version is 2.0", base().wheel_version("2.0")),
        (
            "second dist-info",
            "2 .dist-info directories",
            base().raw_entry("other-1.0.dist-info/METADATA", "Name: other\n"),
        ),
        (
            "unknown .data category",
            "unknown .data category `elsewhere`",
            base().data_file("elsewhere/x", "x"),
        ),
    ];
    for (what, expected, builder) in cases {
        let dir = tempfile::tempdir_in(tmp.path()).unwrap();
        let result = unpack(&builder, dir.path())
            .and_then(|u| install(&env, &[item(u)], &[], &InstallOptions::default()).map(|_| ()));
        let message = result
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| format!("{what} was accepted"));
        assert!(message.contains(expected), "{what}: {message}");
        // Nothing half-unpacked stays in the cache either.
        let cached: Vec<_> = std::fs::read_dir(dir.path().join("cache"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(
            cached.is_empty() || what == "unknown .data category",
            "{what}: {cached:?}"
        );
    }
    assert_eq!(snapshot(&env.root), before);

    // A dist-info that does not match the filename.
    let wheel = WheelBuilder::new("evil", "1.0").build();
    let archive = tmp.path().join("innocent-1.0-py3-none-any.whl");
    std::fs::write(&archive, &wheel.bytes).unwrap();
    let filename = WheelFilename::from_str("innocent-1.0-py3-none-any.whl").unwrap();
    assert!(unpack_wheel(&archive, &filename, &tmp.path().join("c2"), None).is_err());
}

#[test]
fn a_warm_cache_is_reused_without_extracting() {
    let tmp = tempfile::tempdir().unwrap();
    let wheel = demo("1.0").build();
    let archive = wheel.write_to(tmp.path());
    let filename = WheelFilename::from_str(&wheel.filename).unwrap();
    let cache = tmp.path().join("cache");
    let first = unpack_wheel(&archive, &filename, &cache, None).unwrap();
    assert_eq!(
        first.dir,
        cache.join(hex::encode(Sha256::digest(&wheel.bytes)))
    );
    // Remove the archive: a warm unpack with a known key must not need it.
    std::fs::remove_file(&archive).unwrap();
    let key = first.dir.file_name().unwrap().to_str().unwrap().to_string();
    let second = unpack_wheel(&archive, &filename, &cache, Some(&key)).unwrap();
    assert_eq!(first, second);
    assert_eq!(second.data_dir.as_deref(), Some("demo_pkg-1.0.data"));
}

#[test]
fn the_environment_lock_excludes_a_second_holder() {
    let (_tmp, env) = new_env();
    let held = EnvLock::acquire(&env).unwrap();
    let err = EnvLock::acquire_timeout(&env, std::time::Duration::from_millis(100)).unwrap_err();
    assert!(matches!(err, InstallError::Locked { .. }), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("process {}", std::process::id())),
        "{err}"
    );
    drop(held);
    EnvLock::acquire_timeout(&env, std::time::Duration::from_millis(100)).unwrap();
}

#[test]
fn lists_distributions_installed_by_other_tools() {
    let (_tmp, env) = new_env();
    let sp = env.site_packages();
    let di = sp.join("Other_Tool-2.1.dist-info");
    std::fs::create_dir_all(&di).unwrap();
    std::fs::write(di.join("METADATA"), "Name: Other-Tool\nVersion: 2.1\n").unwrap();
    std::fs::write(di.join("INSTALLER"), "pip\n").unwrap();
    std::fs::write(
        sp.join("legacy-0.5-py3.11.egg-info"),
        "Name: legacy\nVersion: 0.5\n",
    )
    .unwrap();
    let listed = env.installed().unwrap();
    let names: Vec<String> = listed
        .iter()
        .map(|d| format!("{} {} {:?}", d.name, d.version, d.installer))
        .collect();
    assert_eq!(names, ["legacy 0.5 None", "other-tool 2.1 Some(\"pip\")"]);
    // Without a RECORD, pyward refuses to guess what to remove.
    let err = uninstall(&env, &listed[1..]).unwrap_err();
    assert!(matches!(err, InstallError::NoRecord { .. }), "{err}");
}

#[test]
fn uninstall_refuses_record_paths_outside_the_environment() {
    let (tmp, env) = new_env();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let di = env.site_packages().join("bad-1.0.dist-info");
    std::fs::create_dir_all(&di).unwrap();
    std::fs::write(
        di.join("RECORD"),
        "../../../../victim.txt,,\nbad-1.0.dist-info/RECORD,,\n",
    )
    .unwrap();
    let dist = env.installed().unwrap().remove(0);
    let err = uninstall(&env, &[dist]).unwrap_err();
    assert!(matches!(err, InstallError::RecordEscapes { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(di.exists());
}

#[test]
fn leftover_staging_from_a_killed_process_is_cleaned() {
    let (tmp, env) = new_env();
    let leftover = env.site_packages().join(".pyward-tx-dead");
    std::fs::create_dir_all(leftover.join("t0/junk")).unwrap();
    install(
        &env,
        &[item(unpack(&demo("1.0"), tmp.path()).unwrap())],
        &[],
        &InstallOptions::default(),
    )
    .unwrap();
    assert!(!leftover.exists());
}
