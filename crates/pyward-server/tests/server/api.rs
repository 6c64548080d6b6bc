//! The JSON API: reports, moderation, the flag feed.

use serde_json::{json, Value};

use crate::common::{new_id, report, start, Backend};
use crate::on_both;

on_both!(
    retried_submissions_are_stored_once,
    confirming_a_report_publishes_a_flag,
    dismissing_a_report_publishes_nothing,
    feed_supports_etags,
    private_feed_needs_a_token,
    anonymous_reports_only_when_enabled,
    submissions_are_rate_limited_per_token,
    moderators_flag_directly_and_withdraw,
    instances_share_one_database,
    report_listing_filters_by_status,
);

async fn retried_submissions_are_stored_once(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let id = new_id();
    let body = report(&id, "Evil_Pkg", Some("1.0"));
    let r = s.submit(Some(&s.reporter), &body).await;
    assert_eq!(r.status(), 201);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, json!({ "id": id, "status": "open", "duplicate": false }));
    // The client retries after a lost response: same id, same content.
    let r = s.submit(Some(&s.reporter), &body).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["duplicate"], true);
    assert_eq!(s.stored_reports().await, 1);
    // Another report cannot take the id.
    let mut other = body.clone();
    other["reason"] = json!("something else");
    assert_eq!(s.submit(Some(&s.reporter), &other).await.status(), 409);
    // Nor can another token replay it.
    assert_eq!(s.submit(Some(&s.moderator), &body).await.status(), 409);
    assert_eq!(s.stored_reports().await, 1);
    // The stored package name is normalized.
    let list: Value = s
        .get(Some(&s.moderator), "/api/v1/reports")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["reports"][0]["package"], "evil-pkg");
    s.stop().await;
}

