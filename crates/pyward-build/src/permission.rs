//! Which packages may be built from source at all: `--no-build`,
//! `--only-binary :all:` / `--only-binary NAME[,NAME]` (pip's syntax,
//! `:none:` clears), and the allow-list of the configuration
//! (`build-from-source = ["name", …]` in `[tool.pyward]`). Every rule must
//! permit a build; the refusal names the rule that did not.

use std::collections::BTreeSet;
use std::str::FromStr;

use pyward_dist::PackageName;

/// The rules about building from source, from flags and configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceBuilds {
    /// `--no-build`: nothing is built.
    pub no_build: bool,
    /// `--only-binary :all:`.
    pub only_binary_all: bool,
    /// `--only-binary NAME`.
    pub only_binary: BTreeSet<PackageName>,
    /// The configuration's allow-list; `None` allows every package.
    pub allowed: Option<BTreeSet<PackageName>>,
}

impl SourceBuilds {
    /// Apply one `--only-binary` value: `:all:`, `:none:`, or names separated by commas.
    pub fn add_only_binary(&mut self, value: &str) -> Result<(), String> {
        for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part {
                ":all:" => self.only_binary_all = true,
                ":none:" => {
                    self.only_binary_all = false;
                    self.only_binary.clear();
                }
                name => {
                    let name = PackageName::from_str(name)
                        .map_err(|e| format!("--only-binary {name}: {e}"))?;
                    self.only_binary.insert(name);
                }
            }
        }
        Ok(())
    }

    /// Whether `name` may be built from source; `Err` says which rule forbids it.
    pub fn check(&self, name: &PackageName) -> Result<(), String> {
        if self.no_build {
            return Err(format!(
                "{name} has no wheel for this interpreter and --no-build forbids building from source"
            ));
        }
        if self.only_binary_all || self.only_binary.contains(name) {
            return Err(format!(
                "{name} has no wheel for this interpreter and --only-binary forbids building it from source"
            ));
        }
        if let Some(allowed) = &self.allowed {
            if !allowed.contains(name) {
                return Err(format!(
                    "{name} has no wheel for this interpreter and is not in the build-from-source list of your configuration"
                ));
            }
        }
        Ok(())
    }

    pub fn may_build(&self, name: &PackageName) -> bool {
        self.check(name).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    #[test]
    fn every_rule_must_permit() {
        let mut rules = SourceBuilds::default();
        assert!(rules.may_build(&n("docopt")));
        rules.add_only_binary("Foo_Bar, baz").unwrap();
        assert!(!rules.may_build(&n("foo-bar")));
        assert!(rules.may_build(&n("docopt")));
        rules.allowed = Some([n("docopt")].into());
        assert!(rules
            .check(&n("other"))
            .unwrap_err()
            .contains("build-from-source"));
        rules.add_only_binary(":all:").unwrap();
        assert!(rules
            .check(&n("docopt"))
            .unwrap_err()
            .contains("--only-binary"));
        rules.add_only_binary(":none:").unwrap();
        assert!(rules.may_build(&n("docopt")));
        rules.no_build = true;
        assert!(rules
            .check(&n("docopt"))
            .unwrap_err()
            .contains("--no-build"));
        assert!(rules.add_only_binary("bad name!").is_err());
    }
}
