//! Python analysis with tree-sitter: parses the parts of a file the
//! pre-filter pointed at, resolves imports and aliases, follows values
//! through assignments within the file (decoded, downloaded, secret,
//! environment dump, host information, downloaded-file path, persistence
//! path), and reports the facts the rules judge: code execution sinks,
//! process spawns, network calls, obfuscated imports, clipboard use,
//! reverse-shell plumbing, persistence writes and look-alike identifiers.
//! tree-sitter tolerates broken code; whatever does not parse simply yields
//! fewer facts, and the text-level checks still run.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

use tree_sitter::{Node, Parser, Point, Tree};

use crate::prefilter::{Indicator, Kind};

/// Files above this size are scanned at the text level only.
pub const MAX_PARSE_BYTES: usize = 16 << 20;
/// Deepest expression nesting followed (obfuscated code nests deeply).
const MAX_DEPTH: usize = 64;

/// What a value may carry, as bits.
pub mod tag {
    /// Decoded from data embedded in the file (a literal, an int array).
    pub const DECODED_LIT: u32 = 1 << 0;
    /// Decoded from something.
    pub const DECODED: u32 = 1 << 1;
    /// Came from the network.
    pub const FETCHED: u32 = 1 << 2;
    /// Contains a literal.
    pub const LITERAL: u32 = 1 << 3;
    /// Read from a secret location (key file, browser store, wallet…).
    pub const SECRET: u32 = 1 << 4;
    /// The whole environment, serialized.
    pub const ENV_DUMP: u32 = 1 << 5;
    /// User or host identity.
    pub const HOSTINFO: u32 = 1 << 6;
    /// A string assembled from pieces (`'ex' + 'ec'`, reversal, chr()).
    pub const ASSEMBLED: u32 = 1 << 7;
    /// The path of a file written from downloaded bytes.
    pub const DL_PATH: u32 = 1 << 8;
    /// A network client or socket object.
    pub const CLIENT: u32 = 1 << 9;
    /// A list of integer literals.
    pub const INTS: u32 = 1 << 10;
    /// A `chr()` result.
    pub const CHR: u32 = 1 << 11;
    /// The `os.environ` mapping itself.
    pub const ENV_OBJ: u32 = 1 << 12;
    /// A credential read from a well-known environment variable.
    pub const ENV_SECRET: u32 = 1 << 13;
    /// A persistence location (shell rc file, Run key, crontab…).
    pub const PERSIST_PATH: u32 = 1 << 14;
    /// A literal that names a suspicious destination.
    pub const DEST: u32 = 1 << 15;

    /// Tags that survive being passed through an arbitrary call.
    pub const FLOWING: u32 = DECODED_LIT
        | DECODED
        | FETCHED
        | LITERAL
        | SECRET
        | ENV_DUMP
        | HOSTINFO
        | ASSEMBLED
        | DL_PATH
        | INTS
        | CHR
        | ENV_SECRET
        | PERSIST_PATH
        | DEST;
}

/// A place in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Loc {
    /// Byte offset of the start.
    pub byte: usize,
}

/// How code is run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    /// exec/eval/compile/FunctionType.
    Code,
    /// pickle/dill/marshal deserialization.
    Unpickle,
}

#[derive(Debug, Clone)]
pub struct ExecSink {
    pub loc: Loc,
    pub kind: SinkKind,
    pub tags: u32,
    pub name: String,
    /// A decoder is called right inside the argument (`exec(b64decode(x))`).
    pub direct_decode: bool,
    /// The code, when the argument is a constant string.
    pub literal: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ProcCall {
    pub loc: Loc,
    pub name: String,
    /// All argument tags.
    pub tags: u32,
    /// The literal command text, when it can be read (list items joined by spaces).
    pub command: Option<String>,
    /// The program's base name, when known (`python` for `sys.executable`).
    pub program: Option<String>,
    /// Started hidden or detached.
    pub detached: bool,
    /// stdin/stdout wired to a socket.
    pub socket_io: bool,
    /// Inside a custom setup command class (its base class name).
    pub command_class: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NetCall {
    pub loc: Loc,
    pub name: String,
    /// Uploads data (POST, send, mail…).
    pub send: bool,
    pub tags: u32,
    pub command_class: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipOp {
    Read,
    Write,
}

/// Everything the parser established about one file.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub parsed: bool,
    pub exec_sinks: Vec<ExecSink>,
    pub processes: Vec<ProcCall>,
    pub network: Vec<NetCall>,
    /// `__import__`/`import_module`/`getattr` with a hidden name: (loc, tags, resolved name).
    pub hidden_names: Vec<(Loc, u32, Option<String>)>,
    pub clipboard: Vec<(Loc, ClipOp)>,
    /// `os.dup2(sock.fileno(), 0|1|2)`.
    pub dup2: Vec<Loc>,
    /// `pty.spawn("/bin/sh")`.
    pub pty_shell: Vec<Loc>,
    /// Writes to a persistence location.
    pub persistence: Vec<Loc>,
    /// Identifiers containing characters that fold to ASCII: (loc, folded).
    pub lookalikes: Vec<(Loc, String)>,
    /// Identifiers mixing Latin and Cyrillic letters.
    pub mixed_script: Vec<(Loc, String)>,
    /// Names of modules imported at module level (first component).
    pub imported: Vec<String>,
    /// Custom setup commands: (class name, base name).
    pub command_classes: Vec<(String, String)>,
    /// Byte ranges of string literals (to tell code from text).
    pub strings: Vec<Range<usize>>,
}

/// Field ids of the Python grammar, looked up once (by-name lookups
/// compare strings on every call).
struct Fields {
    alias: u16,
    arguments: u16,
    attribute: u16,
    body: u16,
    function: u16,
    left: u16,
    module_name: u16,
    name: u16,
    object: u16,
    operator: u16,
    right: u16,
    subscript: u16,
    superclasses: u16,
    value: u16,
}

static FIELDS: std::sync::LazyLock<Fields> = std::sync::LazyLock::new(|| {
    let language: tree_sitter::Language = tree_sitter_python::LANGUAGE.into();
    let id = |name: &str| language.field_id_for_name(name).map_or(0, |f| f.get());
    Fields {
        alias: id("alias"),
        arguments: id("arguments"),
        attribute: id("attribute"),
        body: id("body"),
        function: id("function"),
        left: id("left"),
        module_name: id("module_name"),
        name: id("name"),
        object: id("object"),
        operator: id("operator"),
        right: id("right"),
        subscript: id("subscript"),
        superclasses: id("superclasses"),
        value: id("value"),
    }
});

thread_local! {
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

/// Parse `src`, limited to `ranges` (sorted, disjoint, starting at line
/// starts) when given. `None` when the parser could not be set up.
pub fn parse(src: &[u8], ranges: Option<&[Range<usize>]>) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut p = Parser::new();
            p.set_language(&tree_sitter_python::LANGUAGE.into()).ok()?;
            *slot = Some(p);
        }
        let parser = slot.as_mut()?;
        let ts_ranges: Vec<tree_sitter::Range> = match ranges {
            Some(r) => to_ts_ranges(src, r),
            None => Vec::new(),
        };
        let full = [tree_sitter::Range {
            start_byte: 0,
            end_byte: usize::MAX,
            start_point: Point { row: 0, column: 0 },
            end_point: Point {
                row: usize::MAX,
                column: usize::MAX,
            },
        }];
        let set = if ts_ranges.is_empty() {
            parser.set_included_ranges(&full)
        } else {
            parser.set_included_ranges(&ts_ranges)
        };
        if set.is_err() {
            parser.set_included_ranges(&full).ok()?;
        }
        parser.parse(src, None)
    })
}

fn to_ts_ranges(src: &[u8], ranges: &[Range<usize>]) -> Vec<tree_sitter::Range> {
    let mut out = Vec::with_capacity(ranges.len());
    let mut row = 0usize;
    let mut pos = 0usize;
    let point_at = |row: &mut usize, pos: &mut usize, target: usize| -> Point {
        let target = target.min(src.len());
        if target > *pos {
            *row += memchr::memchr_iter(b'\n', &src[*pos..target]).count();
            *pos = target;
        }
        let line_start = memchr::memrchr(b'\n', &src[..target]).map_or(0, |i| i + 1);
        Point {
            row: *row,
            column: target - line_start,
        }
    };
    for r in ranges {
        if r.start >= r.end || r.start < pos {
            continue;
        }
        let start_point = point_at(&mut row, &mut pos, r.start);
        let end_point = point_at(&mut row, &mut pos, r.end);
        out.push(tree_sitter::Range {
            start_byte: r.start,
            end_byte: r.end,
            start_point,
            end_point,
        });
    }
    out
}

/// Split `src` into top-level statements: byte ranges that each start at
/// column 0 outside strings and brackets. Decorators stay with their
/// definition; `else`/`elif`/`except`/`finally` stay with their statement.
pub fn toplevel_chunks(src: &[u8]) -> Vec<Range<usize>> {
    statement_chunks(src, 0..src.len(), 0)
}

