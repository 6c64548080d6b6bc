//! `pyward show NAME`: one installed distribution's metadata and files.

use std::str::FromStr;

use pyward_dist::{CoreMetadata, PackageName};

use crate::cli::ShowArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};

pub async fn run(args: ShowArgs, ctx: &Context) -> CliResult<u8> {
    let name = PackageName::from_str(&args.package)
        .map_err(|e| CliError::input(format!("`{}` is not a package name: {e}", args.package)))?;
    let env = ctx.environment(args.env.python.as_deref())?;
    let dists = env
        .installed()
        .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
    let Some(dist) = dists.iter().find(|d| d.name == name) else {
        return Err(
            CliError::input(format!("{name} is not installed in {}", env.root.display()))
                .hint(format!("install it:  pyward install {name}")),
        );
    };
    let metadata = fs_err::read(dist.path.join("METADATA"))
        .ok()
        .and_then(|b| CoreMetadata::parse(&b).ok());
    let requires: Vec<String> = metadata
        .as_ref()
        .map(|m| m.requires_dist.iter().map(|r| r.to_string()).collect())
        .unwrap_or_default();
    let required_by: Vec<String> = dists
        .iter()
        .filter(|d| d.name != name)
        .filter_map(|d| {
            let md = CoreMetadata::parse(&fs_err::read(d.path.join("METADATA")).ok()?).ok()?;
            md.requires_dist
                .iter()
                .any(|r| r.name == name)
                .then(|| d.name.to_string())
        })
        .collect();
    if ctx.printer.json {
        ctx.printer.json_value(&serde_json::json!({
            "name": dist.name.to_string(),
            "version": dist.version.to_string(),
            "summary": metadata.as_ref().and_then(|m| m.summary.clone()),
            "location": dist.path.parent(),
            "installer": dist.installer,
            "requires": requires,
            "required_by": required_by,
        }));
        return Ok(0);
    }
    let p = &ctx.printer;
    p.important(format!("Name:        {}", dist.name));
    p.important(format!("Version:     {}", dist.version));
    if let Some(m) = &metadata {
        if let Some(s) = &m.summary {
            p.important(format!("Summary:     {s}"));
        }
        for (label, url) in &m.project_urls {
            p.important(format!(
                "URL:         {label}: {url} (claimed by the package, not verified)"
            ));
        }
        if let Some(l) = &m.license {
            p.important(format!(
                "License:     {}",
                l.lines().next().unwrap_or_default()
            ));
        }
    }
    if let Some(parent) = dist.path.parent() {
        p.important(format!("Location:    {}", parent.display()));
    }
    p.important(format!(
        "Installer:   {}",
        dist.installer.as_deref().unwrap_or("unknown")
    ));
    p.important(format!("Requires:    {}", requires.join(", ")));
    p.important(format!("Required by: {}", required_by.join(", ")));
    Ok(0)
}
