//! A project's own requirements from `pyproject.toml`: `[project]`
//! dependencies, optional dependencies (extras) and `requires-python`
//! (PEP 621), `[dependency-groups]` with `include-group` expanded (PEP 735),
//! and the raw `[tool.pyward]` table for the policy loader.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::VersionSpecifiers;
use pep508_rs::{ExtraName, PackageName, Requirement};
use toml_edit::{Document, Item, Value};

use crate::pep508::{line_of, parse_requirement};

/// What a `pyproject.toml` asks to install.
#[derive(Debug, Clone, Default)]
pub struct ProjectRequirements {
    pub name: Option<PackageName>,
    pub dependencies: Vec<Requirement>,
    /// `[project.optional-dependencies]`, by extra name.
    pub optional: BTreeMap<ExtraName, Vec<Requirement>>,
    /// `[dependency-groups]` by normalized group name, with `include-group`
    /// entries replaced by the included group's requirements.
    pub dependency_groups: BTreeMap<String, Vec<Requirement>>,
    pub requires_python: Option<VersionSpecifiers>,
    /// `[project].dynamic`: fields a build backend computes (when it lists
    /// `dependencies`, `dependencies` above is not the whole story).
    pub dynamic: Vec<String>,
    /// `[tool.pyward]` as written.
    pub tool_pyward: Option<toml_edit::Table>,
}

/// Why a `pyproject.toml` cannot be used; names the file and line.
#[derive(Debug, thiserror::Error)]
pub enum PyprojectError {
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not valid TOML: {message}", location(path, *line))]
    Toml {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
    #[error("{}: {message}", location(path, *line))]
    Invalid {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },
}

fn location(path: &Path, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    }
}

