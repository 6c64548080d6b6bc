//! The trust card: the signals people use to judge a package (age, releases,
//! activity, owners, source repository, popularity, yanked releases, whether
//! installing runs build code, project status), built from the index's
//! project JSON (`https://pypi.org/pypi/NAME/json`), the project status of
//! the simple API (PEP 792) and the popularity snapshot. Pure: the caller
//! fetches, and passes `now`.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::popularity::{Popular, Popularity};

/// Why an index response could not be turned into a card.
#[derive(Debug, thiserror::Error)]
pub enum CardError {
    #[error("the index's project JSON is not valid: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the index's project JSON names no project")]
    MissingName,
}

/// Everything the card shows, ready for `--json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrustCard {
    /// The project name as the index spells it.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// The oldest file upload of any release.
    pub first_upload: Option<Timestamp>,
    /// Whole days from the first upload to `now`.
    pub age_days: Option<i64>,
    /// Releases that have at least one file.
    pub releases: usize,
    pub latest: Option<LatestRelease>,
    pub cadence: Cadence,
    /// PyPI accounts with a role on the project (the index's own record).
    pub owners: Vec<Owner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Author and maintainer as written in the package metadata (claimed by
    /// the uploader, not checked).
    pub declared_people: Vec<String>,
    /// The source repository the project links to. Claimed: nothing proves
    /// the repository builds these files.
    pub repository: Option<ClaimedUrl>,
    /// Every link in the project metadata, claimed like the repository.
    pub project_urls: Vec<ClaimedUrl>,
    /// Monthly downloads and rank, when the project is in the snapshot.
    pub popularity: Option<Popular>,
    /// Date of the popularity snapshot (`YYYY-MM-DD`).
    pub popularity_date: String,
    pub yanked_releases: Vec<YankedRelease>,
    /// What installing the latest release means.
    pub builds: Builds,
    /// The index's project status (PEP 792), when it gives one.
    pub status: Option<ProjectStatus>,
    /// The `Development Status` classifier, e.g. `5 - Production/Stable`.
    pub development_status: Option<String>,
}

/// The release the index calls latest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LatestRelease {
    pub version: String,
    pub uploaded: Option<Timestamp>,
    pub age_days: Option<i64>,
    pub yanked: bool,
}

/// How often the project releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Cadence {
    /// Releases first uploaded in the 365 days before `now`.
    pub releases_last_year: usize,
    /// Median days between consecutive releases (needs two releases).
    pub median_days_between: Option<i64>,
    /// The most recent file upload of any release.
    pub last_upload: Option<Timestamp>,
    pub days_since_last_upload: Option<i64>,
}

/// An account with a role on the project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub user: String,
    /// `Owner` or `Maintainer`.
    pub role: String,
}

/// A link from the project metadata. `verified` is always false: the index
/// shows what the uploader wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimedUrl {
    pub label: String,
    pub url: String,
    pub verified: bool,
}

/// A release whose every file is yanked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct YankedRelease {
    pub version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What installing the latest release involves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Builds {
    /// At least one wheel: installing copies files (on a platform a wheel fits).
    Wheels,
    /// Only a source distribution: installing runs the package's build code.
    SourceOnly,
    /// The release has no files.
    NoFiles,
}

/// A project status marker (PEP 792).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectStatus {
    pub status: StatusKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusKind {
    /// The default: uploads allowed.
    Active,
    /// No updates expected.
    Archived,
    /// Considered unsafe (e.g. malware); the index serves no files.
    Quarantined,
    /// Obsolete, maybe superseded by another project.
    Deprecated,
}

impl StatusKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Active => "active",
            StatusKind::Archived => "archived",
            StatusKind::Quarantined => "quarantined",
            StatusKind::Deprecated => "deprecated",
        }
    }
}

