//! The on-disk HTTP cache: one file per cached response, holding a JSON
//! header line (the HTTP cache policy, or a "not on this index" mark) and
//! then the payload. Files are replaced atomically, so concurrent pyward
//! processes never see half-written entries. Cache failures are never fatal:
//! a missing or broken entry is a miss, a failed write is logged.

use std::io::Write;
use std::path::{Path, PathBuf};

use http_cache_semantics::CachePolicy;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// What is known about a cached response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum CacheMeta {
    /// A response, with the policy that says how long it stays fresh.
    Found(Box<CachePolicy>),
    /// The resource was not there (only consulted offline).
    NotFound,
}

/// A cached response: its metadata and its payload bytes.
pub(crate) struct CacheEntry {
    pub meta: CacheMeta,
    pub payload: Vec<u8>,
}

/// Read an entry; `None` when absent or unreadable.
pub(crate) fn read_entry(path: &Path) -> Option<CacheEntry> {
    let bytes = match fs_err::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::debug!("ignoring an unreadable cache entry: {e}");
            return None;
        }
    };
    let newline = bytes.iter().position(|&b| b == b'\n')?;
    let meta = match serde_json::from_slice(&bytes[..newline]) {
        Ok(meta) => meta,
        Err(e) => {
            tracing::debug!("ignoring a malformed cache entry {}: {e}", path.display());
            return None;
        }
    };
    let mut payload = bytes;
    payload.drain(..=newline);
    Some(CacheEntry { meta, payload })
}

/// Write an entry atomically; failures are logged, not returned.
pub(crate) fn write_entry(path: &Path, meta: &CacheMeta, payload: &[u8]) {
    match serde_json::to_vec(meta) {
        Ok(header) => write_file(path, &[&header, b"\n", payload]),
        Err(e) => tracing::warn!("could not encode the cache entry {}: {e}", path.display()),
    }
}

/// Write `parts` to `path` atomically (a temporary file renamed into
/// place); failures are logged, not returned.
pub(crate) fn write_file(path: &Path, parts: &[&[u8]]) {
    let result = (|| -> std::io::Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        fs_err::create_dir_all(dir)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        for part in parts {
            file.write_all(part)?;
        }
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::warn!("could not write the cache file {}: {e}", path.display());
    }
}

/// Remove an entry that is no longer true; failures are ignored.
pub(crate) fn remove_entry(path: &Path) {
    let _ = std::fs::remove_file(path);
}

/// A short, stable, file-name-safe key for arbitrary text.
pub(crate) fn key(text: &str) -> String {
    hex::encode(&Sha256::digest(text.as_bytes())[..16])
}

/// Join `parts` under `dir`.
pub(crate) fn path(dir: &Path, parts: &[&str]) -> PathBuf {
    let mut p = dir.to_path_buf();
    for part in parts {
        p.push(part);
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_garbage_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a/b/entry");
        write_entry(&p, &CacheMeta::NotFound, b"pay\nload");
        let e = read_entry(&p).unwrap();
        assert!(matches!(e.meta, CacheMeta::NotFound));
        assert_eq!(e.payload, b"pay\nload");
        std::fs::write(&p, b"garbage").unwrap();
        assert!(read_entry(&p).is_none());
        std::fs::write(&p, b"{\"bad\": 1}\nx").unwrap();
        assert!(read_entry(&p).is_none());
        assert!(read_entry(&dir.path().join("missing")).is_none());
    }
}
