//! Helpers for the build tests: the machine's Python, sdists with a tiny
//! in-tree PEP 517 backend, an installer of wheels from a local directory,
//! and installing a built wheel into a fresh environment to import it.

#![allow(dead_code)]

pub mod index_installer;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use pyward_build::{BuildEnvInstaller, Sdist};
use pyward_dist::{InterpreterInfo, Requirement, WheelFilename};
use pyward_install::{Environment, InstallItem, InstallOptions};
use pyward_testkit::wheel::SdistBuilder;
use sha2::{Digest, Sha256};

/// The machine's `python3`, described; `None` (and a message) without one.
pub fn python() -> Option<InterpreterInfo> {
    let found = pyward_install::find_python(None).ok()?;
    match pyward_install::query_interpreter(&found, None) {
        Ok(info) => Some(info),
        Err(e) => {
            eprintln!("skipped: the machine's python could not be queried: {e}");
            None
        }
    }
}

/// Write `(filename, bytes)` into `dir` and describe it as an sdist.
pub fn write_sdist(dir: &Path, built: &(String, Vec<u8>)) -> Sdist {
    let path = dir.join(&built.0);
    std::fs::write(&path, &built.1).unwrap();
    let sha = hex::encode(Sha256::digest(&built.1));
    Sdist::new(path, &built.0, None, &sha).unwrap()
}

/// A project whose sdist builds with a backend that ships inside it
/// (`backend-path = ["_build"]`, `build-backend = "backend"`).
#[derive(Debug, Clone)]
pub struct InTree {
    pub name: String,
    pub version: String,
    /// The package's `__init__.py`.
    pub module: String,
    /// `[build-system] requires`.
    pub requires: Vec<String>,
    /// What `get_requires_for_build_wheel` returns.
    pub get_requires: Vec<String>,
    /// `Requires-Dist` of the built wheel.
    pub requires_dist: Vec<String>,
    /// Whether the backend has `prepare_metadata_for_build_wheel`.
    pub prepare: bool,
    /// Python run at the start of `build_wheel` (indented by the helper).
    pub build_code: String,
    /// Overrides the name of the built wheel's project.
    pub wheel_name: Option<String>,
    /// Extra `pyproject.toml` `[build-system]` lines.
    pub extra_build_system: String,
    /// What `get_requires_for_build_sdist` returns.
    pub get_requires_sdist: Vec<String>,
    /// Python run at the start of `build_sdist` (indented by the helper).
    pub sdist_code: String,
}

impl InTree {
    pub fn new(name: &str, version: &str) -> Self {
        InTree {
            name: name.to_string(),
            version: version.to_string(),
            module: "VALUE = 42\n".to_string(),
            requires: Vec::new(),
            get_requires: Vec::new(),
            requires_dist: Vec::new(),
            prepare: false,
            build_code: String::new(),
            wheel_name: None,
            extra_build_system: String::new(),
            get_requires_sdist: Vec::new(),
            sdist_code: String::new(),
        }
    }

    pub fn module_name(&self) -> String {
        self.name.replace('-', "_")
    }

    fn list(items: &[String]) -> String {
        let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
        format!("[{}]", quoted.join(", "))
    }

