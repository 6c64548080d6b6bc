//! `IndexClient`: one shared HTTP client (HTTP/2, connection pool, gzip) for
//! project pages, PEP 658 metadata, downloads and JSON documents, with an
//! on-disk HTTP cache, retries and an offline mode. Also reads a wheel's
//! METADATA with HTTP range requests (the zip work is in `range`).

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use http::header::{
    HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_RANGE,
    CONTENT_TYPE, RANGE, RETRY_AFTER,
};
use http_cache_semantics::{AfterResponse, BeforeRequest, CacheOptions, CachePolicy};
use pyward_dist::{DistFilename, PackageName, WheelFilename};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use url::Url;

use crate::cache::{self, CacheEntry, CacheMeta};
use crate::index_url::{redacted, IndexUrl};
use crate::page::{DistFile, MetadataAvailability, ProjectPage};
use crate::range::{self, RemoteZip, Step};
use crate::{html, json, IndexError};

/// What a project-page request asks for (PEP 691), JSON first.
pub const SIMPLE_ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// Project pages larger than this are refused (the largest real ones are a few MB).
const MAX_PAGE_BYTES: u64 = 256 * 1024 * 1024;
/// Metadata files and JSON documents larger than this are refused.
const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;
/// The longest wait a `Retry-After` header can impose.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);

/// A file saved by [`IndexClient::download`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downloaded {
    /// The sha256 of the bytes written, lowercase hex.
    pub sha256: String,
    pub size: u64,
}

/// Builds an [`IndexClient`].
#[derive(Debug, Clone)]
pub struct IndexClientBuilder {
    indexes: Vec<IndexUrl>,
    cache_dir: Option<PathBuf>,
    offline: bool,
    refresh: bool,
    connect_timeout: Duration,
    read_timeout: Duration,
    retries: u32,
    retry_backoff: Duration,
}

impl Default for IndexClientBuilder {
    fn default() -> Self {
        IndexClientBuilder {
            indexes: Vec::new(),
            cache_dir: None,
            offline: false,
            refresh: false,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 2,
            retry_backoff: Duration::from_millis(200),
        }
    }
}

impl IndexClientBuilder {
    /// Add an index; the first one added is the primary. With none, PyPI.
    pub fn index(mut self, index: IndexUrl) -> Self {
        self.indexes.push(index);
        self
    }

    /// Add several indexes, in order of priority.
    pub fn indexes(mut self, indexes: impl IntoIterator<Item = IndexUrl>) -> Self {
        self.indexes.extend(indexes);
        self
    }

    /// Where to keep cached pages, metadata and JSON documents. Without it,
    /// nothing is cached on disk.
    pub fn cache_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cache_dir = Some(dir.into());
        self
    }

    /// Never use the network: answer from the cache, however old, or fail.
    pub fn offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Revalidate every cached page and document with the server, even when
    /// it is still fresh (`--refresh`). Immutable metadata stays cached.
    pub fn refresh(mut self, refresh: bool) -> Self {
        self.refresh = refresh;
        self
    }

    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How long to wait for the next bytes of a response.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// How many times a failed request is tried again (connection errors,
    /// timeouts, HTTP 429 and 5xx). Default 2, so 3 tries in all.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// The wait before the first retry; it quadruples for each further one.
    pub fn retry_backoff(mut self, backoff: Duration) -> Self {
        self.retry_backoff = backoff;
        self
    }

    pub fn build(self) -> Result<IndexClient, IndexError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("pyward/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(self.connect_timeout)
            .read_timeout(self.read_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| IndexError::Client(error_chain(&e)))?;
        let indexes = if self.indexes.is_empty() {
            vec![IndexUrl::pypi()]
        } else {
            self.indexes
        };
        Ok(IndexClient {
            inner: Arc::new(Inner {
                http,
                indexes,
                cache_dir: self.cache_dir,
                offline: self.offline,
                refresh: self.refresh,
                retries: self.retries,
                retry_backoff: self.retry_backoff,
                ranges_refused: Mutex::new(HashSet::new()),
            }),
        })
    }
}

