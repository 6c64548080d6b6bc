//! `pyward db update|status`: the local advisory database.

use std::time::Instant;

use pyward_audit::{jiff::Timestamp, AdvisoryDb, DataSource, DbStatus, UpdateSource};

use crate::cli::{DbAction, DbArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult, ExitKind};
use crate::guards::vulnerabilities::data_label;
use crate::output::{group_digits, human_duration};

pub async fn run(args: DbArgs, ctx: &Context) -> CliResult<u8> {
    match args.action {
        DbAction::Update { from } => {
            let source = match &from {
                Some(f) => UpdateSource::from_arg(f),
                None => UpdateSource::default(),
            };
            let started = Instant::now();
            let spinner = super::spinner(ctx, "Updating advisories");
            let result = pyward_audit::update(&source, &ctx.advisories_dir()).await;
            drop(spinner);
            let status = result.map_err(|e| {
                let kind = match e {
                    pyward_audit::AuditError::Download { .. } => ExitKind::Network,
                    _ => ExitKind::Input,
                };
                CliError::new(kind, format!("the advisory database was not updated: {e}"))
                    .hint("the database you had is unchanged")
            })?;
            ctx.printer.status(format!(
                "Updated the advisory database in {}: {} advisories for {} packages",
                human_duration(started.elapsed()),
                group_digits(status.records as u64),
                group_digits(status.packages as u64)
            ));
            if status.skipped_records > 0 {
                ctx.printer.status(format!(
                    "  {} records could not be read and were left out",
                    status.skipped_records
                ));
            }
            print_status(ctx, &status);
            Ok(0)
        }
        DbAction::Status => {
            let db = AdvisoryDb::load(&ctx.advisories_dir())
                .map_err(|e| CliError::failed(e.to_string()))?;
            print_status(ctx, &db.status());
            Ok(0)
        }
    }
}

fn print_status(ctx: &Context, status: &DbStatus) {
    let now = Timestamp::now();
    let (label, stale) = data_label(status);
    if ctx.printer.json {
        ctx.printer.json_value(&serde_json::json!({
            "source": match &status.source {
                DataSource::Embedded => "embedded".to_string(),
                DataSource::Downloaded { from } => from.clone(),
            },
            "newest_record": status.newest_record.map(|d| d.to_string()),
            "age_days": status.age_days(now),
            "stale": stale,
            "records": status.records,
            "packages": status.packages,
            "updated_at": status.updated_at.to_string(),
        }));
        return;
    }
    let source = match &status.source {
        DataSource::Embedded => "built into pyward (no database downloaded yet)".to_string(),
        DataSource::Downloaded { from } => format!(
            "{from}, stored {}",
            status.updated_at.strftime("%Y-%m-%d %H:%M UTC")
        ),
    };
    ctx.printer.important(format!("Source     {source}"));
    ctx.printer.important(format!("Data       {label}"));
    ctx.printer.important(format!(
        "Records    {} advisories for {} packages",
        group_digits(status.records as u64),
        group_digits(status.packages as u64)
    ));
    if stale {
        ctx.printer.important(
            "           older than 30 days: newer vulnerabilities are not known to pyward",
        );
        ctx.printer.important("  → pyward db update");
    }
}
