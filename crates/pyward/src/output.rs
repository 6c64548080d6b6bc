//! Everything pyward prints goes through `Printer`: plain text on a pipe,
//! colour on a terminal (NO_COLOR respected), nothing but JSON with `--json`,
//! and the fixed security block every install ends with.

use std::io::{IsTerminal, Write};

use owo_colors::OwoColorize;
use pyward_guard::{Decision, Evidence, Finding, Policy};

/// One line of the security block: a label, a status and optional detail lines.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SecurityLine {
    pub label: &'static str,
    pub status: String,
    pub ok: bool,
    pub details: Vec<String>,
}

pub struct Printer {
    pub quiet: bool,
    pub verbose: u8,
    pub json: bool,
    color: bool,
    stderr_tty: bool,
}

impl Printer {
    pub fn new(quiet: bool, verbose: u8, json: bool, no_color: bool) -> Printer {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = !no_color && !no_color_env && std::io::stdout().is_terminal() && !json;
        Printer {
            quiet,
            verbose,
            json,
            color,
            stderr_tty: std::io::stderr().is_terminal(),
        }
    }

    /// Whether progress bars may be drawn (on stderr).
    pub fn progress_enabled(&self) -> bool {
        self.stderr_tty && !self.quiet && !self.json
    }

    /// A normal status line (suppressed by --quiet and --json).
    pub fn status(&self, text: impl AsRef<str>) {
        if !self.quiet && !self.json {
            self.out(text.as_ref());
        }
    }

    /// A line shown with -v.
    pub fn detail(&self, text: impl AsRef<str>) {
        if self.verbose > 0 && !self.json {
            self.out(text.as_ref());
        }
    }

    /// A line shown even with --quiet (not with --json).
    pub fn important(&self, text: impl AsRef<str>) {
        if !self.json {
            self.out(text.as_ref());
        }
    }

    fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{text}");
    }

    /// An error message on stderr.
    pub fn error(&self, text: impl AsRef<str>) {
        let mut stderr = std::io::stderr().lock();
        let prefix = if self.color && std::io::stderr().is_terminal() {
            "error:".red().bold().to_string()
        } else {
            "error:".to_string()
        };
        let _ = writeln!(stderr, "{prefix} {}", text.as_ref());
    }

    pub fn json_value(&self, value: &serde_json::Value) {
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(
            stdout,
            "{}",
            serde_json::to_string_pretty(value).unwrap_or_default()
        );
    }

    fn red(&self, s: &str) -> String {
        if self.color {
            s.red().bold().to_string()
        } else {
            s.to_string()
        }
    }

    fn yellow(&self, s: &str) -> String {
        if self.color {
            s.yellow().bold().to_string()
        } else {
            s.to_string()
        }
    }

    fn green(&self, s: &str) -> String {
        if self.color {
            s.green().to_string()
        } else {
            s.to_string()
        }
    }

    fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_string()
        }
    }

    /// One finding as a block: what, why, evidence, what to do.
    pub fn finding(&self, f: &Finding, decision: Decision) {
        if self.json {
            return;
        }
        let mark = match decision {
            Decision::Block => self.red("✗"),
            Decision::Ask | Decision::Warn => self.yellow("!"),
            Decision::Allow => self.dim("·"),
        };
        let mut lines = vec![format!("{mark} {}", f.title)];
        for e in &f.evidence {
            match e {
                Evidence::HashMismatch {
                    expected,
                    source,
                    actual,
                    size,
                    url,
                    ..
                } => {
                    lines.push(format!(
                        "    expected  sha256:{}   {source}",
                        short_hash(expected)
                    ));
                    lines.push(format!(
                        "    got       sha256:{}   {} bytes from {url}",
                        short_hash(actual),
                        group_digits(*size)
                    ));
                }
                Evidence::Text { text } => lines.push(format!("    {text}")),
                Evidence::Location {
                    file,
                    line,
                    snippet,
                } => lines.push(format!("    {file}:{line}  {snippet}")),
                Evidence::Advisory { id, url } => match url {
                    Some(u) => lines.push(format!("    {id}  {u}")),
                    None => lines.push(format!("    {id}")),
                },
                Evidence::Signal { name, value } => lines.push(format!("    {name}: {value}")),
            }
        }
        if let Some(why) = &f.why {
            lines.push(format!("  {why}"));
        }
        for a in &f.advice {
            lines.push(format!("  → {a}"));
        }
        self.important(lines.join("\n"));
    }

    /// Render findings that need attention (warn, ask, block), most severe first.
    pub fn findings(&self, findings: &[Finding], policy: &Policy, min: Decision) {
        let mut shown: Vec<(&Finding, Decision)> = findings
            .iter()
            .map(|f| (f, policy.decide_unattended(f)))
            .filter(|(_, d)| *d >= min)
            .collect();
        shown.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.severity.cmp(&a.0.severity)));
        for (f, d) in shown {
            self.finding(f, d);
            self.important("");
        }
    }

    /// The fixed security block: same order, same words, every time.
    pub fn security_block(&self, lines: &[SecurityLine]) {
        if self.json {
            return;
        }
        let mut text = String::new();
        for l in lines {
            let status = if l.ok {
                l.status.clone()
            } else {
                self.yellow(&l.status)
            };
            text.push_str(&format!("  {:<16} {}\n", self.green(l.label), status));
            for d in &l.details {
                text.push_str(&format!("  {:<16} {}\n", "", d));
            }
        }
        if self.quiet {
            // Quiet mode keeps only what needs attention.
            if lines.iter().all(|l| l.ok) {
                return;
            }
        } else {
            self.out("");
        }
        self.important(text.trim_end());
    }
}

/// `4e3f…a1`-style abbreviation of a hex digest.
pub fn short_hash(h: &str) -> String {
    if h.len() > 12 {
        format!("{}…{}", &h[..8], &h[h.len() - 4..])
    } else {
        h.to_string()
    }
}

/// `121336` → `121,336`.
pub fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Human-readable byte size.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Human-readable duration.
pub fn human_duration(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s < 1.0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{s:.2}s")
    }
}

/// "1 package" / "2 packages".
pub fn plural(n: usize, word: &str) -> String {
    count(n, word, &format!("{word}s"))
}

/// "1 vulnerability" / "2 vulnerabilities".
pub fn count(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_helpers() {
        assert_eq!(group_digits(121336), "121,336");
        assert_eq!(group_digits(12), "12");
        assert_eq!(short_hash(&"a".repeat(64)), "aaaaaaaa…aaaa");
        assert_eq!(human_bytes(48 * 1024 * 1024 + 200_000), "48.2 MiB");
        assert_eq!(plural(1, "package"), "1 package");
        assert_eq!(plural(57, "package"), "57 packages");
    }
}
