//! `pyward audit [fix]`: known vulnerabilities and malware in an environment,
//! a requirements file (resolved, nothing installed), a pylock.toml or a
//! pyproject.toml; and the smallest upgrades that remove them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use pyward_dist::{PackageName, Version};
use pyward_guard::{Check, Decision, Finding, Severity};
use pyward_lock::requirements::RequirementSpec;

use crate::build;
use crate::cli::{AuditAction, AuditArgs, InstallArgs, ReportFormat, RequirementArgs};
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::guards::vulnerabilities::{
    advisory_id, data_label, drop_ignored_until_fixed, fixed_in, open_db, severity_label, short,
};
use crate::output::{count, group_digits, human_duration, plural};
use crate::pipeline::{self, ResolveSettings};

/// What was audited.
struct Subject {
    /// "in /path/.venv", "in requirements.txt".
    label: String,
    packages: Vec<(PackageName, Version)>,
    /// Where the packages came from (what `fix` changes).
    source: Source,
}

/// What an audit looked at, and so what `audit fix` rewrites.
enum Source {
    /// The installed environment: fixed by installing the upgrades.
    Environment,
    /// A requirements file: its pins are rewritten.
    Requirements(PathBuf),
    /// A PEP 751 lock: locked again with the fixed versions.
    Lock(PathBuf),
    /// A pyproject.toml: its ranges are not rewritten; the fix is a lock or an install.
    Pyproject(PathBuf),
    /// Several files at once: audited together, fixed one at a time.
    Several,
}

impl Source {
    fn file(&self) -> Option<&Path> {
        match self {
            Source::Requirements(p) | Source::Lock(p) | Source::Pyproject(p) => Some(p),
            Source::Environment | Source::Several => None,
        }
    }
}

pub async fn run(args: AuditArgs, ctx: &Context) -> CliResult<u8> {
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let started = Instant::now();
    let subject = collect(&args, ctx, &config, &cwd).await?;
    let db = open_db(ctx).map_err(CliError::failed)?;
    let status = db.status();
    let (label, stale) = data_label(&status);
    let report = pyward_audit::audit(&db, &subject.packages);
    let mut findings = report.findings;
    drop_ignored_until_fixed(&mut findings, &config);
    let policy = config.policy(None, &[], &args.ignore);
    let (shown, ignored): (Vec<Finding>, Vec<Finding>) = findings
        .into_iter()
        .partition(|f| policy.decide(f) != Decision::Allow);
    let fail_on = args
        .fail_on
        .map(|f| f.severity())
        .or(policy.fail_on)
        .unwrap_or(Severity::Low);
    let failing = shown.iter().any(|f| {
        f.check == Check::Malware || (f.check == Check::Vulnerability && f.severity >= fail_on)
    });

    if let Some(AuditAction::Fix { dry_run }) = args.action {
        return fix(ctx, &args, &config, &subject, &shown, &db, dry_run).await;
    }

    let format = if ctx.printer.json {
        ReportFormat::Json
    } else {
        args.format
    };
    match format {
        ReportFormat::Json => ctx.printer.json_value(&serde_json::json!({
            "audited": subject.label,
            "packages": subject.packages.len(),
            "advisory_data": {
                "newest_record": status.newest_record.map(|d| d.to_string()),
                "stale": stale,
                "records": status.records,
            },
            "vulnerabilities": shown,
            "ignored": ignored,
            "unchecked": report.unchecked,
        })),
        ReportFormat::Sarif => ctx.printer.json_value(&sarif(&shown, &subject)),
        ReportFormat::Markdown => ctx.printer.important(markdown(&shown, &subject, &label)),
        ReportFormat::Text => text(
            ctx,
            &shown,
            &ignored,
            &subject,
            &label,
            stale,
            status.records,
            started,
        ),
    }
    Ok(if failing { 1 } else { 0 })
}