/// A client for one or more package indexes. Cheap to clone; clones share
/// the connection pool.
#[derive(Debug, Clone)]
pub struct IndexClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    indexes: Vec<IndexUrl>,
    cache_dir: Option<PathBuf>,
    offline: bool,
    refresh: bool,
    retries: u32,
    retry_backoff: Duration,
    /// Origins (`scheme://host:port`) that did not answer a range request
    /// usefully: later files there are downloaded whole without asking again.
    ranges_refused: Mutex<HashSet<String>>,
}

/// How one try of a request failed.
enum Failure {
    /// Worth another try (after the given wait, if the server asked for one).
    Retry(Box<IndexError>, Option<Duration>),
    Fatal(Box<IndexError>),
}

impl Failure {
    fn fatal(error: IndexError) -> Self {
        Failure::Fatal(Box::new(error))
    }

    fn retry(error: IndexError, wait: Option<Duration>) -> Self {
        Failure::Retry(Box::new(error), wait)
    }
}

impl IndexClient {
    pub fn builder() -> IndexClientBuilder {
        IndexClientBuilder::default()
    }

    /// The indexes, primary first.
    pub fn indexes(&self) -> &[IndexUrl] {
        &self.inner.indexes
    }

    pub fn is_offline(&self) -> bool {
        self.inner.offline
    }

    /// The project page of `name` from the first index that has the project
    /// (later indexes are not asked once one has it, so a public index can
    /// never shadow a private one). `None` when no index has it.
    pub async fn project(&self, name: &PackageName) -> Result<Option<ProjectPage>, IndexError> {
        for index in &self.inner.indexes {
            if let Some(page) = self.project_on(index, name).await? {
                return Ok(Some(page));
            }
        }
        Ok(None)
    }

    async fn project_on(
        &self,
        index: &IndexUrl,
        name: &PackageName,
    ) -> Result<Option<ProjectPage>, IndexError> {
        let url = index.project_url(name);
        let cache_path = self.inner.cache_dir.as_ref().map(|dir| {
            cache::path(
                dir,
                &[
                    "simple-v1",
                    &cache::key(&without_credentials(index.url())),
                    &format!("{name}.page"),
                ],
            )
        });
        let what = format!("the page of `{name}` on {index}");
        let (name_for_parse, index_for_parse) = (name.clone(), index.clone());
        let page = self
            .cached_get(
                &url,
                SIMPLE_ACCEPT,
                cache_path,
                what,
                |payload: &[u8]| postcard::from_bytes::<ProjectPage>(payload).ok(),
                move |mut final_url: Url, content_type: Option<String>, body: Vec<u8>| {
                    // Credentials are added per request (`credentials_for`), never stored.
                    let _ = final_url.set_username("");
                    let _ = final_url.set_password(None);
                    let page = parse_page(
                        &body,
                        content_type.as_deref(),
                        &name_for_parse,
                        &index_for_parse,
                        &final_url,
                    )?;
                    let payload = postcard::to_allocvec(&page).unwrap_or_default();
                    Ok((page, payload))
                },
            )
            .await?;
        // The stored page does not carry the index credentials: use the live one.
        Ok(page.map(|mut page| {
            page.index = index.clone();
            page
        }))
    }

