//! Zip archives (wheels, zip sdists): the central directory is checked
//! against every local header before anything is written, entries are
//! validated one by one (path, type, encryption, compression, sizes), then
//! files are extracted in parallel with their sha256 computed on the way.

use std::collections::HashSet;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

use crate::path::{normalize_entry_path, parents};
use crate::{into_fresh_dest, ArchiveError, Entry, EntryKind, Limits, RATIO_CHECK_MIN};

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// A cheaply clonable reader over one open file, using positional reads so
/// clones on different threads do not share a file offset (parallel zip
/// decompression).
#[derive(Clone)]
pub struct SharedFile {
    file: Arc<File>,
    pos: u64,
    len: u64,
}

impl SharedFile {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(SharedFile {
            file: Arc::new(file),
            pos: 0,
            len,
        })
    }
}

impl Read for SharedFile {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(&*self.file, buf, self.pos)?;
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(&*self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for SharedFile {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let new = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = new.ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "seek before start")
        })?;
        Ok(self.pos)
    }
}

/// An open zip archive whose central directory agrees with its local headers
/// and lists no name twice (used for extraction here and by the code scanner).
pub fn open_checked(archive: &Path) -> Result<ZipArchive<SharedFile>, ArchiveError> {
    let file = SharedFile::open(archive).map_err(|source| ArchiveError::Read {
        archive: archive.to_path_buf(),
        source,
    })?;
    let mut zip = ZipArchive::new(file).map_err(|e| malformed(archive, e))?;
    if zip.has_duplicate_names() {
        return Err(ArchiveError::DuplicateNames {
            archive: archive.to_path_buf(),
        });
    }
    zip.validate_header_consistency().map_err(|e| match e {
        ZipError::Io(source) => ArchiveError::Read {
            archive: archive.to_path_buf(),
            source,
        },
        other => ArchiveError::InconsistentHeaders {
            archive: archive.to_path_buf(),
            reason: other.to_string(),
        },
    })?;
    Ok(zip)
}

/// A `zip` crate error as an `ArchiveError` naming the archive.
pub fn malformed(archive: &Path, e: ZipError) -> ArchiveError {
    match e {
        ZipError::Io(source) if source.kind() != std::io::ErrorKind::InvalidData => {
            ArchiveError::Read {
                archive: archive.to_path_buf(),
                source,
            }
        }
        other => ArchiveError::Malformed {
            archive: archive.to_path_buf(),
            reason: other.to_string(),
        },
    }
}

/// The names of all entries, as stored (not validated). Useful to find a
/// wheel's `.dist-info` directory before reading a member.
pub fn list_zip(archive: &Path) -> Result<Vec<String>, ArchiveError> {
    let zip = open_checked(archive)?;
    Ok(zip
        .file_names_raw()
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect())
}

/// Read one member (exact stored name) into memory, at most `max_size` bytes.
pub fn read_zip_member(archive: &Path, name: &str, max_size: u64) -> Result<Vec<u8>, ArchiveError> {
    let mut zip = open_checked(archive)?;
    let index = zip
        .index_for_name(name)
        .ok_or_else(|| ArchiveError::MemberNotFound {
            archive: archive.to_path_buf(),
            name: name.to_string(),
        })?;
    let limits = Limits {
        max_file_size: max_size,
        max_total_size: max_size,
        ..Limits::default()
    };
    let mut total = 0;
    let planned = plan_entry(&mut zip, index, archive, &limits, &mut total)?;
    if planned.is_dir {
        return Err(ArchiveError::MemberNotFound {
            archive: archive.to_path_buf(),
            name: name.to_string(),
        });
    }
    let mut out = Vec::with_capacity(usize::try_from(planned.size).unwrap_or(0));
    copy_entry(&mut zip, &planned, archive, &mut out)?;
    Ok(out)
}

/// An entry that passed validation and will be extracted.
struct Planned {
    index: usize,
    path: String,
    name: String,
    size: u64,
    is_dir: bool,
    executable: bool,
}

