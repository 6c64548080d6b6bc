//! guard(artifacts): the static code scan of every downloaded wheel or sdist,
//! before anything from it is unpacked, built or installed. Results are
//! cached by the archive's sha256 (files on an index never change).

use std::path::{Path, PathBuf};

use pyward_dist::{PackageName, Version};
use pyward_guard::{Decision, Finding, Policy, Severity};
use pyward_scan::ArchiveKind;

use crate::context::Context;
use crate::output::{plural, SecurityLine};

/// One archive to scan.
pub struct Artifact {
    pub path: PathBuf,
    pub sha256: String,
    pub name: PackageName,
    pub version: Version,
    pub sdist: bool,
}

/// Where the findings of the archive with `sha256` are kept (the version in
/// the directory name changes when findings would read differently).
pub fn cache_path(ctx: &Context, sha256: &str) -> PathBuf {
    ctx.cache
        .root
        .join("scan-v2")
        .join(format!("{sha256}.json"))
}

/// Scan one archive (blocking), from the cache when it was scanned before.
pub fn scan_one(cache: &Path, a: &Artifact) -> Result<Vec<Finding>, String> {
    if let Ok(bytes) = fs_err::read(cache) {
        if let Ok(findings) = serde_json::from_slice::<Vec<Finding>>(&bytes) {
            return Ok(findings);
        }
    }
    let kind = if a.sdist {
        ArchiveKind::Sdist
    } else {
        ArchiveKind::Wheel
    };
    let report = pyward_scan::scan_archive(&a.path, kind, Some((&a.name, &a.version)))
        .map_err(|e| e.to_string())?;
    let mut findings = report.findings;
    for f in &mut findings {
        f.package.version = Some(a.version.to_string());
    }
    if let Some(dir) = cache.parent() {
        if fs_err::create_dir_all(dir).is_ok() {
            let tmp = dir.join(format!(".{}.tmp", a.sha256));
            if fs_err::write(&tmp, serde_json::to_vec(&findings).unwrap_or_default()).is_ok() {
                let _ = fs_err::rename(&tmp, cache);
            }
        }
    }
    Ok(findings)
}

/// Scan every artifact in parallel; the findings and the Code scan line.
pub async fn check(
    ctx: &Context,
    artifacts: Vec<Artifact>,
    policy: &Policy,
) -> (Vec<Finding>, SecurityLine) {
    let total = artifacts.len();
    let jobs: Vec<_> = artifacts
        .into_iter()
        .map(|a| {
            let cache = cache_path(ctx, &a.sha256);
            tokio::task::spawn_blocking(move || (a.name.to_string(), scan_one(&cache, &a)))
        })
        .collect();
    let mut findings = Vec::new();
    let mut failed = Vec::new();
    for job in jobs {
        match job.await {
            Ok((_, Ok(f))) => findings.extend(f),
            Ok((name, Err(e))) => failed.push(format!("{name}: {e}")),
            Err(e) => failed.push(e.to_string()),
        }
    }
    (findings.clone(), line(&findings, total, &failed, policy))
}

/// The Code scan line of the security block.
pub fn line(
    findings: &[Finding],
    total: usize,
    failed: &[String],
    policy: &Policy,
) -> SecurityLine {
    let blocking = findings
        .iter()
        .filter(|f| policy.decide_unattended(f) == Decision::Block)
        .count();
    let notable: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.severity >= Severity::Moderate)
        .collect();
    let mut details: Vec<String> = failed
        .iter()
        .map(|f| format!("could not scan {f}"))
        .collect();
    let status = if blocking > 0 {
        format!(
            "{} blocked in {}",
            plural(blocking, "finding"),
            plural(total, "package")
        )
    } else if notable.is_empty() {
        format!("nothing suspicious in {}", plural(total, "package"))
    } else {
        for f in notable.iter().take(5) {
            details.push(format!(
                "{} {}: {}",
                f.package.name,
                f.package.version.as_deref().unwrap_or(""),
                f.title
            ));
        }
        details.push("→ pyward scan NAME   shows every finding with file and line".into());
        format!(
            "{} to look at in {}",
            plural(notable.len(), "finding"),
            plural(total, "package")
        )
    };
    SecurityLine {
        label: "Code scan",
        ok: blocking == 0 && notable.is_empty() && failed.is_empty(),
        status,
        details,
    }
}
