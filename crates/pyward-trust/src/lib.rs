//! Trust signals for Python packages, shown where the decision to install is
//! made: how popular a project is (an embedded snapshot of the most downloaded
//! projects), whether its name looks like a typo of a popular one, a trust
//! card built from the index's project JSON, the findings an install raises
//! for a new direct requirement, and the release cooldown (`--min-age`).
//! No I/O beyond parsing what the caller hands in; no printing.

pub mod card;
pub mod cooldown;
pub mod findings;
pub mod popularity;
pub mod typosquat;

pub use card::{
    parse_project_status, Builds, Cadence, CardError, ClaimedUrl, LatestRelease, Owner,
    ProjectStatus, StatusKind, TrustCard, YankedRelease,
};
pub use cooldown::{Cooldown, CooldownError};
pub use findings::{downloads_in_words, install_time_findings, is_young_and_thin, YOUNG_DAYS};
pub use popularity::{normalize, Popular, Popularity, PopularityError};
pub use typosquat::{check_name, check_name_with, Suspicion, Technique, TyposquatRules};

/// Re-exported so callers can pass `now` and read the card's timestamps.
pub use jiff::Timestamp;
