//! `pyward lock`: resolve and write a PEP 751 pylock.toml with every file of
//! every locked version, each with its size, upload time and sha256, so later
//! installs (`pyward sync`, `pyward install -r pylock.toml`, uv, pip) check
//! the whole tree. Re-locking keeps existing pins unless asked to upgrade.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use futures::StreamExt;

use pyward_dist::{PackageName, Version};
use pyward_lock::pylock::{Datetime, LockedFile, LockedPackage, PackageSource, PyLock, TomlValue};
use pyward_resolve::{Resolution, ResolvedSource, Upgrade};

use crate::build;
use crate::cli::LockArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::plural;
use crate::pipeline::{self, ResolveSettings};

pub async fn run(args: LockArgs, ctx: &Context) -> CliResult<u8> {
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let mut reqs = args.reqs.clone();
    // pyproject.toml is read for its [project] dependencies; other files are pip-style.
    let (pyprojects, others): (Vec<PathBuf>, Vec<PathBuf>) = reqs
        .requirements
        .drain(..)
        .partition(|p| p.file_name().is_some_and(|n| n == "pyproject.toml"));
    reqs.requirements = others;
    for p in &pyprojects {
        let project = pyward_lock::pyproject::read_pyproject_dependencies(p)
            .map_err(|e| CliError::input(e.to_string()))?;
        reqs.packages
            .extend(project.dependencies.iter().map(|r| r.to_string()));
    }
    if reqs.packages.is_empty() && reqs.requirements.is_empty() && reqs.editable.is_empty() {
        if cwd.join("pyproject.toml").is_file() && pyprojects.is_empty() {
            let project =
                pyward_lock::pyproject::read_pyproject_dependencies(&cwd.join("pyproject.toml"))
                    .map_err(|e| CliError::input(e.to_string()))?;
            reqs.packages
                .extend(project.dependencies.iter().map(|r| r.to_string()));
        }
        if reqs.packages.is_empty() {
            return Err(CliError::input("nothing to lock")
                .hint("pyward lock -r requirements.txt   or   pyward lock -r pyproject.toml"));
        }
    }
    let info = match ctx.environment(args.env.python.as_deref()) {
        Ok(env) => env.interpreter,
        Err(_) => {
            let python = pyward_install::find_python(None)
                .map_err(|e| CliError::input(format!("no Python interpreter to lock for: {e}")))?;
            ctx.interpreter(&python)?
        }
    };
    let mut inputs = pipeline::gather_inputs(&reqs, &cwd)?;
    let client = pipeline::index_client(ctx, &inputs, &reqs, &config)?;
    pipeline::fetch_local_dists(&mut inputs, &client, ctx).await?;
    // Packages published only as sdists are locked too: their metadata comes
    // from a sandboxed build step, after audit and code scan.
    let builds = build::for_resolution(ctx, &info, &client, &config)?;
    let policy = config.policy(None, &[], &[]);
    if let Err(e) = build::prepare_local_sdists(ctx, &mut inputs, &builds).await {
        return Err(build::resolution_error(ctx, &builds, e, &policy));
    }

    // Keep what the existing lock pins, unless asked to upgrade.
    let upgrade = super::install::upgrade_of(args.upgrade, &args.upgrade_package)?;
    let mut preferences: HashMap<PackageName, Version> = HashMap::new();
    if args.output.is_file() && upgrade != Upgrade::All {
        match PyLock::read(&args.output) {
            Ok(old) => {
                for p in old.packages {
                    if let Some(v) = p.version {
                        preferences.insert(p.name, v);
                    }
                }
            }
            Err(e) => ctx.printer.important(format!(
                "! the existing {} is not used for preferences: {e}",
                args.output.display()
            )),
        }
    }
    let resolution = pipeline::resolve(
        ctx,
        &client,
        &info,
        &inputs,
        ResolveSettings {
            upgrade,
            preferences,
            pre: reqs.pre,
            exclude_newer: None,
            metadata_only: true,
        },
        Some(builds.clone()),
    )
    .await
    .map_err(|e| build::resolution_error(ctx, &builds, e, &policy))?;
    // An exact pin may select a yanked release (PEP 592): locked, and said.
    let mut noted: Vec<pyward_guard::Finding> = resolution
        .packages
        .iter()
        .filter_map(|p| {
            p.yanked
                .as_deref()
                .map(|reason| super::install::yanked_finding(&p.name, &p.version, reason))
        })
        .collect();
    // PEP 792: archived and deprecated projects are said; a quarantined
    // one is not locked.
    noted.extend(crate::guards::trust::project_status(&resolution));
    let blocked = noted
        .iter()
        .any(|f| policy.decide_unattended(f) == pyward_guard::Decision::Block);
    ctx.printer
        .findings(&noted, &policy, pyward_guard::Decision::Warn);
    if blocked {
        return Err(CliError::refused(format!(
            "{} was not written",
            args.output.display()
        )));
    }

    let (lock, files) = build_lock(ctx, &client, &resolution, &inputs, &args.output).await?;
    write_lock(&lock, &args.output)?;
    ctx.printer.status(format!(
        "Locked {} to {} ({} files, each with its sha256)",
        plural(resolution.packages.len(), "package"),
        args.output.display(),
        files
    ));
    if ctx.printer.json {
        ctx.printer.json_value(&serde_json::json!({
            "lock": args.output,
            "packages": resolution.packages.iter().map(|p| serde_json::json!({"name": p.name.to_string(), "version": p.version.to_string()})).collect::<Vec<_>>(),
            "files": files,
        }));
    }
    Ok(0)
}

