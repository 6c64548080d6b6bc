//! The scanner against its corpus: small packages under `tests/corpus/`,
//! each malicious one modelled on a publicly documented attack (named on its
//! test), each benign one a look-alike of something real packages do. The
//! packages are built into real wheels and sdists here and scanned as an
//! install would scan them.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pyward_dist::{PackageName, Version};
use pyward_guard::{Decision, Evidence, Finding, Policy, Severity};
use pyward_scan::{scan_archive, scan_dir, ArchiveKind, ScanReport};
use pyward_testkit::wheel::{build_tar, gzip, RawTarEntry, WheelBuilder};

fn corpus(group: &str, case: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(group)
        .join(case)
}

fn files_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, std::fs::read(entry.path()).unwrap()));
        }
    }
    out
}

/// Build the corpus package `group/case` as a wheel or sdist named
/// `name`/`version` in `tmp`, and scan it as the index listed it.
fn scan_case(
    tmp: &Path,
    group: &str,
    case: &str,
    kind: ArchiveKind,
    name: &str,
    version: &str,
) -> ScanReport {
    let files = files_of(&corpus(group, case));
    assert!(!files.is_empty(), "corpus case {case} is empty");
    let path = match kind {
        ArchiveKind::Wheel => {
            let mut w = WheelBuilder::new(name, version);
            for (rel, bytes) in files {
                w = w.file(&rel, bytes);
            }
            w.build().write_to(tmp)
        }
        ArchiveKind::Sdist => {
            let base = format!("{}-{version}", name.replace('-', "_"));
            let mut entries = Vec::new();
            if !files.iter().any(|(rel, _)| rel == "PKG-INFO") {
                entries.push(RawTarEntry::file(
                    &format!("{base}/PKG-INFO"),
                    format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"),
                ));
            }
            for (rel, bytes) in files {
                entries.push(RawTarEntry::file(&format!("{base}/{rel}"), bytes));
            }
            let path = tmp.join(format!("{base}.tar.gz"));
            std::fs::write(&path, gzip(&build_tar(&entries))).unwrap();
            path
        }
    };
    let expected_name = PackageName::from_str(name).unwrap();
    let expected_version = Version::from_str(version).unwrap();
    scan_archive(&path, kind, Some((&expected_name, &expected_version))).unwrap()
}

fn rule_of(f: &Finding) -> &str {
    f.evidence
        .iter()
        .find_map(|e| match e {
            Evidence::Signal { name, value } if name == "rule" => Some(value.as_str()),
            _ => None,
        })
        .unwrap_or("")
}

fn describe(report: &ScanReport) -> String {
    report
        .findings
        .iter()
        .map(|f| format!("  {:?} [{}] {}", f.severity, rule_of(f), f.title))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The report has a finding of `rule` at `at_least` or above, with a
/// location, a reason and advice; when that is High or above, the default
/// policy blocks the install.
fn assert_detected(report: &ScanReport, rule: &str, at_least: Severity) {
    let hit = report
        .findings
        .iter()
        .filter(|f| rule_of(f) == rule)
        .max_by_key(|f| f.severity)
        .unwrap_or_else(|| panic!("no `{rule}` finding; got:\n{}", describe(report)));
    assert!(
        hit.severity >= at_least,
        "`{rule}` is {:?}, expected at least {at_least:?}; got:\n{}",
        hit.severity,
        describe(report)
    );
    assert!(hit.why.as_deref().is_some_and(|w| w.ends_with('.')));
    assert!(!hit.advice.is_empty());
    assert!(hit
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Location { snippet, .. } if !snippet.is_empty())));
    if at_least >= Severity::High {
        assert_eq!(
            Policy::default().decide(hit),
            Decision::Block,
            "{}",
            describe(report)
        );
    }
}

