//! Lock-file markers: PEP 508 markers plus the PEP 751 set variables
//! `'name' in extras` and `'group' in dependency_groups`, which pep508_rs does
//! not know. Those atoms are rewritten to `extra` comparisons with prefixed
//! values (`extras-<name>`, `group-<name>`), so one marker tree evaluates both
//! sets without letting an extra and a group of the same name collide.

use std::fmt;
use std::str::FromStr;

use pep508_rs::{ExtraName, MarkerEnvironment, MarkerTree};

use crate::pyproject::normalize_group;

/// A marker from a lock file, kept as written for output.
#[derive(Debug, Clone)]
pub struct LockMarker {
    raw: String,
    tree: MarkerTree,
}

impl PartialEq for LockMarker {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl fmt::Display for LockMarker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[derive(Debug, PartialEq)]
enum Token<'a> {
    Quoted {
        start: usize,
        value: &'a str,
    },
    Word {
        start: usize,
        end: usize,
        text: &'a str,
    },
    Other,
}

fn tokenize(raw: &str) -> Vec<Token<'_>> {
    let bytes = raw.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if b == b'\'' || b == b'"' {
            match raw[i + 1..].find(b as char) {
                Some(len) => {
                    tokens.push(Token::Quoted {
                        start: i,
                        value: &raw[i + 1..i + 1 + len],
                    });
                    i += len + 2;
                }
                // Unclosed quote: leave the error to the marker parser.
                None => {
                    tokens.push(Token::Other);
                    break;
                }
            }
        } else if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
            {
                i += 1;
            }
            tokens.push(Token::Word {
                start,
                end: i,
                text: &raw[start..i],
            });
        } else {
            tokens.push(Token::Other);
            // Advance by one whole character.
            i += raw[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    tokens
}

fn word<'a>(token: Option<&Token<'a>>) -> Option<&'a str> {
    match token {
        Some(Token::Word { text, .. }) => Some(text),
        _ => None,
    }
}

impl LockMarker {
    /// Parse a lock-file marker; the error explains what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let tokens = tokenize(raw);
        let mut rewritten = String::with_capacity(raw.len());
        let mut copied_to = 0;
        let mut i = 0;
        while i < tokens.len() {
            let (start, value) = match &tokens[i] {
                Token::Quoted { start, value } => (*start, *value),
                Token::Word { text, .. } if *text == "extras" || *text == "dependency_groups" => {
                    return Err(format!(
                        "`{text}` can only be used as `'name' in {text}` or `'name' not in {text}`"
                    ))
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            let negated = word(tokens.get(i + 1)) == Some("not");
            let in_at = if negated { i + 2 } else { i + 1 };
            let set = match (word(tokens.get(in_at)), tokens.get(in_at + 1)) {
                (Some("in"), Some(Token::Word { text, end, .. }))
                    if *text == "extras" || *text == "dependency_groups" =>
                {
                    Some((*text, *end))
                }
                _ => None,
            };
            let Some((set, end)) = set else {
                i += 1;
                continue;
            };
            let prefix = if set == "extras" { "extras" } else { "group" };
            let normalized = match set {
                "extras" => ExtraName::from_str(value).ok().map(|e| e.to_string()),
                _ => normalize_group(value),
            }
            .ok_or_else(|| format!("`'{value}' in {set}`: `{value}` is not a valid name"))?;
            rewritten.push_str(&raw[copied_to..start]);
            let op = if negated { "!=" } else { "==" };
            rewritten.push_str(&format!("extra {op} '{prefix}-{normalized}'"));
            copied_to = end;
            i = in_at + 2;
        }
        rewritten.push_str(&raw[copied_to..]);
        // pep508_rs can panic on some non-ASCII input; a lock file is untrusted.
        let tree = pyward_dist::requirement::parse_without_panic(&rewritten, |t| {
            MarkerTree::from_str(t).map_err(|e| e.to_string())
        })?;
        Ok(LockMarker {
            raw: raw.to_string(),
            tree,
        })
    }

    /// The marker as written in the lock file.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Evaluate for an interpreter with the chosen extras and dependency
    /// groups (group names are compared normalized).
    pub fn evaluate(
        &self,
        env: &MarkerEnvironment,
        extras: &[ExtraName],
        groups: &[String],
    ) -> bool {
        let active: Vec<ExtraName> = extras
            .iter()
            .map(|e| format!("extras-{e}"))
            .chain(
                groups
                    .iter()
                    .filter_map(|g| normalize_group(g))
                    .map(|g| format!("group-{g}")),
            )
            .filter_map(|s| ExtraName::from_str(&s).ok())
            .collect();
        self.tree.evaluate(env, &active)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pep508_rs::MarkerEnvironmentBuilder;

    pub(crate) fn linux_312() -> MarkerEnvironment {
        MarkerEnvironment::try_from(MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: "3.12.3",
            os_name: "posix",
            platform_machine: "x86_64",
            platform_python_implementation: "CPython",
            platform_release: "6.1",
            platform_system: "Linux",
            platform_version: "#1",
            python_full_version: "3.12.3",
            python_version: "3.12",
            sys_platform: "linux",
        })
        .unwrap()
    }

    fn eval(marker: &str, extras: &[&str], groups: &[&str]) -> bool {
        let extras: Vec<ExtraName> = extras.iter().map(|e| e.parse().unwrap()).collect();
        let groups: Vec<String> = groups.iter().map(|g| g.to_string()).collect();
        LockMarker::parse(marker)
            .unwrap()
            .evaluate(&linux_312(), &extras, &groups)
    }

    #[test]
    fn set_membership_of_extras_and_groups() {
        assert!(eval("'test' in extras", &["test"], &[]));
        assert!(!eval("'test' in extras", &[], &["test"]));
        assert!(eval("'Dev' in dependency_groups", &[], &["dev"]));
        assert!(!eval("'dev' in dependency_groups", &["dev"], &[]));
        assert!(eval("\"docs\" not in extras", &[], &[]));
        assert!(!eval("'docs' not in extras", &["docs"], &[]));
        assert!(eval(
            "sys_platform == 'linux' and ('a' in extras or 'g' in dependency_groups)",
            &[],
            &["g"]
        ));
        assert!(!eval(
            "sys_platform == 'win32' and 'a' in extras",
            &["a"],
            &[]
        ));
    }

    #[test]
    fn plain_markers_still_work() {
        assert!(eval("python_version >= '3.9'", &[], &[]));
        assert!(!eval("python_full_version < '3.10'", &[], &[]));
    }

    #[test]
    fn misuse_of_the_set_variables_is_an_error() {
        assert!(LockMarker::parse("extras == 'a'").is_err());
        assert!(LockMarker::parse("'a b' in extras").is_err());
        assert!(LockMarker::parse("python_version >=").is_err());
        assert_eq!(
            LockMarker::parse("'x' in extras").unwrap().to_string(),
            "'x' in extras"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_markers_never_panic(s in "\\PC{0,80}") {
            if let Ok(m) = LockMarker::parse(&s) {
                let _ = m.evaluate(&linux_312(), &[], &["dev".to_string()]);
            }
        }
    }
}
