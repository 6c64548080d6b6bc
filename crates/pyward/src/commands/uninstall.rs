//! `pyward uninstall`: remove distributions, exactly the files their RECORD lists.

use std::str::FromStr;
use std::sync::atomic::Ordering;

use pyward_dist::PackageName;
use pyward_lock::requirements::RequirementSpec;

use crate::cli::UninstallArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::plural;

pub async fn run(args: UninstallArgs, ctx: &Context) -> CliResult<u8> {
    let mut names = Vec::new();
    for p in &args.packages {
        names.push(
            PackageName::from_str(p)
                .map_err(|e| CliError::input(format!("`{p}` is not a package name: {e}")))?,
        );
    }
    for file in &args.requirements {
        let parsed = pyward_lock::requirements::parse_requirements_file(file)
            .map_err(|e| CliError::input(e.to_string()))?;
        for entry in parsed.entries {
            if let RequirementSpec::Named(r) = entry.spec {
                names.push(r.name);
            }
        }
    }
    if names.is_empty() {
        return Err(CliError::input("nothing to uninstall")
            .hint("name a package:  pyward uninstall requests"));
    }
    let env = ctx.environment(args.env.python.as_deref())?;
    let installed = env
        .installed()
        .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
    let mut remove = Vec::new();
    for n in &names {
        match installed.iter().find(|d| &d.name == n) {
            Some(d) => remove.push(d.clone()),
            None => ctx
                .printer
                .important(format!("! {n} is not installed; skipped")),
        }
    }
    if remove.is_empty() {
        return Ok(0);
    }
    ctx.changing.store(true, Ordering::SeqCst);
    let env2 = env.clone();
    let remove2 = remove.clone();
    let result = tokio::task::spawn_blocking(move || pyward_install::uninstall(&env2, &remove2))
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
    ctx.changing.store(false, Ordering::SeqCst);
    result.map_err(|e| {
        CliError::failed(format!("could not uninstall: {e}"))
            .hint("Nothing was removed; your environment is unchanged.")
    })?;
    ctx.printer
        .status(format!("Uninstalled {}", plural(remove.len(), "package")));
    for d in &remove {
        ctx.printer.status(format!(" - {} {}", d.name, d.version));
    }
    if ctx.printer.json {
        ctx.printer.json_value(&serde_json::json!({
            "removed": remove.iter().map(|d| serde_json::json!({"name": d.name.to_string(), "version": d.version.to_string()})).collect::<Vec<_>>(),
        }));
    }
    Ok(0)
}
