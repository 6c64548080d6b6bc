//! The web pages, driven with plain form posts as a browser would send them.

use serde_json::Value;

use crate::common::{new_id, report, start, Backend, TestServer};
use crate::on_both;

on_both!(
    moderator_signs_in_and_confirms_a_report,
    forms_without_the_csrf_token_change_nothing,
    sign_in_needs_the_form_nonce,
    moderator_flags_withdraws_and_signs_out,
);

/// The value of hidden input `name` in `html`.
pub fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_string()
}

pub fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Sign in through the login form; returns the `Cookie` header value.
pub async fn sign_in(s: &TestServer, token: &str) -> String {
    let page = s.http.get(s.at("/login")).send().await.unwrap();
    let set = page.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    let login_cookie = set.split(';').next().unwrap().to_string();
    let nonce = hidden(&page.text().await.unwrap(), "nonce");
    let r = s
        .http
        .post(s.at("/login"))
        .header("cookie", &login_cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", token), ("nonce", &nonce)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign in");
    let session = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("pyward_session=") && !v.starts_with("pyward_session=;"))
        .expect("a session cookie")
        .to_string();
    assert!(session.contains("HttpOnly"));
    assert!(session.contains("SameSite=Strict"));
    session.split(';').next().unwrap().to_string()
}

async fn post_form(
    s: &TestServer,
    cookie: &str,
    path: &str,
    pairs: &[(&str, &str)],
) -> reqwest::Response {
    s.http
        .post(s.at(path))
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(pairs))
        .send()
        .await
        .unwrap()
}

async fn page(s: &TestServer, cookie: &str, path: &str) -> String {
    let r = s
        .http
        .get(s.at(path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

async fn moderator_signs_in_and_confirms_a_report(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let id = new_id();
    s.submit(Some(&s.reporter), &report(&id, "evil", Some("1.0")))
        .await;
    let cookie = sign_in(&s, &s.moderator).await;
    let index = page(&s, &cookie, "/").await;
    assert!(index.contains("mod-alice"));
    assert!(index.contains(&format!("href=\"/reports/{id}\"")));
    let detail = page(&s, &cookie, &format!("/reports/{id}")).await;
    assert!(detail.contains("EVIDENCE-ONLY-FOR-MODERATORS"));
    assert!(detail.contains("evil-1.0-py3-none-any.whl"));
    let csrf = hidden(&detail, "csrf");
    let r = post_form(
        &s,
        &cookie,
        &format!("/reports/{id}/confirm"),
        &[
            ("csrf", &csrf),
            ("versions", "==1.0"),
            ("reason", "steals cloud credentials"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/?done=confirmed");
    let index = page(&s, &cookie, "/?done=confirmed").await;
    assert!(index.contains("the package is now flagged"));
    assert!(index.contains("steals cloud credentials"));
    let feed = s.flags().await;
    assert_eq!(feed["flags"][0]["name"], "evil");
    assert_eq!(feed["flags"][0]["reason"], "steals cloud credentials");
    assert_eq!(feed["flags"][0]["confirmed_by"], "mod-alice");
    // Anyone sees the flag on the public page.
    let public = s.get(None, "/").await.text().await.unwrap();
    assert!(public.contains("steals cloud credentials"));
    s.stop().await;
}

async fn forms_without_the_csrf_token_change_nothing(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let id = new_id();
    s.submit(Some(&s.reporter), &report(&id, "evil", None))
        .await;
    let cookie = sign_in(&s, &s.moderator).await;
    for pairs in [
        vec![("versions", "all")],
        vec![("csrf", "forged"), ("versions", "all")],
        vec![("csrf", ""), ("versions", "all")],
    ] {
        let r = post_form(&s, &cookie, &format!("/reports/{id}/confirm"), &pairs).await;
        assert!(r.status().is_client_error(), "{pairs:?}: {}", r.status());
        let r = post_form(&s, &cookie, &format!("/reports/{id}/dismiss"), &pairs).await;
        assert!(r.status().is_client_error());
    }
    // Another moderator's session token does not fit this session.
    let other = pyward_server::create_token(&s.config, pyward_server::Role::Moderator, "mod-carol")
        .await
        .unwrap();
    let other_cookie = sign_in(&s, &other).await;
    let other_csrf = hidden(&page(&s, &other_cookie, "/").await, "csrf");
    let r = post_form(
        &s,
        &cookie,
        &format!("/reports/{id}/confirm"),
        &[("csrf", &other_csrf)],
    )
    .await;
    assert_eq!(r.status(), 403);
    // No session at all.
    let r = post_form(
        &s,
        "",
        &format!("/reports/{id}/confirm"),
        &[("csrf", &other_csrf)],
    )
    .await;
    assert_eq!(r.status(), 401);
    let report: Value = s
        .get(Some(&s.moderator), &format!("/api/v1/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["status"], "open");
    assert_eq!(s.flags().await["flags"], serde_json::json!([]));
    s.stop().await;
}

async fn sign_in_needs_the_form_nonce(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    // A cross-site form post has no login cookie.
    let r = s
        .http
        .post(s.at("/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", &s.moderator), ("nonce", "abc")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    // A wrong token.
    let page = s.http.get(s.at("/login")).send().await.unwrap();
    let nonce = hidden(&page.text().await.unwrap(), "nonce");
    let r = s
        .http
        .post(s.at("/login"))
        .header("cookie", format!("pyward_login={nonce}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(&[("token", "pyw_guess"), ("nonce", &nonce)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A made-up session cookie shows the public page only.
    let r = s
        .http
        .get(s.at("/"))
        .header("cookie", "pyward_session=s_made_up")
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("Moderator sign in"));
    s.stop().await;
}

async fn moderator_flags_withdraws_and_signs_out(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let cookie = sign_in(&s, &s.moderator).await;
    let csrf = hidden(&page(&s, &cookie, "/").await, "csrf");
    let r = post_form(
        &s,
        &cookie,
        "/flags",
        &[
            ("csrf", &csrf),
            ("name", "Req_Uests"),
            ("versions", "all"),
            ("reason", "typosquat of requests"),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let feed = s.flags().await;
    assert_eq!(feed["flags"][0]["name"], "req-uests");
    let id = feed["flags"][0]["id"].as_i64().unwrap();
    // A bad name is refused with a page saying why.
    let r = post_form(
        &s,
        &cookie,
        "/flags",
        &[("csrf", &csrf), ("name", "bad name"), ("reason", "x")],
    )
    .await;
    assert_eq!(r.status(), 422);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("not a valid Python package name"));
    let r = post_form(
        &s,
        &cookie,
        &format!("/flags/{id}/withdraw"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert_eq!(s.flags().await["flags"], serde_json::json!([]));
    let r = post_form(&s, &cookie, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status(), 303);
    // The old cookie is dead.
    let text = s
        .http
        .get(s.at("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("Moderator sign in"));
    let r = post_form(
        &s,
        &cookie,
        "/flags",
        &[("csrf", &csrf), ("name", "x"), ("reason", "x")],
    )
    .await;
    assert_eq!(r.status(), 401);
    s.stop().await;
}
