//! `pyward report NAME[==VER] --reason "…"`: compose a report with pyward's
//! own evidence (trust card, file hashes, index), show it, ask, and send it
//! to the organisation's server — or prepare it for PyPI. A report that
//! cannot be sent is saved; `--retry` sends what was saved.

use std::io::{IsTerminal, Write};
use std::str::FromStr;

use pyward_dist::{PackageName, Version};
use pyward_report::{FileHash, Outbox, Outcome, Report};

use crate::cli::{ReportArgs, ReportTo};
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::guards;
use crate::pipeline;

pub async fn run(args: ReportArgs, ctx: &Context) -> CliResult<u8> {
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let outbox = Outbox::new(ctx.data_dir.join("outbox"));
    if args.retry {
        let client = server_client(&config)?;
        let summary = pyward_report::retry_outbox(&client, &outbox)
            .await
            .map_err(|e| CliError::failed(e.to_string()))?;
        ctx.printer.status(format!(
            "Sent {}, still waiting {}, refused by the server {}",
            summary.sent.len(),
            summary.still_pending.len(),
            summary.rejected.len()
        ));
        for (id, e) in &summary.still_pending {
            ctx.printer.important(format!("  ! {id}: {e}"));
        }
        return Ok(
            if summary.still_pending.is_empty() && summary.rejected.is_empty() {
                0
            } else {
                1
            },
        );
    }
    let spec = args.package.as_deref().ok_or_else(|| {
        CliError::input("name the package:  pyward report NAME[==VERSION] --reason \"…\"")
    })?;
    let (name, version) = match spec.split_once("==") {
        Some((n, v)) => (
            PackageName::from_str(n.trim()).map_err(|e| CliError::input(e.to_string()))?,
            Some(Version::from_str(v.trim()).map_err(|e| CliError::input(e.to_string()))?),
        ),
        None => (
            PackageName::from_str(spec.trim()).map_err(|e| CliError::input(e.to_string()))?,
            None,
        ),
    };
    let reason = args
        .reason
        .as_deref()
        .ok_or_else(|| CliError::input("say why:  --reason \"what you saw\""))?;
    let mut report =
        Report::new(&name, version.as_ref(), reason).map_err(|e| CliError::input(e.to_string()))?;

    // pyward's own evidence: where it comes from, its files' hashes, its trust card.
    let reqs = crate::cli::RequirementArgs {
        index_url: args.index_url.clone(),
        ..Default::default()
    };
    let client = pipeline::index_client(ctx, &pipeline::Inputs::default(), &reqs, &config)?;
    if let Ok(Some(page)) = client.project(&name).await {
        report = report.with_index_url(page.url.to_string());
        for f in page
            .files
            .iter()
            .filter(|f| version.as_ref().is_none_or(|v| f.dist.version() == v))
            .take(64)
        {
            if let Some(sha) = &f.hashes.sha256 {
                report = report.with_file(FileHash {
                    filename: f.filename.clone(),
                    sha256: sha.clone(),
                    size: f.size,
                    url: Some(f.url.to_string()),
                });
            }
        }
    }
    if let Some(card) = guards::trust::card(&client, &name).await {
        report = report.with_trust(serde_json::to_value(&card).unwrap_or_default());
    }
    if let Some(s) = pyward_trust::check_name(name.as_ref(), pyward_trust::Popularity::embedded()) {
        let findings = pyward_trust::install_time_findings(name.as_ref(), None, Some(&s));
        report = report.with_evidence(findings);
    }
    report.fit();

    match args.to {
        ReportTo::Pypi => to_pypi(ctx, &args, &report).await,
        ReportTo::Server => {
            let server = server_client(&config)?;
            ctx.printer.important(report.to_text());
            if !args.yes && !confirm(&format!("Send this report to {}?", server.base_url()))? {
                ctx.printer.important("Not sent.");
                return Ok(1);
            }
            match pyward_report::submit_or_save(&server, &outbox, &report)
                .await
                .map_err(|e| CliError::failed(e.to_string()))?
            {
                Outcome::Sent(s) => {
                    ctx.printer
                        .status(format!("Sent: report {} to {}", s.id, server.base_url()));
                    Ok(0)
                }
                Outcome::Saved { path, error } => {
                    ctx.printer.important(format!(
                        "! Not sent ({error}); saved as {} — send it later with:  pyward report --retry",
                        path.display()
                    ));
                    Ok(3)
                }
                Outcome::Rejected { path, error } => Err(CliError::input(format!(
                    "the server refused the report: {error} (kept in {})",
                    path.display()
                ))),
            }
        }
    }
}

fn server_client(config: &Config) -> CliResult<pyward_report::ServerClient> {
    match guards::flags::client(config) {
        Some(Ok(c)) => Ok(c),
        Some(Err(e)) => Err(CliError::input(e)),
        None => Err(CliError::input("no report server is configured")
            .hint("set report-server in [tool.pyward] or PYWARD_REPORT_SERVER, and your token in PYWARD_REPORT_TOKEN")
            .hint("or report to PyPI:  pyward report NAME --to pypi --reason \"…\"")),
    }
}

async fn to_pypi(ctx: &Context, args: &ReportArgs, report: &Report) -> CliResult<u8> {
    let token = std::env::var("PYWARD_PYPI_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        let email = pyward_report::pypi::security_email(report);
        ctx.printer.important(email.to_text());
        ctx.printer
            .status("\nNo PyPI token (PYWARD_PYPI_TOKEN): send the email above yourself.");
        return Ok(0);
    };
    let request = pyward_report::pypi::observation_request(
        &args.pypi_url,
        report,
        pyward_report::pypi::ObservationKind::IsMalware,
    )
    .map_err(|e| CliError::input(e.to_string()))?;
    ctx.printer.important(request.to_text());
    if !args.yes && !confirm("Send this observation to PyPI?")? {
        ctx.printer.important("Not sent.");
        return Ok(1);
    }
    let http = reqwest_client()?;
    let accepted = pyward_report::pypi::send_observation(&http, &request, &token)
        .await
        .map_err(|e| CliError::network(e.to_string()))?;
    ctx.printer
        .status(format!("PyPI accepted the observation: {accepted:?}"));
    Ok(0)
}

fn reqwest_client() -> CliResult<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(pyward_report::client_name())
        .build()
        .map_err(|e| CliError::failed(e.to_string()))
}

/// Ask on a terminal; without one, `--yes` is required.
fn confirm(question: &str) -> CliResult<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::input("not sent: nobody can be asked here")
            .hint("add --yes to send without asking"));
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question} [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| CliError::failed(e.to_string()))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}
