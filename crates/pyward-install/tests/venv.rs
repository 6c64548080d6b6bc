//! Virtual environments and interpreter discovery against the machine's python3.

mod common;

use std::process::Command;

use common::{base_python, run};
use pyward_install::{
    check_externally_managed, create_venv, query_interpreter, venv_python, InstallError,
    VenvOptions,
};

#[test]
fn a_new_venv_runs_python_with_its_own_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("my env");
    create_venv(
        &root,
        base_python(),
        &VenvOptions {
            prompt: Some("demo".into()),
            ..VenvOptions::default()
        },
    )
    .unwrap();
    let python = venv_python(&root);
    let (ok, out, err) = run(Command::new(&python).args([
        "-c",
        "import sys; print(sys.prefix); print(sys.prefix != sys.base_prefix)",
    ]));
    assert!(ok, "{err}");
    let mut lines = out.lines();
    assert_eq!(
        std::fs::canonicalize(lines.next().unwrap()).unwrap(),
        std::fs::canonicalize(&root).unwrap()
    );
    assert_eq!(lines.next(), Some("True"));

    let info = query_interpreter(&python, None).unwrap();
    assert!(info.is_venv());
    assert_eq!(
        std::fs::canonicalize(&info.prefix).unwrap(),
        std::fs::canonicalize(&root).unwrap()
    );
    assert!(info.paths.purelib.starts_with(&info.prefix));
    assert!(
        info.paths.purelib.is_dir(),
        "{}",
        info.paths.purelib.display()
    );
    assert_eq!(info.base_executable, base_python().base_executable);
    let (major, minor, _) = base_python().version;
    for name in ["python3".to_string(), format!("python{major}.{minor}")] {
        assert!(root.join("bin").join(name).exists());
    }
    let cfg = std::fs::read_to_string(root.join("pyvenv.cfg")).unwrap();
    assert!(
        cfg.contains("include-system-site-packages = false"),
        "{cfg}"
    );
    assert!(cfg.contains("prompt = demo"), "{cfg}");
    assert!(cfg.contains(&format!(
        "home = {}",
        base_python().base_executable.parent().unwrap().display()
    )));
    if base_python().pointer_size == 8 && base_python().os == "linux" {
        assert_eq!(
            std::fs::read_link(root.join("lib64")).unwrap(),
            std::path::Path::new("lib")
        );
    }
    // A venv is never externally managed.
    assert_eq!(check_externally_managed(&info), None);
}

#[test]
fn bash_activation_sets_and_restores_the_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("it's a venv");
    create_venv(&root, base_python(), &VenvOptions::default()).unwrap();
    let script = format!(
        "PS1='$ '; source '{}'; echo \"$VIRTUAL_ENV\"; command -v python; echo \"$PS1\"; deactivate; echo \"[$VIRTUAL_ENV]\"; echo \"$PS1\"; declare -F deactivate >/dev/null || echo gone",
        root.join("bin/activate").display().to_string().replace('\'', "'\\''")
    );
    let (ok, out, err) = run(Command::new("bash").args(["-c", &script]));
    assert!(ok, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], root.to_str().unwrap());
    assert_eq!(lines[1], root.join("bin/python").to_str().unwrap());
    assert_eq!(lines[2], "(it's a venv) $ ");
    assert_eq!(lines[3], "[]");
    assert_eq!(lines[4], "$ ");
    assert_eq!(lines[5], "gone");
    for other in ["activate.fish", "activate.csh"] {
        let text = std::fs::read_to_string(root.join("bin").join(other)).unwrap();
        assert!(text.contains("VIRTUAL_ENV"), "{other}");
    }
}

#[test]
fn refuses_a_non_venv_directory_unless_cleared() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("project");
    std::fs::create_dir(&root).unwrap();
    std::fs::write(root.join("important.txt"), "keep me").unwrap();
    let err = create_venv(&root, base_python(), &VenvOptions::default()).unwrap_err();
    assert!(
        matches!(err, InstallError::InvalidVenvTarget { .. }),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("important.txt")).unwrap(),
        "keep me"
    );
    create_venv(
        &root,
        base_python(),
        &VenvOptions {
            clear: true,
            ..VenvOptions::default()
        },
    )
    .unwrap();
    assert!(!root.join("important.txt").exists());
    assert!(venv_python(&root).exists());
    // Re-creating over an existing venv is allowed and keeps it working.
    create_venv(&root, base_python(), &VenvOptions::default()).unwrap();
    let (ok, _, err) = run(Command::new(venv_python(&root)).args(["-c", "pass"]));
    assert!(ok, "{err}");
}

#[test]
fn interpreter_answers_are_cached() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("venv");
    create_venv(&root, base_python(), &VenvOptions::default()).unwrap();
    let cache = tmp.path().join("cache");
    let python = venv_python(&root);
    let first = query_interpreter(&python, Some(&cache)).unwrap();
    let files: Vec<_> = std::fs::read_dir(cache.join("interpreters"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1);
    // Poison the cached answer: a warm query must return it without running Python.
    let file = files[0].as_ref().unwrap().path();
    let mut entry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    entry["info"]["implementation"] = "from-cache".into();
    std::fs::write(&file, serde_json::to_vec(&entry).unwrap()).unwrap();
    let second = query_interpreter(&python, Some(&cache)).unwrap();
    assert_eq!(second.implementation, "from-cache");
    assert_eq!(second.prefix, first.prefix);
    // A changed venv (new pyvenv.cfg) invalidates the entry.
    std::thread::sleep(std::time::Duration::from_millis(20));
    create_venv(&root, base_python(), &VenvOptions::default()).unwrap();
    let third = query_interpreter(&python, Some(&cache)).unwrap();
    assert_eq!(third.implementation, first.implementation);
}

#[test]
fn finds_interpreters_by_path_and_version() {
    let python = pyward_install::find_python(None).unwrap();
    assert!(python.is_file());
    let by_path = pyward_install::find_python(Some(python.to_str().unwrap())).unwrap();
    assert_eq!(by_path, python);
    let (major, minor, _) = base_python().version;
    if let Ok(p) = pyward_install::find_python(Some(&format!("{major}.{minor}"))) {
        assert!(p.ends_with(format!("python{major}.{minor}")));
    }
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("v");
    create_venv(&root, base_python(), &VenvOptions::default()).unwrap();
    assert_eq!(
        pyward_install::find_python(Some(root.to_str().unwrap())).unwrap(),
        venv_python(&root)
    );
}

#[test]
fn externally_managed_system_python_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("EXTERNALLY-MANAGED");
    std::fs::write(
        &marker,
        "[externally-managed]\nError=Use the system package manager,\n or a venv.\n",
    )
    .unwrap();
    let mut info = base_python().clone();
    info.prefix = info.base_prefix.clone();
    info.externally_managed = Some(marker);
    let message = check_externally_managed(&info).unwrap();
    assert!(
        message.contains("Use the system package manager"),
        "{message}"
    );
    info.externally_managed = None;
    assert_eq!(check_externally_managed(&info), None);
}
