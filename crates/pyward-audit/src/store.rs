//! The compact on-disk form of an advisory database: one file holding what the
//! data is, a sorted package-name index that is searched in place (no
//! decoding, no allocation), and one postcard-encoded blob per package.
//! Opening reads the file and decodes only the small metadata; a query
//! decodes only the blobs of the packages asked about.
//!
//! Layout (integers little-endian):
//! `MAGIC` (8 bytes) · meta length (u32) · meta (postcard) · package count
//! (u32) · per package: name offset, name length, blob offset, blob length
//! (4 × u32) · names (UTF-8, sorted) · blobs.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ranges::AffectedSet;
use crate::severity::SeverityScore;
use crate::AuditError;

/// File signature; the last byte is the format version.
const MAGIC: &[u8; 8] = b"PYWADB\0\x02";
/// Bytes of one index entry.
const ENTRY_LEN: usize = 16;

/// What the data is and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoreMeta {
    /// The URL, zip or directory the records were read from.
    pub from: String,
    /// `YYYY-MM-DD` of the most recently modified record.
    pub newest_record: Option<String>,
    /// Unix seconds when the store was written.
    pub updated_at: i64,
    pub records: u64,
    pub packages: u64,
    pub skipped_records: u64,
    pub skipped_versions: u64,
}

/// One vulnerability of one package: every record that aliases it merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredVuln {
    pub id: String,
    pub aliases: Vec<String>,
    pub summary: String,
    pub severity: SeverityScore,
    pub malware: bool,
    /// One entry per record (and per `affected[]` entry) naming this package.
    pub affected: Vec<AffectedSet>,
}

/// An opened store: metadata decoded, index and blobs left as bytes.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pub meta: StoreMeta,
    bytes: Cow<'static, [u8]>,
    count: usize,
    index_start: usize,
    names_start: usize,
    blobs_start: usize,
}

fn corrupt(reason: impl Into<String>) -> AuditError {
    AuditError::CorruptStore {
        reason: reason.into(),
    }
}

fn u32_at(bytes: &[u8], at: usize) -> Option<usize> {
    let chunk = bytes.get(at..at.checked_add(4)?)?;
    let array: [u8; 4] = chunk.try_into().ok()?;
    Some(u32::from_le_bytes(array) as usize)
}

fn to_u32(n: usize, what: &str) -> Result<u32, AuditError> {
    u32::try_from(n).map_err(|_| corrupt(format!("{what} exceeds 4 GiB")))
}