/// Read the requirements of the project whose `pyproject.toml` is `path`.
pub fn read_pyproject_dependencies(path: &Path) -> Result<ProjectRequirements, PyprojectError> {
    let text = std::fs::read_to_string(path).map_err(|source| PyprojectError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_pyproject_dependencies(&text, path)
}

/// Like [`read_pyproject_dependencies`] on text already read.
pub fn parse_pyproject_dependencies(
    text: &str,
    path: &Path,
) -> Result<ProjectRequirements, PyprojectError> {
    let doc = Document::parse(text).map_err(|e| PyprojectError::Toml {
        path: path.to_path_buf(),
        line: e.span().map(|s| line_of(text, s.start)),
        message: e.message().trim().to_string(),
    })?;
    let cx = Context { text, path };
    let mut out = ProjectRequirements::default();

    if let Some(project) = doc.get("project") {
        let project = cx.table_like(project, "[project]")?;
        if let Some(name) = project.get("name") {
            let s = cx.string(name, "project.name")?;
            out.name = Some(PackageName::from_str(s).map_err(|e| {
                cx.invalid(
                    name.span(),
                    format!("project.name `{s}` is not a valid name: {e}"),
                )
            })?);
        }
        if let Some(deps) = project.get("dependencies") {
            out.dependencies = cx.requirements(deps, "project.dependencies")?;
        }
        if let Some(optional) = project.get("optional-dependencies") {
            let table = cx.table_like(optional, "project.optional-dependencies")?;
            for (extra, deps) in table.iter() {
                let name = ExtraName::from_str(extra).map_err(|e| {
                    cx.invalid(
                        deps.span(),
                        format!("`{extra}` is not a valid extra name: {e}"),
                    )
                })?;
                let context = format!("project.optional-dependencies.{extra}");
                out.optional.insert(name, cx.requirements(deps, &context)?);
            }
        }
        if let Some(rp) = project.get("requires-python") {
            let s = cx.string(rp, "project.requires-python")?;
            out.requires_python = Some(VersionSpecifiers::from_str(s).map_err(|e| {
                cx.invalid(
                    rp.span(),
                    format!("project.requires-python `{s}` is invalid: {e}"),
                )
            })?);
        }
        if let Some(dynamic) = project.get("dynamic") {
            let array = cx.array(dynamic, "project.dynamic")?;
            for v in array.iter() {
                let s = v.as_str().ok_or_else(|| {
                    cx.invalid(v.span(), "project.dynamic must list strings".to_string())
                })?;
                out.dynamic.push(s.to_string());
            }
        }
    }

    if let Some(groups) = doc.get("dependency-groups") {
        out.dependency_groups = cx.dependency_groups(groups)?;
    }

    if let Some(pyward) = doc
        .get("tool")
        .and_then(Item::as_table_like)
        .and_then(|tool| tool.get("pyward"))
    {
        let table = match pyward {
            Item::Table(t) => t.clone(),
            Item::Value(Value::InlineTable(t)) => t.clone().into_table(),
            other => {
                return Err(cx.invalid(other.span(), "[tool.pyward] must be a table".to_string()))
            }
        };
        out.tool_pyward = Some(table);
    }
    Ok(out)
}

/// One entry of a dependency group before `include-group` expansion.
enum GroupEntry {
    Requirement(Requirement),
    Include {
        group: String,
        span: Option<Range<usize>>,
    },
}

struct Context<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Context<'_> {
    fn invalid(&self, span: Option<Range<usize>>, message: String) -> PyprojectError {
        PyprojectError::Invalid {
            path: self.path.to_path_buf(),
            line: span.map(|s| line_of(self.text, s.start)),
            message,
        }
    }

    fn table_like<'i>(
        &self,
        item: &'i Item,
        what: &str,
    ) -> Result<&'i dyn toml_edit::TableLike, PyprojectError> {
        item.as_table_like()
            .ok_or_else(|| self.invalid(item.span(), format!("{what} must be a table")))
    }

    fn string<'i>(&self, item: &'i Item, what: &str) -> Result<&'i str, PyprojectError> {
        item.as_str()
            .ok_or_else(|| self.invalid(item.span(), format!("{what} must be a string")))
    }

    fn array<'i>(
        &self,
        item: &'i Item,
        what: &str,
    ) -> Result<&'i toml_edit::Array, PyprojectError> {
        item.as_array()
            .ok_or_else(|| self.invalid(item.span(), format!("{what} must be an array")))
    }

    fn requirement(&self, value: &Value, what: &str) -> Result<Requirement, PyprojectError> {
        let s = value.as_str().ok_or_else(|| {
            self.invalid(
                value.span(),
                format!("{what} must list requirement strings"),
            )
        })?;
        parse_requirement(s).map_err(|message| {
            self.invalid(
                value.span(),
                format!("invalid requirement in {what}: {message}"),
            )
        })
    }

    fn requirements(&self, item: &Item, what: &str) -> Result<Vec<Requirement>, PyprojectError> {
        self.array(item, what)?
            .iter()
            .map(|v| self.requirement(v, what))
            .collect()
    }

    fn dependency_groups(
        &self,
        item: &Item,
    ) -> Result<BTreeMap<String, Vec<Requirement>>, PyprojectError> {
        let table = self.table_like(item, "[dependency-groups]")?;
        let mut raw: BTreeMap<String, (String, Vec<GroupEntry>)> = BTreeMap::new();
        for (name, entries) in table.iter() {
            let normalized = normalize_group(name).ok_or_else(|| {
                self.invalid(
                    entries.span(),
                    format!("`{name}` is not a valid dependency group name"),
                )
            })?;
            if let Some((first, _)) = raw.get(&normalized) {
                return Err(self.invalid(
                    entries.span(),
                    format!("dependency groups `{first}` and `{name}` have the same normalized name; merge them"),
                ));
            }
            let what = format!("dependency-groups.{name}");
            let mut parsed = Vec::new();
            for value in self.array(entries, &what)?.iter() {
                if let Some(include) = value.as_inline_table() {
                    let group = match (include.len(), include.get("include-group")) {
                        (1, Some(v)) => v.as_str(),
                        _ => None,
                    };
                    let group = group.ok_or_else(|| {
                        self.invalid(
                            value.span(),
                            format!("{what}: a table entry must be exactly {{ include-group = \"name\" }}"),
                        )
                    })?;
                    parsed.push(GroupEntry::Include {
                        group: group.to_string(),
                        span: value.span(),
                    });
                } else {
                    parsed.push(GroupEntry::Requirement(self.requirement(value, &what)?));
                }
            }
            raw.insert(normalized, (name.to_string(), parsed));
        }
        let mut expanded = BTreeMap::new();
        for name in raw.keys() {
            let mut stack = Vec::new();
            let requirements = self.expand_group(name, &raw, &mut stack)?;
            expanded.insert(name.clone(), requirements);
        }
        Ok(expanded)
    }

    fn expand_group(
        &self,
        name: &str,
        raw: &BTreeMap<String, (String, Vec<GroupEntry>)>,
        stack: &mut Vec<String>,
    ) -> Result<Vec<Requirement>, PyprojectError> {
        stack.push(name.to_string());
        let mut out = Vec::new();
        let entries = raw.get(name).map(|(_, e)| e.as_slice()).unwrap_or_default();
        for entry in entries {
            match entry {
                GroupEntry::Requirement(r) => out.push(r.clone()),
                GroupEntry::Include { group, span } => {
                    let target = normalize_group(group).filter(|g| raw.contains_key(g));
                    let Some(target) = target else {
                        return Err(self.invalid(
                            span.clone(),
                            format!("dependency group `{name}` includes `{group}`, which is not defined in [dependency-groups]"),
                        ));
                    };
                    if stack.contains(&target) {
                        let mut chain = stack.clone();
                        chain.push(target);
                        return Err(self.invalid(
                            span.clone(),
                            format!(
                                "dependency groups include each other in a loop: {}",
                                chain.join(" → ")
                            ),
                        ));
                    }
                    out.extend(self.expand_group(&target, raw, stack)?);
                }
            }
        }
        stack.pop();
        Ok(out)
    }
}

