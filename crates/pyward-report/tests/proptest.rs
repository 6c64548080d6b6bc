//! Hostile flag feeds: whatever a server (or a tampered cache) sends, the
//! client returns a value or an error, never a panic.

use std::str::FromStr;

use proptest::prelude::*;
use pyward_dist::{PackageName, Version};
use pyward_report::feed::parse_feed;
use pyward_report::{flag_findings, CachedFeed, Flag, FlagFeed};

proptest! {
    #[test]
    fn any_text_parses_or_errors(text in ".{0,300}") {
        let _ = parse_feed(&text);
    }

    #[test]
    fn any_json_shape_parses_or_errors(
        format in 0u32..4,
        name in ".{0,40}",
        versions in ".{0,40}",
        id in any::<i64>(),
    ) {
        let text = serde_json::json!({
            "format": format,
            "source": "s",
            "flags": [{ "id": id, "name": name, "versions": versions, "reason": "r",
                        "confirmed_by": "c", "confirmed_at": "t", "source": "s" }]
        })
        .to_string();
        let _ = parse_feed(&text);
    }

    #[test]
    fn any_flag_matches_or_not_without_panicking(
        name in "[a-zA-Z0-9._-]{0,20}",
        versions in ".{0,40}",
        version in "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}",
    ) {
        let feed = CachedFeed {
            server: "https://x/".into(),
            fetched_at: "garbage".into(),
            etag: None,
            feed: FlagFeed {
                format: 1,
                source: "s".into(),
                flags: vec![Flag {
                    id: 1,
                    name: name.clone(),
                    versions,
                    reason: String::new(),
                    confirmed_by: String::new(),
                    confirmed_at: String::new(),
                    source: String::new(),
                    report: None,
                }],
            },
        };
        let version = Version::from_str(&version).unwrap();
        if let Ok(n) = PackageName::from_str(&name) {
            // A flag on the exact name always applies to a version-less check.
            prop_assert_eq!(flag_findings(&feed, &n, None).len(), 1);
            let _ = flag_findings(&feed, &n, Some(&version));
        }
        let _ = feed.age(jiff::Timestamp::now());
    }
}
