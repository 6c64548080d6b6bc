//! One package in, hits out: decides when each file runs (setup.py and an
//! in-tree build backend at install time, `.pth` files and the modules they
//! import at every start, everything else on import), analyzes the files in
//! parallel, and adds the package-level rules: compiled programs in a
//! package that claims to be pure Python, and metadata that contradicts the
//! index.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::LazyLock;

use pyward_dist::{CoreMetadata, PackageName, Version, WheelFilename};
use pyward_guard::Severity;
use rayon::prelude::*;
use regex::Regex;

use crate::analyze::{analyze_file, pth_imports, Context};
use crate::members::Member;
use crate::rules::{Confidence, Hit, Rule};

/// What is being scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Wheel,
    Sdist,
    Directory,
}

/// The result of scanning a package's files.
#[derive(Debug, Default)]
pub struct Scanned {
    pub hits: Vec<Hit>,
    pub files_scanned: usize,
    pub bytes_scanned: u64,
    /// Name and version from the package's own metadata.
    pub metadata: Option<(String, String)>,
}

/// Scan the members of one package.
pub fn scan_members(
    members: &[Member],
    layout: Layout,
    file_name: &str,
    expected: Option<(&PackageName, &Version)>,
) -> Scanned {
    let base = match layout {
        Layout::Sdist => common_root(members),
        _ => String::new(),
    };
    let join = |rel: &str| {
        if base.is_empty() {
            rel.to_string()
        } else {
            format!("{base}/{rel}")
        }
    };

    let install_files = install_time_files(members, layout, &join);
    let pth_files: Vec<&Member> = members
        .iter()
        .filter(|m| m.path.ends_with(".pth") && m.bytes.is_some())
        .collect();
    let startup_modules: HashSet<String> = pth_files
        .iter()
        .filter(|m| layout == Layout::Wheel && is_wheel_root_file(&m.path))
        .flat_map(|m| pth_imports(m.bytes.as_deref().unwrap_or_default()))
        .collect();

    let jobs: Vec<(&Member, Context)> = members
        .iter()
        .filter_map(|m| {
            let bytes = m.bytes.as_ref()?;
            let ctx = classify(m, bytes, &install_files, &startup_modules)?;
            Some((m, ctx))
        })
        .collect();

    let files_scanned = jobs.len();
    let bytes_scanned = jobs
        .iter()
        .map(|(m, _)| m.bytes.as_ref().map_or(0, |b| b.len() as u64))
        .sum();
    let mut hits: Vec<Hit> = jobs
        .par_iter()
        .flat_map_iter(|(m, ctx)| {
            analyze_file(&m.path, m.bytes.as_deref().unwrap_or_default(), *ctx)
        })
        .collect();

    hits.extend(native_binaries(members, layout, file_name, &install_files));
    let metadata = read_metadata(members, layout, &join);
    if let (Some(expected), Some((path, meta))) = (expected, metadata.as_ref()) {
        if let Some(hit) = metadata_mismatch(path, meta, expected) {
            hits.push(hit);
        }
    }
    hits.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.rule.cmp(&b.rule))
            .then(a.file.cmp(&b.file))
            .then(a.line.cmp(&b.line))
    });
    Scanned {
        hits,
        files_scanned,
        bytes_scanned,
        metadata: metadata.map(|(_, m)| (m.name.to_string(), m.version.to_string())),
    }
}

/// The single top-level directory of an sdist, if every member is under it.
fn common_root(members: &[Member]) -> String {
    let mut root: Option<&str> = None;
    for m in members {
        let first = m.path.split('/').next().unwrap_or("");
        if !m.path.contains('/') {
            return String::new();
        }
        match root {
            None => root = Some(first),
            Some(r) if r != first => return String::new(),
            _ => {}
        }
    }
    root.unwrap_or("").to_string()
}

