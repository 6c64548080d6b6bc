//! The steps every command that resolves shares: gathering requirements from
//! arguments and files, the index client, directly given wheels, and the
//! resolver call with its error mapping.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use pyward_dist::{
    CoreMetadata, DistFilename, ExtraName, InterpreterInfo, MarkerTree, PackageName, Requirement,
    SdistFilename, Tags, Version, VersionOrUrl,
};
use pyward_guard::HashSource;
use pyward_index::{IndexClient, IndexUrl};
use pyward_lock::requirements::{RequirementSpec, RequirementsFile};
use pyward_resolve::{
    FixedDist, Prerelease, Resolution, ResolveError, ResolveInput, ResolveOptions, Target, Upgrade,
};
use url::Url;

use crate::cli::RequirementArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::{human_duration, plural};

pub const DEFAULT_INDEX: &str = "https://pypi.org/simple/";

/// `--hash` values of one requirement and the line they came from.
pub type HashPin = (Vec<String>, HashSource);

/// Everything the user asked for, gathered from arguments and files.
#[derive(Default)]
pub struct Inputs {
    pub requirements: Vec<Requirement>,
    pub constraints: Vec<Requirement>,
    /// Wheels and sdists given as a local path or URL, before they are read.
    pub pending_local: Vec<PendingLocal>,
    /// The same, once read (sdists once their metadata is known).
    pub local: Vec<LocalDist>,
    /// Sdists given as a local path or URL, fetched and hashed, whose
    /// metadata needs a build step (`build::prepare_local_sdists`).
    pub local_sdists: Vec<LocalSdist>,
    /// Project directories given as a path, to be built into sdists first
    /// (`build::prepare_local_sdists`).
    pub local_trees: Vec<LocalTree>,
    /// `--hash` pins by package name, with the line they came from.
    pub pinned_hashes: HashMap<PackageName, HashPin>,
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub pre: bool,
}

/// A file or URL the user gave, with what the requirement said around it.
pub struct PendingLocal {
    pub location: String,
    /// `name @ …`: the name the distribution must have.
    pub name: Option<PackageName>,
    pub extras: Vec<ExtraName>,
    pub marker: MarkerTree,
    /// `-e`: a project directory installed editable (PEP 660).
    pub editable: bool,
}

impl PendingLocal {
    /// The requirement that stands for the distribution once its name and
    /// version are known: `name[extras]==version ; marker`.
    fn requirement(&self, name: &PackageName, version: &Version) -> CliResult<Requirement> {
        let mut req = Requirement::from_str(&format!("{name}=={version}"))
            .map_err(|e| CliError::failed(e.to_string()))?;
        req.extras = self.extras.clone();
        req.marker = self.marker.clone();
        Ok(req)
    }
}

/// A wheel or sdist given directly, fetched and read before resolution.
pub struct LocalDist {
    pub path: PathBuf,
    pub url: Option<Url>,
    pub filename: String,
    /// A source distribution: built at install time.
    pub sdist: bool,
    /// The project directory the sdist (or editable wheel) was built from,
    /// when it was.
    pub directory: Option<PathBuf>,
    /// An editable wheel of `directory` (PEP 660).
    pub editable: bool,
    pub sha256: String,
    pub size: u64,
    pub metadata: CoreMetadata,
}

/// A project directory given as a path; nothing of it has run.
pub struct LocalTree {
    pub path: PathBuf,
    pub pending: PendingLocal,
}

/// An sdist given directly, fetched and hashed; nothing of it has run.
pub struct LocalSdist {
    pub path: PathBuf,
    pub url: Option<Url>,
    /// Its file name, and the name and version that file name claims.
    pub filename: String,
    pub parsed: SdistFilename,
    pub sha256: String,
    pub size: u64,
    /// How the user gave it, for messages.
    pub display: String,
    /// The project directory it was built from, when it was.
    pub directory: Option<PathBuf>,
}

impl Inputs {
    /// Stand a given file or directory in for any requirement of the same
    /// name: `name[extras]==version ; marker`.
    pub fn require_exactly(
        &mut self,
        pending: &PendingLocal,
        name: &PackageName,
        version: &Version,
    ) -> CliResult<()> {
        self.requirements.retain(|r| &r.name != name);
        self.requirements.push(pending.requirement(name, version)?);
        Ok(())
    }

    /// Names of the packages given as files or URLs.
    pub fn local_names(&self) -> impl Iterator<Item = &PackageName> {
        self.local
            .iter()
            .map(|l| &l.metadata.name)
            .chain(self.local_sdists.iter().map(|s| &s.parsed.name))
    }
}

