//! Validation and normalization of entry paths: relative, `/`-separated,
//! no `..`, no absolute or drive-letter paths, no backslashes or NUL bytes.

/// Normalize an archive entry name to a safe relative path (`./` and empty
/// components dropped, trailing `/` removed). Returns the reason when the
/// name is unsafe. The result may be empty (the archive root, e.g. `./`).
pub fn normalize_entry_path(name: &str) -> Result<String, &'static str> {
    if name.contains('\0') {
        return Err("it contains a NUL byte");
    }
    if name.contains('\\') {
        return Err("it contains a backslash");
    }
    if name.starts_with('/') {
        return Err("it is absolute");
    }
    let bytes = name.as_bytes();
    if bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':' {
        return Err("it starts with a drive letter");
    }
    let mut out = String::with_capacity(name.len());
    for component in name.split('/') {
        match component {
            "" | "." => continue,
            ".." => return Err("it contains a `..` component"),
            c => {
                if cfg!(windows) && c.contains(':') {
                    return Err("it contains a `:`");
                }
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(c);
            }
        }
    }
    Ok(out)
}

/// Every proper parent of a normalized path (`a/b/c` → `a`, `a/b`).
pub(crate) fn parents(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalizes() {
        assert_eq!(normalize_entry_path("a/b.py").unwrap(), "a/b.py");
        assert_eq!(normalize_entry_path("./a//b/").unwrap(), "a/b");
        assert_eq!(normalize_entry_path("./").unwrap(), "");
    }

    #[test]
    fn refuses_unsafe() {
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a/..",
            "C:/x",
            "c:x",
            "a\\..\\x",
            "a\0b",
        ] {
            assert!(normalize_entry_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parents_lists_prefixes() {
        assert_eq!(parents("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(parents("a").count(), 0);
    }
}
