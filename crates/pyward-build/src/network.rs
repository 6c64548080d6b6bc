//! Noticing build code that reaches for the network. A `sitecustomize`
//! module, loaded by every Python process of the build, installs an audit
//! hook (`sys.addaudithook`) that reports connections, name lookups, URL
//! requests and network tools started as commands, with the file and line
//! of the build's own code that asked, through a pipe the build cannot take
//! back. The reports become one finding per build.

use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};
use serde::Deserialize;

/// The `sitecustomize.py` put on the build's `PYTHONPATH`.
pub(crate) const SITECUSTOMIZE: &str = r#"# Written by pyward for a source build: reports network use by build code.
def _pyward_watch_network():
    import json, os, sys
    try:
        fd = int(os.environ["PYWARD_BUILD_NETWORK_FD"])
    except (KeyError, ValueError):
        return
    source = os.environ.get("PYWARD_BUILD_SOURCE", "")
    tools = {"curl", "wget", "nc", "ncat", "netcat", "socat", "ssh", "scp", "sftp",
             "ftp", "tftp", "telnet", "rsync", "nslookup", "dig", "host", "ping"}
    # git is mostly local (backends ask it which files are tracked); these reach out.
    git_remote = {"clone", "fetch", "pull", "push", "ls-remote", "submodule"}
    busy = []

    def caller():
        frame = sys._getframe(0)
        while frame is not None:
            name = frame.f_code.co_filename
            if not name or name.startswith("<"):
                # Code run with exec() (setuptools runs setup.py so) keeps
                # its file in the globals it was given.
                name = frame.f_globals.get("__file__")
            if isinstance(name, str) and name:
                path = os.path.abspath(name)
                if source and path.startswith(source + os.sep):
                    return os.path.relpath(path, source), frame.f_lineno
            frame = frame.f_back
        return None, None

    def text(value):
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        return str(value)[:500]

    def record(kind, target):
        if busy:
            return
        busy.append(1)
        try:
            file, line = caller()
            data = json.dumps({"kind": kind, "target": text(target), "file": file, "line": line})
            os.write(fd, (data[:3800] + "\n").encode("utf-8", "replace"))
        except Exception:
            pass
        finally:
            busy.clear()

    def address(addr):
        if isinstance(addr, tuple) and len(addr) >= 2:
            host = text(addr[0])
            if ":" in host:
                host = "[" + host + "]"
            return "%s:%s" % (host, addr[1])
        return text(addr)

    def command_uses_network(argv):
        try:
            if isinstance(argv, (str, bytes)):
                words = text(argv).split()
            else:
                words = [text(a) for a in argv]
        except Exception:
            return False
        if not words:
            return False
        program = os.path.basename(words[0])
        if program == "git":
            commands = [w for w in words[1:] if not w.startswith("-")]
            return bool(commands) and commands[0] in git_remote
        return program in tools

    def hook(event, args):
        try:
            if event == "socket.connect" or event == "socket.sendto":
                family = getattr(args[0], "family", None)
                kind = "unix" if family is not None and int(family) == 1 else "connect"
                record(kind, address(args[1]))
            elif event == "socket.getaddrinfo":
                host, port = args[0], args[1]
                record("resolve", text(host) if port in (None, 0) else "%s:%s" % (text(host), text(port)))
            elif event in ("socket.gethostbyname", "socket.gethostbyname_ex", "socket.gethostbyaddr"):
                record("resolve", args[0])
            elif event == "urllib.Request":
                record("url", args[0])
            elif event == "subprocess.Popen":
                argv = args[1]
                if command_uses_network(argv if argv else args[0]):
                    shown = argv if isinstance(argv, (str, bytes)) else " ".join(text(a) for a in argv)
                    record("command", shown)
            elif event == "os.system":
                if command_uses_network(args[0]):
                    record("command", args[0])
        except Exception:
            pass

    sys.addaudithook(hook)


_pyward_watch_network()
del _pyward_watch_network
"#;

/// Most reports kept from one build.
const MAX_ATTEMPTS: usize = 50;

/// One thing the build tried to reach.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NetworkAttempt {
    /// `connect`, `unix`, `resolve`, `url` or `command`.
    pub kind: String,
    /// `host:port`, a socket path, a URL, or a command line.
    pub target: String,
    /// The build's own file that asked, relative to the source tree.
    pub file: Option<String>,
    pub line: Option<usize>,
}

