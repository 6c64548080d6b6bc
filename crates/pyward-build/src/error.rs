//! The one error type of building from source. Every message names the
//! package; `advice()` says what the user can do; the last lines of a failed
//! hook's output and the findings gathered before the failure (network
//! attempts, a missing sandbox) travel with the error for the CLI to show.

use std::path::PathBuf;
use std::time::Duration;

use pyward_archive::ArchiveError;
use pyward_guard::Finding;

use crate::source::SourceError;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("`{sha256}` is not a sha256 digest (64 hexadecimal digits)")]
    InvalidSha256 { sha256: String },

    #[error("`{filename}` is not a source distribution filename pyward can build: {reason}")]
    InvalidFilename { filename: String, reason: String },

    #[error("the sdist of {package} was refused: {source}")]
    Extract {
        package: String,
        #[source]
        source: ArchiveError,
    },

    #[error("{package} cannot be built: {source}")]
    Source {
        package: String,
        #[source]
        source: SourceError,
    },

    #[error("{package} was not built: building from source needs the sandbox, and {reason}")]
    SandboxRequired { package: String, reason: String },

    #[error("the build environment for {package} could not be created: {message}")]
    Environment { package: String, message: String },

    #[error(
        "the build requirements of {package} ({requirements}) could not be installed: {message}"
    )]
    BuildRequirements {
        package: String,
        requirements: String,
        message: String,
        findings: Vec<Finding>,
    },

    #[error(
        "{hook} of {package} asked for `{requirement}`, which is not a valid requirement: {reason}"
    )]
    BadRequirement {
        package: String,
        hook: String,
        requirement: String,
        reason: String,
        findings: Vec<Finding>,
    },

    #[error("the build backend `{backend}` of {package} could not be loaded: {message}")]
    BackendUnavailable {
        package: String,
        backend: String,
        message: String,
        output_tail: String,
        findings: Vec<Finding>,
    },

    #[error("the build backend of {package} was refused: {message}")]
    BackendInvalid {
        package: String,
        message: String,
        findings: Vec<Finding>,
    },

    #[error("building {package} from source failed in {hook} ({status})")]
    HookFailed {
        package: String,
        hook: String,
        status: String,
        /// The last lines of the hook's output.
        output_tail: String,
        /// The whole output, kept in the cache directory.
        log: Option<PathBuf>,
        findings: Vec<Finding>,
    },

    #[error("building {package} from source was stopped after {} minutes in {hook}", after.as_secs() / 60)]
    TimedOut {
        package: String,
        hook: String,
        after: Duration,
        findings: Vec<Finding>,
    },

    #[error("the build of {package} could not run {hook}: {message}")]
    HookRun {
        package: String,
        hook: String,
        message: String,
        findings: Vec<Finding>,
    },

    #[error("the build of {package} produced `{found}`, which was refused: {reason}")]
    WrongOutput {
        package: String,
        found: String,
        reason: String,
        findings: Vec<Finding>,
    },

    #[error("building {package}: could not {action} {}: {source}", path.display())]
    Io {
        package: String,
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl BuildError {
    /// Findings gathered before the failure (network attempts, the missing
    /// sandbox); the CLI shows them with the error.
    pub fn findings(&self) -> &[Finding] {
        match self {
            BuildError::BuildRequirements { findings, .. }
            | BuildError::BadRequirement { findings, .. }
            | BuildError::BackendUnavailable { findings, .. }
            | BuildError::BackendInvalid { findings, .. }
            | BuildError::HookFailed { findings, .. }
            | BuildError::TimedOut { findings, .. }
            | BuildError::HookRun { findings, .. }
            | BuildError::WrongOutput { findings, .. } => findings,
            _ => &[],
        }
    }

    /// The last lines of the failed hook's output, when there are any.
    pub fn output_tail(&self) -> Option<&str> {
        match self {
            BuildError::HookFailed { output_tail, .. }
            | BuildError::BackendUnavailable { output_tail, .. }
                if !output_tail.is_empty() =>
            {
                Some(output_tail)
            }
            _ => None,
        }
    }

    /// What the user can do, simplest first.
    pub fn advice(&self) -> Vec<String> {
        let wheel =
            "look for a version with a wheel, so nothing needs building:  --only-binary :all:";
        match self {
            BuildError::Extract { .. } | BuildError::WrongOutput { .. } => vec![
                "do not install this file; report it to the package's maintainers or the index".to_string(),
            ],
            BuildError::SandboxRequired { .. } => vec![
                wheel.to_string(),
                "enable unprivileged user namespaces (e.g. `sysctl kernel.unprivileged_userns_clone=1`)".to_string(),
                "or allow unsandboxed builds:  sandbox = \"prefer\" in [tool.pyward]".to_string(),
            ],
            BuildError::BuildRequirements { .. } => vec![
                "check that the build requirements are on your index".to_string(),
                wheel.to_string(),
            ],
            BuildError::HookRun { hook, .. } if hook == "build_editable" => vec![
                "leave out -e: the project is then built and installed as a copy (install it again after changes)".to_string(),
                "or move the project to a build backend that makes editable installs (PEP 660): setuptools 64 or newer, hatchling, flit-core 3.4 or newer, pdm-backend, poetry-core 1.0.8 or newer".to_string(),
            ],
            BuildError::HookFailed {
                log,
                output_tail,
                hook,
                ..
            } => {
                // Only a release from an index can have a wheel instead; a
                // project directory is always built.
                let from_project = hook.ends_with("_sdist") || hook.ends_with("_editable");
                let mut advice = if from_project {
                    Vec::new()
                } else {
                    vec![wheel.to_string()]
                };
                if output_tail.contains("unable to detect version") {
                    // setuptools-scm (also under hatch-vcs) without a git
                    // repository or tag to take the version from.
                    advice.insert(
                        0,
                        "the build takes its version from git and found none (is the project in a git repository with a tag?); give the version:  SETUPTOOLS_SCM_PRETEND_VERSION=1.2.3"
                            .to_string(),
                    );
                }
                if let Some(log) = log {
                    advice.push(format!("read the full build output:  {}", log.display()));
                }
                advice.push(
                    "a build that needs the network or files outside its directory fails in the sandbox; if you trust the package:  sandbox = \"off\""
                        .to_string(),
                );
                advice
            }
            BuildError::Source {
                source:
                    SourceError::NotAProject | SourceError::NotADirectory | SourceError::NotFound,
                ..
            } => vec![
                "give the directory that holds the project's pyproject.toml or setup.py".to_string(),
            ],
            BuildError::Source {
                source: SourceError::TooLarge(_),
                ..
            } => vec![
                "check that the path names the project's own directory, not a parent of it such as your home directory".to_string(),
            ],
            BuildError::Io { action: "read", .. } => {
                vec!["check that you can read every file of the project".to_string()]
            }
            BuildError::Io { .. } | BuildError::Environment { .. } => {
                vec!["check the free space and permissions of pyward's cache directory".to_string()]
            }
            _ => vec![wheel.to_string()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(output_tail: &str) -> BuildError {
        BuildError::HookFailed {
            package: "the project in ./demo".into(),
            hook: "build_sdist".into(),
            status: "exit status 1".into(),
            output_tail: output_tail.into(),
            log: None,
            findings: Vec::new(),
        }
    }

    #[test]
    fn a_version_from_git_that_cannot_be_found_gets_its_own_advice() {
        let advice =
            failed("LookupError: setuptools-scm was unable to detect version for /x").advice();
        assert!(
            advice[0].contains("SETUPTOOLS_SCM_PRETEND_VERSION"),
            "{advice:?}"
        );
        let advice = failed("SyntaxError: invalid syntax").advice();
        assert!(
            advice.iter().all(|a| !a.contains("SETUPTOOLS_SCM")),
            "{advice:?}"
        );
    }

    #[test]
    fn a_project_s_failed_build_is_not_told_to_look_for_a_wheel() {
        let sdist = failed("error: invalid command").advice();
        assert!(
            sdist.iter().all(|a| !a.contains("--only-binary")),
            "{sdist:?}"
        );
        let mut from_index = failed("error: invalid command");
        if let BuildError::HookFailed { hook, .. } = &mut from_index {
            *hook = "build_wheel".into();
        }
        assert!(from_index.advice()[0].contains("--only-binary"));
        let no_hook = BuildError::HookRun {
            package: "the project in ./demo".into(),
            hook: "build_editable".into(),
            message: "no build_editable hook".into(),
            findings: Vec::new(),
        };
        assert!(
            no_hook.advice()[0].contains("leave out -e"),
            "{:?}",
            no_hook.advice()
        );
    }

    #[test]
    fn a_directory_that_is_not_a_project_is_told_what_to_give() {
        let err = BuildError::Source {
            package: "./notes".into(),
            source: SourceError::NotAProject,
        };
        assert_eq!(
            err.to_string(),
            "./notes cannot be built: it has no pyproject.toml or setup.py, so it is not a Python project"
        );
        assert!(err.advice()[0].contains("pyproject.toml or setup.py"));
    }
}
