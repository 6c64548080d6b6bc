//! The fast first pass: one Aho-Corasick automaton over every file's bytes
//! finds the tokens the rules care about. Its result says which categories a
//! file touches (so most files are never parsed) and where the text-level
//! indicators are (secret paths, suspicious hosts, shell one-liners,
//! persistence locations, obfuscator markers, look-alike characters).

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

/// Category bits of a file's tokens.
pub mod cat {
    /// exec, eval, execfile, `__import__`, `__builtins__`.
    pub const EXEC: u32 = 1 << 0;
    /// Decoders: base64, zlib, marshal, codecs, fromhex, chr(), reversal…
    pub const DECODE: u32 = 1 << 1;
    /// The decoders that only hiding code needs (not chr(), reversal, codecs).
    pub const DECODE_STRONG: u32 = 1 << 14;
    /// Other dynamic code: pickle, marshal, FunctionType, builtins, import_module.
    pub const DYN: u32 = 1 << 15;
    /// getattr alone (everywhere in normal code; only context).
    pub const GETATTR: u32 = 1 << 16;
    /// Network libraries and calls.
    pub const NET: u32 = 1 << 2;
    /// Process spawning.
    pub const PROC: u32 = 1 << 3;
    /// Secret locations (see [`super::Secret`]).
    pub const SECRET: u32 = 1 << 4;
    /// Suspicious destinations (see [`super::Dest`]).
    pub const DEST: u32 = 1 << 5;
    /// Shell one-liners: download-and-run, reverse shells.
    pub const SHELL: u32 = 1 << 6;
    /// Reverse-shell building blocks: dup2, pty.spawn, /bin/sh.
    pub const REVSHELL: u32 = 1 << 7;
    /// Persistence locations (see [`super::Persist`]).
    pub const PERSIST: u32 = 1 << 8;
    /// Clipboard access.
    pub const CLIP: u32 = 1 << 9;
    /// Obfuscator markers.
    pub const OBF: u32 = 1 << 10;
    /// Characters that fold to ASCII letters, or bidirectional controls.
    pub const UNICODE: u32 = 1 << 11;
    /// Cyrillic letters (possible mixed-script identifiers).
    pub const SCRIPT: u32 = 1 << 12;
    /// User and host identification (beacons).
    pub const HOSTINFO: u32 = 1 << 13;
    /// The process environment (`environ`).
    pub const ENV: u32 = 1 << 17;
}

/// Kinds of secret a file may reach for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Secret {
    Ssh,
    Aws,
    Cloud,
    Browser,
    Discord,
    Telegram,
    Wallet,
    CiToken,
    SystemPasswords,
    DevCredentials,
    Keychain,
    /// The whole environment serialized (found by the parser only).
    Environment,
}

impl Secret {
    pub fn describe(self) -> &'static str {
        match self {
            Secret::Ssh => "SSH keys",
            Secret::Aws => "AWS credentials",
            Secret::Cloud => "cloud and container credentials",
            Secret::Browser => "browser passwords and cookies",
            Secret::Discord => "Discord tokens",
            Secret::Telegram => "Telegram sessions",
            Secret::Wallet => "cryptocurrency wallets",
            Secret::CiToken => "CI and publishing tokens",
            Secret::SystemPasswords => "system password files",
            Secret::DevCredentials => "package-index and git credentials",
            Secret::Keychain => "the macOS keychain",
            Secret::Environment => "all environment variables",
        }
    }

    /// Kinds no library outside a password manager has business reading.
    pub fn is_stealer_only(self) -> bool {
        matches!(
            self,
            Secret::Browser
                | Secret::Discord
                | Secret::Telegram
                | Secret::Wallet
                | Secret::Keychain
                | Secret::SystemPasswords
        )
    }
}

/// Kinds of suspicious destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Dest {
    ChatWebhook,
    PasteSite,
    Tunnel,
    FileDrop,
    Interaction,
    /// `http://1.2.3.4` (found by a regex in files that use the network).
    RawIp,
}

