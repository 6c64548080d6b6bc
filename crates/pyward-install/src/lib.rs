//! Interpreters, virtual environments, and wheel installation: find and
//! describe a Python (`interpreter`), create venvs natively (`venv`), list
//! what an environment holds (`environment`), unpack and verify wheels into
//! a cache (`wheel`), and install or uninstall them atomically
//! (`transaction`, `uninstall`, with `commit` doing the all-or-nothing
//! renames and `lock` keeping other pyward processes out).

mod bytecode;
mod commit;
pub mod environment;
pub mod error;
pub mod interpreter;
mod lock;
pub mod record;
pub mod scripts;
pub mod transaction;
pub mod uninstall;
pub mod venv;
pub mod wheel;

pub use commit::recover_leftovers;
pub use environment::{
    check_externally_managed, ArchiveOrigin, Environment, InstalledDist, MetadataKind,
};
pub use error::{InstallError, Result};
pub use interpreter::{find_python, query_interpreter};
pub use lock::EnvLock;
pub use transaction::{install, InstallItem, InstallOptions, InstallReport};
pub use uninstall::{uninstall, UninstallReport};
pub use venv::{create_venv, venv_python, VenvOptions};
pub use wheel::{cached_wheel, file_sha256, unpack_wheel, UnpackedWheel};
