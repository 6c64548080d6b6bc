//! `pyward scan NAME[==VER] | FILE.whl | FILE.tar.gz | DIR`: the static code
//! scan on its own, findings grouped per package; exit 1 when the install
//! policy would block something.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pyward_dist::{DistFilename, PackageName, Tags, Version};
use pyward_guard::{Decision, Evidence, Finding};

use crate::cli::{ReportFormat, ScanArgs};
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::guards::scan::{scan_one, Artifact};
use crate::pipeline;

pub async fn run(args: ScanArgs, ctx: &Context) -> CliResult<u8> {
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let policy = config.policy(None, &args.allow, &[]);
    let mut groups: Vec<(String, Vec<Finding>)> = Vec::new();
    for target in &args.targets {
        let path = Path::new(target);
        if path.is_dir() {
            let report = pyward_scan::scan_dir(path).map_err(|e| CliError::input(e.to_string()))?;
            groups.push((target.clone(), report.findings));
        } else if path.is_file() {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let dist = DistFilename::parse(&name, None)
                .map_err(|e| CliError::input(format!("{target}: {e}")))?;
            let (sha, _) = pipeline::sha256_file(path)
                .map_err(|e| CliError::input(format!("{target}: {e}")))?;
            let artifact = Artifact {
                path: path.to_path_buf(),
                sha256: sha.clone(),
                name: dist.name().clone(),
                version: dist.version().clone(),
                sdist: matches!(dist, DistFilename::Sdist(_)),
            };
            let cache = crate::guards::scan::cache_path(ctx, &sha);
            let findings = tokio::task::spawn_blocking(move || scan_one(&cache, &artifact))
                .await
                .map_err(|e| CliError::failed(e.to_string()))?
                .map_err(|e| CliError::input(format!("{target}: {e}")))?;
            groups.push((name, findings));
        } else {
            groups.extend(scan_from_index(ctx, &config, target, args.index_url.clone()).await?);
        }
    }
    let all: Vec<&Finding> = groups.iter().flat_map(|(_, f)| f).collect();
    let blocked = all
        .iter()
        .any(|f| policy.decide_unattended(f) == Decision::Block);
    let format = if ctx.printer.json {
        ReportFormat::Json
    } else {
        args.format
    };
    match format {
        ReportFormat::Json => ctx.printer.json_value(&serde_json::json!(groups
            .iter()
            .map(|(what, f)| serde_json::json!({"scanned": what, "findings": f}))
            .collect::<Vec<_>>())),
        ReportFormat::Sarif => ctx.printer.json_value(&sarif(&all)),
        _ => {
            for (what, findings) in &groups {
                if findings.is_empty() {
                    ctx.printer.important(format!("{what}: nothing suspicious"));
                    continue;
                }
                ctx.printer.important(format!("{what}:"));
                ctx.printer.findings(
                    findings,
                    &policy,
                    if args.all {
                        Decision::Allow
                    } else {
                        Decision::Warn
                    },
                );
                let hidden = findings
                    .iter()
                    .filter(|f| policy.decide_unattended(f) < Decision::Warn)
                    .count();
                if hidden > 0 && !args.all {
                    ctx.printer.important(format!(
                        "  ({hidden} informational, shown with --all or --json)"
                    ));
                }
            }
            if blocked {
                ctx.printer
                    .important("An install of this would be refused.");
            }
        }
    }
    Ok(if blocked { 1 } else { 0 })
}

