//! One requirement as a user writes it, on a requirements line or on the
//! command line: a PEP 508 requirement, a local wheel/sdist/project directory,
//! a URL to a wheel or sdist, or an editable project. The rules for telling
//! them apart follow pip (`pip._internal.req.constructors`).

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{ExtraName, MarkerTree, PackageName, Requirement, VersionOrUrl};

use crate::pep508::{clean_join, parse_requirement};

/// What the user asked to install, before any resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequirementSpec {
    /// A PEP 508 requirement: `flask[async]>=2; python_version > "3.8"`, or
    /// `name @ https://…` (a direct URL that is not a local file).
    Named(Requirement),
    /// A local wheel or sdist file, or a project directory (with
    /// `pyproject.toml` or `setup.py`). `name` is set for `name @ file:///…`.
    Path {
        name: Option<PackageName>,
        path: PathBuf,
        extras: Vec<ExtraName>,
        marker: MarkerTree,
    },
    /// A bare `http(s)://` URL of a wheel or sdist; the name comes from the
    /// filename (or an `#egg=name` fragment) later.
    Url {
        name: Option<PackageName>,
        url: url::Url,
        extras: Vec<ExtraName>,
        marker: MarkerTree,
    },
    /// `-e path`: an editable install (PEP 660) of a project directory.
    Editable {
        path: PathBuf,
        extras: Vec<ExtraName>,
    },
}

impl RequirementSpec {
    /// The package name when the spec states one.
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            RequirementSpec::Named(r) => Some(&r.name),
            RequirementSpec::Path { name, .. } | RequirementSpec::Url { name, .. } => name.as_ref(),
            RequirementSpec::Editable { .. } => None,
        }
    }

    /// The environment marker that limits where the requirement applies.
    pub fn marker(&self) -> Option<&MarkerTree> {
        match self {
            RequirementSpec::Named(r) => Some(&r.marker),
            RequirementSpec::Path { marker, .. } | RequirementSpec::Url { marker, .. } => {
                Some(marker)
            }
            RequirementSpec::Editable { .. } => None,
        }
    }

    /// The extras the user asked for.
    pub fn extras(&self) -> &[ExtraName] {
        match self {
            RequirementSpec::Named(r) => &r.extras,
            RequirementSpec::Path { extras, .. }
            | RequirementSpec::Url { extras, .. }
            | RequirementSpec::Editable { extras, .. } => extras,
        }
    }
}

impl fmt::Display for RequirementSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let extras = |f: &mut fmt::Formatter<'_>, extras: &[ExtraName]| {
            if extras.is_empty() {
                return Ok(());
            }
            let list: Vec<&str> = extras.iter().map(|e| e.as_ref()).collect();
            write!(f, "[{}]", list.join(","))
        };
        let marker = |f: &mut fmt::Formatter<'_>, marker: &MarkerTree| match marker.contents() {
            Some(m) => write!(f, " ; {m}"),
            None => Ok(()),
        };
        match self {
            RequirementSpec::Named(r) => write!(f, "{r}"),
            RequirementSpec::Path {
                name,
                path,
                extras: e,
                marker: m,
            } => {
                if let Some(n) = name {
                    write!(f, "{n} @ ")?;
                }
                write!(f, "{}", path.display())?;
                extras(f, e)?;
                marker(f, m)
            }
            RequirementSpec::Url {
                name,
                url,
                extras: e,
                marker: m,
            } => {
                if let Some(n) = name {
                    write!(f, "{n} @ ")?;
                }
                write!(f, "{url}")?;
                extras(f, e)?;
                marker(f, m)
            }
            RequirementSpec::Editable { path, extras: e } => {
                write!(f, "-e {}", path.display())?;
                extras(f, e)
            }
        }
    }
}

const ARCHIVE_EXTENSIONS: &[&str] = &[
    ".whl",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".zip",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
];

const VCS_PREFIXES: &[&str] = &["git+", "hg+", "svn+", "bzr+"];

fn is_archive_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ARCHIVE_EXTENSIONS.iter().any(|ext| lower.ends_with(ext))
}

/// pip's `_looks_like_path`: a separator in it, or a leading dot.
fn looks_like_path(name: &str) -> bool {
    name.contains('/') || (cfg!(windows) && name.contains('\\')) || name.starts_with('.')
}