impl Dest {
    pub fn describe(self) -> &'static str {
        match self {
            Dest::ChatWebhook => "a chat webhook",
            Dest::PasteSite => "a paste site",
            Dest::Tunnel => "a tunnelling service",
            Dest::FileDrop => "a file-drop host",
            Dest::Interaction => "a request-capture service",
            Dest::RawIp => "a bare IP address",
        }
    }
}

/// Kinds of persistence location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Persist {
    ShellRc,
    Cron,
    WindowsRun,
    StartupFolder,
    LaunchAgent,
    Systemd,
    XdgAutostart,
    ScheduledTask,
    SshAuthorizedKeys,
}

impl Persist {
    pub fn describe(self) -> &'static str {
        match self {
            Persist::ShellRc => "a shell start-up file",
            Persist::Cron => "crontab",
            Persist::WindowsRun => "the Windows Run registry key",
            Persist::StartupFolder => "the Windows Startup folder",
            Persist::LaunchAgent => "a macOS LaunchAgent",
            Persist::Systemd => "a systemd service",
            Persist::XdgAutostart => "the desktop autostart folder",
            Persist::ScheduledTask => "a Windows scheduled task",
            Persist::SshAuthorizedKeys => "SSH authorized_keys",
        }
    }
}

/// What one token means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Token,
    Secret(Secret),
    Dest(Dest),
    Persist(Persist),
    Shell,
    Marker,
    Lookalike,
    Bidi,
}

struct Pattern {
    text: &'static str,
    cats: u32,
    kind: Kind,
    /// Require a non-identifier character before and after the match.
    word: bool,
    /// Require a non-host character before the match.
    host: bool,
}

const fn tok(text: &'static str, cats: u32) -> Pattern {
    Pattern {
        text,
        cats,
        kind: Kind::Token,
        word: false,
        host: false,
    }
}

const fn word(text: &'static str, cats: u32) -> Pattern {
    Pattern {
        text,
        cats,
        kind: Kind::Token,
        word: true,
        host: false,
    }
}

const fn secret(text: &'static str, s: Secret) -> Pattern {
    Pattern {
        text,
        cats: cat::SECRET,
        kind: Kind::Secret(s),
        word: false,
        host: false,
    }
}

const fn secret_word(text: &'static str, s: Secret) -> Pattern {
    Pattern {
        text,
        cats: cat::SECRET,
        kind: Kind::Secret(s),
        word: true,
        host: false,
    }
}

const fn dest(text: &'static str, d: Dest) -> Pattern {
    Pattern {
        text,
        cats: cat::DEST,
        kind: Kind::Dest(d),
        word: false,
        host: true,
    }
}

const fn persist(text: &'static str, p: Persist) -> Pattern {
    Pattern {
        text,
        cats: cat::PERSIST,
        kind: Kind::Persist(p),
        word: false,
        host: false,
    }
}

const fn shell(text: &'static str) -> Pattern {
    Pattern {
        text,
        cats: cat::SHELL,
        kind: Kind::Shell,
        word: true,
        host: false,
    }
}

const fn marker(text: &'static str) -> Pattern {
    Pattern {
        text,
        cats: cat::OBF,
        kind: Kind::Marker,
        word: false,
        host: false,
    }
}

use cat::*;