async fn confirming_a_report_publishes_a_flag(b: Backend) {
    let Some(s) = start(b, |c| c.name = "Example Corp security".into()).await else {
        return;
    };
    let id = new_id();
    assert_eq!(
        s.submit(Some(&s.reporter), &report(&id, "evil", Some("1.0")))
            .await
            .status(),
        201
    );
    assert_eq!(s.flags().await["flags"], json!([]));

    // Moderators see the whole report, evidence included.
    let r: Value = s
        .get(Some(&s.moderator), &format!("/api/v1/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "open");
    assert_eq!(r["submitter"], "rep-bob");
    assert_eq!(
        r["report"]["evidence"][0]["evidence"][1]["value"],
        "EVIDENCE-ONLY-FOR-MODERATORS"
    );
    assert_eq!(r["report"]["files"][0]["sha256"], "ab".repeat(32));

    let r = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/reports/{id}/confirm"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    let feed = s.flags().await;
    assert_eq!(feed["format"], 1);
    assert_eq!(feed["source"], "Example Corp security");
    let flags = feed["flags"].as_array().unwrap();
    assert_eq!(flags.len(), 1);
    let f = &flags[0];
    assert_eq!(f["name"], "evil");
    assert_eq!(f["versions"], "==1.0", "defaults to the reported version");
    assert_eq!(
        f["reason"],
        "uploads ~/.aws/credentials to a paste site at import"
    );
    assert_eq!(f["confirmed_by"], "mod-alice");
    assert_eq!(f["source"], "Example Corp security");
    assert_eq!(f["report"], id.as_str());
    assert!(f["confirmed_at"].as_str().unwrap().ends_with('Z'));

    // A report is decided once.
    let again = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/reports/{id}/confirm"),
            &json!({}),
        )
        .await;
    assert_eq!(again.status(), 409);
    let dismiss = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/reports/{id}/dismiss"),
            &json!({}),
        )
        .await;
    assert_eq!(dismiss.status(), 409);
    assert_eq!(s.flags().await["flags"].as_array().unwrap().len(), 1);

    // A report of all versions, confirmed with an explicit range and reason.
    let id2 = new_id();
    assert_eq!(
        s.submit(Some(&s.reporter), &report(&id2, "worse", None))
            .await
            .status(),
        201
    );
    let r = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/reports/{id2}/confirm"),
            &json!({ "versions": ">=2.0, <2.3", "reason": "maintainer account taken over" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let flags = s.flags().await["flags"].clone();
    assert_eq!(flags[1]["name"], "worse");
    assert_eq!(flags[1]["versions"], ">=2.0, <2.3");
    assert_eq!(flags[1]["reason"], "maintainer account taken over");

    // A bad range is refused and changes nothing.
    let id3 = new_id();
    assert_eq!(
        s.submit(Some(&s.reporter), &report(&id3, "third", None))
            .await
            .status(),
        201
    );
    let r = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/reports/{id3}/confirm"),
            &json!({ "versions": "latest" }),
        )
        .await;
    assert_eq!(r.status(), 422);
    let r: Value = s
        .get(Some(&s.moderator), &format!("/api/v1/reports/{id3}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "open");
    // Unknown reports.
    let r = s
        .post_json(
            Some(&s.moderator),
            "/api/v1/reports/r-doesnotexist/confirm",
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 404);
    s.stop().await;
}

async fn dismissing_a_report_publishes_nothing(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let id = new_id();
    s.submit(Some(&s.reporter), &report(&id, "harmless", Some("2.0")))
        .await;
    let r = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/reports/{id}/dismiss"),
            &json!({ "note": "false positive: the URL is the project's own API" }),
        )
        .await;
    assert_eq!(r.status(), 200);
    let r: Value = s
        .get(Some(&s.moderator), &format!("/api/v1/reports/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "dismissed");
    assert_eq!(r["decided_by"], "mod-alice");
    assert_eq!(
        r["decision_note"],
        "false positive: the URL is the project's own API"
    );
    assert_eq!(s.flags().await["flags"], json!([]));
    // The retried submission tells the reporter the outcome.
    let r = s
        .submit(Some(&s.reporter), &report(&id, "harmless", Some("2.0")))
        .await;
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "dismissed");
    s.stop().await;
}

async fn feed_supports_etags(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let r = s.get(None, "/api/v1/flags").await;
    assert_eq!(r.status(), 200);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let again = s
        .http
        .get(s.at("/api/v1/flags"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let id = new_id();
    s.submit(Some(&s.reporter), &report(&id, "evil", None))
        .await;
    s.post_json(
        Some(&s.moderator),
        &format!("/api/v1/reports/{id}/confirm"),
        &json!({}),
    )
    .await;
    let changed = s
        .http
        .get(s.at("/api/v1/flags"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    assert_ne!(changed.headers()["etag"].to_str().unwrap(), etag);
    s.stop().await;
}

async fn private_feed_needs_a_token(b: Backend) {
    let Some(s) = start(b, |c| c.public_feed = false).await else {
        return;
    };
    assert_eq!(s.get(None, "/api/v1/flags").await.status(), 401);
    assert_eq!(s.get(None, "/api/v1/stats").await.status(), 401);
    assert_eq!(
        s.get(Some(&s.reporter), "/api/v1/flags").await.status(),
        200
    );
    assert_eq!(
        s.get(Some("pyw_not-a-token"), "/api/v1/flags")
            .await
            .status(),
        401
    );
    let page = s.get(None, "/").await.text().await.unwrap();
    assert!(page.contains("Sign in to see the flags"));
    s.stop().await;
}

async fn anonymous_reports_only_when_enabled(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let r = s.submit(None, &report(&new_id(), "evil", None)).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");
    assert_eq!(s.stored_reports().await, 0);
    s.stop().await;

    let Some(s) = start(b, |c| {
        c.anonymous_reports = true;
        c.report_burst = 2;
    })
    .await
    else {
        return;
    };
    assert_eq!(
        s.submit(None, &report(&new_id(), "evil", None))
            .await
            .status(),
        201
    );
    assert_eq!(
        s.submit(None, &report(&new_id(), "evil", None))
            .await
            .status(),
        201
    );
    // The per-IP bucket is empty now.
    assert_eq!(
        s.submit(None, &report(&new_id(), "evil", None))
            .await
            .status(),
        429
    );
    let list: Value = s
        .get(Some(&s.moderator), "/api/v1/reports")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["reports"][0]["submitter"], "anonymous (127.0.0.1)");
    // A wrong token is refused, not treated as anonymous.
    assert_eq!(
        s.submit(Some("pyw_wrong"), &report(&new_id(), "evil", None))
            .await
            .status(),
        401
    );
    s.stop().await;
}

async fn submissions_are_rate_limited_per_token(b: Backend) {
    let Some(s) = start(b, |c| {
        c.report_burst = 3;
        c.reports_per_minute = 1;
    })
    .await
    else {
        return;
    };
    for _ in 0..3 {
        assert_eq!(
            s.submit(Some(&s.reporter), &report(&new_id(), "evil", None))
                .await
                .status(),
            201
        );
    }
    let r = s
        .submit(Some(&s.reporter), &report(&new_id(), "evil", None))
        .await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    // Each token has its own bucket.
    assert_eq!(
        s.submit(Some(&s.moderator), &report(&new_id(), "evil", None))
            .await
            .status(),
        201
    );
    assert_eq!(s.stored_reports().await, 4);
    s.stop().await;
}

async fn moderators_flag_directly_and_withdraw(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let r = s
        .post_json(
            Some(&s.moderator),
            "/api/v1/flags",
            &json!({ "name": "Typo_Squat", "versions": "all", "reason": "typosquat of a popular package" }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let flag: Value = r.json().await.unwrap();
    let id = flag["flag"]["id"].as_i64().unwrap();
    let feed = s.flags().await;
    assert_eq!(feed["flags"][0]["name"], "typo-squat");
    assert_eq!(feed["flags"][0]["versions"], "all");
    assert!(feed["flags"][0].get("report").is_none());

    for bad in [
        json!({ "name": "bad name", "reason": "x" }),
        json!({ "name": "ok", "versions": "1.0 or so", "reason": "x" }),
        json!({ "name": "ok", "reason": "  " }),
    ] {
        assert_eq!(
            s.post_json(Some(&s.moderator), "/api/v1/flags", &bad)
                .await
                .status(),
            422,
            "{bad}"
        );
    }
    assert_eq!(s.flags().await["flags"].as_array().unwrap().len(), 1);

    let r = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/flags/{id}/withdraw"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(s.flags().await["flags"], json!([]));
    let r = s
        .post_json(
            Some(&s.moderator),
            &format!("/api/v1/flags/{id}/withdraw"),
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 404);
    s.stop().await;
}

async fn instances_share_one_database(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    // A second server instance on the same database (it migrates nothing new).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let second = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(pyward_server::serve(s.config.clone(), listener, async {
        let _ = rx.await;
    }));
    let id = new_id();
    assert_eq!(
        s.submit(Some(&s.reporter), &report(&id, "evil", Some("3")))
            .await
            .status(),
        201
    );
    let mut confirmed = None;
    for _ in 0..50 {
        match s
            .http
            .post(format!("{second}/api/v1/reports/{id}/confirm"))
            .bearer_auth(&s.moderator)
            .send()
            .await
        {
            Ok(r) => {
                confirmed = Some(r.status());
                break;
            }
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    assert_eq!(confirmed, Some(reqwest::StatusCode::OK));
    assert_eq!(s.flags().await["flags"][0]["versions"], "==3");
    let _ = tx.send(());
    task.await.unwrap().unwrap();
    s.stop().await;
}

async fn report_listing_filters_by_status(b: Backend) {
    let Some(s) = start(b, |_| {}).await else {
        return;
    };
    let ids: Vec<String> = (0..3).map(|_| new_id()).collect();
    for id in &ids {
        s.submit(Some(&s.reporter), &report(id, "evil", None)).await;
    }
    s.post_json(
        Some(&s.moderator),
        &format!("/api/v1/reports/{}/dismiss", ids[0]),
        &json!({}),
    )
    .await;
    let count = |v: Value| v["reports"].as_array().unwrap().len();
    let open = s
        .get(Some(&s.moderator), "/api/v1/reports")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(open), 2);
    let dismissed = s
        .get(Some(&s.moderator), "/api/v1/reports?status=dismissed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(dismissed), 1);
    let all = s
        .get(Some(&s.moderator), "/api/v1/reports?status=all&limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(count(all), 2);
    assert_eq!(
        s.get(Some(&s.moderator), "/api/v1/reports?status=bogus")
            .await
            .status(),
        400
    );
    assert_eq!(
        s.get(Some(&s.moderator), "/api/v1/reports?limit=0")
            .await
            .status(),
        400
    );
    let stats: Value = s.get(None, "/api/v1/stats").await.json().await.unwrap();
    assert_eq!(
        stats,
        json!({ "open": 2, "confirmed": 0, "dismissed": 1, "flags": 0 })
    );
    let who: Value = s
        .get(Some(&s.reporter), "/api/v1/token")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who, json!({ "role": "reporter", "label": "rep-bob" }));
    s.stop().await;
}
