//! `pyward install` and `pyward sync`: the pipeline of ARCHITECTURE.md —
//! inputs, resolve (or a lock file's pins), plan, guard(plan),
//! fetch+verify, guard(artifacts), staged install, summary.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use pyward_dist::{DistFilename, PackageName, Tags, Version, WheelFilename};
use pyward_guard::integrity::{self, Expectation, Observed, Verified};
use pyward_guard::{Check, Finding, Findings, HashSource, PackageRef, Policy, Severity};
use pyward_index::{DistFile, Hashes, IndexClient, MetadataAvailability};
use pyward_install::{Environment, InstallItem, InstallOptions, InstalledDist};
use pyward_lock::pylock::{PyLock, SelectedSource};
use pyward_resolve::{Resolution, ResolvedSource, Upgrade};
use url::Url;

use crate::build::{self, BuildSettings, Builds};
use crate::cli::{InstallArgs, RequirementArgs, SyncArgs};
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::guards::memory::FileMemory;
use crate::guards::{self, GuardOutcome};
use crate::output::{human_bytes, human_duration, plural, SecurityLine};
use crate::pipeline::{self, ResolveSettings};

/// One distribution pinned for installation, with what its bytes must match.
pub struct Pinned {
    pub name: PackageName,
    pub version: Version,
    pub filename: String,
    pub source: PlannedSource,
    pub requested: bool,
    pub yanked: Option<String>,
    /// Strongest first.
    pub expectations: Vec<Expectation>,
    /// The size a lock file recorded.
    pub expected_size: Option<(u64, HashSource)>,
}

pub enum PlannedSource {
    /// A file with a URL (an index, or a lock file's URL).
    Index {
        file: Box<DistFile>,
        /// The index it belongs to (tamper memory is kept per index).
        index: String,
    },
    Local {
        path: PathBuf,
        url: Option<Url>,
        sha256: String,
        size: u64,
        /// The project directory an sdist (or editable wheel) was built
        /// from (PEP 610 `dir_info`).
        directory: Option<PathBuf>,
        /// An editable wheel of `directory` (PEP 660).
        editable: bool,
    },
}

/// Everything `execute` needs besides the pins.
pub struct Execution<'a> {
    pub env: &'a Environment,
    pub client: &'a IndexClient,
    pub config: &'a Config,
    pub policy: Policy,
    pub findings: Findings,
    pub trust_line: SecurityLine,
    /// Remove installed distributions that are not pinned (`sync`).
    pub remove_extraneous: bool,
    pub dry_run: bool,
    pub compile: bool,
    pub verify_hashes: bool,
    /// Files the resolver already downloaded (for the summary).
    pub downloaded_before: (u64, u64),
    /// Requirements files whose entries lack `--hash` while others have one.
    pub unhashed_notes: Vec<String>,
    /// Builds from source, when pins may be sdists.
    pub builds: Option<Arc<Builds>>,
}

fn is_lock_file(path: &Path) -> bool {
    path.file_name()
        .map(|n| n.to_string_lossy())
        .is_some_and(|n| n.starts_with("pylock") && n.ends_with(".toml"))
}