/// A dependency group name, normalized like a package name (PEP 735).
pub(crate) fn normalize_group(name: &str) -> Option<String> {
    ExtraName::from_str(name).ok().map(|n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ProjectRequirements, PyprojectError> {
        parse_pyproject_dependencies(text, Path::new("pyproject.toml"))
    }

    #[test]
    fn reads_project_tables_groups_and_tool_pyward() {
        let p = parse(
            r#"
[project]
name = "My_App"
requires-python = ">=3.9"
dependencies = ["flask>=2", "tomli; python_version < '3.11'"]
dynamic = ["version"]

[project.optional-dependencies]
Async = ["asgiref>=3.2"]

[dependency-groups]
test = ["pytest>=8"]
Dev = [{ include-group = "test" }, "ruff"]

[tool.pyward]
fail-on = "high"
"#,
        )
        .unwrap();
        assert_eq!(p.name.unwrap().as_ref(), "my-app");
        assert_eq!(p.dependencies.len(), 2);
        assert_eq!(p.dependencies[1].name.as_ref(), "tomli");
        assert!(!p.dependencies[1].marker.is_true());
        let extra = ExtraName::from_str("async").unwrap();
        assert_eq!(p.optional[&extra][0].name.as_ref(), "asgiref");
        let dev: Vec<&str> = p.dependency_groups["dev"]
            .iter()
            .map(|r| r.name.as_ref())
            .collect();
        assert_eq!(dev, ["pytest", "ruff"]);
        assert!(p
            .requires_python
            .unwrap()
            .contains(&"3.9.1".parse().unwrap()));
        assert_eq!(p.dynamic, ["version"]);
        assert_eq!(p.tool_pyward.unwrap()["fail-on"].as_str(), Some("high"));
    }

    #[test]
    fn a_file_without_project_table_has_no_requirements() {
        let p = parse("[tool.black]\nline-length = 100\n").unwrap();
        assert!(p.name.is_none() && p.dependencies.is_empty() && p.tool_pyward.is_none());
    }

    #[test]
    fn invalid_requirement_names_the_line() {
        let err =
            parse("[project]\nname = \"x\"\ndependencies = [\n  \"ok\",\n  \"bad ===\",\n]\n")
                .unwrap_err()
                .to_string();
        assert!(
            err.starts_with("pyproject.toml:5: invalid requirement in project.dependencies"),
            "{err}"
        );
    }

    #[test]
    fn include_group_errors() {
        let missing = parse("[dependency-groups]\na = [{ include-group = \"b\" }]\n")
            .unwrap_err()
            .to_string();
        assert!(
            missing.contains("pyproject.toml:2") && missing.contains("`b`, which is not defined"),
            "{missing}"
        );
        let cycle = parse("[dependency-groups]\na = [{ include-group = \"b\" }]\nb = [{ include-group = \"A\" }]\n")
            .unwrap_err()
            .to_string();
        assert!(cycle.contains("loop: a → b → a"), "{cycle}");
        let dup = parse("[dependency-groups]\ndev = []\nDev = []\n")
            .unwrap_err()
            .to_string();
        assert!(dup.contains("same normalized name"), "{dup}");
        let bad_table = parse("[dependency-groups]\na = [{ group = \"b\" }]\n")
            .unwrap_err()
            .to_string();
        assert!(bad_table.contains("include-group"), "{bad_table}");
    }

    #[test]
    fn toml_syntax_error_names_the_line() {
        let err = parse("[project]\nname = \"x\"\ndependencies = [\"a\",\n").unwrap_err();
        assert!(
            matches!(err, PyprojectError::Toml { line: Some(_), .. }),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_are_reported() {
        let err = parse("[project]\ndependencies = \"flask\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "pyproject.toml:2: project.dependencies must be an array"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = parse(&s);
        }
    }
}
