//! The pubgrub `DependencyProvider`: which versions exist, which to try first,
//! and what each version depends on for the target environment.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::fmt;
use std::sync::Arc;

use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics,
};
use pyward_dist::{
    CoreMetadata, DistFilename, ExtraName, MarkerEnvironment, PackageName, Requirement, Version,
    VersionOrUrl,
};
use pyward_index::{DistFile, IndexUrl};
use version_ranges::Ranges;

use crate::candidates::Formats;
use crate::fetch::{FetchError, Fetcher, ProjectInfo};
use crate::{Prerelease, SdistMetadata, Upgrade};

/// A node of the dependency graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pkg {
    /// What the user asked for.
    Root,
    /// A distribution.
    Dist(PackageName),
    /// A distribution with one extra enabled (depends on `Dist` at the same version).
    Extra(PackageName, ExtraName),
}

impl Pkg {
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            Pkg::Root => None,
            Pkg::Dist(n) | Pkg::Extra(n, _) => Some(n),
        }
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root => write!(f, "your requirements"),
            Pkg::Dist(n) => write!(f, "{n}"),
            Pkg::Extra(n, e) => write!(f, "{n}[{e}]"),
        }
    }
}

/// Why a version cannot be used, in plain words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unusable {
    Metadata(String),
    RequiresPython(String),
    DirectUrl(String),
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unusable::Metadata(m) => write!(f, "its metadata could not be used ({m})"),
            Unusable::RequiresPython(s) => write!(f, "it requires Python {s}"),
            Unusable::DirectUrl(r) => {
                write!(
                    f,
                    "it depends on a direct URL ({r}), which index packages may not do"
                )
            }
        }
    }
}

/// Versions whose metadata came from their sdist, with the sdist.
pub(crate) type FromSource = HashMap<(PackageName, Version), (DistFile, Arc<CoreMetadata>)>;

/// A distribution supplied directly (local file or URL), with known metadata.
#[derive(Debug, Clone)]
pub struct FixedDist {
    pub metadata: CoreMetadata,
}

pub(crate) struct Provider {
    pub fetcher: Fetcher,
    pub markers: MarkerEnvironment,
    pub python: Version,
    pub root_requirements: Vec<Requirement>,
    pub constraints: HashMap<PackageName, Ranges<Version>>,
    pub fixed: HashMap<PackageName, FixedDist>,
    pub preferences: HashMap<PackageName, Version>,
    pub upgrade: Upgrade,
    pub prerelease: Prerelease,
    /// Packages for which a requirement names a pre-release explicitly.
    pub explicit_pre: HashSet<PackageName>,
    /// Building from source, when sdists may be used at all.
    pub sdists: Option<Arc<dyn SdistMetadata>>,
    /// Discovery order, for a stable breadth-first priority.
    pub order: RefCell<HashMap<Pkg, usize>>,
    /// Names no index has.
    pub not_found: RefCell<BTreeSet<PackageName>>,
    /// Versions skipped because only an sdist exists (for the error message).
    pub sdist_only: RefCell<BTreeSet<(PackageName, Version)>>,
    /// Versions skipped because they must be built from source but have no sdist.
    pub wheel_only: RefCell<BTreeSet<(PackageName, Version)>>,
    /// Metadata learned from sdists, with the sdist, by name and version.
    pub from_source: RefCell<FromSource>,
    /// Why reading an sdist's metadata failed; it stops the resolution.
    pub build_failure: RefCell<Option<String>>,
    /// The versions of each project tried so far, and the lowest version
    /// whose metadata a batch prefetch has asked for.
    pub backtracking: RefCell<HashMap<PackageName, Walk>>,
    /// Projects decided before all others, in this order: each was walked
    /// down version after version in an earlier attempt (see
    /// [`Provider::take_restart`]).
    pub early: Vec<PackageName>,
    /// How many more projects may be moved to `early`.
    pub restarts_left: usize,
    /// Set when this attempt should stop and the resolution start again
    /// with this project decided early.
    pub restart: RefCell<Option<PackageName>>,
}