/// The project status of a PEP 691 JSON project page, from
/// `project-status` at the top level or in `meta` (the PEP's example puts it
/// there). `None` when absent or not one of the four statuses.
pub fn parse_project_status(simple_json: &[u8]) -> Result<Option<ProjectStatus>, CardError> {
    let page: serde_json::Value = serde_json::from_slice(simple_json)?;
    let raw = page
        .get("project-status")
        .or_else(|| page.get("meta").and_then(|m| m.get("project-status")));
    Ok(raw.and_then(|v| serde_json::from_value::<ProjectStatus>(v.clone()).ok()))
}

/// Hosts whose links are source repositories.
const CODE_HOSTS: &[&str] = &[
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "codeberg.org",
    "git.sr.ht",
    "sr.ht",
    "sourceforge.net",
    "salsa.debian.org",
    "gitee.com",
    "huggingface.co",
];

/// Labels under which projects link their source (compared lowercase, with
/// spaces and punctuation removed).
const SOURCE_LABELS: &[&str] = &[
    "source",
    "sourcecode",
    "code",
    "repository",
    "repo",
    "github",
    "gitlab",
    "git",
    "sources",
];

impl TrustCard {
    /// Build the card from the JSON API response of one project.
    pub fn from_pypi_json(
        json: &[u8],
        status: Option<ProjectStatus>,
        popularity: &Popularity,
        now: Timestamp,
    ) -> Result<TrustCard, CardError> {
        let raw: RawProject = serde_json::from_slice(json)?;
        let info = raw.info;
        let name = info
            .name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .ok_or(CardError::MissingName)?;

        let releases: Vec<Release> = raw
            .releases
            .iter()
            .filter(|(_, files)| !files.is_empty())
            .map(|(version, files)| Release::new(version, files))
            .collect();

        let first_upload = releases.iter().filter_map(|r| r.first_upload).min();
        let last_upload = releases.iter().filter_map(|r| r.last_upload).max();

        let latest_release = info
            .version
            .as_deref()
            .and_then(|v| releases.iter().find(|r| r.version == v))
            .or_else(|| releases.iter().max_by_key(|r| r.first_upload));
        let latest = latest_release.map(|r| LatestRelease {
            version: r.version.clone(),
            uploaded: r.first_upload,
            age_days: r.first_upload.map(|t| days_between(t, now)),
            yanked: r.yanked,
        });
        let builds = match latest_release {
            Some(r) if r.has_wheel => Builds::Wheels,
            Some(r) if r.has_sdist => Builds::SourceOnly,
            _ => Builds::NoFiles,
        };

        let mut release_dates: Vec<Timestamp> =
            releases.iter().filter_map(|r| r.first_upload).collect();
        release_dates.sort();
        let year_ago = now.checked_sub(SignedDuration::from_hours(365 * 24)).ok();
        let cadence = Cadence {
            releases_last_year: release_dates
                .iter()
                .filter(|t| year_ago.is_some_and(|y| **t >= y))
                .count(),
            median_days_between: median_gap_days(&release_dates),
            last_upload,
            days_since_last_upload: last_upload.map(|t| days_between(t, now)),
        };

        let mut yanked_releases: Vec<YankedRelease> = releases
            .iter()
            .filter(|r| r.yanked)
            .map(|r| YankedRelease {
                version: r.version.clone(),
                reason: r.yank_reason.clone(),
            })
            .collect();
        yanked_releases.sort_by_key(|y| {
            releases
                .iter()
                .find(|r| r.version == y.version)
                .and_then(|r| r.first_upload)
        });

        let ownership = raw.ownership.unwrap_or_default();
        let owners = ownership
            .roles
            .into_iter()
            .filter(|r| !r.user.trim().is_empty())
            .map(|r| Owner {
                user: r.user,
                role: r.role,
            })
            .collect();

        let project_urls = claimed_urls(&info);
        let repository = source_repository(&project_urls);
        let development_status = info.classifiers.iter().find_map(|c| {
            c.strip_prefix("Development Status ::")
                .map(|s| s.trim().to_string())
        });

        Ok(TrustCard {
            summary: info.summary.clone().filter(|s| !s.trim().is_empty()),
            declared_people: declared_people(&info),
            name,
            first_upload,
            age_days: first_upload.map(|t| days_between(t, now)),
            releases: releases.len(),
            latest,
            cadence,
            owners,
            organization: ownership.organization.filter(|o| !o.trim().is_empty()),
            repository,
            project_urls,
            popularity: info
                .name
                .as_deref()
                .and_then(|n| popularity.get(n))
                .cloned(),
            popularity_date: popularity.date().to_string(),
            yanked_releases,
            builds,
            status,
            development_status,
        })
    }

