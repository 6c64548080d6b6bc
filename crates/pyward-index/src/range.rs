//! Reading one wheel's METADATA from parts of the file (HTTP range requests),
//! for indexes that publish no PEP 658 metadata file.
//!
//! [`RemoteZip`] holds the byte ranges fetched so far and shows them to the
//! `zip` crate as a seekable file. A read of a byte not fetched yet fails and
//! names the range to fetch next; the parse is then repeated from the start
//! with more bytes. A result counts only when the parse touched no missing
//! byte, so it is exactly what reading the whole file would give.
//!
//! Everything the server sends is untrusted: the number and total size of
//! fetches are limited, and the METADATA entry must be the single top-level
//! `<name>-<version>.dist-info/METADATA` of this wheel, stored or deflated,
//! at most [`MAX_METADATA_BYTES`] long, and match its CRC-32.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::str::FromStr;

use pyward_dist::{PackageName, Version, WheelFilename};
use zip::read::{ArchiveOffset, Config};
use zip::{CompressionMethod, ZipArchive};

/// The first request asks for this many bytes from the end of the file: the
/// end-of-central-directory records, and usually the whole central directory
/// and the METADATA entry (written last by wheel builders).
pub(crate) const TAIL_BYTES: u64 = 64 * 1024;
/// A missing stretch is fetched at least this long (clamped to the file).
const MIN_FETCH: u64 = 64 * 1024;
/// A missing stretch that ends where fetched bytes begin (the start of a
/// central directory that did not fit in the tail) is fetched whole when it
/// is no longer than this.
const MAX_GAP_FILL: u64 = 16 * 1024 * 1024;
/// At most this many range requests for one file, the first included.
pub(crate) const MAX_FETCHES: u32 = 8;
/// At most this many bytes fetched for one file.
pub(crate) const MAX_FETCHED_BYTES: u64 = 48 * 1024 * 1024;
/// The largest METADATA accepted (compressed and uncompressed).
pub(crate) const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;
/// Room for the local header's name and extra field when fetching an entry
/// (the fixed part is 30 bytes; the name is usually the central one).
const LOCAL_HEADER_ROOM: u64 = 30 + 1024;

/// What to do next.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The METADATA bytes, checked.
    Metadata(Vec<u8>),
    /// Fetch bytes `start..end` (end exclusive, within the file, not fetched yet).
    Fetch { start: u64, end: u64 },
}

/// The parts of a remote zip file fetched so far.
#[derive(Debug)]
pub(crate) struct RemoteZip {
    len: u64,
    /// Disjoint chunks by their start offset.
    chunks: BTreeMap<u64, Vec<u8>>,
    fetches: u32,
    fetched: u64,
}

impl RemoteZip {
    /// An empty view of a file of `len` bytes.
    pub(crate) fn new(len: u64) -> Self {
        RemoteZip {
            len,
            chunks: BTreeMap::new(),
            fetches: 0,
            fetched: 0,
        }
    }

    /// The length of the whole file.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Add `bytes` fetched at `start`. Refused when they fall outside the
    /// file, overlap bytes already held, or pass the fetch limits.
    pub(crate) fn add(&mut self, start: u64, bytes: Vec<u8>) -> Result<(), String> {
        let size = bytes.len() as u64;
        let end = start
            .checked_add(size)
            .filter(|&end| end <= self.len && size > 0)
            .ok_or_else(|| {
                format!(
                    "the server sent {size} bytes at offset {start}, outside the {}-byte file",
                    self.len
                )
            })?;
        if self.first_gap(start, end) != Some((start, end)) {
            return Err(format!(
                "the server sent bytes {start}-{end} again, overlapping what it sent before"
            ));
        }
        if self.fetches >= MAX_FETCHES {
            return Err(format!(
                "reading it needs more than {MAX_FETCHES} range requests"
            ));
        }
        if self.fetched.saturating_add(size) > MAX_FETCHED_BYTES {
            return Err(format!(
                "reading it needs more than {MAX_FETCHED_BYTES} bytes of the file"
            ));
        }
        self.fetches += 1;
        self.fetched += size;
        self.chunks.insert(start, bytes);
        Ok(())
    }

