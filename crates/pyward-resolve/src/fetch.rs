//! Fetching what the resolver needs — project pages and core metadata — once
//! per key, concurrently: the solver runs on a blocking thread and asks for
//! data synchronously, while prefetches run on the async runtime ahead of it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use pyward_dist::{CoreMetadata, PackageName, Tags, Version};
use pyward_index::{DistFile, IndexClient, IndexError, ProjectPage};
use tokio::runtime::Handle;
use tokio::sync::OnceCell;

use crate::candidates::{CandidateFilter, Candidates};

/// A fetch failure, cheap to clone so every waiter gets it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

impl From<IndexError> for FetchError {
    fn from(e: IndexError) -> Self {
        FetchError(e.to_string())
    }
}

/// A project page with its candidates computed for the target.
#[derive(Debug)]
pub struct ProjectInfo {
    pub page: ProjectPage,
    pub candidates: Candidates,
}

type ProjectCell = Arc<OnceCell<Result<Option<Arc<ProjectInfo>>, FetchError>>>;
type MetadataCell = Arc<OnceCell<Result<Arc<CoreMetadata>, FetchError>>>;

struct Inner {
    client: IndexClient,
    tags: Tags,
    python: Version,
    filter: CandidateFilter,
    /// Where wheels downloaded for their metadata are kept (reused by install).
    archive_dir: PathBuf,
    /// Try reading a wheel's METADATA by HTTP range requests before
    /// downloading it whole.
    metadata_by_range: bool,
    projects: Mutex<HashMap<PackageName, ProjectCell>>,
    metadata: Mutex<HashMap<(PackageName, Version), MetadataCell>>,
    /// Whole wheels downloaded because the index had no metadata file.
    downloaded_files: AtomicU64,
    downloaded_bytes: AtomicU64,
    /// Wheels whose METADATA was read by range requests.
    range_reads: AtomicU64,
}

/// Shared, cloneable fetcher.
#[derive(Clone)]
pub struct Fetcher {
    inner: Arc<Inner>,
    handle: Handle,
}

impl Fetcher {
    pub fn new(
        client: IndexClient,
        tags: Tags,
        python: Version,
        filter: CandidateFilter,
        archive_dir: PathBuf,
        metadata_by_range: bool,
        handle: Handle,
    ) -> Self {
        Fetcher {
            inner: Arc::new(Inner {
                client,
                tags,
                python,
                filter,
                archive_dir,
                metadata_by_range,
                projects: Mutex::new(HashMap::new()),
                metadata: Mutex::new(HashMap::new()),
                downloaded_files: AtomicU64::new(0),
                downloaded_bytes: AtomicU64::new(0),
                range_reads: AtomicU64::new(0),
            }),
            handle,
        }
    }

    fn project_cell(&self, name: &PackageName) -> ProjectCell {
        let mut map = self
            .inner
            .projects
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry(name.clone()).or_default().clone()
    }

    fn metadata_cell(&self, name: &PackageName, version: &Version) -> MetadataCell {
        let mut map = self
            .inner
            .metadata
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        map.entry((name.clone(), version.clone()))
            .or_default()
            .clone()
    }

    /// The project page and candidates (async).
    pub async fn project(
        &self,
        name: &PackageName,
    ) -> Result<Option<Arc<ProjectInfo>>, FetchError> {
        let cell = self.project_cell(name);
        let inner = self.inner.clone();
        let name = name.clone();
        cell.get_or_init(|| async move {
            let page = inner.client.project(&name).await?;
            Ok(page.map(|page| {
                let candidates =
                    Candidates::from_page(&page, &inner.tags, &inner.python, &inner.filter);
                Arc::new(ProjectInfo { page, candidates })
            }))
        })
        .await
        .clone()
    }