static PATTERNS: &[Pattern] = &[
    // Dynamic code.
    word("exec", EXEC),
    word("eval", EXEC),
    word("execfile", EXEC),
    word("__import__", EXEC),
    word("__builtins__", EXEC),
    word("import_module", DYN),
    word("getattr", GETATTR),
    word("builtins", DYN),
    word("FunctionType", DYN),
    word("pickle", DYN),
    word("marshal", DYN | DECODE | DECODE_STRONG),
    // Decoders.
    tok("b64decode", DECODE | DECODE_STRONG),
    tok("b32decode", DECODE | DECODE_STRONG),
    tok("b16decode", DECODE | DECODE_STRONG),
    tok("b85decode", DECODE | DECODE_STRONG),
    tok("a85decode", DECODE | DECODE_STRONG),
    tok("decodebytes", DECODE | DECODE_STRONG),
    tok("decodestring", DECODE | DECODE_STRONG),
    tok("unhexlify", DECODE | DECODE_STRONG),
    tok("a2b_", DECODE | DECODE_STRONG),
    tok("decompress", DECODE | DECODE_STRONG),
    tok("fromhex", DECODE | DECODE_STRONG),
    tok("rot13", DECODE | DECODE_STRONG),
    tok("rot_13", DECODE | DECODE_STRONG),
    tok("decrypt", DECODE | DECODE_STRONG),
    tok("Fernet", DECODE | DECODE_STRONG),
    tok("maketrans", DECODE),
    word("codecs", DECODE),
    word("chr", DECODE),
    tok("[::-1]", DECODE),
    tok("bytes([", DECODE),
    tok("bytearray([", DECODE),
    // Network.
    word("socket", NET),
    tok("urlopen", NET),
    tok("urlretrieve", NET),
    word("urllib", NET),
    word("urllib2", NET),
    word("urllib3", NET),
    word("requests", NET),
    word("httpx", NET),
    tok("http.client", NET),
    word("httplib", NET),
    tok("HTTPConnection", NET),
    tok("HTTPSConnection", NET),
    word("aiohttp", NET),
    word("pycurl", NET),
    word("ftplib", NET),
    word("smtplib", NET),
    word("telnetlib", NET),
    word("websocket", NET),
    word("websockets", NET),
    word("wget", NET),
    tok("WebClient", NET),
    tok("discord_webhook", NET),
    word("dhooks", NET),
    // Processes.
    word("subprocess", PROC),
    tok("os.system", PROC),
    word("popen", PROC),
    word("Popen", PROC),
    tok("spawn", PROC),
    word("startfile", PROC),
    tok("os.exec", PROC),
    word("posix_spawn", PROC),
    word("pty", PROC | REVSHELL),
    tok("create_subprocess", PROC),
    // Reverse-shell building blocks.
    word("dup2", REVSHELL),
    tok("/bin/sh", REVSHELL),
    tok("/bin/bash", REVSHELL),
    tok("cmd.exe", REVSHELL),
    word("environ", ENV),
    // Host identification.
    word("getuser", HOSTINFO),
    word("gethostname", HOSTINFO),
    tok("platform.node", HOSTINFO),
    word("getlogin", HOSTINFO),
    word("whoami", HOSTINFO),
    // Clipboard.
    word("pyperclip", CLIP),
    tok("clipboard", CLIP),
    tok("Clipboard", CLIP),
    word("xclip", CLIP),
    word("xsel", CLIP),
    word("pbcopy", CLIP),
    word("pbpaste", CLIP),
    // Secrets.
    secret(".ssh/", Secret::Ssh),
    secret(".ssh\\", Secret::Ssh),
    secret_word("id_rsa", Secret::Ssh),
    secret_word("id_ed25519", Secret::Ssh),
    secret_word("id_ecdsa", Secret::Ssh),
    secret(".aws/credentials", Secret::Aws),
    secret(".aws\\", Secret::Aws),
    secret_word("AWS_SECRET_ACCESS_KEY", Secret::Aws),
    secret_word("AWS_ACCESS_KEY_ID", Secret::Aws),
    secret_word("AWS_SESSION_TOKEN", Secret::Aws),
    // Named in descriptions, but too common in cloud SDKs to trigger a parse.
    Pattern {
        text: "get_credentials",
        cats: 0,
        kind: Kind::Secret(Secret::Aws),
        word: true,
        host: false,
    },
    secret(".kube/config", Secret::Cloud),
    secret(".docker/config.json", Secret::Cloud),
    secret("application_default_credentials.json", Secret::Cloud),
    secret(".azure/", Secret::Cloud),
    secret("gcloud/credentials", Secret::Cloud),
    secret("Login Data", Secret::Browser),
    secret("Local State", Secret::Browser),
    secret("\\User Data", Secret::Browser),
    secret("/User Data", Secret::Browser),
    secret("key4.db", Secret::Browser),
    secret("logins.json", Secret::Browser),
    secret("cookies.sqlite", Secret::Browser),
    secret("CryptUnprotectData", Secret::Browser),
    secret("Firefox/Profiles", Secret::Browser),
    secret("Firefox\\Profiles", Secret::Browser),
    secret("Firefox\\\\Profiles", Secret::Browser),
    secret("BraveSoftware", Secret::Browser),
    secret("Opera Software", Secret::Browser),
    secret("YandexBrowser", Secret::Browser),
    secret("discordcanary", Secret::Discord),
    secret("discordptb", Secret::Discord),
    secret("Lightcord", Secret::Discord),
    secret("dQw4w9WgXcQ", Secret::Discord),
    secret("Local Storage/leveldb", Secret::Discord),
    secret("Local Storage\\leveldb", Secret::Discord),
    secret("Local Storage\\\\leveldb", Secret::Discord),
    secret("discord/Local Storage", Secret::Discord),
    secret("discord\\Local Storage", Secret::Discord),
    secret("discord\\\\Local Storage", Secret::Discord),
    secret("Telegram Desktop", Secret::Telegram),
    secret_word("tdata", Secret::Telegram),
    secret("wallet.dat", Secret::Wallet),
    secret_word("Exodus", Secret::Wallet),
    secret("exodus.wallet", Secret::Wallet),
    secret_word("Electrum", Secret::Wallet),
    secret_word("Coinomi", Secret::Wallet),
    secret("Ethereum/keystore", Secret::Wallet),
    secret("Ethereum\\keystore", Secret::Wallet),
    secret("Ethereum\\\\keystore", Secret::Wallet),
    secret("nkbihfbeogaeaoehlefnkodbefgpgknn", Secret::Wallet),
    secret("ibnejdfjmmkpcnlpebklmnkoeoihofec", Secret::Wallet),
    secret("bfnaelmomeimhlpmgjnjophhpkkoljpa", Secret::Wallet),
    secret("fhbohimaelbohpjbbldcngcnapndodjp", Secret::Wallet),
    secret_word("GITHUB_TOKEN", Secret::CiToken),
    secret_word("NPM_TOKEN", Secret::CiToken),
    secret_word("PYPI_TOKEN", Secret::CiToken),
    secret_word("TWINE_PASSWORD", Secret::CiToken),
    secret_word("CI_JOB_TOKEN", Secret::CiToken),
    secret_word("ACTIONS_RUNTIME_TOKEN", Secret::CiToken),
    secret("/etc/shadow", Secret::SystemPasswords),
    secret(".pypirc", Secret::DevCredentials),
    secret(".npmrc", Secret::DevCredentials),
    secret(".git-credentials", Secret::DevCredentials),
    secret("login.keychain", Secret::Keychain),
    secret("Library/Keychains", Secret::Keychain),
    // Destinations.
    dest("discord.com/api/webhooks", Dest::ChatWebhook),
    dest("discordapp.com/api/webhooks", Dest::ChatWebhook),
    dest("api.telegram.org/bot", Dest::ChatWebhook),
    dest("hooks.slack.com/services", Dest::ChatWebhook),
    dest("pastebin.com", Dest::PasteSite),
    dest("paste.ee", Dest::PasteSite),
    dest("hastebin.com", Dest::PasteSite),
    dest("ghostbin.", Dest::PasteSite),
    dest("rentry.co", Dest::PasteSite),
    dest("rentry.org", Dest::PasteSite),
    dest("dpaste.com", Dest::PasteSite),
    dest("dpaste.org", Dest::PasteSite),
    dest("controlc.com", Dest::PasteSite),
    dest("ngrok.io", Dest::Tunnel),
    dest("ngrok-free.app", Dest::Tunnel),
    dest("ngrok.app", Dest::Tunnel),
    dest("trycloudflare.com", Dest::Tunnel),
    dest("serveo.net", Dest::Tunnel),
    dest("loca.lt", Dest::Tunnel),
    dest("localhost.run", Dest::Tunnel),
    dest("pagekite.me", Dest::Tunnel),
    dest("bore.pub", Dest::Tunnel),
    dest("playit.gg", Dest::Tunnel),
    dest("transfer.sh", Dest::FileDrop),
    dest("anonfiles.com", Dest::FileDrop),
    dest("file.io", Dest::FileDrop),
    dest("gofile.io", Dest::FileDrop),
    dest("0x0.st", Dest::FileDrop),
    dest("catbox.moe", Dest::FileDrop),
    dest("temp.sh", Dest::FileDrop),
    dest("filebin.net", Dest::FileDrop),
    dest("bashupload.com", Dest::FileDrop),
    dest("oshi.at", Dest::FileDrop),
    dest("oastify.com", Dest::Interaction),
    dest("burpcollaborator.net", Dest::Interaction),
    dest("interact.sh", Dest::Interaction),
    dest("oast.fun", Dest::Interaction),
    dest("oast.pro", Dest::Interaction),
    dest("oast.live", Dest::Interaction),
    dest("oast.site", Dest::Interaction),
    dest("oast.online", Dest::Interaction),
    dest("oast.me", Dest::Interaction),
    dest("pipedream.net", Dest::Interaction),
    dest("webhook.site", Dest::Interaction),
    dest("requestbin.net", Dest::Interaction),
    dest("canarytokens.com", Dest::Interaction),
    dest("dnslog.cn", Dest::Interaction),
    dest("ceye.io", Dest::Interaction),
    // Persistence.
    persist(".bashrc", Persist::ShellRc),
    persist(".zshrc", Persist::ShellRc),
    persist(".bash_profile", Persist::ShellRc),
    persist(".zprofile", Persist::ShellRc),
    persist("crontab", Persist::Cron),
    persist("/etc/cron", Persist::Cron),
    persist("/var/spool/cron", Persist::Cron),
    persist("CurrentVersion\\Run", Persist::WindowsRun),
    persist("CurrentVersion\\\\Run", Persist::WindowsRun),
    persist("Programs\\Startup", Persist::StartupFolder),
    persist("Programs\\\\Startup", Persist::StartupFolder),
    persist("Programs/Startup", Persist::StartupFolder),
    persist("LaunchAgents", Persist::LaunchAgent),
    persist("LaunchDaemons", Persist::LaunchAgent),
    persist("systemd/user", Persist::Systemd),
    persist("systemd/system", Persist::Systemd),
    persist("systemctl enable", Persist::Systemd),
    persist(".config/autostart", Persist::XdgAutostart),
    persist("schtasks", Persist::ScheduledTask),
    persist("authorized_keys", Persist::SshAuthorizedKeys),
    // Shell one-liners (checked by regex on the line).
    shell("/dev/tcp/"),
    shell("curl "),
    shell("wget "),
    shell("nc -e"),
    shell("ncat "),
    shell("bash -i"),
    shell("powershell"),
    shell("PowerShell"),
    shell("Invoke-Expression"),
    shell("Invoke-WebRequest"),
    shell("DownloadString"),
    shell("DownloadFile"),
    shell("IEX"),
    shell("certutil"),
    shell("bitsadmin"),
    shell("mshta"),
    shell("mkfifo"),
    // Obfuscators.
    marker("__pyarmor__"),
    marker("pyarmor_runtime"),
    marker("from pytransform"),
    marker("pyobfuscate"),
    marker("PyObfuscate"),
    marker("BlankOBF"),
    marker("Obfuscated with"),
    marker("obfuscated with"),
    marker("Obfuscated by"),
    marker("obfuscated by"),
];

