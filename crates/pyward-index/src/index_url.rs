//! `IndexUrl`: the base URL of a simple-API index, normalized (http or https,
//! no fragment, trailing slash), and the display form of URLs with any
//! password hidden.

use std::fmt;
use std::str::FromStr;

use pyward_dist::PackageName;
use url::Url;

use crate::IndexError;

/// The base URL of a package index (`https://pypi.org/simple/`).
///
/// Always ends with `/`, so a project URL is `{index}{normalized-name}/`.
/// `Display` hides any password in the URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IndexUrl(Url);

impl IndexUrl {
    /// The Python Package Index.
    pub fn pypi() -> Self {
        IndexUrl(Url::parse("https://pypi.org/simple/").expect("a valid constant URL"))
    }

    /// Parse and normalize an index URL given by a user.
    pub fn parse(s: &str) -> Result<Self, IndexError> {
        let invalid = |reason: &str| IndexError::InvalidIndexUrl {
            url: s.to_string(),
            reason: reason.to_string(),
        };
        let mut url = Url::parse(s.trim()).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(invalid("only http:// and https:// indexes are supported"));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host"));
        }
        url.set_fragment(None);
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(IndexUrl(url))
    }

    /// The URL itself (with credentials, for sending requests).
    pub fn url(&self) -> &Url {
        &self.0
    }

    /// `{index}/{normalized}/`, the project page of `name`.
    pub fn project_url(&self, name: &PackageName) -> Url {
        let mut url = self.0.clone();
        let path = format!("{}{}/", self.0.path(), name.as_ref());
        url.set_path(&path);
        url
    }
}

impl FromStr for IndexUrl {
    type Err = IndexError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        IndexUrl::parse(s)
    }
}

impl fmt::Display for IndexUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redacted(&self.0))
    }
}

/// Serialized without the password, so none ends up in caches or lock files.
impl serde::Serialize for IndexUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0.password().is_some() {
            let mut url = self.0.clone();
            let _ = url.set_password(None);
            s.serialize_str(url.as_str())
        } else {
            s.serialize_str(self.0.as_str())
        }
    }
}

impl<'de> serde::Deserialize<'de> for IndexUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        IndexUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A URL as it may be shown to a user: any password replaced by `****`.
pub fn redacted(url: &Url) -> String {
    if url.password().is_some() {
        let mut shown = url.clone();
        // Cannot fail: the URL has a host, since it has a password.
        let _ = shown.set_password(Some("****"));
        shown.to_string()
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_trailing_slash_and_fragment() {
        let u = IndexUrl::parse("https://example.org/simple#x").unwrap();
        assert_eq!(u.to_string(), "https://example.org/simple/");
        let name = PackageName::from_str("Foo_Bar").unwrap();
        assert_eq!(
            u.project_url(&name).as_str(),
            "https://example.org/simple/foo-bar/"
        );
    }

    #[test]
    fn hides_password_when_displayed() {
        let u = IndexUrl::parse("https://user:s3cret@example.org/simple/").unwrap();
        assert_eq!(u.to_string(), "https://user:****@example.org/simple/");
        assert!(u.url().as_str().contains("s3cret"));
    }

    #[test]
    fn rejects_other_schemes() {
        assert!(IndexUrl::parse("ftp://example.org/").is_err());
        assert!(IndexUrl::parse("not a url").is_err());
    }
}
