//! What a project page says, once parsed: `ProjectPage` and its `DistFile`s,
//! plus the checks shared by the JSON and HTML parsers (filenames, hashes,
//! requires-python, API version).

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use pyward_dist::{DistFilename, FilenameError, PackageName, VersionSpecifiers};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use url::Url;

use crate::index_url::{redacted, IndexUrl};
use crate::IndexError;

/// A version of the Simple API (`meta.api-version`), `1.0` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
}

impl ApiVersion {
    /// The newest version pyward understands (1.4 adds project status).
    pub const SUPPORTED: ApiVersion = ApiVersion { major: 1, minor: 4 };
    /// What an index means when it states no version.
    pub const DEFAULT: ApiVersion = ApiVersion { major: 1, minor: 0 };

    fn parse(s: &str) -> Option<Self> {
        let (major, minor) = s.trim().split_once('.')?;
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        })
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Hashes the index publishes for a file, lowercase hex.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    pub sha256: Option<String>,
    /// Other algorithms (`sha512`, `md5`, …), by lowercase name.
    #[serde(default)]
    pub others: BTreeMap<String, String>,
}

impl Hashes {
    /// True when the index published no hash at all.
    pub fn is_empty(&self) -> bool {
        self.sha256.is_none() && self.others.is_empty()
    }

    /// Add `algorithm=value`; false (and nothing added) when the value is not hex
    /// or a sha256 is not 64 digits long.
    pub(crate) fn insert(&mut self, algorithm: &str, value: &str) -> bool {
        let value = value.trim();
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        let algorithm = algorithm.trim().to_ascii_lowercase();
        let value = value.to_ascii_lowercase();
        if algorithm == "sha256" {
            if value.len() != 64 {
                return false;
            }
            self.sha256 = Some(value);
        } else {
            self.others.insert(algorithm, value);
        }
        true
    }

    /// Check `bytes` against every published hash pyward can compute
    /// (sha224, sha256, sha384, sha512). On a mismatch, returns
    /// `(algorithm, expected, actual)`. Other algorithms are not checked.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), (String, String, String)> {
        fn check<D: Digest>(
            name: &str,
            expected: &str,
            bytes: &[u8],
        ) -> Result<(), (String, String, String)> {
            let actual = hex::encode(D::digest(bytes));
            if actual == expected {
                Ok(())
            } else {
                Err((name.to_string(), expected.to_string(), actual))
            }
        }
        if let Some(expected) = &self.sha256 {
            check::<sha2::Sha256>("sha256", expected, bytes)?;
        }
        for (algorithm, expected) in &self.others {
            match algorithm.as_str() {
                "sha224" => check::<sha2::Sha224>(algorithm, expected, bytes)?,
                "sha384" => check::<sha2::Sha384>(algorithm, expected, bytes)?,
                "sha512" => check::<sha2::Sha512>(algorithm, expected, bytes)?,
                _ => {}
            }
        }
        Ok(())
    }
}

/// Whether the index serves the file's core metadata separately (PEP 658/714).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataAvailability {
    /// The index does not say, or says no: the metadata is inside the file only.
    #[default]
    Unknown,
    /// `{url}.metadata` exists; its hashes, when the index gives them.
    Available(Hashes),
}

/// The status of a whole project (PEP 792): `active`, `archived`,
/// `quarantined`, `deprecated`, or a value newer than pyward.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectStatus {
    pub status: String,
    pub reason: Option<String>,
}

/// One distribution file listed on a project page.
#[derive(Debug, Clone, PartialEq)]
pub struct DistFile {
    pub filename: String,
    /// The parsed filename (name, version, tags).
    pub dist: DistFilename,
    /// Where to download it (absolute, without the `#hash` fragment).
    pub url: Url,
    pub hashes: Hashes,
    /// `None` when the index gives none, or gives one that does not parse
    /// (the page then carries a warning).
    pub requires_python: Option<VersionSpecifiers>,
    pub yanked: bool,
    pub yank_reason: Option<String>,
    pub core_metadata: MetadataAvailability,
    pub size: Option<u64>,
    /// `yyyy-mm-ddThh:mm:ss[.ffffff]Z`, as the index gives it.
    pub upload_time: Option<String>,
    /// Where the PEP 740 provenance of this file is published.
    pub provenance: Option<Url>,
}

