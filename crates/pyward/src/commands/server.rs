//! `pyward server`: the organisation's report/flag service, and its tokens.

use crate::cli::{ServerAction, ServerArgs, TokenAction};
use crate::context::Context;
use crate::error::{CliError, CliResult};

fn config(args: &ServerArgs) -> pyward_server::Config {
    let mut c = pyward_server::Config::new(&args.data);
    if let Some(listen) = args.listen {
        c.listen = listen;
    }
    c.database = args.database.clone();
    if let Some(name) = &args.name {
        c.name = name.clone();
    }
    c.public_feed = !args.private_feed;
    c.anonymous_reports = args.anonymous_reports;
    if let Some(n) = args.reports_per_minute {
        c.reports_per_minute = n;
    }
    if let Some(n) = args.burst {
        c.report_burst = n;
    }
    if let Some(n) = args.max_body {
        c.max_body_bytes = n;
    }
    c.secure_cookies = args.secure_cookies;
    c.trust_forwarded_for = args.trust_forwarded_for;
    c
}

pub async fn run(args: ServerArgs, ctx: &Context) -> CliResult<u8> {
    let cfg = config(&args);
    let fail = |e: pyward_server::ServerError| CliError::failed(e.to_string());
    match &args.action {
        None => {
            ctx.printer.status(format!(
                "Serving reports and flags on http://{} (Ctrl-C stops)",
                cfg.listen
            ));
            pyward_server::run(cfg).await.map_err(fail)?;
            Ok(0)
        }
        Some(ServerAction::Token { action }) => match action {
            TokenAction::Create { role, label } => {
                let role = match role.as_str() {
                    "moderator" => pyward_server::Role::Moderator,
                    "reporter" => pyward_server::Role::Reporter,
                    other => {
                        return Err(CliError::input(format!(
                            "--role {other}: use reporter or moderator"
                        )))
                    }
                };
                let token = pyward_server::create_token(&cfg, role, label)
                    .await
                    .map_err(fail)?;
                ctx.printer.important(token);
                ctx.printer.status(
                    "Shown once: the server keeps only its sha256. Give it to its owner as PYWARD_REPORT_TOKEN.",
                );
                Ok(0)
            }
            TokenAction::List => {
                let tokens = pyward_server::list_tokens(&cfg).await.map_err(fail)?;
                if ctx.printer.json {
                    let rows: Vec<_> = tokens
                        .iter()
                        .map(|t| serde_json::json!({"id": t.id, "role": format!("{:?}", t.role).to_lowercase(), "label": t.label, "created_at": t.created_at, "revoked": t.revoked}))
                        .collect();
                    ctx.printer.json_value(&serde_json::Value::Array(rows));
                } else {
                    for t in tokens {
                        ctx.printer.important(format!(
                            "{:>4}  {:<10} {:<24} {}{}",
                            t.id,
                            format!("{:?}", t.role).to_lowercase(),
                            t.label,
                            t.created_at,
                            if t.revoked { "  (revoked)" } else { "" }
                        ));
                    }
                }
                Ok(0)
            }
            TokenAction::Revoke { id } => {
                if pyward_server::revoke_token(&cfg, *id).await.map_err(fail)? {
                    ctx.printer.status(format!("Revoked token {id}"));
                    Ok(0)
                } else {
                    Err(CliError::input(format!("no token {id}")))
                }
            }
        },
    }
}
