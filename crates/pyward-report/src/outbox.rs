//! The outbox: reports that could not be sent wait here as JSON files
//! (`DIR/ID.json`) until `pyward report --retry` sends them. Reports the
//! server rejected for good move to `DIR/rejected/`, so nothing is lost.
//! Files are written atomically; a report id (random, client-chosen) makes a
//! repeated send harmless.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::client::{ServerClient, SubmitError, Submitted};
use crate::report::Report;

/// The outbox directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("report outbox {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("report outbox entry {path} cannot be read: {reason}")]
    Unreadable { path: PathBuf, reason: String },
}

/// A report waiting in the outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub report: Report,
    /// The server it was meant for.
    pub server: String,
    /// RFC 3339.
    pub saved_at: String,
    pub attempts: u32,
    pub last_error: String,
    /// Where the entry lives.
    #[serde(skip)]
    pub path: PathBuf,
}

/// What happened to a report handed to [`submit_or_save`].
#[derive(Debug)]
pub enum Outcome {
    Sent(Submitted),
    /// Not sent now; kept in the outbox for `--retry`.
    Saved {
        path: PathBuf,
        error: SubmitError,
    },
    /// The server will not take it as it is; kept in `rejected/`.
    Rejected {
        path: PathBuf,
        error: SubmitError,
    },
}

/// What [`retry_outbox`] did.
#[derive(Debug, Default)]
pub struct RetrySummary {
    pub sent: Vec<(String, Submitted)>,
    /// Still waiting (network down, server busy, token refused).
    pub still_pending: Vec<(String, SubmitError)>,
    /// Moved to `rejected/`.
    pub rejected: Vec<(String, SubmitError)>,
    /// Files that are not reports (left where they are).
    pub unreadable: Vec<OutboxError>,
}

#[derive(Debug, Clone)]
pub struct Outbox {
    dir: PathBuf,
}

