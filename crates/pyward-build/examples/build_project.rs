//! Build a local project directory with pyward-build: an sdist with the
//! backend's `build_sdist`, then a wheel from that sdist.
//!
//! ```text
//! cargo run -p pyward-build --example build_project -- DIR [require|prefer|off]
//! ```
//!
//! Build requirements are resolved, downloaded (sha256 checked against the
//! index), and installed from PyPI by pyward's own crates. Set
//! `PYWARD_BUILD_EXAMPLE_CACHE` to keep the cache between runs (the default
//! is a directory under the system temp dir).

#[path = "../tests/common/index_installer.rs"]
#[allow(dead_code)]
mod index_installer;

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use index_installer::IndexInstaller;
use pyward_build::{BuildError, Builder, SandboxPolicy, Sdist};
use pyward_guard::Finding;
use sha2::{Digest, Sha256};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn show(findings: &[Finding]) {
    for f in findings {
        println!("finding    [{:?}/{:?}] {}", f.check, f.severity, f.title);
    }
}

fn failed(e: BuildError) -> String {
    show(e.findings());
    if let Some(tail) = e.output_tail() {
        println!("--- last lines of the build output ---\n{tail}");
    }
    for a in e.advice() {
        println!("  -> {a}");
    }
    e.to_string()
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = args
        .first()
        .map(PathBuf::from)
        .ok_or("usage: build_project DIR [require|prefer|off]")?;
    let policy = match args.get(1) {
        Some(p) => SandboxPolicy::from_str(p)?,
        None => SandboxPolicy::Require,
    };
    let cache = std::env::var_os("PYWARD_BUILD_EXAMPLE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("pyward-build-example"));

    let python = pyward_install::find_python(None).map_err(|e| e.to_string())?;
    let info = pyward_install::query_interpreter(&python, None).map_err(|e| e.to_string())?;
    let installer = IndexInstaller::new("https://pypi.org/simple/", &cache)?;
    let builder = Builder::new(info, cache.join("pyward"), policy);
    println!("sandbox    {}", builder.sandbox_status());

    let started = Instant::now();
    let built = builder
        .build_sdist_from_tree(&dir, &installer)
        .map_err(failed)?;
    let sha256 = hex::encode(Sha256::digest(
        std::fs::read(&built.path).map_err(|e| e.to_string())?,
    ));
    println!(
        "sdist      {} in {:.2?} ({}) at {}\n           sha256 {sha256}",
        built.filename,
        started.elapsed(),
        built.sandboxed,
        built.path.display()
    );
    show(&built.findings);

    let sdist = Sdist::new(&built.path, &built.filename, None, &sha256).map_err(failed)?;
    let started = Instant::now();
    let wheel = builder.build_wheel(&sdist, &installer).map_err(failed)?;
    println!(
        "wheel      {} in {:.2?} ({}), {} {}",
        wheel.filename,
        started.elapsed(),
        wheel.sandboxed,
        wheel.metadata.name,
        wheel.metadata.version
    );
    show(&wheel.findings);
    for calls in installer.calls.lock().map_err(|e| e.to_string())?.iter() {
        println!("build env  installed {}", calls.join(", "));
    }
    Ok(())
}