pub async fn run(args: InstallArgs, ctx: &Context) -> CliResult<u8> {
    if args.reqs.packages.is_empty()
        && args.reqs.requirements.is_empty()
        && args.reqs.editable.is_empty()
    {
        return Err(CliError::input("nothing to install")
            .hint("name a package:  pyward install requests")
            .hint("or a requirements file:  pyward install -r requirements.txt"));
    }
    let env = ctx.environment(args.env.python.as_deref())?;
    pipeline::check_externally_managed(&env.interpreter, args.break_system_packages)?;
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let verify_hashes = !args.no_verify_hashes && config.verify_hashes.unwrap_or(true);
    let mut build_settings =
        BuildSettings::new(args.no_build, &args.only_binary, &args.no_binary, &config)?;

    let locks: Vec<&PathBuf> = args
        .reqs
        .requirements
        .iter()
        .filter(|p| is_lock_file(p))
        .collect();
    if let Some(lock) = locks.first() {
        if locks.len() > 1
            || args.reqs.requirements.len() > 1
            || !args.reqs.packages.is_empty()
            || !args.reqs.editable.is_empty()
        {
            return Err(CliError::input(format!(
                "{} is a lock file: it is installed on its own, without other requirements",
                lock.display()
            )));
        }
        build_settings.verify_hashes = verify_hashes;
        return install_lock(
            ctx,
            &env,
            &config,
            lock,
            &args.reqs,
            LockInstall {
                remove_extraneous: false,
                dry_run: args.dry_run,
                compile: args.compile,
                verify_hashes,
                allow: &args.allow,
                fail_on: args.fail_on.map(|f| f.severity()),
                build_settings,
            },
        )
        .await;
    }

    let mut inputs = pipeline::gather_inputs(&args.reqs, &cwd)?;
    let client = pipeline::index_client(ctx, &inputs, &args.reqs, &config)?;
    pipeline::fetch_local_dists(&mut inputs, &client, ctx).await?;
    let installed = env
        .installed()
        .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
    let preferences: HashMap<PackageName, Version> = installed
        .iter()
        .map(|d| (d.name.clone(), d.version.clone()))
        .collect();
    let upgrade = upgrade_of(args.upgrade, &args.upgrade_package)?;

    // guard(names): a likely typo or a very young project, among the names the
    // user asked for that are new here, is raised before anything is fetched.
    let mut policy = config.policy(args.fail_on.map(|f| f.severity()), &args.allow, &[]);
    let mut findings = Findings::default();
    let local_names: HashSet<&PackageName> = inputs.local_names().collect();
    let mut new_direct: Vec<PackageName> = inputs
        .requirements
        .iter()
        .map(|r| r.name.clone())
        .filter(|n| !preferences.contains_key(n) && !local_names.contains(n))
        .collect();
    new_direct.sort();
    new_direct.dedup();
    let trust_guard = guards::trust::check(ctx, &client, &new_direct, &mut policy).await;
    findings.extend(trust_guard.findings);
    if findings.blocking(&policy).next().is_some() {
        return refuse(
            ctx,
            &findings,
            &policy,
            "Nothing was downloaded or installed; your environment is unchanged.",
        );
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
    build_settings.verify_hashes = verify_hashes;
    build_settings.pinned = inputs.pinned_hashes.clone();
    build_settings.exclude_newer = exclude_newer.clone();
    let builds = Arc::new(Builds::new(
        ctx,
        &env.interpreter,
        &client,
        &config,
        &policy,
        build_settings,
    ));
    let resolved = match build::prepare_local_sdists(ctx, &mut inputs, &builds).await {
        Ok(()) => {
            pipeline::resolve(
                ctx,
                &client,
                &env.interpreter,
                &inputs,
                ResolveSettings {
                    upgrade,
                    preferences,
                    pre: args.reqs.pre,
                    exclude_newer,
                    metadata_only: false,
                },
                Some(builds.clone()),
            )
            .await
        }
        Err(e) => Err(e),
    };
    let resolution = match resolved {
        Ok(r) => r,
        Err(e) => return stopped_by_build(ctx, &builds, e, findings, &policy),
    };
    findings.extend(builds.take_tree_findings());
    findings.extend(guards::trust::project_status(&resolution));
    let pins = pins_from_resolution(&resolution, &inputs)?;
    let unhashed_notes = unhashed_requirements(&inputs, &pins);
    execute(
        ctx,
        pins,
        Execution {
            env: &env,
            client: &client,
            config: &config,
            policy,
            findings,
            trust_line: trust_guard.line,
            remove_extraneous: false,
            dry_run: args.dry_run,
            compile: args.compile,
            verify_hashes,
            downloaded_before: {
                let (files, bytes) = builds.downloaded();
                (
                    resolution.downloaded_files + files,
                    resolution.downloaded_bytes + bytes,
                )
            },
            unhashed_notes,
            builds: Some(builds),
        },
    )
    .await
}

/// `pyward sync pylock.toml`: exactly the locked set, nothing else.
pub async fn sync(args: SyncArgs, ctx: &Context) -> CliResult<u8> {
    let env = ctx.environment(args.env.python.as_deref())?;
    pipeline::check_externally_managed(&env.interpreter, args.break_system_packages)?;
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let verify_hashes = !args.no_verify_hashes && config.verify_hashes.unwrap_or(true);
    let reqs = RequirementArgs::default();
    let mut build_settings = BuildSettings::new(args.no_build, &[], &[], &config)?;
    build_settings.verify_hashes = verify_hashes;
    install_lock(
        ctx,
        &env,
        &config,
        &args.lock,
        &reqs,
        LockInstall {
            remove_extraneous: true,
            dry_run: args.dry_run,
            compile: args.compile,
            verify_hashes,
            allow: &[],
            fail_on: None,
            build_settings,
        },
    )
    .await
}

pub fn upgrade_of(all: bool, packages: &[String]) -> CliResult<Upgrade> {
    if all {
        return Ok(Upgrade::All);
    }
    if packages.is_empty() {
        return Ok(Upgrade::None);
    }
    let mut set = HashSet::new();
    for p in packages {
        set.insert(
            PackageName::from_str(p)
                .map_err(|e| CliError::input(format!("--upgrade-package {p}: {e}")))?,
        );
    }
    Ok(Upgrade::Packages(set))
}

fn refuse(ctx: &Context, findings: &Findings, policy: &Policy, message: &str) -> CliResult<u8> {
    ctx.printer
        .findings(&findings.items, policy, pyward_guard::Decision::Block);
    ctx.printer.important(message);
    emit_json(ctx, &[], &[], &[], findings);
    Ok(1)
}

/// A run that stopped before installing, possibly because of a build:
/// refused with the findings that blocked it, or the error.
fn stopped_by_build(
    ctx: &Context,
    builds: &Builds,
    err: CliError,
    mut findings: Findings,
    policy: &Policy,
) -> CliResult<u8> {
    match builds.stopped(err, &ctx.printer) {
        build::Stopped::Refused(found) => {
            findings.extend(found);
            let message = if builds.project_code_ran() {
                "Nothing was installed; your environment is unchanged."
            } else {
                "Nothing was built or installed, and no code from it ran; your environment is unchanged."
            };
            refuse(ctx, &findings, policy, message)
        }
        build::Stopped::Error(e) => Err(e),
    }
}

/// Requirements files where some entries pin hashes and others do not: say which.
fn unhashed_requirements(inputs: &pipeline::Inputs, pins: &[Pinned]) -> Vec<String> {
    if inputs.pinned_hashes.is_empty() {
        return Vec::new();
    }
    let missing: Vec<String> = pins
        .iter()
        .filter(|p| p.requested && !inputs.pinned_hashes.contains_key(&p.name))
        .map(|p| p.name.to_string())
        .collect();
    if missing.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "no --hash in your requirements for: {} (checked against the index instead)",
            missing.join(", ")
        )]
    }
}

