//! `db update`: read OSV records from OSV's PyPI export (a zip of JSON, by
//! URL), a local zip, or a directory of JSON/YAML; merge records that alias
//! each other per package; write the compact store atomically (a failed update
//! leaves the previous database in place).

use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pyward_dist::PackageName;

use crate::db::{DataSource, DbStatus};
use crate::osv::{parse_record, Format, OsvRecord};
use crate::ranges::AffectedSet;
use crate::severity::SeverityScore;
use crate::store::{Store, StoreMeta, StoredVuln};
use crate::text::short_summary;
use crate::{AuditError, STORE_FILE_NAME};

/// OSV's export of every PyPI record: a zip of one JSON file per record.
pub const OSV_PYPI_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip";

/// Largest download accepted (OSV's PyPI export is tens of MiB).
const MAX_DOWNLOAD_BYTES: u64 = 512 << 20;
/// Largest single record accepted (uncompressed).
const MAX_RECORD_BYTES: u64 = 8 << 20;
/// Largest total of uncompressed record bytes read from one source.
const MAX_TOTAL_BYTES: u64 = 2 << 30;
/// Most records read from one source.
const MAX_RECORDS: usize = 2_000_000;

/// Where `db update` reads advisories from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateSource {
    /// A zip of OSV JSON records over HTTP(S), such as [`OSV_PYPI_URL`].
    Url(String),
    /// A local zip of OSV JSON or YAML records.
    Zip(PathBuf),
    /// A local directory of OSV JSON or YAML records (searched recursively).
    Dir(PathBuf),
}

impl Default for UpdateSource {
    fn default() -> Self {
        UpdateSource::Url(OSV_PYPI_URL.to_string())
    }
}

impl UpdateSource {
    /// Interpret a `--from` argument: an `http(s)://` URL, a directory, or else a zip.
    pub fn from_arg(arg: &str) -> UpdateSource {
        if arg.starts_with("https://") || arg.starts_with("http://") {
            UpdateSource::Url(arg.to_string())
        } else if Path::new(arg).is_dir() {
            UpdateSource::Dir(PathBuf::from(arg))
        } else {
            UpdateSource::Zip(PathBuf::from(arg))
        }
    }

    fn describe(&self) -> String {
        match self {
            UpdateSource::Url(url) => url.clone(),
            UpdateSource::Zip(path) | UpdateSource::Dir(path) => path.display().to_string(),
        }
    }
}

/// Replace the database in `data_dir` with one built from `source`. On any
/// error the previous database (if any) is left untouched.
pub async fn update(source: &UpdateSource, data_dir: &Path) -> Result<DbStatus, AuditError> {
    std::fs::create_dir_all(data_dir).map_err(|e| AuditError::io(data_dir, e))?;
    let from = source.describe();
    let data_dir = data_dir.to_path_buf();
    match source {
        UpdateSource::Url(url) => {
            let download = download(url, &data_dir).await?;
            let url = url.clone();
            blocking(move || {
                let file = download
                    .reopen()
                    .map_err(|e| AuditError::io(download.path(), e))?;
                let (records, skipped) = read_zip(file, &url)?;
                install(records, skipped, &from, &data_dir)
            })
            .await
        }
        UpdateSource::Zip(path) => {
            let path = path.clone();
            blocking(move || {
                let file = std::fs::File::open(&path).map_err(|e| AuditError::io(&path, e))?;
                let (records, skipped) = read_zip(file, &path.display().to_string())?;
                install(records, skipped, &from, &data_dir)
            })
            .await
        }
        UpdateSource::Dir(path) => {
            let path = path.clone();
            blocking(move || {
                let (records, skipped) = read_dir(&path)?;
                install(records, skipped, &from, &data_dir)
            })
            .await
        }
    }
}

/// Build a store file from a directory of records, for the embedded snapshot.
/// `label` is recorded as the data's origin.
pub fn write_snapshot(source_dir: &Path, label: &str, out: &Path) -> Result<DbStatus, AuditError> {
    let (records, skipped) = read_dir(source_dir)?;
    let (bytes, meta) = build(records, skipped, label)?;
    std::fs::write(out, bytes).map_err(|e| AuditError::io(out, e))?;
    Ok(DbStatus::from_meta(&meta, DataSource::Embedded))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AuditError> + Send + 'static,
) -> Result<T, AuditError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AuditError::Interrupted(e.to_string()))?
}