fn is_wheel_root_file(path: &str) -> bool {
    if !path.contains('/') {
        return true;
    }
    // `{name}-{version}.data/purelib/x.pth` installs to the root too.
    let parts: Vec<&str> = path.split('/').collect();
    parts.len() == 3 && parts[0].ends_with(".data") && matches!(parts[1], "purelib" | "platlib")
}

#[allow(clippy::expect_used)]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the scanner's regexes are valid")
}

static BACKEND: LazyLock<Regex> = LazyLock::new(|| re(r#"build-backend\s*=\s*["']([\w.:]+)["']"#));
static BACKEND_PATH: LazyLock<Regex> = LazyLock::new(|| re(r#"backend-path\s*=\s*\[([^\]]*)\]"#));

/// Files that run when the package is built: the root setup.py and an
/// in-tree build backend named by pyproject.toml's `backend-path`.
fn install_time_files(
    members: &[Member],
    layout: Layout,
    join: &dyn Fn(&str) -> String,
) -> HashSet<String> {
    let mut out = HashSet::new();
    if layout == Layout::Wheel {
        return out;
    }
    out.insert(join("setup.py"));
    let pyproject = join("pyproject.toml");
    let Some(text) = members
        .iter()
        .find(|m| m.path == pyproject)
        .and_then(|m| m.bytes.as_deref())
    else {
        return out;
    };
    let text = String::from_utf8_lossy(text);
    let (Some(backend), Some(paths)) = (BACKEND.captures(&text), BACKEND_PATH.captures(&text))
    else {
        return out;
    };
    let module = backend[1].split(':').next().unwrap_or("").replace('.', "/");
    for dir in paths[1].split(',') {
        let dir = dir
            .trim()
            .trim_matches(['"', '\''])
            .trim_start_matches("./");
        let prefix = if dir.is_empty() || dir == "." {
            String::new()
        } else {
            format!("{dir}/")
        };
        out.insert(join(&format!("{prefix}{module}.py")));
        out.insert(join(&format!("{prefix}{module}/__init__.py")));
    }
    out
}

fn classify(
    m: &Member,
    bytes: &[u8],
    install_files: &HashSet<String>,
    startup_modules: &HashSet<String>,
) -> Option<Context> {
    let lower = m.path.to_ascii_lowercase();
    let name = lower.rsplit('/').next().unwrap_or(&lower);
    if name.ends_with(".pth") {
        return Some(Context::Pth);
    }
    let python = name.ends_with(".py") || name.ends_with(".pyw") || shebang_has(bytes, "python");
    if python {
        if install_files.contains(&m.path) {
            return Some(Context::Install);
        }
        let top = module_of(&m.path);
        if top.is_some_and(|t| startup_modules.contains(t)) {
            return Some(Context::Startup);
        }
        return Some(Context::Module);
    }
    const SCRIPTS: &[&str] = &[".sh", ".bash", ".bat", ".cmd", ".ps1", ".command"];
    if SCRIPTS.iter().any(|e| name.ends_with(e)) || bytes.starts_with(b"#!") {
        return Some(Context::Script);
    }
    None
}

/// The top-level module a wheel file belongs to (`pkg/__init__.py` → `pkg`,
/// `mod.py` → `mod`).
fn module_of(path: &str) -> Option<&str> {
    let path = match path.split_once('/') {
        Some((first, rest)) if first.ends_with(".data") => {
            rest.split_once('/').map(|(_, r)| r).unwrap_or(rest)
        }
        _ => path,
    };
    match path.split_once('/') {
        Some((dir, "__init__.py")) => Some(dir),
        Some(_) => None,
        None => path.strip_suffix(".py"),
    }
}

fn shebang_has(bytes: &[u8], word: &str) -> bool {
    if !bytes.starts_with(b"#!") {
        return false;
    }
    let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len()).min(200);
    String::from_utf8_lossy(&bytes[..end]).contains(word)
}

/// The kind of compiled program a file's first bytes announce.
pub fn native_kind(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x7fELF") {
        return Some("Linux program (ELF)");
    }
    if head.len() >= 64 && head.starts_with(b"MZ") {
        let pe = u32::from_le_bytes([head[60], head[61], head[62], head[63]]) as usize;
        if head.get(pe..pe + 4) == Some(b"PE\0\0") || pe >= head.len() {
            return Some("Windows program (PE)");
        }
    }
    match head.get(..4) {
        Some([0xFE, 0xED, 0xFA, 0xCE | 0xCF]) | Some([0xCE | 0xCF, 0xFA, 0xED, 0xFE]) => {
            Some("macOS program (Mach-O)")
        }
        Some([0xCA, 0xFE, 0xBA, 0xBE]) => {
            // Fat Mach-O has a small architecture count; Java class files a version ≥ 45.
            let n = head
                .get(4..8)
                .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))?;
            (n < 45).then_some("macOS program (Mach-O)")
        }
        _ => None,
    }
}