/// The PEP 751 lock of a resolution: every file of every locked version
/// with its size, upload time and sha256 (downloaded once where the index
/// publishes none); also the number of files.
pub async fn build_lock(
    ctx: &Context,
    client: &pyward_index::IndexClient,
    resolution: &Resolution,
    inputs: &pipeline::Inputs,
    output: &Path,
) -> CliResult<(PyLock, usize)> {
    let lock_dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    // Every project page at once (the resolver read them; they come from
    // the HTTP cache or are revalidated in parallel).
    let pages: Vec<_> = futures::stream::iter(resolution.packages.iter().map(|pkg| async move {
        match &pkg.source {
            ResolvedSource::Index { .. } => Some(client.project(&pkg.name).await),
            ResolvedSource::Fixed => None,
        }
    }))
    .buffered(16)
    .collect()
    .await;
    let mut packages = Vec::with_capacity(resolution.packages.len());
    let mut files = 0usize;
    for (pkg, page) in resolution.packages.iter().zip(pages) {
        let dependencies = pkg
            .dependencies
            .iter()
            .map(|d| BTreeMap::from([("name".to_string(), TomlValue::String(d.to_string()))]))
            .collect();
        let (index, source) = match &pkg.source {
            ResolvedSource::Index { index, .. } => {
                let page = page
                    .ok_or_else(|| CliError::failed(format!("{} has no project page", pkg.name)))?
                    .map_err(|e| CliError::network(e.to_string()))?
                    .ok_or_else(|| {
                        CliError::network(format!("{} disappeared from the index", pkg.name))
                    })?;
                let mut sdist = None;
                let mut wheels = Vec::new();
                for f in page
                    .files
                    .iter()
                    .filter(|f| f.dist.version() == &pkg.version)
                {
                    let sha256 = match &f.hashes.sha256 {
                        Some(h) => h.to_ascii_lowercase(),
                        None => hash_by_download(ctx, client, f).await?,
                    };
                    let locked = LockedFile {
                        name: f.filename.clone(),
                        url: Some(f.url.clone()),
                        path: None,
                        size: f.size,
                        upload_time: f
                            .upload_time
                            .as_deref()
                            .and_then(|t| Datetime::from_str(t).ok()),
                        hashes: BTreeMap::from([("sha256".to_string(), sha256)]),
                    };
                    files += 1;
                    match f.dist {
                        pyward_dist::DistFilename::Wheel(_) => wheels.push(locked),
                        pyward_dist::DistFilename::Sdist(_) => {
                            if sdist.is_none() {
                                sdist = Some(locked)
                            }
                        }
                    }
                }
                (
                    Some(index.to_string()),
                    PackageSource::Distributions { sdist, wheels },
                )
            }
            ResolvedSource::Fixed => {
                let local = inputs
                    .local
                    .iter()
                    .find(|l| l.metadata.name == pkg.name)
                    .ok_or_else(|| CliError::failed(format!("{} has no file", pkg.name)))?;
                let source = if let Some(dir) = &local.directory {
                    // PEP 751: a project directory is locked as itself; it is
                    // built again when installed.
                    PackageSource::Directory(pyward_lock::pylock::LockedDirectory {
                        path: relative_to(dir, &lock_dir),
                        editable: local.editable,
                        subdirectory: None,
                    })
                } else {
                    files += 1;
                    let file = LockedFile {
                        name: local.filename.clone(),
                        url: local.url.clone(),
                        path: local
                            .url
                            .is_none()
                            .then(|| relative_to(&local.path, &lock_dir)),
                        size: Some(local.size),
                        upload_time: None,
                        hashes: BTreeMap::from([("sha256".to_string(), local.sha256.clone())]),
                    };
                    let (sdist, wheels) = if local.sdist {
                        (Some(file), Vec::new())
                    } else {
                        (None, vec![file])
                    };
                    PackageSource::Distributions { sdist, wheels }
                };
                (None, source)
            }
        };
        packages.push(LockedPackage {
            name: pkg.name.clone(),
            version: Some(pkg.version.clone()),
            marker: None,
            requires_python: pkg.metadata.requires_python.clone(),
            dependencies,
            index,
            source,
            attestation_identities: Vec::new(),
            tool: None,
        });
    }
    let lock = PyLock {
        path: output.to_path_buf(),
        lock_version: Version::from_str("1.0").map_err(|e| CliError::failed(e.to_string()))?,
        environments: None,
        requires_python: None,
        extras: None,
        dependency_groups: None,
        default_groups: None,
        created_by: "pyward".into(),
        packages,
        tool: None,
        warnings: Vec::new(),
    };
    Ok((lock, files))
}

