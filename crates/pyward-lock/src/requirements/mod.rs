//! requirements.txt files in pip's syntax, and requirement specs given on the
//! command line. Follows pip's `req_file.py`: `\` continuations, `#` comments
//! (at line start or after whitespace), `${VAR}` expansion, nested `-r`/`-c`
//! files relative to the including file, per-line `--hash`, and the file-level
//! index options. Requirement paths resolve against the working directory,
//! as in pip. Parsing reads files but never touches the network.

mod options;
mod spec;

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use pep508_rs::{PackageName, VersionOrUrl};

use options::{split_options, OptionKind, ParsedOption};
pub use spec::RequirementSpec;

/// Where a requirement or option came from: `requirements.txt:12`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    pub file: PathBuf,
    /// 1-based; for a `\`-continued line, the line it starts on.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One requirement line (or `-e` line) of a requirements or constraints file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementEntry {
    pub spec: RequirementSpec,
    /// Pinned hashes from `--hash`, as `sha256:<lowercase hex>` (or sha384/sha512).
    pub hashes: Vec<String>,
    pub origin: Origin,
}

/// Something pyward accepted but ignored, for the CLI to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementsNote {
    pub origin: Origin,
    pub message: String,
}

/// Everything a requirements file (and the files it includes) asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequirementsFile {
    pub entries: Vec<RequirementEntry>,
    /// Requirements from `-c` files: they limit versions, never add packages.
    pub constraints: Vec<RequirementEntry>,
    /// The last `-i/--index-url`.
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub find_links: Vec<String>,
    pub no_index: bool,
    pub pre: bool,
    /// Normalized names, or `:all:` (pip's `--only-binary` semantics applied).
    pub only_binary: Vec<String>,
    /// Normalized names, or `:all:` (pip's `--no-binary` semantics applied).
    pub no_binary: Vec<String>,
    pub prefer_binary: bool,
    /// True with `--require-hashes`, and (as in pip) whenever any requirement
    /// carries a `--hash`.
    pub require_hashes: bool,
    /// Every file read, the top-level one first, each once.
    pub files_read: Vec<PathBuf>,
    /// Options accepted and ignored (`--trusted-host`, `--use-feature`, …).
    pub notes: Vec<RequirementsNote>,
}

/// Why a requirements file or argument cannot be used. Every variant names
/// the file and line (or the argument) and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    #[error("cannot read requirements file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{origin}: cannot read {} (included here): {source}", path.display())]
    ReadIncluded {
        origin: Origin,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not UTF-8 or UTF-16 text; save it as UTF-8", path.display())]
    NotText { path: PathBuf },
    #[error("{} is larger than 16 MiB; is it really a requirements file?", path.display())]
    TooLarge { path: PathBuf },
    #[error("{origin}: including {} again would loop forever ({chain}); remove one of the -r/-c lines", path.display())]
    IncludeCycle {
        origin: Origin,
        path: PathBuf,
        chain: String,
    },
    #[error("{origin}: {target} is a URL; pyward reads requirements files only from disk, download it first")]
    RemoteInclude { origin: Origin, target: String },
    #[error("{origin}: unknown option `{option}`; requirements files accept -r, -c, -e, -i, --extra-index-url, --no-index, -f, --pre, --only-binary, --no-binary, --prefer-binary, --require-hashes, --trusted-host and, after a requirement, --hash")]
    UnknownOption { origin: Origin, option: String },
    #[error("{origin}: `{option}` is not supported by pyward: {reason}")]
    UnsupportedOption {
        origin: Origin,
        option: String,
        reason: String,
    },
    #[error("{origin}: `{option}` needs a value, e.g. `{example}`")]
    MissingValue {
        origin: Origin,
        option: String,
        example: String,
    },
    #[error("{origin}: `{option}` must be on its own line, not after a requirement")]
    MisplacedOption { origin: Origin, option: String },
    #[error("{origin}: invalid --hash `{value}`: {reason}")]
    InvalidHash {
        origin: Origin,
        value: String,
        reason: String,
    },
    #[error("{origin}: {message}")]
    InvalidLine { origin: Origin, message: String },
    #[error("{origin}: invalid requirement: {message}")]
    InvalidRequirement { origin: Origin, message: String },
    #[error("{origin}: `{requirement}` cannot be a constraint: {reason}")]
    InvalidConstraint {
        origin: Origin,
        requirement: String,
        reason: String,
    },
    #[error("`{arg}` is not something pyward can install: {message}")]
    InvalidArgument { arg: String, message: String },
    /// A command-line `-e` value; the message names it.
    #[error("{message}")]
    InvalidEditable { message: String },
}