/// Launchers that packaging tools ship inside pure-Python wheels.
fn is_known_launcher(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let dir_ok = path.contains("distlib/")
        || path.starts_with("setuptools/")
        || path.contains("/setuptools/");
    let launcher = [
        "t32", "t64", "w32", "w64", "t64-arm", "w64-arm", "cli", "gui",
    ]
    .iter()
    .any(|p| name.starts_with(p))
        && name.ends_with(".exe");
    dir_ok && launcher
}

fn is_pure_wheel(file_name: &str, members: &[Member]) -> bool {
    if let Ok(w) = WheelFilename::from_str(file_name) {
        return w
            .tag_triples()
            .all(|(_, abi, plat)| abi == "none" && plat == "any");
    }
    // Fall back to the WHEEL file's Root-Is-Purelib.
    members
        .iter()
        .filter(|m| m.path.ends_with(".dist-info/WHEEL"))
        .filter_map(|m| m.bytes.as_deref())
        .any(|b| {
            String::from_utf8_lossy(b)
                .lines()
                .any(|l| l.trim().eq_ignore_ascii_case("Root-Is-Purelib: true"))
        })
}

fn native_binaries(
    members: &[Member],
    layout: Layout,
    file_name: &str,
    install_files: &HashSet<String>,
) -> Vec<Hit> {
    let (severity, claim) = match layout {
        Layout::Wheel if is_pure_wheel(file_name, members) => (
            Severity::Moderate,
            "although the wheel claims to be pure Python",
        ),
        Layout::Wheel => return Vec::new(),
        Layout::Sdist | Layout::Directory => (Severity::Low, "in its source distribution"),
    };
    let binaries: Vec<(&Member, &str)> = members
        .iter()
        .filter(|m| !is_known_launcher(&m.path))
        .filter_map(|m| native_kind(&m.head).map(|k| (m, k)))
        .collect();
    let mut hits = Vec::new();
    for (m, kind) in binaries {
        let name = m.path.rsplit('/').next().unwrap_or(&m.path);
        // Escalate when Python code in the package runs the program by name.
        let runner = (name.len() >= 4)
            .then(|| {
                members.iter().find(|other| {
                    // In a source distribution only code that runs at install
                    // time counts (test suites run their fixtures).
                    let runs_unasked =
                        layout == Layout::Wheel || install_files.contains(&other.path);
                    runs_unasked
                        && other.path.ends_with(".py")
                        && other.bytes.as_deref().is_some_and(|b| {
                            memchr::memmem::find(b, name.as_bytes()).is_some()
                                && ["subprocess", "os.system", "Popen", "startfile", "os.exec"]
                                    .iter()
                                    .any(|t| memchr::memmem::find(b, t.as_bytes()).is_some())
                        })
                })
            })
            .flatten();
        let (severity, confidence, detail) = match runner {
            Some(r) => (
                Severity::High,
                Confidence::Medium,
                format!(
                    "ships a compiled {kind} `{name}` {claim}, and `{}` runs it",
                    r.path
                ),
            ),
            _ => (
                severity,
                Confidence::Medium,
                format!("ships a compiled {kind} `{name}` {claim}"),
            ),
        };
        hits.push(Hit {
            rule: Rule::NativeBinary,
            severity,
            confidence,
            file: m.path.clone(),
            line: 0,
            snippet: format!("{} bytes", m.size),
            detail,
        });
    }
    hits
}