fn plan_entry(
    zip: &mut ZipArchive<SharedFile>,
    index: usize,
    archive: &Path,
    limits: &Limits,
    total: &mut u64,
) -> Result<Planned, ArchiveError> {
    let entry = zip
        .by_index_data(index)
        .map_err(|e| malformed(archive, e))?;
    let name = match std::str::from_utf8(entry.name_raw()) {
        Ok(n) => n.to_string(),
        Err(_) => {
            return Err(ArchiveError::UnsafePath {
                archive: archive.to_path_buf(),
                entry: String::from_utf8_lossy(entry.name_raw()).into_owned(),
                reason: "its name is not valid UTF-8",
            })
        }
    };
    let unsafe_path = |reason| ArchiveError::UnsafePath {
        archive: archive.to_path_buf(),
        entry: name.clone(),
        reason,
    };
    let path = normalize_entry_path(&name).map_err(unsafe_path)?;
    if path.is_empty() {
        return Err(unsafe_path("it names the archive root"));
    }
    let mode = entry.unix_mode().unwrap_or(0);
    let file_type = mode & S_IFMT;
    let is_dir = name.ends_with('/') || file_type == S_IFDIR;
    match file_type {
        0 | S_IFREG | S_IFDIR => {}
        S_IFLNK => {
            return Err(ArchiveError::LinkNotAllowed {
                archive: archive.to_path_buf(),
                entry: name,
            })
        }
        _ => {
            return Err(ArchiveError::UnsupportedEntryType {
                archive: archive.to_path_buf(),
                entry: name,
                kind: "special file (device, fifo or socket)".to_string(),
            })
        }
    }
    if entry.encrypted() {
        return Err(ArchiveError::Encrypted {
            archive: archive.to_path_buf(),
            entry: name,
        });
    }
    let method = entry.compression();
    if !matches!(
        method,
        CompressionMethod::Stored | CompressionMethod::Deflated
    ) {
        return Err(ArchiveError::UnsupportedCompression {
            archive: archive.to_path_buf(),
            entry: name,
            method: method.to_string(),
        });
    }
    let size = entry.size();
    if is_dir && size != 0 {
        return Err(ArchiveError::SizeMismatch {
            archive: archive.to_path_buf(),
            entry: name,
            declared: size,
            actual: "it is a directory".to_string(),
        });
    }
    if size > limits.max_file_size {
        return Err(ArchiveError::FileTooLarge {
            archive: archive.to_path_buf(),
            entry: name,
            size,
            limit: limits.max_file_size,
        });
    }
    *total = total.saturating_add(size);
    if *total > limits.max_total_size {
        return Err(ArchiveError::TotalTooLarge {
            archive: archive.to_path_buf(),
            limit: limits.max_total_size,
        });
    }
    if size > RATIO_CHECK_MIN && size / limits.max_ratio.max(1) > entry.compressed_size() {
        return Err(ArchiveError::CompressionRatio {
            archive: archive.to_path_buf(),
            entry: name,
            limit: limits.max_ratio,
        });
    }
    Ok(Planned {
        index,
        path,
        name,
        size,
        is_dir,
        executable: mode & 0o111 != 0,
    })
}

