//! The JSON API under `/api/v1`: submit reports (token, rate limit,
//! validation, idempotent ids), read and decide them (moderators), the flag
//! feed (with ETag), public counts. The HTML pages share the decision logic.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::auth::{self, Caller, Role};
use crate::error::ApiError;
use crate::model::{self, FlagFeed, FlagRow, ReportView, Submission, FEED_FORMAT};
use crate::store::{Decision, Inserted, Moderation, NewFlag};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/api/v1/reports", post(submit).get(list))
        .route("/api/v1/reports/{id}", get(show))
        .route("/api/v1/reports/{id}/confirm", post(confirm))
        .route("/api/v1/reports/{id}/dismiss", post(dismiss))
        .route("/api/v1/flags", get(feed).post(create_flag))
        .route("/api/v1/flags/{id}/withdraw", post(withdraw))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/token", get(whoami))
}

fn body_error(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::new(
            status,
            "the request body is larger than this server accepts",
        )
    } else {
        ApiError::new(status, rejection.body_text())
    }
}

fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send JSON with Content-Type: application/json",
        ))
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))
}

/// The caller, who must be a moderator.
async fn moderator(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    match auth::bearer(state, headers).await? {
        None => Err(ApiError::unauthorized()),
        Some(c) if c.role == Role::Moderator => Ok(c),
        Some(_) => Err(ApiError::forbidden(
            "only moderators can do this; this is a reporter token",
        )),
    }
}

/// Anyone when the feed is public; otherwise any valid token.
async fn feed_reader(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let caller = auth::bearer(state, headers).await?;
    if state.config.public_feed || caller.is_some() {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}

async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = auth::bearer(&state, &headers).await?;
    let ip = auth::client_ip(&state, &headers, peer);
    let (limit_key, submitter) = match &caller {
        Some(c) => (format!("token:{}", c.token_id), c.label.clone()),
        None if state.config.anonymous_reports => (format!("ip:{ip}"), format!("anonymous ({ip})")),
        None => return Err(ApiError::unauthorized()),
    };
    state
        .limiter
        .check(&limit_key)
        .map_err(ApiError::too_many)?;
    let body = body.map_err(body_error)?;
    require_json(&headers)?;
    let submission: Submission = parse_json(&body)?;
    let report = submission.validate().map_err(ApiError::invalid)?;
    let id = report.id.clone();
    let inserted = state
        .store
        .insert_report(
            report,
            caller.as_ref().map(|c| c.token_id),
            submitter,
            model::now_millis(),
        )
        .await?;
    match inserted {
        Inserted::Created => Ok((
            StatusCode::CREATED,
            Json(json!({ "id": id, "status": "open", "duplicate": false })),
        )
            .into_response()),
        Inserted::Duplicate { status } => Ok((
            StatusCode::OK,
            Json(json!({ "id": id, "status": status, "duplicate": true })),
        )
            .into_response()),
        Inserted::Conflict => Err(ApiError::conflict(
            "a different report with this id exists; send a new id",
        )),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    moderator(&state, &headers).await?;
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let status = match q.status.as_deref() {
        None | Some("open") => Some("open"),
        Some("all") => None,
        Some(s @ ("confirmed" | "dismissed")) => Some(s),
        Some(_) => {
            return Err(ApiError::bad_request(
                "status must be open, confirmed, dismissed or all",
            ))
        }
    };
    let limit = q.limit.unwrap_or(50);
    let offset = q.offset.unwrap_or(0);
    if !(1..=500).contains(&limit) || offset < 0 {
        return Err(ApiError::bad_request(
            "limit must be 1 to 500 and offset not negative",
        ));
    }
    let rows = state.store.list_reports(status, limit, offset).await?;
    let reports: Vec<ReportView> = rows.into_iter().map(ReportView::from).collect();
    Ok(Json(json!({ "reports": reports })).into_response())
}

async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    moderator(&state, &headers).await?;
    let row = find_report(&state, &id).await?;
    Ok(Json(ReportView::from(row)).into_response())
}

async fn find_report(state: &AppState, id: &str) -> Result<model::ReportRow, ApiError> {
    if !model::valid_report_id(id) {
        return Err(ApiError::not_found("no such report"));
    }
    state
        .store
        .report(id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such report"))
}

/// Confirm report `id` as `moderator`: it becomes a flag on `versions`
/// (default: the reported version, or all) with `reason` (default: the
/// reporter's reason).
pub(crate) async fn confirm_report(
    state: &AppState,
    moderator: &str,
    id: &str,
    versions: Option<&str>,
    reason: Option<&str>,
) -> Result<FlagRow, ApiError> {
    let report = find_report(state, id).await?;
    let versions = match versions.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => model::parse_versions(v).map_err(ApiError::invalid)?,
        None => match &report.version {
            Some(v) => format!("=={v}"),
            None => "all".to_string(),
        },
    };
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) => check_reason(r)?,
        None => report.reason.clone(),
    };
    let now = model::now_millis();
    let decided = state
        .store
        .confirm(
            Decision {
                report_id: report.id.clone(),
                moderator: moderator.to_string(),
                at: now,
                note: Some(reason.clone()),
            },
            NewFlag {
                package: report.package.clone(),
                versions,
                reason,
                report_id: Some(report.id),
                confirmed_by: moderator.to_string(),
                confirmed_at: now,
            },
        )
        .await?;
    decided_or_error(decided)
}

