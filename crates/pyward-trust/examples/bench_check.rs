//! Benchmark of the typosquat check (`bench/check-names.sh` runs it).
//!
//! Cold: read the embedded snapshot, build the name index and check one name,
//! as a fresh `pyward check-names NAME` process does (best of several runs).
//! Warm: one check once the index exists (mean over a mixed list of names:
//! popular, typos, unknown).
//!
//!     cargo run --release -p pyward-trust --example bench_check

use std::hint::black_box;
use std::time::{Duration, Instant};

use pyward_trust::{check_name, Popularity};

const SNAPSHOT: &str = include_str!("../data/popular.tsv");

const NAMES: &[&str] = &[
    "requests",
    "reqeusts",
    "numpyy",
    "crypt0graphy",
    "python-dateutils",
    "beautifulsoup-requests",
    "my-company-internal-tool",
    "zzz-unlikely-name",
    "django-rest-framework",
    "pandas",
    "a",
    "opentelemetry-instrumentation-something-long",
];

fn main() {
    let runs = 20;
    let mut parse_best = Duration::MAX;
    let mut cold_best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        let pop = match Popularity::parse(SNAPSHOT) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("snapshot: {e}");
                std::process::exit(2);
            }
        };
        let parsed = start.elapsed();
        black_box(check_name("reqeusts", &pop));
        let cold = start.elapsed();
        parse_best = parse_best.min(parsed);
        cold_best = cold_best.min(cold);
    }
    println!(
        "cold (parse snapshot + build index + 1 check), best of {runs}: {:.2} ms (parse alone {:.2} ms)",
        cold_best.as_secs_f64() * 1e3,
        parse_best.as_secs_f64() * 1e3
    );

    let pop = Popularity::embedded();
    black_box(check_name("warm-up", pop));
    let rounds = 200;
    let start = Instant::now();
    for _ in 0..rounds {
        for name in NAMES {
            black_box(check_name(black_box(name), pop));
        }
    }
    let per_check = start.elapsed() / (rounds * NAMES.len() as u32);
    let mut worst = Duration::ZERO;
    for name in NAMES {
        let start = Instant::now();
        black_box(check_name(black_box(name), pop));
        worst = worst.max(start.elapsed());
    }
    println!(
        "warm: {:.1} µs per check (mean of {} checks), slowest single check {:.1} µs",
        per_check.as_secs_f64() * 1e6,
        rounds as usize * NAMES.len(),
        worst.as_secs_f64() * 1e6
    );
}
