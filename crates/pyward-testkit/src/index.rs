//! A local PEP 691/503 package index served on 127.0.0.1 for hermetic tests.
//!
//! Build a [`TestIndex`] (projects, files and what the index says about
//! them), then [`TestIndex::serve`] it: the [`RunningIndex`] answers on a
//! random free port from a background thread until dropped, logs every
//! request, and can be changed while running (a file replaced, a hash
//! tampered with, failures injected).
//!
//! Routes: `/simple/` (project list), `/simple/<name>/` (JSON or HTML by the
//! `Accept` header, non-normalized names redirected), `/files/<filename>`,
//! `/files/<filename>.metadata`, and any path added with
//! [`TestIndex::add_document`]. Pages carry `Cache-Control: max-age=600`
//! (configurable), an `ETag`, and answer `If-None-Match` with 304.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use bytes::Bytes;
use futures::StreamExt;
use http::{header, Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use pyward_dist::PackageName;
use sha2::{Digest, Sha256};

const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
const HTML_TYPE: &str = "application/vnd.pypi.simple.v1+html";

/// The description of an index: projects and their files.
#[derive(Debug, Clone)]
pub struct TestIndex {
    /// By normalized name.
    projects: BTreeMap<String, TestProject>,
    documents: BTreeMap<String, (String, Vec<u8>)>,
    html_only: bool,
    api_version: String,
    max_age: u32,
}

#[derive(Debug, Clone, Default)]
struct TestProject {
    /// The name as first given (the page's `name`).
    display_name: String,
    files: Vec<TestFile>,
    status: Option<(String, Option<String>)>,
}

/// One file of a test index, and what the index says about it. Returned by
/// [`TestIndex::add_file`]; its setters chain.
#[derive(Debug, Clone)]
pub struct TestFile {
    filename: String,
    bytes: Vec<u8>,
    yanked: Option<Option<String>>,
    requires_python: Option<String>,
    metadata: Option<Vec<u8>>,
    advertised_sha256: Option<String>,
    no_hashes: bool,
    upload_time: Option<String>,
    size: Option<u64>,
    truncate_at: Option<usize>,
}

impl TestFile {
    /// Mark the file yanked (PEP 592), with an optional reason.
    pub fn yanked(&mut self, reason: Option<&str>) -> &mut Self {
        self.yanked = Some(reason.map(str::to_string));
        self
    }

    /// The `requires-python` the index gives for this file.
    pub fn requires_python(&mut self, specifiers: &str) -> &mut Self {
        self.requires_python = Some(specifiers.to_string());
        self
    }

    /// Serve these bytes as the PEP 658 `.metadata` file, with their sha256
    /// advertised in `core-metadata`.
    pub fn metadata(&mut self, metadata: impl Into<Vec<u8>>) -> &mut Self {
        self.metadata = Some(metadata.into());
        self
    }

    /// Advertise this sha256 instead of the real one (a tampered file).
    pub fn advertised_sha256(&mut self, sha256: &str) -> &mut Self {
        self.advertised_sha256 = Some(sha256.to_string());
        self
    }

    /// Advertise no hash at all for this file.
    pub fn no_hashes(&mut self) -> &mut Self {
        self.no_hashes = true;
        self
    }

    /// The `upload-time` the index gives (`2024-01-01T00:00:00Z`).
    pub fn upload_time(&mut self, time: &str) -> &mut Self {
        self.upload_time = Some(time.to_string());
        self
    }

    /// Advertise this size instead of the real one.
    pub fn size(&mut self, size: u64) -> &mut Self {
        self.size = Some(size);
        self
    }

    /// Announce the full length but send only the first `n` bytes, then
    /// drop the connection (an interrupted download).
    pub fn serve_truncated(&mut self, n: usize) -> &mut Self {
        self.truncate_at = Some(n);
        self
    }

    fn sha256(&self) -> String {
        self.advertised_sha256
            .clone()
            .unwrap_or_else(|| hex::encode(Sha256::digest(&self.bytes)))
    }
}

impl Default for TestIndex {
    fn default() -> Self {
        TestIndex::new()
    }
}

impl TestIndex {
    pub fn new() -> Self {
        TestIndex {
            projects: BTreeMap::new(),
            documents: BTreeMap::new(),
            html_only: false,
            api_version: "1.1".to_string(),
            max_age: 600,
        }
    }

    /// Add a file to `project` (created on first use) and return it to set
    /// what the index says about it.
    ///
    /// # Panics
    /// When `project` is not a valid project name (a mistake in the test).
    pub fn add_file(
        &mut self,
        project: &str,
        filename: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> &mut TestFile {
        let files = &mut self.project(project).files;
        files.push(TestFile {
            filename: filename.to_string(),
            bytes: bytes.into(),
            yanked: None,
            requires_python: None,
            metadata: None,
            advertised_sha256: None,
            no_hashes: false,
            upload_time: None,
            size: None,
            truncate_at: None,
        });
        let last = files.len() - 1;
        &mut files[last]
    }

    /// Add a project with no files yet (its page lists nothing).
    pub fn add_project(&mut self, project: &str) -> &mut Self {
        self.project(project);
        self
    }

    /// Give `project` a PEP 792 status (`archived`, `quarantined`, …).
    pub fn add_project_status(
        &mut self,
        project: &str,
        status: &str,
        reason: Option<&str>,
    ) -> &mut Self {
        self.project(project).status = Some((status.to_string(), reason.map(str::to_string)));
        self
    }

    /// Serve any document at `path` (for example `/pypi/foo/json`).
    pub fn add_document(
        &mut self,
        path: &str,
        content_type: &str,
        bytes: impl Into<Vec<u8>>,
    ) -> &mut Self {
        self.documents
            .insert(path.to_string(), (content_type.to_string(), bytes.into()));
        self
    }

    /// Serve HTML pages only (PEP 503), whatever the client asks for.
    pub fn html_only(&mut self) -> &mut Self {
        self.html_only = true;
        self
    }

    /// The API version pages declare (default `1.1`).
    pub fn api_version(&mut self, version: &str) -> &mut Self {
        self.api_version = version.to_string();
        self
    }

    /// The `max-age` of pages, in seconds (default 600, like PyPI).
    pub fn cache_max_age(&mut self, seconds: u32) -> &mut Self {
        self.max_age = seconds;
        self
    }

    /// A file by name, to change it.
    ///
    /// # Panics
    /// When there is no such file (a mistake in the test).
    pub fn file_mut(&mut self, filename: &str) -> &mut TestFile {
        self.projects
            .values_mut()
            .flat_map(|p| p.files.iter_mut())
            .find(|f| f.filename == filename)
            .unwrap_or_else(|| panic!("the test index has no file named `{filename}`"))
    }

    fn project(&mut self, project: &str) -> &mut TestProject {
        let normalized =
            normalize(project).unwrap_or_else(|| panic!("`{project}` is not a valid project name"));
        self.projects
            .entry(normalized)
            .or_insert_with(|| TestProject {
                display_name: project.to_string(),
                ..TestProject::default()
            })
    }

    fn find_file(&self, filename: &str) -> Option<&TestFile> {
        self.projects
            .values()
            .flat_map(|p| p.files.iter())
            .find(|f| f.filename == filename)
    }

    /// Start serving on a random free port of 127.0.0.1.
    ///
    /// # Panics
    /// When no port can be bound or no thread started.
    pub fn serve(self) -> RunningIndex {
        let listener =
            std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port on 127.0.0.1");
        listener
            .set_nonblocking(true)
            .expect("make the test index socket non-blocking");
        let addr = listener.local_addr().expect("the test index address");
        let state = Arc::new(Mutex::new(State {
            index: self,
            log: Vec::new(),
            failures: None,
        }));
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let server_state = state.clone();
        let thread = std::thread::Builder::new()
            .name(format!("test-index-{}", addr.port()))
            .spawn(move || run_server(listener, server_state, shutdown_rx))
            .expect("start the test index thread");
        RunningIndex {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }
}

/// One request the running index received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub status: u16,
    /// The `Authorization` header, when one was sent.
    pub authorization: Option<String>,
}

struct State {
    index: TestIndex,
    log: Vec<LoggedRequest>,
    /// Answer the next `n` requests with this status.
    failures: Option<(usize, u16)>,
}

/// A test index being served; stops when dropped.
pub struct RunningIndex {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningIndex {
    /// The index URL: `http://127.0.0.1:PORT/simple/`.
    pub fn url(&self) -> String {
        format!("http://{}/simple/", self.addr)
    }

    /// `http://127.0.0.1:PORT`, for documents added with `add_document`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The URL a file is served at.
    pub fn file_url(&self, filename: &str) -> String {
        format!("http://{}/files/{filename}", self.addr)
    }

    /// Serve other bytes under the same filename; the index advertises
    /// their hash (unless an advertised hash was forced).
    pub fn replace_file_bytes(&self, filename: &str, bytes: impl Into<Vec<u8>>) {
        self.modify(|index| index.file_mut(filename).bytes = bytes.into());
    }

    /// Advertise `sha256` for `filename` from now on.
    pub fn set_advertised_sha256(&self, filename: &str, sha256: &str) {
        self.modify(|index| {
            index.file_mut(filename).advertised_sha256(sha256);
        });
    }

    /// Change anything while serving.
    pub fn modify(&self, change: impl FnOnce(&mut TestIndex)) {
        change(&mut self.lock().index);
    }

    /// Answer the next `count` requests, whatever they are, with `status`.
    pub fn fail_next_requests(&self, count: usize, status: u16) {
        self.lock().failures = Some((count, status));
    }

    /// The paths requested so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.lock().log.iter().map(|r| r.path.clone()).collect()
    }

    /// Every request so far with its method and the status answered.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    pub fn clear_requests(&self) {
        self.lock().log.clear();
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for RunningIndex {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Body = BoxBody<Bytes, std::io::Error>;

fn run_server(
    listener: std::net::TcpListener,
    state: Arc<Mutex<State>>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => panic!("the test index could not start a runtime: {e}"),
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(listener) => listener,
            Err(e) => panic!("the test index could not listen: {e}"),
        };
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let state = state.clone();
                    tokio::spawn(async move {
                        let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                            let response = handle(&state, &request);
                            async move { Ok::<_, Infallible>(response) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            }
        }
    });
}

fn handle(state: &Mutex<State>, request: &Request<Incoming>) -> Response<Body> {
    let mut state = state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let path = request.uri().path().to_string();
    let response = match &mut state.failures {
        Some((remaining, status)) if *remaining > 0 => {
            *remaining -= 1;
            let status = *status;
            respond(
                status,
                "text/plain",
                format!("injected failure {status}\n").into_bytes(),
            )
        }
        _ => route(&state.index, request, &path),
    };
    state.log.push(LoggedRequest {
        method: request.method().to_string(),
        path,
        status: response.status().as_u16(),
        authorization: request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    });
    response
}

fn route(index: &TestIndex, request: &Request<Incoming>, path: &str) -> Response<Body> {
    let header = |name: header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    if let Some((content_type, bytes)) = index.documents.get(path) {
        return cacheable(index, request, content_type, bytes.clone());
    }
    if let Some(rest) = path.strip_prefix("/files/") {
        if let Some(filename) = rest.strip_suffix(".metadata") {
            return match index.find_file(filename).and_then(|f| f.metadata.clone()) {
                Some(metadata) => respond(200, "application/octet-stream", metadata),
                None => not_found(),
            };
        }
        return match index.find_file(rest) {
            Some(file) => serve_file(file),
            None => not_found(),
        };
    }
    let Some(rest) = path.strip_prefix("/simple/") else {
        return not_found();
    };
    let accept = header(header::ACCEPT);
    let html_type = if accept.contains(HTML_TYPE) {
        HTML_TYPE
    } else {
        "text/html"
    };
    let json = !index.html_only && accept.contains(JSON_TYPE);
    let (content_type, body) = if rest.is_empty() {
        if json {
            (JSON_TYPE, root_json(index))
        } else {
            (html_type, root_html(index))
        }
    } else {
        let name = rest.trim_end_matches('/');
        let normalized = match normalize(name) {
            Some(n) => n,
            None => return not_found(),
        };
        if normalized != name || !rest.ends_with('/') {
            return redirect(&format!("/simple/{normalized}/"));
        }
        let Some(project) = index.projects.get(&normalized) else {
            return not_found();
        };
        if json {
            (JSON_TYPE, project_json(index, project))
        } else {
            (html_type, project_html(index, project))
        }
    };
    cacheable(index, request, content_type, body.into_bytes())
}

/// A 200 with `Cache-Control`, `ETag` and `Vary`, or a 304 when the client
/// already has this version.
fn cacheable(
    index: &TestIndex,
    request: &Request<Incoming>,
    content_type: &str,
    body: Vec<u8>,
) -> Response<Body> {
    let etag = format!("\"{}\"", hex::encode(&Sha256::digest(&body)[..16]));
    let if_none_match = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let not_modified = if_none_match.split(',').any(|t| t.trim() == etag);
    let mut response = if not_modified {
        respond(304, content_type, Vec::new())
    } else {
        respond(200, content_type, body)
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag),
        (header::CACHE_CONTROL, format!("max-age={}", index.max_age)),
        (header::VARY, "Accept".to_string()),
    ] {
        if let Ok(value) = value.parse() {
            headers.insert(name, value);
        }
    }
    response
}

fn serve_file(file: &TestFile) -> Response<Body> {
    let Some(cut) = file.truncate_at else {
        return respond(200, "application/octet-stream", file.bytes.clone());
    };
    let sent = Bytes::copy_from_slice(&file.bytes[..cut.min(file.bytes.len())]);
    // The head and the first bytes reach the client before the connection
    // drops, as when a real transfer is interrupted.
    let frames = futures::stream::iter([Some(sent), None]).then(|frame| async move {
        match frame {
            Some(data) => Ok(Frame::data(data)),
            None => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "truncated on purpose",
                ))
            }
        }
    });
    let mut response = Response::new(BodyExt::boxed(StreamBody::new(frames)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_LENGTH, file.bytes.len().into());
    if let Ok(value) = "application/octet-stream".parse() {
        headers.insert(header::CONTENT_TYPE, value);
    }
    response
}

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(full(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = content_type.parse() {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

fn not_found() -> Response<Body> {
    respond(404, "text/plain", b"not found\n".to_vec())
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = respond(301, "text/plain", Vec::new());
    if let Ok(value) = location.parse() {
        response.headers_mut().insert(header::LOCATION, value);
    }
    response
}

fn full(body: Vec<u8>) -> Body {
    Full::new(Bytes::from(body))
        .map_err(|never: Infallible| match never {})
        .boxed()
}

fn normalize(name: &str) -> Option<String> {
    PackageName::from_str(name).ok().map(|n| n.to_string())
}

fn file_json(file: &TestFile) -> serde_json::Value {
    let mut entry = serde_json::json!({
        "filename": file.filename,
        "url": format!("../../files/{}", file.filename),
        "hashes": if file.no_hashes { serde_json::json!({}) } else { serde_json::json!({"sha256": file.sha256()}) },
        "requires-python": file.requires_python,
        "yanked": match &file.yanked {
            None => serde_json::json!(false),
            Some(None) => serde_json::json!(true),
            Some(Some(reason)) => serde_json::json!(reason),
        },
        "size": file.size.unwrap_or(file.bytes.len() as u64),
    });
    if let Some(metadata) = &file.metadata {
        let hashes = serde_json::json!({"sha256": hex::encode(Sha256::digest(metadata))});
        entry["core-metadata"] = hashes.clone();
        entry["dist-info-metadata"] = hashes;
    }
    if let Some(time) = &file.upload_time {
        entry["upload-time"] = serde_json::json!(time);
    }
    entry
}

fn project_json(index: &TestIndex, project: &TestProject) -> String {
    let mut meta = serde_json::json!({"api-version": index.api_version, "_last-serial": 1});
    if let Some((status, reason)) = &project.status {
        meta["project-status"] = serde_json::json!({"status": status, "reason": reason});
    }
    let versions: std::collections::BTreeSet<String> = project
        .files
        .iter()
        .filter_map(|f| pyward_dist::DistFilename::parse(&f.filename, None).ok())
        .map(|d| d.version().to_string())
        .collect();
    serde_json::json!({
        "meta": meta,
        "name": project.display_name,
        "versions": versions,
        "files": project.files.iter().map(file_json).collect::<Vec<_>>(),
    })
    .to_string()
}

fn project_html(index: &TestIndex, project: &TestProject) -> String {
    let mut html = String::from("<!DOCTYPE html>\n<html>\n<head>\n");
    let _ = writeln!(
        html,
        "<meta name=\"pypi:repository-version\" content=\"{}\">",
        escape(&index.api_version)
    );
    if let Some((status, reason)) = &project.status {
        let _ = writeln!(
            html,
            "<meta name=\"pypi:project-status\" content=\"{}\">",
            escape(status)
        );
        if let Some(reason) = reason {
            let _ = writeln!(
                html,
                "<meta name=\"pypi:project-status-reason\" content=\"{}\">",
                escape(reason)
            );
        }
    }
    let _ = writeln!(
        html,
        "<title>Links for {0}</title>\n</head>\n<body>\n<h1>Links for {0}</h1>",
        escape(&project.display_name)
    );
    for file in &project.files {
        let mut href = format!("../../files/{}", file.filename);
        if !file.no_hashes {
            let _ = write!(href, "#sha256={}", file.sha256());
        }
        let _ = write!(html, "<a href=\"{}\"", escape(&href));
        if let Some(rp) = &file.requires_python {
            let _ = write!(html, " data-requires-python=\"{}\"", escape(rp));
        }
        match &file.yanked {
            None => {}
            Some(None) => html.push_str(" data-yanked"),
            Some(Some(reason)) => {
                let _ = write!(html, " data-yanked=\"{}\"", escape(reason));
            }
        }
        if let Some(metadata) = &file.metadata {
            let hash = hex::encode(Sha256::digest(metadata));
            let _ = write!(
                html,
                " data-core-metadata=\"sha256={hash}\" data-dist-info-metadata=\"sha256={hash}\""
            );
        }
        let _ = writeln!(html, ">{}</a><br/>", escape(&file.filename));
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn root_json(index: &TestIndex) -> String {
    let projects: Vec<_> = index
        .projects
        .values()
        .map(|p| serde_json::json!({"name": p.display_name}))
        .collect();
    serde_json::json!({"meta": {"api-version": index.api_version}, "projects": projects})
        .to_string()
}

fn root_html(index: &TestIndex) -> String {
    let mut html = String::from("<!DOCTYPE html>\n<html>\n<body>\n");
    for (normalized, project) in &index.projects {
        let _ = writeln!(
            html,
            "<a href=\"{normalized}/\">{}</a>",
            escape(&project.display_name)
        );
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A bare HTTP/1.1 GET, to see exactly what the index sends.
    fn get(index: &RunningIndex, path: &str, accept: &str) -> (u16, String) {
        let mut stream = std::net::TcpStream::connect(index.addr).unwrap();
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nAccept: {accept}\r\nConnection: close\r\n\r\n",
            index.addr
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let status = response[9..12].parse().unwrap();
        (status, response)
    }

    #[test]
    fn pages_follow_the_accept_header_and_names_are_normalized() {
        let mut index = TestIndex::new();
        index
            .add_file("Demo.Pkg", "demo_pkg-1.0.tar.gz", b"x".to_vec())
            .yanked(Some("a \"bad\" <one>"));
        let index = index.serve();

        let (status, response) = get(&index, "/simple/Demo.Pkg/", "text/html");
        assert_eq!(status, 301);
        assert!(
            response.contains("location: /simple/demo-pkg/"),
            "{response}"
        );

        let (status, html) = get(&index, "/simple/demo-pkg/", "text/html");
        assert_eq!(status, 200);
        assert!(html.contains("content-type: text/html"), "{html}");
        assert!(
            html.contains("data-yanked=\"a &quot;bad&quot; &lt;one&gt;\""),
            "{html}"
        );
        assert!(html.contains("cache-control: max-age=600"), "{html}");

        let (_, json) = get(&index, "/simple/demo-pkg/", JSON_TYPE);
        assert!(
            json.contains(&format!("content-type: {JSON_TYPE}")),
            "{json}"
        );
        assert!(json.contains(r#""yanked":"a \"bad\" <one>""#), "{json}");

        assert_eq!(get(&index, "/simple/other/", JSON_TYPE).0, 404);
        assert_eq!(get(&index, "/files/nothing.whl", "*/*").0, 404);
        let statuses: Vec<u16> = index.request_log().iter().map(|r| r.status).collect();
        assert_eq!(statuses, [301, 200, 200, 404, 404]);
    }

    #[test]
    fn several_indexes_run_side_by_side_and_stop_on_drop() {
        let indexes: Vec<RunningIndex> = (0..4)
            .map(|i| {
                let mut index = TestIndex::new();
                index.add_file("p", &format!("p-{i}.0.tar.gz"), vec![i as u8]);
                index.serve()
            })
            .collect();
        for (i, index) in indexes.iter().enumerate() {
            let (status, body) = get(index, &format!("/files/p-{i}.0.tar.gz"), "*/*");
            assert_eq!(status, 200);
            assert!(body.ends_with(&String::from(i as u8 as char)));
        }
        let addr = indexes[0].addr;
        drop(indexes);
        assert!(
            std::net::TcpStream::connect(addr).is_err(),
            "stopped on drop"
        );
    }
}
