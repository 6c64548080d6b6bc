//! `pyward check-names`: the typosquat check on its own, offline — for
//! pre-commit hooks, CI, and checking a requirements file before installing.

use pyward_lock::requirements::RequirementSpec;
use pyward_trust::Popularity;

use crate::cli::CheckNamesArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult};

pub async fn run(args: CheckNamesArgs, ctx: &Context) -> CliResult<u8> {
    let mut names: Vec<String> = args.names.clone();
    for file in &args.requirements {
        let parsed = pyward_lock::requirements::parse_requirements_file(file)
            .map_err(|e| CliError::input(e.to_string()))?;
        for entry in parsed.entries {
            if let RequirementSpec::Named(r) = entry.spec {
                names.push(r.name.to_string());
            }
        }
    }
    if names.is_empty() {
        return Err(CliError::input("no names to check").hint(
            "pyward check-names requests numpy   or   pyward check-names -r requirements.txt",
        ));
    }
    let pop = Popularity::embedded();
    let mut suspicious = Vec::new();
    for name in &names {
        if let Some(s) = pyward_trust::check_name(name, pop) {
            suspicious.push(s);
        }
    }
    if ctx.printer.json {
        ctx.printer
            .json_value(&serde_json::to_value(&suspicious).unwrap_or_default());
    } else {
        for s in &suspicious {
            ctx.printer.important(format!(
                "! {} looks like {} ({}): {}",
                s.name,
                s.resembles,
                s.technique.as_str(),
                s.detail
            ));
        }
        if suspicious.is_empty() {
            ctx.printer.status(format!(
                "{} checked: none looks like a popular project (snapshot of {})",
                names.len(),
                pop.date()
            ));
        } else {
            ctx.printer.important(format!(
                "{} of {} names look like popular projects. Typo-named packages are a common way to deliver malware.",
                suspicious.len(),
                names.len()
            ));
        }
    }
    Ok(if suspicious.is_empty() { 0 } else { 1 })
}
