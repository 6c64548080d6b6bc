//! Parsing of distribution filenames: wheels (`name-ver[-build]-py-abi-plat.whl`)
//! and source distributions (`name-ver.tar.gz` / `.zip`).

use std::fmt;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

/// Why a filename is not a distribution filename pyward understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilenameError {
    #[error("`{0}` is not a wheel or source distribution filename")]
    UnknownKind(String),
    #[error("`{filename}` is not a valid wheel filename: {reason}")]
    InvalidWheel { filename: String, reason: String },
    #[error("`{filename}` is not a valid source distribution filename: {reason}")]
    InvalidSdist { filename: String, reason: String },
}

/// A wheel build tag: leading digits, then the rest (sorts as `(int, rest)`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BuildTag {
    pub number: u64,
    pub rest: String,
}

/// A parsed wheel filename.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WheelFilename {
    pub name: PackageName,
    pub version: Version,
    pub build: Option<BuildTag>,
    /// Python tags, decompressed (`py2.py3` → `["py2", "py3"]`).
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
}

impl WheelFilename {
    /// Every `python-abi-platform` triple this wheel claims (the cartesian product).
    pub fn tag_triples(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.python.iter().flat_map(move |py| {
            self.abi.iter().flat_map(move |abi| {
                self.platform
                    .iter()
                    .map(move |plat| (py.as_str(), abi.as_str(), plat.as_str()))
            })
        })
    }

    /// True when the wheel is pure Python for any interpreter (`*-none-any`).
    pub fn is_universal(&self) -> bool {
        self.abi.iter().all(|a| a == "none") && self.platform.iter().all(|p| p == "any")
    }
}

impl FromStr for WheelFilename {
    type Err = FilenameError;

    fn from_str(filename: &str) -> Result<Self, Self::Err> {
        let invalid = |reason: &str| FilenameError::InvalidWheel {
            filename: filename.to_string(),
            reason: reason.to_string(),
        };
        let stem = filename
            .strip_suffix(".whl")
            .ok_or_else(|| invalid("it does not end in .whl"))?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build, py, abi, plat) = match parts.as_slice() {
            [n, v, py, abi, plat] => (*n, *v, None, *py, *abi, *plat),
            [n, v, b, py, abi, plat] => (*n, *v, Some(*b), *py, *abi, *plat),
            _ => return Err(invalid("expected 5 or 6 dash-separated parts")),
        };
        let name = PackageName::from_str(name).map_err(|e| invalid(&e.to_string()))?;
        let version = Version::from_str(version).map_err(|e| invalid(&e.to_string()))?;
        let build = match build {
            None => None,
            Some(b) => {
                let digits: String = b.chars().take_while(|c| c.is_ascii_digit()).collect();
                if digits.is_empty() {
                    return Err(invalid("the build tag must start with a digit"));
                }
                let number = digits
                    .parse::<u64>()
                    .map_err(|_| invalid("the build tag number is too large"))?;
                Some(BuildTag {
                    number,
                    rest: b[digits.len()..].to_string(),
                })
            }
        };
        let split = |s: &str| -> Result<Vec<String>, FilenameError> {
            let v: Vec<String> = s.split('.').map(str::to_string).collect();
            if v.iter().any(String::is_empty) {
                return Err(invalid("empty compatibility tag"));
            }
            Ok(v)
        };
        Ok(WheelFilename {
            name,
            version,
            build,
            python: split(py)?,
            abi: split(abi)?,
            platform: split(plat)?,
        })
    }
}

impl fmt::Display for WheelFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name.as_dist_info_name(), self.version)?;
        if let Some(b) = &self.build {
            write!(f, "-{}{}", b.number, b.rest)?;
        }
        write!(
            f,
            "-{}-{}-{}.whl",
            self.python.join("."),
            self.abi.join("."),
            self.platform.join(".")
        )
    }
}

/// A parsed source distribution filename.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SdistFilename {
    pub name: PackageName,
    pub version: Version,
    /// `tar.gz`, `zip`, `tar.bz2`, `tgz`, …
    pub extension: String,
}

const SDIST_EXTENSIONS: &[&str] = &[".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"];

