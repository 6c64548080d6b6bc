//! Reading a wheel's METADATA with HTTP range requests, against a local
//! server that counts what it sends.

mod support;

use std::io::Write;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use pyward_dist::PackageName;
use pyward_index::{DistFile, IndexClient, IndexError, IndexUrl};
use pyward_testkit::wheel::{BuiltWheel, WheelBuilder};
use support::range_server::{RangeMode, RangeServer};

fn client(server: &RangeServer, cache: Option<&Path>, offline: bool) -> IndexClient {
    let mut builder = IndexClient::builder()
        .index(IndexUrl::parse(&server.index_url()).unwrap())
        .retry_backoff(Duration::from_millis(10))
        .offline(offline);
    if let Some(cache) = cache {
        builder = builder.cache_dir(cache);
    }
    builder.build().unwrap()
}

async fn dist_file(client: &IndexClient, project: &str, filename: &str) -> DistFile {
    let page = client
        .project(&PackageName::from_str(project).unwrap())
        .await
        .unwrap()
        .unwrap();
    page.files
        .into_iter()
        .find(|f| f.filename == filename)
        .unwrap()
}

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

/// A 3 MB wheel with 3000 modules: its central directory is larger than
/// the first tail request.
fn large_wheel(name: &str) -> BuiltWheel {
    let mut builder = WheelBuilder::new(name, "1.0")
        .requires_dist("idna>=3")
        .file(&format!("{name}/data.bin"), noise(3 << 20, 5));
    for i in 0..3000 {
        builder = builder.file(
            &format!("{name}/sub/module_{i:05}_with_a_rather_long_name.py"),
            b"x = 1\n".to_vec(),
        );
    }
    builder.build()
}

fn small_wheel(name: &str, version: &str) -> BuiltWheel {
    WheelBuilder::new(name, version)
        .requires_dist("idna")
        .build()
}

#[tokio::test]
async fn large_wheel_metadata_costs_a_fraction_of_the_wheel() {
    let server = RangeServer::start(RangeMode::Honour);
    let wheel = large_wheel("demo");
    server.add_project("demo", &[(&wheel.filename, &wheel.bytes)]);
    let client = client(&server, None, false);
    let file = dist_file(&client, "demo", &wheel.filename).await;

    let metadata = client.wheel_metadata_by_range(&file).await.unwrap();

    assert_eq!(metadata, wheel.metadata);
    let requests = server.file_requests();
    assert!(
        (2..=3).contains(&requests.len()),
        "the tail, the rest of the central directory, maybe METADATA: {requests:?}"
    );
    assert!(requests
        .iter()
        .all(|r| r.status == 206 && r.range.is_some()));
    let sent = server.bytes_sent();
    assert!(
        sent * 10 < wheel.bytes.len() as u64,
        "{sent} bytes sent for a {}-byte wheel",
        wheel.bytes.len()
    );
}

#[tokio::test]
async fn small_wheel_takes_one_request_for_its_tail() {
    let server = RangeServer::start(RangeMode::Honour);
    let wheel = small_wheel("Tiny_Pkg", "2.0.1");
    server.add_project("tiny-pkg", &[(&wheel.filename, &wheel.bytes)]);
    let client = client(&server, None, false);
    let file = dist_file(&client, "tiny-pkg", &wheel.filename).await;

    assert_eq!(
        client.wheel_metadata_by_range(&file).await.unwrap(),
        wheel.metadata
    );
    let requests = server.file_requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    assert_eq!(requests[0].range.as_deref(), Some("bytes=-65536"));
}

