//! Parsing PEP 508 requirement strings without ever panicking.
//!
//! pep508_rs 0.9.2 panics (an `expect` in its name and extras parsers) on a
//! name or extra that ends in `-`, `_` or `.` and is followed by more text,
//! e.g. `foo- >=1` or `foo[bar-]`. Package metadata comes from strangers, so
//! those inputs are rejected here first, and any other panic inside the
//! parser is caught and reported as an ordinary error.

use std::str::FromStr;

use pep508_rs::Requirement;

/// Parse one requirement; the error is a plain message quoting the input.
pub fn parse_requirement(text: &str) -> Result<Requirement, String> {
    reject_names_the_parser_panics_on(text)?;
    parse_without_panic(text, |t| {
        Requirement::from_str(t).map_err(|e| e.to_string())
    })
}

/// Run a third-party parser, turning a panic into an error.
pub fn parse_without_panic<T>(
    text: &str,
    parse: impl FnOnce(&str) -> Result<T, String> + std::panic::UnwindSafe,
) -> Result<T, String> {
    let owned = text.to_string();
    std::panic::catch_unwind(move || parse(&owned))
        .unwrap_or_else(|_| Err(format!("`{text}` could not be parsed")))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

/// The identifier at the start of `text` (after whitespace).
fn leading_identifier(text: &str) -> &str {
    let text = text.trim_start();
    let end = text.find(|c: char| !is_name_char(c)).unwrap_or(text.len());
    &text[..end]
}

fn ends_badly(identifier: &str) -> bool {
    identifier.starts_with(|c: char| c.is_ascii_alphanumeric())
        && identifier.ends_with(['.', '-', '_'])
}

/// Names and extras must end with a letter or digit (PEP 508).
pub fn reject_names_the_parser_panics_on(text: &str) -> Result<(), String> {
    let name = leading_identifier(text);
    if ends_badly(name) {
        return Err(format!(
            "package name `{name}` must end with a letter or digit"
        ));
    }
    let rest = text.trim_start()[name.len()..].trim_start();
    if let Some(extras) = rest.strip_prefix('[') {
        let extras = extras.split(']').next().unwrap_or_default();
        for extra in extras.split(',') {
            let extra = leading_identifier(extra);
            if ends_badly(extra) {
                return Err(format!("extra `{extra}` must end with a letter or digit"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_that_crash_pep508_rs_are_errors() {
        assert!(parse_requirement("a- >=1").is_err());
        assert!(parse_requirement("x[b-]").is_err());
        assert!(parse_requirement("requests[socks]>=2; python_version > '3'").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[a-z\\-_.\\[\\], <>=!~0-9;'\"()@:/]{0,40}") {
            let _ = parse_requirement(&s);
        }
    }
}