    /// The core metadata of `file` from its separate `.metadata` file
    /// (PEP 658), verified against the hash the index published, and cached
    /// on disk (by the file's sha256) so it is fetched once.
    ///
    /// `NoMetadataFile` when the index does not offer one: read the
    /// metadata from the downloaded wheel instead.
    pub async fn metadata(&self, file: &DistFile) -> Result<Vec<u8>, IndexError> {
        let MetadataAvailability::Available(hashes) = &file.core_metadata else {
            return Err(IndexError::NoMetadataFile {
                filename: file.filename.clone(),
            });
        };
        let url = file.metadata_url();
        let cache_path = self.inner.cache_dir.as_ref().map(|dir| {
            let key = match &file.hashes.sha256 {
                Some(sha256) => format!("sha256-{sha256}.metadata"),
                None => format!("url-{}.metadata", cache::key(&without_credentials(&url))),
            };
            cache::path(dir, &["metadata-v1", &key])
        });
        if let Some(path) = &cache_path {
            if let Ok(bytes) = tokio::fs::read(path).await {
                if hashes.verify(&bytes).is_ok() {
                    return Ok(bytes);
                }
            }
        }
        if self.inner.offline {
            return Err(IndexError::Offline {
                what: format!("the metadata of {}", file.filename),
            });
        }
        let response = self
            .get(&url, &HeaderMap::new(), MAX_DOCUMENT_BYTES)
            .await?;
        match response.status.as_u16() {
            200 => {}
            404 | 410 => {
                return Err(IndexError::NoMetadataFile {
                    filename: file.filename.clone(),
                })
            }
            status => {
                return Err(IndexError::Status {
                    url: redacted(&url),
                    status,
                })
            }
        }
        let bytes = response.body;
        if let Err((algorithm, expected, actual)) = hashes.verify(&bytes) {
            return Err(IndexError::MetadataHashMismatch {
                filename: file.filename.clone(),
                url: redacted(&url),
                algorithm,
                expected,
                actual,
            });
        }
        if let Some(path) = cache_path {
            let bytes = bytes.clone();
            let _ = tokio::task::spawn_blocking(move || cache::write_file(&path, &[&bytes])).await;
        }
        Ok(bytes)
    }

    /// The core metadata (`*.dist-info/METADATA`) of the wheel `file`, read
    /// with HTTP range requests instead of downloading the whole wheel: the
    /// end of the file (zip end records and, usually, the central directory
    /// and METADATA), then only what is still missing. The entry is checked
    /// as a wheel reader would (the single top-level dist-info directory of
    /// this name and version, stored or deflated, size-limited, CRC-32).
    /// Cached on disk by the file's sha256 when the index gives one, so it
    /// is read once.
    ///
    /// Unlike PEP 658 metadata, the bytes cannot be checked against a hash
    /// before the whole wheel is downloaded; they are fit for resolving, and
    /// the wheel itself is verified when it is installed.
    ///
    /// `RangeUnsupported` when the server does not serve parts of files
    /// (remembered per origin, so it is asked once); `RangeRead` when the
    /// archive cannot be read this way. Either way, the caller can download
    /// the whole wheel instead.
    pub async fn wheel_metadata_by_range(&self, file: &DistFile) -> Result<Vec<u8>, IndexError> {
        let DistFilename::Wheel(wheel) = &file.dist else {
            return Err(IndexError::RangeRead {
                filename: file.filename.clone(),
                reason: "it is not a wheel".to_string(),
            });
        };
        let cache_path = match (&self.inner.cache_dir, &file.hashes.sha256) {
            (Some(dir), Some(sha256)) => Some(cache::path(
                dir,
                &["metadata-v1", &format!("sha256-{sha256}.wheel-metadata")],
            )),
            _ => None,
        };
        if let Some(path) = &cache_path {
            if let Ok(bytes) = tokio::fs::read(path).await {
                return Ok(bytes);
            }
        }
        if self.inner.offline {
            return Err(IndexError::Offline {
                what: format!("the metadata of {}", file.filename),
            });
        }
        let origin = file.url.origin().ascii_serialization();
        if self.ranges_refused().contains(&origin) {
            return Err(IndexError::RangeUnsupported {
                url: redacted(&file.url),
            });
        }
        let result = self.read_metadata_by_range(file, wheel).await;
        if let Err(e @ IndexError::RangeUnsupported { .. }) = &result {
            tracing::debug!("downloading whole files from {origin} from now on: {e}");
            self.ranges_refused().insert(origin);
        }
        let bytes = result?;
        if let Some(path) = cache_path {
            let bytes = bytes.clone();
            let _ = tokio::task::spawn_blocking(move || cache::write_file(&path, &[&bytes])).await;
        }
        Ok(bytes)
    }