/// Byte prefixes of characters that fold to ASCII letters under NFKC (Python
/// normalizes identifiers that way) and of bidirectional controls.
static UNICODE_PREFIXES: &[(&[u8], Kind)] = &[
    // U+1D400–U+1D7FF Mathematical Alphanumeric Symbols: F0 9D 90..9F.
    (b"\xF0\x9D\x90", Kind::Lookalike),
    (b"\xF0\x9D\x91", Kind::Lookalike),
    (b"\xF0\x9D\x92", Kind::Lookalike),
    (b"\xF0\x9D\x93", Kind::Lookalike),
    (b"\xF0\x9D\x94", Kind::Lookalike),
    (b"\xF0\x9D\x95", Kind::Lookalike),
    (b"\xF0\x9D\x96", Kind::Lookalike),
    (b"\xF0\x9D\x97", Kind::Lookalike),
    (b"\xF0\x9D\x98", Kind::Lookalike),
    (b"\xF0\x9D\x99", Kind::Lookalike),
    (b"\xF0\x9D\x9A", Kind::Lookalike),
    (b"\xF0\x9D\x9B", Kind::Lookalike),
    (b"\xF0\x9D\x9C", Kind::Lookalike),
    (b"\xF0\x9D\x9D", Kind::Lookalike),
    (b"\xF0\x9D\x9E", Kind::Lookalike),
    (b"\xF0\x9D\x9F", Kind::Lookalike),
    // U+FF21–U+FF5A fullwidth Latin letters: EF BC A1..BA, EF BD 81..9A.
    (b"\xEF\xBC", Kind::Lookalike),
    (b"\xEF\xBD", Kind::Lookalike),
    // U+017F long s, U+212A Kelvin sign.
    (b"\xC5\xBF", Kind::Lookalike),
    (b"\xE2\x84\xAA", Kind::Lookalike),
    // U+202A–U+202E and U+2066–U+2069 bidirectional controls.
    (b"\xE2\x80\xAA", Kind::Bidi),
    (b"\xE2\x80\xAB", Kind::Bidi),
    (b"\xE2\x80\xAC", Kind::Bidi),
    (b"\xE2\x80\xAD", Kind::Bidi),
    (b"\xE2\x80\xAE", Kind::Bidi),
    (b"\xE2\x81\xA6", Kind::Bidi),
    (b"\xE2\x81\xA7", Kind::Bidi),
    (b"\xE2\x81\xA8", Kind::Bidi),
    (b"\xE2\x81\xA9", Kind::Bidi),
];