impl DistFile {
    /// The URL of the separate metadata file (PEP 658): `{url}.metadata`.
    pub fn metadata_url(&self) -> Url {
        let mut url = self.url.clone();
        let path = format!("{}.metadata", url.path());
        url.set_path(&path);
        url
    }
}

/// The serialized form of a `DistFile`: the parsed filename is not stored but
/// parsed again on load, with the project name for legacy sdist names. Every
/// field is always written, so non-self-describing formats work too.
#[derive(Serialize)]
struct DistFileOut<'a> {
    filename: &'a str,
    project: &'a PackageName,
    url: &'a Url,
    hashes: &'a Hashes,
    requires_python: Option<String>,
    yanked: bool,
    yank_reason: Option<&'a str>,
    core_metadata: &'a MetadataAvailability,
    size: Option<u64>,
    upload_time: Option<&'a str>,
    provenance: Option<&'a Url>,
}

#[derive(Deserialize)]
struct DistFileIn {
    filename: String,
    project: PackageName,
    url: Url,
    hashes: Hashes,
    #[serde(default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    yank_reason: Option<String>,
    #[serde(default)]
    core_metadata: MetadataAvailability,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    upload_time: Option<String>,
    #[serde(default)]
    provenance: Option<Url>,
}

/// Parse a `requires-python` value, remembering the answer: a page repeats
/// the same few values thousands of times.
fn parse_requires_python(text: &str) -> Option<VersionSpecifiers> {
    thread_local! {
        static PARSED: RefCell<HashMap<String, Option<VersionSpecifiers>>> = RefCell::new(HashMap::new());
    }
    PARSED.with(|parsed| {
        let mut parsed = parsed.borrow_mut();
        if let Some(known) = parsed.get(text) {
            return known.clone();
        }
        if parsed.len() > 10_000 {
            parsed.clear();
        }
        let value = VersionSpecifiers::from_str(text).ok();
        parsed.insert(text.to_string(), value.clone());
        value
    })
}

impl Serialize for DistFile {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        DistFileOut {
            filename: &self.filename,
            project: self.dist.name(),
            url: &self.url,
            hashes: &self.hashes,
            requires_python: self.requires_python.as_ref().map(ToString::to_string),
            yanked: self.yanked,
            yank_reason: self.yank_reason.as_deref(),
            core_metadata: &self.core_metadata,
            size: self.size,
            upload_time: self.upload_time.as_deref(),
            provenance: self.provenance.as_ref(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for DistFile {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let f = DistFileIn::deserialize(d)?;
        let dist =
            DistFilename::parse(&f.filename, Some(&f.project)).map_err(serde::de::Error::custom)?;
        Ok(DistFile {
            filename: f.filename,
            dist,
            url: f.url,
            hashes: f.hashes,
            requires_python: f.requires_python.as_deref().and_then(parse_requires_python),
            yanked: f.yanked,
            yank_reason: f.yank_reason,
            core_metadata: f.core_metadata,
            size: f.size,
            upload_time: f.upload_time,
            provenance: f.provenance,
        })
    }
}

/// A project's page on one index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub name: PackageName,
    /// The index this page came from (the first index that has the project).
    pub index: IndexUrl,
    /// The final URL of the page (after redirects).
    pub url: Url,
    pub api_version: ApiVersion,
    pub files: Vec<DistFile>,
    pub project_status: Option<ProjectStatus>,
    /// Things worth telling the user: files skipped, values ignored, a newer API.
    pub warnings: Vec<String>,
}

/// A file entry as either parser read it, before checking.
#[derive(Default)]
pub(crate) struct RawFile<'a> {
    pub filename: &'a str,
    pub url: &'a str,
    pub hashes: Hashes,
    pub requires_python: Option<&'a str>,
    pub yanked: Option<Option<String>>,
    pub core_metadata: MetadataAvailability,
    pub size: Option<u64>,
    pub upload_time: Option<&'a str>,
    pub provenance: Option<&'a str>,
}

