//! Times `pyward audit` of a lock file the way the CLI will run it: open the
//! advisory store in DATA_DIR (or the embedded snapshot), then audit every
//! `name==version` line of LOCK. With `--print`, lists the findings. With
//! `--update-from SOURCE` (URL, zip or directory), first times `db update`
//! into DATA_DIR.
//!
//! ```text
//! cargo run --release -p pyward-audit --example audit-bench -- \
//!     LOCK [DATA_DIR] [--update-from SOURCE] [--iterations N] [--print]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use pyward_audit::{audit, update, AdvisoryDb, UpdateSource};
use pyward_dist::{PackageName, Version};

fn main() -> ExitCode {
    let mut positional = Vec::new();
    let mut iterations = 20usize;
    let mut print = false;
    let mut update_from = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--iterations" => iterations = args.next().and_then(|n| n.parse().ok()).unwrap_or(20),
            "--print" => print = true,
            "--update-from" => update_from = args.next(),
            _ => positional.push(arg),
        }
    }
    let Some(lock) = positional.first() else {
        eprintln!(
            "usage: audit-bench LOCK [DATA_DIR] [--update-from SOURCE] [--iterations N] [--print]"
        );
        return ExitCode::from(2);
    };
    let data_dir = positional.get(1).map(PathBuf::from);
    if let (Some(source), Some(dir)) = (&update_from, &data_dir) {
        let runtime = match tokio::runtime::Runtime::new() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        };
        let start = Instant::now();
        match runtime.block_on(update(&UpdateSource::from_arg(source), dir)) {
            Ok(status) => println!(
                "db update from {source}: {} records, {} packages, {} records and {} versions skipped, \
                 {} bytes, in {:.2} s",
                status.records,
                status.packages,
                status.skipped_records,
                status.skipped_versions,
                std::fs::metadata(dir.join(pyward_audit::STORE_FILE_NAME)).map(|m| m.len()).unwrap_or(0),
                start.elapsed().as_secs_f64()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let text = match std::fs::read_to_string(lock) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {lock}: {e}");
            return ExitCode::from(2);
        }
    };
    let packages: Vec<(PackageName, Version)> = text
        .lines()
        .filter_map(|line| line.split_once("=="))
        .filter_map(|(n, v)| {
            Some((
                PackageName::from_str(n.trim()).ok()?,
                Version::from_str(v.trim()).ok()?,
            ))
        })
        .collect();

    let mut times = Vec::with_capacity(iterations);
    let mut open_times = Vec::with_capacity(iterations);
    let mut last = None;
    for _ in 0..iterations.max(1) {
        let start = Instant::now();
        let db = match &data_dir {
            Some(dir) => match AdvisoryDb::load(dir) {
                Ok(db) => db,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::FAILURE;
                }
            },
            None => AdvisoryDb::embedded(),
        };
        open_times.push(start.elapsed().as_secs_f64() * 1000.0);
        let report = audit(&db, &packages);
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        last = Some((db.status(), report));
    }
    let Some((status, report)) = last else {
        return ExitCode::FAILURE;
    };
    if print {
        for f in &report.findings {
            let ids: Vec<String> = f
                .evidence
                .iter()
                .filter_map(|e| match e {
                    pyward_guard::Evidence::Advisory { id, .. } => Some(id.clone()),
                    _ => None,
                })
                .collect();
            let fixed = f
                .evidence
                .iter()
                .find_map(|e| match e {
                    pyward_guard::Evidence::Signal { name, value } if name == "fixed in" => {
                        Some(value.clone())
                    }
                    _ => None,
                })
                .unwrap_or_else(|| "-".into());
            println!(
                "{} {} | {} | {} | fixed in {} | {}",
                f.package.name,
                f.package.version.as_deref().unwrap_or(""),
                f.severity.as_str(),
                ids.join(" "),
                fixed,
                f.title
            );
        }
    }
    let first = times[0];
    times.sort_by(|a, b| a.total_cmp(b));
    open_times.sort_by(|a, b| a.total_cmp(b));
    let median = times[times.len() / 2];
    println!(
        "audited {} packages against {} records ({} packages, newest {}): {} findings in {} packages \
         ({} malware, {} critical, {} high, {} moderate, {} low, {} unrated)",
        report.packages_checked,
        status.records,
        status.packages,
        status.newest_record.map(|d| d.to_string()).unwrap_or_default(),
        report.findings.len(),
        report.vulnerable_packages,
        report.counts.malware,
        report.counts.critical,
        report.counts.high,
        report.counts.moderate,
        report.counts.low,
        report.counts.unrated,
    );
    println!(
        "open store + audit: first {first:.2} ms, median {median:.2} ms, min {:.2} ms, max {:.2} ms over {} runs \
         (open alone: median {:.2} ms)",
        times[0],
        times[times.len() - 1],
        times.len(),
        open_times[open_times.len() / 2],
    );
    ExitCode::SUCCESS
}
