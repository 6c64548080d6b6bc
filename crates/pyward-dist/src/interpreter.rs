//! What pyward knows about a target Python interpreter: versions, marker
//! values, installation scheme paths and platform facts used for wheel tags.
//! The data is produced by running the interpreter once (see `pyward-install`);
//! this module only holds and interprets it.

use std::path::PathBuf;

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};
use serde::{Deserialize, Serialize};

/// The C library the interpreter is linked against (decides manylinux/musllinux).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Libc {
    Glibc { major: u16, minor: u16 },
    Musl { major: u16, minor: u16 },
    None,
}

/// Installation scheme paths (sysconfig `venv`/`posix_prefix` scheme).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemePaths {
    pub purelib: PathBuf,
    pub platlib: PathBuf,
    pub scripts: PathBuf,
    pub data: PathBuf,
    pub include: PathBuf,
}

/// PEP 508 marker values as strings, exactly as the interpreter reports them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkerValues {
    pub implementation_name: String,
    pub implementation_version: String,
    pub os_name: String,
    pub platform_machine: String,
    pub platform_python_implementation: String,
    pub platform_release: String,
    pub platform_system: String,
    pub platform_version: String,
    pub python_full_version: String,
    pub python_version: String,
    pub sys_platform: String,
}

/// Everything pyward needs to know about an interpreter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterpreterInfo {
    /// `sys.executable`.
    pub executable: PathBuf,
    /// The interpreter a venv would point at (`sys._base_executable`, resolved).
    pub base_executable: PathBuf,
    pub prefix: PathBuf,
    pub base_prefix: PathBuf,
    /// `(major, minor, micro)`.
    pub version: (u8, u8, u8),
    /// `sys.implementation.name`, e.g. `cpython`.
    pub implementation: String,
    /// `sys.abiflags` (`""`, `"d"`, `"t"`).
    pub abiflags: String,
    /// True on a free-threaded build.
    pub gil_disabled: bool,
    pub pointer_size: u8,
    /// `linux`, `darwin`, `windows`.
    pub os: String,
    /// `x86_64`, `aarch64`, …
    pub arch: String,
    pub libc: Libc,
    /// macOS `(major, minor)` when on macOS.
    pub macos: Option<(u16, u16)>,
    pub markers: MarkerValues,
    /// Scheme paths of this interpreter's prefix.
    pub paths: SchemePaths,
    /// Path of `EXTERNALLY-MANAGED` when it exists in the stdlib dir (PEP 668).
    pub externally_managed: Option<PathBuf>,
}

impl InterpreterInfo {
    /// True when the interpreter runs inside a virtual environment.
    pub fn is_venv(&self) -> bool {
        self.prefix != self.base_prefix
    }

    /// `3.12`-style short version.
    pub fn short_version(&self) -> String {
        format!("{}.{}", self.version.0, self.version.1)
    }

    /// The full version as a PEP 440 version.
    pub fn python_version(&self) -> pep440_rs::Version {
        pep440_rs::Version::new([
            u64::from(self.version.0),
            u64::from(self.version.1),
            u64::from(self.version.2),
        ])
    }

    /// A marker environment for evaluating PEP 508 markers.
    pub fn marker_environment(&self) -> Result<MarkerEnvironment, String> {
        let m = &self.markers;
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: &m.implementation_name,
            implementation_version: &m.implementation_version,
            os_name: &m.os_name,
            platform_machine: &m.platform_machine,
            platform_python_implementation: &m.platform_python_implementation,
            platform_release: &m.platform_release,
            platform_system: &m.platform_system,
            platform_version: &m.platform_version,
            python_full_version: &m.python_full_version,
            python_version: &m.python_version,
            sys_platform: &m.sys_platform,
        })
        .map_err(|e| e.to_string())
    }
}
