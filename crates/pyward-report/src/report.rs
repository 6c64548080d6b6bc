//! A report about one package: the reporter's reason and pyward's evidence
//! (findings, file hashes, the index, the trust card), with an id chosen
//! here so a retried submission is never stored twice. Serializes to the
//! JSON the report server takes.

use std::fmt::Write as _;

use pyward_dist::{PackageName, Version};
use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};
use serde::{Deserialize, Serialize};

/// Longest reason the server takes, in characters.
pub const MAX_REASON_CHARS: usize = 4000;
/// Largest report, as JSON, that [`Report::fit`] leaves (the server's
/// default limit is 64 KiB).
pub const MAX_REPORT_BYTES: usize = 60 * 1024;
const MAX_FINDINGS: usize = 200;
const MAX_FILES: usize = 100;

/// Why a report could not be composed.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("the reason is empty: say in a few words what you saw")]
    EmptyReason,
    #[error("the reason is longer than {MAX_REASON_CHARS} characters")]
    LongReason,
    #[error("the system random number generator failed: {0}")]
    Random(String),
}

/// One file of the reported package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHash {
    pub filename: String,
    /// Lower-case hex.
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A report, as sent to the server and kept in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Chosen by the client (`r-` and 24 hex digits).
    pub id: String,
    /// Normalized package name.
    pub package: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub reason: String,
    #[serde(default)]
    pub evidence: Vec<Finding>,
    #[serde(default)]
    pub files: Vec<FileHash>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_url: Option<String>,
    /// The trust card as `pyward info --json` shows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    /// RFC 3339, when the report was composed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

impl Report {
    /// A report with a fresh id. `reason` is the user's own words.
    pub fn new(
        package: &PackageName,
        version: Option<&Version>,
        reason: &str,
    ) -> Result<Report, ReportError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(ReportError::EmptyReason);
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return Err(ReportError::LongReason);
        }
        Ok(Report {
            id: new_report_id()?,
            package: package.to_string(),
            version: version.map(ToString::to_string),
            reason: reason.to_string(),
            evidence: Vec::new(),
            files: Vec::new(),
            index_url: None,
            trust: None,
            client: Some(crate::client_name()),
            created_at: jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
                .ok()
                .map(|t| t.to_string()),
        })
    }

    /// Add pyward's findings about the package.
    pub fn with_evidence(mut self, findings: impl IntoIterator<Item = Finding>) -> Report {
        self.evidence.extend(findings);
        self
    }

    pub fn with_file(mut self, file: FileHash) -> Report {
        self.files.push(file);
        self
    }

    pub fn with_index_url(mut self, url: impl Into<String>) -> Report {
        self.index_url = Some(url.into());
        self
    }

    /// The trust card, serialized (`serde_json::to_value(&card)`).
    pub fn with_trust(mut self, card: serde_json::Value) -> Report {
        self.trust = Some(card);
        self
    }

    /// The report as JSON.
    pub fn to_json(&self) -> String {
        // A Report holds only strings, numbers and JSON values: serializing
        // cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Make the report fit the server's limits: keep the most severe
    /// findings (at most 200), at most 100 files, drop the trust card if
    /// needed, until the JSON is at most [`MAX_REPORT_BYTES`]. What was left
    /// out is said in a final notice finding. Deterministic: the same report
    /// always fits to the same bytes, so retries stay identical.
    pub fn fit(&mut self) {
        let total = self.evidence.len();
        // Most severe first; stable, so equal findings keep their order.
        self.evidence.sort_by_key(|f| std::cmp::Reverse(f.severity));
        self.evidence.truncate(MAX_FINDINGS - 1);
        self.files.truncate(MAX_FILES);
        let mut dropped_trust = false;
        loop {
            let omitted = total.saturating_sub(self.evidence.len());
            let mut candidate = self.clone();
            if omitted > 0 || dropped_trust {
                candidate.evidence.push(omission_notice(
                    &self.package,
                    self.version.as_deref(),
                    omitted,
                    dropped_trust,
                ));
            }
            if candidate.to_json().len() <= MAX_REPORT_BYTES {
                *self = candidate;
                return;
            }
            if self.trust.is_some() {
                self.trust = None;
                dropped_trust = true;
            } else if !self.evidence.is_empty() {
                self.evidence.pop();
            } else if self.files.pop().is_none() {
                // Only the reason and names are left; they fit by construction.
                *self = candidate;
                return;
            }
        }
    }

    /// The report as plain text, to show before sending.
    pub fn to_text(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "Report about {} {}",
            self.package,
            self.version.as_deref().unwrap_or("(all versions)")
        );
        let _ = writeln!(t, "  Reason:  {}", indent(&self.reason, "           "));
        if let Some(u) = &self.index_url {
            let _ = writeln!(t, "  Index:   {u}");
        }
        if !self.files.is_empty() {
            let _ = writeln!(t, "  Files:");
            for f in &self.files {
                let size = f.size.map(|s| format!("  {s} bytes")).unwrap_or_default();
                let _ = writeln!(t, "    {}  sha256:{}{size}", f.filename, f.sha256);
            }
        }
        if self.evidence.is_empty() {
            let _ = writeln!(t, "  pyward's findings: none");
        } else {
            let _ = writeln!(t, "  pyward's findings ({}):", self.evidence.len());
            for f in &self.evidence {
                t.push_str(&finding_text(f, "    "));
            }
        }
        if self.trust.is_some() {
            let _ = writeln!(t, "  Trust card: included");
        }
        let _ = write!(t, "  Report id: {}", self.id);
        t
    }
}