    fn ranges_refused(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.inner
            .ranges_refused
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn read_metadata_by_range(
        &self,
        file: &DistFile,
        wheel: &WheelFilename,
    ) -> Result<Vec<u8>, IndexError> {
        let url = &file.url;
        let unusable = |reason: String| IndexError::RangeRead {
            filename: file.filename.clone(),
            reason,
        };
        let tail = self
            .get_range(url, RangeAsked::Tail(range::TAIL_BYTES))
            .await?;
        if let Some(size) = file.size {
            if size != tail.total {
                return Err(unusable(format!(
                    "the server says it is {} bytes long, the index says {size}",
                    tail.total
                )));
            }
        }
        let mut zip = RemoteZip::new(tail.total);
        zip.add(tail.start, tail.bytes).map_err(&unusable)?;
        let wheel = wheel.clone();
        loop {
            // Parsing a large central directory or inflating METADATA is
            // CPU work: off the async threads.
            let wheel_for_parse = wheel.clone();
            let (returned, step) = tokio::task::spawn_blocking(move || {
                let step = zip.next_step(&wheel_for_parse);
                (zip, step)
            })
            .await
            .map_err(|e| unusable(format!("parsing stopped unexpectedly ({e})")))?;
            zip = returned;
            match step.map_err(&unusable)? {
                Step::Metadata(bytes) => return Ok(bytes),
                Step::Fetch { start, end } => {
                    let part = self.get_range(url, RangeAsked::Span(start, end)).await?;
                    if part.total != zip.len() {
                        return Err(unusable(format!(
                            "its length changed from {} to {} bytes between two requests",
                            zip.len(),
                            part.total
                        )));
                    }
                    zip.add(part.start, part.bytes).map_err(&unusable)?;
                }
            }
        }
    }

    /// One range request, with the usual retries. The answer must be a 206
    /// with a `Content-Range` that is exactly the range asked for; a 200 to
    /// the first request is accepted only when the whole file is small
    /// enough to be the tail asked for.
    async fn get_range(&self, url: &Url, asked: RangeAsked) -> Result<RangePart, IndexError> {
        let value = match asked {
            RangeAsked::Tail(n) => format!("bytes=-{n}"),
            RangeAsked::Span(start, end) => format!("bytes={start}-{}", end.saturating_sub(1)),
        };
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(RANGE, value);
        }
        // Ranges count bytes of the file as stored, not of a compressed transfer.
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        let unsupported = || Failure::fatal(IndexError::RangeUnsupported { url: redacted(url) });
        let keep_network_errors = |e: IndexError| match e {
            IndexError::Network { .. } => Failure::retry(e, None),
            other => Failure::fatal(other),
        };
        self.with_retries(url, || async {
            let response = self.send_once(url, &headers).await?;
            let status = response.status();
            if is_retryable_status(status) {
                return Err(Failure::retry(
                    IndexError::Status {
                        url: redacted(url),
                        status: status.as_u16(),
                    },
                    retry_after(&response),
                ));
            }
            match (status.as_u16(), asked) {
                (206, _) => {}
                (200, RangeAsked::Tail(n)) => {
                    // The range was ignored: fine for a file no longer than the tail.
                    if content_length(&response).is_some_and(|len| len > n) {
                        return Err(unsupported());
                    }
                    let body = read_body(response, url, n).await.map_err(|e| match e {
                        IndexError::InvalidResponse { .. } => unsupported(),
                        other => keep_network_errors(other),
                    })?;
                    return Ok(RangePart {
                        start: 0,
                        total: body.len() as u64,
                        bytes: body,
                    });
                }
                (200 | 416, _) => return Err(unsupported()),
                (status, _) => {
                    return Err(Failure::fatal(IndexError::Status {
                        url: redacted(url),
                        status,
                    }))
                }
            }
            let Some((first, last, total)) = response
                .headers()
                .get(CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(range::parse_content_range)
            else {
                return Err(unsupported());
            };
            let wanted = match asked {
                RangeAsked::Tail(n) => (total.saturating_sub(n), total - 1),
                RangeAsked::Span(start, end) => (start, end.saturating_sub(1).min(total - 1)),
            };
            if (first, last) != wanted {
                return Err(Failure::fatal(IndexError::InvalidResponse {
                    url: redacted(url),
                    reason: format!(
                        "it holds bytes {first}-{last} of the file, not bytes {}-{} as asked",
                        wanted.0, wanted.1
                    ),
                }));
            }
            let expected = last - first + 1;
            let body = read_body(response, url, expected)
                .await
                .map_err(keep_network_errors)?;
            if body.len() as u64 != expected {
                return Err(Failure::retry(
                    IndexError::Network {
                        url: redacted(url),
                        reason: format!(
                            "the transfer stopped after {} of {expected} bytes",
                            body.len()
                        ),
                    },
                    None,
                ));
            }
            tracing::debug!("read bytes {first}-{last} of {total} of {}", redacted(url));
            Ok(RangePart {
                start: first,
                bytes: body,
                total,
            })
        })
        .await
    }

    /// Download `url` to `dest`: streamed to a temporary file next to `dest`,
    /// hashed (sha256) on the way, and renamed to `dest` only when complete,
    /// so `dest` is never a partial file. `on_progress` gets the number of
    /// bytes received so far (starting again from 0 if a try is repeated).
    /// With `expected_size`, a response larger than that stops with an error.
    ///
    /// The caller compares the returned hash with what it expects.
    pub async fn download(
        &self,
        url: &Url,
        dest: &Path,
        on_progress: impl Fn(u64) + Send + Sync,
        expected_size: Option<u64>,
    ) -> Result<Downloaded, IndexError> {
        if self.inner.offline {
            return Err(IndexError::Offline {
                what: format!("the file {}", redacted(url)),
            });
        }
        let dir = match dest.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| IndexError::io("create the directory", &dir, e))?;
        self.with_retries(url, || {
            self.download_once(url, &dir, dest, &on_progress, expected_size)
        })
        .await
    }

