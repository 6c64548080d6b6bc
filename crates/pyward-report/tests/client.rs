//! The client against a real pyward server on 127.0.0.1 (SQLite): submitting,
//! the outbox, the flag feed and its cache; and PyPI's observation API
//! against a stand-in on 127.0.0.1.

use std::str::FromStr;
use std::time::Duration;

use pyward_dist::{PackageName, Version};
use pyward_guard::{Check, Decision, Finding, PackageRef, Policy, Severity};
use pyward_report::pypi::{self, ObservationKind};
use pyward_report::{
    cached_feed, current_feed, flag_findings, refresh_feed, retry_outbox, submit_or_save,
    FeedState, FileHash, Outbox, Outcome, Report, ServerClient, SubmitError,
};
use pyward_server::{Config, Role};

struct Server {
    url: String,
    moderator: String,
    reporter: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), pyward_server::ServerError>>>,
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start() -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::new(dir.path());
        config.name = "Example Corp security".into();
        let moderator = pyward_server::create_token(&config, Role::Moderator, "alice")
            .await
            .unwrap();
        let reporter = pyward_server::create_token(&config, Role::Reporter, "bob")
            .await
            .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(pyward_server::serve(config, listener, async {
            let _ = rx.await;
        }));
        Server {
            url,
            moderator,
            reporter,
            stop: Some(tx),
            task: Some(task),
            _dir: dir,
        }
    }

    async fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }

    async fn stored(&self) -> i64 {
        let v: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/api/v1/stats", self.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["open"].as_i64().unwrap()
            + v["confirmed"].as_i64().unwrap()
            + v["dismissed"].as_i64().unwrap()
    }

    async fn confirm(&self, id: &str) {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/reports/{id}/confirm", self.url))
            .bearer_auth(&self.moderator)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
}

fn evil_report() -> Report {
    Report::new(
        &PackageName::from_str("evil").unwrap(),
        Some(&Version::from_str("1.0").unwrap()),
        "reads ~/.ssh and posts it to a pastebin",
    )
    .unwrap()
    .with_evidence([Finding::new(
        Check::Scan,
        Severity::Critical,
        PackageRef::new("evil", Some("1.0".into()), Some("evil/__init__.py".into())),
        "sends local secrets over the network at import time",
    )])
    .with_file(FileHash {
        filename: "evil-1.0-py3-none-any.whl".into(),
        sha256: "ab".repeat(32),
        size: Some(1000),
        url: Some("https://files.example/evil-1.0-py3-none-any.whl".into()),
    })
    .with_index_url("https://pypi.org/simple/")
}

