//! The PostgreSQL backend: a connection pool per server instance. Schema
//! migrations take an advisory lock, so instances starting together migrate
//! once.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::{NoTls, Row};

use super::{counts_from, role_of, sql, Decision, Inserted, Moderation, NewFlag, StoreError};
use crate::auth::{Caller, Role, Session};
use crate::model::{format_millis, Counts, FlagRow, ReportRow, TokenInfo, ValidReport};

/// Key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x7079_7761_7264; // "pyward"

#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
}

impl Postgres {
    /// Build the pool; connections are opened on first use.
    pub fn connect(url: &str, size: usize) -> Result<Postgres, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::PostgresUrl(e.to_string()))?;
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(Duration::from_secs(10)))
            .create_timeout(Some(Duration::from_secs(10)))
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Postgres { pool })
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => StoreError::Postgres(e),
            other => StoreError::Pool(other.to_string()),
        })
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(sql::CREATE_SCHEMA_TABLE).await?;
        let current: i64 = tx.query_one(sql::SCHEMA_VERSION, &[]).await?.get(0);
        let known = super::MIGRATIONS.len() as i64;
        if current > known {
            return Err(StoreError::TooNew {
                found: current,
                known,
            });
        }
        for (i, migration) in super::MIGRATIONS.iter().enumerate().skip(current as usize) {
            tx.batch_execute(
                &migration.replace("{id}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY"),
            )
            .await?;
            tx.execute(sql::RECORD_VERSION, &[&(i as i64 + 1)]).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn insert_token(
        &self,
        hash: String,
        role: Role,
        label: String,
        now: i64,
    ) -> Result<i64, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_one(sql::INSERT_TOKEN, &[&hash, &role.as_str(), &label, &now])
            .await?;
        Ok(row.get(0))
    }

    pub async fn token_by_hash(&self, hash: String) -> Result<Option<Caller>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::TOKEN_BY_HASH).await?;
        match client.query_opt(&stmt, &[&hash]).await? {
            Some(row) => Ok(Some(Caller {
                token_id: row.get(0),
                role: role_of(row.get(1))?,
                label: row.get(2),
            })),
            None => Ok(None),
        }
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>, StoreError> {
        let client = self.client().await?;
        let rows = client.query(sql::LIST_TOKENS, &[]).await?;
        rows.iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.get(0),
                    role: role_of(r.get(1))?,
                    label: r.get(2),
                    created_at: format_millis(r.get(3)),
                    revoked: r.get::<_, Option<i64>>(4).is_some(),
                })
            })
            .collect()
    }

    pub async fn revoke_token(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx.execute(sql::REVOKE_TOKEN, &[&now, &id]).await?;
        tx.execute(sql::DELETE_TOKEN_SESSIONS, &[&id]).await?;
        tx.commit().await?;
        Ok(changed == 1)
    }

    pub async fn insert_report(
        &self,
        r: ValidReport,
        submitted_by: Option<i64>,
        submitter: String,
        now: i64,
    ) -> Result<Inserted, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::INSERT_REPORT).await?;
        let inserted = client
            .execute(
                &stmt,
                &[
                    &r.id,
                    &r.package,
                    &r.version,
                    &r.reason,
                    &r.body,
                    &r.body_sha256,
                    &submitted_by,
                    &submitter,
                    &now,
                ],
            )
            .await?;
        if inserted == 1 {
            return Ok(Inserted::Created);
        }
        let row = client.query_one(sql::REPORT_IDENTITY, &[&r.id]).await?;
        Ok(super::duplicate_or_conflict(
            row.get(0),
            row.get(1),
            row.get(2),
            &r.body_sha256,
            submitted_by,
        ))
    }

    pub async fn list_reports(
        &self,
        status: Option<String>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<ReportRow>, StoreError> {
        let client = self.client().await?;
        let query = sql::list_reports(status.is_some());
        let rows = match &status {
            Some(s) => client.query(&query, &[s, &limit, &offset]).await?,
            None => client.query(&query, &[&limit, &offset]).await?,
        };
        Ok(rows.iter().map(report_row).collect())
    }

    pub async fn report(&self, id: String) -> Result<Option<ReportRow>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(&sql::get_report(), &[&id])
            .await?
            .as_ref()
            .map(report_row))
    }

    pub async fn counts(&self) -> Result<Counts, StoreError> {
        let client = self.client().await?;
        let rows = client.query(sql::COUNT_REPORTS, &[]).await?;
        let flags: i64 = client.query_one(sql::COUNT_FLAGS, &[]).await?.get(0);
        Ok(counts_from(
            rows.iter()
                .map(|r| (r.get::<_, String>(0), r.get::<_, i64>(1))),
            flags,
        ))
    }

    pub async fn confirm(
        &self,
        d: Decision,
        flag: NewFlag,
    ) -> Result<Moderation<FlagRow>, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let changed = tx
            .execute(
                sql::DECIDE_REPORT,
                &[&"confirmed", &d.moderator, &d.at, &d.note, &d.report_id],
            )
            .await?;
        if changed == 0 {
            return undecided(&*tx, &d.report_id).await;
        }
        let id: i64 = tx
            .query_one(
                sql::INSERT_FLAG,
                &[
                    &flag.package,
                    &flag.versions,
                    &flag.reason,
                    &flag.report_id,
                    &flag.confirmed_by,
                    &flag.confirmed_at,
                ],
            )
            .await?
            .get(0);
        tx.commit().await?;
        Ok(Moderation::Done(flag_row(id, flag)))
    }

    pub async fn dismiss(&self, d: Decision) -> Result<Moderation<()>, StoreError> {
        let client = self.client().await?;
        let changed = client
            .execute(
                sql::DECIDE_REPORT,
                &[&"dismissed", &d.moderator, &d.at, &d.note, &d.report_id],
            )
            .await?;
        if changed == 0 {
            return undecided(&**client, &d.report_id).await;
        }
        Ok(Moderation::Done(()))
    }

    pub async fn insert_flag(&self, flag: NewFlag) -> Result<FlagRow, StoreError> {
        let client = self.client().await?;
        let id: i64 = client
            .query_one(
                sql::INSERT_FLAG,
                &[
                    &flag.package,
                    &flag.versions,
                    &flag.reason,
                    &flag.report_id,
                    &flag.confirmed_by,
                    &flag.confirmed_at,
                ],
            )
            .await?
            .get(0);
        Ok(flag_row(id, flag))
    }

    pub async fn flags(&self) -> Result<Vec<FlagRow>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::ACTIVE_FLAGS).await?;
        let rows = client.query(&stmt, &[]).await?;
        Ok(rows
            .iter()
            .map(|r| FlagRow {
                id: r.get(0),
                package: r.get(1),
                versions: r.get(2),
                reason: r.get(3),
                report_id: r.get(4),
                confirmed_by: r.get(5),
                confirmed_at: r.get(6),
            })
            .collect())
    }

    pub async fn withdraw_flag(&self, id: i64, by: String, now: i64) -> Result<bool, StoreError> {
        let client = self.client().await?;
        Ok(client
            .execute(sql::WITHDRAW_FLAG, &[&now, &by, &id])
            .await?
            == 1)
    }

    pub async fn create_session(
        &self,
        id_hash: String,
        token_id: i64,
        csrf: String,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(sql::PURGE_SESSIONS, &[&crate::model::now_millis()])
            .await?;
        client
            .execute(
                sql::INSERT_SESSION,
                &[&id_hash, &token_id, &csrf, &expires_at],
            )
            .await?;
        Ok(())
    }

    pub async fn session(&self, id_hash: String, now: i64) -> Result<Option<Session>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql::GET_SESSION).await?;
        match client.query_opt(&stmt, &[&id_hash, &now]).await? {
            Some(row) => Ok(Some(Session {
                caller: Caller {
                    token_id: row.get(0),
                    role: role_of(row.get(1))?,
                    label: row.get(2),
                },
                csrf: row.get(3),
                id_hash,
            })),
            None => Ok(None),
        }
    }

    pub async fn delete_session(&self, id_hash: String) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.execute(sql::DELETE_SESSION, &[&id_hash]).await?;
        Ok(())
    }
}

fn report_row(r: &Row) -> ReportRow {
    ReportRow {
        id: r.get(0),
        package: r.get(1),
        version: r.get(2),
        reason: r.get(3),
        body: r.get(4),
        submitter: r.get(5),
        created_at: r.get(6),
        status: r.get(7),
        decided_by: r.get(8),
        decided_at: r.get(9),
        decision_note: r.get(10),
    }
}

fn flag_row(id: i64, f: NewFlag) -> FlagRow {
    FlagRow {
        id,
        package: f.package,
        versions: f.versions,
        reason: f.reason,
        report_id: f.report_id,
        confirmed_by: f.confirmed_by,
        confirmed_at: f.confirmed_at,
    }
}

async fn undecided<T>(
    client: &impl tokio_postgres::GenericClient,
    id: &str,
) -> Result<Moderation<T>, StoreError> {
    Ok(match client.query_opt(sql::REPORT_STATUS, &[&id]).await? {
        Some(row) => Moderation::AlreadyDecided(row.get(0)),
        None => Moderation::NotFound,
    })
}
