//! Drives headless Chromium (Debian's `chromium` and `chromium-driver`)
//! through the report server's web pages as a moderator would: sign in with
//! a token, open a report, confirm it. Shared with the CLI's end-to-end test
//! (`#[path = ".../pyward-server/tests/browser/moderate.rs"] mod moderate;`),
//! which goes on to check that `pyward install` refuses the flagged package.
//!
//! `PYWARD_CHROMEDRIVER` / `PYWARD_CHROMIUM` override the binaries
//! (default: `chromedriver` on PATH, `/usr/bin/chromium`).
//! `PYWARD_E2E_SCREENSHOTS=DIR` saves a screenshot of each step.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

pub struct Browser {
    driver: Child,
    client: Option<Client>,
    _profile: tempfile::TempDir,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

impl Browser {
    /// Start chromedriver and a headless Chromium session, or `None` (with a
    /// note on stderr) when they are not installed.
    pub async fn start() -> Option<Browser> {
        let driver_bin = std::env::var_os("PYWARD_CHROMEDRIVER")
            .map(PathBuf::from)
            .or_else(|| which("chromedriver"));
        let chromium = std::env::var_os("PYWARD_CHROMIUM")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
        let Some(driver_bin) = driver_bin.filter(|_| chromium.is_file()) else {
            eprintln!(
                "note: browser test skipped: install Debian's chromium and chromium-driver \
                 (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let profile = tempfile::tempdir().expect("profile dir");
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--disable-dev-shm-usage", "--window-size=1200,900",
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let caps = match caps {
            serde_json::Value::Object(map) => map,
            _ => unreachable!(),
        };
        let mut browser = Browser {
            driver,
            client: None,
            _profile: profile,
        };
        let url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => {
                    browser.client = Some(c);
                    return Some(browser);
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        panic!("chromedriver did not start a Chromium session");
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("session")
    }

    async fn shot(&self, name: &str) {
        if let Some(dir) = std::env::var_os("PYWARD_E2E_SCREENSHOTS") {
            let png = self.client().screenshot().await.expect("screenshot");
            std::fs::create_dir_all(&dir).expect("screenshot dir");
            std::fs::write(PathBuf::from(dir).join(format!("{name}.png")), png).expect("write png");
        }
    }

    /// Sign in at `server` with a moderator `token`; returns the name shown
    /// as signed in.
    pub async fn sign_in(&self, server: &str, token: &str) -> String {
        let c = self.client();
        c.goto(&format!("{server}/login"))
            .await
            .expect("open sign-in page");
        c.find(Locator::Id("token"))
            .await
            .expect("token field")
            .send_keys(token)
            .await
            .expect("type token");
        self.shot("1-sign-in").await;
        c.find(Locator::Id("sign-in"))
            .await
            .expect("button")
            .click()
            .await
            .expect("click");
        let who = c
            .wait()
            .for_element(Locator::Id("who"))
            .await
            .expect("signed in");
        who.text().await.expect("name")
    }

    /// Open report `id` from the overview, check its evidence shows, and
    /// confirm it (optionally with another reason). Returns the overview's
    /// confirmation message.
    pub async fn confirm_report(&self, server: &str, id: &str, reason: Option<&str>) -> String {
        let c = self.client();
        c.goto(&format!("{server}/")).await.expect("overview");
        self.shot("2-overview").await;
        c.find(Locator::Css(&format!("a[href=\"/reports/{id}\"]")))
            .await
            .expect("the report is listed")
            .click()
            .await
            .expect("open report");
        c.wait()
            .for_element(Locator::Id("confirm-form"))
            .await
            .expect("report page");
        self.shot("3-report").await;
        if let Some(reason) = reason {
            let field = c
                .find(Locator::Css("#confirm-form textarea[name=reason]"))
                .await
                .expect("reason field");
            field.clear().await.expect("clear");
            field.send_keys(reason).await.expect("type reason");
        }
        c.find(Locator::Id("confirm"))
            .await
            .expect("confirm")
            .click()
            .await
            .expect("click");
        let message = c
            .wait()
            .for_element(Locator::Id("message"))
            .await
            .expect("confirmed");
        self.shot("4-confirmed").await;
        message.text().await.expect("message")
    }

    /// The rows of the flags table on the overview, as text.
    pub async fn flag_rows(&self, server: &str) -> Vec<String> {
        let c = self.client();
        c.goto(&format!("{server}/")).await.expect("overview");
        let mut rows = Vec::new();
        for row in c
            .find_all(Locator::Css("#flags tr.flag"))
            .await
            .expect("rows")
        {
            rows.push(row.text().await.expect("row text"));
        }
        rows
    }

    pub async fn close(mut self) {
        if let Some(c) = self.client.take() {
            let _ = c.close().await;
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