    /// Parse as far as the fetched bytes allow.
    pub(crate) fn next_step(&self, wheel: &WheelFilename) -> Result<Step, String> {
        let missing = Cell::new(None);
        let outcome = self.parse(wheel, &missing);
        // Anything decided after a read of a missing byte is not trusted: the
        // parser may have tried another record in its place.
        if let Some((start, end)) = missing.get() {
            let (start, end) = self.plan(start, end);
            return Ok(Step::Fetch { start, end });
        }
        outcome
    }

    fn parse(
        &self,
        wheel: &WheelFilename,
        missing: &Cell<Option<(u64, u64)>>,
    ) -> Result<Step, String> {
        let view = View {
            zip: self,
            pos: 0,
            missing,
        };
        let config = Config {
            archive_offset: ArchiveOffset::Known(0),
        };
        let mut archive = ZipArchive::with_config(config, view)
            .map_err(|e| format!("it is not a readable zip archive ({e})"))?;
        if archive.has_duplicate_names() {
            return Err("it has several entries with the same name".to_string());
        }
        let index = metadata_index(&archive, wheel)?;
        let entry = archive
            .by_index_data(index)
            .map_err(|e| format!("its METADATA entry is unreadable ({e})"))?;
        if entry.encrypted() {
            return Err("its METADATA entry is encrypted".to_string());
        }
        let method = entry.compression();
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            return Err(format!(
                "its METADATA entry is compressed with {method}; only stored and deflated entries are read"
            ));
        }
        if entry.size() > MAX_METADATA_BYTES || entry.compressed_size() > MAX_METADATA_BYTES {
            return Err(format!(
                "its METADATA entry is larger than {MAX_METADATA_BYTES} bytes"
            ));
        }
        let expected_crc = entry.crc32();
        let declared_size = entry.size();
        let wanted_end = entry
            .header_start()
            .saturating_add(LOCAL_HEADER_ROOM)
            .saturating_add(entry.name_raw().len() as u64)
            .saturating_add(entry.compressed_size())
            .min(self.len);
        if let Some((start, end)) = self.first_gap(entry.header_start(), wanted_end) {
            return Ok(Step::Fetch { start, end });
        }

        let mut file = archive
            .by_index(index)
            .map_err(|e| format!("its METADATA entry is unreadable ({e})"))?;
        let mut bytes = Vec::new();
        let read = file
            .by_ref()
            .take(MAX_METADATA_BYTES + 1)
            .read_to_end(&mut bytes);
        drop(file);
        if missing.get().is_some() {
            return Err("bytes are missing".to_string());
        }
        let mut crc = flate2::Crc::new();
        crc.update(&bytes);
        if read.is_err() || crc.sum() != expected_crc || bytes.len() as u64 != declared_size {
            // A checksum failure inside the zip crate and our own check say the same.
            if let Err(e) = &read {
                if !e.to_string().contains("checksum") {
                    return Err(format!("its METADATA entry cannot be decompressed ({e})"));
                }
            }
            return Err(
                "its METADATA entry does not match the CRC-32 or size in the zip directory (the file is damaged)"
                    .to_string(),
            );
        }
        Ok(Step::Metadata(bytes))
    }

    /// The range to fetch for a read that missed `start..end`: at least
    /// [`MIN_FETCH`] bytes, or the whole stretch up to the next fetched
    /// bytes when that is not too long, never past the next fetched bytes.
    fn plan(&self, start: u64, end: u64) -> (u64, u64) {
        let gap_end = self.next_chunk_after(start);
        let end = if gap_end - start <= MAX_GAP_FILL {
            gap_end
        } else {
            end.max(start.saturating_add(MIN_FETCH)).min(gap_end)
        };
        (start, end)
    }

    /// The start of the first chunk after `pos`, or the file length.
    fn next_chunk_after(&self, pos: u64) -> u64 {
        self.chunks
            .range(pos.saturating_add(1)..)
            .next()
            .map_or(self.len, |(&start, _)| start)
    }

    /// The chunk holding `pos`, as (its start, its bytes).
    fn chunk_at(&self, pos: u64) -> Option<(u64, &[u8])> {
        let (&start, bytes) = self.chunks.range(..=pos).next_back()?;
        (pos - start < bytes.len() as u64).then_some((start, bytes.as_slice()))
    }

    /// The first stretch of `start..end` not fetched yet.
    fn first_gap(&self, start: u64, end: u64) -> Option<(u64, u64)> {
        let mut pos = start;
        while pos < end {
            match self.chunk_at(pos) {
                Some((chunk_start, bytes)) => pos = chunk_start + bytes.len() as u64,
                None => return Some((pos, self.next_chunk_after(pos).min(end))),
            }
        }
        None
    }
}

