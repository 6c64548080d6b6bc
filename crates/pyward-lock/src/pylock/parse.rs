//! Reading `pylock.toml` into the model, checking everything PEP 751 makes an
//! installer refuse that needs no interpreter: lock-version, required keys,
//! value types, names, versions, markers, one source kind per package,
//! hashes on every file, filenames that belong to their package, relative
//! subdirectories. Errors carry the line of the offending key.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path};
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName};
use pyward_dist::{SdistFilename, WheelFilename};
use toml_edit::{Datetime, Document, Item, Offset, TableLike, Value};

use super::marker::LockMarker;
use super::toml_value::{table_from, TomlTable};
use super::{
    AttestationIdentity, LockLocation, LockedArchive, LockedDirectory, LockedFile, LockedPackage,
    LockedVcs, PackageSource, PyLock, PyLockError,
};
use crate::pep508::{line_of, url_filename};

const TOP_LEVEL_KEYS: &[&str] = &[
    "lock-version",
    "environments",
    "requires-python",
    "extras",
    "dependency-groups",
    "default-groups",
    "created-by",
    "packages",
    "tool",
];
const PACKAGE_KEYS: &[&str] = &[
    "name",
    "version",
    "marker",
    "requires-python",
    "dependencies",
    "vcs",
    "directory",
    "archive",
    "index",
    "sdist",
    "wheels",
    "attestation-identities",
    "tool",
];
const FILE_KEYS: &[&str] = &["name", "upload-time", "url", "path", "size", "hashes"];
const ARCHIVE_KEYS: &[&str] = &[
    "url",
    "path",
    "size",
    "upload-time",
    "hashes",
    "subdirectory",
];
const VCS_KEYS: &[&str] = &[
    "type",
    "url",
    "path",
    "requested-revision",
    "commit-id",
    "subdirectory",
];
const DIRECTORY_KEYS: &[&str] = &["path", "editable", "subdirectory"];
const VCS_TYPES: &[&str] = &["git", "hg", "svn", "bzr"];

/// Hex digest lengths of the algorithms whose values can be checked.
const HEX_LENGTHS: &[(&str, usize)] = &[
    ("md5", 32),
    ("sha1", 40),
    ("sha224", 56),
    ("sha256", 64),
    ("sha384", 96),
    ("sha512", 128),
    ("sha3_224", 56),
    ("sha3_256", 64),
    ("sha3_384", 96),
    ("sha3_512", 128),
    ("blake2s", 64),
    ("blake2b", 128),
];
const VERIFIED_ALGORITHMS: &[&str] = &["sha256", "sha384", "sha512"];

