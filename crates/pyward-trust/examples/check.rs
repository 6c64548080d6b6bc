//! Check names against the embedded popularity snapshot and time each check.
//!
//!     cargo run --release -p pyward-trust --example check -- NAME...

use std::time::Instant;

use pyward_trust::{check_name, Popularity};

fn main() {
    let names: Vec<String> = std::env::args().skip(1).collect();
    let start = Instant::now();
    let pop = Popularity::embedded();
    let loaded = start.elapsed();
    for name in &names {
        let start = Instant::now();
        let found = check_name(name, pop);
        let took = start.elapsed();
        match found {
            Some(s) => println!(
                "{name:<28} {:<14} {:<20} {}  [{:.1} µs]",
                s.technique.as_str(),
                s.resembles,
                s.detail,
                took.as_secs_f64() * 1e6
            ),
            None => println!("{name:<28} -  [{:.1} µs]", took.as_secs_f64() * 1e6),
        }
    }
    eprintln!("snapshot loaded in {:.2} ms", loaded.as_secs_f64() * 1e3);
}