/// Stream `url` into a temporary file in `data_dir`, refusing more than
/// [`MAX_DOWNLOAD_BYTES`].
async fn download(url: &str, data_dir: &Path) -> Result<tempfile::NamedTempFile, AuditError> {
    let failed = |message: String| AuditError::Download {
        url: url.to_string(),
        message,
    };
    let client = reqwest::Client::builder()
        .user_agent(concat!("pyward/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(30))
        .read_timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| failed(error_chain(&e)))?;
    if !response.status().is_success() {
        return Err(failed(format!("the server answered {}", response.status())));
    }
    let mut file = tempfile::Builder::new()
        .prefix(".download-")
        .tempfile_in(data_dir)
        .map_err(|e| AuditError::io(data_dir, e))?;
    let mut written: u64 = 0;
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| failed(error_chain(&e)))?
    {
        written += chunk.len() as u64;
        if written > MAX_DOWNLOAD_BYTES {
            return Err(failed(format!(
                "the download is larger than {} MiB",
                MAX_DOWNLOAD_BYTES >> 20
            )));
        }
        file.write_all(&chunk)
            .map_err(|e| AuditError::io(file.path(), e))?;
    }
    file.flush().map_err(|e| AuditError::io(file.path(), e))?;
    Ok(file)
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message.push_str(": ");
        message.push_str(&s.to_string());
        source = s.source();
    }
    message
}

/// Read every record file in a zip. Entries are only read into memory (never
/// extracted), each capped in size. Unparseable records are counted, not fatal.
fn read_zip(
    reader: impl Read + std::io::Seek,
    origin: &str,
) -> Result<(Vec<OsvRecord>, usize), AuditError> {
    let bad_zip = |message: String| AuditError::Archive {
        origin: origin.to_string(),
        message,
    };
    let mut archive = zip::ZipArchive::new(reader).map_err(|e| bad_zip(e.to_string()))?;
    if archive.len() > MAX_RECORDS {
        return Err(bad_zip(format!("more than {MAX_RECORDS} entries")));
    }
    let mut records = Vec::new();
    let mut skipped = 0;
    let mut total: u64 = 0;
    let mut buf = Vec::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| bad_zip(e.to_string()))?;
        let Ok(name) = entry.name().map(|n| n.to_string()) else {
            skipped += 1;
            continue;
        };
        let Some(format) = Format::of_file_name(&name) else {
            continue;
        };
        if !entry.is_file() {
            continue;
        }
        buf.clear();
        let read = (&mut entry)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut buf);
        match read {
            Ok(n) if n as u64 > MAX_RECORD_BYTES => {
                skipped += 1;
                continue;
            }
            Ok(n) => total += n as u64,
            Err(_) => {
                skipped += 1;
                continue;
            }
        }
        if total > MAX_TOTAL_BYTES {
            return Err(bad_zip(format!(
                "the records add up to more than {} GiB",
                MAX_TOTAL_BYTES >> 30
            )));
        }
        match parse_record(&buf, format, &name) {
            Ok(record) => records.push(record),
            Err(_) => skipped += 1,
        }
    }
    Ok((records, skipped))
}

/// Read every `.json`, `.yaml` and `.yml` file under `dir` (hidden files and
/// symbolic links are not followed).
fn read_dir(dir: &Path) -> Result<(Vec<OsvRecord>, usize), AuditError> {
    if !dir.is_dir() {
        return Err(AuditError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        ));
    }
    let mut records = Vec::new();
    let mut skipped = 0;
    let mut total: u64 = 0;
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            AuditError::io(&path, e.into())
        })?;
        if !entry.file_type().is_file() {
            continue;
        }
        let Some(format) = Format::of_file_name(&entry.file_name().to_string_lossy()) else {
            continue;
        };
        if records.len() + skipped >= MAX_RECORDS {
            return Err(AuditError::io(
                dir,
                std::io::Error::other(format!("more than {MAX_RECORDS} record files")),
            ));
        }
        let size = entry.metadata().map(|m| m.len()).unwrap_or(u64::MAX);
        if size > MAX_RECORD_BYTES {
            skipped += 1;
            continue;
        }
        total += size;
        if total > MAX_TOTAL_BYTES {
            return Err(AuditError::io(
                dir,
                std::io::Error::other(format!(
                    "the record files add up to more than {} GiB",
                    MAX_TOTAL_BYTES >> 30
                )),
            ));
        }
        let bytes = std::fs::read(entry.path()).map_err(|e| AuditError::io(entry.path(), e))?;
        match parse_record(&bytes, format, &entry.path().display().to_string()) {
            Ok(record) => records.push(record),
            Err(_) => skipped += 1,
        }
    }
    Ok((records, skipped))
}

