//! The index client against a local test index on 127.0.0.1.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pyward_dist::PackageName;
use pyward_index::{IndexClient, IndexError, IndexUrl, MetadataAvailability, ProjectPage};
use pyward_testkit::index::{RunningIndex, TestIndex};
use sha2::{Digest, Sha256};
use url::Url;

const WHEEL: &str = "demo-1.0-py3-none-any.whl";
const SDIST: &str = "demo-1.0.tar.gz";
const OLD_WHEEL: &str = "demo-0.9-py3-none-any.whl";
const METADATA: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";

fn name(n: &str) -> PackageName {
    PackageName::from_str(n).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn demo_index() -> TestIndex {
    let mut index = TestIndex::new();
    index
        .add_file("Demo", WHEEL, b"wheel bytes".to_vec())
        .metadata(METADATA)
        .requires_python(">=3.8")
        .upload_time("2024-05-01T10:00:00Z");
    index.add_file("Demo", SDIST, b"sdist bytes".to_vec());
    index
        .add_file("Demo", OLD_WHEEL, b"old wheel".to_vec())
        .yanked(Some("broken <build>"))
        .requires_python(">=3.6, <4");
    index
}

fn client_for(urls: &[&str], cache: Option<&Path>) -> IndexClient {
    let mut builder = IndexClient::builder().retry_backoff(Duration::from_millis(10));
    for url in urls {
        builder = builder.index(IndexUrl::parse(url).unwrap());
    }
    if let Some(cache) = cache {
        builder = builder.cache_dir(cache);
    }
    builder.build().unwrap()
}

fn page_requests(index: &RunningIndex) -> usize {
    index
        .requests()
        .iter()
        .filter(|p| p.starts_with("/simple/"))
        .count()
}

fn file<'a>(page: &'a ProjectPage, filename: &str) -> &'a pyward_index::DistFile {
    page.files.iter().find(|f| f.filename == filename).unwrap()
}

#[tokio::test]
async fn json_page_has_every_field() {
    let mut index = demo_index();
    index.add_project_status("demo", "deprecated", Some("use demo2"));
    let index = index.serve();
    let client = client_for(&[&index.url()], None);
    let page = client.project(&name("DEMO")).await.unwrap().unwrap();

    assert_eq!(page.name, name("demo"));
    assert_eq!(page.index.to_string(), index.url());
    assert_eq!(page.api_version.to_string(), "1.1");
    assert!(page.warnings.is_empty(), "{:?}", page.warnings);
    let status = page.project_status.as_ref().unwrap();
    assert_eq!(
        (status.status.as_str(), status.reason.as_deref()),
        ("deprecated", Some("use demo2"))
    );
    assert_eq!(page.files.len(), 3);

    let wheel = file(&page, WHEEL);
    assert_eq!(
        wheel.url.as_str(),
        index.file_url(WHEEL),
        "relative URL resolved"
    );
    assert_eq!(
        wheel.hashes.sha256.as_deref(),
        Some(sha256(b"wheel bytes").as_str())
    );
    assert_eq!(wheel.size, Some(11));
    assert_eq!(wheel.upload_time.as_deref(), Some("2024-05-01T10:00:00Z"));
    assert_eq!(wheel.requires_python.as_ref().unwrap().to_string(), ">=3.8");
    assert!(!wheel.yanked);
    match &wheel.core_metadata {
        MetadataAvailability::Available(h) => {
            assert_eq!(h.sha256.as_deref(), Some(sha256(METADATA).as_str()))
        }
        other => panic!("metadata should be available, got {other:?}"),
    }
    let old = file(&page, OLD_WHEEL);
    assert!(old.yanked);
    assert_eq!(old.yank_reason.as_deref(), Some("broken <build>"));
    assert_eq!(old.dist.version().to_string(), "0.9");
    assert_eq!(
        file(&page, SDIST).core_metadata,
        MetadataAvailability::Unknown
    );
}

