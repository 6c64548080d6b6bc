//! A Python environment (a venv or an interpreter's own prefix): where its
//! files go, which distributions are installed in it (`*.dist-info`, also
//! `*.egg-info`), and whether it is externally managed (PEP 668).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pyward_dist::{CoreMetadata, InterpreterInfo, PackageName, Version};
use serde::{Deserialize, Serialize};

use crate::error::{io_err, InstallError, Result};
use crate::record::{parse_record, RecordEntry};

/// An environment to install into.
#[derive(Debug, Clone)]
pub struct Environment {
    /// `sys.prefix` of the interpreter.
    pub root: PathBuf,
    pub interpreter: InterpreterInfo,
}

/// How a distribution's metadata is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetadataKind {
    DistInfo,
    EggInfo,
}

/// Where an installed archive came from (kept in the dist-info as
/// `pyward.json`, so `freeze --hashes` can report it later).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveOrigin {
    pub filename: String,
    pub url: Option<String>,
    /// Hex sha256 of the archive.
    pub sha256: String,
    pub size: Option<u64>,
    /// The index URL it was found on.
    pub index: Option<String>,
}

/// One installed distribution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledDist {
    pub name: PackageName,
    pub version: Version,
    /// The `.dist-info` / `.egg-info` directory (or `.egg-info` file).
    pub path: PathBuf,
    pub kind: MetadataKind,
    /// Contents of `INSTALLER` (e.g. `pip`, `pyward`), trimmed.
    pub installer: Option<String>,
    /// True when `REQUESTED` exists (the user asked for it by name).
    pub requested: bool,
}

impl InstalledDist {
    /// The RECORD rows; an error when the distribution has none.
    pub fn record(&self) -> Result<Vec<RecordEntry>> {
        let file = self.path.join("RECORD");
        if self.kind != MetadataKind::DistInfo || !file.is_file() {
            return Err(InstallError::NoRecord {
                dist: self.to_string(),
            });
        }
        let bytes = std::fs::read(&file).map_err(io_err("could not read", &file))?;
        parse_record(&bytes, &self.to_string())
    }

    /// The origin pyward recorded when it installed this distribution.
    pub fn origin(&self) -> Option<ArchiveOrigin> {
        let bytes = std::fs::read(self.path.join("pyward.json")).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        serde_json::from_value(value.get("origin")?.clone()).ok()
    }

    /// `direct_url.json`, when present and valid JSON.
    pub fn direct_url(&self) -> Option<serde_json::Value> {
        let bytes = std::fs::read(self.path.join("direct_url.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// The project directory of an editable install (PEP 610 `dir_info`
    /// with `editable: true` and a `file:` URL).
    pub fn editable_location(&self) -> Option<PathBuf> {
        let direct = self.direct_url()?;
        if direct.pointer("/dir_info/editable")?.as_bool()? {
            url::Url::parse(direct.get("url")?.as_str()?)
                .ok()?
                .to_file_path()
                .ok()
        } else {
            None
        }
    }

    /// The directory holding the metadata (site-packages).
    pub fn site_packages(&self) -> &Path {
        self.path.parent().unwrap_or(&self.path)
    }
}

impl std::fmt::Display for InstalledDist {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.name, self.version)
    }
}

impl Environment {
    /// The environment of an interpreter (its `sys.prefix`).
    pub fn from_interpreter(interpreter: InterpreterInfo) -> Self {
        Environment {
            root: interpreter.prefix.clone(),
            interpreter,
        }
    }

    /// `purelib`, where pure-Python packages and metadata go.
    pub fn site_packages(&self) -> &Path {
        &self.interpreter.paths.purelib
    }

    pub fn platlib(&self) -> &Path {
        &self.interpreter.paths.platlib
    }

    /// Where console scripts go (`bin`).
    pub fn scripts_dir(&self) -> &Path {
        &self.interpreter.paths.scripts
    }

    /// Where `.data/data` goes (the prefix).
    pub fn data_dir(&self) -> &Path {
        &self.interpreter.paths.data
    }

    /// The directories a distribution may write into.
    pub(crate) fn scheme_roots(&self) -> Vec<&Path> {
        let p = &self.interpreter.paths;
        let mut roots = vec![
            self.root.as_path(),
            p.purelib.as_path(),
            p.platlib.as_path(),
            p.scripts.as_path(),
            p.data.as_path(),
        ];
        roots.sort();
        roots.dedup();
        roots
    }

    /// Every installed distribution in purelib and platlib, sorted by name.
    pub fn installed(&self) -> Result<Vec<InstalledDist>> {
        let mut dirs = vec![self.site_packages().to_path_buf()];
        if self.platlib() != self.site_packages() {
            dirs.push(self.platlib().to_path_buf());
        }
        let mut found = Vec::new();
        for dir in dirs {
            let entries = match std::fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(io_err("could not read", &dir)(e)),
            };
            for entry in entries {
                let entry = entry.map_err(io_err("could not read", &dir))?;
                let file_name = entry.file_name();
                let Some(name) = file_name.to_str() else {
                    continue;
                };
                let path = entry.path();
                let dist = if let Some(stem) = name.strip_suffix(".dist-info") {
                    read_dist_info(&path, stem)
                } else if name.ends_with(".egg-info") {
                    read_egg_info(&path)
                } else {
                    None
                };
                found.extend(dist);
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name).then(a.version.cmp(&b.version)));
        Ok(found)
    }

