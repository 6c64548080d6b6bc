//! Flags from the organisation's report server: a package a moderator
//! confirmed as bad is refused at install, with the reason and the source.
//! The feed is cached, so installs work offline with the last copy (and say
//! how old it is).

use std::time::Duration;

use pyward_dist::{PackageName, Version};
use pyward_guard::Finding;
use pyward_report::{current_feed, flag_findings, FeedState, ServerClient};

use crate::config::Config;
use crate::context::Context;

/// The report server configured for this project, if any.
pub fn server(config: &Config) -> Option<String> {
    std::env::var("PYWARD_REPORT_SERVER")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| config.report_server.clone())
}

pub fn client(config: &Config) -> Option<Result<ServerClient, String>> {
    let url = server(config)?;
    let token = std::env::var("PYWARD_REPORT_TOKEN")
        .ok()
        .filter(|t| !t.is_empty());
    Some(ServerClient::new(&url, token).map_err(|e| e.to_string()))
}

/// Findings for flagged packages among `packages`, plus a line for the
/// Trust block (None when no server is configured).
pub async fn check(
    ctx: &Context,
    config: &Config,
    packages: &[(PackageName, Version)],
) -> (Vec<Finding>, Option<String>) {
    let Some(client) = client(config) else {
        return (Vec::new(), None);
    };
    let client = match client {
        Ok(c) => c,
        Err(e) => return (Vec::new(), Some(format!("flags not checked: {e}"))),
    };
    let server = client.base_url().to_string();
    let state = current_feed(&client, &ctx.data_dir.join("flags"), Duration::ZERO).await;
    let mut findings = Vec::new();
    if let Some(notice) = state.notice(&server, pyward_audit::jiff::Timestamp::now()) {
        findings.push(notice);
    }
    let line = match &state {
        FeedState::Missing(_) => format!("flags from {server} could not be checked"),
        FeedState::Cached { .. } => format!("flags from {server}: last saved copy (offline)"),
        FeedState::Fresh(_) => String::new(),
    };
    if let Some(feed) = state.feed() {
        for (name, version) in packages {
            findings.extend(flag_findings(feed, name, Some(version)));
        }
    }
    let flagged = findings
        .iter()
        .filter(|f| f.check == pyward_guard::Check::Flag)
        .count();
    let line = if !line.is_empty() {
        line
    } else if flagged == 0 {
        format!("none flagged by {server}")
    } else {
        format!("{flagged} flagged by {server}")
    };
    (findings, Some(line))
}
