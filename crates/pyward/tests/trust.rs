//! Name and trust checks: a likely typo of a popular project stops before
//! anything is downloaded; `check-names` works offline.

mod common;

use common::{publish, text, Fixture};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::WheelBuilder;

fn index() -> TestIndex {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "reqeusts",
        WheelBuilder::new("reqeusts", "1.0").file("reqeusts/__init__.py", b"".to_vec()),
    );
    // The project JSON a PyPI-like index serves: one release, two days old, no links.
    let uploaded = pyward_audit::jiff::Timestamp::now()
        .checked_sub(pyward_audit::jiff::SignedDuration::from_hours(48))
        .expect("time");
    index.add_document(
        "/pypi/reqeusts/json",
        "application/json",
        format!(
            r#"{{"info": {{"name": "reqeusts", "version": "1.0", "summary": "", "project_urls": null, "classifiers": []}},
                "releases": {{"1.0": [{{"filename": "reqeusts-1.0-py3-none-any.whl", "packagetype": "bdist_wheel",
                                        "upload_time_iso_8601": "{uploaded}", "yanked": false}}]}},
                "urls": [], "ownership": {{"roles": [{{"role": "Owner", "user": "someone"}}]}}}}"#
        )
        .into_bytes(),
    );
    index
}

#[test]
fn a_likely_typo_stops_before_download_unless_allowed() {
    let fx = Fixture::new(index());
    let out = fx.install(&["reqeusts"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("reqeusts looks like a typo of requests"),
        "{all}"
    );
    assert!(
        all.contains("did you mean:  pyward install requests"),
        "{all}"
    );
    assert!(all.contains("--allow reqeusts"), "{all}");
    assert!(
        !fx.index.requests().iter().any(|r| r.ends_with(".whl")),
        "downloaded anyway"
    );
    let out = fx.install(&["reqeusts", "--allow", "reqeusts"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("allowed by you: reqeusts"),
        "{}",
        text(&out)
    );
}

#[test]
fn check_names_is_offline_and_scriptable() {
    let fx = Fixture::new(TestIndex::new());
    let out = fx.pyward(&["check-names", "requests", "numpy"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = fx.pyward(&["check-names", "--json", "reqeusts", "numpy", "djanga"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["name"], "reqeusts");
    assert_eq!(arr[0]["resembles"], "requests");
    assert_eq!(arr[0]["technique"], "transposition");
    assert_eq!(arr[1]["resembles"], "django");
    // No index was asked.
    assert!(fx.index.requests().is_empty());
}

#[test]
fn info_on_a_name_the_index_does_not_have_suggests_the_popular_one_it_resembles() {
    let fx = Fixture::new(TestIndex::new());
    let url = fx.index.url();
    let out = fx.pyward(&["info", "-i", &url, "djanga"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("no project information for djanga"), "{all}");
    assert!(all.contains("did you mean django?"), "{all}");
    assert!(all.contains("pyward info django"), "{all}");
    // A name like no popular one gets the plain advice.
    let out = fx.pyward(&["info", "-i", &url, "zqxwv-internal-tool"]);
    let all = text(&out);
    assert!(!all.contains("did you mean"), "{all}");
    assert!(all.contains("check the spelling"), "{all}");
}

/// `app` depends on `oldlib` (archived) and, from 2.0, on `badlib`
/// (quarantined by the index, PEP 792).
fn status_index() -> TestIndex {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "app",
        WheelBuilder::new("app", "1.0")
            .requires_dist("oldlib")
            .file("app/__init__.py", b"".to_vec()),
    );
    publish(
        &mut index,
        "app",
        WheelBuilder::new("app", "2.0")
            .requires_dist("oldlib")
            .requires_dist("badlib")
            .file("app/__init__.py", b"".to_vec()),
    );
    publish(
        &mut index,
        "oldlib",
        WheelBuilder::new("oldlib", "1.0").file("oldlib/__init__.py", b"".to_vec()),
    );
    publish(
        &mut index,
        "badlib",
        WheelBuilder::new("badlib", "1.0").file("badlib/__init__.py", b"".to_vec()),
    );
    index.add_project_status("oldlib", "archived", Some("moved to newlib"));
    index.add_project_status("badlib", "quarantined", None);
    index
}

#[test]
fn project_status_of_every_resolved_package_is_shown_and_quarantine_refuses() {
    let fx = Fixture::new(status_index());
    let out = fx.install(&["app==1.0"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("oldlib is archived: its maintainers expect no more releases"),
        "{all}"
    );
    assert!(all.contains("The index says: moved to newlib"), "{all}");

    // A quarantined dependency stops the install before anything is downloaded.
    let before = fx.snapshot();
    let out = fx.install(&["app==2.0"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("badlib is quarantined by the index"), "{all}");
    assert_eq!(fx.snapshot(), before);
    let served = fx.index.requests();
    assert!(
        !served
            .iter()
            .any(|r| r.ends_with("badlib-1.0-py3-none-any.whl")),
        "the quarantined file was downloaded: {served:?}"
    );
}
