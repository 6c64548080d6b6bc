//! The vocabulary every pyward crate shares: package names, versions and
//! requirements (re-exported from `pep440_rs` / `pep508_rs`), distribution
//! filenames, platform tags, core metadata and the description of a target
//! interpreter. Pure data and parsing: no I/O, no network.

pub mod filename;
pub mod interpreter;
pub mod metadata;
pub mod requirement;
pub mod tags;

pub use filename::{DistFilename, FilenameError, SdistFilename, WheelFilename};
pub use interpreter::{InterpreterInfo, Libc, SchemePaths};
pub use metadata::{CoreMetadata, MetadataError};
pub use pep440_rs::{Operator, Version, VersionSpecifier, VersionSpecifiers};
pub use pep508_rs::{
    ExtraName, MarkerEnvironment, MarkerTree, PackageName, Requirement, VersionOrUrl,
};
pub use requirement::parse_requirement;
pub use tags::Tags;
