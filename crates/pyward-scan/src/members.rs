//! Reading the files of a wheel, sdist or directory into memory for the
//! scanner — nothing is written to disk. Entry paths are validated with
//! pyward-archive's rules, sizes are enforced while reading, zip headers are
//! cross-checked, and pyward-archive's [`Limits`] guard against bombs. Only
//! files the scanner reads in full are kept whole; of every other file the
//! first bytes are kept to recognise compiled programs and scripts.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use pyward_archive::{normalize_entry_path, ArchiveError, Limits, RATIO_CHECK_MIN};
use rayon::prelude::*;

/// Largest file read in full; longer files are scanned up to this size.
pub const MAX_SCAN_FILE: u64 = 64 << 20;
/// Bytes kept from the start of every file.
pub const HEAD: usize = 256;

/// One file of a package.
#[derive(Debug, Clone)]
pub struct Member {
    /// Normalized path inside the archive or directory, `/`-separated.
    pub path: String,
    /// Uncompressed size.
    pub size: u64,
    /// The first [`HEAD`] bytes.
    pub head: Vec<u8>,
    /// The whole file (up to [`MAX_SCAN_FILE`]) when the scanner wants it.
    pub bytes: Option<Vec<u8>>,
}

/// Whether the scanner reads a file in full, judged from its path and first bytes.
pub fn wanted(path: &str, head: &[u8], size: u64) -> bool {
    let lower = path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    const EXTENSIONS: &[&str] = &[
        ".py", ".pyw", ".pth", ".sh", ".bash", ".bat", ".cmd", ".ps1", ".command",
    ];
    if EXTENSIONS.iter().any(|e| name.ends_with(e)) {
        return true;
    }
    if matches!(name, "metadata" | "pkg-info" | "wheel" | "pyproject.toml") {
        return size <= 4 << 20;
    }
    if lower.contains(".data/scripts/") {
        return true;
    }
    head.starts_with(b"#!") && size <= 4 << 20
}

fn read_member(
    reader: &mut impl Read,
    path: String,
    size: u64,
    archive: &Path,
) -> Result<Member, ArchiveError> {
    let corrupt = |e: std::io::Error| ArchiveError::CorruptEntry {
        archive: archive.to_path_buf(),
        entry: path.clone(),
        reason: e.to_string(),
    };
    let mut head = Vec::with_capacity(HEAD);
    reader
        .by_ref()
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(corrupt)?;
    let bytes = if wanted(&path, &head, size) {
        let cap = size.min(MAX_SCAN_FILE);
        let mut all = Vec::with_capacity(usize::try_from(cap).unwrap_or(0));
        all.extend_from_slice(&head);
        reader
            .by_ref()
            .take(cap.saturating_sub(head.len() as u64))
            .read_to_end(&mut all)
            .map_err(corrupt)?;
        Some(all)
    } else {
        None
    };
    Ok(Member {
        path,
        size,
        head,
        bytes,
    })
}

/// Read a zip archive (wheel or zip sdist).
pub fn read_zip(archive: &Path, limits: &Limits) -> Result<Vec<Member>, ArchiveError> {
    let zip = pyward_archive::open_zip(archive)?;
    if zip.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            archive: archive.to_path_buf(),
            limit: limits.max_entries,
        });
    }
    let mut plan = Vec::with_capacity(zip.len());
    let mut total = 0u64;
    for index in 0..zip.len() {
        let entry = zip
            .by_index_data(index)
            .map_err(|e| pyward_archive::zip_error(archive, e))?;
        let raw = entry.name_raw();
        let name = std::str::from_utf8(raw).map_err(|_| ArchiveError::UnsafePath {
            archive: archive.to_path_buf(),
            entry: String::from_utf8_lossy(raw).into_owned(),
            reason: "its name is not valid UTF-8",
        })?;
        let path = normalize_entry_path(name).map_err(|reason| ArchiveError::UnsafePath {
            archive: archive.to_path_buf(),
            entry: name.to_string(),
            reason,
        })?;
        if path.is_empty() || name.ends_with('/') || entry.is_dir() || entry.encrypted() {
            continue;
        }
        let size = entry.size();
        if size > limits.max_file_size {
            return Err(ArchiveError::FileTooLarge {
                archive: archive.to_path_buf(),
                entry: name.to_string(),
                size,
                limit: limits.max_file_size,
            });
        }
        total = total.saturating_add(size);
        if total > limits.max_total_size {
            return Err(ArchiveError::TotalTooLarge {
                archive: archive.to_path_buf(),
                limit: limits.max_total_size,
            });
        }
        if size > RATIO_CHECK_MIN && size / limits.max_ratio.max(1) > entry.compressed_size() {
            return Err(ArchiveError::CompressionRatio {
                archive: archive.to_path_buf(),
                entry: name.to_string(),
                limit: limits.max_ratio,
            });
        }
        plan.push((index, path, size));
    }
    plan.into_par_iter()
        .map_with(zip, |zip, (index, path, size)| {
            let mut reader = zip
                .by_index(index)
                .map_err(|e| ArchiveError::CorruptEntry {
                    archive: archive.to_path_buf(),
                    entry: path.clone(),
                    reason: e.to_string(),
                })?;
            read_member(&mut reader, path, size, archive)
        })
        .collect()
}

