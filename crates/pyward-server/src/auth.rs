//! Who is asking: roles, bearer tokens (random, stored as sha256), browser
//! sessions for moderators (HttpOnly cookie, per-session CSRF token), and the
//! client address used for rate limiting.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ServerError};
use crate::AppState;

/// What a token may do. Moderators can also report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Submit reports, read the feed.
    Reporter,
    /// Also read reports with their evidence, confirm, dismiss, withdraw flags.
    Moderator,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reporter => "reporter",
            Role::Moderator => "moderator",
        }
    }

    /// `reporter` or `moderator`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "reporter" => Some(Role::Reporter),
            "moderator" => Some(Role::Moderator),
            _ => None,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Prefix of every API token, so a leaked one is recognisable.
pub const TOKEN_PREFIX: &str = "pyw_";
pub const SESSION_COOKIE: &str = "pyward_session";
pub const LOGIN_COOKIE: &str = "pyward_login";
/// How long a moderator's browser session lasts.
pub const SESSION_MILLIS: i64 = 12 * 60 * 60 * 1000;

/// 32 random bytes, base64url, after `prefix`.
pub fn new_secret(prefix: &str) -> Result<String, ServerError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ServerError::Random(e.to_string()))?;
    Ok(format!(
        "{prefix}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    ))
}

/// sha256 of a token or session id, hex. Only this is stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compare secrets without leaking where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter()
        .zip(b.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

/// The holder of a valid token.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: i64,
    pub role: Role,
    pub label: String,
}

/// The caller named by `Authorization: Bearer …`. No header: `None`; a header
/// with an unknown or revoked token: 401 (never treated as anonymous).
pub async fn bearer(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 200)
        .ok_or_else(ApiError::unauthorized)?;
    caller_for_token(state, token)
        .await?
        .map(Some)
        .ok_or_else(ApiError::unauthorized)
}

pub async fn caller_for_token(state: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    Ok(state.store.token_by_hash(&hash_secret(token)).await?)
}

/// A signed-in moderator's browser session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id_hash: String,
    pub caller: Caller,
    pub csrf: String,
}

/// The session named by the session cookie, if it is valid and its token was
/// not revoked.
pub async fn session(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, ApiError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if id.len() > 200 {
        return Ok(None);
    }
    Ok(state
        .store
        .session(&hash_secret(id), crate::model::now_millis())
        .await?)
}

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The address a request came from: the socket peer, or the last
/// `X-Forwarded-For` hop when the configuration trusts a proxy.
pub fn client_ip(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> IpAddr {
    if state.config.trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .and_then(|ip| ip.trim().parse().ok());
        if let Some(ip) = forwarded {
            return ip;
        }
    }
    peer.ip()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = new_secret(TOKEN_PREFIX).unwrap();
        let b = new_secret(TOKEN_PREFIX).unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 43);
        assert_eq!(hash_secret(&a).len(), 64);
        assert_ne!(hash_secret(&a), hash_secret(&b));
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; pyward_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
