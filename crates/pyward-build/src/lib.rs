//! Building wheels from source distributions (PEP 517/518), and sdists from
//! project directories, sandboxed.
//!
//! Installing from an sdist runs the package's own code. [`Builder`] runs it
//! the standard way, but confined: the sdist is extracted safely, an
//! isolated virtual environment receives the `[build-system] requires`
//! through the caller's [`BuildEnvInstaller`] (so they are hash-checked,
//! audited and scanned like any install), and each hook
//! (`get_requires_for_build_wheel`, `prepare_metadata_for_build_wheel`,
//! `build_wheel`) runs in a fresh interpreter process with no network and
//! writes confined to the build directory (see [`SandboxStatus`]). Network
//! attempts by build code become findings naming the package and the
//! destination. Built wheels are cached by the sdist's sha256.
//!
//! How an installer uses it (all calls block; run them on a blocking thread):
//!
//! 1. Check [`SourceBuilds::check`] for the package (`--no-build`,
//!    `--only-binary`, the configuration's allow-list) and run the code
//!    scanner on the sdist before anything is built.
//! 2. Make one [`Builder`] per run: `Builder::new(interpreter, cache_dir,
//!    policy)`; [`Builder::sandbox_status`] says once what the sandbox can do.
//! 3. During resolution, [`Builder::prepare_metadata`] gives the metadata
//!    (cached after the first time); after it, [`Builder::build_wheel`] gives
//!    a wheel, reusing the prepared source tree or the cache.
//! 4. Install the wheel like a downloaded one (`pyward_install::unpack_wheel`
//!    keyed by [`BuildOutcome::wheel_path`]'s sha256), and add
//!    [`BuildOutcome::findings`] (or [`BuildError::findings`]) to the run's
//!    findings.
//!
//! A local project directory (`pyward install ./project`) takes the standard
//! PEP 517 path: [`Builder::build_sdist_from_tree`] copies the directory
//! (it is never written to; its git repository, if any, is shown to the
//! build read-only, for versions taken from git tags) and runs
//! `get_requires_for_build_sdist` and `build_sdist` in the same sandbox; the
//! sdist it returns then goes through steps 1 to 4 like a downloaded one.
//! An editable install (`pyward install -e ./project`) uses
//! [`Builder::build_editable`] instead: PEP 660's hooks in the project
//! directory itself, in the same sandbox but allowed to write there.

// A failed build carries its output tail and findings for the user; builds
// are slow and failures rare, so the size of the error does not matter.
#![allow(clippy::result_large_err)]

mod cache;
mod error;
mod git;
mod hooks;
mod network;
mod permission;
mod project;
mod sandbox;
pub mod source;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use pyward_dist::{
    CoreMetadata, InterpreterInfo, PackageName, Requirement, SdistFilename, Tags, Version,
    WheelFilename,
};
use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};
use serde_json::{json, Value};

use crate::cache::{interpreter_key, BuildCache, BuildRecord};
use crate::hooks::{Answer, HookContext, HookFailure, HookRun};
use crate::network::NetworkAttempt;
use crate::sandbox::{Capabilities, WritableRoots};

pub use error::BuildError;
pub use permission::SourceBuilds;
pub use sandbox::{SandboxPolicy, SandboxStatus};
pub use source::{BuildSystem, SourceError};

/// Installs build requirements into a build environment. The installer
/// implements it with its full pipeline (resolve, verified download, audit,
/// scan, install), so build dependencies get the same checks as anything
/// else.
pub trait BuildEnvInstaller: Send + Sync {
    /// Make the virtual environment at `venv` satisfy `requirements` (the
    /// whole set so far; some may already be installed). The error is shown
    /// to the user as the reason the build could not start.
    fn install(&self, venv: &Path, requirements: &[Requirement]) -> Result<(), String>;
}

/// A source distribution on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sdist {
    /// The archive (its own file name does not matter).
    pub path: PathBuf,
    /// Its file name on the index, e.g. `docopt-0.6.2.tar.gz`.
    pub filename: String,
    pub name: PackageName,
    pub version: Version,
    /// `tar.gz`, `zip`, …
    pub extension: String,
    /// Hex sha256 of the archive, already verified by the caller.
    pub sha256: String,
}

impl Sdist {
    /// Describe the sdist at `path` whose index file name is `filename`
    /// (`project` helps with legacy names that contain `-`).
    pub fn new(
        path: impl Into<PathBuf>,
        filename: &str,
        project: Option<&PackageName>,
        sha256: &str,
    ) -> Result<Sdist, BuildError> {
        let parsed =
            SdistFilename::parse(filename, project).map_err(|e| BuildError::InvalidFilename {
                filename: filename.to_string(),
                reason: e.to_string(),
            })?;
        Ok(Sdist::from_parsed(path, filename, parsed, sha256))
    }

    /// The same, from a file name the caller already parsed.
    pub fn from_parsed(
        path: impl Into<PathBuf>,
        filename: &str,
        parsed: SdistFilename,
        sha256: &str,
    ) -> Sdist {
        Sdist {
            path: path.into(),
            filename: filename.to_string(),
            name: parsed.name,
            version: parsed.version,
            extension: parsed.extension,
            sha256: sha256.to_ascii_lowercase(),
        }
    }

    fn subject(&self) -> Subject {
        Subject::release(&self.name, &self.version, &self.filename)
    }

    fn checked_sha256(&self) -> Result<&str, BuildError> {
        let ok = self.sha256.len() == 64 && self.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(&self.sha256)
        } else {
            Err(BuildError::InvalidSha256 {
                sha256: self.sha256.clone(),
            })
        }
    }
}

