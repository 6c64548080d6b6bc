//! Typosquat detection: does a project name look like a mistyped or dressed-up
//! version of a popular project's name? Checked offline against the popularity
//! snapshot, before anything is downloaded. Each suspicion names the popular
//! project it resembles and how (a technique and a sentence in plain words).
//!
//! Names in the snapshot are not suspected by default: tens of thousands of
//! downloads a month are evidence people ask for them on purpose (`tomli` and
//! `toml`, `boto` and `boto3`, `pyaml` and `pyyaml` are different real
//! projects). A popular project is only resembled when it is downloaded at
//! least [`TyposquatRules::min_target_downloads`] times a month: 1 million,
//! the top ~4,500, and at least 17 times the most downloaded name outside the
//! snapshot, so the resembled project is always much more popular than the
//! candidate.
//!
//! Measured with `examples/false_positives.rs` on the 2026-04-01 snapshot:
//! checking each of the 15,000 popular names against the others (a popular
//! project only counting as resembled when 10 times as downloaded) flags 304
//! (2.0%); of the 871,345 other names on PyPI, 7,502 (0.86%) are flagged,
//! many of them placeholder or look-alike registrations.

use hashbrown::HashTable;
use std::fmt;

use serde::Serialize;

use crate::popularity::{hash_str, normalize, Popularity};

/// How a name resembles a popular one. The kebab-case string is stable: it is
/// what `--json` output carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Technique {
    /// Two neighbouring letters swapped (`reqeusts`).
    Transposition,
    /// One letter added, left out or changed (`numpyy`, `urlib3`, `djanga`).
    EditDistance,
    /// Same letters, separators added, removed or moved (`scikitlearn`).
    Separator,
    /// Look-alike characters: `0`/`o`, `1`/`l`/`i`, `rn`/`m`, `vv`/`w` (`crypt0graphy`).
    Homoglyph,
    /// A decoration added or removed: `python-`, `py`, `-py`, `-lib`, `2`, … (`python-requests`).
    Affix,
    /// Two popular names joined into one (`beautifulsoup-requests`).
    Combination,
}

impl Technique {
    /// When one name resembles the same project in several ways, the most
    /// specific explanation is given (lower is more specific).
    fn specificity(self) -> u8 {
        match self {
            Technique::Separator => 0,
            Technique::Homoglyph => 1,
            Technique::Transposition => 2,
            Technique::Affix => 3,
            Technique::EditDistance => 4,
            Technique::Combination => 5,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Technique::Transposition => "transposition",
            Technique::EditDistance => "edit-distance",
            Technique::Separator => "separator",
            Technique::Homoglyph => "homoglyph",
            Technique::Affix => "affix",
            Technique::Combination => "combination",
        }
    }

    pub const ALL: [Technique; 6] = [
        Technique::Transposition,
        Technique::EditDistance,
        Technique::Separator,
        Technique::Homoglyph,
        Technique::Affix,
        Technique::Combination,
    ];
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that looks like a popular project's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suspicion {
    /// The name checked, normalized.
    pub name: String,
    /// The popular project it resembles (normalized name).
    pub resembles: String,
    pub technique: Technique,
    /// Plain words, e.g. `swaps two letters ("eu" for "ue") of requests`.
    pub detail: String,
    /// Monthly downloads of the resembled project.
    pub resembles_downloads: u64,
    /// Date of the popularity snapshot the check used (`YYYY-MM-DD`).
    pub snapshot_date: String,
}

/// The thresholds of the check. `Default` is what pyward uses; the numbers and
/// why they were chosen are in the crate's false-positive study
/// (`cargo run --release -p pyward-trust --example false_positives`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TyposquatRules {
    /// A popular project downloaded fewer times a month than this is never
    /// "resembled": too few people type its name to be worth imitating, and
    /// the long tail is full of short, similar, legitimate names.
    pub min_target_downloads: u64,
    /// When the candidate is itself popular (only with `skip_popular: false`),
    /// the resembled project must be downloaded at least this many times as
    /// often.
    pub min_ratio: u64,
    /// Shortest popular name for one added, left out or changed character to
    /// count. Lengths count letters and digits after a leading `py` or
    /// `python`: `pyvis` is as short as `vis` (the space of `py???` names is
    /// crowded with unrelated projects).
    pub min_edit_len: usize,
    /// Shortest popular name for two swapped neighbouring letters or a
    /// look-alike character to count (deliberate changes, so a stronger
    /// signal than a one-letter edit).
    pub min_swap_len: usize,
    /// Shortest name (letters and digits) that an affix may be added to or
    /// removed from, on both sides: `pyaml` → `aml` does not count.
    pub min_affix_len: usize,
    /// Both popular names of a combination must be downloaded this often.
    pub min_combination_downloads: u64,
    /// A combination's first part that begins this many popular names
    /// (`pytest-`, `django-`, `types-`, `requests-`) marks a plugin or
    /// add-on, not a lure.
    pub namespace_size: usize,
    /// Names in the snapshot are not checked.
    pub skip_popular: bool,
}

