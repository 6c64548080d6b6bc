//! Integrity by default: lock files, hash advice, clear mismatch messages,
//! and tamper memory. Messages are compared as snapshots with the parts that
//! change between runs (ports, temporary paths) replaced.

mod common;

use common::{publish, text, Fixture};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::WheelBuilder;

fn wheel(name: &str, version: &str) -> WheelBuilder {
    WheelBuilder::new(name, version).file(
        &format!("{}/__init__.py", name.replace('-', "_")),
        format!("VERSION = '{version}'\n").into_bytes(),
    )
}

fn index() -> TestIndex {
    let mut index = TestIndex::new();
    publish(&mut index, "app", wheel("app", "1.0").requires_dist("lib"));
    publish(&mut index, "lib", wheel("lib", "1.0"));
    publish(&mut index, "extra", wheel("extra", "1.0"));
    index
}

/// Output with run-specific parts replaced, for snapshots.
fn normalized(fx: &Fixture, out: &std::process::Output) -> String {
    let base = fx.index.base_url();
    let today = pyward_audit::jiff::Timestamp::now()
        .strftime("%Y-%m-%d")
        .to_string();
    let raw = text(out);
    // The tamper record's path is named by a hash of the index URL (its port changes).
    let raw = match raw.find("known-files-v1/") {
        Some(i) => {
            let end = raw[i..].find(' ').map(|e| i + e).unwrap_or(raw.len());
            format!("{}known-files-v1/RECORD{}", &raw[..i], &raw[end..])
        }
        None => raw,
    };
    raw.replace(&base, "http://INDEX")
        .replace(&today, "TODAY")
        .replace(&fx.dir.path().display().to_string(), "TMP")
        .lines()
        .filter(|l| {
            !l.contains(" in ") || l.starts_with("  ") || l.starts_with('✗') || l.starts_with('!')
        })
        .map(without_age)
        .collect::<Vec<_>>()
        .join("\n")
}

/// "772 days old" → "N days old": the age of the built-in advisory data
/// grows every day.
fn without_age(line: &str) -> String {
    match line.find(" days old") {
        Some(end) => {
            let start = line[..end]
                .rfind(|c: char| !c.is_ascii_digit())
                .map_or(0, |i| i + 1);
            format!("{}N{}", &line[..start], &line[end..])
        }
        None => line.to_string(),
    }
}

