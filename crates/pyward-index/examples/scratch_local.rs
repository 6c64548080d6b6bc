use std::str::FromStr;
use std::time::Instant;
use pyward_index::{IndexClient, IndexUrl};
#[tokio::main]
async fn main() {
    let mut json = pyward_testkit::index::TestIndex::new();
    let mut html = pyward_testkit::index::TestIndex::new();
    for (n, j, h) in [("requests", "/tmp/requests.json", "/tmp/req.html"), ("numpy", "/tmp/numpy.json", "/tmp/numpy.html")] {
        json.add_document(&format!("/simple/{n}/"), "application/vnd.pypi.simple.v1+json", std::fs::read(j).unwrap());
        html.add_document(&format!("/simple/{n}/"), "text/html", std::fs::read(h).unwrap());
    }
    let (json, html) = (json.serve(), html.serve());
    for n in ["requests", "numpy"] {
        let name = pyward_dist::PackageName::from_str(n).unwrap();
        let a = IndexClient::builder().index(IndexUrl::parse(&json.url()).unwrap()).build().unwrap().project(&name).await.unwrap().unwrap();
        let t = Instant::now();
        let b = IndexClient::builder().index(IndexUrl::parse(&html.url()).unwrap()).build().unwrap().project(&name).await.unwrap().unwrap();
        let el = t.elapsed();
        let same = a.files.len() == b.files.len() && a.files.iter().zip(&b.files).all(|(x, y)| x.filename == y.filename && x.url == y.url && x.hashes == y.hashes && x.requires_python == y.requires_python && x.yanked == y.yanked && x.yank_reason == y.yank_reason && x.core_metadata == y.core_metadata);
        println!("{n}: json {} files, html {} files, identical fields: {same}, html fetch+parse {el:?}, html warnings {:?}", a.files.len(), b.files.len(), b.warnings);
    }
}