/// What the solver did with one project's versions so far.
#[derive(Debug, Default)]
pub struct Walk {
    tried: BTreeSet<Version>,
    /// The lowest version a batch prefetch asked for.
    floor: Option<Version>,
}

/// After this many versions of one project were tried, the solver is
/// walking down its versions because of a conflict: the metadata of the
/// next versions is read ahead, and the resolution starts again with the
/// project decided early.
const BATCH_AFTER: usize = 5;
/// How many versions below the one tried are read ahead.
const BATCH_WINDOW: usize = 30;

impl Provider {
    fn order_of(&self, p: &Pkg) -> usize {
        let mut order = self.order.borrow_mut();
        let next = order.len();
        *order.entry(p.clone()).or_insert(next)
    }

    fn preferred(&self, name: &PackageName) -> Option<&Version> {
        if self.upgrade.applies_to(name) {
            return None;
        }
        self.preferences.get(name)
    }

    fn allows_pre(&self, name: &PackageName) -> bool {
        self.prerelease == Prerelease::Allow || self.explicit_pre.contains(name)
    }

    /// Which files of `name` may be used.
    pub fn formats(&self, name: &PackageName) -> Formats {
        match &self.sdists {
            Some(hook) if hook.may_build(name).is_ok() => {
                if hook.source_only(name) {
                    Formats::Sdist
                } else {
                    Formats::WheelsThenSdist
                }
            }
            _ => Formats::Wheels,
        }
    }

    /// Why sdists of `name` may not be used, as a clause following "and".
    pub fn build_refusal(&self, name: &PackageName) -> String {
        match &self.sdists {
            Some(hook) => hook
                .may_build(name)
                .err()
                .unwrap_or_else(|| "it could not be used".to_string()),
            None => "this command installs only wheels".to_string(),
        }
    }

    /// Whether more than one version of `name` was tried in this attempt
    /// (so the one being read may not be kept).
    fn walked(&self, name: &PackageName) -> bool {
        self.backtracking
            .borrow()
            .get(name)
            .is_some_and(|walk| walk.tried.len() > 1)
    }

    /// Whether this attempt stopped to start again with another project
    /// decided early. A project walked down version after version is in
    /// conflict with one decided before it (`boto3<1.30` with
    /// `aiobotocore`, whose newest releases pin a newer botocore): going on
    /// would settle for a very old release of it. Starting again with it
    /// decided first keeps its newest fitting release and lets the other
    /// project move instead, as uv's resolver does. Bounded: at most a few
    /// restarts, and a project moves early once.
    pub fn take_restart(&self) -> Option<PackageName> {
        self.restart.borrow_mut().take()
    }

    /// When the solver walks down the versions of `name` (one conflict after
    /// another, as with packages that pin each other exactly), read the
    /// metadata of the next versions it may try in parallel instead of one
    /// at a time: a window of versions below `tried`, in `range`, that have
    /// a wheel (an sdist's metadata needs a build, which waits).
    fn read_ahead(
        &self,
        name: &PackageName,
        info: &ProjectInfo,
        range: &Ranges<Version>,
        tried: &Version,
    ) {
        let mut backtracking = self.backtracking.borrow_mut();
        let walk = backtracking.entry(name.clone()).or_default();
        walk.tried.insert(tried.clone());
        if walk.tried.len() < BATCH_AFTER {
            return;
        }
        if walk.tried.len() == BATCH_AFTER && self.restarts_left > 0 && !self.early.contains(name) {
            self.restart
                .borrow_mut()
                .get_or_insert_with(|| name.clone());
        }
        let floor = &mut walk.floor;
        let formats = self.formats(name);
        let allow_pre = self.allows_pre(name);
        let mut batch = Vec::new();
        let below = info
            .candidates
            .versions
            .range(..tried.clone())
            .rev()
            .filter(|(v, c)| {
                range.contains(v) && c.yanked.is_none() && (allow_pre || !v.any_prerelease())
            })
            .take(BATCH_WINDOW);
        for (v, c) in below {
            if floor.as_ref().is_some_and(|f| v >= f) {
                continue;
            }
            if let Some(file) = c.file(formats) {
                if matches!(file.dist, DistFilename::Wheel(_)) {
                    batch.push((v.clone(), file.clone()));
                }
            }
            *floor = Some(v.clone());
        }
        if !batch.is_empty() {
            self.fetcher.prefetch_metadata(name, batch);
        }
    }

