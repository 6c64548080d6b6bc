//! The SQL both backends run. Parameters are `$1`, `$2`… in order of first
//! use: PostgreSQL's syntax, which SQLite reads as numbered named parameters.

pub const CREATE_SCHEMA_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS pyward_schema (version BIGINT NOT NULL)";
pub const SCHEMA_VERSION: &str = "SELECT COALESCE(MAX(version), 0) FROM pyward_schema";
pub const RECORD_VERSION: &str = "INSERT INTO pyward_schema (version) VALUES ($1)";

pub const INSERT_TOKEN: &str =
    "INSERT INTO tokens (hash, role, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id";
pub const TOKEN_BY_HASH: &str =
    "SELECT id, role, label FROM tokens WHERE hash = $1 AND revoked_at IS NULL";
pub const LIST_TOKENS: &str =
    "SELECT id, role, label, created_at, revoked_at FROM tokens ORDER BY id";
pub const REVOKE_TOKEN: &str =
    "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
pub const DELETE_TOKEN_SESSIONS: &str = "DELETE FROM sessions WHERE token_id = $1";

pub const INSERT_REPORT: &str = "INSERT INTO reports \
    (id, package, version, reason, body, body_sha256, submitted_by, submitter, created_at, status) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open') ON CONFLICT (id) DO NOTHING";
pub const REPORT_IDENTITY: &str =
    "SELECT body_sha256, submitted_by, status FROM reports WHERE id = $1";

const REPORT_COLUMNS: &str = "id, package, version, reason, body, submitter, created_at, \
    status, decided_by, decided_at, decision_note";

pub fn list_reports(with_status: bool) -> String {
    if with_status {
        format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE status = $1 \
             ORDER BY created_at DESC, id LIMIT $2 OFFSET $3"
        )
    } else {
        format!(
            "SELECT {REPORT_COLUMNS} FROM reports ORDER BY created_at DESC, id LIMIT $1 OFFSET $2"
        )
    }
}

pub fn get_report() -> String {
    format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1")
}

pub const COUNT_REPORTS: &str = "SELECT status, COUNT(*) FROM reports GROUP BY status";
pub const COUNT_FLAGS: &str = "SELECT COUNT(*) FROM flags WHERE withdrawn_at IS NULL";

pub const DECIDE_REPORT: &str = "UPDATE reports SET status = $1, decided_by = $2, \
    decided_at = $3, decision_note = $4 WHERE id = $5 AND status = 'open'";
pub const REPORT_STATUS: &str = "SELECT status FROM reports WHERE id = $1";

pub const INSERT_FLAG: &str = "INSERT INTO flags \
    (package, versions, reason, report_id, confirmed_by, confirmed_at) \
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
pub const ACTIVE_FLAGS: &str = "SELECT id, package, versions, reason, report_id, confirmed_by, \
    confirmed_at FROM flags WHERE withdrawn_at IS NULL ORDER BY id";
pub const WITHDRAW_FLAG: &str = "UPDATE flags SET withdrawn_at = $1, withdrawn_by = $2 \
    WHERE id = $3 AND withdrawn_at IS NULL";

pub const INSERT_SESSION: &str =
    "INSERT INTO sessions (id_hash, token_id, csrf, expires_at) VALUES ($1, $2, $3, $4)";
pub const GET_SESSION: &str = "SELECT t.id, t.role, t.label, s.csrf FROM sessions s \
    JOIN tokens t ON t.id = s.token_id \
    WHERE s.id_hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL";
pub const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id_hash = $1";
pub const PURGE_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at <= $1";
