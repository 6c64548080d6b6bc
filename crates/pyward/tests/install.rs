//! End-to-end installs against a local index: what a user sees and what ends
//! up in the environment.

mod common;

use common::{publish, text, Fixture};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::WheelBuilder;

fn lib(version: &str) -> WheelBuilder {
    WheelBuilder::new("lib", version).file(
        "lib/__init__.py",
        format!("VERSION = '{version}'\n").into_bytes(),
    )
}

/// app 1.0 depends on lib, on extra-dep only with [fancy], and on a package
/// that only Python 2 needs (and that the index does not even have).
fn standard_index() -> TestIndex {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "app",
        WheelBuilder::new("app", "1.0")
            .file(
                "app/__init__.py",
                b"def main():\n    print('app says hi')\n".to_vec(),
            )
            .requires_dist("lib>=1.0")
            .requires_dist("extra-dep; extra == 'fancy'")
            .requires_dist("python2-only; python_version < '3'")
            .provides_extra("fancy")
            .entry_point("console_scripts", "app-cli = app:main"),
    );
    publish(&mut index, "lib", lib("1.0"));
    publish(&mut index, "lib", lib("2.0"));
    index
        .file_mut("lib-2.0-py3-none-any.whl")
        .yanked(Some("broken build"));
    publish(
        &mut index,
        "extra-dep",
        WheelBuilder::new("extra-dep", "1.0").file("extra_dep/__init__.py", b"".to_vec()),
    );
    index
}

