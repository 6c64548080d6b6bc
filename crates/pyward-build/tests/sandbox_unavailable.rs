//! What happens where the sandbox cannot be set up. The test runs itself
//! again inside a user namespace whose limit on nested user namespaces is 0
//! (as on systems that disable them), where the build's own namespaces
//! cannot be created: `require` must refuse before anything runs, `prefer`
//! must build and say it was not sandboxed.

mod common;

use std::process::Command;

use common::{python, write_sdist, InTree, LocalInstaller};
use pyward_build::{BuildError, Builder, SandboxPolicy, SandboxStatus};
use pyward_guard::{Check, Severity};

const INNER: &str = "PYWARD_BUILD_TEST_WITHOUT_USERNS";
const TEST: &str = "without_user_namespaces_require_refuses_and_prefer_says_so";

#[test]
fn without_user_namespaces_require_refuses_and_prefer_says_so() {
    if std::env::var_os(INNER).is_some() {
        inner();
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let run = Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c"])
        .arg("echo 0 > /proc/sys/user/max_user_namespaces && exec \"$0\" \"$@\"")
        .arg(&exe)
        .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
        .env(INNER, "1")
        .output();
    let out = match run {
        Ok(out) => out,
        Err(e) => {
            eprintln!("skipped: `unshare` could not be run ({e})");
            return;
        }
    };
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if !out.status.success() && text.contains("unshare failed") {
        eprintln!("skipped: this machine cannot create the user namespace for the test:\n{text}");
        return;
    }
    assert!(out.status.success(), "{text}");
    assert!(text.contains("inner test ran"), "{text}");
}

fn inner() {
    let Some(py) = python() else {
        eprintln!("skipped: no python3 on this machine");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("wheels")).unwrap();
    let installer = LocalInstaller::new(&dir.path().join("wheels"), &dir.path().join("icache"));
    let sdist = write_sdist(dir.path(), &InTree::new("unboxed", "1.0").sdist());

    let strict = Builder::new(py.clone(), dir.path().join("cache"), SandboxPolicy::Require);
    let SandboxStatus::Unavailable(reason) = strict.sandbox_status() else {
        panic!("expected no sandbox, got {}", strict.sandbox_status());
    };
    assert!(reason.contains("user.max_user_namespaces"), "{reason}");
    let err = strict.build_wheel(&sdist, &installer).unwrap_err();
    assert!(matches!(err, BuildError::SandboxRequired { .. }), "{err}");
    assert!(err.to_string().contains("unboxed 1.0"), "{err}");
    assert!(
        !dir.path().join("cache").join("builds").exists(),
        "nothing was extracted"
    );

    let lenient = Builder::new(py, dir.path().join("cache"), SandboxPolicy::Prefer);
    let built = lenient.build_wheel(&sdist, &installer).unwrap();
    assert!(matches!(built.sandboxed, SandboxStatus::Unavailable(_)));
    let f = &built.findings[0];
    assert_eq!((f.check, f.severity), (Check::Scan, Severity::Moderate));
    assert!(
        f.title
            .starts_with("unboxed 1.0 was built from source without a network sandbox because"),
        "{}",
        f.title
    );
    println!("inner test ran");
}
