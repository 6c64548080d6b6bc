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
    ctx.printer.important(format!(
        "{:<width$}  {:<12}  installer",
        "Package", "Version"
    ));
    for d in &dists {
        ctx.printer.important(format!(
            "{:<width$}  {:<12}  {}",
            d.name.to_string(),
            d.version.to_string(),
            d.installer.as_deref().unwrap_or("unknown")
        ));
    }
    Ok(0)
}
