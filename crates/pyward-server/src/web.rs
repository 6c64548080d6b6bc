//! The web pages: open reports, flags, and moderation with plain HTML forms
//! (no JavaScript). Moderators sign in with their token; the session lives in
//! an HttpOnly, SameSite=Strict cookie, every form carries the session's CSRF
//! token, and everything shown is HTML-escaped.

use std::fmt::Write as _;
use std::net::SocketAddr;

use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use pyward_guard::{Evidence, Finding};
use serde::Deserialize;

use crate::api;
use crate::auth::{self, Role, Session};
use crate::error::ApiError;
use crate::model::{self, ReportView};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/reports/{id}", get(report_page))
        .route("/reports/{id}/confirm", post(confirm))
        .route("/reports/{id}/dismiss", post(dismiss))
        .route("/flags", post(create_flag))
        .route("/flags/{id}/withdraw", post(withdraw))
}

/// Headers every response gets: no framing, no sniffing, no scripts.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}

/// HTML-escape text for element content and double-quoted attributes.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_safe(s)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:70rem;margin:1rem auto;padding:0 1rem;color:#222}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}\
header{display:flex;justify-content:space-between;align-items:center;border-bottom:2px solid #333;margin-bottom:1rem}\
.msg{background:#e8f4e8;padding:.5rem;border-left:4px solid #393}.err{background:#fbeaea;padding:.5rem;border-left:4px solid #c33}\
pre{white-space:pre-wrap;background:#f6f6f6;padding:.5rem}form.inline{display:inline}label{display:block;margin:.4rem 0}\
input[type=text],input[type=password],textarea{width:100%;box-sizing:border-box}.sev-critical,.sev-high{color:#b00;font-weight:bold}";

fn page(state: &AppState, title: &str, session: Option<&Session>, body: &str) -> String {
    let who = match session {
        Some(s) => format!(
            "<form class=\"inline\" method=\"post\" action=\"/logout\">Signed in as <strong id=\"who\">{}</strong> ({}) \
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Sign out</button></form>",
            esc(&s.caller.label),
            s.caller.role,
            esc(&s.csrf)
        ),
        None => "<a href=\"/login\">Moderator sign in</a>".to_string(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — {name}</title><style>{STYLE}</style></head><body>\
         <header><h1><a href=\"/\">{name}</a></h1><div>{who}</div></header>{body}</body></html>",
        title = esc(title),
        name = esc(&state.config.name),
    )
}

fn html(status: StatusCode, text: String) -> Response {
    (status, Html(text)).into_response()
}

fn error_page(state: &AppState, session: Option<&Session>, e: ApiError) -> Response {
    let mut body = format!("<p class=\"err\" id=\"error\">{}</p>", esc(&e.message));
    if e.status == StatusCode::UNAUTHORIZED {
        body.push_str("<p><a href=\"/login\">Sign in as a moderator</a></p>");
    }
    body.push_str("<p><a href=\"/\">Back to the overview</a></p>");
    let mut response = html(e.status, page(state, "Error", session, &body));
    if let Some(secs) = e.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// The signed-in moderator, or an error page.
async fn moderator_session(state: &AppState, headers: &HeaderMap) -> Result<Session, Response> {
    match auth::session(state, headers).await {
        Ok(Some(s)) if s.caller.role == Role::Moderator => Ok(s),
        Ok(Some(s)) => Err(error_page(
            state,
            Some(&s),
            ApiError::forbidden("only moderators can do this"),
        )),
        Ok(None) => Err(error_page(
            state,
            None,
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "sign in as a moderator to see reports and moderate",
            ),
        )),
        Err(e) => Err(error_page(state, None, e)),
    }
}

/// A form post from the signed-in moderator with a matching CSRF token.
async fn checked_post<T: HasCsrf>(
    state: &AppState,
    headers: &HeaderMap,
    form: Result<Form<T>, FormRejection>,
) -> Result<(Session, T), Response> {
    let session = moderator_session(state, headers).await?;
    let Form(form) = form.map_err(|e| {
        error_page(
            state,
            Some(&session),
            ApiError::new(e.status(), e.body_text()),
        )
    })?;
    if !auth::same_secret(form.csrf(), &session.csrf) {
        return Err(error_page(
            state,
            Some(&session),
            ApiError::forbidden("this form has expired; go back, reload the page and try again"),
        ));
    }
    Ok((session, form))
}

trait HasCsrf {
    fn csrf(&self) -> &str;
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(done): Query<Done>,
) -> Response {
    let session = match auth::session(&state, &headers).await {
        Ok(s) => s.filter(|s| s.caller.role == Role::Moderator),
        Err(e) => return error_page(&state, None, e),
    };
    match index_body(&state, session.as_ref(), done.done).await {
        Ok(body) => html(
            StatusCode::OK,
            page(&state, "Reports and flags", session.as_ref(), &body),
        ),
        Err(e) => error_page(&state, session.as_ref(), e),
    }
}

async fn index_body(
    state: &AppState,
    session: Option<&Session>,
    done: Option<String>,
) -> Result<String, ApiError> {
    let mut body = String::new();
    let message = match done.as_deref() {
        Some("confirmed") => Some("Report confirmed: the package is now flagged."),
        Some("dismissed") => Some("Report dismissed."),
        Some("withdrawn") => Some("Flag withdrawn."),
        Some("flagged") => Some("Package flagged."),
        Some("signed-out") => Some("Signed out."),
        _ => None,
    };
    if let Some(m) = message {
        let _ = write!(body, "<p class=\"msg\" id=\"message\">{m}</p>");
    }
    let counts = state.store.counts().await?;
    let _ = write!(
        body,
        "<p id=\"counts\">{} open report(s), {} confirmed, {} dismissed; {} flag(s) in force.</p>",
        counts.open, counts.confirmed, counts.dismissed, counts.flags
    );
    if let Some(s) = session {
        let reports = state.store.list_reports(Some("open"), 200, 0).await?;
        body.push_str("<h2>Open reports</h2>");
        if reports.is_empty() {
            body.push_str("<p>No open reports.</p>");
        } else {
            body.push_str("<table id=\"open-reports\"><tr><th>Package</th><th>Reason</th><th>Reported by</th><th>When</th></tr>");
            for r in reports {
                let version = r.version.as_deref().unwrap_or("(all versions)");
                let reason: String = r.reason.chars().take(140).collect();
                let _ = write!(
                    body,
                    "<tr><td><a href=\"/reports/{id}\">{pkg} {ver}</a></td><td>{reason}</td><td>{who}</td><td>{when}</td></tr>",
                    id = esc(&r.id),
                    pkg = esc(&r.package),
                    ver = esc(version),
                    reason = esc(&reason),
                    who = esc(&r.submitter),
                    when = model::format_millis(r.created_at),
                );
            }
            body.push_str("</table>");
        }
        let _ = write!(
            body,
            "<h2>Flag a package</h2><form method=\"post\" action=\"/flags\" id=\"flag-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <label>Package name <input type=\"text\" name=\"name\" required maxlength=\"200\"></label>\
             <label>Versions (\"all\" or a range such as ==1.2.3 or &gt;=1.0,&lt;1.4) <input type=\"text\" name=\"versions\" value=\"all\" maxlength=\"400\"></label>\
             <label>Reason <textarea name=\"reason\" required maxlength=\"4000\" rows=\"3\"></textarea></label>\
             <button type=\"submit\">Flag</button></form>",
            esc(&s.csrf)
        );
    }
    body.push_str("<h2>Flags in force</h2>");
    if state.config.public_feed || session.is_some() {
        let (feed, _) = api::current_feed(state).await?;
        if feed.flags.is_empty() {
            body.push_str("<p id=\"no-flags\">No package is flagged.</p>");
        } else {
            body.push_str("<table id=\"flags\"><tr><th>Package</th><th>Versions</th><th>Reason</th><th>Confirmed by</th><th>When</th>");
            if session.is_some() {
                body.push_str("<th></th>");
            }
            body.push_str("</tr>");
            for f in &feed.flags {
                let _ = write!(
                    body,
                    "<tr class=\"flag\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>",
                    esc(&f.name),
                    esc(&f.versions),
                    esc(&f.reason),
                    esc(&f.confirmed_by),
                    esc(&f.confirmed_at)
                );
                if let Some(s) = session {
                    let _ = write!(
                        body,
                        "<td><form class=\"inline\" method=\"post\" action=\"/flags/{}/withdraw\">\
                         <input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\">Withdraw</button></form></td>",
                        f.id,
                        esc(&s.csrf)
                    );
                }
                body.push_str("</tr>");
            }
            body.push_str("</table>");
        }
        body.push_str("<p>pyward clients read these flags from <code>/api/v1/flags</code>.</p>");
    } else {
        body.push_str("<p>Sign in to see the flags.</p>");
    }
    Ok(body)
}

async fn login_page(State(state): State<AppState>) -> Response {
    let nonce = match auth::new_secret("") {
        Ok(n) => n,
        Err(e) => return error_page(&state, None, e.into()),
    };
    let body = format!(
        "<h2>Moderator sign in</h2><p>Paste your moderator token. Reporter tokens cannot sign in.</p>\
         <form method=\"post\" action=\"/login\" id=\"login-form\">\
         <input type=\"hidden\" name=\"nonce\" value=\"{nonce}\">\
         <label>Token <input type=\"password\" name=\"token\" id=\"token\" required autocomplete=\"off\" maxlength=\"200\"></label>\
         <button type=\"submit\" id=\"sign-in\">Sign in</button></form>"
    );
    let mut response = html(StatusCode::OK, page(&state, "Sign in", None, &body));
    set_cookie(
        &mut response,
        &cookie_text(&state, auth::LOGIN_COOKIE, &nonce, 600),
    );
    response
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
    nonce: String,
}

async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Response {
    let ip = auth::client_ip(&state, &headers, peer);
    if let Err(secs) = state.limiter.check(&format!("login:{ip}")) {
        return error_page(&state, None, ApiError::too_many(secs));
    }
    let Form(form) = match form {
        Ok(f) => f,
        Err(e) => return error_page(&state, None, ApiError::new(e.status(), e.body_text())),
    };
    // The sign-in form must come from our own page (double-submit cookie).
    let nonce_ok = auth::cookie(&headers, auth::LOGIN_COOKIE)
        .is_some_and(|c| !form.nonce.is_empty() && auth::same_secret(c, &form.nonce));
    if !nonce_ok {
        return error_page(
            &state,
            None,
            ApiError::forbidden("the sign-in form expired; reload the sign-in page and try again"),
        );
    }
    let token = form.token.trim();
    if token.is_empty() || token.len() > 200 {
        return error_page(&state, None, ApiError::unauthorized());
    }
    let caller = match auth::caller_for_token(&state, token).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return error_page(
                &state,
                None,
                ApiError::new(StatusCode::UNAUTHORIZED, "this token is not valid"),
            )
        }
        Err(e) => return error_page(&state, None, e),
    };
    if caller.role != Role::Moderator {
        return error_page(
            &state,
            None,
            ApiError::forbidden("only moderators can sign in; this is a reporter token"),
        );
    }
    let (id, csrf) = match (auth::new_secret("s_"), auth::new_secret("")) {
        (Ok(id), Ok(csrf)) => (id, csrf),
        (Err(e), _) | (_, Err(e)) => return error_page(&state, None, e.into()),
    };
    let expires = model::now_millis() + auth::SESSION_MILLIS;
    if let Err(e) = state
        .store
        .create_session(&auth::hash_secret(&id), caller.token_id, &csrf, expires)
        .await
    {
        return error_page(&state, None, e.into());
    }
    let mut response = Redirect::to("/").into_response();
    set_cookie(
        &mut response,
        &cookie_text(
            &state,
            auth::SESSION_COOKIE,
            &id,
            auth::SESSION_MILLIS / 1000,
        ),
    );
    set_cookie(
        &mut response,
        &cookie_text(&state, auth::LOGIN_COOKIE, "", 0),
    );
    response
}

fn cookie_text(state: &AppState, name: &str, value: &str, max_age: i64) -> String {
    let secure = if state.config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; SameSite=Strict{secure}")
}

fn set_cookie(response: &mut Response, text: &str) {
    if let Ok(v) = HeaderValue::from_str(text) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

impl HasCsrf for CsrfForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let (session, _) = match checked_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if let Err(e) = state.store.delete_session(&session.id_hash).await {
        return error_page(&state, Some(&session), e.into());
    }
    let mut response = Redirect::to("/?done=signed-out").into_response();
    set_cookie(
        &mut response,
        &cookie_text(&state, auth::SESSION_COOKIE, "", 0),
    );
    response
}

async fn report_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match moderator_session(&state, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let row = if model::valid_report_id(&id) {
        match state.store.report(&id).await {
            Ok(r) => r,
            Err(e) => return error_page(&state, Some(&session), e.into()),
        }
    } else {
        None
    };
    let Some(row) = row else {
        return error_page(
            &state,
            Some(&session),
            ApiError::not_found("no such report"),
        );
    };
    let view = ReportView::from(row);
    let title = format!(
        "{} {}",
        view.package,
        view.version.as_deref().unwrap_or("(all versions)")
    );
    let body = report_body(&view, &session);
    html(StatusCode::OK, page(&state, &title, Some(&session), &body))
}

fn report_body(r: &ReportView, session: &Session) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h2 id=\"report-title\">{} {}</h2><table>\
         <tr><th>Status</th><td id=\"status\">{}</td></tr>\
         <tr><th>Reported by</th><td>{}</td></tr><tr><th>When</th><td>{}</td></tr>",
        esc(&r.package),
        esc(r.version.as_deref().unwrap_or("(all versions)")),
        esc(&r.status),
        esc(&r.submitter),
        esc(&r.submitted_at)
    );
    if let Some(by) = &r.decided_by {
        let _ = write!(
            b,
            "<tr><th>Decided by</th><td>{} at {}</td></tr>",
            esc(by),
            esc(r.decided_at.as_deref().unwrap_or(""))
        );
    }
    if let Some(note) = &r.decision_note {
        let _ = write!(b, "<tr><th>Note</th><td>{}</td></tr>", esc(note));
    }
    if let Some(s) = &r.report {
        if let Some(u) = &s.index_url {
            let _ = write!(b, "<tr><th>Index</th><td>{}</td></tr>", esc(u));
        }
        if let Some(c) = &s.client {
            let _ = write!(b, "<tr><th>Client</th><td>{}</td></tr>", esc(c));
        }
    }
    let _ = write!(
        b,
        "</table><h3>Reason</h3><pre id=\"reason\">{}</pre>",
        esc(&r.reason)
    );
    if let Some(s) = &r.report {
        if !s.files.is_empty() {
            b.push_str("<h3>Files</h3><table><tr><th>File</th><th>sha256</th><th>Size</th></tr>");
            for f in &s.files {
                let _ = write!(
                    b,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    esc(&f.filename),
                    esc(&f.sha256),
                    f.size.map(|s| s.to_string()).unwrap_or_default()
                );
            }
            b.push_str("</table>");
        }
        let _ = write!(b, "<h3>pyward's findings ({})</h3>", s.evidence.len());
        if s.evidence.is_empty() {
            b.push_str("<p>None were sent.</p>");
        }
        for f in &s.evidence {
            finding_html(&mut b, f);
        }
        if let Some(trust) = &s.trust {
            let text = serde_json::to_string_pretty(trust).unwrap_or_default();
            let _ = write!(b, "<h3>Trust card</h3><pre>{}</pre>", esc(&text));
        }
    }
    if r.status == "open" {
        let default_versions = match &r.version {
            Some(v) => format!("=={v}"),
            None => "all".to_string(),
        };
        let _ = write!(
            b,
            "<h3>Decide</h3>\
             <form method=\"post\" action=\"/reports/{id}/confirm\" id=\"confirm-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>Flag versions (\"all\" or a range such as ==1.2.3) <input type=\"text\" name=\"versions\" value=\"{versions}\" maxlength=\"400\"></label>\
             <label>Reason shown to everyone who tries to install it <textarea name=\"reason\" rows=\"3\" maxlength=\"4000\">{reason}</textarea></label>\
             <button type=\"submit\" id=\"confirm\">Confirm and flag</button></form>\
             <form method=\"post\" action=\"/reports/{id}/dismiss\" id=\"dismiss-form\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>Note (optional) <input type=\"text\" name=\"note\" maxlength=\"4000\"></label>\
             <button type=\"submit\" id=\"dismiss\">Dismiss</button></form>",
            id = esc(&r.id),
            csrf = esc(&session.csrf),
            versions = esc(&default_versions),
            reason = esc(&r.reason),
        );
    }
    b
}

fn finding_html(b: &mut String, f: &Finding) {
    let severity = f.severity.as_str();
    let check = serde_json::to_value(f.check)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    let _ = write!(
        b,
        "<div class=\"finding\"><p><span class=\"sev-{severity}\">{severity}</span> · {} · <strong>{}</strong>",
        esc(&check),
        esc(&f.title)
    );
    if let Some(file) = &f.package.file {
        let _ = write!(b, " <code>{}</code>", esc(file));
    }
    b.push_str("</p>");
    if let Some(why) = &f.why {
        let _ = write!(b, "<p>{}</p>", esc(why));
    }
    if !f.evidence.is_empty() {
        b.push_str("<ul>");
        for e in &f.evidence {
            let _ = write!(b, "<li>{}</li>", evidence_html(e));
        }
        b.push_str("</ul>");
    }
    b.push_str("</div>");
}

fn evidence_html(e: &Evidence) -> String {
    match e {
        Evidence::Text { text } => esc(text).into_owned(),
        Evidence::Location {
            file,
            line,
            snippet,
        } => format!(
            "<code>{}:{line}</code><pre>{}</pre>",
            esc(file),
            esc(snippet)
        ),
        Evidence::Advisory { id, url } => match url {
            Some(u) => format!("advisory {} ({})", esc(id), esc(u)),
            None => format!("advisory {}", esc(id)),
        },
        Evidence::HashMismatch {
            algorithm,
            expected,
            source,
            actual,
            size,
            url,
        } => format!(
            "{alg} expected <code>{}</code> ({}), got <code>{}</code>, {size} bytes from {}",
            esc(expected),
            esc(&source.to_string()),
            esc(actual),
            esc(url),
            alg = esc(algorithm)
        ),
        Evidence::Signal { name, value } => format!("{}: {}", esc(name), esc(value)),
    }
}

#[derive(Deserialize)]
struct ConfirmForm {
    csrf: String,
    versions: Option<String>,
    reason: Option<String>,
}

impl HasCsrf for ConfirmForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> Response {
    let (session, form) = match checked_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match api::confirm_report(
        &state,
        &session.caller.label,
        &id,
        form.versions.as_deref(),
        form.reason.as_deref(),
    )
    .await
    {
        Ok(_) => Redirect::to("/?done=confirmed").into_response(),
        Err(e) => error_page(&state, Some(&session), e),
    }
}

#[derive(Deserialize)]
struct DismissForm {
    csrf: String,
    note: Option<String>,
}

impl HasCsrf for DismissForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn dismiss(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<DismissForm>, FormRejection>,
) -> Response {
    let (session, form) = match checked_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match api::dismiss_report(&state, &session.caller.label, &id, form.note.as_deref()).await {
        Ok(()) => Redirect::to("/?done=dismissed").into_response(),
        Err(e) => error_page(&state, Some(&session), e),
    }
}

#[derive(Deserialize)]
struct FlagForm {
    csrf: String,
    name: String,
    versions: Option<String>,
    reason: String,
}

impl HasCsrf for FlagForm {
    fn csrf(&self) -> &str {
        &self.csrf
    }
}

async fn create_flag(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<Form<FlagForm>, FormRejection>,
) -> Response {
    let (session, form) = match checked_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let flag = match api::flag_from_form(
        &session.caller.label,
        &form.name,
        form.versions.as_deref(),
        &form.reason,
    ) {
        Ok(f) => f,
        Err(e) => return error_page(&state, Some(&session), e),
    };
    match state.store.insert_flag(flag).await {
        Ok(_) => Redirect::to("/?done=flagged").into_response(),
        Err(e) => error_page(&state, Some(&session), e.into()),
    }
}

async fn withdraw(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    form: Result<Form<CsrfForm>, FormRejection>,
) -> Response {
    let (session, _) = match checked_post(&state, &headers, form).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match api::withdraw_flag(&state, &session.caller.label, &id).await {
        Ok(()) => Redirect::to("/?done=withdrawn").into_response(),
        Err(e) => error_page(&state, Some(&session), e),
    }
}
