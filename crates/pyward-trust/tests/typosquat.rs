//! The typosquat check against the embedded snapshot: one test per
//! technique with names seen in real typosquatting, and the names it must
//! leave alone.

use pyward_trust::{check_name, check_name_with, Popularity, Technique, TyposquatRules};

fn suspect(name: &str) -> (String, Technique, String) {
    let s = check_name(name, Popularity::embedded())
        .unwrap_or_else(|| panic!("{name} should be suspected"));
    (s.resembles, s.technique, s.detail)
}

fn assert_suspected(name: &str, resembles: &str, technique: Technique) {
    let (r, t, detail) = suspect(name);
    assert_eq!((r.as_str(), t), (resembles, technique), "{name}: {detail}");
    assert!(
        detail.ends_with(resembles),
        "{name}: detail `{detail}` names {resembles}"
    );
}

fn assert_clean(name: &str) {
    assert_eq!(check_name(name, Popularity::embedded()), None, "{name}");
}

#[test]
fn transposition() {
    assert_suspected("reqeusts", "requests", Technique::Transposition);
    assert_suspected("tqmd", "tqdm", Technique::Transposition);
    assert_suspected("pnadas", "pandas", Technique::Transposition);
    let (_, _, detail) = suspect("reqeusts");
    assert_eq!(detail, "swaps two letters (\"eu\" for \"ue\") of requests");
}

#[test]
fn edit_distance() {
    assert_suspected("djanga", "django", Technique::EditDistance);
    assert_suspected("urlib3", "urllib3", Technique::EditDistance);
    assert_suspected("numpyy", "numpy", Technique::EditDistance);
    assert_suspected("colourama", "colorama", Technique::EditDistance);
    assert_suspected(
        "python-dateutils",
        "python-dateutil",
        Technique::EditDistance,
    );
    assert_suspected(
        "python3-dateutil",
        "python-dateutil",
        Technique::EditDistance,
    );
    assert_suspected("request", "requests", Technique::EditDistance);
    assert_eq!(suspect("urlib3").2, "leaves \"l\" out of urllib3");
    assert_eq!(suspect("numpyy").2, "adds \"y\" to numpy");
    assert_eq!(suspect("djanga").2, "writes \"a\" for \"o\" in django");
}

#[test]
fn separator() {
    assert_suspected("scikitlearn", "scikit-learn", Technique::Separator);
    assert_suspected("setup-tools", "setuptools", Technique::Separator);
    assert_suspected("python_date_util", "python-dateutil", Technique::Separator);
    // Case and `_`/`.` are the same name on the index: not a game.
    assert_clean("Scikit_Learn");
    assert_clean("typing.extensions");
}

#[test]
fn homoglyph() {
    assert_suspected("crypt0graphy", "cryptography", Technique::Homoglyph);
    assert_suspected("rnatplotlib", "matplotlib", Technique::Homoglyph);
    assert_suspected("f1ask", "flask", Technique::Homoglyph);
    // A capital I for an l reads the same in many fonts.
    assert_suspected("jeIlyfish", "jellyfish", Technique::Homoglyph);
    assert_eq!(
        suspect("crypt0graphy").2,
        "writes \"0\" for \"o\" in cryptography"
    );
}

#[test]
fn affix() {
    assert_suspected("python-requests", "requests", Technique::Affix);
    assert_suspected("requests-py", "requests", Technique::Affix);
    assert_suspected("pyrequests", "requests", Technique::Affix);
    assert_suspected("requests-lib", "requests", Technique::Affix);
    assert_suspected("numpy-sdk", "numpy", Technique::Affix);
    assert_suspected("pandas-dev", "pandas", Technique::Affix);
    assert_suspected("numpy2", "numpy", Technique::Affix);
    // Removed decorations: the import name instead of the project name.
    assert_suspected("dateutil", "python-dateutil", Technique::Affix);
    assert_suspected("yaml", "pyyaml", Technique::Affix);
    assert_suspected("opencv", "opencv-python", Technique::Affix);
    assert_eq!(
        suspect("python-requests").2,
        "adds \"python-\" in front of requests"
    );
    // A numbered series is not a decoration of its predecessor.
    let cu = check_name("nvidia-cublas-cu111", Popularity::embedded());
    assert!(
        cu.as_ref().is_none_or(|s| s.technique != Technique::Affix),
        "{cu:?}"
    );
}

#[test]
fn combination() {
    assert_suspected("beautifulsoup-requests", "requests", Technique::Combination);
    assert_eq!(
        suspect("beautifulsoup-requests").2,
        "joins the names of two popular projects, beautifulsoup4 and requests"
    );
    // Plugin namespaces (`pytest-`, `django-`, `requests-`, …) are how real
    // add-ons are named.
    assert_clean("pytest-requests");
    assert_clean("django-requests");
    assert_clean("requests-beautifulsoup");
}

