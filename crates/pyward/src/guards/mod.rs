//! The checks of the install pipeline as the CLI runs them: each takes what
//! it needs, calls its library crate, and returns findings plus its line of
//! the security block. Printing stays in `output`.

pub mod flags;
pub mod memory;
pub mod scan;
pub mod trust;
pub mod vulnerabilities;

use pyward_guard::Finding;

use crate::output::SecurityLine;

/// What one check contributes to a run.
pub struct GuardOutcome {
    pub findings: Vec<Finding>,
    pub line: SecurityLine,
}