/// A built (or cached) wheel.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    /// The wheel, in the cache directory.
    pub wheel_path: PathBuf,
    pub filename: WheelFilename,
    pub metadata: CoreMetadata,
    /// True when nothing ran: the wheel was built before.
    pub from_cache: bool,
    /// How the build was confined (for a cached wheel: when it was built).
    pub sandboxed: SandboxStatus,
    /// Network attempts and sandbox shortfalls of the build.
    pub findings: Vec<Finding>,
}

/// The metadata of an sdist, prepared without a full build when the backend
/// allows it.
#[derive(Debug, Clone)]
pub struct MetadataOutcome {
    pub metadata: CoreMetadata,
    pub from_cache: bool,
    pub sandboxed: SandboxStatus,
    pub findings: Vec<Finding>,
    /// The wheel, when a full build was needed to learn the metadata (the
    /// backend has no `prepare_metadata_for_build_wheel`) or was cached.
    pub built_wheel: Option<PathBuf>,
}

/// An sdist built from a source tree by the backend's `build_sdist` hook.
#[derive(Debug, Clone)]
pub struct BuiltSdist {
    /// The archive, in its own directory under `<cache>/tree-sdists/`; it
    /// stays there until the caller removes that directory.
    pub path: PathBuf,
    /// Its file name, e.g. `demo-1.0.tar.gz` (it parses as an
    /// [`SdistFilename`] with the extension `tar.gz` or `zip`).
    pub filename: String,
    /// How the build was confined.
    pub sandboxed: SandboxStatus,
    /// Network attempts, sandbox shortfalls, and the project's symbolic
    /// links that were left out of the build (a [`pyward_guard::Check::Notice`]).
    pub findings: Vec<Finding>,
}

/// An editable wheel (PEP 660) built from a project directory by the
/// backend's `build_editable` hook.
#[derive(Debug, Clone)]
pub struct BuiltEditable {
    /// The wheel, in its own directory under `<cache>/editables/`; it stays
    /// there until the caller removes that directory.
    pub wheel_path: PathBuf,
    pub filename: WheelFilename,
    pub metadata: CoreMetadata,
    /// How the build was confined.
    pub sandboxed: SandboxStatus,
    /// Network attempts and sandbox shortfalls of the build.
    pub findings: Vec<Finding>,
}

/// Builds sdists for one interpreter; cheap to share across threads.
pub struct Builder {
    interpreter: InterpreterInfo,
    interpreter_key: String,
    cache_dir: PathBuf,
    cache: BuildCache,
    policy: SandboxPolicy,
    timeout: Duration,
    capabilities: OnceLock<Capabilities>,
    /// Source trees whose metadata was prepared, kept for `build_wheel`.
    prepared: Mutex<HashMap<String, Tree>>,
}

/// What a build is of: how messages and findings name it, and the stem of
/// its kept logs.
#[derive(Debug, Clone)]
struct Subject {
    /// `demo 1.0`, or `the project in ./demo` while its backend has not
    /// named it yet.
    display: String,
    package: PackageRef,
    /// A plain file name stem: `demo-1.0`, `demo`.
    log_stem: String,
}

impl Subject {
    fn release(name: &PackageName, version: &Version, filename: &str) -> Subject {
        Subject {
            display: format!("{name} {version}"),
            package: PackageRef::new(
                name.to_string(),
                Some(version.to_string()),
                Some(filename.to_string()),
            ),
            log_stem: format!("{name}-{version}"),
        }
    }

    /// A project directory, named as the user gave it (`given`) and by the
    /// last component of its resolved path.
    fn project(given: &Path, resolved: &Path) -> Subject {
        let name = project_dir_name(resolved);
        Subject {
            display: format!("the project in {}", given.display()),
            package: PackageRef::new(name.clone(), None, None),
            log_stem: name,
        }
    }
}

/// The last component of a project's path, as a plain file name.
fn project_dir_name(resolved: &Path) -> String {
    let name: String = resolved
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        format!("project{name}")
    } else {
        name
    }
}

/// A fresh build directory whose sandbox was judged acceptable.
struct Start {
    dir: tempfile::TempDir,
    /// The directory, resolved.
    root: PathBuf,
    subject: Subject,
}

/// One source tree (extracted or copied) with its build environment.
struct Tree {
    _dir: tempfile::TempDir,
    subject: Subject,
    hooks: HookContext,
    wheel_dir: PathBuf,
    metadata_dir: PathBuf,
    sdist_dir: PathBuf,
    policy: SandboxPolicy,
    status: SandboxStatus,
    attempts: Vec<NetworkAttempt>,
    /// What the copy of a project brings to the build.
    project: ProjectCopy,
    /// The `.dist-info` directory `prepare_metadata_for_build_wheel` made.
    dist_info: Option<PathBuf>,
}

impl Tree {
    fn absorb(&mut self, run: &HookRun) {
        for a in &run.attempts {
            if !self.attempts.contains(a) {
                self.attempts.push(a.clone());
            }
        }
    }

    /// What the build did so far that the user should hear about, naming
    /// the subject as it is known now.
    fn findings(&self) -> Vec<Finding> {
        let subject = &self.subject;
        let mut all: Vec<Finding> = sandbox::judge(
            self.policy,
            &self.status,
            self.hooks.confinement,
            &subject.package,
            &subject.display,
        )
        .ok()
        .flatten()
        .into_iter()
        .collect();
        all.extend(skipped_links_notice(&self.project.skipped_links, subject));
        all.extend(
            self.project
                .git_trouble
                .as_ref()
                .map(|trouble| git_notice(trouble, subject)),
        );
        all.extend(network::finding(
            &self.attempts,
            &subject.package,
            &subject.display,
            self.status.blocks_network(),
        ));
        all
    }
}