/// Turns raw file entries into a `ProjectPage`, collecting warnings.
pub(crate) struct PageBuilder {
    name: PackageName,
    index: IndexUrl,
    url: Url,
    api_version: ApiVersion,
    files: Vec<DistFile>,
    project_status: Option<ProjectStatus>,
    warnings: Vec<String>,
    /// Invalid `requires-python` values already warned about.
    invalid_requires_python: HashSet<String>,
    unsupported_kinds: usize,
}

impl PageBuilder {
    pub fn new(name: PackageName, index: IndexUrl, url: Url) -> Self {
        PageBuilder {
            name,
            index,
            url,
            api_version: ApiVersion::DEFAULT,
            files: Vec::new(),
            project_status: None,
            warnings: Vec::new(),
            invalid_requires_python: HashSet::new(),
            unsupported_kinds: 0,
        }
    }

    pub fn reserve(&mut self, n: usize) {
        self.files.reserve(n);
    }

    pub fn warn(&mut self, message: String) {
        self.warnings.push(message);
    }

    /// Check the page's declared API version: a newer major is an error, a
    /// newer minor a warning.
    pub fn api_version(&mut self, declared: Option<&str>) -> Result<(), IndexError> {
        let Some(declared) = declared else {
            return Ok(());
        };
        let version = ApiVersion::parse(declared).ok_or_else(|| IndexError::InvalidResponse {
            url: redacted(&self.url),
            reason: format!("the API version `{declared}` is not of the form MAJOR.MINOR"),
        })?;
        if version.major != ApiVersion::SUPPORTED.major {
            return Err(IndexError::UnsupportedApiVersion {
                url: redacted(&self.url),
                version: declared.to_string(),
            });
        }
        if version.minor > ApiVersion::SUPPORTED.minor {
            self.warn(format!(
                "the index uses API version {version}, newer than the {} pyward knows; some information may be ignored",
                ApiVersion::SUPPORTED
            ));
        }
        self.api_version = version;
        Ok(())
    }

    pub fn project_status(&mut self, status: String, reason: Option<String>) {
        self.project_status = Some(ProjectStatus { status, reason });
    }

