//! Load generator for `bench/server-load.sh`: for a fixed time, some tasks
//! submit reports (each with its own id; a failed attempt is retried with
//! the same id) while others read the flag feed. Prints throughput and
//! latency percentiles as JSON and writes every acknowledged report id to a
//! file, so the script can count them in the database afterwards.
//!
//!   load --url URL --token TOKEN --seconds N --submitters N --readers N --ids-out FILE

use std::time::{Duration, Instant};

use serde_json::json;

struct Args {
    url: String,
    token: String,
    seconds: u64,
    submitters: usize,
    readers: usize,
    ids_out: String,
}

fn parse() -> Option<Args> {
    let mut a = Args {
        url: String::new(),
        token: String::new(),
        seconds: 60,
        submitters: 8,
        readers: 8,
        ids_out: String::new(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [flag, value] = pair else { return None };
        match flag.as_str() {
            "--url" => a.url = value.clone(),
            "--token" => a.token = value.clone(),
            "--seconds" => a.seconds = value.parse().ok()?,
            "--submitters" => a.submitters = value.parse().ok()?,
            "--readers" => a.readers = value.parse().ok()?,
            "--ids-out" => a.ids_out = value.clone(),
            _ => return None,
        }
    }
    (!a.url.is_empty() && !a.token.is_empty() && !a.ids_out.is_empty()).then_some(a)
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    retries: u64,
    acked: Vec<String>,
    duplicates_reported: u64,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn summary(name: &str, mut t: Tally, seconds: f64) -> serde_json::Value {
    t.latencies.sort();
    json!({
        "name": name,
        "requests": t.latencies.len(),
        "per_second": (t.latencies.len() as f64 / seconds * 10.0).round() / 10.0,
        "p50_ms": (percentile(&t.latencies, 0.50) * 100.0).round() / 100.0,
        "p99_ms": (percentile(&t.latencies, 0.99) * 100.0).round() / 100.0,
        "max_ms": (t.latencies.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0) * 100.0).round() / 100.0,
        "errors": t.errors,
        "retries": t.retries,
        "duplicates_reported": t.duplicates_reported,
    })
}

async fn submitter(
    http: reqwest::Client,
    a: std::sync::Arc<Args>,
    task: usize,
    deadline: Instant,
) -> Tally {
    let mut t = Tally::default();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let id = format!("load-{task}-{n}");
        let body = json!({
            "id": id,
            "package": format!("load-pkg-{}", n % 50),
            "version": "1.0",
            "reason": format!("load test report {task}-{n}"),
            "evidence": [{
                "check": "scan", "severity": "high",
                "package": { "name": "load-pkg", "version": "1.0" },
                "title": "runs a shell command at import", "evidence": [], "advice": []
            }],
            "files": [{ "filename": "load_pkg-1.0-py3-none-any.whl", "sha256": "ab".repeat(32) }],
        })
        .to_string();
        // Retry the same id until acknowledged (bounded by the deadline).
        loop {
            let start = Instant::now();
            let r = http
                .post(format!("{}/api/v1/reports", a.url))
                .bearer_auth(&a.token)
                .header("content-type", "application/json")
                .body(body.clone())
                .send()
                .await;
            match r {
                Ok(resp) if resp.status() == 201 || resp.status() == 200 => {
                    t.latencies.push(start.elapsed());
                    if resp.status() == 200 {
                        t.duplicates_reported += 1;
                    }
                    t.acked.push(id.clone());
                    break;
                }
                _ => {
                    t.errors += 1;
                    if Instant::now() >= deadline + Duration::from_secs(10) {
                        break;
                    }
                    t.retries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
    }
    t
}

async fn reader(http: reqwest::Client, a: std::sync::Arc<Args>, deadline: Instant) -> Tally {
    let mut t = Tally::default();
    while Instant::now() < deadline {
        let start = Instant::now();
        match http.get(format!("{}/api/v1/flags", a.url)).send().await {
            Ok(resp) if resp.status() == 200 => match resp.bytes().await {
                Ok(_) => t.latencies.push(start.elapsed()),
                Err(_) => t.errors += 1,
            },
            _ => t.errors += 1,
        }
    }
    t
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Some(args) = parse() else {
        eprintln!("usage: load --url URL --token TOKEN --ids-out FILE [--seconds N] [--submitters N] [--readers N]");
        return std::process::ExitCode::from(2);
    };
    let args = std::sync::Arc::new(args);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("HTTP client");
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let subs: Vec<_> = (0..args.submitters)
        .map(|i| tokio::spawn(submitter(http.clone(), args.clone(), i, deadline)))
        .collect();
    let reads: Vec<_> = (0..args.readers)
        .map(|_| tokio::spawn(reader(http.clone(), args.clone(), deadline)))
        .collect();
    let mut submitted = Tally::default();
    for s in subs {
        let t = s.await.expect("submitter task");
        submitted.latencies.extend(t.latencies);
        submitted.errors += t.errors;
        submitted.retries += t.retries;
        submitted.duplicates_reported += t.duplicates_reported;
        submitted.acked.extend(t.acked);
    }
    let mut read = Tally::default();
    for r in reads {
        let t = r.await.expect("reader task");
        read.latencies.extend(t.latencies);
        read.errors += t.errors;
    }
    let elapsed = started.elapsed().as_secs_f64();
    std::fs::write(&args.ids_out, submitted.acked.join("\n") + "\n").expect("write ids");
    let out = json!({
        "seconds": (elapsed * 10.0).round() / 10.0,
        "submitters": args.submitters,
        "readers": args.readers,
        "submit": summary("submit", submitted, elapsed),
        "feed": summary("feed", read, elapsed),
    });
    println!("{}", serde_json::to_string_pretty(&out).expect("json"));
    std::process::ExitCode::SUCCESS
}
