//! PEP 508 requirement strings and the small text helpers the three input
//! formats share (line numbers from byte offsets, lexical path clean-up,
//! URL filename extraction).
//!
//! Requirements are parsed with `url::Url` as the URL type and converted to
//! `pep508_rs::Requirement` afterwards: pep508_rs's default URL type expands
//! `${VAR}` in URLs a second time (pip expands once, before parsing) and reads
//! the process's current directory while doing so.

use std::path::{Component, Path, PathBuf};

use pep508_rs::{Requirement, VerbatimUrl, VersionOrUrl};

/// Parse one PEP 508 requirement; the error is pep508_rs's message, which
/// quotes the input and underlines the offending part.
pub(crate) fn parse_requirement(text: &str) -> Result<Requirement, String> {
    pyward_dist::requirement::reject_names_the_parser_panics_on(text)?;
    let parsed: pep508_rs::Requirement<url::Url> =
        pyward_dist::requirement::parse_without_panic(text, |t| {
            t.parse()
                .map_err(|e: pep508_rs::Pep508Error<url::Url>| e.to_string())
        })?;
    Ok(Requirement {
        name: parsed.name,
        extras: parsed.extras,
        version_or_url: parsed.version_or_url.map(|v| match v {
            VersionOrUrl::VersionSpecifier(s) => VersionOrUrl::VersionSpecifier(s),
            VersionOrUrl::Url(u) => VersionOrUrl::Url(VerbatimUrl::from_url(u)),
        }),
        marker: parsed.marker,
        origin: None,
    })
}

/// The 1-based line of byte `offset` in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// `base.join(path)` with `.` and `..` removed lexically (no file system access).
pub(crate) fn clean_join(base: &Path, path: &Path) -> PathBuf {
    let joined = base.join(path);
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// The last path segment of a URL, percent-decoded (`torch-2.0%2Bcpu-….whl`
/// names the file `torch-2.0+cpu-….whl`).
pub(crate) fn url_filename(url: &url::Url) -> Option<String> {
    let last = url.path_segments()?.next_back()?;
    if last.is_empty() {
        return None;
    }
    Some(percent_decode(last))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hi = (bytes[i + 1] as char).to_digit(16);
            let lo = (bytes[i + 2] as char).to_digit(16);
            if let (Some(hi), Some(lo)) = (hi, lo) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_urls_are_not_env_expanded_again() {
        let r = parse_requirement("foo @ https://example.com/${HOME}/foo-1.0.tar.gz").unwrap();
        match r.version_or_url {
            Some(VersionOrUrl::Url(u)) => assert!(u.to_string().contains("%7BHOME%7D")),
            other => panic!("expected a URL, got {other:?}"),
        }
    }

    #[test]
    fn names_that_crash_pep508_rs_are_errors() {
        for input in [
            "a- ",
            "a-==1",
            "a_ [x]",
            "ok[b- ,c]",
            "ok [c, d. e]",
            "ok[x_]",
        ] {
            assert!(parse_requirement(input).is_err(), "{input}");
        }
        assert!(parse_requirement("a-b[c-d, e] >= 1").is_ok());
    }

    #[test]
    fn clean_join_removes_dots() {
        assert_eq!(
            clean_join(Path::new("/a/b"), Path::new("../c/./d.whl")),
            PathBuf::from("/a/c/d.whl")
        );
        assert_eq!(
            clean_join(Path::new("/a"), Path::new(".")),
            PathBuf::from("/a")
        );
    }

    #[test]
    fn url_filenames_are_decoded() {
        let u = url::Url::parse("https://x.org/whl/torch-2.0.0%2Bcpu-cp311-cp311-linux_x86_64.whl")
            .unwrap();
        assert_eq!(
            url_filename(&u).unwrap(),
            "torch-2.0.0+cpu-cp311-cp311-linux_x86_64.whl"
        );
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("a%zz"), "a%zz");
        assert_eq!(line_of("a\nb\nc", 2), 2);
    }
}
