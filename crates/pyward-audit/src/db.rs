//! The advisory database as callers see it: the downloaded store or the
//! embedded snapshot, its status (origin, date, size, staleness), the
//! vulnerabilities of one installed version, and the smallest safe upgrade.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::path::Path;

use jiff::civil::Date;
use jiff::Timestamp;
use pyward_dist::{PackageName, Version};

use crate::ranges::ParsedSet;
use crate::severity::SeverityScore;
use crate::store::{Store, StoreMeta, StoredVuln};
use crate::{AuditError, STORE_FILE_NAME};

/// The snapshot compiled into pyward, used until `pyward db update` has run.
static EMBEDDED: &[u8] = include_bytes!("../data/advisories.pwdb");

/// Data older than this many days is called out as stale.
pub const STALE_AFTER_DAYS: i64 = 30;

/// Where the data in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The snapshot built into pyward.
    Embedded,
    /// Downloaded or imported by `pyward db update` from a URL, zip or directory.
    Downloaded { from: String },
}

/// What `pyward db status` shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DbStatus {
    pub source: DataSource,
    /// The day the most recently modified record was last changed: the date
    /// the data is current to. `None` only if no record carried a date.
    pub newest_record: Option<Date>,
    /// OSV records kept (withdrawn records and other ecosystems excluded).
    pub records: usize,
    /// Distinct packages with at least one advisory.
    pub packages: usize,
    /// When the store was written.
    pub updated_at: Timestamp,
    /// Records that could not be read (malformed JSON/YAML, missing fields).
    pub skipped_records: usize,
    /// Version strings or package names in otherwise good records that could
    /// not be parsed and were left out.
    pub skipped_versions: usize,
}

impl DbStatus {
    pub(crate) fn from_meta(meta: &StoreMeta, source: DataSource) -> DbStatus {
        DbStatus {
            source,
            newest_record: meta
                .newest_record
                .as_deref()
                .and_then(|d| d.parse::<Date>().ok()),
            records: meta.records as usize,
            packages: meta.packages as usize,
            updated_at: Timestamp::from_second(meta.updated_at).unwrap_or(Timestamp::UNIX_EPOCH),
            skipped_records: meta.skipped_records as usize,
            skipped_versions: meta.skipped_versions as usize,
        }
    }

    /// Whole days from the newest record to `now` (UTC).
    pub fn age_days(&self, now: Timestamp) -> Option<i64> {
        let newest = self.newest_record?;
        let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        let span = newest.until(today).ok()?;
        Some(i64::from(span.get_days()))
    }

    /// Whether the data is more than [`STALE_AFTER_DAYS`] old at `now` (or
    /// carries no date at all).
    pub fn is_stale(&self, now: Timestamp) -> bool {
        self.age_days(now)
            .is_none_or(|days| days > STALE_AFTER_DAYS)
    }
}

/// One known vulnerability (or malware report) affecting one installed version.
/// Records that alias each other (PYSEC, GHSA, CVE…) are one vulnerability.
#[derive(Debug, Clone, PartialEq)]
pub struct Vulnerability {
    /// The preferred id: PYSEC, else GHSA, else MAL, else another.
    pub id: String,
    /// Every other id of the same vulnerability.
    pub aliases: Vec<String>,
    /// One line in plain words.
    pub summary: String,
    /// A page with the full advisory.
    pub details_url: String,
    pub severity: SeverityScore,
    /// Released versions that fix it, smallest first; empty if no fix is known.
    /// Each is above the installed version and itself unaffected.
    pub fixed_in: Vec<Version>,
    /// The package is known malware rather than vulnerable code.
    pub malware: bool,
}

/// An opened advisory database.
#[derive(Debug, Clone)]
pub struct AdvisoryDb {
    store: Store,
    source: DataSource,
}

impl AdvisoryDb {
    /// The snapshot compiled into pyward.
    pub fn embedded() -> AdvisoryDb {
        let store = Store::decode(Cow::Borrowed(EMBEDDED)).unwrap_or_else(|_| {
            // Unreachable for a released binary (a test decodes the snapshot);
            // an empty database reports zero records rather than panicking.
            Store::empty()
        });
        AdvisoryDb {
            store,
            source: DataSource::Embedded,
        }
    }

