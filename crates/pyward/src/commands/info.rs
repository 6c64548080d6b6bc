//! `pyward info NAME`: the trust card of a project on the index — age,
//! releases, maintainers, claimed repository, popularity, yanks, status —
//! and whether its name looks like a popular project's.

use std::str::FromStr;

use pyward_dist::PackageName;
use pyward_trust::{Builds, Popularity};

use crate::cli::InfoArgs;
use crate::config::Config;
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::guards::trust::{card, days_in_words};
use crate::pipeline;

pub async fn run(args: InfoArgs, ctx: &Context) -> CliResult<u8> {
    let name = PackageName::from_str(&args.package)
        .map_err(|e| CliError::input(format!("`{}` is not a package name: {e}", args.package)))?;
    let cwd = std::env::current_dir().map_err(|e| CliError::failed(e.to_string()))?;
    let config = Config::load(&cwd)?;
    let reqs = crate::cli::RequirementArgs {
        index_url: args.index_url.clone(),
        ..Default::default()
    };
    let client = pipeline::index_client(ctx, &pipeline::Inputs::default(), &reqs, &config)?;
    let suspicion = pyward_trust::check_name(name.as_ref(), Popularity::embedded());
    let Some(card) = card(&client, &name).await else {
        let err = CliError::input(format!(
            "no project information for {name} on {}",
            client
                .indexes()
                .first()
                .map(|i| i.to_string())
                .unwrap_or_default()
        ));
        return Err(match &suspicion {
            // A typo of a popular name: say which, before anything else.
            Some(s) => err.hint(format!(
                "did you mean {}? {name} {}:  pyward info {}",
                s.resembles, s.detail, s.resembles
            )),
            None => err
                .hint("check the spelling; pyward info reads the index's JSON API (PyPI has one)"),
        });
    };
    if ctx.printer.json {
        ctx.printer
            .json_value(&serde_json::json!({"card": card, "name_check": suspicion}));
        return Ok(0);
    }
    let p = &ctx.printer;
    p.important(format!(
        "{}  {}",
        card.name,
        card.summary.clone().unwrap_or_default()
    ));
    let line = |label: &str, value: String| p.important(format!("  {label:<16} {value}"));
    if let Some(s) = &suspicion {
        line("Name", format!("looks like {}: {}", s.resembles, s.detail));
    }
    if let (Some(first), Some(age)) = (&card.first_upload, card.age_days) {
        line(
            "First upload",
            format!("{} ({})", first.strftime("%Y-%m-%d"), days_in_words(age)),
        );
    }
    if let Some(latest) = &card.latest {
        let when = latest
            .age_days
            .map(|d| format!(", {}", days_in_words(d)))
            .unwrap_or_default();
        let yanked = if latest.yanked { " (yanked)" } else { "" };
        line("Latest", format!("{}{when}{yanked}", latest.version));
    }
    let cadence = match card.cadence.median_days_between {
        Some(d) => format!(
            ", median {d} days apart; {} in the last year",
            card.cadence.releases_last_year
        ),
        None => String::new(),
    };
    line("Releases", format!("{}{cadence}", card.releases));
    let owners: Vec<String> = card
        .owners
        .iter()
        .map(|o| format!("{} ({})", o.user, o.role.to_lowercase()))
        .collect();
    line(
        "Maintainers",
        if owners.is_empty() {
            "not published by the index".into()
        } else {
            owners.join(", ")
        },
    );
    if let Some(org) = &card.organization {
        line("Organization", org.clone());
    }
    line(
        "Repository",
        match &card.repository {
            Some(r) => format!("{} (claimed by the uploader, not verified)", r.url),
            None => "none linked".into(),
        },
    );
    line(
        "Downloads",
        match &card.popularity {
            Some(pop) => format!(
                "{} a month, rank {} (snapshot of {})",
                pyward_trust::downloads_in_words(pop.downloads),
                pop.rank,
                card.popularity_date
            ),
            None => format!(
                "not among the 15,000 most downloaded projects (snapshot of {})",
                card.popularity_date
            ),
        },
    );
    line(
        "Installing",
        match card.builds {
            Builds::Wheels => "copies files from a wheel".into(),
            Builds::SourceOnly => "runs the package's own build code (source only)".into(),
            Builds::NoFiles => "impossible: the latest release has no files".into(),
        },
    );
    if !card.yanked_releases.is_empty() {
        let ys: Vec<String> = card
            .yanked_releases
            .iter()
            .map(|y| match &y.reason {
                Some(r) => format!("{} ({r})", y.version),
                None => y.version.clone(),
            })
            .collect();
        line("Yanked", ys.join(", "));
    }
    if let Some(status) = &card.status {
        line(
            "Status",
            format!(
                "{}{}",
                status.status.as_str(),
                status
                    .reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
        );
    }
    if let Some(d) = &card.development_status {
        line("Development", d.clone());
    }
    let findings =
        pyward_trust::install_time_findings(name.as_ref(), Some(&card), suspicion.as_ref());
    if !findings.is_empty() {
        p.important("");
        for f in &findings {
            p.finding(f, pyward_guard::Decision::Warn);
        }
    }
    Ok(0)
}
