//! Unpacking a wheel into the cache and proving it is what it claims: one
//! dist-info matching the filename, a supported `Wheel-Version`, and a
//! RECORD that lists every file with a correct sha256 and size. The unpacked
//! directory appears atomically (extract beside it, then rename) and is
//! reused as-is on later runs.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pyward_archive::{EntryKind, Limits};
use pyward_dist::{PackageName, Version, WheelFilename};
use sha2::{Digest, Sha256, Sha384, Sha512};

use crate::error::{io_err, InstallError, Result};
use crate::record::{parse_record, RecordEntry};

/// A verified wheel, unpacked in the cache. Never modified after creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnpackedWheel {
    pub dir: PathBuf,
    pub filename: WheelFilename,
    /// The `{name}-{version}.dist-info` directory name, as in the archive.
    pub dist_info: String,
    /// The `{name}-{version}.data` directory name, when the wheel has one.
    pub data_dir: Option<String>,
    /// `Root-Is-Purelib` from WHEEL.
    pub root_is_purelib: bool,
}

impl UnpackedWheel {
    /// Open a wheel unpacked earlier by [`unpack_wheel`] (no re-verification).
    pub fn open(dir: &Path, filename: &WheelFilename) -> Result<UnpackedWheel> {
        let invalid = |reason: String| InstallError::InvalidWheel {
            wheel: filename.to_string(),
            reason,
        };
        let mut dist_infos = Vec::new();
        let mut data_dirs = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_err("could not read", dir))? {
            let entry = entry.map_err(io_err("could not read", dir))?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            if !entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            if let Some(stem) = name.strip_suffix(".dist-info") {
                dist_infos.push((stem.to_string(), name));
            } else if let Some(stem) = name.strip_suffix(".data") {
                data_dirs.push((stem.to_string(), name));
            }
        }
        let (stem, dist_info) = match dist_infos.as_slice() {
            [one] => one.clone(),
            [] => return Err(invalid("it has no .dist-info directory".to_string())),
            many => {
                return Err(invalid(format!(
                    "it has {} .dist-info directories ({})",
                    many.len(),
                    many.iter()
                        .map(|(_, n)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        if !matches_filename(&stem, &filename.name, &filename.version) {
            return Err(invalid(format!(
                "its metadata directory {dist_info} does not match the filename"
            )));
        }
        let data_dir = data_dirs
            .into_iter()
            .find(|(s, _)| s == &stem)
            .map(|(_, n)| n);
        let wheel_file = dir.join(&dist_info).join("WHEEL");
        let wheel = std::fs::read_to_string(&wheel_file)
            .map_err(|e| invalid(format!("its WHEEL file could not be read: {e}")))?;
        let root_is_purelib = parse_wheel_file(&wheel).map_err(invalid)?;
        Ok(UnpackedWheel {
            dir: dir.to_path_buf(),
            filename: filename.clone(),
            dist_info,
            data_dir,
            root_is_purelib,
        })
    }

    /// The RECORD rows of the unpacked wheel.
    pub fn record(&self) -> Result<Vec<RecordEntry>> {
        let file = self.dir.join(&self.dist_info).join("RECORD");
        let bytes = std::fs::read(&file).map_err(io_err("could not read", &file))?;
        parse_record(&bytes, &self.filename.to_string())
    }

    pub fn name(&self) -> &PackageName {
        &self.filename.name
    }

    pub fn version(&self) -> &Version {
        &self.filename.version
    }
}

fn matches_filename(stem: &str, name: &PackageName, version: &Version) -> bool {
    stem.match_indices('-').any(|(i, _)| {
        PackageName::from_str(&stem[..i]).is_ok_and(|n| &n == name)
            && Version::from_str(&stem[i + 1..]).is_ok_and(|v| &v == version)
    })
}

/// Check `Wheel-Version` and return `Root-Is-Purelib`.
fn parse_wheel_file(text: &str) -> Result<bool, String> {
    let mut version = None;
    let mut purelib = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "wheel-version" => version = Some(value.trim().to_string()),
            "root-is-purelib" => purelib = Some(value.trim().eq_ignore_ascii_case("true")),
            _ => {}
        }
    }
    let version = version.ok_or("its WHEEL file has no Wheel-Version")?;
    let major = version
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok())
        .ok_or_else(|| format!("its Wheel-Version `{version}` is not a version"))?;
    if major != 1 {
        return Err(format!(
            "its Wheel-Version is {version}; pyward understands version 1"
        ));
    }
    Ok(purelib.unwrap_or(false))
}

/// A cache key must be one plain path component.
fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('.')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Hex sha256 of a file.
pub fn file_sha256(path: &Path) -> Result<String> {
    Ok(hex::encode(hash_file::<Sha256>(path)?))
}

/// The unpacked wheel under `cache_root/key`, when it is already there.
pub fn cached_wheel(
    cache_root: &Path,
    key: &str,
    filename: &WheelFilename,
) -> Result<Option<UnpackedWheel>> {
    if !valid_key(key) {
        return Err(InstallError::Invalid(format!(
            "`{key}` cannot name a cache entry"
        )));
    }
    let dir = cache_root.join(key);
    if !dir.is_dir() {
        return Ok(None);
    }
    UnpackedWheel::open(&dir, filename).map(Some)
}

/// Unpack and verify `archive` into `cache_root/<key>/`, where `key` is the
/// caller's (e.g. the sha256 it verified while downloading) or else the
/// archive's sha256. An existing directory is reused without extracting.
pub fn unpack_wheel(
    archive: &Path,
    filename: &WheelFilename,
    cache_root: &Path,
    key: Option<&str>,
) -> Result<UnpackedWheel> {
    let key = match key {
        Some(k) => k.to_string(),
        None => file_sha256(archive)?,
    };
    if let Some(cached) = cached_wheel(cache_root, &key, filename)? {
        return Ok(cached);
    }
    std::fs::create_dir_all(cache_root).map_err(io_err("could not create", cache_root))?;
    let tmp = tempfile::Builder::new()
        .prefix(".tmp-unpack-")
        .tempdir_in(cache_root)
        .map_err(io_err("could not create a directory in", cache_root))?;
    let extracted = tmp.path().join("w");
    let entries = pyward_archive::extract_zip(archive, &extracted, &Limits::default())?;
    verify_record(&extracted, filename, &entries)?;
    let unpacked = UnpackedWheel::open(&extracted, filename)?;
    let target = cache_root.join(&key);
    match std::fs::rename(&extracted, &target) {
        Ok(()) => {}
        // Another process unpacked the same wheel meanwhile: use theirs.
        Err(_) if target.is_dir() => {}
        Err(e) => return Err(io_err("could not move the unpacked wheel to", &target)(e)),
    }
    Ok(UnpackedWheel {
        dir: target,
        ..unpacked
    })
}

/// Every extracted file must be listed in RECORD with a correct hash and
/// size (RECORD and its signatures excepted), and RECORD may list nothing
/// else.
fn verify_record(
    dir: &Path,
    filename: &WheelFilename,
    entries: &[pyward_archive::Entry],
) -> Result<()> {
    let wheel = filename.to_string();
    let invalid = |reason: String| InstallError::InvalidWheel {
        wheel: wheel.clone(),
        reason,
    };
    let mismatch = |path: &str, problem: String| InstallError::RecordMismatch {
        wheel: wheel.clone(),
        path: path.to_string(),
        problem,
    };
    // The dist-info is found from the entries, before trusting any file.
    let mut dist_infos: Vec<&str> = entries
        .iter()
        .filter_map(|e| e.path.split('/').next())
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    dist_infos.sort_unstable();
    dist_infos.dedup();
    let dist_info = match dist_infos.as_slice() {
        [one] => *one,
        [] => return Err(invalid("it has no .dist-info directory".to_string())),
        many => {
            return Err(invalid(format!(
                "it has {} .dist-info directories ({})",
                many.len(),
                many.join(", ")
            )))
        }
    };
    let record_path = format!("{dist_info}/RECORD");
    if !entries.iter().any(|e| e.path == record_path) {
        return Err(invalid(format!("it has no {record_path}")));
    }
    let record_bytes = std::fs::read(dir.join(&record_path))
        .map_err(io_err("could not read", dir.join(&record_path)))?;
    let rows = parse_record(&record_bytes, &wheel)?;

    let is_record_file = |p: &str| {
        p == record_path
            || p == format!("{dist_info}/RECORD.jws")
            || p == format!("{dist_info}/RECORD.p7s")
    };
    let mut listed: HashMap<String, &RecordEntry> = HashMap::with_capacity(rows.len());
    for row in &rows {
        let path = pyward_archive::normalize_entry_path(&row.path)
            .map_err(|reason| mismatch(&row.path, format!("is an unsafe RECORD path: {reason}")))?;
        if let Some(previous) = listed.insert(path.clone(), row) {
            if previous.hash != row.hash || previous.size != row.size {
                return Err(mismatch(&row.path, "is listed twice in RECORD".to_string()));
            }
        }
    }
    for entry in entries {
        let EntryKind::File { size, sha256, .. } = &entry.kind else {
            return Err(mismatch(&entry.path, "is not a regular file".to_string()));
        };
        let Some(row) = listed.remove(&entry.path) else {
            if is_record_file(&entry.path) {
                continue;
            }
            return Err(mismatch(&entry.path, "is not listed in RECORD".to_string()));
        };
        if is_record_file(&entry.path) && row.hash.is_empty() {
            continue;
        }
        let digest = row
            .digest()
            .map_err(|reason| mismatch(&entry.path, reason))?
            .ok_or_else(|| mismatch(&entry.path, "has no hash in RECORD".to_string()))?;
        let matches = match digest {
            ("sha256", expected) => expected == sha256,
            ("sha384", expected) => expected == hash_file::<Sha384>(&dir.join(&entry.path))?,
            ("sha512", expected) => expected == hash_file::<Sha512>(&dir.join(&entry.path))?,
            ("md5" | "sha1", _) => {
                return Err(mismatch(
                    &entry.path,
                    format!("uses {}, which is too weak to trust", digest.0),
                ))
            }
            (other, _) => {
                return Err(mismatch(
                    &entry.path,
                    format!("uses the unsupported hash algorithm {other}"),
                ))
            }
        };
        if !matches {
            return Err(mismatch(
                &entry.path,
                "does not match its RECORD hash (the wheel was modified after it was built)"
                    .to_string(),
            ));
        }
        if let Some(expected) = row.size {
            if expected != *size {
                return Err(mismatch(
                    &entry.path,
                    format!("is {size} bytes but RECORD says {expected}"),
                ));
            }
        }
    }
    if let Some(missing) = listed.keys().find(|p| !is_record_file(p)) {
        return Err(mismatch(
            missing,
            "is listed in RECORD but missing from the wheel".to_string(),
        ));
    }
    Ok(())
}

fn hash_file<D: Digest>(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(io_err("could not read", path))?;
    let mut hasher = D::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(io_err("could not read", path))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wheel_version_major_must_be_one() {
        assert!(parse_wheel_file("Wheel-Version: 1.0\nRoot-Is-Purelib: true\n").unwrap());
        assert!(!parse_wheel_file("Wheel-Version: 1.9\nRoot-Is-Purelib: false\n").unwrap());
        assert!(parse_wheel_file("Wheel-Version: 2.0\n")
            .unwrap_err()
            .contains("2.0"));
        assert!(parse_wheel_file("Root-Is-Purelib: true\n").is_err());
    }

    #[test]
    fn cache_keys_are_plain_components() {
        assert!(valid_key("abc123"));
        assert!(!valid_key("../x"));
        assert!(!valid_key(".hidden"));
        assert!(!valid_key("a/b"));
    }
}