    /// Check one file entry and add it, or skip it with a warning.
    pub fn push(&mut self, raw: RawFile<'_>) {
        let filename = raw.filename.trim();
        let dist = match DistFilename::parse(filename, Some(&self.name)) {
            Ok(dist) => dist,
            Err(FilenameError::UnknownKind(_)) => {
                // .egg, .exe, .msi…: not installable by pyward, not worth a warning each.
                self.unsupported_kinds += 1;
                return;
            }
            Err(e) => {
                self.warn(format!("skipped a file: {e}"));
                return;
            }
        };
        if dist.name() != &self.name {
            self.warn(format!(
                "skipped `{filename}`: it belongs to `{}`, not `{}`",
                dist.name(),
                self.name
            ));
            return;
        }
        let mut url = match self.url.join(raw.url.trim()) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            Ok(url) => {
                self.warn(format!(
                    "skipped `{filename}`: its URL uses the unsupported scheme `{}`",
                    url.scheme()
                ));
                return;
            }
            Err(e) => {
                self.warn(format!("skipped `{filename}`: its URL is invalid ({e})"));
                return;
            }
        };
        let mut hashes = raw.hashes;
        if let Some(fragment) = url.fragment() {
            if let Some((algorithm, value)) = fragment.split_once('=') {
                if !hashes.insert(algorithm, value) {
                    self.warnings.push(format!(
                        "ignored an invalid {algorithm} hash of `{filename}`"
                    ));
                }
            }
            url.set_fragment(None);
        }
        let requires_python = raw.requires_python.map(str::trim).filter(|s| !s.is_empty());
        let requires_python = match requires_python {
            None => None,
            Some(text) => {
                let parsed = parse_requires_python(text);
                if parsed.is_none() && self.invalid_requires_python.insert(text.to_string()) {
                    self.warnings.push(format!(
                        "ignored the invalid requires-python `{text}` of `{filename}` (and of any other file with it)"
                    ));
                }
                parsed
            }
        };
        // An absolute URL; the first draft of PEP 740 put a digest here.
        let provenance = raw
            .provenance
            .and_then(|p| Url::parse(p.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"));
        let (yanked, yank_reason) = match raw.yanked {
            None => (false, None),
            Some(reason) => (true, reason.filter(|r| !r.trim().is_empty())),
        };
        self.files.push(DistFile {
            filename: filename.to_string(),
            dist,
            url,
            hashes,
            requires_python,
            yanked,
            yank_reason,
            core_metadata: raw.core_metadata,
            size: raw.size,
            upload_time: raw.upload_time.map(str::to_string),
            provenance,
        });
    }

    pub fn finish(mut self) -> ProjectPage {
        if self.unsupported_kinds > 0 {
            self.warnings.push(format!(
                "ignored {} file(s) of kinds pyward does not install (such as .egg or .exe)",
                self.unsupported_kinds
            ));
        }
        ProjectPage {
            name: self.name,
            index: self.index,
            url: self.url,
            api_version: self.api_version,
            files: self.files,
            project_status: self.project_status,
            warnings: self.warnings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_lowercased_and_checked() {
        let mut h = Hashes::default();
        assert!(!h.insert("sha256", "xyz"));
        assert!(!h.insert("sha256", "abcd"));
        let digest = hex::encode(sha2::Sha256::digest(b"hello"));
        assert!(h.insert("SHA256", &digest.to_uppercase()));
        assert_eq!(h.sha256.as_deref(), Some(digest.as_str()));
        assert!(h.verify(b"hello").is_ok());
        let (algorithm, expected, _) = h.verify(b"tampered").unwrap_err();
        assert_eq!(
            (algorithm.as_str(), expected.as_str()),
            ("sha256", digest.as_str())
        );
    }

    #[test]
    fn pages_round_trip_through_json_and_postcard() {
        let url = Url::parse("https://x.org/simple/python-dateutil/").unwrap();
        let mut b = PageBuilder::new(
            PackageName::from_str("python-dateutil").unwrap(),
            IndexUrl::pypi(),
            url,
        );
        let mut hashes = Hashes::default();
        hashes.insert("sha256", &"ab".repeat(32));
        hashes.insert("md5", "ff");
        b.push(RawFile {
            filename: "python-dateutil-2.8.2.tar.gz",
            url: "../../f/python-dateutil-2.8.2.tar.gz",
            hashes,
            requires_python: Some("!=3.0.*,>=2.7"),
            yanked: Some(Some("oops".into())),
            core_metadata: MetadataAvailability::Available(Hashes::default()),
            size: Some(3),
            upload_time: Some("2021-01-01T00:00:00Z"),
            provenance: Some("https://x.org/p"),
        });
        b.push(RawFile {
            filename: "python_dateutil-2.8.2-py2.py3-none-any.whl",
            url: "https://f.org/w.whl",
            ..RawFile::default()
        });
        b.project_status("archived".into(), None);
        let page = b.finish();
        assert_eq!(page.files.len(), 2);
        let json: ProjectPage =
            serde_json::from_slice(&serde_json::to_vec(&page).unwrap()).unwrap();
        assert_eq!(json, page);
        let binary: ProjectPage =
            postcard::from_bytes(&postcard::to_allocvec(&page).unwrap()).unwrap();
        assert_eq!(binary, page);
    }

    #[test]
    fn api_versions() {
        let url = Url::parse("https://x.org/simple/a/").unwrap();
        let mut b = PageBuilder::new(PackageName::from_str("a").unwrap(), IndexUrl::pypi(), url);
        assert!(b.api_version(Some("1.1")).is_ok());
        assert!(b.warnings.is_empty());
        assert!(b.api_version(Some("1.99")).is_ok());
        assert_eq!(b.warnings.len(), 1);
        assert!(matches!(
            b.api_version(Some("2.0")),
            Err(IndexError::UnsupportedApiVersion { .. })
        ));
        assert!(matches!(
            b.api_version(Some("one")),
            Err(IndexError::InvalidResponse { .. })
        ));
    }
}