/// What the copy of a project directory brings to its build (nothing for
/// an sdist).
#[derive(Debug, Default)]
struct ProjectCopy {
    /// Links that were left out, relative to the project.
    skipped_links: Vec<PathBuf>,
    /// Variables for git when the build sees the project's repository.
    git_env: Vec<(String, String)>,
    /// What went wrong in showing the project's git repository to the build.
    git_trouble: Option<GitTrouble>,
    /// The build works in the project directory itself (an editable
    /// install), so it may write there too.
    in_place: bool,
}

#[derive(Debug)]
enum GitTrouble {
    /// The build does not see the repository; the text says why.
    Unavailable(String),
    /// The build sees it, but files outside the project may count as
    /// deleted; the text says why.
    NotSetAside(String),
}

fn git_notice(trouble: &GitTrouble, subject: &Subject) -> Finding {
    let display = &subject.display;
    let title = match trouble {
        GitTrouble::Unavailable(reason) => {
            format!("the git repository of {display} could not be shown to its build: {reason}")
        }
        GitTrouble::NotSetAside(reason) => format!(
            "the build of {display} may see the files of its git work tree outside the project as deleted, so a version taken from git may be marked as modified: {reason}"
        ),
    };
    Finding::new(Check::Notice, Severity::Info, subject.package.clone(), title)
    .why("pyward builds a copy of the project; tools that take the version from git (setuptools-scm, hatch-vcs, versioneer) read the repository through it.")
    .advice("if the build needs the version from git, give it instead:  SETUPTOOLS_SCM_PRETEND_VERSION=1.2.3")
}

fn skipped_links_notice(links: &[PathBuf], subject: &Subject) -> Option<Finding> {
    let (count, verb) = match links.len() {
        0 => return None,
        1 => ("1 symbolic link".to_string(), "was"),
        n => (format!("{n} symbolic links"), "were"),
    };
    let mut finding = Finding::new(
        Check::Notice,
        Severity::Info,
        subject.package.clone(),
        format!("{count} of {} {verb} left out of the build: a project's links must be relative and stay inside it", subject.display),
    )
    .why("pyward copies a project before building it and never follows a link out of it, so the build cannot read or change files elsewhere.");
    for link in links {
        finding = finding.evidence(Evidence::Text {
            text: link.display().to_string(),
        });
    }
    Some(finding.advice(
        "if the build needs those files, put them inside the project instead of linking to them",
    ))
}

/// Largest METADATA file read from a build.
const MAX_METADATA: u64 = 16 << 20;

/// The sdist archives `build_sdist` may make (PEP 625, and legacy zip).
const SDIST_SUFFIXES: &[&str] = &[".tar.gz", ".zip"];

fn io_error(
    package: &str,
    action: &'static str,
    path: &Path,
) -> impl FnOnce(std::io::Error) -> BuildError {
    let package = package.to_string();
    let path = path.to_path_buf();
    move |source| BuildError::Io {
        package,
        action,
        path,
        source,
    }
}

impl Builder {
    /// A builder for `interpreter` (the target environment's base
    /// interpreter), keeping wheels and build directories under `cache_dir`.
    pub fn new(
        interpreter: InterpreterInfo,
        cache_dir: impl Into<PathBuf>,
        policy: SandboxPolicy,
    ) -> Builder {
        let cache_dir = cache_dir.into();
        Builder {
            interpreter_key: interpreter_key(&interpreter),
            interpreter,
            cache: BuildCache::new(&cache_dir),
            cache_dir,
            policy,
            timeout: Duration::from_secs(3600),
            capabilities: OnceLock::new(),
            prepared: Mutex::new(HashMap::new()),
        }
    }

    /// Stop a hook that runs longer than `timeout` (default: one hour).
    pub fn with_timeout(mut self, timeout: Duration) -> Builder {
        self.timeout = timeout;
        self
    }

    fn capabilities(&self) -> &Capabilities {
        self.capabilities
            .get_or_init(|| sandbox::probe(&self.interpreter.base_executable))
    }

    /// How builds will be confined on this machine under the policy. The
    /// first call probes the system (one short process start).
    pub fn sandbox_status(&self) -> SandboxStatus {
        self.capabilities().status(self.policy)
    }

    /// The cached wheel of an sdist, without building anything.
    pub fn cached(&self, sdist_sha256: &str) -> Option<BuildOutcome> {
        let sha = sdist_sha256.to_ascii_lowercase();
        let c = self.cache.wheel(&sha, &self.interpreter_key)?;
        Some(BuildOutcome {
            wheel_path: c.path,
            filename: c.filename,
            metadata: c.metadata,
            from_cache: true,
            sandboxed: c.record.sandbox,
            findings: c.record.findings,
        })
    }

    /// Build a wheel from `sdist`, or return the one built before.
    pub fn build_wheel(
        &self,
        sdist: &Sdist,
        installer: &dyn BuildEnvInstaller,
    ) -> Result<BuildOutcome, BuildError> {
        let sha = sdist.checked_sha256()?;
        if let Some(cached) = self.cached(sha) {
            return Ok(cached);
        }
        let prepared = self
            .prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(sha);
        let mut tree = match prepared {
            Some(tree) => tree,
            None => self.set_up(sdist, installer)?,
        };
        self.build_in(sdist, &mut tree)
    }

