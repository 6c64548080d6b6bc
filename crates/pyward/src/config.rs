//! User configuration: `[tool.pyward]` in ./pyproject.toml, or ./pyward.toml
//! (same keys at the top level). Command-line flags override it. Unknown keys
//! are an error, so a typo never silently weakens a check.

use std::path::{Path, PathBuf};

use pyward_guard::{Check, Decision, Policy, Rule, Severity};
use serde::Deserialize;

use crate::error::{CliError, CliResult};

/// One advisory the user chose to accept, with a reason.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    /// Advisory id or alias (PYSEC-…, GHSA-…, CVE-…).
    pub id: String,
    pub reason: Option<String>,
    /// `YYYY-MM-DD`: after this day the advisory counts again.
    pub until: Option<String>,
    /// Ignore only while no fixed release exists.
    #[serde(default, rename = "until-fixed")]
    pub until_fixed: bool,
}

/// The keys pyward reads.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Block installs for vulnerabilities at or above this level.
    pub fail_on: Option<String>,
    #[serde(default)]
    pub ignore: Vec<Ignore>,
    /// Packages allowed despite trust or name warnings.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Release cooldown, e.g. `7d` or a date.
    pub min_age: Option<String>,
    pub index_url: Option<String>,
    #[serde(default)]
    pub extra_index_url: Vec<String>,
    /// `true` (default): check every file's hash.
    pub verify_hashes: Option<bool>,
    /// The organisation's report/flag server.
    pub report_server: Option<String>,
    /// `require`, `prefer` (default) or `off` for sdist builds.
    pub sandbox: Option<String>,
    /// Packages that may be built from source.
    #[serde(default)]
    pub build_allow: Vec<String>,
    /// What `Ask` becomes when nobody can be asked: `block` (default) or `warn`.
    pub unattended: Option<String>,
    /// Where this configuration was read from (not a key).
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

impl Config {
    /// Read the configuration of the project in `dir`, if any.
    pub fn load(dir: &Path) -> CliResult<Config> {
        let standalone = dir.join("pyward.toml");
        if standalone.is_file() {
            let text = read(&standalone)?;
            let mut config: Config =
                toml_edit::de::from_str(&text).map_err(|e| bad(&standalone, e))?;
            config.file = Some(standalone);
            return config.validated();
        }
        let pyproject = dir.join("pyproject.toml");
        if pyproject.is_file() {
            let text = read(&pyproject)?;
            #[derive(Deserialize)]
            struct PyProject {
                tool: Option<Tool>,
            }
            #[derive(Deserialize)]
            struct Tool {
                pyward: Option<Config>,
            }
            let doc: PyProject = toml_edit::de::from_str(&text).map_err(|e| bad(&pyproject, e))?;
            let Some(mut config) = doc.tool.and_then(|t| t.pyward) else {
                return Ok(Config::default());
            };
            config.file = Some(pyproject);
            return config.validated();
        }
        Ok(Config::default())
    }

    fn validated(self) -> CliResult<Config> {
        let where_ = self
            .file
            .as_ref()
            .map(|f| f.display().to_string())
            .unwrap_or_default();
        if let Some(level) = &self.fail_on {
            if Severity::parse(level).is_none() {
                return Err(CliError::input(format!(
                    "{where_}: fail-on = \"{level}\" is not one of low, moderate, high, critical"
                )));
            }
        }
        for ig in &self.ignore {
            if let Some(until) = &ig.until {
                if until.parse::<pyward_audit::jiff::civil::Date>().is_err() {
                    return Err(CliError::input(format!(
                        "{where_}: ignore of {}: until = \"{until}\" is not a date like 2026-12-31",
                        ig.id
                    )));
                }
            }
        }
        if let Some(s) = &self.sandbox {
            if !matches!(s.as_str(), "require" | "prefer" | "off") {
                return Err(CliError::input(format!(
                    "{where_}: sandbox = \"{s}\" is not one of require, prefer, off"
                )));
            }
        }
        if let Some(u) = &self.unattended {
            if !matches!(u.as_str(), "block" | "warn") {
                return Err(CliError::input(format!(
                    "{where_}: unattended = \"{u}\" is not one of block, warn"
                )));
            }
        }
        Ok(self)
    }