impl Default for TyposquatRules {
    fn default() -> Self {
        TyposquatRules {
            min_target_downloads: 1_000_000,
            min_ratio: 10,
            min_edit_len: 5,
            min_swap_len: 4,
            min_affix_len: 4,
            min_combination_downloads: 10_000_000,
            namespace_size: 3,
            skip_popular: true,
        }
    }
}

/// Prefixes that dress up a name without changing what it seems to be
/// (compared with separators removed: `python-`, `python_`, `python` are one).
const PREFIXES: &[&str] = &["python", "py"];
/// Suffixes of the same kind.
const SUFFIXES: &[&str] = &[
    "python", "py", "lib", "dev", "sdk", "pkg", "package", "official", "0", "1", "2", "3", "4", "5",
];
/// Suffixes whose removal turns a popular name into a plausible one: the
/// distribution name minus its decoration is often the import name
/// (`opencv-python` → `opencv`, `urllib3` → `urllib`). Prefixes are all
/// removable (`python-dateutil` → `dateutil`, `pyyaml` → `yaml`).
const REMOVED_SUFFIXES: &[&str] = &["python", "py", "2", "3", "4", "5"];

/// Is this name suspicious with pyward's default rules?
pub fn check_name(name: &str, pop: &Popularity) -> Option<Suspicion> {
    check_name_with(name, pop, &TyposquatRules::default())
}

/// Is this name suspicious under the given rules? The popular project chosen,
/// when several are resembled, is the most downloaded one.
pub fn check_name_with(name: &str, pop: &Popularity, rules: &TyposquatRules) -> Option<Suspicion> {
    let normalized = normalize(name);
    if normalized.is_empty() || !normalized.is_ascii() {
        return None;
    }
    let own = pop.index_of(&normalized);
    if own.is_some() && rules.skip_popular {
        return None;
    }
    let index = pop.name_index.get_or_init(|| NameIndex::build(pop));
    let entries = pop.entries();
    let min_downloads = match own {
        Some(i) => entries[i]
            .downloads
            .saturating_mul(rules.min_ratio)
            .max(rules.min_target_downloads),
        None => rules.min_target_downloads,
    };
    let is_target = |t: usize| Some(t) != own && entries[t].downloads >= min_downloads;

    let candidate = Candidate::new(&normalized);
    let mut best: Option<Match> = None;
    let mut consider = |m: Match| {
        // Most downloaded target wins; the entries are sorted by downloads,
        // so the smallest index. On a tie, the most specific technique.
        let key = |m: &Match| (m.target, m.technique.specificity());
        if best.as_ref().is_none_or(|b| key(&m) < key(b)) {
            best = Some(m);
        }
    };

    separator_and_homoglyph(&candidate, index, rules, &is_target, &mut consider);
    one_edit_away(&candidate, pop, index, rules, &is_target, &mut consider);
    affixes(&candidate, index, rules, &is_target, &mut consider);
    combination(&candidate, pop, index, rules, &is_target, &mut consider);

    let found = best?;
    let target = &entries[found.target];
    let detail = match found.technique {
        Technique::Combination => found.detail,
        _ => format!("{} {}", found.detail, target.name),
    };
    Some(Suspicion {
        name: normalized,
        resembles: target.name.clone(),
        technique: found.technique,
        detail,
        resembles_downloads: target.downloads,
        snapshot_date: pop.date().to_string(),
    })
}

/// Precomputed forms of the popular names, built once per table. Keys are
/// not copied: the tables hold entry indices and compare against the names
/// (this index is built on every run that checks a name, so it must be cheap).
#[derive(Debug)]
pub(crate) struct NameIndex {
    /// Every name without separators, one after the other.
    stripped_text: String,
    /// End of each entry's separator-free name in `stripped_text`.
    stripped_ends: Vec<u32>,
    /// Separator-free form → most downloaded entry with it.
    by_stripped: HashTable<u32>,
    /// Look-alike skeleton → most downloaded entry with it.
    by_skeleton: HashTable<u32>,
    /// Normalized length → entries, most downloaded first.
    by_len: Vec<Vec<u32>>,
    /// `first-part` of a name (entry, byte length) → how many popular names
    /// start with `first-part-`.
    namespaces: HashTable<Namespace>,
}