/// The scheme of `text` when it is a URL pip would treat as one.
fn url_scheme(text: &str) -> Option<String> {
    let (scheme, _) = text.split_once(':')?;
    let scheme = scheme.to_ascii_lowercase();
    let known = matches!(scheme.as_str(), "http" | "https" | "file" | "ftp")
        || VCS_PREFIXES.iter().any(|p| scheme.starts_with(p))
        || matches!(scheme.as_str(), "git" | "hg" | "svn" | "bzr");
    known.then_some(scheme)
}

fn is_vcs_scheme(scheme: &str) -> bool {
    VCS_PREFIXES.iter().any(|p| scheme.starts_with(p))
        || matches!(scheme, "git" | "hg" | "svn" | "bzr")
}

fn vcs_unsupported(text: &str) -> String {
    format!(
        "`{text}` installs from version control, which pyward does not support yet; \
         build a wheel from the repository and install that file instead"
    )
}

fn is_installable_dir(path: &Path) -> bool {
    path.join("pyproject.toml").is_file() || path.join("setup.py").is_file()
}

/// Split `./pkg[a,b]` into (`./pkg`, `[a, b]`).
fn strip_extras(text: &str) -> Result<(&str, Vec<ExtraName>), String> {
    if let Some(inner_end) = text.strip_suffix(']') {
        if let Some(open) = inner_end.rfind('[') {
            let inner = &inner_end[open + 1..];
            if open > 0 && !inner.is_empty() && !inner.contains(']') {
                return Ok((&text[..open], parse_extras(inner)?));
            }
        }
    }
    Ok((text, Vec::new()))
}

fn parse_extras(list: &str) -> Result<Vec<ExtraName>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| ExtraName::from_str(e).map_err(|err| format!("invalid extra `{e}`: {err}")))
        .collect()
}

fn parse_marker(text: &str) -> Result<MarkerTree, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(MarkerTree::TRUE);
    }
    pyward_dist::requirement::parse_without_panic(text, |t| {
        MarkerTree::from_str(t).map_err(|e| format!("invalid environment marker: {e}"))
    })
}

/// A `file:` URL as a local path: `file:///abs/x.whl`, `file://localhost/abs`,
/// or the relative form `file:../x.whl` (resolved against `base_dir`).
fn file_url_to_path(raw: &str, base_dir: &Path) -> Result<PathBuf, String> {
    let rest = &raw["file:".len()..];
    if rest.starts_with("//") {
        let url = url::Url::parse(raw).map_err(|e| format!("invalid URL `{raw}`: {e}"))?;
        url.to_file_path()
            .map_err(|()| format!("`{raw}` is not a local file URL"))
    } else {
        Ok(clean_join(base_dir, Path::new(rest)))
    }
}

/// Classify one requirement string (already stripped of comments, options and
/// surrounding whitespace). Relative paths are resolved against `base_dir`.
/// The error is a plain sentence; callers add where the text came from.
pub(crate) fn classify(text: &str, base_dir: &Path) -> Result<RequirementSpec, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty requirement".to_string());
    }
    if let Some(scheme) = url_scheme(text) {
        return classify_url(text, &scheme, base_dir);
    }

    let before_marker = text.split_once(';').map_or(text, |(l, _)| l).trim();
    let marker_text = text.split_once(';').map(|(_, r)| r);
    let (candidate, extras) = match strip_extras(before_marker) {
        Ok(split) => split,
        // Not a path with extras; let the PEP 508 parser explain.
        Err(_) if !looks_like_path(before_marker) => (before_marker, Vec::new()),
        Err(e) => return Err(e),
    };
    let path = clean_join(base_dir, Path::new(candidate));

    if looks_like_path(candidate) && path.is_dir() {
        if !is_installable_dir(&path) {
            return Err(format!(
                "directory `{candidate}` is not installable: it has neither pyproject.toml nor setup.py"
            ));
        }
        return Ok(RequirementSpec::Path {
            name: None,
            path,
            extras,
            marker: parse_marker(marker_text.unwrap_or(""))?,
        });
    }
    if is_archive_file(candidate) {
        if path.is_file() {
            return Ok(RequirementSpec::Path {
                name: None,
                path,
                extras,
                marker: parse_marker(marker_text.unwrap_or(""))?,
            });
        }
        let pep508_url_form = candidate
            .split_once('@')
            .is_some_and(|(before, _)| !looks_like_path(before));
        if !pep508_url_form {
            return Err(format!(
                "`{candidate}` looks like a file name, but {} does not exist",
                path.display()
            ));
        }
    }

    match parse_requirement(text) {
        Ok(requirement) => classify_named(requirement, text, base_dir),
        Err(message) if looks_like_path(candidate) => Err(format!(
            "`{candidate}` looks like a path, but {} is neither a project directory nor a wheel or sdist file\n{message}",
            path.display()
        )),
        Err(message) => Err(message),
    }
}

