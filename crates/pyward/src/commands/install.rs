//! `pyward install`: the pipeline of ARCHITECTURE.md — inputs, resolve, plan,
//! guard(plan), fetch+verify, guard(artifacts), staged install, summary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use pyward_dist::{
    CoreMetadata, InterpreterInfo, PackageName, Requirement, Tags, Version, VersionOrUrl,
    WheelFilename,
};
use pyward_guard::integrity::{self, Expectation, Observed, Verified};
use pyward_guard::{Check, Finding, Findings, HashSource, PackageRef, Policy};
use pyward_index::{IndexClient, IndexUrl};
use pyward_install::{InstallItem, InstallOptions, InstalledDist};
use pyward_lock::requirements::{RequirementSpec, RequirementsFile};
use pyward_resolve::{
    FixedDist, Prerelease, ResolveError, ResolveInput, ResolveOptions, ResolvedSource, Target,
    Upgrade,
};
use url::Url;

use crate::cli::InstallArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::{human_bytes, human_duration, plural, SecurityLine};

pub const DEFAULT_INDEX: &str = "https://pypi.org/simple/";

/// `--hash` values of one requirement and the line they came from.
type HashPin = (Vec<String>, HashSource);

/// Everything the user asked for, gathered from arguments and files.
#[derive(Default)]
struct Inputs {
    requirements: Vec<Requirement>,
    constraints: Vec<Requirement>,
    /// Wheels given as a local path or URL, before they are read.
    pending_local: Vec<String>,
    /// The same, once read.
    local: Vec<LocalDist>,
    /// `--hash` pins by package name, with the line they came from.
    pinned_hashes: HashMap<PackageName, HashPin>,
    index_url: Option<String>,
    extra_index_urls: Vec<String>,
    pre: bool,
}

/// A wheel given directly, fetched and read before resolution.
struct LocalDist {
    path: PathBuf,
    url: Option<Url>,
    filename: WheelFilename,
    sha256: String,
    size: u64,
    metadata: CoreMetadata,
}

/// One distribution to install.
struct Planned {
    name: PackageName,
    version: Version,
    filename: String,
    source: PlannedSource,
    requested: bool,
    expectations: Vec<Expectation>,
}

enum PlannedSource {
    Index {
        file: Box<pyward_index::DistFile>,
        index: IndexUrl,
    },
    Local {
        path: PathBuf,
        url: Option<Url>,
        sha256: String,
        size: u64,
    },
}

