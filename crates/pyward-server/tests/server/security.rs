//! Security: roles, who can read evidence, and hostile input. Every bad
//! request gets a 4xx, stores nothing, and the server keeps serving.

use serde_json::{json, Value};

use crate::common::{new_id, report, start, Backend, TestServer};
use crate::on_both;

on_both!(
    reporter_token_cannot_moderate,
    anonymous_requests_cannot_read_evidence,
    oversized_bodies_are_refused,
    malformed_json_is_refused,
    sql_injection_strings_store_nothing,
    invalid_package_names_are_refused,
    bad_and_revoked_tokens_are_refused,
    output_is_escaped,
);

const MARKER: &str = "EVIDENCE-ONLY-FOR-MODERATORS";

async fn generous(b: Backend) -> Option<TestServer> {
    start(b, |c| c.report_burst = 1000).await
}

async fn reporter_token_cannot_moderate(b: Backend) {
    let Some(s) = generous(b).await else { return };
    let id = new_id();
    assert_eq!(
        s.submit(Some(&s.reporter), &report(&id, "evil", None))
            .await
            .status(),
        201
    );
    let flag = s
        .post_json(
            Some(&s.moderator),
            "/api/v1/flags",
            &json!({ "name": "other", "reason": "bad" }),
        )
        .await
        .json::<Value>()
        .await
        .unwrap()["flag"]["id"]
        .as_i64()
        .unwrap();
    for (token, expected) in [(Some(s.reporter.as_str()), 403), (None, 401)] {
        let posts = [
            format!("/api/v1/reports/{id}/confirm"),
            format!("/api/v1/reports/{id}/dismiss"),
            format!("/api/v1/flags/{flag}/withdraw"),
            "/api/v1/flags".to_string(),
        ];
        for path in posts {
            let r = s
                .post_json(token, &path, &json!({ "name": "evil", "reason": "x" }))
                .await;
            assert_eq!(r.status(), expected, "POST {path} with {token:?}");
        }
        for path in [
            "/api/v1/reports".to_string(),
            format!("/api/v1/reports/{id}"),
        ] {
            let r = s.get(token, &path).await;
            assert_eq!(r.status(), expected, "GET {path}");
            assert!(!r.text().await.unwrap().contains(MARKER));
        }
    }
    // Nothing changed.
    let r: Value = s
        .get(Some(&s.moderator), &format!("/api/v1/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "open");
    let feed = s.flags().await;
    assert_eq!(feed["flags"].as_array().unwrap().len(), 1);
    assert_eq!(feed["flags"][0]["name"], "other");
    // A reporter cannot sign in to the web pages either.
    let page = s.http.get(s.at("/login")).send().await.unwrap();
    let nonce = crate::web::hidden(&page.text().await.unwrap(), "nonce");
    let r = s
        .http
        .post(s.at("/login"))
        .header("cookie", format!("pyward_login={nonce}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(crate::web::form(&[
            ("token", &s.reporter),
            ("nonce", &nonce),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("set-cookie").is_none());
    s.assert_alive().await;
    s.stop().await;
}

async fn anonymous_requests_cannot_read_evidence(b: Backend) {
    let Some(s) = generous(b).await else { return };
    let id = new_id();
    assert_eq!(
        s.submit(Some(&s.reporter), &report(&id, "evil", Some("1.0")))
            .await
            .status(),
        201
    );
    for path in [
        "/".to_string(),
        "/api/v1/reports".to_string(),
        format!("/api/v1/reports/{id}"),
        format!("/reports/{id}"),
        "/api/v1/stats".to_string(),
        "/api/v1/flags".to_string(),
    ] {
        let r = s.get(None, &path).await;
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(!text.contains(MARKER), "{path} leaked evidence");
        assert!(
            !text.contains("aws/credentials"),
            "{path} leaked the reason"
        );
        if path.contains("reports") {
            assert!(status == 401, "{path}: {status}");
        }
    }
    // Anonymous visitors see counts only.
    let page = s.get(None, "/").await.text().await.unwrap();
    assert!(page.contains("1 open report(s)"));
    assert!(!page.contains(&id));
    s.stop().await;
}

/// An oversized body is refused: the server answers 413 as soon as it knows,
/// and may close the connection before the client has finished sending, in
/// which case the client sees the connection drop instead of the answer.
fn assert_refused_as_too_large(r: Result<reqwest::Response, reqwest::Error>) {
    match r {
        Ok(r) => assert_eq!(r.status(), 413),
        Err(e) => assert!(
            e.is_request() || e.is_body(),
            "expected 413 or a dropped connection, got {e}"
        ),
    }
}

async fn oversized_bodies_are_refused(b: Backend) {
    let Some(s) = generous(b).await else { return };
    let mut body = report(&new_id(), "evil", None);
    body["reason"] = json!("x".repeat(70 * 1024));
    assert_refused_as_too_large(
        s.http
            .post(s.at("/api/v1/reports"))
            .bearer_auth(&s.reporter)
            .json(&body)
            .send()
            .await,
    );
    // Also when the body is streamed without a length.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..80).map(|_| Ok(vec![b' '; 1024])).collect();
    assert_refused_as_too_large(
        s.http
            .post(s.at("/api/v1/reports"))
            .bearer_auth(&s.reporter)
            .header("content-type", "application/json")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
            .send()
            .await,
    );
    // A long reason under the body limit is still refused by validation.
    let mut body = report(&new_id(), "evil", None);
    body["reason"] = json!("x".repeat(5000));
    assert_eq!(s.submit(Some(&s.reporter), &body).await.status(), 422);
    // Web forms have the same limit.
    assert_refused_as_too_large(
        s.http
            .post(s.at("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("token={}&nonce=x", "a".repeat(100 * 1024)))
            .send()
            .await,
    );
    assert_eq!(s.stored_reports().await, 0);
    s.assert_alive().await;
    s.stop().await;
}

async fn malformed_json_is_refused(b: Backend) {
    let Some(s) = generous(b).await else { return };
    let valid = serde_json::to_string(&report(&new_id(), "evil", None)).unwrap();
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, String)> = vec![
        ("application/json", String::new()),
        ("application/json", "{".into()),
        ("application/json", valid[..valid.len() - 5].to_string()),
        ("application/json", "null".into()),
        ("application/json", "[1,2,3]".into()),
        ("application/json", deep),
        ("application/json", r#"{"id": 5, "package": "evil", "reason": "x"}"#.into()),
        ("application/json", r#"{"id": "r-12345678", "package": "evil"}"#.into()),
        (
            "application/json",
            r#"{"id": "r-12345678", "package": "evil", "reason": "x", "evidence": [{"check": "nonsense"}]}"#.into(),
        ),
        ("application/json", "\u{feff}\u{0}\u{1}garbage".into()),
        ("text/plain", valid.clone()),
        ("application/x-www-form-urlencoded", "id=r-12345678&package=evil&reason=x".into()),
    ];
    for (content_type, body) in cases {
        let r = s
            .http
            .post(s.at("/api/v1/reports"))
            .bearer_auth(&s.reporter)
            .header("content-type", content_type)
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        assert!(
            (400..500).contains(&status),
            "{content_type} {:.60}: {status}",
            body
        );
        let msg: Value = r.json().await.unwrap();
        assert!(msg["error"].is_string());
    }
    // Decisions with broken bodies change nothing.
    let id = new_id();
    s.submit(Some(&s.reporter), &report(&id, "evil", None))
        .await;
    let r = s
        .http
        .post(s.at(&format!("/api/v1/reports/{id}/confirm")))
        .bearer_auth(&s.moderator)
        .header("content-type", "application/json")
        .body("{\"versions\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(s.flags().await["flags"], json!([]));
    assert_eq!(s.stored_reports().await, 1);
    s.assert_alive().await;
    s.stop().await;
}

async fn sql_injection_strings_store_nothing(b: Backend) {
    let Some(s) = generous(b).await else { return };
    let injections = [
        "x'; DROP TABLE reports; --",
        "x\" OR \"1\"=\"1",
        "evil' OR '1'='1",
        "1; DELETE FROM flags",
        "evil); DROP TABLE tokens;--",
    ];
    for inj in injections {
        let r = s
            .submit(Some(&s.reporter), &report(&new_id(), inj, None))
            .await;
        assert_eq!(r.status(), 422, "package {inj}");
        let r = s
            .submit(Some(&s.reporter), &report(inj, "evil", None))
            .await;
        assert_eq!(r.status(), 422, "id {inj}");
        let r = s
            .submit(Some(&s.reporter), &report(&new_id(), "evil", Some(inj)))
            .await;
        assert_eq!(r.status(), 422, "version {inj}");
        let path = format!("/api/v1/reports/{}", urlencode(inj));
        assert_eq!(
            s.get(Some(&s.moderator), &path).await.status(),
            404,
            "GET {path}"
        );
        let r = s
            .post_json(Some(&s.moderator), &format!("{path}/confirm"), &json!({}))
            .await;
        assert_eq!(r.status(), 404);
        let r = s
            .post_json(
                Some(&s.moderator),
                &format!("/api/v1/reports/{}/confirm", new_id()),
                &json!({ "versions": inj }),
            )
            .await;
        assert!(r.status() == 404 || r.status() == 422);
        assert_eq!(
            s.get(
                Some(&s.moderator),
                &format!("/api/v1/reports?status={}", urlencode(inj))
            )
            .await
            .status(),
            400
        );
        assert_eq!(s.get(Some(inj), "/api/v1/reports").await.status(), 401);
    }
    assert_eq!(s.stored_reports().await, 0);
    // Where such text is legitimate (a reason), it is stored verbatim, as data.
    let id = new_id();
    let mut body = report(&id, "evil", None);
    body["reason"] = json!(injections.join("\n"));
    assert_eq!(s.submit(Some(&s.reporter), &body).await.status(), 201);
    let r: Value = s
        .get(Some(&s.moderator), &format!("/api/v1/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["reason"], injections.join("\n"));
    assert_eq!(s.stored_reports().await, 1);
    s.assert_alive().await;
    s.stop().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

async fn invalid_package_names_are_refused(b: Backend) {
    let Some(s) = generous(b).await else { return };
    let long = "a".repeat(201);
    for name in [
        "",
        " ",
        "-evil",
        "evil-",
        "evil pkg",
        "évil",
        "evil/../x",
        "evil\u{0}",
        "a@b",
        &long,
    ] {
        let r = s
            .submit(Some(&s.reporter), &report(&new_id(), name, None))
            .await;
        assert_eq!(r.status(), 422, "{name:?}");
        let msg: Value = r.json().await.unwrap();
        assert!(
            msg["error"].as_str().unwrap().starts_with("package:"),
            "{msg}"
        );
    }
    for version in ["", "one", "1.0.0.0.0.0.0-", "latest"] {
        let r = s
            .submit(Some(&s.reporter), &report(&new_id(), "evil", Some(version)))
            .await;
        assert_eq!(r.status(), 422, "version {version:?}");
    }
    assert_eq!(s.stored_reports().await, 0);
    s.assert_alive().await;
    s.stop().await;
}

async fn bad_and_revoked_tokens_are_refused(b: Backend) {
    let Some(s) = generous(b).await else { return };
    for header in [
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "bearer x",
        "Bearer pyw_nope",
    ] {
        let r = s
            .http
            .post(s.at("/api/v1/reports"))
            .header("authorization", header)
            .json(&report(&new_id(), "evil", None))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 401, "{header}");
    }
    let tokens = pyward_server::list_tokens(&s.config).await.unwrap();
    assert_eq!(tokens.len(), 2);
    let bob = tokens.iter().find(|t| t.label == "rep-bob").unwrap();
    assert!(pyward_server::revoke_token(&s.config, bob.id)
        .await
        .unwrap());
    assert!(!pyward_server::revoke_token(&s.config, bob.id)
        .await
        .unwrap());
    let r = s
        .submit(Some(&s.reporter), &report(&new_id(), "evil", None))
        .await;
    assert_eq!(r.status(), 401);
    assert!(pyward_server::list_tokens(&s.config)
        .await
        .unwrap()
        .iter()
        .any(|t| t.revoked));
    assert_eq!(s.stored_reports().await, 0);
    s.assert_alive().await;
    s.stop().await;
}

async fn output_is_escaped(b: Backend) {
    let Some(s) = generous(b).await else { return };
    let id = new_id();
    let mut body = report(&id, "evil", None);
    body["reason"] = json!("<script>alert(1)</script> \"quoted\" & <b>bold</b>");
    body["evidence"][0]["title"] = json!("<img src=x onerror=alert(2)>");
    assert_eq!(s.submit(Some(&s.reporter), &body).await.status(), 201);
    let cookie = crate::web::sign_in(&s, &s.moderator).await;
    let page = s
        .http
        .get(s.at(&format!("/reports/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("default-src 'none'"));
    let text = page.text().await.unwrap();
    assert!(!text.contains("<script>alert(1)"));
    assert!(!text.contains("<img src=x"));
    assert!(text.contains("&lt;script&gt;alert(1)&lt;&#x2F;script&gt;"));
    let index = s
        .http
        .get(s.at("/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!index.contains("<script>"));
    s.stop().await;
}