/// Pins from a resolution, with every expectation known for each file.
fn pins_from_resolution(
    resolution: &Resolution,
    inputs: &pipeline::Inputs,
) -> CliResult<Vec<Pinned>> {
    let mut pins = Vec::with_capacity(resolution.packages.len());
    for pkg in &resolution.packages {
        let mut expectations = Vec::new();
        if let Some((hashes, source)) = inputs.pinned_hashes.get(&pkg.name) {
            expectations.push(Expectation {
                sha256: hashes.clone(),
                source: source.clone(),
            });
        }
        let local = inputs.local.iter().find(|l| l.metadata.name == pkg.name);
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
                        index: index.to_string(),
                    },
                )
            }
            (ResolvedSource::Fixed, Some(l)) => (
                l.filename.clone(),
                PlannedSource::Local {
                    path: l.path.clone(),
                    url: l.url.clone(),
                    sha256: l.sha256.clone(),
                    size: l.size,
                    directory: l.directory.clone(),
                    editable: l.editable,
                },
            ),
            (ResolvedSource::Fixed, None) => {
                return Err(CliError::failed(format!(
                    "{} was resolved from a local file that is no longer known",
                    pkg.name
                )))
            }
        };
        pins.push(Pinned {
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            filename,
            source,
            requested: pkg.direct,
            yanked: pkg.yanked.clone(),
            expectations,
            expected_size: None,
        });
    }
    Ok(pins)
}

/// How `install_lock` installs.
struct LockInstall<'a> {
    /// `sync`: remove what the lock does not pin.
    remove_extraneous: bool,
    dry_run: bool,
    compile: bool,
    verify_hashes: bool,
    allow: &'a [String],
    fail_on: Option<Severity>,
    /// For packages the lock pins as sdists only.
    build_settings: BuildSettings,
}

