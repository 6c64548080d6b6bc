//! Static analysis of wheels, sdists and source trees for malicious
//! behaviour, run by `pyward scan` and inside every install before anything
//! is built or installed. Files are read in memory (nothing is extracted),
//! a fast Aho-Corasick pre-filter finds the tokens the rules care about,
//! only the parts of a file that can matter are parsed with tree-sitter
//! (which tolerates broken and obfuscated code), and text-level checks run
//! on everything, parsed or not.
//!
//! Signals are combined per file so a capability alone stays context and
//! only the combinations malware needs reach High (which the default policy
//! blocks for [`Check::Scan`]). Severity: Critical/High = a high-confidence
//! malicious pattern; Moderate/Low = suspicious, worth a look; Info =
//! capability context.
//!
//! | rule id | looks for | High or Critical when | lower when |
//! |---|---|---|---|
//! | `install-time-exec` | setup.py, an in-tree build backend or a module a `.pth` imports, including custom `cmdclass` commands (install, develop, egg_info, build_py…): process spawns and network use | it starts a hidden/detached process, sends data, or sends your user or host name | Moderate: runs an unknown program or downloads; build tools (git, cmake, compilers, `sys.executable`…) are not reported |
//! | `pth-exec` | `.pth` lines starting with `import` (they run at every interpreter start) | the line executes, decodes, spawns, or touches the network (Critical when it decodes or spawns) | Info: a plain import of a module; the lines packaging tools write (`_virtualenv`, `_distutils_hack`, editable finders, namespace `-nspkg.pth`) are not reported |
//! | `download-exec` | data fetched from the network reaching exec/eval/unpickling, a downloaded file being run, `curl … \| sh`-style command lines | always (Critical for exec of downloaded code, or at install time) | Moderate: a download-and-run command line in a file that runs no programs |
//! | `decode-exec` | exec/eval/compile/unpickling or a process of data decoded with base64, zlib, marshal, codecs (rot13…), `bytes.fromhex`, `chr()` arrays, reversal, Fernet…; followed through assignments and helper functions | the decoded data is embedded in the file (Critical at install or start time); text-level `exec(base64.b64decode(…` one-liners, also inside strings | Moderate: exec of data decoded at run time from elsewhere |
//! | `obfuscation` | `__import__`/`getattr` of hidden names, identifiers spelled with look-alike Unicode letters, Latin/Cyrillic mixes, PyArmor/PyObfuscate/BlankOBF markers, very long lines with high-entropy blobs next to exec, bidirectional control characters | a hidden import name decoded from a blob in a file that also runs code, or a look-alike spelling of exec/eval/`__import__`/system… | Moderate: other hidden names, obfuscator markers, mixed scripts, blob lines next to exec; Low: other look-alike spellings, bidi characters |
//! | `secret-harvest` | SSH keys, AWS/cloud credentials, browser stores, Discord/Telegram tokens, wallets, keychain, CI tokens, a dump of all environment variables — together with a network send | the secret flows into a network call, or stealer-only data (browser, Discord, wallets…) or three kinds of secret, or a suspicious destination, in a file that uses the network; credentials from environment variables sent to a suspicious destination | Info: one kind of credential read in a file that uses the network (what SDKs do) |
//! | `suspicious-destination` | chat webhooks, Telegram bots, paste sites, tunnels, file-drop and request-capture hosts, bare public IP addresses | contacted from install-time or start-up code | Moderate: named in a file that sends data (not bare IPs); Low: named otherwise (bare IPs only in files that use the network) |
//! | `reverse-shell` | `os.dup2` of a socket onto stdin/stdout, a shell with socket I/O, `pty.spawn` of a shell next to sockets, `/dev/tcp/…`, `nc -e` | always | — |
//! | `persistence` | writes to shell rc files, crontab, the Windows Run key or Startup folder, LaunchAgents, systemd units, XDG autostart, `authorized_keys`, scheduled tasks | at install or start time, or in a file with another High finding | Moderate otherwise |
//! | `clipboard-hijack` | clipboard writes (pyperclip, win32clipboard, tkinter, xclip/pbcopy) | it writes the clipboard in a file holding a wallet address or address pattern | — (a clipboard library alone is not reported) |
//! | `native-binary` | ELF, PE and Mach-O programs | a wheel module, or an sdist's setup.py, runs the program by name | Moderate in a wheel tagged pure Python (known launchers of pip/setuptools excepted); Low in an sdist |
//! | `metadata-mismatch` | METADATA/PKG-INFO name or version against what the index lists | always | — |

