use pyward_dist::PackageName;
use pyward_index::{IndexClient, IndexUrl};
use std::str::FromStr;
use std::time::Instant;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cache = std::path::PathBuf::from(&args[1]);
    let offline = args.get(2).map(|s| s == "offline").unwrap_or(false);
    let index = std::env::var("INDEX").unwrap_or("https://pypi.org/simple/".into());
    let client = IndexClient::builder()
        .index(IndexUrl::parse(&index).unwrap())
        .cache_dir(&cache)
        .offline(offline)
        .build()
        .unwrap();
    for n in ["requests", "numpy", "boto3", "botocore"] {
        let t = Instant::now();
        let r = client.project(&PackageName::from_str(n).unwrap()).await;
        let el = t.elapsed();
        match r {
            Ok(Some(p)) => println!(
                "{n}: {} files, api {}, {} warnings, {:?} ({:?})",
                p.files.len(),
                p.api_version,
                p.warnings.len(),
                el,
                p.warnings.iter().take(3).collect::<Vec<_>>()
            ),
            Ok(None) => println!("{n}: none {el:?}"),
            Err(e) => println!("{n}: error {e} {el:?}"),
        }
    }
    if let Ok(Some(p)) = client
        .project(&PackageName::from_str("requests").unwrap())
        .await
    {
        let f = p
            .files
            .iter()
            .rev()
            .find(|f| f.filename.ends_with(".whl"))
            .unwrap()
            .clone();
        println!("{} {:?} {:?}", f.filename, f.core_metadata, f.size);
        let t = Instant::now();
        let d = client
            .download(&f.url, &cache.join("dl").join(&f.filename), |_| {}, f.size)
            .await;
        println!(
            "download {:?} {:?} expected {:?}",
            d,
            t.elapsed(),
            f.hashes.sha256
        );
        let mut f2 = f.clone();
        f2.core_metadata = pyward_index::MetadataAvailability::Available(Default::default());
        let t = Instant::now();
        let m = client
            .metadata(&f2)
            .await
            .map(|m| String::from_utf8_lossy(&m[..200.min(m.len())]).to_string());
        println!("metadata {:?} {:?}", m, t.elapsed());
    }
    let t = Instant::now();
    let j = client
        .fetch_json_bytes(
            &url::Url::parse("https://pypi.org/pypi/requests/json").unwrap(),
            "application/json",
        )
        .await;
    println!(
        "json api: {:?} {:?}",
        j.map(|b| b.map(|b| b.len())),
        t.elapsed()
    );
}
