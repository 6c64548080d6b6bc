//! The flag feed: packages a report server's moderators confirmed as
//! harmful. Downloaded with a conditional request, cached on disk per server
//! so installs work offline with the last copy (and say how old it is), and
//! turned into `Check::Flag` findings, which the policy blocks.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use pyward_dist::{PackageName, Version, VersionSpecifiers};
use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::client::{error_chain, server_message, ServerClient};
use crate::outbox::{write_atomic, OutboxError};

/// The feed shape this client reads.
pub const FEED_FORMAT: u32 = 1;

/// One flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub id: i64,
    /// Normalized package name.
    pub name: String,
    /// `"all"` or PEP 440 specifiers (`==1.2.3`, `>=1.0, <1.4`).
    pub versions: String,
    pub reason: String,
    pub confirmed_by: String,
    /// RFC 3339.
    pub confirmed_at: String,
    /// The server's name, e.g. "Example Corp security".
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
}

/// The feed as the server sends it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagFeed {
    pub format: u32,
    pub source: String,
    pub flags: Vec<Flag>,
}

/// A feed as kept on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedFeed {
    /// The server URL it came from.
    pub server: String,
    /// When it was last confirmed current (RFC 3339).
    pub fetched_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    pub feed: FlagFeed,
}

/// Why the feed could not be refreshed.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    #[error("could not reach the report server: {0}")]
    Network(String),
    #[error("the report server refused the token ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    #[error("the report server answered {status}: {message}")]
    Server { status: u16, message: String },
    #[error("the flag feed is not valid: {0}")]
    Invalid(String),
    #[error(
        "the flag feed has format {0}; this pyward reads format {FEED_FORMAT}: upgrade pyward"
    )]
    NewerFormat(u32),
    #[error("flag feed cache: {0}")]
    Cache(#[from] OutboxError),
}

impl CachedFeed {
    /// The cache file for `server` in `cache_dir`.
    pub fn path(cache_dir: &Path, server: &str) -> PathBuf {
        let digest = hex::encode(Sha256::digest(server.as_bytes()));
        cache_dir.join(format!("flags-{}.json", &digest[..16]))
    }

    /// The cached feed of `client`'s server, if there is one.
    pub fn load(cache_dir: &Path, client: &ServerClient) -> Result<Option<CachedFeed>, FeedError> {
        let server = client.base_url().as_str();
        let path = CachedFeed::path(cache_dir, server);
        let text = match fs_err::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(OutboxError::Io { path, source }.into()),
        };
        let cached: CachedFeed = serde_json::from_str(&text).map_err(|e| {
            FeedError::Cache(OutboxError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })
        })?;
        // A copy from another server (hash collision, hand edit) is no copy.
        Ok((cached.server == server).then_some(cached))
    }

    fn save(&self, cache_dir: &Path) -> Result<(), FeedError> {
        let path = CachedFeed::path(cache_dir, &self.server);
        write_atomic(cache_dir, &path, self)?;
        Ok(())
    }

    /// How long ago the feed was last confirmed current.
    pub fn age(&self, now: jiff::Timestamp) -> Duration {
        jiff::Timestamp::from_str(&self.fetched_at)
            .ok()
            .and_then(|t| Duration::try_from(now.duration_since(t)).ok())
            .unwrap_or(Duration::MAX)
    }
}

