//! Finding a Python interpreter and asking it, once, everything pyward needs
//! to know about it (`pyward_dist::InterpreterInfo`). Answers are cached on
//! disk, keyed by the executable's path, size and modification time, so a
//! warm run starts no Python at all.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::UNIX_EPOCH;

use pyward_dist::InterpreterInfo;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{InstallError, Result};

/// The script run by the interpreter; prints one JSON object shaped like
/// `InterpreterInfo`. Kept compatible with Python 3.6+.
const QUERY_SCRIPT: &str = r#"
import json, os, platform, struct, sys, sysconfig

def fmt_version(info):
    version = "%d.%d.%d" % (info[0], info[1], info[2])
    if info[3] != "final":
        version += info[3][0] + str(info[4])
    return version

def libc():
    if sys.platform != "linux":
        return {"kind": "none"}
    try:
        name, version = os.confstr("CS_GNU_LIBC_VERSION").split()
        if name == "glibc":
            major, minor = version.split(".")[:2]
            return {"kind": "glibc", "major": int(major), "minor": int(minor)}
    except (AttributeError, OSError, ValueError):
        pass
    import glob, re, subprocess
    for loader in sorted(glob.glob("/lib/ld-musl-*.so.1")):
        try:
            out = subprocess.run([loader], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE).stderr.decode("utf-8", "replace")
        except OSError:
            continue
        match = re.search(r"Version (\d+)\.(\d+)", out)
        if match:
            return {"kind": "musl", "major": int(match.group(1)), "minor": int(match.group(2))}
    return {"kind": "none"}

def scheme_paths(prefix, in_venv):
    names = sysconfig.get_scheme_names()
    if in_venv:
        scheme = "venv" if "venv" in names else ("nt" if os.name == "nt" else "posix_prefix")
    elif hasattr(sysconfig, "get_preferred_scheme"):
        scheme = sysconfig.get_preferred_scheme("prefix")
    else:
        scheme = "nt" if os.name == "nt" else "posix_prefix"
    paths = sysconfig.get_paths(scheme=scheme, vars={"base": prefix, "platbase": prefix})
    return {
        "purelib": paths["purelib"],
        "platlib": paths["platlib"],
        "scripts": paths["scripts"],
        "data": paths["data"],
        "include": paths["include"],
    }

def externally_managed():
    if hasattr(sysconfig, "get_default_scheme"):
        stdlib = sysconfig.get_path("stdlib", sysconfig.get_default_scheme())
    else:
        stdlib = sysconfig.get_path("stdlib")
    path = os.path.join(stdlib, "EXTERNALLY-MANAGED")
    return path if os.path.isfile(path) else None

def main():
    in_venv = sys.prefix != getattr(sys, "base_prefix", sys.prefix)
    base = getattr(sys, "_base_executable", None) or sys.executable
    machine = platform.machine().lower()
    if machine == "amd64":
        machine = "x86_64"
    mac = None
    if sys.platform == "darwin":
        parts = platform.mac_ver()[0].split(".")
        mac = [int(parts[0]), int(parts[1]) if len(parts) > 1 else 0]
    info = {
        "executable": os.path.abspath(sys.executable),
        "base_executable": os.path.realpath(base),
        "prefix": sys.prefix,
        "base_prefix": getattr(sys, "base_prefix", sys.prefix),
        "version": list(sys.version_info[:3]),
        "implementation": sys.implementation.name,
        "abiflags": getattr(sys, "abiflags", ""),
        "gil_disabled": sysconfig.get_config_var("Py_GIL_DISABLED") == 1,
        "pointer_size": struct.calcsize("P"),
        "os": platform.system().lower(),
        "arch": machine,
        "libc": libc(),
        "macos": mac,
        "markers": {
            "implementation_name": sys.implementation.name,
            "implementation_version": fmt_version(sys.implementation.version),
            "os_name": os.name,
            "platform_machine": platform.machine(),
            "platform_python_implementation": platform.python_implementation(),
            "platform_release": platform.release(),
            "platform_system": platform.system(),
            "platform_version": platform.version(),
            "python_full_version": platform.python_version(),
            "python_version": ".".join(platform.python_version_tuple()[:2]),
            "sys_platform": sys.platform,
        },
        "paths": scheme_paths(sys.prefix, in_venv),
        "externally_managed": externally_managed(),
    }
    sys.stdout.write(json.dumps(info))

main()
"#;