#[derive(Debug)]
struct Namespace {
    entry: u32,
    len: u32,
    count: usize,
}

impl NameIndex {
    pub(crate) fn build(pop: &Popularity) -> NameIndex {
        let entries = pop.entries();
        let total: usize = entries.iter().map(|e| e.name.len()).sum();
        let mut index = NameIndex {
            stripped_text: String::with_capacity(total),
            stripped_ends: Vec::with_capacity(entries.len()),
            by_stripped: HashTable::with_capacity(entries.len()),
            by_skeleton: HashTable::with_capacity(entries.len()),
            by_len: Vec::new(),
            namespaces: HashTable::new(),
        };
        let mut folded = String::new();
        for (i, entry) in entries.iter().enumerate() {
            let i = i as u32;
            index.stripped_text.extend(entry.name.split('-'));
            index.stripped_ends.push(index.stripped_text.len() as u32);

            let len = entry.name.len();
            if index.by_len.len() <= len {
                index.by_len.resize(len + 1, Vec::new());
            }
            index.by_len[len].push(i);

            let NameIndex {
                stripped_text,
                stripped_ends,
                by_stripped,
                by_skeleton,
                namespaces,
                ..
            } = &mut index;
            let stripped_of = |j: u32| stripped_at(stripped_text, stripped_ends, j as usize);
            let own = stripped_of(i);
            let hash = hash_str(own);
            if by_stripped.find(hash, |&j| stripped_of(j) == own).is_none() {
                by_stripped.insert_unique(hash, i, |&j| hash_str(stripped_of(j)));
            }
            fold_lookalikes(own, &mut folded);
            let hash = hash_str(&folded);
            let same_skeleton = |j: &u32| folded_bytes(stripped_of(*j)).eq(folded.bytes());
            if by_skeleton.find(hash, same_skeleton).is_none() {
                by_skeleton.insert_unique(hash, i, |&j| {
                    let mut buf = String::new();
                    fold_lookalikes(stripped_of(j), &mut buf);
                    hash_str(&buf)
                });
            }
            for (pos, _) in entry.name.match_indices('-') {
                let first = &entry.name[..pos];
                let hash = hash_str(first);
                let prefix_of = |n: &Namespace| &entries[n.entry as usize].name[..n.len as usize];
                match namespaces.find_mut(hash, |n| prefix_of(n) == first) {
                    Some(n) => n.count += 1,
                    None => {
                        let new = Namespace {
                            entry: i,
                            len: pos as u32,
                            count: 1,
                        };
                        namespaces.insert_unique(hash, new, |n| hash_str(prefix_of(n)));
                    }
                }
            }
        }
        index
    }

    /// Entry `i`'s name without separators.
    fn stripped(&self, i: usize) -> &str {
        stripped_at(&self.stripped_text, &self.stripped_ends, i)
    }

    /// The most downloaded entry with this separator-free name.
    fn find_stripped(&self, stripped: &str) -> Option<usize> {
        self.by_stripped
            .find(hash_str(stripped), |&j| {
                self.stripped(j as usize) == stripped
            })
            .map(|&j| j as usize)
    }

    /// The most downloaded entry with this look-alike skeleton.
    fn find_skeleton(&self, skeleton: &str) -> Option<usize> {
        self.by_skeleton
            .find(hash_str(skeleton), |&j| {
                folded_bytes(self.stripped(j as usize)).eq(skeleton.bytes())
            })
            .map(|&j| j as usize)
    }

    /// How many popular names start with `first-`.
    fn namespace_size(&self, pop: &Popularity, first: &str) -> usize {
        let entries = pop.entries();
        self.namespaces
            .find(hash_str(first), |n| {
                &entries[n.entry as usize].name[..n.len as usize] == first
            })
            .map_or(0, |n| n.count)
    }
}

fn stripped_at<'a>(text: &'a str, ends: &[u32], i: usize) -> &'a str {
    let start = if i == 0 { 0 } else { ends[i - 1] as usize };
    &text[start..ends[i] as usize]
}

