//! The resolver: turns requirements into a pinned set of distributions for one
//! target interpreter, reading only index pages and core metadata (PEP 658, or
//! the wheel itself when the index has no metadata file: read by range
//! requests when asked, else downloaded). Built on pubgrub so
//! that conflicts come with an explanation. Versions published only as source
//! are used when the caller can build them ([`SdistMetadata`]).

mod candidates;
mod fetch;
mod provider;
mod report;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use pubgrub::{DefaultStringReporter, PubGrubError, Reporter};
use pyward_dist::{
    CoreMetadata, ExtraName, MarkerEnvironment, PackageName, Requirement, Tags, Version,
    VersionOrUrl,
};
use pyward_index::{DistFile, IndexClient, IndexUrl};
use version_ranges::Ranges;

pub use candidates::{CandidateFilter, Candidates, VersionCandidate};
pub use fetch::{FetchError, Fetcher, ProjectInfo};
pub use provider::FixedDist;
use provider::{Pkg, Provider};

/// Pre-release policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Prerelease {
    /// Only when a requirement names a pre-release, or no final release fits.
    #[default]
    IfNecessaryOrExplicit,
    /// Always allowed (`--pre`).
    Allow,
}

/// Which preferred (installed or locked) versions may be replaced by newer ones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Upgrade {
    #[default]
    None,
    All,
    Packages(HashSet<PackageName>),
}

impl Upgrade {
    pub fn applies_to(&self, name: &PackageName) -> bool {
        match self {
            Upgrade::None => false,
            Upgrade::All => true,
            Upgrade::Packages(p) => p.contains(name),
        }
    }
}

/// The interpreter being resolved for.
#[derive(Debug, Clone)]
pub struct Target {
    pub markers: MarkerEnvironment,
    pub tags: Tags,
    pub python: Version,
}

/// What to resolve.
#[derive(Debug, Clone, Default)]
pub struct ResolveInput {
    /// Direct requirements (markers evaluated against the target).
    pub requirements: Vec<Requirement>,
    /// Constraints: limit versions of a package only if something needs it.
    pub constraints: Vec<Requirement>,
    /// Distributions given directly (local files, URLs), with their metadata.
    pub fixed: Vec<FixedDist>,
}

/// Building from source during resolution: which projects may be built, and
/// the metadata of an sdist (from its build backend). Called on the solver's
/// blocking thread; `metadata` may take as long as a build.
pub trait SdistMetadata: Send + Sync {
    /// `Ok` when `name` may be built from source; `Err` says why not, as a
    /// clause that follows "and" (e.g. "--no-build forbids building from
    /// source"), shown when only an sdist would fit.
    fn may_build(&self, name: &PackageName) -> Result<(), String>;

    /// Whether `name` must be built from source even where a wheel exists
    /// (`--no-binary`).
    fn source_only(&self, _name: &PackageName) -> bool {
        false
    }

    /// The core metadata of `name` `version` from its `sdist`, found on
    /// `index`. An error stops the resolution with that message.
    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
        sdist: &DistFile,
        index: &IndexUrl,
    ) -> Result<CoreMetadata, String>;
}

impl fmt::Debug for dyn SdistMetadata {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SdistMetadata")
    }
}

/// How to resolve.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    pub prerelease: Prerelease,
    pub upgrade: Upgrade,
    /// Versions to keep when they still fit (installed or locked).
    pub preferences: HashMap<PackageName, Version>,
    /// Ignore files uploaded after this RFC 3339 timestamp (release cooldown).
    pub exclude_newer: Option<String>,
    /// Whether versions without a usable wheel may be built from source;
    /// needs `sdist_metadata`. A version with a wheel still uses the wheel
    /// (unless the hook says the project is built from source only).
    pub allow_sdist: bool,
    /// Which projects may be built and how their metadata is read.
    pub sdist_metadata: Option<Arc<dyn SdistMetadata>>,
    /// Where wheels downloaded only for their metadata are kept.
    pub archive_dir: PathBuf,
    /// When the index has no metadata file for a wheel, read its METADATA
    /// with HTTP range requests (a few kilobytes) before downloading the
    /// whole wheel; any failure falls back to the download. For commands
    /// that install nothing (lock, audit, compile); an install leaves it off,
    /// since it downloads the wheels anyway and reuses them.
    pub metadata_by_range: bool,
}