impl Outbox {
    /// The outbox in `dir` (created on first save).
    pub fn new(dir: impl Into<PathBuf>) -> Outbox {
        Outbox { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn rejected_dir(&self) -> PathBuf {
        self.dir.join("rejected")
    }

    /// Keep `report` for a later retry. Saving it again updates the entry.
    pub fn save(&self, report: &Report, server: &str, error: &str) -> Result<PathBuf, OutboxError> {
        let path = self.dir.join(file_name(&report.id));
        let attempts = read_entry(&path).map(|p| p.attempts).unwrap_or(0) + 1;
        let entry = Pending {
            report: report.clone(),
            server: server.to_string(),
            saved_at: now(),
            attempts,
            last_error: error.to_string(),
            path: path.clone(),
        };
        write_atomic(&self.dir, &path, &entry)?;
        Ok(path)
    }

    /// Reports waiting to be sent, oldest first. Unreadable files are
    /// returned separately.
    pub fn pending(&self) -> Result<(Vec<Pending>, Vec<OutboxError>), OutboxError> {
        list(&self.dir)
    }

    /// Reports the server rejected for good.
    pub fn rejected(&self) -> Result<(Vec<Pending>, Vec<OutboxError>), OutboxError> {
        list(&self.rejected_dir())
    }

    fn remove(&self, entry: &Pending) -> Result<(), OutboxError> {
        match fs_err::remove_file(&entry.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(OutboxError::Io {
                path: entry.path.clone(),
                source,
            }),
        }
    }

    fn reject(&self, entry: &Pending, error: &SubmitError) -> Result<PathBuf, OutboxError> {
        let dir = self.rejected_dir();
        let path = dir.join(file_name(&entry.report.id));
        let mut moved = entry.clone();
        moved.last_error = error.to_string();
        moved.attempts += 1;
        moved.saved_at = now();
        write_atomic(&dir, &path, &moved)?;
        if entry.path != path {
            self.remove(entry)?;
        }
        Ok(path)
    }
}

/// Send `report` (fitted to the server's limits); if that fails, keep it in
/// the outbox. The report is on disk or on the server when this returns Ok.
pub async fn submit_or_save(
    client: &ServerClient,
    outbox: &Outbox,
    report: &Report,
) -> Result<Outcome, OutboxError> {
    let mut report = report.clone();
    report.fit();
    match client.submit(&report).await {
        Ok(s) => Ok(Outcome::Sent(s)),
        Err(error) if error.is_retryable() => {
            let path = outbox.save(&report, client.base_url().as_str(), &error.to_string())?;
            Ok(Outcome::Saved { path, error })
        }
        Err(error) => {
            let entry = Pending {
                server: client.base_url().to_string(),
                saved_at: now(),
                attempts: 0,
                last_error: String::new(),
                path: PathBuf::new(),
                report,
            };
            let path = outbox.reject(&entry, &error)?;
            Ok(Outcome::Rejected { path, error })
        }
    }
}

/// Send every waiting report to `client`'s server, oldest first.
pub async fn retry_outbox(
    client: &ServerClient,
    outbox: &Outbox,
) -> Result<RetrySummary, OutboxError> {
    let (pending, unreadable) = outbox.pending()?;
    let mut summary = RetrySummary {
        unreadable,
        ..RetrySummary::default()
    };
    for entry in pending {
        let id = entry.report.id.clone();
        match client.submit(&entry.report).await {
            Ok(s) => {
                outbox.remove(&entry)?;
                summary.sent.push((id, s));
            }
            Err(error) if error.is_retryable() => {
                outbox.save(&entry.report, &entry.server, &error.to_string())?;
                summary.still_pending.push((id, error));
            }
            Err(error) => {
                outbox.reject(&entry, &error)?;
                summary.rejected.push((id, error));
            }
        }
    }
    Ok(summary)
}

fn file_name(id: &str) -> String {
    // Ids are ours (`r-` + hex), but a hand-edited entry could hold anything:
    // keep only safe characters so the name stays inside the directory.
    let safe: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(64)
        .collect();
    format!("{safe}.json")
}

fn now() -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn read_entry(path: &Path) -> Result<Pending, OutboxError> {
    let text = fs_err::read_to_string(path).map_err(|source| OutboxError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut entry: Pending = serde_json::from_str(&text).map_err(|e| OutboxError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    entry.path = path.to_path_buf();
    Ok(entry)
}

fn list(dir: &Path) -> Result<(Vec<Pending>, Vec<OutboxError>), OutboxError> {
    let read = match fs_err::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(source) => {
            return Err(OutboxError::Io {
                path: dir.to_path_buf(),
                source,
            })
        }
    };
    let mut entries = Vec::new();
    let mut bad = Vec::new();
    for item in read {
        let item = item.map_err(|source| OutboxError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let path = item.path();
        if path.extension().is_none_or(|e| e != "json") || !path.is_file() {
            continue;
        }
        match read_entry(&path) {
            Ok(e) => entries.push(e),
            Err(e) => bad.push(e),
        }
    }
    entries.sort_by(|a, b| {
        (a.saved_at.as_str(), a.report.id.as_str())
            .cmp(&(b.saved_at.as_str(), b.report.id.as_str()))
    });
    Ok((entries, bad))
}

/// Write JSON to `path` through a temporary file in `dir` and a rename.
pub(crate) fn write_atomic<T: Serialize>(
    dir: &Path,
    path: &Path,
    value: &T,
) -> Result<(), OutboxError> {
    let io = |source| OutboxError::Io {
        path: path.to_path_buf(),
        source,
    };
    fs_err::create_dir_all(dir).map_err(io)?;
    let text = serde_json::to_vec_pretty(value).map_err(|e| io(std::io::Error::other(e)))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    std::io::Write::write_all(&mut tmp, &text).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pyward_dist::PackageName;

    use super::*;

    fn report(reason: &str) -> Report {
        Report::new(&PackageName::from_str("evil").unwrap(), None, reason).unwrap()
    }

    #[test]
    fn saved_reports_come_back_with_attempts() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path().join("outbox"));
        assert!(outbox.pending().unwrap().0.is_empty());
        let a = report("first");
        let path = outbox
            .save(&a, "https://r.example/", "connection refused")
            .unwrap();
        assert!(path.starts_with(outbox.dir()));
        outbox.save(&a, "https://r.example/", "timed out").unwrap();
        let (pending, bad) = outbox.pending().unwrap();
        assert!(bad.is_empty());
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].report, a);
        assert_eq!(pending[0].attempts, 2);
        assert_eq!(pending[0].last_error, "timed out");
    }

    #[test]
    fn junk_files_are_reported_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::new(dir.path());
        std::fs::write(dir.path().join("junk.json"), "{not json").unwrap();
        std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap();
        outbox
            .save(&report("x"), "https://r.example/", "e")
            .unwrap();
        let (pending, bad) = outbox.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(bad.len(), 1);
        assert!(bad[0].to_string().contains("junk.json"));
    }

    #[test]
    fn hostile_ids_stay_inside_the_directory() {
        assert_eq!(file_name("../../etc/passwd"), "etcpasswd.json");
        assert_eq!(file_name("r-0123"), "r-0123.json");
    }
}
