//! `pyward freeze [--hashes]`: the installed distributions as a requirements
//! file. With `--hashes`, each pin carries the sha256 of the exact archive
//! pyward installed (recorded at install time); for distributions another
//! installer put there, the hashes of that version's files on the index.

use crate::cli::FreezeArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::pipeline;

pub async fn run(args: FreezeArgs, ctx: &Context) -> CliResult<u8> {
    let env = ctx.environment(args.env.python.as_deref())?;
    let mut dists = env
        .installed()
        .map_err(|e| CliError::failed(format!("cannot read the environment: {e}")))?;
    dists.sort_by(|a, b| a.name.cmp(&b.name));
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let reqs = crate::cli::RequirementArgs {
        index_url: args.index_url.clone(),
        ..Default::default()
    };
    let client = pipeline::index_client(ctx, &pipeline::Inputs::default(), &reqs, &config)?;
    let mut out = String::new();
    let mut unknown = Vec::new();
    for d in &dists {
        if let Some(direct) = d.direct_url() {
            let url = direct
                .get("url")
                .and_then(|u| u.as_str())
                .unwrap_or("an unknown location");
            // An editable project installs again from its directory, as pip
            // writes it.
            if let Some(path) = d.editable_location() {
                out.push_str(&format!("-e {}\n", path.display()));
                continue;
            }
            out.push_str(&format!(
                "# {} {} was installed from {url}\n",
                d.name, d.version
            ));
            continue;
        }
        if !args.hashes {
            out.push_str(&format!("{}=={}\n", d.name, d.version));
            continue;
        }
        let mut hashes: Vec<String> = Vec::new();
        if let Some(origin) = d.origin() {
            hashes.push(origin.sha256.to_ascii_lowercase());
        } else if let Ok(Some(page)) = client.project(&d.name).await {
            for f in page.files.iter().filter(|f| f.dist.version() == &d.version) {
                if let Some(h) = &f.hashes.sha256 {
                    hashes.push(h.to_ascii_lowercase());
                }
            }
        }
        hashes.sort();
        hashes.dedup();
        if hashes.is_empty() {
            unknown.push(d.name.to_string());
            out.push_str(&format!(
                "# {}=={}: no hash known (not on the index)\n",
                d.name, d.version
            ));
            continue;
        }
        out.push_str(&format!("{}=={}", d.name, d.version));
        for h in hashes {
            out.push_str(&format!(" \\\n    --hash=sha256:{h}"));
        }
        out.push('\n');
    }
    if ctx.printer.json {
        ctx.printer
            .json_value(&serde_json::json!({"requirements": out}));
    } else {
        print!("{out}");
    }
    if !unknown.is_empty() {
        ctx.printer.error(format!(
            "no hash is known for {}; pip's --require-hashes will refuse them",
            unknown.join(", ")
        ));
        return Ok(1);
    }
    Ok(0)
}
