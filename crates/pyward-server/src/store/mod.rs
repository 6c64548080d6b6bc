//! Storage: one `Store` with two backends, SQLite (default, one file in the
//! data directory) and PostgreSQL (several server instances on one database).
//! Both run the same SQL (`sql`); only the id column type of the schema and
//! the way parameters are passed differ. The schema is migrated at start.

mod postgres;
mod sql;
mod sqlite;

use crate::auth::{Caller, Role, Session};
use crate::config::Config;
use crate::model::{Counts, FlagRow, ReportRow, TokenInfo, ValidReport};

/// Why the database could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("SQLite database {path}: {source}")]
    SqliteOpen {
        path: String,
        source: rusqlite::Error,
    },
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", postgres_message(.0))]
    Postgres(#[from] tokio_postgres::Error),
    #[error("PostgreSQL connection pool: {0}")]
    Pool(String),
    #[error("invalid PostgreSQL URL: {0}")]
    PostgresUrl(String),
    #[error("the database holds a value this server does not understand: {0}")]
    Corrupt(String),
    #[error("the database schema is version {found}, newer than this server knows ({known}); upgrade pyward")]
    TooNew { found: i64, known: i64 },
    #[error("database task failed: {0}")]
    Task(String),
}

/// What happened to a submitted report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inserted {
    Created,
    /// The same report (same id, same content, same submitter) was already
    /// stored: a retry.
    Duplicate {
        status: String,
    },
    /// The id is taken by a different report.
    Conflict,
}

/// Why a moderation decision was not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Moderation<T> {
    Done(T),
    NotFound,
    /// The report was already confirmed or dismissed.
    AlreadyDecided(String),
}

/// A new flag.
#[derive(Debug, Clone)]
pub struct NewFlag {
    pub package: String,
    pub versions: String,
    pub reason: String,
    pub report_id: Option<String>,
    pub confirmed_by: String,
    pub confirmed_at: i64,
}

/// A report decision.
#[derive(Debug, Clone)]
pub struct Decision {
    pub report_id: String,
    pub moderator: String,
    pub at: i64,
    pub note: Option<String>,
}

#[derive(Clone)]
pub enum Store {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

macro_rules! each {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            Store::Sqlite($s) => $e,
            Store::Postgres($s) => $e,
        }
    };
}

impl Store {
    /// Connect to the configured database and bring its schema up to date.
    pub async fn open(config: &Config) -> Result<Store, StoreError> {
        let store = match &config.database {
            Some(url) => Store::Postgres(postgres::Postgres::connect(url, config.pool_size)?),
            None => Store::Sqlite(sqlite::Sqlite::open(&config.data_dir).await?),
        };
        each!(&store, s => s.migrate().await)?;
        Ok(store)
    }

    pub async fn insert_token(
        &self,
        hash: &str,
        role: Role,
        label: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        each!(self, s => s.insert_token(hash.into(), role, label.into(), now).await)
    }

    pub async fn token_by_hash(&self, hash: &str) -> Result<Option<Caller>, StoreError> {
        each!(self, s => s.token_by_hash(hash.into()).await)
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        each!(self, s => s.list_tokens().await)
    }

    /// Revoke a token and end its sessions.
    pub async fn revoke_token(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        each!(self, s => s.revoke_token(id, now).await)
    }

    pub async fn insert_report(
        &self,
        report: ValidReport,
        submitted_by: Option<i64>,
        submitter: String,
        now: i64,
    ) -> Result<Inserted, StoreError> {
        each!(self, s => s.insert_report(report, submitted_by, submitter, now).await)
    }

