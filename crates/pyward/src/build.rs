//! Building from source for `pyward install`: which packages may be built
//! (`--no-build`, `--only-binary`, `--no-binary`, `build-allow`), the sandbox
//! policy (`sandbox`), the metadata of sdists during resolution, build
//! environments filled by pyward's own checks (resolved from wheels,
//! sha256-verified, audited, scanned, tamper memory), and build failures as
//! messages. An sdist is audited, verified and scanned before any of its
//! code runs, also when its metadata is needed during resolution.
//!
//! Everything here that builds or installs blocks; it runs on the solver's
//! blocking thread or on one of `spawn_blocking`, and reaches the async
//! index client through [`Handle::block_on`].

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pyward_build::{
    BuildEnvInstaller, BuildError, BuildOutcome, Builder, SandboxPolicy, SandboxStatus, Sdist,
    SourceBuilds,
};
use pyward_dist::{
    CoreMetadata, DistFilename, InterpreterInfo, PackageName, Requirement, Version, WheelFilename,
};
use pyward_guard::integrity::{self, Expectation, Observed, Verified};
use pyward_guard::{Check, Decision, Finding, HashSource, PackageRef, Policy};
use pyward_index::{DistFile, IndexClient, IndexUrl};
use pyward_install::{ArchiveOrigin, Environment, InstallItem, InstallOptions, InstalledDist};
use pyward_resolve::{ResolveError, ResolveInput, ResolveOptions, ResolvedSource, SdistMetadata};
use tokio::runtime::Handle;

use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult, ExitKind};
use crate::guards;
use crate::guards::memory::FileMemory;
use crate::guards::scan::Artifact;
use crate::output::{human_duration, plural, Printer};
use crate::pipeline::{self, HashPin};

/// Which packages may be built from source in this run, and how.
#[derive(Debug, Clone, Default)]
pub struct BuildSettings {
    rules: SourceBuilds,
    no_binary_all: bool,
    no_binary: BTreeSet<PackageName>,
    sandbox: SandboxPolicy,
    /// Where `build-allow` was read from, for messages.
    config_file: Option<PathBuf>,
    /// Check sdists against their hashes before building (`verify-hashes`).
    pub verify_hashes: bool,
    /// `--hash` pins of the requirements, checked before an sdist is built.
    pub pinned: HashMap<PackageName, HashPin>,
    /// The release cooldown also applies to build requirements.
    pub exclude_newer: Option<String>,
}

impl BuildSettings {
    /// From the flags of `pyward install` and the configuration.
    pub fn new(
        no_build: bool,
        only_binary: &[String],
        no_binary: &[String],
        config: &Config,
    ) -> CliResult<BuildSettings> {
        let mut settings = BuildSettings {
            sandbox: match &config.sandbox {
                Some(s) => SandboxPolicy::from_str(s).map_err(CliError::input)?,
                None => SandboxPolicy::Prefer,
            },
            config_file: config.file.clone(),
            verify_hashes: true,
            ..BuildSettings::default()
        };
        settings.rules.no_build = no_build;
        for value in only_binary {
            settings
                .rules
                .add_only_binary(value)
                .map_err(CliError::input)?;
        }
        if !config.build_allow.is_empty() {
            let mut allowed = BTreeSet::new();
            for name in &config.build_allow {
                allowed.insert(PackageName::from_str(name).map_err(|e| {
                    CliError::input(format!("build-allow: `{name}` is not a package name: {e}"))
                })?);
            }
            settings.rules.allowed = Some(allowed);
        }
        for value in no_binary {
            for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                match part {
                    ":all:" => settings.no_binary_all = true,
                    ":none:" => {
                        settings.no_binary_all = false;
                        settings.no_binary.clear();
                    }
                    name => {
                        let name = PackageName::from_str(name)
                            .map_err(|e| CliError::input(format!("--no-binary {name}: {e}")))?;
                        settings.no_binary.insert(name);
                    }
                }
            }
        }
        for name in &settings.no_binary {
            if let Some(reason) = settings.refusal(name) {
                return Err(CliError::input(format!(
                    "--no-binary {name} asks to build {name} from source, but {reason}"
                )));
            }
        }
        if settings.no_binary_all && settings.rules.no_build {
            return Err(CliError::input(
                "--no-binary :all: asks to build everything from source, but --no-build forbids it",
            ));
        }
        Ok(settings)
    }

    /// Why `name` may not be built from source, as a clause that follows
    /// "and"; `None` when it may.
    pub fn refusal(&self, name: &PackageName) -> Option<String> {
        if self.rules.no_build {
            return Some("--no-build forbids building from source".into());
        }
        if self.rules.only_binary_all || self.rules.only_binary.contains(name) {
            return Some("--only-binary forbids building it from source".into());
        }
        match &self.rules.allowed {
            Some(allowed) if !allowed.contains(name) => Some(format!(
                "build-allow in {} does not list it",
                self.config_file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| "your configuration".into())
            )),
            _ => None,
        }
    }

    fn source_only(&self, name: &PackageName) -> bool {
        (self.no_binary_all || self.no_binary.contains(name)) && self.refusal(name).is_none()
    }
}

