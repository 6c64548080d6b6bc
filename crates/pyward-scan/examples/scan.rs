//! Scan wheels, sdists and directories and print the findings, for the
//! benchmark scripts in `bench/` (the `pyward scan` command is the user's
//! way in).
//!
//!     cargo run --release -p pyward-scan --example scan -- [--json] [--sequential] PATH…
//!
//! The name and version expected of an archive are read from its file name.
//! `--json` prints one object per path: file, files_scanned, bytes_scanned,
//! seconds, findings (or error). Otherwise a short summary per path and a
//! throughput line. Exits 1 when any finding is High or Critical.

use std::path::Path;
use std::str::FromStr;
use std::time::Instant;

use pyward_dist::{SdistFilename, WheelFilename};
use pyward_guard::Severity;
use pyward_scan::{scan_archive, scan_dir, ArchiveKind, ScanReport};
use rayon::prelude::*;

fn scan_one(path: &Path) -> Result<ScanReport, String> {
    if path.is_dir() {
        return scan_dir(path).map_err(|e| e.to_string());
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name.ends_with(".whl") {
        let expected = WheelFilename::from_str(&name).ok();
        let expected = expected.as_ref().map(|w| (&w.name, &w.version));
        scan_archive(path, ArchiveKind::Wheel, expected).map_err(|e| e.to_string())
    } else {
        let expected = SdistFilename::parse(&name, None).ok();
        let expected = expected.as_ref().map(|s| (&s.name, &s.version));
        scan_archive(path, ArchiveKind::Sdist, expected).map_err(|e| e.to_string())
    }
}

/// CPU time (user + system) of this process so far, on Linux; 0 elsewhere.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesized command name; utime and stime are 14 and 15.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|x| x.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    ticks / 100.0
}

fn main() {
    let mut json = false;
    let mut sequential = false;
    let mut paths = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--json" => json = true,
            "--sequential" => sequential = true,
            _ => paths.push(arg),
        }
    }
    let started = Instant::now();
    let run = |p: &String| {
        let t = Instant::now();
        let r = scan_one(Path::new(p));
        (p.clone(), r, t.elapsed().as_secs_f64())
    };
    let results: Vec<(String, Result<ScanReport, String>, f64)> = if sequential {
        paths.iter().map(run).collect()
    } else {
        paths.par_iter().map(run).collect()
    };
    let wall = started.elapsed().as_secs_f64();

    let blocking = results.iter().any(|(_, r, _)| {
        r.as_ref()
            .is_ok_and(|r| r.findings.iter().any(|f| f.severity >= Severity::High))
    });
    if json {
        let out: Vec<serde_json::Value> = results
            .iter()
            .map(|(p, r, secs)| {
                let file = Path::new(p)
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| p.clone());
                match r {
                    Ok(r) => serde_json::json!({
                        "file": file,
                        "files_scanned": r.files_scanned,
                        "bytes_scanned": r.bytes_scanned,
                        "seconds": secs,
                        "findings": r.findings,
                    }),
                    Err(e) => serde_json::json!({"file": file, "error": e, "seconds": secs}),
                }
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&out).unwrap_or_else(|_| "[]".to_string())
        );
    } else {
        let mut bytes = 0u64;
        let mut files = 0usize;
        for (p, r, secs) in &results {
            match r {
                Ok(r) => {
                    bytes += r.bytes_scanned;
                    files += r.files_scanned;
                    println!(
                        "{p}: {} files, {:.1} MB, {:.3}s, {} findings",
                        r.files_scanned,
                        r.bytes_scanned as f64 / 1e6,
                        secs,
                        r.findings.len()
                    );
                    for f in &r.findings {
                        println!("  {:9} {}", f.severity.as_str(), f.title);
                    }
                }
                Err(e) => println!("{p}: error: {e}"),
            }
        }
        let cpu = cpu_seconds();
        println!(
            "total: {} archives, {files} files, {:.1} MB of code in {wall:.2}s = {:.1} MB/s; {cpu:.2} CPU-s = {:.1} MB per CPU-second",
            results.len(),
            bytes as f64 / 1e6,
            bytes as f64 / 1e6 / wall.max(1e-9),
            bytes as f64 / 1e6 / cpu.max(1e-9)
        );
    }
    std::process::exit(if blocking { 1 } else { 0 });
}
