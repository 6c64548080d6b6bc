//! Tar archives, plain or gzip-compressed (sdists): entries are streamed and
//! validated one at a time. Regular files and directories are written;
//! hardlinks become copies of an earlier file; symlinks must stay inside the
//! tree and are created last, so nothing is ever written through one;
//! devices, fifos and other special entries are refused.

use std::cell::Cell;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use sha2::{Digest, Sha256};
use tar::EntryType;

use crate::path::{normalize_entry_path, parents};
use crate::zip_archive::create_new;
use crate::{into_fresh_dest, ArchiveError, Entry, EntryKind, Limits, RATIO_CHECK_MIN};

/// Counts the bytes read from the archive file (to bound the ratio).
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// What has been extracted at a normalized path so far.
enum Seen {
    Dir,
    File {
        size: u64,
        sha256: [u8; 32],
        executable: bool,
    },
    Symlink,
}

/// Extract a tar or tar.gz archive (detected from its first bytes) into
/// `dest` (absent or empty). On error `dest` may hold partial output:
/// extract into a temporary directory.
pub fn extract_tar(
    archive: &Path,
    dest: &Path,
    limits: &Limits,
) -> Result<Vec<Entry>, ArchiveError> {
    let read_err = |source| ArchiveError::Read {
        archive: archive.to_path_buf(),
        source,
    };
    let file = File::open(archive).map_err(read_err)?;
    let count = Rc::new(Cell::new(0u64));
    let mut buffered = BufReader::with_capacity(
        256 * 1024,
        Counting {
            inner: file,
            count: count.clone(),
        },
    );
    let head = buffered.fill_buf().map_err(read_err)?;
    let compressed = head.starts_with(&[0x1f, 0x8b]);
    if head.starts_with(b"BZh") || head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z']) {
        return Err(ArchiveError::Malformed {
            archive: archive.to_path_buf(),
            reason: "bzip2 and xz compressed tar archives are not supported".to_string(),
        });
    }
    let reader: Box<dyn Read> = if compressed {
        Box::new(flate2::bufread::MultiGzDecoder::new(buffered))
    } else {
        Box::new(buffered)
    };
    into_fresh_dest(dest, || {
        let mut tar = tar::Archive::new(reader);
        let mut extractor = TarExtractor {
            archive,
            dest,
            limits,
            compressed_read: count,
            compressed,
            total: 0,
            seen: HashMap::new(),
            links: Vec::new(),
            entries: Vec::new(),
        };
        let iter = tar.entries().map_err(|e| extractor.malformed(e))?;
        for (n, entry) in iter.enumerate() {
            if n >= limits.max_entries {
                return Err(ArchiveError::TooManyEntries {
                    archive: archive.to_path_buf(),
                    limit: limits.max_entries,
                });
            }
            let entry = entry.map_err(|e| extractor.malformed(e))?;
            extractor.entry(entry)?;
        }
        extractor.finish()
    })
}

struct TarExtractor<'a> {
    archive: &'a Path,
    dest: &'a Path,
    limits: &'a Limits,
    compressed_read: Rc<Cell<u64>>,
    compressed: bool,
    total: u64,
    seen: HashMap<String, Seen>,
    links: Vec<(String, String)>,
    entries: Vec<Entry>,
}