    /// The metadata of `sdist`: from `prepare_metadata_for_build_wheel` when
    /// the backend has it, else from a full build; cached either way.
    pub fn prepare_metadata(
        &self,
        sdist: &Sdist,
        installer: &dyn BuildEnvInstaller,
    ) -> Result<MetadataOutcome, BuildError> {
        let sha = sdist.checked_sha256()?;
        if let Some((metadata, record)) = self.cache.prepared_metadata(sha, &self.interpreter_key) {
            return Ok(MetadataOutcome {
                metadata,
                from_cache: true,
                sandboxed: record.sandbox,
                findings: record.findings,
                built_wheel: self.cache.wheel(sha, &self.interpreter_key).map(|c| c.path),
            });
        }
        let mut tree = self.set_up(sdist, installer)?;
        let hook = "prepare_metadata_for_build_wheel";
        let run = tree.hooks.run(
            hook,
            json!({"metadata_directory": tree.metadata_dir, "config_settings": null}),
        );
        tree.absorb(&run);
        let name = match run.answer {
            Ok(Answer::Missing) => {
                let built = self.build_in(sdist, &mut tree)?;
                return Ok(MetadataOutcome {
                    metadata: built.metadata,
                    from_cache: false,
                    sandboxed: built.sandboxed,
                    findings: built.findings,
                    built_wheel: Some(built.wheel_path),
                });
            }
            Ok(Answer::Value(Value::String(name))) => name,
            Ok(Answer::Value(other)) => {
                return Err(wrong_output(
                    &tree,
                    &other.to_string(),
                    "the hook must return the name of a .dist-info directory",
                ))
            }
            Err(failure) => return Err(self.hook_error(&tree, hook, failure, &run.log)),
        };
        let dist_info = checked_output(&tree, &tree.metadata_dir, &name, &[".dist-info"], true)?;
        let bytes = read_limited(&dist_info.join("METADATA"), MAX_METADATA).map_err(|e| {
            wrong_output(
                &tree,
                &name,
                &format!("its METADATA could not be read: {e}"),
            )
        })?;
        let metadata = checked_metadata(&tree, sdist, &name, &bytes)?;
        let findings = tree.findings();
        let record = BuildRecord {
            sandbox: tree.status.clone(),
            findings: findings.clone(),
        };
        self.cache
            .store_metadata(sha, &self.interpreter_key, &bytes, &record)
            .map_err(|source| BuildError::Io {
                package: tree.subject.display.clone(),
                action: "write to the build cache",
                path: self.cache.entry(sha, &self.interpreter_key),
                source,
            })?;
        tree.dist_info = Some(dist_info);
        let status = tree.status.clone();
        self.prepared
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sha.to_string(), tree);
        Ok(MetadataOutcome {
            metadata,
            from_cache: false,
            sandboxed: status,
            findings,
            built_wheel: None,
        })
    }

    /// Build an sdist of the project in the directory `tree` with its
    /// backend's `build_sdist` hook, sandboxed like a wheel build.
    ///
    /// `tree` is never written to: it is copied into a build directory
    /// under the cache first, without version-control data (`.git`, `.hg`,
    /// `.svn`), virtual environments (directories holding `pyvenv.cfg`),
    /// `__pycache__`, the caches of tox, nox, mypy, pytest and ruff,
    /// `node_modules`, special files, and symbolic links that are absolute
    /// or lead out of the project (those are never followed; they are left
    /// out and named in a notice among the findings).
    ///
    /// When the project is in a git work tree (at its top or below it, a
    /// checkout, linked worktree or submodule), the build sees the
    /// repository read-only, so versions taken from git tags work: the copy
    /// sits at the project's place in a copied work tree whose `.git` names
    /// a private git directory in the build directory, holding copies of
    /// the checkout's `HEAD` and index and reading the user's objects, refs
    /// and configuration in place. Index entries outside the project are
    /// marked skip-worktree in the private index, so they do not count as
    /// deleted. The user's `.git` is not written, whatever the sandbox
    /// setting. When this fails, the build goes on without the repository
    /// and a notice says why. A copy past 100,000
    /// entries or 1 GiB stops with [`SourceError::TooLarge`]; a directory
    /// without `pyproject.toml` or `setup.py` is [`SourceError::NotAProject`].
    ///
    /// The returned archive lives under `<cache>/tree-sdists/`; hash it,
    /// scan it and give it to [`Builder::build_wheel`] like a downloaded one.
    pub fn build_sdist_from_tree(
        &self,
        tree: &Path,
        installer: &dyn BuildEnvInstaller,
    ) -> Result<BuiltSdist, BuildError> {
        let given = tree.display().to_string();
        let not_buildable = |source| BuildError::Source {
            package: given.clone(),
            source,
        };
        let original = project_root(tree)?;
        let start = self.start(Subject::project(tree, &original))?;
        let base = start.root.join("project");
        let repository = git::find(&original);
        let (top_copy, copy) = match &repository {
            Some(repo) => repo.layout(&base, &project_dir_name(&repo.top)),
            None => {
                let copy = base.join(project_dir_name(&original));
                (copy.clone(), copy)
            }
        };
        if let Some(parent) = copy.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(&given, "create", parent))?;
        }
        // The cache may lie inside the project (a project directory that
        // is the home directory): the copy must not copy itself.
        let avoid: Vec<PathBuf> = self.cache_dir.canonicalize().into_iter().collect();
        let copied = project::copy_project(&original, &copy, &avoid, project::PROJECT_LIMITS)
            .map_err(|e| match e {
                project::CopyError::TooLarge(what) => not_buildable(SourceError::TooLarge(what)),
                project::CopyError::Io {
                    action,
                    path,
                    source,
                } => BuildError::Io {
                    package: start.subject.display.clone(),
                    action,
                    path,
                    source,
                },
            })?;
        if !project::has_project_file(&copy) {
            // Its pyproject.toml and setup.py were links out of the project.
            return Err(not_buildable(SourceError::NotAProject));
        }
        let mut project = ProjectCopy {
            skipped_links: copied.skipped_links,
            ..ProjectCopy::default()
        };
        if let Some(repo) = &repository {
            project.git_trouble = self.show_repository(repo, &start.root, &top_copy);
            if !matches!(project.git_trouble, Some(GitTrouble::Unavailable(_))) {
                project.git_env = git::environment();
            }
        }
        let mut tree = self.prepare_tree(
            start,
            copy,
            project,
            "get_requires_for_build_sdist",
            installer,
        )?;

        let missing = format!(
            "its backend `{}` has no build_sdist hook",
            tree.hooks.backend
        );
        let kwargs = json!({"sdist_directory": tree.sdist_dir, "config_settings": null});
        let name = self.run_for_file_name(
            &mut tree,
            "build_sdist",
            kwargs,
            missing,
            "the sdist's file name",
        )?;
        let built = checked_output(&tree, &tree.sdist_dir, &name, SDIST_SUFFIXES, false)?;
        let parsed = SdistFilename::parse(&name, None)
            .map_err(|e| wrong_output(&tree, &name, &e.to_string()))?;
        // From here on the backend has named the project.
        tree.subject = Subject::release(&parsed.name, &parsed.version, &name);

        let path = keep_output(&self.cache_dir, "tree-sdists", &tree, &built, &name)?;
        Ok(BuiltSdist {
            path,
            filename: name,
            sandboxed: tree.status.clone(),
            findings: tree.findings(),
        })
    }

    /// Build an editable wheel (PEP 660) of the project in the directory
    /// `project` with its backend's `build_editable` hook.
    ///
    /// Unlike [`Builder::build_sdist_from_tree`], the backend works in the
    /// project directory itself, as an editable install needs (the wheel
    /// points the environment at these sources): the hooks run there with
    /// the same sandbox, except that writes are allowed in the project
    /// directory as well as the build directory (setuptools writes its
    /// `*.egg-info` there). The network stays closed. Nothing is cached: the
    /// wheel reflects the project as it is now.
    ///
    /// A backend without `build_editable` is [`BuildError::HookRun`] saying
    /// so; the wheel it returns must be compatible with the interpreter and
    /// its METADATA must match its file name.
    pub fn build_editable(
        &self,
        project: &Path,
        installer: &dyn BuildEnvInstaller,
    ) -> Result<BuiltEditable, BuildError> {
        let original = project_root(project)?;
        let start = self.start(Subject::project(project, &original))?;
        let in_place = ProjectCopy {
            in_place: true,
            ..ProjectCopy::default()
        };
        let mut tree = self.prepare_tree(
            start,
            original,
            in_place,
            "get_requires_for_build_editable",
            installer,
        )?;
        let missing = format!(
            "its backend `{}` cannot make editable installs (it has no build_editable hook, PEP 660)",
            tree.hooks.backend
        );
        let kwargs = json!({
            "wheel_directory": tree.wheel_dir,
            "config_settings": null,
            "metadata_directory": null,
        });
        let name = self.run_for_file_name(
            &mut tree,
            "build_editable",
            kwargs,
            missing,
            "the wheel's file name",
        )?;
        let path = checked_output(&tree, &tree.wheel_dir, &name, &[".whl"], false)?;
        let filename = WheelFilename::from_str(&name)
            .map_err(|e| wrong_output(&tree, &name, &e.to_string()))?;
        // From here on the backend has named the project.
        tree.subject = Subject::release(&filename.name, &filename.version, &name);
        let bytes = self.fitting_wheel_metadata(&tree, &path, &filename, &name)?;
        let metadata = CoreMetadata::parse(&bytes)
            .map_err(|e| wrong_output(&tree, &name, &format!("its metadata is not valid: {e}")))?;
        if metadata.name != filename.name || metadata.version != filename.version {
            return Err(wrong_output(
                &tree,
                &name,
                &format!(
                    "its metadata says {} {}, not {}",
                    metadata.name, metadata.version, tree.subject.display
                ),
            ));
        }

        let wheel_path = keep_output(&self.cache_dir, "editables", &tree, &path, &name)?;
        Ok(BuiltEditable {
            wheel_path,
            filename,
            metadata,
            sandboxed: tree.status.clone(),
            findings: tree.findings(),
        })
    }

    /// Let the build of the work tree copied to `top_copy` (in the build
    /// directory `root`) read `repo`; what went wrong, if anything.
    fn show_repository(
        &self,
        repo: &git::Repository,
        root: &Path,
        top_copy: &Path,
    ) -> Option<GitTrouble> {
        if let Err(e) = repo.attach(top_copy, &root.join("git")) {
            let _ = std::fs::remove_file(top_copy.join(".git"));
            return Some(GitTrouble::Unavailable(format!(
                "its files in {} could not be copied ({e})",
                repo.git_dir.display()
            )));
        }
        let home = root.join("home");
        if let Err(e) = std::fs::create_dir_all(&home) {
            return Some(GitTrouble::NotSetAside(format!("{}: {e}", home.display())));
        }
        let mut env = vec![
            ("PATH".to_string(), hooks::search_path()),
            ("HOME".to_string(), home.display().to_string()),
            (
                "GIT_CEILING_DIRECTORIES".to_string(),
                root.display().to_string(),
            ),
        ];
        env.extend(git::environment());
        let confinement = self.capabilities().confinement(self.policy);
        let writable = WritableRoots {
            dirs: vec![root.to_path_buf()],
        };
        repo.hide_absent(top_copy, &env, |command| {
            sandbox::confine(command, confinement, &writable, None)
        })
        .err()
        .map(GitTrouble::NotSetAside)
    }

    /// Extract the sdist and prepare its tree.
    fn set_up(&self, sdist: &Sdist, installer: &dyn BuildEnvInstaller) -> Result<Tree, BuildError> {
        let start = self.start(sdist.subject())?;
        let package = start.subject.display.clone();
        let extracted = start.root.join("sdist");
        source::extract(&sdist.path, &sdist.extension, &extracted).map_err(|source| {
            BuildError::Extract {
                package: package.clone(),
                source,
            }
        })?;
        let source_root = source::source_root(&extracted).map_err(|source| BuildError::Source {
            package: package.clone(),
            source,
        })?;
        let source_root =
            source_root
                .canonicalize()
                .map_err(io_error(&package, "resolve", &source_root))?;
        self.prepare_tree(
            start,
            source_root,
            ProjectCopy::default(),
            "get_requires_for_build_wheel",
            installer,
        )
    }

    /// Judge the sandbox for `subject` (refusing the build when the policy
    /// requires what this machine cannot give) and make its build directory.
    fn start(&self, subject: Subject) -> Result<Start, BuildError> {
        let package = &subject.display;
        let status = self.capabilities().status(self.policy);
        let confinement = self.capabilities().confinement(self.policy);
        if let Err(reason) =
            sandbox::judge(self.policy, &status, confinement, &subject.package, package)
        {
            return Err(BuildError::SandboxRequired {
                package: package.clone(),
                reason,
            });
        }
        let builds = self.cache_dir.join("builds");
        std::fs::create_dir_all(&builds).map_err(io_error(package, "create", &builds))?;
        let dir = tempfile::Builder::new()
            .prefix("build-")
            .tempdir_in(&builds)
            .map_err(io_error(package, "create a directory in", &builds))?;
        let root = dir
            .path()
            .canonicalize()
            .map_err(io_error(package, "resolve", dir.path()))?;
        Ok(Start { dir, root, subject })
    }

    /// Read the build system of the tree at `source_root`, create the build
    /// environment, install what the backend needs: `[build-system]
    /// requires`, then what `requires_hook` asks for.
    fn prepare_tree(
        &self,
        start: Start,
        source_root: PathBuf,
        project: ProjectCopy,
        requires_hook: &str,
        installer: &dyn BuildEnvInstaller,
    ) -> Result<Tree, BuildError> {
        let Start { dir, root, subject } = start;
        let package = subject.display.clone();
        let system = source::build_system(&source_root).map_err(|source| BuildError::Source {
            package: package.clone(),
            source,
        })?;
        let venv = root.join("env");
        pyward_install::create_venv(
            &venv,
            &self.interpreter,
            &pyward_install::VenvOptions {
                prompt: Some(format!("build-{}", subject.package.name)),
                ..Default::default()
            },
        )
        .map_err(|e| BuildError::Environment {
            package: package.clone(),
            message: e.to_string(),
        })?;
        let [control, tmp, home, wheel_dir, metadata_dir, sdist_dir] =
            ["control", "tmp", "home", "wheel", "metadata", "sdist-out"].map(|d| root.join(d));
        for d in [&control, &tmp, &home, &wheel_dir, &metadata_dir, &sdist_dir] {
            std::fs::create_dir_all(d).map_err(io_error(&package, "create", d))?;
        }
        // Git run by the build never finds a repository around the build
        // directory (one holding the cache, such as a home directory).
        let mut extra_env = vec![(
            "GIT_CEILING_DIRECTORIES".to_string(),
            root.display().to_string(),
        )];
        extra_env.extend(project.git_env.iter().cloned());
        let mut writable = vec![root.clone()];
        if project.in_place {
            writable.push(source_root.clone());
        }
        let mut tree = Tree {
            hooks: HookContext {
                python: pyward_install::venv_python(&venv),
                venv,
                source: source_root,
                control,
                tmp,
                home,
                backend: system.backend.clone(),
                backend_path: system.backend_path.clone(),
                confinement: self.capabilities().confinement(self.policy),
                writable: WritableRoots { dirs: writable },
                timeout: self.timeout,
                extra_env,
            },
            _dir: dir,
            subject,
            wheel_dir,
            metadata_dir,
            sdist_dir,
            policy: self.policy,
            status: self.capabilities().status(self.policy),
            attempts: Vec::new(),
            project,
            dist_info: None,
        };

        let mut requirements = system.requires.clone();
        if !requirements.is_empty() {
            self.install_requirements(&tree, installer, &requirements)?;
        }
        let run = tree
            .hooks
            .run(requires_hook, json!({"config_settings": null}));
        tree.absorb(&run);
        let extra = match run.answer {
            Ok(Answer::Missing) => Vec::new(),
            Ok(Answer::Value(Value::Array(items))) => items,
            Ok(Answer::Value(other)) => {
                return Err(wrong_output(
                    &tree,
                    &other.to_string(),
                    &format!("{requires_hook} must return a list of requirements"),
                ))
            }
            Err(failure) => return Err(self.hook_error(&tree, requires_hook, failure, &run.log)),
        };
        let mut added = false;
        for item in extra {
            let text = item
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| item.to_string());
            let req = pyward_dist::parse_requirement(&text).map_err(|reason| {
                BuildError::BadRequirement {
                    package: package.clone(),
                    hook: requires_hook.to_string(),
                    requirement: text.clone(),
                    reason,
                    findings: tree.findings(),
                }
            })?;
            if !requirements.contains(&req) {
                requirements.push(req);
                added = true;
            }
        }
        if added {
            self.install_requirements(&tree, installer, &requirements)?;
        }
        Ok(tree)
    }

    fn install_requirements(
        &self,
        tree: &Tree,
        installer: &dyn BuildEnvInstaller,
        requirements: &[Requirement],
    ) -> Result<(), BuildError> {
        installer
            .install(&tree.hooks.venv, requirements)
            .map_err(|message| BuildError::BuildRequirements {
                package: tree.subject.display.clone(),
                requirements: requirements
                    .iter()
                    .map(|r| r.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                message,
                findings: tree.findings(),
            })
    }

    /// Run `build_wheel` in a prepared tree and move the wheel into the cache.
    fn build_in(&self, sdist: &Sdist, tree: &mut Tree) -> Result<BuildOutcome, BuildError> {
        let sha = sdist.checked_sha256()?;
        let missing = format!(
            "its backend `{}` has no build_wheel hook",
            tree.hooks.backend
        );
        let kwargs = json!({
            "wheel_directory": tree.wheel_dir,
            "config_settings": null,
            "metadata_directory": tree.dist_info,
        });
        let name = self.run_for_file_name(
            tree,
            "build_wheel",
            kwargs,
            missing,
            "the wheel's file name",
        )?;
        let path = checked_output(tree, &tree.wheel_dir, &name, &[".whl"], false)?;
        let filename = WheelFilename::from_str(&name)
            .map_err(|e| wrong_output(tree, &name, &e.to_string()))?;
        if filename.name != sdist.name || filename.version != sdist.version {
            return Err(wrong_output(
                tree,
                &name,
                &format!(
                    "it is {} {}, not {}",
                    filename.name, filename.version, tree.subject.display
                ),
            ));
        }
        let bytes = self.fitting_wheel_metadata(tree, &path, &filename, &name)?;
        let metadata = checked_metadata(tree, sdist, &name, &bytes)?;
        let declared = match &tree.dist_info {
            Some(dir) => read_limited(&dir.join("METADATA"), MAX_METADATA)
                .ok()
                .and_then(|b| CoreMetadata::parse(&b).ok()),
            None => self
                .cache
                .prepared_metadata(sha, &self.interpreter_key)
                .map(|(m, _)| m),
        };
        if let Some(declared) = declared {
            if let Some(field) = metadata_difference(&declared, &metadata) {
                return Err(wrong_output(
                    tree,
                    &name,
                    &format!("its {field} differs from the metadata the build reported before"),
                ));
            }
        }
        let findings = tree.findings();
        let record = BuildRecord {
            sandbox: tree.status.clone(),
            findings: findings.clone(),
        };
        let wheel_path = self
            .cache
            .store_wheel(
                sha,
                &self.interpreter_key,
                &path,
                &filename,
                &bytes,
                &record,
            )
            .map_err(|source| BuildError::Io {
                package: tree.subject.display.clone(),
                action: "move the built wheel into",
                path: self.cache.entry(sha, &self.interpreter_key),
                source,
            })?;
        Ok(BuildOutcome {
            wheel_path,
            filename,
            metadata,
            from_cache: false,
            sandboxed: tree.status.clone(),
            findings,
        })
    }

    /// Run `hook`, which builds a file and answers with its name; a
    /// backend without the hook is an error saying `missing`.
    fn run_for_file_name(
        &self,
        tree: &mut Tree,
        hook: &str,
        kwargs: Value,
        missing: String,
        returns: &str,
    ) -> Result<String, BuildError> {
        let run = tree.hooks.run(hook, kwargs);
        tree.absorb(&run);
        match run.answer {
            Ok(Answer::Value(Value::String(name))) => Ok(name),
            Ok(Answer::Missing) => Err(BuildError::HookRun {
                package: tree.subject.display.clone(),
                hook: hook.to_string(),
                message: missing,
                findings: tree.findings(),
            }),
            Ok(Answer::Value(other)) => Err(wrong_output(
                tree,
                &other.to_string(),
                &format!("{hook} must return {returns}"),
            )),
            Err(failure) => Err(self.hook_error(tree, hook, failure, &run.log)),
        }
    }

    /// The METADATA of a wheel a hook built, once its tags are known to fit
    /// the interpreter.
    fn fitting_wheel_metadata(
        &self,
        tree: &Tree,
        path: &Path,
        filename: &WheelFilename,
        name: &str,
    ) -> Result<Vec<u8>, BuildError> {
        if !Tags::from_interpreter(&self.interpreter).is_compatible(filename) {
            return Err(wrong_output(
                tree,
                name,
                &format!(
                    "its tags do not fit the interpreter {}",
                    self.interpreter.executable.display()
                ),
            ));
        }
        pyward_archive::read_wheel_metadata(path)
            .map_err(|e| wrong_output(tree, name, &e.to_string()))
    }

    fn hook_error(&self, tree: &Tree, hook: &str, failure: HookFailure, log: &Path) -> BuildError {
        let package = tree.subject.display.clone();
        let hook = hook.to_string();
        let findings = tree.findings();
        match failure {
            HookFailure::Spawn(message) | HookFailure::BadAnswer(message) => BuildError::HookRun {
                package,
                hook,
                message,
                findings,
            },
            HookFailure::BackendUnavailable(message) => BuildError::BackendUnavailable {
                package,
                backend: tree.hooks.backend.clone(),
                message,
                output_tail: hooks::tail(log),
                findings,
            },
            HookFailure::BackendInvalid(message) => BuildError::BackendInvalid {
                package,
                message,
                findings,
            },
            HookFailure::Failed { status, tail } => BuildError::HookFailed {
                log: self.keep_log(&tree.subject, &hook, log),
                package,
                hook,
                status,
                output_tail: tail,
                findings,
            },
            HookFailure::TimedOut(after) => BuildError::TimedOut {
                package,
                hook,
                after,
                findings,
            },
        }
    }

    /// Copy a failed hook's log where the user can read it after the build
    /// directory is gone.
    fn keep_log(&self, subject: &Subject, hook: &str, log: &Path) -> Option<PathBuf> {
        let dir = self.cache_dir.join("build-logs");
        std::fs::create_dir_all(&dir).ok()?;
        let dest = dir.join(format!("{}-{hook}.log", subject.log_stem));
        std::fs::copy(log, &dest).ok()?;
        Some(dest)
    }
}