/// Where a resolved distribution comes from.
#[derive(Debug, Clone)]
pub enum ResolvedSource {
    /// A file on an index: a wheel, or an sdist to build.
    Index {
        file: Box<DistFile>,
        index: IndexUrl,
    },
    /// Given directly by the user.
    Fixed,
}

/// One pinned distribution.
#[derive(Debug, Clone)]
pub struct ResolvedPackage {
    pub name: PackageName,
    pub version: Version,
    pub source: ResolvedSource,
    /// Extras that were requested of it.
    pub extras: BTreeSet<ExtraName>,
    pub metadata: Arc<CoreMetadata>,
    /// Names it depends on in this resolution.
    pub dependencies: BTreeSet<PackageName>,
    /// Whether the user asked for it directly.
    pub direct: bool,
    /// PEP 592 yank reason, when a yanked release was pinned exactly.
    pub yanked: Option<String>,
    /// PEP 792 status of the project, when its index page gives one.
    pub project_status: Option<pyward_index::ProjectStatus>,
}

/// The result of a resolution.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    /// Sorted by name.
    pub packages: Vec<ResolvedPackage>,
    /// Whole files downloaded while resolving (when the index publishes no
    /// separate metadata); they stay in the archive cache for the install.
    pub downloaded_files: u64,
    pub downloaded_bytes: u64,
    /// Wheels whose metadata was read with HTTP range requests instead of
    /// being downloaded, now or in an earlier run whose result is cached
    /// (`ResolveOptions::metadata_by_range`).
    pub range_reads: u64,
}

/// Why resolution failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ResolveError {
    /// No set of versions satisfies the requirements; the text explains why.
    #[error("{0}")]
    NoSolution(String),
    /// The index could not be read.
    #[error("{0}")]
    Fetch(#[from] FetchError),
    /// The metadata of an sdist could not be built; the text says why.
    #[error("{0}")]
    Build(String),
    #[error("the resolver stopped unexpectedly: {0}")]
    Internal(String),
}