impl TarExtractor<'_> {
    fn malformed(&self, e: std::io::Error) -> ArchiveError {
        ArchiveError::Malformed {
            archive: self.archive.to_path_buf(),
            reason: e.to_string(),
        }
    }

    fn unsafe_path(&self, entry: &str, reason: &'static str) -> ArchiveError {
        ArchiveError::UnsafePath {
            archive: self.archive.to_path_buf(),
            entry: entry.to_string(),
            reason,
        }
    }

    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<(), ArchiveError> {
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8(raw).map_err(|e| {
            self.unsafe_path(
                &String::from_utf8_lossy(e.as_bytes()),
                "its name is not valid UTF-8",
            )
        })?;
        let kind = entry.header().entry_type();
        if kind == EntryType::XGlobalHeader {
            return Ok(());
        }
        let path = normalize_entry_path(&name).map_err(|r| self.unsafe_path(&name, r))?;
        if path.is_empty() {
            if kind == EntryType::Directory {
                return Ok(());
            }
            return Err(self.unsafe_path(&name, "it names the archive root"));
        }
        // Nothing may be written below a file or a link.
        for parent in parents(&path) {
            match self.seen.get(parent) {
                Some(Seen::File { .. }) => {
                    return Err(self.unsafe_path(&name, "a parent of it is a file"))
                }
                Some(Seen::Symlink) => {
                    return Err(self.unsafe_path(&name, "a parent of it is a symbolic link"))
                }
                _ => {}
            }
        }
        let previous = self.seen.get(&path);
        let duplicate = !matches!(
            (previous, kind),
            (None, _) | (Some(Seen::Dir), EntryType::Directory)
        );
        if duplicate {
            return Err(ArchiveError::Duplicate {
                archive: self.archive.to_path_buf(),
                entry: name,
            });
        }
        match kind {
            EntryType::Regular | EntryType::Continuous => self.file(&mut entry, &name, path),
            EntryType::Directory => {
                let target = self.dest.join(&path);
                std::fs::create_dir_all(&target).map_err(|source| ArchiveError::Write {
                    path: target,
                    source,
                })?;
                self.seen.insert(path, Seen::Dir);
                Ok(())
            }
            EntryType::Link => self.hardlink(&entry, &name, path),
            EntryType::Symlink => self.symlink(&entry, &name, path),
            other => Err(ArchiveError::UnsupportedEntryType {
                archive: self.archive.to_path_buf(),
                entry: name,
                kind: describe(other),
            }),
        }
    }

    fn make_parents(&self, path: &str) -> Result<PathBuf, ArchiveError> {
        let target = self.dest.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ArchiveError::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        Ok(target)
    }

    fn add_total(&mut self, size: u64) -> Result<(), ArchiveError> {
        self.total = self.total.saturating_add(size);
        if self.total > self.limits.max_total_size {
            return Err(ArchiveError::TotalTooLarge {
                archive: self.archive.to_path_buf(),
                limit: self.limits.max_total_size,
            });
        }
        Ok(())
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        name: &str,
        path: String,
    ) -> Result<(), ArchiveError> {
        let header = entry.header();
        let size = header.size().map_err(|e| self.malformed(e))?;
        let executable = header.mode().map_err(|e| self.malformed(e))? & 0o111 != 0;
        if size > self.limits.max_file_size {
            return Err(ArchiveError::FileTooLarge {
                archive: self.archive.to_path_buf(),
                entry: name.to_string(),
                size,
                limit: self.limits.max_file_size,
            });
        }
        let total_before = self.total;
        self.add_total(size)?;
        let target = self.make_parents(&path)?;
        let mut out = create_new(&target, executable).map_err(|source| ArchiveError::Write {
            path: target.clone(),
            source,
        })?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        loop {
            let n = entry
                .read(&mut buf)
                .map_err(|e| ArchiveError::CorruptEntry {
                    archive: self.archive.to_path_buf(),
                    entry: name.to_string(),
                    reason: e.to_string(),
                })?;
            if n == 0 {
                break;
            }
            written += n as u64;
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|source| ArchiveError::Write {
                    path: target.clone(),
                    source,
                })?;
            let expanded = total_before + written;
            if self.compressed
                && expanded > RATIO_CHECK_MIN
                && expanded / self.limits.max_ratio.max(1) > self.compressed_read.get()
            {
                return Err(ArchiveError::CompressionRatio {
                    archive: self.archive.to_path_buf(),
                    entry: name.to_string(),
                    limit: self.limits.max_ratio,
                });
            }
        }
        if written != size {
            return Err(ArchiveError::SizeMismatch {
                archive: self.archive.to_path_buf(),
                entry: name.to_string(),
                declared: size,
                actual: written.to_string(),
            });
        }
        let sha256: [u8; 32] = hasher.finalize().into();
        self.seen.insert(
            path.clone(),
            Seen::File {
                size,
                sha256,
                executable,
            },
        );
        self.entries.push(Entry {
            path,
            kind: EntryKind::File {
                size,
                sha256,
                executable,
            },
        });
        Ok(())
    }

    fn link_target<R: Read>(
        &self,
        entry: &tar::Entry<'_, R>,
        name: &str,
    ) -> Result<String, ArchiveError> {
        let target = entry
            .link_name_bytes()
            .map(|t| String::from_utf8_lossy(&t).into_owned())
            .unwrap_or_default();
        if target.is_empty() {
            return Err(self.unsafe_path(name, "it is a link without a target"));
        }
        Ok(target)
    }

    fn hardlink<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        name: &str,
        path: String,
    ) -> Result<(), ArchiveError> {
        let target = self.link_target(entry, name)?;
        let escapes = || ArchiveError::LinkEscapes {
            archive: self.archive.to_path_buf(),
            entry: name.to_string(),
            target: target.clone(),
        };
        let normalized = normalize_entry_path(&target).map_err(|_| escapes())?;
        let Some(Seen::File {
            size,
            sha256,
            executable,
        }) = self.seen.get(&normalized)
        else {
            return Err(escapes());
        };
        let (size, sha256, executable) = (*size, *sha256, *executable);
        self.add_total(size)?;
        let dest = self.make_parents(&path)?;
        std::fs::copy(self.dest.join(&normalized), &dest).map_err(|source| {
            ArchiveError::Write {
                path: dest.clone(),
                source,
            }
        })?;
        self.seen.insert(
            path.clone(),
            Seen::File {
                size,
                sha256,
                executable,
            },
        );
        self.entries.push(Entry {
            path,
            kind: EntryKind::File {
                size,
                sha256,
                executable,
            },
        });
        Ok(())
    }

    fn symlink<R: Read>(
        &mut self,
        entry: &tar::Entry<'_, R>,
        name: &str,
        path: String,
    ) -> Result<(), ArchiveError> {
        let target = self.link_target(entry, name)?;
        if !target_stays_inside(&path, &target) {
            return Err(ArchiveError::LinkEscapes {
                archive: self.archive.to_path_buf(),
                entry: name.to_string(),
                target,
            });
        }
        self.seen.insert(path.clone(), Seen::Symlink);
        self.links.push((path, target));
        Ok(())
    }

    /// Create the symlinks, then check that each resolves inside `dest`.
    fn finish(mut self) -> Result<Vec<Entry>, ArchiveError> {
        if self.links.is_empty() {
            return Ok(self.entries);
        }
        let root = std::fs::canonicalize(self.dest).map_err(|source| ArchiveError::Write {
            path: self.dest.to_path_buf(),
            source,
        })?;
        for (path, target) in &self.links {
            let link = self.make_parents(path)?;
            make_symlink(target, &link).map_err(|source| ArchiveError::Write {
                path: link.clone(),
                source,
            })?;
        }
        for (path, target) in std::mem::take(&mut self.links) {
            let link = self.dest.join(&path);
            let inside = std::fs::canonicalize(&link).is_ok_and(|real| real.starts_with(&root));
            if !inside {
                return Err(ArchiveError::LinkEscapes {
                    archive: self.archive.to_path_buf(),
                    entry: path,
                    target,
                });
            }
            self.entries.push(Entry {
                path,
                kind: EntryKind::Symlink { target },
            });
        }
        Ok(self.entries)
    }
}

