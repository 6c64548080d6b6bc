//! Choosing what to install from a lock file for one interpreter, following
//! PEP 751's installation steps: lock-level `requires-python` and
//! `environments`, then per package its marker, `requires-python`, a single
//! matching entry per name, and a usable source. The wheel is chosen offline
//! by tag rank; the sdist only when no wheel fits.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerEnvironment};
use pyward_dist::WheelFilename;

use super::{
    LockLocation, LockedArchive, LockedDirectory, LockedFile, LockedPackage, LockedVcs,
    PackageSource, PyLock, PyLockError,
};
use crate::pyproject::normalize_group;

/// One package to install and the source chosen for it.
#[derive(Debug, Clone, PartialEq)]
pub struct Selected<'a> {
    pub package: &'a LockedPackage,
    pub source: SelectedSource<'a>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SelectedSource<'a> {
    /// The best-ranked compatible wheel.
    Wheel {
        file: &'a LockedFile,
        filename: WheelFilename,
    },
    /// No wheel fits; the sdist must be built.
    Sdist(&'a LockedFile),
    Archive(&'a LockedArchive),
    Directory(&'a LockedDirectory),
    Vcs(&'a LockedVcs),
}

impl PyLock {
    /// The packages (and files) to install for an interpreter with marker
    /// environment `env` and version `python`, with the given extras and
    /// dependency groups (`None`: the lock's `default-groups`). `rank_wheel`
    /// returns a wheel's tag rank for the interpreter (lower is better) or
    /// `None` when it does not fit — `Tags::rank` from pyward-dist.
    pub fn select<'a>(
        &'a self,
        env: &MarkerEnvironment,
        python: &Version,
        extras: &[ExtraName],
        groups: Option<&[String]>,
        rank_wheel: impl Fn(&WheelFilename) -> Option<usize>,
    ) -> Result<Vec<Selected<'a>>, PyLockError> {
        self.check_extras(extras)?;
        let groups: Vec<String> = match groups {
            Some(groups) => {
                self.check_groups(groups)?;
                groups.to_vec()
            }
            None => self.default_groups.clone().unwrap_or_default(),
        };
        if let Some(requires) = &self.requires_python {
            if !requires.contains(python) {
                return Err(PyLockError::RequiresPython {
                    path: self.path.clone(),
                    requires: requires.clone(),
                    python: python.clone(),
                });
            }
        }
        if let Some(environments) = &self.environments {
            if !environments
                .iter()
                .any(|m| m.evaluate(env, extras, &groups))
            {
                return Err(PyLockError::NoMatchingEnvironment {
                    path: self.path.clone(),
                    environments: environments.iter().map(|m| format!("`{m}`")).collect(),
                    interpreter: describe(env),
                });
            }
        }

        let mut selected: Vec<Selected<'a>> = Vec::new();
        for package in &self.packages {
            if let Some(marker) = &package.marker {
                if !marker.evaluate(env, extras, &groups) {
                    continue;
                }
            }
            if let Some(requires) = &package.requires_python {
                if !requires.contains(python) {
                    return Err(PyLockError::PackageRequiresPython {
                        location: self.location(package),
                        requires: requires.clone(),
                        python: python.clone(),
                    });
                }
            }
            if let Some(earlier) = selected.iter().find(|s| s.package.name == package.name) {
                return Err(PyLockError::Ambiguous {
                    path: self.path.clone(),
                    name: package.name.clone(),
                    first: entry_label(earlier.package),
                    second: entry_label(package),
                });
            }
            let source = self.source(package, env, &rank_wheel)?;
            selected.push(Selected { package, source });
        }
        Ok(selected)
    }

    fn location(&self, package: &LockedPackage) -> LockLocation {
        LockLocation {
            path: self.path.clone(),
            line: None,
            package: Some(package.label()),
        }
    }

    fn check_extras(&self, extras: &[ExtraName]) -> Result<(), PyLockError> {
        let known = self.extras.as_deref().unwrap_or_default();
        match extras.iter().find(|e| !known.contains(e)) {
            None => Ok(()),
            Some(extra) => Err(PyLockError::UnknownExtra {
                path: self.path.clone(),
                extra: extra.to_string(),
                available: known.iter().map(ToString::to_string).collect(),
            }),
        }
    }

    fn check_groups(&self, groups: &[String]) -> Result<(), PyLockError> {
        let known: Vec<&String> = self
            .dependency_groups
            .iter()
            .chain(self.default_groups.iter())
            .flatten()
            .collect();
        let normalized = |g: &str| normalize_group(g).unwrap_or_else(|| g.to_string());
        for group in groups {
            if !known.iter().any(|k| normalized(k) == normalized(group)) {
                return Err(PyLockError::UnknownGroup {
                    path: self.path.clone(),
                    group: group.clone(),
                    available: self.dependency_groups.clone().unwrap_or_default(),
                });
            }
        }
        Ok(())
    }

    fn source<'a>(
        &'a self,
        package: &'a LockedPackage,
        env: &MarkerEnvironment,
        rank_wheel: &impl Fn(&WheelFilename) -> Option<usize>,
    ) -> Result<SelectedSource<'a>, PyLockError> {
        let (sdist, wheels) = match &package.source {
            PackageSource::Vcs(v) => return Ok(SelectedSource::Vcs(v)),
            PackageSource::Directory(d) => return Ok(SelectedSource::Directory(d)),
            PackageSource::Archive(a) => return Ok(SelectedSource::Archive(a)),
            PackageSource::Distributions { sdist, wheels } => (sdist, wheels),
        };
        let best = wheels
            .iter()
            .filter_map(|file| {
                let filename = WheelFilename::from_str(&file.name).ok()?;
                let rank = rank_wheel(&filename)?;
                Some((rank, file, filename))
            })
            .min_by_key(|(rank, ..)| *rank);
        if let Some((_, file, filename)) = best {
            return Ok(SelectedSource::Wheel { file, filename });
        }
        if let Some(sdist) = sdist {
            return Ok(SelectedSource::Sdist(sdist));
        }
        let mut examples: Vec<&str> = wheels.iter().map(|w| w.name.as_str()).take(3).collect();
        if wheels.len() > examples.len() {
            examples.push("…");
        }
        Err(PyLockError::NoUsableSource {
            location: self.location(package),
            interpreter: describe(env),
            detail: format!(
                "none of its {} wheels ({}) is compatible and there is no sdist",
                wheels.len(),
                examples.join(", ")
            ),
        })
    }
}

/// `name version` plus the marker, to tell two entries of one name apart.
fn entry_label(package: &LockedPackage) -> String {
    match &package.marker {
        Some(m) => format!("{} with marker `{m}`", package.label()),
        None => package.label(),
    }
}

fn describe(env: &MarkerEnvironment) -> String {
    format!(
        "Python {} on {} {}",
        env.python_full_version(),
        env.sys_platform(),
        env.platform_machine()
    )
}