/// Parse a requirements file and everything it includes. Requirement paths
/// (`./dist/x.whl`, `.`) resolve against the current directory, as in pip.
pub fn parse_requirements_file(path: &Path) -> Result<RequirementsFile, RequirementsError> {
    let base_dir = std::env::current_dir().map_err(|source| RequirementsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut parser = Parser::new(&base_dir, &env_var);
    let text = parser.read(path, None)?;
    parser.parse_text(&text, path, false)?;
    Ok(parser.finish())
}

/// Parse requirements text. `path_for_messages` names it in errors and is the
/// directory nested `-r`/`-c` paths are relative to; `base_dir` is where
/// requirement paths resolve.
pub fn parse_requirements_str(
    text: &str,
    path_for_messages: &Path,
    base_dir: &Path,
) -> Result<RequirementsFile, RequirementsError> {
    parse_with_env(text, path_for_messages, base_dir, &env_var)
}

/// One command-line argument: `flask`, `'flask[async]>=2; python_version>"3.8"'`,
/// `./x.whl`, `x.whl`, `https://…/x-1.0-py3-none-any.whl`, `'name @ https://…'`, `.`.
pub fn parse_requirement_arg(arg: &str, cwd: &Path) -> Result<RequirementSpec, RequirementsError> {
    spec::classify(arg, cwd).map_err(|message| RequirementsError::InvalidArgument {
        arg: arg.to_string(),
        message,
    })
}

/// The value of a command-line `-e`/`--editable`: a local project directory,
/// optionally with extras (`./proj[dev]`).
pub fn parse_editable_arg(arg: &str, cwd: &Path) -> Result<RequirementSpec, RequirementsError> {
    spec::classify_editable(arg, cwd)
        .map_err(|message| RequirementsError::InvalidEditable { message })
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

pub(crate) fn parse_with_env(
    text: &str,
    path_for_messages: &Path,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<RequirementsFile, RequirementsError> {
    let mut parser = Parser::new(base_dir, env);
    parser.out.files_read.push(path_for_messages.to_path_buf());
    parser
        .stack
        .push((identity(path_for_messages), path_for_messages.to_path_buf()));
    parser.parse_text(text, path_for_messages, false)?;
    Ok(parser.finish())
}

const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// A file's identity for cycle detection: its canonical path when it exists.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

struct Parser<'a> {
    base_dir: PathBuf,
    env: &'a dyn Fn(&str) -> Option<String>,
    out: RequirementsFile,
    /// Files currently being parsed (outermost first) as (identity, path as
    /// named), for cycle detection.
    stack: Vec<(PathBuf, PathBuf)>,
}

impl<'a> Parser<'a> {
    fn new(base_dir: &Path, env: &'a dyn Fn(&str) -> Option<String>) -> Self {
        Parser {
            base_dir: base_dir.to_path_buf(),
            env,
            out: RequirementsFile::default(),
            stack: Vec::new(),
        }
    }

    fn finish(mut self) -> RequirementsFile {
        if self.out.entries.iter().any(|e| !e.hashes.is_empty()) {
            self.out.require_hashes = true;
        }
        self.out
    }

    /// Read a file (top-level when `included_from` is None), record it and
    /// push it on the include stack.
    fn read(
        &mut self,
        path: &Path,
        included_from: Option<&Origin>,
    ) -> Result<String, RequirementsError> {
        let id = identity(path);
        if let Some(origin) = included_from {
            if self.stack.iter().any(|(open, _)| open == &id) {
                let mut chain: Vec<String> = self
                    .stack
                    .iter()
                    .map(|(_, shown)| shown.display().to_string())
                    .collect();
                chain.push(path.display().to_string());
                return Err(RequirementsError::IncludeCycle {
                    origin: origin.clone(),
                    path: path.to_path_buf(),
                    chain: chain.join(" → "),
                });
            }
        }
        let io_error = |source: std::io::Error| match included_from {
            Some(origin) => RequirementsError::ReadIncluded {
                origin: origin.clone(),
                path: path.to_path_buf(),
                source,
            },
            None => RequirementsError::Read {
                path: path.to_path_buf(),
                source,
            },
        };
        let file = std::fs::File::open(path).map_err(io_error)?;
        let mut bytes = Vec::new();
        file.take(MAX_FILE_SIZE + 1)
            .read_to_end(&mut bytes)
            .map_err(io_error)?;
        if bytes.len() as u64 > MAX_FILE_SIZE {
            return Err(RequirementsError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let text = decode(&bytes).ok_or_else(|| RequirementsError::NotText {
            path: path.to_path_buf(),
        })?;
        if !self.out.files_read.iter().any(|f| identity(f) == id) {
            self.out.files_read.push(path.to_path_buf());
        }
        self.stack.push((id, path.to_path_buf()));
        Ok(text)
    }

    fn parse_text(
        &mut self,
        text: &str,
        file: &Path,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        for (line, content) in logical_lines(text) {
            let origin = Origin {
                file: file.to_path_buf(),
                line,
            };
            let content = expand_env_vars(&content, self.env);
            self.parse_line(&content, &origin, constraint)?;
        }
        self.stack.pop();
        Ok(())
    }

    fn parse_line(
        &mut self,
        line: &str,
        origin: &Origin,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        let (args, options_text) = break_args_options(line);
        let options =
            split_options(options_text).map_err(|message| RequirementsError::InvalidLine {
                origin: origin.clone(),
                message,
            })?;
        let options = options::parse_options(&options, origin)?;
        if !args.trim().is_empty() {
            return self.requirement_line(args, &options, origin, constraint);
        }
        for option in options {
            self.option(option, origin, constraint)?;
        }
        Ok(())
    }

    fn requirement_line(
        &mut self,
        args: &str,
        options: &[ParsedOption],
        origin: &Origin,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        let mut hashes = Vec::new();
        for option in options {
            match option.kind {
                OptionKind::Hash => hashes.push(options::parse_hash(&option.value, origin)?),
                OptionKind::ConfigSettings | OptionKind::GlobalOption => {
                    return Err(unsupported_build_option(option, origin))
                }
                _ => {
                    return Err(RequirementsError::MisplacedOption {
                        origin: origin.clone(),
                        option: option.name.clone(),
                    })
                }
            }
        }
        let spec = spec::classify(args, &self.base_dir).map_err(|message| {
            RequirementsError::InvalidRequirement {
                origin: origin.clone(),
                message,
            }
        })?;
        self.push_entry(spec, hashes, origin, constraint)
    }

    fn push_entry(
        &mut self,
        spec: RequirementSpec,
        hashes: Vec<String>,
        origin: &Origin,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        let entry = RequirementEntry {
            spec,
            hashes,
            origin: origin.clone(),
        };
        if !constraint {
            self.out.entries.push(entry);
            return Ok(());
        }
        let reason = match &entry.spec {
            RequirementSpec::Named(r) if matches!(r.version_or_url, Some(VersionOrUrl::Url(_))) => {
                Some("constraints limit versions; a URL cannot be a constraint")
            }
            RequirementSpec::Named(_) => None,
            RequirementSpec::Editable { .. } => {
                Some("editable requirements are not allowed as constraints")
            }
            RequirementSpec::Path { .. } | RequirementSpec::Url { .. } => {
                Some("constraints must name a package and a version, e.g. `name==1.0`")
            }
        };
        match reason {
            Some(reason) => Err(RequirementsError::InvalidConstraint {
                origin: origin.clone(),
                requirement: entry.spec.to_string(),
                reason: reason.to_string(),
            }),
            None => {
                self.out.constraints.push(entry);
                Ok(())
            }
        }
    }

    fn option(
        &mut self,
        option: ParsedOption,
        origin: &Origin,
        constraint: bool,
    ) -> Result<(), RequirementsError> {
        let dir = origin.file.parent().unwrap_or(Path::new(""));
        match option.kind {
            OptionKind::Requirement | OptionKind::Constraint => {
                let target = option.value.as_str();
                if target.contains("://") {
                    return Err(RequirementsError::RemoteInclude {
                        origin: origin.clone(),
                        target: target.to_string(),
                    });
                }
                let path = dir.join(target);
                // As in pip, `-r` inside a constraints file adds requirements.
                let nested_constraint = option.kind == OptionKind::Constraint;
                let text = self.read(&path, Some(origin))?;
                self.parse_text(&text, &path, nested_constraint)?;
            }
            OptionKind::Editable => {
                let spec =
                    spec::classify_editable(&option.value, &self.base_dir).map_err(|message| {
                        RequirementsError::InvalidRequirement {
                            origin: origin.clone(),
                            message,
                        }
                    })?;
                self.push_entry(spec, Vec::new(), origin, constraint)?;
            }
            OptionKind::IndexUrl => self.out.index_url = Some(option.value),
            OptionKind::ExtraIndexUrl => self.out.extra_index_urls.push(option.value),
            OptionKind::NoIndex => self.out.no_index = true,
            OptionKind::FindLinks => {
                // pip: a relative find-links path that exists next to the file wins.
                let beside = dir.join(&option.value);
                let value = if !option.value.contains("://") && beside.exists() {
                    beside.display().to_string()
                } else {
                    option.value
                };
                self.out.find_links.push(value);
            }
            OptionKind::Pre => self.out.pre = true,
            OptionKind::PreferBinary => self.out.prefer_binary = true,
            OptionKind::RequireHashes => self.out.require_hashes = true,
            OptionKind::OnlyBinary => apply_format_control(
                &option.value,
                &mut self.out.only_binary,
                &mut self.out.no_binary,
                origin,
            )?,
            OptionKind::NoBinary => apply_format_control(
                &option.value,
                &mut self.out.no_binary,
                &mut self.out.only_binary,
                origin,
            )?,
            OptionKind::TrustedHost => self.note(
                origin,
                format!(
                    "ignored `--trusted-host {}`: pyward always verifies TLS certificates",
                    option.value
                ),
            ),
            OptionKind::UseFeature => self.note(
                origin,
                format!(
                    "ignored `--use-feature {}`: it is a pip setting",
                    option.value
                ),
            ),
            OptionKind::Hash => self.note(
                origin,
                "ignored `--hash` on a line without a requirement".to_string(),
            ),
            OptionKind::ConfigSettings | OptionKind::GlobalOption => {
                return Err(unsupported_build_option(&option, origin))
            }
        }
        Ok(())
    }

    fn note(&mut self, origin: &Origin, message: String) {
        self.out.notes.push(RequirementsNote {
            origin: origin.clone(),
            message,
        });
    }
}

fn unsupported_build_option(option: &ParsedOption, origin: &Origin) -> RequirementsError {
    RequirementsError::UnsupportedOption {
        origin: origin.clone(),
        option: option.name.clone(),
        reason: "pyward does not pass options to build backends; remove it, or build the wheel yourself and install the file"
            .to_string(),
    }
}

/// pip's `FormatControl.handle_mutual_excludes`.
fn apply_format_control(
    value: &str,
    target: &mut Vec<String>,
    other: &mut Vec<String>,
    origin: &Origin,
) -> Result<(), RequirementsError> {
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            ":all:" => {
                other.clear();
                target.clear();
                target.push(":all:".to_string());
            }
            ":none:" => target.clear(),
            name => {
                let name =
                    name.parse::<PackageName>()
                        .map_err(|e| RequirementsError::InvalidLine {
                            origin: origin.clone(),
                            message: format!("`{name}` is not a package name: {e}"),
                        })?;
                let name = name.to_string();
                other.retain(|n| n != &name);
                if !target.contains(&name) {
                    target.push(name);
                }
            }
        }
    }
    Ok(())
}

/// Decode file bytes as pip does for the common cases: UTF-8 (with or without
/// BOM) and UTF-16 with a BOM (what `pip freeze >` writes in PowerShell).
fn decode(bytes: &[u8]) -> Option<String> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return String::from_utf8(rest.to_vec()).ok();
    }
    let utf16 = |rest: &[u8], little: bool| -> Option<String> {
        if !rest.len().is_multiple_of(2) {
            return None;
        }
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| {
                if little {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return utf16(rest, true);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return utf16(rest, false);
    }
    String::from_utf8(bytes.to_vec()).ok()
}

/// pip's `COMMENT_RE.match`: the line starts with `#`, possibly after whitespace.
fn is_comment_line(line: &str) -> bool {
    line.trim_start().starts_with('#')
}

/// pip's `COMMENT_RE.sub`: drop from the first `#` that starts the line or
/// follows whitespace.
fn strip_comment(line: &str) -> &str {
    let mut previous_is_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && previous_is_space {
            return &line[..i];
        }
        previous_is_space = c.is_whitespace();
    }
    line
}

/// Join `\` continuations, strip comments and blank lines; each logical line
/// keeps the number of the physical line it starts on.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut joined: Vec<(usize, String)> = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let mut line = raw.to_string();
        if !line.ends_with('\\') || is_comment_line(&line) {
            if is_comment_line(&line) {
                // Keeps a comment after a continuation recognisable as one.
                line.insert(0, ' ');
            }
            match pending.take() {
                Some((start, mut acc)) => {
                    acc.push_str(&line);
                    joined.push((start, acc));
                }
                None => joined.push((number, line)),
            }
        } else {
            let piece = line.trim_matches('\\');
            match &mut pending {
                Some((_, acc)) => acc.push_str(piece),
                None => pending = Some((number, piece.to_string())),
            }
        }
    }
    if let Some(last) = pending {
        joined.push(last);
    }
    joined
        .into_iter()
        .filter_map(|(n, l)| {
            let content = strip_comment(&l).trim().to_string();
            (!content.is_empty()).then_some((n, content))
        })
        .collect()
}

/// Replace `${NAME}` (NAME of `A-Z`, `0-9`, `_`) with the variable's value;
/// unset or empty variables stay as written, as in pip.
fn expand_env_vars(line: &str, env: &dyn Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if name_len > 0 && after.as_bytes().get(name_len) == Some(&b'}') {
            let name = &after[..name_len];
            match env(name).filter(|v| !v.is_empty()) {
                Some(value) => out.push_str(&value),
                None => out.push_str(&rest[start..start + 2 + name_len + 1]),
            }
            rest = &after[name_len + 1..];
        } else {
            out.push_str("${");
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// pip's `break_args_options`: words up to the first one starting with `-`
/// are the requirement, the rest are options.
fn break_args_options(line: &str) -> (&str, &str) {
    let mut offset = 0;
    for token in line.split(' ') {
        if token.starts_with('-') {
            return (line[..offset].trim_end(), &line[offset..]);
        }
        offset += token.len() + 1;
    }
    (line, "")
}

#[cfg(test)]
mod tests;
