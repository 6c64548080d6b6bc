//! `pyward hash FILE...`: the `--hash=sha256:…` option for each file, to pin
//! it by hand in a requirements file.

use crate::cli::HashArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::pipeline::sha256_file;

pub async fn run(args: HashArgs, ctx: &Context) -> CliResult<u8> {
    if args.files.is_empty() {
        return Err(
            CliError::input("no files to hash").hint("pyward hash dist/pkg-1.0-py3-none-any.whl")
        );
    }
    let mut rows = Vec::new();
    for file in &args.files {
        let (sha, _) = sha256_file(file)
            .map_err(|e| CliError::input(format!("cannot read {}: {e}", file.display())))?;
        rows.push((file.display().to_string(), sha));
    }
    if ctx.printer.json {
        ctx.printer.json_value(&serde_json::json!(rows
            .iter()
            .map(|(f, h)| serde_json::json!({"file": f, "sha256": h}))
            .collect::<Vec<_>>()));
    } else {
        for (f, h) in rows {
            ctx.printer.important(format!("{f}:\n--hash=sha256:{h}"));
        }
    }
    Ok(0)
}
