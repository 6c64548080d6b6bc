//! Auditing a set of installed or planned packages: each known vulnerability
//! becomes a `Check::Vulnerability` finding and each malware report a
//! `Check::Malware` finding (always critical), in plain words with the fix.

use pyward_dist::{PackageName, Version};
use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};

use crate::db::{AdvisoryDb, Vulnerability};
use crate::severity::SeveritySource;

/// How many vulnerabilities of each rating an audit found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeverityCounts {
    pub malware: usize,
    pub critical: usize,
    pub high: usize,
    pub moderate: usize,
    /// Low, including the rare CVSS score of 0.0.
    pub low: usize,
    /// The advisory gives no severity (their findings carry `Moderate`).
    pub unrated: usize,
}

impl SeverityCounts {
    /// Vulnerabilities and malware reports together.
    pub fn total(&self) -> usize {
        self.malware + self.critical + self.high + self.moderate + self.low + self.unrated
    }
}

/// The result of auditing a set of packages.
#[derive(Debug, Clone, Default)]
pub struct AuditReport {
    /// One finding per vulnerability per package, packages in the order given,
    /// most severe first within a package.
    pub findings: Vec<Finding>,
    pub packages_checked: usize,
    /// Packages with at least one vulnerability or malware report.
    pub vulnerable_packages: usize,
    pub counts: SeverityCounts,
    /// Packages that could not be checked because the database is damaged;
    /// each also has a `Check::Notice` finding.
    pub unchecked: usize,
}

/// The signal name on findings whose advisory carries no severity.
pub const UNRATED_SIGNAL: &str = "severity unknown";

/// Audit `packages` against `db`.
pub fn audit(db: &AdvisoryDb, packages: &[(PackageName, Version)]) -> AuditReport {
    let mut report = AuditReport {
        packages_checked: packages.len(),
        ..AuditReport::default()
    };
    for (name, version) in packages {
        let package = || PackageRef::new(name.to_string(), Some(version.to_string()), None);
        let vulns = match db.vulnerabilities(name, version) {
            Ok(vulns) => vulns,
            Err(e) => {
                report.unchecked += 1;
                report.findings.push(
                    Finding::new(
                        Check::Notice,
                        Severity::Moderate,
                        package(),
                        format!("could not check {name} {version} for known vulnerabilities"),
                    )
                    .why(e.to_string())
                    .advice("download the advisory database again: pyward db update"),
                );
                continue;
            }
        };
        if vulns.is_empty() {
            continue;
        }
        report.vulnerable_packages += 1;
        let package = package();
        for vuln in &vulns {
            count(&mut report.counts, vuln);
            report.findings.push(finding(name, package.clone(), vuln));
        }
    }
    report
}

fn count(counts: &mut SeverityCounts, vuln: &Vulnerability) {
    if vuln.malware {
        counts.malware += 1;
        return;
    }
    match vuln.severity.rating {
        Some(Severity::Critical) => counts.critical += 1,
        Some(Severity::High) => counts.high += 1,
        Some(Severity::Moderate) => counts.moderate += 1,
        Some(Severity::Low | Severity::Info) => counts.low += 1,
        None => counts.unrated += 1,
    }
}

/// The finding for one vulnerability of one package.
pub fn finding(name: &PackageName, package: PackageRef, vuln: &Vulnerability) -> Finding {
    let mut f = if vuln.malware {
        let title = if vuln.summary.is_empty() {
            format!("{name} is known malware")
        } else {
            vuln.summary.clone()
        };
        Finding::new(Check::Malware, Severity::Critical, package, title)
            .why(
                "This package is reported as malicious: installing or importing it runs code \
                 written to steal data or harm the machine.",
            )
            .advice(format!(
                "do not install it, and remove it if present: pyward uninstall {name}"
            ))
            .advice(
                "if it was ever installed, treat secrets on that machine (tokens, keys, \
                 passwords) as stolen and replace them",
            )
    } else {
        let title = if vuln.summary.is_empty() {
            format!("known vulnerability {}", vuln.id)
        } else {
            vuln.summary.clone()
        };
        // Unrated advisories are weighed as moderate by the policy, and marked
        // so that they are shown as "unknown", never as a rating they lack.
        let severity = vuln.severity.rating.unwrap_or(Severity::Moderate);
        let mut f = Finding::new(Check::Vulnerability, severity, package, title).why(why(vuln));

        match vuln.fixed_in.first() {
            Some(fix) => {
                f = f.advice(format!(
                    "upgrade to {fix} or later: pyward install \"{name}>={fix}\""
                ));
            }
            None => {
                f = f.advice(format!(
                    "no fixed release is known; read the advisory for workarounds or replace {name}: {}",
                    vuln.details_url
                ));
            }
        }
        f
    };
    f = f.evidence(Evidence::Advisory {
        id: vuln.id.clone(),
        url: Some(vuln.details_url.clone()),
    });
    for alias in &vuln.aliases {
        f = f.evidence(Evidence::Advisory {
            id: alias.clone(),
            url: None,
        });
    }
    if !vuln.malware && vuln.severity.rating.is_none() {
        f = f.evidence(Evidence::Signal {
            name: UNRATED_SIGNAL.into(),
            value: "the advisory gives no severity".into(),
        });
    }
    if let Some(score) = vuln.severity.score {
        let version = match vuln.severity.source {
            SeveritySource::CvssV4 => "4.0",
            _ => "3",
        };
        f = f.evidence(Evidence::Signal {
            name: format!("CVSS {version} base score"),
            value: format!("{score:.1}"),
        });
    }
    if !vuln.fixed_in.is_empty() {
        let versions: Vec<String> = vuln.fixed_in.iter().map(ToString::to_string).collect();
        f = f.evidence(Evidence::Signal {
            name: "fixed in".into(),
            value: versions.join(", "),
        });
    }
    f
}