/// Why a build stopped during resolution.
enum Failure {
    /// Findings the policy blocks, found before any code of the sdist ran.
    Refused(Vec<Finding>),
    /// The build itself failed.
    Build(BuildError),
}

/// What the caller does with a resolution that a build stopped.
pub enum Stopped {
    /// Refused by policy: show these findings the way every refusal is shown.
    Refused(Vec<Finding>),
    /// Show this error (the findings that explain it were printed).
    Error(CliError),
}

/// Builds from source for one run: the sdist metadata hook of the resolver,
/// the installer of build environments, and the builds at install time.
pub struct Builds {
    settings: BuildSettings,
    builder: Builder,
    client: IndexClient,
    handle: Handle,
    /// The run's context, with a printer that stays quiet: build
    /// environments are installed without status lines.
    quiet: Context,
    config: Config,
    policy: Policy,
    failure: Mutex<Option<Failure>>,
    /// Findings about build requirements (known malware, a changed file).
    env_findings: Mutex<Vec<Finding>>,
    /// Findings of building project directories into sdists.
    tree_findings: Mutex<Vec<Finding>>,
    /// Whether a project directory's backend ran (`build_sdist`).
    tree_code_ran: AtomicBool,
    announced: AtomicBool,
    /// Sdists (by sha256) built or prepared in this run, and the time spent building.
    fresh: Mutex<HashSet<String>>,
    build_time: Mutex<Duration>,
    /// Files downloaded for builds (sdists, build requirements) and their bytes.
    downloaded_files: AtomicU64,
    downloaded_bytes: AtomicU64,
}

impl Builds {
    pub fn new(
        ctx: &Context,
        interpreter: &InterpreterInfo,
        client: &IndexClient,
        config: &Config,
        policy: &Policy,
        settings: BuildSettings,
    ) -> Builds {
        // Built wheels go to `built-wheels-v1/`, next to the other caches.
        let builder = Builder::new(interpreter.clone(), &ctx.cache.root, settings.sandbox);
        Builds {
            settings,
            builder,
            client: client.clone(),
            handle: Handle::current(),
            quiet: Context {
                printer: Printer::new(true, 0, false, true),
                cache: ctx.cache.clone(),
                data_dir: ctx.data_dir.clone(),
                offline: ctx.offline,
                cancel: Arc::new(AtomicBool::new(false)),
                changing: Arc::new(AtomicBool::new(false)),
            },
            config: config.clone(),
            policy: policy.clone(),
            failure: Mutex::new(None),
            env_findings: Mutex::new(Vec::new()),
            tree_findings: Mutex::new(Vec::new()),
            tree_code_ran: AtomicBool::new(false),
            announced: AtomicBool::new(false),
            fresh: Mutex::new(HashSet::new()),
            build_time: Mutex::new(Duration::ZERO),
            downloaded_files: AtomicU64::new(0),
            downloaded_bytes: AtomicU64::new(0),
        }
    }

