//! Known vulnerabilities and malware for a set of (name, version) pairs, from
//! the local advisory database (downloaded, else the embedded snapshot).

use pyward_audit::{jiff::Timestamp, AdvisoryDb, DataSource, DbStatus};
use pyward_dist::{PackageName, Version};
use pyward_guard::{Check, Evidence, Finding, Policy};

use super::GuardOutcome;
use crate::config::Config;
use crate::context::Context;
use crate::output::{count, plural, SecurityLine};

/// The advisory database to use, or why there is none.
pub fn open_db(ctx: &Context) -> Result<AdvisoryDb, String> {
    AdvisoryDb::load(&ctx.advisories_dir()).map_err(|e| e.to_string())
}

/// "advisory data from 2024-10-10" (+ age when stale).
pub fn data_label(status: &DbStatus) -> (String, bool) {
    let date = status
        .newest_record
        .map(|d| d.to_string())
        .unwrap_or_else(|| "an unknown date".into());
    let source = match &status.source {
        DataSource::Embedded => "built-in ",
        DataSource::Downloaded { .. } => "",
    };
    let now = Timestamp::now();
    if status.is_stale(now) {
        let days = status.age_days(now).unwrap_or(0);
        (
            format!("{source}advisory data from {date}, {days} days old"),
            true,
        )
    } else {
        (format!("{source}advisory data from {date}"), false)
    }
}

/// Findings the configuration ignores only while no fix exists.
pub fn drop_ignored_until_fixed(findings: &mut Vec<Finding>, config: &Config) {
    let ids: Vec<&str> = config
        .ignore
        .iter()
        .filter(|i| i.until_fixed)
        .map(|i| i.id.as_str())
        .collect();
    if ids.is_empty() {
        return;
    }
    findings.retain(|f| {
        let named = f
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::Advisory { id, .. } if ids.contains(&id.as_str())));
        let has_fix = f
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::Signal { name, .. } if name == "fixed in"));
        !named || has_fix
    });
}

/// The advisory id a finding is about (the first one named).
pub fn advisory_id(f: &Finding) -> String {
    f.evidence
        .iter()
        .find_map(|e| match e {
            Evidence::Advisory { id, .. } => Some(id.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// The severity as shown: "unknown" when the advisory gives none.
pub fn severity_label(f: &Finding) -> &'static str {
    let unrated = f.evidence.iter().any(
        |e| matches!(e, Evidence::Signal { name, .. } if name == pyward_audit::UNRATED_SIGNAL),
    );
    if unrated {
        "unknown"
    } else {
        f.severity.as_str()
    }
}

/// The smallest "fixed in" version a finding names.
pub fn fixed_in(f: &Finding) -> Option<String> {
    f.evidence.iter().find_map(|e| match e {
        Evidence::Signal { name, value } if name == "fixed in" => {
            value.split(", ").next().map(str::to_string)
        }
        _ => None,
    })
}

/// Audit `packages` and describe the result for the security block.
pub fn check(
    ctx: &Context,
    packages: &[(PackageName, Version)],
    config: &Config,
    policy: &Policy,
) -> GuardOutcome {
    let db = match open_db(ctx) {
        Ok(db) => db,
        Err(e) => {
            return GuardOutcome {
                findings: Vec::new(),
                line: SecurityLine {
                    label: "Vulnerabilities",
                    status: format!("not checked: {e}"),
                    ok: false,
                    details: vec![
                        "→ pyward db update   downloads the advisory database again".into()
                    ],
                },
            }
        }
    };
    let status = db.status();
    let (label, stale) = data_label(&status);
    let report = pyward_audit::audit(&db, packages);
    let mut findings = report.findings;
    drop_ignored_until_fixed(&mut findings, config);
    // Ignored by policy: not shown as vulnerabilities, but counted.
    let (shown, ignored): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| policy.decide(f) != pyward_guard::Decision::Allow);
    let vulns: Vec<&Finding> = shown
        .iter()
        .filter(|f| f.check == Check::Vulnerability)
        .collect();
    let mut details = Vec::new();
    let status_text = if vulns.is_empty() {
        if report.unchecked > 0 {
            format!(
                "{} could not be checked ({label})",
                plural(report.unchecked, "package")
            )
        } else if stale {
            format!("none known in {label}; newer advisories were not checked")
        } else {
            format!("none known ({label})")
        }
    } else {
        let mut packages: Vec<&str> = vulns.iter().map(|f| f.package.name.as_str()).collect();
        packages.dedup();
        let mut by_level = Vec::new();
        for level in [
            pyward_guard::Severity::Critical,
            pyward_guard::Severity::High,
            pyward_guard::Severity::Moderate,
            pyward_guard::Severity::Low,
        ] {
            let n = vulns
                .iter()
                .filter(|f| f.severity == level && severity_label(f) != "unknown")
                .count();
            if n > 0 {
                by_level.push(format!("{n} {}", level.as_str()));
            }
        }
        let unknown = vulns
            .iter()
            .filter(|f| severity_label(f) == "unknown")
            .count();
        if unknown > 0 {
            by_level.push(format!("{unknown} of unknown severity"));
        }
        let width = vulns
            .iter()
            .map(|f| f.package.name.len() + f.package.version.as_deref().unwrap_or("").len() + 1)
            .max()
            .unwrap_or(0);
        let mut rows: Vec<&&Finding> = vulns.iter().collect();
        rows.sort_by_key(|f| std::cmp::Reverse(f.severity));
        for f in rows.iter().take(8) {
            let who = format!(
                "{} {}",
                f.package.name,
                f.package.version.as_deref().unwrap_or("")
            );
            let fix = fixed_in(f)
                .map(|v| format!("fixed in {v}"))
                .unwrap_or_else(|| "no fix yet".into());
            details.push(format!(
                "{who:<width$}  {:<8}  {} ({})  {fix}",
                severity_label(f),
                short(&f.title, 48),
                advisory_id(f)
            ));
        }
        if vulns.len() > 8 {
            details.push(format!("… and {} more: pyward audit", vulns.len() - 8));
        }
        details.push("→ pyward audit fix   upgrades them within your constraints".into());
        format!(
            "{} known in {}: {} ({label})",
            count(vulns.len(), "vulnerability", "vulnerabilities"),
            plural(packages.len(), "package"),
            by_level.join(", ")
        )
    };
    if stale {
        details.push("→ pyward db update   downloads current advisories".into());
    }
    if !ignored.is_empty() {
        details.push(format!(
            "{} ignored by your configuration",
            count(ignored.len(), "advisory", "advisories")
        ));
    }
    GuardOutcome {
        line: SecurityLine {
            label: "Vulnerabilities",
            status: status_text,
            ok: vulns.is_empty() && !stale && report.unchecked == 0,
            details,
        },
        findings: shown,
    }
}

/// Shorten to `n` characters on a word boundary.
pub fn short(text: &str, n: usize) -> String {
    let first = text.lines().next().unwrap_or_default();
    if first.chars().count() <= n {
        return first.to_string();
    }
    let cut: String = first.chars().take(n).collect();
    match cut.rfind(' ') {
        Some(i) if i > n / 2 => format!("{}…", &cut[..i]),
        _ => format!("{cut}…"),
    }
}