/// The resolved path of the project directory `tree`, or why it cannot be
/// built: missing, not a directory, or without `pyproject.toml` and
/// `setup.py`.
fn project_root(tree: &Path) -> Result<PathBuf, BuildError> {
    let given = tree.display().to_string();
    let not_buildable = |source| BuildError::Source {
        package: given.clone(),
        source,
    };
    let meta = match std::fs::metadata(tree) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(not_buildable(SourceError::NotFound))
        }
        Err(e) => return Err(io_error(&given, "read", tree)(e)),
    };
    if !meta.is_dir() {
        return Err(not_buildable(SourceError::NotADirectory));
    }
    if !project::has_project_file(tree) {
        return Err(not_buildable(SourceError::NotAProject));
    }
    tree.canonicalize()
        .map_err(io_error(&given, "resolve", tree))
}

/// Move a build's output `built` (a file named `name`) into a directory of
/// its own under `<cache>/kept`, where it stays until the caller removes it.
fn keep_output(
    cache_dir: &Path,
    kept: &str,
    tree: &Tree,
    built: &Path,
    name: &str,
) -> Result<PathBuf, BuildError> {
    let kept = cache_dir.join(kept);
    let package = tree.subject.display.clone();
    std::fs::create_dir_all(&kept).map_err(io_error(&package, "create", &kept))?;
    let home = tempfile::Builder::new()
        .prefix("output-")
        .tempdir_in(&kept)
        .map_err(io_error(&package, "create a directory in", &kept))?;
    let path = home.path().join(name);
    std::fs::rename(built, &path).map_err(io_error(
        &package,
        "move the build's output to",
        &path,
    ))?;
    let _ = home.keep();
    Ok(path)
}

