//! The `RECORD` file of a wheel or an installed distribution: CSV rows of
//! `path,algorithm=urlsafe-base64-digest,size`.

use base64::Engine;

use crate::error::{InstallError, Result};

/// One RECORD row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    pub path: String,
    /// `sha256=…` (or another algorithm) as written; empty when absent.
    pub hash: String,
    pub size: Option<u64>,
}

impl RecordEntry {
    /// A row for a file whose sha256 and size are known.
    pub fn new(path: String, sha256: &[u8; 32], size: u64) -> Self {
        RecordEntry {
            path,
            hash: format!("sha256={}", encode_digest(sha256)),
            size: Some(size),
        }
    }

    /// `(algorithm, digest bytes)`; None when the row has no hash.
    pub fn digest(&self) -> Result<Option<(&str, Vec<u8>)>, String> {
        if self.hash.is_empty() {
            return Ok(None);
        }
        let (algorithm, encoded) = self
            .hash
            .split_once('=')
            .ok_or_else(|| format!("hash `{}` is not `algorithm=digest`", self.hash))?;
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(encoded.trim_end_matches('='))
            .map_err(|_| format!("hash `{}` is not urlsafe base64", self.hash))?;
        Ok(Some((algorithm, digest)))
    }
}

/// The urlsafe, unpadded base64 form RECORD uses.
pub fn encode_digest(digest: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest)
}

/// Parse RECORD text. `what` names the file in errors.
pub fn parse_record(bytes: &[u8], what: &str) -> Result<Vec<RecordEntry>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record
            .map_err(|e| InstallError::Invalid(format!("{what}: RECORD is not valid CSV: {e}")))?;
        let path = record.get(0).unwrap_or("").to_string();
        if path.is_empty() {
            if record.iter().all(str::is_empty) {
                continue;
            }
            return Err(InstallError::Invalid(format!(
                "{what}: RECORD has a row without a path"
            )));
        }
        let hash = record.get(1).unwrap_or("").trim().to_string();
        let size = match record.get(2).map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(s.parse::<u64>().map_err(|_| {
                InstallError::Invalid(format!(
                    "{what}: RECORD size `{s}` of {path} is not a number"
                ))
            })?),
        };
        rows.push(RecordEntry { path, hash, size });
    }
    Ok(rows)
}

/// Render RECORD rows as CSV (`path,hash,size`, quoting where needed).
pub fn write_record(rows: &[RecordEntry]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    for row in rows {
        let size = row.size.map(|s| s.to_string()).unwrap_or_default();
        // Writing to a Vec cannot fail.
        let _ = writer.write_record([row.path.as_str(), row.hash.as_str(), size.as_str()]);
    }
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_quoting() {
        let rows = vec![
            RecordEntry::new("a,b.py".into(), &[7u8; 32], 3),
            RecordEntry {
                path: "x.dist-info/RECORD".into(),
                hash: String::new(),
                size: None,
            },
        ];
        let text = write_record(&rows);
        assert!(String::from_utf8_lossy(&text).contains("\"a,b.py\",sha256="));
        assert!(String::from_utf8_lossy(&text).ends_with("x.dist-info/RECORD,,\n"));
        assert_eq!(parse_record(&text, "t").unwrap(), rows);
        let (alg, digest) = rows[0].digest().unwrap().unwrap();
        assert_eq!((alg, digest), ("sha256", vec![7u8; 32]));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            if let Ok(rows) = parse_record(&bytes, "t") {
                for r in rows { let _ = r.digest(); }
            }
        }
    }
}
