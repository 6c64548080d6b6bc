//! Executable scripts: console/gui entry points from `entry_points.txt`
//! turned into launchers, the shebang pointing at the environment's
//! interpreter (a `/bin/sh` trampoline when the path is long or has spaces),
//! and `#!python` rewriting of `.data/scripts` files.

use std::path::Path;

/// One `console_scripts` / `gui_scripts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    pub name: String,
    pub module: String,
    /// Dotted attribute path, e.g. `cli.main`.
    pub attr: String,
}

/// The console and gui script entry points of an `entry_points.txt`.
pub fn parse_entry_points(text: &str) -> Result<Vec<EntryPoint>, (String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_string();
            continue;
        }
        if section != "console_scripts" && section != "gui_scripts" {
            continue;
        }
        let Some((name, value)) = line.split_once('=') else {
            return Err((
                line.to_string(),
                "expected `name = module:attr`".to_string(),
            ));
        };
        let name = name.trim();
        // Extras in brackets are ignored.
        let value = value.split('[').next().unwrap_or("").trim();
        let fail = |reason: &str| Err((line.to_string(), reason.to_string()));
        if name.is_empty()
            || name.starts_with('.')
            || name.contains(['/', '\\', '\0'])
            || name.chars().any(char::is_whitespace)
        {
            return fail("the script name is not a plain file name");
        }
        let Some((module, attr)) = value.split_once(':') else {
            return fail("expected `module:attr`");
        };
        let (module, attr) = (module.trim(), attr.trim());
        if !is_dotted_identifier(module) || !is_dotted_identifier(attr) {
            return fail("the module or attribute is not a dotted Python name");
        }
        out.push(EntryPoint {
            name: name.to_string(),
            module: module.to_string(),
            attr: attr.to_string(),
        });
    }
    Ok(out)
}

fn is_dotted_identifier(s: &str) -> bool {
    !s.is_empty()
        && s.split('.').all(|part| {
            let mut chars = part.chars();
            chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
                && chars.all(|c| c == '_' || c.is_alphanumeric())
        })
}

/// The shebang (with its newline) that runs `python`.
pub fn shebang(python: &Path) -> String {
    let path = python.to_string_lossy();
    let direct = format!("#!{path}\n");
    if direct.len() <= 127 && !path.contains([' ', '\t']) {
        return direct;
    }
    let quoted = path.replace('\'', "'\"'\"'");
    format!("#!/bin/sh\n'''exec' '{quoted}' \"$0\" \"$@\"\n' '''\n")
}

/// The launcher script for an entry point.
pub fn launcher(entry: &EntryPoint, python: &Path) -> String {
    let first = entry.attr.split('.').next().unwrap_or(&entry.attr);
    format!(
        "{shebang}# -*- coding: utf-8 -*-\nimport sys\nfrom {module} import {first}\nif __name__ == \"__main__\":\n    if sys.argv[0].endswith(\"-script.pyw\"):\n        sys.argv[0] = sys.argv[0][:-11]\n    elif sys.argv[0].endswith(\".exe\"):\n        sys.argv[0] = sys.argv[0][:-4]\n    sys.exit({attr}())\n",
        shebang = shebang(python),
        module = entry.module,
        attr = entry.attr,
    )
}

/// A `.data/scripts` file with a `#!python` / `#!pythonw` first line gets
/// the real shebang; other files are returned unchanged (None).
pub fn rewrite_script(bytes: &[u8], python: &Path) -> Option<Vec<u8>> {
    let first_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(bytes.len());
    let first = bytes[..first_end]
        .strip_suffix(b"\r")
        .unwrap_or(&bytes[..first_end]);
    // Like other installers, any `#!python…` first line is the placeholder.
    if !first.starts_with(b"#!python") {
        return None;
    }
    let mut out = shebang(python).into_bytes();
    out.extend_from_slice(bytes.get(first_end + 1..).unwrap_or(&[]));
    Some(out)
}

/// True for names an installed script may not take: the interpreter itself.
pub fn is_reserved_script_name(name: &str) -> bool {
    let Some(rest) = name
        .strip_prefix("pythonw")
        .or_else(|| name.strip_prefix("python"))
    else {
        return false;
    };
    let rest = rest.strip_suffix(".exe").unwrap_or(rest);
    let rest = rest.strip_suffix('t').unwrap_or(rest);
    rest.chars().all(|c| c.is_ascii_digit() || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_console_and_gui_scripts_only() {
        let eps = parse_entry_points(
            "[console_scripts]\ntool = pkg.cli:main.run [extra]\n\n[gui_scripts]\ngui=pkg:gui\n[other]\nx = y:z\n",
        )
        .unwrap();
        assert_eq!(
            eps,
            vec![
                EntryPoint {
                    name: "tool".into(),
                    module: "pkg.cli".into(),
                    attr: "main.run".into()
                },
                EntryPoint {
                    name: "gui".into(),
                    module: "pkg".into(),
                    attr: "gui".into()
                },
            ]
        );
        assert!(parse_entry_points("[console_scripts]\n../evil = a:b\n").is_err());
        assert!(parse_entry_points("[console_scripts]\nx = os; evil:b\n").is_err());
    }

    #[test]
    fn launcher_imports_and_calls() {
        let ep = EntryPoint {
            name: "tool".into(),
            module: "pkg.cli".into(),
            attr: "main.run".into(),
        };
        let text = launcher(&ep, Path::new("/venv/bin/python"));
        assert!(text.starts_with("#!/venv/bin/python\n# -*- coding: utf-8 -*-\n"));
        assert!(text.contains("from pkg.cli import main\n"));
        assert!(text.ends_with("    sys.exit(main.run())\n"));
    }

    #[test]
    fn long_or_spaced_paths_use_a_trampoline() {
        let s = shebang(Path::new("/my venv/bin/python"));
        assert_eq!(
            s,
            "#!/bin/sh\n'''exec' '/my venv/bin/python' \"$0\" \"$@\"\n' '''\n"
        );
        let long = format!("/{}/bin/python", "x".repeat(130));
        assert!(shebang(Path::new(&long)).starts_with("#!/bin/sh\n"));
    }

    #[test]
    fn rewrites_only_the_placeholder() {
        let py = Path::new("/v/bin/python");
        assert_eq!(
            rewrite_script(b"#!python\nprint(1)\n", py).unwrap(),
            b"#!/v/bin/python\nprint(1)\n"
        );
        assert!(rewrite_script(b"#!pythonw\n", py).is_some());
        assert!(rewrite_script(b"#!/bin/sh\necho\n", py).is_none());
        assert!(rewrite_script(b"#!python3.12 -u\r\nx\n", py).unwrap() == b"#!/v/bin/python\nx\n");
    }

    #[test]
    fn interpreter_names_are_reserved() {
        for n in ["python", "python3", "python3.12", "python3.13t", "pythonw"] {
            assert!(is_reserved_script_name(n), "{n}");
        }
        for n in ["python-config-tool", "pythonista", "pip"] {
            assert!(!is_reserved_script_name(n), "{n}");
        }
    }
}