/// Install (or sync) exactly what a PEP 751 lock file pins for this interpreter.
async fn install_lock(
    ctx: &Context,
    env: &Environment,
    config: &Config,
    lock_path: &Path,
    reqs: &RequirementArgs,
    how: LockInstall<'_>,
) -> CliResult<u8> {
    let LockInstall {
        remove_extraneous,
        dry_run,
        compile,
        verify_hashes,
        allow,
        fail_on,
        build_settings,
    } = how;
    let lock = PyLock::read(lock_path).map_err(|e| CliError::input(e.to_string()))?;
    let info = &env.interpreter;
    let markers = info
        .marker_environment()
        .map_err(|e| CliError::failed(format!("unusable marker values: {e}")))?;
    let tags = Tags::from_interpreter(info);
    let selected = lock
        .select(&markers, &info.python_version(), &[], None, |w| {
            tags.rank(w)
        })
        .map_err(|e| CliError::input(e.to_string()))?;
    let label = lock_path.display().to_string();
    let mut pins = Vec::with_capacity(selected.len());
    let mut sdists = 0usize;
    let mut trees = pipeline::Inputs::default();
    for sel in &selected {
        let pkg = sel.package;
        if let SelectedSource::Directory(dir) = &sel.source {
            // A project directory is built again (into an sdist, then a wheel).
            if let Some(reason) = build_settings.refusal(&pkg.name) {
                return Err(CliError::refused(format!(
                    "{label}: {} is locked as a project directory, which needs building from source, and {reason}",
                    pkg.name
                ))
                .hint("Nothing was installed; your environment is unchanged."));
            }
            let mut path = lock.resolve_path(&dir.path);
            if let Some(sub) = &dir.subdirectory {
                path = path.join(sub);
            }
            trees.local_trees.push(pipeline::LocalTree {
                path,
                pending: pipeline::PendingLocal {
                    location: dir.path.clone(),
                    name: Some(pkg.name.clone()),
                    extras: Vec::new(),
                    marker: Default::default(),
                    editable: dir.editable,
                },
            });
            continue;
        }
        let version = pkg.version.clone().ok_or_else(|| {
            CliError::input(format!(
                "{label}: package {} has no version; only pinned packages can be installed",
                pkg.name
            ))
        })?;
        let source_label = HashSource::LockFile {
            path: label.clone(),
            package: format!("{} {version}", pkg.name),
        };
        let file = match &sel.source {
            SelectedSource::Wheel { file, .. } => *file,
            SelectedSource::Sdist(file) => {
                if let Some(reason) = build_settings.refusal(&pkg.name) {
                    return Err(CliError::refused(format!(
                        "{label}: {} {version} has no wheel for this Python, so it would need building from source, and {reason}",
                        pkg.name
                    ))
                    .hint("Nothing was installed; your environment is unchanged."));
                }
                sdists += 1;
                *file
            }
            _ => {
                return Err(CliError::input(format!(
                    "{label}: {} is locked as an archive URL or a VCS checkout, which pyward cannot install yet",
                    pkg.name
                )))
            }
        };
        let sha256 = file
            .hashes
            .get("sha256")
            .map(|h| h.to_ascii_lowercase())
            .ok_or_else(|| {
                CliError::input(format!(
                    "{label}: {} has no sha256 hash; pyward verifies sha256",
                    file.name
                ))
                .hint("lock again with:  pyward lock")
            })?;
        let expectations = vec![Expectation {
            sha256: vec![sha256.clone()],
            source: source_label.clone(),
        }];
        let source = match (&file.url, &file.path) {
            (Some(url), _) => {
                let dist = DistFilename::parse(&file.name, Some(&pkg.name))
                    .map_err(|e| CliError::input(format!("{label}: {e}")))?;
                PlannedSource::Index {
                    file: Box::new(DistFile {
                        filename: file.name.clone(),
                        dist,
                        url: url.clone(),
                        hashes: Hashes {
                            sha256: Some(sha256.clone()),
                            others: BTreeMap::new(),
                        },
                        requires_python: None,
                        yanked: false,
                        yank_reason: None,
                        core_metadata: MetadataAvailability::Unknown,
                        size: file.size,
                        upload_time: file.upload_time.map(|t| t.to_string()),
                        provenance: None,
                    }),
                    index: pkg
                        .index
                        .clone()
                        .unwrap_or_else(|| url.origin().ascii_serialization()),
                }
            }
            (None, Some(path)) => {
                let path = lock.resolve_path(path);
                let p2 = path.clone();
                let (sha, size) = tokio::task::spawn_blocking(move || pipeline::sha256_file(&p2))
                    .await
                    .map_err(|e| CliError::failed(e.to_string()))?
                    .map_err(|e| {
                        CliError::input(format!("{label}: cannot read {}: {e}", path.display()))
                    })?;
                PlannedSource::Local {
                    path,
                    url: None,
                    sha256: sha,
                    size,
                    directory: None,
                    editable: false,
                }
            }
            (None, None) => {
                return Err(CliError::input(format!(
                    "{label}: {} has neither a url nor a path",
                    file.name
                )))
            }
        };
        pins.push(Pinned {
            name: pkg.name.clone(),
            version,
            filename: file.name.clone(),
            source,
            requested: true,
            yanked: None,
            expectations,
            expected_size: file.size.map(|s| (s, source_label)),
        });
    }
    ctx.printer.status(format!(
        "Read {} for this Python from {label}",
        plural(pins.len() + trees.local_trees.len(), "locked package")
    ));
    let client = pipeline::index_client(ctx, &pipeline::Inputs::default(), reqs, config)?;
    let policy = config.policy(fail_on, allow, &[]);
    let builds = (sdists > 0 || !trees.local_trees.is_empty()).then(|| {
        Arc::new(Builds::new(
            ctx,
            &env.interpreter,
            &client,
            config,
            &policy,
            build_settings,
        ))
    });
    let mut findings = Findings::default();
    if let (Some(b), false) = (&builds, trees.local_trees.is_empty()) {
        if let Err(e) = build::prepare_local_sdists(ctx, &mut trees, b).await {
            return stopped_by_build(ctx, b, e, findings, &policy);
        }
        findings.extend(b.take_tree_findings());
        for local in trees.local {
            pins.push(Pinned {
                name: local.metadata.name.clone(),
                version: local.metadata.version.clone(),
                filename: local.filename.clone(),
                source: PlannedSource::Local {
                    path: local.path,
                    url: None,
                    sha256: local.sha256,
                    size: local.size,
                    directory: local.directory,
                    editable: local.editable,
                },
                requested: true,
                yanked: None,
                expectations: Vec::new(),
                expected_size: None,
            });
        }
    }
    execute(
        ctx,
        pins,
        Execution {
            env,
            client: &client,
            config,
            policy,
            findings,
            trust_line: SecurityLine {
                label: "Trust",
                status: format!("exact pins from {label}; names were not checked again"),
                ok: true,
                details: Vec::new(),
            },
            remove_extraneous,
            dry_run,
            compile,
            verify_hashes,
            downloaded_before: (0, 0),
            unhashed_notes: Vec::new(),
            builds,
        },
    )
    .await
}

