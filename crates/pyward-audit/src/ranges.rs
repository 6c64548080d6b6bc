//! Which versions an advisory affects: OSV `ECOSYSTEM` ranges (introduced,
//! fixed, last_affected, limit; "0" meaning "from the first release") and
//! explicit `versions` lists, compared with PEP 440 semantics. Local version
//! labels (`+cpu`) are ignored: a local build of 1.0 is 1.0's code.

use std::cmp::Ordering;
use std::str::FromStr;

use pyward_dist::Version;
use serde::{Deserialize, Serialize};

use crate::osv::OsvAffected;

/// One range event as stored. Versions are kept as their normalized PEP 440
/// string; `Introduced(None)` is OSV's `introduced: "0"`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Event {
    Introduced(Option<String>),
    Fixed(String),
    LastAffected(String),
    Limit(String),
}

/// What one OSV `affected[]` entry says about one package, cleaned for storage:
/// ranges with parseable, sorted events; listed versions that the ranges do
/// not already cover.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AffectedSet {
    pub ranges: Vec<Vec<Event>>,
    pub versions: Vec<String>,
}

/// Parse a version as PEP 440's normalization allows (`v1.0`, `0.8.0-alpha2`,
/// `2.0.0-rc.1`, surrounding spaces).
pub(crate) fn parse_version(text: &str) -> Option<Version> {
    Version::from_str(text.trim()).ok()
}

impl AffectedSet {
    /// Clean one OSV `affected[]` entry. Returns the set and the number of
    /// versions or events that could not be parsed (and were dropped).
    pub fn from_osv(affected: &OsvAffected) -> (AffectedSet, usize) {
        let mut dropped = 0;
        let mut ranges = Vec::new();
        for range in &affected.ranges {
            if !range.kind.eq_ignore_ascii_case("ECOSYSTEM") {
                continue;
            }
            let mut events: Vec<(Option<Version>, Event)> = Vec::new();
            for event in &range.events {
                let parsed = match (
                    &event.introduced,
                    &event.fixed,
                    &event.last_affected,
                    &event.limit,
                ) {
                    (Some(i), None, None, None) if i.trim() == "0" => {
                        Some((None, Event::Introduced(None)))
                    }
                    (Some(i), None, None, None) => parse_version(i)
                        .map(|v| (Some(v.clone()), Event::Introduced(Some(v.to_string())))),
                    (None, Some(f), None, None) => {
                        parse_version(f).map(|v| (Some(v.clone()), Event::Fixed(v.to_string())))
                    }
                    (None, None, Some(l), None) => parse_version(l)
                        .map(|v| (Some(v.clone()), Event::LastAffected(v.to_string()))),
                    (None, None, None, Some(l)) if l.trim() == "*" => None,
                    (None, None, None, Some(l)) => {
                        parse_version(l).map(|v| (Some(v.clone()), Event::Limit(v.to_string())))
                    }
                    _ => None,
                };
                match parsed {
                    Some(e) => events.push(e),
                    None => dropped += 1,
                }
            }
            // "0" sorts first; the rest in PEP 440 order; ties keep their order.
            events.sort_by(|(a, _), (b, _)| match (a, b) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => a.cmp(b),
            });
            let events: Vec<Event> = events.into_iter().map(|(_, e)| e).collect();
            if events.iter().any(|e| matches!(e, Event::Introduced(_))) {
                ranges.push(events);
            }
        }
        let mut set = AffectedSet {
            ranges,
            versions: Vec::new(),
        };
        let parsed_ranges = set.parsed();
        let mut versions: Vec<Version> = Vec::new();
        for text in &affected.versions {
            match parse_version(text) {
                Some(v) if !parsed_ranges.affects(&v) && !versions.contains(&v) => versions.push(v),
                Some(_) => {}
                None => dropped += 1,
            }
        }
        versions.sort();
        set.versions = versions.iter().map(ToString::to_string).collect();
        (set, dropped)
    }

    /// The set with its versions parsed, ready for repeated matching. Strings
    /// that no longer parse (a damaged store) are left out.
    pub fn parsed(&self) -> ParsedSet {
        let ranges = self
            .ranges
            .iter()
            .map(|range| {
                range
                    .iter()
                    .filter_map(|event| match event {
                        Event::Introduced(None) => Some(ParsedEvent::IntroducedAtStart),
                        Event::Introduced(Some(v)) => parse_version(v).map(ParsedEvent::Introduced),
                        Event::Fixed(v) => parse_version(v).map(ParsedEvent::Fixed),
                        Event::LastAffected(v) => parse_version(v).map(ParsedEvent::LastAffected),
                        Event::Limit(v) => parse_version(v).map(ParsedEvent::Limit),
                    })
                    .collect()
            })
            .collect();
        let versions = self
            .versions
            .iter()
            .filter_map(|v| parse_version(v))
            .collect();
        ParsedSet { ranges, versions }
    }
}