impl Store {
    /// Encode a store. `packages` maps normalized names to their vulnerabilities.
    pub fn encode(
        meta: StoreMeta,
        packages: &BTreeMap<String, Vec<StoredVuln>>,
    ) -> Result<Vec<u8>, AuditError> {
        let meta = postcard::to_allocvec(&meta).map_err(|e| corrupt(e.to_string()))?;
        let mut index = Vec::with_capacity(packages.len() * ENTRY_LEN);
        let mut names = Vec::new();
        let mut blobs = Vec::new();
        for (name, vulns) in packages {
            let blob = postcard::to_allocvec(vulns).map_err(|e| corrupt(e.to_string()))?;
            for n in [names.len(), name.len(), blobs.len(), blob.len()] {
                index.extend_from_slice(&to_u32(n, "the advisory data")?.to_le_bytes());
            }
            names.extend_from_slice(name.as_bytes());
            blobs.extend_from_slice(&blob);
        }
        let mut out = Vec::with_capacity(
            MAGIC.len() + 8 + meta.len() + index.len() + names.len() + blobs.len(),
        );
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&to_u32(meta.len(), "the metadata")?.to_le_bytes());
        out.extend_from_slice(&meta);
        out.extend_from_slice(&to_u32(packages.len(), "the package count")?.to_le_bytes());
        out.extend_from_slice(&index);
        out.extend_from_slice(&names);
        out.extend_from_slice(&blobs);
        Ok(out)
    }

    /// Open a store from its bytes, checking the signature, the metadata and
    /// that the index fits in the file. Entries are bounds-checked when used.
    pub fn decode(bytes: Cow<'static, [u8]>) -> Result<Store, AuditError> {
        if !bytes.starts_with(MAGIC) {
            return Err(corrupt(
                "not a pyward advisory database (wrong signature or format version)",
            ));
        }
        let truncated = || corrupt("the file is truncated");
        let meta_len = u32_at(&bytes, MAGIC.len()).ok_or_else(truncated)?;
        let meta_start = MAGIC.len() + 4;
        let meta_end = meta_start.checked_add(meta_len).ok_or_else(truncated)?;
        let meta_bytes = bytes.get(meta_start..meta_end).ok_or_else(truncated)?;
        let meta: StoreMeta =
            postcard::from_bytes(meta_bytes).map_err(|e| corrupt(format!("metadata: {e}")))?;
        let count = u32_at(&bytes, meta_end).ok_or_else(truncated)?;
        let index_start = meta_end + 4;
        let names_start = count
            .checked_mul(ENTRY_LEN)
            .and_then(|n| n.checked_add(index_start))
            .filter(|&end| end <= bytes.len())
            .ok_or_else(truncated)?;
        let mut store = Store {
            meta,
            bytes,
            count,
            index_start,
            names_start,
            blobs_start: names_start,
        };
        if count > 0 {
            // Names end where the last name ends; blobs follow.
            let (offset, len, _, _) = store.entry(count - 1)?;
            store.blobs_start = names_start
                .checked_add(offset)
                .and_then(|n| n.checked_add(len))
                .filter(|&end| end <= store.bytes.len())
                .ok_or_else(truncated)?;
        }
        Ok(store)
    }

    /// Index entry `i`: name offset and length, blob offset and length.
    fn entry(&self, i: usize) -> Result<(usize, usize, usize, usize), AuditError> {
        let at = i
            .checked_mul(ENTRY_LEN)
            .and_then(|n| n.checked_add(self.index_start))
            .ok_or_else(|| corrupt("the index is truncated"))?;
        let field = |k: usize| {
            u32_at(&self.bytes, at + 4 * k).ok_or_else(|| corrupt("the index is truncated"))
        };
        Ok((field(0)?, field(1)?, field(2)?, field(3)?))
    }

    /// `len` bytes at `start`, if they lie inside `start..end` of the file.
    fn slice(&self, start: usize, len: usize, end: usize) -> Option<&[u8]> {
        let stop = start.checked_add(len).filter(|&stop| stop <= end)?;
        self.bytes.get(start..stop)
    }

    fn name(&self, i: usize) -> Result<&[u8], AuditError> {
        let (offset, len, _, _) = self.entry(i)?;
        self.names_start
            .checked_add(offset)
            .and_then(|start| self.slice(start, len, self.blobs_start))
            .ok_or_else(|| corrupt("a package name points outside the name table"))
    }

    /// The vulnerabilities stored for one normalized package name.
    pub fn package(&self, name: &str) -> Result<Vec<StoredVuln>, AuditError> {
        let wanted = name.as_bytes();
        let (mut low, mut high) = (0, self.count);
        while low < high {
            let mid = low + (high - low) / 2;
            match self.name(mid)?.cmp(wanted) {
                std::cmp::Ordering::Less => low = mid + 1,
                std::cmp::Ordering::Greater => high = mid,
                std::cmp::Ordering::Equal => {
                    let (_, _, offset, len) = self.entry(mid)?;
                    let blob = self
                        .blobs_start
                        .checked_add(offset)
                        .and_then(|start| self.slice(start, len, self.bytes.len()))
                        .ok_or_else(|| corrupt(format!("the entry for {name} is truncated")))?;
                    return postcard::from_bytes(blob)
                        .map_err(|e| corrupt(format!("the entry for {name}: {e}")));
                }
            }
        }
        Ok(Vec::new())
    }

    /// A store with no data (reports zero records).
    pub fn empty() -> Store {
        Store {
            meta: StoreMeta {
                from: String::new(),
                newest_record: None,
                updated_at: 0,
                records: 0,
                packages: 0,
                skipped_records: 0,
                skipped_versions: 0,
            },
            bytes: Cow::Borrowed(&[]),
            count: 0,
            index_start: 0,
            names_start: 0,
            blobs_start: 0,
        }
    }

    pub fn package_count(&self) -> usize {
        self.count
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranges::Event;
    use crate::severity::SeveritySource;

    fn sample() -> (StoreMeta, BTreeMap<String, Vec<StoredVuln>>) {
        let meta = StoreMeta {
            from: "test".into(),
            newest_record: Some("2024-10-10".into()),
            updated_at: 1_700_000_000,
            records: 1,
            packages: 2,
            skipped_records: 0,
            skipped_versions: 0,
        };
        let vuln = StoredVuln {
            id: "PYSEC-1".into(),
            aliases: vec!["CVE-1".into()],
            summary: "A flaw.".into(),
            severity: SeverityScore {
                rating: Some(pyward_guard::Severity::High),
                score: Some(7.5),
                source: SeveritySource::CvssV3,
            },
            malware: false,
            affected: vec![AffectedSet {
                ranges: vec![vec![Event::Introduced(None), Event::Fixed("1.0".into())]],
                versions: vec![],
            }],
        };
        let mut packages = BTreeMap::new();
        packages.insert("alpha".to_string(), vec![vuln.clone()]);
        packages.insert("beta".to_string(), vec![vuln]);
        (meta, packages)
    }

    #[test]
    fn round_trips_and_answers_by_name() {
        let (meta, packages) = sample();
        let bytes = Store::encode(meta.clone(), &packages).unwrap();
        let store = Store::decode(Cow::Owned(bytes)).unwrap();
        assert_eq!(store.meta, meta);
        assert_eq!(store.package("beta").unwrap(), packages["beta"]);
        assert!(store.package("gamma").unwrap().is_empty());
    }

    #[test]
    fn damaged_files_are_errors_not_panics() {
        let (meta, packages) = sample();
        let bytes = Store::encode(meta, &packages).unwrap();
        // Every truncation and a flipped byte anywhere: an error or a valid answer.
        for cut in 0..bytes.len() {
            let _ = Store::decode(Cow::Owned(bytes[..cut].to_vec()))
                .and_then(|s| s.package("alpha").map(|_| ()));
        }
        for i in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[i] ^= 0xff;
            let _ = Store::decode(Cow::Owned(damaged)).and_then(|s| s.package("beta").map(|_| ()));
        }
        assert!(matches!(
            Store::decode(Cow::Borrowed(b"PK\x03\x04 not ours")),
            Err(AuditError::CorruptStore { .. })
        ));
    }
}
