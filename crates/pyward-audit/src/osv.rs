//! The OSV record format (JSON or YAML) as far as pyward reads it: a lenient
//! schema that keeps only the fields used for matching and display, and the
//! parser that turns one file's bytes into a record or a typed error.

use serde::Deserialize;

use crate::AuditError;

/// One OSV record. Unknown fields are ignored; missing optional fields default.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OsvRecord {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub modified: Option<String>,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub withdrawn: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub affected: Vec<OsvAffected>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OsvSeverity {
    #[serde(rename = "type")]
    pub kind: String,
    pub score: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OsvAffected {
    pub package: OsvPackage,
    #[serde(default, deserialize_with = "null_as_default")]
    pub ranges: Vec<OsvRange>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub versions: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub severity: Vec<OsvSeverity>,
    #[serde(default)]
    pub database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OsvPackage {
    pub ecosystem: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OsvRange {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub events: Vec<OsvEvent>,
}

/// One range event. The schema says each event holds exactly one key.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct OsvEvent {
    #[serde(default)]
    pub introduced: Option<String>,
    #[serde(default)]
    pub fixed: Option<String>,
    #[serde(default)]
    pub last_affected: Option<String>,
    #[serde(default)]
    pub limit: Option<String>,
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// The two encodings OSV records come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Yaml,
}

impl Format {
    /// The format a file name implies, or `None` for files that are not records.
    pub fn of_file_name(name: &str) -> Option<Format> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        if base.starts_with('.') {
            return None;
        }
        let lower = base.to_ascii_lowercase();
        if lower.ends_with(".json") {
            Some(Format::Json)
        } else if lower.ends_with(".yaml") || lower.ends_with(".yml") {
            Some(Format::Yaml)
        } else {
            None
        }
    }
}

/// Parse one record. `origin` names the file in the error.
pub(crate) fn parse_record(
    bytes: &[u8],
    format: Format,
    origin: &str,
) -> Result<OsvRecord, AuditError> {
    let parsed = match format {
        Format::Json => serde_json::from_slice::<OsvRecord>(bytes).map_err(|e| e.to_string()),
        Format::Yaml => serde_saphyr::from_slice::<OsvRecord>(bytes).map_err(|e| e.to_string()),
    };
    let record = parsed.map_err(|message| AuditError::MalformedRecord {
        origin: origin.to_string(),
        message,
    })?;
    if record.id.trim().is_empty() {
        return Err(AuditError::MalformedRecord {
            origin: origin.to_string(),
            message: "the record has an empty `id`".into(),
        });
    }
    Ok(record)
}

impl OsvRecord {
    /// Whether the record itself says the package is malicious: an OSV `MAL-`
    /// id, or a `database_specific` entry whose key mentions "malicious".
    pub fn is_malware(&self) -> bool {
        if self.id.starts_with("MAL-") {
            return true;
        }
        let says_malicious = |value: &Option<serde_json::Value>| {
            let Some(serde_json::Value::Object(map)) = value else {
                return false;
            };
            map.iter().any(|(key, v)| {
                key.to_ascii_lowercase().contains("malicious")
                    && !matches!(v, serde_json::Value::Null | serde_json::Value::Bool(false))
            })
        };
        says_malicious(&self.database_specific)
            || self
                .affected
                .iter()
                .any(|a| says_malicious(&a.database_specific))
    }

    /// GHSA-style `database_specific.severity` (record level, else per package).
    pub fn database_severity(&self) -> Option<&str> {
        fn severity_of(value: &Option<serde_json::Value>) -> Option<&str> {
            value.as_ref()?.get("severity")?.as_str()
        }
        severity_of(&self.database_specific).or_else(|| {
            self.affected
                .iter()
                .find_map(|a| severity_of(&a.database_specific))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_pypa_yaml_record() {
        let yaml = br#"
id: PYSEC-2019-217
details: In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.
aliases:
- CVE-2019-10906
- GHSA-462w-v97r-4m45
modified: "2021-07-05T00:01:22.043149Z"
published: "2019-04-07T00:29:00Z"
affected:
- package:
    name: jinja2
    ecosystem: PyPI
  ranges:
  - type: ECOSYSTEM
    events:
    - introduced: "0"
    - fixed: 2.10.1
  versions:
  - "2.0"
  - 2.10
"#;
        let r = parse_record(yaml, Format::Yaml, "x.yaml").unwrap();
        assert_eq!(r.id, "PYSEC-2019-217");
        assert_eq!(r.aliases.len(), 2);
        assert_eq!(r.affected[0].versions, vec!["2.0", "2.10"]);
        assert_eq!(
            r.affected[0].ranges[0].events[1].fixed.as_deref(),
            Some("2.10.1")
        );
        assert!(!r.is_malware());
    }

    #[test]
    fn malformed_records_are_typed_errors() {
        for (bytes, format) in [
            (&b"id: [unclosed"[..], Format::Yaml),
            (b"details: no id here", Format::Yaml),
            (b"{\"id\": 5}", Format::Json),
            (b"{\"id\": \"\"}", Format::Json),
            (b"\xff\xfe\x00", Format::Json),
            (b"\xff\xfe\x00", Format::Yaml),
            (b"id: X\naffected: [{package: 3}]", Format::Yaml),
        ] {
            let err = parse_record(bytes, format, "bad-file").unwrap_err();
            assert!(
                matches!(&err, AuditError::MalformedRecord { origin, .. } if origin == "bad-file"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn malware_is_recognised_by_id_or_database_specific() {
        let mal = br#"{"id":"MAL-2024-1","affected":[]}"#;
        assert!(parse_record(mal, Format::Json, "m").unwrap().is_malware());
        let flagged = br#"{"id":"GHSA-x","database_specific":{"malicious-packages-origins":[{"source":"x"}]}}"#;
        assert!(parse_record(flagged, Format::Json, "m")
            .unwrap()
            .is_malware());
        let plain = br#"{"id":"GHSA-y","database_specific":{"severity":"HIGH"}}"#;
        let plain = parse_record(plain, Format::Json, "m").unwrap();
        assert!(!plain.is_malware());
        assert_eq!(plain.database_severity(), Some("HIGH"));
    }

    #[test]
    fn file_names_pick_the_format() {
        assert_eq!(
            Format::of_file_name("vulns/a/PYSEC-1.yaml"),
            Some(Format::Yaml)
        );
        assert_eq!(Format::of_file_name("GHSA-1.json"), Some(Format::Json));
        assert_eq!(Format::of_file_name("vulns/.id-allocator"), None);
        assert_eq!(Format::of_file_name("README.md"), None);
    }
}