#[test]
fn installs_dependencies_extras_markers_and_scripts() {
    let fx = Fixture::new(standard_index());
    let out = fx.install(&["app[fancy]"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Resolved 3 packages"), "{all}");
    assert!(all.contains("Integrity"), "{all}");
    assert!(
        all.contains("3/3 files match sha256 from the index"),
        "{all}"
    );
    // The yanked 2.0 is skipped; the marker-excluded dependency is never looked up.
    let out = fx.python("import lib, extra_dep; print(lib.VERSION)");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "1.0",
        "{}",
        text(&out)
    );
    assert!(!fx
        .index
        .requests()
        .iter()
        .any(|r| r.contains("python2-only")));
    let script = std::process::Command::new(fx.venv().join("bin/app-cli"))
        .output()
        .expect("console script runs");
    assert_eq!(
        String::from_utf8_lossy(&script.stdout).trim(),
        "app says hi"
    );
    // pip and friends see what pyward installed.
    let dist_info = fx.site_packages().join("app-1.0.dist-info");
    assert_eq!(
        std::fs::read_to_string(dist_info.join("INSTALLER"))
            .unwrap()
            .trim(),
        "pyward"
    );
    assert!(dist_info.join("REQUESTED").exists());
    assert!(!fx
        .site_packages()
        .join("lib-1.0.dist-info/REQUESTED")
        .exists());
}

#[test]
fn a_hash_mismatch_installs_nothing() {
    let mut index = standard_index();
    index
        .file_mut("lib-1.0-py3-none-any.whl")
        .advertised_sha256(&"0".repeat(64));
    let fx = Fixture::new(index);
    let before = fx.snapshot();
    let out = fx.install(&["app"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("lib-1.0-py3-none-any.whl is not the file the index published"),
        "{all}"
    );
    assert!(all.contains("expected  sha256:00000000…0000"), "{all}");
    assert!(all.contains("Nothing was installed"), "{all}");
    assert_eq!(before, fx.snapshot(), "the environment changed");
    // A second try fails the same way: the bad file was not cached as good.
    let again = fx.install(&["app"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
}

#[test]
fn an_exact_pin_may_install_a_yanked_release_with_a_notice() {
    let fx = Fixture::new(standard_index());
    let out = fx.install(&["lib==2.0"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("lib 2.0 was yanked"), "{all}");
    assert!(all.contains("broken build"), "{all}");
}

#[test]
fn installed_versions_are_kept_unless_upgrading() {
    let mut index = standard_index();
    publish(&mut index, "lib", lib("3.0"));
    let fx = Fixture::new(index);
    assert!(fx.install(&["lib==1.0"]).status.success());
    let out = fx.install(&["lib"]);
    assert!(text(&out).contains("Nothing to install"), "{}", text(&out));
    let out = fx.install(&["-U", "lib"]);
    assert!(out.status.success(), "{}", text(&out));
    let v = fx.python("import lib; print(lib.VERSION)");
    assert_eq!(String::from_utf8_lossy(&v.stdout).trim(), "3.0");
    assert!(!fx.site_packages().join("lib-1.0.dist-info").exists());
}

#[test]
fn uninstall_removes_exactly_what_was_installed() {
    let fx = Fixture::new(standard_index());
    let before = fx.snapshot();
    assert!(fx.install(&["app"]).status.success());
    let venv = fx.venv();
    let out = fx.pyward(&[
        "uninstall",
        "--python",
        venv.to_str().unwrap(),
        "app",
        "lib",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let after = fx.snapshot();
    let added: Vec<_> = after.keys().filter(|k| !before.contains_key(*k)).collect();
    let lost: Vec<_> = before.keys().filter(|k| !after.contains_key(*k)).collect();
    assert!(
        added.is_empty() && lost.is_empty(),
        "left behind {added:?}, lost {lost:?}"
    );
    assert_eq!(before, after);
}

#[test]
fn a_wheel_with_a_path_traversal_is_refused() {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "evil",
        WheelBuilder::new("evil", "1.0").raw_entry("../../../escaped.py", b"x = 1\n".to_vec()),
    );
    let fx = Fixture::new(index);
    let before = fx.snapshot();
    let out = fx.install(&["evil"]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("Nothing was installed"),
        "{}",
        text(&out)
    );
    assert_eq!(before, fx.snapshot());
    assert!(!fx.dir.path().join("escaped.py").exists());
}

#[test]
fn conflicts_and_unknown_names_are_explained() {
    let mut index = standard_index();
    publish(
        &mut index,
        "needs-new-lib",
        WheelBuilder::new("needs-new-lib", "1.0").requires_dist("lib>=5"),
    );
    let fx = Fixture::new(index);
    let out = fx.install(&["no-such-package"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no-such-package was not found"),
        "{}",
        text(&out)
    );
    let out = fx.install(&["needs-new-lib"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("needs-new-lib depends on lib >=5")
            && all.contains("you asked for needs-new-lib"),
        "{all}"
    );
}

#[test]
fn requirements_hashes_are_the_strongest_expectation() {
    let index = standard_index();
    let fx = Fixture::new(index);
    let req = fx.dir.path().join("requirements.txt");
    std::fs::write(
        &req,
        format!("lib==1.0 \\\n    --hash=sha256:{}\n", "a".repeat(64)),
    )
    .unwrap();
    let out = fx.install(&["-r", req.to_str().unwrap()]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("is not the file your requirements pin"),
        "{all}"
    );
    assert!(all.contains("requirements.txt:1"), "{all}");
}

#[test]
fn a_local_wheel_installs_with_its_origin_recorded() {
    let fx = Fixture::new(standard_index());
    let built = lib("9.0").build();
    let path = built.write_to(fx.dir.path());
    let out = fx.install(&[path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let direct =
        std::fs::read_to_string(fx.site_packages().join("lib-9.0.dist-info/direct_url.json"))
            .expect("direct_url.json");
    assert!(direct.contains(&built.sha256()), "{direct}");
    // Installed from a file, with nothing to check it against: said, not hidden.
    assert!(
        text(&out).contains("could not be checked"),
        "{}",
        text(&out)
    );
}

#[test]
fn reinstalling_the_same_version_from_a_file_replaces_it() {
    let fx = Fixture::new(standard_index());
    let path = lib("9.0").build().write_to(fx.dir.path());
    assert!(fx.install(&[path.to_str().unwrap()]).status.success());
    let out = fx.install(&[path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let v = fx.python("import lib; print(lib.VERSION)");
    assert_eq!(String::from_utf8_lossy(&v.stdout).trim(), "9.0");
}
