//! Resolving against an index without PEP 658 metadata files: with
//! `metadata_by_range`, wheels' METADATA is read with HTTP range requests
//! instead of downloading the wheels; a server that does not serve ranges
//! makes it fall back to downloads; without the option nothing changes.

// The range-capable test server of pyward-index's tests.
#[path = "../../pyward-index/tests/support/range_server.rs"]
mod range_server;

mod common;

use std::str::FromStr;

use pyward_dist::PackageName;
use pyward_resolve::{Resolution, ResolveInput, ResolveOptions};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::{BuiltWheel, WheelBuilder};
use range_server::{RangeMode, RangeServer};

use common::target;

/// Deterministic, incompressible filler.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// `app` 1.0 needing `lib`; each wheel 1 MB, so far larger than its METADATA.
fn wheels() -> (BuiltWheel, BuiltWheel) {
    let app = WheelBuilder::new("app", "1.0")
        .requires_dist("lib>=2")
        .file("app/blob.bin", noise(1 << 20, 1))
        .build();
    let lib = WheelBuilder::new("lib", "2.1")
        .file("lib/blob.bin", noise(1 << 20, 2))
        .build();
    (app, lib)
}

async fn resolve_app(index_url: &str, by_range: bool) -> (Resolution, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let client = common::client(index_url, cache.path());
    let resolution = pyward_resolve::resolve(
        client,
        target(),
        ResolveInput {
            requirements: vec![pyward_dist::Requirement::from_str("app").unwrap()],
            ..Default::default()
        },
        ResolveOptions {
            archive_dir: cache.path().join("archives"),
            metadata_by_range: by_range,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    (resolution, cache)
}

fn pinned(resolution: &Resolution) -> Vec<String> {
    resolution
        .packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_reads_replace_whole_downloads() {
    let server = RangeServer::start(RangeMode::Honour);
    let (app, lib) = wheels();
    server.add_project("app", &[(&app.filename, &app.bytes)]);
    server.add_project("lib", &[(&lib.filename, &lib.bytes)]);

    let (resolution, _cache) = resolve_app(&server.index_url(), true).await;

    assert_eq!(pinned(&resolution), ["app==1.0", "lib==2.1"]);
    let lib_pkg = &resolution.packages[1];
    assert_eq!(lib_pkg.name, PackageName::from_str("lib").unwrap());
    assert_eq!(
        (resolution.downloaded_files, resolution.range_reads),
        (0, 2)
    );
    let wheels_size = (app.bytes.len() + lib.bytes.len()) as u64;
    let sent = server.bytes_sent();
    assert!(
        sent * 10 < wheels_size,
        "{sent} bytes sent for {wheels_size} bytes of wheels"
    );
    assert!(server.file_requests().iter().all(|r| r.status == 206));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_option_wheels_are_downloaded_whole_as_before() {
    let server = RangeServer::start(RangeMode::Honour);
    let (app, lib) = wheels();
    server.add_project("app", &[(&app.filename, &app.bytes)]);
    server.add_project("lib", &[(&lib.filename, &lib.bytes)]);

    let (resolution, cache) = resolve_app(&server.index_url(), false).await;

    assert_eq!(pinned(&resolution), ["app==1.0", "lib==2.1"]);
    assert_eq!(
        (resolution.downloaded_files, resolution.range_reads),
        (2, 0)
    );
    assert!(server.file_requests().iter().all(|r| r.range.is_none()));
    // The wheels stay in the archive cache for the install.
    assert!(cache.path().join("archives").join(app.sha256()).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_ranges_falls_back_to_downloads() {
    // pyward-testkit's index answers every request with the whole file.
    let (app, lib) = wheels();
    let mut index = TestIndex::new();
    index.add_file("app", &app.filename, app.bytes.clone());
    index.add_file("lib", &lib.filename, lib.bytes.clone());
    let index = index.serve();

    let (resolution, cache) = resolve_app(&index.url(), true).await;

    assert_eq!(pinned(&resolution), ["app==1.0", "lib==2.1"]);
    assert_eq!(
        (resolution.downloaded_files, resolution.range_reads),
        (2, 0)
    );
    assert!(cache.path().join("archives").join(lib.sha256()).exists());
    let file_requests = index
        .requests()
        .iter()
        .filter(|p| p.starts_with("/files/"))
        .count();
    assert_eq!(
        file_requests, 3,
        "one refused range request for the first wheel, then whole downloads only"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_wheel_read_by_range_falls_back_to_the_download() {
    // The tail the server sends has no zip end record: the range read fails,
    // the whole download is tried and its own error is what the user sees.
    let server = RangeServer::start(RangeMode::Honour);
    let (mut app, lib) = wheels();
    let len = app.bytes.len();
    app.bytes[len - 22..].fill(0);
    server.add_project("app", &[(&app.filename, &app.bytes)]);
    server.add_project("lib", &[(&lib.filename, &lib.bytes)]);
    let cache = tempfile::tempdir().unwrap();
    let client = common::client(&server.index_url(), cache.path());
    let err = pyward_resolve::resolve(
        client,
        target(),
        ResolveInput {
            requirements: vec![pyward_dist::Requirement::from_str("app").unwrap()],
            ..Default::default()
        },
        ResolveOptions {
            archive_dir: cache.path().join("archives"),
            metadata_by_range: true,
            ..Default::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot read the metadata of app-1.0"),
        "{err}"
    );
    let requests = server.file_requests();
    assert!(requests.iter().any(|r| r.range.is_some()));
    assert!(
        requests
            .iter()
            .any(|r| r.range.is_none() && r.status == 200),
        "the whole wheel was downloaded after the range read failed: {requests:?}"
    );
}