mod analyze;
mod members;
mod package;
mod prefilter;
mod python;
mod rules;
mod text;

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pyward_archive::{ArchiveError, Limits};
use pyward_dist::{PackageName, SdistFilename, Version, WheelFilename};
use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};

use analyze::Context;
pub use rules::{Confidence, Hit, Rule};

/// What kind of distribution an archive is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveKind {
    Wheel,
    Sdist,
}

/// The outcome of scanning one package.
#[derive(Debug, Clone, Default)]
pub struct ScanReport {
    /// Files read as code (Python, `.pth`, scripts).
    pub files_scanned: usize,
    /// Bytes of those files.
    pub bytes_scanned: u64,
    /// Every finding, of every severity, most severe first.
    pub findings: Vec<Finding>,
}

/// Why a package could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("{} is not a directory", path.display())]
    NotADirectory { path: PathBuf },
}

/// Scan a wheel or sdist (zip, tar or tar.gz) without extracting it.
/// `expected` is the name and version the index lists for this file; the
/// package's own metadata must agree.
pub fn scan_archive(
    path: &Path,
    kind: ArchiveKind,
    expected: Option<(&PackageName, &Version)>,
) -> Result<ScanReport, ScanError> {
    let limits = Limits::default();
    let is_zip = {
        let mut magic = [0u8; 4];
        let n = std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut magic))
            .map_err(|source| ArchiveError::Read {
                archive: path.to_path_buf(),
                source,
            })?;
        n >= 4 && (magic == *b"PK\x03\x04" || magic == *b"PK\x05\x06")
    };
    let members = if is_zip {
        members::read_zip(path, &limits)?
    } else {
        members::read_tar(path, &limits)?
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let layout = match kind {
        ArchiveKind::Wheel => package::Layout::Wheel,
        ArchiveKind::Sdist => package::Layout::Sdist,
    };
    let scanned = package::scan_members(&members, layout, &file_name, expected);
    let (name, version) = match expected {
        Some((n, v)) => (n.to_string(), Some(v.to_string())),
        None => name_from_file(&file_name, kind)
            .or_else(|| scanned.metadata.clone().map(|(n, v)| (n, Some(v))))
            .unwrap_or_else(|| (file_name.clone(), None)),
    };
    let package = PackageRef::new(name, version, Some(file_name));
    Ok(ScanReport {
        files_scanned: scanned.files_scanned,
        bytes_scanned: scanned.bytes_scanned,
        findings: findings_from_hits(&package, &scanned.hits),
    })
}

/// Scan a source tree or an unpacked distribution. A `setup.py` at its
/// root is treated as install-time code.
pub fn scan_dir(path: &Path) -> Result<ScanReport, ScanError> {
    if !path.is_dir() {
        return Err(ScanError::NotADirectory {
            path: path.to_path_buf(),
        });
    }
    let members = members::read_dir(path)?;
    let dir_name = path
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| path.display().to_string());
    let scanned = package::scan_members(&members, package::Layout::Directory, &dir_name, None);
    let (name, version) = match scanned.metadata.clone() {
        Some((n, v)) => (n, Some(v)),
        None => (dir_name, None),
    };
    let package = PackageRef::new(name, version, None);
    Ok(ScanReport {
        files_scanned: scanned.files_scanned,
        bytes_scanned: scanned.bytes_scanned,
        findings: findings_from_hits(&package, &scanned.hits),
    })
}