/// A release its maintainers yanked (PEP 592), chosen because a
/// requirement pins exactly it.
pub fn yanked_finding(name: &PackageName, version: &Version, reason: &str) -> Finding {
    Finding::new(
        Check::Notice,
        Severity::Low,
        PackageRef::new(name.to_string(), Some(version.to_string()), None),
        format!("{name} {version} was yanked by its maintainers"),
    )
    .why(if reason.is_empty() {
        "A yanked release is one its authors asked installers to avoid.".to_string()
    } else {
        format!("Their reason: {reason}")
    })
    .advice(format!("pin another version of {name}"))
}

/// Everything after the pins are known: plan, guards, fetch and verify,
/// tamper memory, unpack, staged install, summary.
pub async fn execute(ctx: &Context, pins: Vec<Pinned>, mut x: Execution<'_>) -> CliResult<u8> {
    let installed = x
        .env
        .installed()
        .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
    let installed_by_name: HashMap<&PackageName, &InstalledDist> =
        installed.iter().map(|d| (&d.name, d)).collect();
    let pinned_names: HashSet<&PackageName> = pins.iter().map(|p| &p.name).collect();
    let mut remove: Vec<InstalledDist> = Vec::new();
    let mut plan: Vec<&Pinned> = Vec::new();
    for pin in &pins {
        if let Some(reason) = &pin.yanked {
            x.findings
                .push(yanked_finding(&pin.name, &pin.version, reason));
        }
        let is_local = matches!(pin.source, PlannedSource::Local { .. });
        if let Some(current) = installed_by_name.get(&pin.name) {
            if current.version == pin.version && !is_local {
                continue;
            }
            remove.push((*current).clone());
        }
        plan.push(pin);
    }
    if x.remove_extraneous {
        for d in &installed {
            if !pinned_names.contains(&d.name) {
                remove.push(d.clone());
            }
        }
    }

    // guard(plan): known vulnerabilities and malware, before any download.
    let pairs: Vec<(PackageName, Version)> = pins
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let vuln_guard: GuardOutcome = guards::vulnerabilities::check(ctx, &pairs, x.config, &x.policy);
    x.findings.extend(vuln_guard.findings);
    // The organisation's flags (report server), from the feed or its cached copy.
    let (flag_findings, flag_line) = guards::flags::check(ctx, x.config, &pairs).await;
    x.findings.extend(flag_findings);
    if let Some(line) = flag_line {
        x.trust_line.details.push(line);
    }
    // Tamper memory, before download: the index now advertises another hash.
    let memory = FileMemory::open(ctx);
    for p in &plan {
        if let PlannedSource::Index { file, index } = &p.source {
            if let Some(h) = &file.hashes.sha256 {
                let pref = PackageRef::new(
                    p.name.to_string(),
                    Some(p.version.to_string()),
                    Some(p.filename.clone()),
                );
                if let Some(f) =
                    memory.check(index, &pref, &p.filename, h, file.size, file.url.as_str())
                {
                    x.findings.push(f);
                }
            }
        }
    }
    if x.findings.blocking(&x.policy).next().is_some() {
        return refuse(
            ctx,
            &x.findings,
            &x.policy,
            "Nothing was installed and no code from it ran; your environment is unchanged.",
        );
    }

    if plan.is_empty() && remove.is_empty() {
        ctx.printer.status(format!(
            "Nothing to install: {} already satisfied",
            plural(pins.len(), "requirement")
        ));
        let lines = vec![
            SecurityLine {
                label: "Integrity",
                status: "nothing new to download".into(),
                ok: true,
                details: Vec::new(),
            },
            vuln_guard.line,
            SecurityLine {
                label: "Code scan",
                status: "nothing new to scan".into(),
                ok: true,
                details: Vec::new(),
            },
            x.trust_line,
        ];
        ctx.printer.security_block(&lines);
        emit_json(ctx, &pins, &[], &[], &x.findings);
        return Ok(0);
    }

    if x.dry_run {
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
        emit_json(ctx, &pins, &would_install, &would_remove, &x.findings);
        return Ok(0);
    }

    // fetch + verify.
    let started = Instant::now();
    let fetched = fetch_all(ctx, x.client, &plan).await?;
    let mut verified_from: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut downloaded_files = x.downloaded_before.0 as usize;
    let mut downloaded_bytes = x.downloaded_before.1;
    let fetch_time = started.elapsed();
    let fetched_now = fetched.iter().any(|f| f.downloaded);
    let mut unchecked = 0usize;
    let mut projects = 0usize;
    let mut mismatches = 0usize;
    let mut bad_archives = Vec::new();
    for (p, f) in plan.iter().zip(&fetched) {
        if f.downloaded {
            downloaded_bytes += f.size;
            downloaded_files += 1;
        }
        let pref = PackageRef::new(
            p.name.to_string(),
            Some(p.version.to_string()),
            Some(p.filename.clone()),
        );
        let observed = Observed {
            package: pref.clone(),
            sha256: f.sha256.clone(),
            size: f.size,
            url: f.url.clone(),
        };
        let from_directory = matches!(
            p.source,
            PlannedSource::Local {
                directory: Some(_),
                ..
            }
        );
        let (verdict, finding) = if from_directory {
            // Built here from the user's own project: nothing to compare with.
            projects += 1;
            (Verified::Disabled, None)
        } else if x.verify_hashes {
            integrity::verify(&observed, &p.expectations)
        } else {
            (Verified::Disabled, None)
        };
        match verdict {
            Verified::Matched(HashSource::Index { .. }) => {
                *verified_from.entry("the index").or_default() += 1
            }
            Verified::Matched(HashSource::Requirements { .. }) => {
                *verified_from.entry("your requirements").or_default() += 1
            }
            Verified::Matched(HashSource::LockFile { .. }) => {
                *verified_from.entry("the lock file").or_default() += 1
            }
            Verified::Matched(HashSource::Memory { .. }) => {
                *verified_from.entry("pyward's record").or_default() += 1
            }
            Verified::Unchecked => unchecked += 1,
            Verified::Mismatch => {
                mismatches += 1;
                bad_archives.push(f.archive.clone());
            }
            Verified::Disabled => {}
        }
        if let Some(finding) = finding {
            x.findings.push(finding);
        }
        if let Some((size, source)) = &p.expected_size {
            if *size != f.size && x.verify_hashes {
                mismatches += 1;
                bad_archives.push(f.archive.clone());
                x.findings.push(
                    Finding::new(
                        Check::Integrity,
                        Severity::Critical,
                        pref.clone(),
                        format!(
                            "{} is {} bytes; the lock file recorded {} bytes ({source})",
                            p.filename, f.size, size
                        ),
                    )
                    .why("A file of another size is another file: it may have been replaced.")
                    .advice(format!(
                        "if you trust the new file:  pyward lock --upgrade-package {}",
                        p.name
                    )),
                );
            }
        }
        if let PlannedSource::Index { index, .. } = &p.source {
            if let Some(found) =
                memory.check(index, &pref, &p.filename, &f.sha256, Some(f.size), &f.url)
            {
                mismatches += 1;
                bad_archives.push(f.archive.clone());
                x.findings.push(found);
            }
        }
    }
    if downloaded_files > 0 {
        // Files the resolver or the builds fetched earlier are counted too;
        // the time is only said when this step downloaded something.
        let mut line = format!(
            "Downloaded {} ({})",
            plural(downloaded_files, "file"),
            human_bytes(downloaded_bytes)
        );
        if fetched_now {
            line.push_str(&format!(" in {}", human_duration(fetch_time)));
        }
        ctx.printer.status(line);
    }
    if x.findings.blocking(&x.policy).next().is_some() {
        // A file that failed its check must not stay in the cache.
        for path in &bad_archives {
            if path.starts_with(ctx.cache.archives()) {
                let _ = fs_err::remove_file(path);
            }
        }
        return refuse(
            ctx,
            &x.findings,
            &x.policy,
            "Nothing was installed; your environment is unchanged.",
        );
    }
    // Remember what passed, so a later change under the same name is caught.
    for (p, f) in plan.iter().zip(&fetched) {
        if let PlannedSource::Index { index, .. } = &p.source {
            memory.remember(index, &p.filename, &f.sha256);
        }
    }

    // guard(artifacts): scan every downloaded archive before anything from it
    // is built, unpacked or installed.
    let artifacts: Vec<guards::scan::Artifact> = plan
        .iter()
        .zip(&fetched)
        .map(|(p, f)| guards::scan::Artifact {
            path: f.archive.clone(),
            sha256: f.sha256.clone(),
            name: p.name.clone(),
            version: p.version.clone(),
            sdist: !p.filename.ends_with(".whl"),
        })
        .collect();
    let (scan_findings, scan_line) = guards::scan::check(ctx, artifacts, &x.policy).await;
    x.findings.extend(scan_findings);
    if x.findings.blocking(&x.policy).next().is_some() {
        return refuse(
            ctx,
            &x.findings,
            &x.policy,
            "Nothing was installed and no code from it ran; your environment is unchanged.",
        );
    }

    // Build the sdists (verified above) into wheels, sandboxed.
    let sources: Vec<build::SourceFile> = plan
        .iter()
        .zip(&fetched)
        .map(|(p, f)| build::SourceFile {
            name: &p.name,
            filename: &p.filename,
            archive: &f.archive,
            sha256: &f.sha256,
        })
        .collect();
    let built = build::build_all(ctx, x.builds.as_ref(), &sources).await?;
    for outcome in built.iter().flatten() {
        x.findings.extend(outcome.findings.iter().cloned());
    }
    if x.findings.blocking(&x.policy).next().is_some() {
        return refuse(
            ctx,
            &x.findings,
            &x.policy,
            "Nothing was installed; your environment is unchanged.",
        );
    }

    // Unpack into the cache (parallel, off the async threads).
    let wheels_dir = ctx.cache.wheels();
    let mut unpack_jobs = Vec::new();
    for ((p, f), outcome) in plan.iter().zip(&fetched).zip(&built) {
        let (archive, filename, key) = match outcome {
            Some(o) => (o.wheel_path.clone(), o.filename.clone(), None),
            None => (
                f.archive.clone(),
                WheelFilename::from_str(&p.filename).map_err(|e| CliError::input(e.to_string()))?,
                Some(f.sha256.clone()),
            ),
        };
        let dir = wheels_dir.clone();
        unpack_jobs.push(tokio::task::spawn_blocking(move || {
            pyward_install::unpack_wheel(&archive, &filename, &dir, key.as_deref())
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
                directory: Some(dir),
                editable,
                ..
            } => {
                // PEP 610: installed from a project directory.
                let dir = std::path::absolute(dir).unwrap_or_else(|_| dir.clone());
                let u = Url::from_directory_path(&dir)
                    .map(|u| u.to_string())
                    .unwrap_or_default();
                let dir_info = if *editable {
                    serde_json::json!({"editable": true})
                } else {
                    serde_json::json!({})
                };
                Some(serde_json::json!({"url": u.trim_end_matches('/'), "dir_info": dir_info}))
            }
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
                    PlannedSource::Index { index, .. } => Some(index.clone()),
                    PlannedSource::Local { .. } => None,
                },
            }),
        });
    }

    // install: staged, then committed in one step.
    let started = Instant::now();
    ctx.changing.store(true, Ordering::SeqCst);
    let env2 = x.env.clone();
    let remove2 = remove.clone();
    let opts = InstallOptions {
        compile_bytecode: x.compile,
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
    let replaced = remove
        .iter()
        .filter(|r| pinned_names.contains(&r.name))
        .count();
    let extraneous = remove.len() - replaced;
    let mut line = format!(
        "Installed {} in {}",
        plural(plan.len(), "package"),
        human_duration(started.elapsed())
    );
    let mut notes = Vec::new();
    if replaced > 0 {
        notes.push(format!(
            "replacing {}",
            plural(replaced, "installed version")
        ));
    }
    notes.extend(build::summary_note(&built));
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join("; ")));
    }
    ctx.printer.status(line);
    if extraneous > 0 {
        ctx.printer.status(format!(
            "Removed {} not in the lock file",
            plural(extraneous, "package")
        ));
    }
    let direct: Vec<String> = plan
        .iter()
        .filter(|p| p.requested)
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
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

    // Warnings (vulnerabilities have their own line), then the security block.
    let warnings: Vec<Finding> = x
        .findings
        .items
        .iter()
        .filter(|f| f.check != Check::Vulnerability)
        // Low scan findings are context for `pyward scan` and --json, not
        // worth a block of text in every install.
        .filter(|f| f.check != Check::Scan || f.severity >= Severity::Moderate)
        .cloned()
        .collect();
    ctx.printer
        .findings(&warnings, &x.policy, pyward_guard::Decision::Warn);
    let total = plan.len() - projects.min(plan.len());
    // Wheels built from checked sdists (not from the user's project directories).
    let from_sdists: Vec<Option<pyward_build::BuildOutcome>> = plan
        .iter()
        .zip(&built)
        .map(|(p, o)| match &p.source {
            PlannedSource::Local {
                directory: Some(_), ..
            } => None,
            _ => o.clone(),
        })
        .collect();
    let verified = total - unchecked.min(total) - mismatches.min(total);
    let integrity_line = if !x.verify_hashes {
        SecurityLine {
            label: "Integrity",
            status: format!("OFF: {total} files were installed without checking their hashes"),
            ok: false,
            details: vec![
                "hash checking was turned off (--no-verify-hashes or verify-hashes = false)".into(),
            ],
        }
    } else {
        // Strongest source first.
        let order = [
            "the lock file",
            "your requirements",
            "the index",
            "pyward's record",
        ];
        let sources: Vec<String> = order
            .iter()
            .filter_map(|k| verified_from.get(k).map(|n| format!("{n} from {k}")))
            .collect();
        let status = if total == 0 {
            "no downloaded files to check".to_string()
        } else if unchecked == 0 {
            if verified_from.len() == 1 {
                format!(
                    "{verified}/{total} files match sha256 from {}",
                    verified_from.keys().next().copied().unwrap_or("the index")
                )
            } else {
                format!(
                    "{verified}/{total} files match sha256 ({})",
                    sources.join(", ")
                )
            }
        } else {
            format!("{verified}/{total} files verified; {unchecked} could not be checked")
        };
        SecurityLine {
            label: "Integrity",
            status,
            ok: unchecked == 0 && x.unhashed_notes.is_empty(),
            details: x
                .unhashed_notes
                .iter()
                .cloned()
                .chain(build::integrity_note(&from_sdists))
                .chain((projects > 0).then(|| {
                    format!(
                        "{} built from your project directory (nothing to check it against)",
                        plural(projects, "package")
                    )
                }))
                .collect(),
        }
    };
    let lines = vec![integrity_line, vuln_guard.line, scan_line, x.trust_line];
    ctx.printer.security_block(&lines);
    let installed_json: Vec<_> = plan
        .iter()
        .zip(&fetched)
        .zip(&built)
        .map(|((p, f), o)| serde_json::json!({"name": p.name.to_string(), "version": p.version.to_string(), "file": p.filename, "sha256": f.sha256, "built_from_source": o.is_some()}))
        .collect();
    let removed_json: Vec<_> = remove
        .iter()
        .map(|r| serde_json::json!({"name": r.name.to_string(), "version": r.version.to_string()}))
        .collect();
    emit_json(ctx, &pins, &installed_json, &removed_json, &x.findings);
    Ok(0)
}

fn emit_json(
    ctx: &Context,
    pins: &[Pinned],
    installed: &[serde_json::Value],
    removed: &[serde_json::Value],
    findings: &Findings,
) {
    if !ctx.printer.json {
        return;
    }
    ctx.printer.json_value(&serde_json::json!({
        "resolved": pins.iter().map(|p| serde_json::json!({"name": p.name.to_string(), "version": p.version.to_string()})).collect::<Vec<_>>(),
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
    plan: &[&Pinned],
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
                    ..
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