#[test]
fn a_file_whose_hash_changed_since_last_time_is_blocked() {
    let fx = Fixture::new(index());
    assert!(fx.install(&["lib==1.0"]).status.success());
    let venv = fx.venv();
    assert!(fx
        .pyward(&["uninstall", "--python", venv.to_str().unwrap(), "lib"])
        .status
        .success());
    // The index now serves other bytes under the same name, and advertises their hash.
    let evil = wheel("lib", "1.0")
        .file("lib/evil.py", b"import os\n".to_vec())
        .build();
    fx.index
        .replace_file_bytes(&evil.filename, evil.bytes.clone());
    fx.index
        .set_advertised_sha256(&evil.filename, &evil.sha256());
    let before = fx.snapshot();
    let out = fx.install(&["--refresh", "lib==1.0"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let new_short = format!("{}…{}", &evil.sha256()[..8], &evil.sha256()[60..]);
    insta::assert_snapshot!(
        "tamper_memory",
        normalized(&fx, &out).replace(&new_short, "NEWHASH")
    );
    assert_eq!(before, fx.snapshot());
}

#[test]
fn an_index_without_hashes_warns_with_advice() {
    let mut idx = index();
    idx.file_mut("lib-1.0-py3-none-any.whl").no_hashes();
    let fx = Fixture::new(idx);
    let out = fx.install(&["lib"]);
    assert!(out.status.success(), "{}", text(&out));
    insta::assert_snapshot!(
        "no_published_hash",
        normalized(&fx, &out).replace(&wheel("lib", "1.0").build().sha256(), "SHA")
    );
}

#[test]
fn requirements_without_hashes_are_named() {
    let fx = Fixture::new(index());
    let req = fx.dir.path().join("requirements.txt");
    let sha = wheel("lib", "1.0").build().sha256();
    std::fs::write(&req, format!("lib==1.0 --hash=sha256:{sha}\nextra==1.0\n")).unwrap();
    let out = fx.install(&["-r", req.to_str().unwrap()]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("(1 from your requirements, 1 from the index)"),
        "{all}"
    );
    assert!(
        all.contains("no --hash in your requirements for: extra"),
        "{all}"
    );
}

#[test]
fn lock_then_sync_installs_exactly_the_lock() {
    let fx = Fixture::new(index());
    let lock = fx.dir.path().join("pylock.toml");
    let venv = fx.venv();
    let url = fx.index.url();
    let out = fx.pyward(&[
        "lock",
        "-i",
        &url,
        "--python",
        venv.to_str().unwrap(),
        "-o",
        lock.to_str().unwrap(),
        "app",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let first = std::fs::read_to_string(&lock).unwrap();
    assert!(
        first.contains("name = \"lib\"") && first.contains("sha256 = "),
        "{first}"
    );
    // Same input, same bytes.
    let out = fx.pyward(&[
        "lock",
        "-i",
        &url,
        "--python",
        venv.to_str().unwrap(),
        "-o",
        lock.to_str().unwrap(),
        "app",
    ]);
    assert!(out.status.success());
    assert_eq!(first, std::fs::read_to_string(&lock).unwrap());
    // Something not in the lock is removed by sync.
    assert!(fx.install(&["extra"]).status.success());
    let out = fx.pyward(&[
        "sync",
        "--python",
        venv.to_str().unwrap(),
        lock.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("2/2 files match sha256 from the lock file"),
        "{all}"
    );
    assert!(
        all.contains("Removed 1 package not in the lock file"),
        "{all}"
    );
    assert!(!fx.site_packages().join("extra-1.0.dist-info").exists());
    assert!(fx.site_packages().join("app-1.0.dist-info").exists());
    // freeze --hashes pins the exact archives installed.
    let out = fx.pyward(&["freeze", "--hashes", "--python", venv.to_str().unwrap()]);
    let frozen = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        frozen.contains(&format!(
            "lib==1.0 \\\n    --hash=sha256:{}",
            wheel("lib", "1.0").build().sha256()
        )),
        "{frozen}"
    );
}

#[test]
fn a_lock_whose_file_differs_in_size_installs_nothing() {
    let fx = Fixture::new(index());
    let lock = fx.dir.path().join("pylock.toml");
    let venv = fx.venv();
    let url = fx.index.url();
    let out = fx.pyward(&[
        "lock",
        "-i",
        &url,
        "--python",
        venv.to_str().unwrap(),
        "-o",
        lock.to_str().unwrap(),
        "lib",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let size = wheel("lib", "1.0").build().bytes.len();
    let text_lock = std::fs::read_to_string(&lock).unwrap();
    std::fs::write(
        &lock,
        text_lock.replace(&format!("size = {size}"), &format!("size = {}", size + 1)),
    )
    .unwrap();
    let before = fx.snapshot();
    let out = fx.pyward(&[
        "sync",
        "--python",
        venv.to_str().unwrap(),
        lock.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    insta::assert_snapshot!("lock_size_differs", normalized(&fx, &out));
    assert_eq!(before, fx.snapshot());
    // A lock pointing at a file the index no longer has: a clear error, nothing installed.
    std::fs::write(
        &lock,
        text_lock.replace(
            "lib-1.0-py3-none-any.whl\"",
            "lib-1.0-py3-none-any.whl.gone\"",
        ),
    )
    .unwrap();
    let out = fx.pyward(&[
        "sync",
        "--python",
        venv.to_str().unwrap(),
        lock.to_str().unwrap(),
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    assert_eq!(before, fx.snapshot());
}

#[test]
fn turning_hash_checks_off_is_said_loudly() {
    let fx = Fixture::new(index());
    let out = fx.install(&["--no-verify-hashes", "lib"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("OFF: 1 files were installed without checking their hashes"),
        "{}",
        text(&out)
    );
}
