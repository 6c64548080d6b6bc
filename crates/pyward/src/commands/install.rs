//! `pyward install`: the pipeline of ARCHITECTURE.md — inputs, resolve, plan,
//! guard(plan), fetch+verify, guard(artifacts), staged install, summary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use pyward_dist::{PackageName, Version, WheelFilename};
use pyward_guard::integrity::{self, Expectation, Observed, Verified};
use pyward_guard::{Check, Finding, Findings, HashSource, PackageRef};
use pyward_index::{IndexClient, IndexUrl};
use pyward_install::{InstallItem, InstallOptions, InstalledDist};
use pyward_resolve::{ResolvedSource, Upgrade};
use url::Url;

use crate::cli::InstallArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::guards;
use crate::output::{human_bytes, human_duration, plural, SecurityLine};
use crate::pipeline::{self, ResolveSettings};

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
    if args.reqs.packages.is_empty() && args.reqs.requirements.is_empty() {
        return Err(CliError::input("nothing to install")
            .hint("name a package:  pyward install requests")
            .hint("or a requirements file:  pyward install -r requirements.txt"));
    }
    let env = ctx.environment(args.env.python.as_deref())?;
    pipeline::check_externally_managed(&env.interpreter, args.break_system_packages)?;

    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let mut inputs = pipeline::gather_inputs(&args.reqs, &cwd)?;
    let client = pipeline::index_client(ctx, &inputs, &args.reqs, &config)?;
    pipeline::fetch_local_dists(&mut inputs, &client, ctx).await?;

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
    // guard(names): a likely typo or a very young project, among the names the
    // user asked for that are new here, is raised before anything is fetched.
    let mut policy = config.policy(args.fail_on.map(|f| f.severity()), &args.allow, &[]);
    let mut findings = Findings::default();
    let local_names: HashSet<&PackageName> =
        inputs.local.iter().map(|l| &l.metadata.name).collect();
    let mut new_direct: Vec<PackageName> = inputs
        .requirements
        .iter()
        .map(|r| r.name.clone())
        .filter(|n| !installed.iter().any(|d| &d.name == n) && !local_names.contains(n))
        .collect();
    new_direct.sort();
    new_direct.dedup();
    let trust_guard = guards::trust::check(ctx, &client, &new_direct, &mut policy).await;
    findings.extend(trust_guard.findings);
    if findings.blocking(&policy).next().is_some() {
        ctx.printer
            .findings(&findings.items, &policy, pyward_guard::Decision::Block);
        ctx.printer
            .important("Nothing was downloaded or installed; your environment is unchanged.");
        emit_json(ctx, &[], &[], &[], &findings);
        return Ok(1);
    }
    let exclude_newer = match args.min_age.as_ref().or(config.min_age.as_ref()) {
        Some(spec) => Some(
            pyward_trust::Cooldown::parse(spec, pyward_trust::Timestamp::now())
                .map_err(|e| CliError::input(format!("--min-age {spec}: {e}")))?
                .cutoff()
                .to_string(),
        ),
        None => None,
    };

    let resolution = pipeline::resolve(
        ctx,
        &client,
        &env.interpreter,
        &inputs,
        ResolveSettings {
            upgrade,
            preferences,
            pre: args.reqs.pre,
            exclude_newer,
        },
    )
    .await?;
    let fetch_started = Instant::now();

    // Plan: what changes.
    let installed_by_name: HashMap<&PackageName, &InstalledDist> =
        installed.iter().map(|d| (&d.name, d)).collect();
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

    // guard(plan): checks that need only names and versions, before any download.
    let resolved_pairs: Vec<(PackageName, Version)> = resolution
        .packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let vuln_guard = guards::vulnerabilities::check(ctx, &resolved_pairs, &config, &policy);
    findings.extend(vuln_guard.findings);
    if findings.blocking(&policy).next().is_some() {
        ctx.printer
            .findings(&findings.items, &policy, pyward_guard::Decision::Block);
        ctx.printer.important(
            "Nothing was installed and no code from it ran; your environment is unchanged.",
        );
        emit_json(ctx, &resolution.packages, &[], &[], &findings);
        return Ok(1);
    }

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

    // Fetch and verify.
    let started = fetch_started;
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

    // Findings that warn (vulnerabilities have their own line), then the security block.
    let warnings: Vec<Finding> = findings
        .items
        .iter()
        .filter(|f| f.check != Check::Vulnerability)
        .cloned()
        .collect();
    ctx.printer
        .findings(&warnings, &policy, pyward_guard::Decision::Warn);
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
        vuln_guard.line,
        SecurityLine {
            label: "Code scan",
            status: "not checked: the code scanner is not part of this build yet".into(),
            ok: false,
            details: Vec::new(),
        },
        trust_guard.line,
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
