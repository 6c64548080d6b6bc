//! What every command shares: the printer, cache locations, Ctrl-C handling,
//! and finding the target environment (--python, VIRTUAL_ENV, ./.venv).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use pyward_dist::InterpreterInfo;
use pyward_install::Environment;

use crate::cli::GlobalArgs;
use crate::error::{CliError, CliResult};
use crate::output::Printer;

/// Cache layout. Every directory is versioned so formats can change safely.
#[derive(Debug, Clone)]
pub struct CacheDirs {
    pub root: PathBuf,
}

impl CacheDirs {
    /// Downloaded archives, named by their sha256.
    pub fn archives(&self) -> PathBuf {
        self.root.join("archives-v1")
    }
    /// Unpacked, verified wheels, named by their archive's sha256.
    pub fn wheels(&self) -> PathBuf {
        self.root.join("wheels-v1")
    }
    /// Index pages and metadata.
    pub fn index(&self) -> PathBuf {
        self.root.join("index-v1")
    }
    /// Interpreter descriptions.
    pub fn interpreters(&self) -> PathBuf {
        self.root.join("interpreters-v1")
    }
}

pub struct Context {
    pub printer: Printer,
    pub cache: CacheDirs,
    /// Durable data (advisory database, flag feed): `$PYWARD_DATA_DIR`, else
    /// the platform's data directory.
    pub data_dir: PathBuf,
    pub offline: bool,
    /// Set by Ctrl-C while an install is being staged or committed.
    pub cancel: Arc<AtomicBool>,
    /// True while the environment is being changed: Ctrl-C then waits for a
    /// clean rollback instead of exiting at once.
    pub changing: Arc<AtomicBool>,
}

impl Context {
    pub fn new(g: &GlobalArgs, printer: Printer) -> CliResult<Context> {
        let root = match &g.cache_dir {
            Some(d) => d.clone(),
            None => dirs::cache_dir()
                .map(|d| d.join("pyward"))
                .or_else(|| {
                    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/pyward"))
                })
                .ok_or_else(|| {
                    CliError::input("cannot find a cache directory").hint("set PYWARD_CACHE_DIR")
                })?,
        };
        let data_dir = match std::env::var_os("PYWARD_DATA_DIR").filter(|v| !v.is_empty()) {
            Some(d) => PathBuf::from(d),
            None => dirs::data_dir()
                .map(|d| d.join("pyward"))
                .unwrap_or_else(|| root.join("data")),
        };
        let cancel = Arc::new(AtomicBool::new(false));
        let changing = Arc::new(AtomicBool::new(false));
        {
            let cancel = cancel.clone();
            let changing = changing.clone();
            // Before anything is written to the environment, Ctrl-C can stop at once:
            // caches are written atomically. While changing it, ask for a rollback.
            let _ = ctrlc::set_handler(move || {
                if changing.load(Ordering::SeqCst) {
                    cancel.store(true, Ordering::SeqCst);
                } else {
                    eprintln!("\nInterrupted. Nothing was changed.");
                    std::process::exit(130);
                }
            });
        }
        Ok(Context {
            printer,
            cache: CacheDirs { root },
            data_dir,
            offline: g.offline,
            cancel,
            changing,
        })
    }

    /// Where the advisory database lives.
    pub fn advisories_dir(&self) -> PathBuf {
        self.data_dir.join("advisories")
    }

    /// The interpreter description (cached across runs).
    pub fn interpreter(&self, python: &Path) -> CliResult<InterpreterInfo> {
        pyward_install::query_interpreter(python, Some(&self.cache.interpreters())).map_err(|e| {
            CliError::input(format!(
                "cannot use the interpreter {}: {e}",
                python.display()
            ))
        })
    }

    /// The environment to act on: `--python` (an interpreter, a venv directory or a
    /// version), else the active virtual environment, else `./.venv`.
    pub fn environment(&self, python: Option<&str>) -> CliResult<Environment> {
        let exe = match python {
            Some(p) => {
                let path = Path::new(p);
                if path.is_dir() {
                    let exe = path.join("bin").join("python");
                    if !exe.exists() {
                        return Err(CliError::input(format!(
                            "{} is a directory without bin/python; it is not a virtual environment",
                            path.display()
                        ))
                        .hint(format!("create one there:  pyward venv {}", path.display())));
                    }
                    exe
                } else {
                    pyward_install::find_python(Some(p)).map_err(|e| {
                        CliError::input(format!("cannot find the interpreter `{p}`: {e}"))
                    })?
                }
            }
            None => {
                if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
                    PathBuf::from(venv).join("bin").join("python")
                } else if Path::new(".venv/bin/python").exists() {
                    std::path::absolute(".venv/bin/python")
                        .unwrap_or_else(|_| PathBuf::from(".venv/bin/python"))
                } else {
                    return Err(CliError::input("no virtual environment found")
                        .hint("create one here:  pyward venv")
                        .hint("or name an interpreter:  --python /path/to/python"));
                }
            }
        };
        let info = self.interpreter(&exe)?;
        Ok(Environment::from_interpreter(info))
    }
}
