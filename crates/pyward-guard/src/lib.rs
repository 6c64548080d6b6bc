//! The language every check speaks (`Finding`), the `Policy` that maps findings
//! to decisions, and `Findings`, the collection one command run accumulates.
//! Checks never print or exit: they return findings; the CLI renders them.

pub mod integrity;

use serde::{Deserialize, Serialize};

/// Which check produced a finding. The order is the order of the summary block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Check {
    Integrity,
    Vulnerability,
    Malware,
    Scan,
    Trust,
    Typosquat,
    Flag,
    Provenance,
    /// Facts about the run that are not a security check (skipped files, yanked
    /// releases, unusual metadata).
    Notice,
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Moderate,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Moderate => "moderate",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Parse `low|moderate|medium|high|critical|info` (case-insensitive).
    pub fn parse(s: &str) -> Option<Severity> {
        match s.to_ascii_lowercase().as_str() {
            "info" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "moderate" | "medium" => Some(Severity::Moderate),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// The package (and file, when there is one) a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub struct PackageRef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

impl PackageRef {
    pub fn new(name: impl Into<String>, version: Option<String>, file: Option<String>) -> Self {
        PackageRef {
            name: name.into(),
            version,
            file,
        }
    }
}

/// Where an expected hash came from (for "name the thing").
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum HashSource {
    /// A lock file entry.
    LockFile { path: String, package: String },
    /// A `--hash` option on a requirements file line.
    Requirements { path: String, line: usize },
    /// The index's published hash, with the page it was read from.
    Index { url: String },
    /// What pyward recorded when it first saw this file.
    Memory { first_seen: String },
}

impl std::fmt::Display for HashSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HashSource::LockFile { path, package } => write!(f, "{path}, package {package}"),
            HashSource::Requirements { path, line } => write!(f, "{path}:{line}"),
            HashSource::Index { url } => write!(f, "the index ({url})"),
            HashSource::Memory { first_seen } => {
                write!(f, "pyward's record of this file, first seen {first_seen}")
            }
        }
    }
}

/// Supporting facts of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Evidence {
    Text {
        text: String,
    },
    Location {
        file: String,
        line: usize,
        snippet: String,
    },
    Advisory {
        id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
    },
    HashMismatch {
        algorithm: String,
        expected: String,
        source: HashSource,
        actual: String,
        size: u64,
        url: String,
    },
    Signal {
        name: String,
        value: String,
    },
}

/// One result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: Check,
    pub severity: Severity,
    pub package: PackageRef,
    /// One line in plain words: what happened.
    pub title: String,
    /// One sentence: why it matters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub evidence: Vec<Evidence>,
    /// What the user can do, simplest first (commands where possible).
    pub advice: Vec<String>,
}

impl Finding {
    pub fn new(
        check: Check,
        severity: Severity,
        package: PackageRef,
        title: impl Into<String>,
    ) -> Self {
        Finding {
            check,
            severity,
            package,
            title: title.into(),
            why: None,
            evidence: Vec::new(),
            advice: Vec::new(),
        }
    }

    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }

    pub fn evidence(mut self, e: Evidence) -> Self {
        self.evidence.push(e);
        self
    }

    pub fn advice(mut self, a: impl Into<String>) -> Self {
        self.advice.push(a.into());
        self
    }
}

/// What happens because of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    Allow,
    Warn,
    Ask,
    Block,
}

/// A user's rule from configuration or the command line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub check: Option<Check>,
    /// Normalized package name this rule is limited to.
    pub package: Option<String>,
    /// Advisory id (for vulnerability ignores).
    pub id: Option<String>,
    pub decision: Decision,
    pub reason: Option<String>,
    /// `YYYY-MM-DD`; the rule no longer applies after this date.
    pub expires: Option<String>,
}

/// Maps findings to decisions. `Policy::default()` is pyward's safe default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Vulnerabilities at or above this severity block.
    pub fail_on: Option<Severity>,
    /// Names the user allowed with `--allow` (Ask/Block from trust checks pass).
    pub allow: Vec<String>,
    /// Explicit rules, first match wins.
    pub rules: Vec<Rule>,
    /// What `Ask` becomes when nobody can be asked (not a terminal, CI).
    pub ask_fallback: Decision,
    /// Today's date `YYYY-MM-DD` for rule expiry.
    pub today: String,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            fail_on: None,
            allow: Vec::new(),
            rules: Vec::new(),
            ask_fallback: Decision::Block,
            today: String::new(),
        }
    }
}