    /// Reports, newest first; `status` filters.
    pub async fn list_reports(
        &self,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ReportRow>, StoreError> {
        each!(self, s => s.list_reports(status.map(str::to_string), limit, offset).await)
    }

    pub async fn report(&self, id: &str) -> Result<Option<ReportRow>, StoreError> {
        each!(self, s => s.report(id.into()).await)
    }

    pub async fn counts(&self) -> Result<Counts, StoreError> {
        each!(self, s => s.counts().await)
    }

    /// Confirm an open report and create its flag, in one transaction.
    pub async fn confirm(
        &self,
        decision: Decision,
        flag: NewFlag,
    ) -> Result<Moderation<FlagRow>, StoreError> {
        each!(self, s => s.confirm(decision, flag).await)
    }

    pub async fn dismiss(&self, decision: Decision) -> Result<Moderation<()>, StoreError> {
        each!(self, s => s.dismiss(decision).await)
    }

    /// A flag without a report (a moderator's own finding).
    pub async fn insert_flag(&self, flag: NewFlag) -> Result<FlagRow, StoreError> {
        each!(self, s => s.insert_flag(flag).await)
    }

    /// Flags in force, oldest first.
    pub async fn flags(&self) -> Result<Vec<FlagRow>, StoreError> {
        each!(self, s => s.flags().await)
    }

    pub async fn withdraw_flag(&self, id: i64, by: &str, now: i64) -> Result<bool, StoreError> {
        each!(self, s => s.withdraw_flag(id, by.into(), now).await)
    }

    pub async fn create_session(
        &self,
        id_hash: &str,
        token_id: i64,
        csrf: &str,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        each!(self, s => s.create_session(id_hash.into(), token_id, csrf.into(), expires_at).await)
    }

    pub async fn session(&self, id_hash: &str, now: i64) -> Result<Option<Session>, StoreError> {
        each!(self, s => s.session(id_hash.into(), now).await)
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<(), StoreError> {
        each!(self, s => s.delete_session(id_hash.into()).await)
    }
}

/// The schema, oldest first. `{id}` is the backend's auto-increment key.
const MIGRATIONS: &[&str] = &[r"
CREATE TABLE tokens (
    id {id},
    hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    label TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE reports (
    id TEXT PRIMARY KEY,
    package TEXT NOT NULL,
    version TEXT,
    reason TEXT NOT NULL,
    body TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    submitted_by BIGINT,
    submitter TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL,
    decided_by TEXT,
    decided_at BIGINT,
    decision_note TEXT
);
CREATE INDEX reports_by_status ON reports (status, created_at);
CREATE TABLE flags (
    id {id},
    package TEXT NOT NULL,
    versions TEXT NOT NULL,
    reason TEXT NOT NULL,
    report_id TEXT REFERENCES reports (id),
    confirmed_by TEXT NOT NULL,
    confirmed_at BIGINT NOT NULL,
    withdrawn_at BIGINT,
    withdrawn_by TEXT
);
CREATE INDEX flags_by_package ON flags (package);
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    token_id BIGINT NOT NULL REFERENCES tokens (id),
    csrf TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
"];

/// The server's own message for database errors ("db error" alone says
/// nothing), the error chain otherwise.
fn postgres_message(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(": {s}"));
        source = s.source();
    }
    text
}

fn role_of(text: &str) -> Result<Role, StoreError> {
    Role::parse(text).ok_or_else(|| StoreError::Corrupt(format!("unknown role {text:?}")))
}

fn counts_from(rows: impl IntoIterator<Item = (String, i64)>, flags: i64) -> Counts {
    let mut counts = Counts {
        flags,
        ..Counts::default()
    };
    for (status, n) in rows {
        match status.as_str() {
            "open" => counts.open = n,
            "confirmed" => counts.confirmed = n,
            "dismissed" => counts.dismissed = n,
            _ => {}
        }
    }
    counts
}

/// A report id that is already stored: the same report again, or another one.
fn duplicate_or_conflict(
    stored_sha256: &str,
    stored_by: Option<i64>,
    status: String,
    sha256: &str,
    by: Option<i64>,
) -> Inserted {
    if stored_sha256 == sha256 && stored_by == by {
        Inserted::Duplicate { status }
    } else {
        Inserted::Conflict
    }
}