    async fn download_once(
        &self,
        url: &Url,
        dir: &Path,
        dest: &Path,
        on_progress: &(impl Fn(u64) + Send + Sync),
        expected_size: Option<u64>,
    ) -> Result<Downloaded, Failure> {
        let mut response = self.send_once(url, &HeaderMap::new()).await?;
        check_status(&response, url)?;
        let too_large = |received: u64, limit: u64| {
            Failure::fatal(IndexError::InvalidResponse {
                url: redacted(url),
                reason: format!(
                    "it is larger than the expected {limit} bytes (at least {received} bytes)"
                ),
            })
        };
        if let (Some(limit), Some(announced)) = (expected_size, content_length(&response)) {
            if announced > limit {
                return Err(too_large(announced, limit));
            }
        }
        let temp = tempfile::Builder::new()
            .prefix(".pyward-download-")
            .tempfile_in(dir)
            .map_err(|e| Failure::fatal(IndexError::io("create a temporary file in", dir, e)))?;
        let std_file = temp
            .as_file()
            .try_clone()
            .map_err(|e| Failure::fatal(IndexError::io("write", temp.path(), e)))?;
        let mut file = tokio::fs::File::from_std(std_file);
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        on_progress(0);
        loop {
            let chunk = match response.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                Err(e) => return Err(request_failure(url, &e)),
            };
            size += chunk.len() as u64;
            if let Some(limit) = expected_size {
                if size > limit {
                    return Err(too_large(size, limit));
                }
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| Failure::fatal(IndexError::io("write", temp.path(), e)))?;
            on_progress(size);
        }
        file.flush()
            .await
            .map_err(|e| Failure::fatal(IndexError::io("write", temp.path(), e)))?;
        drop(file);
        temp.persist(dest)
            .map_err(|e| Failure::fatal(IndexError::io("save the download as", dest, e.error)))?;
        Ok(Downloaded {
            sha256: hex::encode(hasher.finalize()),
            size,
        })
    }

    /// GET a JSON document (PyPI's JSON API, PEP 740 provenance…) through the
    /// same HTTP cache as project pages. `None` on 404.
    pub async fn fetch_json_bytes(
        &self,
        url: &Url,
        accept: &str,
    ) -> Result<Option<Vec<u8>>, IndexError> {
        let cache_path = self.inner.cache_dir.as_ref().map(|dir| {
            let key = cache::key(&format!("{accept}\n{}", without_credentials(url)));
            cache::path(dir, &["http-v1", &key])
        });
        let what = format!("the document {}", redacted(url));
        self.cached_get(
            url,
            accept,
            cache_path,
            what,
            |payload: &[u8]| Some(payload.to_vec()),
            |_url: Url, _content_type: Option<String>, body: Vec<u8>| Ok((body.clone(), body)),
        )
        .await
    }

    /// GET `url` through the on-disk HTTP cache. `decode` turns a cached
    /// payload back into a value (`None`: unusable, fetch again); `parse`
    /// turns a fresh response (final URL, content type, body) into the value
    /// and the payload to cache.
    async fn cached_get<T, D, P>(
        &self,
        url: &Url,
        accept: &str,
        cache_path: Option<PathBuf>,
        what: String,
        decode: D,
        parse: P,
    ) -> Result<Option<T>, IndexError>
    where
        T: Send + 'static,
        D: Fn(&[u8]) -> Option<T> + Send + Sync + Clone + 'static,
        P: FnOnce(Url, Option<String>, Vec<u8>) -> Result<(T, Vec<u8>), IndexError>
            + Send
            + 'static,
    {
        let mut cached = match &cache_path {
            Some(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || cache::read_entry(&path))
                    .await
                    .ok()
                    .flatten()
            }
            None => None,
        };

        if self.inner.offline {
            return match cached {
                Some(CacheEntry {
                    meta: CacheMeta::NotFound,
                    ..
                }) => Ok(None),
                Some(entry) => match decode_blocking(&decode, entry.payload).await.0 {
                    Some(value) => Ok(Some(value)),
                    None => Err(IndexError::Offline { what }),
                },
                None => Err(IndexError::Offline { what }),
            };
        }

        let policy_request = policy_request(url, accept);
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(accept) {
            headers.insert(ACCEPT, value);
        }

        // A fresh entry answers without the network; a stale one is revalidated.
        let mut revalidating = None;
        if let (Some(entry), Some(request)) = (cached.take(), &policy_request) {
            if let CacheMeta::Found(policy) = &entry.meta {
                let mut asked = request.clone();
                if self.inner.refresh {
                    asked
                        .headers
                        .insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
                }
                match policy.before_request(&asked, SystemTime::now()) {
                    BeforeRequest::Fresh(_) => {
                        if let (Some(value), _) = decode_blocking(&decode, entry.payload).await {
                            return Ok(Some(value));
                        }
                    }
                    BeforeRequest::Stale { request, .. } => {
                        headers = request.headers;
                        revalidating = Some(entry);
                    }
                }
            }
        }

        let mut response = self.get(url, &headers, MAX_PAGE_BYTES).await?;
        if response.status == http::StatusCode::NOT_MODIFIED {
            let outcome = match (revalidating, &policy_request) {
                (Some(entry), Some(request)) => match &entry.meta {
                    CacheMeta::Found(policy) => {
                        let parts = response.parts();
                        match policy.after_response(request, &parts, SystemTime::now()) {
                            AfterResponse::NotModified(policy, _) => Some((policy, entry.payload)),
                            AfterResponse::Modified(..) => None,
                        }
                    }
                    CacheMeta::NotFound => None,
                },
                _ => None,
            };
            if let Some((policy, payload)) = outcome {
                let (value, payload) = decode_blocking(&decode, payload).await;
                if let Some(value) = value {
                    if let Some(path) = cache_path {
                        let meta = CacheMeta::Found(Box::new(policy));
                        let _ = tokio::task::spawn_blocking(move || {
                            cache::write_entry(&path, &meta, &payload)
                        })
                        .await;
                    }
                    return Ok(Some(value));
                }
            }
            // The cached copy cannot be used after all: ask again without validators.
            let mut plain = HeaderMap::new();
            if let Some(accept) = headers.get(ACCEPT) {
                plain.insert(ACCEPT, accept.clone());
            }
            response = self.get(url, &plain, MAX_PAGE_BYTES).await?;
        }

        match response.status.as_u16() {
            200 | 203 => {}
            404 | 410 => {
                if let Some(path) = cache_path {
                    let _ = tokio::task::spawn_blocking(move || {
                        cache::write_entry(&path, &CacheMeta::NotFound, b"")
                    })
                    .await;
                }
                return Ok(None);
            }
            status => {
                return Err(IndexError::Status {
                    url: redacted(url),
                    status,
                })
            }
        }
        let policy = policy_request.as_ref().map(|request| {
            let options = CacheOptions {
                shared: false,
                ..CacheOptions::default()
            };
            CachePolicy::new_options(request, &response.parts(), SystemTime::now(), options)
        });
        let final_url = response.url;
        let content_type = response
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.body;
        let (value, payload) =
            tokio::task::spawn_blocking(move || parse(final_url, content_type, body))
                .await
                .map_err(|e| IndexError::InvalidResponse {
                    url: redacted(url),
                    reason: format!("parsing stopped unexpectedly ({e})"),
                })??;
        match (cache_path, policy) {
            (Some(path), Some(policy)) if policy.is_storable() => {
                let meta = CacheMeta::Found(Box::new(policy));
                let _ =
                    tokio::task::spawn_blocking(move || cache::write_entry(&path, &meta, &payload))
                        .await;
            }
            (Some(path), _) => cache::remove_entry(&path),
            _ => {}
        }
        Ok(Some(value))
    }

    /// GET `url` and read the body (up to `limit` bytes), retrying
    /// connection errors, broken transfers, timeouts, 429 and 5xx. After the
    /// last try, a retryable status becomes an `IndexError::Status`.
    async fn get(&self, url: &Url, headers: &HeaderMap, limit: u64) -> Result<Fetched, IndexError> {
        self.with_retries(url, || async {
            let response = self.send_once(url, headers).await?;
            let status = response.status();
            if is_retryable_status(status) {
                return Err(Failure::retry(
                    IndexError::Status {
                        url: redacted(url),
                        status: status.as_u16(),
                    },
                    retry_after(&response),
                ));
            }
            let headers = response.headers().clone();
            let final_url = response.url().clone();
            let body = read_body(response, url, limit).await.map_err(|e| match e {
                IndexError::Network { .. } => Failure::retry(e, None),
                other => Failure::fatal(other),
            })?;
            Ok(Fetched {
                status,
                headers,
                url: final_url,
                body,
            })
        })
        .await
    }

    async fn send_once(
        &self,
        url: &Url,
        headers: &HeaderMap,
    ) -> Result<reqwest::Response, Failure> {
        let mut request = self.inner.http.get(url.clone()).headers(headers.clone());
        if let Some((username, password)) = self.credentials_for(url) {
            request = request.basic_auth(username, password);
        }
        request.send().await.map_err(|e| request_failure(url, &e))
    }

    async fn with_retries<T, F, Fut>(&self, url: &Url, mut attempt: F) -> Result<T, IndexError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let mut tries: u32 = 0;
        loop {
            match attempt().await {
                Ok(value) => return Ok(value),
                Err(Failure::Fatal(e)) => return Err(*e),
                Err(Failure::Retry(e, wait)) => {
                    if tries >= self.inner.retries {
                        return Err(*e);
                    }
                    let backoff = self
                        .inner
                        .retry_backoff
                        .saturating_mul(4u32.saturating_pow(tries));
                    let wait = wait.map_or(backoff, |w| w.min(MAX_RETRY_AFTER));
                    tracing::debug!("retrying {} in {wait:?} after: {e}", redacted(url));
                    tokio::time::sleep(wait).await;
                    tries += 1;
                }
            }
        }
    }

    /// Credentials of an index on the same origin as `url`, for file and
    /// metadata URLs that do not carry them (so they are never stored).
    fn credentials_for(&self, url: &Url) -> Option<(String, Option<String>)> {
        if !url.username().is_empty() {
            return None;
        }
        self.inner
            .indexes
            .iter()
            .map(IndexUrl::url)
            .find(|index| !index.username().is_empty() && index.origin() == url.origin())
            .map(|index| {
                (
                    percent_decode(index.username()),
                    index.password().map(percent_decode),
                )
            })
    }
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| s.to_string())
}

