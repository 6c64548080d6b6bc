//! Compiling installed `.py` files to bytecode with the target interpreter,
//! started once for all files. Files are compiled where they are staged but
//! record their final path, so tracebacks point at the installed file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{InstallError, Result};

/// Reads `[source, final_path]` pairs as JSON from stdin, writes each
/// `.pyc` into the source's `__pycache__`, prints the written paths as JSON.
/// Files that do not compile (SyntaxError) are skipped, as pip does.
const COMPILE_SCRIPT: &str = r#"
import json, os, py_compile, sys
tag = sys.implementation.cache_tag
done = []
for source, final in json.load(sys.stdin):
    head, tail = os.path.split(source)
    stem = tail[:-3] if tail.endswith(".py") else tail
    cfile = os.path.join(head, "__pycache__", stem + "." + tag + ".pyc")
    try:
        py_compile.compile(source, cfile=cfile, dfile=final, doraise=True)
    except (py_compile.PyCompileError, SyntaxError, UnicodeDecodeError, ValueError):
        continue
    done.append(cfile)
sys.stdout.write(json.dumps(done))
"#;

/// Compile `files` (`(staged source, final source path)`) with `python`,
/// one interpreter per CPU working on its share; returns the staged `.pyc`
/// paths written.
pub fn compile(python: &Path, files: &[(PathBuf, PathBuf)]) -> Result<Vec<PathBuf>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len().div_ceil(100))
        .max(1);
    let chunks: Vec<Vec<(PathBuf, PathBuf)>> = (0..workers)
        .map(|w| files.iter().skip(w).step_by(workers).cloned().collect())
        .collect();
    let results: Vec<Result<Vec<PathBuf>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| scope.spawn(move || compile_with_one(python, chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(InstallError::Bytecode {
                        python: python.to_path_buf(),
                        reason: "a worker thread failed".to_string(),
                    })
                })
            })
            .collect()
    });
    let mut written = Vec::new();
    for result in results {
        written.extend(result?);
    }
    Ok(written)
}

fn compile_with_one(python: &Path, files: &[(PathBuf, PathBuf)]) -> Result<Vec<PathBuf>> {
    if files.is_empty() {
        return Ok(Vec::new());
    }
    let failed = |reason: String| InstallError::Bytecode {
        python: python.to_path_buf(),
        reason,
    };
    let input = serde_json::to_vec(files).map_err(|e| failed(e.to_string()))?;
    let mut child = Command::new(python)
        .args(["-I", "-B", "-c", COMPILE_SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONPATH")
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    // Write on a thread so a large input cannot deadlock against the output.
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| failed("no stdin".into()))?;
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    let _ = writer.join();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(failed(format!(
            "it exited with {}: {}",
            output.status,
            stderr.lines().last().unwrap_or("").trim()
        )));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| failed(format!("unexpected output: {e}")))
}