#[derive(Debug, Clone)]
pub(crate) enum ParsedEvent {
    IntroducedAtStart,
    Introduced(Version),
    Fixed(Version),
    LastAffected(Version),
    Limit(Version),
}

/// An [`AffectedSet`] with parsed versions. Events are in stored (sorted) order.
#[derive(Debug, Clone, Default)]
pub(crate) struct ParsedSet {
    pub ranges: Vec<Vec<ParsedEvent>>,
    pub versions: Vec<Version>,
}

impl ParsedSet {
    /// Whether `version` is affected: listed explicitly or inside a range.
    pub fn affects(&self, version: &Version) -> bool {
        let public = version.clone().without_local();
        let listed = self.versions.iter().any(|v| {
            if v.is_local() {
                v == version
            } else {
                *v == public
            }
        });
        listed || self.ranges.iter().any(|r| range_affects(r, &public))
    }

    /// Every `fixed` version of every range.
    pub fn fixed_versions(&self) -> impl Iterator<Item = &Version> {
        self.ranges.iter().flatten().filter_map(|e| match e {
            ParsedEvent::Fixed(v) => Some(v),
            _ => None,
        })
    }
}

/// OSV's evaluation of one range with sorted events.
fn range_affects(events: &[ParsedEvent], version: &Version) -> bool {
    let mut limits = events
        .iter()
        .filter_map(|e| match e {
            ParsedEvent::Limit(l) => Some(l),
            _ => None,
        })
        .peekable();
    if limits.peek().is_some() && !limits.any(|l| version < l) {
        return false;
    }
    let mut vulnerable = false;
    for event in events {
        match event {
            ParsedEvent::IntroducedAtStart => vulnerable = true,
            ParsedEvent::Introduced(v) if version >= v => vulnerable = true,
            ParsedEvent::Fixed(v) if version >= v => vulnerable = false,
            ParsedEvent::LastAffected(v) if version > v => vulnerable = false,
            _ => {}
        }
    }
    vulnerable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::{parse_record, Format};

    /// The affected set of a one-package record written as YAML.
    fn set(yaml_affected: &str) -> (ParsedSet, usize) {
        let yaml = format!("id: T-1\naffected:\n{yaml_affected}");
        let record = parse_record(yaml.as_bytes(), Format::Yaml, "t").unwrap();
        let (set, dropped) = AffectedSet::from_osv(&record.affected[0]);
        (set.parsed(), dropped)
    }

    fn v(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    fn range(events: &str) -> ParsedSet {
        set(&format!(
            "- package: {{ecosystem: PyPI, name: p}}\n  ranges:\n  - type: ECOSYSTEM\n    events: {events}\n"
        ))
        .0
    }

    #[test]
    fn introduced_zero_and_fixed() {
        let s = range(r#"[{introduced: "0"}, {fixed: "2.0"}]"#);
        for affected in [
            "0", "0.0.dev0", "0a1", "1.9.9", "2.0rc1", "2.0.dev3", "2.0a1",
        ] {
            assert!(s.affects(&v(affected)), "{affected}");
        }
        for safe in ["2.0", "2.0.0", "2.0.post1", "2.1", "10"] {
            assert!(!s.affects(&v(safe)), "{safe}");
        }
    }

    #[test]
    fn introduced_is_inclusive_and_post_releases_count_as_later() {
        let s = range(r#"[{introduced: "1.5"}, {fixed: "1.5.3"}]"#);
        assert!(!s.affects(&v("1.4.9")));
        assert!(!s.affects(&v("1.5rc1")));
        assert!(s.affects(&v("1.5")));
        assert!(s.affects(&v("1.5.2.post1")));
        assert!(!s.affects(&v("1.5.3")));
    }

    #[test]
    fn last_affected_is_inclusive() {
        let s = range(r#"[{introduced: "0"}, {last_affected: "3.1"}]"#);
        assert!(s.affects(&v("3.1")));
        assert!(s.affects(&v("3.1.0")));
        assert!(s.affects(&v("3.1+ubuntu1")));
        assert!(!s.affects(&v("3.1.post1")));
        assert!(!s.affects(&v("3.1.1")));
    }

    #[test]
    fn local_versions_compare_as_their_public_version() {
        let s = range(r#"[{introduced: "0"}, {fixed: "1.0.1"}]"#);
        assert!(s.affects(&v("1.0+cpu")));
        assert!(!s.affects(&v("1.0.1+cpu")));
    }

    #[test]
    fn unsorted_events_with_two_branches() {
        // As in urllib3's PYSEC-2023-192: the 2.x branch is listed first.
        let s =
            range(r#"[{introduced: 2.0.0}, {fixed: 2.0.6}, {introduced: "0"}, {fixed: 1.26.17}]"#);
        for affected in ["1.26.0", "1.26.16", "2.0.0", "2.0.5"] {
            assert!(s.affects(&v(affected)), "{affected}");
        }
        for safe in ["1.26.17", "1.26.20", "2.0.6", "2.1"] {
            assert!(!s.affects(&v(safe)), "{safe}");
        }
        let fixes: Vec<String> = s.fixed_versions().map(ToString::to_string).collect();
        assert_eq!(fixes, ["1.26.17", "2.0.6"]);
    }

    #[test]
    fn limit_bounds_a_range() {
        let s = range(r#"[{introduced: "0"}, {limit: "2.0"}]"#);
        assert!(s.affects(&v("1.9")));
        assert!(!s.affects(&v("2.0")));
        assert!(!s.affects(&v("3.0")));
    }

    #[test]
    fn explicit_versions_are_parsed_leniently() {
        let (s, dropped) = set(
            "- package: {ecosystem: PyPI, name: p}\n  versions: [0.8.0-alpha2, '2.0', v3.1, 1.0-beta1, 2.0-dev-9429, 1.0.0-SNAPSHOT, trunk]\n",
        );
        assert_eq!(dropped, 2, "1.0.0-SNAPSHOT and trunk are not PEP 440");
        assert!(s.affects(&v("0.8.0a2")));
        assert!(s.affects(&v("2.0.0")), "2.0 == 2.0.0 under PEP 440");
        assert!(s.affects(&v("2.0+local")));
        assert!(s.affects(&v("3.1")));
        assert!(s.affects(&v("1.0b1")));
        assert!(s.affects(&v("2.0.dev9429")));
        assert!(!s.affects(&v("0.8.0")));
        assert!(!s.affects(&v("2.0.1")));
    }

    #[test]
    fn versions_covered_by_ranges_are_not_stored_twice() {
        let yaml = "id: T-1\naffected:\n- package: {ecosystem: PyPI, name: p}\n  ranges:\n  - type: ECOSYSTEM\n    events: [{introduced: '0'}, {fixed: '1.0'}]\n  versions: ['0.5', '0.9', '1.5']\n";
        let record = parse_record(yaml.as_bytes(), Format::Yaml, "t").unwrap();
        let (stored, _) = AffectedSet::from_osv(&record.affected[0]);
        assert_eq!(stored.versions, ["1.5"]);
        assert!(stored.parsed().affects(&v("0.5")));
        assert!(stored.parsed().affects(&v("1.5")));
    }

    #[test]
    fn git_ranges_are_ignored_and_bad_events_dropped() {
        let (s, dropped) = set(concat!(
            "- package: {ecosystem: PyPI, name: p}\n  ranges:\n",
            "  - type: GIT\n    repo: https://example.invalid/r\n    events: [{introduced: '0'}, {fixed: abc123}]\n",
            "  - type: ECOSYSTEM\n    events: [{introduced: '1.0', fixed: '2.0'}, {introduced: not-a-version}, {introduced: '3.0'}, {fixed: '3.2'}]\n",
        ));
        assert_eq!(dropped, 2);
        assert!(!s.affects(&v("1.5")));
        assert!(s.affects(&v("3.1")));
        assert!(!s.affects(&v("3.2")));
    }
}