#[tokio::test]
async fn html_page_lists_the_same_files_as_json() {
    let json_index = demo_index().serve();
    let mut html = demo_index();
    html.html_only();
    let html_index = html.serve();

    let from_json = client_for(&[&json_index.url()], None)
        .project(&name("demo"))
        .await
        .unwrap()
        .unwrap();
    let from_html = client_for(&[&html_index.url()], None)
        .project(&name("demo"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(from_json.files.len(), from_html.files.len());
    for (j, h) in from_json.files.iter().zip(&from_html.files) {
        assert_eq!(j.filename, h.filename);
        assert_eq!(j.dist, h.dist);
        assert_eq!(j.url.path(), h.url.path());
        assert_eq!(j.hashes, h.hashes);
        assert_eq!(j.requires_python, h.requires_python);
        assert_eq!((j.yanked, &j.yank_reason), (h.yanked, &h.yank_reason));
        assert_eq!(j.core_metadata, h.core_metadata);
    }
    assert!(
        from_html.files.iter().all(|f| f.size.is_none()),
        "HTML has no sizes"
    );
}

#[tokio::test]
async fn unknown_project_is_none_and_newer_major_api_is_refused() {
    let mut index = demo_index();
    index.api_version("2.0");
    let index = index.serve();
    let client = client_for(&[&index.url()], None);
    assert!(client
        .project(&name("nothing-here"))
        .await
        .unwrap()
        .is_none());
    let err = client.project(&name("demo")).await.unwrap_err();
    assert!(
        matches!(err, IndexError::UnsupportedApiVersion { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("2.0"), "{err}");
}

#[tokio::test]
async fn unexpected_content_type_is_refused_clearly() {
    let mut index = TestIndex::new();
    index.add_document("/simple/weird/", "application/json", b"{}".to_vec());
    let index = index.serve();
    let err = client_for(&[&index.url()], None)
        .project(&name("weird"))
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("/simple/weird/") && message.contains("application/json"),
        "{message}"
    );
}

#[tokio::test]
async fn first_index_that_has_the_project_wins() {
    let mut private = TestIndex::new();
    private.add_file(
        "internal-tool",
        "internal_tool-1.0-py3-none-any.whl",
        b"private".to_vec(),
    );
    let private = private.serve();
    let mut public = TestIndex::new();
    public.add_file(
        "internal-tool",
        "internal_tool-99.0-py3-none-any.whl",
        b"attacker".to_vec(),
    );
    public.add_file(
        "requests",
        "requests-2.0-py3-none-any.whl",
        b"public".to_vec(),
    );
    let public = public.serve();

    let client = client_for(&[&private.url(), &public.url()], None);
    let page = client
        .project(&name("internal-tool"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page.index.to_string(), private.url());
    assert_eq!(page.files.len(), 1);
    assert_eq!(page.files[0].dist.version().to_string(), "1.0");
    assert!(
        public.requests().is_empty(),
        "the public index was not even asked"
    );

    let page = client.project(&name("requests")).await.unwrap().unwrap();
    assert_eq!(page.index.to_string(), public.url());
    assert_eq!(private.request_log().last().unwrap().status, 404);
}

#[tokio::test]
async fn fresh_page_is_served_from_the_cache_without_a_request() {
    let cache = tempfile::tempdir().unwrap();
    let index = demo_index().serve();
    let first = client_for(&[&index.url()], Some(cache.path()))
        .project(&name("demo"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(page_requests(&index), 1);

    // A new client (a new pyward run) on the same cache, within max-age.
    let second = client_for(&[&index.url()], Some(cache.path()))
        .project(&name("demo"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        page_requests(&index),
        1,
        "no request within max-age: {:?}",
        index.requests()
    );
    assert_eq!(first, second);
}

#[tokio::test]
async fn stale_page_is_revalidated_with_its_etag() {
    let cache = tempfile::tempdir().unwrap();
    let mut index = demo_index();
    index.cache_max_age(0);
    let index = index.serve();
    let client = client_for(&[&index.url()], Some(cache.path()));
    client.project(&name("demo")).await.unwrap().unwrap();
    let again = client.project(&name("demo")).await.unwrap().unwrap();
    assert_eq!(again.files.len(), 3);
    let statuses: Vec<u16> = index.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 304]);

    // When the page changes, the new one is used.
    index.modify(|i| {
        i.add_file("demo", "demo-2.0-py3-none-any.whl", b"new".to_vec());
    });
    let changed = client.project(&name("demo")).await.unwrap().unwrap();
    assert_eq!(changed.files.len(), 4);
    assert_eq!(index.request_log().last().unwrap().status, 200);
}

#[tokio::test]
async fn refresh_revalidates_even_a_fresh_page() {
    let cache = tempfile::tempdir().unwrap();
    let index = demo_index().serve();
    client_for(&[&index.url()], Some(cache.path()))
        .project(&name("demo"))
        .await
        .unwrap();
    let refreshing = IndexClient::builder()
        .index(IndexUrl::parse(&index.url()).unwrap())
        .cache_dir(cache.path())
        .refresh(true)
        .build()
        .unwrap();
    let page = refreshing.project(&name("demo")).await.unwrap().unwrap();
    assert_eq!(page.files.len(), 3);
    let statuses: Vec<u16> = index.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [200, 304]);
}

#[tokio::test]
async fn offline_uses_the_cache_or_says_what_is_missing() {
    let cache = tempfile::tempdir().unwrap();
    let mut index = demo_index();
    index.cache_max_age(0);
    let index = index.serve();
    client_for(&[&index.url()], Some(cache.path()))
        .project(&name("demo"))
        .await
        .unwrap();
    index.clear_requests();

    let offline = IndexClient::builder()
        .index(IndexUrl::parse(&index.url()).unwrap())
        .cache_dir(cache.path())
        .offline(true)
        .build()
        .unwrap();
    let page = offline.project(&name("demo")).await.unwrap().unwrap();
    assert_eq!(page.files.len(), 3, "stale, but offline takes it");
    let err = offline.project(&name("never-fetched")).await.unwrap_err();
    assert!(matches!(err, IndexError::Offline { .. }));
    assert!(err.to_string().contains("never-fetched"), "{err}");
    let wheel = file(&page, WHEEL).clone();
    assert!(matches!(
        offline.metadata(&wheel).await,
        Err(IndexError::Offline { .. })
    ));
    let dest = cache.path().join("w.whl");
    assert!(matches!(
        offline.download(&wheel.url, &dest, |_| {}, None).await,
        Err(IndexError::Offline { .. })
    ));
    assert!(index.requests().is_empty());
}

#[tokio::test]
async fn metadata_is_verified_and_fetched_once() {
    let cache = tempfile::tempdir().unwrap();
    let index = demo_index().serve();
    let client = client_for(&[&index.url()], Some(cache.path()));
    let page = client.project(&name("demo")).await.unwrap().unwrap();
    let wheel = file(&page, WHEEL);
    assert_eq!(client.metadata(wheel).await.unwrap(), METADATA);
    assert_eq!(client.metadata(wheel).await.unwrap(), METADATA);
    let fresh_client = client_for(&[&index.url()], Some(cache.path()));
    assert_eq!(fresh_client.metadata(wheel).await.unwrap(), METADATA);
    let metadata_requests = index
        .requests()
        .iter()
        .filter(|p| p.ends_with(".metadata"))
        .count();
    assert_eq!(metadata_requests, 1);

    let sdist = file(&page, SDIST);
    let err = client.metadata(sdist).await.unwrap_err();
    assert!(matches!(err, IndexError::NoMetadataFile { .. }), "{err}");
}

#[tokio::test]
async fn tampered_metadata_is_an_error_naming_the_file() {
    let index = demo_index().serve();
    let client = client_for(&[&index.url()], None);
    let page = client.project(&name("demo")).await.unwrap().unwrap();
    // The index now serves other metadata than the hash it published.
    index.modify(|i| {
        i.file_mut(WHEEL)
            .metadata(b"Metadata-Version: 2.1\nName: evil\nVersion: 1.0\n".to_vec());
    });
    let err = client.metadata(file(&page, WHEEL)).await.unwrap_err();
    match &err {
        IndexError::MetadataHashMismatch {
            filename, expected, ..
        } => {
            assert_eq!(filename, WHEEL);
            assert_eq!(expected, &sha256(METADATA));
        }
        other => panic!("expected a hash mismatch, got {other}"),
    }
    assert!(err.to_string().contains(WHEEL), "{err}");
}

#[tokio::test]
async fn download_hashes_while_streaming() {
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut index = TestIndex::new();
    index.add_file("big", "big-1.0.tar.gz", bytes.clone());
    let index = index.serve();
    let client = client_for(&[&index.url()], None);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("sub/big-1.0.tar.gz");
    let seen = AtomicU64::new(0);
    let url = Url::parse(&index.file_url("big-1.0.tar.gz")).unwrap();
    let got = client
        .download(
            &url,
            &dest,
            |n| seen.store(n, Ordering::Relaxed),
            Some(bytes.len() as u64),
        )
        .await
        .unwrap();
    assert_eq!(got.sha256, sha256(&bytes));
    assert_eq!(got.size, bytes.len() as u64);
    assert_eq!(seen.load(Ordering::Relaxed), bytes.len() as u64);
    assert_eq!(std::fs::read(&dest).unwrap(), bytes);
    assert_eq!(
        std::fs::read_dir(dest.parent().unwrap()).unwrap().count(),
        1,
        "no temporary file left"
    );
}

#[tokio::test]
async fn truncated_download_leaves_nothing_behind() {
    let mut index = TestIndex::new();
    index
        .add_file("cut", "cut-1.0.tar.gz", vec![7u8; 50_000])
        .serve_truncated(1000);
    let index = index.serve();
    let client = client_for(&[&index.url()], None);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("cut-1.0.tar.gz");
    let url = Url::parse(&index.file_url("cut-1.0.tar.gz")).unwrap();
    let err = client
        .download(&url, &dest, |_| {}, None)
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::Network { .. }), "{err}");
    assert!(err.to_string().contains("cut-1.0.tar.gz"), "{err}");
    assert_eq!(
        index.requests().len(),
        3,
        "a broken transfer is tried 3 times"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial file"
    );
}

#[tokio::test]
async fn oversized_download_stops_early_and_leaves_nothing_behind() {
    let mut index = TestIndex::new();
    index.add_file("fat", "fat-1.0.tar.gz", vec![1u8; 100_000]);
    let index = index.serve();
    let client = client_for(&[&index.url()], None);
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("fat-1.0.tar.gz");
    let url = Url::parse(&index.file_url("fat-1.0.tar.gz")).unwrap();
    let err = client
        .download(&url, &dest, |_| {}, Some(10_000))
        .await
        .unwrap_err();
    assert!(matches!(err, IndexError::InvalidResponse { .. }), "{err}");
    assert!(err.to_string().contains("10000"), "{err}");
    assert_eq!(index.requests().len(), 1, "not retried");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn server_errors_are_retried_then_reported() {
    let index = demo_index().serve();
    let client = client_for(&[&index.url()], None);

    index.fail_next_requests(2, 503);
    let page = client.project(&name("demo")).await.unwrap();
    assert!(page.is_some(), "the third try succeeds");
    let statuses: Vec<u16> = index.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 503, 200]);

    index.clear_requests();
    index.fail_next_requests(100, 500);
    let err = client.project(&name("demo")).await.unwrap_err();
    assert!(
        matches!(err, IndexError::Status { status: 500, .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains(&format!("{}demo/", index.url())) && message.contains("500"),
        "{message}"
    );
    assert_eq!(index.requests().len(), 3);
}

#[tokio::test]
async fn unreachable_index_is_a_network_error_naming_the_url() {
    let url = {
        let index = TestIndex::new().serve();
        index.url()
    }; // the server is gone: connections are refused
    let client = client_for(&[&url], None);
    let err = client.project(&name("demo")).await.unwrap_err();
    assert!(matches!(err, IndexError::Network { .. }), "{err}");
    assert!(err.to_string().contains(&url), "{err}");
}

#[tokio::test]
async fn json_documents_use_the_cache_and_404_is_none() {
    let cache = tempfile::tempdir().unwrap();
    let mut index = TestIndex::new();
    index.add_document(
        "/pypi/demo/json",
        "application/json",
        br#"{"info": {}}"#.to_vec(),
    );
    let index = index.serve();
    let client = client_for(&[&index.url()], Some(cache.path()));
    let url = Url::parse(&format!("{}/pypi/demo/json", index.base_url())).unwrap();
    let body = client
        .fetch_json_bytes(&url, "application/json")
        .await
        .unwrap();
    assert_eq!(body.as_deref(), Some(&br#"{"info": {}}"#[..]));
    let missing = Url::parse(&format!("{}/pypi/nothing/json", index.base_url())).unwrap();
    assert!(client
        .fetch_json_bytes(&missing, "application/json")
        .await
        .unwrap()
        .is_none());
    let again = client_for(&[&index.url()], Some(cache.path()));
    assert_eq!(
        again
            .fetch_json_bytes(&url, "application/json")
            .await
            .unwrap(),
        body
    );
    let document_requests = index
        .requests()
        .iter()
        .filter(|p| p.as_str() == "/pypi/demo/json")
        .count();
    assert_eq!(
        document_requests, 1,
        "fresh within max-age: served from the cache"
    );
}

#[tokio::test]
async fn offline_keeps_the_first_index_rule_from_the_cache() {
    let cache = tempfile::tempdir().unwrap();
    let private = demo_index().serve();
    let mut public = TestIndex::new();
    public.add_file(
        "requests",
        "requests-2.0-py3-none-any.whl",
        b"public".to_vec(),
    );
    let public = public.serve();
    let online = client_for(&[&private.url(), &public.url()], Some(cache.path()));
    online.project(&name("requests")).await.unwrap().unwrap();

    let offline = IndexClient::builder()
        .indexes([
            IndexUrl::parse(&private.url()).unwrap(),
            IndexUrl::parse(&public.url()).unwrap(),
        ])
        .cache_dir(cache.path())
        .offline(true)
        .build()
        .unwrap();
    let page = offline.project(&name("requests")).await.unwrap().unwrap();
    assert_eq!(
        page.index.to_string(),
        public.url(),
        "the private index said 404 last time"
    );
    let err = offline.project(&name("demo")).await.unwrap_err();
    assert!(err.to_string().contains(&private.url()), "{err}");
}

#[tokio::test]
async fn index_credentials_go_to_the_index_origin_only_and_are_never_shown() {
    let index = demo_index().serve();
    let with_password = index.url().replacen("http://", "http://alice:s3cret@", 1);
    let cache = tempfile::tempdir().unwrap();
    let client = client_for(&[&with_password], Some(cache.path()));
    let page = client.project(&name("demo")).await.unwrap().unwrap();
    assert!(!page.index.to_string().contains("s3cret"), "{}", page.index);
    assert!(!page.url.as_str().contains("s3cret"));
    let wheel = file(&page, WHEEL);
    assert!(
        !wheel.url.as_str().contains("alice"),
        "no credentials in file URLs"
    );
    client.metadata(wheel).await.unwrap();
    let dest = cache.path().join("w.whl");
    client
        .download(&wheel.url, &dest, |_| {}, None)
        .await
        .unwrap();
    let log = index.request_log();
    assert_eq!(log.len(), 3);
    for request in &log {
        assert_eq!(
            request.authorization.as_deref(),
            Some("Basic YWxpY2U6czNjcmV0"),
            "{request:?}"
        );
    }
    for entry in walk(cache.path()) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("s3cret"),
            "password stored in {}",
            entry.display()
        );
    }

    let mut other = TestIndex::new();
    other.add_file("x", "x-1.0.tar.gz", b"x".to_vec());
    let other = other.serve();
    let url = Url::parse(&other.file_url("x-1.0.tar.gz")).unwrap();
    client
        .download(&url, &cache.path().join("x.tar.gz"), |_| {}, None)
        .await
        .unwrap();
    assert_eq!(
        other.request_log()[0].authorization,
        None,
        "not sent to another origin"
    );
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn same_filename_with_new_bytes_shows_the_new_hash() {
    let mut index = demo_index();
    index.cache_max_age(0);
    let index = index.serve();
    let cache = tempfile::tempdir().unwrap();
    let client = client_for(&[&index.url()], Some(cache.path()));
    let before = client.project(&name("demo")).await.unwrap().unwrap();
    index.replace_file_bytes(WHEEL, b"replaced".to_vec());
    let after = client.project(&name("demo")).await.unwrap().unwrap();
    assert_ne!(
        file(&before, WHEEL).hashes.sha256,
        file(&after, WHEEL).hashes.sha256
    );
    assert_eq!(
        file(&after, WHEEL).hashes.sha256.as_deref(),
        Some(sha256(b"replaced").as_str())
    );

    index.set_advertised_sha256(WHEEL, &"0".repeat(64));
    let tampered = client.project(&name("demo")).await.unwrap().unwrap();
    let dest = cache.path().join("dl.whl");
    let got = client
        .download(&file(&tampered, WHEEL).url, &dest, |_| {}, None)
        .await
        .unwrap();
    assert_ne!(
        Some(got.sha256),
        file(&tampered, WHEEL).hashes.sha256,
        "the caller sees the mismatch"
    );
}