/// Split `range` of `src` into the statements that start at `indent`
/// columns (the members of a class body, for instance).
pub fn statement_chunks(src: &[u8], range: Range<usize>, indent: usize) -> Vec<Range<usize>> {
    let n = range.end.min(src.len());
    let mut starts = vec![range.start];
    let mut depth: i32 = 0;
    let mut i = range.start;
    let mut quote: Option<(u8, bool)> = None;
    let mut continued = false;
    while i < n {
        let b = src[i];
        if let Some((q, triple)) = quote {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q {
                if !triple {
                    quote = None;
                } else if i + 2 < n && src[i + 1] == q && src[i + 2] == q {
                    quote = None;
                    i += 3;
                    continue;
                }
            } else if b == b'\n' && !triple {
                // Unterminated single-quoted string: recover at the line end.
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'#' => {
                i = memchr::memchr(b'\n', &src[i..n]).map_or(n, |j| i + j);
                continue;
            }
            b'\'' | b'"' => {
                let triple = i + 2 < n && src[i + 1] == b && src[i + 2] == b;
                quote = Some((b, triple));
                i += if triple { 3 } else { 1 };
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = (depth - 1).max(0),
            b'\\' if src.get(i + 1) == Some(&b'\n') => {
                continued = true;
                i += 2;
                continue;
            }
            b'\n' => {
                if depth == 0 && !continued {
                    let next = i + 1;
                    let line = &src[next..n];
                    let ws = line
                        .iter()
                        .take_while(|c| **c == b' ' || **c == b'\t')
                        .count();
                    let first = line.get(ws).copied();
                    let starts_statement = ws == indent
                        && first.is_some_and(|c| !matches!(c, b'\n' | b'\r' | b'#' | b'\x0c'))
                        && !starts_with_continuation(&line[ws..]);
                    let last = *starts.last().unwrap_or(&range.start);
                    if starts_statement && !is_decorators_only(src, last, next, indent) {
                        starts.push(next);
                    }
                }
                continued = false;
            }
            _ => {}
        }
        i += 1;
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &s) in starts.iter().enumerate() {
        let e = starts.get(k + 1).copied().unwrap_or(n);
        if s < e {
            out.push(s..e);
        }
    }
    out
}

fn starts_with_continuation(line: &[u8]) -> bool {
    for kw in [&b"else"[..], b"elif", b"except", b"finally"] {
        if line.starts_with(kw) {
            let after = line.get(kw.len()).copied().unwrap_or(b':');
            if !(after.is_ascii_alphanumeric() || after == b'_') {
                return true;
            }
        }
    }
    false
}

/// Whether the statement from `start` to `next` is only decorators, which
/// belong with the definition that follows: every line at the statement's
/// indentation starts with `@` (or closes a decorator's brackets).
fn is_decorators_only(src: &[u8], start: usize, next: usize, indent: usize) -> bool {
    if src.get(start + indent) != Some(&b'@') {
        return false;
    }
    src[start..next].split(|&b| b == b'\n').all(|l| {
        let ws = l.iter().take_while(|c| **c == b' ' || **c == b'\t').count();
        ws != indent || matches!(l.get(ws), None | Some(b'@' | b')' | b']' | b'#' | b'\r'))
    })
}

/// The end of a compound statement's header line (`class X(…):\n`) and the
/// indentation of its body, when the body is on the following lines.
pub fn header_and_indent(src: &[u8], chunk: Range<usize>) -> Option<(usize, usize)> {
    let mut depth = 0i32;
    let mut i = chunk.start;
    let mut quote: Option<u8> = None;
    while i < chunk.end {
        let b = src[i];
        if let Some(q) = quote {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == q || b == b'\n' {
                quote = None;
            }
            i += 1;
            continue;
        }
        match b {
            b'\'' | b'"' => quote = Some(b),
            b'#' => {
                i = memchr::memchr(b'\n', &src[i..chunk.end]).map_or(chunk.end, |j| i + j);
                continue;
            }
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            b'\n' if depth <= 0 => break,
            _ => {}
        }
        i += 1;
    }
    let body = i + 1;
    if body >= chunk.end {
        return None;
    }
    // The first line of the body that is not blank or a comment.
    let mut pos = body;
    while pos < chunk.end {
        let line_end = memchr::memchr(b'\n', &src[pos..chunk.end]).map_or(chunk.end, |j| pos + j);
        let line = &src[pos..line_end];
        let ws = line
            .iter()
            .take_while(|c| **c == b' ' || **c == b'\t')
            .count();
        match line.get(ws) {
            None | Some(b'#') | Some(b'\r') => pos = line_end + 1,
            Some(_) => return (ws > 0).then_some((body, ws)),
        }
    }
    None
}

/// The start of the `class` line of a (possibly decorated) class statement.
pub fn class_line(src: &[u8], chunk: Range<usize>) -> Option<usize> {
    let mut pos = chunk.start;
    while pos < chunk.end {
        let line = &src[pos..chunk.end];
        if line.starts_with(b"class ") {
            return Some(pos);
        }
        if line.starts_with(b"def ") || line.starts_with(b"async ") {
            return None;
        }
        pos = memchr::memchr(b'\n', line).map(|i| pos + i + 1)?;
    }
    None
}

/// Whether a chunk is a definition (`def`, `async def`, `class`, decorated).
pub fn is_definition(chunk: &[u8]) -> bool {
    chunk.starts_with(b"def ")
        || chunk.starts_with(b"async def ")
        || chunk.starts_with(b"class ")
        || chunk.starts_with(b"@")
}

/// Analyze a parsed file. `indicators` are the pre-filter's located
/// indicators (used to tag string literals that hold secret paths,
/// persistence locations and suspicious destinations).
pub fn analyze(src: &[u8], tree: &Tree, indicators: &[Indicator]) -> Facts {
    let mut a = Analyzer::new(src, indicators);
    a.run(tree.root_node());
    a.facts
}

struct Analyzer<'s> {
    src: &'s [u8],
    indicators: &'s [Indicator],
    /// Local name → what it was imported as (`b64` → `base64`).
    imports: HashMap<String, String>,
    /// Local name → the qualified name it was assigned (`e = exec`).
    aliases: HashMap<String, String>,
    /// Local name → the constant string it was assigned.
    consts: HashMap<String, String>,
    /// (scope, local name or attribute text) → tags of the values assigned
    /// to it. The scope is the start byte of the enclosing function, 0 for
    /// module level and attributes.
    taint: HashMap<(usize, String), u32>,
    /// Function or lambda name → tags its return values carry.
    fn_returns: HashMap<String, u32>,
    /// Local name → program of the command list assigned to it.
    programs: HashMap<String, String>,
    /// File handle name → (path key, path tags) of `open(path, "w…")`.
    handles: HashMap<String, (String, u32)>,
    /// Literal paths of files written from downloaded bytes.
    dl_literals: HashSet<String>,
    /// Byte ranges of custom setup command classes, with their base.
    command_ranges: Vec<(Range<usize>, String)>,
    /// Byte ranges of function definitions, in start order (scopes).
    function_ranges: Vec<Range<usize>>,
    facts: Facts,
}

/// Nodes collected in one walk.
struct Collected<'t> {
    calls: Vec<Node<'t>>,
    assignments: Vec<Node<'t>>,
    /// (function name, returned expression).
    returns: Vec<(String, Node<'t>)>,
    with_items: Vec<Node<'t>>,
}

const DECODERS: &[&str] = &[
    "base64.b64decode",
    "base64.b32decode",
    "base64.b32hexdecode",
    "base64.b16decode",
    "base64.b85decode",
    "base64.a85decode",
    "base64.z85decode",
    "base64.decodebytes",
    "base64.decodestring",
    "base64.urlsafe_b64decode",
    "base64.standard_b64decode",
    "binascii.a2b_base64",
    "binascii.unhexlify",
    "binascii.a2b_hex",
    "binascii.a2b_uu",
    "zlib.decompress",
    "gzip.decompress",
    "bz2.decompress",
    "lzma.decompress",
    "marshal.loads",
    "bytes.fromhex",
    "bytearray.fromhex",
];

const DECODER_METHODS: &[&str] = &[
    "b64decode",
    "b32decode",
    "b85decode",
    "a85decode",
    "decodebytes",
    "unhexlify",
    "decompress",
    "decrypt",
    "fromhex",
];

const CODE_SINKS: &[&str] = &["exec", "eval", "execfile", "compile", "types.FunctionType"];

const UNPICKLE_SINKS: &[&str] = &[
    "pickle.loads",
    "cPickle.loads",
    "_pickle.loads",
    "dill.loads",
    "cloudpickle.loads",
];

const PROCESS_FUNCS: &[&str] = &[
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "os.system",
    "os.popen",
    "os.popen2",
    "os.popen3",
    "os.spawnl",
    "os.spawnle",
    "os.spawnlp",
    "os.spawnlpe",
    "os.spawnv",
    "os.spawnve",
    "os.spawnvp",
    "os.spawnvpe",
    "os.execl",
    "os.execle",
    "os.execlp",
    "os.execlpe",
    "os.execv",
    "os.execve",
    "os.execvp",
    "os.execvpe",
    "os.startfile",
    "os.posix_spawn",
    "os.posix_spawnp",
    "commands.getoutput",
    "commands.getstatusoutput",
    "pty.spawn",
    "asyncio.create_subprocess_shell",
    "asyncio.create_subprocess_exec",
    "platform.popen",
];

const FETCH_FUNCS: &[&str] = &[
    "urllib.request.urlopen",
    "urllib.request.urlretrieve",
    "urllib.urlopen",
    "urllib.urlretrieve",
    "urllib2.urlopen",
    "requests.get",
    "requests.post",
    "requests.put",
    "requests.patch",
    "requests.delete",
    "requests.head",
    "requests.options",
    "requests.request",
    "requests.api.get",
    "requests.api.post",
    "httpx.get",
    "httpx.post",
    "httpx.put",
    "httpx.patch",
    "httpx.delete",
    "httpx.head",
    "httpx.request",
    "httpx.stream",
    "urllib3.request",
    "wget.download",
    "socket.create_connection",
    "websocket.create_connection",
];

const CLIENT_CTORS: &[&str] = &[
    "requests.Session",
    "requests.session",
    "httpx.Client",
    "httpx.AsyncClient",
    "urllib3.PoolManager",
    "urllib3.ProxyManager",
    "urllib3.HTTPConnectionPool",
    "urllib3.HTTPSConnectionPool",
    "http.client.HTTPConnection",
    "http.client.HTTPSConnection",
    "httplib.HTTPConnection",
    "httplib.HTTPSConnection",
    "socket.socket",
    "socket.create_connection",
    "ftplib.FTP",
    "ftplib.FTP_TLS",
    "smtplib.SMTP",
    "smtplib.SMTP_SSL",
    "telnetlib.Telnet",
    "aiohttp.ClientSession",
    "pycurl.Curl",
    "urllib.request.build_opener",
    "websocket.WebSocket",
    "websocket.create_connection",
    "discord_webhook.DiscordWebhook",
    "dhooks.Webhook",
];

/// Clients whose construction already carries the payload.
const WEBHOOK_CTORS: &[&str] = &["discord_webhook.DiscordWebhook", "dhooks.Webhook"];

const SEND_METHODS: &[&str] = &[
    "post",
    "put",
    "patch",
    "send",
    "sendall",
    "sendto",
    "sendmail",
    "send_message",
    "storbinary",
    "storlines",
    "execute",
    "send_document",
    "send_file",
    "upload",
];

/// Methods of network clients that return data from the network.
const CLIENT_DATA_METHODS: &[&str] = &[
    "recv",
    "recvfrom",
    "recv_into",
    "read",
    "readline",
    "readlines",
    "makefile",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "request",
    "urlopen",
    "open",
    "send",
    "stream",
    "getresponse",
    "retrbinary",
    "json",
    "iter_content",
    "fetch",
];

/// Serializers of objects (their output is not the object's data).
const DUMPERS: &[&str] = &[
    "pickle.dumps",
    "cPickle.dumps",
    "dill.dumps",
    "cloudpickle.dumps",
    "marshal.dumps",
    "copy.copy",
    "copy.deepcopy",
];

const HOSTINFO_FUNCS: &[&str] = &[
    "getpass.getuser",
    "os.getlogin",
    "socket.gethostname",
    "socket.getfqdn",
    "platform.node",
    "platform.uname",
    "os.uname",
    "os.getcwd",
];

const SERIALIZERS: &[&str] = &[
    "str",
    "repr",
    "dict",
    "list",
    "sorted",
    "json.dumps",
    "pickle.dumps",
    "base64.b64encode",
    "urllib.parse.urlencode",
];

const CLIPBOARD_READ: &[&str] = &[
    "pyperclip.paste",
    "clipboard.paste",
    "win32clipboard.GetClipboardData",
    "pyclip.paste",
    "klembord.get",
];

const CLIPBOARD_WRITE: &[&str] = &[
    "pyperclip.copy",
    "clipboard.copy",
    "win32clipboard.SetClipboardData",
    "win32clipboard.SetClipboardText",
    "pyclip.copy",
    "klembord.set",
];

/// Setup commands that run when a package is built or installed.
const SETUP_COMMANDS: &[&str] = &[
    "install",
    "develop",
    "egg_info",
    "build_py",
    "build_ext",
    "build_clib",
    "build",
    "sdist",
    "bdist_egg",
    "bdist_wheel",
    "install_lib",
    "install_scripts",
    "install_data",
    "easy_install",
];

/// Environment variables holding another service's credentials.
const SECRET_ENV: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "NPM_TOKEN",
    "PYPI_TOKEN",
    "PYPI_API_TOKEN",
    "TWINE_PASSWORD",
    "CI_JOB_TOKEN",
    "ACTIONS_RUNTIME_TOKEN",
    "DISCORD_TOKEN",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
];

