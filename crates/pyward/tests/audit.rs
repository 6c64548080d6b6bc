//! Known vulnerabilities and malware: at install time, and with `pyward audit`.

mod common;

use common::{publish, text, Fixture};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::WheelBuilder;

fn index() -> TestIndex {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "evilpkg",
        WheelBuilder::new("evilpkg", "1.0").file("evilpkg/__init__.py", b"".to_vec()),
    );
    for v in ["1.0", "1.1"] {
        publish(
            &mut index,
            "vulnlib",
            WheelBuilder::new("vulnlib", v).file("vulnlib/__init__.py", b"".to_vec()),
        );
    }
    index
}

/// Import OSV records into the fixture's advisory database.
fn advisories(fx: &Fixture, modified: &str) {
    let dir = fx.dir.path().join("osv");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("MAL-2099-1.json"),
        format!(
            r#"{{"id": "MAL-2099-1", "modified": "{modified}", "summary": "Malicious code in evilpkg (PyPI)",
               "affected": [{{"package": {{"ecosystem": "PyPI", "name": "evilpkg"}},
                             "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}]}}]}}]}}"#
        ),
    )
    .unwrap();
    std::fs::write(
        dir.join("PYSEC-2099-2.json"),
        format!(
            r#"{{"id": "PYSEC-2099-2", "modified": "{modified}", "details": "Remote code execution in vulnlib.",
               "severity": [{{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:L/A:N"}}],
               "affected": [{{"package": {{"ecosystem": "PyPI", "name": "vulnlib"}},
                             "ranges": [{{"type": "ECOSYSTEM", "events": [{{"introduced": "0"}}, {{"fixed": "1.1"}}]}}]}}]}}"#
        ),
    )
    .unwrap();
    let out = fx.pyward(&["db", "update", "--from", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
}

fn today() -> String {
    pyward_audit::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[test]
fn known_malware_is_blocked_before_anything_is_downloaded() {
    let fx = Fixture::new(index());
    advisories(&fx, &today());
    let before = fx.snapshot();
    let out = fx.install(&["evilpkg"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("Malicious code in evilpkg"), "{all}");
    assert!(
        all.contains("Nothing was installed and no code from it ran"),
        "{all}"
    );
    assert!(
        !fx.index.requests().iter().any(|r| r.ends_with(".whl")),
        "a file was downloaded: {:?}",
        fx.index.requests()
    );
    assert_eq!(before, fx.snapshot());
}

#[test]
fn vulnerabilities_warn_at_install_and_fail_on_blocks() {
    let fx = Fixture::new(index());
    advisories(&fx, &today());
    let out = fx.install(&["--fail-on", "critical", "vulnlib==1.0"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("1 vulnerability known in 1 package: 1 high"),
        "{all}"
    );
    assert!(all.contains("fixed in 1.1"), "{all}");
    // `--fail-on high` refuses the same install.
    let fx2 = Fixture::new(index());
    advisories(&fx2, &today());
    let out = fx2.install(&["--fail-on", "high", "vulnlib==1.0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // `pyward audit` on the environment: a table row with severity and fix.
    let venv = fx.venv();
    let out = fx.pyward(&["audit", "--python", venv.to_str().unwrap()]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("vulnlib  1.0      high"), "{all}");
    assert!(
        all.contains("1 vulnerability (1 high) in 1 of 1 package"),
        "{all}"
    );
    assert!(!all.contains("days old"), "fresh data called stale: {all}");
    let out = fx.pyward(&[
        "audit",
        "--python",
        venv.to_str().unwrap(),
        "--fail-on",
        "critical",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // JSON for machines.
    let out = fx.pyward(&["audit", "--python", venv.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["vulnerabilities"][0]["package"]["name"], "vulnlib");
}

#[test]
fn old_advisory_data_is_called_out() {
    let fx = Fixture::new(index());
    advisories(&fx, "2020-01-01T00:00:00Z");
    let out = fx.install(&["vulnlib==1.1"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("none known in advisory data from 2020-01-01"),
        "{all}"
    );
    assert!(all.contains("days old"), "{all}");
    assert!(all.contains("pyward db update"), "{all}");
}

#[test]
fn a_damaged_advisory_database_is_never_called_clean() {
    let fx = Fixture::new(index());
    advisories(&fx, &today());
    // Damage the downloaded store.
    let store = fx
        .dir
        .path()
        .join("data/advisories")
        .join(pyward_audit::STORE_FILE_NAME);
    std::fs::write(&store, b"not an advisory store").unwrap();
    let out = fx.install(&["vulnlib==1.1"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Vulnerabilities  not checked:"), "{all}");
    assert!(all.contains("pyward db update"), "{all}");
    assert!(!all.contains("none known"), "{all}");
    let venv = fx.venv();
    let out = fx.pyward(&["audit", "--python", venv.to_str().unwrap()]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(
        !text(&out).contains("No known vulnerabilities"),
        "{}",
        text(&out)
    );
}

/// `app` needs `vulnlib`; `vulnlib` 1.0 (vulnerable) also needs `oldhelper`,
/// which the fixed 1.1 no longer does.
fn index_with_dependencies() -> TestIndex {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "app",
        WheelBuilder::new("app", "1.0")
            .requires_dist("vulnlib")
            .file("app/__init__.py", b"".to_vec()),
    );
    publish(
        &mut index,
        "vulnlib",
        WheelBuilder::new("vulnlib", "1.0")
            .requires_dist("oldhelper")
            .file("vulnlib/__init__.py", b"".to_vec()),
    );
    publish(
        &mut index,
        "vulnlib",
        WheelBuilder::new("vulnlib", "1.1").file("vulnlib/__init__.py", b"".to_vec()),
    );
    publish(
        &mut index,
        "oldhelper",
        WheelBuilder::new("oldhelper", "1.0").file("oldhelper/__init__.py", b"".to_vec()),
    );
    index
}

#[test]
fn audit_fix_rewrites_the_pins_of_a_requirements_file_and_a_dry_run_changes_nothing() {
    let fx = Fixture::new(index_with_dependencies());
    advisories(&fx, &today());
    let reqs = fx.dir.path().join("requirements.txt");
    let original = "# the app\napp==1.0\nvulnlib==1.0  # pinned by hand\n";
    std::fs::write(&reqs, original).unwrap();
    let url = fx.index.url();
    let r = reqs.to_str().unwrap();

    let out = fx.pyward(&["audit", "fix", "--dry-run", "-r", r, "-i", &url]);
    let all = text(&out);
    assert!(all.contains("vulnlib 1.0 → 1.1"), "{all}");
    assert!(all.contains("Dry run"), "{all}");
    assert_eq!(std::fs::read_to_string(&reqs).unwrap(), original);

    let out = fx.pyward(&["audit", "fix", "-r", r, "-i", &url]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    let fixed = std::fs::read_to_string(&reqs).unwrap();
    assert!(fixed.contains("vulnlib==1.1"), "{fixed}");
    assert!(
        fixed.contains("# the app") && fixed.contains("app==1.0"),
        "{fixed}"
    );
    let out = fx.pyward(&["audit", "-r", r, "-i", &url]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn audit_fix_locks_a_pylock_again_with_the_fixed_versions_and_drops_what_is_no_longer_needed() {
    let fx = Fixture::new(index_with_dependencies());
    advisories(&fx, &today());
    let reqs = fx.dir.path().join("requirements.txt");
    std::fs::write(&reqs, "app\nvulnlib==1.0\n").unwrap();
    let lock = fx.dir.path().join("pylock.toml");
    let url = fx.index.url();
    let (r, l) = (reqs.to_str().unwrap(), lock.to_str().unwrap());
    let out = fx.pyward(&["lock", "-r", r, "-o", l, "-i", &url]);
    assert!(out.status.success(), "{}", text(&out));
    let before = std::fs::read_to_string(&lock).unwrap();
    assert!(before.contains("name = \"oldhelper\""), "{before}");

    let out = fx.pyward(&["audit", "-r", l]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = fx.pyward(&["audit", "fix", "--dry-run", "-r", l, "-i", &url]);
    let all = text(&out);
    assert!(all.contains("vulnlib 1.0 → 1.1"), "{all}");
    assert!(all.contains("oldhelper 1.0 → no longer needed"), "{all}");
    assert_eq!(std::fs::read_to_string(&lock).unwrap(), before);
    // Nothing was installed into the environment by a lock fix.
    let venv_before = fx.snapshot();

    let out = fx.pyward(&["audit", "fix", "-r", l, "-i", &url]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains("Locked 2 packages again"), "{all}");
    let after = std::fs::read_to_string(&lock).unwrap();
    assert!(after.contains("vulnlib-1.1-py3-none-any.whl"), "{after}");
    assert!(!after.contains("oldhelper"), "{after}");
    assert!(after.contains("sha256 = "), "{after}");
    assert_eq!(fx.snapshot(), venv_before);
    let out = fx.pyward(&["audit", "-r", l]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The fixed lock installs.
    let venv = fx.venv();
    let out = fx.pyward(&["sync", "--python", venv.to_str().unwrap(), l]);
    assert!(out.status.success(), "{}", text(&out));
}