pub async fn run(args: InstallArgs, ctx: &Context) -> CliResult<u8> {
    if args.packages.is_empty() && args.requirements.is_empty() {
        return Err(CliError::input("nothing to install")
            .hint("name a package:  pyward install requests")
            .hint("or a requirements file:  pyward install -r requirements.txt"));
    }
    let env = ctx.environment(args.env.python.as_deref())?;
    check_externally_managed(&env.interpreter, args.break_system_packages)?;

    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let mut inputs = gather_inputs(&args, &cwd)?;
    let client = index_client(ctx, &inputs, &args)?;
    fetch_local_dists(&mut inputs, &client, ctx).await?;

    let info = env.interpreter.clone();
    let target = target_of(&info)?;
    let installed = env
        .installed()
        .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
    let mut preferences = HashMap::new();
    for d in &installed {
        preferences.insert(d.name.clone(), d.version.clone());
    }
    let upgrade = if args.upgrade {
        Upgrade::All
    } else if !args.upgrade_package.is_empty() {
        let mut set = HashSet::new();
        for p in &args.upgrade_package {
            set.insert(
                PackageName::from_str(p)
                    .map_err(|e| CliError::input(format!("--upgrade-package {p}: {e}")))?,
            );
        }
        Upgrade::Packages(set)
    } else {
        Upgrade::None
    };

    // Resolve.
    let started = Instant::now();
    let fetch_started = started;

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
            prerelease: if inputs.pre || args.pre {
                Prerelease::Allow
            } else {
                Prerelease::IfNecessaryOrExplicit
            },
            upgrade,
            preferences,
            exclude_newer: None,
            allow_sdist: false,
            archive_dir: ctx.cache.archives(),
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
        Err(e) => return Err(CliError::failed(e.to_string())),
    };
    ctx.printer.status(format!(
        "Resolved {} in {}",
        plural(resolution.packages.len(), "package"),
        human_duration(started.elapsed())
    ));

    // Plan: what changes.
    let installed_by_name: HashMap<&PackageName, &InstalledDist> =
        installed.iter().map(|d| (&d.name, d)).collect();
    let mut findings = Findings::default();
    let mut plan: Vec<Planned> = Vec::new();
    let mut remove: Vec<InstalledDist> = Vec::new();
    for pkg in &resolution.packages {
        if let Some(reason) = &pkg.yanked {
            findings.push(
                Finding::new(
                    Check::Notice,
                    pyward_guard::Severity::Low,
                    PackageRef::new(pkg.name.to_string(), Some(pkg.version.to_string()), None),
                    format!("{} {} was yanked by its maintainers", pkg.name, pkg.version),
                )
                .why(if reason.is_empty() {
                    "A yanked release is one its authors asked installers to avoid.".to_string()
                } else {
                    format!("Their reason: {reason}")
                })
                .advice(format!("pin another version of {}", pkg.name)),
            );
        }
        let local = inputs.local.iter().find(|l| l.metadata.name == pkg.name);
        if let Some(current) = installed_by_name.get(&pkg.name) {
            if current.version == pkg.version && local.is_none() {
                continue;
            }
            remove.push((*current).clone());
        }
        let mut expectations = Vec::new();
        if let Some((hashes, source)) = inputs.pinned_hashes.get(&pkg.name) {
            expectations.push(Expectation {
                sha256: hashes.clone(),
                source: source.clone(),
            });
        }
        let (filename, source) = match (&pkg.source, local) {
            (ResolvedSource::Index { file, index }, _) => {
                if let Some(h) = &file.hashes.sha256 {
                    expectations.push(Expectation {
                        sha256: vec![h.to_ascii_lowercase()],
                        source: HashSource::Index {
                            url: format!("{index}{}/", pkg.name),
                        },
                    });
                }
                (
                    file.filename.clone(),
                    PlannedSource::Index {
                        file: file.clone(),
                        index: index.clone(),
                    },
                )
            }
            (ResolvedSource::Fixed, Some(l)) => (
                l.filename.to_string(),
                PlannedSource::Local {
                    path: l.path.clone(),
                    url: l.url.clone(),
                    sha256: l.sha256.clone(),
                    size: l.size,
                },
            ),
            (ResolvedSource::Fixed, None) => {
                return Err(CliError::failed(format!(
                    "{} was resolved from a local file that is no longer known",
                    pkg.name
                )))
            }
        };
        plan.push(Planned {
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            filename,
            source,
            requested: pkg.direct,
            expectations,
        });
    }

    let policy = Policy {
        allow: args.allow.iter().map(|a| normalize(a)).collect(),
        ..Policy::default()
    };

    if plan.is_empty() {
        ctx.printer.status(format!(
            "Nothing to install: {} already satisfied",
            plural(resolution.packages.len(), "requirement")
        ));
        ctx.printer
            .findings(&findings.items, &policy, pyward_guard::Decision::Warn);
        if ctx.printer.json {
            ctx.printer.json_value(&serde_json::json!({
                "resolved": resolution.packages.iter().map(|p| serde_json::json!({"name": p.name.to_string(), "version": p.version.to_string()})).collect::<Vec<_>>(),
                "installed": [], "removed": [],
                "findings": findings.items,
            }));
        }
        return Ok(0);
    }

    if args.dry_run {
        for p in &plan {
            ctx.printer.status(format!(" + {} {}", p.name, p.version));
        }
        for r in &remove {
            ctx.printer.status(format!(" - {} {}", r.name, r.version));
        }
        ctx.printer.status("Dry run: nothing was changed.");
        let would_install: Vec<_> = plan
            .iter()
            .map(|p| serde_json::json!({"name": p.name.to_string(), "version": p.version.to_string(), "file": p.filename}))
            .collect();
        let would_remove: Vec<_> = remove
            .iter()
            .map(|r| serde_json::json!({"name": r.name.to_string(), "version": r.version.to_string()}))
            .collect();
        emit_json(
            ctx,
            &resolution.packages,
            &would_install,
            &would_remove,
            &findings,
        );
        return Ok(0);
    }

    // Fetch and verify. When the resolver already downloaded wheels (an index
    // without separate metadata files), downloading overlapped resolution.
    let started = if resolution.downloaded_files > 0 {
        fetch_started
    } else {
        Instant::now()
    };
    let fetched = fetch_all(ctx, &client, &plan).await?;
    let mut verified_from: BTreeMap<&'static str, usize> = BTreeMap::new();
    // Wheels the resolver downloaded for their metadata count as downloads too.
    let mut downloaded_bytes = resolution.downloaded_bytes;
    let mut downloaded_files = resolution.downloaded_files as usize;
    let mut unchecked = 0usize;
    let mut mismatches = 0usize;
    for (p, f) in plan.iter().zip(&fetched) {
        if f.downloaded {
            downloaded_bytes += f.size;
            downloaded_files += 1;
        }
        let observed = Observed {
            package: PackageRef::new(
                p.name.to_string(),
                Some(p.version.to_string()),
                Some(p.filename.clone()),
            ),
            sha256: f.sha256.clone(),
            size: f.size,
            url: f.url.clone(),
        };
        let (verdict, finding) = integrity::verify(&observed, &p.expectations);
        match verdict {
            Verified::Matched(HashSource::Index { .. }) => {
                *verified_from.entry("index").or_default() += 1
            }
            Verified::Matched(HashSource::Requirements { .. }) => {
                *verified_from.entry("requirements").or_default() += 1
            }
            Verified::Matched(_) => *verified_from.entry("other").or_default() += 1,
            Verified::Unchecked => unchecked += 1,
            Verified::Mismatch => mismatches += 1,
            Verified::Disabled => {}
        }
        if let Some(finding) = finding {
            findings.push(finding);
        }
    }
    if downloaded_files > 0 {
        ctx.printer.status(format!(
            "Downloaded {} ({}) in {}",
            plural(downloaded_files, "file"),
            human_bytes(downloaded_bytes),
            human_duration(started.elapsed())
        ));
    }

    let blocking: Vec<&Finding> = findings.blocking(&policy).collect();
    if !blocking.is_empty() {
        ctx.printer
            .findings(&findings.items, &policy, pyward_guard::Decision::Block);
        // A mismatching file must not stay in the cache.
        for (p, f) in plan.iter().zip(&fetched) {
            if p.expectations
                .iter()
                .any(|e| !e.sha256.iter().any(|h| h.eq_ignore_ascii_case(&f.sha256)))
                && f.downloaded
            {
                let _ = fs_err::remove_file(&f.archive);
            }
        }
        ctx.printer
            .important("Nothing was installed; your environment is unchanged.");
        emit_json(ctx, &resolution.packages, &[], &[], &findings);
        return Ok(1);
    }

    // Unpack into the cache (parallel, off the async threads).
    let wheels_dir = ctx.cache.wheels();
    let mut unpack_jobs = Vec::new();
    for (p, f) in plan.iter().zip(&fetched) {
        let archive = f.archive.clone();
        let key = f.sha256.clone();
        let dir = wheels_dir.clone();
        let filename =
            WheelFilename::from_str(&p.filename).map_err(|e| CliError::input(e.to_string()))?;
        unpack_jobs.push(tokio::task::spawn_blocking(move || {
            pyward_install::unpack_wheel(&archive, &filename, &dir, Some(&key))
        }));
    }
    let mut items = Vec::with_capacity(plan.len());
    for ((job, p), f) in unpack_jobs.into_iter().zip(&plan).zip(&fetched) {
        let unpacked = job
            .await
            .map_err(|e| CliError::failed(e.to_string()))?
            .map_err(|e| {
                CliError::refused(format!("{} was refused: {e}", p.filename))
                    .hint("Nothing was installed; your environment is unchanged.")
            })?;
        let direct_url = match &p.source {
            PlannedSource::Local {
                path, url, sha256, ..
            } => {
                let u = match url {
                    Some(u) => u.to_string(),
                    None => Url::from_file_path(path)
                        .map(|u| u.to_string())
                        .unwrap_or_default(),
                };
                Some(serde_json::json!({"url": u, "archive_info": {"hashes": {"sha256": sha256}}}))
            }
            PlannedSource::Index { .. } => None,
        };
        items.push(InstallItem {
            unpacked,
            requested: p.requested,
            direct_url,
            origin: Some(pyward_install::ArchiveOrigin {
                filename: p.filename.clone(),
                url: Some(f.url.clone()),
                sha256: f.sha256.clone(),
                size: Some(f.size),
                index: match &p.source {
                    PlannedSource::Index { index, .. } => Some(index.to_string()),
                    PlannedSource::Local { .. } => None,
                },
            }),
        });
    }

    // Install: staged, then committed in one step.
    let started = Instant::now();
    ctx.changing.store(true, Ordering::SeqCst);
    let env2 = env.clone();
    let remove2 = remove.clone();
    let opts = InstallOptions {
        compile_bytecode: args.compile,
        cancel: Some(ctx.cancel.clone()),
    };
    let result = tokio::task::spawn_blocking(move || {
        pyward_install::install(&env2, &items, &remove2, &opts)
    })
    .await
    .map_err(|e| CliError::failed(e.to_string()))?;
    ctx.changing.store(false, Ordering::SeqCst);
    if let Err(e) = result {
        if ctx.cancel.load(Ordering::SeqCst) {
            ctx.printer.important("Interrupted. Nothing was changed.");
            return Ok(130);
        }
        return Err(CliError::failed(format!("the install failed: {e}"))
            .hint("Nothing was installed; your environment is unchanged."));
    }
    let removed_names: HashSet<&PackageName> = remove.iter().map(|r| &r.name).collect();
    let direct: Vec<String> = plan
        .iter()
        .filter(|p| p.requested)
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    let mut line = format!(
        "Installed {} in {}",
        plural(plan.len(), "package"),
        human_duration(started.elapsed())
    );
    if !removed_names.is_empty() {
        line.push_str(&format!(
            " (replacing {})",
            plural(removed_names.len(), "older version")
        ));
    }
    ctx.printer.status(line);
    if !direct.is_empty() && direct.len() <= 8 {
        ctx.printer
            .status(format!("  requested: {}", direct.join(", ")));
    }
    for p in &plan {
        ctx.printer.detail(format!(" + {} {}", p.name, p.version));
    }
    for r in &remove {
        ctx.printer.detail(format!(" - {} {}", r.name, r.version));
    }

    // Findings that warn, then the security block.
    ctx.printer
        .findings(&findings.items, &policy, pyward_guard::Decision::Warn);
    let total = plan.len();
    let mut integrity = SecurityLine {
        label: "Integrity",
        status: String::new(),
        ok: unchecked == 0 && mismatches == 0,
        details: Vec::new(),
    };
    let verified = total - unchecked - mismatches;
    let from_req = verified_from.get("requirements").copied().unwrap_or(0);
    integrity.status = if unchecked == 0 {
        let mut s = format!("{verified}/{total} files match sha256 from the index");
        if from_req > 0 {
            s = format!(
                "{verified}/{total} files match sha256 ({} pinned in requirements, {} from the index)",
                from_req,
                verified - from_req
            );
        }
        s
    } else {
        format!(
            "{verified}/{total} files verified; {} could not be checked",
            unchecked
        )
    };
    let lines = vec![
        integrity,
        SecurityLine {
            label: "Vulnerabilities",
            status: "not checked: this build of pyward has no advisory data yet".into(),
            ok: false,
            details: Vec::new(),
        },
        SecurityLine {
            label: "Code scan",
            status: "not checked: the code scanner is not part of this build yet".into(),
            ok: false,
            details: Vec::new(),
        },
        SecurityLine {
            label: "Trust",
            status: "not checked: trust signals are not part of this build yet".into(),
            ok: false,
            details: Vec::new(),
        },
    ];
    ctx.printer.security_block(&lines);
    let installed_json: Vec<_> = plan
        .iter()
        .zip(&fetched)
        .map(|(p, f)| serde_json::json!({"name": p.name.to_string(), "version": p.version.to_string(), "file": p.filename, "sha256": f.sha256}))
        .collect();
    let removed_json: Vec<_> = remove
        .iter()
        .map(|r| serde_json::json!({"name": r.name.to_string(), "version": r.version.to_string()}))
        .collect();
    emit_json(
        ctx,
        &resolution.packages,
        &installed_json,
        &removed_json,
        &findings,
    );
    Ok(0)
}