/// Download the feed (conditionally, with the cached ETag) and cache it.
pub async fn refresh_feed(
    client: &ServerClient,
    cache_dir: &Path,
) -> Result<CachedFeed, FeedError> {
    let cached = CachedFeed::load(cache_dir, client).ok().flatten();
    let mut request = client.request(reqwest::Method::GET, "api/v1/flags");
    if let Some(etag) = cached.as_ref().and_then(|c| c.etag.as_deref()) {
        request = request.header(reqwest::header::IF_NONE_MATCH, etag);
    }
    let response = request
        .send()
        .await
        .map_err(|e| FeedError::Network(error_chain(&e)))?;
    let status = response.status();
    let etag = response
        .headers()
        .get(reqwest::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let now = timestamp_now();
    if status == reqwest::StatusCode::NOT_MODIFIED {
        if let Some(mut c) = cached {
            c.fetched_at = now;
            c.save(cache_dir)?;
            return Ok(c);
        }
        return Err(FeedError::Invalid(
            "the server said \"not modified\" but there is no cached copy".to_string(),
        ));
    }
    let text = response
        .text()
        .await
        .map_err(|e| FeedError::Network(error_chain(&e)))?;
    if !status.is_success() {
        let message = server_message(&text);
        let status = status.as_u16();
        return Err(match status {
            401 | 403 => FeedError::Unauthorized { status, message },
            _ => FeedError::Server { status, message },
        });
    }
    let feed = parse_feed(&text)?;
    let fresh = CachedFeed {
        server: client.base_url().to_string(),
        fetched_at: now,
        etag,
        feed,
    };
    fresh.save(cache_dir)?;
    Ok(fresh)
}

/// Parse and check a feed body.
pub fn parse_feed(text: &str) -> Result<FlagFeed, FeedError> {
    #[derive(Deserialize)]
    struct Format {
        format: u32,
    }
    let format: Format =
        serde_json::from_str(text).map_err(|e| FeedError::Invalid(e.to_string()))?;
    if format.format > FEED_FORMAT {
        return Err(FeedError::NewerFormat(format.format));
    }
    serde_json::from_str(text).map_err(|e| FeedError::Invalid(e.to_string()))
}

/// The feed to check an install against.
#[derive(Debug)]
pub enum FeedState {
    /// Downloaded now, or cached and younger than the allowed age.
    Fresh(CachedFeed),
    /// The server could not be asked; this is the last copy.
    Cached { feed: CachedFeed, error: FeedError },
    /// No copy at all.
    Missing(FeedError),
}

impl FeedState {
    pub fn feed(&self) -> Option<&CachedFeed> {
        match self {
            FeedState::Fresh(f) | FeedState::Cached { feed: f, .. } => Some(f),
            FeedState::Missing(_) => None,
        }
    }

    /// What the user should be told about the feed itself: nothing when it
    /// is fresh; its age when only the cached copy could be used; that flags
    /// could not be checked when there is no copy.
    pub fn notice(&self, server: &str, now: jiff::Timestamp) -> Option<Finding> {
        let package = PackageRef::new("(flag feed)", None, None);
        match self {
            FeedState::Fresh(_) => None,
            FeedState::Cached { feed, error } => Some(
                Finding::new(
                    Check::Notice,
                    Severity::Low,
                    package,
                    format!(
                        "organisation flags from {server} could not be refreshed; used the copy from {} ago",
                        describe_age(feed.age(now))
                    ),
                )
                .why("Packages flagged since then are not known to this install.")
                .evidence(Evidence::Text {
                    text: error.to_string(),
                })
                .advice("check the network or the report-server setting, then run the command again"),
            ),
            FeedState::Missing(error) => Some(
                Finding::new(
                    Check::Notice,
                    Severity::Moderate,
                    package,
                    format!("organisation flags from {server} could not be checked"),
                )
                .why("pyward has no copy of the flag feed, so a package your organisation flagged would not be stopped.")
                .evidence(Evidence::Text {
                    text: error.to_string(),
                })
                .advice("check the network or the report-server setting, then run the command again"),
            ),
        }
    }
}

/// The feed for an install: the cached copy when it is younger than
/// `max_age` (zero: always ask the server, cheaply with the ETag), otherwise
/// a refreshed one, falling back to the cached copy when the server cannot
/// be reached.
pub async fn current_feed(client: &ServerClient, cache_dir: &Path, max_age: Duration) -> FeedState {
    let cached = CachedFeed::load(cache_dir, client).ok().flatten();
    if let Some(c) = &cached {
        if !max_age.is_zero() && c.age(jiff::Timestamp::now()) < max_age {
            return FeedState::Fresh(c.clone());
        }
    }
    match refresh_feed(client, cache_dir).await {
        Ok(fresh) => FeedState::Fresh(fresh),
        Err(error) => match cached {
            Some(feed) => FeedState::Cached { feed, error },
            None => FeedState::Missing(error),
        },
    }
}

/// The feed without asking the server (`--offline`).
pub fn cached_feed(client: &ServerClient, cache_dir: &Path) -> FeedState {
    match CachedFeed::load(cache_dir, client) {
        Ok(Some(feed)) => FeedState::Cached {
            feed,
            error: FeedError::Network("offline: the server was not asked".to_string()),
        },
        Ok(None) => FeedState::Missing(FeedError::Network(
            "offline, and no copy of the flag feed yet".to_string(),
        )),
        Err(e) => FeedState::Missing(e),
    }
}

/// One `Check::Flag` finding (Critical: the policy blocks it) for each flag
/// on `name` that covers `version`. With no version, any flag on the name
/// counts. A flag whose version range cannot be read covers every version.
pub fn flag_findings(
    feed: &CachedFeed,
    name: &PackageName,
    version: Option<&Version>,
) -> Vec<Finding> {
    feed.feed
        .flags
        .iter()
        .filter(|f| PackageName::from_str(&f.name).is_ok_and(|n| &n == name))
        .filter_map(|f| {
            let unreadable =
                f.versions != "all" && VersionSpecifiers::from_str(&f.versions).is_err();
            let covers = match version {
                None => true,
                Some(_) if f.versions == "all" => true,
                Some(v) => VersionSpecifiers::from_str(&f.versions)
                    .map(|specs| specs.contains(v))
                    .unwrap_or(true),
            };
            covers.then(|| flag_finding(f, &feed.server, name, version, unreadable))
        })
        .collect()
}

fn flag_finding(
    f: &Flag,
    server: &str,
    name: &PackageName,
    version: Option<&Version>,
    unreadable: bool,
) -> Finding {
    let shown = match version {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    };
    let versions = if f.versions == "all" {
        "all versions".to_string()
    } else {
        f.versions.clone()
    };
    let mut finding = Finding::new(
        Check::Flag,
        Severity::Critical,
        PackageRef::new(name.to_string(), version.map(ToString::to_string), None),
        format!("{shown} is flagged by {}: {}", f.source, first_line(&f.reason)),
    )
    .why("Someone reported this package and a moderator of your organisation's report server confirmed it is harmful.")
    .evidence(Evidence::Text {
        text: f.reason.clone(),
    })
    .evidence(Evidence::Signal {
        name: "flagged versions".to_string(),
        value: versions,
    })
    .evidence(Evidence::Signal {
        name: "confirmed by".to_string(),
        value: format!("{} on {}", f.confirmed_by, f.confirmed_at),
    })
    .evidence(Evidence::Signal {
        name: "source".to_string(),
        value: format!("{} ({server})", f.source),
    });
    if let Some(r) = &f.report {
        finding = finding.evidence(Evidence::Signal {
            name: "report".to_string(),
            value: r.clone(),
        });
    }
    if unreadable {
        finding = finding.evidence(Evidence::Text {
            text: format!(
                "the flagged version range {:?} could not be read, so it counts for every version",
                f.versions
            ),
        });
    }
    finding
        .advice("choose another version or another package")
        .advice(format!(
            "if this is a mistake, ask the moderators of {server} to withdraw flag {}",
            f.id
        ))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// "45 seconds", "3 minutes", "2 hours", "5 days".
pub fn describe_age(age: Duration) -> String {
    let secs = age.as_secs();
    let (n, unit) = match secs {
        0..60 => (secs, "second"),
        60..3600 => (secs / 60, "minute"),
        3600..86_400 => (secs / 3600, "hour"),
        _ if age == Duration::MAX => return "an unknown time".to_string(),
        _ => (secs / 86_400, "day"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

fn timestamp_now() -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .map(|t| t.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use pyward_guard::{Decision, Policy};

    use super::*;

    fn flag(name: &str, versions: &str) -> Flag {
        Flag {
            id: 7,
            name: name.to_string(),
            versions: versions.to_string(),
            reason: "steals credentials\nsecond line".to_string(),
            confirmed_by: "alice".to_string(),
            confirmed_at: "2026-11-20T10:00:00Z".to_string(),
            source: "Example Corp".to_string(),
            report: Some("r-1".to_string()),
        }
    }

    fn feed(flags: Vec<Flag>) -> CachedFeed {
        CachedFeed {
            server: "https://flags.example/".to_string(),
            fetched_at: "2026-11-20T12:00:00Z".to_string(),
            etag: None,
            feed: FlagFeed {
                format: 1,
                source: "Example Corp".to_string(),
                flags,
            },
        }
    }

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    fn version(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    #[test]
    fn flags_match_by_normalized_name_and_version_range() {
        let f = feed(vec![flag("evil-pkg", ">=1.0, <1.4"), flag("other", "all")]);
        assert_eq!(
            flag_findings(&f, &name("Evil_Pkg"), Some(&version("1.2"))).len(),
            1
        );
        assert!(flag_findings(&f, &name("evil-pkg"), Some(&version("1.4"))).is_empty());
        assert!(flag_findings(&f, &name("evil-pkg"), Some(&version("0.9"))).is_empty());
        assert_eq!(flag_findings(&f, &name("evil-pkg"), None).len(), 1);
        assert_eq!(
            flag_findings(&f, &name("other"), Some(&version("99"))).len(),
            1
        );
        assert!(flag_findings(&f, &name("evil"), Some(&version("1.2"))).is_empty());
    }

    #[test]
    fn a_flag_finding_blocks_and_names_reason_and_source() {
        let f = feed(vec![flag("evil", "==1.0")]);
        let found = flag_findings(&f, &name("evil"), Some(&version("1.0")));
        let finding = &found[0];
        assert_eq!(finding.check, Check::Flag);
        assert_eq!(Policy::default().decide(finding), Decision::Block);
        assert_eq!(
            finding.title,
            "evil 1.0 is flagged by Example Corp: steals credentials"
        );
        let text = serde_json::to_string(finding).unwrap();
        assert!(text.contains("alice on 2026-11-20T10:00:00Z"));
        assert!(text.contains("Example Corp (https://flags.example/)"));
        assert!(finding.advice[1].contains("withdraw flag 7"));
    }

    #[test]
    fn unreadable_ranges_count_for_every_version() {
        let f = feed(vec![flag("evil", "not a range")]);
        let found = flag_findings(&f, &name("evil"), Some(&version("3.0")));
        assert_eq!(found.len(), 1);
        assert!(serde_json::to_string(&found[0])
            .unwrap()
            .contains("could not be read"));
    }

    #[test]
    fn newer_feed_formats_are_refused() {
        assert!(matches!(
            parse_feed(r#"{"format": 2, "source": "x", "flags": []}"#),
            Err(FeedError::NewerFormat(2))
        ));
        assert!(matches!(parse_feed("[]"), Err(FeedError::Invalid(_))));
        assert!(parse_feed(r#"{"format": 1, "source": "x", "flags": []}"#).is_ok());
    }

    #[test]
    fn ages_read_plainly() {
        assert_eq!(describe_age(Duration::from_secs(1)), "1 second");
        assert_eq!(describe_age(Duration::from_secs(150)), "2 minutes");
        assert_eq!(describe_age(Duration::from_secs(3 * 3600 + 5)), "3 hours");
        assert_eq!(describe_age(Duration::from_secs(86_400 * 5)), "5 days");
        assert_eq!(describe_age(Duration::MAX), "an unknown time");
        let f = feed(vec![]);
        let now = jiff::Timestamp::from_str("2026-11-20T14:30:00Z").unwrap();
        assert_eq!(describe_age(f.age(now)), "2 hours");
    }
}