    /// The installed distribution called `name`, if any.
    pub fn find(&self, name: &PackageName) -> Result<Option<InstalledDist>> {
        Ok(self.installed()?.into_iter().find(|d| &d.name == name))
    }
}

fn read_dist_info(path: &Path, stem: &str) -> Option<InstalledDist> {
    if !path.is_dir() {
        return None;
    }
    let (name, version) = match split_name_version(stem) {
        Some(nv) => nv,
        None => {
            let meta = std::fs::read(path.join("METADATA")).ok()?;
            let meta = CoreMetadata::parse(&meta).ok()?;
            (meta.name, meta.version)
        }
    };
    let installer = std::fs::read_to_string(path.join("INSTALLER"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    Some(InstalledDist {
        name,
        version,
        path: path.to_path_buf(),
        kind: MetadataKind::DistInfo,
        installer,
        requested: path.join("REQUESTED").exists(),
    })
}

fn read_egg_info(path: &Path) -> Option<InstalledDist> {
    let pkg_info = if path.is_dir() {
        path.join("PKG-INFO")
    } else {
        path.to_path_buf()
    };
    let meta = std::fs::read(pkg_info).ok()?;
    let meta = CoreMetadata::parse(&meta).ok()?;
    let installer = if path.is_dir() {
        std::fs::read_to_string(path.join("INSTALLER"))
            .ok()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    } else {
        None
    };
    Some(InstalledDist {
        name: meta.name,
        version: meta.version,
        path: path.to_path_buf(),
        kind: MetadataKind::EggInfo,
        installer,
        requested: false,
    })
}

/// Split `name-version` (a dist-info stem) at the dash where both halves parse.
pub(crate) fn split_name_version(stem: &str) -> Option<(PackageName, Version)> {
    stem.match_indices('-').find_map(|(i, _)| {
        let name = PackageName::from_str(&stem[..i]).ok()?;
        let version = Version::from_str(&stem[i + 1..]).ok()?;
        Some((name, version))
    })
}

/// PEP 668: when `interpreter` is not a venv and its stdlib holds an
/// `EXTERNALLY-MANAGED` file, the message to show (from the file for the
/// user's language, else a default). None when installing is allowed.
pub fn check_externally_managed(interpreter: &InterpreterInfo) -> Option<String> {
    if interpreter.is_venv() {
        return None;
    }
    let path = interpreter.externally_managed.as_ref()?;
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lang = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    Some(
        externally_managed_message(&text, lang.as_deref())
            .unwrap_or_else(|| DEFAULT_EXTERNALLY_MANAGED.to_string()),
    )
}

const DEFAULT_EXTERNALLY_MANAGED: &str = "This Python installation is managed by your operating \
system or another package manager. To install packages, create a virtual environment and install \
into it.";

/// The `Error-<lang>` / `Error-<language>` / `Error` value of the
/// `[externally-managed]` section of an INI text.
pub(crate) fn externally_managed_message(text: &str, lang: Option<&str>) -> Option<String> {
    let values = ini_section(text, "externally-managed");
    let mut keys = Vec::new();
    if let Some(lang) = lang {
        let lang = lang.split('.').next().unwrap_or(lang);
        keys.push(format!("error-{}", lang.to_ascii_lowercase()));
        if let Some(short) = lang.split(['_', '-']).next() {
            keys.push(format!("error-{}", short.to_ascii_lowercase()));
        }
    }
    keys.push("error".to_string());
    keys.iter().find_map(|k| {
        values
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    })
}

/// `(lowercased key, value)` pairs of one INI section, with indented
/// continuation lines joined by newlines (as Python's configparser does).
fn ini_section(text: &str, section: &str) -> Vec<(String, String)> {
    let mut values: Vec<(String, String)> = Vec::new();
    let mut in_section = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if line.starts_with([' ', '\t']) && !trimmed.is_empty() {
            if in_section {
                if let Some((_, v)) = values.last_mut() {
                    if !v.is_empty() {
                        v.push('\n');
                    }
                    v.push_str(trimmed);
                }
            }
            continue;
        }
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            in_section = name.trim() == section;
            continue;
        }
        if in_section {
            if let Some(i) = trimmed.find(['=', ':']) {
                values.push((
                    trimmed[..i].trim().to_ascii_lowercase(),
                    trimmed[i + 1..].trim().to_string(),
                ));
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn externally_managed_prefers_the_users_language() {
        let text = "[externally-managed]\nError=Use apt install\n python3-xyz instead.\nError-de_DE = Bitte apt benutzen\nError-fr = Utilisez apt\n";
        assert_eq!(
            externally_managed_message(text, Some("de_DE.UTF-8")).unwrap(),
            "Bitte apt benutzen"
        );
        assert_eq!(
            externally_managed_message(text, Some("fr_CA.UTF-8")).unwrap(),
            "Utilisez apt"
        );
        assert_eq!(
            externally_managed_message(text, Some("C")).unwrap(),
            "Use apt install\npython3-xyz instead."
        );
        assert_eq!(externally_managed_message("[other]\nError=x\n", None), None);
    }

    #[test]
    fn dist_info_stems_split_where_both_halves_parse() {
        let (n, v) = split_name_version("python_dateutil-2.8.2").unwrap();
        assert_eq!(n.as_ref(), "python-dateutil");
        assert_eq!(v.to_string(), "2.8.2");
        assert!(split_name_version("nodash").is_none());
    }
}