    /// The version to try for `name` within `range`.
    pub fn pick(
        &self,
        name: &PackageName,
        info: &ProjectInfo,
        range: &Ranges<Version>,
    ) -> Option<Version> {
        let formats = self.formats(name);
        pick_version(
            info,
            range,
            self.preferred(name),
            self.allows_pre(name),
            formats,
            |v| {
                let skipped = if formats == Formats::Sdist {
                    &self.wheel_only
                } else {
                    &self.sdist_only
                };
                skipped.borrow_mut().insert((name.clone(), v.clone()));
            },
        )
    }

    fn requirement_edges(
        &self,
        req: &Requirement,
        out: &mut Vec<(Pkg, Ranges<Version>)>,
    ) -> Result<(), Unusable> {
        let mut range = match &req.version_or_url {
            None => Ranges::full(),
            Some(VersionOrUrl::VersionSpecifier(s)) => Ranges::from(s.clone()),
            Some(VersionOrUrl::Url(u)) => {
                if self.fixed.contains_key(&req.name) {
                    Ranges::full()
                } else {
                    return Err(Unusable::DirectUrl(u.to_string()));
                }
            }
        };
        if let Some(c) = self.constraints.get(&req.name) {
            range = range.intersection(c);
        }
        out.push((Pkg::Dist(req.name.clone()), range.clone()));
        for extra in &req.extras {
            out.push((Pkg::Extra(req.name.clone(), extra.clone()), range.clone()));
        }
        Ok(())
    }

    /// Start fetching what the solver will ask for next: the page and the
    /// likely version's metadata of each dependency. `guess`: the version
    /// whose dependencies these are is one of several tried, so the
    /// dependencies' wheels may never be used (read their metadata by
    /// range requests rather than downloading them).
    fn prefetch_edges(&self, edges: &[(Pkg, Ranges<Version>)], guess: bool) {
        for (pkg, range) in edges {
            let Pkg::Dist(name) = pkg else { continue };
            if self.fixed.contains_key(name) {
                continue;
            }
            let preferred = self.preferred(name).cloned();
            let allow_pre = self.allows_pre(name);
            let formats = self.formats(name);
            let range = range.clone();
            self.fetcher.prefetch(name.clone(), guess, move |info| {
                let v = pick_version(info, &range, preferred.as_ref(), allow_pre, formats, |_| {})?;
                // An sdist's metadata needs a build, which waits for the solver.
                let file = info.candidates.versions.get(&v)?.file(formats)?;
                matches!(file.dist, DistFilename::Wheel(_)).then(|| (v, file.clone()))
            });
        }
    }