#[allow(clippy::too_many_arguments)]
fn text(
    ctx: &Context,
    shown: &[Finding],
    ignored: &[Finding],
    subject: &Subject,
    label: &str,
    stale: bool,
    records: usize,
    started: Instant,
) {
    let p = &ctx.printer;
    p.status(format!(
        "Audited {} {} against {} advisories ({label}) in {}",
        plural(subject.packages.len(), "package"),
        subject.label,
        group_digits(records as u64),
        human_duration(started.elapsed())
    ));
    if stale {
        p.important(format!(
            "! The {label}: vulnerabilities published since then are not known here."
        ));
        p.important("  → pyward db update   downloads current advisories");
    }
    if shown.is_empty() {
        p.important("");
        if subject.packages.is_empty() {
            p.important("Nothing to audit: no packages.");
        } else if stale {
            p.important("No known vulnerabilities in that data.");
        } else {
            p.important("No known vulnerabilities.");
        }
    } else {
        let rows: Vec<[String; 5]> = {
            let mut sorted: Vec<&Finding> = shown.iter().collect();
            sorted.sort_by(|a, b| {
                b.severity
                    .cmp(&a.severity)
                    .then(a.package.name.cmp(&b.package.name))
            });
            sorted
                .iter()
                .map(|f| {
                    [
                        f.package.name.clone(),
                        f.package.version.clone().unwrap_or_default(),
                        if f.check == Check::Malware {
                            "MALWARE".into()
                        } else {
                            severity_label(f).to_string()
                        },
                        format!("{} {}", advisory_id(f), short(&f.title, 40)),
                        fixed_in(f).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect()
        };
        let header = ["Package", "Version", "Severity", "Advisory", "Fixed in"];
        let mut widths = header.map(str::len);
        for r in &rows {
            for (i, c) in r.iter().enumerate() {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let line = |cells: [&str; 5]| {
            format!(
                "  {:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
                cells[0],
                cells[1],
                cells[2],
                cells[3],
                cells[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3]
            )
        };
        p.important("");
        p.important(line(header));
        for r in &rows {
            p.important(line([&r[0], &r[1], &r[2], &r[3], &r[4]]));
        }
        let mut levels = BTreeMap::new();
        for f in shown {
            let key = if f.check == Check::Malware {
                "malware"
            } else {
                severity_label(f)
            };
            *levels.entry(key).or_insert(0usize) += 1;
        }
        let order = ["malware", "critical", "high", "moderate", "low", "unknown"];
        let parts: Vec<String> = order
            .iter()
            .filter_map(|k| levels.get(k).map(|n| format!("{n} {k}")))
            .collect();
        let mut affected: Vec<&str> = shown.iter().map(|f| f.package.name.as_str()).collect();
        affected.sort();
        affected.dedup();
        p.important("");
        p.important(format!(
            "{} ({}) in {} of {}",
            count(shown.len(), "vulnerability", "vulnerabilities"),
            parts.join(", "),
            affected.len(),
            plural(subject.packages.len(), "package")
        ));
        p.important("  → pyward audit fix --dry-run   shows the smallest upgrades that fix them");
        p.important("  → pyward audit --json          machine-readable report");
    }
    if !ignored.is_empty() {
        p.important(format!(
            "{} ignored by your configuration",
            count(ignored.len(), "advisory", "advisories")
        ));
    }
}

async fn collect(
    args: &AuditArgs,
    ctx: &Context,
    config: &Config,
    cwd: &Path,
) -> CliResult<Subject> {
    if args.requirements.is_empty() {
        let env = ctx.environment(args.env.python.as_deref())?;
        let installed = env
            .installed()
            .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
        return Ok(Subject {
            label: format!("in {}", env.root.display()),
            packages: installed.into_iter().map(|d| (d.name, d.version)).collect(),
            source: Source::Environment,
        });
    }
    let mut packages = Vec::new();
    let mut labels = Vec::new();
    let mut sources = Vec::new();
    for file in &args.requirements {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        labels.push(name.clone());
        if name.starts_with("pylock") && name.ends_with(".toml") {
            let lock = pyward_lock::pylock::PyLock::read(file)
                .map_err(|e| CliError::input(e.to_string()))?;
            for p in &lock.packages {
                if let Some(v) = &p.version {
                    packages.push((p.name.clone(), v.clone()));
                }
            }
            sources.push(Source::Lock(file.clone()));
            continue;
        }
        let reqs = if name == "pyproject.toml" {
            let project = pyward_lock::pyproject::read_pyproject_dependencies(file)
                .map_err(|e| CliError::input(e.to_string()))?;
            let mut args = RequirementArgs {
                index_url: args.index_url.clone(),
                ..RequirementArgs::default()
            };
            args.packages = project.dependencies.iter().map(|r| r.to_string()).collect();
            sources.push(Source::Pyproject(file.clone()));
            args
        } else {
            sources.push(Source::Requirements(file.clone()));
            RequirementArgs {
                requirements: vec![file.clone()],
                index_url: args.index_url.clone(),
                ..RequirementArgs::default()
            }
        };
        packages.extend(resolve_pairs(ctx, args, config, cwd, &reqs).await?);
    }
    Ok(Subject {
        label: format!("in {}", labels.join(", ")),
        packages,
        source: if sources.len() == 1 {
            sources.remove(0)
        } else {
            Source::Several
        },
    })
}

/// Resolve requirements (nothing is installed) for the target interpreter.
async fn resolve_pairs(
    ctx: &Context,
    args: &AuditArgs,
    config: &Config,
    cwd: &Path,
    reqs: &RequirementArgs,
) -> CliResult<Vec<(PackageName, Version)>> {
    let info = match ctx.environment(args.env.python.as_deref()) {
        Ok(env) => env.interpreter,
        Err(_) => {
            let python = pyward_install::find_python(None).map_err(|e| {
                CliError::input(format!("no Python interpreter to resolve for: {e}"))
            })?;
            ctx.interpreter(&python)?
        }
    };
    let mut inputs = pipeline::gather_inputs(reqs, cwd)?;
    let client = pipeline::index_client(ctx, &inputs, reqs, config)?;
    pipeline::fetch_local_dists(&mut inputs, &client, ctx).await?;
    // Packages published only as sdists are audited too: their dependencies
    // come from a sandboxed build step, after audit and code scan.
    let builds = build::for_resolution(ctx, &info, &client, config)?;
    let policy = config.policy(None, &[], &[]);
    if let Err(e) = build::prepare_local_sdists(ctx, &mut inputs, &builds).await {
        return Err(build::resolution_error(ctx, &builds, e, &policy));
    }
    let resolution = pipeline::resolve(
        ctx,
        &client,
        &info,
        &inputs,
        ResolveSettings {
            metadata_only: true,
            ..ResolveSettings::default()
        },
        Some(builds.clone()),
    )
    .await
    .map_err(|e| build::resolution_error(ctx, &builds, e, &policy))?;
    Ok(resolution
        .packages
        .into_iter()
        .map(|p| (p.name, p.version))
        .collect())
}

/// `pyward audit fix`: the smallest upgrades that remove known
/// vulnerabilities while the whole set still resolves. Each vulnerable
/// package gets a floor at its smallest safe release, preferred over newer
/// ones; everything else prefers its current version. The new set is audited
/// again (a fix can pull in a vulnerable release), up to three rounds.
async fn fix(
    ctx: &Context,
    args: &AuditArgs,
    config: &Config,
    subject: &Subject,
    shown: &[Finding],
    db: &pyward_audit::AdvisoryDb,
    dry_run: bool,
) -> CliResult<u8> {
    let p = &ctx.printer;
    if matches!(subject.source, Source::Several) {
        return Err(CliError::input(
            "audit fix changes one thing at a time: give it one requirements file, lock file or pyproject.toml",
        ));
    }
    let current: BTreeMap<PackageName, Version> = subject.packages.iter().cloned().collect();
    let mut unfixable: BTreeMap<PackageName, String> = BTreeMap::new();
    for f in shown.iter().filter(|f| f.check == Check::Malware) {
        if let Ok(n) = PackageName::from_str(&f.package.name) {
            let how = match &subject.source {
                Source::Environment => format!("remove it with  pyward uninstall {n}"),
                _ => "remove it from your requirements".to_string(),
            };
            unfixable.insert(n.clone(), format!("it is known malware: {how}"));
        }
    }
    let mut findings: Vec<Finding> = shown.to_vec();
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let mut reqs = RequirementArgs {
        index_url: args.index_url.clone(),
        ..RequirementArgs::default()
    };
    match &subject.source {
        Source::Requirements(file) => reqs.requirements.push(file.clone()),
        Source::Pyproject(file) => {
            let project = pyward_lock::pyproject::read_pyproject_dependencies(file)
                .map_err(|e| CliError::input(e.to_string()))?;
            reqs.packages = project.dependencies.iter().map(|r| r.to_string()).collect();
        }
        Source::Environment | Source::Lock(_) | Source::Several => {}
    }
    let base_inputs = match &subject.source {
        Source::Requirements(_) | Source::Pyproject(_) => pipeline::gather_inputs(&reqs, &cwd)?,
        // Every installed or locked package, free to move, preferring where it is.
        Source::Environment | Source::Lock(_) | Source::Several => {
            let roots = match &subject.source {
                Source::Lock(file) => lock_roots(file)?,
                _ => current.keys().cloned().collect(),
            };
            let mut inputs = pipeline::Inputs::default();
            for name in &roots {
                inputs
                    .requirements
                    .push(pyward_dist::parse_requirement(name.as_ref()).map_err(CliError::failed)?);
            }
            inputs
        }
    };
    let client = pipeline::index_client(ctx, &base_inputs, &reqs, config)?;
    let info = match ctx.environment(args.env.python.as_deref()) {
        Ok(env) => env.interpreter,
        Err(_) => {
            let python = pyward_install::find_python(None).map_err(|e| {
                CliError::input(format!("no Python interpreter to resolve for: {e}"))
            })?;
            ctx.interpreter(&python)?
        }
    };
    let builds = build::for_resolution(ctx, &info, &client, config)?;
    let build_policy = config.policy(None, &[], &[]);
    let mut floors: BTreeMap<PackageName, Version> = BTreeMap::new();
    let mut result: Option<BTreeMap<PackageName, Version>> = None;
    let mut last: Option<(pyward_resolve::Resolution, pipeline::Inputs)> = None;
    for _round in 0..3 {
        let mut progressed = false;
        for f in findings.iter().filter(|f| f.check == Check::Vulnerability) {
            let (Ok(name), Some(Ok(version))) = (
                PackageName::from_str(&f.package.name),
                f.package.version.as_deref().map(Version::from_str),
            ) else {
                continue;
            };
            if unfixable.contains_key(&name) || floors.get(&name).is_some_and(|v| v > &version) {
                continue;
            }
            let available = available_versions(&client, &name).await?;
            match db
                .smallest_safe_version(&name, &version, &available, |v| {
                    v > &version && !v.any_prerelease()
                })
                .map_err(|e| CliError::failed(e.to_string()))?
            {
                Some(v) => {
                    floors.insert(name, v);
                    progressed = true;
                }
                None => {
                    unfixable.insert(
                        name,
                        "no released version is free of known vulnerabilities".into(),
                    );
                }
            }
        }
        if !progressed && result.is_some() {
            break;
        }
        let mut inputs = pipeline::Inputs {
            requirements: base_inputs.requirements.clone(),
            constraints: base_inputs.constraints.clone(),
            index_url: base_inputs.index_url.clone(),
            extra_index_urls: base_inputs.extra_index_urls.clone(),
            pre: base_inputs.pre,
            ..pipeline::Inputs::default()
        };
        for req in &mut inputs.requirements {
            if let Some(floor) = floors.get(&req.name) {
                req.version_or_url = Some(pyward_dist::VersionOrUrl::VersionSpecifier(
                    pyward_dist::VersionSpecifiers::from_str(&format!(">={floor}"))
                        .map_err(|e| CliError::failed(e.to_string()))?,
                ));
            }
        }
        for (name, floor) in &floors {
            inputs.constraints.push(
                pyward_dist::parse_requirement(&format!("{name}>={floor}"))
                    .map_err(CliError::failed)?,
            );
        }
        let mut preferences: std::collections::HashMap<PackageName, Version> =
            current.clone().into_iter().collect();
        for (name, floor) in &floors {
            preferences.insert(name.clone(), floor.clone());
        }
        let resolution = match pipeline::resolve(
            ctx,
            &client,
            &info,
            &inputs,
            ResolveSettings {
                preferences,
                metadata_only: true,
                ..ResolveSettings::default()
            },
            Some(builds.clone()),
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                let e = build::resolution_error(ctx, &builds, e, &build_policy);
                p.important("The fixed versions cannot all be installed together:");
                p.important(e.to_string());
                return Ok(1);
            }
        };
        let new: BTreeMap<PackageName, Version> = resolution
            .packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        last = Some((resolution, inputs));
        let pairs: Vec<(PackageName, Version)> = new.clone().into_iter().collect();
        let mut again = pyward_audit::audit(db, &pairs).findings;
        drop_ignored_until_fixed(&mut again, config);
        let policy = config.policy(None, &[], &args.ignore);
        again.retain(|f| policy.decide(f) != Decision::Allow);
        findings = again;
        result = Some(new);
        if findings.iter().all(|f| {
            PackageName::from_str(&f.package.name).is_ok_and(|n| unfixable.contains_key(&n))
        }) {
            break;
        }
    }
    let new = result.unwrap_or_default();
    let upgrades: Vec<(PackageName, Option<Version>, Version)> = new
        .iter()
        .filter(|(n, v)| current.get(*n) != Some(*v))
        .map(|(n, v)| (n.clone(), current.get(n).cloned(), v.clone()))
        .collect();
    for (name, from, to) in &upgrades {
        match from {
            Some(from) => p.important(format!("  {name} {from} → {to}")),
            None => p.important(format!("  {name} (new) {to}")),
        }
    }
    // A lock is resolved again from its roots: what nothing needs any more leaves it.
    let dropped: Vec<(&PackageName, &Version)> = if matches!(subject.source, Source::Lock(_)) {
        current
            .iter()
            .filter(|(n, _)| !new.contains_key(*n))
            .collect()
    } else {
        Vec::new()
    };
    for (name, version) in &dropped {
        p.important(format!("  {name} {version} → no longer needed"));
    }
    for (name, why) in &unfixable {
        p.important(format!("  ! cannot fix {name}: {why}"));
    }
    let remaining: Vec<&Finding> = findings
        .iter()
        .filter(|f| {
            PackageName::from_str(&f.package.name).is_ok_and(|n| !unfixable.contains_key(&n))
        })
        .collect();
    for f in &remaining {
        p.important(format!(
            "  ! {} {} still has {} after the upgrades",
            f.package.name,
            f.package.version.as_deref().unwrap_or(""),
            advisory_id(f)
        ));
    }
    if ctx.printer.json {
        ctx.printer.json_value(&serde_json::json!({
            "upgrades": upgrades.iter().map(|(n, f, t)| serde_json::json!({"name": n.to_string(), "from": f.as_ref().map(|v| v.to_string()), "to": t.to_string()})).collect::<Vec<_>>(),
            "unfixable": unfixable.iter().map(|(n, w)| serde_json::json!({"name": n.to_string(), "reason": w})).collect::<Vec<_>>(),
            "applied": !dry_run,
        }));
    }
    let clean = unfixable.is_empty() && remaining.is_empty();
    if upgrades.is_empty() {
        return Ok(if clean { 0 } else { 1 });
    }
    let changed: Vec<(PackageName, Version, Version)> = upgrades
        .iter()
        .map(|(n, f, t)| (n.clone(), f.clone().unwrap_or_else(|| t.clone()), t.clone()))
        .collect();
    match &subject.source {
        Source::Lock(file) => {
            let Some((resolution, inputs)) = &last else {
                return Ok(1);
            };
            if dry_run {
                p.status(format!("Dry run: {} was not changed.", file.display()));
                return Ok(if clean { 0 } else { 1 });
            }
            let (lock, files) =
                super::lock::build_lock(ctx, &client, resolution, inputs, file).await?;
            super::lock::write_lock(&lock, file)?;
            p.status(format!(
                "Locked {} again to {} ({files} files, each with its sha256); check it with:  pyward audit -r {}",
                plural(lock.packages.len(), "package"),
                file.display(),
                file.display()
            ));
            Ok(if clean { 0 } else { 1 })
        }
        Source::Pyproject(file) => {
            // Its ranges allowed the fixed versions (they resolved); the pins
            // belong in a lock or in the environment, not in pyproject.toml.
            let upgrade_flags: Vec<String> = changed
                .iter()
                .map(|(n, _, _)| format!("--upgrade-package {n}"))
                .collect();
            p.status(format!(
                "{} was not changed: it declares ranges, and they already allow these versions.",
                file.display()
            ));
            p.status(format!(
                "  → pyward lock -r {} {}   locks them",
                file.display(),
                upgrade_flags.join(" ")
            ));
            p.status(format!(
                "  → pyward install -r {} {}   installs them",
                file.display(),
                upgrade_flags.join(" ")
            ));
            Ok(1)
        }
        Source::Several => Ok(1),
        Source::Requirements(file) => {
            let new_text = rewrite_requirements(file, &changed)?;
            if dry_run {
                p.status(format!("Dry run: {} was not changed.", file.display()));
            } else {
                fs_err::write(file, new_text).map_err(|e| CliError::failed(e.to_string()))?;
                p.status(format!(
                    "Updated {}; check it with:  pyward audit -r {}",
                    file.display(),
                    file.display()
                ));
            }
            Ok(if clean { 0 } else { 1 })
        }
        Source::Environment => {
            if dry_run {
                p.status("Dry run: nothing was changed.");
                return Ok(if clean { 0 } else { 1 });
            }
            // Applied through the normal install pipeline: verified, audited, atomic.
            let install = InstallArgs {
                reqs: RequirementArgs {
                    packages: changed
                        .iter()
                        .map(|(n, _, v)| format!("{n}=={v}"))
                        .collect(),
                    index_url: args.index_url.clone(),
                    ..RequirementArgs::default()
                },
                env: args.env.clone(),
                upgrade: false,
                upgrade_package: Vec::new(),
                compile: false,
                dry_run: false,
                break_system_packages: false,
                allow: Vec::new(),
                fail_on: None,
                min_age: None,
                no_verify_hashes: false,
                no_build: false,
                only_binary: Vec::new(),
                no_binary: Vec::new(),
            };
            let code = Box::pin(super::install::run(install, ctx)).await?;
            Ok(if code == 0 && !clean { 1 } else { code })
        }
    }
}

/// The packages of a lock that no other locked package depends on (so a
/// dependency that the upgrades no longer need leaves the lock); all of
/// them when the lock records no dependencies (PEP 751 makes them optional).
fn lock_roots(file: &Path) -> CliResult<Vec<PackageName>> {
    let lock =
        pyward_lock::pylock::PyLock::read(file).map_err(|e| CliError::input(e.to_string()))?;
    let mut needed = std::collections::HashSet::new();
    for p in &lock.packages {
        for dep in &p.dependencies {
            if let Some(pyward_lock::pylock::TomlValue::String(n)) = dep.get("name") {
                if let Ok(name) = PackageName::from_str(n) {
                    needed.insert(name);
                }
            }
        }
    }
    let mut roots: Vec<PackageName> = lock
        .packages
        .iter()
        .map(|p| p.name.clone())
        .filter(|n| !needed.contains(n))
        .collect();
    if needed.is_empty() || roots.is_empty() {
        roots = lock.packages.iter().map(|p| p.name.clone()).collect();
    }
    roots.sort();
    roots.dedup();
    Ok(roots)
}

/// Released (not yanked) versions of `name` on the index, ascending.
async fn available_versions(
    client: &pyward_index::IndexClient,
    name: &PackageName,
) -> CliResult<Vec<Version>> {
    let page = client
        .project(name)
        .await
        .map_err(|e| CliError::network(e.to_string()))?;
    let mut available: Vec<Version> = page
        .map(|p| {
            p.files
                .iter()
                .filter(|f| !f.yanked)
                .map(|f| f.dist.version().clone())
                .collect()
        })
        .unwrap_or_default();
    available.sort();
    available.dedup();
    Ok(available)
}

/// The requirements file with each upgraded package pinned to its fix: an
/// existing `name==old` line is rewritten; a package the file does not name
/// (a dependency) gets a new `name>=fix` line.
fn rewrite_requirements(
    file: &Path,
    upgrades: &[(PackageName, Version, Version)],
) -> CliResult<String> {
    let parsed = pyward_lock::requirements::parse_requirements_file(file)
        .map_err(|e| CliError::input(e.to_string()))?;
    let text = fs_err::read_to_string(file).map_err(|e| CliError::input(e.to_string()))?;
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut appended = Vec::new();
    for (name, from, to) in upgrades {
        let entry = parsed.entries.iter().find(|e| {
            e.origin.file == file && matches!(&e.spec, RequirementSpec::Named(r) if &r.name == name)
        });
        match entry {
            Some(e) if !e.hashes.is_empty() => {
                return Err(CliError::input(format!(
                    "{}: {name} is pinned with --hash; its new hash cannot be written for you yet",
                    e.origin
                ))
                .hint(format!(
                    "replace the line with  {name}=={to}  and its hash from  pyward hash"
                )));
            }
            Some(e) => {
                let idx = e.origin.line.saturating_sub(1);
                if let Some(line) = lines.get_mut(idx) {
                    let pin = format!("=={from}");
                    if line.contains(&pin) {
                        *line = line.replacen(&pin, &format!("=={to}"), 1);
                    } else {
                        appended.push(format!("{name}=={to}  # pyward audit fix: was {from}"));
                    }
                }
            }
            None if from == to => {
                appended.push(format!("{name}=={to}  # pyward audit fix: new dependency"))
            }
            None => appended.push(format!(
                "{name}=={to}  # pyward audit fix: dependency, was {from}"
            )),
        }
    }
    let mut out = lines.join("\n");
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for a in appended {
        out.push_str(&a);
        out.push('\n');
    }
    Ok(out)
}

fn sarif(findings: &[Finding], subject: &Subject) -> serde_json::Value {
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "ruleId": advisory_id(f),
                "level": match f.severity {
                    Severity::Critical | Severity::High => "error",
                    Severity::Moderate => "warning",
                    _ => "note",
                },
                "message": {"text": format!("{} {}: {}", f.package.name, f.package.version.as_deref().unwrap_or(""), f.title)},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": subject.source.file().map(|p| p.display().to_string()).unwrap_or_else(|| "environment".into())}}}],
                "properties": {"package": f.package.name, "version": f.package.version, "severity": severity_label(f), "fixedIn": fixed_in(f)},
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "pyward", "version": env!("CARGO_PKG_VERSION"), "informationUri": "https://pypi.org/project/pyward/"}}, "results": results}],
    })
}

fn markdown(findings: &[Finding], subject: &Subject, label: &str) -> String {
    let mut out = format!(
        "## pyward audit\n\n{} {} ({label})\n\n",
        plural(subject.packages.len(), "package"),
        subject.label
    );
    if findings.is_empty() {
        out.push_str("No known vulnerabilities.\n");
        return out;
    }
    out.push_str("| Package | Version | Severity | Advisory | Fixed in |\n|---|---|---|---|---|\n");
    for f in findings {
        out.push_str(&format!(
            "| {} | {} | {} | {} {} | {} |\n",
            f.package.name,
            f.package.version.as_deref().unwrap_or(""),
            severity_label(f),
            advisory_id(f),
            short(&f.title, 60).replace('|', "\\|"),
            fixed_in(f).unwrap_or_else(|| "-".into())
        ));
    }
    out
}