/// Build the store and swap it into `data_dir` atomically.
fn install(
    records: Vec<OsvRecord>,
    skipped: usize,
    from: &str,
    data_dir: &Path,
) -> Result<DbStatus, AuditError> {
    let (bytes, meta) = build(records, skipped, from)?;
    let mut file = tempfile::Builder::new()
        .prefix(".advisories-")
        .tempfile_in(data_dir)
        .map_err(|e| AuditError::io(data_dir, e))?;
    file.write_all(&bytes)
        .and_then(|()| file.as_file().sync_all())
        .map_err(|e| AuditError::io(file.path(), e))?;
    let target = data_dir.join(STORE_FILE_NAME);
    file.persist(&target)
        .map_err(|e| AuditError::io(&target, e.error))?;
    Ok(DbStatus::from_meta(
        &meta,
        DataSource::Downloaded {
            from: from.to_string(),
        },
    ))
}

/// A record reduced to what one package's vulnerability needs.
struct PackageRecord<'a> {
    record: &'a OsvRecord,
    severity: SeverityScore,
    malware: bool,
    sets: Vec<AffectedSet>,
}

/// Turn records into the encoded store and its status.
pub(crate) fn build(
    records: Vec<OsvRecord>,
    skipped_records: usize,
    from: &str,
) -> Result<(Vec<u8>, StoreMeta), AuditError> {
    let mut skipped_versions = 0;
    let mut stored_records = 0u64;
    let mut newest: Option<jiff::civil::Date> = None;
    let mut by_package: BTreeMap<String, Vec<PackageRecord<'_>>> = BTreeMap::new();
    for record in &records {
        if record
            .withdrawn
            .as_deref()
            .is_some_and(|w| !w.trim().is_empty())
        {
            continue;
        }
        let severity = SeverityScore::of_record(record);
        let malware = record.is_malware();
        let mut per_package: BTreeMap<String, Vec<AffectedSet>> = BTreeMap::new();
        for affected in &record.affected {
            if !affected.package.ecosystem.eq_ignore_ascii_case("PyPI") {
                continue;
            }
            let Ok(name) = PackageName::from_str(affected.package.name.trim()) else {
                skipped_versions += 1;
                continue;
            };
            let (set, dropped) = AffectedSet::from_osv(affected);
            skipped_versions += dropped;
            if !set.ranges.is_empty() || !set.versions.is_empty() {
                per_package.entry(name.to_string()).or_default().push(set);
            }
        }
        if per_package.is_empty() {
            continue;
        }
        stored_records += 1;
        if let Some(date) = record_date(record) {
            newest = newest.max(Some(date));
        }
        for (name, sets) in per_package {
            by_package.entry(name).or_default().push(PackageRecord {
                record,
                severity,
                malware,
                sets,
            });
        }
    }
    if stored_records == 0 {
        return Err(AuditError::NoRecords {
            from: from.to_string(),
            skipped: skipped_records,
        });
    }
    let packages: BTreeMap<String, Vec<StoredVuln>> = by_package
        .into_iter()
        .map(|(name, records)| (name, merge_aliases(records)))
        .collect();
    let meta = StoreMeta {
        from: from.to_string(),
        newest_record: newest.map(|d| d.to_string()),
        updated_at: jiff::Timestamp::now().as_second(),
        records: stored_records,
        packages: packages.len() as u64,
        skipped_records: skipped_records as u64,
        skipped_versions: skipped_versions as u64,
    };
    let bytes = Store::encode(meta.clone(), &packages)?;
    Ok((bytes, meta))
}

