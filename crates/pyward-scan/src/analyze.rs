//! One file in, hits out: runs the pre-filter, decides whether and what to
//! parse, and judges the combined text-level and parse-tree facts by the
//! rules of the crate's table. Signals are combined within a file so a
//! capability alone (network use, reading a credentials file) stays context,
//! and only the combinations malware needs reach High.

use std::collections::BTreeMap;

use pyward_guard::Severity;

use crate::prefilter::{self, cat, Dest, Indicator, Kind, Persist, Secret, Tokens};
use crate::python::{self, tag, ClipOp, Facts, SinkKind};
use crate::rules::{line_at, Confidence, Hit, Rule};
use crate::text;

/// When a file's code runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// An ordinary module: runs when imported.
    Module,
    /// Runs when the package is built or installed (setup.py, an in-tree build backend).
    Install,
    /// Runs at every interpreter start (a module a `.pth` file imports).
    Startup,
    /// A `.pth` file.
    Pth,
    /// A shell, batch or PowerShell script.
    Script,
}

impl Context {
    fn runs_unasked(self) -> bool {
        matches!(self, Context::Install | Context::Startup | Context::Pth)
    }

    fn when(self) -> &'static str {
        match self {
            Context::Install => "when the package is built or installed",
            Context::Startup | Context::Pth => "every time Python starts",
            Context::Module | Context::Script => "when it runs",
        }
    }
}

/// Programs a build legitimately runs.
const BUILD_TOOLS: &[&str] = &[
    "git",
    "hg",
    "svn",
    "cmake",
    "make",
    "gmake",
    "ninja",
    "meson",
    "pkg-config",
    "pkgconf",
    "gcc",
    "g++",
    "cc",
    "c++",
    "clang",
    "clang++",
    "cl",
    "link",
    "ld",
    "ar",
    "ranlib",
    "xcrun",
    "xcode-select",
    "nvcc",
    "hipcc",
    "swig",
    "cython",
    "pg_config",
    "mysql_config",
    "mariadb_config",
    "icu-config",
    "xml2-config",
    "xslt-config",
    "llvm-config",
    "python",
    "python3",
    "uname",
    "which",
    "where",
    "ldconfig",
    "rustc",
    "cargo",
    "go",
    "lsb_release",
    "sw_vers",
    "nproc",
    "getconf",
    "ccache",
    "patch",
    "autoreconf",
    "autoconf",
    "configure",
    "./configure",
    "sysctl",
    "otool",
    "install_name_tool",
    "patchelf",
    "strip",
    "windres",
    "rc",
    "mt",
    "msbuild",
    "vswhere",
    "lipo",
    "gfortran",
    "f2py",
    "protoc",
    "brew",
    "nm",
    "objdump",
    "readelf",
    "file",
    "ls",
    "cp",
    "mkdir",
    "rm",
    "echo",
    "true",
];

/// Names a look-alike identifier must not spell.
const DANGEROUS_NAMES: &[&str] = &[
    "exec",
    "eval",
    "compile",
    "__import__",
    "getattr",
    "globals",
    "system",
    "popen",
    "open",
    "subprocess",
    "os",
    "socket",
    "b64decode",
    "base64",
    "marshal",
    "zlib",
    "loads",
    "requests",
    "urlopen",
    "builtins",
    "__builtins__",
];

/// Analyze one file.
pub fn analyze_file(path: &str, src: &[u8], ctx: Context) -> Vec<Hit> {
    let mut out = FileJudge::new(path, src, ctx);
    match ctx {
        Context::Pth => out.pth(),
        Context::Script => {
            let tokens = prefilter::scan(src);
            out.text_checks(&tokens, &Facts::default());
        }
        _ => {
            let tokens = prefilter::scan(src);
            let facts = parse_facts(src, &tokens, ctx);
            out.judge_python(&tokens, &facts);
        }
    }
    out.finish()
}

