//! When a requirement conflicts with a project decided before it, the
//! solver walks down the requirement's versions. Left alone, it settles for
//! a very old release (one from before the conflict existed); pyward starts
//! again with the walked-down project decided first, so it keeps its newest
//! fitting release and the other project moves instead.

mod common;

use pyward_resolve::{Resolution, ResolveInput, ResolveOptions};
use pyward_testkit::index::TestIndex;

use common::{add_wheel, target};

/// Shaped like aiobotocore, boto3 and botocore: every `client` release pins
/// one `core` exactly, and so does every `sdk` release but the first, which
/// predates `core` and depends on nothing.
fn index() -> TestIndex {
    let mut index = TestIndex::new();
    for v in 1..=20 {
        add_wheel(&mut index, "core", &format!("{v}.0"), &[] as &[&str]);
    }
    for v in 1..=12 {
        add_wheel(
            &mut index,
            "client",
            &format!("{v}.0"),
            &[format!("core=={v}.0")],
        );
    }
    add_wheel(&mut index, "sdk", "1.0", &[] as &[&str]);
    for v in 2..=20 {
        add_wheel(
            &mut index,
            "sdk",
            &format!("{v}.0"),
            &[format!("core=={v}.0")],
        );
    }
    index
}

async fn resolve(index: &str, requirements: &[&str]) -> Resolution {
    let dir = tempfile::tempdir().unwrap();
    let client = common::client(index, dir.path());
    pyward_resolve::resolve(
        client,
        target(),
        ResolveInput {
            requirements: common::requirements(requirements),
            ..Default::default()
        },
        ResolveOptions {
            archive_dir: dir.path().join("archives"),
            ..Default::default()
        },
    )
    .await
    .unwrap()
}

fn versions(resolution: &Resolution) -> Vec<String> {
    let mut pins: Vec<String> = resolution
        .packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect();
    pins.sort();
    pins
}

#[tokio::test(flavor = "multi_thread")]
async fn a_walked_down_requirement_keeps_its_newest_fitting_release() {
    let served = index().serve();
    // `client` comes first, so it is decided first: 12.0, pinning core 12.0,
    // which no sdk <= 8 accepts but the dependency-free sdk 1.0.
    let resolution = resolve(&served.url(), &["client", "sdk<=8"]).await;
    assert_eq!(
        versions(&resolution),
        ["client==8.0", "core==8.0", "sdk==8.0"],
        "sdk was walked down to its oldest release instead of client moving"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_walk_changes_nothing() {
    let served = index().serve();
    // client <= 9 is decided first at 9.0; sdk tries 12, 11 and 10 (fewer
    // than five versions) and settles at 9.0 without starting again.
    let resolution = resolve(&served.url(), &["client<=9", "sdk<=12"]).await;
    assert_eq!(
        versions(&resolution),
        ["client==9.0", "core==9.0", "sdk==9.0"]
    );
}
