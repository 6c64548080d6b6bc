//! The one error type of archive reading; every message names the archive
//! and, when there is one, the entry.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("could not read archive {}: {source}", archive.display())]
    Read {
        archive: PathBuf,
        source: std::io::Error,
    },
    #[error("could not write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a valid archive: {reason}", archive.display())]
    Malformed { archive: PathBuf, reason: String },
    #[error("{}: entry `{entry}` is corrupt: {reason}", archive.display())]
    CorruptEntry {
        archive: PathBuf,
        entry: String,
        reason: String,
    },
    #[error("{}: the zip headers disagree ({reason}); the archive may be crafted to look different to different tools", archive.display())]
    InconsistentHeaders { archive: PathBuf, reason: String },
    #[error("{}: entry `{entry}` has an unsafe path: {reason}", archive.display())]
    UnsafePath {
        archive: PathBuf,
        entry: String,
        reason: &'static str,
    },
    #[error("{}: the path `{entry}` appears more than once", archive.display())]
    Duplicate { archive: PathBuf, entry: String },
    #[error("{}: the zip archive lists the same name more than once", archive.display())]
    DuplicateNames { archive: PathBuf },
    #[error("{}: entry `{entry}` is a symbolic link, which this kind of archive may not contain", archive.display())]
    LinkNotAllowed { archive: PathBuf, entry: String },
    #[error("{}: link `{entry}` points to `{target}`, outside the extracted tree", archive.display())]
    LinkEscapes {
        archive: PathBuf,
        entry: String,
        target: String,
    },
    #[error("{}: entry `{entry}` is a {kind}, which pyward does not extract", archive.display())]
    UnsupportedEntryType {
        archive: PathBuf,
        entry: String,
        kind: String,
    },
    #[error("{}: entry `{entry}` is encrypted", archive.display())]
    Encrypted { archive: PathBuf, entry: String },
    #[error("{}: entry `{entry}` uses unsupported compression {method}", archive.display())]
    UnsupportedCompression {
        archive: PathBuf,
        entry: String,
        method: String,
    },
    #[error("{}: entry `{entry}` declares {declared} bytes but holds {actual}", archive.display())]
    SizeMismatch {
        archive: PathBuf,
        entry: String,
        declared: u64,
        actual: String,
    },
    #[error("{} has more than {limit} entries", archive.display())]
    TooManyEntries { archive: PathBuf, limit: usize },
    #[error("{}: entry `{entry}` is {size} bytes, more than the limit of {limit}", archive.display())]
    FileTooLarge {
        archive: PathBuf,
        entry: String,
        size: u64,
        limit: u64,
    },
    #[error("{} expands to more than {limit} bytes", archive.display())]
    TotalTooLarge { archive: PathBuf, limit: u64 },
    #[error("{}: `{entry}` expands more than {limit} times its compressed size (an archive bomb?)", archive.display())]
    CompressionRatio {
        archive: PathBuf,
        entry: String,
        limit: u64,
    },
    #[error("{} has no entry `{name}`", archive.display())]
    MemberNotFound { archive: PathBuf, name: String },
    #[error("cannot extract into {}: it is not empty", dest.display())]
    DestinationNotEmpty { dest: PathBuf },
    #[error("{}: unknown archive format (expected .whl, .zip, .tar, .tar.gz or .tgz)", archive.display())]
    UnknownFormat { archive: PathBuf },
}