/// A file or directory a hook says it made: one plain name with one of the
/// expected suffixes, really inside `dir`, not a symbolic link.
fn checked_output(
    tree: &Tree,
    dir: &Path,
    name: &str,
    suffixes: &[&str],
    is_dir: bool,
) -> Result<PathBuf, BuildError> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && !name.contains(['/', '\\', '\0'])
        && suffixes.iter().any(|s| name.ends_with(s));
    if !plain {
        let wanted: Vec<String> = suffixes.iter().map(|s| format!("`*{s}`")).collect();
        return Err(wrong_output(
            tree,
            name,
            &format!("it is not a plain {} name", wanted.join(" or ")),
        ));
    }
    let path = dir.join(name);
    let kind = std::fs::symlink_metadata(&path)
        .map_err(|_| wrong_output(tree, name, "the build did not create it"))?
        .file_type();
    if (is_dir && !kind.is_dir()) || (!is_dir && !kind.is_file()) {
        return Err(wrong_output(
            tree,
            name,
            if is_dir {
                "it is not a directory"
            } else {
                "it is not a regular file"
            },
        ));
    }
    Ok(path)
}

/// Parse metadata a build produced; it must name the sdist's project and version.
fn checked_metadata(
    tree: &Tree,
    sdist: &Sdist,
    what: &str,
    bytes: &[u8],
) -> Result<CoreMetadata, BuildError> {
    let metadata = CoreMetadata::parse(bytes)
        .map_err(|e| wrong_output(tree, what, &format!("its metadata is not valid: {e}")))?;
    if metadata.name != sdist.name || metadata.version != sdist.version {
        return Err(wrong_output(
            tree,
            what,
            &format!(
                "its metadata says {} {}, not {}",
                metadata.name, metadata.version, tree.subject.display
            ),
        ));
    }
    Ok(metadata)
}