/// Write `lock` to `output` atomically (a temporary file, then a rename).
pub fn write_lock(lock: &PyLock, output: &Path) -> CliResult<()> {
    let lock_dir = output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let text = lock.to_toml_string();
    let tmp = lock_dir.join(format!(
        ".{}.tmp",
        output
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    ));
    fs_err::write(&tmp, &text)
        .and_then(|_| fs_err::rename(&tmp, output))
        .map_err(|e| CliError::failed(format!("cannot write {}: {e}", output.display())))?;
    Ok(())
}

/// The sha256 of a file the index publishes no hash for (downloaded once).
async fn hash_by_download(
    ctx: &Context,
    client: &pyward_index::IndexClient,
    f: &pyward_index::DistFile,
) -> CliResult<String> {
    let dir = ctx.cache.archives();
    fs_err::create_dir_all(&dir).map_err(|e| CliError::failed(e.to_string()))?;
    let tmp = dir.join(format!(".lock-{}", f.filename));
    let got = client
        .download(&f.url, &tmp, |_| {}, f.size)
        .await
        .map_err(|e| CliError::network(e.to_string()))?;
    let _ = fs_err::rename(&tmp, dir.join(&got.sha256));
    ctx.printer.important(format!(
        "! {} has no published hash; pyward recorded the sha256 of the file it downloaded now",
        f.filename
    ));
    Ok(got.sha256)
}

/// `path` relative to `base` when it is inside it, else absolute.
fn relative_to(path: &Path, base: &Path) -> String {
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_path_buf());
    match abs.strip_prefix(&base) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => abs.to_string_lossy().to_string(),
    }
}
