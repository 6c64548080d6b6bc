//! Trust signals and name checks for the packages a user asks for by name:
//! a likely typo of a popular project, or a very young, thin project, is
//! raised before anything is resolved or downloaded.

use std::io::{IsTerminal, Write};

use pyward_dist::PackageName;
use pyward_guard::{Decision, Finding, Policy};
use pyward_index::IndexClient;
use pyward_trust::{Popularity, Timestamp, TrustCard};
use url::Url;

use super::GuardOutcome;
use crate::context::Context;
use crate::output::{plural, SecurityLine};

/// The JSON API document of a project on the same host as the index
/// (`…/simple/` → `…/pypi/NAME/json`, as PyPI serves it).
pub fn json_api_url(client: &IndexClient, name: &PackageName) -> Option<Url> {
    let index = client.indexes().first()?.url().clone();
    let base = index.as_str().strip_suffix("simple/")?;
    Url::parse(&format!("{base}pypi/{name}/json")).ok()
}

/// The trust card of `name`, when the index offers the data.
pub async fn card(client: &IndexClient, name: &PackageName) -> Option<TrustCard> {
    let url = json_api_url(client, name)?;
    let json = client
        .fetch_json_bytes(&url, "application/json")
        .await
        .ok()??;
    let status = match client.indexes().first() {
        Some(index) => client
            .fetch_json_bytes(&index.project_url(name), pyward_index::SIMPLE_ACCEPT)
            .await
            .ok()
            .flatten()
            .and_then(|b| pyward_trust::parse_project_status(&b).ok().flatten()),
        None => None,
    };
    TrustCard::from_pypi_json(&json, status, Popularity::embedded(), Timestamp::now()).ok()
}

/// Check the names the user asked for that are not installed yet.
pub async fn check(
    ctx: &Context,
    client: &IndexClient,
    new_direct: &[PackageName],
    policy: &mut Policy,
) -> GuardOutcome {
    let pop = Popularity::embedded();
    // A project among the most downloaded is established: no card to fetch
    // (and it is never a look-alike of another popular name).
    let unknown: Vec<&PackageName> = new_direct
        .iter()
        .filter(|n| pop.get(n.as_ref()).is_none())
        .collect();
    let fetched = futures::future::join_all(unknown.iter().map(|n| card(client, n))).await;
    let cards: Vec<Option<TrustCard>> = new_direct
        .iter()
        .map(|n| {
            unknown
                .iter()
                .position(|u| *u == n)
                .and_then(|i| fetched[i].clone())
        })
        .collect();
    let mut findings = Vec::new();
    let mut established = 0usize;
    let mut allowed = Vec::new();
    for (name, card) in new_direct.iter().zip(cards) {
        let suspicion = pyward_trust::check_name(name.as_ref(), pop);
        let mut found =
            pyward_trust::install_time_findings(name.as_ref(), card.as_ref(), suspicion.as_ref());
        if found.is_empty() {
            established += 1;
            continue;
        }
        if let Some(card) = &card {
            for f in &mut found {
                f.package.version = card.latest.as_ref().map(|l| l.version.clone());
            }
        }
        for f in found {
            match policy.decide(&f) {
                Decision::Ask if ask(ctx, &f) => {
                    policy.allow.push(f.package.name.clone());
                    allowed.push(f.package.name.clone());
                }
                Decision::Allow => allowed.push(f.package.name.clone()),
                _ => {}
            }
            findings.push(f);
        }
    }
    let mut details = Vec::new();
    allowed.sort();
    allowed.dedup();
    if !allowed.is_empty() {
        details.push(format!("allowed by you: {}", allowed.join(", ")));
    }
    let flagged = findings.len();
    let status = if new_direct.is_empty() {
        "no new packages requested by name".to_string()
    } else if flagged == 0 {
        format!(
            "{} requested by name: established",
            plural(established, "new package")
        )
    } else {
        format!(
            "{} of {} requested by name raised a warning",
            flagged,
            plural(new_direct.len(), "new package")
        )
    };
    GuardOutcome {
        line: SecurityLine {
            label: "Trust",
            status,
            ok: flagged == 0,
            details,
        },
        findings,
    }
}

/// Ask on a terminal; never when nobody can answer.
fn ask(ctx: &Context, f: &Finding) -> bool {
    if ctx.printer.json || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    ctx.printer.finding(f, Decision::Ask);
    let mut err = std::io::stderr();
    let _ = write!(err, "Install {} anyway? [y/N] ", f.package.name);
    let _ = err.flush();
    let mut answer = String::new();
    if std::io::stdin().read_line(&mut answer).is_err() {
        return false;
    }
    matches!(answer.trim(), "y" | "Y" | "yes" | "Yes")
}

/// "3 days ago", "2 years ago".
pub fn days_in_words(days: i64) -> String {
    match days {
        0 => "today".into(),
        1 => "yesterday".into(),
        d if d < 60 => format!("{d} days ago"),
        d if d < 730 => format!("{} months ago", d / 30),
        d => format!("{} years ago", d / 365),
    }
}

/// PEP 792 project status of every resolved package, from the index pages
/// the resolver read (no extra request): a quarantined project is refused,
/// an archived or deprecated one is said.
pub fn project_status(resolution: &pyward_resolve::Resolution) -> Vec<Finding> {
    use pyward_guard::{Check, PackageRef, Severity};
    let mut findings = Vec::new();
    for p in &resolution.packages {
        let Some(status) = &p.project_status else {
            continue;
        };
        let package = PackageRef::new(p.name.to_string(), Some(p.version.to_string()), None);
        let reason = status
            .reason
            .as_deref()
            .filter(|r| !r.trim().is_empty())
            .map(|r| format!(" The index says: {}", r.trim()))
            .unwrap_or_default();
        let finding = match status.status.as_str() {
            "quarantined" => Finding::new(
                Check::Flag,
                Severity::High,
                package,
                format!("{} is quarantined by the index", p.name),
            )
            .why(format!(
                "The index's operators quarantine a project they believe is unsafe, usually because of malware reports.{reason}"
            ))
            .advice(format!("remove {} from your requirements", p.name)),
            "archived" => Finding::new(
                Check::Trust,
                Severity::Low,
                package,
                format!("{} is archived: its maintainers expect no more releases", p.name),
            )
            .why(format!(
                "An archived project gets no fixes, including for security problems found later.{reason}"
            ))
            .advice(format!("look for a maintained alternative to {}", p.name)),
            "deprecated" => Finding::new(
                Check::Trust,
                Severity::Low,
                package,
                format!("{} is deprecated by its maintainers", p.name),
            )
            .why(format!(
                "A deprecated project is on its way out; its maintainers advise against new use.{reason}"
            ))
            .advice(format!("look for what replaces {}", p.name)),
            _ => continue,
        };
        findings.push(finding);
    }
    findings
}