    /// The policy from this configuration plus command-line overrides.
    pub fn policy(
        &self,
        fail_on: Option<Severity>,
        allow: &[String],
        ignore_ids: &[String],
    ) -> Policy {
        let today = today();
        let mut rules = Vec::new();
        for ig in &self.ignore {
            if ig.until_fixed {
                // Applied per finding by the audit guard (it needs fix data).
                continue;
            }
            rules.push(Rule {
                check: Some(Check::Vulnerability),
                package: None,
                id: Some(ig.id.clone()),
                decision: Decision::Allow,
                reason: ig.reason.clone(),
                expires: ig.until.clone(),
            });
        }
        for id in ignore_ids {
            rules.push(Rule {
                check: Some(Check::Vulnerability),
                package: None,
                id: Some(id.clone()),
                decision: Decision::Allow,
                reason: Some("--ignore on the command line".into()),
                expires: None,
            });
        }
        let mut allowed: Vec<String> = self.allow.iter().map(|a| normalize(a)).collect();
        allowed.extend(allow.iter().map(|a| normalize(a)));
        Policy {
            fail_on: fail_on.or_else(|| self.fail_on.as_deref().and_then(Severity::parse)),
            allow: allowed,
            rules,
            ask_fallback: if self.unattended.as_deref() == Some("warn") {
                Decision::Warn
            } else {
                Decision::Block
            },
            today,
        }
    }
}

/// Today's date, `YYYY-MM-DD`, in UTC.
pub fn today() -> String {
    pyward_audit::jiff::Timestamp::now()
        .to_zoned(pyward_audit::jiff::tz::TimeZone::UTC)
        .date()
        .to_string()
}

pub fn normalize(name: &str) -> String {
    use std::str::FromStr;
    pyward_dist::PackageName::from_str(name)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| name.to_ascii_lowercase())
}

fn read(path: &Path) -> CliResult<String> {
    fs_err::read_to_string(path)
        .map_err(|e| CliError::input(format!("cannot read {}: {e}", path.display())))
}

fn bad(path: &Path, e: impl std::fmt::Display) -> CliError {
    CliError::input(format!(
        "{} has an invalid pyward setting: {e}",
        path.display()
    ))
    .hint("the keys are described in the README under Configuration")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_tool_pyward_and_rejects_typos() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[project]\nname = \"x\"\n[tool.pyward]\nfail-on = \"high\"\nallow = [\"Foo_Bar\"]\n[[tool.pyward.ignore]]\nid = \"PYSEC-1\"\nreason = \"not reachable\"\nuntil = \"2030-01-01\"\n",
        )
        .unwrap();
        let c = Config::load(dir.path()).unwrap();
        assert_eq!(c.fail_on.as_deref(), Some("high"));
        let p = c.policy(None, &[], &[]);
        assert_eq!(p.fail_on, Some(Severity::High));
        assert_eq!(p.allow, vec!["foo-bar".to_string()]);
        assert_eq!(p.rules.len(), 1);
        std::fs::write(dir.path().join("pyward.toml"), "fail-onn = \"high\"\n").unwrap();
        let err = Config::load(dir.path()).unwrap_err();
        assert!(err.message.contains("fail-onn"), "{}", err.message);
    }

    #[test]
    fn command_line_overrides_the_file() {
        let c = Config {
            fail_on: Some("low".into()),
            ..Config::default()
        };
        assert_eq!(
            c.policy(Some(Severity::Critical), &[], &[]).fail_on,
            Some(Severity::Critical)
        );
    }
}
