//! End to end in headless Chromium: a report comes in, a moderator signs in,
//! confirms it in the browser, and the flag appears on the page and in the
//! feed. Skipped (with a note) when chromium/chromedriver are not installed.
//!
//! The last step of the story — `pyward install` of the flagged package from
//! the testkit index is refused with the reason — needs the CLI and lives in
//! the CLI's tests, which reuse `moderate.rs`.

mod moderate;

use pyward_server::{Config, Role};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderator_confirms_a_report_in_chromium_and_the_flag_is_published() {
    let Some(browser) = moderate::Browser::start().await else {
        return;
    };
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
    let server = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(pyward_server::serve(config, listener, async {
        let _ = stopped.await;
    }));

    let http = reqwest::Client::new();
    let id = "r-0123456789abcdef01234567";
    let r = http
        .post(format!("{server}/api/v1/reports"))
        .bearer_auth(&reporter)
        .json(&json!({
            "id": id,
            "package": "evil",
            "version": "1.0",
            "reason": "posts ~/.aws/credentials to a paste site at import",
            "evidence": [{
                "check": "scan", "severity": "critical",
                "package": { "name": "evil", "version": "1.0", "file": "evil/__init__.py" },
                "title": "sends local credentials over the network at import time",
                "evidence": [{ "kind": "location", "file": "evil/__init__.py", "line": 3,
                               "snippet": "requests.post(URL, data=open(CREDS).read())" }],
                "advice": []
            }]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    assert_eq!(browser.sign_in(&server, &moderator).await, "alice");
    let page = browser.client().source().await.unwrap();
    assert!(page.contains("evil 1.0"), "the open report is listed");
    let message = browser
        .confirm_report(
            &server,
            id,
            Some("steals cloud credentials (confirmed by alice)"),
        )
        .await;
    assert!(message.contains("now flagged"), "{message}");
    let rows = browser.flag_rows(&server).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(
        rows[0].contains("evil") && rows[0].contains("==1.0"),
        "{rows:?}"
    );
    assert!(rows[0].contains("steals cloud credentials"), "{rows:?}");

    let feed: Value = http
        .get(format!("{server}/api/v1/flags"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(feed["flags"][0]["name"], "evil");
    assert_eq!(feed["flags"][0]["versions"], "==1.0");
    assert_eq!(feed["flags"][0]["confirmed_by"], "alice");
    assert_eq!(
        feed["flags"][0]["reason"],
        "steals cloud credentials (confirmed by alice)"
    );

    browser.close().await;
    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