/// Read a tar archive, gzip-compressed or not (sdists).
pub fn read_tar(archive: &Path, limits: &Limits) -> Result<Vec<Member>, ArchiveError> {
    let mut file = File::open(archive).map_err(|source| ArchiveError::Read {
        archive: archive.to_path_buf(),
        source,
    })?;
    let compressed_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut magic = [0u8; 2];
    let gz = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    file.seek(SeekFrom::Start(0))
        .map_err(|source| ArchiveError::Read {
            archive: archive.to_path_buf(),
            source,
        })?;
    let reader: Box<dyn Read> = if gz {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    let malformed_tar = |e: std::io::Error| ArchiveError::Malformed {
        archive: archive.to_path_buf(),
        reason: e.to_string(),
    };
    let mut tar = tar::Archive::new(reader);
    let mut out = Vec::new();
    let mut total = 0u64;
    let mut count = 0usize;
    for entry in tar.entries().map_err(malformed_tar)? {
        let mut entry = entry.map_err(malformed_tar)?;
        count += 1;
        if count > limits.max_entries {
            return Err(ArchiveError::TooManyEntries {
                archive: archive.to_path_buf(),
                limit: limits.max_entries,
            });
        }
        let kind = entry.header().entry_type();
        if !(kind.is_file() || kind == tar::EntryType::Continuous) {
            // Directories, links, metadata records: nothing to read.
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        let name = std::str::from_utf8(&raw).map_err(|_| ArchiveError::UnsafePath {
            archive: archive.to_path_buf(),
            entry: String::from_utf8_lossy(&raw).into_owned(),
            reason: "its name is not valid UTF-8",
        })?;
        let path = normalize_entry_path(name).map_err(|reason| ArchiveError::UnsafePath {
            archive: archive.to_path_buf(),
            entry: name.to_string(),
            reason,
        })?;
        if path.is_empty() {
            continue;
        }
        let size = entry.size();
        if size > limits.max_file_size {
            return Err(ArchiveError::FileTooLarge {
                archive: archive.to_path_buf(),
                entry: name.to_string(),
                size,
                limit: limits.max_file_size,
            });
        }
        total = total.saturating_add(size);
        if total > limits.max_total_size {
            return Err(ArchiveError::TotalTooLarge {
                archive: archive.to_path_buf(),
                limit: limits.max_total_size,
            });
        }
        if gz && total > RATIO_CHECK_MIN && total / limits.max_ratio.max(1) > compressed_len {
            return Err(ArchiveError::CompressionRatio {
                archive: archive.to_path_buf(),
                entry: name.to_string(),
                limit: limits.max_ratio,
            });
        }
        out.push(read_member(&mut entry, path, size, archive)?);
    }
    Ok(out)
}

/// Read the files under a directory (hidden directories, `__pycache__`
/// and symbolic links are skipped).
pub fn read_dir(dir: &Path) -> Result<Vec<Member>, ArchiveError> {
    let mut files = Vec::new();
    let walker = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| {
            let name = e.file_name().to_string_lossy();
            e.depth() == 0
                || !(e.file_type().is_dir() && (name.starts_with('.') || name == "__pycache__"))
        });
    for entry in walker {
        let entry = entry.map_err(|e| ArchiveError::Read {
            archive: dir.to_path_buf(),
            source: std::io::Error::other(e.to_string()),
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let rel = entry
            .path()
            .strip_prefix(dir)
            .unwrap_or(entry.path())
            .to_string_lossy()
            .replace('\\', "/");
        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
        files.push((entry.path().to_path_buf(), rel, size));
    }
    files
        .into_par_iter()
        .map(|(full, rel, size)| {
            let mut f = File::open(&full).map_err(|source| ArchiveError::Read {
                archive: full.clone(),
                source,
            })?;
            read_member(&mut f, rel, size, &full)
        })
        .collect()
}