    fn metadata_for(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Result<std::sync::Arc<CoreMetadata>, Unusable>, FetchError> {
        if let Some(fixed) = self.fixed.get(name) {
            return Ok(Ok(std::sync::Arc::new(fixed.metadata.clone())));
        }
        let Some(info) = self.fetcher.project_blocking(name)? else {
            return Ok(Err(Unusable::Metadata(
                "the project is not on the index".into(),
            )));
        };
        let Some(candidate) = info.candidates.versions.get(version) else {
            return Ok(Err(Unusable::Metadata("no file for this version".into())));
        };
        let formats = self.formats(name);
        let Some(file) = candidate.file(formats) else {
            return Ok(Err(Unusable::Metadata(if formats == Formats::Sdist {
                "it has no source distribution".into()
            } else {
                "only a source distribution exists".into()
            })));
        };
        if matches!(file.dist, DistFilename::Sdist(_)) {
            return self.metadata_from_source(name, version, file, &info.page.index);
        }
        match self
            .fetcher
            .metadata_blocking(name, version, file, self.walked(name))
        {
            Ok(md) => Ok(Ok(md)),
            Err(e) => Ok(Err(Unusable::Metadata(e.0))),
        }
    }

    /// The metadata of an sdist, from the hook (once per version). A failure
    /// stops the resolution: trying older versions would mean more builds.
    fn metadata_from_source(
        &self,
        name: &PackageName,
        version: &Version,
        file: &DistFile,
        index: &IndexUrl,
    ) -> Result<Result<Arc<CoreMetadata>, Unusable>, FetchError> {
        let key = (name.clone(), version.clone());
        if let Some((_, md)) = self.from_source.borrow().get(&key) {
            return Ok(Ok(md.clone()));
        }
        let Some(hook) = &self.sdists else {
            return Ok(Err(Unusable::Metadata(
                "only a source distribution exists".into(),
            )));
        };
        let failure = match hook.metadata(name, version, file, index) {
            Ok(md) if &md.name == name && &md.version == version => {
                let md = Arc::new(md);
                self.from_source
                    .borrow_mut()
                    .insert(key, (file.clone(), md.clone()));
                return Ok(Ok(md));
            }
            Ok(md) => format!(
                "the metadata built from {} names {} {}, not {name} {version}",
                file.filename, md.name, md.version
            ),
            Err(message) => message,
        };
        *self.build_failure.borrow_mut() = Some(failure.clone());
        Err(FetchError(failure))
    }
}

/// Choose a version of a project within `range`: the preferred (installed or
/// locked) version when it fits, else the highest usable one. Pre-releases only
/// when allowed, or when no final release fits (as pip does). Yanked releases
/// only when the range pins exactly that version (PEP 592).
/// `on_other_format` hears of versions skipped only because their files are
/// of a kind `formats` excludes (an sdist that may not be built, or wheels
/// where only source may be used).
pub fn pick_version(
    info: &ProjectInfo,
    range: &Ranges<Version>,
    preferred: Option<&Version>,
    allow_pre: bool,
    formats: Formats,
    mut on_other_format: impl FnMut(&Version),
) -> Option<Version> {
    let usable = |v: &Version| -> bool {
        let Some(c) = info.candidates.versions.get(v) else {
            return false;
        };
        if c.yanked.is_some() && range.as_singleton() != Some(v) {
            return false;
        }
        c.file(formats).is_some()
    };
    if let Some(p) = preferred {
        if range.contains(p) && usable(p) {
            return Some(p.clone());
        }
    }
    let mut fallback_pre = None;
    for (v, c) in info.candidates.versions.iter().rev() {
        if !range.contains(v) {
            continue;
        }
        if !usable(v) {
            if c.file(Formats::WheelsThenSdist).is_some()
                && (c.yanked.is_none() || range.as_singleton() == Some(v))
            {
                on_other_format(v);
            }
            continue;
        }
        if v.any_prerelease() && !allow_pre {
            if fallback_pre.is_none() {
                fallback_pre = Some(v.clone());
            }
            continue;
        }
        return Some(v.clone());
    }
    fallback_pre
}

impl DependencyProvider for Provider {
    type P = Pkg;
    type V = Version;
    type VS = Ranges<Version>;
    type M = Unusable;
    type Priority = (Option<Reverse<usize>>, u32, bool, Reverse<usize>);
    type Err = FetchError;

    fn prioritize(
        &self,
        package: &Pkg,
        range: &Ranges<Version>,
        stats: &PackageResolutionStatistics,
    ) -> Self::Priority {
        let singleton = range.as_singleton().is_some() || matches!(package, Pkg::Root);
        let early = match package {
            Pkg::Dist(name) => self.early.iter().position(|e| e == name).map(Reverse),
            _ => None,
        };
        (
            early,
            stats.conflict_count(),
            singleton,
            Reverse(self.order_of(package)),
        )
    }

