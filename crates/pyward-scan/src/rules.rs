//! The scanner's rules: their ids, the plain sentence of why each matters,
//! the advice shown with them, and [`Hit`], one rule matching one place.

use pyward_guard::Severity;

/// One rule of the scanner. The module doc of the crate has the table of
/// what each rule looks for and when it is high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    InstallTimeExec,
    PthExec,
    DownloadExec,
    DecodeExec,
    Obfuscation,
    SecretHarvest,
    SuspiciousDestination,
    ReverseShell,
    Persistence,
    ClipboardHijack,
    NativeBinary,
    MetadataMismatch,
}

impl Rule {
    pub const ALL: [Rule; 12] = [
        Rule::InstallTimeExec,
        Rule::PthExec,
        Rule::DownloadExec,
        Rule::DecodeExec,
        Rule::Obfuscation,
        Rule::SecretHarvest,
        Rule::SuspiciousDestination,
        Rule::ReverseShell,
        Rule::Persistence,
        Rule::ClipboardHijack,
        Rule::NativeBinary,
        Rule::MetadataMismatch,
    ];

    /// Stable id used in JSON output, SARIF and user configuration.
    pub fn id(self) -> &'static str {
        match self {
            Rule::InstallTimeExec => "install-time-exec",
            Rule::PthExec => "pth-exec",
            Rule::DownloadExec => "download-exec",
            Rule::DecodeExec => "decode-exec",
            Rule::Obfuscation => "obfuscation",
            Rule::SecretHarvest => "secret-harvest",
            Rule::SuspiciousDestination => "suspicious-destination",
            Rule::ReverseShell => "reverse-shell",
            Rule::Persistence => "persistence",
            Rule::ClipboardHijack => "clipboard-hijack",
            Rule::NativeBinary => "native-binary",
            Rule::MetadataMismatch => "metadata-mismatch",
        }
    }

    /// The rule for an id, if there is one.
    pub fn from_id(id: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.id() == id)
    }

    /// One plain sentence: why a match matters.
    pub fn why(self) -> &'static str {
        match self {
            Rule::InstallTimeExec => {
                "setup.py runs with your permissions the moment the package is built, before you ever import it."
            }
            Rule::PthExec => {
                "A .pth file's import lines run every time Python starts, in every program, even if you never import the package."
            }
            Rule::DownloadExec => {
                "Code fetched from the internet at run time was never part of the package you checked, so it can be anything."
            }
            Rule::DecodeExec => {
                "Running data that is decoded at run time (exec, eval, unpickling) runs code that cannot be read in the package; malware hides its payload this way."
            }
            Rule::Obfuscation => {
                "Code that is made unreadable on purpose cannot be reviewed by you or by anyone else."
            }
            Rule::SecretHarvest => {
                "Reading passwords, keys or tokens and sending data over the network is how stolen credentials leave your machine."
            }
            Rule::SuspiciousDestination => {
                "Chat webhooks, paste sites, tunnels, file-drop hosts and bare IP addresses are where stolen data is usually sent."
            }
            Rule::ReverseShell => {
                "Connecting a shell to a remote address gives a stranger a command line on your machine."
            }
            Rule::Persistence => {
                "Adding itself to autostart, crontab or your shell start-up files lets code keep running after the package is removed."
            }
            Rule::ClipboardHijack => {
                "Rewriting copied wallet addresses sends your payments to someone else without you noticing."
            }
            Rule::NativeBinary => {
                "Compiled programs cannot be read like Python source, and a package that claims to be pure Python has no need for them."
            }
            Rule::MetadataMismatch => {
                "A file whose metadata names a different project or version than the index is not the release you asked for."
            }
        }
    }

    /// What the user can do, simplest first.
    pub fn advice(self) -> &'static [&'static str] {
        match self {
            Rule::NativeBinary => &[
                "check the project's documentation for why it ships compiled programs",
                "inspect the files with `pyward scan FILE --json` before allowing the install",
            ],
            Rule::MetadataMismatch => &[
                "do not install this file; report it to the index operator",
            ],
            Rule::Obfuscation => &[
                "read the flagged lines with `pyward scan NAME --json`",
                "prefer a release or project whose code you can read",
            ],
            _ => &[
                "do not install this package; if it is a typo, check the name you meant",
                "if you trust the project, read the flagged lines first (`pyward scan NAME --json`) and allow it with `--allow NAME`",
                "report malicious packages to security@pypi.org",
            ],
        }
    }
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// How sure the scanner is that a hit means what its severity says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Confidence {
    Low,
    Medium,
    High,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::Low => "low",
            Confidence::Medium => "medium",
            Confidence::High => "high",
        }
    }
}

/// One rule matching at one place of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub rule: Rule,
    pub severity: Severity,
    pub confidence: Confidence,
    /// Path inside the package (archive member or relative to the scanned directory).
    pub file: String,
    /// 1-based line; 0 when the hit is about the file as a whole.
    pub line: usize,
    /// The line (or the part of it around the match), trimmed to about 120 characters.
    pub snippet: String,
    /// What exactly was seen, in plain words (becomes the finding's title).
    pub detail: String,
}

/// Longest snippet kept as evidence.
pub const SNIPPET_MAX: usize = 120;

/// The line of `src` holding byte `offset`, trimmed to [`SNIPPET_MAX`]
/// characters around the offset, and its 1-based line number.
pub fn line_at(src: &[u8], offset: usize) -> (usize, String) {
    let offset = offset.min(src.len());
    let line = memchr::memchr_iter(b'\n', &src[..offset]).count() + 1;
    let start = memchr::memrchr(b'\n', &src[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &src[offset..]).map_or(src.len(), |i| offset + i);
    (line, snippet(&src[start..end], offset - start))
}

/// `text` trimmed to about [`SNIPPET_MAX`] characters, keeping `focus`
/// (a byte offset into `text`) visible.
pub fn snippet(text: &[u8], focus: usize) -> String {
    let text = String::from_utf8_lossy(text);
    let trimmed_start = text.len() - text.trim_start().len();
    let text = text.trim();
    let focus = focus.saturating_sub(trimmed_start);
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    if chars.len() <= SNIPPET_MAX {
        return text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
    }
    let focus_char = chars.iter().position(|(i, _)| *i >= focus).unwrap_or(0);
    let start = focus_char.saturating_sub(SNIPPET_MAX / 4);
    let end = (start + SNIPPET_MAX).min(chars.len());
    let start = end.saturating_sub(SNIPPET_MAX);
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    out.extend(
        chars[start..end]
            .iter()
            .map(|(_, c)| if c.is_control() { ' ' } else { *c }),
    );
    if end < chars.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        for r in Rule::ALL {
            assert_eq!(Rule::from_id(r.id()), Some(r));
            assert!(r.why().ends_with('.'));
        }
    }

    #[test]
    fn line_and_snippet() {
        let src = b"a = 1\n  exec(x)  \nb";
        let (line, snip) = line_at(src, 9);
        assert_eq!(line, 2);
        assert_eq!(snip, "exec(x)");
        let long = format!("x = '{}' + exec(y)", "A".repeat(500));
        let (_, snip) = line_at(long.as_bytes(), long.find("exec").unwrap());
        assert!(snip.contains("exec(y)"), "{snip}");
        assert!(snip.chars().count() <= SNIPPET_MAX + 2);
    }
}
