//! `pyward list`: installed distributions, whoever installed them.

use crate::cli::EnvArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};

pub async fn run(args: EnvArgs, ctx: &Context) -> CliResult<u8> {
    let env = ctx.environment(args.python.as_deref())?;
    let mut dists = env
        .installed()
        .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
    dists.sort_by(|a, b| a.name.cmp(&b.name));
    if ctx.printer.json {
        let rows: Vec<_> = dists
            .iter()
            .map(|d| {
                serde_json::json!({
                    "name": d.name.to_string(),
                    "version": d.version.to_string(),
                    "installer": d.installer,
                    "requested": d.requested,
                    "editable_project_location": d.editable_location(),
                })
            })
            .collect();
        ctx.printer.json_value(&serde_json::Value::Array(rows));
        return Ok(0);
    }
    let width = dists
        .iter()
        .map(|d| d.name.as_ref().len())
        .max()
        .unwrap_or(7)
        .max(7);
    // Editable installs name their project directory, in a column shown
    // only when there is one.
    let editable: Vec<Option<std::path::PathBuf>> =
        dists.iter().map(|d| d.editable_location()).collect();
    let location_column = editable.iter().any(Option::is_some);
    let header = format!(
        "{:<width$}  {:<12}  {:<9}",
        "Package", "Version", "installer"
    );
    ctx.printer.important(if location_column {
        format!("{header}  editable project location")
    } else {
        header.trim_end().to_string()
    });
    for (d, location) in dists.iter().zip(&editable) {
        let row = format!(
            "{:<width$}  {:<12}  {:<9}  {}",
            d.name.to_string(),
            d.version.to_string(),
            d.installer.as_deref().unwrap_or("unknown"),
            location
                .as_ref()
                .map(|l| l.display().to_string())
                .unwrap_or_default()
        );
        ctx.printer.important(row.trim_end());
    }
    Ok(0)
}