/// Nothing the default policy would block, and nothing above `at_most`.
fn assert_quiet(report: &ScanReport, at_most: Severity) {
    let policy = Policy::default();
    for f in &report.findings {
        assert!(
            f.severity <= at_most && policy.decide(f) != Decision::Block,
            "benign package flagged:\n{}",
            describe(report)
        );
    }
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

// ---- malicious: one or more per rule -------------------------------------

/// SANS Internet Storm Center diary (Yee Ching Tok), "ctx Python Library
/// Updated with Extra Features", May 2022: the hijacked ctx 0.2.2 sent the
/// whole environment (AWS keys included) to a Heroku app on every `Ctx()`.
#[test]
fn ctx_environment_exfiltration() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "ctx-env-exfil",
        ArchiveKind::Wheel,
        "ctx",
        "0.2.2",
    );
    assert_detected(&r, "secret-harvest", Severity::Critical);
}

/// ZDNet, "Twelve malicious Python libraries found and removed from PyPI",
/// October 2018: colourama's custom install command fetched a Windows
/// script and started it.
#[test]
fn colourama_install_command_dropper() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "colourama-setup-dropper",
        ArchiveKind::Sdist,
        "colourama",
        "0.1.6",
    );
    assert_detected(&r, "download-exec", Severity::Critical);
}

/// Same write-up: the colourama payload watched the clipboard and swapped
/// copied Bitcoin addresses for the attacker's.
#[test]
fn colourama_clipboard_hijacker() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "colourama-clipboard",
        ArchiveKind::Wheel,
        "colourama",
        "0.1.6",
    );
    assert_detected(&r, "clipboard-hijack", Severity::High);
}

/// Phylum, "W4SP Stealer" campaign reports, October–November 2022: setup.py
/// pushed an `__import__('builtins').exec(…b64decode…)` loader far to the
/// right with whitespace.
#[test]
fn w4sp_setup_loader() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "w4sp-setup-loader",
        ArchiveKind::Sdist,
        "typesutil",
        "0.1.3",
    );
    assert_detected(&r, "decode-exec", Severity::Critical);
}

/// Same campaign: the second stage read Discord tokens from the clients'
/// leveldb stores and posted them to a Discord webhook.
#[test]
fn w4sp_discord_token_grabber() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "w4sp-discord-grabber",
        ArchiveKind::Wheel,
        "pystyle-helper",
        "1.0",
    );
    assert_detected(&r, "secret-harvest", Severity::Critical);
    assert_detected(&r, "suspicious-destination", Severity::Moderate);
}

/// Socket threat research on the `fabrice` typosquat of fabric, November
/// 2024: on Linux it downloaded a script from a bare IP into a hidden file,
/// made it executable and ran it; everywhere it sent AWS keys to that IP.
#[test]
fn fabrice_aws_credentials_and_dropper() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "fabrice-aws",
        ArchiveKind::Wheel,
        "fabrice",
        "1.0",
    );
    assert_detected(&r, "download-exec", Severity::High);
    assert_detected(&r, "secret-harvest", Severity::High);
}

/// ReversingLabs on the aiocpa 0.1.13 release, November 2024: an obfuscated
/// exec of zlib+base64 layers in `sync/client.py` and the Crypto Pay token
/// sent to a Telegram bot.
#[test]
fn aiocpa_compromised_release() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "aiocpa-telegram",
        ArchiveKind::Wheel,
        "aiocpa",
        "0.1.13",
    );
    assert_detected(&r, "decode-exec", Severity::High);
    assert_detected(&r, "suspicious-destination", Severity::Moderate);
}

/// PyPI blog, "Supply-chain attack analysis: Ultralytics", December 2024:
/// the compromised 8.3.41 build made `safe_download` fetch an XMRig miner
/// and start it.
#[test]
fn ultralytics_compromised_release() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "ultralytics-miner",
        ArchiveKind::Wheel,
        "ultralytics",
        "8.3.41",
    );
    assert_detected(&r, "download-exec", Severity::High);
}

/// Sonatype on `pytoileur`, July 2024: setup.py hid, after a run of
/// whitespace, a base64-decoded URL from which it downloaded `Runtime.exe`
/// and started it without a window.
#[test]
fn pytoileur_hidden_setup_downloader() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "pytoileur-setup",
        ArchiveKind::Sdist,
        "pytoileur",
        "1.0.2",
    );
    assert_detected(&r, "download-exec", Severity::Critical);
}

