//! The HTTP client for a pyward report server: submit a report, fetch the
//! flag feed. Tokens travel only over HTTPS (plain HTTP only to this machine).

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::report::Report;

/// The server URL or token cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("report-server {url:?} is not a valid URL: {reason}")]
    InvalidUrl { url: String, reason: String },
    #[error(
        "report-server {0} uses plain http; use https (plain http is allowed only for localhost)"
    )]
    Insecure(String),
    #[error("cannot set up the HTTP client: {0}")]
    Http(String),
}

/// Why a report was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The server could not be reached. Retry later.
    #[error("could not reach the report server: {0}")]
    Network(String),
    /// The server failed or is busy (5xx, 429, 408). Retry later.
    #[error("the report server could not take the report now ({status}): {message}")]
    Unavailable { status: u16, message: String },
    /// The token is missing, wrong, revoked, or lacks the role (401, 403).
    /// Fix the token, then retry.
    #[error("the report server refused the token ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// The server will never take this report as it is (400, 409, 413, 422).
    #[error("the report server rejected the report ({status}): {message}")]
    Rejected { status: u16, message: String },
}

impl SubmitError {
    /// Whether sending the same report again later may succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, SubmitError::Rejected { .. })
    }
}

/// The server's answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Submitted {
    pub id: String,
    /// `open`, `confirmed` or `dismissed`.
    pub status: String,
    /// The server already had this report (an earlier attempt got through).
    #[serde(default)]
    pub duplicate: bool,
}

/// A configured report server.
#[derive(Debug, Clone)]
pub struct ServerClient {
    base: Url,
    token: Option<String>,
    http: reqwest::Client,
}

impl ServerClient {
    /// `base_url` is the server's address (`report-server`), `token` the
    /// bearer token (reporter or moderator).
    pub fn new(base_url: &str, token: Option<String>) -> Result<ServerClient, ClientError> {
        let base = parse_base(base_url)?;
        let http = reqwest::Client::builder()
            .user_agent(format!("pyward/{}", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| ClientError::Http(e.to_string()))?;
        Ok(ServerClient {
            base,
            token: token.filter(|t| !t.trim().is_empty()),
            http,
        })
    }

    /// Use the caller's HTTP client (shared connection pool, proxies).
    pub fn with_http(mut self, http: reqwest::Client) -> ServerClient {
        self.http = http;
        self
    }

    /// The server's address, with a trailing slash.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    pub(crate) fn url(&self, path: &str) -> Url {
        // `path` is one of our relative API paths; joining cannot fail.
        self.base.join(path).unwrap_or_else(|_| self.base.clone())
    }

    pub(crate) fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let req = self.http.request(method, self.url(path));
        match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// Submit `report` as it is (call [`Report::fit`] first). Sending the
    /// same report twice stores it once.
    pub async fn submit(&self, report: &Report) -> Result<Submitted, SubmitError> {
        let response = self
            .request(reqwest::Method::POST, "api/v1/reports")
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(report.to_json())
            .send()
            .await
            .map_err(|e| SubmitError::Network(error_chain(&e)))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|e| SubmitError::Unavailable {
                status: status.as_u16(),
                message: format!("unexpected answer: {e}"),
            });
        }
        let message = server_message(&text);
        let status = status.as_u16();
        Err(match status {
            401 | 403 => SubmitError::Unauthorized { status, message },
            408 | 429 | 500..=599 => SubmitError::Unavailable { status, message },
            _ => SubmitError::Rejected { status, message },
        })
    }
}

/// The `error` field of a JSON error body, or the start of the text.
pub(crate) fn server_message(text: &str) -> String {
    #[derive(Deserialize)]
    struct ErrorBody {
        error: String,
    }
    match serde_json::from_str::<ErrorBody>(text) {
        Ok(b) => b.error,
        Err(_) => text
            .chars()
            .take(200)
            .collect::<String>()
            .trim()
            .to_string(),
    }
}

/// An error with its causes ("error sending request: connection refused").
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

fn parse_base(raw: &str) -> Result<Url, ClientError> {
    let invalid = |reason: &str| ClientError::InvalidUrl {
        url: raw.to_string(),
        reason: reason.to_string(),
    };
    let mut url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            let local = match url.host() {
                Some(url::Host::Domain(d)) => d == "localhost",
                Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
                Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
                None => false,
            };
            if !local {
                return Err(ClientError::Insecure(raw.to_string()));
            }
        }
        _ => return Err(invalid("use an https:// URL")),
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(invalid("the URL names no server"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "put the token in PYWARD_REPORT_TOKEN, not in the URL",
        ));
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls() {
        let c = ServerClient::new("https://reports.example.com/pyward", None).unwrap();
        assert_eq!(
            c.url("api/v1/reports").as_str(),
            "https://reports.example.com/pyward/api/v1/reports"
        );
        let c = ServerClient::new("http://127.0.0.1:8470", Some("t".into())).unwrap();
        assert_eq!(
            c.url("api/v1/flags").as_str(),
            "http://127.0.0.1:8470/api/v1/flags"
        );
        assert!(c.has_token());
        assert!(ServerClient::new("http://localhost:1/", None).is_ok());
        assert!(matches!(
            ServerClient::new("http://reports.example.com", None),
            Err(ClientError::Insecure(_))
        ));
        assert!(ServerClient::new("ftp://x", None).is_err());
        assert!(ServerClient::new("reports.example.com", None).is_err());
        assert!(ServerClient::new("https://user:pw@reports.example.com", None).is_err());
        assert!(!ServerClient::new("https://r.example", Some("  ".into()))
            .unwrap()
            .has_token());
    }

    #[test]
    fn retryable_errors() {
        assert!(SubmitError::Network("x".into()).is_retryable());
        assert!(SubmitError::Unauthorized {
            status: 401,
            message: String::new()
        }
        .is_retryable());
        assert!(!SubmitError::Rejected {
            status: 422,
            message: String::new()
        }
        .is_retryable());
        assert_eq!(
            server_message(r#"{"error":"package: bad"}"#),
            "package: bad"
        );
        assert_eq!(server_message("<html>oops</html>"), "<html>oops</html>");
    }
}