/// Resolve `input` for `target` against the indexes of `client`.
pub async fn resolve(
    client: IndexClient,
    target: Target,
    input: ResolveInput,
    options: ResolveOptions,
) -> Result<Resolution, ResolveError> {
    let handle = tokio::runtime::Handle::current();
    let fetcher = Fetcher::new(
        client,
        target.tags.clone(),
        target.python.clone(),
        CandidateFilter {
            exclude_newer: options.exclude_newer.clone(),
        },
        options.archive_dir.clone(),
        options.metadata_by_range,
        handle,
    );
    let direct: BTreeSet<PackageName> = input.requirements.iter().map(|r| r.name.clone()).collect();
    // Start fetching every direct requirement at once.
    for req in &input.requirements {
        if !input.fixed.iter().any(|f| f.metadata.name == req.name) {
            let f = fetcher.clone();
            let name = req.name.clone();
            tokio::spawn(async move {
                let _ = f.project(&name).await;
            });
        }
    }
    let fetcher2 = fetcher.clone();
    let solved = tokio::task::spawn_blocking(move || solve(fetcher2, target, input, options))
        .await
        .map_err(|e| ResolveError::Internal(e.to_string()))??;

    let mut by_name: BTreeMap<PackageName, (Version, BTreeSet<ExtraName>)> = BTreeMap::new();
    for (pkg, version) in &solved.selected {
        match pkg {
            Pkg::Root => {}
            Pkg::Dist(n) => {
                by_name
                    .entry(n.clone())
                    .or_insert_with(|| (version.clone(), BTreeSet::new()))
                    .0 = version.clone();
            }
            Pkg::Extra(n, e) => {
                by_name
                    .entry(n.clone())
                    .or_insert_with(|| (version.clone(), BTreeSet::new()))
                    .1
                    .insert(e.clone());
            }
        }
    }
    let mut packages = Vec::with_capacity(by_name.len());
    for (name, (version, extras)) in by_name {
        let (source, metadata, yanked, project_status) = match solved.fixed.get(&name) {
            Some(f) => (
                ResolvedSource::Fixed,
                Arc::new(f.metadata.clone()),
                None,
                None,
            ),
            None => {
                let info = fetcher
                    .project(&name)
                    .await?
                    .ok_or_else(|| ResolveError::Internal(format!("{name} disappeared")))?;
                let candidate = info.candidates.versions.get(&version).ok_or_else(|| {
                    ResolveError::Internal(format!("{name} {version} has no candidate"))
                })?;
                let (file, md) = match solved.from_source.get(&(name.clone(), version.clone())) {
                    Some((sdist, md)) => (sdist.clone(), md.clone()),
                    None => {
                        let (_, file) = candidate.wheel.clone().ok_or_else(|| {
                            ResolveError::Internal(format!("{name} {version} has no wheel"))
                        })?;
                        let md = fetcher.metadata(&name, &version, &file).await?;
                        (file, md)
                    }
                };
                (
                    ResolvedSource::Index {
                        file: Box::new(file),
                        index: info.page.index.clone(),
                    },
                    md,
                    candidate.yanked.clone(),
                    info.page.project_status.clone(),
                )
            }
        };
        let dependencies = solved.edges.get(&name).cloned().unwrap_or_default();
        packages.push(ResolvedPackage {
            direct: direct.contains(&name),
            name,
            version,
            source,
            extras,
            metadata,
            dependencies,
            yanked,
            project_status,
        });
    }
    let (downloaded_files, downloaded_bytes) = fetcher.downloaded();
    Ok(Resolution {
        packages,
        downloaded_files,
        downloaded_bytes,
        range_reads: fetcher.range_reads(),
    })
}

/// How many times a resolution may start again with a project decided
/// early (see `Provider::take_restart`).
const MAX_RESTARTS: usize = 3;

struct Solved {
    selected: Vec<(Pkg, Version)>,
    fixed: HashMap<PackageName, FixedDist>,
    edges: HashMap<PackageName, BTreeSet<PackageName>>,
    /// Versions whose metadata came from their sdist, with the sdist.
    from_source: provider::FromSource,
}

