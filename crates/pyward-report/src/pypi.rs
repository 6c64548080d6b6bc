//! PyPI's own channel for malware reports, in the two forms PyPI accepts:
//! an observation through its API (`POST /danger-api/projects/NAME/observations`,
//! sent only with a PyPI API token the user supplies, to a configurable base
//! URL), or an email to PyPI's security address that the user sends.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::client::error_chain;
use crate::report::{finding_text, Report};

/// Where PyPI's API lives.
pub const PYPI_BASE_URL: &str = "https://pypi.org/";
/// PyPI's address for security and malware reports.
pub const PYPI_SECURITY_EMAIL: &str = "security@pypi.org";
/// The media type of PyPI's observation API.
pub const OBSERVATION_MEDIA_TYPE: &str = "application/vnd.pypi.api-v0-danger+json";
const INSPECTOR: &str = "https://inspector.pypi.io/project/";

/// What kind of problem an observation reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObservationKind {
    IsMalware,
    IsSpam,
    IsDependencyConfusion,
    SomethingElse,
}

/// The observation body PyPI takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub kind: ObservationKind,
    pub summary: String,
    /// PyPI requires an inspector link for malware.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inspector_url: Option<String>,
}

/// The complete request, to show the user before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservationRequest {
    pub url: Url,
    pub body: Observation,
}

impl ObservationRequest {
    /// The request as text (method, URL, headers without the token, body).
    pub fn to_text(&self) -> String {
        format!(
            "POST {}\nContent-Type: {OBSERVATION_MEDIA_TYPE}\nAuthorization: Bearer <your PyPI API token>\n\n{}",
            self.url,
            serde_json::to_string_pretty(&self.body).unwrap_or_default()
        )
    }
}

/// Why the observation could not be prepared or sent.
#[derive(Debug, thiserror::Error)]
pub enum PypiError {
    #[error("PyPI base URL {0:?} is not a valid https URL")]
    BaseUrl(String),
    #[error(
        "a PyPI API token is needed to send an observation; without one, send the email instead"
    )]
    NoToken,
    #[error("could not reach PyPI: {0}")]
    Network(String),
    #[error("PyPI did not accept the observation ({status}): {message}")]
    Refused { status: u16, message: String },
}

/// PyPI's answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Accepted {
    #[serde(default)]
    pub project: String,
    #[serde(default)]
    pub thanks: String,
}

/// The inspector page of a project (and release), where PyPI's team looks.
pub fn inspector_url(report: &Report) -> String {
    match &report.version {
        Some(v) => format!("{INSPECTOR}{}/{v}/", report.package),
        None => format!("{INSPECTOR}{}/", report.package),
    }
}

/// The observation for `report`, for PyPI at `base_url` (normally
/// [`PYPI_BASE_URL`]; plain http only for a local test server).
pub fn observation_request(
    base_url: &str,
    report: &Report,
    kind: ObservationKind,
) -> Result<ObservationRequest, PypiError> {
    let mut base = Url::parse(base_url).map_err(|_| PypiError::BaseUrl(base_url.to_string()))?;
    let local = base
        .host_str()
        .is_some_and(|h| h == "localhost" || h == "127.0.0.1" || h == "[::1]");
    if base.scheme() != "https" && !(base.scheme() == "http" && local) {
        return Err(PypiError::BaseUrl(base_url.to_string()));
    }
    if !base.path().ends_with('/') {
        let path = format!("{}/", base.path());
        base.set_path(&path);
    }
    let url = base
        .join(&format!(
            "danger-api/projects/{}/observations",
            report.package
        ))
        .map_err(|_| PypiError::BaseUrl(base_url.to_string()))?;
    Ok(ObservationRequest {
        url,
        body: Observation {
            kind,
            summary: summary(report),
            inspector_url: Some(inspector_url(report)),
        },
    })
}

/// The reason, then pyward's most severe findings, in plain text.
fn summary(report: &Report) -> String {
    let mut s = report.reason.clone();
    if let Some(v) = &report.version {
        let _ = write!(s, "\n\nVersion: {v}");
    }
    let serious: Vec<_> = report
        .evidence
        .iter()
        .filter(|f| f.severity >= pyward_guard::Severity::Moderate)
        .take(10)
        .collect();
    if !serious.is_empty() {
        s.push_str("\n\nFound by pyward's scan:\n");
        for f in serious {
            s.push_str(&finding_text(f, "- "));
        }
    }
    s.trim_end().to_string()
}

/// Send the observation with the user's PyPI API token.
pub async fn send_observation(
    http: &reqwest::Client,
    request: &ObservationRequest,
    token: &str,
) -> Result<Accepted, PypiError> {
    if token.trim().is_empty() {
        return Err(PypiError::NoToken);
    }
    let body = serde_json::to_vec(&request.body).unwrap_or_default();
    let response = http
        .post(request.url.clone())
        .bearer_auth(token.trim())
        .header(reqwest::header::CONTENT_TYPE, OBSERVATION_MEDIA_TYPE)
        .header(reqwest::header::ACCEPT, OBSERVATION_MEDIA_TYPE)
        .body(body)
        .send()
        .await
        .map_err(|e| PypiError::Network(error_chain(&e)))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        return Ok(serde_json::from_str(&text).unwrap_or(Accepted {
            project: String::new(),
            thanks: String::new(),
        }));
    }
    Err(PypiError::Refused {
        status: status.as_u16(),
        message: crate::client::server_message(&text),
    })
}

