//! Core metadata (`METADATA` / `PKG-INFO`, email-header format) parsing:
//! the fields pyward resolves and reports with. Lenient where real packages
//! are sloppy (invalid entries are kept as warnings), strict where it matters
//! (name, version, metadata major version).

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement};

/// Why a metadata document could not be used at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("the metadata headers could not be read: {0}")]
    Headers(String),
    #[error("the metadata has no `{0}` field")]
    Missing(&'static str),
    #[error("the metadata field `{field}` has an invalid value `{value}`: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("metadata version {0} is newer than pyward understands (major version 2)")]
    UnsupportedVersion(String),
}

/// The parsed fields of one core metadata document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub metadata_version: String,
    pub name: PackageName,
    pub version: Version,
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extra: Vec<ExtraName>,
    pub summary: Option<String>,
    pub home_page: Option<String>,
    /// `(label, url)` pairs from `Project-URL` (unauthenticated claims).
    pub project_urls: Vec<(String, String)>,
    pub author: Option<String>,
    pub author_email: Option<String>,
    pub license: Option<String>,
    pub classifiers: Vec<String>,
    pub dynamic: Vec<String>,
    /// Entries that were skipped, with the reason, for display as warnings.
    pub warnings: Vec<String>,
}

impl CoreMetadata {
    /// Parse a metadata document.
    pub fn parse(bytes: &[u8]) -> Result<CoreMetadata, MetadataError> {
        let (headers, _) =
            mailparse::parse_headers(bytes).map_err(|e| MetadataError::Headers(e.to_string()))?;
        let mut all: Vec<(String, String)> = Vec::with_capacity(headers.len());
        for h in &headers {
            all.push((h.get_key().to_ascii_lowercase(), h.get_value()));
        }
        let one = |key: &str| -> Option<String> {
            all.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty() && v != "UNKNOWN")
        };
        let many = |key: &str| -> Vec<String> {
            all.iter()
                .filter(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect()
        };

        let metadata_version = one("metadata-version").unwrap_or_else(|| "1.0".to_string());
        let major = metadata_version
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok());
        if major.is_none_or(|m| m > 2) {
            return Err(MetadataError::UnsupportedVersion(metadata_version));
        }
        let raw_name = one("name").ok_or(MetadataError::Missing("Name"))?;
        let name = PackageName::from_str(&raw_name).map_err(|e| MetadataError::Invalid {
            field: "Name",
            value: raw_name.clone(),
            reason: e.to_string(),
        })?;
        let raw_version = one("version").ok_or(MetadataError::Missing("Version"))?;
        let version = Version::from_str(&raw_version).map_err(|e| MetadataError::Invalid {
            field: "Version",
            value: raw_version.clone(),
            reason: e.to_string(),
        })?;

        let mut warnings = Vec::new();
        let mut requires_dist = Vec::new();
        for raw in many("requires-dist") {
            match crate::requirement::parse_requirement(&raw) {
                Ok(r) => requires_dist.push(r),
                Err(e) => warnings.push(format!("ignored Requires-Dist `{raw}`: {e}")),
            }
        }
        let requires_python = match one("requires-python") {
            None => None,
            Some(raw) => match VersionSpecifiers::from_str(&raw) {
                Ok(s) => Some(s),
                Err(e) => {
                    warnings.push(format!("ignored Requires-Python `{raw}`: {e}"));
                    None
                }
            },
        };
        let mut provides_extra: Vec<ExtraName> = Vec::new();
        for raw in many("provides-extra") {
            match ExtraName::from_str(&raw) {
                Ok(e) if !provides_extra.contains(&e) => provides_extra.push(e),
                Ok(_) => warnings.push(format!("duplicate Provides-Extra `{raw}`")),
                Err(e) => warnings.push(format!("ignored Provides-Extra `{raw}`: {e}")),
            }
        }
        let project_urls = many("project-url")
            .into_iter()
            .filter_map(|v| {
                let (label, url) = v.split_once(',')?;
                Some((label.trim().to_string(), url.trim().to_string()))
            })
            .collect();
        Ok(CoreMetadata {
            metadata_version,
            name,
            version,
            requires_dist,
            requires_python,
            provides_extra,
            summary: one("summary"),
            home_page: one("home-page"),
            project_urls,
            author: one("author"),
            author_email: one("author-email"),
            license: one("license"),
            classifiers: many("classifier"),
            dynamic: many("dynamic")
                .into_iter()
                .map(|d| d.to_lowercase())
                .collect(),
            warnings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typical_metadata() {
        let doc = b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0.post1\nRequires-Python: >=3.8\nRequires-Dist: idna (<4,>=2.5)\nRequires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"\nRequires-Dist: not a valid req ((\nProvides-Extra: socks\nProject-URL: Source, https://example.com/src\nSummary: A\n  continued summary\n\nLong description\nRequires-Dist: ignored-body\n";
        let m = CoreMetadata::parse(doc).unwrap();
        assert_eq!(m.name.as_ref(), "foo-bar");
        assert_eq!(m.version.to_string(), "1.0.post1");
        assert_eq!(m.requires_dist.len(), 2);
        assert_eq!(m.warnings.len(), 1);
        assert_eq!(m.provides_extra.len(), 1);
        assert_eq!(m.project_urls[0].0, "Source");
        assert!(m.requires_python.is_some());
    }

    #[test]
    fn rejects_missing_name_and_future_major() {
        assert_eq!(
            CoreMetadata::parse(b"Metadata-Version: 2.1\nVersion: 1\n"),
            Err(MetadataError::Missing("Name"))
        );
        assert!(matches!(
            CoreMetadata::parse(b"Metadata-Version: 3.0\nName: a\nVersion: 1\n"),
            Err(MetadataError::UnsupportedVersion(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            let _ = CoreMetadata::parse(&bytes);
        }

        #[test]
        fn never_panics_on_header_like_text(s in "(Name|Version|Requires-Dist|Metadata-Version|Requires-Python): [ -~]{0,30}\n{0,2}") {
            let _ = CoreMetadata::parse(s.as_bytes());
        }
    }
}