#[test]
fn popular_names_pass() {
    for name in [
        "requests",
        "Requests",
        "numpy",
        "django",
        "toml",
        "tomli",
        "jwt",
        "pyjwt",
        "boto",
        "boto3",
        "pyaml",
        "pyyaml",
        "markdown2",
        "markdown",
        "python-dotenv",
        "dotenv",
    ] {
        assert_clean(name);
    }
}

#[test]
fn unrelated_and_short_names_pass() {
    for name in [
        "my-company-internal-tool",
        "zzz-unlikely-name",
        "a",
        "",
        "---",
        "ab",
        // Three letters: too short for a one-letter edit to mean anything.
        "sixx",
        "idnaa",
        // Non-ASCII names cannot exist on the index.
        "réquests",
    ] {
        assert_clean(name);
    }
}

#[test]
fn popular_look_alikes_are_judged_by_popularity_gap() {
    // In the false-positive study popular names are checked too: a popular
    // name resembles another only when that one is downloaded at least
    // `min_ratio` times as often.
    let pop = Popularity::embedded();
    let rules = TyposquatRules {
        skip_popular: false,
        ..TyposquatRules::default()
    };
    let boto = check_name_with("boto", pop, &rules).expect("boto3 is 200 times as popular");
    assert_eq!(boto.resembles, "boto3");
    // toml and tomli: tomli is only about 3 times as popular.
    assert_eq!(check_name_with("toml", pop, &rules), None);
    // A name never resembles itself.
    assert_eq!(check_name_with("requests", pop, &rules), None);
}

#[test]
fn the_most_downloaded_look_alike_is_named() {
    // `reqests` is one edit from requests and from other popular names.
    let s = check_name("reqests", Popularity::embedded()).unwrap();
    assert_eq!(s.resembles, "requests");
    assert!(s.resembles_downloads > 1_000_000_000);
    assert_eq!(s.snapshot_date, "2026-04-01");
}

#[test]
fn techniques_have_stable_json_names() {
    let names: Vec<String> = Technique::ALL
        .iter()
        .map(|t| {
            serde_json::to_value(t)
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        [
            "transposition",
            "edit-distance",
            "separator",
            "homoglyph",
            "affix",
            "combination"
        ]
    );
    for t in Technique::ALL {
        assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
    }
    let s = check_name("reqeusts", Popularity::embedded()).unwrap();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["name"], "reqeusts");
    assert_eq!(json["resembles"], "requests");
    assert_eq!(json["technique"], "transposition");
}

#[test]
fn small_tables_work_too() {
    let pop =
        Popularity::parse("# last_update\t2026-01-01\nbigproject\t50000000\nsmallproject\t10\n")
            .unwrap();
    let s = check_name("bigprojcet", &pop).unwrap();
    assert_eq!(
        (s.resembles.as_str(), s.technique),
        ("bigproject", Technique::Transposition)
    );
    // Below min_target_downloads nothing is resembled.
    assert_eq!(check_name("smallprojcet", &pop), None);
    assert_eq!(check_name("bigprojcet", &Popularity::empty()), None);
}

proptest::proptest! {
    #[test]
    fn any_input_is_answered_without_panic(name in "\\PC{0,40}") {
        let _ = check_name(&name, Popularity::embedded());
    }

    #[test]
    fn ascii_names_are_answered_without_panic(name in "[a-z0-9._-]{0,30}") {
        if let Some(s) = check_name(&name, Popularity::embedded()) {
            proptest::prop_assert!(Popularity::embedded().get(&s.resembles).is_some());
            proptest::prop_assert!(Popularity::embedded().get(&name).is_none());
        }
    }
}

#[test]
fn few_popular_names_look_like_more_popular_ones() {
    // The false-positive study in miniature, on every 5th popular name (the
    // full one, with variations, is `examples/false_positives.rs`): each is
    // checked against the others. These are real projects, so every hit is a
    // false positive of the rules; pyward's thresholds keep them near 2%.
    let pop = Popularity::embedded();
    let rules = TyposquatRules {
        skip_popular: false,
        ..TyposquatRules::default()
    };
    let sample: Vec<&str> = pop.iter().step_by(5).map(|p| p.name.as_str()).collect();
    let flagged = sample
        .iter()
        .filter(|name| check_name_with(name, pop, &rules).is_some())
        .count();
    assert!(
        (20..=75).contains(&flagged),
        "{flagged} of {} popular names flagged",
        sample.len()
    );
}