/// Decompress one entry into `out`, enforcing its declared size (the zip
/// reader checks the CRC); returns the sha256 of the bytes.
fn copy_entry(
    zip: &mut ZipArchive<SharedFile>,
    planned: &Planned,
    archive: &Path,
    out: &mut impl Write,
) -> Result<[u8; 32], ArchiveError> {
    let corrupt = |reason: String| ArchiveError::CorruptEntry {
        archive: archive.to_path_buf(),
        entry: planned.name.clone(),
        reason,
    };
    let mut reader = zip
        .by_index(planned.index)
        .map_err(|e| corrupt(e.to_string()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut written: u64 = 0;
    loop {
        let n = reader.read(&mut buf).map_err(|e| corrupt(e.to_string()))?;
        if n == 0 {
            break;
        }
        written += n as u64;
        if written > planned.size {
            return Err(ArchiveError::SizeMismatch {
                archive: archive.to_path_buf(),
                entry: planned.name.clone(),
                declared: planned.size,
                actual: "more".to_string(),
            });
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])
            .map_err(|source| ArchiveError::Write {
                path: Path::new(&planned.path).to_path_buf(),
                source,
            })?;
    }
    if written != planned.size {
        return Err(ArchiveError::SizeMismatch {
            archive: archive.to_path_buf(),
            entry: planned.name.clone(),
            declared: planned.size,
            actual: written.to_string(),
        });
    }
    Ok(hasher.finalize().into())
}

/// Extract a zip archive into `dest` (absent or empty). Symbolic links,
/// special files, encrypted entries, unsafe or duplicate paths and header
/// disagreements are refused before anything is written. On error `dest`
/// may hold partial output: extract into a temporary directory.
pub fn extract_zip(
    archive: &Path,
    dest: &Path,
    limits: &Limits,
) -> Result<Vec<Entry>, ArchiveError> {
    let mut zip = open_checked(archive)?;
    if zip.len() > limits.max_entries {
        return Err(ArchiveError::TooManyEntries {
            archive: archive.to_path_buf(),
            limit: limits.max_entries,
        });
    }
    let mut total = 0u64;
    let mut planned = Vec::with_capacity(zip.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(zip.len());
    let mut dirs: HashSet<String> = HashSet::new();
    for index in 0..zip.len() {
        let p = plan_entry(&mut zip, index, archive, limits, &mut total)?;
        if !seen.insert(p.path.clone()) {
            return Err(ArchiveError::Duplicate {
                archive: archive.to_path_buf(),
                entry: p.name,
            });
        }
        for parent in parents(&p.path) {
            dirs.insert(parent.to_string());
        }
        if p.is_dir {
            dirs.insert(p.path.clone());
        } else {
            planned.push(p);
        }
    }
    // A path used both as a file and as a directory.
    if let Some(p) = planned.iter().find(|p| dirs.contains(&p.path)) {
        return Err(ArchiveError::Duplicate {
            archive: archive.to_path_buf(),
            entry: p.name.clone(),
        });
    }

    into_fresh_dest(dest, || {
        let mut dirs: Vec<String> = dirs.into_iter().collect();
        dirs.sort_unstable_by_key(|d| d.matches('/').count());
        for dir in &dirs {
            let path = dest.join(dir);
            match std::fs::create_dir(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(source) => return Err(ArchiveError::Write { path, source }),
            }
        }

        planned
            .par_iter()
            .map_with(zip, |zip, p| {
                let target = dest.join(&p.path);
                let mut file = create_new(&target, p.executable).map_err(|source| {
                    if source.kind() == std::io::ErrorKind::AlreadyExists {
                        ArchiveError::Duplicate {
                            archive: archive.to_path_buf(),
                            entry: p.name.clone(),
                        }
                    } else {
                        ArchiveError::Write {
                            path: target.clone(),
                            source,
                        }
                    }
                })?;
                let sha256 = copy_entry(zip, p, archive, &mut file)?;
                Ok(Entry {
                    path: p.path.clone(),
                    kind: EntryKind::File {
                        size: p.size,
                        sha256,
                        executable: p.executable,
                    },
                })
            })
            .collect()
    })
}

/// Create a file that must not exist yet, `0o755` when executable.
pub(crate) fn create_new(path: &Path, executable: bool) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    options.open(path)
}

/// The largest METADATA file pyward reads (real ones are well under 1 MiB).
const MAX_METADATA_SIZE: u64 = 16 << 20;

/// The core metadata (`*.dist-info/METADATA`) of a wheel, read without
/// extracting anything. Exactly one top-level `.dist-info/METADATA` must exist.
pub fn read_wheel_metadata(archive: &Path) -> Result<Vec<u8>, ArchiveError> {
    let names = list_zip(archive)?;
    let mut candidates = names.iter().filter(|n| {
        n.strip_suffix("/METADATA")
            .is_some_and(|dir| dir.ends_with(".dist-info") && !dir.contains('/'))
    });
    let (Some(first), None) = (candidates.next(), candidates.next()) else {
        return Err(ArchiveError::MemberNotFound {
            archive: archive.to_path_buf(),
            name: "exactly one <name>-<version>.dist-info/METADATA".to_string(),
        });
    };
    read_zip_member(archive, first, MAX_METADATA_SIZE)
}