impl Policy {
    /// The decision for one finding.
    pub fn decide(&self, f: &Finding) -> Decision {
        for rule in &self.rules {
            if rule.check.is_some_and(|c| c != f.check) {
                continue;
            }
            if rule.package.as_deref().is_some_and(|p| p != f.package.name) {
                continue;
            }
            if let Some(id) = &rule.id {
                let matches = f
                    .evidence
                    .iter()
                    .any(|e| matches!(e, Evidence::Advisory { id: a, .. } if a == id));
                if !matches {
                    continue;
                }
            }
            if let Some(exp) = &rule.expires {
                if !self.today.is_empty() && self.today.as_str() > exp.as_str() {
                    continue;
                }
            }
            // Known malware and tampered files cannot be waved through by a rule.
            if f.check == Check::Malware
                || (f.check == Check::Integrity && f.severity >= Severity::High)
            {
                break;
            }
            return rule.decision;
        }
        let allowed = self.allow.iter().any(|a| a == &f.package.name);
        match f.check {
            Check::Integrity if f.severity >= Severity::High => Decision::Block,
            Check::Integrity => Decision::Warn,
            Check::Malware | Check::Flag => Decision::Block,
            Check::Vulnerability => match self.fail_on {
                Some(level) if f.severity >= level => Decision::Block,
                _ => Decision::Warn,
            },
            // `--allow` accepts a package's high-severity scan findings after a
            // look; a Critical pattern (decoded code run at start-up, a reverse
            // shell…) needs an explicit rule in the configuration.
            Check::Scan if f.severity >= Severity::Critical => Decision::Block,
            Check::Scan if f.severity >= Severity::High => {
                if allowed {
                    Decision::Warn
                } else {
                    Decision::Block
                }
            }
            Check::Scan => Decision::Warn,
            Check::Typosquat | Check::Trust if f.severity >= Severity::Moderate => {
                if allowed {
                    Decision::Allow
                } else {
                    Decision::Ask
                }
            }
            Check::Provenance if f.severity >= Severity::High => Decision::Block,
            Check::Notice if f.severity == Severity::Info => Decision::Allow,
            _ => Decision::Warn,
        }
    }

    /// The decision once `Ask` is resolved for a non-interactive run.
    pub fn decide_unattended(&self, f: &Finding) -> Decision {
        match self.decide(f) {
            Decision::Ask => self.ask_fallback,
            d => d,
        }
    }
}

/// The findings of one run, in the order they were found.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Findings {
    pub items: Vec<Finding>,
}

impl Findings {
    pub fn push(&mut self, f: Finding) {
        self.items.push(f);
    }

    pub fn extend(&mut self, fs: impl IntoIterator<Item = Finding>) {
        self.items.extend(fs);
    }

    pub fn of(&self, check: Check) -> impl Iterator<Item = &Finding> {
        self.items.iter().filter(move |f| f.check == check)
    }

    /// Findings the policy blocks (after resolving `Ask` unattended).
    pub fn blocking<'a>(&'a self, policy: &'a Policy) -> impl Iterator<Item = &'a Finding> {
        self.items
            .iter()
            .filter(move |f| policy.decide_unattended(f) == Decision::Block)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(check: Check, severity: Severity) -> Finding {
        Finding::new(check, severity, PackageRef::new("pkg", None, None), "t")
    }

    #[test]
    fn defaults_are_safe_without_noise() {
        let p = Policy::default();
        assert_eq!(
            p.decide(&finding(Check::Integrity, Severity::Critical)),
            Decision::Block
        );
        assert_eq!(
            p.decide(&finding(Check::Integrity, Severity::Moderate)),
            Decision::Warn
        );
        assert_eq!(
            p.decide(&finding(Check::Malware, Severity::Critical)),
            Decision::Block
        );
        assert_eq!(
            p.decide(&finding(Check::Vulnerability, Severity::Critical)),
            Decision::Warn
        );
        assert_eq!(
            p.decide(&finding(Check::Typosquat, Severity::High)),
            Decision::Ask
        );
        assert_eq!(
            p.decide_unattended(&finding(Check::Typosquat, Severity::High)),
            Decision::Block
        );
    }

    #[test]
    fn fail_on_and_allow() {
        let p = Policy {
            fail_on: Some(Severity::High),
            allow: vec!["pkg".into()],
            ..Policy::default()
        };
        assert_eq!(
            p.decide(&finding(Check::Vulnerability, Severity::High)),
            Decision::Block
        );
        assert_eq!(
            p.decide(&finding(Check::Vulnerability, Severity::Moderate)),
            Decision::Warn
        );
        assert_eq!(
            p.decide(&finding(Check::Typosquat, Severity::High)),
            Decision::Allow
        );
        // --allow never waves through a tampered file.
        assert_eq!(
            p.decide(&finding(Check::Integrity, Severity::Critical)),
            Decision::Block
        );
    }

    #[test]
    fn rules_cannot_ignore_malware_and_expire() {
        let mut p = Policy {
            rules: vec![Rule {
                check: None,
                package: Some("pkg".into()),
                id: None,
                decision: Decision::Allow,
                reason: Some("reviewed".into()),
                expires: Some("2026-01-01".into()),
            }],
            today: "2025-06-01".into(),
            ..Policy::default()
        };
        assert_eq!(
            p.decide(&finding(Check::Malware, Severity::Critical)),
            Decision::Block
        );
        assert_eq!(
            p.decide(&finding(Check::Scan, Severity::High)),
            Decision::Allow
        );
        p.today = "2026-02-01".into();
        assert_eq!(
            p.decide(&finding(Check::Scan, Severity::High)),
            Decision::Block
        );
    }
}