    /// The database `pyward db update` wrote into `data_dir`, if there is one.
    pub fn open(data_dir: &Path) -> Result<Option<AdvisoryDb>, AuditError> {
        let path = data_dir.join(STORE_FILE_NAME);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(AuditError::io(&path, e)),
        };
        let store = Store::decode(Cow::Owned(bytes))?;
        let source = DataSource::Downloaded {
            from: store.meta.from.clone(),
        };
        Ok(Some(AdvisoryDb { store, source }))
    }

    /// The downloaded database if there is one, else the embedded snapshot. A
    /// downloaded database that cannot be read is an error, not a silent fallback.
    pub fn load(data_dir: &Path) -> Result<AdvisoryDb, AuditError> {
        Ok(AdvisoryDb::open(data_dir)?.unwrap_or_else(AdvisoryDb::embedded))
    }

    #[cfg(test)]
    pub(crate) fn from_store_bytes(bytes: Vec<u8>) -> Result<AdvisoryDb, AuditError> {
        let store = Store::decode(Cow::Owned(bytes))?;
        let source = DataSource::Downloaded {
            from: store.meta.from.clone(),
        };
        Ok(AdvisoryDb { store, source })
    }

    pub fn status(&self) -> DbStatus {
        let mut status = DbStatus::from_meta(&self.store.meta, self.source.clone());
        status.packages = self.store.package_count();
        status
    }

    /// The known vulnerabilities and malware reports affecting `version` of
    /// `name`, most severe first. An error means the store is damaged.
    pub fn vulnerabilities(
        &self,
        name: &PackageName,
        version: &Version,
    ) -> Result<Vec<Vulnerability>, AuditError> {
        let known = self.known(name)?;
        let mut found: Vec<Vulnerability> = known
            .iter()
            .filter(|k| k.affects(version))
            .map(|k| k.describe(version))
            .collect();
        found.sort_by(|a, b| {
            (
                b.malware,
                b.severity.rating,
                b.severity.score.unwrap_or(0.0),
            )
                .partial_cmp(&(
                    a.malware,
                    a.severity.rating,
                    a.severity.score.unwrap_or(0.0),
                ))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(found)
    }

    /// For `audit fix`: the smallest of `available` that is at least `current`,
    /// passes `allowed` (the user's constraints) and that no known
    /// vulnerability affects. Pre-releases are considered only when `current`
    /// is one. `None` when no such version exists.
    pub fn smallest_safe_version(
        &self,
        name: &PackageName,
        current: &Version,
        available: &[Version],
        allowed: impl Fn(&Version) -> bool,
    ) -> Result<Option<Version>, AuditError> {
        let known = self.known(name)?;
        let mut candidates: Vec<&Version> = available
            .iter()
            .filter(|v| *v >= current)
            .filter(|v| !v.any_prerelease() || current.any_prerelease())
            .collect();
        candidates.sort();
        Ok(candidates
            .into_iter()
            .find(|v| allowed(v) && !known.iter().any(|k| k.affects(v)))
            .cloned())
    }

    fn known(&self, name: &PackageName) -> Result<Vec<Known>, AuditError> {
        Ok(self
            .store
            .package(name.as_ref())?
            .into_iter()
            .map(Known::new)
            .collect())
    }
}

/// A stored vulnerability with its version sets parsed for matching.
struct Known {
    stored: StoredVuln,
    sets: Vec<ParsedSet>,
}

impl Known {
    fn new(stored: StoredVuln) -> Known {
        let sets = stored.affected.iter().map(|s| s.parsed()).collect();
        Known { stored, sets }
    }

    fn affects(&self, version: &Version) -> bool {
        self.sets.iter().any(|s| s.affects(version))
    }

    fn describe(&self, installed: &Version) -> Vulnerability {
        let fixed_in: BTreeSet<&Version> = self
            .sets
            .iter()
            .flat_map(|s| s.fixed_versions())
            .filter(|f| *f > installed && !self.affects(f))
            .collect();
        let stored = &self.stored;
        Vulnerability {
            id: stored.id.clone(),
            aliases: stored.aliases.clone(),
            summary: stored.summary.clone(),
            details_url: details_url(&stored.id, &stored.aliases),
            severity: stored.severity,
            fixed_in: fixed_in.into_iter().cloned().collect(),
            malware: stored.malware,
        }
    }
}

/// GitHub's advisory page when the vulnerability has a GHSA id (readable, with
/// severity), else the OSV page of its id.
fn details_url(id: &str, aliases: &[String]) -> String {
    match std::iter::once(id)
        .chain(aliases.iter().map(String::as_str))
        .find(|a| a.starts_with("GHSA-"))
    {
        Some(ghsa) => format!("https://github.com/advisories/{ghsa}"),
        None => format!("https://osv.dev/vulnerability/{id}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::osv::{parse_record, Format};
    use std::str::FromStr;

    /// A database built from OSV JSON records.
    pub(crate) fn db(records: &[&str]) -> AdvisoryDb {
        let records = records
            .iter()
            .map(|r| parse_record(r.as_bytes(), Format::Json, "t").unwrap())
            .collect();
        let (bytes, _) = crate::update::build(records, 0, "test").unwrap();
        AdvisoryDb::from_store_bytes(bytes).unwrap()
    }

    pub(crate) fn v(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    pub(crate) fn n(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    fn status_with_newest(date: &str) -> DbStatus {
        DbStatus {
            source: DataSource::Embedded,
            newest_record: Some(date.parse().unwrap()),
            records: 1,
            packages: 1,
            updated_at: Timestamp::UNIX_EPOCH,
            skipped_records: 0,
            skipped_versions: 0,
        }
    }

    #[test]
    fn data_older_than_thirty_days_is_stale() {
        let status = status_with_newest("2026-01-01");
        let at = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(status.age_days(at("2026-01-31T23:59:00Z")), Some(30));
        assert!(!status.is_stale(at("2026-01-31T23:59:00Z")));
        assert_eq!(status.age_days(at("2026-02-01T00:00:00Z")), Some(31));
        assert!(status.is_stale(at("2026-02-01T00:00:00Z")));
        let undated = DbStatus {
            newest_record: None,
            ..status
        };
        assert!(undated.is_stale(at("2026-01-02T00:00:00Z")));
    }

    #[test]
    fn embedded_snapshot_is_the_pypa_database_with_its_date() {
        let db = AdvisoryDb::embedded();
        let status = db.status();
        assert_eq!(status.source, DataSource::Embedded);
        assert!(status.records > 2500, "{}", status.records);
        assert!(status.packages > 600, "{}", status.packages);
        assert_eq!(
            status.newest_record.map(|d| d.to_string()).as_deref(),
            Some("2024-10-10")
        );
        assert!(status.is_stale("2024-11-20T00:00:00Z".parse().unwrap()));
    }

    const TWO_RECORDS_DISAGREE: [&str; 2] = [
        r#"{"id":"PYSEC-1","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"p"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"1.1"}]}]}]}"#,
        r#"{"id":"GHSA-1","aliases":["CVE-1"],"summary":"Bad thing","affected":[{"package":{"ecosystem":"PyPI","name":"p"},
            "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"1.1"},{"fixed":"1.3"}]},
                      {"type":"ECOSYSTEM","events":[{"introduced":"2.0"},{"fixed":"2.0.4"}]}]}]}"#,
    ];

    #[test]
    fn fix_versions_are_above_the_installed_one_and_not_themselves_affected() {
        let db = db(&TWO_RECORDS_DISAGREE);
        let found = db.vulnerabilities(&n("P"), &v("1.0")).unwrap();
        assert_eq!(found.len(), 1, "one row for two aliased records");
        let fixed: Vec<String> = found[0].fixed_in.iter().map(ToString::to_string).collect();
        // 1.1 is a fix per PYSEC-1 but affected per GHSA-1.
        assert_eq!(fixed, ["1.3", "2.0.4"]);
        assert_eq!(found[0].details_url, "https://github.com/advisories/GHSA-1");
        assert!(db.vulnerabilities(&n("p"), &v("1.3")).unwrap().is_empty());
        assert_eq!(
            db.vulnerabilities(&n("p"), &v("2.0.1")).unwrap()[0].fixed_in,
            [v("2.0.4")]
        );
    }

    #[test]
    fn smallest_safe_version_skips_affected_disallowed_and_pre_releases() {
        let db = db(&TWO_RECORDS_DISAGREE);
        let available: Vec<Version> = [
            "0.9", "1.0", "1.1", "1.2", "1.4rc1", "1.4", "1.5", "2.0", "2.0.4",
        ]
        .iter()
        .map(|s| v(s))
        .collect();
        let p = n("p");
        assert_eq!(
            db.smallest_safe_version(&p, &v("1.0"), &available, |_| true)
                .unwrap(),
            Some(v("1.4"))
        );
        assert_eq!(
            db.smallest_safe_version(&p, &v("1.0"), &available, |x| *x != v("1.4"))
                .unwrap(),
            Some(v("1.5"))
        );
        assert_eq!(
            db.smallest_safe_version(&p, &v("1.4rc0"), &available, |_| true)
                .unwrap(),
            Some(v("1.4rc1"))
        );
        assert_eq!(
            db.smallest_safe_version(&p, &v("1.0"), &available, |x| *x < v("1.3"))
                .unwrap(),
            None
        );
        // A package without advisories: the current version is already safe.
        assert_eq!(
            db.smallest_safe_version(&n("other"), &v("1.0"), &available, |_| true)
                .unwrap(),
            Some(v("1.0"))
        );
    }

    #[test]
    fn malware_records_are_reported_as_malware() {
        let db = db(&[
            r#"{"id":"MAL-2024-1","summary":"Malicious code in reqeusts (PyPI)",
            "affected":[{"package":{"ecosystem":"PyPI","name":"reqeusts"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"}]}]}]}"#,
        ]);
        let found = db.vulnerabilities(&n("reqeusts"), &v("1.0.0")).unwrap();
        assert_eq!(found.len(), 1);
        assert!(found[0].malware);
        assert!(found[0].fixed_in.is_empty());
        assert_eq!(
            found[0].details_url,
            "https://osv.dev/vulnerability/MAL-2024-1"
        );
    }

    #[test]
    fn open_and_load_tell_downloaded_from_embedded() {
        let dir = tempfile::tempdir().unwrap();
        assert!(AdvisoryDb::open(dir.path()).unwrap().is_none());
        assert_eq!(
            AdvisoryDb::load(dir.path()).unwrap().status().source,
            DataSource::Embedded
        );
        std::fs::write(dir.path().join(STORE_FILE_NAME), b"garbage").unwrap();
        assert!(matches!(
            AdvisoryDb::open(dir.path()),
            Err(AuditError::CorruptStore { .. })
        ));
        assert!(
            AdvisoryDb::load(dir.path()).is_err(),
            "a damaged download is not hidden"
        );
    }
}