pub fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// PEP 668: refuse an interpreter its distributor manages, unless told otherwise.
pub fn check_externally_managed(info: &InterpreterInfo, override_: bool) -> CliResult<()> {
    if override_ || info.is_venv() {
        return Ok(());
    }
    if let Some(message) = pyward_install::check_externally_managed(info) {
        return Err(CliError::input(format!(
            "{} is managed by your system's package manager:\n{}",
            info.executable.display(),
            indent(&message)
        ))
        .hint("create a virtual environment:  pyward venv && pyward install …")
        .hint("or, if you really mean it:  --break-system-packages"));
    }
    Ok(())
}

/// The target description the resolver needs.
pub fn target_of(info: &InterpreterInfo) -> CliResult<Target> {
    let markers = info.marker_environment().map_err(|e| {
        CliError::failed(format!(
            "the interpreter reported unusable marker values: {e}"
        ))
    })?;
    Ok(Target {
        markers,
        tags: Tags::from_interpreter(info),
        python: info.python_version(),
    })
}

pub fn gather_inputs(args: &RequirementArgs, cwd: &Path) -> CliResult<Inputs> {
    let mut inputs = Inputs::default();
    let mut local_specs: Vec<(RequirementSpec, Option<HashPin>)> = Vec::new();
    for arg in &args.packages {
        let spec = pyward_lock::requirements::parse_requirement_arg(arg, cwd)
            .map_err(|e| CliError::input(e.to_string()))?;
        local_specs.push((spec, None));
    }
    for arg in &args.editable {
        let spec = pyward_lock::requirements::parse_editable_arg(arg, cwd)
            .map_err(|e| CliError::input(e.to_string()))?;
        local_specs.push((spec, None));
    }
    for path in &args.requirements {
        let file = pyward_lock::requirements::parse_requirements_file(path)
            .map_err(|e| CliError::input(e.to_string()))?;
        absorb_file_options(&mut inputs, &file);
        for entry in file.entries {
            let hashes: Vec<String> = entry
                .hashes
                .iter()
                .filter_map(|h| h.strip_prefix("sha256:").map(|x| x.to_ascii_lowercase()))
                .collect();
            let pin = (!hashes.is_empty()).then(|| {
                (
                    hashes,
                    HashSource::Requirements {
                        path: entry.origin.file.display().to_string(),
                        line: entry.origin.line,
                    },
                )
            });
            local_specs.push((entry.spec, pin));
        }
        for c in file.constraints {
            if let RequirementSpec::Named(r) = c.spec {
                inputs.constraints.push(r);
            }
        }
    }
    for path in &args.constraints {
        let file = pyward_lock::requirements::parse_requirements_file(path)
            .map_err(|e| CliError::input(e.to_string()))?;
        for c in file.entries.into_iter().chain(file.constraints) {
            match c.spec {
                RequirementSpec::Named(r) => inputs.constraints.push(r),
                other => {
                    return Err(CliError::input(format!(
                        "{}: a constraints file may only name packages, not {other:?}",
                        c.origin
                    )))
                }
            }
        }
    }
    for (spec, pin) in local_specs {
        match spec {
            RequirementSpec::Named(req) => {
                if let Some(pin) = pin {
                    inputs.pinned_hashes.insert(req.name.clone(), pin);
                }
                if let Some(VersionOrUrl::Url(url)) = &req.version_or_url {
                    inputs.pending_local.push(PendingLocal {
                        location: url.to_string(),
                        name: Some(req.name.clone()),
                        extras: req.extras.clone(),
                        marker: req.marker.clone(),
                        editable: false,
                    });
                } else {
                    inputs.requirements.push(req);
                }
            }
            RequirementSpec::Path {
                name,
                path,
                extras,
                marker,
            } => {
                inputs.pending_local.push(PendingLocal {
                    location: path.display().to_string(),
                    name,
                    extras,
                    marker,
                    editable: false,
                });
            }
            RequirementSpec::Url {
                name,
                url,
                extras,
                marker,
            } => {
                inputs.pending_local.push(PendingLocal {
                    location: url.to_string(),
                    name,
                    extras,
                    marker,
                    editable: false,
                });
            }
            RequirementSpec::Editable { path, extras } => {
                inputs.pending_local.push(PendingLocal {
                    location: path.display().to_string(),
                    name: None,
                    extras,
                    marker: MarkerTree::default(),
                    editable: true,
                });
            }
        }
    }
    Ok(inputs)
}

