//! Install-time findings for a new direct requirement, from recorded index
//! responses, and how pyward's default policy decides on them.

use pyward_guard::{Check, Decision, Evidence, Policy, Severity};
use pyward_trust::{
    check_name, install_time_findings, Popularity, ProjectStatus, StatusKind, Timestamp, TrustCard,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn card_at(name: &str, now: &str, status: Option<ProjectStatus>) -> TrustCard {
    TrustCard::from_pypi_json(
        &fixture(&format!("pypi-json-{name}.json")),
        status,
        Popularity::embedded(),
        now.parse::<Timestamp>().unwrap(),
    )
    .unwrap()
}

fn texts(f: &pyward_guard::Finding) -> Vec<&str> {
    f.evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::Text { text } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn established_packages_pass_silently() {
    let requests = card_at("requests", "2026-11-21T12:00:00Z", None);
    assert_eq!(install_time_findings("requests", Some(&requests), None), []);
    // Old and source-only, but not young: no finding either.
    let docopt = card_at("docopt", "2026-11-21T12:00:00Z", None);
    assert_eq!(install_time_findings("docopt", Some(&docopt), None), []);
    // No card (index unreachable) and no suspicion: nothing to say.
    assert_eq!(install_time_findings("requests", None, None), []);
}

#[test]
fn a_typosquat_is_asked_about_with_did_you_mean() {
    // The young package's card stands in for a look-alike's.
    let card = card_at("abhinash-stt", "2026-11-21T12:00:00Z", None);
    let suspicion = check_name("reqeusts", Popularity::embedded()).unwrap();
    let findings = install_time_findings("Reqeusts", Some(&card), Some(&suspicion));
    assert_eq!(findings.len(), 1, "the typosquat finding carries the card");
    let f = &findings[0];
    assert_eq!((f.check, f.severity), (Check::Typosquat, Severity::High));
    assert_eq!(f.package.name, "reqeusts");
    assert_eq!(f.title, "reqeusts looks like a typo of requests");
    assert_eq!(
        f.advice,
        [
            "did you mean:  pyward install requests",
            "install it anyway:  pyward install reqeusts --allow reqeusts",
        ]
    );
    let t = texts(f);
    assert!(t.contains(&"reqeusts swaps two letters (\"eu\" for \"ue\") of requests."));
    assert!(t.contains(
        &"reqeusts was first published 25 days ago, has 1 release, 1 maintainer and no source repository."
    ));
    assert!(
        t.contains(&"requests is downloaded 1.3 billion times a month (snapshot of 2026-04-01).")
    );
    // On a terminal pyward asks; in CI it blocks; --allow lets it through.
    let policy = Policy::default();
    assert_eq!(policy.decide(f), Decision::Ask);
    assert_eq!(policy.decide_unattended(f), Decision::Block);
    let allowed = Policy {
        allow: vec!["reqeusts".into()],
        ..Policy::default()
    };
    assert_eq!(allowed.decide(f), Decision::Allow);
}

#[test]
fn imitations_are_not_called_typos() {
    let suspicion = check_name("python-requests", Popularity::embedded()).unwrap();
    let f = &install_time_findings("python-requests", None, Some(&suspicion))[0];
    assert_eq!(
        f.title,
        "python-requests looks like an imitation of requests"
    );
}

#[test]
fn a_very_young_single_release_project_without_source_is_asked_about() {
    let card = card_at("abhinash-stt", "2026-11-21T12:00:00Z", None);
    let findings = install_time_findings("abhinash-stt", Some(&card), None);
    assert_eq!(findings.len(), 1);
    let f = &findings[0];
    assert_eq!((f.check, f.severity), (Check::Trust, Severity::Moderate));
    assert_eq!(Policy::default().decide_unattended(f), Decision::Block);
    assert!(f.advice.iter().any(|a| a.contains("--allow abhinash-stt")));

    // The same project 30 days after its first upload is no longer "very young".
    let later = card_at("abhinash-stt", "2026-11-25T16:00:00Z", None);
    assert_eq!(later.age_days, Some(30));
    assert_eq!(
        install_time_findings("abhinash-stt", Some(&later), None),
        []
    );
}

#[test]
fn a_linked_repository_or_a_second_release_ends_the_finding() {
    let mut card = card_at("abhinash-stt", "2026-11-21T12:00:00Z", None);
    card.releases = 2;
    assert_eq!(install_time_findings("abhinash-stt", Some(&card), None), []);
    let mut card = card_at("abhinash-stt", "2026-11-21T12:00:00Z", None);
    card.repository = Some(pyward_trust::ClaimedUrl {
        label: "Source".into(),
        url: "https://github.com/someone/abhinash-stt".into(),
        verified: false,
    });
    assert_eq!(install_time_findings("abhinash-stt", Some(&card), None), []);
}

#[test]
fn source_only_young_projects_are_high() {
    let mut card = card_at("abhinash-stt", "2026-11-21T12:00:00Z", None);
    card.builds = pyward_trust::Builds::SourceOnly;
    let f = &install_time_findings("abhinash-stt", Some(&card), None)[0];
    assert_eq!(f.severity, Severity::High);
    assert!(texts(f)
        .iter()
        .any(|t| t.contains("runs its own build code")));
}

#[test]
fn project_status_is_reported() {
    let archived = card_at(
        "pil",
        "2026-11-21T12:00:00Z",
        Some(ProjectStatus {
            status: StatusKind::Archived,
            reason: None,
        }),
    );
    let f = &install_time_findings("PIL", Some(&archived), None)[0];
    assert_eq!((f.check, f.severity), (Check::Trust, Severity::Low));
    assert_eq!(
        f.title,
        "pil is archived: its maintainers expect no further updates"
    );
    assert_eq!(Policy::default().decide_unattended(f), Decision::Warn);

    let quarantined = card_at(
        "requests",
        "2026-11-21T12:00:00Z",
        Some(ProjectStatus {
            status: StatusKind::Quarantined,
            reason: Some("malware report".into()),
        }),
    );
    let f = &install_time_findings("requests", Some(&quarantined), None)[0];
    assert_eq!(f.severity, Severity::High);
    assert!(texts(f).contains(&"The index says: malware report"));
    assert_eq!(Policy::default().decide_unattended(f), Decision::Block);
}