/// The day a record was last modified (else published), in UTC.
fn record_date(record: &OsvRecord) -> Option<jiff::civil::Date> {
    let text = record.modified.as_deref().or(record.published.as_deref())?;
    let text = text.trim();
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.to_zoned(jiff::tz::TimeZone::UTC).date());
    }
    text.get(..10)?.parse::<jiff::civil::Date>().ok()
}

/// How much an id is preferred as the name of a vulnerability (lower first):
/// the PyPA's own PYSEC ids, then GitHub's, then malware ids, then others, CVE last.
fn id_rank(id: &str) -> u8 {
    if id.starts_with("PYSEC-") {
        0
    } else if id.starts_with("GHSA-") {
        1
    } else if id.starts_with("MAL-") {
        2
    } else if id.starts_with("CVE-") {
        4
    } else {
        3
    }
}

/// Group one package's records into vulnerabilities: records sharing an id or
/// alias (directly or through others) are one vulnerability.
fn merge_aliases(records: Vec<PackageRecord<'_>>) -> Vec<StoredVuln> {
    let mut parent: Vec<usize> = (0..records.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut first_owner: HashMap<&str, usize> = HashMap::new();
    for (i, r) in records.iter().enumerate() {
        let ids = std::iter::once(&r.record.id).chain(r.record.aliases.iter());
        for id in ids {
            let id = id.trim();
            if id.is_empty() {
                continue;
            }
            match first_owner.get(id) {
                Some(&j) => {
                    let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                    parent[a] = b;
                }
                None => {
                    first_owner.insert(id, i);
                }
            }
        }
    }
    let mut groups: BTreeMap<usize, Vec<PackageRecord<'_>>> = BTreeMap::new();
    for (i, r) in records.into_iter().enumerate() {
        groups.entry(root(&mut parent, i)).or_default().push(r);
    }
    let mut vulns: Vec<StoredVuln> = groups.into_values().map(merge_group).collect();
    vulns.sort_by(|a, b| a.id.cmp(&b.id));
    vulns
}

fn merge_group(mut group: Vec<PackageRecord<'_>>) -> StoredVuln {
    group.sort_by(|a, b| {
        (id_rank(&a.record.id), &a.record.id).cmp(&(id_rank(&b.record.id), &b.record.id))
    });
    let id = group[0].record.id.trim().to_string();
    let mut aliases: Vec<String> = group
        .iter()
        .flat_map(|r| std::iter::once(&r.record.id).chain(r.record.aliases.iter()))
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty() && *a != id)
        .collect();
    aliases.sort_by(|a, b| (id_rank(a), a).cmp(&(id_rank(b), b)));
    aliases.dedup();
    // A record's own one-line summary (GHSA, MAL) reads better than the first
    // sentence of another's details (PYSEC).
    let summary = group
        .iter()
        .find_map(|r| {
            r.record
                .summary
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| short_summary(Some(s), None))
        })
        .unwrap_or_else(|| {
            group
                .iter()
                .map(|r| short_summary(None, r.record.details.as_deref()))
                .find(|s| !s.is_empty())
                .unwrap_or_default()
        });
    let severity = group
        .iter()
        .map(|r| r.severity)
        .reduce(|a, b| if b.worse_than(&a) { b } else { a })
        .unwrap_or(SeverityScore::UNKNOWN);
    let malware = group.iter().any(|r| r.malware);
    let affected = group.into_iter().flat_map(|r| r.sets).collect();
    StoredVuln {
        id,
        aliases,
        summary,
        severity,
        malware,
        affected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::parse_record;
    use crate::severity::SeveritySource;
    use proptest::prelude::*;

    fn record(json: &str) -> OsvRecord {
        parse_record(json.as_bytes(), Format::Json, "t").unwrap()
    }

    fn built(records: Vec<OsvRecord>) -> (Store, StoreMeta) {
        let (bytes, meta) = build(records, 0, "test").unwrap();
        (Store::decode(std::borrow::Cow::Owned(bytes)).unwrap(), meta)
    }

    const PYSEC: &str = r#"{"id":"PYSEC-2019-217","aliases":["CVE-2019-10906","GHSA-462w-v97r-4m45"],
        "details":"In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.",
        "modified":"2021-07-05T00:01:22.043149Z",
        "affected":[{"package":{"ecosystem":"PyPI","name":"Jinja2"},
          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.10.1"}]}]}]}"#;
    const GHSA: &str = r#"{"id":"GHSA-462w-v97r-4m45","aliases":["CVE-2019-10906"],
        "summary":"Jinja2 sandbox escape via string formatting",
        "modified":"2024-01-02T10:00:00Z",
        "database_specific":{"severity":"HIGH"},
        "affected":[{"package":{"ecosystem":"PyPI","name":"jinja2"},
          "ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"2.10.1"}]}]}]}"#;

    #[test]
    fn records_aliasing_each_other_are_one_vulnerability() {
        let (store, meta) = built(vec![record(PYSEC), record(GHSA)]);
        assert_eq!(meta.records, 2);
        let vulns = store.package("jinja2").unwrap();
        assert_eq!(vulns.len(), 1);
        let v = &vulns[0];
        assert_eq!(v.id, "PYSEC-2019-217");
        assert_eq!(v.aliases, ["GHSA-462w-v97r-4m45", "CVE-2019-10906"]);
        assert_eq!(v.summary, "Jinja2 sandbox escape via string formatting");
        assert_eq!(v.severity.rating, Some(pyward_guard::Severity::High));
        assert_eq!(v.severity.source, SeveritySource::Database);
        assert_eq!(meta.newest_record.as_deref(), Some("2024-01-02"));
    }

    #[test]
    fn aliases_merge_transitively_but_only_within_a_package() {
        let a = r#"{"id":"GHSA-a","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"p"},"versions":["1.0"]}]}"#;
        let b = r#"{"id":"OSV-b","aliases":["CVE-1","CVE-2"],"affected":[{"package":{"ecosystem":"PyPI","name":"p"},"versions":["1.1"]}]}"#;
        let c = r#"{"id":"PYSEC-c","aliases":["CVE-2"],"affected":[{"package":{"ecosystem":"PyPI","name":"p"},"versions":["1.2"]}]}"#;
        let d = r#"{"id":"GHSA-d","aliases":["CVE-1"],"affected":[{"package":{"ecosystem":"PyPI","name":"other"},"versions":["1.0"]}]}"#;
        let (store, _) = built(vec![record(a), record(b), record(c), record(d)]);
        let vulns = store.package("p").unwrap();
        assert_eq!(vulns.len(), 1);
        assert_eq!(vulns[0].id, "PYSEC-c");
        assert_eq!(vulns[0].aliases, ["GHSA-a", "OSV-b", "CVE-1", "CVE-2"]);
        assert_eq!(vulns[0].affected.len(), 3);
        assert_eq!(store.package("other").unwrap()[0].id, "GHSA-d");
    }

    #[test]
    fn withdrawn_other_ecosystems_and_bad_names_are_left_out() {
        let withdrawn = r#"{"id":"PYSEC-w","withdrawn":"2023-06-06T10:37:00Z","affected":[{"package":{"ecosystem":"PyPI","name":"redis"},"versions":["1.0"]}]}"#;
        let npm = r#"{"id":"GHSA-n","affected":[{"package":{"ecosystem":"npm","name":"left-pad"},"versions":["1.0"]}]}"#;
        let bad_name = r#"{"id":"GHSA-b","affected":[{"package":{"ecosystem":"PyPI","name":"not a name!"},"versions":["1.0"]}]}"#;
        let good = r#"{"id":"GHSA-g","affected":[{"package":{"ecosystem":"PyPI","name":"Flask_Cors"},"versions":["1.0"]}]}"#;
        let (store, meta) = built(vec![
            record(withdrawn),
            record(npm),
            record(bad_name),
            record(good),
        ]);
        assert_eq!(meta.records, 1);
        assert_eq!(meta.skipped_versions, 1);
        assert!(store.package("redis").unwrap().is_empty());
        assert!(store.package("left-pad").unwrap().is_empty());
        assert_eq!(store.package("flask-cors").unwrap()[0].id, "GHSA-g");
    }

    #[test]
    fn nothing_usable_is_an_error() {
        let npm = r#"{"id":"GHSA-n","affected":[{"package":{"ecosystem":"npm","name":"x"},"versions":["1.0"]}]}"#;
        assert!(matches!(
            build(vec![record(npm)], 3, "somewhere"),
            Err(AuditError::NoRecords { skipped: 3, .. })
        ));
    }

    #[test]
    fn the_worst_cvss_of_a_group_wins_over_database_ratings() {
        let a = r#"{"id":"GHSA-a","aliases":["CVE-1"],"database_specific":{"severity":"LOW"},
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"p"},"versions":["1.0"]}]}"#;
        let b = r#"{"id":"PYSEC-b","aliases":["CVE-1"],
            "severity":[{"type":"CVSS_V4","score":"CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"p"},"versions":["1.0"]}]}"#;
        let (store, _) = built(vec![record(a), record(b)]);
        let v = &store.package("p").unwrap()[0];
        assert_eq!(v.severity.score, Some(9.3));
        assert_eq!(v.severity.source, SeveritySource::CvssV4);
    }

    fn version_text() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("0".to_string()),
            "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}((a|b|rc|-alpha|\\.dev|\\.post)[0-9]{0,2})?(\\+[a-z0-9]{1,4})?",
            ".{0,12}",
        ]
    }

    fn event() -> impl Strategy<Value = String> {
        (
            prop_oneof![
                Just("introduced"),
                Just("fixed"),
                Just("last_affected"),
                Just("limit"),
                Just("bogus")
            ],
            version_text(),
        )
            .prop_map(|(k, v)| format!("{{{}: {}}}", k, serde_json::Value::String(v)))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Arbitrary bytes never panic the parser: a record or a typed error.
        #[test]
        fn parser_never_panics_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            for format in [Format::Json, Format::Yaml] {
                match parse_record(&bytes, format, "fuzz") {
                    Ok(r) => prop_assert!(!r.id.trim().is_empty()),
                    Err(e) => prop_assert!(matches!(e, AuditError::MalformedRecord { .. }), "{e:?}"),
                }
            }
        }

        /// Record-shaped YAML with random versions, events, severities and
        /// names never panics parsing, building, storing or matching.
        #[test]
        fn odd_records_never_panic(
            name in "[A-Za-z0-9._ -]{0,12}",
            events in proptest::collection::vec(event(), 0..6),
            versions in proptest::collection::vec(version_text(), 0..5),
            vector in prop_oneof![
                Just("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_string()),
                Just("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".to_string()),
                "CVSS:[34]\\.[01]/[A-Z:/]{0,40}",
            ],
            withdrawn in any::<bool>(),
            probes in proptest::collection::vec(version_text(), 1..4),
        ) {
            let versions: Vec<String> = versions.iter().map(|v| serde_json::Value::String(v.clone()).to_string()).collect();
            let yaml = format!(
                "id: MAL-1\n{}severity: [{{type: CVSS_V3, score: {}}}]\naffected:\n- package: {{ecosystem: PyPI, name: {}}}\n  ranges:\n  - type: ECOSYSTEM\n    events: [{}]\n  versions: [{}]\n",
                if withdrawn { "withdrawn: 2020-01-01T00:00:00Z\n" } else { "" },
                serde_json::Value::String(vector),
                serde_json::Value::String(name.clone()),
                events.join(", "),
                versions.join(", "),
            );
            let Ok(record) = parse_record(yaml.as_bytes(), Format::Yaml, "fuzz") else {
                return Ok(());
            };
            let Ok((bytes, _)) = build(vec![record], 0, "fuzz") else {
                return Ok(());
            };
            let db = crate::AdvisoryDb::from_store_bytes(bytes).unwrap();
            if let Ok(name) = PackageName::from_str(name.trim()) {
                for probe in &probes {
                    if let Ok(version) = pyward_dist::Version::from_str(probe) {
                        let found = db.vulnerabilities(&name, &version).unwrap();
                        prop_assert!(found.iter().all(|v| v.malware));
                        let _ = db.smallest_safe_version(&name, &version, std::slice::from_ref(&version), |_| true).unwrap();
                    }
                }
            }
        }
    }
}