fn classify_url(text: &str, scheme: &str, base_dir: &Path) -> Result<RequirementSpec, String> {
    if is_vcs_scheme(scheme) {
        return Err(vcs_unsupported(text));
    }
    // pip separates a URL's marker with "; " (a bare ";" may be part of the URL).
    let (url_text, marker_text) = match text.split_once("; ") {
        Some((u, m)) => (u.trim(), m),
        None => (text, ""),
    };
    let marker = parse_marker(marker_text)?;
    match scheme {
        "file" => {
            let (url_text, extras) = strip_extras(url_text)?;
            Ok(RequirementSpec::Path {
                name: None,
                path: file_url_to_path(url_text, base_dir)?,
                extras,
                marker,
            })
        }
        "http" | "https" => {
            let url =
                url::Url::parse(url_text).map_err(|e| format!("invalid URL `{url_text}`: {e}"))?;
            let (name, extras) = egg_fragment(&url)?;
            Ok(RequirementSpec::Url {
                name,
                url,
                extras,
                marker,
            })
        }
        other => Err(format!(
            "`{url_text}` uses the `{other}:` scheme; pyward downloads only over https and http, or from local files"
        )),
    }
}

/// `#egg=name[extras]` in a URL fragment, as pip reads it.
fn egg_fragment(url: &url::Url) -> Result<(Option<PackageName>, Vec<ExtraName>), String> {
    let Some(fragment) = url.fragment() else {
        return Ok((None, Vec::new()));
    };
    let Some(egg) = fragment
        .split('&')
        .find_map(|part| part.strip_prefix("egg="))
    else {
        return Ok((None, Vec::new()));
    };
    let (name, extras) = strip_extras(egg)?;
    let name =
        PackageName::from_str(name).map_err(|e| format!("invalid `#egg=` name `{name}`: {e}"))?;
    Ok((Some(name), extras))
}

fn classify_named(
    requirement: Requirement,
    text: &str,
    base_dir: &Path,
) -> Result<RequirementSpec, String> {
    let Some(VersionOrUrl::Url(url)) = &requirement.version_or_url else {
        return Ok(RequirementSpec::Named(requirement));
    };
    let scheme = url.raw().scheme().to_ascii_lowercase();
    if is_vcs_scheme(&scheme) {
        return Err(vcs_unsupported(text));
    }
    match scheme.as_str() {
        "http" | "https" => Ok(RequirementSpec::Named(requirement)),
        "file" => {
            // Take the URL as written: `Url` would turn `file:../x` into `file:///x`.
            let raw = text
                .split_once('@')
                .map(|(_, r)| r.trim_start())
                .and_then(|r| r.split_whitespace().next())
                .unwrap_or("")
                .trim_end_matches(';');
            let path = if raw.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("file:")) {
                file_url_to_path(raw, base_dir)?
            } else {
                url.raw()
                    .to_file_path()
                    .map_err(|()| format!("`{url}` is not a local file URL"))?
            };
            Ok(RequirementSpec::Path {
                name: Some(requirement.name),
                path,
                extras: requirement.extras,
                marker: requirement.marker,
            })
        }
        other => Err(format!(
            "`{url}` uses the `{other}:` scheme; pyward downloads only over https and http, or from local files"
        )),
    }
}

/// `-e` targets: a project directory, optionally with extras.
pub(crate) fn classify_editable(text: &str, base_dir: &Path) -> Result<RequirementSpec, String> {
    let text = text.trim();
    if let Some(scheme) = url_scheme(text) {
        if is_vcs_scheme(&scheme) {
            return Err(vcs_unsupported(text));
        }
        if scheme != "file" {
            return Err(format!(
                "`-e {text}`: editable installs need a local project directory"
            ));
        }
    }
    let (candidate, extras) = strip_extras(text)?;
    let path = match url_scheme(candidate) {
        Some(_) => file_url_to_path(candidate, base_dir)?,
        None => clean_join(base_dir, Path::new(candidate)),
    };
    if !path.is_dir() {
        return Err(format!(
            "`-e {candidate}`: {} is not a directory; editable installs need a local project directory",
            path.display()
        ));
    }
    if !is_installable_dir(&path) {
        return Err(format!(
            "`-e {candidate}`: directory is not installable: it has neither pyproject.toml nor setup.py"
        ));
    }
    Ok(RequirementSpec::Editable { path, extras })
}
