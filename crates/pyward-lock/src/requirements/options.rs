//! The option part of a requirements line: shell-style word splitting (pip
//! uses `shlex.split`) and the options pip accepts in requirements files,
//! including `--hash` validation.

use super::{Origin, RequirementsError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OptionKind {
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    Constraint,
    Requirement,
    Editable,
    FindLinks,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    Pre,
    TrustedHost,
    UseFeature,
    Hash,
    ConfigSettings,
    GlobalOption,
}

#[derive(Debug, Clone)]
pub(super) struct ParsedOption {
    pub kind: OptionKind,
    /// As written (`-r`, `--requirement`), for messages.
    pub name: String,
    /// Empty for flags.
    pub value: String,
}

/// (long names, short name, takes a value, kind, example for messages)
type OptionSpec = (
    &'static [&'static str],
    Option<char>,
    bool,
    OptionKind,
    &'static str,
);

const OPTIONS: &[OptionSpec] = &[
    (
        &["--index-url", "--pypi-url"],
        Some('i'),
        true,
        OptionKind::IndexUrl,
        "--index-url https://pypi.org/simple",
    ),
    (
        &["--extra-index-url"],
        None,
        true,
        OptionKind::ExtraIndexUrl,
        "--extra-index-url https://example.com/simple",
    ),
    (&["--no-index"], None, false, OptionKind::NoIndex, ""),
    (
        &["--constraint"],
        Some('c'),
        true,
        OptionKind::Constraint,
        "-c constraints.txt",
    ),
    (
        &["--requirement"],
        Some('r'),
        true,
        OptionKind::Requirement,
        "-r other-requirements.txt",
    ),
    (
        &["--editable"],
        Some('e'),
        true,
        OptionKind::Editable,
        "-e ./path/to/project",
    ),
    (
        &["--find-links"],
        Some('f'),
        true,
        OptionKind::FindLinks,
        "--find-links ./wheels",
    ),
    (
        &["--no-binary"],
        None,
        true,
        OptionKind::NoBinary,
        "--no-binary :none:",
    ),
    (
        &["--only-binary"],
        None,
        true,
        OptionKind::OnlyBinary,
        "--only-binary :all:",
    ),
    (
        &["--prefer-binary"],
        None,
        false,
        OptionKind::PreferBinary,
        "",
    ),
    (
        &["--require-hashes"],
        None,
        false,
        OptionKind::RequireHashes,
        "",
    ),
    (&["--pre"], None, false, OptionKind::Pre, ""),
    (
        &["--trusted-host"],
        None,
        true,
        OptionKind::TrustedHost,
        "--trusted-host example.com",
    ),
    (
        &["--use-feature"],
        None,
        true,
        OptionKind::UseFeature,
        "--use-feature truststore",
    ),
    (
        &["--hash"],
        None,
        true,
        OptionKind::Hash,
        "--hash=sha256:<64 hex digits>",
    ),
    (
        &["--config-settings"],
        Some('C'),
        true,
        OptionKind::ConfigSettings,
        "--config-settings key=value",
    ),
    (
        &["--global-option"],
        None,
        true,
        OptionKind::GlobalOption,
        "--global-option=--verbose",
    ),
];

/// Split like Python's `shlex.split` (POSIX mode): whitespace separates
/// words; single quotes are literal; double quotes allow `\` escapes of
/// `\ " $ \``; outside quotes `\` escapes any character.
pub(super) fn split_options(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err(format!("unclosed single quote in `{text}`")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('\\' | '"' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err(format!("unclosed double quote in `{text}`")),
                        },
                        Some(c) => current.push(c),
                        None => return Err(format!("unclosed double quote in `{text}`")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(c) = chars.next() {
                    current.push(c);
                }
            }
            c => {
                in_word = true;
                current.push(c);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    Ok(words)
}

/// Turn words into options, as optparse would: `--name=value`, `--name value`,
/// `-rvalue`, `-r value`.
pub(super) fn parse_options(
    words: &[String],
    origin: &Origin,
) -> Result<Vec<ParsedOption>, RequirementsError> {
    let mut parsed = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let word = &words[i];
        i += 1;
        let (name, inline_value) = if let Some(long) = word.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(v.to_string())),
                None => (word.clone(), None),
            }
        } else if word.starts_with('-') && word.len() > 1 {
            let mut chars = word.chars();
            chars.next();
            let short: String = chars.by_ref().take(1).collect();
            let rest: String = chars.collect();
            (format!("-{short}"), (!rest.is_empty()).then_some(rest))
        } else {
            return Err(RequirementsError::InvalidLine {
                origin: origin.clone(),
                message: format!(
                    "unexpected `{word}` after an option; put each requirement on its own line"
                ),
            });
        };
        let spec = OPTIONS.iter().find(|(longs, short, ..)| {
            longs.contains(&name.as_str())
                || short.is_some_and(|s| name.len() == 2 && name.ends_with(s))
        });
        let Some(&(_, _, takes_value, kind, example)) = spec else {
            return Err(RequirementsError::UnknownOption {
                origin: origin.clone(),
                option: name,
            });
        };
        let value = if takes_value {
            match inline_value {
                Some(v) => v,
                None if i < words.len() => {
                    i += 1;
                    words[i - 1].clone()
                }
                None => {
                    return Err(RequirementsError::MissingValue {
                        origin: origin.clone(),
                        option: name,
                        example: example.to_string(),
                    })
                }
            }
        } else {
            if inline_value.is_some() {
                return Err(RequirementsError::InvalidLine {
                    origin: origin.clone(),
                    message: format!("`{name}` takes no value"),
                });
            }
            String::new()
        };
        parsed.push(ParsedOption { kind, name, value });
    }
    Ok(parsed)
}

/// Validate `--hash` values: `sha256:`, `sha384:` or `sha512:` (the only
/// algorithms pip accepts) followed by the right number of hex digits.
/// Returns `alg:<lowercase hex>`.
pub(super) fn parse_hash(value: &str, origin: &Origin) -> Result<String, RequirementsError> {
    let invalid = |reason: String| RequirementsError::InvalidHash {
        origin: origin.clone(),
        value: value.to_string(),
        reason,
    };
    let Some((algorithm, digest)) = value.split_once(':') else {
        return Err(invalid(
            "write it as an algorithm and a hex digest, like --hash=sha256:9f2c…".to_string(),
        ));
    };
    let algorithm = algorithm.to_ascii_lowercase();
    let hex_len = match algorithm.as_str() {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        other => {
            return Err(invalid(format!(
                "`{other}` is not allowed; use sha256, sha384 or sha512 (e.g. `pyward hash FILE` prints the sha256)"
            )))
        }
    };
    if digest.len() != hex_len {
        return Err(invalid(format!(
            "a {algorithm} digest is {hex_len} hex digits, this one has {} characters",
            digest.chars().count()
        )));
    }
    if !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid(
            "the digest contains characters that are not hex digits (0-9, a-f)".to_string(),
        ));
    }
    Ok(format!("{algorithm}:{}", digest.to_ascii_lowercase()))
}