/// Choose the parser by the response's content type (PEP 691).
fn parse_page(
    body: &[u8],
    content_type: Option<&str>,
    name: &PackageName,
    index: &IndexUrl,
    url: &Url,
) -> Result<ProjectPage, IndexError> {
    let media_type = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|ct| ct.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match media_type.as_str() {
        "application/vnd.pypi.simple.v1+json" => json::parse_project_page(body, name, index, url),
        "application/vnd.pypi.simple.v1+html" | "text/html" => html::parse_project_page(body, name, index, url),
        other if other.starts_with("application/vnd.pypi.simple.") => Err(IndexError::UnsupportedApiVersion {
            url: redacted(url),
            version: other.to_string(),
        }),
        "" => Err(IndexError::InvalidResponse {
            url: redacted(url),
            reason: "it has no content type; expected a PEP 691 JSON or PEP 503 HTML project page".to_string(),
        }),
        other => Err(IndexError::InvalidResponse {
            url: redacted(url),
            reason: format!("its content type is `{other}`; expected a PEP 691 JSON or PEP 503 HTML project page"),
        }),
    }
}

async fn decode_blocking<T, D>(decode: &D, payload: Vec<u8>) -> (Option<T>, Vec<u8>)
where
    T: Send + 'static,
    D: Fn(&[u8]) -> Option<T> + Send + Sync + Clone + 'static,
{
    let decode = decode.clone();
    tokio::task::spawn_blocking(move || {
        let value = decode(&payload);
        (value, payload)
    })
    .await
    .unwrap_or((None, Vec::new()))
}