/// The litellm 1.82.x compromise, March 2026 (pydevtools handbook, "Why
/// installing a Python package can run code"): `litellm_init.pth` spawned
/// Python on a base64 payload at every interpreter start.
#[test]
fn litellm_pth_payload() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "litellm-pth",
        ArchiveKind::Wheel,
        "litellm",
        "1.82.8",
    );
    assert_detected(&r, "pth-exec", Severity::Critical);
}

/// The same start-up hook split in two, as copycats of the litellm attack
/// do: a `.pth` line that only imports a bundled module, and the module
/// beaconing user and host name to a request-capture service.
#[test]
fn pth_importing_a_beacon_module() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "pth-startup-module",
        ArchiveKind::Wheel,
        "lr-utils",
        "0.1",
    );
    assert_detected(&r, "install-time-exec", Severity::High);
    assert_detected(&r, "suspicious-destination", Severity::High);
    assert_detected(&r, "pth-exec", Severity::Info);
}

/// JFrog, "Malicious PyPI packages stealing credit cards and injecting
/// code", July 2021: 10Cent10/10Cent11 opened a reverse shell from a custom
/// install command.
#[test]
fn tencent10_reverse_shell() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "10cent10-revshell",
        ArchiveKind::Sdist,
        "10Cent10",
        "999.0.4",
    );
    assert_detected(&r, "reverse-shell", Severity::Critical);
}

/// ZDNet, "Two malicious Python libraries caught stealing SSH and GPG
/// keys", December 2019: jeIlyfish read ~/.ssh and ~/.gnupg and uploaded
/// them to a bare IP address.
#[test]
fn jeilyfish_ssh_key_theft() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "jeilyfish-ssh",
        ArchiveKind::Wheel,
        "jeIlyfish",
        "0.7.1",
    );
    assert_detected(&r, "secret-harvest", Severity::High);
}

/// Alex Birsan, "Dependency Confusion: How I Hacked Into Apple, Microsoft
/// and Dozens of Other Companies", February 2021 (and the many copycat
/// beacons since): setup.py reports user, host and directory home.
#[test]
fn dependency_confusion_beacon() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "birsan-beacon",
        ArchiveKind::Sdist,
        "internal-company-utils",
        "99.0.0",
    );
    assert_detected(&r, "install-time-exec", Severity::High);
    assert_detected(&r, "suspicious-destination", Severity::High);
}

/// Phylum on `onyxproxy`, January 2023: identifiers spelled in Unicode
/// mathematical letters, which Python folds back to `exec`, `compile`…
#[test]
fn onyxproxy_lookalike_identifiers() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "onyxproxy-unicode",
        ArchiveKind::Wheel,
        "onyxproxy",
        "0.0.1",
    );
    assert_detected(&r, "obfuscation", Severity::High);
}

/// Checkmarx, March 2024 campaign of typosquats with Fernet-encrypted
/// payloads: the stealer copied itself into the Startup folder and the Run
/// registry key.
#[test]
fn checkmarx_startup_persistence() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "checkmarx-persistence",
        ArchiveKind::Wheel,
        "requestsx",
        "2.31.0",
    );
    assert_detected(&r, "persistence", Severity::High);
    assert_detected(&r, "decode-exec", Severity::High);
}

/// PyTorch blog, "Compromised PyTorch-nightly dependency chain between
/// December 25th and December 30th, 2022": torchtriton shipped a compiled
/// `triton` program that its `__init__` ran on import.
#[test]
fn torchtriton_native_binary() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "torchtriton-native",
        ArchiveKind::Wheel,
        "torchtriton",
        "3.0.0",
    );
    assert_detected(&r, "native-binary", Severity::High);
}