fn solve(
    fetcher: Fetcher,
    target: Target,
    input: ResolveInput,
    options: ResolveOptions,
) -> Result<Solved, ResolveError> {
    let mut constraints: HashMap<PackageName, Ranges<Version>> = HashMap::new();
    let mut explicit_pre = HashSet::new();
    for req in input.requirements.iter().chain(&input.constraints) {
        if let Some(VersionOrUrl::VersionSpecifier(specs)) = &req.version_or_url {
            if specs.iter().any(|s| s.version().any_prerelease()) {
                explicit_pre.insert(req.name.clone());
            }
        }
    }
    for c in &input.constraints {
        if !c.evaluate_markers(&target.markers, &[]) {
            continue;
        }
        if let Some(VersionOrUrl::VersionSpecifier(specs)) = &c.version_or_url {
            let r = Ranges::from(specs.clone());
            let e = constraints
                .entry(c.name.clone())
                .or_insert_with(Ranges::full);
            *e = e.intersection(&r);
        }
    }
    let fixed: HashMap<PackageName, FixedDist> = input
        .fixed
        .into_iter()
        .map(|f| (f.metadata.name.clone(), f))
        .collect();
    let attempt = |early: Vec<PackageName>, from_source: provider::FromSource| Provider {
        fetcher: fetcher.clone(),
        markers: target.markers.clone(),
        python: target.python.clone(),
        root_requirements: input.requirements.clone(),
        constraints: constraints.clone(),
        fixed: fixed.clone(),
        preferences: options.preferences.clone(),
        upgrade: options.upgrade.clone(),
        prerelease: options.prerelease,
        explicit_pre: explicit_pre.clone(),
        sdists: options
            .sdist_metadata
            .clone()
            .filter(|_| options.allow_sdist),
        order: RefCell::new(HashMap::new()),
        not_found: RefCell::new(BTreeSet::new()),
        sdist_only: RefCell::new(BTreeSet::new()),
        wheel_only: RefCell::new(BTreeSet::new()),
        from_source: RefCell::new(from_source),
        build_failure: RefCell::new(None),
        backtracking: RefCell::new(HashMap::new()),
        restarts_left: MAX_RESTARTS - early.len(),
        early,
        restart: RefCell::new(None),
    };
    // Metadata fetched by an attempt stays in the fetcher, so starting
    // again costs little.
    let mut provider = attempt(Vec::new(), HashMap::new());
    let outcome = loop {
        let outcome = pubgrub::resolve(&provider, Pkg::Root, Version::new([0]));
        match (&outcome, provider.take_restart()) {
            (Err(PubGrubError::ErrorInShouldCancel(_)), Some(name)) => {
                let mut early = provider.early.clone();
                early.push(name);
                provider = attempt(early, provider.from_source.take());
            }
            _ => break outcome,
        }
    };
    match outcome {
        Ok(selected) => {
            let selected: Vec<(Pkg, Version)> = selected.into_iter().collect();
            // Recompute the dependency edges of the chosen versions for the lock and
            // the summary (cheap: everything is cached).
            let mut edges: HashMap<PackageName, BTreeSet<PackageName>> = HashMap::new();
            for (pkg, version) in &selected {
                let Some(name) = pkg.name() else { continue };
                if let Ok(pubgrub::Dependencies::Available(deps)) =
                    pubgrub::DependencyProvider::get_dependencies(&provider, pkg, version)
                {
                    let set = edges.entry(name.clone()).or_default();
                    for (dep, _) in deps.iter() {
                        if let Some(d) = dep.name() {
                            if d != name {
                                set.insert(d.clone());
                            }
                        }
                    }
                }
            }
            Ok(Solved {
                selected,
                fixed,
                edges,
                from_source: provider.from_source.take(),
            })
        }
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            let mut text = String::new();
            let not_found = provider.not_found.borrow();
            for name in not_found.iter() {
                text.push_str(&format!(
                    "{name} was not found on the package index. Check the spelling of the name.\n"
                ));
            }
            for (n, latest) in latest_by_name(&provider.sdist_only.borrow()) {
                text.push_str(&format!(
                    "{n} {latest} is published only as source code (an sdist) for this Python, and {}.\n",
                    provider.build_refusal(&n)
                ));
            }
            for (n, latest) in latest_by_name(&provider.wheel_only.borrow()) {
                text.push_str(&format!(
                    "{n} {latest} has no source distribution, and {n} is to be built from source only (--no-binary).\n"
                ));
            }
            let report =
                DefaultStringReporter::report_with_formatter(&tree, &report::PlainFormatter);
            let one_line = report.lines().count() <= 1;
            if text.is_empty() || !not_found.is_empty() && one_line {
                text.push_str(&report);
            } else if !one_line {
                // One line ("you asked for foo ==1.0") adds nothing to the reasons above.
                text.push_str(&format!("In detail: {report}"));
            }
            Err(ResolveError::NoSolution(text.trim_end().to_string()))
        }
        Err(PubGrubError::ErrorRetrievingDependencies { source, .. })
        | Err(PubGrubError::ErrorChoosingVersion { source, .. }) => {
            match provider.build_failure.take() {
                Some(message) => Err(ResolveError::Build(message)),
                None => Err(ResolveError::Fetch(source)),
            }
        }
        Err(PubGrubError::ErrorInShouldCancel(e)) => Err(ResolveError::Fetch(e)),
    }
}

/// The highest version per name.
fn latest_by_name(versions: &BTreeSet<(PackageName, Version)>) -> BTreeMap<PackageName, Version> {
    let mut latest: BTreeMap<PackageName, Version> = BTreeMap::new();
    for (n, v) in versions {
        let e = latest.entry(n.clone()).or_insert_with(|| v.clone());
        if v > e {
            *e = v.clone();
        }
    }
    latest
}
