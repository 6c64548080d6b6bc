//! Build a real sdist from an index with pyward-build and install it.
//!
//! ```text
//! cargo run -p pyward-build --example build_sdist -- NAME==VERSION [IMPORT] [require|prefer|off]
//! ```
//!
//! Downloads the sdist from PyPI (sha256 checked against the index), builds
//! it in the sandbox with build requirements resolved, downloaded, verified
//! and installed by pyward's own crates, installs the wheel and its
//! dependencies into a fresh virtual environment, and imports `IMPORT`.
//! Set `PYWARD_BUILD_EXAMPLE_CACHE` to keep the cache between runs (the
//! default is a directory under the system temp dir).

#[path = "../tests/common/index_installer.rs"]
mod index_installer;

use std::process::ExitCode;
use std::str::FromStr;
use std::time::Instant;

use index_installer::IndexInstaller;
use pyward_build::{Builder, SandboxPolicy, Sdist};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let spec = args
        .first()
        .ok_or("usage: build_sdist NAME==VERSION [IMPORT] [require|prefer|off]")?;
    let (name, version) = spec
        .split_once("==")
        .ok_or("give the package as NAME==VERSION")?;
    let module = args
        .get(1)
        .cloned()
        .unwrap_or_else(|| name.replace('-', "_"));
    let policy = match args.get(2) {
        Some(p) => SandboxPolicy::from_str(p)?,
        None => SandboxPolicy::Require,
    };
    let cache = std::env::var_os("PYWARD_BUILD_EXAMPLE_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("pyward-build-example"));

    let python = pyward_install::find_python(None).map_err(|e| e.to_string())?;
    let info = pyward_install::query_interpreter(&python, None).map_err(|e| e.to_string())?;
    let installer = IndexInstaller::new("https://pypi.org/simple/", &cache)?;
    let (archive, filename, sha256) = installer.fetch_sdist(name, version)?;
    println!("sdist      {filename} (sha256 {sha256})");

    let builder = Builder::new(info.clone(), cache.join("pyward"), policy);
    println!("sandbox    {}", builder.sandbox_status());
    let sdist = Sdist::new(&archive, &filename, None, &sha256).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let prepared = builder
        .prepare_metadata(&sdist, &installer)
        .map_err(|e| e.to_string())?;
    let requires: Vec<String> = prepared
        .metadata
        .requires_dist
        .iter()
        .map(|r| r.to_string())
        .collect();
    println!(
        "metadata   {} {} in {:.2?} (from cache: {}; needed a full build: {}) requires [{}]",
        prepared.metadata.name,
        prepared.metadata.version,
        started.elapsed(),
        prepared.from_cache,
        prepared.built_wheel.is_some() && !prepared.from_cache,
        requires.join(", ")
    );
    let started = Instant::now();
    let built = match builder.build_wheel(&sdist, &installer) {
        Ok(b) => b,
        Err(e) => {
            for f in e.findings() {
                println!("finding    [{:?}/{:?}] {}", f.check, f.severity, f.title);
            }
            if let Some(tail) = e.output_tail() {
                println!("--- last lines of the build output ---\n{tail}");
            }
            for a in e.advice() {
                println!("  -> {a}");
            }
            return Err(e.to_string());
        }
    };
    println!(
        "built      {} in {:.2?} (from cache: {}; {})",
        built.filename,
        started.elapsed(),
        built.from_cache,
        built.sandboxed
    );
    for calls in installer.calls.lock().map_err(|e| e.to_string())?.iter() {
        println!("build env  installed {}", calls.join(", "));
    }
    for f in &built.findings {
        println!("finding    [{:?}/{:?}] {}", f.check, f.severity, f.title);
    }

    // Install the wheel and its dependencies into a fresh environment.
    let target = cache.join(format!("venv-{name}"));
    let _ = std::fs::remove_dir_all(&target);
    pyward_install::create_venv(&target, &info, &Default::default()).map_err(|e| e.to_string())?;
    let deps: Vec<_> = built.metadata.requires_dist.clone();
    if !deps.is_empty() {
        let names = installer.install_into(&target, &deps)?;
        println!("deps       {}", names.join(", "));
    }
    let venv_info = pyward_install::query_interpreter(&pyward_install::venv_python(&target), None)
        .map_err(|e| e.to_string())?;
    let env = pyward_install::Environment::from_interpreter(venv_info);
    let unpacked = pyward_install::unpack_wheel(
        &built.wheel_path,
        &built.filename,
        &cache.join("unpacked"),
        None,
    )
    .map_err(|e| e.to_string())?;
    pyward_install::install(
        &env,
        &[pyward_install::InstallItem {
            unpacked,
            requested: true,
            direct_url: None,
            origin: None,
        }],
        &[],
        &Default::default(),
    )
    .map_err(|e| e.to_string())?;
    let out = std::process::Command::new(pyward_install::venv_python(&target))
        .args(["-c", &format!("import {module}; print({module}.__name__, getattr({module}, '__version__', ''), {module}.__file__)")])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "import {module} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    println!("imported   {}", String::from_utf8_lossy(&out.stdout).trim());
    Ok(())
}