/// The package's own metadata: a wheel's `*.dist-info/METADATA` or an
/// sdist's top-level `PKG-INFO`.
fn read_metadata(
    members: &[Member],
    layout: Layout,
    join: &dyn Fn(&str) -> String,
) -> Option<(String, CoreMetadata)> {
    let candidates: Vec<&Member> = match layout {
        Layout::Wheel => members
            .iter()
            .filter(|m| {
                let parts: Vec<&str> = m.path.split('/').collect();
                parts.len() == 2 && parts[0].ends_with(".dist-info") && parts[1] == "METADATA"
            })
            .collect(),
        Layout::Sdist | Layout::Directory => {
            let p = join("PKG-INFO");
            members.iter().filter(|m| m.path == p).collect()
        }
    };
    candidates.into_iter().find_map(|m| {
        let meta = CoreMetadata::parse(m.bytes.as_deref()?).ok()?;
        Some((m.path.clone(), meta))
    })
}

fn metadata_mismatch(
    path: &str,
    meta: &CoreMetadata,
    (name, version): (&PackageName, &Version),
) -> Option<Hit> {
    let name_differs = &meta.name != name;
    let version_differs = &meta.version != version;
    if !name_differs && !version_differs {
        return None;
    }
    let detail = match (name_differs, version_differs) {
        (true, true) => format!(
            "metadata names {} {} but the index lists {name} {version}",
            meta.name, meta.version
        ),
        (true, false) => format!(
            "metadata names the project {} but the index lists {name}",
            meta.name
        ),
        _ => format!(
            "metadata says version {} but the index lists {version}",
            meta.version
        ),
    };
    Some(Hit {
        rule: Rule::MetadataMismatch,
        severity: Severity::High,
        confidence: Confidence::High,
        file: path.to_string(),
        line: 0,
        snippet: format!("Name: {}  Version: {}", meta.name, meta.version),
        detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_programs() {
        assert!(native_kind(b"\x7fELF\x02\x01\x01").is_some());
        let mut pe = vec![0u8; 128];
        pe[0] = b'M';
        pe[1] = b'Z';
        pe[60] = 64;
        pe[64..68].copy_from_slice(b"PE\0\0");
        assert!(native_kind(&pe).is_some());
        assert!(native_kind(b"MZ is not always a program").is_none());
        assert!(native_kind(b"\xca\xfe\xba\xbe\x00\x00\x00\x34").is_none());
        assert!(native_kind(b"\xca\xfe\xba\xbe\x00\x00\x00\x02").is_some());
        assert!(native_kind(b"import os\n").is_none());
    }

    #[test]
    fn modules_and_roots() {
        assert_eq!(module_of("pkg/__init__.py"), Some("pkg"));
        assert_eq!(module_of("mod.py"), Some("mod"));
        assert_eq!(module_of("pkg/sub.py"), None);
        assert_eq!(module_of("x-1.0.data/purelib/mod.py"), Some("mod"));
        assert!(is_wheel_root_file("a.pth"));
        assert!(is_wheel_root_file("x-1.0.data/purelib/a.pth"));
        assert!(!is_wheel_root_file("pkg/a.pth"));
        assert!(is_known_launcher("pip/_vendor/distlib/t64.exe"));
        assert!(is_known_launcher("setuptools/cli-64.exe"));
        assert!(!is_known_launcher("evil/t64.exe"));
    }
}
