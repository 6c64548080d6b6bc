//! `update` from a directory, a zip and a URL (a server on 127.0.0.1), and
//! that a failed update leaves the previous database exactly as it was.

use std::io::Write;
use std::path::Path;
use std::str::FromStr;

use pyward_audit::{update, AdvisoryDb, AuditError, DataSource, UpdateSource, STORE_FILE_NAME};
use pyward_dist::{PackageName, Version};

const YAML_RECORD: &str = r#"id: PYSEC-2019-217
details: In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.
aliases:
- CVE-2019-10906
- GHSA-462w-v97r-4m45
modified: "2021-07-05T00:01:22.043149Z"
affected:
- package:
    name: jinja2
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 2.10.1
"#;

const JSON_RECORD: &str = r#"{"id":"GHSA-462w-v97r-4m45","aliases":["CVE-2019-10906"],
  "summary":"Jinja2 sandbox escape via string formatting","modified":"2024-03-01T00:00:00Z",
  "database_specific":{"severity":"HIGH"},
  "affected":[{"package":{"ecosystem":"PyPI","name":"Jinja2"},
    "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.10.1"}]}]}]}"#;

const MALWARE_RECORD: &str = r#"{"id":"MAL-2024-1","summary":"Malicious code in reqeusts (PyPI)",
  "modified":"2024-02-01T00:00:00Z",
  "affected":[{"package":{"ecosystem":"PyPI","name":"reqeusts"},
    "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn records_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(&dir.path().join("jinja2/PYSEC-2019-217.yaml"), YAML_RECORD);
    write(
        &dir.path().join("jinja2/GHSA-462w-v97r-4m45.json"),
        JSON_RECORD,
    );
    write(
        &dir.path().join("broken/PYSEC-0000-1.yaml"),
        "id: [unclosed\n  affected: {",
    );
    write(&dir.path().join("README.md"), "not a record");
    write(&dir.path().join(".id-allocator"), "abc");
    dir
}

fn zip_of(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, text) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(text.as_bytes()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn jinja_vulns(db: &AdvisoryDb) -> Vec<pyward_audit::Vulnerability> {
    db.vulnerabilities(
        &PackageName::from_str("jinja2").unwrap(),
        &Version::from_str("2.10").unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn update_from_a_directory_merges_aliases_and_counts_bad_files() {
    let source = records_dir();
    let data = tempfile::tempdir().unwrap();
    let status = update(&UpdateSource::Dir(source.path().to_path_buf()), data.path())
        .await
        .unwrap();
    assert_eq!(status.records, 2);
    assert_eq!(status.packages, 1);
    assert_eq!(status.skipped_records, 1);
    assert_eq!(status.newest_record.unwrap().to_string(), "2024-03-01");
    assert!(
        matches!(&status.source, DataSource::Downloaded { from } if from.contains(&*source.path().to_string_lossy()))
    );

    let db = AdvisoryDb::open(data.path()).unwrap().unwrap();
    assert_eq!(db.status().records, 2);
    let vulns = jinja_vulns(&db);
    assert_eq!(
        vulns.len(),
        1,
        "PYSEC and GHSA records are one vulnerability"
    );
    assert_eq!(vulns[0].id, "PYSEC-2019-217");
    assert_eq!(vulns[0].severity.rating, Some(pyward_guard::Severity::High));
    assert_eq!(vulns[0].fixed_in, [Version::from_str("2.10.1").unwrap()]);
}

#[tokio::test]
async fn update_from_a_zip_like_osvs_export() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("all.zip");
    std::fs::write(
        &zip_path,
        zip_of(&[
            ("GHSA-462w-v97r-4m45.json", JSON_RECORD),
            ("MAL-2024-1.json", MALWARE_RECORD),
            ("PYSEC-bad.json", "{\"id\": 12}"),
        ]),
    )
    .unwrap();
    let data = dir.path().join("data");
    let status = update(&UpdateSource::from_arg(&zip_path.to_string_lossy()), &data)
        .await
        .unwrap();
    assert_eq!(
        (status.records, status.packages, status.skipped_records),
        (2, 2, 1)
    );
    let db = AdvisoryDb::load(&data).unwrap();
    let malware = db
        .vulnerabilities(
            &PackageName::from_str("reqeusts").unwrap(),
            &Version::from_str("2.0").unwrap(),
        )
        .unwrap();
    assert!(malware[0].malware);
}

/// Serve `body` with `status` to each connection, on 127.0.0.1.
async fn serve(status: &'static str, body: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        for _ in 0..4 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: application/zip\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&body).await;
            let _ = socket.shutdown().await;
        }
    });
    format!("http://{addr}/PyPI/all.zip")
}

#[tokio::test]
async fn update_from_a_url() {
    let url = serve(
        "200 OK",
        zip_of(&[("GHSA-462w-v97r-4m45.json", JSON_RECORD)]),
    )
    .await;
    let data = tempfile::tempdir().unwrap();
    let status = update(&UpdateSource::from_arg(&url), data.path())
        .await
        .unwrap();
    assert_eq!(status.records, 1);
    assert_eq!(status.source, DataSource::Downloaded { from: url });
    assert_eq!(
        jinja_vulns(&AdvisoryDb::load(data.path()).unwrap())[0].id,
        "GHSA-462w-v97r-4m45"
    );
    let leftovers: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers,
        [STORE_FILE_NAME],
        "the download is not left behind"
    );
}

#[tokio::test]
async fn a_failed_update_keeps_the_previous_database() {
    let source = records_dir();
    let data = tempfile::tempdir().unwrap();
    let before = update(&UpdateSource::Dir(source.path().to_path_buf()), data.path())
        .await
        .unwrap();
    let store = data.path().join(STORE_FILE_NAME);
    let bytes_before = std::fs::read(&store).unwrap();

    let only_bad = tempfile::tempdir().unwrap();
    write(&only_bad.path().join("x.yaml"), "::: not yaml :::\n\t- [");
    let not_a_zip = only_bad.path().join("not.zip");
    std::fs::write(&not_a_zip, b"PK\x03\x04 truncated").unwrap();
    let not_found = serve("404 Not Found", b"nope".to_vec()).await;

    let failures = [
        update(
            &UpdateSource::Dir(only_bad.path().to_path_buf()),
            data.path(),
        )
        .await,
        update(&UpdateSource::Zip(not_a_zip), data.path()).await,
        update(
            &UpdateSource::Zip(only_bad.path().join("missing.zip")),
            data.path(),
        )
        .await,
        update(
            &UpdateSource::Dir(only_bad.path().join("missing")),
            data.path(),
        )
        .await,
        update(&UpdateSource::Url(not_found), data.path()).await,
        update(
            &UpdateSource::Url("http://127.0.0.1:1/all.zip".into()),
            data.path(),
        )
        .await,
    ];
    let kinds: Vec<&str> = failures
        .iter()
        .map(|r| match r {
            Err(AuditError::NoRecords { .. }) => "no-records",
            Err(AuditError::Archive { .. }) => "archive",
            Err(AuditError::Io { .. }) => "io",
            Err(AuditError::Download { .. }) => "download",
            other => panic!("expected a failure, got {other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        ["no-records", "archive", "io", "io", "download", "download"]
    );
    for failure in &failures {
        let message = failure.as_ref().unwrap_err().to_string();
        assert!(!message.is_empty());
    }

    assert_eq!(std::fs::read(&store).unwrap(), bytes_before);
    let after = AdvisoryDb::load(data.path()).unwrap().status();
    assert_eq!(after, before);
    let leftovers: Vec<_> = std::fs::read_dir(data.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, [STORE_FILE_NAME]);
}