/// A seekable reader over the fetched chunks; a read of a missing byte fails
/// and records what was missing (the first miss only).
struct View<'a> {
    zip: &'a RemoteZip,
    pos: u64,
    missing: &'a Cell<Option<(u64, u64)>>,
}

impl Read for View<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() || self.pos >= self.zip.len {
            return Ok(0);
        }
        match self.zip.chunk_at(self.pos) {
            Some((start, bytes)) => {
                let from = usize::try_from(self.pos - start).map_err(io::Error::other)?;
                let available = &bytes[from..];
                let n = available.len().min(buf.len());
                buf[..n].copy_from_slice(&available[..n]);
                self.pos += n as u64;
                Ok(n)
            }
            None => {
                if self.missing.get().is_none() {
                    let end = self.pos.saturating_add(buf.len() as u64).min(self.zip.len);
                    self.missing.set(Some((self.pos, end)));
                }
                Err(io::Error::other(
                    "this part of the file has not been fetched",
                ))
            }
        }
    }
}

impl Seek for View<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let pos = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.zip.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let pos = pos.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        self.pos = pos;
        Ok(pos)
    }
}

/// The index of the single top-level `*.dist-info/METADATA` entry, which
/// must belong to this wheel's name and version.
fn metadata_index<R: Read + Seek>(
    archive: &ZipArchive<R>,
    wheel: &WheelFilename,
) -> Result<usize, String> {
    let mut found: Vec<(usize, String)> = Vec::new();
    for index in 0..archive.len() {
        let Ok(entry) = archive.by_index_data(index) else {
            continue;
        };
        let Ok(name) = std::str::from_utf8(entry.name_raw()) else {
            continue;
        };
        if let Some(dir) = name.strip_suffix("/METADATA") {
            if dir.ends_with(".dist-info") && !dir.contains('/') {
                found.push((index, dir.to_string()));
            }
        }
    }
    match found.as_slice() {
        [] => Err("it has no <name>-<version>.dist-info/METADATA".to_string()),
        [(index, dir)] if dist_info_matches(dir, wheel) => Ok(*index),
        [(_, dir)] => Err(format!(
            "its metadata directory `{dir}` does not belong to {} {}",
            wheel.name, wheel.version
        )),
        several => Err(format!(
            "it has {} .dist-info/METADATA files ({}); a wheel has one",
            several.len(),
            several
                .iter()
                .map(|(_, dir)| format!("`{dir}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Whether `dir` is `{name}-{version}.dist-info` for this wheel, names and
/// versions compared in normalized form.
fn dist_info_matches(dir: &str, wheel: &WheelFilename) -> bool {
    let Some(stem) = dir.strip_suffix(".dist-info") else {
        return false;
    };
    stem.match_indices('-').any(|(at, _)| {
        let (name, version) = (&stem[..at], &stem[at + 1..]);
        PackageName::from_str(name).is_ok_and(|n| n == wheel.name)
            && Version::from_str(version).is_ok_and(|v| v == wheel.version)
    })
}

/// Parse a `Content-Range: bytes first-last/total` value into
/// `(first, last, total)`; `None` when it is malformed, unsatisfied
/// (`*/total`), of unknown total (`/*`), or inconsistent.
pub(crate) fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (first, last) = span.split_once('-')?;
    let parse = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (first, last, total) = (parse(first)?, parse(last)?, parse(total)?);
    (first <= last && last < total).then_some((first, last, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use pyward_testkit::wheel::{build_zip, RawZipEntry, WheelBuilder};

    fn wheel_name(filename: &str) -> WheelFilename {
        WheelFilename::from_str(filename).unwrap()
    }

    /// Fetch until done, from `bytes`, as the client does.
    fn read_all(bytes: &[u8], wheel: &WheelFilename) -> Result<(Vec<u8>, u32), String> {
        let len = bytes.len() as u64;
        let mut zip = RemoteZip::new(len);
        let tail_start = len.saturating_sub(TAIL_BYTES);
        if len > 0 {
            zip.add(tail_start, bytes[tail_start as usize..].to_vec())?;
        }
        loop {
            match zip.next_step(wheel)? {
                Step::Metadata(m) => return Ok((m, zip.fetches)),
                Step::Fetch { start, end } => {
                    assert!(
                        start < end && end <= len,
                        "bad plan {start}..{end} of {len}"
                    );
                    zip.add(start, bytes[start as usize..end as usize].to_vec())?;
                }
            }
        }
    }

    /// Deterministic, incompressible filler.
    fn noise(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn small_wheel_is_read_from_the_tail_alone() {
        let built = WheelBuilder::new("Demo.Pkg", "1.0")
            .requires_dist("idna")
            .build();
        let (metadata, fetches) = read_all(&built.bytes, &wheel_name(&built.filename)).unwrap();
        assert_eq!(metadata, built.metadata);
        assert_eq!(fetches, 1);
    }

    #[test]
    fn metadata_at_the_start_of_a_large_wheel_takes_one_more_fetch() {
        let builder = WheelBuilder::new("demo", "2.0");
        let mut entries = builder.entries();
        // Move METADATA first, then a large file, so it is far from the tail.
        let at = entries
            .iter()
            .position(|e| e.name.ends_with("/METADATA"))
            .unwrap();
        let metadata = entries.remove(at);
        entries.insert(0, metadata.clone());
        let mut big = RawZipEntry::file("demo/blob.bin", noise(2 << 20, 7));
        big.deflate = false;
        entries.insert(1, big);
        let bytes = build_zip(&entries);
        let (got, fetches) = read_all(&bytes, &wheel_name("demo-2.0-py3-none-any.whl")).unwrap();
        assert_eq!(got, metadata.data);
        assert_eq!(fetches, 2);
    }

    #[test]
    fn another_projects_metadata_is_refused() {
        let built = WheelBuilder::new("other", "1.0").build();
        let err = read_all(&built.bytes, &wheel_name("demo-1.0-py3-none-any.whl")).unwrap_err();
        assert!(err.contains("does not belong to demo 1.0"), "{err}");
        let err = read_all(&built.bytes, &wheel_name("other-1.1-py3-none-any.whl")).unwrap_err();
        assert!(err.contains("does not belong"), "{err}");
    }

    #[test]
    fn two_metadata_files_are_refused() {
        let built = WheelBuilder::new("demo", "1.0")
            .raw_entry("evil-1.0.dist-info/METADATA", b"Name: evil\n".to_vec())
            .build();
        let err = read_all(&built.bytes, &wheel_name(&built.filename)).unwrap_err();
        assert!(err.contains("2 .dist-info/METADATA files"), "{err}");
        // The same name twice: which one a reader takes depends on the reader.
        let built = WheelBuilder::new("demo", "1.0")
            .raw_entry("demo-1.0.dist-info/METADATA", b"Name: demo\n".to_vec())
            .build();
        let err = read_all(&built.bytes, &wheel_name(&built.filename)).unwrap_err();
        assert!(err.contains("same name"), "{err}");
        // A METADATA deeper in the tree is not the wheel's.
        let built = WheelBuilder::new("demo", "1.0")
            .file("pkg/x-1.0.dist-info/METADATA", b"Name: x\n".to_vec())
            .build();
        assert_eq!(
            read_all(&built.bytes, &wheel_name(&built.filename))
                .unwrap()
                .0,
            built.metadata
        );
    }

    #[test]
    fn crc_mismatch_is_an_error() {
        let builder = WheelBuilder::new("demo", "1.0");
        let mut entries = builder.entries();
        for e in &mut entries {
            e.deflate = false;
        }
        let mut bytes = build_zip(&entries);
        let needle = b"Name: demo";
        let at = bytes
            .windows(needle.len())
            .position(|w| w == needle)
            .unwrap();
        bytes[at + 6] = b'D';
        let err = read_all(&bytes, &wheel_name("demo-1.0-py3-none-any.whl")).unwrap_err();
        assert!(err.contains("CRC-32"), "{err}");
    }

    #[test]
    fn too_many_fetches_or_bytes_are_refused() {
        let mut zip = RemoteZip::new(10 * MAX_FETCHED_BYTES);
        for i in 0..MAX_FETCHES {
            zip.add(u64::from(i) * 10, vec![0; 5]).unwrap();
        }
        assert!(zip
            .add(1000, vec![0; 5])
            .unwrap_err()
            .contains("range requests"));
        let mut zip = RemoteZip::new(10 * MAX_FETCHED_BYTES);
        zip.add(0, vec![0; MAX_FETCHED_BYTES as usize]).unwrap();
        assert!(zip
            .add(MAX_FETCHED_BYTES, vec![0; 1])
            .unwrap_err()
            .contains("bytes of the file"));
        let mut zip = RemoteZip::new(100);
        zip.add(10, vec![0; 10]).unwrap();
        assert!(zip
            .add(15, vec![0; 10])
            .unwrap_err()
            .contains("overlapping"));
        assert!(zip.add(95, vec![0; 10]).unwrap_err().contains("outside"));
        assert!(zip.add(50, Vec::new()).is_err());
    }

    #[test]
    fn content_range_is_parsed_strictly() {
        assert_eq!(parse_content_range("bytes 0-99/1000"), Some((0, 99, 1000)));
        assert_eq!(
            parse_content_range(" bytes 900-999/1000"),
            Some((900, 999, 1000))
        );
        for bad in [
            "bytes */1000",
            "bytes 0-99/*",
            "bytes 100-99/1000",
            "bytes 0-1000/1000",
            "bytes -1-5/10",
            "bytes 0-+5/10",
            "items 0-5/10",
            "bytes 0-99999999999999999999999/1",
            "",
        ] {
            assert_eq!(parse_content_range(bad), None, "{bad}");
        }
    }

    fn sample_wheel() -> (Vec<u8>, Vec<u8>) {
        let built = WheelBuilder::new("demo", "1.0")
            .requires_dist("idna")
            .file("demo/__init__.py", noise(3000, 3))
            .build();
        (built.bytes, built.metadata)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = read_all(&bytes, &wheel_name("demo-1.0-py3-none-any.whl"));
        }

        #[test]
        fn damaged_wheels_give_an_error_or_the_true_metadata(
            flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
            cut in any::<prop::sample::Index>(),
            truncate in any::<bool>(),
        ) {
            let (mut bytes, metadata) = sample_wheel();
            if truncate {
                bytes.truncate(cut.index(bytes.len()));
            }
            if !bytes.is_empty() {
                for (at, xor) in &flips {
                    let at = at.index(bytes.len());
                    bytes[at] ^= xor;
                }
            }
            if let Ok((got, _)) = read_all(&bytes, &wheel_name("demo-1.0-py3-none-any.whl")) {
                prop_assert_eq!(got, metadata);
            }
        }

        #[test]
        fn a_damaged_tail_of_a_large_wheel_never_panics(
            tail in proptest::collection::vec(any::<u8>(), 0..2048),
        ) {
            // The server's tail is garbage; the rest of the file is real.
            let (mut bytes, _) = sample_wheel();
            bytes.extend(noise(200_000, 11));
            let at = bytes.len() - tail.len();
            bytes[at..].copy_from_slice(&tail);
            let _ = read_all(&bytes, &wheel_name("demo-1.0-py3-none-any.whl"));
        }
    }
}
