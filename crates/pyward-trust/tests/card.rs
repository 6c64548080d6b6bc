//! Trust cards built from recorded index responses (PyPI JSON API and PEP 691
//! simple pages saved in `tests/fixtures`).

use pyward_trust::{
    parse_project_status, Builds, CardError, Popularity, ProjectStatus, StatusKind, Timestamp,
    TrustCard,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn now() -> Timestamp {
    "2026-11-21T12:00:00Z".parse().unwrap()
}

fn card(name: &str, status: Option<ProjectStatus>) -> TrustCard {
    TrustCard::from_pypi_json(
        &fixture(&format!("pypi-json-{name}.json")),
        status,
        Popularity::embedded(),
        now(),
    )
    .unwrap()
}

#[test]
fn an_established_project() {
    let c = card("requests", None);
    assert_eq!(c.name, "requests");
    assert_eq!(
        c.first_upload,
        Some("2011-02-14T08:49:42.64166Z".parse().unwrap())
    );
    assert_eq!(c.age_days, Some(5759));
    // 163 versions are listed; 3 have no files left.
    assert_eq!(c.releases, 160);
    let latest = c.latest.as_ref().unwrap();
    assert_eq!(latest.version, "2.34.2");
    assert_eq!(latest.age_days, Some(190));
    assert!(!latest.yanked);
    assert_eq!(c.cadence.releases_last_year, 6);
    assert_eq!(c.cadence.median_days_between, Some(8));
    assert_eq!(c.cadence.days_since_last_upload, Some(190));
    let owners: Vec<&str> = c.owners.iter().map(|o| o.user.as_str()).collect();
    assert_eq!(owners, ["Lukasa", "graffatcolmingov", "nateprewitt"]);
    assert_eq!(
        c.declared_people,
        [
            "Kenneth Reitz <me@kennethreitz.org>",
            "Ian Stapleton Cordasco <graffatcolmingov@gmail.com>",
            "Nate Prewitt <nate.prewitt@gmail.com>",
        ]
    );
    let repo = c.repository.as_ref().unwrap();
    assert_eq!(repo.url, "https://github.com/psf/requests");
    assert!(!repo.verified);
    let popular = c.popularity.as_ref().unwrap();
    assert_eq!((popular.rank, popular.downloads), (7, 1_291_814_272));
    assert_eq!(c.popularity_date, "2026-04-01");
    let yanked: Vec<(&str, Option<&str>)> = c
        .yanked_releases
        .iter()
        .map(|y| (y.version.as_str(), y.reason.as_deref()))
        .collect();
    assert_eq!(
        yanked,
        [
            (
                "2.32.0",
                Some("Yanked due to conflicts with CVE-2024-35195 mitigation")
            ),
            (
                "2.32.1",
                Some("Yanked due to conflicts with CVE-2024-35195 mitigation")
            ),
        ]
    );
    assert_eq!(c.builds, Builds::Wheels);
    assert!(!c.runs_build_code());
    assert_eq!(
        c.development_status.as_deref(),
        Some("5 - Production/Stable")
    );
    assert_eq!(c.status, None);
}

#[test]
fn a_source_only_project_without_repository() {
    let c = card("docopt", None);
    assert_eq!(c.builds, Builds::SourceOnly);
    assert!(c.runs_build_code());
    // Its only links are a home page and "UNKNOWN": no repository claimed.
    assert_eq!(c.repository, None);
    assert_eq!(c.project_urls.len(), 1);
    assert_eq!(c.releases, 11);
    assert_eq!(c.cadence.releases_last_year, 0);
    assert_eq!(c.cadence.days_since_last_upload, Some(4541));
    assert_eq!(c.development_status.as_deref(), Some("3 - Alpha"));
    assert!(c.popularity.is_some());
}

#[test]
fn a_young_single_release_project() {
    let c = card("abhinash-stt", None);
    assert_eq!(c.age_days, Some(25));
    assert_eq!(c.releases, 1);
    assert_eq!(c.repository, None);
    assert!(c.project_urls.is_empty());
    assert_eq!(c.owners.len(), 1);
    assert_eq!(
        c.declared_people,
        ["Abhinash Anil Kumar <abhinashanilkumar0@gmail.com>"]
    );
    assert_eq!(c.popularity, None);
    assert_eq!(c.cadence.median_days_between, None);
    assert_eq!(c.builds, Builds::Wheels);
    assert_eq!(c.development_status, None);
}

#[test]
fn an_archived_project_without_files() {
    let status = parse_project_status(&fixture("simple-pil.json")).unwrap();
    assert_eq!(
        status,
        Some(ProjectStatus {
            status: StatusKind::Archived,
            reason: None
        })
    );
    let c = card("pil", status);
    assert_eq!(c.releases, 0);
    assert_eq!(c.first_upload, None);
    assert_eq!(c.latest, None);
    assert_eq!(c.builds, Builds::NoFiles);
    assert_eq!(
        c.status.as_ref().map(|s| s.status),
        Some(StatusKind::Archived)
    );
    assert_eq!(c.development_status.as_deref(), Some("6 - Mature"));
    // Maintainer accounts are listed with their role.
    assert!(c.owners.iter().any(|o| o.role == "Maintainer"));
}

#[test]
fn project_status_is_read_where_the_index_puts_it() {
    assert_eq!(
        parse_project_status(&fixture("simple-requests.json")).unwrap(),
        None
    );
    let in_meta = br#"{"meta":{"api-version":"1.4","project-status":{"status":"quarantined","reason":"malware"}},"name":"x","files":[]}"#;
    assert_eq!(
        parse_project_status(in_meta).unwrap(),
        Some(ProjectStatus {
            status: StatusKind::Quarantined,
            reason: Some("malware".into())
        })
    );
    let unknown = br#"{"project-status":{"status":"sleeping"}}"#;
    assert_eq!(parse_project_status(unknown).unwrap(), None);
    assert!(parse_project_status(b"<html>").is_err());
}

#[test]
fn the_card_serializes_for_json_output() {
    let c = card("requests", None);
    let json = serde_json::to_value(&c).unwrap();
    assert_eq!(json["name"], "requests");
    assert_eq!(json["builds"], "wheels");
    assert_eq!(json["repository"]["verified"], false);
    assert_eq!(json["popularity"]["rank"], 7);
    assert_eq!(json["latest"]["uploaded"], "2026-05-14T19:25:26.443Z");
    assert_eq!(json["yanked_releases"][0]["version"], "2.32.0");
}

#[test]
fn malformed_responses_are_errors() {
    let pop = Popularity::embedded();
    for bad in [&b""[..], b"{}", b"[1,2]", b"{\"info\": 3}", b"not json"] {
        assert!(matches!(
            TrustCard::from_pypi_json(bad, None, pop, now()),
            Err(CardError::Json(_))
        ));
    }
    assert!(matches!(
        TrustCard::from_pypi_json(br#"{"info":{"name":""}}"#, None, pop, now()),
        Err(CardError::MissingName)
    ));
    // Odd but valid: unknown keys, missing times, a bare `upload_time`.
    let odd = br#"{"info":{"name":"odd","version":"1","future_key":[1]},
        "releases":{"1":[{"filename":"odd-1.tar.gz","upload_time":"2026-11-20T00:00:00"}],
                    "0":[{"filename":"odd-0-py3-none-any.whl","upload_time_iso_8601":"garbage"}]}}"#;
    let c = TrustCard::from_pypi_json(odd, None, pop, now()).unwrap();
    assert_eq!(c.releases, 2);
    assert_eq!(c.age_days, Some(1));
    assert_eq!(c.builds, Builds::SourceOnly);
}

proptest::proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
        let _ = TrustCard::from_pypi_json(&bytes, None, Popularity::embedded(), now());
        let _ = parse_project_status(&bytes);
    }

    #[test]
    fn arbitrary_release_data_never_panics(
        version in "\\PC{0,8}",
        time in "\\PC{0,30}",
        kind in "(sdist|bdist_wheel|bdist_egg|\\PC{0,5})",
        yanked in proptest::bool::ANY,
    ) {
        let json = serde_json::json!({
            "info": {"name": "p", "version": version},
            "releases": {version.clone(): [{"packagetype": kind, "upload_time_iso_8601": time, "upload_time": time, "yanked": yanked}]},
        });
        let bytes = serde_json::to_vec(&json).unwrap();
        let c = TrustCard::from_pypi_json(&bytes, None, Popularity::embedded(), now()).unwrap();
        proptest::prop_assert_eq!(c.releases, 1);
        proptest::prop_assert_eq!(c.yanked_releases.len(), usize::from(yanked));
    }
}