struct Candidate<'a> {
    normalized: &'a str,
    stripped: String,
}

impl<'a> Candidate<'a> {
    fn new(normalized: &'a str) -> Self {
        Candidate {
            normalized,
            stripped: strip(normalized),
        }
    }
}

struct Match {
    target: usize,
    technique: Technique,
    detail: String,
}

fn separator_and_homoglyph(
    candidate: &Candidate,
    index: &NameIndex,
    rules: &TyposquatRules,
    is_target: &dyn Fn(usize) -> bool,
    consider: &mut dyn FnMut(Match),
) {
    if let Some(t) = index.find_stripped(&candidate.stripped) {
        if is_target(t) {
            consider(Match {
                target: t,
                technique: Technique::Separator,
                detail: "only changes the separators of".to_string(),
            });
            return;
        }
    }
    let Some(t) = index.find_skeleton(&skeleton(&candidate.stripped)) else {
        return;
    };
    if !is_target(t)
        || index.stripped(t) == candidate.stripped
        || significant_len(index.stripped(t)) < rules.min_swap_len
    {
        return;
    }
    let swaps = lookalike_differences(&candidate.stripped, index.stripped(t));
    consider(Match {
        target: t,
        technique: Technique::Homoglyph,
        detail: swaps,
    });
}

fn one_edit_away(
    candidate: &Candidate,
    pop: &Popularity,
    index: &NameIndex,
    rules: &TyposquatRules,
    is_target: &dyn Fn(usize) -> bool,
    consider: &mut dyn FnMut(Match),
) {
    let len = candidate.normalized.len();
    for target_len in len.saturating_sub(1)..=len + 1 {
        let Some(bucket) = index.by_len.get(target_len) else {
            continue;
        };
        for &t in bucket {
            let t = t as usize;
            let Some(edit) = one_edit(
                candidate.normalized.as_bytes(),
                pop.entries()[t].name.as_bytes(),
            ) else {
                continue;
            };
            let needed = match edit {
                Edit::Swap { .. } => rules.min_swap_len,
                _ => rules.min_edit_len,
            };
            if significant_len(index.stripped(t)) < needed || !is_target(t) {
                continue;
            }
            let technique = match edit {
                Edit::Swap { .. } => Technique::Transposition,
                _ => Technique::EditDistance,
            };
            consider(Match {
                target: t,
                technique,
                detail: edit.describe(),
            });
            // Buckets are sorted by downloads: the first hit is the best here.
            break;
        }
    }
}

fn affixes(
    candidate: &Candidate,
    index: &NameIndex,
    rules: &TyposquatRules,
    is_target: &dyn Fn(usize) -> bool,
    consider: &mut dyn FnMut(Match),
) {
    let s = candidate.stripped.as_str();
    let n = candidate.normalized;
    // `base` is the shorter of the two names, `popular` the one to look up.
    let mut found = |base: &str, popular: &str, affix: &str, detail: String| {
        if base.len() < rules.min_affix_len {
            return;
        }
        // `cu11` + `1` is the next series of a numbered name, not a decoration.
        if affix.starts_with(|c: char| c.is_ascii_digit())
            && base.ends_with(|c: char| c.is_ascii_digit())
        {
            return;
        }
        if let Some(t) = index.find_stripped(popular) {
            if is_target(t) {
                consider(Match {
                    target: t,
                    technique: Technique::Affix,
                    detail,
                });
            }
        }
    };
    for prefix in PREFIXES {
        if let Some(rest) = s.strip_prefix(prefix) {
            let shown = as_written_prefix(n, prefix);
            found(rest, rest, prefix, format!("adds \"{shown}\" in front of"));
        }
        let longer = format!("{prefix}{s}");
        found(s, &longer, prefix, format!("leaves \"{prefix}\" out of"));
    }
    for suffix in SUFFIXES {
        if let Some(rest) = s.strip_suffix(suffix) {
            let shown = as_written_suffix(n, suffix);
            found(
                rest,
                rest,
                suffix,
                format!("adds \"{shown}\" to the end of"),
            );
        }
    }
    for suffix in REMOVED_SUFFIXES {
        let longer = format!("{s}{suffix}");
        found(s, &longer, suffix, format!("leaves \"{suffix}\" off"));
    }
}