/// True when `target`, read relative to the directory holding `path`, stays
/// inside the tree (lexically; chains are checked after creation).
fn target_stays_inside(path: &str, target: &str) -> bool {
    if target.starts_with('/') || target.contains('\\') || target.contains('\0') {
        return false;
    }
    let b = target.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return false;
    }
    let mut depth: Vec<&str> = path.split('/').collect();
    depth.pop();
    for component in target.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                if depth.pop().is_none() {
                    return false;
                }
            }
            c => depth.push(c),
        }
    }
    true
}

#[cfg(unix)]
fn make_symlink(target: &str, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn make_symlink(_target: &str, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "symbolic links in archives are only supported on unix",
    ))
}

fn describe(kind: EntryType) -> String {
    match kind {
        EntryType::Char => "character device".to_string(),
        EntryType::Block => "block device".to_string(),
        EntryType::Fifo => "fifo".to_string(),
        EntryType::GNUSparse => "sparse file".to_string(),
        other => format!("tar entry of type {:?}", other.as_byte() as char),
    }
}

#[cfg(test)]
mod tests {
    use super::target_stays_inside;

    #[test]
    fn lexical_link_targets() {
        assert!(target_stays_inside("p/a/link", "../b"));
        assert!(target_stays_inside("p/link", "sub/x"));
        assert!(!target_stays_inside("p/link", "../../x"));
        assert!(!target_stays_inside("link", "/etc/passwd"));
        assert!(!target_stays_inside("link", ".."));
    }
}
