//! Print the trust card and install-time findings for a saved index response.
//!
//!     curl -s https://pypi.org/pypi/NAME/json > project.json
//!     curl -s -H 'Accept: application/vnd.pypi.simple.v1+json' https://pypi.org/simple/NAME/ > simple.json
//!     cargo run -p pyward-trust --example card -- project.json [simple.json]

use pyward_trust::{
    check_name, install_time_findings, parse_project_status, Popularity, Timestamp, TrustCard,
};

fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(project) = args.first() else {
        eprintln!("usage: card PROJECT.json [SIMPLE.json]");
        std::process::exit(2);
    };
    let status = match args.get(1).map(|p| parse_project_status(&read(p))) {
        Some(Ok(status)) => status,
        Some(Err(e)) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
        None => None,
    };
    let pop = Popularity::embedded();
    let card = match TrustCard::from_pypi_json(&read(project), status, pop, Timestamp::now()) {
        Ok(card) => card,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let suspicion = check_name(&card.name, pop);
    let findings = install_time_findings(&card.name, Some(&card), suspicion.as_ref());
    let out = serde_json::json!({ "card": card, "suspicion": suspicion, "findings": findings });
    match serde_json::to_string_pretty(&out) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("{e}"),
    }
}
