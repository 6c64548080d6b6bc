//! Parsing PEP 691 JSON project pages (`application/vnd.pypi.simple.v1+json`).
//!
//! The common case is parsed in one typed pass. When a page has an entry of
//! an unexpected shape, it is parsed again leniently: bad entries are skipped
//! with a warning instead of failing the whole page.

use std::collections::BTreeMap;
use std::fmt;

use pyward_dist::PackageName;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use url::Url;

use crate::index_url::{redacted, IndexUrl};
use crate::page::{Hashes, MetadataAvailability, PageBuilder, ProjectPage, RawFile};
use crate::IndexError;

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(default, borrow)]
    meta: Meta<'a>,
    #[serde(default)]
    name: Option<String>,
    files: Vec<File<'a>>,
    #[serde(default, rename = "project-status")]
    project_status: Option<Status>,
}

/// The same page, with entries kept as raw JSON to be checked one by one.
#[derive(Deserialize)]
struct LenientPage {
    #[serde(default)]
    meta: serde_json::Value,
    #[serde(default)]
    name: serde_json::Value,
    files: Vec<serde_json::Value>,
    #[serde(default, rename = "project-status")]
    project_status: serde_json::Value,
}

#[derive(Deserialize, Default)]
struct Meta<'a> {
    #[serde(default, borrow, rename = "api-version")]
    api_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, rename = "project-status")]
    project_status: Option<Status>,
}

#[derive(Deserialize)]
struct Status {
    status: String,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Deserialize)]
struct File<'a> {
    #[serde(borrow)]
    filename: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    url: std::borrow::Cow<'a, str>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(default, borrow, rename = "requires-python")]
    requires_python: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    yanked: Option<BoolOrString>,
    #[serde(default, rename = "core-metadata")]
    core_metadata: Option<BoolOrHashes>,
    #[serde(default, rename = "dist-info-metadata")]
    dist_info_metadata: Option<BoolOrHashes>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default, borrow, rename = "upload-time")]
    upload_time: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    provenance: Option<String>,
}

/// `yanked`: `false`, `true`, or the reason.
enum BoolOrString {
    Bool(bool),
    String(String),
}

impl<'de> Deserialize<'de> for BoolOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = BoolOrString;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean or a string")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(BoolOrString::Bool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(BoolOrString::String(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// `core-metadata`: `false`, `true`, or `{algorithm: hex}`.
enum BoolOrHashes {
    Bool(bool),
    Hashes(BTreeMap<String, String>),
}

impl<'de> Deserialize<'de> for BoolOrHashes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BoolOrHashes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a boolean or a table of hashes")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(BoolOrHashes::Bool(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut hashes = BTreeMap::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    hashes.insert(k, v);
                }
                Ok(BoolOrHashes::Hashes(hashes))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parse a PEP 691 project page for `name`, fetched from `url` on `index`.
pub(crate) fn parse_project_page(
    body: &[u8],
    name: &PackageName,
    index: &IndexUrl,
    url: &Url,
) -> Result<ProjectPage, IndexError> {
    let mut builder = PageBuilder::new(name.clone(), index.clone(), url.clone());
    match serde_json::from_slice::<Page>(body) {
        Ok(page) => {
            builder.api_version(page.meta.api_version.as_deref())?;
            check_name(&mut builder, page.name.as_deref(), name);
            if let Some(s) = page.project_status.or(page.meta.project_status) {
                builder.project_status(s.status, s.reason);
            }
            builder.reserve(page.files.len());
            for file in page.files {
                push_file(&mut builder, file);
            }
        }
        Err(strict_error) => {
            let page: LenientPage =
                serde_json::from_slice(body).map_err(|e| IndexError::InvalidResponse {
                    url: redacted(url),
                    reason: format!("the JSON project page is malformed ({e})"),
                })?;
            let api_version = page.meta.get("api-version");
            match api_version {
                None | Some(serde_json::Value::Null) => builder.api_version(None)?,
                Some(serde_json::Value::String(v)) => builder.api_version(Some(v))?,
                Some(other) => builder.api_version(Some(&other.to_string()))?,
            }
            check_name(&mut builder, page.name.as_str(), name);
            let status = [
                &page.project_status,
                page.meta
                    .get("project-status")
                    .unwrap_or(&serde_json::Value::Null),
            ]
            .into_iter()
            .find_map(|v| Status::deserialize(v).ok());
            if let Some(s) = status {
                builder.project_status(s.status, s.reason);
            }
            for (i, value) in page.files.iter().enumerate() {
                match File::deserialize(value) {
                    Ok(file) => push_file(&mut builder, file),
                    Err(e) => {
                        builder.warn(format!("skipped file entry #{} of the page: {e}", i + 1))
                    }
                }
            }
            tracing::debug!("lenient parse of {} after: {strict_error}", redacted(url));
        }
    }
    Ok(builder.finish())
}