    /// Core metadata of `name==version` from `file` (async).
    pub async fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
        file: &DistFile,
    ) -> Result<Arc<CoreMetadata>, FetchError> {
        self.metadata_reading(name, version, file, self.inner.metadata_by_range)
            .await
    }

    /// The same; `by_range`: where the index has no metadata file, try HTTP
    /// range requests before downloading the whole wheel.
    async fn metadata_reading(
        &self,
        name: &PackageName,
        version: &Version,
        file: &DistFile,
        by_range: bool,
    ) -> Result<Arc<CoreMetadata>, FetchError> {
        let cell = self.metadata_cell(name, version);
        let this = self.clone();
        let file = file.clone();
        let (name, version) = (name.clone(), version.clone());
        cell.get_or_init(|| async move {
            let bytes = match this.inner.client.metadata(&file).await {
                Ok(b) => b,
                Err(IndexError::NoMetadataFile { .. }) => {
                    this.metadata_from_wheel(&file, by_range).await?
                }
                Err(e) => return Err(e.into()),
            };
            let md = CoreMetadata::parse(&bytes).map_err(|e| {
                FetchError(format!(
                    "the metadata of {} is unusable: {e}",
                    file.filename
                ))
            })?;
            if md.name != name || md.version != version {
                return Err(FetchError(format!(
                    "{} declares itself as {} {} in its metadata, not {} {}",
                    file.filename, md.name, md.version, name, version
                )));
            }
            Ok(Arc::new(md))
        })
        .await
        .clone()
    }

    /// Read the METADATA of a wheel: from the archive cache when the wheel is
    /// there, else by range requests when enabled, else (or when that fails)
    /// by downloading the whole wheel (verified against the index hash).
    async fn metadata_from_wheel(
        &self,
        file: &DistFile,
        by_range: bool,
    ) -> Result<Vec<u8>, FetchError> {
        let dir = self.inner.archive_dir.clone();
        let expected = file.hashes.sha256.clone();
        let path = match &expected {
            Some(h) => dir.join(h),
            None => dir.join(format!("unverified-{}", file.filename)),
        };
        let have_wheel = expected.is_some() && path.exists();
        if by_range && !have_wheel {
            match self.inner.client.wheel_metadata_by_range(file).await {
                Ok(bytes) => {
                    self.inner.range_reads.fetch_add(1, Ordering::Relaxed);
                    return Ok(bytes);
                }
                Err(e) => tracing::debug!("downloading the whole wheel instead: {e}"),
            }
        }
        fs_err::create_dir_all(&dir).map_err(|e| FetchError(e.to_string()))?;
        if !have_wheel {
            let got = self
                .inner
                .client
                .download(&file.url, &path, |_| {}, file.size)
                .await?;
            self.inner.downloaded_files.fetch_add(1, Ordering::Relaxed);
            self.inner
                .downloaded_bytes
                .fetch_add(got.size, Ordering::Relaxed);
            if let Some(h) = &expected {
                if !got.sha256.eq_ignore_ascii_case(h) {
                    let _ = fs_err::remove_file(&path);
                    return Err(FetchError(format!(
                        "{} does not match the sha256 the index published (expected {h}, got {}); nothing was installed",
                        file.filename, got.sha256
                    )));
                }
            }
        }
        let filename = file.filename.clone();
        tokio::task::spawn_blocking(move || {
            pyward_archive::read_wheel_metadata(&path)
                .map_err(|e| FetchError(format!("cannot read the metadata of {filename}: {e}")))
        })
        .await
        .map_err(|e| FetchError(e.to_string()))?
    }

    /// Files and bytes downloaded so far (wheels read for their metadata).
    pub fn downloaded(&self) -> (u64, u64) {
        (
            self.inner.downloaded_files.load(Ordering::Relaxed),
            self.inner.downloaded_bytes.load(Ordering::Relaxed),
        )
    }

    /// Wheels whose METADATA was read by range requests so far.
    pub fn range_reads(&self) -> u64 {
        self.inner.range_reads.load(Ordering::Relaxed)
    }

    /// Blocking variants for the solver thread.
    pub fn project_blocking(
        &self,
        name: &PackageName,
    ) -> Result<Option<Arc<ProjectInfo>>, FetchError> {
        self.handle.block_on(self.project(name))
    }

    /// `guess`: the solver may well not keep this version (it tried others
    /// of the project before), so where the index has no metadata file it
    /// is read by range requests rather than by downloading the wheel.
    pub fn metadata_blocking(
        &self,
        name: &PackageName,
        version: &Version,
        file: &DistFile,
        guess: bool,
    ) -> Result<Arc<CoreMetadata>, FetchError> {
        let by_range = self.inner.metadata_by_range || guess;
        self.handle
            .block_on(self.metadata_reading(name, version, file, by_range))
    }

    /// Start reading the metadata of versions the solver may try next,
    /// without waiting. These are guesses, so where the index has no
    /// metadata files they are read by range requests even when the
    /// resolution would otherwise download whole wheels.
    pub fn prefetch_metadata(&self, name: &PackageName, versions: Vec<(Version, DistFile)>) {
        for (version, file) in versions {
            let this = self.clone();
            let name = name.clone();
            self.handle.spawn(async move {
                let _ = this.metadata_reading(&name, &version, &file, true).await;
            });
        }
    }

    /// Start fetching a project page and, once known, the metadata of the
    /// version `pick` would choose — without waiting.
    /// `guess`: as for [`Fetcher::metadata_blocking`].
    pub fn prefetch<F>(&self, name: PackageName, guess: bool, pick: F)
    where
        F: FnOnce(&ProjectInfo) -> Option<(Version, DistFile)> + Send + 'static,
    {
        let this = self.clone();
        let by_range = self.inner.metadata_by_range || guess;
        self.handle.spawn(async move {
            if let Ok(Some(info)) = this.project(&name).await {
                if let Some((version, file)) = pick(&info) {
                    let _ = this
                        .metadata_reading(&name, &version, &file, by_range)
                        .await;
                }
            }
        });
    }
}
