//! `pyward venv`: create a virtual environment natively.

use std::time::Instant;

use crate::cli::VenvArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::output::human_duration;

pub async fn run(args: VenvArgs, ctx: &Context) -> CliResult<u8> {
    let started = Instant::now();
    let python = pyward_install::find_python(args.python.as_deref()).map_err(|e| {
        CliError::input(format!(
            "cannot find a Python interpreter{}: {e}",
            args.python
                .as_deref()
                .map(|p| format!(" for `{p}`"))
                .unwrap_or_default()
        ))
        .hint("name one:  pyward venv --python /usr/bin/python3")
    })?;
    let info = ctx.interpreter(&python)?;
    let opts = pyward_install::VenvOptions {
        prompt: args.prompt.clone(),
        clear: args.clear,
        system_site_packages: false,
        command: Some(std::env::args().collect::<Vec<_>>().join(" ")),
    };
    pyward_install::create_venv(&args.path, &info, &opts)
        .map_err(|e| CliError::input(format!("cannot create {}: {e}", args.path.display())))?;
    ctx.printer.status(format!(
        "Created a virtual environment at {} with Python {} in {}",
        args.path.display(),
        info.markers.python_full_version,
        human_duration(started.elapsed())
    ));
    if ctx.printer.json {
        ctx.printer.json_value(&serde_json::json!({
            "path": args.path,
            "python": info.markers.python_full_version,
        }));
    } else {
        ctx.printer.status(format!(
            "Activate it with:  source {}/bin/activate",
            args.path.display()
        ));
    }
    Ok(0)
}