/// The request a cache policy is computed from (no credentials, so none are stored).
fn policy_request(url: &Url, accept: &str) -> Option<http::request::Parts> {
    let request = http::Request::get(without_credentials(url))
        .header(ACCEPT, accept)
        .body(())
        .ok()?;
    Some(request.into_parts().0)
}

/// Which bytes of a file a range request asks for.
#[derive(Debug, Clone, Copy)]
enum RangeAsked {
    /// The last `n` bytes (`bytes=-n`).
    Tail(u64),
    /// Bytes `start..end`, end exclusive.
    Span(u64, u64),
}

/// Part of a file, from a range request.
struct RangePart {
    start: u64,
    bytes: Vec<u8>,
    /// The length of the whole file.
    total: u64,
}

/// A complete response.
struct Fetched {
    status: http::StatusCode,
    headers: HeaderMap,
    /// The final URL, after redirects.
    url: Url,
    body: Vec<u8>,
}

impl Fetched {
    fn parts(&self) -> http::response::Parts {
        let (mut parts, ()) = http::Response::new(()).into_parts();
        parts.status = self.status;
        parts.headers = self.headers.clone();
        parts
    }
}

fn without_credentials(url: &Url) -> String {
    let mut url = url.clone();
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.into()
}

fn is_retryable_status(status: http::StatusCode) -> bool {
    status == http::StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

fn check_status(response: &reqwest::Response, url: &Url) -> Result<(), Failure> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let error = IndexError::Status {
        url: redacted(url),
        status: status.as_u16(),
    };
    if is_retryable_status(status) {
        Err(Failure::retry(error, retry_after(response)))
    } else {
        Err(Failure::fatal(error))
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let value = response.headers().get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

fn content_length(response: &reqwest::Response) -> Option<u64> {
    response
        .headers()
        .get(CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn request_failure(url: &Url, error: &reqwest::Error) -> Failure {
    let e = IndexError::Network {
        url: redacted(url),
        reason: error_chain(error),
    };
    if error.is_builder() || error.is_redirect() {
        Failure::fatal(e)
    } else {
        Failure::retry(e, None)
    }
}

/// The causes of an error, outermost first, without reqwest's generic
/// wrapper message (which only repeats the URL).
fn error_chain(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "the server did not answer in time".to_string();
    }
    let mut parts: Vec<String> = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        // hyper's "client error (Connect)" wrappers say nothing a user needs.
        let wrapper = text.starts_with("client error (") && cause.source().is_some();
        if !wrapper && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

async fn read_body(
    mut response: reqwest::Response,
    url: &Url,
    limit: u64,
) -> Result<Vec<u8>, IndexError> {
    let too_large = || IndexError::InvalidResponse {
        url: redacted(url),
        reason: format!("it is larger than {limit} bytes"),
    };
    let announced = content_length(&response);
    if announced.is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut body = Vec::with_capacity(announced.unwrap_or(0).min(16 * 1024 * 1024) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if (body.len() + chunk.len()) as u64 > limit {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(IndexError::Network {
                    url: redacted(url),
                    reason: error_chain(&e),
                })
            }
        }
    }
}