/// Modules a `.pth` file imports (first component), for startup escalation.
pub fn pth_imports(src: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    for line in src.split(|&b| b == b'\n') {
        let Some(rest) = line
            .strip_prefix(b"import ")
            .or_else(|| line.strip_prefix(b"import\t"))
        else {
            continue;
        };
        let rest = String::from_utf8_lossy(rest);
        for part in rest.split(';').next().unwrap_or("").split(',') {
            let name = part.trim().split([' ', '.']).next().unwrap_or("").trim();
            if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Which token categories make a statement worth parsing, given the
/// combinations present in the whole file; 0 when nothing needs a parse.
fn parse_triggers(t: &Tokens) -> u32 {
    let c = t.cats;
    let mut trig = 0;
    if c & cat::EXEC != 0 && c & (cat::DECODE | cat::NET) != 0 {
        trig |= cat::EXEC;
    }
    if c & cat::DYN != 0 && c & cat::DECODE_STRONG != 0 {
        trig |= cat::DYN;
    }
    if c & cat::PROC != 0
        && c & (cat::NET
            | cat::DECODE_STRONG
            | cat::SHELL
            | cat::REVSHELL
            | cat::PERSIST
            | cat::CLIP)
            != 0
    {
        trig |= cat::PROC;
    }
    if c & cat::NET != 0 && c & (cat::SECRET | cat::DEST | cat::HOSTINFO | cat::ENV) != 0 {
        trig |= cat::SECRET | cat::DEST | cat::HOSTINFO | cat::ENV;
    }
    if c & cat::REVSHELL != 0 && c & cat::NET != 0 {
        trig |= cat::REVSHELL | cat::PROC;
    }
    if c & cat::PERSIST != 0 {
        trig |= cat::PERSIST | cat::PROC;
    }
    if c & cat::CLIP != 0 && t.wallet {
        trig |= cat::CLIP | cat::PROC;
    }
    if t.indicators.iter().any(|i| i.kind == Kind::Lookalike) {
        trig |= cat::UNICODE;
    }
    if c & cat::SCRIPT != 0 && c & (cat::EXEC | cat::NET | cat::PROC) != 0 {
        trig |= cat::SCRIPT;
    }
    trig
}

/// Files up to this size are parsed whole when anything needs a parse.
const SMALL_FILE: usize = 16 << 10;
/// Module-level statements up to this size are always parsed (constants).
const SMALL_STATEMENT: usize = 4 << 10;
/// Class bodies above this size are parsed member by member.
const LARGE_CLASS: usize = 16 << 10;

/// Parse what needs parsing and analyze it.
fn parse_facts(src: &[u8], tokens: &Tokens, ctx: Context) -> Facts {
    if src.len() > python::MAX_PARSE_BYTES {
        return Facts::default();
    }
    let ranges = if ctx != Context::Module {
        None
    } else {
        let trig = parse_triggers(tokens);
        if trig == 0 {
            return Facts::default();
        }
        if src.len() <= SMALL_FILE {
            None
        } else {
            let selected = select_ranges(src, tokens, trig);
            let total: usize = selected.iter().map(|r| r.len()).sum();
            if total == 0 {
                return Facts::default();
            }
            if total * 10 >= src.len() * 9 {
                None
            } else {
                Some(selected)
            }
        }
    };
    match python::parse(src, ranges.as_deref()) {
        Some(tree) => python::analyze(src, &tree, &tokens.indicators),
        None => Facts::default(),
    }
}

/// Whether any token with a category in `trig` starts inside `r`
/// (`positions` is sorted by offset).
fn has_token(positions: &[(usize, u32)], r: &std::ops::Range<usize>, trig: u32) -> bool {
    let first = positions.partition_point(|(p, _)| *p < r.start);
    positions[first..]
        .iter()
        .take_while(|(p, _)| *p < r.end)
        .any(|(_, c)| c & trig != 0)
}

/// The statements worth parsing: those holding a trigger token, small
/// module-level statements (imports, constants), and, inside large classes,
/// the class header and the members holding a trigger token.
fn select_ranges(src: &[u8], tokens: &Tokens, trig: u32) -> Vec<std::ops::Range<usize>> {
    let mut selected: Vec<std::ops::Range<usize>> = Vec::new();
    let push =
        |r: std::ops::Range<usize>, selected: &mut Vec<std::ops::Range<usize>>| match selected
            .last_mut()
        {
            Some(last) if last.end == r.start => last.end = r.end,
            _ => selected.push(r),
        };
    for chunk in python::toplevel_chunks(src) {
        let body = &src[chunk.clone()];
        if !has_token(&tokens.positions, &chunk, trig) {
            if !python::is_definition(body) && body.len() <= SMALL_STATEMENT {
                push(chunk, &mut selected);
            }
            continue;
        }
        let class_line = python::class_line(src, chunk.clone());
        if let Some(class_start) = class_line.filter(|_| chunk.len() > LARGE_CLASS) {
            if let Some((header_end, indent)) =
                python::header_and_indent(src, class_start..chunk.end)
            {
                push(chunk.start..header_end, &mut selected);
                for member in python::statement_chunks(src, header_end..chunk.end, indent) {
                    if has_token(&tokens.positions, &member, trig) {
                        push(member, &mut selected);
                    }
                }
                continue;
            }
        }
        push(chunk, &mut selected);
    }
    selected
}

struct FileJudge<'a> {
    path: &'a str,
    src: &'a [u8],
    ctx: Context,
    hits: Vec<Hit>,
}

impl<'a> FileJudge<'a> {
    fn new(path: &'a str, src: &'a [u8], ctx: Context) -> Self {
        FileJudge {
            path,
            src,
            ctx,
            hits: Vec::new(),
        }
    }

    fn hit(
        &mut self,
        rule: Rule,
        severity: Severity,
        confidence: Confidence,
        byte: usize,
        detail: String,
    ) {
        let (line, snippet) = line_at(self.src, byte);
        self.hits.push(Hit {
            rule,
            severity,
            confidence,
            file: self.path.to_string(),
            line,
            snippet,
            detail,
        });
    }

    fn line_of(&self, byte: usize) -> usize {
        line_at(self.src, byte).0
    }

    /// Whether a hit of `rule` (or any rule when `None`) at or above
    /// `severity` is already on the line of `byte`.
    fn covered(&self, rule: Option<Rule>, severity: Severity, byte: usize) -> bool {
        let line = self.line_of(byte);
        self.hits
            .iter()
            .any(|h| h.line == line && h.severity >= severity && rule.is_none_or(|r| r == h.rule))
    }

    fn has_block(&self) -> bool {
        self.hits.iter().any(|h| h.severity >= Severity::High)
    }

    fn finish(mut self) -> Vec<Hit> {
        // One hit per rule and line, the most severe.
        self.hits.sort_by(|a, b| {
            (a.rule, a.line)
                .cmp(&(b.rule, b.line))
                .then(b.severity.cmp(&a.severity))
        });
        self.hits
            .dedup_by(|b, a| a.rule == b.rule && a.line == b.line);
        self.hits
    }

    fn judge_python(&mut self, tokens: &Tokens, facts: &Facts) {
        self.code_execution(facts);
        self.text_checks(tokens, facts);
        self.reverse_shell(tokens, facts);
        self.secrets_and_destinations(tokens, facts);
        self.clipboard(tokens, facts);
        self.obfuscation(tokens, facts);
        if self.ctx.runs_unasked() {
            self.unasked(facts);
        }
        self.persistence(tokens, facts);
    }

    fn code_execution(&mut self, facts: &Facts) {
        let auto = self.ctx.runs_unasked();
        for s in &facts.exec_sinks {
            let what = match s.kind {
                SinkKind::Code => format!("`{}`", s.name),
                SinkKind::Unpickle => format!("`{}` (unpickling runs code)", s.name),
            };
            if s.tags & tag::FETCHED != 0 {
                self.hit(
                    Rule::DownloadExec,
                    if s.kind == SinkKind::Code {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    Confidence::High,
                    s.loc.byte,
                    format!("runs code downloaded from the internet with {what}"),
                );
            } else if s.tags & tag::DECODED_LIT != 0 {
                self.hit(
                    Rule::DecodeExec,
                    if auto {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    Confidence::High,
                    s.loc.byte,
                    format!("runs hidden code: {what} of data decoded from a blob in the file"),
                );
            } else if s.direct_decode && (s.kind == SinkKind::Code || auto) {
                self.hit(
                    Rule::DecodeExec,
                    if auto {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    Confidence::Medium,
                    s.loc.byte,
                    format!("runs hidden code: {what} of decoded data"),
                );
            } else if s.direct_decode {
                // Unpickling decoded data at run time, from an argument or a
                // file, is what caches and session stores do (Django's cache
                // backends): worth a look, not a block. A blob in the file is
                // caught above (DECODED_LIT).
                self.hit(
                    Rule::DecodeExec,
                    Severity::Moderate,
                    Confidence::Low,
                    s.loc.byte,
                    format!("unpickles data it decodes at run time with {what}"),
                );
            } else if s.tags & tag::DECODED != 0 {
                self.hit(
                    Rule::DecodeExec,
                    Severity::Moderate,
                    Confidence::Medium,
                    s.loc.byte,
                    format!("runs code it decodes at run time with {what}"),
                );
            }
        }
        for p in &facts.processes {
            if p.tags & (tag::FETCHED | tag::DL_PATH) != 0 {
                self.hit(
                    Rule::DownloadExec,
                    if auto {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    Confidence::High,
                    p.loc.byte,
                    format!("downloads a program and runs it (`{}`)", p.name),
                );
            } else if p.tags & tag::DECODED_LIT != 0 {
                self.hit(
                    Rule::DecodeExec,
                    Severity::High,
                    Confidence::High,
                    p.loc.byte,
                    format!(
                        "runs a hidden command decoded from a blob in the file (`{}`)",
                        p.name
                    ),
                );
            }
            if let Some(cmd) = &p.command {
                if text::is_dropper(cmd.as_bytes()) {
                    self.hit(
                        Rule::DownloadExec,
                        if auto {
                            Severity::Critical
                        } else {
                            Severity::High
                        },
                        Confidence::High,
                        p.loc.byte,
                        "runs a command that downloads a program and runs it".to_string(),
                    );
                }
                if text::is_reverse_shell(cmd.as_bytes()) {
                    self.hit(
                        Rule::ReverseShell,
                        Severity::Critical,
                        Confidence::High,
                        p.loc.byte,
                        "runs a command that connects a shell to a remote address".to_string(),
                    );
                }
            }
        }
    }

    /// Checks that read the text only (also the whole check for scripts).
    fn text_checks(&mut self, tokens: &Tokens, facts: &Facts) {
        let in_string = |b: usize| facts.strings.iter().any(|r| r.contains(&b));
        if tokens.has(cat::EXEC) && tokens.has(cat::DECODE) || self.ctx == Context::Script {
            for at in text::decode_exec(self.src) {
                let checked_by_parser = facts.parsed
                    && !in_string(at)
                    && facts
                        .exec_sinks
                        .iter()
                        .any(|s| self.line_of(s.loc.byte) == self.line_of(at));
                if checked_by_parser || self.covered(Some(Rule::DecodeExec), Severity::High, at) {
                    continue;
                }
                self.hit(
                    Rule::DecodeExec,
                    if self.ctx.runs_unasked() {
                        Severity::Critical
                    } else {
                        Severity::High
                    },
                    Confidence::Medium,
                    at,
                    "runs hidden code: exec of base64/zlib/marshal-decoded data".to_string(),
                );
            }
        }
        let shell_lines: Vec<usize> = tokens
            .indicators
            .iter()
            .filter(|i| i.kind == Kind::Shell)
            .map(|i| i.start)
            .chain(
                tokens
                    .positions
                    .iter()
                    .filter(|(_, c)| c & cat::REVSHELL != 0)
                    .map(|(p, _)| *p),
            )
            .collect();
        let mut seen_lines = std::collections::HashSet::new();

        for at in shell_lines {
            let (s, e) = text::line_bounds(self.src, at);
            if !seen_lines.insert(s) {
                continue;
            }
            let line = &self.src[s..e];
            if text::is_reverse_shell(line)
                && !self.covered(Some(Rule::ReverseShell), Severity::High, at)
            {
                self.hit(
                    Rule::ReverseShell,
                    Severity::High,
                    Confidence::Medium,
                    at,
                    "contains a command that connects a shell to a remote address".to_string(),
                );
            }
            if text::is_dropper(line) && !self.covered(Some(Rule::DownloadExec), Severity::High, at)
            {
                // A command line handed to a process call is judged by the
                // parser; as text it is only as alarming as where it runs.
                let (severity, confidence) = match self.ctx {
                    Context::Install | Context::Startup | Context::Pth => {
                        (Severity::High, Confidence::Medium)
                    }
                    Context::Script => (Severity::Moderate, Confidence::Low),
                    Context::Module if tokens.has(cat::PROC) => {
                        (Severity::Moderate, Confidence::Low)
                    }
                    Context::Module => (Severity::Low, Confidence::Low),
                };
                self.hit(
                    Rule::DownloadExec,
                    severity,
                    confidence,
                    at,
                    "contains a command that downloads a program and runs it".to_string(),
                );
            }
        }
    }

    fn reverse_shell(&mut self, tokens: &Tokens, facts: &Facts) {
        let sockets = tokens.has(cat::NET);
        let shell = !facts.pty_shell.is_empty()
            || facts.processes.iter().any(|p| {
                p.program.as_deref().is_some_and(|prog| {
                    matches!(
                        prog,
                        "sh" | "bash" | "zsh" | "dash" | "cmd" | "powershell" | "pwsh"
                    )
                })
            })
            || [&b"/bin/sh"[..], b"/bin/bash", b"cmd.exe"]
                .iter()
                .any(|s| memchr::memmem::find(self.src, s).is_some());
        if sockets && shell {
            for l in &facts.dup2 {
                self.hit(
                    Rule::ReverseShell,
                    Severity::Critical,
                    Confidence::High,
                    l.byte,
                    "wires a network socket to the program's input and output (os.dup2)"
                        .to_string(),
                );
            }
            for l in &facts.pty_shell {
                self.hit(
                    Rule::ReverseShell,
                    Severity::High,
                    Confidence::Medium,
                    l.byte,
                    "starts an interactive shell in a file that opens network connections"
                        .to_string(),
                );
            }
        }
        for p in &facts.processes {
            if p.socket_io {
                self.hit(
                    Rule::ReverseShell,
                    Severity::Critical,
                    Confidence::High,
                    p.loc.byte,
                    "starts a program whose input and output are a network socket".to_string(),
                );
            }
        }
    }

    fn destinations(&self, tokens: &Tokens) -> Vec<(Dest, usize, String)> {
        let mut out = Vec::new();
        for ind in &tokens.indicators {
            if let Kind::Dest(d) = ind.kind {
                let host = String::from_utf8_lossy(&self.src[ind.start..ind.end]).into_owned();
                out.push((d, ind.start, host));
            }
        }
        if tokens.has(cat::NET) || self.ctx.runs_unasked() {
            for (at, ip) in text::raw_ip_urls(self.src) {
                out.push((Dest::RawIp, at, ip));
            }
            for (at, ip) in text::ip_literals(self.src) {
                out.push((Dest::RawIp, at, ip));
            }
        }
        out
    }

    fn secrets_and_destinations(&mut self, tokens: &Tokens, facts: &Facts) {
        let auto = self.ctx.runs_unasked();
        let mut secrets: BTreeMap<Secret, usize> = BTreeMap::new();
        for ind in &tokens.indicators {
            if let Kind::Secret(s) = ind.kind {
                secrets.entry(s).or_insert(ind.start);
            }
        }
        let dests = self.destinations(tokens);
        let has_net = !facts.network.is_empty() || (!facts.parsed && tokens.has(cat::NET));
        let sends = facts.network.iter().any(|n| n.send);
        let strong = facts
            .network
            .iter()
            .find(|n| n.tags & (tag::SECRET | tag::ENV_DUMP) != 0);
        let weak = facts.network.iter().find(|n| n.tags & tag::ENV_SECRET != 0);
        let beacon = facts.network.iter().find(|n| n.tags & tag::HOSTINFO != 0);
        if strong.is_some_and(|n| n.tags & tag::ENV_DUMP != 0) {
            secrets.entry(Secret::Environment).or_insert(0);
        }
        let stealer = secrets.keys().any(|s| s.is_stealer_only());
        let what = describe_secrets(&secrets);

        if let Some(n) = strong {
            let critical = !dests.is_empty() || stealer || n.tags & tag::ENV_DUMP != 0;
            self.hit(
                Rule::SecretHarvest,
                if critical {
                    Severity::Critical
                } else {
                    Severity::High
                },
                Confidence::High,
                n.loc.byte,
                format!("sends {what} over the network (`{}`)", n.name),
            );
        } else if let Some(n) = weak.filter(|_| !dests.is_empty() || auto) {
            self.hit(
                Rule::SecretHarvest,
                Severity::High,
                Confidence::High,
                n.loc.byte,
                format!(
                    "sends credentials from environment variables to {} (`{}`)",
                    dests
                        .first()
                        .map_or("the network", |(d, _, _)| d.describe()),
                    n.name
                ),
            );
        } else if has_net && !secrets.is_empty() {
            let first = secrets.values().copied().min().unwrap_or(0);
            let high = stealer || secrets.len() >= 3 || !dests.is_empty() || auto;
            if high {
                self.hit(
                    Rule::SecretHarvest,
                    Severity::High,
                    Confidence::Medium,
                    first,
                    format!("reads {what} in a file that sends data over the network"),
                );
            } else {
                self.hit(
                    Rule::SecretHarvest,
                    Severity::Info,
                    Confidence::Low,
                    first,
                    format!("reads {what} and uses the network"),
                );
            }
        }
        if let Some(n) = beacon {
            if auto {
                self.hit(
                    Rule::InstallTimeExec,
                    Severity::High,
                    Confidence::High,
                    n.loc.byte,
                    format!(
                        "sends your user or machine name over the network {}",
                        self.ctx.when()
                    ),
                );
            } else if !dests.is_empty() {
                self.hit(
                    Rule::SecretHarvest,
                    Severity::Moderate,
                    Confidence::Medium,
                    n.loc.byte,
                    format!(
                        "sends your user or machine name to {}",
                        dests[0].0.describe()
                    ),
                );
            }
        }

        // Destinations, one hit per kind.
        let mut by_kind: BTreeMap<Dest, (usize, String)> = BTreeMap::new();
        for (d, at, host) in dests {
            by_kind.entry(d).or_insert((at, host));
        }
        for (d, (at, host)) in by_kind {
            let (severity, confidence, detail) = if auto && has_net {
                (
                    Severity::High,
                    Confidence::Medium,
                    format!("contacts {} ({host}) {}", d.describe(), self.ctx.when()),
                )
            } else if sends && d != Dest::RawIp {
                (
                    Severity::Moderate,
                    Confidence::Medium,
                    format!("sends data in a file that names {} ({host})", d.describe()),
                )
            } else if d == Dest::RawIp {
                if !has_net {
                    continue;
                }
                (
                    Severity::Low,
                    Confidence::Low,
                    format!("names a bare IP address ({host}) in a file that uses the network"),
                )
            } else {
                (
                    Severity::Low,
                    Confidence::Low,
                    format!("names {} ({host})", d.describe()),
                )
            };
            self.hit(
                Rule::SuspiciousDestination,
                severity,
                confidence,
                at,
                detail,
            );
        }
    }

    fn clipboard(&mut self, tokens: &Tokens, facts: &Facts) {
        if !tokens.has(cat::CLIP) {
            return;
        }
        let write = facts.clipboard.iter().find(|(_, op)| *op == ClipOp::Write);
        if let Some((loc, _)) = write {
            if tokens.wallet {
                self.hit(
                    Rule::ClipboardHijack,
                    Severity::High,
                    Confidence::High,
                    loc.byte,
                    "replaces what you copy with a cryptocurrency wallet address".to_string(),
                );
            }
        }
    }

    fn obfuscation(&mut self, tokens: &Tokens, facts: &Facts) {
        let acts = !facts.exec_sinks.is_empty()
            || !facts.processes.is_empty()
            || !facts.network.is_empty()
            || self.ctx.runs_unasked();
        for (loc, tags, name) in &facts.hidden_names {
            let decoded = tags & (tag::DECODED_LIT | tag::CHR) != 0;
            let severity = if decoded && acts {
                Severity::High
            } else {
                Severity::Moderate
            };
            let shown = name
                .as_deref()
                .map(|n| format!(" (`{n}`)"))
                .unwrap_or_default();
            self.hit(
                Rule::Obfuscation,
                severity,
                Confidence::Medium,
                loc.byte,
                format!("hides the name of a module or function it uses{shown}"),
            );
        }
        for (loc, folded) in &facts.lookalikes {
            let dangerous = DANGEROUS_NAMES.contains(&folded.as_str());
            self.hit(
                Rule::Obfuscation,
                if dangerous {
                    Severity::High
                } else {
                    Severity::Low
                },
                Confidence::High,
                loc.byte,
                format!("spells `{folded}` with look-alike Unicode letters"),
            );
        }
        if !facts.parsed {
            // Without a parse tree, a look-alike run of letters is reported as text.
            for ind in tokens
                .indicators
                .iter()
                .filter(|i| i.kind == Kind::Lookalike)
            {
                if let Some(word) = lookalike_word(self.src, ind) {
                    if self.covered(Some(Rule::Obfuscation), Severity::Low, ind.start) {
                        continue;
                    }
                    let dangerous = DANGEROUS_NAMES.contains(&word.as_str());
                    self.hit(
                        Rule::Obfuscation,
                        if dangerous {
                            Severity::Moderate
                        } else {
                            Severity::Low
                        },
                        Confidence::Low,
                        ind.start,
                        format!("spells `{word}` with look-alike Unicode letters"),
                    );
                }
            }
        }
        for (loc, ident) in &facts.mixed_script {
            self.hit(
                Rule::Obfuscation,
                Severity::Moderate,
                Confidence::Medium,
                loc.byte,
                format!("identifier `{ident}` mixes Latin and Cyrillic letters"),
            );
        }
        if let Some(ind) = tokens.indicators.iter().find(|i| i.kind == Kind::Marker) {
            let marker = String::from_utf8_lossy(&self.src[ind.start..ind.end]).to_lowercase();
            let tool = if marker.contains("pyarmor") || marker.contains("pytransform") {
                "PyArmor"
            } else if marker.contains("pyobfuscate") {
                "PyObfuscate"
            } else if marker.contains("blankobf") {
                "BlankOBF"
            } else {
                "an obfuscator"
            };
            self.hit(
                Rule::Obfuscation,
                Severity::Moderate,
                Confidence::High,
                ind.start,
                format!("is scrambled with {tool}; its code cannot be read"),
            );
        }
        if let Some(ind) = tokens.indicators.iter().find(|i| i.kind == Kind::Bidi) {
            self.hit(
                Rule::Obfuscation,
                Severity::Low,
                Confidence::Low,
                ind.start,
                "contains invisible text-direction characters that can make code read differently than it runs"
                    .to_string(),
            );
        }
        if tokens.has(cat::EXEC) {
            for long in text::long_lines(self.src) {
                if !long.blob || self.covered(None, Severity::High, long.start) {
                    continue;
                }
                let line = &self.src[long.start..long.start + long.len];
                let runs = prefilter::scan(line).has(cat::EXEC);
                if runs {
                    self.hit(
                        Rule::Obfuscation,
                        Severity::Moderate,
                        Confidence::Medium,
                        long.start,
                        format!(
                            "a {}-character line holds an encoded blob next to dynamic code execution",
                            long.len
                        ),
                    );
                }
            }
        }
    }

    /// Processes and network use in code that runs without being imported.
    fn unasked(&mut self, facts: &Facts) {
        let when = self.ctx.when();
        for p in &facts.processes {
            if self.covered(None, Severity::High, p.loc.byte) {
                continue;
            }
            let inside = p
                .command_class
                .as_deref()
                .map(|c| format!(" in its custom `{c}` command"))
                .unwrap_or_default();
            let shown = p
                .command
                .as_deref()
                .map(|c| format!("`{}`", crate::rules::snippet(c.as_bytes(), 0)))
                .or_else(|| p.program.as_ref().map(|p| format!("`{p}`")))
                .unwrap_or_else(|| format!("a command (`{}`)", p.name));
            if p.detached {
                self.hit(
                    Rule::InstallTimeExec,
                    Severity::High,
                    Confidence::Medium,
                    p.loc.byte,
                    format!("starts a hidden background process{inside} {when}"),
                );
            } else if p
                .program
                .as_deref()
                .is_some_and(|prog| BUILD_TOOLS.contains(&prog))
            {
                continue;
            } else {
                // A build step of a custom build command is what such commands are for.
                let build_step = p.command_class.as_deref().is_some_and(|c| {
                    matches!(c, "build_ext" | "build_clib" | "build_py" | "build")
                });
                self.hit(
                    Rule::InstallTimeExec,
                    if build_step {
                        Severity::Low
                    } else {
                        Severity::Moderate
                    },
                    Confidence::Medium,
                    p.loc.byte,
                    format!("runs {shown}{inside} {when}"),
                );
            }
        }
        for n in &facts.network {
            if self.covered(None, Severity::High, n.loc.byte) {
                continue;
            }
            let inside = n
                .command_class
                .as_deref()
                .map(|c| format!(" in its custom `{c}` command"))
                .unwrap_or_default();
            if n.send || n.tags & (tag::SECRET | tag::ENV_SECRET | tag::HOSTINFO) != 0 {
                self.hit(
                    Rule::InstallTimeExec,
                    Severity::High,
                    Confidence::Medium,
                    n.loc.byte,
                    format!("sends data over the network{inside} {when} (`{}`)", n.name),
                );
            } else {
                self.hit(
                    Rule::InstallTimeExec,
                    Severity::Moderate,
                    Confidence::Medium,
                    n.loc.byte,
                    format!("downloads from the internet{inside} {when} (`{}`)", n.name),
                );
            }
        }
    }

    fn persistence(&mut self, tokens: &Tokens, facts: &Facts) {
        if facts.persistence.is_empty() {
            return;
        }
        let kind = tokens
            .indicators
            .iter()
            .find_map(|i| match i.kind {
                Kind::Persist(p) => Some(p),
                _ => None,
            })
            .unwrap_or(Persist::ShellRc);
        let high = self.ctx.runs_unasked() || self.has_block();
        for l in facts.persistence.clone() {
            self.hit(
                Rule::Persistence,
                if high {
                    Severity::High
                } else {
                    Severity::Moderate
                },
                Confidence::Medium,
                l.byte,
                format!("adds itself to {} so it keeps running", kind.describe()),
            );
        }
    }

    /// A `.pth` file: only lines starting with `import` run.
    fn pth(&mut self) {
        let mut offset = 0usize;
        let src = self.src;
        for line in src.split(|&b| b == b'\n') {
            let start = offset;
            offset += line.len() + 1;
            if !(line.starts_with(b"import ") || line.starts_with(b"import\t")) {
                continue;
            }
            match pth_verdict(line, 0) {
                PthVerdict::Hidden => self.hit(
                    Rule::PthExec,
                    Severity::Critical,
                    Confidence::High,
                    start,
                    "a .pth file runs hidden code every time Python starts".to_string(),
                ),
                PthVerdict::Acts => self.hit(
                    Rule::PthExec,
                    Severity::High,
                    Confidence::High,
                    start,
                    "a .pth file runs programs, network or file code every time Python starts"
                        .to_string(),
                ),
                PthVerdict::Plain if !is_known_pth_line(line) => {
                    let modules = pth_imports(line).join(", ");
                    self.hit(
                        Rule::PthExec,
                        Severity::Info,
                        Confidence::High,
                        start,
                        format!("a .pth file imports `{modules}` and runs its start-up code every time Python starts"),
                    )
                }
                PthVerdict::Plain => {}
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PthVerdict {
    /// Imports and calls into the imported modules only.
    Plain,
    /// Spawns, uses the network, touches secrets, hides names.
    Acts,
    /// Decodes and runs hidden code, or downloads code.
    Hidden,
}

/// Judge the code of one `.pth` line; `exec` of a literal is judged by
/// the literal's own code.
fn pth_verdict(code: &[u8], depth: usize) -> PthVerdict {
    let tokens = prefilter::scan(code);
    let facts = match python::parse(code, None) {
        Some(tree) => python::analyze(code, &tree, &tokens.indicators),
        None => Facts::default(),
    };
    let hidden = !text::decode_exec(code).is_empty()
        || facts
            .exec_sinks
            .iter()
            .any(|s| s.direct_decode || s.tags & (tag::DECODED | tag::FETCHED) != 0)
        || facts.processes.iter().any(|p| {
            p.command.as_deref().is_some_and(|c| {
                !text::decode_exec(c.as_bytes()).is_empty() || text::is_dropper(c.as_bytes())
            })
        });
    if hidden {
        return PthVerdict::Hidden;
    }
    let mut verdict = PthVerdict::Plain;
    let acts = !facts.processes.is_empty()
        || !facts.network.is_empty()
        || !facts.hidden_names.is_empty()
        || !facts.persistence.is_empty()
        || tokens.has(cat::DECODE_STRONG | cat::SECRET | cat::DEST | cat::SHELL | cat::NET);
    if acts {
        verdict = PthVerdict::Acts;
    }
    for sink in &facts.exec_sinks {
        let inner = match &sink.literal {
            Some(code) if depth < 3 => pth_verdict(code.as_bytes(), depth + 1),
            _ => PthVerdict::Acts,
        };
        verdict = verdict.max(inner);
    }
    verdict
}

/// `.pth` import lines written by packaging tools themselves.
fn is_known_pth_line(line: &[u8]) -> bool {
    let s = String::from_utf8_lossy(line);
    s.contains("_virtualenv")
        || s.contains("_distutils_hack")
        || s.contains("__editable__")
        || s.contains("f_locals['sitedir']")
        || s.contains("sys.__plen")
}

fn describe_secrets(secrets: &BTreeMap<Secret, usize>) -> String {
    let names: Vec<&str> = secrets.keys().map(|s| s.describe()).collect();
    match names.len() {
        0 => "private data".to_string(),
        1 => names[0].to_string(),
        _ => {
            let (last, rest) = names.split_last().unwrap_or((&"", &[]));
            format!("{} and {last}", rest.join(", "))
        }
    }
}

/// The identifier-like run around a look-alike character, folded to ASCII.
fn lookalike_word(src: &[u8], ind: &Indicator) -> Option<String> {
    let (s, e) = text::line_bounds(src, ind.start);
    let line = std::str::from_utf8(&src[s..e]).ok()?;
    let rel = ind.start - s;
    let mut word = String::new();
    for (i, c) in line.char_indices() {
        let part = c.is_ascii_alphanumeric() || c == '_' || python::fold_lookalike(c).is_some();
        if !part {
            if i > rel {
                break;
            }
            word.clear();
            continue;
        }
        word.push(python::fold_lookalike(c).unwrap_or(c));
    }
    (!word.is_empty()).then_some(word)
}