fn combination(
    candidate: &Candidate,
    pop: &Popularity,
    index: &NameIndex,
    rules: &TyposquatRules,
    is_target: &dyn Fn(usize) -> bool,
    consider: &mut dyn FnMut(Match),
) {
    let n = candidate.normalized;
    for (pos, _) in n.match_indices('-') {
        let (left, right) = (&n[..pos], &n[pos + 1..]);
        if index.namespace_size(pop, left) >= rules.namespace_size {
            continue;
        }
        if significant_len(&strip(left)) < rules.min_affix_len
            || significant_len(&strip(right)) < rules.min_affix_len
        {
            continue;
        }
        let (Some(l), Some(r)) = (
            popular_part(left, pop, index),
            popular_part(right, pop, index),
        ) else {
            continue;
        };
        let entries = pop.entries();
        let popular_enough = |i: usize| entries[i].downloads >= rules.min_combination_downloads;
        if l == r || !(is_target(l) && is_target(r) && popular_enough(l) && popular_enough(r)) {
            continue;
        }
        consider(Match {
            target: l.min(r),
            technique: Technique::Combination,
            detail: format!(
                "joins the names of two popular projects, {} and {}",
                entries[l].name, entries[r].name
            ),
        });
    }
}

/// The popular project a part of a combined name stands for: its exact name
/// or, when more downloaded, the name with a series number
/// (`beautifulsoup` → `beautifulsoup4`).
fn popular_part(part: &str, pop: &Popularity, index: &NameIndex) -> Option<usize> {
    let stripped = strip(part);
    let numbered = REMOVED_SUFFIXES
        .iter()
        .filter(|s| s.starts_with(|c: char| c.is_ascii_digit()))
        .filter_map(|s| index.find_stripped(&format!("{stripped}{s}")));
    pop.index_of(part).into_iter().chain(numbered).min()
}

/// Letters and digits that tell a name apart: a leading `python` or `py`
/// is not counted.
fn significant_len(stripped: &str) -> usize {
    let rest = PREFIXES
        .iter()
        .find_map(|p| stripped.strip_prefix(p).filter(|r| !r.is_empty()))
        .unwrap_or(stripped);
    rest.len()
}

/// The normalized name with every separator removed.
fn strip(normalized: &str) -> String {
    normalized.replace('-', "")
}

/// Look-alike characters folded to one representative.
fn skeleton(stripped: &str) -> String {
    let mut out = String::new();
    fold_lookalikes(stripped, &mut out);
    out
}

/// [`skeleton`] into a reused buffer.
fn fold_lookalikes(stripped: &str, out: &mut String) {
    out.clear();
    out.extend(folded_bytes(stripped).map(char::from));
}

/// The skeleton byte by byte (the same folding as [`lookalike_tokens`]).
/// Names are ASCII; any other byte is folded to `?`.
fn folded_bytes(stripped: &str) -> impl Iterator<Item = u8> + '_ {
    let bytes = stripped.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let (folded, width) = match (*bytes.get(i)?, bytes.get(i + 1).copied()) {
            (b'r', Some(b'n')) => (b'm', 2),
            (b'v', Some(b'v')) => (b'w', 2),
            (b'0', _) => (b'o', 1),
            (b'1' | b'i', _) => (b'l', 1),
            (c, _) if c.is_ascii() => (c, 1),
            _ => (b'?', 1),
        };
        i += width;
        Some(folded)
    })
}

/// Split into (folded character, original text) tokens.
fn lookalike_tokens(s: &str) -> impl Iterator<Item = (char, &str)> {
    let mut rest = s;
    std::iter::from_fn(move || {
        let c = rest.chars().next()?;
        let (folded, width) = if rest.starts_with("rn") {
            ('m', 2)
        } else if rest.starts_with("vv") {
            ('w', 2)
        } else {
            let folded = match c {
                '0' => 'o',
                '1' | 'i' => 'l',
                other => other,
            };
            (folded, c.len_utf8())
        };
        let (token, tail) = rest.split_at(width);
        rest = tail;
        Some((folded, token))
    })
}

/// `writes "0" for "o" in` — which look-alikes differ between two names with
/// the same skeleton.
fn lookalike_differences(candidate: &str, target: &str) -> String {
    let pairs: Vec<String> = lookalike_tokens(candidate)
        .zip(lookalike_tokens(target))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((_, a), (_, b))| format!("\"{a}\" for \"{b}\""))
        .collect();
    format!("writes {} in", pairs.join(" and "))
}

