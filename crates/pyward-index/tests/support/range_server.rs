//! A file server on 127.0.0.1 for range-request tests: serves files under
//! `/files/`, honours `Range` (or ignores or refuses it, as told), counts the
//! body bytes it sends, logs requests, and serves PEP 691 project pages that
//! list wheels without PEP 658 metadata files, as the reachable PyPI mirror
//! does. It runs on its own thread until dropped.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use bytes::Bytes;
use http::{header, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use sha2::{Digest, Sha256};

/// How the server answers a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeMode {
    /// 206 with `Content-Range`, as HTTP says.
    Honour,
    /// 200 with the whole file.
    Ignore,
    /// 416 to every range.
    Refuse,
    /// 206 with the right bytes but no `Content-Range`.
    NoContentRange,
}

/// One request, as the server saw it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub path: String,
    pub range: Option<String>,
    pub status: u16,
}

struct State {
    files: BTreeMap<String, Vec<u8>>,
    pages: BTreeMap<String, String>,
    mode: RangeMode,
    sent: u64,
    log: Vec<Logged>,
    /// Answer this many next file requests with a 503.
    failures: usize,
}

pub struct RangeServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RangeServer {
    pub fn start(mode: RangeMode) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            files: BTreeMap::new(),
            pages: BTreeMap::new(),
            mode,
            sent: 0,
            log: Vec::new(),
            failures: 0,
        }));
        let (shutdown, receiver) = tokio::sync::oneshot::channel();
        let thread_state = state.clone();
        let thread = std::thread::spawn(move || serve(listener, thread_state, receiver));
        RangeServer {
            addr,
            state,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serve `bytes` at `/files/{filename}`; returns its URL.
    pub fn add_file(&self, filename: &str, bytes: Vec<u8>) -> String {
        self.lock().files.insert(filename.to_string(), bytes);
        self.file_url(filename)
    }

    /// Serve `wheels` and a PEP 691 page for `project` listing them (with
    /// sha256 and size, without metadata files).
    pub fn add_project(&self, project: &str, wheels: &[(&str, &[u8])]) {
        let mut files = Vec::new();
        for (filename, bytes) in wheels {
            let url = self.add_file(filename, bytes.to_vec());
            files.push(format!(
                r#"{{"filename": "{filename}", "url": "{url}", "hashes": {{"sha256": "{}"}}, "size": {}}}"#,
                hex::encode(Sha256::digest(bytes)),
                bytes.len()
            ));
        }
        let page = format!(
            r#"{{"meta": {{"api-version": "1.1"}}, "name": "{project}", "files": [{}]}}"#,
            files.join(", ")
        );
        self.lock()
            .pages
            .insert(format!("/simple/{project}/"), page);
    }

    pub fn index_url(&self) -> String {
        format!("http://{}/simple/", self.addr)
    }

    pub fn file_url(&self, filename: &str) -> String {
        format!("http://{}/files/{filename}", self.addr)
    }

    pub fn set_mode(&self, mode: RangeMode) {
        self.lock().mode = mode;
    }

    pub fn fail_next_file_requests(&self, count: usize) {
        self.lock().failures = count;
    }

    /// Body bytes of files sent so far.
    pub fn bytes_sent(&self) -> u64 {
        self.lock().sent
    }

    /// Requests for files (not pages) so far.
    pub fn file_requests(&self) -> Vec<Logged> {
        self.lock()
            .log
            .iter()
            .filter(|l| l.path.starts_with("/files/"))
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        let mut state = self.lock();
        state.log.clear();
        state.sent = 0;
    }
}

impl Drop for RangeServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    listener: std::net::TcpListener,
    state: Arc<Mutex<State>>,
    mut shutdown: tokio::sync::oneshot::Receiver<()>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
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

fn respond(status: u16, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    response
}

fn handle(state: &Mutex<State>, request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
    let path = request.uri().path().to_string();
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let response = if let Some(page) = state.pages.get(&path) {
        let mut r = respond(200, page.clone().into_bytes());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/vnd.pypi.simple.v1+json"),
        );
        r
    } else if let Some(filename) = path.strip_prefix("/files/") {
        if state.failures > 0 {
            state.failures -= 1;
            respond(503, b"try later".to_vec())
        } else {
            match state.files.get(filename).cloned() {
                Some(bytes) => {
                    let (response, sent) = serve_file(&bytes, range.as_deref(), state.mode);
                    state.sent += sent;
                    response
                }
                None => respond(404, Vec::new()),
            }
        }
    } else {
        respond(404, Vec::new())
    };
    state.log.push(Logged {
        path,
        range,
        status: response.status().as_u16(),
    });
    response
}

/// The response for a file and the number of body bytes in it.
fn serve_file(bytes: &[u8], range: Option<&str>, mode: RangeMode) -> (Response<Full<Bytes>>, u64) {
    let len = bytes.len() as u64;
    let whole = || (respond(200, bytes.to_vec()), len);
    let Some(range) = range else { return whole() };
    match mode {
        RangeMode::Ignore => return whole(),
        RangeMode::Refuse => return (respond(416, Vec::new()), 0),
        RangeMode::Honour | RangeMode::NoContentRange => {}
    }
    let Some((first, last)) = parse_range(range, len) else {
        let mut r = respond(416, Vec::new());
        if let Ok(v) = format!("bytes */{len}").parse() {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
        return (r, 0);
    };
    let part = bytes[first as usize..=last as usize].to_vec();
    let sent = part.len() as u64;
    let mut r = respond(206, part);
    if mode == RangeMode::Honour {
        if let Ok(v) = format!("bytes {first}-{last}/{len}").parse() {
            r.headers_mut().insert(header::CONTENT_RANGE, v);
        }
    }
    (r, sent)
}

/// `bytes=a-b`, `bytes=a-` or `bytes=-n` as inclusive offsets within `len`.
fn parse_range(value: &str, len: u64) -> Option<(u64, u64)> {
    let (first, last) = value.strip_prefix("bytes=")?.split_once('-')?;
    if len == 0 {
        return None;
    }
    if first.is_empty() {
        let n: u64 = last.parse().ok()?;
        return (n > 0).then(|| (len.saturating_sub(n), len - 1));
    }
    let first: u64 = first.parse().ok()?;
    let last: u64 = if last.is_empty() {
        len - 1
    } else {
        last.parse::<u64>().ok()?.min(len - 1)
    };
    (first <= last).then_some((first, last))
}