    /// Installing the latest release runs the package's own build code.
    pub fn runs_build_code(&self) -> bool {
        self.builds == Builds::SourceOnly
    }
}

/// One release with files, summarised.
struct Release {
    version: String,
    first_upload: Option<Timestamp>,
    last_upload: Option<Timestamp>,
    has_wheel: bool,
    has_sdist: bool,
    /// Every file is yanked.
    yanked: bool,
    yank_reason: Option<String>,
}

impl Release {
    fn new(version: &str, files: &[RawFile]) -> Release {
        let times: Vec<Timestamp> = files.iter().filter_map(RawFile::uploaded).collect();
        Release {
            version: version.to_string(),
            first_upload: times.iter().min().copied(),
            last_upload: times.iter().max().copied(),
            has_wheel: files.iter().any(|f| f.kind() == FileKind::Wheel),
            has_sdist: files.iter().any(|f| f.kind() == FileKind::Sdist),
            yanked: files.iter().all(|f| f.yanked),
            yank_reason: files
                .iter()
                .filter_map(|f| f.yanked_reason.as_deref())
                .map(str::trim)
                .find(|r| !r.is_empty())
                .map(str::to_string),
        }
    }
}

fn days_between(earlier: Timestamp, later: Timestamp) -> i64 {
    later.duration_since(earlier).as_hours().div_euclid(24)
}

fn median_gap_days(sorted: &[Timestamp]) -> Option<i64> {
    let mut gaps: Vec<i64> = sorted
        .windows(2)
        .map(|w| days_between(w[0], w[1]))
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    Some(gaps[gaps.len() / 2])
}

fn claimed_urls(info: &RawInfo) -> Vec<ClaimedUrl> {
    let mut urls: Vec<ClaimedUrl> = info
        .project_urls
        .iter()
        .flatten()
        .filter_map(|(label, url)| {
            let url = url.as_deref()?.trim();
            is_web_url(url).then(|| ClaimedUrl {
                label: label.trim().to_string(),
                url: url.to_string(),
                verified: false,
            })
        })
        .collect();
    if let Some(home) = info.home_page.as_deref().map(str::trim) {
        if is_web_url(home) && !urls.iter().any(|u| u.url == home) {
            urls.push(ClaimedUrl {
                label: "Homepage".to_string(),
                url: home.to_string(),
                verified: false,
            });
        }
    }
    urls
}

fn is_web_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

fn on_code_host(s: &str) -> bool {
    let Ok(url) = url::Url::parse(s) else {
        return false;
    };
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.trim_start_matches("www.");
    // A repository needs an owner/name path, not just the host's front page.
    let has_path = url
        .path_segments()
        .is_some_and(|s| s.filter(|p| !p.is_empty()).count() >= 2);
    CODE_HOSTS.contains(&host) && has_path
}

/// The claimed source repository: a link labelled as source on a code host,
/// else any link to a code host, else a link labelled as source.
fn source_repository(urls: &[ClaimedUrl]) -> Option<ClaimedUrl> {
    let labelled = |u: &&ClaimedUrl| {
        let key: String = u
            .label
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        SOURCE_LABELS.contains(&key.as_str())
    };
    let hosted = |u: &&ClaimedUrl| on_code_host(&u.url);
    urls.iter()
        .find(|u| labelled(u) && hosted(u))
        .or_else(|| urls.iter().find(hosted))
        .or_else(|| urls.iter().find(labelled))
        .cloned()
}