/// Pattern index and the pattern's meaning, for every automaton pattern.
struct Table {
    automaton: AhoCorasick,
    entries: Vec<Entry>,
}

struct Entry {
    cats: u32,
    kind: Kind,
    word: bool,
    host: bool,
}

fn build(texts: &[&[u8]]) -> AhoCorasick {
    #[allow(clippy::expect_used)]
    AhoCorasickBuilder::new()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .build(texts)
        .expect("the token table is a valid Aho-Corasick pattern set")
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut texts: Vec<&[u8]> = Vec::new();
    let mut entries = Vec::new();
    for p in PATTERNS {
        texts.push(p.text.as_bytes());
        entries.push(Entry {
            cats: p.cats,
            kind: p.kind,
            word: p.word,
            host: p.host,
        });
    }
    Table {
        automaton: build(&texts),
        entries,
    }
});

/// The second, smaller automaton run on files that are not pure ASCII.
static UNICODE_TABLE: LazyLock<Table> = LazyLock::new(|| {
    let mut texts: Vec<&[u8]> = Vec::new();
    let mut entries = Vec::new();
    for (bytes, kind) in UNICODE_PREFIXES {
        texts.push(bytes);
        entries.push(Entry {
            cats: cat::UNICODE,
            kind: *kind,
            word: false,
            host: false,
        });
    }
    // Cyrillic letters (U+0400–U+04FF): lead bytes D0–D3.
    for lead in [b"\xD0", b"\xD1", b"\xD2", b"\xD3"] {
        texts.push(lead);
        entries.push(Entry {
            cats: cat::SCRIPT,
            kind: Kind::Token,
            word: false,
            host: false,
        });
    }
    Table {
        automaton: build(&texts),
        entries,
    }
});