/// SK-CSIRT advisory, September 2017: typosquats such as `urlib3` were the
/// original projects' sources repackaged, so the metadata inside still named
/// the original project.
#[test]
fn sk_csirt_repackaged_copy() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "sk-csirt-metadata",
        ArchiveKind::Sdist,
        "urlib3",
        "1.22",
    );
    assert_detected(&r, "metadata-mismatch", Severity::High);
}

/// PyArmor-wrapped payloads recur in PyPI malware takedowns (Checkmarx and
/// Phylum reports, 2023): the code cannot be read, which is worth a warning
/// on its own but not a block.
#[test]
fn pyarmor_wrapped_package() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "malicious",
        "pyarmor-wrapped",
        ArchiveKind::Wheel,
        "secret-tool",
        "1.0",
    );
    assert_detected(&r, "obfuscation", Severity::Moderate);
    assert_quiet(&r, Severity::Moderate);
}

// ---- benign look-alikes ---------------------------------------------------

#[test]
fn http_client_on_sockets_is_quiet() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "http-client-sockets",
        ArchiveKind::Wheel,
        "tinyhttp",
        "1.0",
    );
    assert_quiet(&r, Severity::Info);
}

#[test]
fn setup_py_with_cmake_build_ext_is_not_blocked() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "setup-build-ext",
        ArchiveKind::Sdist,
        "fastthing",
        "2.1.0",
    );
    assert_quiet(&r, Severity::Low);
}

#[test]
fn path_and_tooling_pth_files_are_quiet() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "pth-paths",
        ArchiveKind::Wheel,
        "virtualenv-like",
        "1.0",
    );
    assert_quiet(&r, Severity::Info);
    assert!(r.findings.is_empty(), "{}", describe(&r));
}

#[test]
fn sdk_reading_its_own_credentials_is_context() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "aws-sdk-like",
        ArchiveKind::Wheel,
        "cloudkit",
        "1.0",
    );
    assert_quiet(&r, Severity::Info);
}

#[test]
fn code_generation_with_exec_is_quiet() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "codegen-exec",
        ArchiveKind::Wheel,
        "recordclass",
        "1.0",
    );
    assert_quiet(&r, Severity::Info);
    assert!(r.findings.is_empty(), "{}", describe(&r));
}

#[test]
fn embedded_base64_icon_is_quiet() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "embedded-icon",
        ArchiveKind::Wheel,
        "gui",
        "1.0",
    );
    assert!(r.findings.is_empty(), "{}", describe(&r));
}

#[test]
fn clipboard_library_is_quiet() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "clipboard-lib",
        ArchiveKind::Wheel,
        "clipkit",
        "1.0",
    );
    assert!(r.findings.is_empty(), "{}", describe(&r));
}

#[test]
fn shell_completion_installer_is_a_warning_not_a_block() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "shell-completion",
        ArchiveKind::Wheel,
        "clitool",
        "1.0",
    );
    assert_quiet(&r, Severity::Moderate);
}

#[test]
fn runtime_telemetry_is_not_blocked() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "telemetry",
        ArchiveKind::Wheel,
        "metrics",
        "1.0",
    );
    assert_quiet(&r, Severity::Low);
}

// ---- the same corpus through the other entry points ------------------------

#[test]
fn scan_dir_treats_root_setup_py_as_install_time() {
    let r = scan_dir(&corpus("malicious", "10cent10-revshell")).unwrap();
    assert_detected(&r, "reverse-shell", Severity::Critical);
    assert_eq!(r.files_scanned, 1);
    let r = scan_dir(&corpus("benign", "setup-build-ext")).unwrap();
    assert_quiet(&r, Severity::Low);
}

#[test]
fn report_counts_scanned_code() {
    let t = tmp();
    let r = scan_case(
        t.path(),
        "benign",
        "http-client-sockets",
        ArchiveKind::Wheel,
        "tinyhttp",
        "1.0",
    );
    let expected: u64 = files_of(&corpus("benign", "http-client-sockets"))
        .iter()
        .map(|(_, b)| b.len() as u64)
        .sum();
    assert_eq!(r.files_scanned, 2);
    assert_eq!(r.bytes_scanned, expected);
}
