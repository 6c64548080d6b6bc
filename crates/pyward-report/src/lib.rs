//! Reporting suspicious packages and honouring the reports of others.
//!
//! - [`Report`]: what `pyward report NAME` composes (the user's reason plus
//!   pyward's own evidence), shown to the user before it is sent.
//! - [`ServerClient`]: talks to the organisation's report server
//!   (`pyward server`); [`Outbox`] keeps reports that could not be sent, and
//!   [`submit_or_save`] / [`retry_outbox`] make sure none is lost.
//! - [`feed`]: the flag feed, cached on disk for offline use, and
//!   [`flag_findings`], which turns a flag into a blocking finding.
//! - [`pypi`]: the report in the shape PyPI takes it (its malware
//!   observation API, or an email to its security team).
//!
//! Nothing here prints; the CLI shows the values it gets back.

pub mod client;
pub mod feed;
pub mod outbox;
pub mod pypi;
pub mod report;

pub use client::{ClientError, ServerClient, SubmitError, Submitted};
pub use feed::{
    cached_feed, current_feed, describe_age, flag_findings, refresh_feed, CachedFeed, FeedError,
    FeedState, Flag, FlagFeed,
};
pub use outbox::{
    retry_outbox, submit_or_save, Outbox, OutboxError, Outcome, Pending, RetrySummary,
};
pub use report::{FileHash, Report, ReportError, MAX_REPORT_BYTES};

/// `pyward/VERSION`, sent as the User-Agent and in reports.
pub fn client_name() -> String {
    format!("pyward {}", env!("CARGO_PKG_VERSION"))
}