/// One located indicator (not plain tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Indicator {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
}

/// What the first pass found in one file.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    pub cats: u32,
    /// Located indicators, in file order.
    pub indicators: Vec<Indicator>,
    /// Every accepted match: (offset, category bits), in file order.
    pub positions: Vec<(usize, u32)>,
    /// The file uses the clipboard and holds a wallet address or address pattern.
    pub wallet: bool,
}

impl Tokens {
    pub fn has(&self, bits: u32) -> bool {
        self.cats & bits != 0
    }
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Characters that would make a host pattern part of a longer name
/// (`profile.io` is not `file.io`; `x.file.io` is).
fn is_host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// Whether the text after `environ` uses the mapping as a whole (passed,
/// converted, iterated) rather than reading one variable.
fn whole_environment(rest: &[u8]) -> bool {
    let rest = &rest[rest.iter().take_while(|b| **b == b' ').count()..];
    match rest.first() {
        Some(b')' | b',' | b'}' | b']') => true,
        Some(b'.') => ["copy", "items", "keys", "values", "__repr__", "__str__"]
            .iter()
            .any(|m| rest[1..].starts_with(m.as_bytes())),
        _ => false,
    }
}

/// Run the first pass over `src`.
pub fn scan(src: &[u8]) -> Tokens {
    let mut tokens = Tokens::default();
    run(&TABLE, src, &mut tokens);
    if !src.is_ascii() {
        let mut more = Tokens::default();
        run(&UNICODE_TABLE, src, &mut more);
        if !more.positions.is_empty() {
            tokens.cats |= more.cats;
            tokens.positions.extend(more.positions);
            tokens.positions.sort_unstable_by_key(|p| p.0);
            tokens.indicators.extend(more.indicators);
            tokens.indicators.sort_unstable_by_key(|i| i.start);
        }
    }
    tokens.wallet = tokens.has(cat::CLIP) && crate::text::wallet(src).is_some();
    tokens
}

fn run(table: &Table, src: &[u8], tokens: &mut Tokens) {
    for m in table.automaton.find_iter(src) {
        let e = &table.entries[m.pattern().as_usize()];
        let (start, end) = (m.start(), m.end());
        if e.word {
            // Boundaries are required where the pattern itself starts or
            // ends with an identifier character.
            let pattern = &src[start..end];
            let before = start.checked_sub(1).map(|i| src[i]);
            let after = src.get(end).copied();
            // A hyphen joins words in data (`eval-when-compile`), not in code.
            let joined = |b: u8| is_ident(b) || b == b'-';
            let left = pattern.first().is_some_and(|b| is_ident(*b)) && before.is_some_and(joined);
            let right = pattern.last().is_some_and(|b| is_ident(*b)) && after.is_some_and(joined);
            // `x.eval()` is a method, not the builtin.
            let method = before == Some(b'.') && e.cats & cat::EXEC != 0;
            // `'eval'` alone in quotes is data (keyword tables, docs), not code.
            let quoted = matches!(before, Some(b'\'' | b'"')) && after == before;
            if method || left || right || quoted {
                continue;
            }
        }
        if e.host {
            let before = start.checked_sub(1).map(|i| src[i]);
            if before.is_some_and(is_host_char) {
                continue;
            }
        }
        let mut cats = e.cats;
        if cats & cat::ENV != 0 && !whole_environment(&src[end..]) {
            // `os.environ["X"]`, `.get(…)`: one variable, not a dump.
            cats &= !cat::ENV;
        }
        tokens.cats |= cats;
        tokens.positions.push((start, cats));
        if e.kind != Kind::Token {
            tokens.indicators.push(Indicator {
                kind: e.kind,
                start,
                end,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_need_boundaries() {
        assert!(!scan(b"executor = evaluate()").has(cat::EXEC));
        assert!(scan(b"exec(x)").has(cat::EXEC));
        assert!(scan(b"import socket").has(cat::NET));
    }

    #[test]
    fn finds_indicators_with_kinds() {
        let t = scan(b"url = 'https://discord.com/api/webhooks/1/x'; p = '~/.ssh/id_rsa'");
        let kinds: Vec<Kind> = t.indicators.iter().map(|i| i.kind).collect();
        assert!(kinds.contains(&Kind::Dest(Dest::ChatWebhook)));
        assert!(kinds.contains(&Kind::Secret(Secret::Ssh)));
        assert!(t.has(cat::DEST | cat::SECRET));
    }

    #[test]
    fn host_patterns_need_a_host_boundary() {
        assert!(!scan(b"'myfile.io'").has(cat::DEST));
        assert!(scan(b"'https://file.io/x'").has(cat::DEST));
    }

    #[test]
    fn lookalike_bytes() {
        let t = scan("𝐞𝐱𝐞𝐜('x')".as_bytes());
        assert!(t.has(cat::UNICODE));
        assert!(t.indicators.iter().any(|i| i.kind == Kind::Lookalike));
        let t = scan("x = 1 # \u{202E} hidden".as_bytes());
        assert!(t.indicators.iter().any(|i| i.kind == Kind::Bidi));
    }
}