/// NAME or NAME==VERSION: the best wheel for this Python and the sdist, from the index.
async fn scan_from_index(
    ctx: &Context,
    config: &Config,
    spec: &str,
    index_url: Option<String>,
) -> CliResult<Vec<(String, Vec<Finding>)>> {
    let (name, version) = match spec.split_once("==") {
        Some((n, v)) => (
            PackageName::from_str(n.trim())
                .map_err(|e| CliError::input(format!("`{spec}`: {e}")))?,
            Some(
                Version::from_str(v.trim())
                    .map_err(|e| CliError::input(format!("`{spec}`: {e}")))?,
            ),
        ),
        None => (
            PackageName::from_str(spec.trim()).map_err(|_| {
                CliError::input(format!(
                    "`{spec}` is neither a file, a directory nor a package name"
                ))
            })?,
            None,
        ),
    };
    let reqs = crate::cli::RequirementArgs {
        index_url,
        ..Default::default()
    };
    let client = pipeline::index_client(ctx, &pipeline::Inputs::default(), &reqs, config)?;
    let page = client
        .project(&name)
        .await
        .map_err(|e| CliError::network(e.to_string()))?
        .ok_or_else(|| CliError::input(format!("{name} was not found on the package index")))?;
    let version = match version {
        Some(v) => v,
        None => page
            .files
            .iter()
            .filter(|f| !f.yanked && !f.dist.version().any_prerelease())
            .map(|f| f.dist.version().clone())
            .max()
            .ok_or_else(|| CliError::input(format!("{name} has no released files")))?,
    };
    let python = pyward_install::find_python(None).ok();
    let tags = match &python {
        Some(p) => Some(Tags::from_interpreter(&ctx.interpreter(p)?)),
        None => None,
    };
    let files: Vec<&pyward_index::DistFile> = page
        .files
        .iter()
        .filter(|f| f.dist.version() == &version)
        .collect();
    let best_wheel = files
        .iter()
        .filter_map(|f| match &f.dist {
            DistFilename::Wheel(w) => tags.as_ref().and_then(|t| t.rank(w)).map(|r| (r, *f)),
            _ => None,
        })
        .min_by_key(|(r, _)| *r)
        .map(|(_, f)| f)
        .or_else(|| {
            files
                .iter()
                .copied()
                .find(|f| matches!(f.dist, DistFilename::Wheel(_)))
        });
    let sdist = files
        .iter()
        .copied()
        .find(|f| matches!(f.dist, DistFilename::Sdist(_)));
    let mut out = Vec::new();
    for file in best_wheel.into_iter().chain(sdist) {
        let dir = ctx.cache.archives();
        fs_err::create_dir_all(&dir).map_err(|e| CliError::failed(e.to_string()))?;
        let tmp: PathBuf = dir.join(format!(".scan-{}", file.filename));
        let got = client
            .download(&file.url, &tmp, |_| {}, file.size)
            .await
            .map_err(|e| CliError::network(e.to_string()))?;
        if let Some(expected) = &file.hashes.sha256 {
            if !expected.eq_ignore_ascii_case(&got.sha256) {
                let _ = fs_err::remove_file(&tmp);
                return Err(CliError::refused(format!(
                    "{} does not match the sha256 the index published; not scanned",
                    file.filename
                )));
            }
        }
        let dest = dir.join(&got.sha256);
        fs_err::rename(&tmp, &dest).map_err(|e| CliError::failed(e.to_string()))?;
        let artifact = Artifact {
            path: dest,
            sha256: got.sha256.clone(),
            name: name.clone(),
            version: version.clone(),
            sdist: matches!(file.dist, DistFilename::Sdist(_)),
        };
        let cache = crate::guards::scan::cache_path(ctx, &got.sha256);
        let findings = tokio::task::spawn_blocking(move || scan_one(&cache, &artifact))
            .await
            .map_err(|e| CliError::failed(e.to_string()))?
            .map_err(|e| CliError::input(format!("{}: {e}", file.filename)))?;
        out.push((file.filename.clone(), findings));
    }
    if out.is_empty() {
        return Err(CliError::input(format!(
            "{name} {version} has no files to scan"
        )));
    }
    Ok(out)
}

fn sarif(findings: &[&Finding]) -> serde_json::Value {
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let rule = f
                .evidence
                .iter()
                .find_map(|e| match e {
                    Evidence::Signal { name, value } if name == "rule" => Some(value.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "scan".into());
            let locations: Vec<serde_json::Value> = f
                .evidence
                .iter()
                .filter_map(|e| match e {
                    Evidence::Location { file, line, .. } => Some(serde_json::json!({
                        "physicalLocation": {"artifactLocation": {"uri": file}, "region": {"startLine": line}}
                    })),
                    _ => None,
                })
                .collect();
            serde_json::json!({
                "ruleId": rule,
                "level": match f.severity {
                    pyward_guard::Severity::Critical | pyward_guard::Severity::High => "error",
                    pyward_guard::Severity::Moderate => "warning",
                    _ => "note",
                },
                "message": {"text": format!("{} {}: {}", f.package.name, f.package.version.as_deref().unwrap_or(""), f.title)},
                "locations": locations,
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "pyward", "version": env!("CARGO_PKG_VERSION")}}, "results": results}],
    })
}