/// Author and maintainer with their e-mail addresses (`Name <address>` when
/// a name and a bare address are given separately), deduplicated.
fn declared_people(info: &RawInfo) -> Vec<String> {
    let mut people: Vec<String> = Vec::new();
    for (name, email) in [
        (&info.author, &info.author_email),
        (&info.maintainer, &info.maintainer_email),
    ] {
        let clean = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("unknown"))
                .map(str::to_string)
        };
        let entries: Vec<String> = match (clean(name), clean(email)) {
            (Some(n), Some(e)) if !n.contains(',') && !e.contains([',', '<']) => {
                vec![format!("{n} <{e}>")]
            }
            (n, e) => n
                .into_iter()
                .chain(e)
                .flat_map(|field| {
                    field
                        .split(',')
                        .map(|p| p.trim().to_string())
                        .collect::<Vec<_>>()
                })
                .collect(),
        };
        for person in entries {
            if !person.is_empty() && !people.contains(&person) {
                people.push(person);
            }
        }
    }
    people
}

#[derive(Deserialize)]
struct RawProject {
    info: RawInfo,
    #[serde(default)]
    releases: BTreeMap<String, Vec<RawFile>>,
    #[serde(default)]
    ownership: Option<RawOwnership>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawInfo {
    name: Option<String>,
    version: Option<String>,
    summary: Option<String>,
    author: Option<String>,
    author_email: Option<String>,
    maintainer: Option<String>,
    maintainer_email: Option<String>,
    home_page: Option<String>,
    project_urls: Option<BTreeMap<String, Option<String>>>,
    classifiers: Vec<String>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(default)]
    filename: Option<String>,
    #[serde(default)]
    packagetype: Option<String>,
    #[serde(default)]
    upload_time_iso_8601: Option<String>,
    #[serde(default)]
    upload_time: Option<String>,
    #[serde(default)]
    yanked: bool,
    #[serde(default)]
    yanked_reason: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    Wheel,
    Sdist,
    Other,
}

impl RawFile {
    fn uploaded(&self) -> Option<Timestamp> {
        if let Some(t) = self.upload_time_iso_8601.as_deref() {
            if let Ok(t) = t.parse::<Timestamp>() {
                return Some(t);
            }
        }
        // `upload_time` has no offset; the index means UTC.
        let bare = self.upload_time.as_deref()?;
        format!("{bare}Z").parse::<Timestamp>().ok()
    }

    fn kind(&self) -> FileKind {
        match self.packagetype.as_deref() {
            Some("bdist_wheel") => FileKind::Wheel,
            Some("sdist") => FileKind::Sdist,
            Some(_) => FileKind::Other,
            None => match self.filename.as_deref() {
                Some(f) if f.ends_with(".whl") => FileKind::Wheel,
                Some(f) if f.ends_with(".tar.gz") || f.ends_with(".zip") => FileKind::Sdist,
                _ => FileKind::Other,
            },
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawOwnership {
    organization: Option<String>,
    roles: Vec<RawRole>,
}

#[derive(Deserialize)]
struct RawRole {
    #[serde(default)]
    role: String,
    #[serde(default)]
    user: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_prefers_labelled_code_host_links() {
        let url = |label: &str, url: &str| ClaimedUrl {
            label: label.into(),
            url: url.into(),
            verified: false,
        };
        let urls = vec![
            url("Homepage", "https://github.com/org"),
            url("Documentation", "https://example.readthedocs.io"),
            url("Source Code", "https://gitlab.com/org/proj"),
        ];
        assert_eq!(
            source_repository(&urls).map(|u| u.url),
            Some("https://gitlab.com/org/proj".to_string())
        );
        // A host's front page or an organisation page is no repository.
        assert_eq!(source_repository(&urls[..2]), None);
        let home = vec![url("Homepage", "https://github.com/org/proj")];
        assert_eq!(
            source_repository(&home).map(|u| u.label),
            Some("Homepage".into())
        );
    }

    #[test]
    fn median_gap() {
        let t = |d: i64| Timestamp::from_second(d * 86_400).unwrap();
        assert_eq!(median_gap_days(&[t(0)]), None);
        assert_eq!(median_gap_days(&[t(0), t(10), t(12), t(40)]), Some(10));
    }
}