    pub fn backend(&self) -> String {
        let wheel_name = self.wheel_name.clone().unwrap_or_else(|| self.name.clone());
        let mut code = format!(
            r#"import base64, hashlib, os, zipfile

NAME = {name:?}
VERSION = {version:?}
DIST = NAME.replace("-", "_")
MODULE = {module_name:?}
MODULE_SOURCE = {module:?}
REQUIRES_DIST = {requires_dist}
GET_REQUIRES = {get_requires}
GET_REQUIRES_SDIST = {get_requires_sdist}


def _metadata():
    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + VERSION]
    lines += ["Requires-Dist: " + r for r in REQUIRES_DIST]
    return "\n".join(lines) + "\n"


def get_requires_for_build_wheel(config_settings=None):
    return GET_REQUIRES


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
{build_code}
    dist_info = DIST + "-" + VERSION + ".dist-info"
    files = [
        (MODULE + "/__init__.py", MODULE_SOURCE.encode()),
        (dist_info + "/METADATA", _metadata().encode()),
        (dist_info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: in-tree\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = []
    for path, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(dist_info + "/RECORD,,")
    files.append((dist_info + "/RECORD", ("\n".join(record) + "\n").encode()))
    filename = DIST + "-" + VERSION + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for path, data in files:
            z.writestr(path, data)
    return filename


def get_requires_for_build_sdist(config_settings=None):
    return GET_REQUIRES_SDIST


def build_sdist(sdist_directory, config_settings=None):
{sdist_code}
    import io, tarfile
    base = DIST + "-" + VERSION
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as tar:
        for dirpath, dirnames, filenames in os.walk("."):
            # Python's own byte code of this backend, written during the build.
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
                path = os.path.normpath(os.path.join(dirpath, name))
                tar.add(path, arcname=base + "/" + path, recursive=False)
        pkg_info = _metadata().encode()
        info = tarfile.TarInfo(base + "/PKG-INFO")
        info.size = len(pkg_info)
        tar.addfile(info, io.BytesIO(pkg_info))
    return filename
"#,
            name = wheel_name,
            version = self.version,
            module_name = self.module_name(),
            module = self.module,
            requires_dist = Self::list(&self.requires_dist),
            get_requires = Self::list(&self.get_requires),
            get_requires_sdist = Self::list(&self.get_requires_sdist),
            sdist_code = indent(if self.sdist_code.is_empty() {
                "pass"
            } else {
                &self.sdist_code
            }),
            build_code = indent(if self.build_code.is_empty() {
                "pass"
            } else {
                &self.build_code
            }),
        );
        if self.prepare {
            code.push_str(
                r#"

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    dist_info = DIST + "-" + VERSION + ".dist-info"
    os.makedirs(os.path.join(metadata_directory, dist_info))
    with open(os.path.join(metadata_directory, dist_info, "METADATA"), "w") as f:
        f.write(_metadata())
    return dist_info
"#,
            );
        }
        code
    }

    pub fn pyproject(&self) -> String {
        format!(
            "[build-system]\nrequires = {}\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n{}",
            Self::list(&self.requires),
            self.extra_build_system
        )
    }

    pub fn sdist_builder(&self) -> SdistBuilder {
        SdistBuilder::new(&self.name, &self.version)
            .file("pyproject.toml", self.pyproject())
            .file("_build/backend.py", self.backend())
    }

    pub fn sdist(&self) -> (String, Vec<u8>) {
        self.sdist_builder().build()
    }

    /// Write the project's `pyproject.toml` and backend into `dir`, as a
    /// checkout of it would hold them.
    pub fn write_project(&self, dir: &Path) {
        std::fs::create_dir_all(dir.join("_build")).unwrap();
        std::fs::write(dir.join("pyproject.toml"), self.pyproject()).unwrap();
        std::fs::write(dir.join("_build/backend.py"), self.backend()).unwrap();
    }
}

pub fn indent(code: &str) -> String {
    code.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Installs wheels from one directory (picking by name; dependencies of
/// build requirements are not needed by these tests), recording each call.
pub struct LocalInstaller {
    pub wheels: PathBuf,
    pub cache: PathBuf,
    pub calls: Mutex<Vec<Vec<String>>>,
}

impl LocalInstaller {
    pub fn new(wheels: &Path, cache: &Path) -> Self {
        LocalInstaller {
            wheels: wheels.to_path_buf(),
            cache: cache.to_path_buf(),
            calls: Mutex::new(Vec::new()),
        }
    }

    pub fn calls(&self) -> Vec<Vec<String>> {
        self.calls.lock().unwrap().clone()
    }
}

impl BuildEnvInstaller for LocalInstaller {
    fn install(&self, venv: &Path, requirements: &[Requirement]) -> Result<(), String> {
        self.calls
            .lock()
            .unwrap()
            .push(requirements.iter().map(|r| r.to_string()).collect());
        let info = pyward_install::query_interpreter(&pyward_install::venv_python(venv), None)
            .map_err(|e| e.to_string())?;
        let env = Environment::from_interpreter(info);
        let mut wheels = Vec::new();
        for req in requirements {
            if env.find(&req.name).map_err(|e| e.to_string())?.is_some() {
                continue;
            }
            let found = std::fs::read_dir(&self.wheels)
                .map_err(|e| e.to_string())?
                .flatten()
                .find_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    let w = WheelFilename::from_str(&name).ok()?;
                    (w.name == req.name).then_some((e.path(), w))
                })
                .ok_or_else(|| format!("no wheel for {}", req.name))?;
            wheels.push(found);
        }
        install_wheels(venv, &self.cache, &wheels)
    }
}

/// Install `wheels` into the venv at `venv` with pyward-install.
pub fn install_wheels(
    venv: &Path,
    cache: &Path,
    wheels: &[(PathBuf, WheelFilename)],
) -> Result<(), String> {
    let info = pyward_install::query_interpreter(&pyward_install::venv_python(venv), None)
        .map_err(|e| e.to_string())?;
    let env = Environment::from_interpreter(info);
    let mut items = Vec::new();
    for (path, filename) in wheels {
        let unpacked = pyward_install::unpack_wheel(path, filename, &cache.join("unpacked"), None)
            .map_err(|e| e.to_string())?;
        items.push(InstallItem {
            unpacked,
            requested: true,
            direct_url: None,
            origin: None,
        });
    }
    pyward_install::install(&env, &items, &[], &InstallOptions::default())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Create a venv at `dir`, install `wheel` into it, and run `code` with its
/// Python; returns stdout.
pub fn install_and_run(
    base: &InterpreterInfo,
    dir: &Path,
    wheel: &Path,
    filename: &WheelFilename,
    code: &str,
) -> String {
    let venv = dir.join("target-venv");
    pyward_install::create_venv(&venv, base, &Default::default()).unwrap();
    install_wheels(
        &venv,
        &dir.join("install-cache"),
        &[(wheel.to_path_buf(), filename.clone())],
    )
    .unwrap();
    let out = std::process::Command::new(pyward_install::venv_python(&venv))
        .args(["-c", code])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
