//! What the server stores and sends: a submitted report and its validation,
//! stored rows, the public flag feed, token listings, and time stamps.

use std::str::FromStr;

use pyward_dist::{PackageName, Version, VersionSpecifiers};
use pyward_guard::Finding;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Version of the flag feed's JSON shape.
pub const FEED_FORMAT: u32 = 1;
/// Longest token label.
pub const MAX_LABEL_CHARS: usize = 100;
const MAX_ID_CHARS: usize = 64;
const MIN_ID_CHARS: usize = 8;
const MAX_NAME_CHARS: usize = 200;
const MAX_VERSION_CHARS: usize = 100;
pub const MAX_REASON_CHARS: usize = 4000;
const MAX_FINDINGS: usize = 200;
const MAX_FILES: usize = 100;
const MAX_URL_CHARS: usize = 2048;
const MAX_CLIENT_CHARS: usize = 100;
const MAX_FILENAME_CHARS: usize = 255;

/// A report as a client submits it (body of `POST /api/v1/reports`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    /// Chosen by the client, so a retried submission is recognised.
    pub id: String,
    pub package: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The reporter's own words.
    pub reason: String,
    /// pyward's findings about the package (scan, trust, integrity…).
    #[serde(default)]
    pub evidence: Vec<Finding>,
    #[serde(default)]
    pub files: Vec<FileHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
    /// The trust card as the client's `--json` shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<serde_json::Value>,
    /// Client program and version, e.g. `pyward 0.1.0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// When the client composed the report (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// One file of the reported package and its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub filename: String,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A submission that passed validation, normalized, ready to store.
#[derive(Debug, Clone)]
pub struct ValidReport {
    pub id: String,
    pub package: String,
    pub version: Option<String>,
    pub reason: String,
    /// The normalized submission as JSON.
    pub body: String,
    pub body_sha256: String,
}

/// Whether `id` is a valid client-chosen report id.
pub fn valid_report_id(id: &str) -> bool {
    (MIN_ID_CHARS..=MAX_ID_CHARS).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Submission {
    /// Check every field; on success the package name and version are
    /// normalized. The error names the field and the rule.
    pub fn validate(mut self) -> Result<ValidReport, String> {
        if !valid_report_id(&self.id) {
            return Err(format!(
                "id: must be {MIN_ID_CHARS} to {MAX_ID_CHARS} letters, digits, '-' or '_'"
            ));
        }
        let package = parse_package(&self.package)?;
        self.package = package.to_string();
        if let Some(v) = &self.version {
            self.version = Some(parse_version(v)?.to_string());
        }
        let reason = self.reason.trim();
        if reason.is_empty() {
            return Err("reason: must not be empty".to_string());
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(format!("reason: longer than {MAX_REASON_CHARS} characters"));
        }
        if reason.chars().any(is_bad_control) {
            return Err("reason: contains control characters".to_string());
        }
        self.reason = reason.to_string();
        if self.evidence.len() > MAX_FINDINGS {
            return Err(format!("evidence: more than {MAX_FINDINGS} findings"));
        }
        if self.files.len() > MAX_FILES {
            return Err(format!("files: more than {MAX_FILES} files"));
        }
        for f in &mut self.files {
            if f.filename.is_empty()
                || f.filename.chars().count() > MAX_FILENAME_CHARS
                || f.filename.contains(['/', '\\'])
                || f.filename.chars().any(char::is_control)
            {
                return Err(
                    "files: a file name is empty, too long, or has a path in it".to_string()
                );
            }
            if f.sha256.len() != 64 || !f.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!(
                    "files: {}: sha256 must be 64 hex digits",
                    f.filename
                ));
            }
            f.sha256.make_ascii_lowercase();
            if let Some(u) = &f.url {
                check_url(u).map_err(|e| format!("files: {}: url {e}", f.filename))?;
            }
        }
        if let Some(u) = &self.index_url {
            check_url(u).map_err(|e| format!("index_url: {e}"))?;
        }
        if let Some(c) = &self.client {
            if c.chars().count() > MAX_CLIENT_CHARS || c.chars().any(char::is_control) {
                return Err(format!(
                    "client: at most {MAX_CLIENT_CHARS} characters, no control characters"
                ));
            }
        }
        if let Some(t) = &self.created_at {
            if jiff::Timestamp::from_str(t).is_err() {
                return Err("created_at: must be an RFC 3339 time stamp".to_string());
            }
        }
        if self.trust.as_ref().is_some_and(|t| !t.is_object()) {
            return Err("trust: must be a JSON object".to_string());
        }
        let body = serde_json::to_string(&self)
            .map_err(|e| format!("the report cannot be stored: {e}"))?;
        let body_sha256 = hex::encode(Sha256::digest(body.as_bytes()));
        Ok(ValidReport {
            id: self.id,
            package: self.package,
            version: self.version,
            reason: self.reason,
            body,
            body_sha256,
        })
    }
}

