//! The findings an install raises for a direct requirement new to the
//! environment: a suspected typosquat (with "did you mean"), a very young,
//! single-release project with no source repository, and the index's project
//! status. Established projects raise nothing.

use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};

use crate::card::{StatusKind, TrustCard};
use crate::popularity::normalize;
use crate::typosquat::{Suspicion, Technique};

/// A project first published fewer days ago than this is "very young".
///
/// Malicious uploads are usually reported and removed within days; a month
/// covers that window with margin, while a real project has, by then, mostly
/// shipped a second release or linked its source (either ends the finding).
pub const YOUNG_DAYS: i64 = 30;

/// Findings for one direct requirement about to be installed for the first
/// time. `card` is `None` when the index's project JSON could not be had;
/// `suspicion` is [`crate::check_name`]'s answer.
pub fn install_time_findings(
    name: &str,
    card: Option<&TrustCard>,
    suspicion: Option<&Suspicion>,
) -> Vec<Finding> {
    let name = normalize(name);
    let mut findings = Vec::new();
    if let Some(s) = suspicion {
        findings.push(typosquat_finding(&name, card, s));
    } else if let Some(card) = card.filter(|c| is_young_and_thin(c)) {
        findings.push(young_finding(&name, card));
    }
    if let Some(f) = card.and_then(|c| status_finding(&name, c)) {
        findings.push(f);
    }
    findings
}

/// Very young, a single release, and no source repository: no track record
/// and nothing public to look at.
pub fn is_young_and_thin(card: &TrustCard) -> bool {
    card.age_days.is_some_and(|d| d < YOUNG_DAYS) && card.releases <= 1 && card.repository.is_none()
}

fn package(name: &str) -> PackageRef {
    PackageRef::new(name, None, None)
}

fn allow_advice(name: &str) -> String {
    format!("install it anyway:  pyward install {name} --allow {name}")
}

fn typosquat_finding(name: &str, card: Option<&TrustCard>, s: &Suspicion) -> Finding {
    let title = match s.technique {
        Technique::Transposition
        | Technique::EditDistance
        | Technique::Separator
        | Technique::Homoglyph => format!("{name} looks like a typo of {}", s.resembles),
        Technique::Affix | Technique::Combination => {
            format!("{name} looks like an imitation of {}", s.resembles)
        }
    };
    let mut f = Finding::new(Check::Typosquat, Severity::High, package(name), title)
        .why("Typo-named packages are a common way to deliver malware.")
        .evidence(Evidence::Text {
            text: format!("{name} {}.", s.detail),
        });
    if let Some(card) = card {
        f = f.evidence(Evidence::Text {
            text: card_sentence(name, card),
        });
    }
    f.evidence(Evidence::Text {
        text: format!(
            "{} is downloaded {} times a month (snapshot of {}).",
            s.resembles,
            downloads_in_words(s.resembles_downloads),
            s.snapshot_date
        ),
    })
    .evidence(signal("resembles", &s.resembles))
    .evidence(signal("technique", s.technique.as_str()))
    .advice(format!("did you mean:  pyward install {}", s.resembles))
    .advice(allow_advice(name))
}

fn young_finding(name: &str, card: &TrustCard) -> Finding {
    // Installing from source runs the package's code before anyone can look.
    let severity = if card.runs_build_code() {
        Severity::High
    } else {
        Severity::Moderate
    };
    let mut f = Finding::new(
        Check::Trust,
        severity,
        package(name),
        format!("{name} is new and has no track record"),
    )
    .why("A brand-new project with one release and no public source is what most malicious uploads look like.")
    .evidence(Evidence::Text {
        text: card_sentence(name, card),
    });
    if card.runs_build_code() {
        f = f.evidence(Evidence::Text {
            text: format!("{name} has no wheel: installing it runs its own build code."),
        });
    }
    f.evidence(signal("age-days", &card.age_days.unwrap_or(0).to_string()))
        .evidence(signal("releases", &card.releases.to_string()))
        .evidence(signal("repository", "none"))
        .advice(format!(
            "check it is the project you meant:  pyward info {name}"
        ))
        .advice(allow_advice(name))
}

fn status_finding(name: &str, card: &TrustCard) -> Option<Finding> {
    let status = card.status.as_ref()?;
    let reason = status
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let (severity, title, why) = match status.status {
        StatusKind::Active => return None,
        StatusKind::Quarantined => (
            Severity::High,
            format!("the index has quarantined {name}"),
            "The index considers it unsafe (for example, malware) and serves none of its files.",
        ),
        StatusKind::Archived => (
            Severity::Low,
            format!("{name} is archived: its maintainers expect no further updates"),
            "An archived project gets no fixes, including security fixes.",
        ),
        StatusKind::Deprecated => (
            Severity::Low,
            format!("{name} is deprecated"),
            "Its maintainers consider it obsolete; it may have been superseded.",
        ),
    };
    let mut f = Finding::new(Check::Trust, severity, package(name), title)
        .why(why)
        .evidence(signal("project-status", status.status.as_str()));
    if let Some(reason) = reason {
        f = f.evidence(Evidence::Text {
            text: format!("The index says: {reason}"),
        });
    }
    Some(f.advice(format!("see the project's trust card:  pyward info {name}")))
}

fn signal(name: &str, value: &str) -> Evidence {
    Evidence::Signal {
        name: name.to_string(),
        value: value.to_string(),
    }
}

/// `reqeusts was first published 2 days ago, has 1 release, 1 maintainer and
/// no source repository.`
fn card_sentence(name: &str, card: &TrustCard) -> String {
    let published = match card.age_days {
        Some(0) => "was first published today".to_string(),
        Some(1) => "was first published 1 day ago".to_string(),
        Some(d) => format!("was first published {d} days ago"),
        None => "has no uploaded files".to_string(),
    };
    let releases = plural(card.releases, "release", "releases");
    let owners = plural(card.owners.len(), "maintainer", "maintainers");
    let repository = match &card.repository {
        Some(r) => format!("claims the source repository {}", r.url),
        None => "no source repository".to_string(),
    };
    format!("{name} {published}, has {releases}, {owners} and {repository}.")
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// `1.3 billion`, `24 million`, `57 thousand`, `812`.
pub fn downloads_in_words(n: u64) -> String {
    let scaled = |unit: f64, word: &str| {
        let x = n as f64 / unit;
        if x >= 10.0 {
            format!("{x:.0} {word}")
        } else {
            format!("{x:.1} {word}")
        }
    };
    match n {
        1_000_000_000.. => scaled(1e9, "billion"),
        1_000_000.. => scaled(1e6, "million"),
        1_000.. => scaled(1e3, "thousand"),
        _ => n.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_read_as_words() {
        assert_eq!(downloads_in_words(1_291_814_272), "1.3 billion");
        assert_eq!(downloads_in_words(24_199_673), "24 million");
        assert_eq!(downloads_in_words(57_487), "57 thousand");
        assert_eq!(downloads_in_words(812), "812");
    }
}
