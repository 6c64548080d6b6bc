//! The error type of interpreter discovery, venv creation, wheel unpacking,
//! installation and uninstallation. Messages name the file, package or
//! command involved.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Archive(#[from] pyward_archive::ArchiveError),
    #[error("no Python interpreter found: {0}")]
    InterpreterNotFound(String),
    #[error("could not run {}: {reason}", python.display())]
    InterpreterFailed { python: PathBuf, reason: String },
    #[error("{}: {reason}", path.display())]
    InvalidVenvTarget { path: PathBuf, reason: String },
    #[error("wheel {wheel} is invalid: {reason}")]
    InvalidWheel { wheel: String, reason: String },
    #[error("wheel {wheel}: {path} {problem}")]
    RecordMismatch {
        wheel: String,
        path: String,
        problem: String,
    },
    #[error("{dist}: entry point `{entry}` is invalid: {reason}")]
    InvalidEntryPoint {
        dist: String,
        entry: String,
        reason: String,
    },
    #[error("{dist} would overwrite {}, which belongs to {owner}", path.display())]
    FileConflict {
        dist: String,
        path: PathBuf,
        owner: String,
    },
    #[error("{dist} may not write {}: {reason}", path.display())]
    ForbiddenPath {
        dist: String,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "{dist} is installed without a RECORD file, so pyward cannot tell which files are its own"
    )]
    NoRecord { dist: String },
    #[error("{dist}: RECORD lists {path}, which is outside the environment")]
    RecordEscapes { dist: String, path: String },
    #[error("{0}")]
    Invalid(String),
    #[error("the installation was cancelled; the environment was left as it was")]
    Cancelled,
    #[error("another process is changing {}{holder}; try again when it has finished", path.display())]
    Locked { path: PathBuf, holder: String },
    #[error("compiling bytecode with {} failed: {reason}", python.display())]
    Bytecode { python: PathBuf, reason: String },
}

pub type Result<T, E = InstallError> = std::result::Result<T, E>;

/// Attach the action and path to an I/O error.
pub(crate) fn io_err(
    action: &'static str,
    path: impl Into<PathBuf>,
) -> impl FnOnce(std::io::Error) -> InstallError {
    let path = path.into();
    move |source| InstallError::Io {
        action,
        path,
        source,
    }
}
