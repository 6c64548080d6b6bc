//! The integrity check: a downloaded file against the strongest expectation
//! available (lock file > requirements `--hash` > index > pyward's memory).
//! Returns a finding for a mismatch (Critical, blocks) or for a file with
//! nothing to check against (Moderate, warns with advice).

use crate::{Check, Evidence, Finding, HashSource, PackageRef, Severity};

/// One expected sha256 and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Lowercase hex sha256 (several are allowed, as pip allows several `--hash`).
    pub sha256: Vec<String>,
    pub source: HashSource,
}

/// What was downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub package: PackageRef,
    pub sha256: String,
    pub size: u64,
    pub url: String,
}

/// How one file was verified (for the summary line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Matched the expectation from this source.
    Matched(HashSource),
    /// No expectation existed.
    Unchecked,
    /// Did not match.
    Mismatch,
    /// Checking was turned off by the user.
    Disabled,
}

/// Compare `observed` with the expectations, strongest first. Only the
/// strongest source decides; weaker ones are not consulted when it exists.
pub fn verify(observed: &Observed, expectations: &[Expectation]) -> (Verified, Option<Finding>) {
    let Some(strongest) = expectations.iter().find(|e| !e.sha256.is_empty()) else {
        let file = observed.package.file.clone().unwrap_or_default();
        let finding = Finding::new(
            Check::Integrity,
            Severity::Moderate,
            observed.package.clone(),
            format!("{file} from {} has no published hash", observed.url),
        )
        .why("Without a hash, a changed or replaced file would go unnoticed.")
        .advice("pyward lock            records today's sha256; later installs must match")
        .advice("ask the index to publish sha256 hashes (PEP 691 \"hashes\")")
        .advice(format!(
            "pin it by hand:  {}=={} --hash=sha256:{}",
            observed.package.name,
            observed.package.version.clone().unwrap_or_default(),
            observed.sha256
        ));
        return (Verified::Unchecked, Some(finding));
    };
    if strongest
        .sha256
        .iter()
        .any(|h| h.eq_ignore_ascii_case(&observed.sha256))
    {
        return (Verified::Matched(strongest.source.clone()), None);
    }
    let file = observed.package.file.clone().unwrap_or_default();
    let what = match &strongest.source {
        HashSource::LockFile { .. } => "the file your lock file recorded",
        HashSource::Requirements { .. } => "the file your requirements pin",
        HashSource::Index { .. } => "the file the index published",
        HashSource::Memory { .. } => "the file pyward saw before under this name",
    };
    let mut finding = Finding::new(
        Check::Integrity,
        Severity::Critical,
        observed.package.clone(),
        format!("{file} is not {what}"),
    )
    .why("Someone may have replaced the file, or the index serves a different build.");
    for expected in &strongest.sha256 {
        finding = finding.evidence(Evidence::HashMismatch {
            algorithm: "sha256".into(),
            expected: expected.clone(),
            source: strongest.source.clone(),
            actual: observed.sha256.clone(),
            size: observed.size,
            url: observed.url.clone(),
        });
    }
    finding = match &strongest.source {
        HashSource::LockFile { .. } => finding.advice(format!(
            "if you trust the new file:  pyward lock --upgrade-package {}",
            observed.package.name
        )),
        HashSource::Requirements { path, line } => finding.advice(format!(
            "if you trust the new file:  replace the hash on {path}:{line} with sha256:{}",
            observed.sha256
        )),
        _ => {
            finding.advice("try again later; if it persists, report it to the index's maintainers")
        }
    };
    (Verified::Mismatch, Some(finding))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observed(hash: &str) -> Observed {
        Observed {
            package: PackageRef::new(
                "urllib3",
                Some("2.2.1".into()),
                Some("urllib3-2.2.1-py3-none-any.whl".into()),
            ),
            sha256: hash.into(),
            size: 121_336,
            url: "https://files.example/urllib3-2.2.1-py3-none-any.whl".into(),
        }
    }

    #[test]
    fn strongest_source_decides() {
        let exps = vec![
            Expectation {
                sha256: vec!["aa".into()],
                source: HashSource::Requirements {
                    path: "requirements.txt".into(),
                    line: 3,
                },
            },
            Expectation {
                sha256: vec!["bb".into()],
                source: HashSource::Index {
                    url: "https://pypi.org/simple/urllib3/".into(),
                },
            },
        ];
        // Matching only the weaker (index) hash is still a mismatch.
        let (v, f) = verify(&observed("bb"), &exps);
        assert_eq!(v, Verified::Mismatch);
        let f = f.unwrap();
        assert_eq!(f.severity, Severity::Critical);
        assert!(f.title.contains("urllib3-2.2.1-py3-none-any.whl"));
        assert!(f.advice[0].contains("requirements.txt:3"));
        let (v, f) = verify(&observed("AA"), &exps);
        assert!(matches!(
            v,
            Verified::Matched(HashSource::Requirements { .. })
        ));
        assert!(f.is_none());
    }

    #[test]
    fn nothing_to_check_against_warns_with_advice() {
        let (v, f) = verify(&observed("cc"), &[]);
        assert_eq!(v, Verified::Unchecked);
        let f = f.unwrap();
        assert_eq!(f.severity, Severity::Moderate);
        assert!(f.advice[0].starts_with("pyward lock"));
        assert!(f.advice[2].contains("--hash=sha256:cc"));
    }
}