/// Drop the ways of spelling "a builtin" so `__builtins__.__dict__['exec']`
/// and `getattr(builtins, 'exec')` both become `exec`.
fn normalize(q: &str) -> &str {
    let mut q = q;
    loop {
        let before = q;
        for prefix in [
            "builtins.",
            "__builtins__.",
            "__builtin__.",
            "__dict__.",
            "globals.",
            "vars.",
            "locals.",
        ] {
            if let Some(rest) = q.strip_prefix(prefix) {
                q = rest;
            }
        }
        if q == before {
            return q;
        }
    }
}

fn last_component(q: &str) -> &str {
    q.rsplit('.').next().unwrap_or(q)
}

/// Decode the escapes of a (non-raw) Python string literal body.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push_str("\\x");
                        out.push_str(&hex);
                    }
                }
            }
            Some(u @ ('u' | 'U')) => {
                let len = if u == 'u' { 4 } else { 8 };
                let hex: String = chars.by_ref().take(len).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => {
                        out.push('\\');
                        out.push(u);
                        out.push_str(&hex);
                    }
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The ASCII letter or digit a look-alike character stands for under NFKC.
pub fn fold_lookalike(c: char) -> Option<char> {
    let cp = c as u32;
    let letter = |idx: u32| -> Option<char> {
        if idx < 26 {
            char::from_u32('A' as u32 + idx)
        } else {
            char::from_u32('a' as u32 + idx - 26)
        }
    };
    match cp {
        0x1D400..=0x1D6A3 => letter((cp - 0x1D400) % 52),
        0x1D7CE..=0x1D7FF => char::from_u32('0' as u32 + (cp - 0x1D7CE) % 10),
        0xFF21..=0xFF3A => char::from_u32('A' as u32 + cp - 0xFF21),
        0xFF41..=0xFF5A => char::from_u32('a' as u32 + cp - 0xFF41),
        0xFF10..=0xFF19 => char::from_u32('0' as u32 + cp - 0xFF10),
        0xFF3F => Some('_'),
        0x017F => Some('s'),
        0x212A => Some('K'),
        _ => None,
    }
}

fn is_cyrillic(c: char) -> bool {
    ('\u{0400}'..='\u{04FF}').contains(&c)
}

impl<'s> Analyzer<'s> {
    fn new(src: &'s [u8], indicators: &'s [Indicator]) -> Self {
        Analyzer {
            src,
            indicators,
            imports: HashMap::new(),
            aliases: HashMap::new(),
            consts: HashMap::new(),
            taint: HashMap::new(),
            fn_returns: HashMap::new(),
            programs: HashMap::new(),
            handles: HashMap::new(),
            dl_literals: HashSet::new(),
            command_ranges: Vec::new(),
            function_ranges: Vec::new(),
            facts: Facts::default(),
        }
    }

    fn text(&self, n: Node) -> &'s str {
        self.src
            .get(n.byte_range())
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or("")
    }

    fn run(&mut self, root: Node) {
        self.facts.parsed = true;
        let collected = self.collect(root);
        // Values flow through assignments and calls; a few rounds reach a
        // fixed point for the chains real code has.
        for _ in 0..4 {
            let mut changed = false;
            for (name, expr) in &collected.returns {
                let t = self.tags(*expr, 0)
                    & (tag::DECODED
                        | tag::DECODED_LIT
                        | tag::FETCHED
                        | tag::SECRET
                        | tag::ENV_DUMP
                        | tag::HOSTINFO
                        | tag::ENV_SECRET);
                changed |= merge(&mut self.fn_returns, name, t);
            }
            for asg in &collected.assignments {
                changed |= self.learn_assignment(*asg);
            }
            for w in &collected.with_items {
                self.learn_with_item(*w);
            }
            for call in &collected.calls {
                changed |= self.learn_call_effects(*call);
            }
            if !changed {
                break;
            }
        }
        for call in &collected.calls {
            self.judge_call(*call);
        }
    }

    /// Walk the whole tree once (iteratively), recording imports and the
    /// nodes later passes need.
    fn collect<'t>(&mut self, root: Node<'t>) -> Collected<'t> {
        let mut out = Collected {
            calls: Vec::new(),
            assignments: Vec::new(),
            returns: Vec::new(),
            with_items: Vec::new(),
        };
        // Enclosing functions: (end byte, name).
        let mut functions: Vec<(usize, String)> = Vec::new();
        let mut cursor = root.walk();
        let mut visited_children = false;
        loop {
            let node = cursor.node();
            if !visited_children {
                while functions
                    .last()
                    .is_some_and(|(end, _)| *end <= node.start_byte())
                {
                    functions.pop();
                }
                match node.kind() {
                    "import_statement" => self.learn_import(node, None),
                    "import_from_statement" => {
                        let module = node
                            .child_by_field_id(FIELDS.module_name)
                            .map(|m| self.text(m).to_string());
                        self.learn_import(node, Some(module.unwrap_or_default()));
                    }
                    "call" => out.calls.push(node),
                    "assignment"
                    | "augmented_assignment"
                    | "for_statement"
                    | "for_in_clause"
                    | "named_expression" => out.assignments.push(node),
                    "with_item" => out.with_items.push(node),
                    "function_definition" => {
                        self.function_ranges.push(node.byte_range());
                        if let Some(name) = node.child_by_field_id(FIELDS.name) {
                            functions.push((node.end_byte(), self.text(name).to_string()));
                        }
                    }
                    "return_statement" => {
                        if let (Some((_, name)), Some(expr)) =
                            (functions.last(), node.named_child(0))
                        {
                            out.returns.push((name.clone(), expr));
                        }
                    }
                    "class_definition" => {
                        if let Some(base) = self.command_base(node) {
                            let name = node
                                .child_by_field_id(FIELDS.name)
                                .map(|n| self.text(n).to_string())
                                .unwrap_or_default();
                            self.facts.command_classes.push((name, base.clone()));
                            self.command_ranges.push((node.byte_range(), base));
                        }
                    }
                    "string" => self.facts.strings.push(node.byte_range()),
                    "identifier" => self.check_identifier(node),
                    _ => {}
                }
            }
            if !visited_children && cursor.goto_first_child() {
                continue;
            }
            if cursor.goto_next_sibling() {
                visited_children = false;
                continue;
            }
            if !cursor.goto_parent() {
                break;
            }
            visited_children = true;
        }
        out
    }

    fn learn_import(&mut self, node: Node, from: Option<String>) {
        let mut cursor = node.walk();
        let names: Vec<Node> = match std::num::NonZeroU16::new(FIELDS.name) {
            Some(id) => node.children_by_field_id(id, &mut cursor).collect(),
            None => Vec::new(),
        };
        if let Some(module) = &from {
            if let Some(first) = module.split('.').next().filter(|f| !f.is_empty()) {
                self.facts.imported.push(first.to_string());
            }
        }
        for n in names {
            let (target, local) = match n.kind() {
                "aliased_import" => {
                    let Some(name) = n.child_by_field_id(FIELDS.name) else {
                        continue;
                    };
                    let Some(alias) = n.child_by_field_id(FIELDS.alias) else {
                        continue;
                    };
                    (self.text(name).to_string(), self.text(alias).to_string())
                }
                _ => {
                    let full = self.text(n).to_string();
                    let local = match &from {
                        Some(_) => full.clone(),
                        None => full.split('.').next().unwrap_or("").to_string(),
                    };
                    let target = match &from {
                        Some(_) => full,
                        None => local.clone(),
                    };
                    (target, local)
                }
            };
            if from.is_none() {
                if let Some(first) = target.split('.').next() {
                    self.facts.imported.push(first.to_string());
                }
            }
            let qualified = match &from {
                Some(module) if !module.is_empty() => format!("{module}.{target}"),
                _ => target,
            };
            if !local.is_empty() {
                self.imports.insert(local, qualified);
            }
        }
    }

    /// The setup command a class customizes, from its base classes.
    fn command_base(&self, class: Node) -> Option<String> {
        let bases = class.child_by_field_id(FIELDS.superclasses)?;
        let mut cursor = bases.walk();
        for base in bases.named_children(&mut cursor) {
            let q = self.qual(base, 0)?;
            let last = last_component(&q);
            let known_origin = q.starts_with("setuptools")
                || q.starts_with("distutils")
                || q.starts_with("wheel")
                || q == last;
            if known_origin && SETUP_COMMANDS.contains(&last) {
                return Some(last.to_string());
            }
        }
        None
    }

    fn check_identifier(&mut self, node: Node) {
        let text = self.text(node);
        if text.is_ascii() {
            return;
        }
        let loc = Loc {
            byte: node.start_byte(),
        };
        let mut folded = String::with_capacity(text.len());
        let mut lookalike = false;
        let mut foreign = false;
        for c in text.chars() {
            if c.is_ascii() {
                folded.push(c);
            } else if let Some(f) = fold_lookalike(c) {
                folded.push(f);
                lookalike = true;
            } else {
                foreign = true;
                folded.push(c);
            }
        }
        if lookalike && !foreign {
            self.facts.lookalikes.push((loc, folded));
            return;
        }
        let cyrillic = text.chars().any(is_cyrillic);
        let latin = text.chars().any(|c| c.is_ascii_alphabetic());
        if cyrillic && latin {
            self.facts.mixed_script.push((loc, text.to_string()));
        }
    }

    fn positional_args<'t>(&self, call: Node<'t>) -> Vec<Node<'t>> {
        let Some(args) = call.child_by_field_id(FIELDS.arguments) else {
            return Vec::new();
        };
        if args.kind() == "generator_expression" {
            return vec![args];
        }
        let mut cursor = args.walk();
        args.named_children(&mut cursor)
            .filter(|n| n.kind() != "keyword_argument" && n.kind() != "comment")
            .collect()
    }

    fn kwarg<'t>(&self, call: Node<'t>, name: &str) -> Option<Node<'t>> {
        let args = call.child_by_field_id(FIELDS.arguments)?;
        let mut cursor = args.walk();
        let found = args.named_children(&mut cursor).find(|n| {
            n.kind() == "keyword_argument"
                && n.child_by_field_id(FIELDS.name)
                    .is_some_and(|k| self.text(k) == name)
        });
        found.and_then(|k| k.child_by_field_id(FIELDS.value))
    }

    /// Tags of every argument (positional and keyword values).
    fn all_arg_tags(&self, call: Node, depth: usize) -> u32 {
        let Some(args) = call.child_by_field_id(FIELDS.arguments) else {
            return 0;
        };
        self.tags(args, depth + 1)
    }

    /// The qualified name an expression refers to (`b64.b64decode` →
    /// `base64.b64decode`), through imports, aliases, `__import__`,
    /// `importlib.import_module`, `getattr` and builtins dictionaries.
    fn qual(&self, n: Node, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "identifier" => {
                let name = self.text(n);
                Some(
                    self.imports
                        .get(name)
                        .or_else(|| self.aliases.get(name))
                        .cloned()
                        .unwrap_or_else(|| name.to_string()),
                )
            }
            "attribute" => {
                let obj = n.child_by_field_id(FIELDS.object)?;
                let attr = n.child_by_field_id(FIELDS.attribute)?;
                let base = self.qual(obj, depth + 1).unwrap_or_else(|| "?".to_string());
                Some(format!("{base}.{}", self.text(attr)))
            }
            "call" => {
                let f = self.qual(n.child_by_field_id(FIELDS.function)?, depth + 1)?;
                let args = self.positional_args(n);
                match normalize(&f) {
                    "__import__" | "importlib.import_module" => {
                        self.const_str(*args.first()?, depth + 1)
                    }
                    "getattr" => {
                        let base = self.qual(*args.first()?, depth + 1)?;
                        let name = self.const_str(*args.get(1)?, depth + 1)?;
                        Some(format!("{base}.{name}"))
                    }
                    "globals" | "vars" | "locals" => Some("globals".to_string()),
                    _ => None,
                }
            }
            "subscript" => {
                let value = n.child_by_field_id(FIELDS.value)?;
                let key = self.const_str(n.child_by_field_id(FIELDS.subscript)?, depth + 1)?;
                let base = self.qual(value, depth + 1)?;
                Some(format!("{base}.{key}"))
            }
            "parenthesized_expression" => self.qual(n.named_child(0)?, depth + 1),
            _ => None,
        }
    }

    /// The value of a constant string expression: literals, concatenation,
    /// reversal, `chr()` sequences and `''.join` of those.
    fn const_str(&self, n: Node, depth: usize) -> Option<String> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "string" => {
                let mut raw = false;
                let mut out = String::new();
                let mut cursor = n.walk();
                for child in n.children(&mut cursor) {
                    match child.kind() {
                        "string_start" => {
                            raw = self.text(child).chars().any(|c| c == 'r' || c == 'R')
                        }
                        "string_content" => out.push_str(self.text(child)),
                        "interpolation" => return None,
                        _ => {}
                    }
                }
                Some(if raw { out } else { unescape(&out) })
            }
            "concatenated_string" => {
                let mut out = String::new();
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    out.push_str(&self.const_str(child, depth + 1)?);
                }
                Some(out)
            }
            "binary_operator" => {
                let op = n.child_by_field_id(FIELDS.operator)?;
                if self.text(op) != "+" {
                    return None;
                }
                let l = self.const_str(n.child_by_field_id(FIELDS.left)?, depth + 1)?;
                let r = self.const_str(n.child_by_field_id(FIELDS.right)?, depth + 1)?;
                Some(l + &r)
            }
            "subscript" => {
                let slice = n.child_by_field_id(FIELDS.subscript)?;
                if self.text(slice).replace(' ', "") != "::-1" {
                    return None;
                }
                let v = self.const_str(n.child_by_field_id(FIELDS.value)?, depth + 1)?;
                Some(v.chars().rev().collect())
            }
            "parenthesized_expression" => self.const_str(n.named_child(0)?, depth + 1),
            "identifier" => self.consts.get(self.text(n)).cloned(),
            "call" => {
                let func = n.child_by_field_id(FIELDS.function)?;
                let args = self.positional_args(n);
                if func.kind() == "identifier" && self.text(func) == "chr" {
                    let v = self.text(*args.first()?);
                    let code = parse_int(v)?;
                    return char::from_u32(code).map(String::from);
                }
                if func.kind() == "identifier" && self.text(func) == "str" {
                    return self.const_str(*args.first()?, depth + 1);
                }
                if func.kind() == "attribute" {
                    let attr = self.text(func.child_by_field_id(FIELDS.attribute)?);
                    let obj = func.child_by_field_id(FIELDS.object)?;
                    if attr == "decode" || attr == "strip" || attr == "lower" {
                        return self.const_str(obj, depth + 1);
                    }
                    if attr == "join" {
                        let sep = self.const_str(obj, depth + 1)?;
                        let items = self.const_items(*args.first()?, depth + 1)?;
                        return Some(items.join(&sep));
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// The string items of `[..]`, `map(chr, [..])` or `(chr(x) for x in [..])`.
    fn const_items(&self, n: Node, depth: usize) -> Option<Vec<String>> {
        match n.kind() {
            "list" | "tuple" => {
                let mut cursor = n.walk();
                let kids: Vec<Node> = n.named_children(&mut cursor).collect();
                kids.into_iter()
                    .map(|k| self.const_str(k, depth + 1))
                    .collect()
            }
            "call" => {
                let func = n.child_by_field_id(FIELDS.function)?;
                let args = self.positional_args(n);
                if self.text(func) == "map" && args.first().map(|a| self.text(*a)) == Some("chr") {
                    return self.int_chars(*args.get(1)?);
                }
                None
            }
            "generator_expression" | "list_comprehension" => {
                let body = n.child_by_field_id(FIELDS.body)?;
                if !self.text(body).starts_with("chr(") {
                    return None;
                }
                let mut cursor = n.walk();
                let clause = n
                    .named_children(&mut cursor)
                    .find(|c| c.kind() == "for_in_clause")?;
                self.int_chars(clause.child_by_field_id(FIELDS.right)?)
            }
            _ => None,
        }
    }

    fn int_chars(&self, list: Node) -> Option<Vec<String>> {
        if !matches!(list.kind(), "list" | "tuple") {
            return None;
        }
        let mut cursor = list.walk();
        let kids: Vec<Node> = list.named_children(&mut cursor).collect();
        kids.into_iter()
            .map(|k| {
                parse_int(self.text(k))
                    .and_then(char::from_u32)
                    .map(String::from)
            })
            .collect()
    }

    /// Tags carried by string literals: the indicators they contain.
    fn literal_tags(&self, range: Range<usize>) -> u32 {
        let mut t = 0;
        // Indicators are sorted by position.
        let first = self.indicators.partition_point(|i| i.start < range.start);
        for ind in &self.indicators[first..] {
            if ind.start >= range.end {
                break;
            }
            t |= match ind.kind {
                Kind::Secret(_) => tag::SECRET,
                Kind::Persist(_) => tag::PERSIST_PATH,
                Kind::Dest(_) => tag::DEST,
                _ => 0,
            };
        }
        t
    }

    fn env_key_tags(&self, key: Option<Node>, depth: usize) -> u32 {
        let Some(key) = key else { return 0 };
        match self.const_str(key, depth + 1) {
            Some(k) if SECRET_ENV.contains(&k.as_str()) => tag::ENV_SECRET,
            _ => 0,
        }
    }

    /// What values an expression may carry.
    fn tags(&self, n: Node, depth: usize) -> u32 {
        if depth > MAX_DEPTH {
            return 0;
        }
        match n.kind() {
            "string" => {
                let mut t = tag::LITERAL | self.literal_tags(n.byte_range());
                let mut cursor = n.walk();
                for child in n.named_children(&mut cursor) {
                    if child.kind() == "interpolation" {
                        t |= env_dump(self.tags(child, depth + 1));
                    }
                }
                t
            }
            "integer" | "float" | "true" | "false" | "none" | "comment" => 0,
            "list" | "tuple" | "set" => {
                let mut cursor = n.walk();
                let kids: Vec<Node> = n.named_children(&mut cursor).collect();
                let ints = kids.len() >= 4
                    && kids
                        .iter()
                        .all(|k| k.kind() == "integer" || k.kind() == "unary_operator");
                if ints {
                    return tag::INTS | tag::LITERAL;
                }
                kids.iter().fold(0, |t, k| {
                    t | (self.tags(*k, depth + 1) & (tag::FLOWING | tag::ENV_OBJ | tag::CLIENT))
                })
            }
            "identifier" => {
                let name = self.text(n);
                let mut t = self.taint_of(n, name);
                if self.qual(n, depth + 1).as_deref() == Some("os.environ") {
                    t |= tag::ENV_OBJ;
                }
                t
            }
            "attribute" => {
                if self.qual(n, depth + 1).as_deref() == Some("os.environ") {
                    return tag::ENV_OBJ;
                }
                let own = self
                    .taint
                    .get(&(0, self.text(n).to_string()))
                    .copied()
                    .unwrap_or(0);
                let obj = n
                    .child_by_field_id(FIELDS.object)
                    .map_or(0, |o| self.tags(o, depth + 1));
                own | (obj & (tag::FLOWING | tag::CLIENT))
            }
            "subscript" => {
                let Some(value) = n.child_by_field_id(FIELDS.value) else {
                    return 0;
                };
                let vt = self.tags(value, depth + 1);
                if vt & tag::ENV_OBJ != 0 {
                    return self.env_key_tags(n.child_by_field_id(FIELDS.subscript), depth);
                }
                let reversed = n
                    .child_by_field_id(FIELDS.subscript)
                    .is_some_and(|s| self.text(s).replace(' ', "") == "::-1");
                // Reversing a string constant is a way to hide it; reversing
                // a list is not.
                if reversed && self.const_str(value, depth + 1).is_some() {
                    return decoded(vt) | tag::ASSEMBLED;
                }
                vt & tag::FLOWING
            }
            "call" => self.call_tags(n, depth),
            "binary_operator" => {
                let l = n
                    .child_by_field_id(FIELDS.left)
                    .map_or(0, |x| self.tags(x, depth + 1));
                let r = n
                    .child_by_field_id(FIELDS.right)
                    .map_or(0, |x| self.tags(x, depth + 1));
                let mut t = (l | r) & tag::FLOWING;
                let stringy = tag::LITERAL | tag::ASSEMBLED | tag::CHR;
                let plus = n
                    .child_by_field_id(FIELDS.operator)
                    .is_some_and(|o| self.text(o) == "+");
                if plus && l & stringy != 0 && r & stringy != 0 {
                    t |= tag::ASSEMBLED;
                }
                if (l | r) & tag::ENV_OBJ != 0 {
                    t |= tag::ENV_DUMP;
                }
                t
            }
            "lambda" | "function_definition" | "class_definition" => 0,
            "keyword_argument" => n
                .child_by_field_id(FIELDS.value)
                .map_or(0, |v| self.tags(v, depth + 1)),
            _ => {
                let mut cursor = n.walk();
                let kids: Vec<Node> = n.named_children(&mut cursor).collect();
                kids.iter().fold(0, |t, k| {
                    t | (self.tags(*k, depth + 1) & (tag::FLOWING | tag::ENV_OBJ | tag::CLIENT))
                })
            }
        }
    }

    fn call_tags(&self, n: Node, depth: usize) -> u32 {
        let Some(func) = n.child_by_field_id(FIELDS.function) else {
            return 0;
        };
        let args = self.positional_args(n);
        let first = args.first().map_or(0, |a| self.tags(*a, depth + 1));
        let all = self.all_arg_tags(n, depth);
        let (method, receiver) = if func.kind() == "attribute" {
            let attr = func
                .child_by_field_id(FIELDS.attribute)
                .map(|a| self.text(a))
                .unwrap_or("");
            let recv = func
                .child_by_field_id(FIELDS.object)
                .map_or(0, |o| self.tags(o, depth + 1));
            (Some(attr), recv)
        } else {
            (None, 0)
        };
        let q = self.qual(func, depth + 1);
        let qn = q.as_deref().map(normalize).unwrap_or("");

        // `(lambda _: decode(_))(blob)`
        let mut inner = func;
        while inner.kind() == "parenthesized_expression" {
            match inner.named_child(0) {
                Some(c) => inner = c,
                None => break,
            }
        }
        if inner.kind() == "lambda" {
            let ret = inner
                .child_by_field_id(FIELDS.body)
                .map_or(0, |b| self.tags(b, depth + 1));
            if ret & tag::DECODED != 0 {
                return decoded(first) | (ret & tag::FLOWING);
            }
            return (ret | all) & tag::FLOWING;
        }

        if DECODERS.contains(&qn) {
            return decoded(first | receiver);
        }
        if DUMPERS.contains(&qn) {
            return if all & tag::ENV_OBJ != 0 {
                tag::ENV_DUMP
            } else {
                0
            };
        }
        if qn == "codecs.decode" || qn == "codecs.encode" {
            let codec = args.get(1).and_then(|a| self.const_str(*a, depth + 1));
            if codec.is_some_and(|c| is_hiding_codec(&c)) {
                return decoded(first);
            }
            return first & tag::FLOWING;
        }
        if let Some(ret) = self.fn_returns.get(qn).copied() {
            let mut t = ret;
            if ret & tag::DECODED != 0 {
                t |= decoded(first);
            }
            return t | (all & tag::FLOWING);
        }
        if FETCH_FUNCS.contains(&qn) {
            return tag::FETCHED;
        }
        if CLIENT_CTORS.contains(&qn) {
            return tag::CLIENT;
        }
        if HOSTINFO_FUNCS.contains(&qn) {
            return tag::HOSTINFO;
        }
        if qn == "os.getenv" || qn == "os.environ.get" || qn == "os.getenvb" {
            return self.env_key_tags(args.first().copied(), depth);
        }
        if qn.starts_with("os.environ.") {
            let m = last_component(qn);
            if matches!(m, "copy" | "items" | "keys" | "values") {
                return tag::ENV_DUMP;
            }
        }
        match qn {
            "chr" => return tag::CHR | tag::LITERAL,
            "bytes" | "bytearray" => {
                if first & tag::INTS != 0 {
                    return decoded(first);
                }
                return first & tag::FLOWING;
            }
            "map" => {
                let chr = args.first().is_some_and(|a| self.text(*a) == "chr");
                let rest = args.get(1).map_or(0, |a| self.tags(*a, depth + 1));
                if chr {
                    return tag::CHR | (rest & tag::FLOWING);
                }
                return all & tag::FLOWING;
            }
            "open" | "io.open" | "codecs.open" | "pathlib.Path" | "Path" | "os.open" => {
                return first & (tag::SECRET | tag::PERSIST_PATH | tag::DL_PATH);
            }
            _ => {}
        }
        if SERIALIZERS.contains(&qn) && all & tag::ENV_OBJ != 0 {
            return tag::ENV_DUMP | (all & tag::FLOWING);
        }
        if let Some(m) = method {
            if receiver & tag::CLIENT != 0 {
                return if CLIENT_DATA_METHODS.contains(&m) {
                    tag::FETCHED
                } else {
                    0
                };
            }
            if DECODER_METHODS.contains(&m) {
                return decoded(first | receiver);
            }
            if m == "join" && all & (tag::CHR | tag::INTS) != 0 && all & tag::CHR != 0 {
                return decoded(all) | tag::ASSEMBLED;
            }
            if m == "decode" || m == "encode" {
                let codec = args.first().and_then(|a| self.const_str(*a, depth + 1));
                if codec.is_some_and(|c| is_hiding_codec(&c)) {
                    return decoded(receiver);
                }
                return receiver & tag::FLOWING;
            }
            if m == "translate" && all & tag::LITERAL != 0 {
                return decoded(receiver);
            }
            if matches!(m, "format" | "join") && (all | receiver) & tag::ENV_OBJ != 0 {
                return tag::ENV_DUMP | ((all | receiver) & tag::FLOWING);
            }
        }
        (all | receiver) & tag::FLOWING & !tag::LITERAL
            | (if (all | receiver) & tag::LITERAL != 0 && method.is_some() {
                receiver & tag::LITERAL
            } else {
                all & tag::LITERAL
            })
    }

    fn target_names(&self, left: Node) -> Vec<String> {
        match left.kind() {
            "identifier" | "attribute" | "subscript" => vec![self.text(left).to_string()],
            "pattern_list" | "tuple_pattern" | "list_pattern" => {
                let mut cursor = left.walk();
                let kids: Vec<Node> = left.named_children(&mut cursor).collect();
                kids.into_iter()
                    .flat_map(|k| self.target_names(k))
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    fn learn_assignment(&mut self, asg: Node) -> bool {
        let (left, right) = if asg.kind() == "named_expression" {
            (
                asg.child_by_field_id(FIELDS.name),
                asg.child_by_field_id(FIELDS.value),
            )
        } else {
            (
                asg.child_by_field_id(FIELDS.left),
                asg.child_by_field_id(FIELDS.right),
            )
        };
        let (Some(left), Some(right)) = (left, right) else {
            return false;
        };
        if asg.kind() != "assignment" && asg.kind() != "named_expression" {
            // Loops and `+=` carry the iterable's or operand's tags only.
            let t = self.tags(right, 0) & (tag::FLOWING | tag::CLIENT);
            let scope = self.scope_of(asg);
            let mut changed = false;
            for name in self.target_names(left) {
                changed |= self.taint_merge(scope, &name, t);
            }
            return changed;
        }
        let names = self.target_names(left);
        if names.is_empty() {
            return false;
        }
        let mut changed = false;
        let t = self.tags(right, 0) & (tag::FLOWING | tag::CLIENT | tag::ENV_OBJ);
        let single = names.len() == 1 && left.kind() == "identifier";
        if single {
            let name = names[0].clone();
            match right.kind() {
                "identifier" | "attribute" | "subscript" | "call" => {
                    if let Some(q) = self.qual(right, 0) {
                        let interesting = q != name
                            && (self.imports.contains_key(q.split('.').next().unwrap_or(""))
                                || is_known_callable(normalize(&q)));
                        if interesting && self.aliases.get(&name) != Some(&q) {
                            self.aliases.insert(name.clone(), q);
                            changed = true;
                        }
                    }
                }
                "lambda" => {
                    if let Some(body) = right.child_by_field_id(FIELDS.body) {
                        let rt = self.tags(body, 0)
                            & (tag::DECODED
                                | tag::DECODED_LIT
                                | tag::FETCHED
                                | tag::SECRET
                                | tag::ENV_DUMP);
                        changed |= merge(&mut self.fn_returns, &name, rt);
                    }
                }
                "list" | "tuple" => {
                    if let Some(p) = self.program_of(right) {
                        self.programs.insert(name.clone(), p);
                    }
                }
                _ => {}
            }
            if !self.consts.contains_key(&name) {
                if let Some(s) = self.const_str(right, 0) {
                    self.consts.insert(name.clone(), s);
                }
            }
            if let Some((key, ptags)) = self.opened_for_writing(right) {
                self.handles.insert(name.clone(), (key, ptags));
            }
        }
        let scope = self.scope_of(asg);
        for name in names {
            changed |= self.taint_merge(scope, &name, t);
        }
        changed
    }

    /// The start byte of the function enclosing `n`, 0 at module level.
    fn scope_of(&self, n: Node) -> usize {
        let pos = n.start_byte();
        let after = self.function_ranges.partition_point(|r| r.start <= pos);
        self.function_ranges[..after]
            .iter()
            .rev()
            .find(|r| r.start < pos && pos < r.end)
            .map_or(0, |r| r.start + 1)
    }

    /// The tags assigned to `name` as seen from `at`: its function's
    /// variable, else the module-level one.
    fn taint_of(&self, at: Node, name: &str) -> u32 {
        let scope = self.scope_of(at);
        let key = (scope, name.to_string());
        let local = self.taint.get(&key).copied();
        match local {
            Some(t) => t,
            None if scope != 0 => self.taint.get(&(0, name.to_string())).copied().unwrap_or(0),
            None => 0,
        }
    }

    fn taint_merge(&mut self, scope: usize, name: &str, t: u32) -> bool {
        if t == 0 {
            return false;
        }
        // Attributes (`self.x`) live across functions.
        let scope = if name.contains('.') { 0 } else { scope };
        let entry = self.taint.entry((scope, name.to_string())).or_insert(0);
        let before = *entry;
        *entry |= t;
        *entry != before
    }

    fn learn_with_item(&mut self, item: Node) {
        let Some(value) = item.child_by_field_id(FIELDS.value) else {
            return;
        };
        if value.kind() != "as_pattern" {
            return;
        }
        let (Some(call), Some(alias)) =
            (value.named_child(0), value.child_by_field_id(FIELDS.alias))
        else {
            return;
        };
        let name = self.text(alias).to_string();
        if let Some(h) = self.opened_for_writing(call) {
            self.handles.insert(name, h);
        } else {
            // `with requests.get(u) as r:` / `with open(secret) as f:`
            let t = self.tags(call, 0) & (tag::FLOWING | tag::CLIENT);
            self.taint_merge(self.scope_of(item), &name, t);
        }
    }

    /// `open(P, "w…"|"a…")` → (path key, path tags).
    fn opened_for_writing(&self, n: Node) -> Option<(String, u32)> {
        if n.kind() != "call" {
            return None;
        }
        let func = n.child_by_field_id(FIELDS.function)?;
        let q = self.qual(func, 0)?;
        if !matches!(normalize(&q), "open" | "io.open" | "codecs.open") {
            return None;
        }
        let args = self.positional_args(n);
        let path = *args.first()?;
        let mode = args
            .get(1)
            .copied()
            .or_else(|| self.kwarg(n, "mode"))
            .and_then(|m| self.const_str(m, 0))?;
        if !mode.contains(['w', 'a', 'x', '+']) {
            return None;
        }
        Some((self.path_key(path), self.tags(path, 0)))
    }

    fn path_key(&self, path: Node) -> String {
        match self.const_str(path, 0) {
            Some(s) => format!("lit:{s}"),
            None => self.text(path).to_string(),
        }
    }

    fn mark_downloaded(&mut self, scope: usize, key: String) -> bool {
        if let Some(lit) = key.strip_prefix("lit:") {
            self.dl_literals.insert(lit.to_string())
        } else {
            self.taint_merge(scope, &key, tag::DL_PATH)
        }
    }

    /// Effects of calls on names: a file written from downloaded bytes.
    fn learn_call_effects(&mut self, call: Node) -> bool {
        let Some(func) = call.child_by_field_id(FIELDS.function) else {
            return false;
        };
        let q = self.qual(func, 0).unwrap_or_default();
        let qn = normalize(&q).to_string();
        let args = self.positional_args(call);
        if matches!(
            qn.as_str(),
            "urllib.request.urlretrieve" | "urllib.urlretrieve" | "wget.download"
        ) {
            let target = args.get(1).copied().or_else(|| self.kwarg(call, "out"));
            if let Some(t) = target {
                let key = self.path_key(t);
                return self.mark_downloaded(self.scope_of(call), key);
            }
            return false;
        }
        if qn == "shutil.copyfileobj" {
            if let (Some(src), Some(dst)) = (args.first(), args.get(1)) {
                if self.tags(*src, 0) & tag::FETCHED != 0 {
                    if let Some((key, _)) = self.handles.get(self.text(*dst)).cloned() {
                        return self.mark_downloaded(self.scope_of(call), key);
                    }
                }
            }
            return false;
        }
        if func.kind() != "attribute" {
            return false;
        }
        let method = func
            .child_by_field_id(FIELDS.attribute)
            .map(|a| self.text(a))
            .unwrap_or("");
        let Some(obj) = func.child_by_field_id(FIELDS.object) else {
            return false;
        };
        let data = args.first().map_or(0, |a| self.tags(*a, 0));
        if data & tag::FETCHED == 0 {
            return false;
        }
        match method {
            "write" => {
                let key = self
                    .handles
                    .get(self.text(obj))
                    .map(|(k, _)| k.clone())
                    .or_else(|| self.opened_for_writing(obj).map(|(k, _)| k));
                match key {
                    Some(k) => self.mark_downloaded(self.scope_of(call), k),
                    None => false,
                }
            }
            "write_bytes" | "write_text" => {
                let key = match obj.kind() {
                    "call" => self.positional_args(obj).first().map(|p| self.path_key(*p)),
                    _ => Some(self.path_key(obj)),
                };
                match key {
                    Some(k) => self.mark_downloaded(self.scope_of(call), k),
                    None => false,
                }
            }
            _ => false,
        }
    }

    /// The program a command (string, list or name of a list) runs.
    fn program_of(&self, n: Node) -> Option<String> {
        match n.kind() {
            "list" | "tuple" => {
                let first = n.named_child(0)?;
                if let Some(q) = self.qual(first, 0) {
                    if q == "sys.executable" {
                        return Some("python".to_string());
                    }
                }
                self.program_of(first)
            }
            "identifier" => {
                if let Some(p) = self.programs.get(self.text(n)) {
                    return Some(p.clone());
                }
                if self.qual(n, 0).as_deref() == Some("sys.executable") {
                    return Some("python".to_string());
                }
                let s = self.consts.get(self.text(n))?;
                program_name(s)
            }
            "attribute" => {
                if self.qual(n, 0).as_deref() == Some("sys.executable") {
                    return Some("python".to_string());
                }
                None
            }
            _ => program_name(&self.const_str(n, 0)?),
        }
    }

    /// The literal command text of a process call's first argument.
    fn command_text(&self, n: Node) -> Option<String> {
        match n.kind() {
            "list" | "tuple" => {
                let mut cursor = n.walk();
                let kids: Vec<Node> = n.named_children(&mut cursor).collect();
                // Unknown program: no command text worth showing.
                self.const_str(*kids.first()?, 0)?;
                let parts: Vec<String> = kids
                    .iter()
                    .map(|k| self.const_str(*k, 0).unwrap_or_else(|| "…".to_string()))
                    .collect();
                Some(parts.join(" "))
            }
            _ => self.const_str(n, 0),
        }
    }

    fn command_class_at(&self, byte: usize) -> Option<String> {
        self.command_ranges
            .iter()
            .filter(|(r, _)| r.contains(&byte))
            .min_by_key(|(r, _)| r.end - r.start)
            .map(|(_, b)| b.clone())
    }

    fn judge_call(&mut self, call: Node) {
        let Some(func) = call.child_by_field_id(FIELDS.function) else {
            return;
        };
        let loc = Loc {
            byte: call.start_byte(),
        };
        let q = self.qual(func, 0).unwrap_or_default();
        let qn = normalize(&q).to_string();
        let args = self.positional_args(call);
        let first = args.first().map_or(0, |a| self.tags(*a, 0));
        let all = self.all_arg_tags(call, 0);
        let (method, receiver) = if func.kind() == "attribute" {
            let m = func
                .child_by_field_id(FIELDS.attribute)
                .map(|a| self.text(a))
                .unwrap_or("");
            let r = func
                .child_by_field_id(FIELDS.object)
                .map_or(0, |o| self.tags(o, 0));
            (m, r)
        } else {
            ("", 0)
        };

        // Code execution.
        let sink = if CODE_SINKS.contains(&qn.as_str()) {
            Some(SinkKind::Code)
        } else if UNPICKLE_SINKS.contains(&qn.as_str()) {
            Some(SinkKind::Unpickle)
        } else {
            None
        };
        if let Some(kind) = sink {
            let direct_decode = args.first().is_some_and(|a| self.contains_decoder(*a));
            let literal = args
                .first()
                .filter(|a| matches!(a.kind(), "string" | "concatenated_string"))
                .and_then(|a| self.const_str(*a, 0));
            self.facts.exec_sinks.push(ExecSink {
                loc: loc.clone(),
                kind,
                tags: first,
                name: qn.clone(),
                direct_decode,
                literal,
            });
        }

        // Processes.
        if PROCESS_FUNCS.contains(&qn.as_str()) {
            // What runs is the program: the first item of an argument list,
            // or a command string made only of downloaded text.
            let mut tags = first & !(tag::FETCHED | tag::DL_PATH);
            if let Some(a) = args.first() {
                let program = match a.kind() {
                    "list" | "tuple" => a.named_child(0).map_or(0, |p| self.tags(p, 0)),
                    _ => first,
                };
                tags |= program & tag::DL_PATH;
                if program & tag::FETCHED != 0 && program & tag::LITERAL == 0 {
                    tags |= tag::FETCHED;
                }
            }
            let command = args.first().and_then(|a| self.command_text(*a));
            if let Some(c) = &command {
                if self.dl_literals.iter().any(|d| c.contains(d.as_str())) {
                    tags |= tag::DL_PATH;
                }
            }
            let program = args.first().and_then(|a| self.program_of(*a));
            let detached = self.is_detached(call, command.as_deref());
            let socket_io = ["stdin", "stdout", "stderr"].iter().any(|k| {
                self.kwarg(call, k)
                    .is_some_and(|v| self.tags(v, 0) & tag::CLIENT != 0)
            });
            if qn == "pty.spawn" && command.as_deref().is_some_and(is_shell_command) {
                self.facts.pty_shell.push(loc.clone());
            }
            if let Some(c) = command.as_deref() {
                if let Some(op) = clipboard_command(c) {
                    self.facts.clipboard.push((loc.clone(), op));
                }
                if is_persistence_command(c) || tags & tag::PERSIST_PATH != 0 {
                    self.facts.persistence.push(loc.clone());
                }
            }
            self.facts.processes.push(ProcCall {
                loc: loc.clone(),
                name: qn.clone(),
                tags,
                command,
                program,
                detached,
                socket_io,
                command_class: self.command_class_at(call.start_byte()),
            });
        }

        // Network.
        let fetch = FETCH_FUNCS.contains(&qn.as_str());
        let webhook = WEBHOOK_CTORS.contains(&qn.as_str());
        let on_client = !method.is_empty() && receiver & tag::CLIENT != 0;
        if fetch || webhook || on_client {
            let send = if webhook {
                true
            } else if fetch {
                let last = last_component(&qn);
                matches!(last, "post" | "put" | "patch")
                    || (last == "urlopen" && self.urlopen_sends(call))
                    || (last == "request"
                        && args
                            .first()
                            .and_then(|a| self.const_str(*a, 0))
                            .is_some_and(|m| m.eq_ignore_ascii_case("post")))
            } else {
                SEND_METHODS.contains(&method)
                    || (method == "request"
                        && args
                            .first()
                            .and_then(|a| self.const_str(*a, 0))
                            .is_some_and(|m| !m.eq_ignore_ascii_case("get")))
            };
            self.facts.network.push(NetCall {
                loc: loc.clone(),
                name: if qn.is_empty() || qn.starts_with('?') {
                    method.to_string()
                } else {
                    qn.clone()
                },
                send,
                tags: env_dump(all),
                command_class: self.command_class_at(call.start_byte()),
            });
        }

        // Hidden module and attribute names: decoded from embedded data,
        // or assembled from literal pieces.
        let hidden = |t: u32, name: &Option<String>| {
            t & (tag::DECODED_LIT | tag::CHR) != 0 || (t & tag::ASSEMBLED != 0 && name.is_some())
        };
        if matches!(qn.as_str(), "__import__" | "importlib.import_module") {
            let name = args.first().and_then(|a| self.const_str(*a, 0));
            let plain_literal = args.first().is_some_and(|a| a.kind() == "string");
            if !plain_literal && hidden(first, &name) {
                self.facts.hidden_names.push((loc.clone(), first, name));
            }
        }
        if qn == "getattr" && args.first().is_some_and(|o| self.is_module_like(*o)) {
            let t = args.get(1).map_or(0, |a| self.tags(*a, 0));
            let name = args.get(1).and_then(|a| self.const_str(*a, 0));
            let plain_literal = args.get(1).is_some_and(|a| a.kind() == "string");
            if !plain_literal && hidden(t, &name) {
                self.facts.hidden_names.push((loc.clone(), t, name));
            }
        }

        // Clipboard.
        if CLIPBOARD_READ.contains(&qn.as_str()) || method == "clipboard_get" {
            self.facts.clipboard.push((loc.clone(), ClipOp::Read));
        }
        if CLIPBOARD_WRITE.contains(&qn.as_str()) || method == "clipboard_append" {
            self.facts.clipboard.push((loc.clone(), ClipOp::Write));
        }

        // Reverse-shell plumbing.
        if qn == "os.dup2" {
            let from_socket = args
                .first()
                .is_some_and(|a| self.text(*a).contains("fileno"));
            let std_fd = args
                .get(1)
                .is_some_and(|a| matches!(self.text(*a), "0" | "1" | "2"));
            if from_socket && std_fd {
                self.facts.dup2.push(loc.clone());
            }
        }

        // Persistence writes.
        let writes_persist = match qn.as_str() {
            "open" | "io.open" | "codecs.open" => self
                .opened_for_writing(call)
                .is_some_and(|(_, t)| t & tag::PERSIST_PATH != 0),
            "shutil.copy" | "shutil.copy2" | "shutil.copyfile" | "shutil.move" | "os.rename"
            | "os.replace" | "os.symlink" => args
                .get(1)
                .is_some_and(|a| self.tags(*a, 0) & tag::PERSIST_PATH != 0),
            "winreg.SetValueEx" | "_winreg.SetValueEx" | "winreg.SetValue" | "_winreg.SetValue" => {
                true
            }
            _ => false,
        } || (matches!(method, "write_text" | "write_bytes")
            && receiver & tag::PERSIST_PATH != 0)
            || (method == "write"
                && func
                    .child_by_field_id(FIELDS.object)
                    .and_then(|o| self.handles.get(self.text(o)))
                    .is_some_and(|(_, t)| t & tag::PERSIST_PATH != 0));
        if writes_persist {
            let registry = qn.contains("winreg");
            // A registry write is persistence only with a Run key in the file.
            let run_key = self
                .indicators
                .iter()
                .any(|i| i.kind == Kind::Persist(crate::prefilter::Persist::WindowsRun));
            if !registry || run_key {
                self.facts.persistence.push(loc);
            }
        }
    }

    /// Whether `n` is a module or the builtins (not an ordinary object).
    fn is_module_like(&self, n: Node) -> bool {
        let text = self.text(n);
        if matches!(text, "__builtins__" | "builtins" | "__builtin__") {
            return true;
        }
        if n.kind() == "call" {
            return self.qual(n, 0).is_some();
        }
        let first = text.split('.').next().unwrap_or("");
        self.imports
            .get(first)
            .is_some_and(|q| !q.contains('.') || self.imports.contains_key(text))
    }

    /// Whether a decoder is called within `n` (nested calls included).
    fn contains_decoder(&self, n: Node) -> bool {
        let mut stack = vec![n];
        let mut visited = 0;
        while let Some(node) = stack.pop() {
            visited += 1;
            if visited > 2_000 {
                return false;
            }
            if node.kind() == "call" {
                if let Some(func) = node.child_by_field_id(FIELDS.function) {
                    let q = self.qual(func, 0).unwrap_or_default();
                    let qn = normalize(&q);
                    let method = func
                        .child_by_field_id(FIELDS.attribute)
                        .map(|a| self.text(a))
                        .unwrap_or("");
                    if DECODERS.contains(&qn)
                        || (func.kind() == "attribute" && DECODER_METHODS.contains(&method))
                    {
                        return true;
                    }
                }
            }
            if matches!(node.kind(), "lambda" | "function_definition") {
                continue;
            }
            let mut cursor = node.walk();
            stack.extend(node.named_children(&mut cursor));
        }
        false
    }

    fn urlopen_sends(&self, call: Node) -> bool {
        if self.positional_args(call).len() >= 2 || self.kwarg(call, "data").is_some() {
            return true;
        }
        // urlopen(Request(url, data=…))
        self.positional_args(call).first().is_some_and(|a| {
            a.kind() == "call"
                && (self.positional_args(*a).len() >= 2 || self.kwarg(*a, "data").is_some())
        })
    }

    fn is_detached(&self, call: Node, command: Option<&str>) -> bool {
        if let Some(flags) = self.kwarg(call, "creationflags") {
            let t = self.text(flags);
            if t.contains("DETACHED")
                || t.contains("NO_WINDOW")
                || t.contains("0x08000000")
                || t.contains("0x00000008")
                || t.contains("134217728")
            {
                return true;
            }
        }
        if self
            .kwarg(call, "start_new_session")
            .is_some_and(|v| self.text(v) == "True")
        {
            return true;
        }
        if self
            .kwarg(call, "preexec_fn")
            .is_some_and(|v| self.text(v).contains("setsid"))
        {
            return true;
        }
        command.is_some_and(|c| {
            let c = c.trim();
            c.starts_with("nohup ")
                || c.starts_with("pythonw")
                || c.starts_with("start /b")
                || c.ends_with(" &")
                || c.contains("-WindowStyle Hidden")
        })
    }
}

fn merge(map: &mut HashMap<String, u32>, key: &str, t: u32) -> bool {
    if t == 0 {
        return false;
    }
    let entry = map.entry(key.to_string()).or_insert(0);
    let before = *entry;
    *entry |= t;
    *entry != before
}

/// The tags of a decoder's result given its input's tags.
fn decoded(input: u32) -> u32 {
    let embedded = tag::LITERAL | tag::INTS | tag::CHR | tag::DECODED_LIT | tag::ASSEMBLED;
    let mut t = tag::DECODED | (input & tag::FLOWING & !tag::LITERAL);
    if input & embedded != 0 {
        t |= tag::DECODED_LIT;
    }
    t
}

/// The environment mapping placed in a string or a payload is a dump.
fn env_dump(t: u32) -> u32 {
    if t & tag::ENV_OBJ != 0 {
        (t & tag::FLOWING) | tag::ENV_DUMP
    } else {
        t & tag::FLOWING
    }
}

fn is_hiding_codec(codec: &str) -> bool {
    let c = codec.to_ascii_lowercase().replace(['-', '_'], "");
    matches!(
        c.as_str(),
        "rot13"
            | "base64"
            | "hex"
            | "zlib"
            | "bz2"
            | "uu"
            | "hexcodec"
            | "base64codec"
            | "zlibcodec"
    )
}

fn is_known_callable(q: &str) -> bool {
    CODE_SINKS.contains(&q)
        || UNPICKLE_SINKS.contains(&q)
        || DECODERS.contains(&q)
        || PROCESS_FUNCS.contains(&q)
        || FETCH_FUNCS.contains(&q)
        || CLIENT_CTORS.contains(&q)
        || matches!(
            q,
            "__import__" | "importlib.import_module" | "getattr" | "os.environ"
        )
}

fn parse_int(text: &str) -> Option<u32> {
    let t = text.trim().replace('_', "");
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return u32::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = t.strip_prefix("0o").or_else(|| t.strip_prefix("0O")) {
        return u32::from_str_radix(oct, 8).ok();
    }
    t.parse().ok()
}

/// The base name of the program a command line starts with.
pub fn program_name(command: &str) -> Option<String> {
    let first = command.split_whitespace().next()?;
    let base = first.rsplit(['/', '\\']).next().unwrap_or(first);
    let base = base.strip_suffix(".exe").unwrap_or(base);
    if base.is_empty() {
        None
    } else {
        Some(base.to_ascii_lowercase())
    }
}

fn is_shell_command(c: &str) -> bool {
    matches!(
        program_name(c).as_deref(),
        Some("sh" | "bash" | "zsh" | "dash" | "cmd" | "powershell" | "pwsh")
    )
}

fn clipboard_command(c: &str) -> Option<ClipOp> {
    match program_name(c).as_deref() {
        Some("pbcopy" | "clip") => Some(ClipOp::Write),
        Some("pbpaste") => Some(ClipOp::Read),
        Some("xclip" | "xsel") => {
            if c.contains("-o") || c.contains("--output") {
                Some(ClipOp::Read)
            } else {
                Some(ClipOp::Write)
            }
        }
        _ => None,
    }
}

fn is_persistence_command(c: &str) -> bool {
    let lower = c.to_ascii_lowercase();
    (lower.contains("crontab") && !lower.contains("crontab -l") && lower.contains("crontab -"))
        || (lower.contains("schtasks") && lower.contains("/create"))
        || (lower.contains("reg add") && lower.contains("currentversion\\run"))
        || lower.contains("systemctl enable")
        || lower.contains("systemctl --user enable")
        || (lower.contains(">>")
            && (lower.contains(".bashrc")
                || lower.contains(".zshrc")
                || lower.contains(".profile")))
}