    /// Stop this attempt when a project is being walked down (see
    /// [`Provider::take_restart`]).
    fn should_cancel(&self) -> Result<(), FetchError> {
        match &*self.restart.borrow() {
            Some(name) => Err(FetchError(format!("starting again with {name} first"))),
            None => Ok(()),
        }
    }

    fn choose_version(
        &self,
        package: &Pkg,
        range: &Ranges<Version>,
    ) -> Result<Option<Version>, FetchError> {
        match package {
            Pkg::Root => Ok(Some(Version::new([0]))),
            Pkg::Dist(name) | Pkg::Extra(name, _) => {
                if let Some(fixed) = self.fixed.get(name) {
                    let v = &fixed.metadata.version;
                    return Ok(range.contains(v).then(|| v.clone()));
                }
                match self.fetcher.project_blocking(name)? {
                    None => {
                        self.not_found.borrow_mut().insert(name.clone());
                        Ok(None)
                    }
                    Some(info) => {
                        let picked = self.pick(name, &info, range);
                        if let (Some(v), Pkg::Dist(_)) = (&picked, package) {
                            self.read_ahead(name, &info, range, v);
                        }
                        Ok(picked)
                    }
                }
            }
        }
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Ranges<Version>, Unusable>, FetchError> {
        let mut edges = Vec::new();
        match package {
            Pkg::Root => {
                for req in &self.root_requirements {
                    if !req.evaluate_markers(&self.markers, &[]) {
                        continue;
                    }
                    if let Err(u) = self.requirement_edges(req, &mut edges) {
                        return Ok(Dependencies::Unavailable(u));
                    }
                }
            }
            Pkg::Dist(name) | Pkg::Extra(name, _) => {
                let md = match self.metadata_for(name, version)? {
                    Ok(md) => md,
                    Err(u) => return Ok(Dependencies::Unavailable(u)),
                };
                if let Some(rp) = &md.requires_python {
                    if !rp.contains(&self.python) {
                        return Ok(Dependencies::Unavailable(Unusable::RequiresPython(
                            rp.to_string(),
                        )));
                    }
                }
                let extras: Vec<ExtraName> = match package {
                    Pkg::Extra(_, e) => vec![e.clone()],
                    _ => Vec::new(),
                };
                if let Pkg::Extra(..) = package {
                    edges.push((Pkg::Dist(name.clone()), Ranges::singleton(version.clone())));
                }
                for req in &md.requires_dist {
                    if !req.evaluate_markers(&self.markers, &extras) {
                        continue;
                    }
                    if let Pkg::Extra(..) = package {
                        // Only what the extra adds; the base edges come with Dist.
                        if req.evaluate_markers(&self.markers, &[]) {
                            continue;
                        }
                    }
                    if &req.name == name {
                        // A self-dependency can only add extras, at this same version.
                        for e in &req.extras {
                            edges.push((
                                Pkg::Extra(name.clone(), e.clone()),
                                Ranges::singleton(version.clone()),
                            ));
                        }
                        continue;
                    }
                    if let Err(u) = self.requirement_edges(req, &mut edges) {
                        return Ok(Dependencies::Unavailable(u));
                    }
                }
            }
        }
        let guess = package.name().is_some_and(|name| self.walked(name));
        self.prefetch_edges(&edges, guess);
        // Merge duplicate edges (pubgrub expects one range per package).
        let mut merged: Vec<(Pkg, Ranges<Version>)> = Vec::new();
        for (p, r) in edges {
            if let Some(existing) = merged.iter_mut().find(|(q, _)| q == &p) {
                existing.1 = existing.1.intersection(&r);
            } else {
                self.order_of(&p);
                merged.push((p, r));
            }
        }
        Ok(Dependencies::Available(DependencyConstraints::from_iter(
            merged,
        )))
    }
}
