//! Safe reading and extraction of the archives Python packages ship in:
//! zip (wheels, zip sdists) and tar, optionally gzip-compressed (sdists).
//! Nothing is bulk-extracted: every entry's path, type and size is checked,
//! zip local headers are cross-checked against the central directory, sizes
//! are enforced while reading, and each file's sha256 is computed as it is
//! written. Limits guard against archive bombs.

mod error;
mod path;
mod tar_archive;
mod zip_archive;

pub use error::ArchiveError;
pub use path::normalize_entry_path;
pub use tar_archive::extract_tar;
pub use zip_archive::{
    extract_zip, list_zip, malformed as zip_error, open_checked as open_zip, read_wheel_metadata,
    read_zip_member, SharedFile,
};

use std::path::Path;

/// Bounds an archive must stay within; exceeding one is an error (a bomb or
/// a broken archive). The defaults fit the largest real wheels (several GiB).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most entries (files, directories, links) in one archive.
    pub max_entries: usize,
    /// Largest uncompressed size of one file.
    pub max_file_size: u64,
    /// Largest uncompressed size of all files together.
    pub max_total_size: u64,
    /// Largest uncompressed/compressed ratio, applied to files (zip) or the
    /// whole stream (compressed tar) once they exceed [`RATIO_CHECK_MIN`].
    pub max_ratio: u64,
}

/// Sizes below this are never refused for their compression ratio.
pub const RATIO_CHECK_MIN: u64 = 4 * 1024 * 1024;

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 250_000,
            max_file_size: 4 << 30,
            max_total_size: 8 << 30,
            max_ratio: 200,
        }
    }
}

/// One extracted entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Normalized path relative to the destination, `/`-separated.
    pub path: String,
    pub kind: EntryKind,
}

/// What an extracted entry is. Directories are created but not reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (a tar hardlink is materialized as a copy).
    File {
        size: u64,
        /// sha256 of the bytes written.
        sha256: [u8; 32],
        executable: bool,
    },
    /// A symbolic link (tar only) whose target stays inside the destination.
    Symlink { target: String },
}

/// Extract `archive` into `dest`, choosing the format from the file name
/// (`.whl`/`.zip` → zip; `.tar`, `.tar.gz`, `.tgz` → tar).
pub fn extract(archive: &Path, dest: &Path, limits: &Limits) -> Result<Vec<Entry>, ArchiveError> {
    let name = archive
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".whl") || name.ends_with(".zip") {
        extract_zip(archive, dest, limits)
    } else if name.ends_with(".tar.gz") || name.ends_with(".tgz") || name.ends_with(".tar") {
        extract_tar(archive, dest, limits)
    } else {
        Err(ArchiveError::UnknownFormat {
            archive: archive.to_path_buf(),
        })
    }
}

/// Run `extract` into `dest` (which must be absent or an empty directory);
/// on error, remove whatever was written so `dest` is as before.
fn into_fresh_dest<T>(
    dest: &Path,
    extract: impl FnOnce() -> Result<T, ArchiveError>,
) -> Result<T, ArchiveError> {
    let existed = dest.exists();
    prepare_dest(dest)?;
    let result = extract();
    if result.is_err() {
        if existed {
            if let Ok(entries) = std::fs::read_dir(dest) {
                for entry in entries.flatten() {
                    let path = entry.path();
                    let _ = match entry.file_type() {
                        Ok(t) if t.is_dir() => std::fs::remove_dir_all(&path),
                        _ => std::fs::remove_file(&path),
                    };
                }
            }
        } else {
            let _ = std::fs::remove_dir_all(dest);
        }
    }
    result
}

/// The destination must be absent or an empty directory; create it.
fn prepare_dest(dest: &Path) -> Result<(), ArchiveError> {
    match std::fs::read_dir(dest) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(ArchiveError::DestinationNotEmpty {
                    dest: dest.to_path_buf(),
                });
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => std::fs::create_dir_all(dest)
            .map_err(|source| ArchiveError::Write {
                path: dest.to_path_buf(),
                source,
            }),
        Err(source) => Err(ArchiveError::Write {
            path: dest.to_path_buf(),
            source,
        }),
    }
}
