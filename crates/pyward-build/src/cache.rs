//! The cache of built wheels and prepared metadata, keyed by the sdist's
//! sha256 and the interpreter they were built for:
//! `<cache>/built-wheels-v1/<sdist sha256>/<interpreter>/` holds the wheel,
//! its `METADATA`, and `build.json` (how it was sandboxed, what was found),
//! so a later install reuses the wheel without running anything and still
//! reports what the build did.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pyward_dist::{CoreMetadata, InterpreterInfo, WheelFilename};
use pyward_guard::Finding;
use serde::{Deserialize, Serialize};

use crate::sandbox::SandboxStatus;

/// How a cached wheel or metadata came to be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct BuildRecord {
    pub sandbox: SandboxStatus,
    pub findings: Vec<Finding>,
}

/// A cached wheel.
#[derive(Debug, Clone)]
pub(crate) struct CachedWheel {
    pub path: PathBuf,
    pub filename: WheelFilename,
    pub metadata: CoreMetadata,
    pub record: BuildRecord,
}

/// One cache directory for built wheels.
#[derive(Debug, Clone)]
pub(crate) struct BuildCache {
    root: PathBuf,
}

/// A plain path component naming the interpreter a wheel was built for.
pub(crate) fn interpreter_key(info: &InterpreterInfo) -> String {
    let raw = format!(
        "{}-{}.{}{}-{}-{}",
        info.implementation, info.version.0, info.version.1, info.abiflags, info.os, info.arch
    );
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

impl BuildCache {
    pub fn new(cache_dir: &Path) -> Self {
        BuildCache {
            root: cache_dir.join("built-wheels-v1"),
        }
    }

    pub fn entry(&self, sha256: &str, interpreter: &str) -> PathBuf {
        self.root.join(sha256).join(interpreter)
    }

    fn record(dir: &Path) -> Option<BuildRecord> {
        let bytes = std::fs::read(dir.join("build.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    fn metadata(dir: &Path) -> Option<CoreMetadata> {
        let bytes = std::fs::read(dir.join("METADATA")).ok()?;
        CoreMetadata::parse(&bytes).ok()
    }

    /// The cached wheel of an entry, when it is complete.
    pub fn wheel(&self, sha256: &str, interpreter: &str) -> Option<CachedWheel> {
        let dir = self.entry(sha256, interpreter);
        let wheel = std::fs::read_dir(&dir).ok()?.flatten().find_map(|e| {
            let name = e.file_name().to_str()?.to_string();
            let filename = WheelFilename::from_str(&name).ok()?;
            e.file_type()
                .ok()?
                .is_file()
                .then_some((e.path(), filename))
        })?;
        Some(CachedWheel {
            path: wheel.0,
            filename: wheel.1,
            metadata: Self::metadata(&dir)?,
            record: Self::record(&dir)?,
        })
    }

    /// The cached metadata of an entry (prepared or from a built wheel).
    pub fn prepared_metadata(
        &self,
        sha256: &str,
        interpreter: &str,
    ) -> Option<(CoreMetadata, BuildRecord)> {
        let dir = self.entry(sha256, interpreter);
        Some((Self::metadata(&dir)?, Self::record(&dir)?))
    }

    /// Store metadata and the record of how it was made.
    pub fn store_metadata(
        &self,
        sha256: &str,
        interpreter: &str,
        metadata: &[u8],
        record: &BuildRecord,
    ) -> std::io::Result<()> {
        let dir = self.entry(sha256, interpreter);
        std::fs::create_dir_all(&dir)?;
        write_atomic(&dir, "METADATA", metadata)?;
        let json = serde_json::to_vec_pretty(record).map_err(std::io::Error::other)?;
        write_atomic(&dir, "build.json", &json)
    }

    /// Move a built wheel into the cache (with its metadata and record) and
    /// return its new path.
    pub fn store_wheel(
        &self,
        sha256: &str,
        interpreter: &str,
        wheel: &Path,
        filename: &WheelFilename,
        metadata: &[u8],
        record: &BuildRecord,
    ) -> std::io::Result<PathBuf> {
        let dir = self.entry(sha256, interpreter);
        // Metadata first: an entry counts as complete once its wheel is there.
        self.store_metadata(sha256, interpreter, metadata, record)?;
        // Wheels of an earlier build of the same sdist give way to this one.
        for e in std::fs::read_dir(&dir)?.flatten() {
            if e.file_name().to_string_lossy().ends_with(".whl") {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let target = dir.join(filename.to_string());
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-wheel-")
            .tempfile_in(&dir)?;
        let moved = std::fs::rename(wheel, tmp.path());
        if moved.is_err() {
            std::fs::copy(wheel, tmp.path())?;
        }
        tmp.persist(&target).map_err(|e| e.error)?;
        Ok(target)
    }
}

fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(dir.join(name)).map_err(|e| e.error)?;
    Ok(())
}