/// A URL on 127.0.0.1 where nothing listens.
async fn dead_url() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    drop(l);
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_reaches_the_moderators_once() {
    let mut s = Server::start().await;
    let client = ServerClient::new(&s.url, Some(s.reporter.clone())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(dir.path());
    let report = evil_report();
    let Outcome::Sent(sent) = submit_or_save(&client, &outbox, &report).await.unwrap() else {
        panic!("not sent")
    };
    assert_eq!(sent.id, report.id);
    assert!(!sent.duplicate);
    // Sending it again (a lost answer) stores nothing new.
    let again = client.submit(&report).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(s.stored().await, 1);
    // The moderators see the evidence the client sent.
    let view: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/api/v1/reports/{}", s.url, report.id))
        .bearer_auth(&s.moderator)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        view["report"]["evidence"][0]["title"],
        "sends local secrets over the network at import time"
    );
    assert_eq!(
        view["report"]["files"][0]["filename"],
        "evil-1.0-py3-none-any.whl"
    );
    assert_eq!(view["report"]["client"], pyward_report::client_name());
    assert!(outbox.pending().unwrap().0.is_empty());
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_reports_wait_in_the_outbox_and_are_sent_once() {
    let mut s = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(dir.path().join("outbox"));
    let offline = ServerClient::new(&dead_url().await, Some(s.reporter.clone())).unwrap();
    let first = evil_report();
    let second = evil_report();
    for r in [&first, &second] {
        match submit_or_save(&offline, &outbox, r).await.unwrap() {
            Outcome::Saved { error, .. } => {
                assert!(matches!(error, SubmitError::Network(_)), "{error}")
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(outbox.pending().unwrap().0.len(), 2);
    // A retry while still offline keeps both and counts the attempt.
    let summary = retry_outbox(&offline, &outbox).await.unwrap();
    assert_eq!(summary.still_pending.len(), 2);
    assert!(outbox.pending().unwrap().0.iter().all(|p| p.attempts == 2));

    // One got through earlier (its answer was lost).
    let online = ServerClient::new(&s.url, Some(s.reporter.clone())).unwrap();
    online.submit(&first).await.unwrap();
    let summary = retry_outbox(&online, &outbox).await.unwrap();
    assert_eq!(summary.sent.len(), 2);
    assert!(summary.still_pending.is_empty() && summary.rejected.is_empty());
    let duplicates = summary.sent.iter().filter(|(_, s)| s.duplicate).count();
    assert_eq!(duplicates, 1);
    assert!(outbox.pending().unwrap().0.is_empty());
    assert_eq!(s.stored().await, 2);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_tokens_keep_the_report_rejected_reports_are_kept_aside() {
    let mut s = Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(dir.path());
    let bad_token = ServerClient::new(&s.url, Some("pyw_wrong".into())).unwrap();
    match submit_or_save(&bad_token, &outbox, &evil_report())
        .await
        .unwrap()
    {
        Outcome::Saved {
            error: SubmitError::Unauthorized { status: 401, .. },
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    let good = ServerClient::new(&s.url, Some(s.reporter.clone())).unwrap();
    let mut invalid = evil_report();
    invalid.index_url = Some("javascript:alert(1)".into());
    match submit_or_save(&good, &outbox, &invalid).await.unwrap() {
        Outcome::Rejected {
            path,
            error:
                SubmitError::Rejected {
                    status: 422,
                    message,
                },
        } => {
            assert!(message.starts_with("index_url"), "{message}");
            assert!(path.starts_with(dir.path().join("rejected")));
        }
        other => panic!("{other:?}"),
    }
    let (rejected, _) = outbox.rejected().unwrap();
    assert_eq!(rejected[0].report.id, invalid.id);
    // The token is fixed: the waiting report goes out.
    let summary = retry_outbox(&good, &outbox).await.unwrap();
    assert_eq!(summary.sent.len(), 1);
    assert_eq!(s.stored().await, 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flagged_packages_are_blocked_online_and_offline() {
    let mut s = Server::start().await;
    let cache = tempfile::tempdir().unwrap();
    let client = ServerClient::new(&s.url, Some(s.reporter.clone())).unwrap();
    let report = evil_report();
    client.submit(&report).await.unwrap();

    let evil = PackageName::from_str("evil").unwrap();
    let v1 = Version::from_str("1.0").unwrap();
    let v2 = Version::from_str("2.0").unwrap();
    let feed = refresh_feed(&client, cache.path()).await.unwrap();
    assert!(
        flag_findings(&feed, &evil, Some(&v1)).is_empty(),
        "not confirmed yet"
    );
    let etag = feed.etag.clone().unwrap();

    s.confirm(&report.id).await;
    let state = current_feed(&client, cache.path(), Duration::ZERO).await;
    let FeedState::Fresh(feed) = &state else {
        panic!("{state:?}")
    };
    assert_ne!(feed.etag.as_deref(), Some(etag.as_str()));
    let found = flag_findings(feed, &evil, Some(&v1));
    assert_eq!(found.len(), 1);
    assert_eq!(
        Policy::default().decide_unattended(&found[0]),
        Decision::Block
    );
    assert!(found[0]
        .title
        .contains("flagged by Example Corp security: reads ~/.ssh"));
    assert!(
        flag_findings(feed, &evil, Some(&v2)).is_empty(),
        "only the reported version"
    );
    assert!(state.notice(&s.url, jiff::Timestamp::now()).is_none());

    // Unchanged feed: a conditional request, same copy.
    let again = refresh_feed(&client, cache.path()).await.unwrap();
    assert_eq!(again.feed, feed.feed);
    assert_eq!(again.etag, feed.etag);

    // The server goes away: the cached copy still blocks, and says its age.
    s.stop().await;
    let state = current_feed(&client, cache.path(), Duration::ZERO).await;
    let FeedState::Cached { feed, .. } = &state else {
        panic!("{state:?}")
    };
    assert_eq!(flag_findings(feed, &evil, Some(&v1)).len(), 1);
    let notice = state
        .notice(client.base_url().as_str(), jiff::Timestamp::now())
        .unwrap();
    assert_eq!(notice.check, Check::Notice);
    assert!(
        notice.title.contains("used the copy from"),
        "{}",
        notice.title
    );
    assert!(notice.title.contains("second"), "{}", notice.title);
    assert_ne!(
        Policy::default().decide_unattended(&notice),
        Decision::Block
    );
    // Offline mode never asks the server.
    let offline = cached_feed(&client, cache.path());
    assert_eq!(
        flag_findings(offline.feed().unwrap(), &evil, Some(&v1)).len(),
        1
    );
    // A young enough cache is used as it is.
    let state = current_feed(&client, cache.path(), Duration::from_secs(3600)).await;
    assert!(matches!(state, FeedState::Fresh(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_feed_at_all_is_a_warning_not_silence() {
    let cache = tempfile::tempdir().unwrap();
    let client = ServerClient::new(&dead_url().await, None).unwrap();
    let state = current_feed(&client, cache.path(), Duration::ZERO).await;
    assert!(state.feed().is_none());
    let notice = state.notice("http://x/", jiff::Timestamp::now()).unwrap();
    assert_eq!(notice.severity, Severity::Moderate);
    assert_eq!(Policy::default().decide(&notice), Decision::Warn);
    assert!(notice.title.contains("could not be checked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_feeds_need_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path());
    config.public_feed = false;
    let token = pyward_server::create_token(&config, Role::Reporter, "bob")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(pyward_server::serve(config, listener, async {
        let _ = rx.await;
    }));
    let cache = tempfile::tempdir().unwrap();
    let anonymous = ServerClient::new(&url, None).unwrap();
    let err = refresh_feed(&anonymous, cache.path()).await.unwrap_err();
    assert!(
        matches!(
            err,
            pyward_report::FeedError::Unauthorized { status: 401, .. }
        ),
        "{err}"
    );
    let with_token = ServerClient::new(&url, Some(token)).unwrap();
    assert!(refresh_feed(&with_token, cache.path()).await.is_ok());
    let _ = tx.send(());
    task.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pypi_observations_are_sent_with_the_users_token_only() {
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    async fn observe(
        axum::extract::Path(name): axum::extract::Path<String>,
        headers: HeaderMap,
        body: String,
    ) -> (StatusCode, String) {
        let ok = headers["authorization"] == "Bearer pypi-user-token"
            && headers["content-type"] == pypi::OBSERVATION_MEDIA_TYPE
            && headers["accept"] == pypi::OBSERVATION_MEDIA_TYPE;
        if !ok {
            return (StatusCode::FORBIDDEN, r#"{"error":"bad token"}"#.into());
        }
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["kind"] != "is_malware"
            || !v["inspector_url"]
                .as_str()
                .unwrap()
                .starts_with("https://inspector.pypi.io/project/")
        {
            return (StatusCode::BAD_REQUEST, "bad body".into());
        }
        (
            StatusCode::ACCEPTED,
            format!(r#"{{"project":"{name}","thanks":"for the observation"}}"#),
        )
    }

    let app = axum::Router::new().route("/danger-api/projects/{name}/observations", post(observe));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let report = evil_report();
    let request = pypi::observation_request(&base, &report, ObservationKind::IsMalware).unwrap();
    let http = reqwest::Client::new();
    assert!(matches!(
        pypi::send_observation(&http, &request, "  ").await,
        Err(pypi::PypiError::NoToken)
    ));
    let accepted = pypi::send_observation(&http, &request, "pypi-user-token")
        .await
        .unwrap();
    assert_eq!(accepted.project, "evil");
    assert_eq!(accepted.thanks, "for the observation");
    match pypi::send_observation(&http, &request, "wrong").await {
        Err(pypi::PypiError::Refused {
            status: 403,
            message,
        }) => assert_eq!(message, "bad token"),
        other => panic!("{other:?}"),
    }
}