/// Control characters other than newline and tab.
fn is_bad_control(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t' && c != '\r'
}

pub fn parse_package(name: &str) -> Result<PackageName, String> {
    if name.is_empty() || name.len() > MAX_NAME_CHARS {
        return Err(format!("package: must be 1 to {MAX_NAME_CHARS} characters"));
    }
    PackageName::from_str(name).map_err(|_| {
        "package: not a valid Python package name (letters, digits, '.', '-', '_'; starting and ending with a letter or digit)".to_string()
    })
}

fn parse_version(v: &str) -> Result<Version, String> {
    if v.is_empty() || v.len() > MAX_VERSION_CHARS {
        return Err(format!(
            "version: must be 1 to {MAX_VERSION_CHARS} characters"
        ));
    }
    Version::from_str(v).map_err(|_| format!("version: {v:?} is not a valid version (PEP 440)"))
}

fn check_url(u: &str) -> Result<(), String> {
    if u.len() > MAX_URL_CHARS {
        return Err(format!("longer than {MAX_URL_CHARS} characters"));
    }
    match url::Url::parse(u) {
        Ok(parsed) if matches!(parsed.scheme(), "http" | "https" | "file") => Ok(()),
        Ok(_) => Err("must be an http, https or file URL".to_string()),
        Err(_) => Err("is not a valid URL".to_string()),
    }
}

/// Which versions a flag covers: `"all"`, or PEP 440 specifiers such as
/// `==1.2.3` or `>=1.0,<1.4`. Returns the normalized text.
pub fn parse_versions(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() || text.eq_ignore_ascii_case("all") || text == "*" {
        return Ok("all".to_string());
    }
    if text.len() > MAX_VERSION_CHARS * 4 {
        return Err("versions: too long".to_string());
    }
    let specs = VersionSpecifiers::from_str(text).map_err(|e| {
        format!("versions: {text:?} is not \"all\" or a PEP 440 version range: {e}")
    })?;
    if specs.is_empty() {
        return Ok("all".to_string());
    }
    Ok(specs.to_string())
}

/// A report as stored.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub id: String,
    pub package: String,
    pub version: Option<String>,
    pub reason: String,
    pub body: String,
    pub submitter: String,
    pub created_at: i64,
    pub status: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub decision_note: Option<String>,
}

/// A report as moderators see it through the API.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub id: String,
    pub package: String,
    pub version: Option<String>,
    pub reason: String,
    pub status: String,
    pub submitter: String,
    pub submitted_at: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    /// The full submission: evidence, files, index URL, trust card.
    pub report: Option<Submission>,
}

impl From<ReportRow> for ReportView {
    fn from(r: ReportRow) -> ReportView {
        ReportView {
            report: serde_json::from_str(&r.body).ok(),
            id: r.id,
            package: r.package,
            version: r.version,
            reason: r.reason,
            status: r.status,
            submitter: r.submitter,
            submitted_at: format_millis(r.created_at),
            decided_by: r.decided_by,
            decided_at: r.decided_at.map(format_millis),
            decision_note: r.decision_note,
        }
    }
}

/// A flag as stored.
#[derive(Debug, Clone)]
pub struct FlagRow {
    pub id: i64,
    pub package: String,
    pub versions: String,
    pub reason: String,
    pub report_id: Option<String>,
    pub confirmed_by: String,
    pub confirmed_at: i64,
}

/// One entry of the flag feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedFlag {
    pub id: i64,
    /// Normalized package name.
    pub name: String,
    /// `"all"` or PEP 440 specifiers.
    pub versions: String,
    pub reason: String,
    pub confirmed_by: String,
    /// RFC 3339.
    pub confirmed_at: String,
    /// The server's name ([`crate::Config::name`]).
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// The flag feed (`GET /api/v1/flags`): every flag in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagFeed {
    pub format: u32,
    pub source: String,
    pub flags: Vec<FeedFlag>,
}

impl FlagRow {
    pub fn to_feed(&self, source: &str) -> FeedFlag {
        FeedFlag {
            id: self.id,
            name: self.package.clone(),
            versions: self.versions.clone(),
            reason: self.reason.clone(),
            confirmed_by: self.confirmed_by.clone(),
            confirmed_at: format_millis(self.confirmed_at),
            source: source.to_string(),
            report: self.report_id.clone(),
        }
    }
}

/// Counts anyone may see.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub open: i64,
    pub confirmed: i64,
    pub dismissed: i64,
    pub flags: i64,
}