fn absorb_file_options(inputs: &mut Inputs, file: &RequirementsFile) {
    if inputs.index_url.is_none() {
        inputs.index_url = file.index_url.clone();
    }
    for u in &file.extra_index_urls {
        if !inputs.extra_index_urls.contains(u) {
            inputs.extra_index_urls.push(u.clone());
        }
    }
    inputs.pre |= file.pre;
}

pub fn index_client(
    ctx: &Context,
    inputs: &Inputs,
    args: &RequirementArgs,
    config: &Config,
) -> CliResult<IndexClient> {
    let primary = args
        .index_url
        .clone()
        .or_else(|| inputs.index_url.clone())
        .or_else(|| config.index_url.clone())
        .unwrap_or_else(|| DEFAULT_INDEX.to_string());
    let mut urls = vec![primary];
    for u in args
        .extra_index_url
        .iter()
        .chain(&inputs.extra_index_urls)
        .chain(&config.extra_index_url)
    {
        if !urls.contains(u) {
            urls.push(u.clone());
        }
    }
    let mut indexes = Vec::new();
    for u in urls {
        indexes.push(IndexUrl::parse(&u).map_err(|e| CliError::input(e.to_string()))?);
    }
    IndexClient::builder()
        .indexes(indexes)
        .cache_dir(ctx.cache.index())
        .offline(ctx.offline)
        .refresh(args.refresh)
        .build()
        .map_err(|e| CliError::failed(e.to_string()))
}

/// Download (for URLs) and read every directly given wheel.
pub async fn fetch_local_dists(
    inputs: &mut Inputs,
    client: &IndexClient,
    ctx: &Context,
) -> CliResult<()> {
    for pending in std::mem::take(&mut inputs.pending_local) {
        let location = pending.location.clone();
        let parsed = Url::parse(&location).ok().filter(|u| u.scheme().len() > 1);
        let (path, url) = match &parsed {
            Some(u) if u.scheme() == "http" || u.scheme() == "https" => {
                let filename = u
                    .path_segments()
                    .and_then(|mut s| s.next_back())
                    .unwrap_or("download")
                    .to_string();
                let dir = ctx.cache.archives();
                fs_err::create_dir_all(&dir).map_err(|e| CliError::failed(e.to_string()))?;
                let dest = dir.join(format!("url-{}", filename));
                client
                    .download(u, &dest, |_| {}, None)
                    .await
                    .map_err(|e| CliError::network(e.to_string()))?;
                (dest, Some(u.clone()))
            }
            Some(u) if u.scheme() == "file" => (
                u.to_file_path()
                    .map_err(|_| CliError::input(format!("cannot use the file URL {u}")))?,
                None,
            ),
            _ => (PathBuf::from(&location), None),
        };
        if url.is_none() && path.is_dir() {
            inputs.local_trees.push(LocalTree { path, pending });
            continue;
        }
        if pending.editable {
            return Err(CliError::input(format!(
                "-e {location}: an editable install needs a project directory"
            ))
            .hint("give the directory that holds pyproject.toml or setup.py:  pyward install -e ./project")
            .hint("to install a wheel or an sdist, leave out -e"));
        }
        let display_name = url
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|| path.display().to_string());
        let filename_str = url
            .as_ref()
            .and_then(|u| {
                u.path_segments()
                    .and_then(|mut s| s.next_back())
                    .map(str::to_string)
            })
            .or_else(|| path.file_name().map(|f| f.to_string_lossy().to_string()))
            .unwrap_or_default();
        // A legacy sdist name (`my-pkg-1.0.tar.gz`) is split by the name
        // of the `name @ URL` requirement that gave it, when there is one.
        let named_by = pending.name.clone();
        let parsed = DistFilename::parse(&filename_str, None).or_else(|e| match &named_by {
            Some(name) => DistFilename::parse(&filename_str, Some(name)),
            None => Err(e),
        });
        let filename =
            match parsed {
                Ok(f) => f,
                Err(e) => return Err(CliError::input(format!(
                    "{display_name} is neither a wheel nor a source distribution (sdist): {e}"
                ))
                .hint(
                    "pyward installs .whl files, sdists (.tar.gz, .zip) and project directories",
                )),
            };
        let bytes_path = path.clone();
        let (sha256, size) = tokio::task::spawn_blocking(move || sha256_file(&bytes_path))
            .await
            .map_err(|e| CliError::failed(e.to_string()))?
            .map_err(|e| CliError::input(format!("cannot read {display_name}: {e}")))?;
        if let Some(named) = &named_by {
            if named != filename.name() {
                return Err(CliError::input(format!(
                    "{display_name} is a distribution of {}, not of {named}",
                    filename.name()
                )));
            }
        }
        let filename = match filename {
            DistFilename::Wheel(w) => w,
            DistFilename::Sdist(parsed) => {
                inputs.require_exactly(&pending, &parsed.name, &parsed.version)?;
                inputs.local_sdists.push(LocalSdist {
                    path,
                    url,
                    filename: filename_str,
                    parsed,
                    sha256,
                    size,
                    display: display_name,
                    directory: None,
                });
                continue;
            }
        };
        let md_path = path.clone();
        let metadata_bytes =
            tokio::task::spawn_blocking(move || pyward_archive::read_wheel_metadata(&md_path))
                .await
                .map_err(|e| CliError::failed(e.to_string()))?
                .map_err(|e| CliError::input(format!("{display_name}: {e}")))?;
        let metadata = CoreMetadata::parse(&metadata_bytes)
            .map_err(|e| CliError::input(format!("{display_name}: {e}")))?;
        if metadata.name != filename.name || metadata.version != filename.version {
            return Err(CliError::input(format!(
                "{display_name} calls itself {} {} in its metadata, which does not match its filename",
                metadata.name, metadata.version
            )));
        }
        inputs.require_exactly(&pending, &metadata.name, &metadata.version)?;
        inputs.local.push(LocalDist {
            path,
            url,
            filename: filename.to_string(),
            sdist: false,
            directory: None,
            editable: false,
            sha256,
            size,
            metadata,
        });
    }
    Ok(())
}

