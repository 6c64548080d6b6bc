//! The errors of the index client. Every message names the URL (with any
//! password hidden) or file that failed and says why, in plain words.

use std::path::PathBuf;

/// Why talking to a package index failed.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// The index URL given by the user is not usable.
    #[error("`{url}` is not a usable index URL: {reason}")]
    InvalidIndexUrl { url: String, reason: String },

    /// The server could not be reached or the transfer broke off.
    #[error("could not get {url}: {reason}")]
    Network { url: String, reason: String },

    /// The server answered with an unexpected HTTP status.
    #[error("{url} answered with HTTP status {status}")]
    Status { url: String, status: u16 },

    /// The server answered, but with something pyward cannot use.
    #[error("the response from {url} is unusable: {reason}")]
    InvalidResponse { url: String, reason: String },

    /// The index speaks a major version of the Simple API pyward does not know.
    #[error("{url} uses version {version} of the package index API; pyward understands version 1.x only")]
    UnsupportedApiVersion { url: String, version: String },

    /// Offline mode, and the answer is not in the local cache.
    #[error("{what} is not in the local cache, and network access is turned off (offline mode)")]
    Offline { what: String },

    /// The PEP 658 metadata file does not match the hash the index published.
    #[error("the metadata file of {filename} ({url}) does not match the {algorithm} hash the index published (expected {expected}, got {actual})")]
    MetadataHashMismatch {
        filename: String,
        url: String,
        algorithm: String,
        expected: String,
        actual: String,
    },

    /// The index does not serve a separate metadata file for this file.
    #[error("the index does not offer a separate metadata file for {filename}")]
    NoMetadataFile { filename: String },

    /// The server does not answer HTTP range requests usefully (it sent the
    /// whole file, refused the range, or gave no `Content-Range`): the file
    /// has to be downloaded whole.
    #[error("{url} does not serve parts of files (HTTP range requests)")]
    RangeUnsupported { url: String },

    /// The metadata of a wheel could not be read from parts of the file
    /// (the archive is damaged, not the wheel it should be, or too large to
    /// read this way).
    #[error("could not read the metadata of {filename} from parts of the file: {reason}")]
    RangeRead { filename: String, reason: String },

    /// A local file could not be read or written.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// The HTTP client could not be set up (for example, no TLS roots).
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

impl IndexError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        IndexError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