/// An email for PyPI's security team, for the user to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl Email {
    /// `To:`, `Subject:`, a blank line and the body.
    pub fn to_text(&self) -> String {
        format!(
            "To: {}\nSubject: {}\n\n{}",
            self.to, self.subject, self.body
        )
    }
}

/// A complete email reporting `report` to PyPI's security team.
pub fn security_email(report: &Report) -> Email {
    let release = match &report.version {
        Some(v) => format!("{} {v}", report.package),
        None => report.package.clone(),
    };
    let project_url = match &report.version {
        Some(v) => format!("https://pypi.org/project/{}/{v}/", report.package),
        None => format!("https://pypi.org/project/{}/", report.package),
    };
    let mut b = String::new();
    let _ = writeln!(b, "Hello PyPI security team,\n");
    let _ = writeln!(
        b,
        "I would like to report the project {release} on PyPI as malicious.\n"
    );
    let _ = writeln!(b, "Project:   {project_url}");
    let _ = writeln!(b, "Inspector: {}\n", inspector_url(report));
    let _ = writeln!(b, "What I saw:\n{}\n", report.reason);
    if !report.files.is_empty() {
        let _ = writeln!(b, "Files (sha256):");
        for f in &report.files {
            let _ = writeln!(b, "- {}  {}", f.filename, f.sha256);
        }
        b.push('\n');
    }
    if !report.evidence.is_empty() {
        let _ = writeln!(b, "What pyward's checks found:");
        for f in &report.evidence {
            b.push_str(&finding_text(f, "- "));
        }
        b.push('\n');
    }
    if let Some(u) = &report.index_url {
        let _ = writeln!(b, "Index used: {u}");
    }
    let _ = writeln!(
        b,
        "Prepared with {} (report {}).\n\nThank you.",
        report.client.as_deref().unwrap_or("pyward"),
        report.id
    );
    Email {
        to: PYPI_SECURITY_EMAIL.to_string(),
        subject: format!("Malware report: {release}"),
        body: b,
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pyward_dist::{PackageName, Version};
    use pyward_guard::{Check, Finding, PackageRef, Severity};

    use super::*;
    use crate::report::FileHash;

    fn report() -> Report {
        Report::new(
            &PackageName::from_str("Evil_Pkg").unwrap(),
            Some(&Version::from_str("1.0").unwrap()),
            "setup.py downloads and runs a binary",
        )
        .unwrap()
        .with_evidence([
            Finding::new(
                Check::Scan,
                Severity::Critical,
                PackageRef::new("evil-pkg", Some("1.0".into()), Some("setup.py".into())),
                "downloads and runs a program during install",
            ),
            Finding::new(
                Check::Trust,
                Severity::Low,
                PackageRef::default(),
                "young project",
            ),
        ])
        .with_file(FileHash {
            filename: "evil_pkg-1.0.tar.gz".into(),
            sha256: "cd".repeat(32),
            size: None,
            url: None,
        })
    }

    #[test]
    fn observation_follows_pypis_shape() {
        let r = report();
        let req = observation_request(PYPI_BASE_URL, &r, ObservationKind::IsMalware).unwrap();
        assert_eq!(
            req.url.as_str(),
            "https://pypi.org/danger-api/projects/evil-pkg/observations"
        );
        let json = serde_json::to_value(&req.body).unwrap();
        assert_eq!(json["kind"], "is_malware");
        assert_eq!(
            json["inspector_url"],
            "https://inspector.pypi.io/project/evil-pkg/1.0/"
        );
        let summary = json["summary"].as_str().unwrap();
        assert!(summary.starts_with("setup.py downloads and runs a binary"));
        assert!(summary
            .contains("critical scan: downloads and runs a program during install (setup.py)"));
        assert!(!summary.contains("young project"), "low findings stay out");
        assert!(req.to_text().contains("<your PyPI API token>"));
        // A configurable base URL, with a path.
        let req = observation_request("https://test.pypi.example/x", &r, ObservationKind::IsSpam)
            .unwrap();
        assert_eq!(
            req.url.as_str(),
            "https://test.pypi.example/x/danger-api/projects/evil-pkg/observations"
        );
        assert!(observation_request("http://pypi.org", &r, ObservationKind::IsMalware).is_err());
        assert!(observation_request("http://127.0.0.1:9/", &r, ObservationKind::IsMalware).is_ok());
    }

    #[test]
    fn email_is_complete() {
        let r = report();
        let mail = security_email(&r);
        assert_eq!(mail.to, "security@pypi.org");
        assert_eq!(mail.subject, "Malware report: evil-pkg 1.0");
        let text = mail.to_text();
        for part in [
            "To: security@pypi.org",
            "https://pypi.org/project/evil-pkg/1.0/",
            "https://inspector.pypi.io/project/evil-pkg/1.0/",
            "setup.py downloads and runs a binary",
            &"cd".repeat(32),
            "downloads and runs a program during install",
            &r.id,
        ] {
            assert!(text.contains(part), "{part} missing:\n{text}");
        }
    }
}
