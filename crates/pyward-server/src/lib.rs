//! pyward's report and flag server. People submit reports about suspicious
//! packages; moderators confirm or dismiss them; a confirmed report becomes a
//! flag, and every pyward client downloads the flag feed and refuses flagged
//! packages. Storage is SQLite by default (zero configuration) or PostgreSQL
//! (several server instances on one database).
//!
//! Entry points for the `pyward server` command: [`run`] serves until Ctrl-C,
//! [`create_token`], [`list_tokens`] and [`revoke_token`] manage tokens.
//! [`serve`] runs on a listener the caller bound (tests, embedding).

mod api;
mod auth;
mod config;
mod error;
mod model;
mod rate;
mod store;
mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

pub use auth::Role;
pub use config::Config;
pub use error::ServerError;
pub use model::{FeedFlag, FlagFeed, TokenInfo, FEED_FORMAT};
pub use store::StoreError;

use crate::rate::RateLimiter;
use crate::store::Store;

/// What every request handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub limiter: Arc<RateLimiter>,
}

/// Open (and migrate) the configured database, bind `config.listen`, and serve
/// until Ctrl-C or SIGTERM.
pub async fn run(config: Config) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;
    serve(config, listener, shutdown_signal()).await
}

/// Serve on `listener` until `shutdown` completes. Opens and migrates the
/// database first, so a bad database URL fails before anything is served.
pub async fn serve(
    config: Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    config.validate()?;
    let store = Store::open(&config).await?;
    let state = AppState {
        store,
        limiter: Arc::new(RateLimiter::new(
            config.reports_per_minute,
            config.report_burst,
        )),
        config: Arc::new(config),
    };
    let app = router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(ServerError::Serve)
}

/// Create a token with `role`; returns the token text, shown to the admin once.
/// Only its sha256 is stored.
pub async fn create_token(config: &Config, role: Role, label: &str) -> Result<String, ServerError> {
    config.validate()?;
    let label = label.trim();
    if label.is_empty() || label.chars().count() > model::MAX_LABEL_CHARS {
        return Err(ServerError::Config(format!(
            "a token label must be 1 to {} characters",
            model::MAX_LABEL_CHARS
        )));
    }
    let store = Store::open(config).await?;
    let token = auth::new_secret(auth::TOKEN_PREFIX)?;
    store
        .insert_token(&auth::hash_secret(&token), role, label, model::now_millis())
        .await?;
    Ok(token)
}

/// Every token (never the secret itself), oldest first.
pub async fn list_tokens(config: &Config) -> Result<Vec<TokenInfo>, ServerError> {
    config.validate()?;
    let store = Store::open(config).await?;
    Ok(store.list_tokens().await?)
}

/// Revoke token `id`; its sessions end too. Returns false when no active token
/// has that id.
pub async fn revoke_token(config: &Config, id: i64) -> Result<bool, ServerError> {
    config.validate()?;
    let store = Store::open(config).await?;
    Ok(store.revoke_token(id, model::now_millis()).await?)
}

fn router(state: AppState) -> axum::Router {
    let limit = state.config.max_body_bytes;
    api::routes()
        .merge(web::routes())
        .layer(axum::extract::DefaultBodyLimit::max(limit))
        .layer(axum::middleware::from_fn(web::security_headers))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, serve until killed.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
