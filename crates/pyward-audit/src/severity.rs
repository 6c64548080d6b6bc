//! How serious an advisory is: CVSS v3.x and v4.0 vectors scored to a base
//! score with the `cvss` crate and rated on the CVSS bands, else the
//! database's own rating (GHSA `LOW|MODERATE|HIGH|CRITICAL`), else unknown.

use std::str::FromStr;

use pyward_guard::Severity;
use serde::{Deserialize, Serialize};

use crate::osv::OsvRecord;

/// Where a severity rating came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SeveritySource {
    /// Scored from a CVSS v3.0 or v3.1 vector.
    CvssV3,
    /// Scored from a CVSS v4.0 vector.
    CvssV4,
    /// The advisory database's own rating, without a score.
    Database,
    /// The advisory gives no severity.
    Unknown,
}

/// A rating, its CVSS base score when there is one, and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeverityScore {
    pub rating: Option<Severity>,
    pub score: Option<f64>,
    pub source: SeveritySource,
}

impl SeverityScore {
    pub const UNKNOWN: SeverityScore = SeverityScore {
        rating: None,
        score: None,
        source: SeveritySource::Unknown,
    };

    /// Score a CVSS v3.0, v3.1 or v4.0 vector (`CVSS:3.1/AV:N/...`). `None` for
    /// other versions and for vectors that do not parse.
    pub fn from_cvss_vector(vector: &str) -> Option<SeverityScore> {
        let parsed = cvss::Cvss::from_str(vector.trim()).ok()?;
        let source = match parsed {
            cvss::Cvss::CvssV30(_) | cvss::Cvss::CvssV31(_) => SeveritySource::CvssV3,
            cvss::Cvss::CvssV40(_) => SeveritySource::CvssV4,
            _ => return None,
        };
        let score = parsed.score();
        Some(SeverityScore {
            rating: Some(rating_for_score(score)),
            score: Some(score),
            source,
        })
    }

    /// A database rating such as GHSA's `MODERATE`.
    pub fn from_database_rating(rating: &str) -> Option<SeverityScore> {
        Severity::parse(rating.trim()).map(|rating| SeverityScore {
            rating: Some(rating),
            score: None,
            source: SeveritySource::Database,
        })
    }

    /// The most informative severity of one OSV record: the highest-scoring
    /// CVSS vector (record level, then per package), else the database rating.
    pub(crate) fn of_record(record: &OsvRecord) -> SeverityScore {
        let vectors = record
            .severity
            .iter()
            .chain(record.affected.iter().flat_map(|a| a.severity.iter()));
        let best_cvss = vectors
            .filter(|s| s.kind.to_ascii_uppercase().starts_with("CVSS_V"))
            .filter_map(|s| SeverityScore::from_cvss_vector(&s.score))
            .reduce(|a, b| if b.worse_than(&a) { b } else { a });
        best_cvss
            .or_else(|| {
                record
                    .database_severity()
                    .and_then(SeverityScore::from_database_rating)
            })
            .unwrap_or(SeverityScore::UNKNOWN)
    }

    /// Whether `self` says more (scored beats rated beats unknown) or worse.
    pub(crate) fn worse_than(&self, other: &SeverityScore) -> bool {
        let informativeness = |s: &SeverityScore| match s.source {
            SeveritySource::CvssV3 | SeveritySource::CvssV4 => 2,
            SeveritySource::Database => 1,
            SeveritySource::Unknown => 0,
        };
        let key = |s: &SeverityScore| (informativeness(s), s.rating, s.score.unwrap_or(0.0));
        let (a, b) = (key(self), key(other));
        (a.0, a.1) > (b.0, b.1) || ((a.0, a.1) == (b.0, b.1) && a.2 > b.2)
    }
}

