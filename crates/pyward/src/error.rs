//! Command failures and the exit codes they map to (documented in the README):
//! 0 done, 1 refused by policy, 2 usage or input error, 3 network or index
//! error, 4 the operation failed (the environment was left unchanged).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    Refused = 1,
    Input = 2,
    Network = 3,
    Failed = 4,
}

/// An error to show the user: what happened and, when known, what to do.
#[derive(Debug)]
pub struct CliError {
    pub kind: ExitKind,
    pub message: String,
    pub hints: Vec<String>,
}

impl CliError {
    pub fn new(kind: ExitKind, message: impl Into<String>) -> Self {
        CliError {
            kind,
            message: message.into(),
            hints: Vec::new(),
        }
    }

    pub fn input(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Input, message)
    }

    pub fn network(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Network, message)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Failed, message)
    }

    pub fn refused(message: impl Into<String>) -> Self {
        Self::new(ExitKind::Refused, message)
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)?;
        for h in &self.hints {
            write!(f, "\n  → {h}")?;
        }
        Ok(())
    }
}

pub type CliResult<T> = Result<T, CliError>;