pub(crate) async fn dismiss_report(
    state: &AppState,
    moderator: &str,
    id: &str,
    note: Option<&str>,
) -> Result<(), ApiError> {
    if !model::valid_report_id(id) {
        return Err(ApiError::not_found("no such report"));
    }
    let note = match note.map(str::trim).filter(|n| !n.is_empty()) {
        Some(n) => Some(check_reason(n)?),
        None => None,
    };
    let decided = state
        .store
        .dismiss(Decision {
            report_id: id.to_string(),
            moderator: moderator.to_string(),
            at: model::now_millis(),
            note,
        })
        .await?;
    decided_or_error(decided)
}

fn decided_or_error<T>(decided: Moderation<T>) -> Result<T, ApiError> {
    match decided {
        Moderation::Done(t) => Ok(t),
        Moderation::NotFound => Err(ApiError::not_found("no such report")),
        Moderation::AlreadyDecided(status) => Err(ApiError::conflict(format!(
            "this report was already {status}"
        ))),
    }
}

fn check_reason(text: &str) -> Result<String, ApiError> {
    if text.chars().count() > model::MAX_REASON_CHARS {
        return Err(ApiError::invalid(format!(
            "reason: longer than {} characters",
            model::MAX_REASON_CHARS
        )));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(ApiError::invalid("reason: contains control characters"));
    }
    Ok(text.to_string())
}

#[derive(Deserialize, Default)]
struct ConfirmBody {
    versions: Option<String>,
    reason: Option<String>,
}

/// An optional JSON body: empty means defaults.
fn optional_json<T: serde::de::DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body.map_err(body_error)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    require_json(headers)?;
    parse_json(&body)
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = moderator(&state, &headers).await?;
    let body: ConfirmBody = optional_json(&headers, body)?;
    let flag = confirm_report(
        &state,
        &caller.label,
        &id,
        body.versions.as_deref(),
        body.reason.as_deref(),
    )
    .await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "id": id, "status": "confirmed", "flag": flag.to_feed(&state.config.name) })),
    )
        .into_response())
}

#[derive(Deserialize, Default)]
struct DismissBody {
    note: Option<String>,
}

async fn dismiss(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = moderator(&state, &headers).await?;
    let body: DismissBody = optional_json(&headers, body)?;
    dismiss_report(&state, &caller.label, &id, body.note.as_deref()).await?;
    Ok(Json(json!({ "id": id, "status": "dismissed" })).into_response())
}

/// The feed and its entity tag.
pub(crate) async fn current_feed(state: &AppState) -> Result<(FlagFeed, String), ApiError> {
    let rows = state.store.flags().await?;
    let feed = FlagFeed {
        format: FEED_FORMAT,
        source: state.config.name.clone(),
        flags: rows.iter().map(|r| r.to_feed(&state.config.name)).collect(),
    };
    let body = serde_json::to_vec(&feed).map_err(|e| {
        tracing::error!("cannot serialize the flag feed: {e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })?;
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&body))[..32]);
    Ok((feed, etag))
}

async fn feed(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    feed_reader(&state, &headers).await?;
    let (feed, etag) = current_feed(&state).await?;
    let etag_value = HeaderValue::from_str(&etag)
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?;
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut response = if matches {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(feed).into_response()
    };
    response.headers_mut().insert(header::ETAG, etag_value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[derive(Deserialize)]
struct NewFlagBody {
    name: String,
    versions: Option<String>,
    reason: String,
}

async fn create_flag(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = moderator(&state, &headers).await?;
    let body = body.map_err(body_error)?;
    require_json(&headers)?;
    let new: NewFlagBody = parse_json(&body)?;
    let flag = flag_from_form(
        &caller.label,
        &new.name,
        new.versions.as_deref(),
        &new.reason,
    )?;
    let row = state.store.insert_flag(flag).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "flag": row.to_feed(&state.config.name) })),
    )
        .into_response())
}

/// A moderator's own flag, validated.
pub(crate) fn flag_from_form(
    moderator: &str,
    name: &str,
    versions: Option<&str>,
    reason: &str,
) -> Result<NewFlag, ApiError> {
    let package = model::parse_package(name.trim()).map_err(ApiError::invalid)?;
    let versions = model::parse_versions(versions.unwrap_or("all")).map_err(ApiError::invalid)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(ApiError::invalid("reason: must not be empty"));
    }
    Ok(NewFlag {
        package: package.to_string(),
        versions,
        reason: check_reason(reason)?,
        report_id: None,
        confirmed_by: moderator.to_string(),
        confirmed_at: model::now_millis(),
    })
}

pub(crate) async fn withdraw_flag(
    state: &AppState,
    moderator: &str,
    id: &str,
) -> Result<(), ApiError> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found("no such flag"))?;
    if state
        .store
        .withdraw_flag(id, moderator, model::now_millis())
        .await?
    {
        Ok(())
    } else {
        Err(ApiError::not_found("no such flag in force"))
    }
}

async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let caller = moderator(&state, &headers).await?;
    withdraw_flag(&state, &caller.label, &id).await?;
    Ok(Json(json!({ "id": id, "withdrawn": true })).into_response())
}

async fn stats(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    feed_reader(&state, &headers).await?;
    Ok(Json(state.store.counts().await?).into_response())
}

async fn whoami(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let caller = auth::bearer(&state, &headers)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(json!({ "role": caller.role, "label": caller.label })).into_response())
}