/// Parse what the audit hook wrote: one JSON object per line; anything
/// else (the build may write to the pipe too) is skipped. Repeats merge.
pub(crate) fn parse_attempts(bytes: &[u8]) -> Vec<NetworkAttempt> {
    let mut out: Vec<NetworkAttempt> = Vec::new();
    for line in bytes.split(|b| *b == b'\n') {
        let Ok(mut attempt) = serde_json::from_slice::<NetworkAttempt>(line) else {
            continue;
        };
        attempt.target = attempt.target.chars().take(500).collect();
        if !out.contains(&attempt) {
            out.push(attempt);
            if out.len() == MAX_ATTEMPTS {
                break;
            }
        }
    }
    out
}

fn describe(a: &NetworkAttempt) -> String {
    match a.kind.as_str() {
        "url" => format!("fetch {}", a.target),
        "resolve" => format!("look up {}", a.target),
        "unix" => format!("open the local socket {}", a.target),
        "command" => format!("run `{}`", a.target),
        _ => format!("connect to {}", a.target),
    }
}

/// The most telling attempt for a title: a URL, then a name, then an address.
fn headline(attempts: &[NetworkAttempt]) -> &NetworkAttempt {
    let rank = |a: &NetworkAttempt| match a.kind.as_str() {
        "url" => 0,
        "resolve" => 1,
        "connect" => 2,
        "command" => 3,
        _ => 4,
    };
    attempts
        .iter()
        .min_by_key(|a| rank(a))
        .unwrap_or(&attempts[0])
}

/// One finding for everything a build tried, or `None` when it tried nothing.
pub(crate) fn finding(
    attempts: &[NetworkAttempt],
    package: &PackageRef,
    display: &str,
    blocked: bool,
) -> Option<Finding> {
    // A lookup of the address a connection then used is not a separate attempt.
    let attempts: Vec<NetworkAttempt> = attempts
        .iter()
        .filter(|a| {
            a.kind != "resolve"
                || !attempts
                    .iter()
                    .any(|c| c.kind == "connect" && c.target == a.target)
        })
        .cloned()
        .collect();
    let attempts = attempts.as_slice();
    if attempts.is_empty() {
        return None;
    }
    let first = headline(attempts);
    let who = match &first.file {
        Some(file) => format!("{file} of {display}"),
        None => format!("the build of {display}"),
    };
    let more = match attempts.len() {
        1 => String::new(),
        2 => " (and 1 more attempt)".to_string(),
        n => format!(" (and {} more attempts)", n - 1),
    };
    let outcome = if first.kind == "unix" {
        "local sockets are not covered by the network sandbox"
    } else if blocked {
        "the sandbox blocked it"
    } else {
        "nothing blocked it, because the build ran without a network sandbox"
    };
    let mut f = Finding::new(
        Check::Scan,
        Severity::High,
        package.clone(),
        format!(
            "{who} tried to {}{more} during the build; {outcome}",
            describe(first)
        ),
    )
    .why("Building a package should not need the network; build code that reaches out may be fetching a payload or sending your data.");
    for a in attempts {
        f = match (&a.file, a.line) {
            (Some(file), Some(line)) => f.evidence(Evidence::Location {
                file: file.clone(),
                line,
                snippet: format!("tried to {}", describe(a)),
            }),
            _ => f.evidence(Evidence::Text {
                text: format!("tried to {}", describe(a)),
            }),
        };
    }
    Some(
        f.advice(
            "look for a wheel of this package so nothing needs building:  --only-binary :all:",
        )
        .advice("read the package's build script before trusting it"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_merge_and_junk_is_skipped() {
        let log = br#"{"kind":"resolve","target":"evil.example:443","file":"setup.py","line":4}
not json
{"kind":"resolve","target":"evil.example:443","file":"setup.py","line":4}
{"kind":"connect","target":"127.0.0.1:9","file":null,"line":null}
"#;
        let attempts = parse_attempts(log);
        assert_eq!(attempts.len(), 2);
        let f = finding(
            &attempts,
            &PackageRef::new("foo", Some("1.0".into()), None),
            "foo 1.0",
            true,
        )
        .unwrap();
        assert_eq!(
            f.title,
            "setup.py of foo 1.0 tried to look up evil.example:443 (and 1 more attempt) during the build; the sandbox blocked it"
        );
        assert_eq!(f.severity, Severity::High);
        assert_eq!(f.evidence.len(), 2);
    }

    #[test]
    fn nothing_tried_is_no_finding() {
        assert!(finding(&[], &PackageRef::default(), "x", true).is_none());
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            let _ = parse_attempts(&bytes);
        }
    }
}