/// One finding as indented plain text lines.
pub(crate) fn finding_text(f: &Finding, pad: &str) -> String {
    let mut t = String::new();
    let check = serde_json::to_value(f.check)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let file = f
        .package
        .file
        .as_deref()
        .map(|x| format!(" ({x})"))
        .unwrap_or_default();
    let _ = writeln!(t, "{pad}{} {check}: {}{file}", f.severity.as_str(), f.title);
    for e in &f.evidence {
        let line = match e {
            Evidence::Text { text } => text.clone(),
            Evidence::Location {
                file,
                line,
                snippet,
            } => format!("{file}:{line}  {}", snippet.trim()),
            Evidence::Advisory { id, url } => match url {
                Some(u) => format!("{id} {u}"),
                None => id.clone(),
            },
            Evidence::HashMismatch {
                expected,
                actual,
                url,
                ..
            } => format!("expected sha256:{expected}, got sha256:{actual} from {url}"),
            Evidence::Signal { name, value } => format!("{name}: {value}"),
        };
        let _ = writeln!(t, "{pad}  {}", indent(&line, &format!("{pad}  ")));
    }
    t
}

fn indent(text: &str, pad: &str) -> String {
    text.lines().collect::<Vec<_>>().join(&format!("\n{pad}"))
}

fn omission_notice(
    package: &str,
    version: Option<&str>,
    omitted: usize,
    dropped_trust: bool,
) -> Finding {
    let mut parts = Vec::new();
    if omitted > 0 {
        parts.push(format!("{omitted} less severe finding(s)"));
    }
    if dropped_trust {
        parts.push("the trust card".to_string());
    }
    Finding::new(
        Check::Notice,
        Severity::Info,
        PackageRef::new(package, version.map(str::to_string), None),
        format!(
            "{} left out to keep the report within the server's size limit",
            parts.join(" and ")
        ),
    )
}

/// `r-` and 24 random hex digits.
pub fn new_report_id() -> Result<String, ReportError> {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| ReportError::Random(e.to_string()))?;
    Ok(format!("r-{}", hex::encode(bytes)))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn finding(severity: Severity, snippet_len: usize) -> Finding {
        Finding::new(
            Check::Scan,
            severity,
            PackageRef::new("evil", Some("1.0".into()), Some("evil/__init__.py".into())),
            "runs a downloaded program at import",
        )
        .evidence(Evidence::Location {
            file: "evil/__init__.py".into(),
            line: 7,
            snippet: "x".repeat(snippet_len),
        })
    }

    fn report() -> Report {
        Report::new(
            &PackageName::from_str("Evil_Pkg").unwrap(),
            Some(&Version::from_str("1.0").unwrap()),
            "  downloads and runs a binary  ",
        )
        .unwrap()
    }

    #[test]
    fn new_reports_are_normalized_and_unique() {
        let a = report();
        let b = report();
        assert_eq!(a.package, "evil-pkg");
        assert_eq!(a.reason, "downloads and runs a binary");
        assert_ne!(a.id, b.id);
        assert!(a.id.starts_with("r-") && a.id.len() == 26);
        assert!(a.created_at.as_deref().unwrap().ends_with('Z'));
        let name = PackageName::from_str("x").unwrap();
        assert!(matches!(
            Report::new(&name, None, "  "),
            Err(ReportError::EmptyReason)
        ));
        assert!(matches!(
            Report::new(&name, None, &"x".repeat(4001)),
            Err(ReportError::LongReason)
        ));
    }

    #[test]
    fn text_names_everything_sent() {
        let r = report()
            .with_evidence([finding(Severity::Critical, 10)])
            .with_file(FileHash {
                filename: "evil_pkg-1.0-py3-none-any.whl".into(),
                sha256: "ab".repeat(32),
                size: Some(99),
                url: None,
            })
            .with_index_url("https://pypi.org/simple/");
        let text = r.to_text();
        for part in [
            "evil-pkg 1.0",
            "downloads and runs a binary",
            "https://pypi.org/simple/",
            "evil_pkg-1.0-py3-none-any.whl",
            &"ab".repeat(32),
            "critical scan: runs a downloaded program at import",
            "evil/__init__.py:7",
            &r.id,
        ] {
            assert!(text.contains(part), "{part} missing from\n{text}");
        }
    }

    #[test]
    fn fit_keeps_the_most_severe_findings_within_the_limit() {
        let mut r = report().with_trust(serde_json::json!({ "big": "y".repeat(5000) }));
        r.evidence.push(finding(Severity::Low, 2000));
        for _ in 0..100 {
            r.evidence.push(finding(Severity::Moderate, 2000));
        }
        r.evidence.push(finding(Severity::Critical, 2000));
        let before = r.clone();
        r.fit();
        assert!(r.to_json().len() <= MAX_REPORT_BYTES);
        assert_eq!(r.evidence[0].severity, Severity::Critical);
        assert!(r.trust.is_none());
        let notice = r.evidence.last().unwrap();
        assert_eq!(notice.check, Check::Notice);
        assert!(notice
            .title
            .contains("less severe finding(s) and the trust card"));
        assert!(!r.evidence.iter().any(|f| f.severity == Severity::Low));
        // Deterministic.
        let mut again = before;
        again.fit();
        assert_eq!(again.to_json(), r.to_json());
    }

    #[test]
    fn fit_leaves_small_reports_alone() {
        let mut r = report().with_evidence([finding(Severity::High, 10)]);
        let before = r.clone();
        r.fit();
        assert_eq!(r, before);
    }
}