fn check_name(builder: &mut PageBuilder, declared: Option<&str>, name: &PackageName) {
    if let Some(declared) = declared {
        if declared.parse::<PackageName>().ok().as_ref() != Some(name) {
            builder.warn(format!(
                "the page for `{name}` calls the project `{declared}`"
            ));
        }
    }
}

fn push_file(builder: &mut PageBuilder, file: File<'_>) {
    let mut hashes = Hashes::default();
    for (algorithm, value) in &file.hashes {
        if !hashes.insert(algorithm, value) {
            builder.warn(format!(
                "ignored an invalid {algorithm} hash of `{}`",
                file.filename
            ));
        }
    }
    let core_metadata = match file.core_metadata.or(file.dist_info_metadata) {
        None | Some(BoolOrHashes::Bool(false)) => MetadataAvailability::Unknown,
        Some(BoolOrHashes::Bool(true)) => MetadataAvailability::Available(Hashes::default()),
        Some(BoolOrHashes::Hashes(map)) => {
            let mut hashes = Hashes::default();
            for (algorithm, value) in &map {
                if !hashes.insert(algorithm, value) {
                    builder.warn(format!(
                        "ignored an invalid {algorithm} hash of the metadata of `{}`",
                        file.filename
                    ));
                }
            }
            MetadataAvailability::Available(hashes)
        }
    };
    let yanked = match file.yanked {
        None | Some(BoolOrString::Bool(false)) => None,
        Some(BoolOrString::Bool(true)) => Some(None),
        // An empty string is falsy: not yanked.
        Some(BoolOrString::String(reason)) if reason.is_empty() => None,
        Some(BoolOrString::String(reason)) => Some(Some(reason)),
    };
    builder.push(RawFile {
        filename: &file.filename,
        url: &file.url,
        hashes,
        requires_python: file.requires_python.as_deref(),
        yanked,
        core_metadata,
        size: file.size,
        upload_time: file.upload_time.as_deref(),
        provenance: file.provenance.as_deref(),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn parse(body: &str) -> Result<ProjectPage, IndexError> {
        let name = PackageName::from_str("demo").unwrap();
        let url = Url::parse("https://example.org/simple/demo/").unwrap();
        parse_project_page(body.as_bytes(), &name, &IndexUrl::pypi(), &url)
    }

    const SHA: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    #[test]
    fn reads_every_field() {
        let body = format!(
            r#"{{"meta": {{"api-version": "1.4", "_last-serial": 1}}, "name": "Demo",
              "project-status": {{"status": "archived", "reason": "moved"}},
              "files": [
                {{"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl",
                  "hashes": {{"sha256": "{upper}", "md5": "ab"}}, "requires-python": ">=3.8",
                  "yanked": "broken build", "core-metadata": {{"sha256": "{SHA}"}},
                  "size": 123, "upload-time": "2024-01-01T00:00:00Z",
                  "provenance": "https://example.org/integrity/demo/1.0/demo-1.0-py3-none-any.whl/provenance",
                  "gpg-sig": false, "unknown-key": [1, 2]}},
                {{"filename": "demo-1.0.tar.gz", "url": "https://files.example.org/demo-1.0.tar.gz",
                  "hashes": {{}}, "yanked": true, "dist-info-metadata": true, "provenance": "{SHA}"}},
                {{"filename": "demo-0.9.tar.gz", "url": "x", "hashes": {{}}, "yanked": "",
                  "core-metadata": false, "dist-info-metadata": true}}
              ]}}"#,
            upper = SHA.to_uppercase()
        );
        let page = parse(&body).unwrap();
        assert_eq!(page.api_version, crate::ApiVersion { major: 1, minor: 4 });
        assert_eq!(page.project_status.as_ref().unwrap().status, "archived");
        assert_eq!(page.files.len(), 3);
        let w = &page.files[0];
        assert_eq!(
            w.url.as_str(),
            "https://example.org/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(w.hashes.sha256.as_deref(), Some(SHA));
        assert_eq!(w.hashes.others.get("md5").map(String::as_str), Some("ab"));
        assert_eq!(w.requires_python.as_ref().unwrap().to_string(), ">=3.8");
        assert!(w.yanked);
        assert_eq!(w.yank_reason.as_deref(), Some("broken build"));
        match &w.core_metadata {
            MetadataAvailability::Available(h) => assert_eq!(h.sha256.as_deref(), Some(SHA)),
            other => panic!("expected available metadata, got {other:?}"),
        }
        assert_eq!(w.size, Some(123));
        assert!(w.provenance.is_some());
        let s = &page.files[1];
        assert!(s.yanked && s.yank_reason.is_none());
        assert_eq!(
            s.core_metadata,
            MetadataAvailability::Available(Hashes::default())
        );
        assert!(s.provenance.is_none(), "a digest is not a provenance URL");
        let old = &page.files[2];
        assert!(!old.yanked);
        assert_eq!(
            old.core_metadata,
            MetadataAvailability::Unknown,
            "core-metadata wins over the legacy key"
        );
    }

    #[test]
    fn skips_bad_entries_with_warnings() {
        let body = r#"{"meta": {"api-version": "1.0"}, "files": [
            {"filename": "demo-1.0.tar.gz", "url": "a", "hashes": {}, "size": "big"},
            {"filename": "demo-2.0.tar.gz", "url": "b", "hashes": {}, "requires-python": ">=3.x"},
            {"filename": "other-1.0.tar.gz", "url": "c", "hashes": {}},
            {"filename": "demo-1.0.win32.exe", "url": "d", "hashes": {}},
            {"filename": "demo-3.0-py3-none-any.whl", "url": "e", "hashes": {"sha256": "nothex"}}
        ]}"#;
        let page = parse(body).unwrap();
        let names: Vec<&str> = page.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["demo-2.0.tar.gz", "demo-3.0-py3-none-any.whl"]);
        assert!(page.files[0].requires_python.is_none());
        assert!(page.files[1].hashes.is_empty());
        let warnings = page.warnings.join("\n");
        assert!(warnings.contains("entry #1"), "{warnings}");
        assert!(warnings.contains(">=3.x"), "{warnings}");
        assert!(warnings.contains("`other-1.0.tar.gz`"), "{warnings}");
        assert!(warnings.contains("1 file(s) of kinds"), "{warnings}");
        assert!(warnings.contains("invalid sha256"), "{warnings}");
    }

    #[test]
    fn rejects_newer_major_and_garbage() {
        assert!(matches!(
            parse(r#"{"meta": {"api-version": "2.0"}, "files": []}"#),
            Err(IndexError::UnsupportedApiVersion { .. })
        ));
        assert!(matches!(
            parse("<html>"),
            Err(IndexError::InvalidResponse { .. })
        ));
        assert!(matches!(
            parse(r#"{"meta": {}}"#),
            Err(IndexError::InvalidResponse { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = parse_project_page(&body, &PackageName::from_str("demo").unwrap(), &IndexUrl::pypi(),
                &Url::parse("https://example.org/simple/demo/").unwrap());
        }

        #[test]
        fn arbitrary_entries_never_panic(
            filename in "\\PC{0,40}", url in "\\PC{0,40}", rp in "\\PC{0,20}",
            yanked in proptest::prop_oneof![proptest::strategy::Just("true".to_string()), "\"\\PC{0,10}\""],
            hash in "[0-9a-fA-F]{0,70}", size in proptest::num::i64::ANY,
        ) {
            let file = serde_json::json!({
                "filename": filename, "url": url, "requires-python": rp,
                "hashes": {"sha256": hash}, "size": size,
                "core-metadata": {"sha256": hash}, "provenance": url,
            });
            let mut file = file;
            if let Ok(y) = serde_json::from_str::<serde_json::Value>(&yanked) {
                file["yanked"] = y;
            }
            let body = serde_json::json!({"meta": {"api-version": "1.1"}, "files": [file]}).to_string();
            let _ = parse(&body);
        }
    }
}