    /// Time spent building in this run (metadata and wheels).
    pub fn build_time(&self) -> Duration {
        *self.build_time.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record_build(&self, sha256: &str, took: Duration) {
        *self.build_time.lock().unwrap_or_else(|e| e.into_inner()) += took;
        self.fresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(sha256.to_string());
    }

    /// Files and bytes downloaded for builds so far.
    pub fn downloaded(&self) -> (u64, u64) {
        (
            self.downloaded_files.load(Ordering::Relaxed),
            self.downloaded_bytes.load(Ordering::Relaxed),
        )
    }

    /// Say once, before the first build matters, when builds are not fully sandboxed.
    pub fn announce_sandbox(&self, printer: &Printer) {
        if self.announced.swap(true, Ordering::SeqCst) {
            return;
        }
        let status = self.builder.sandbox_status();
        if status != SandboxStatus::Full {
            printer.important(format!("! Builds from source are {status}"));
        }
    }

    /// Build the verified sdist `archive` of a pin (or take the wheel built
    /// before this run: `from_cache`); a failure is explained on `printer`
    /// and returned as the error.
    pub async fn build(
        self: &Arc<Self>,
        printer: &Printer,
        name: &PackageName,
        filename: &str,
        archive: &Path,
        sha256: &str,
    ) -> Result<BuildOutcome, CliError> {
        if let Some(reason) = self.settings.refusal(name) {
            return Err(CliError::refused(format!(
                "{filename} would need building from source, and {reason}"
            )));
        }
        let sdist = Sdist::new(archive, filename, Some(name), sha256)
            .map_err(|e| CliError::input(e.to_string()))?;
        let this = self.clone();
        let started = Instant::now();
        let mut outcome = tokio::task::spawn_blocking(move || {
            this.builder.build_wheel(&sdist, &*this).map_err(Box::new)
        })
        .await
        .map_err(|e| CliError::failed(e.to_string()))?
        .map_err(|e| self.build_failed(*e, printer))?;
        if !outcome.from_cache {
            self.record_build(sha256, started.elapsed());
        } else if self
            .fresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(sha256)
        {
            // Built while resolving (the backend could not prepare metadata alone).
            outcome.from_cache = false;
        }
        Ok(outcome)
    }

    /// Print the findings that explain a failed build and turn it into the
    /// error to show.
    fn build_failed(&self, err: BuildError, printer: &Printer) -> CliError {
        let mut findings = err.findings().to_vec();
        findings.extend(self.take_env_findings());
        let mut message = err.to_string();
        if let Some(tail) = err.output_tail() {
            message.push('\n');
            message.push_str(&pipeline::indent(tail.trim_end()));
        }
        let blocked = findings
            .iter()
            .any(|f| self.policy.decide_unattended(f) == Decision::Block);
        let kind = if blocked || matches!(err, BuildError::SandboxRequired { .. }) {
            ExitKind::Refused
        } else {
            ExitKind::Failed
        };
        let mut error = CliError::new(kind, message);
        for advice in err.advice() {
            error = error.hint(advice);
        }
        printer.findings(&findings, &self.policy, Decision::Warn);
        error.hint("Nothing was installed; your environment is unchanged.")
    }

    fn take_env_findings(&self) -> Vec<Finding> {
        std::mem::take(&mut *self.env_findings.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// After a failed resolution: whether a build stopped it, and how to say so.
    pub fn stopped(&self, err: CliError, printer: &Printer) -> Stopped {
        let failure = self
            .failure
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        match failure {
            None => Stopped::Error(err),
            Some(Failure::Refused(findings)) => Stopped::Refused(findings),
            Some(Failure::Build(build)) => {
                self.announce_sandbox(printer);
                Stopped::Error(self.build_failed(build, printer))
            }
        }
    }

    fn stop(&self, failure: Failure) {
        let mut slot = self.failure.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(failure);
        }
    }

    /// Findings of `packages` that the policy blocks (known malware first of
    /// all); vulnerabilities count only when `with_vulnerabilities`.
    fn blocked_by_audit(
        &self,
        packages: &[(PackageName, Version)],
        with_vulnerabilities: bool,
    ) -> Vec<Finding> {
        let audit =
            guards::vulnerabilities::check(&self.quiet, packages, &self.config, &self.policy);
        audit
            .findings
            .into_iter()
            .filter(|f| with_vulnerabilities || f.check != Check::Vulnerability)
            .filter(|f| self.policy.decide_unattended(f) == Decision::Block)
            .collect()
    }

    /// Findings of the code scan of `artifacts` that the policy blocks.
    fn blocked_by_scan(&self, artifacts: Vec<Artifact>) -> Vec<Finding> {
        let (findings, _) =
            self.handle
                .block_on(guards::scan::check(&self.quiet, artifacts, &self.policy));
        findings
            .into_iter()
            .filter(|f| self.policy.decide_unattended(f) == Decision::Block)
            .collect()
    }

    /// Refuse build requirements for `blocked` findings (kept to be shown
    /// with the build error).
    fn refuse_requirements(&self, blocked: Vec<Finding>) -> Result<(), String> {
        let Some(first) = blocked.first() else {
            return Ok(());
        };
        let message = format!(
            "{} {} was refused: {}",
            first.package.name,
            first.package.version.as_deref().unwrap_or(""),
            first.title
        );
        self.env_findings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(blocked);
        Err(message)
    }

    /// Download `file` into the archive cache unless it is there, checked
    /// like every install checks its files; returns the archive, its sha256
    /// and size, or why not with the findings that block it.
    fn fetch_checked(
        &self,
        package: &PackageRef,
        file: &DistFile,
        index: &str,
        pinned: Option<&HashPin>,
    ) -> Result<(PathBuf, String, u64), (String, Vec<Finding>)> {
        let archives = self.quiet.cache.archives();
        let index_sha = file.hashes.sha256.as_ref().map(|h| h.to_ascii_lowercase());
        let memory = FileMemory::open(&self.quiet);
        if let Some(h) = &index_sha {
            if let Some(f) = memory.check(
                index,
                package,
                &file.filename,
                h,
                file.size,
                file.url.as_str(),
            ) {
                return Err((f.title.clone(), vec![f]));
            }
        }
        let cached = index_sha
            .as_ref()
            .map(|h| archives.join(h))
            .filter(|p| p.is_file());
        let (path, sha256, size, downloaded) = match (cached, &index_sha) {
            (Some(path), Some(h)) => (path, h.clone(), file.size.unwrap_or(0), false),
            _ => {
                let plain = |e: String| (e, Vec::new());
                fs_err::create_dir_all(&archives).map_err(|e| plain(e.to_string()))?;
                let tmp = archives.join(format!(".download-{}", file.filename));
                let got = self
                    .handle
                    .block_on(self.client.download(&file.url, &tmp, |_| {}, file.size))
                    .map_err(|e| plain(format!("downloading {}: {e}", file.filename)))?;
                self.downloaded_files.fetch_add(1, Ordering::Relaxed);
                self.downloaded_bytes.fetch_add(got.size, Ordering::Relaxed);
                let dest = archives.join(&got.sha256);
                fs_err::rename(&tmp, &dest).map_err(|e| plain(e.to_string()))?;
                (dest, got.sha256, got.size, true)
            }
        };
        if self.settings.verify_hashes {
            let mut expectations = Vec::new();
            if let Some((hashes, source)) = pinned {
                expectations.push(Expectation {
                    sha256: hashes.clone(),
                    source: source.clone(),
                });
            }
            if let Some(h) = &index_sha {
                expectations.push(Expectation {
                    sha256: vec![h.clone()],
                    source: HashSource::Index {
                        url: format!("{index}{}/", package.name),
                    },
                });
            }
            let observed = Observed {
                package: package.clone(),
                sha256: sha256.clone(),
                size,
                url: file.url.to_string(),
            };
            if let (Verified::Mismatch, Some(f)) = integrity::verify(&observed, &expectations) {
                if downloaded {
                    let _ = fs_err::remove_file(&path);
                }
                return Err((f.title.clone(), vec![f]));
            }
        }
        Ok((path, sha256, size))
    }
}

impl Builds {
    /// The metadata of an sdist the user gave as a file or URL: audited by
    /// its name and version and scanned before any of its code runs, then
    /// prepared in the sandbox like any sdist of the index.
    fn local_metadata(&self, local: &pipeline::LocalSdist) -> Result<CoreMetadata, String> {
        let (name, version) = (&local.parsed.name, &local.parsed.version);
        if let Some(reason) = self.settings.refusal(name) {
            return Err(format!(
                "{} needs building from source, and {reason}",
                local.display
            ));
        }
        self.refuse_if_audit_blocks(name, version)?;
        self.scan_and_prepare(Sdist::from_parsed(
            &local.path,
            &local.filename,
            local.parsed.clone(),
            &local.sha256,
        ))
    }

    /// Known malware (or anything else the policy blocks) for `name`
    /// `version` stops here, before its sdist is fetched or any code runs.
    fn refuse_if_audit_blocks(&self, name: &PackageName, version: &Version) -> Result<(), String> {
        let blocked = self.blocked_by_audit(&[(name.clone(), version.clone())], true);
        match blocked.first() {
            Some(first) => {
                let message = format!("{name} {version} was not built: {}", first.title);
                self.stop(Failure::Refused(blocked));
                Err(message)
            }
            None => Ok(()),
        }
    }

    /// The code scan sees a verified sdist before any of its code runs; then
    /// its metadata is prepared in the sandbox.
    fn scan_and_prepare(&self, sdist: Sdist) -> Result<CoreMetadata, String> {
        let blocked = self.blocked_by_scan(vec![Artifact {
            path: sdist.path.clone(),
            sha256: sdist.sha256.clone(),
            name: sdist.name.clone(),
            version: sdist.version.clone(),
            sdist: true,
        }]);
        if let Some(first) = blocked.first() {
            let message = format!(
                "{} {} was not built: {}",
                sdist.name, sdist.version, first.title
            );
            self.stop(Failure::Refused(blocked));
            return Err(message);
        }
        let started = Instant::now();
        match self.builder.prepare_metadata(&sdist, self) {
            Ok(prepared) => {
                if !prepared.from_cache {
                    self.record_build(&sdist.sha256, started.elapsed());
                }
                Ok(prepared.metadata)
            }
            Err(e) => {
                let message = e.to_string();
                self.stop(Failure::Build(e));
                Err(message)
            }
        }
    }
}

impl Builds {
    /// The sdist of a project directory, built by its backend in the
    /// sandbox on a copy of the directory, and kept in the archive cache
    /// under its sha256.
    fn sdist_of_tree(&self, tree: &pipeline::LocalTree) -> Result<pipeline::LocalSdist, String> {
        self.tree_code_ran.store(true, Ordering::SeqCst);
        let built = self
            .builder
            .build_sdist_from_tree(&tree.path, self)
            .map_err(|e| {
                let message = e.to_string();
                self.stop(Failure::Build(e));
                message
            })?;
        self.tree_findings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(built.findings.iter().cloned());
        let (sha256, size) = pipeline::sha256_file(&built.path).map_err(|e| e.to_string())?;
        let archives = self.quiet.cache.archives();
        fs_err::create_dir_all(&archives).map_err(|e| e.to_string())?;
        let path = archives.join(&sha256);
        fs_err::rename(&built.path, &path).map_err(|e| e.to_string())?;
        if let Some(dir) = built.path.parent() {
            let _ = fs_err::remove_dir(dir);
        }
        let parsed = pyward_dist::SdistFilename::parse(&built.filename, None)
            .map_err(|e| format!("{}: {e}", built.filename))?;
        Ok(pipeline::LocalSdist {
            path,
            url: None,
            display: format!(
                "{} (the project in {})",
                built.filename,
                tree.path.display()
            ),
            filename: built.filename,
            parsed,
            sha256,
            size,
            directory: Some(tree.path.clone()),
        })
    }

    /// The editable wheel (PEP 660) of a project directory, built by its
    /// backend in the sandbox, in place; it is the user's own working copy,
    /// so its hash is not checked against anything (there is nothing to
    /// compare with), but the wheel is code-scanned like any other before
    /// it is installed.
    fn editable_of_tree(&self, tree: &pipeline::LocalTree) -> Result<pipeline::LocalDist, String> {
        self.tree_code_ran.store(true, Ordering::SeqCst);
        let built = self.builder.build_editable(&tree.path, self).map_err(|e| {
            let message = e.to_string();
            self.stop(Failure::Build(e));
            message
        })?;
        self.tree_findings
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(built.findings.iter().cloned());
        let (sha256, size) = pipeline::sha256_file(&built.wheel_path).map_err(|e| e.to_string())?;
        Ok(pipeline::LocalDist {
            path: built.wheel_path,
            url: None,
            filename: built.filename.to_string(),
            sdist: false,
            directory: Some(tree.path.clone()),
            editable: true,
            sha256,
            size,
            metadata: built.metadata,
        })
    }

    /// Whether the build backend of a project directory ran in this run
    /// (so "no code ran" can no longer be said).
    pub fn project_code_ran(&self) -> bool {
        self.tree_code_ran.load(Ordering::SeqCst)
    }

    /// Notices from building project directories into sdists (links left
    /// out of the copy, network attempts), to show with the install.
    pub fn take_tree_findings(&self) -> Vec<Finding> {
        std::mem::take(&mut *self.tree_findings.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Builds for commands that resolve without installing (`lock`, `audit`):
/// sdists are built (sandboxed, after audit and scan) only to learn their
/// metadata, under the configuration's rules.
pub fn for_resolution(
    ctx: &Context,
    interpreter: &InterpreterInfo,
    client: &IndexClient,
    config: &Config,
) -> CliResult<Arc<Builds>> {
    let settings = BuildSettings::new(false, &[], &[], config)?;
    let policy = config.policy(None, &[], &[]);
    Ok(Arc::new(Builds::new(
        ctx,
        interpreter,
        client,
        config,
        &policy,
        settings,
    )))
}

/// What a project directory was built into (built once per directory, so
/// the sizes of the two do not matter).
#[allow(clippy::large_enum_variant)]
enum FromTree {
    Editable(pipeline::LocalDist),
    Sdist(pipeline::LocalSdist),
}

/// Learn the metadata of the sdists given as files or URLs (they become
/// fixed inputs of the resolution, like given wheels). On failure the error
/// is what `Builds::stopped` makes of it.
pub async fn prepare_local_sdists(
    ctx: &Context,
    inputs: &mut pipeline::Inputs,
    builds: &Arc<Builds>,
) -> CliResult<()> {
    // A project directory becomes an sdist first (its backend's
    // `build_sdist`, sandboxed, on a copy); then it is an sdist like any
    // other. An editable one becomes its PEP 660 wheel.
    for tree in std::mem::take(&mut inputs.local_trees) {
        builds.announce_sandbox(&ctx.printer);
        let label = if tree.pending.editable {
            format!("Building an editable install of {}", tree.path.display())
        } else {
            format!("Preparing the project in {}", tree.path.display())
        };
        let spinner = crate::commands::spinner(ctx, &label);
        let this = builds.clone();
        let (built, tree) = tokio::task::spawn_blocking(move || {
            // Editable: a wheel pointing at the project (PEP 660), ready to
            // install; else an sdist, prepared and built like any other.
            let built = if tree.pending.editable {
                this.editable_of_tree(&tree).map(FromTree::Editable)
            } else {
                this.sdist_of_tree(&tree).map(FromTree::Sdist)
            };
            (built, tree)
        })
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
        drop(spinner);
        let built = built.map_err(CliError::failed)?;
        let (name, version) = match &built {
            FromTree::Editable(wheel) => (&wheel.metadata.name, &wheel.metadata.version),
            FromTree::Sdist(sdist) => (&sdist.parsed.name, &sdist.parsed.version),
        };
        if let Some(named) = &tree.pending.name {
            if named != name {
                return Err(CliError::input(format!(
                    "the project in {} is {name}, not {named}",
                    tree.path.display(),
                )));
            }
        }
        inputs.require_exactly(&tree.pending, name, version)?;
        match built {
            FromTree::Editable(wheel) => inputs.local.push(wheel),
            FromTree::Sdist(sdist) => inputs.local_sdists.push(sdist),
        }
    }
    for local in std::mem::take(&mut inputs.local_sdists) {
        builds.announce_sandbox(&ctx.printer);
        let spinner = crate::commands::spinner(ctx, &format!("Preparing {}", local.filename));
        let this = builds.clone();
        let (metadata, local) = tokio::task::spawn_blocking(move || {
            let metadata = this.local_metadata(&local);
            (metadata, local)
        })
        .await
        .map_err(|e| CliError::failed(e.to_string()))?;
        drop(spinner);
        let metadata = metadata.map_err(CliError::failed)?;
        inputs.local.push(pipeline::LocalDist {
            path: local.path,
            url: local.url,
            filename: local.filename,
            sdist: true,
            directory: local.directory,
            editable: false,
            sha256: local.sha256,
            size: local.size,
            metadata,
        });
    }
    Ok(())
}

/// For commands that do not install: a build that stopped a resolution, as
/// an error (its blocking findings printed first).
pub fn resolution_error(
    ctx: &Context,
    builds: &Builds,
    err: CliError,
    policy: &Policy,
) -> CliError {
    match builds.stopped(err, &ctx.printer) {
        Stopped::Refused(findings) => {
            ctx.printer.findings(&findings, policy, Decision::Block);
            CliError::refused("a package was refused before any of its code ran")
        }
        Stopped::Error(e) => e,
    }
}

impl SdistMetadata for Builds {
    fn may_build(&self, name: &PackageName) -> Result<(), String> {
        match self.settings.refusal(name) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    fn source_only(&self, name: &PackageName) -> bool {
        self.settings.source_only(name)
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
        file: &DistFile,
        index: &IndexUrl,
    ) -> Result<CoreMetadata, String> {
        self.refuse_if_audit_blocks(name, version)?;
        let package = PackageRef::new(
            name.to_string(),
            Some(version.to_string()),
            Some(file.filename.clone()),
        );
        let (path, sha256, _) = self
            .fetch_checked(
                &package,
                file,
                &index.to_string(),
                self.settings.pinned.get(name),
            )
            .map_err(|(message, findings)| {
                if !findings.is_empty() {
                    self.stop(Failure::Refused(findings));
                }
                message
            })?;
        let sdist = Sdist::new(&path, &file.filename, Some(name), &sha256).map_err(|e| {
            let message = e.to_string();
            self.stop(Failure::Build(e));
            message
        })?;
        self.scan_and_prepare(sdist)
    }
}

impl BuildEnvInstaller for Builds {
    /// Resolve `requirements` from wheels only (a build never starts another
    /// build), audit them, download and verify each wheel, and install them
    /// into the build environment at `venv`.
    fn install(&self, venv: &Path, requirements: &[Requirement]) -> Result<(), String> {
        let python = pyward_install::venv_python(venv);
        let info = pyward_install::query_interpreter(&python, None)
            .map_err(|e| format!("the build environment's Python cannot be used: {e}"))?;
        let target = pipeline::target_of(&info).map_err(|e| e.message)?;
        let resolution = self
            .handle
            .block_on(pyward_resolve::resolve(
                self.client.clone(),
                target,
                ResolveInput {
                    requirements: requirements.to_vec(),
                    ..Default::default()
                },
                ResolveOptions {
                    exclude_newer: self.settings.exclude_newer.clone(),
                    archive_dir: self.quiet.cache.archives(),
                    // Only to say why an sdist-only build requirement is not built.
                    allow_sdist: true,
                    sdist_metadata: Some(Arc::new(WheelsOnly)),
                    ..Default::default()
                },
            ))
            .map_err(|e| match e {
                ResolveError::NoSolution(text) => {
                    format!(
                        "no set of versions satisfies them:\n{}",
                        pipeline::indent(&text)
                    )
                }
                other => other.to_string(),
            })?;
        // Wheels the resolver read whole (no separate metadata on the index).
        self.downloaded_files
            .fetch_add(resolution.downloaded_files, Ordering::Relaxed);
        self.downloaded_bytes
            .fetch_add(resolution.downloaded_bytes, Ordering::Relaxed);
        let env = Environment::from_interpreter(info);
        let installed = env
            .installed()
            .map_err(|e| format!("cannot read the build environment: {e}"))?;
        let mut remove: Vec<InstalledDist> = Vec::new();
        let mut plan = Vec::new();
        for pkg in &resolution.packages {
            match installed.iter().find(|d| d.name == pkg.name) {
                Some(d) if d.version == pkg.version => continue,
                Some(d) => remove.push(d.clone()),
                None => {}
            }
            plan.push(pkg);
        }
        if plan.is_empty() {
            return Ok(());
        }
        let pairs: Vec<(PackageName, Version)> = plan
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        self.refuse_requirements(self.blocked_by_audit(&pairs, false))?;
        let wheels = self.quiet.cache.wheels();
        let memory = FileMemory::open(&self.quiet);
        let mut fetched = Vec::with_capacity(plan.len());
        for pkg in plan {
            let ResolvedSource::Index { file, index } = &pkg.source else {
                return Err(format!("{} did not come from the index", pkg.name));
            };
            let index = index.to_string();
            let Some(index_sha) = file.hashes.sha256.as_ref().map(|h| h.to_ascii_lowercase())
            else {
                return Err(format!(
                    "{} has no sha256 on the index, and pyward installs build requirements only when it can check them",
                    file.filename
                ));
            };
            let package = PackageRef::new(
                pkg.name.to_string(),
                Some(pkg.version.to_string()),
                Some(file.filename.clone()),
            );
            let filename = WheelFilename::from_str(&file.filename).map_err(|e| e.to_string())?;
            // An unpacked wheel under the index's hash was verified when it was stored.
            let (archive, sha256, size) = if wheels.join(&index_sha).is_dir() {
                (
                    self.quiet.cache.archives().join(&index_sha),
                    index_sha,
                    file.size.unwrap_or(0),
                )
            } else {
                self.fetch_checked(&package, file, &index, None).map_err(
                    |(message, findings)| {
                        self.env_findings
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .extend(findings);
                        message
                    },
                )?
            };
            memory.remember(&index, &file.filename, &sha256);
            fetched.push(CheckedWheel {
                name: pkg.name.clone(),
                version: pkg.version.clone(),
                filename,
                archive,
                requested: pkg.direct,
                origin: ArchiveOrigin {
                    filename: file.filename.clone(),
                    url: Some(file.url.to_string()),
                    sha256,
                    size: Some(size),
                    index: Some(index),
                },
            });
        }
        let artifacts = fetched
            .iter()
            .map(|w| Artifact {
                path: w.archive.clone(),
                sha256: w.origin.sha256.clone(),
                name: w.name.clone(),
                version: w.version.clone(),
                sdist: false,
            })
            .collect();
        self.refuse_requirements(self.blocked_by_scan(artifacts))?;
        let mut items = Vec::with_capacity(fetched.len());
        for w in fetched {
            let unpacked = pyward_install::unpack_wheel(
                &w.archive,
                &w.filename,
                &wheels,
                Some(&w.origin.sha256),
            )
            .map_err(|e| format!("{} was refused: {e}", w.origin.filename))?;
            items.push(InstallItem {
                unpacked,
                requested: w.requested,
                direct_url: None,
                origin: Some(w.origin),
            });
        }
        pyward_install::install(&env, &items, &remove, &InstallOptions::default())
            .map_err(|e| e.to_string())?;
        Ok(())
    }
}

/// A build requirement's wheel, fetched and checked, to be scanned and installed.
struct CheckedWheel {
    name: PackageName,
    version: Version,
    filename: WheelFilename,
    archive: PathBuf,
    requested: bool,
    origin: ArchiveOrigin,
}

/// Build requirements come from wheels only: a build never starts another.
struct WheelsOnly;

impl SdistMetadata for WheelsOnly {
    fn may_build(&self, _name: &PackageName) -> Result<(), String> {
        Err(
            "build requirements are installed from wheels only, so that a build never starts another build"
                .into(),
        )
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
        _sdist: &DistFile,
        _index: &IndexUrl,
    ) -> Result<CoreMetadata, String> {
        Err(format!(
            "{name} {version} is not built: build requirements come from wheels only"
        ))
    }
}

/// A fetched and verified file of the plan.
pub struct SourceFile<'a> {
    pub name: &'a PackageName,
    pub filename: &'a str,
    pub archive: &'a Path,
    pub sha256: &'a str,
}

/// Build every sdist among `files`, one at a time (each build uses the
/// machine's cores); `None` for the wheels.
pub async fn build_all(
    ctx: &Context,
    builds: Option<&Arc<Builds>>,
    files: &[SourceFile<'_>],
) -> CliResult<Vec<Option<BuildOutcome>>> {
    let mut outcomes = Vec::with_capacity(files.len());
    for f in files {
        let is_sdist = matches!(
            DistFilename::parse(f.filename, Some(f.name)),
            Ok(DistFilename::Sdist(_))
        );
        if !is_sdist {
            outcomes.push(None);
            continue;
        }
        let Some(builds) = builds else {
            return Err(CliError::input(format!(
                "{} is a source distribution, and this command does not build from source",
                f.filename
            )));
        };
        builds.announce_sandbox(&ctx.printer);
        let spinner = crate::commands::spinner(ctx, &format!("Building {}", f.filename));
        let outcome = builds
            .build(&ctx.printer, f.name, f.filename, f.archive, f.sha256)
            .await;
        drop(spinner);
        let outcome = outcome?;
        ctx.printer.detail(format!(
            "  {} → {}{}",
            f.filename,
            outcome.filename,
            if outcome.from_cache {
                " (built before)"
            } else {
                ""
            }
        ));
        outcomes.push(Some(outcome));
    }
    let built: Vec<&BuildOutcome> = outcomes.iter().flatten().collect();
    let reused = built.iter().filter(|o| o.from_cache).count();
    if reused == built.len() && reused > 0 {
        ctx.printer.status(format!(
            "Reused {} built from source before",
            plural(reused, "wheel")
        ));
    } else if !built.is_empty() {
        let mut line = format!(
            "Built {} from source in {}",
            plural(built.len() - reused, "package"),
            human_duration(builds.map(|b| b.build_time()).unwrap_or_default())
        );
        if reused > 0 {
            line.push_str(&format!(
                " (and reused {} built before)",
                plural(reused, "wheel")
            ));
        }
        ctx.printer.status(line);
    }
    Ok(outcomes)
}

/// "1 built from source in the sandbox", for the line that says what was installed.
pub fn summary_note(built: &[Option<BuildOutcome>]) -> Option<String> {
    let built: Vec<&BuildOutcome> = built.iter().flatten().collect();
    if built.is_empty() {
        return None;
    }
    let how = if built.iter().all(|o| o.sandboxed == SandboxStatus::Full) {
        "in the sandbox"
    } else if built.iter().all(|o| o.sandboxed.blocks_network()) {
        "without network"
    } else {
        "not sandboxed"
    };
    Some(format!("{} built from source {how}", built.len()))
}

/// The line under Integrity that says which wheels were built here.
pub fn integrity_note(built: &[Option<BuildOutcome>]) -> Option<String> {
    let names: Vec<String> = built
        .iter()
        .flatten()
        .map(|o| format!("{} {}", o.metadata.name, o.metadata.version))
        .collect();
    match names.len() {
        0 => None,
        1 => Some(format!(
            "1 wheel was built here from its checked sdist: {}",
            names[0]
        )),
        n => Some(format!(
            "{n} wheels were built here from their checked sdists: {}",
            names.join(", ")
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn each_rule_gives_its_own_reason() {
        let config = Config::default();
        let open = BuildSettings::new(false, &[], &[], &config).unwrap();
        assert_eq!(open.refusal(&n("docopt")), None);
        assert_eq!(open.sandbox, SandboxPolicy::Prefer);

        let only = BuildSettings::new(false, &strings(&["Foo_Bar,baz"]), &[], &config).unwrap();
        assert_eq!(
            only.refusal(&n("foo-bar")).as_deref(),
            Some("--only-binary forbids building it from source")
        );
        assert_eq!(only.refusal(&n("docopt")), None);

        let none = BuildSettings::new(true, &[], &[], &config).unwrap();
        assert_eq!(
            none.refusal(&n("docopt")).as_deref(),
            Some("--no-build forbids building from source")
        );

        let listed = Config {
            build_allow: strings(&["DocOpt"]),
            sandbox: Some("require".into()),
            file: Some(PathBuf::from("/p/pyward.toml")),
            ..Config::default()
        };
        let allow = BuildSettings::new(false, &[], &[], &listed).unwrap();
        assert_eq!(allow.refusal(&n("docopt")), None);
        assert_eq!(
            allow.refusal(&n("wget")).as_deref(),
            Some("build-allow in /p/pyward.toml does not list it")
        );
        assert_eq!(allow.sandbox, SandboxPolicy::Require);
    }

    #[test]
    fn no_binary_names_packages_to_build_and_conflicts_are_input_errors() {
        let config = Config::default();
        let s = BuildSettings::new(false, &[], &strings(&["a,b", "c"]), &config).unwrap();
        assert!(s.source_only(&n("a")) && s.source_only(&n("c")));
        assert!(!s.source_only(&n("d")));
        let s = BuildSettings::new(false, &[], &strings(&[":all:", ":none:"]), &config).unwrap();
        assert!(!s.source_only(&n("a")));
        let s = BuildSettings::new(false, &strings(&["x"]), &strings(&[":all:"]), &config).unwrap();
        // --only-binary wins for the packages it names.
        assert!(s.source_only(&n("a")) && !s.source_only(&n("x")));

        let err =
            BuildSettings::new(false, &strings(&["a"]), &strings(&["a"]), &config).unwrap_err();
        assert_eq!(
            err.message,
            "--no-binary a asks to build a from source, but --only-binary forbids building it from source"
        );
        assert!(BuildSettings::new(true, &[], &strings(&[":all:"]), &config).is_err());
        assert!(BuildSettings::new(false, &[], &strings(&["bad name!"]), &config).is_err());
        let bad = Config {
            build_allow: strings(&["not a name!"]),
            ..Config::default()
        };
        assert!(BuildSettings::new(false, &[], &[], &bad).is_err());
    }
}
