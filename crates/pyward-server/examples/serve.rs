//! A stand-alone server for scripts (the load test, the browser test) until
//! `pyward server` is wired into the CLI; it calls the same library entry
//! points.
//!
//!   serve run   --data DIR [--listen ADDR] [--database URL] [--reports-per-minute N] [--burst N] [--name NAME]
//!   serve token --data DIR [--database URL] --role reporter|moderator --label LABEL

use std::process::ExitCode;

use pyward_server::{Config, Role};

fn usage() -> ExitCode {
    eprintln!(
        "usage: serve run --data DIR [--listen ADDR] [--database URL] [--reports-per-minute N] [--burst N] [--name NAME]\n       serve token --data DIR [--database URL] --role reporter|moderator --label LABEL"
    );
    ExitCode::from(2)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(command) = args.first().cloned() else {
        return usage();
    };
    let mut config = Config::new("pyward-server-data");
    let (mut role, mut label) = (None, None);
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let Some(value) = rest.next() else {
            return usage();
        };
        match flag.as_str() {
            "--data" => config.data_dir = value.into(),
            "--listen" => match value.parse() {
                Ok(a) => config.listen = a,
                Err(_) => return usage(),
            },
            "--database" => config.database = Some(value.clone()),
            "--name" => config.name = value.clone(),
            "--reports-per-minute" => match value.parse() {
                Ok(n) => config.reports_per_minute = n,
                Err(_) => return usage(),
            },
            "--burst" => match value.parse() {
                Ok(n) => config.report_burst = n,
                Err(_) => return usage(),
            },
            "--role" => role = Role::parse(value),
            "--label" => label = Some(value.clone()),
            _ => return usage(),
        }
    }
    let result = match command.as_str() {
        "run" => {
            eprintln!("serving on http://{}", config.listen);
            pyward_server::run(config).await
        }
        "token" => {
            let (Some(role), Some(label)) = (role, label) else {
                return usage();
            };
            pyward_server::create_token(&config, role, &label)
                .await
                .map(|token| println!("{token}"))
        }
        _ => return usage(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
