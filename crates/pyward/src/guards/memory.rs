//! Tamper memory: the sha256 of every distribution file pyward has seen, by
//! index and filename. Files on an index never change once published, so the
//! same filename with a different hash later is a Critical finding — even when
//! the index's own hash matches the new bytes.
//!
//! One small file per (index, filename), named by the hash of the pair and
//! written atomically; first sighting wins and is never overwritten.

use std::path::PathBuf;

use pyward_guard::{Check, Evidence, Finding, HashSource, PackageRef, Severity};
use sha2::{Digest, Sha256};

use crate::context::Context;

pub struct FileMemory {
    dir: PathBuf,
}

/// What pyward remembered of one file.
pub struct Remembered {
    pub sha256: String,
    pub first_seen: String,
    pub path: PathBuf,
}

impl FileMemory {
    pub fn open(ctx: &Context) -> FileMemory {
        FileMemory {
            dir: ctx.data_dir.join("known-files-v1"),
        }
    }

    fn path(&self, index: &str, filename: &str) -> PathBuf {
        let key = hex::encode(Sha256::digest(format!("{index}\n{filename}").as_bytes()));
        self.dir.join(&key[..2]).join(&key[2..])
    }

    pub fn get(&self, index: &str, filename: &str) -> Option<Remembered> {
        let path = self.path(index, filename);
        let text = fs_err::read_to_string(&path).ok()?;
        let mut parts = text.split_whitespace();
        let sha256 = parts.next()?.to_string();
        let first_seen = parts.next().unwrap_or("an earlier install").to_string();
        Some(Remembered {
            sha256,
            first_seen,
            path,
        })
    }

    /// Record `sha256` for the file unless a record exists already.
    pub fn remember(&self, index: &str, filename: &str, sha256: &str) {
        let path = self.path(index, filename);
        if path.exists() {
            return;
        }
        let Some(dir) = path.parent() else { return };
        if fs_err::create_dir_all(dir).is_err() {
            return;
        }
        let tmp = dir.join(format!(".tmp-{}", std::process::id()));
        let line = format!("{sha256} {}\n", crate::config::today());
        if fs_err::write(&tmp, line).is_ok() {
            let _ = fs_err::rename(&tmp, &path);
        }
    }

    /// A Critical finding when `sha256` is not what was seen before.
    pub fn check(
        &self,
        index: &str,
        package: &PackageRef,
        filename: &str,
        sha256: &str,
        size: Option<u64>,
        url: &str,
    ) -> Option<Finding> {
        let known = self.get(index, filename)?;
        if known.sha256.eq_ignore_ascii_case(sha256) {
            return None;
        }
        Some(
            Finding::new(
                Check::Integrity,
                Severity::Critical,
                package.clone(),
                format!("{filename} changed since pyward first saw it on {index}"),
            )
            .why(
                "Files on a package index never change once published: a new file under an old name \
                 means the index, or something between you and it, was tampered with.",
            )
            .evidence(Evidence::HashMismatch {
                algorithm: "sha256".into(),
                expected: known.sha256.clone(),
                source: HashSource::Memory {
                    first_seen: known.first_seen.clone(),
                },
                actual: sha256.to_string(),
                size: size.unwrap_or(0),
                url: url.to_string(),
            })
            .advice("do not install it; tell the index's maintainers")
            .advice(format!(
                "if you know the file was replaced on purpose (a private index), delete {} and try again",
                known.path.display()
            )),
        )
    }
}