pub fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
    use sha2::Digest;
    use std::io::Read;
    let mut f = fs_err::File::open(path)?;
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// How to resolve, beyond the inputs.
#[derive(Default)]
pub struct ResolveSettings {
    pub upgrade: Upgrade,
    pub preferences: HashMap<PackageName, pyward_dist::Version>,
    pub pre: bool,
    pub exclude_newer: Option<String>,
    /// Nothing will be installed (`lock`, `audit`): read wheel metadata with
    /// HTTP range requests where the index publishes no metadata files,
    /// instead of downloading whole wheels (which an install reuses).
    pub metadata_only: bool,
}

/// Resolve `inputs` for `info`, printing the one-line result; sdists are
/// built through `sdists` where only source fits (`None`: wheels only).
pub async fn resolve(
    ctx: &Context,
    client: &IndexClient,
    info: &InterpreterInfo,
    inputs: &Inputs,
    settings: ResolveSettings,
    sdists: Option<std::sync::Arc<dyn pyward_resolve::SdistMetadata>>,
) -> CliResult<Resolution> {
    let target = target_of(info)?;
    let started = Instant::now();
    let spinner = crate::commands::spinner(ctx, "Resolving");
    let fixed: Vec<FixedDist> = inputs
        .local
        .iter()
        .map(|l| FixedDist {
            metadata: l.metadata.clone(),
        })
        .collect();
    let resolution = pyward_resolve::resolve(
        client.clone(),
        target,
        ResolveInput {
            requirements: inputs.requirements.clone(),
            constraints: inputs.constraints.clone(),
            fixed,
        },
        ResolveOptions {
            prerelease: if inputs.pre || settings.pre {
                Prerelease::Allow
            } else {
                Prerelease::IfNecessaryOrExplicit
            },
            upgrade: settings.upgrade,
            preferences: settings.preferences,
            exclude_newer: settings.exclude_newer,
            allow_sdist: sdists.is_some(),
            sdist_metadata: sdists,
            archive_dir: ctx.cache.archives(),
            metadata_by_range: settings.metadata_only,
        },
    )
    .await;
    drop(spinner);
    let resolution = match resolution {
        Ok(r) => r,
        Err(ResolveError::NoSolution(text)) => {
            return Err(CliError::input(format!(
                "no set of versions satisfies your requirements:\n{}",
                indent(&text)
            )))
        }
        Err(ResolveError::Fetch(e)) => return Err(CliError::network(e.to_string())),
        Err(ResolveError::Build(text)) => return Err(CliError::failed(text)),
        Err(e) => return Err(CliError::failed(e.to_string())),
    };
    ctx.printer.status(format!(
        "Resolved {} in {}",
        plural(resolution.packages.len(), "package"),
        human_duration(started.elapsed())
    ));
    Ok(resolution)
}