fn why(vuln: &Vulnerability) -> String {
    let rating = vuln.severity.rating.map(Severity::as_str);
    match (vuln.severity.source, rating, vuln.severity.score) {
        (SeveritySource::CvssV3 | SeveritySource::CvssV4, Some(rating), Some(score)) => format!(
            "Attackers can exploit this flaw in the installed version; the advisory rates it {rating} (CVSS score {score:.1})."
        ),
        (_, Some(rating), _) => format!(
            "Attackers can exploit this flaw in the installed version; the advisory rates it {rating}."
        ),
        _ => "Attackers can exploit this flaw in the installed version; the advisory gives no \
              severity, so it is treated as moderate until you have read it."
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::tests::{db, n, v};

    const RECORDS: [&str; 3] = [
        r#"{"id":"PYSEC-2","aliases":["CVE-2"],"details":"An issue was discovered in pkg. Remote attackers can read files.",
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.0"}]}]}]}"#,
        r#"{"id":"PYSEC-3","details":"No fix for this one.",
            "affected":[{"package":{"ecosystem":"PyPI","name":"pkg"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.0"}]}]}]}"#,
        r#"{"id":"MAL-9","summary":"Malicious code in evil-pkg (PyPI)",
            "affected":[{"package":{"ecosystem":"PyPI","name":"evil-pkg"},"versions":["0.1"]}]}"#,
    ];

    #[test]
    fn findings_say_what_how_bad_and_what_to_do() {
        let db = db(&RECORDS);
        let report = audit(
            &db,
            &[
                (n("pkg"), v("1.5")),
                (n("evil_pkg"), v("0.1")),
                (n("clean"), v("1.0")),
            ],
        );
        assert_eq!(report.packages_checked, 3);
        assert_eq!(report.vulnerable_packages, 2);
        assert_eq!(
            report.counts,
            SeverityCounts {
                malware: 1,
                high: 1,
                unrated: 1,
                ..SeverityCounts::default()
            }
        );
        assert_eq!(report.findings.len(), 3);

        let high = &report.findings[0];
        assert_eq!(
            (high.check, high.severity),
            (Check::Vulnerability, Severity::High)
        );
        assert_eq!(high.package.name, "pkg");
        assert_eq!(high.package.version.as_deref(), Some("1.5"));
        assert_eq!(high.title, "Remote attackers can read files.");
        assert_eq!(
            high.evidence[0],
            Evidence::Advisory {
                id: "PYSEC-2".into(),
                url: Some("https://osv.dev/vulnerability/PYSEC-2".into())
            }
        );
        assert_eq!(
            high.evidence[1],
            Evidence::Advisory {
                id: "CVE-2".into(),
                url: None
            }
        );
        assert!(high
            .why
            .as_deref()
            .unwrap()
            .contains("high (CVSS score 7.5)"));
        assert_eq!(
            high.advice,
            ["upgrade to 2.0 or later: pyward install \"pkg>=2.0\""]
        );

        let unrated = &report.findings[1];
        assert_eq!(unrated.severity, Severity::Moderate);
        assert!(unrated.advice[0].starts_with("no fixed release is known"));

        let malware = &report.findings[2];
        assert_eq!(
            (malware.check, malware.severity),
            (Check::Malware, Severity::Critical)
        );
        assert_eq!(malware.package.name, "evil-pkg");
        assert_eq!(malware.title, "Malicious code in evil-pkg (PyPI)");
        assert!(malware.advice[0].contains("pyward uninstall evil-pkg"));
    }

    #[test]
    fn only_affected_versions_give_findings() {
        let db = db(&RECORDS);
        // 0.9: before PYSEC-3 was introduced; 2.0: PYSEC-2 is fixed; evil-pkg 0.2 is not listed.
        let report = audit(
            &db,
            &[
                (n("pkg"), v("0.9")),
                (n("pkg"), v("2.0")),
                (n("evil-pkg"), v("0.2")),
            ],
        );
        let ids: Vec<&str> = report
            .findings
            .iter()
            .filter_map(|f| match &f.evidence[0] {
                Evidence::Advisory { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(ids, ["PYSEC-2", "PYSEC-3"]);
        assert_eq!(report.vulnerable_packages, 2);
        assert_eq!(report.counts.malware, 0);
    }
}
