//! Parsing PEP 503 HTML project pages (with the PEP 592/629/658/714/740/792
//! attributes): one anchor per file.

use std::borrow::Cow;

use pyward_dist::PackageName;
use url::Url;

use crate::index_url::{redacted, IndexUrl};
use crate::page::{Hashes, MetadataAvailability, PageBuilder, ProjectPage, RawFile};
use crate::IndexError;

/// Parse a PEP 503 project page for `name`, fetched from `url` on `index`.
pub(crate) fn parse_project_page(
    body: &[u8],
    name: &PackageName,
    index: &IndexUrl,
    url: &Url,
) -> Result<ProjectPage, IndexError> {
    let text = String::from_utf8_lossy(body);
    let dom = tl::parse(&text, tl::ParserOptions::default()).map_err(|e| {
        IndexError::InvalidResponse {
            url: redacted(url),
            reason: format!("the HTML project page is malformed ({e})"),
        }
    })?;
    let parser = dom.parser();
    let mut builder = PageBuilder::new(name.clone(), index.clone(), url.clone());

    let mut api_version = None;
    let mut status = None;
    let mut status_reason = None;
    for node in dom.nodes() {
        let Some(tag) = node.as_tag() else { continue };
        let tag_name = tag.name().as_bytes();
        if tag_name.eq_ignore_ascii_case(b"meta") {
            let attrs = tag.attributes();
            let (Some(meta_name), Some(content)) = (attr(attrs, "name"), attr(attrs, "content"))
            else {
                continue;
            };
            match meta_name.as_ref() {
                "pypi:repository-version" => api_version = Some(content.into_owned()),
                "pypi:project-status" => status = Some(content.into_owned()),
                "pypi:project-status-reason" => status_reason = Some(content.into_owned()),
                _ => {}
            }
        } else if tag_name.eq_ignore_ascii_case(b"a") {
            let attrs = tag.attributes();
            let Some(href) = attr(attrs, "href") else {
                continue;
            };
            let text = unescape(&tag.inner_text(parser)).into_owned();
            let filename = match text.trim() {
                "" => filename_from_href(&href).to_string(),
                t => t.to_string(),
            };
            let yanked = attrs
                .get("data-yanked")
                .map(|value| value.map(|v| unescape(&v.as_utf8_str()).into_owned()));
            let core_metadata = match attr(attrs, "data-core-metadata")
                .or_else(|| attr(attrs, "data-dist-info-metadata"))
            {
                None => MetadataAvailability::Unknown,
                Some(value) => metadata_attribute(&value, &filename, &mut builder),
            };
            let requires_python = attr(attrs, "data-requires-python");
            let provenance = attr(attrs, "data-provenance");
            builder.push(RawFile {
                filename: &filename,
                url: &href,
                hashes: Hashes::default(),
                requires_python: requires_python.as_deref(),
                yanked,
                core_metadata,
                size: None,
                upload_time: None,
                provenance: provenance.as_deref(),
            });
        }
    }
    builder.api_version(api_version.as_deref())?;
    if let Some(status) = status {
        builder.project_status(status, status_reason);
    }
    Ok(builder.finish())
}

/// An attribute's value, HTML-unescaped; `None` when absent or valueless.
fn attr<'a>(attrs: &'a tl::Attributes<'_>, key: &'static str) -> Option<Cow<'a, str>> {
    let value = attrs.get(key).flatten()?;
    Some(match value.as_utf8_str() {
        Cow::Borrowed(s) => unescape(s),
        Cow::Owned(s) => Cow::Owned(unescape(&s).into_owned()),
    })
}

fn unescape(s: &str) -> Cow<'_, str> {
    html_escape::decode_html_entities(s)
}

fn filename_from_href(href: &str) -> &str {
    let without_fragment = href.split('#').next().unwrap_or(href);
    let without_query = without_fragment
        .split('?')
        .next()
        .unwrap_or(without_fragment);
    without_query.rsplit('/').next().unwrap_or(without_query)
}

