//! Writes the advisory snapshot embedded in pyward (`data/advisories.pwdb`)
//! from a directory of OSV records, by default the PyPA advisory database
//! kept beside the repository:
//!
//! ```text
//! cargo run -p pyward-audit --example gen-advisory-snapshot -- [SOURCE_DIR] [OUT_FILE]
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args_os().skip(1);
    let source = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("../../../shared/data/pypa-advisory-database/vulns"));
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_dir.join("data/advisories.pwdb"));
    match pyward_audit::write_snapshot(&source, "PyPA advisory database", &out) {
        Ok(status) => {
            let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!(
                "wrote {} ({} bytes): {} records for {} packages, newest record {}, \
                 {} records and {} versions skipped",
                out.display(),
                size,
                status.records,
                status.packages,
                status
                    .newest_record
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "undated".into()),
                status.skipped_records,
                status.skipped_versions,
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