/// Scan one file's bytes. The file name decides when it runs: `setup.py` at
/// install time, `*.pth` at every start, shell and batch scripts as scripts,
/// anything else as a module.
pub fn scan_source(file_name: &str, bytes: &[u8]) -> Vec<Hit> {
    let lower = file_name.to_ascii_lowercase();
    let base = lower.rsplit('/').next().unwrap_or(&lower);
    let ctx = if base == "setup.py" {
        Context::Install
    } else if base.ends_with(".pth") {
        Context::Pth
    } else if [".sh", ".bash", ".bat", ".cmd", ".ps1"]
        .iter()
        .any(|e| base.ends_with(e))
    {
        Context::Script
    } else {
        Context::Module
    };
    analyze::analyze_file(file_name, bytes, ctx)
}

fn name_from_file(file_name: &str, kind: ArchiveKind) -> Option<(String, Option<String>)> {
    match kind {
        ArchiveKind::Wheel => WheelFilename::from_str(file_name)
            .ok()
            .map(|w| (w.name.to_string(), Some(w.version.to_string()))),
        ArchiveKind::Sdist => SdistFilename::parse(file_name, None)
            .ok()
            .map(|s| (s.name.to_string(), Some(s.version.to_string()))),
    }
}

/// Most locations listed as evidence of one finding.
const MAX_LOCATIONS: usize = 5;

/// Group hits into findings: one per rule, severity and detail, with up to
/// [`MAX_LOCATIONS`] places as evidence.
fn findings_from_hits(package: &PackageRef, hits: &[Hit]) -> Vec<Finding> {
    let mut groups: Vec<(&Hit, Vec<&Hit>)> = Vec::new();
    for h in hits {
        match groups.iter_mut().find(|(first, _)| {
            first.rule == h.rule && first.severity == h.severity && first.detail == h.detail
        }) {
            Some((_, all)) => all.push(h),
            None => groups.push((h, vec![h])),
        }
    }
    let mut findings: Vec<Finding> = groups
        .into_iter()
        .map(|(first, all)| {
            let files: std::collections::BTreeSet<&str> =
                all.iter().map(|h| h.file.as_str()).collect();
            let title = match files.len() {
                1 => format!("{} {}", first.file, first.detail),
                n => format!("{} and {} other files {}", first.file, n - 1, first.detail),
            };
            let confidence = all
                .iter()
                .map(|h| h.confidence)
                .max()
                .unwrap_or(first.confidence);
            let mut f = Finding::new(Check::Scan, first.severity, package.clone(), title)
                .why(first.rule.why())
                .evidence(Evidence::Signal {
                    name: "rule".to_string(),
                    value: first.rule.id().to_string(),
                })
                .evidence(Evidence::Signal {
                    name: "confidence".to_string(),
                    value: confidence.as_str().to_string(),
                });
            for h in all.iter().take(MAX_LOCATIONS) {
                f = f.evidence(Evidence::Location {
                    file: h.file.clone(),
                    line: h.line,
                    snippet: h.snippet.clone(),
                });
            }
            if all.len() > MAX_LOCATIONS {
                f = f.evidence(Evidence::Signal {
                    name: "places".to_string(),
                    value: all.len().to_string(),
                });
            }
            if first.severity >= Severity::High {
                for a in first.rule.advice() {
                    f = f.advice(*a);
                }
            } else {
                // Below High a finding is context, not a verdict: many
                // legitimate packages do this, and the install goes ahead.
                let name = &package.name;
                f = f
                    .advice("nothing to do if you expect this package to do that; the lines above show what was seen")
                    .advice(format!("read every flagged line with `pyward scan {name} --json`"))
                    .advice(format!(
                        "if the code does something the project should not, report it: pyward report {name} --reason \"...\""
                    ));
            }
            f
        })
        .collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}
