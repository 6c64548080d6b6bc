//! The organisation's report server end to end: a report sent with
//! `pyward report`, confirmed by a moderator, becomes a flag that makes
//! `pyward install` refuse the package with the reason.

mod common;
#[path = "../../pyward-server/tests/browser/moderate.rs"]
mod moderate;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{publish, text, Fixture};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::WheelBuilder;

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start_server(data: &std::path::Path, port: u16) -> Server {
    let child = Command::new(assert_cmd::cargo::cargo_bin("pyward"))
        .args([
            "server",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pyward server");
    let server = Server(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A report about evilpkg 1.0 sent with `pyward report`; its id.
fn send_report(fx: &Fixture, env: &[(&str, &str)]) -> String {
    let index_url = fx.index.url();
    let out = fx.pyward_env(
        &[
            "report",
            "-i",
            &index_url,
            "evilpkg==1.0",
            "--reason",
            "posts ~/.aws/credentials to a paste site",
            "--yes",
        ],
        env,
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    all.split_whitespace()
        .find(|w| w.starts_with("r-"))
        .unwrap_or_else(|| panic!("no report id in: {all}"))
        .to_string()
}

/// `pyward install evilpkg` is refused with the moderator's reason.
fn assert_install_refused(fx: &Fixture, env: &[(&str, &str)]) {
    let venv = fx.venv();
    let index_url = fx.index.url();
    let out = fx.pyward_env(
        &[
            "install",
            "--python",
            venv.to_str().unwrap(),
            "-i",
            &index_url,
            "evilpkg",
            "--allow",
            "evilpkg",
        ],
        env,
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("posts ~/.aws/credentials to a paste site"),
        "{all}"
    );
    assert!(!fx.site_packages().join("evilpkg-1.0.dist-info").exists());
}

#[test]
fn a_moderator_confirms_in_the_browser_and_the_install_is_refused() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(browser) = rt.block_on(moderate::Browser::start()) else {
        return;
    };
    let fx = Fixture::new(evil_index());
    let data = fx.dir.path().join("server");
    let moderator = token(&fx, &data, "moderator");
    let reporter = token(&fx, &data, "reporter");
    let port = free_port();
    let _server = start_server(&data, port);
    let url = format!("http://127.0.0.1:{port}");
    let env = [
        ("PYWARD_REPORT_SERVER", url.as_str()),
        ("PYWARD_REPORT_TOKEN", reporter.as_str()),
    ];
    let id = send_report(&fx, &env);
    rt.block_on(async {
        assert_eq!(browser.sign_in(&url, &moderator).await, "moderator");
        browser.confirm_report(&url, &id, None).await;
        let flags = browser.flag_rows(&url).await;
        assert!(flags.iter().any(|f| f.contains("evilpkg")), "{flags:?}");
        browser.close().await;
    });
    assert_install_refused(&fx, &env);
}

fn evil_index() -> TestIndex {
    let mut index = TestIndex::new();
    publish(
        &mut index,
        "evilpkg",
        WheelBuilder::new("evilpkg", "1.0").file("evilpkg/__init__.py", b"".to_vec()),
    );
    index
}

fn token(fx: &Fixture, data: &std::path::Path, role: &str) -> String {
    let out = fx.pyward(&[
        "server",
        "token",
        "create",
        "--role",
        role,
        "--label",
        role,
        "--data",
        data.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[test]
fn a_confirmed_report_blocks_the_install() {
    let fx = Fixture::new(evil_index());
    let data = fx.dir.path().join("server");
    let moderator = token(&fx, &data, "moderator");
    let reporter = token(&fx, &data, "reporter");
    let port = free_port();
    let _server = start_server(&data, port);
    let url = format!("http://127.0.0.1:{port}");
    let env = [
        ("PYWARD_REPORT_SERVER", url.as_str()),
        ("PYWARD_REPORT_TOKEN", reporter.as_str()),
    ];
    let id = send_report(&fx, &env);

    // A moderator confirms it through the API (the web page's forms do the same).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{url}/api/v1/reports/{id}/confirm"))
            .bearer_auth(&moderator)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    });
    assert!((200..300).contains(&status), "confirm answered {status}");
    assert_install_refused(&fx, &env);
}