impl SdistFilename {
    /// Parse `filename` as an sdist of `project` (the known name is needed:
    /// legacy sdist names may themselves contain `-`).
    pub fn parse(filename: &str, project: Option<&PackageName>) -> Result<Self, FilenameError> {
        let invalid = |reason: &str| FilenameError::InvalidSdist {
            filename: filename.to_string(),
            reason: reason.to_string(),
        };
        let lower = filename.to_ascii_lowercase();
        let ext = SDIST_EXTENSIONS
            .iter()
            .find(|e| lower.ends_with(*e))
            .ok_or_else(|| invalid("unknown archive extension"))?;
        let stem = &filename[..filename.len() - ext.len()];
        let (name, version) = match project {
            Some(project) => {
                // Find the dash after which the remainder is the version and before
                // which the name normalizes to the project name.
                let mut found = None;
                for (i, _) in stem.match_indices('-') {
                    if let Ok(n) = PackageName::from_str(&stem[..i]) {
                        if &n == project {
                            found = Some((n, &stem[i + 1..]));
                            break;
                        }
                    }
                }
                found.ok_or_else(|| invalid("the name does not match the project"))?
            }
            None => {
                let i = stem
                    .rfind('-')
                    .ok_or_else(|| invalid("no `-` between name and version"))?;
                let n = PackageName::from_str(&stem[..i]).map_err(|e| invalid(&e.to_string()))?;
                (n, &stem[i + 1..])
            }
        };
        let version = Version::from_str(version).map_err(|e| invalid(&e.to_string()))?;
        Ok(SdistFilename {
            name,
            version,
            extension: ext[1..].to_string(),
        })
    }
}

/// A wheel or an sdist filename.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DistFilename {
    Wheel(WheelFilename),
    Sdist(SdistFilename),
}

impl DistFilename {
    /// Parse a filename of either kind; `project` helps with legacy sdist names.
    pub fn parse(filename: &str, project: Option<&PackageName>) -> Result<Self, FilenameError> {
        if filename.ends_with(".whl") {
            WheelFilename::from_str(filename).map(DistFilename::Wheel)
        } else if SDIST_EXTENSIONS
            .iter()
            .any(|e| filename.to_ascii_lowercase().ends_with(e))
        {
            SdistFilename::parse(filename, project).map(DistFilename::Sdist)
        } else {
            Err(FilenameError::UnknownKind(filename.to_string()))
        }
    }

    pub fn name(&self) -> &PackageName {
        match self {
            DistFilename::Wheel(w) => &w.name,
            DistFilename::Sdist(s) => &s.name,
        }
    }

    pub fn version(&self) -> &Version {
        match self {
            DistFilename::Wheel(w) => &w.version,
            DistFilename::Sdist(s) => &s.version,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_with_compressed_tags_and_build() {
        let w: WheelFilename = "Foo.Bar-1.0-2b-py2.py3-none-any.whl".parse().unwrap();
        assert_eq!(w.name.as_ref(), "foo-bar");
        assert_eq!(w.python, vec!["py2", "py3"]);
        assert_eq!(
            w.build,
            Some(BuildTag {
                number: 2,
                rest: "b".into()
            })
        );
        assert!(w.is_universal());
        assert_eq!(w.tag_triples().count(), 2);
    }

    #[test]
    fn wheel_rejects_bad_shapes() {
        assert!("foo-1.0-py3-none.whl".parse::<WheelFilename>().is_err());
        assert!("foo-1.0-x-py3-none-any.whl"
            .parse::<WheelFilename>()
            .is_err());
        assert!("foo-notaversion!!-py3-none-any.whl"
            .parse::<WheelFilename>()
            .is_err());
        assert!("foo-1.0-py3-none-.whl".parse::<WheelFilename>().is_err());
    }

    #[test]
    fn sdist_with_dashed_legacy_name() {
        let p = PackageName::from_str("python-dateutil").unwrap();
        let s = SdistFilename::parse("python-dateutil-2.8.2.tar.gz", Some(&p)).unwrap();
        assert_eq!(s.version.to_string(), "2.8.2");
        assert_eq!(s.extension, "tar.gz");
        let s = SdistFilename::parse("docopt-0.6.2.tar.gz", None).unwrap();
        assert_eq!(s.name.as_ref(), "docopt");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,80}") {
            let _ = DistFilename::parse(&s, None);
            let _ = s.parse::<WheelFilename>();
        }
    }
}