/// The CVSS qualitative bands (the same for v3 and v4): 0 None, 0.1–3.9 Low,
/// 4.0–6.9 Medium, 7.0–8.9 High, 9.0–10 Critical. "None" maps to `Info`.
pub fn rating_for_score(score: f64) -> Severity {
    if score < 0.1 {
        Severity::Info
    } else if score < 4.0 {
        Severity::Low
    } else if score < 7.0 {
        Severity::Moderate
    } else if score < 9.0 {
        Severity::High
    } else {
        Severity::Critical
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(vector: &str) -> (f64, Severity, SeveritySource) {
        let s = SeverityScore::from_cvss_vector(vector).unwrap();
        (s.score.unwrap(), s.rating.unwrap(), s.source)
    }

    /// Examples from the CVSS v3.1 specification's examples document
    /// (first.org), each with its published base score.
    #[test]
    fn cvss_v31_specification_examples() {
        let cases = [
            // CVE-2014-0160 (Heartbleed)
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
                7.5,
                Severity::High,
            ),
            // CVE-2013-1937 (phpMyAdmin reflected XSS)
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                6.1,
                Severity::Moderate,
            ),
            // CVE-2014-6271 (Shellshock)
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                9.8,
                Severity::Critical,
            ),
            // CVE-2015-1098 (Apple iWork)
            (
                "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                7.8,
                Severity::High,
            ),
            // CVE-2014-2005 (Sophos login screen bypass)
            (
                "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
                6.8,
                Severity::Moderate,
            ),
            // CVE-2012-5376 (Chrome IPC sandbox escape)
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H",
                9.6,
                Severity::Critical,
            ),
            // CVE-2016-1645 (Chrome/PDFium)
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                8.8,
                Severity::High,
            ),
            // CVE-2013-0375 (MySQL stored SQL injection)
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
                6.4,
                Severity::Moderate,
            ),
            // CVE-2009-0658 (Adobe Acrobat buffer overflow)
            (
                "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
                7.8,
                Severity::High,
            ),
            // CVE-2010-0467 (Joomla directory traversal)
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N",
                5.8,
                Severity::Moderate,
            ),
            // CVE-2014-3566 (SSLv3 POODLE)
            (
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N",
                3.1,
                Severity::Low,
            ),
            // CVE-2012-1516 (VMware guest to host escape)
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
                9.9,
                Severity::Critical,
            ),
            // CVE-2008-1447 (DNS cache poisoning)
            (
                "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:C/C:N/I:H/A:N",
                6.8,
                Severity::Moderate,
            ),
            // CVE-2012-0384 (Cisco IOS command injection)
            (
                "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
                8.8,
                Severity::High,
            ),
        ];
        for (vector, expected, rating) in cases {
            let (got, got_rating, source) = score(vector);
            assert_eq!(got, expected, "{vector}");
            assert_eq!(got_rating, rating, "{vector}");
            assert_eq!(source, SeveritySource::CvssV3);
        }
    }

    #[test]
    fn cvss_v30_and_no_impact() {
        assert_eq!(score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").0, 9.8);
        let none = score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N");
        assert_eq!((none.0, none.1), (0.0, Severity::Info));
    }

    /// v4.0 vectors with the scores FIRST's calculator gives (cross-checked
    /// with an independent implementation of the v4.0 MacroVector scoring).
    #[test]
    fn cvss_v40_examples() {
        let cases = [
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:H/SI:H/SA:H",
                10.0,
                Severity::Critical,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
                Severity::Critical,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:N/UI:A/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N",
                4.6,
                Severity::Moderate,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
                0.0,
                Severity::Info,
            ),
            (
                "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                8.5,
                Severity::High,
            ),
            (
                "CVSS:4.0/AV:N/AC:H/AT:P/PR:L/UI:P/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N",
                2.1,
                Severity::Low,
            ),
            (
                "CVSS:4.0/AV:A/AC:L/AT:N/PR:N/UI:N/VC:N/VI:L/VA:N/SC:H/SI:N/SA:H",
                6.4,
                Severity::Moderate,
            ),
        ];
        for (vector, expected, rating) in cases {
            let (got, got_rating, source) = score(vector);
            assert_eq!(got, expected, "{vector}");
            assert_eq!(got_rating, rating, "{vector}");
            assert_eq!(source, SeveritySource::CvssV4);
        }
    }

    #[test]
    fn bad_and_unsupported_vectors_give_none() {
        for vector in [
            "",
            "CVSS:3.1/AV:X/AC:L",
            "AV:N/AC:M/Au:N/C:P/I:P/A:P",
            "CVSS:9.9/AV:N",
            "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N",
        ] {
            assert_eq!(SeverityScore::from_cvss_vector(vector), None, "{vector}");
        }
    }

    #[test]
    fn bands() {
        assert_eq!(rating_for_score(0.1), Severity::Low);
        assert_eq!(rating_for_score(3.9), Severity::Low);
        assert_eq!(rating_for_score(4.0), Severity::Moderate);
        assert_eq!(rating_for_score(6.9), Severity::Moderate);
        assert_eq!(rating_for_score(7.0), Severity::High);
        assert_eq!(rating_for_score(8.9), Severity::High);
        assert_eq!(rating_for_score(9.0), Severity::Critical);
    }
}
