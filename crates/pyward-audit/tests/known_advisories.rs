//! The embedded snapshot answers for well-known vulnerable releases exactly as
//! the PyPA advisory database says (expected ids, ranges and CVSS vectors were
//! read from the YAML files in vulns/<package>/PYSEC-*.yaml).

use std::str::FromStr;

use pyward_audit::{audit, AdvisoryDb, SeveritySource};
use pyward_dist::{PackageName, Version};
use pyward_guard::{Check, Severity};

fn v(s: &str) -> Version {
    Version::from_str(s).unwrap()
}

/// (id, smallest fix, rating, score) per vulnerability, most severe first.
fn found(
    db: &AdvisoryDb,
    name: &str,
    version: &str,
) -> Vec<(String, String, Option<Severity>, Option<f64>)> {
    db.vulnerabilities(&PackageName::from_str(name).unwrap(), &v(version))
        .unwrap()
        .into_iter()
        .map(|x| {
            (
                x.id,
                x.fixed_in
                    .first()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                x.severity.rating,
                x.severity.score,
            )
        })
        .collect()
}

fn row(
    id: &str,
    fix: &str,
    rating: Option<Severity>,
    score: Option<f64>,
) -> (String, String, Option<Severity>, Option<f64>) {
    (id.into(), fix.into(), rating, score)
}

#[test]
fn requests_2_25_0() {
    let db = AdvisoryDb::embedded();
    // PYSEC-2023-74: introduced 2.3.0, fixed 2.31.0 (Proxy-Authorization leak); no CVSS in the record.
    assert_eq!(
        found(&db, "requests", "2.25.0"),
        [row("PYSEC-2023-74", "2.31.0", None, None)]
    );
    assert!(found(&db, "requests", "2.31.0").is_empty());
}

#[test]
fn jinja2_2_10() {
    let db = AdvisoryDb::embedded();
    // PYSEC-2019-217 (0 → 2.10.1, sandbox escape); PYSEC-2021-66 (0 → 2.11.3, ReDoS).
    // PYSEC-2019-220 (fixed 2.8.1), PYSEC-2014-8 and -82 are fixed before 2.10.
    assert_eq!(
        found(&db, "Jinja2", "2.10"),
        [
            row("PYSEC-2019-217", "2.10.1", None, None),
            row("PYSEC-2021-66", "2.11.3", None, None)
        ]
    );
    let vulns = db
        .vulnerabilities(&PackageName::from_str("jinja2").unwrap(), &v("2.10"))
        .unwrap();
    assert_eq!(vulns[0].aliases, ["GHSA-462w-v97r-4m45", "CVE-2019-10906"]);
    assert_eq!(
        vulns[0].details_url,
        "https://github.com/advisories/GHSA-462w-v97r-4m45"
    );
    assert!(
        vulns[0].summary.contains("sandbox escape"),
        "{}",
        vulns[0].summary
    );
}

#[test]
fn urllib3_1_26_0() {
    let db = AdvisoryDb::embedded();
    // PYSEC-2023-192: CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N = 8.1, events unsorted
    //   (2.0.0 → 2.0.6, then 0 → 1.26.17);
    // PYSEC-2023-212: CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N = 4.2 (0 → 1.26.18);
    // PYSEC-2021-108: 0 → 1.26.5; PYSEC-2021-59: 1.26.0 → 1.26.4 (introduced is inclusive).
    assert_eq!(
        found(&db, "urllib3", "1.26.0"),
        [
            row("PYSEC-2023-192", "1.26.17", Some(Severity::High), Some(8.1)),
            row(
                "PYSEC-2023-212",
                "1.26.18",
                Some(Severity::Moderate),
                Some(4.2)
            ),
            row("PYSEC-2021-108", "1.26.5", None, None),
            row("PYSEC-2021-59", "1.26.4", None, None),
        ]
    );
    let vulns = db
        .vulnerabilities(&PackageName::from_str("urllib3").unwrap(), &v("1.26.0"))
        .unwrap();
    assert_eq!(vulns[0].severity.source, SeveritySource::CvssV3);
    assert_eq!(vulns[0].fixed_in, [v("1.26.17"), v("2.0.6")]);
    // 1.25.11 is before PYSEC-2021-59 was introduced.
    assert_eq!(found(&db, "urllib3", "1.25.11").len(), 3);
}

#[test]
fn flask_1_0() {
    let db = AdvisoryDb::embedded();
    // PYSEC-2023-62: 0 → 2.2.5 and 2.3.0 → 2.3.2. PYSEC-2019-179 is fixed in 1.0 itself.
    assert_eq!(
        found(&db, "flask", "1.0"),
        [row("PYSEC-2023-62", "2.2.5", None, None)]
    );
    assert_eq!(found(&db, "flask", "0.12.2").len(), 3);
}

#[test]
fn audit_fix_picks_the_first_release_free_of_all_of_them() {
    let db = AdvisoryDb::embedded();
    let releases: Vec<Version> = [
        "1.26.0", "1.26.4", "1.26.5", "1.26.17", "1.26.18", "1.26.19", "2.0.0", "2.0.7",
    ]
    .iter()
    .map(|s| v(s))
    .collect();
    let urllib3 = PackageName::from_str("urllib3").unwrap();
    assert_eq!(
        db.smallest_safe_version(&urllib3, &v("1.26.0"), &releases, |_| true)
            .unwrap(),
        Some(v("1.26.18"))
    );
    assert_eq!(
        db.smallest_safe_version(&urllib3, &v("1.26.0"), &releases, |x| *x >= v("2"))
            .unwrap(),
        Some(v("2.0.7"))
    );
}

#[test]
fn audit_of_the_four() {
    let db = AdvisoryDb::embedded();
    let lock: Vec<(PackageName, Version)> = [
        ("requests", "2.25.0"),
        ("jinja2", "2.10"),
        ("urllib3", "1.26.0"),
        ("flask", "1.0"),
        ("idna", "3.7"),
    ]
    .iter()
    .map(|(n, ver)| (PackageName::from_str(n).unwrap(), v(ver)))
    .collect();
    let report = audit(&db, &lock);
    assert_eq!(report.packages_checked, 5);
    assert_eq!(report.vulnerable_packages, 4);
    assert_eq!(report.findings.len(), 8);
    assert!(report
        .findings
        .iter()
        .all(|f| f.check == Check::Vulnerability));
    assert_eq!(
        (
            report.counts.high,
            report.counts.moderate,
            report.counts.unrated
        ),
        (1, 1, 6)
    );
    let jinja = report
        .findings
        .iter()
        .find(|f| f.package.name == "jinja2")
        .unwrap();
    assert_eq!(
        jinja.advice[0],
        "upgrade to 2.10.1 or later: pyward install \"jinja2>=2.10.1\""
    );
}

/// The committed snapshot matches what the generator makes from the shared
/// data today (run where the PyPA directory is beside the repository).
#[test]
fn embedded_snapshot_is_current_with_its_source() {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/pypa-advisory-database/vulns");
    if !source.is_dir() {
        eprintln!("skipped: {} not present", source.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join(pyward_audit::STORE_FILE_NAME);
    let fresh = pyward_audit::write_snapshot(&source, "PyPA advisory database", &out).unwrap();
    let embedded = AdvisoryDb::embedded().status();
    assert_eq!(
        (fresh.records, fresh.packages, fresh.newest_record),
        (embedded.records, embedded.packages, embedded.newest_record),
        "regenerate with: cargo run -p pyward-audit --example gen-advisory-snapshot"
    );
}