/// A token as `pyward server token list` shows it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub role: crate::Role,
    pub label: String,
    /// RFC 3339.
    pub created_at: String,
    pub revoked: bool,
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// RFC 3339 in UTC, to the second.
pub fn format_millis(ms: i64) -> String {
    jiff::Timestamp::from_second(ms.div_euclid(1000))
        .map(|t| t.to_string())
        .unwrap_or_else(|_| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submission() -> Submission {
        Submission {
            id: "report-0001".into(),
            package: "Evil_Pkg".into(),
            version: Some("1.0".into()),
            reason: "  steals tokens \n".into(),
            evidence: vec![],
            files: vec![FileHash {
                filename: "evil_pkg-1.0-py3-none-any.whl".into(),
                sha256: "AB".repeat(32),
                size: Some(10),
                url: Some("https://files.example/evil.whl".into()),
            }],
            index_url: Some("https://pypi.org/simple/".into()),
            trust: None,
            client: Some("pyward 0.1.0".into()),
            created_at: Some("2026-01-02T03:04:05Z".into()),
        }
    }

    #[test]
    fn validation_normalizes() {
        let v = submission().validate().unwrap();
        assert_eq!(v.package, "evil-pkg");
        assert_eq!(v.version.as_deref(), Some("1.0"));
        assert_eq!(v.reason, "steals tokens");
        assert!(v.body.contains(&"ab".repeat(32)));
    }

    #[test]
    fn validation_refuses_bad_fields() {
        type Change = fn(&mut Submission);
        let cases: Vec<(Change, &str)> = vec![
            (|s| s.id = "short".into(), "id:"),
            (|s| s.id = "abc'; DROP TABLE reports;--".into(), "id:"),
            (|s| s.package = "evil pkg".into(), "package:"),
            (|s| s.package = "-evil".into(), "package:"),
            (|s| s.package = "a".repeat(201), "package:"),
            (|s| s.version = Some("1.0; DROP".into()), "version:"),
            (|s| s.reason = "   ".into(), "reason:"),
            (|s| s.reason = "x".repeat(MAX_REASON_CHARS + 1), "reason:"),
            (|s| s.reason = "bell\u{7}".into(), "reason:"),
            (|s| s.files[0].sha256 = "zz".into(), "files:"),
            (
                |s| s.files[0].filename = "../../etc/passwd".into(),
                "files:",
            ),
            (
                |s| s.index_url = Some("javascript:alert(1)".into()),
                "index_url:",
            ),
            (|s| s.trust = Some(serde_json::json!([1])), "trust:"),
            (|s| s.created_at = Some("yesterday".into()), "created_at:"),
        ];
        for (change, field) in cases {
            let mut s = submission();
            change(&mut s);
            let err = s.validate().unwrap_err();
            assert!(err.starts_with(field), "{err} should name {field}");
        }
    }

    #[test]
    fn same_submission_same_hash() {
        let a = submission().validate().unwrap();
        let b = submission().validate().unwrap();
        assert_eq!(a.body_sha256, b.body_sha256);
        let mut c = submission();
        c.reason = "different".into();
        assert_ne!(c.validate().unwrap().body_sha256, a.body_sha256);
    }

    #[test]
    fn version_ranges() {
        assert_eq!(parse_versions("all").unwrap(), "all");
        assert_eq!(parse_versions("").unwrap(), "all");
        assert_eq!(parse_versions("==1.0").unwrap(), "==1.0");
        assert_eq!(parse_versions(">=1.0, <2").unwrap(), ">=1.0, <2");
        assert!(parse_versions("1.0 or so").is_err());
    }
}

#[cfg(test)]
mod proptests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Any submission is accepted or refused with a message, never a
        /// panic; what is accepted keeps the stored invariants.
        #[test]
        fn validation_never_panics(
            id in ".{0,70}",
            package in ".{0,40}",
            version in proptest::option::of(".{0,20}"),
            reason in ".{0,60}",
            sha in ".{0,70}",
            filename in ".{0,30}",
            url in proptest::option::of(".{0,40}"),
        ) {
            let s = Submission {
                id: id.clone(),
                package,
                version,
                reason,
                evidence: vec![],
                files: vec![FileHash { filename, sha256: sha, size: None, url: url.clone() }],
                index_url: url,
                trust: None,
                client: None,
                created_at: None,
            };
            if let Ok(v) = s.validate() {
                prop_assert!(valid_report_id(&v.id));
                prop_assert!(PackageName::from_str(&v.package).is_ok());
                prop_assert!(!v.reason.is_empty());
                prop_assert_eq!(v.body_sha256.len(), 64);
            }
        }

        #[test]
        fn version_ranges_never_panic(text in ".{0,60}") {
            if let Ok(v) = parse_versions(&text) {
                prop_assert!(v == "all" || VersionSpecifiers::from_str(&v).is_ok());
            }
        }
    }
}