fn emit_json(
    ctx: &Context,
    resolved: &[pyward_resolve::ResolvedPackage],
    installed: &[serde_json::Value],
    removed: &[serde_json::Value],
    findings: &Findings,
) {
    if !ctx.printer.json {
        return;
    }
    ctx.printer.json_value(&serde_json::json!({
        "resolved": resolved.iter().map(|p| serde_json::json!({"name": p.name.to_string(), "version": p.version.to_string()})).collect::<Vec<_>>(),
        "installed": installed,
        "removed": removed,
        "findings": findings.items,
    }));
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn normalize(name: &str) -> String {
    PackageName::from_str(name)
        .map(|n| n.to_string())
        .unwrap_or_else(|_| name.to_ascii_lowercase())
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

fn gather_inputs(args: &InstallArgs, cwd: &Path) -> CliResult<Inputs> {
    let mut inputs = Inputs::default();
    let mut local_specs: Vec<(RequirementSpec, Option<HashPin>)> = Vec::new();
    for arg in &args.packages {
        let spec = pyward_lock::requirements::parse_requirement_arg(arg, cwd)
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
                    inputs.pending_local.push(url.to_string());
                }
                inputs.requirements.push(req);
            }
            RequirementSpec::Path { path, .. } => {
                inputs.pending_local.push(path.display().to_string());
            }
            RequirementSpec::Url { url, .. } => {
                inputs.pending_local.push(url.to_string());
            }
            RequirementSpec::Editable { .. } => {
                return Err(CliError::input(
                    "editable installs (-e) need a build step, which this version of pyward does not have yet",
                ))
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

fn index_client(ctx: &Context, inputs: &Inputs, args: &InstallArgs) -> CliResult<IndexClient> {
    let primary = args
        .index_url
        .clone()
        .or_else(|| inputs.index_url.clone())
        .unwrap_or_else(|| DEFAULT_INDEX.to_string());
    let mut urls = vec![primary];
    for u in args.extra_index_url.iter().chain(&inputs.extra_index_urls) {
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
async fn fetch_local_dists(
    inputs: &mut Inputs,
    client: &IndexClient,
    ctx: &Context,
) -> CliResult<()> {
    for location in std::mem::take(&mut inputs.pending_local) {
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
        if !filename_str.ends_with(".whl") {
            return Err(CliError::input(format!(
                "{display_name} is not a wheel; installing from source needs a build step, which this version of pyward does not have yet"
            )));
        }
        let filename =
            WheelFilename::from_str(&filename_str).map_err(|e| CliError::input(e.to_string()))?;
        let bytes_path = path.clone();
        let (sha256, size) = tokio::task::spawn_blocking(move || sha256_file(&bytes_path))
            .await
            .map_err(|e| CliError::failed(e.to_string()))?
            .map_err(|e| CliError::input(format!("cannot read {display_name}: {e}")))?;
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
        inputs.requirements.retain(|r| r.name != metadata.name);
        inputs.requirements.push(
            Requirement::from_str(&format!("{}=={}", metadata.name, metadata.version))
                .map_err(|e| CliError::failed(e.to_string()))?,
        );
        inputs.local.push(LocalDist {
            path,
            url,
            filename,
            sha256,
            size,
            metadata,
        });
    }
    Ok(())
}

fn sha256_file(path: &Path) -> std::io::Result<(String, u64)> {
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

/// A fetched archive.
struct Fetched {
    archive: PathBuf,
    sha256: String,
    size: u64,
    url: String,
    downloaded: bool,
}

/// Download every planned file not already cached, in parallel.
async fn fetch_all(
    ctx: &Context,
    client: &IndexClient,
    plan: &[Planned],
) -> CliResult<Vec<Fetched>> {
    let archives = ctx.cache.archives();
    let wheels = ctx.cache.wheels();
    fs_err::create_dir_all(&archives).map_err(|e| CliError::failed(e.to_string()))?;
    let bar = crate::commands::progress_bar(ctx, plan.len() as u64, "Downloading");
    let bar = Arc::new(bar);
    let jobs = plan.iter().map(|p| {
        let archives = archives.clone();
        let wheels = wheels.clone();
        let client = client.clone();
        let bar = bar.clone();
        async move {
            let result = match &p.source {
                PlannedSource::Local {
                    path,
                    url,
                    sha256,
                    size,
                } => Ok(Fetched {
                    archive: path.clone(),
                    sha256: sha256.clone(),
                    size: *size,
                    url: url
                        .as_ref()
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| path.display().to_string()),
                    downloaded: false,
                }),
                PlannedSource::Index { file, .. } => {
                    // Content-addressed: a cached archive or unpacked wheel under the
                    // index's hash was verified against that hash when it was stored.
                    let cached = file
                        .hashes
                        .sha256
                        .as_ref()
                        .map(|h| h.to_ascii_lowercase())
                        .filter(|h| archives.join(h).exists() || wheels.join(h).exists())
                        .map(|h| archives.join(h));
                    match cached {
                        Some(path) => Ok(Fetched {
                            archive: path,
                            sha256: file
                                .hashes
                                .sha256
                                .clone()
                                .unwrap_or_default()
                                .to_ascii_lowercase(),
                            size: file.size.unwrap_or(0),
                            url: file.url.to_string(),
                            downloaded: false,
                        }),
                        None => {
                            let tmp = archives.join(format!(".download-{}", file.filename));
                            match client.download(&file.url, &tmp, |_| {}, file.size).await {
                                Ok(d) => {
                                    let dest = archives.join(&d.sha256);
                                    match fs_err::rename(&tmp, &dest) {
                                        Ok(()) => Ok(Fetched {
                                            archive: dest,
                                            sha256: d.sha256,
                                            size: d.size,
                                            url: file.url.to_string(),
                                            downloaded: true,
                                        }),
                                        Err(e) => Err(CliError::failed(e.to_string())),
                                    }
                                }
                                Err(e) => Err(CliError::network(format!(
                                    "downloading {}: {e}",
                                    file.filename
                                ))),
                            }
                        }
                    }
                }
            };
            bar.inc(1);
            result
        }
    });
    let results: Vec<CliResult<Fetched>> = futures::stream::iter(jobs).buffered(16).collect().await;
    bar.finish_and_clear();
    results.into_iter().collect()
}