/// The prefix as the user wrote it, with its separator (`python-`).
fn as_written_prefix(normalized: &str, prefix: &str) -> String {
    match normalized.strip_prefix(prefix) {
        Some(rest) if rest.starts_with('-') => format!("{prefix}-"),
        _ => prefix.to_string(),
    }
}

fn as_written_suffix(normalized: &str, suffix: &str) -> String {
    match normalized.strip_suffix(suffix) {
        Some(rest) if rest.ends_with('-') => format!("-{suffix}"),
        _ => suffix.to_string(),
    }
}

/// One edit that turns the target into the candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Edit {
    /// The candidate has an extra character.
    Insert { added: u8 },
    /// The candidate lacks one of the target's characters.
    Delete { removed: u8 },
    /// One character differs.
    Substitute { written: u8, expected: u8 },
    /// Two neighbouring characters are swapped.
    Swap { written: [u8; 2] },
}

impl Edit {
    /// Completed by the caller with the target's name.
    fn describe(self) -> String {
        let ch = |b: u8| char::from(b);
        match self {
            Edit::Insert { added } => format!("adds \"{}\" to", ch(added)),
            Edit::Delete { removed } => format!("leaves \"{}\" out of", ch(removed)),
            Edit::Substitute { written, expected } => {
                format!("writes \"{}\" for \"{}\" in", ch(written), ch(expected))
            }
            Edit::Swap { written } => format!(
                "swaps two letters (\"{}{}\" for \"{}{}\") of",
                ch(written[0]),
                ch(written[1]),
                ch(written[1]),
                ch(written[0])
            ),
        }
    }
}

/// The single edit (optimal string alignment distance 1) from `target` to
/// `candidate`, if there is exactly one.
fn one_edit(candidate: &[u8], target: &[u8]) -> Option<Edit> {
    if candidate == target {
        return None;
    }
    let prefix = candidate
        .iter()
        .zip(target)
        .take_while(|(a, b)| a == b)
        .count();
    let (c_rest, t_rest) = (&candidate[prefix..], &target[prefix..]);
    match candidate.len() as isize - target.len() as isize {
        0 => {
            if c_rest[1..] == t_rest[1..] {
                Some(Edit::Substitute {
                    written: c_rest[0],
                    expected: t_rest[0],
                })
            } else if c_rest.len() >= 2
                && c_rest[0] == t_rest[1]
                && c_rest[1] == t_rest[0]
                && c_rest[2..] == t_rest[2..]
            {
                Some(Edit::Swap {
                    written: [c_rest[0], c_rest[1]],
                })
            } else {
                None
            }
        }
        1 => (c_rest[1..] == *t_rest).then_some(Edit::Insert { added: c_rest[0] }),
        -1 => (*c_rest == t_rest[1..]).then_some(Edit::Delete { removed: t_rest[0] }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_edit_classifies() {
        let e = |a: &str, b: &str| one_edit(a.as_bytes(), b.as_bytes());
        assert_eq!(
            e("reqeusts", "requests"),
            Some(Edit::Swap { written: *b"eu" })
        );
        assert_eq!(e("numpyy", "numpy"), Some(Edit::Insert { added: b'y' }));
        assert_eq!(e("urlib3", "urllib3"), Some(Edit::Delete { removed: b'l' }));
        assert_eq!(
            e("djanga", "django"),
            Some(Edit::Substitute {
                written: b'a',
                expected: b'o'
            })
        );
        assert_eq!(e("requests", "requests"), None);
        assert_eq!(e("reqsuets", "requests"), None);
        assert_eq!(e("ab", "abcd"), None);
        assert_eq!(e("", "a"), Some(Edit::Delete { removed: b'a' }));
    }

    #[test]
    fn skeleton_folds_lookalikes() {
        assert_eq!(skeleton("crypt0graphy"), skeleton("cryptography"));
        assert_eq!(skeleton("rnatplotlib"), skeleton("matplotlib"));
        assert_eq!(skeleton("f1ask"), skeleton("flask"));
        assert_eq!(skeleton("vvheel"), skeleton("wheel"));
        for name in ["crypt0graphy", "rnatp1otlib", "vvheel", "mississippi", "x"] {
            let by_tokens: String = lookalike_tokens(name).map(|(f, _)| f).collect();
            assert_eq!(skeleton(name), by_tokens);
        }
        assert_ne!(skeleton("flask"), skeleton("flash"));
        assert_eq!(
            lookalike_differences("rnatp1otlib", "matplotlib"),
            "writes \"rn\" for \"m\" and \"1\" for \"l\" in"
        );
    }
}
