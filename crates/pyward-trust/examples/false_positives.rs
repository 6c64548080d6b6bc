//! False-positive study of the typosquat check.
//!
//! Every name in the popularity snapshot is checked against the others (as if
//! it were unknown): a popular project is, almost always, a real project people
//! want, so each one flagged is a false positive of the rules. Prints how many
//! are flagged per technique, for pyward's rules and for variations of each
//! threshold, then lists the flagged names.
//!
//! With a file argument (one project name per line; further tab-separated
//! columns are ignored), the names in it that are not in the snapshot are
//! checked too, the way `pyward install` would check them.
//!
//!     cargo run --release -p pyward-trust --example false_positives [NAMES.txt [--all]]

use std::collections::BTreeMap;
use std::time::Instant;

use pyward_trust::{check_name_with, Popularity, Suspicion, Technique, TyposquatRules};

fn flagged<'a>(
    names: impl Iterator<Item = &'a str>,
    pop: &Popularity,
    rules: &TyposquatRules,
) -> Vec<Suspicion> {
    names
        .filter_map(|name| check_name_with(name, pop, rules))
        .collect()
}

fn by_technique(found: &[Suspicion]) -> String {
    let mut counts: BTreeMap<Technique, usize> = BTreeMap::new();
    for s in found {
        *counts.entry(s.technique).or_default() += 1;
    }
    Technique::ALL
        .iter()
        .map(|t| format!("{t} {}", counts.get(t).copied().unwrap_or(0)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() {
    let pop = Popularity::embedded();
    let popular_rules = TyposquatRules {
        skip_popular: false,
        ..TyposquatRules::default()
    };
    let names: Vec<&str> = pop.iter().map(|p| p.name.as_str()).collect();

    let start = Instant::now();
    let found = flagged(names.iter().copied(), pop, &popular_rules);
    let elapsed = start.elapsed();
    println!(
        "popularity snapshot of {}: {} names, each checked against the others",
        pop.date(),
        names.len()
    );
    println!(
        "pyward's rules: {} flagged ({:.2}%) — {}  [{:.1} µs per name]",
        found.len(),
        100.0 * found.len() as f64 / names.len() as f64,
        by_technique(&found),
        elapsed.as_secs_f64() * 1e6 / names.len() as f64
    );

    println!("\nvariations (one threshold changed at a time):");
    let base = popular_rules.clone();
    let variations: Vec<(String, TyposquatRules)> = vec![
        (
            "min_ratio 1 (no popularity gap)".into(),
            TyposquatRules {
                min_ratio: 1,
                ..base.clone()
            },
        ),
        (
            "min_ratio 3".into(),
            TyposquatRules {
                min_ratio: 3,
                ..base.clone()
            },
        ),
        (
            "min_ratio 30".into(),
            TyposquatRules {
                min_ratio: 30,
                ..base.clone()
            },
        ),
        (
            "min_target_downloads 0 (all 15,000 are targets)".into(),
            TyposquatRules {
                min_target_downloads: 0,
                ..base.clone()
            },
        ),
        (
            "min_target_downloads 100k".into(),
            TyposquatRules {
                min_target_downloads: 100_000,
                ..base.clone()
            },
        ),
        (
            "min_target_downloads 10M".into(),
            TyposquatRules {
                min_target_downloads: 10_000_000,
                ..base.clone()
            },
        ),
        (
            "min_edit_len 4".into(),
            TyposquatRules {
                min_edit_len: 4,
                ..base.clone()
            },
        ),
        (
            "min_edit_len 6".into(),
            TyposquatRules {
                min_edit_len: 6,
                ..base.clone()
            },
        ),
        (
            "min_swap_len 3".into(),
            TyposquatRules {
                min_swap_len: 3,
                ..base.clone()
            },
        ),
        (
            "min_swap_len 5".into(),
            TyposquatRules {
                min_swap_len: 5,
                ..base.clone()
            },
        ),
        (
            "min_combination_downloads 1M".into(),
            TyposquatRules {
                min_combination_downloads: 1_000_000,
                ..base.clone()
            },
        ),
        (
            "min_combination_downloads 100M".into(),
            TyposquatRules {
                min_combination_downloads: 100_000_000,
                ..base.clone()
            },
        ),
        (
            "min_affix_len 3".into(),
            TyposquatRules {
                min_affix_len: 3,
                ..base.clone()
            },
        ),
        (
            "min_affix_len 5".into(),
            TyposquatRules {
                min_affix_len: 5,
                ..base.clone()
            },
        ),
        (
            "namespace_size 2".into(),
            TyposquatRules {
                namespace_size: 2,
                ..base.clone()
            },
        ),
        (
            "namespace_size 10".into(),
            TyposquatRules {
                namespace_size: 10,
                ..base.clone()
            },
        ),
        (
            "namespace_size off".into(),
            TyposquatRules {
                namespace_size: usize::MAX,
                ..base.clone()
            },
        ),
    ];
    for (label, rules) in &variations {
        let f = flagged(names.iter().copied(), pop, rules);
        println!(
            "  {label:<50} {:>5} flagged — {}",
            f.len(),
            by_technique(&f)
        );
    }

    println!("\nflagged with pyward's rules:");
    for s in &found {
        let them = pop.get(&s.name).map_or(0, |p| p.downloads);
        let target = pop.get(&s.resembles).map_or(0, |p| p.downloads);
        println!(
            "  {:<40} {:<14} {} ({} vs {} downloads)",
            s.name, s.technique, s.detail, them, target
        );
    }

    if let Some(path) = std::env::args().nth(1) {
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                std::process::exit(2);
            }
        };
        let others: Vec<&str> = text
            .lines()
            .filter_map(|l| l.split('\t').next())
            .filter(|n| !n.is_empty() && pop.get(n).is_none())
            .collect();
        let rules = TyposquatRules::default();
        let start = Instant::now();
        let found = flagged(others.iter().copied(), pop, &rules);
        let elapsed = start.elapsed();
        println!(
            "\n{path}: {} names not in the snapshot, {} flagged ({:.2}%) — {}  [{:.1} µs per name]",
            others.len(),
            found.len(),
            100.0 * found.len() as f64 / others.len().max(1) as f64,
            by_technique(&found),
            elapsed.as_secs_f64() * 1e6 / others.len().max(1) as f64
        );
        let sample: Vec<&str> = others.iter().copied().step_by(10).collect();
        println!(
            "  variations, on every 10th of these names ({}):",
            sample.len()
        );
        // min_ratio only applies to popular candidates: not varied here.
        for (label, rules) in variations
            .iter()
            .filter(|(l, _)| !l.starts_with("min_ratio"))
        {
            let rules = TyposquatRules {
                skip_popular: true,
                ..rules.clone()
            };
            let f = flagged(sample.iter().copied(), pop, &rules);
            println!(
                "    {label:<48} {:>5} flagged — {}",
                f.len(),
                by_technique(&f)
            );
        }
        let base_sample = flagged(sample.iter().copied(), pop, &TyposquatRules::default());
        println!(
            "    {:<48} {:>5} flagged — {}",
            "pyward's rules",
            base_sample.len(),
            by_technique(&base_sample)
        );
        let list_all = std::env::args().nth(2).as_deref() == Some("--all");
        let step = if list_all {
            1
        } else {
            (found.len() / 60).max(1)
        };
        println!("  every {step}th flagged name (--all after the file lists all):");
        for s in found.iter().step_by(step) {
            let target = pop.get(&s.resembles).map_or(0, |p| p.downloads);
            println!(
                "    {:<40} {:<14} {} ({target} downloads)",
                s.name, s.technique, s.detail
            );
        }
    }
}
