//! Command-line interface definition (clap): every command, flag and its help.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// pyward installs Python packages and checks them first: every file's hash,
/// known vulnerabilities and malware, and suspicious code or names.
#[derive(Debug, Parser)]
#[command(name = "pyward", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Print only errors and the security summary's problems.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail (repeat for debug logs).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print a machine-readable JSON report on stdout instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Where pyward keeps downloaded files and index pages [env: PYWARD_CACHE_DIR].
    #[arg(long, global = true, env = "PYWARD_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Use only cached index data; never touch the network.
    #[arg(long, global = true)]
    pub offline: bool,
    /// Never use colour (also: NO_COLOR).
    #[arg(long, global = true)]
    pub no_color: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a virtual environment.
    Venv(VenvArgs),
    /// Install packages into an environment, checking them first.
    Install(InstallArgs),
    /// Make an environment match a lock file exactly (installs and removes).
    Sync(SyncArgs),
    /// Resolve and write a PEP 751 lock file with hashes for the whole tree.
    Lock(LockArgs),
    /// Print `--hash` options for files.
    Hash(HashArgs),
    /// Print installed packages as requirements (optionally with hashes).
    Freeze(FreezeArgs),
    /// Remove packages from an environment.
    Uninstall(UninstallArgs),
    /// List installed packages.
    List(EnvArgs),
    /// Show an installed package.
    Show(ShowArgs),
    /// Check packages for known vulnerabilities and malware.
    Audit(AuditArgs),
    /// Manage the advisory database.
    Db(DbArgs),
    /// Show a project's trust card: age, releases, maintainers, popularity.
    Info(InfoArgs),
    /// Check names for look-alikes of popular projects (offline).
    CheckNames(CheckNamesArgs),
    /// Report a suspicious package to your organisation's server or to PyPI.
    Report(ReportArgs),
    /// Run the report/flag server for your organisation.
    Server(ServerArgs),
    /// Scan packages for malicious code without installing them.
    Scan(ScanArgs),
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// NAME[==VERSION] (from the index), a wheel or sdist file, or a directory.
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Output format (also --json).
    #[arg(long, value_enum, default_value = "text")]
    pub format: ReportFormat,
    /// Show informational findings too.
    #[arg(long)]
    pub all: bool,
    /// Package index for NAME targets.
    #[arg(short = 'i', long, env = "PYWARD_INDEX_URL")]
    pub index_url: Option<String>,
    /// Treat this package as allowed (its findings still show).
    #[arg(long, value_name = "NAME")]
    pub allow: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ReportTo {
    /// The configured report server (report-server / PYWARD_REPORT_SERVER).
    #[default]
    Server,
    /// PyPI: its malware-observation API with PYWARD_PYPI_TOKEN, else an email to send.
    Pypi,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// NAME or NAME==VERSION.
    pub package: Option<String>,
    /// What you saw, in your own words.
    #[arg(long)]
    pub reason: Option<String>,
    /// Send without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Where to send it.
    #[arg(long, value_enum, default_value = "server")]
    pub to: ReportTo,
    /// Send reports saved while the server could not be reached.
    #[arg(long)]
    pub retry: bool,
    /// Package index to gather evidence from.
    #[arg(short = 'i', long, env = "PYWARD_INDEX_URL")]
    pub index_url: Option<String>,
    /// PyPI's base URL for --to pypi.
    #[arg(long, default_value = "https://pypi.org")]
    pub pypi_url: String,
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    #[command(subcommand)]
    pub action: Option<ServerAction>,
    /// Directory of the SQLite database.
    #[arg(long, default_value = "pyward-server-data", global = true)]
    pub data: PathBuf,
    /// A postgres:// URL instead of SQLite (several servers may share it).
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// Address and port to serve on [default: 127.0.0.1:8470].
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Shown as the source of every flag ("Example Corp security").
    #[arg(long)]
    pub name: Option<String>,
    /// The flag feed needs a token.
    #[arg(long)]
    pub private_feed: bool,
    /// Accept reports without a token (rate-limited per IP address).
    #[arg(long)]
    pub anonymous_reports: bool,
    /// Sustained report submissions per token (or IP) per minute.
    #[arg(long)]
    pub reports_per_minute: Option<u32>,
    /// Submissions allowed in a burst.
    #[arg(long)]
    pub burst: Option<u32>,
    /// Largest request body accepted, in bytes.
    #[arg(long)]
    pub max_body: Option<usize>,
    /// Mark the moderator session cookie Secure (behind HTTPS).
    #[arg(long)]
    pub secure_cookies: bool,
    /// Rate-limit by the last X-Forwarded-For address (only behind your own proxy).
    #[arg(long)]
    pub trust_forwarded_for: bool,
}