fn wrong_output(tree: &Tree, found: &str, reason: &str) -> BuildError {
    BuildError::WrongOutput {
        package: tree.subject.display.clone(),
        found: found.chars().take(200).collect(),
        reason: reason.to_string(),
        findings: tree.findings(),
    }
}

/// The first field in which two metadata documents of one build disagree.
fn metadata_difference(a: &CoreMetadata, b: &CoreMetadata) -> Option<&'static str> {
    let reqs = |m: &CoreMetadata| {
        let mut v: Vec<String> = m.requires_dist.iter().map(|r| r.to_string()).collect();
        v.sort();
        v
    };
    let extras = |m: &CoreMetadata| {
        let mut v: Vec<String> = m.provides_extra.iter().map(|e| e.to_string()).collect();
        v.sort();
        v
    };
    if a.name != b.name || a.version != b.version {
        Some("name or version")
    } else if reqs(a) != reqs(b) {
        Some("Requires-Dist")
    } else if a.requires_python != b.requires_python {
        Some("Requires-Python")
    } else if extras(a) != extras(b) {
        Some("Provides-Extra")
    } else {
        None
    }
}

fn read_limited(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(std::io::Error::other(format!("larger than {limit} bytes")));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_can_be_shared_across_blocking_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Builder>();
    }

    #[test]
    fn sdists_need_a_real_sha256() {
        let sdist = Sdist::new("/x/foo-1.0.tar.gz", "foo-1.0.tar.gz", None, "abc").unwrap();
        assert!(matches!(
            sdist.checked_sha256(),
            Err(BuildError::InvalidSha256 { .. })
        ));
        let sdist = Sdist::new("/x", "foo-1.0.tar.gz", None, &"A".repeat(64)).unwrap();
        assert_eq!(sdist.checked_sha256().unwrap(), "a".repeat(64));
        assert!(matches!(
            Sdist::new("/x", "foo.exe", None, &"a".repeat(64)),
            Err(BuildError::InvalidFilename { .. })
        ));
    }
}
