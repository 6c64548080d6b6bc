//! Short plain-text titles from advisory prose: the record's summary, else the
//! first sentence of its details, with markdown and line breaks flattened and
//! cut at a word boundary.

/// Longest summary kept in the store and shown as a title.
pub(crate) const MAX_SUMMARY_CHARS: usize = 120;

/// A one-line summary from an OSV `summary` and `details`.
pub(crate) fn short_summary(summary: Option<&str>, details: Option<&str>) -> String {
    let source = [summary, details]
        .into_iter()
        .flatten()
        .map(flatten)
        .find(|s| !s.is_empty())
        .unwrap_or_default();
    shorten(first_sentence(&source), MAX_SUMMARY_CHARS)
}

/// Collapse whitespace and drop markdown heading marks, emphasis and backticks.
fn flatten(text: &str) -> String {
    let mut words = Vec::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches('#').trim();
        // A heading alone ("### Impact") says nothing about the flaw itself.
        if line.is_empty() || (words.is_empty() && is_heading_word(line)) {
            continue;
        }
        words.extend(line.split_whitespace());
    }
    words
        .join(" ")
        .chars()
        .filter(|c| !matches!(c, '`' | '*'))
        .collect()
}

fn is_heading_word(line: &str) -> bool {
    matches!(
        line.to_ascii_lowercase().trim_end_matches(':'),
        "impact" | "summary" | "description" | "details" | "overview" | "problem"
    )
}

/// The first sentence that says something about the flaw: sentences that only
/// introduce the project ("Flask is a lightweight WSGI web application
/// framework.") or are boilerplate ("An issue was discovered in X.") are passed
/// over when another sentence follows.
fn first_sentence(text: &str) -> &str {
    let mut rest = text;
    loop {
        let (sentence, after) = split_sentence(rest);
        if after.is_empty() || !is_boilerplate(sentence) {
            return sentence;
        }
        rest = after;
    }
}

fn is_boilerplate(sentence: &str) -> bool {
    let lower = sentence.to_ascii_lowercase();
    if lower.starts_with("an issue was discovered")
        || lower.starts_with("this affects the package")
        || lower.starts_with("this affects all versions of package")
    {
        return true;
    }
    // "<Project> is a/an <description>." within its first few words.
    let words: Vec<&str> = lower.split(' ').take(6).collect();
    words
        .windows(2)
        .any(|w| matches!(w[0], "is" | "are") && matches!(w[1], "a" | "an"))
}

/// Split at the first sentence end: ". ", "! " or "? " followed by a letter
/// (package names often start a sentence in lower case), not after a known
/// abbreviation. Returns the sentence (with its
/// stop) and the text after it.
fn split_sentence(text: &str) -> (&str, &str) {
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if !matches!(b, b'.' | b'!' | b'?') || bytes.get(i + 1) != Some(&b' ') {
            continue;
        }
        let last_word = text[..i].rsplit(' ').next().unwrap_or("");
        let abbreviation = matches!(
            last_word.to_ascii_lowercase().as_str(),
            "e.g" | "i.e" | "etc" | "vs" | "approx" | "incl" | "no" | "ver" | "v"
        );
        let next_is_letter = text[i + 2..]
            .chars()
            .next()
            .is_some_and(char::is_alphabetic);
        if !abbreviation && next_is_letter {
            return (&text[..=i], &text[i + 2..]);
        }
    }
    (text, "")
}

/// Cut `text` to at most `max` characters at a word boundary, ending in "…".
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max - 1).collect();
    let at_word = match cut.rfind(' ') {
        Some(i) if i > max / 2 => &cut[..i],
        _ => cut.as_str(),
    };
    format!("{}…", at_word.trim_end_matches([',', ';', ':', ' ', '.']))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefers_summary_and_keeps_first_sentence() {
        assert_eq!(
            short_summary(
                Some("Jinja2 sandbox escape via string formatting"),
                Some(
                    "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape. More."
                )
            ),
            "Jinja2 sandbox escape via string formatting"
        );
        assert_eq!(
            short_summary(
                None,
                Some("In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape. More text.")
            ),
            "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape."
        );
    }

    #[test]
    fn flattens_markdown_and_ignores_abbreviations() {
        assert_eq!(
            short_summary(
                Some("  "),
                Some("### Impact\n`urllib3` leaks the `Cookie` header,\ne.g. On redirects. Next sentence.")
            ),
            "urllib3 leaks the Cookie header, e.g. On redirects."
        );
    }

    #[test]
    fn skips_project_introductions_and_boilerplate() {
        assert_eq!(
            short_summary(
                None,
                Some("Flask is a lightweight WSGI web application framework. When all of the following conditions are met, a response may be cached.")
            ),
            "When all of the following conditions are met, a response may be cached."
        );
        assert_eq!(
            short_summary(None, Some("An issue was discovered in urllib3 before 1.26.5. When provided with a URL containing many @ characters, it backtracks.")),
            "When provided with a URL containing many @ characters, it backtracks."
        );
        assert_eq!(
            short_summary(None, Some("urllib3 is a user-friendly HTTP client library for Python. urllib3 doesn't treat the Cookie header special.")),
            "urllib3 doesn't treat the Cookie header special."
        );
        // Nothing better follows: keep it.
        assert_eq!(
            short_summary(None, Some("Requests is a HTTP library.")),
            "Requests is a HTTP library."
        );
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_a_short_single_line(summary in proptest::option::of(".{0,300}"), details in proptest::option::of("(.|\n){0,600}")) {
            let s = short_summary(summary.as_deref(), details.as_deref());
            proptest::prop_assert!(s.chars().count() <= MAX_SUMMARY_CHARS);
            proptest::prop_assert!(!s.contains('\n'));
        }
    }

    #[test]
    fn long_text_is_cut_at_a_word() {
        let long = "word ".repeat(100);
        let s = short_summary(None, Some(&long));
        assert!(s.chars().count() <= MAX_SUMMARY_CHARS);
        assert!(s.ends_with("word…"), "{s}");
        assert_eq!(short_summary(None, None), "");
    }
}