#[tokio::test]
async fn server_that_ignores_ranges_is_asked_once_per_host() {
    let server = RangeServer::start(RangeMode::Ignore);
    let first = large_wheel("first");
    let second = large_wheel("second");
    server.add_project("first", &[(&first.filename, &first.bytes)]);
    server.add_project("second", &[(&second.filename, &second.bytes)]);
    let client = client(&server, None, false);
    let first_file = dist_file(&client, "first", &first.filename).await;
    let second_file = dist_file(&client, "second", &second.filename).await;

    let err = client
        .wheel_metadata_by_range(&first_file)
        .await
        .unwrap_err();
    assert!(
        matches!(err, IndexError::RangeUnsupported { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("does not serve parts of files"));
    let err = client
        .wheel_metadata_by_range(&second_file)
        .await
        .unwrap_err();
    assert!(
        matches!(err, IndexError::RangeUnsupported { .. }),
        "{err:?}"
    );
    assert_eq!(
        server.file_requests().len(),
        1,
        "the second wheel is not asked for"
    );
}

#[tokio::test]
async fn small_file_sent_whole_is_used() {
    let server = RangeServer::start(RangeMode::Ignore);
    let wheel = small_wheel("demo", "1.0");
    server.add_project("demo", &[(&wheel.filename, &wheel.bytes)]);
    let client = client(&server, None, false);
    let file = dist_file(&client, "demo", &wheel.filename).await;
    assert_eq!(
        client.wheel_metadata_by_range(&file).await.unwrap(),
        wheel.metadata
    );
}

#[tokio::test]
async fn refused_ranges_and_missing_content_range_are_unsupported() {
    for mode in [RangeMode::Refuse, RangeMode::NoContentRange] {
        let server = RangeServer::start(mode);
        let wheel = small_wheel("demo", "1.0");
        server.add_project("demo", &[(&wheel.filename, &wheel.bytes)]);
        let client = client(&server, None, false);
        let file = dist_file(&client, "demo", &wheel.filename).await;
        let err = client.wheel_metadata_by_range(&file).await.unwrap_err();
        assert!(
            matches!(err, IndexError::RangeUnsupported { .. }),
            "{mode:?}: {err:?}"
        );
    }
}

#[tokio::test]
async fn metadata_is_cached_by_sha256_and_read_offline() {
    let server = RangeServer::start(RangeMode::Honour);
    let wheel = small_wheel("demo", "1.0");
    server.add_project("demo", &[(&wheel.filename, &wheel.bytes)]);
    let cache = tempfile::tempdir().unwrap();

    let online = client(&server, Some(cache.path()), false);
    let file = dist_file(&online, "demo", &wheel.filename).await;
    assert_eq!(
        online.wheel_metadata_by_range(&file).await.unwrap(),
        wheel.metadata
    );
    assert_eq!(server.file_requests().len(), 1);

    // A new client (a second `pyward lock`) reads it from the cache.
    let again = client(&server, Some(cache.path()), false);
    assert_eq!(
        again.wheel_metadata_by_range(&file).await.unwrap(),
        wheel.metadata
    );
    let offline = client(&server, Some(cache.path()), true);
    assert_eq!(
        offline.wheel_metadata_by_range(&file).await.unwrap(),
        wheel.metadata
    );
    assert_eq!(
        server.file_requests().len(),
        1,
        "no request after the first"
    );

    let empty = tempfile::tempdir().unwrap();
    let offline = client(&server, Some(empty.path()), true);
    let err = offline.wheel_metadata_by_range(&file).await.unwrap_err();
    assert!(matches!(err, IndexError::Offline { .. }), "{err:?}");
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = RangeServer::start(RangeMode::Honour);
    let wheel = small_wheel("demo", "1.0");
    server.add_project("demo", &[(&wheel.filename, &wheel.bytes)]);
    let client = client(&server, None, false);
    let file = dist_file(&client, "demo", &wheel.filename).await;
    server.fail_next_file_requests(2);
    assert_eq!(
        client.wheel_metadata_by_range(&file).await.unwrap(),
        wheel.metadata
    );
    assert_eq!(server.file_requests().len(), 3);
}

#[tokio::test]
async fn a_file_of_another_size_than_the_index_says_is_refused() {
    let server = RangeServer::start(RangeMode::Honour);
    let wheel = small_wheel("demo", "1.0");
    server.add_project("demo", &[(&wheel.filename, &wheel.bytes)]);
    let client = client(&server, None, false);
    let mut file = dist_file(&client, "demo", &wheel.filename).await;
    file.size = Some(wheel.bytes.len() as u64 + 1);
    let err = client.wheel_metadata_by_range(&file).await.unwrap_err();
    assert!(matches!(err, IndexError::RangeRead { .. }), "{err:?}");
    assert!(err.to_string().contains("the index says"), "{err}");
}

#[tokio::test]
async fn damaged_metadata_is_an_error_naming_the_file() {
    let server = RangeServer::start(RangeMode::Honour);
    let builder = WheelBuilder::new("demo", "1.0");
    let mut entries = builder.entries();
    for e in &mut entries {
        e.deflate = false;
    }
    let mut bytes = pyward_testkit::wheel::build_zip(&entries);
    let at = bytes.windows(10).position(|w| w == b"Name: demo").unwrap();
    bytes[at + 6] = b'X';
    let filename = "demo-1.0-py3-none-any.whl";
    server.add_project("demo", &[(filename, &bytes)]);
    let client = client(&server, None, false);
    let file = dist_file(&client, "demo", filename).await;
    let err = client.wheel_metadata_by_range(&file).await.unwrap_err();
    assert!(matches!(err, IndexError::RangeRead { .. }), "{err:?}");
    let text = err.to_string();
    assert!(text.contains(filename) && text.contains("CRC-32"), "{text}");
}

/// The wheel's entries written as ZIP64: 64-bit sizes in every header, and
/// the ZIP64 end-of-central-directory record and locator.
fn zip64_wheel(builder: &WheelBuilder) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut writer = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for entry in builder.entries() {
        writer.start_file(entry.name.as_str(), options).unwrap();
        writer.write_all(&entry.data).unwrap();
    }
    writer.set_raw_zip64_extensible_data_sector(Box::new([]));
    writer.finish().unwrap();
    out.into_inner()
}

#[tokio::test]
async fn zip64_wheel_is_read() {
    let server = RangeServer::start(RangeMode::Honour);
    let builder = WheelBuilder::new("demo", "1.0")
        .requires_dist("idna")
        .file("demo/data.bin", noise(200_000, 9));
    let bytes = zip64_wheel(&builder);
    let zip64_end = 0x0606_4b50u32.to_le_bytes();
    assert!(
        bytes.windows(4).any(|w| w == zip64_end),
        "the test wheel has a ZIP64 end record"
    );
    let filename = "demo-1.0-py3-none-any.whl";
    server.add_project("demo", &[(filename, &bytes)]);
    let client = client(&server, None, false);
    let file = dist_file(&client, "demo", filename).await;
    assert_eq!(
        client.wheel_metadata_by_range(&file).await.unwrap(),
        builder.build().metadata
    );
    assert!(server.bytes_sent() < bytes.len() as u64 / 2);
}

#[tokio::test]
async fn an_sdist_is_not_read_by_range() {
    let server = RangeServer::start(RangeMode::Honour);
    server.add_project("demo", &[("demo-1.0.tar.gz", b"not a zip")]);
    let client = client(&server, None, false);
    let file = dist_file(&client, "demo", "demo-1.0.tar.gz").await;
    let err = client.wheel_metadata_by_range(&file).await.unwrap_err();
    assert!(err.to_string().contains("not a wheel"), "{err}");
    assert!(server.file_requests().is_empty());
}

/// By hand, against the real PyPI (needs the network):
/// `cargo test -p pyward-index --test range -- --ignored --nocapture`.
/// Prints each range request and the time, for the newest numpy and torch
/// wheels for CPython 3.12 on x86_64 Linux.
#[tokio::test]
#[ignore = "uses the network (pypi.org)"]
async fn real_pypi_numpy_and_torch() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter("pyward_index=debug")
        .with_test_writer()
        .try_init();
    let client = IndexClient::builder().build().unwrap();
    for project in ["numpy", "torch"] {
        let page = client
            .project(&PackageName::from_str(project).unwrap())
            .await
            .unwrap()
            .unwrap();
        let file = page
            .files
            .iter()
            .rev()
            .find(|f| {
                f.filename.contains("-cp312-cp312-manylinux") && f.filename.ends_with("x86_64.whl")
            })
            .unwrap();
        let started = std::time::Instant::now();
        let metadata = client.wheel_metadata_by_range(file).await.unwrap();
        let elapsed = started.elapsed();
        let md = pyward_dist::CoreMetadata::parse(&metadata).unwrap();
        eprintln!(
            "{}: {} bytes of METADATA ({} {}, {} requirements) in {elapsed:?}; the wheel is {:?} bytes",
            file.filename,
            metadata.len(),
            md.name,
            md.version,
            md.requires_dist.len(),
            file.size
        );
    }
}