/// Find an interpreter. `request` is a path (file, or a venv directory), a
/// version like `3.12`, or a name like `python3.12` looked up on `PATH`;
/// without a request, `python3` then `python` on `PATH`.
pub fn find_python(request: Option<&str>) -> Result<PathBuf> {
    let Some(request) = request else {
        return ["python3", "python"]
            .iter()
            .find_map(|name| find_on_path(name))
            .ok_or_else(|| {
                InstallError::InterpreterNotFound(
                    "neither `python3` nor `python` is on PATH".to_string(),
                )
            });
    };
    let looks_like_path = request.contains(std::path::MAIN_SEPARATOR)
        || request.contains('/')
        || Path::new(request).exists();
    if looks_like_path {
        let path = PathBuf::from(request);
        if path.is_dir() {
            let bin = if cfg!(windows) {
                path.join("Scripts").join("python.exe")
            } else {
                path.join("bin").join("python")
            };
            if bin.exists() {
                return Ok(bin);
            }
            return Err(InstallError::InterpreterNotFound(format!(
                "{} is a directory without {}",
                path.display(),
                bin.display()
            )));
        }
        if path.is_file() {
            return Ok(path);
        }
        return Err(InstallError::InterpreterNotFound(format!(
            "{} does not exist",
            path.display()
        )));
    }
    let is_version = !request.is_empty()
        && request
            .split('.')
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let name = if is_version {
        format!("python{request}")
    } else if request.starts_with("python") || request.starts_with("pypy") {
        request.to_string()
    } else {
        return Err(InstallError::InterpreterNotFound(format!(
            "`{request}` is neither a path, a version like 3.12, nor a name like python3.12"
        )));
    };
    find_on_path(&name)
        .ok_or_else(|| InstallError::InterpreterNotFound(format!("`{name}` is not on PATH")))
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let candidate = dir.join(name);
        if is_executable(&candidate) {
            return Some(candidate);
        }
        if cfg!(windows) {
            let exe = dir.join(format!("{name}.exe"));
            if exe.is_file() {
                return Some(exe);
            }
        }
        None
    })
}

fn is_executable(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        path.is_file()
    }
}

/// What identifies an interpreter file for the cache.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CacheKey {
    path: PathBuf,
    size: u64,
    mtime_ns: u128,
    link_mtime_ns: u128,
    pyvenv_cfg_mtime_ns: Option<u128>,
}

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    key: CacheKey,
    info: InterpreterInfo,
}

fn mtime_ns(meta: &std::fs::Metadata) -> u128 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
}

/// The cache key, or None when the executable should not be cached (a
/// script such as a pyenv shim can start a different Python at any time).
fn cache_key(python: &Path) -> Option<CacheKey> {
    let path = std::path::absolute(python).ok()?;
    let meta = std::fs::metadata(&path).ok()?;
    let link_meta = std::fs::symlink_metadata(&path).ok()?;
    let mut head = [0u8; 2];
    let mut file = std::fs::File::open(&path).ok()?;
    if std::io::Read::read_exact(&mut file, &mut head).is_ok() && &head == b"#!" {
        return None;
    }
    let pyvenv_cfg = path
        .parent()
        .and_then(Path::parent)
        .map(|root| root.join("pyvenv.cfg"))
        .and_then(|cfg| std::fs::metadata(cfg).ok())
        .map(|m| mtime_ns(&m));
    Some(CacheKey {
        path,
        size: meta.len(),
        mtime_ns: mtime_ns(&meta),
        link_mtime_ns: mtime_ns(&link_meta),
        pyvenv_cfg_mtime_ns: pyvenv_cfg,
    })
}

fn cache_file(cache_dir: &Path, key: &CacheKey) -> PathBuf {
    let digest = Sha256::digest(key.path.as_os_str().as_encoded_bytes());
    cache_dir
        .join("interpreters")
        .join(format!("{}.json", hex::encode(&digest[..12])))
}

/// Describe `python`, running it at most once; with `cache_dir`, a cached
/// answer is used while the executable is unchanged.
pub fn query_interpreter(python: &Path, cache_dir: Option<&Path>) -> Result<InterpreterInfo> {
    let key = cache_dir.and_then(|_| cache_key(python));
    if let (Some(dir), Some(key)) = (cache_dir, &key) {
        let file = cache_file(dir, key);
        if let Ok(bytes) = std::fs::read(&file) {
            if let Ok(entry) = serde_json::from_slice::<CacheEntry>(&bytes) {
                if &entry.key == key {
                    return Ok(entry.info);
                }
            }
        }
    }
    let info = run_query(python)?;
    if let (Some(dir), Some(key)) = (cache_dir, key) {
        // A cache that cannot be written only costs speed next time.
        let file = cache_file(dir, &key);
        let entry = CacheEntry {
            key,
            info: info.clone(),
        };
        if let Ok(json) = serde_json::to_vec(&entry) {
            let _ = write_atomic(&file, &json);
        }
    }
    Ok(info)
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| std::io::Error::other("no parent directory"))?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

fn run_query(python: &Path) -> Result<InterpreterInfo> {
    let failed = |reason: String| InstallError::InterpreterFailed {
        python: python.to_path_buf(),
        reason,
    };
    let output = Command::new(python)
        .args(["-I", "-B", "-c", QUERY_SCRIPT])
        .stdin(Stdio::null())
        .env_remove("PYTHONHOME")
        .env_remove("PYTHONPATH")
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("").trim().to_string();
        return Err(failed(format!("it exited with {}: {last}", output.status)));
    }
    serde_json::from_slice(&output.stdout).map_err(|e| {
        failed(format!(
            "its answer was not understood ({e}); is it Python 3.6 or newer?"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_names_are_looked_up_on_path() {
        let err = find_python(Some("not-a-python")).unwrap_err();
        assert!(err.to_string().contains("neither a path"), "{err}");
        let err = find_python(Some("99.99")).unwrap_err();
        assert!(err.to_string().contains("python99.99"), "{err}");
        let err = find_python(Some("/nonexistent/python")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
    }
}