/// `data-core-metadata`: `true`, or `algorithm=hex`.
fn metadata_attribute(
    value: &str,
    filename: &str,
    builder: &mut PageBuilder,
) -> MetadataAvailability {
    let value = value.trim();
    if value.eq_ignore_ascii_case("true") {
        return MetadataAvailability::Available(Hashes::default());
    }
    match value.split_once('=') {
        Some((algorithm, hex)) => {
            let mut hashes = Hashes::default();
            if !hashes.insert(algorithm, hex) {
                builder.warn(format!(
                    "ignored an invalid {algorithm} hash of the metadata of `{filename}`"
                ));
            }
            MetadataAvailability::Available(hashes)
        }
        None => MetadataAvailability::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    const SHA: &str = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    fn parse(body: &str) -> Result<ProjectPage, IndexError> {
        let name = PackageName::from_str("demo").unwrap();
        let url = Url::parse("https://example.org/simple/demo/").unwrap();
        parse_project_page(body.as_bytes(), &name, &IndexUrl::pypi(), &url)
    }

    #[test]
    fn reads_anchors_and_attributes() {
        let body = format!(
            r#"<!DOCTYPE html><html><head>
            <meta name="pypi:repository-version" content="1.4">
            <meta name="pypi:project-status" content="deprecated">
            <meta name="pypi:project-status-reason" content="use demo2 &amp; friends">
            </head><body>
            <a href="../../files/demo-1.0-py3-none-any.whl#sha256={SHA}" data-requires-python="&gt;=3.8,&lt;4"
               data-yanked="bad &quot;build&quot;" data-core-metadata="sha256={SHA}"
               data-provenance="https://example.org/prov">demo-1.0-py3-none-any.whl</a><br/>
            <a href="https://files.example.org/demo-1.0.tar.gz" data-yanked data-dist-info-metadata="true">demo-1.0.tar.gz</a>
            <a href="https://files.example.org/demo-0.9.tar.gz"></a>
            <a name="no-href">nothing</a>
            </body></html>"#
        );
        let page = parse(&body).unwrap();
        assert_eq!(page.api_version.to_string(), "1.4");
        let status = page.project_status.as_ref().unwrap();
        assert_eq!(status.status, "deprecated");
        assert_eq!(status.reason.as_deref(), Some("use demo2 & friends"));
        assert_eq!(page.files.len(), 3);
        let w = &page.files[0];
        assert_eq!(
            w.url.as_str(),
            "https://example.org/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(w.hashes.sha256.as_deref(), Some(SHA));
        assert_eq!(w.requires_python.as_ref().unwrap().to_string(), ">=3.8, <4");
        assert!(w.yanked);
        assert_eq!(w.yank_reason.as_deref(), Some("bad \"build\""));
        assert!(
            matches!(&w.core_metadata, MetadataAvailability::Available(h) if h.sha256.as_deref() == Some(SHA))
        );
        assert_eq!(
            w.provenance.as_ref().unwrap().as_str(),
            "https://example.org/prov"
        );
        let s = &page.files[1];
        assert!(s.yanked && s.yank_reason.is_none());
        assert_eq!(
            s.core_metadata,
            MetadataAvailability::Available(Hashes::default())
        );
        assert_eq!(
            page.files[2].filename, "demo-0.9.tar.gz",
            "empty anchor text: name from the URL"
        );
        assert!(!page.files[2].yanked);
    }

    #[test]
    fn rejects_newer_major_version() {
        let body = r#"<meta name="pypi:repository-version" content="2.0"><a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>"#;
        assert!(matches!(
            parse(body),
            Err(IndexError::UnsupportedApiVersion { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(body in "\\PC{0,300}") {
            let _ = parse(&body);
        }

        #[test]
        fn arbitrary_anchors_never_panic(
            href in "\\PC{0,40}", text in "\\PC{0,40}", rp in "\\PC{0,20}", meta in "\\PC{0,20}", junk in "[<>\"'=&#;a-z/ ]{0,40}",
        ) {
            let body = format!(
                r#"<meta name="pypi:repository-version" content="{meta}"><a href="{href}" data-requires-python="{rp}" data-core-metadata="{meta}" data-yanked>{text}</a>{junk}<a href={junk}>{junk}"#
            );
            let _ = parse(&body);
        }

        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let _ = parse_project_page(&body, &PackageName::from_str("demo").unwrap(), &IndexUrl::pypi(),
                &Url::parse("https://example.org/simple/demo/").unwrap());
        }
    }
}