pub(super) fn parse(text: &str, path: &Path) -> Result<PyLock, PyLockError> {
    let doc = Document::parse(text).map_err(|e| PyLockError::Toml {
        location: LockLocation {
            path: path.to_path_buf(),
            line: e.span().map(|s| line_of(text, s.start)),
            package: None,
        },
        message: e.message().trim().to_string(),
    })?;
    let warnings = RefCell::new(Vec::new());
    let newlines: Vec<usize> = text
        .bytes()
        .enumerate()
        .filter(|(_, b)| *b == b'\n')
        .map(|(i, _)| i)
        .collect();
    let cx = Cx {
        text,
        newlines: &newlines,
        path,
        package: None,
        warnings: &warnings,
    };
    let root = doc.as_table();

    let version_text = cx.required_str(root, "lock-version")?;
    let lock_version = Version::from_str(version_text).map_err(|e| {
        cx.invalid(
            cx.key_line(root, "lock-version"),
            format!("lock-version `{version_text}` is not a version: {e}"),
        )
    })?;
    match lock_version.release() {
        [1] | [1, 0] => {}
        [1, ..] => cx.warn(
            cx.key_line(root, "lock-version"),
            format!("lock-version {lock_version} is newer than 1.0; keys pyward does not know are ignored"),
        ),
        _ => {
            return Err(PyLockError::UnsupportedVersion {
                location: cx.location(cx.key_line(root, "lock-version")),
                version: version_text.to_string(),
            })
        }
    }
    cx.unknown_keys(root, TOP_LEVEL_KEYS, "the top level");

    let environments = match root.get("environments") {
        None => None,
        Some(item) => Some(
            cx.string_array(item, "environments")?
                .into_iter()
                .map(|(s, span)| {
                    LockMarker::parse(s).map_err(|e| {
                        cx.invalid(
                            cx.span_line(span),
                            format!("invalid environment marker `{s}`: {e}"),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let requires_python = cx.specifiers(root, "requires-python")?;
    let extras = match root.get("extras") {
        None => None,
        Some(item) => Some(
            cx.string_array(item, "extras")?
                .into_iter()
                .map(|(s, span)| cx.normalized_extra(s, span))
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    let group_list = |key: &str| -> Result<Option<Vec<String>>, PyLockError> {
        match root.get(key) {
            None => Ok(None),
            Some(item) => Ok(Some(
                cx.string_array(item, key)?
                    .into_iter()
                    .map(|(s, _)| s.to_string())
                    .collect(),
            )),
        }
    };
    let dependency_groups = group_list("dependency-groups")?;
    let default_groups = group_list("default-groups")?;
    let created_by = cx.required_str(root, "created-by")?.to_string();

    // `pip lock` leaves out `packages` when there are none.
    let packages = match root.get("packages") {
        None => Vec::new(),
        Some(item) => cx
            .tables(item, "packages")?
            .into_iter()
            .map(|(table, span)| cx.package(table, span))
            .collect::<Result<Vec<_>, _>>()?,
    };
    let tool = cx.tool(root)?;

    Ok(PyLock {
        path: path.to_path_buf(),
        lock_version,
        environments,
        requires_python,
        extras,
        dependency_groups,
        default_groups,
        created_by,
        packages,
        tool,
        warnings: warnings.into_inner(),
    })
}

/// A value and where it is in the text.
type Spanned<T> = (T, Option<Range<usize>>);

#[derive(Clone, Copy)]
enum FileKind {
    Sdist,
    Wheel,
}

struct Cx<'a> {
    text: &'a str,
    /// Offsets of the text's newlines, for line numbers in messages.
    newlines: &'a [usize],
    path: &'a Path,
    /// `name version` of the package being read.
    package: Option<&'a str>,
    warnings: &'a RefCell<Vec<String>>,
}

impl<'a> Cx<'a> {
    fn location(&self, line: Option<usize>) -> LockLocation {
        LockLocation {
            path: self.path.to_path_buf(),
            line,
            package: self.package.map(str::to_string),
        }
    }

    fn invalid(&self, line: Option<usize>, message: String) -> PyLockError {
        PyLockError::Invalid {
            location: self.location(line),
            message,
        }
    }

    fn warn(&self, line: Option<usize>, message: String) {
        let location = self.location(line);
        self.warnings
            .borrow_mut()
            .push(format!("{location}: {message}"));
    }

    fn span_line(&self, span: Option<Range<usize>>) -> Option<usize> {
        // Lines are computed for every key a message may name, so they are
        // looked up in the newline index rather than counted each time.
        span.map(|s| {
            self.newlines
                .partition_point(|&n| n < s.start.min(self.text.len()))
                + 1
        })
    }

    /// The line of `key` in `table` (of its value when the key has no span).
    fn key_line(&self, table: &dyn TableLike, key: &str) -> Option<usize> {
        let (k, item) = table.get_key_value(key)?;
        self.span_line(k.span().or_else(|| item.span()))
    }

    fn unknown_keys(&self, table: &dyn TableLike, known: &[&str], what: &str) {
        for (key, _) in table.iter() {
            if !known.contains(&key) {
                self.warn(
                    self.key_line(table, key),
                    format!("unknown key `{key}` in {what} is ignored"),
                );
            }
        }
    }

    fn optional_str(
        &self,
        table: &'a dyn TableLike,
        key: &str,
    ) -> Result<Option<&'a str>, PyLockError> {
        match table.get(key) {
            None => Ok(None),
            Some(item) => item.as_str().map(Some).ok_or_else(|| {
                self.invalid(
                    self.key_line(table, key),
                    format!("`{key}` must be a string"),
                )
            }),
        }
    }

    fn required_str(&self, table: &'a dyn TableLike, key: &str) -> Result<&'a str, PyLockError> {
        self.optional_str(table, key)?.ok_or_else(|| {
            self.invalid(
                self.span_line(table_span(table)),
                format!("the required key `{key}` is missing"),
            )
        })
    }

    fn optional_path(
        &self,
        table: &'a dyn TableLike,
        key: &str,
    ) -> Result<Option<&'a str>, PyLockError> {
        let value = self.optional_str(table, key)?;
        if let Some(p) = value {
            if p.is_empty() || p.contains('\0') {
                return Err(self.invalid(
                    self.key_line(table, key),
                    format!("`{key}` is not a usable path"),
                ));
            }
        }
        Ok(value)
    }

    fn subdirectory(&self, table: &'a dyn TableLike) -> Result<Option<String>, PyLockError> {
        let Some(sub) = self.optional_path(table, "subdirectory")? else {
            return Ok(None);
        };
        let relative_inside = Path::new(sub)
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
            && !sub.contains('\\');
        if !relative_inside {
            return Err(self.invalid(
                self.key_line(table, "subdirectory"),
                format!("subdirectory `{sub}` must be a relative path inside the source tree"),
            ));
        }
        Ok(Some(sub.to_string()))
    }

    fn specifiers(
        &self,
        table: &'a dyn TableLike,
        key: &str,
    ) -> Result<Option<VersionSpecifiers>, PyLockError> {
        let Some(s) = self.optional_str(table, key)? else {
            return Ok(None);
        };
        VersionSpecifiers::from_str(s).map(Some).map_err(|e| {
            self.invalid(
                self.key_line(table, key),
                format!("`{key}` `{s}` is invalid: {e}"),
            )
        })
    }

    fn normalized_extra(
        &self,
        s: &str,
        span: Option<Range<usize>>,
    ) -> Result<ExtraName, PyLockError> {
        let name = ExtraName::from_str(s).map_err(|e| {
            self.invalid(
                self.span_line(span.clone()),
                format!("extra `{s}` is not a valid name: {e}"),
            )
        })?;
        if name.as_ref() != s {
            return Err(self.invalid(
                self.span_line(span),
                format!("extra `{s}` is not normalized; write it as `{name}`"),
            ));
        }
        Ok(name)
    }

    fn string_array(
        &self,
        item: &'a Item,
        key: &str,
    ) -> Result<Vec<Spanned<&'a str>>, PyLockError> {
        let array = item.as_array().ok_or_else(|| {
            self.invalid(
                self.span_line(item.span()),
                format!("`{key}` must be an array of strings"),
            )
        })?;
        array
            .iter()
            .map(|v| {
                v.as_str().map(|s| (s, v.span())).ok_or_else(|| {
                    self.invalid(
                        self.span_line(v.span()),
                        format!("`{key}` must be an array of strings"),
                    )
                })
            })
            .collect()
    }

    fn table(&self, item: &'a Item, key: &str) -> Result<&'a dyn TableLike, PyLockError> {
        item.as_table_like().ok_or_else(|| {
            self.invalid(
                self.span_line(item.span()),
                format!("`{key}` must be a table"),
            )
        })
    }

    /// An array of tables, written either as `[[key]]` or as an array of
    /// inline tables.
    fn tables(
        &self,
        item: &'a Item,
        key: &str,
    ) -> Result<Vec<Spanned<&'a dyn TableLike>>, PyLockError> {
        let not_tables = || {
            self.invalid(
                self.span_line(item.span()),
                format!("`{key}` must be an array of tables"),
            )
        };
        match item {
            Item::ArrayOfTables(array) => Ok(array
                .iter()
                .map(|t| (t as &dyn TableLike, t.span()))
                .collect()),
            Item::Value(Value::Array(array)) => array
                .iter()
                .map(|v| match v {
                    Value::InlineTable(t) => Ok((t as &dyn TableLike, v.span())),
                    _ => Err(not_tables()),
                })
                .collect(),
            _ => Err(not_tables()),
        }
    }

    fn tool(&self, table: &'a dyn TableLike) -> Result<Option<TomlTable>, PyLockError> {
        match table.get("tool") {
            None => Ok(None),
            Some(item) => Ok(Some(table_from(self.table(item, "tool")?.iter()))),
        }
    }

    fn package(
        &self,
        table: &'a dyn TableLike,
        span: Option<Range<usize>>,
    ) -> Result<LockedPackage, PyLockError> {
        let package_line = self.span_line(span.or_else(|| table_span(table)));
        let name_text = self.optional_str(table, "name")?.ok_or_else(|| {
            self.invalid(package_line, "a package entry has no `name`".to_string())
        })?;
        let name = PackageName::from_str(name_text).map_err(|e| {
            self.invalid(
                self.key_line(table, "name"),
                format!("package name `{name_text}` is invalid: {e}"),
            )
        })?;
        if name.as_ref() != name_text {
            return Err(self.invalid(
                self.key_line(table, "name"),
                format!("package name `{name_text}` is not normalized; write it as `{name}`"),
            ));
        }
        let named = Cx {
            package: Some(name.as_ref()),
            ..*self
        };
        let version = match named.optional_str(table, "version")? {
            None => None,
            Some(v) => Some(Version::from_str(v).map_err(|e| {
                named.invalid(
                    named.key_line(table, "version"),
                    format!("version `{v}` is invalid: {e}"),
                )
            })?),
        };
        let label = match &version {
            Some(v) => format!("{name} {v}"),
            None => name.to_string(),
        };
        let cx = Cx {
            package: Some(&label),
            ..*self
        };
        cx.unknown_keys(table, PACKAGE_KEYS, "a package entry");

        let marker = match cx.optional_str(table, "marker")? {
            None => None,
            Some(m) => Some(LockMarker::parse(m).map_err(|e| {
                cx.invalid(
                    cx.key_line(table, "marker"),
                    format!("invalid marker `{m}`: {e}"),
                )
            })?),
        };
        let requires_python = cx.specifiers(table, "requires-python")?;
        let dependencies = match table.get("dependencies") {
            None => Vec::new(),
            Some(item) => cx
                .tables(item, "dependencies")?
                .into_iter()
                .map(|(t, _)| table_from(t.iter()))
                .collect(),
        };
        let index = cx.optional_str(table, "index")?.map(str::to_string);
        let source = cx.source(table, package_line, &name, version.as_ref())?;
        let attestation_identities = match table.get("attestation-identities") {
            None => Vec::new(),
            Some(item) => cx
                .tables(item, "attestation-identities")?
                .into_iter()
                .map(|(t, span)| {
                    let kind = cx.optional_str(t, "kind")?.ok_or_else(|| {
                        cx.invalid(
                            cx.span_line(span),
                            "an attestation identity has no `kind`".to_string(),
                        )
                    })?;
                    let mut fields = table_from(t.iter());
                    fields.remove("kind");
                    Ok(AttestationIdentity {
                        kind: kind.to_string(),
                        fields,
                    })
                })
                .collect::<Result<Vec<_>, PyLockError>>()?,
        };
        let tool = cx.tool(table)?;
        Ok(LockedPackage {
            name,
            version,
            marker,
            requires_python,
            dependencies,
            index,
            source,
            attestation_identities,
            tool,
        })
    }

    fn source(
        &self,
        table: &'a dyn TableLike,
        package_line: Option<usize>,
        name: &PackageName,
        version: Option<&Version>,
    ) -> Result<PackageSource, PyLockError> {
        let present: Vec<&str> = ["vcs", "directory", "archive", "sdist", "wheels"]
            .into_iter()
            .filter(|k| table.contains_key(k))
            .collect();
        let direct: Vec<&str> = present
            .iter()
            .copied()
            .filter(|k| matches!(*k, "vcs" | "directory" | "archive"))
            .collect();
        let has_distributions = table.contains_key("sdist")
            || table
                .get("wheels")
                .is_some_and(|w| w.as_array().is_none_or(|a| !a.is_empty()) && !is_empty_aot(w));
        let conflict = if has_distributions && !direct.is_empty() || direct.len() > 1 {
            Some(format!(
                "has more than one source ({}); an entry needs exactly one of vcs, directory, archive, or sdist/wheels — regenerate the lock file",
                present.join(", ")
            ))
        } else if !has_distributions && direct.is_empty() {
            Some("has no source; an entry needs one of vcs, directory, archive, sdist or wheels — regenerate the lock file".to_string())
        } else {
            None
        };
        if let Some(message) = conflict {
            return Err(self.invalid(package_line, format!("package `{name}` {message}")));
        }

        if let Some(item) = table.get("vcs") {
            return self.vcs(self.table(item, "vcs")?).map(PackageSource::Vcs);
        }
        if let Some(item) = table.get("directory") {
            let t = self.table(item, "directory")?;
            self.unknown_keys(t, DIRECTORY_KEYS, "`directory`");
            let path = self.optional_path(t, "path")?.ok_or_else(|| {
                self.invalid(
                    self.key_line(table, "directory"),
                    "`directory` needs a `path`".to_string(),
                )
            })?;
            let editable = match t.get("editable") {
                None => false,
                Some(v) => v.as_bool().ok_or_else(|| {
                    self.invalid(
                        self.key_line(t, "editable"),
                        "`editable` must be true or false".to_string(),
                    )
                })?,
            };
            return Ok(PackageSource::Directory(LockedDirectory {
                path: path.to_string(),
                editable,
                subdirectory: self.subdirectory(t)?,
            }));
        }
        if let Some(item) = table.get("archive") {
            let t = self.table(item, "archive")?;
            self.unknown_keys(t, ARCHIVE_KEYS, "`archive`");
            let (url, path) = self.url_or_path(t, self.key_line(table, "archive"), "`archive`")?;
            return Ok(PackageSource::Archive(LockedArchive {
                url,
                path,
                size: self.size(t)?,
                upload_time: self.upload_time(t)?,
                hashes: self.hashes(t, self.key_line(table, "archive"), "the archive")?,
                subdirectory: self.subdirectory(t)?,
            }));
        }
        let sdist = match table.get("sdist") {
            None => None,
            Some(item) => {
                let t = self.table(item, "sdist")?;
                let line = self
                    .span_line(item.span())
                    .or(self.key_line(table, "sdist"));
                Some(self.file(t, line, FileKind::Sdist, name, version)?)
            }
        };
        let wheels = match table.get("wheels") {
            None => Vec::new(),
            Some(item) => self
                .tables(item, "wheels")?
                .into_iter()
                .map(|(t, span)| {
                    let line = self.span_line(span.or_else(|| table_span(t)));
                    self.file(t, line, FileKind::Wheel, name, version)
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        Ok(PackageSource::Distributions { sdist, wheels })
    }

    fn vcs(&self, t: &'a dyn TableLike) -> Result<LockedVcs, PyLockError> {
        self.unknown_keys(t, VCS_KEYS, "`vcs`");
        let line = self.span_line(table_span(t));
        let kind = self.required_str(t, "type")?;
        if !VCS_TYPES.contains(&kind) {
            return Err(self.invalid(
                self.key_line(t, "type"),
                format!(
                    "unknown VCS type `{kind}`; expected one of {}",
                    VCS_TYPES.join(", ")
                ),
            ));
        }
        let url = self.optional_str(t, "url")?.map(str::to_string);
        let path = self.optional_path(t, "path")?.map(str::to_string);
        if url.is_none() && path.is_none() {
            return Err(self.invalid(line, "`vcs` needs a `url` or a `path`".to_string()));
        }
        Ok(LockedVcs {
            kind: kind.to_string(),
            url,
            path,
            requested_revision: self
                .optional_str(t, "requested-revision")?
                .map(str::to_string),
            commit_id: self.required_str(t, "commit-id")?.to_string(),
            subdirectory: self.subdirectory(t)?,
        })
    }

    fn url_or_path(
        &self,
        t: &'a dyn TableLike,
        line: Option<usize>,
        what: &str,
    ) -> Result<(Option<url::Url>, Option<String>), PyLockError> {
        let url = match self.optional_str(t, "url")? {
            None => None,
            Some(u) => Some(url::Url::parse(u).map_err(|e| {
                self.invalid(
                    self.key_line(t, "url"),
                    format!("{what} has an invalid url `{u}`: {e}"),
                )
            })?),
        };
        let path = self.optional_path(t, "path")?.map(str::to_string);
        if url.is_none() && path.is_none() {
            return Err(self.invalid(line, format!("{what} needs a `url` or a `path`")));
        }
        Ok((url, path))
    }

    fn size(&self, t: &'a dyn TableLike) -> Result<Option<u64>, PyLockError> {
        match t.get("size") {
            None => Ok(None),
            Some(item) => item
                .as_integer()
                .and_then(|i| u64::try_from(i).ok())
                .map(Some)
                .ok_or_else(|| {
                    self.invalid(
                        self.key_line(t, "size"),
                        "`size` must be a non-negative integer".to_string(),
                    )
                }),
        }
    }

    /// `upload-time` as a UTC TOML datetime (an offset of zero is written `Z`).
    fn upload_time(&self, t: &'a dyn TableLike) -> Result<Option<Datetime>, PyLockError> {
        let Some(item) = t.get("upload-time") else {
            return Ok(None);
        };
        let line = self.key_line(t, "upload-time");
        let Some(Value::Datetime(d)) = item.as_value() else {
            return Err(self.invalid(
                line,
                "`upload-time` must be a TOML datetime, like 2025-01-25T11:30:10Z".to_string(),
            ));
        };
        let mut d = *d.value();
        if d.date.is_none() || d.time.is_none() {
            return Err(self.invalid(
                line,
                "`upload-time` needs both a date and a time".to_string(),
            ));
        }
        match d.offset {
            None | Some(Offset::Z) | Some(Offset::Custom { minutes: 0 }) => {
                d.offset = Some(Offset::Z)
            }
            Some(Offset::Custom { .. }) => {
                return Err(self.invalid(
                    line,
                    format!("`upload-time` {d} is not in UTC; PEP 751 requires UTC"),
                ))
            }
        }
        Ok(Some(d))
    }

    fn hashes(
        &self,
        t: &'a dyn TableLike,
        line: Option<usize>,
        what: &str,
    ) -> Result<BTreeMap<String, String>, PyLockError> {
        let missing = || {
            self.invalid(
                line,
                format!("{what} has no hashes; every file needs at least one (sha256) so it can be verified — regenerate the lock file with hashes"),
            )
        };
        let Some(item) = t.get("hashes") else {
            return Err(missing());
        };
        let table = self.table(item, "hashes")?;
        let line = self.key_line(t, "hashes").or(line);
        let mut hashes = BTreeMap::new();
        for (algorithm, value) in table.iter() {
            let digest = value.as_str().ok_or_else(|| {
                self.invalid(line, format!("hash `{algorithm}` must be a string"))
            })?;
            let algorithm = algorithm.to_ascii_lowercase();
            let digest = digest.to_ascii_lowercase();
            if let Some((_, len)) = HEX_LENGTHS.iter().find(|(a, _)| *a == algorithm) {
                if digest.len() != *len || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return Err(self.invalid(
                        line,
                        format!("{what}: the {algorithm} hash `{digest}` is not {len} hex digits"),
                    ));
                }
            } else if digest.is_empty() {
                return Err(self.invalid(line, format!("{what}: the {algorithm} hash is empty")));
            }
            hashes.insert(algorithm, digest);
        }
        if hashes.is_empty() {
            return Err(missing());
        }
        if !VERIFIED_ALGORITHMS.iter().any(|a| hashes.contains_key(*a)) {
            let algorithms: Vec<&str> = hashes.keys().map(String::as_str).collect();
            return Err(self.invalid(
                line,
                format!(
                    "{what} has only {} hashes; pyward verifies files with sha256, sha384 or sha512 — regenerate the lock file",
                    algorithms.join(", ")
                ),
            ));
        }
        Ok(hashes)
    }

    fn file(
        &self,
        t: &'a dyn TableLike,
        line: Option<usize>,
        kind: FileKind,
        package: &PackageName,
        version: Option<&Version>,
    ) -> Result<LockedFile, PyLockError> {
        let what = match kind {
            FileKind::Sdist => "the sdist",
            FileKind::Wheel => "a wheel",
        };
        self.unknown_keys(t, FILE_KEYS, what);
        let (url, path) = self.url_or_path(t, line, what)?;
        let name = match self.optional_str(t, "name")? {
            Some(n) => n.to_string(),
            None => url
                .as_ref()
                .and_then(url_filename)
                .or_else(|| path.as_deref().and_then(path_filename))
                .ok_or_else(|| {
                    self.invalid(
                        line,
                        format!("{what} has no `name` and its url/path does not end in a filename"),
                    )
                })?,
        };
        let what = match kind {
            FileKind::Sdist => format!("sdist `{name}`"),
            FileKind::Wheel => format!("wheel `{name}`"),
        };
        let (file_name, file_version) = match kind {
            FileKind::Wheel => {
                let w = WheelFilename::from_str(&name)
                    .map_err(|e| self.invalid(line, e.to_string()))?;
                (w.name, w.version)
            }
            FileKind::Sdist => {
                let s = SdistFilename::parse(&name, Some(package)).map_err(|e| {
                    self.invalid(line, format!("{e}; the sdist of `{package}` must be named `{package}-<version>.tar.gz`"))
                })?;
                (s.name, s.version)
            }
        };
        if &file_name != package {
            return Err(self.invalid(
                line,
                format!("{what} belongs to `{file_name}`, not to `{package}`"),
            ));
        }
        if let Some(version) = version {
            if &file_version != version {
                return Err(self.invalid(
                    line,
                    format!("{what} is version {file_version}, but the entry is version {version}"),
                ));
            }
        }
        Ok(LockedFile {
            url,
            path,
            size: self.size(t)?,
            upload_time: self.upload_time(t)?,
            hashes: self.hashes(t, line, &what)?,
            name,
        })
    }
}

fn table_span(table: &dyn TableLike) -> Option<Range<usize>> {
    table.iter().next().and_then(|(_, item)| item.span())
}

fn is_empty_aot(item: &Item) -> bool {
    matches!(item, Item::ArrayOfTables(a) if a.is_empty())
}

/// The last component of a lock-file path (`/` or `\` separated).
fn path_filename(path: &str) -> Option<String> {
    let last = path.rsplit(['/', '\\']).next()?;
    (!last.is_empty()).then(|| last.to_string())
}
