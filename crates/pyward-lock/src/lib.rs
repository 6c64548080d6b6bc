//! What the user asks to install: requirements files in pip's syntax and
//! requirement specs from the command line (`requirements`), a project's
//! `pyproject.toml` dependencies and dependency groups (`pyproject`), and
//! PEP 751 lock files (`pylock`). Parsing and validation only; nothing here
//! resolves, downloads or prints.

mod pep508;
pub mod pylock;
pub mod pyproject;
pub mod requirements;

pub use pylock::{PyLock, PyLockError};
pub use pyproject::{read_pyproject_dependencies, ProjectRequirements, PyprojectError};
pub use requirements::{
    parse_editable_arg, parse_requirement_arg, parse_requirements_file, parse_requirements_str,
    Origin, RequirementEntry, RequirementSpec, RequirementsError, RequirementsFile,
};
