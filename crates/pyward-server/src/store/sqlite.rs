//! The SQLite backend: one connection in WAL mode, used from blocking tasks.

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::{counts_from, role_of, sql, Decision, Inserted, Moderation, NewFlag, StoreError};
use crate::auth::{Caller, Role, Session};
use crate::config::SQLITE_FILE;
use crate::model::{format_millis, Counts, FlagRow, ReportRow, TokenInfo, ValidReport};

#[derive(Clone)]
pub struct Sqlite {
    conn: Arc<Mutex<Connection>>,
}

/// An error from inside a closure: the database's, or ours.
enum Failure {
    Db(rusqlite::Error),
    Store(StoreError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Db(e)
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Store(e)
    }
}

impl Sqlite {
    pub async fn open(dir: &Path) -> Result<Sqlite, StoreError> {
        let dir = dir.to_path_buf();
        let conn = tokio::task::spawn_blocking(move || open_blocking(&dir))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))??;
        Ok(Sqlite {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    async fn call<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, Failure> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let result = tokio::task::spawn_blocking(move || {
            // A poisoned lock means a panic mid-call; SQLite rolled back any
            // open transaction, so the connection is still consistent.
            let mut conn = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut conn)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?;
        result.map_err(|f| match f {
            Failure::Db(e) => StoreError::Sqlite(e),
            Failure::Store(e) => e,
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        self.call(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            tx.execute(sql::CREATE_SCHEMA_TABLE, [])?;
            let current: i64 = tx.query_row(sql::SCHEMA_VERSION, [], |r| r.get(0))?;
            let known = super::MIGRATIONS.len() as i64;
            if current > known {
                return Err(StoreError::TooNew {
                    found: current,
                    known,
                }
                .into());
            }
            for (i, migration) in super::MIGRATIONS.iter().enumerate().skip(current as usize) {
                tx.execute_batch(&migration.replace("{id}", "INTEGER PRIMARY KEY AUTOINCREMENT"))?;
                tx.execute(sql::RECORD_VERSION, params![i as i64 + 1])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    pub async fn insert_token(
        &self,
        hash: String,
        role: Role,
        label: String,
        now: i64,
    ) -> Result<i64, StoreError> {
        self.call(move |conn| {
            Ok(conn.query_row(
                sql::INSERT_TOKEN,
                params![hash, role.as_str(), label, now],
                |r| r.get(0),
            )?)
        })
        .await
    }

    pub async fn token_by_hash(&self, hash: String) -> Result<Option<Caller>, StoreError> {
        self.call(move |conn| {
            let row = conn
                .prepare_cached(sql::TOKEN_BY_HASH)?
                .query_row(params![hash], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get(2)?))
                })
                .optional()?;
            Ok(match row {
                Some((token_id, role, label)) => Some(Caller {
                    token_id,
                    role: role_of(&role)?,
                    label,
                }),
                None => None,
            })
        })
        .await
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        self.call(|conn| {
            let mut stmt = conn.prepare(sql::LIST_TOKENS)?;
            let rows = stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                ))
            })?;
            let mut tokens = Vec::new();
            for row in rows {
                let (id, role, label, created_at, revoked_at) = row?;
                tokens.push(TokenInfo {
                    id,
                    role: role_of(&role)?,
                    label,
                    created_at: format_millis(created_at),
                    revoked: revoked_at.is_some(),
                });
            }
            Ok(tokens)
        })
        .await
    }

    pub async fn revoke_token(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction()?;
            let changed = tx.execute(sql::REVOKE_TOKEN, params![now, id])?;
            tx.execute(sql::DELETE_TOKEN_SESSIONS, params![id])?;
            tx.commit()?;
            Ok(changed == 1)
        })
        .await
    }

    pub async fn insert_report(
        &self,
        r: ValidReport,
        submitted_by: Option<i64>,
        submitter: String,
        now: i64,
    ) -> Result<Inserted, StoreError> {
        self.call(move |conn| {
            let inserted = conn.prepare_cached(sql::INSERT_REPORT)?.execute(params![
                r.id,
                r.package,
                r.version,
                r.reason,
                r.body,
                r.body_sha256,
                submitted_by,
                submitter,
                now
            ])?;
            if inserted == 1 {
                return Ok(Inserted::Created);
            }
            let (sha, by, status): (String, Option<i64>, String) = conn
                .prepare_cached(sql::REPORT_IDENTITY)?
                .query_row(params![r.id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?))
                })?;
            Ok(super::duplicate_or_conflict(
                &sha,
                by,
                status,
                &r.body_sha256,
                submitted_by,
            ))
        })
        .await
    }

    pub async fn list_reports(
        &self,
        status: Option<String>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ReportRow>, StoreError> {
        self.call(move |conn| {
            let mut stmt = conn.prepare_cached(&sql::list_reports(status.is_some()))?;
            let rows = match &status {
                Some(s) => stmt.query_map(params![s, limit, offset], report_row)?,
                None => stmt.query_map(params![limit, offset], report_row)?,
            };
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub async fn report(&self, id: String) -> Result<Option<ReportRow>, StoreError> {
        self.call(move |conn| {
            Ok(conn
                .prepare_cached(&sql::get_report())?
                .query_row(params![id], report_row)
                .optional()?)
        })
        .await
    }

    pub async fn counts(&self) -> Result<Counts, StoreError> {
        self.call(|conn| {
            let mut stmt = conn.prepare_cached(sql::COUNT_REPORTS)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                .collect::<Result<Vec<_>, _>>()?;
            let flags: i64 = conn.query_row(sql::COUNT_FLAGS, [], |r| r.get(0))?;
            Ok(counts_from(rows, flags))
        })
        .await
    }

    pub async fn confirm(
        &self,
        d: Decision,
        flag: NewFlag,
    ) -> Result<Moderation<FlagRow>, StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                sql::DECIDE_REPORT,
                params!["confirmed", d.moderator, d.at, d.note, d.report_id],
            )?;
            if changed == 0 {
                return Ok(undecided(&tx, &d.report_id)?);
            }
            let row = insert_flag(&tx, flag)?;
            tx.commit()?;
            Ok(Moderation::Done(row))
        })
        .await
    }

    pub async fn dismiss(&self, d: Decision) -> Result<Moderation<()>, StoreError> {
        self.call(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let changed = tx.execute(
                sql::DECIDE_REPORT,
                params!["dismissed", d.moderator, d.at, d.note, d.report_id],
            )?;
            if changed == 0 {
                return Ok(undecided(&tx, &d.report_id)?);
            }
            tx.commit()?;
            Ok(Moderation::Done(()))
        })
        .await
    }

    pub async fn insert_flag(&self, flag: NewFlag) -> Result<FlagRow, StoreError> {
        self.call(move |conn| Ok(insert_flag(conn, flag)?)).await
    }

    pub async fn flags(&self) -> Result<Vec<FlagRow>, StoreError> {
        self.call(|conn| {
            let mut stmt = conn.prepare_cached(sql::ACTIVE_FLAGS)?;
            let rows = stmt.query_map([], |r| {
                Ok(FlagRow {
                    id: r.get(0)?,
                    package: r.get(1)?,
                    versions: r.get(2)?,
                    reason: r.get(3)?,
                    report_id: r.get(4)?,
                    confirmed_by: r.get(5)?,
                    confirmed_at: r.get(6)?,
                })
            })?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    pub async fn withdraw_flag(&self, id: i64, by: String, now: i64) -> Result<bool, StoreError> {
        self.call(move |conn| Ok(conn.execute(sql::WITHDRAW_FLAG, params![now, by, id])? == 1))
            .await
    }

    pub async fn create_session(
        &self,
        id_hash: String,
        token_id: i64,
        csrf: String,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        self.call(move |conn| {
            conn.execute(sql::PURGE_SESSIONS, params![crate::model::now_millis()])?;
            conn.execute(
                sql::INSERT_SESSION,
                params![id_hash, token_id, csrf, expires_at],
            )?;
            Ok(())
        })
        .await
    }

    pub async fn session(&self, id_hash: String, now: i64) -> Result<Option<Session>, StoreError> {
        self.call(move |conn| {
            let row = conn
                .prepare_cached(sql::GET_SESSION)?
                .query_row(params![id_hash, now], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                })
                .optional()?;
            Ok(match row {
                Some((token_id, role, label, csrf)) => Some(Session {
                    id_hash,
                    caller: Caller {
                        token_id,
                        role: role_of(&role)?,
                        label,
                    },
                    csrf,
                }),
                None => None,
            })
        })
        .await
    }

    pub async fn delete_session(&self, id_hash: String) -> Result<(), StoreError> {
        self.call(move |conn| {
            conn.execute(sql::DELETE_SESSION, params![id_hash])?;
            Ok(())
        })
        .await
    }
}

fn open_blocking(dir: &Path) -> Result<Connection, StoreError> {
    std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    let path = dir.join(SQLITE_FILE);
    let open_err = |source| StoreError::SqliteOpen {
        path: path.display().to_string(),
        source,
    };
    let conn = Connection::open(&path).map_err(open_err)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(open_err)?;
    // WAL: readers never wait for the writer. synchronous=FULL: a report the
    // server acknowledged survives a power cut.
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(open_err)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(open_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(open_err)?;
    Ok(conn)
}

fn report_row(r: &Row<'_>) -> rusqlite::Result<ReportRow> {
    Ok(ReportRow {
        id: r.get(0)?,
        package: r.get(1)?,
        version: r.get(2)?,
        reason: r.get(3)?,
        body: r.get(4)?,
        submitter: r.get(5)?,
        created_at: r.get(6)?,
        status: r.get(7)?,
        decided_by: r.get(8)?,
        decided_at: r.get(9)?,
        decision_note: r.get(10)?,
    })
}

fn insert_flag(conn: &Connection, f: NewFlag) -> rusqlite::Result<FlagRow> {
    let id: i64 = conn.query_row(
        sql::INSERT_FLAG,
        params![
            f.package,
            f.versions,
            f.reason,
            f.report_id,
            f.confirmed_by,
            f.confirmed_at
        ],
        |r| r.get(0),
    )?;
    Ok(FlagRow {
        id,
        package: f.package,
        versions: f.versions,
        reason: f.reason,
        report_id: f.report_id,
        confirmed_by: f.confirmed_by,
        confirmed_at: f.confirmed_at,
    })
}

/// Why a decision changed no row: no such report, or already decided.
fn undecided<T>(conn: &Connection, id: &str) -> rusqlite::Result<Moderation<T>> {
    let status: Option<String> = conn
        .query_row(sql::REPORT_STATUS, params![id], |r| r.get(0))
        .optional()?;
    Ok(match status {
        Some(s) => Moderation::AlreadyDecided(s),
        None => Moderation::NotFound,
    })
}
