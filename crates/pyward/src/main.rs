//! The `pyward` command: parses arguments, runs one command, prints its result
//! and exits with a documented code. The only crate that prints.

mod build;
mod cli;
mod commands;
mod config;
mod context;
mod error;
mod guards;
mod output;
mod pipeline;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::context::Context;
use crate::output::Printer;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let g = &cli.global;
    let printer = Printer::new(g.quiet, g.verbose, g.json, g.no_color);
    let filter = match g.verbose {
        0 | 1 => "warn",
        2 => "pyward=debug,info",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PYWARD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter)),
        )
        .with_writer(std::io::stderr)
        .try_init();

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            printer.error(format!("could not start: {e}"));
            return ExitCode::from(4);
        }
    };
    let ctx = match Context::new(&cli.global, printer) {
        Ok(ctx) => ctx,
        Err(e) => {
            Printer::new(g.quiet, g.verbose, g.json, g.no_color).error(e.to_string());
            return ExitCode::from(e.kind as u8);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Venv(args) => commands::venv::run(args, &ctx).await,
            Command::Install(args) => commands::install::run(args, &ctx).await,
            Command::Sync(args) => commands::install::sync(args, &ctx).await,
            Command::Lock(args) => commands::lock::run(args, &ctx).await,
            Command::Hash(args) => commands::hash::run(args, &ctx).await,
            Command::Freeze(args) => commands::freeze::run(args, &ctx).await,
            Command::Uninstall(args) => commands::uninstall::run(args, &ctx).await,
            Command::List(args) => commands::list::run(args, &ctx).await,
            Command::Show(args) => commands::show::run(args, &ctx).await,
            Command::Audit(args) => commands::audit::run(args, &ctx).await,
            Command::Db(args) => commands::db::run(args, &ctx).await,
            Command::Info(args) => commands::info::run(args, &ctx).await,
            Command::CheckNames(args) => commands::check_names::run(args, &ctx).await,
            Command::Report(args) => commands::report::run(args, &ctx).await,
            Command::Server(args) => commands::server::run(args, &ctx).await,
            Command::Scan(args) => commands::scan::run(args, &ctx).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if ctx.printer.json {
                ctx.printer.json_value(&serde_json::json!({
                    "error": e.message,
                    "hints": e.hints,
                    "exit_code": e.kind as u8,
                }));
            }
            ctx.printer.error(e.to_string());
            ExitCode::from(e.kind as u8)
        }
    }
}