#[derive(Debug, Subcommand)]
pub enum ServerAction {
    /// Manage the tokens of reporters and moderators.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token (printed once).
    Create {
        /// reporter or moderator.
        #[arg(long, default_value = "reporter")]
        role: String,
        /// Who or what it is for.
        #[arg(long)]
        label: String,
    },
    /// List tokens (never the tokens themselves).
    List,
    /// Revoke a token by its id.
    Revoke { id: i64 },
}

#[derive(Debug, Args)]
pub struct InfoArgs {
    pub package: String,
    /// Package index (default: https://pypi.org/simple/).
    #[arg(short = 'i', long, env = "PYWARD_INDEX_URL")]
    pub index_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct CheckNamesArgs {
    pub names: Vec<String>,
    /// Check the names in a requirements file.
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct VenvArgs {
    /// Where to create it.
    #[arg(default_value = ".venv")]
    pub path: PathBuf,
    /// Interpreter to use: a path, or a version such as 3.12.
    #[arg(long, short = 'p')]
    pub python: Option<String>,
    /// Prompt shown when the environment is active.
    #[arg(long)]
    pub prompt: Option<String>,
    /// Replace an existing environment at PATH.
    #[arg(long)]
    pub clear: bool,
}

/// Which environment to act on.
#[derive(Debug, Args, Clone)]
pub struct EnvArgs {
    /// The interpreter (or virtual environment directory) to act on. Default:
    /// the active virtual environment (VIRTUAL_ENV), else ./.venv.
    #[arg(long, short = 'p', value_name = "PYTHON")]
    pub python: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Low,
    Moderate,
    High,
    Critical,
}

impl FailOn {
    pub fn severity(self) -> pyward_guard::Severity {
        match self {
            FailOn::Low => pyward_guard::Severity::Low,
            FailOn::Moderate => pyward_guard::Severity::Moderate,
            FailOn::High => pyward_guard::Severity::High,
            FailOn::Critical => pyward_guard::Severity::Critical,
        }
    }
}

/// What to resolve: packages, requirements and constraints files, indexes.
#[derive(Debug, Args, Clone, Default)]
pub struct RequirementArgs {
    /// Packages: NAME[extras]SPEC, a path or URL to a wheel, or 'name @ URL'.
    pub packages: Vec<String>,
    /// Read requirements from a file in pip's format (repeatable).
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
    /// Install a project directory in editable mode (PEP 660): changes to
    /// its Python files take effect without reinstalling (repeatable).
    #[arg(short = 'e', long = "editable", value_name = "DIR")]
    pub editable: Vec<String>,
    /// Constrain versions with a constraints file (repeatable).
    #[arg(short = 'c', long = "constraint", value_name = "FILE")]
    pub constraints: Vec<PathBuf>,
    /// Primary package index (default: https://pypi.org/simple/) [env: PYWARD_INDEX_URL].
    #[arg(short = 'i', long, env = "PYWARD_INDEX_URL")]
    pub index_url: Option<String>,
    /// Additional index; a name is taken from the first index that has it.
    #[arg(long, value_name = "URL")]
    pub extra_index_url: Vec<String>,
    /// Allow pre-release versions.
    #[arg(long)]
    pub pre: bool,
    /// Revalidate cached index data.
    #[arg(long)]
    pub refresh: bool,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    #[command(flatten)]
    pub reqs: RequirementArgs,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Upgrade every requested package and its dependencies to the newest allowed versions.
    #[arg(short = 'U', long)]
    pub upgrade: bool,
    /// Upgrade only this package (repeatable).
    #[arg(short = 'P', long, value_name = "NAME")]
    pub upgrade_package: Vec<String>,
    /// Compile installed Python files to bytecode.
    #[arg(long)]
    pub compile: bool,
    /// Resolve and check, but change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Install into an interpreter that its distributor marks as externally managed (PEP 668).
    #[arg(long)]
    pub break_system_packages: bool,
    /// Proceed with this package despite a trust or name warning (repeatable).
    #[arg(long, value_name = "NAME")]
    pub allow: Vec<String>,
    /// Block the install when a known vulnerability is at or above this severity.
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub fail_on: Option<FailOn>,
    /// Ignore releases younger than this (e.g. 7d, 12h, 2w) or uploaded after a date (2026-11-01).
    #[arg(long, value_name = "AGE|DATE")]
    pub min_age: Option<String>,
    /// Do not check file hashes (the summary says so loudly).
    #[arg(long)]
    pub no_verify_hashes: bool,
    /// Never build from source: a package without a wheel for this Python is refused.
    #[arg(long)]
    pub no_build: bool,
    /// Use only wheels for these packages: NAME[,NAME], :all: or :none: (repeatable).
    #[arg(long, value_name = "NAME|:all:")]
    pub only_binary: Vec<String>,
    /// Build these packages from source even when a wheel exists: NAME[,NAME], :all: or :none: (repeatable).
    #[arg(long, value_name = "NAME|:all:")]
    pub no_binary: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LockArgs {
    #[command(flatten)]
    pub reqs: RequirementArgs,
    /// Where to write the lock.
    #[arg(short = 'o', long, default_value = "pylock.toml")]
    pub output: PathBuf,
    /// The interpreter to lock for (default: the active or ./.venv environment, else python3).
    #[command(flatten)]
    pub env: EnvArgs,
    /// Move every package to the newest allowed version.
    #[arg(short = 'U', long)]
    pub upgrade: bool,
    /// Move only this package (repeatable).
    #[arg(short = 'P', long, value_name = "NAME")]
    pub upgrade_package: Vec<String>,
}

#[derive(Debug, Args)]
pub struct HashArgs {
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FreezeArgs {
    #[command(flatten)]
    pub env: EnvArgs,
    /// Pin each distribution with the sha256 of its archive.
    #[arg(long)]
    pub hashes: bool,
    /// Index to ask for the hashes of distributions pyward did not install.
    #[arg(short = 'i', long, env = "PYWARD_INDEX_URL")]
    pub index_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The lock file (PEP 751 pylock.toml).
    #[arg(default_value = "pylock.toml")]
    pub lock: PathBuf,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Show what would change without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Compile installed Python files to bytecode.
    #[arg(long)]
    pub compile: bool,
    /// Install into an interpreter that its distributor marks as externally managed (PEP 668).
    #[arg(long)]
    pub break_system_packages: bool,
    /// Do not check file hashes (the summary says so loudly).
    #[arg(long)]
    pub no_verify_hashes: bool,
    /// Never build from source: a package the lock pins only as an sdist is an error.
    #[arg(long)]
    pub no_build: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: Option<AuditAction>,
    /// Audit a requirements file (resolved, nothing installed), a pylock.toml or a pyproject.toml.
    #[arg(short = 'r', long = "requirement", value_name = "FILE", global = true)]
    pub requirements: Vec<PathBuf>,
    #[command(flatten)]
    pub env: EnvArgs,
    /// Exit with 1 when a vulnerability is at or above this severity (default: any).
    #[arg(long, value_enum, value_name = "LEVEL", global = true)]
    pub fail_on: Option<FailOn>,
    /// Output format (also --json).
    #[arg(long, value_enum, default_value = "text", global = true)]
    pub format: ReportFormat,
    /// Ignore this advisory id (repeatable); prefer `ignore` in the configuration, with a reason.
    #[arg(long, value_name = "ID", global = true)]
    pub ignore: Vec<String>,
    /// Primary package index for resolving requirements files.
    #[arg(short = 'i', long, env = "PYWARD_INDEX_URL", global = true)]
    pub index_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Upgrade vulnerable packages to the smallest versions that fix them.
    Fix {
        /// Show what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    Sarif,
    Markdown,
}

#[derive(Debug, Args)]
pub struct DbArgs {
    #[command(subcommand)]
    pub action: DbAction,
}

#[derive(Debug, Subcommand)]
pub enum DbAction {
    /// Download or import the advisory database (default: OSV's PyPI export).
    Update {
        /// A URL, a zip of OSV JSON, or a directory of OSV JSON/YAML files.
        #[arg(long, value_name = "URL|ZIP|DIR")]
        from: Option<String>,
    },
    /// Where the advisory data comes from and how old it is.
    Status,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Packages to remove.
    pub packages: Vec<String>,
    /// Remove the packages named in a requirements file.
    #[arg(short = 'r', long = "requirement", value_name = "FILE")]
    pub requirements: Vec<PathBuf>,
    #[command(flatten)]
    pub env: EnvArgs,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    pub package: String,
    #[command(flatten)]
    pub env: EnvArgs,
}
