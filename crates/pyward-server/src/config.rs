//! The server's settings, with defaults that need no configuration: SQLite in
//! the data directory, 127.0.0.1, a public flag feed, token-only reports.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::error::ServerError;

/// The SQLite file name inside [`Config::data_dir`].
pub const SQLITE_FILE: &str = "pyward-server.sqlite3";

/// How the server runs. Build one with [`Config::new`] and change fields.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database (created if missing). Unused with
    /// [`Config::database`].
    pub data_dir: PathBuf,
    /// `postgres://user:pass@host/db`: use PostgreSQL instead of SQLite.
    /// Several servers may share one database.
    pub database: Option<String>,
    /// The name clients show as a flag's source, e.g. "Example Corp security".
    pub name: String,
    /// Serve the flag feed without a token (default). When false, any valid
    /// token (reporter or moderator) may read it.
    pub public_feed: bool,
    /// Accept reports without a token (rate-limited per IP). Default false.
    pub anonymous_reports: bool,
    /// Largest request body accepted, in bytes (default 64 KiB).
    pub max_body_bytes: usize,
    /// Sustained report submissions allowed per token (or IP, when anonymous)
    /// per minute; also limits sign-in attempts per IP.
    pub reports_per_minute: u32,
    /// Submissions allowed in a burst above the sustained rate.
    pub report_burst: u32,
    /// Mark the session cookie `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Take the client address from the last `X-Forwarded-For` entry (set
    /// only behind a reverse proxy you run; otherwise clients could pick
    /// their own address and escape the rate limit).
    pub trust_forwarded_for: bool,
    /// PostgreSQL connections per server instance.
    pub pool_size: usize,
}

impl Config {
    /// Defaults: SQLite in `data_dir`, listen on 127.0.0.1:8470.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8470)),
            data_dir: data_dir.into(),
            database: None,
            name: "pyward report server".to_string(),
            public_feed: true,
            anonymous_reports: false,
            max_body_bytes: 64 * 1024,
            reports_per_minute: 30,
            report_burst: 10,
            secure_cookies: false,
            trust_forwarded_for: false,
            pool_size: 8,
        }
    }

    /// Where the SQLite database lives.
    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join(SQLITE_FILE)
    }

    pub(crate) fn validate(&self) -> Result<(), ServerError> {
        if let Some(url) = &self.database {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(ServerError::Config(
                    "--database takes a postgres:// URL; leave it out to use SQLite in the data directory"
                        .to_string(),
                ));
            }
        }
        if self.max_body_bytes < 1024 {
            return Err(ServerError::Config(
                "the body size limit must be at least 1024 bytes".to_string(),
            ));
        }
        if self.reports_per_minute == 0 || self.report_burst == 0 {
            return Err(ServerError::Config(
                "the report rate limit and burst must be at least 1".to_string(),
            ));
        }
        if self.pool_size == 0 {
            return Err(ServerError::Config(
                "the PostgreSQL pool size must be at least 1".to_string(),
            ));
        }
        if self.name.trim().is_empty() {
            return Err(ServerError::Config(
                "the server name must not be empty".to_string(),
            ));
        }
        Ok(())
    }
}
