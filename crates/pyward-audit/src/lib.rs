//! Known vulnerabilities and known malware for Python packages, from OSV
//! advisories: `db update` (OSV's PyPI export, a local zip or a directory of
//! OSV JSON/YAML) into a compact indexed store, an embedded snapshot for when
//! nothing was downloaded, PEP 440 range matching, CVSS severity, fix versions,
//! and `audit`, which turns it all into `pyward_guard::Finding`s.
//!
//! ```no_run
//! # use std::str::FromStr;
//! # use pyward_dist::{PackageName, Version};
//! # fn main() -> Result<(), pyward_audit::AuditError> {
//! let db = pyward_audit::AdvisoryDb::load(std::path::Path::new("/data/pyward/advisories"))?;
//! let lock = vec![(PackageName::from_str("jinja2").unwrap(), Version::from_str("2.10").unwrap())];
//! let report = pyward_audit::audit(&db, &lock);
//! println!("{} findings, data from {:?}", report.findings.len(), db.status().newest_record);
//! # Ok(()) }
//! ```

mod audit;
mod db;
mod osv;
mod ranges;
mod severity;
mod store;
mod text;
mod update;

use std::path::{Path, PathBuf};

pub use audit::{audit, finding, AuditReport, SeverityCounts, UNRATED_SIGNAL};
pub use db::{AdvisoryDb, DataSource, DbStatus, Vulnerability, STALE_AFTER_DAYS};
pub use jiff;
pub use severity::{rating_for_score, SeverityScore, SeveritySource};
pub use update::{update, write_snapshot, UpdateSource, OSV_PYPI_URL};

/// The store's file name inside the data directory given to [`update`] and
/// [`AdvisoryDb::open`].
pub const STORE_FILE_NAME: &str = "advisories.pwdb";

/// Everything that can go wrong reading, updating or querying advisories.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("advisory {origin} could not be read: {message}")]
    MalformedRecord { origin: String, message: String },
    #[error(
        "the advisory database is damaged or was written by another pyward version ({reason}); \
         run `pyward db update` to download it again"
    )]
    CorruptStore { reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("could not download {url}: {message}")]
    Download { url: String, message: String },
    #[error("{origin} is not a usable zip of advisories: {message}")]
    Archive { origin: String, message: String },
    #[error("no PyPI advisories found in {from} ({skipped} files could not be read)")]
    NoRecords { from: String, skipped: usize },
    #[error("the update was interrupted: {0}")]
    Interrupted(String),
}

impl AuditError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> AuditError {
        AuditError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
