//! Versions published only as source: skipped with a reason when they may
//! not be built, resolved through the caller's `SdistMetadata` when they may,
//! and wheels still preferred wherever a version has one.

mod common;

use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use pyward_dist::{CoreMetadata, PackageName, Version};
use pyward_index::{DistFile, IndexUrl};
use pyward_resolve::{
    Resolution, ResolveError, ResolveInput, ResolveOptions, ResolvedSource, SdistMetadata,
};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::SdistBuilder;

use common::{add_wheel, target};

fn name(s: &str) -> PackageName {
    PackageName::from_str(s).unwrap()
}

fn add_sdist(index: &mut TestIndex, project: &str, version: &str) {
    let (filename, bytes) = SdistBuilder::new(project, version)
        .file("setup.py", "")
        .build();
    index.add_file(project, &filename, bytes);
}

/// A stand-in for a build backend: metadata from a table, every call recorded.
#[derive(Default)]
struct FakeBuilds {
    refused: Option<String>,
    source_only: Vec<PackageName>,
    requires: Vec<(String, String)>,
    fail: Option<String>,
    calls: Mutex<Vec<String>>,
}

impl SdistMetadata for FakeBuilds {
    fn may_build(&self, _name: &PackageName) -> Result<(), String> {
        match &self.refused {
            Some(reason) => Err(reason.clone()),
            None => Ok(()),
        }
    }

    fn source_only(&self, name: &PackageName) -> bool {
        self.source_only.contains(name)
    }

    fn metadata(
        &self,
        name: &PackageName,
        version: &Version,
        sdist: &DistFile,
        _index: &IndexUrl,
    ) -> Result<CoreMetadata, String> {
        self.calls.lock().unwrap().push(sdist.filename.clone());
        if let Some(message) = &self.fail {
            return Err(message.clone());
        }
        let mut text = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        for (n, r) in &self.requires {
            if n == name.as_ref() {
                text.push_str(&format!("Requires-Dist: {r}\n"));
            }
        }
        CoreMetadata::parse(text.as_bytes()).map_err(|e| e.to_string())
    }
}

async fn resolve(
    index: &str,
    cache: &Path,
    requirements: &[&str],
    builds: Option<Arc<FakeBuilds>>,
) -> Result<Resolution, ResolveError> {
    let client = common::client(index, cache);
    pyward_resolve::resolve(
        client,
        target(),
        ResolveInput {
            requirements: common::requirements(requirements),
            ..Default::default()
        },
        ResolveOptions {
            allow_sdist: builds.is_some(),
            sdist_metadata: builds.map(|b| b as Arc<dyn SdistMetadata>),
            archive_dir: cache.join("archives"),
            ..Default::default()
        },
    )
    .await
}

fn file_of(resolution: &Resolution, project: &str) -> String {
    let pkg = resolution
        .packages
        .iter()
        .find(|p| p.name == name(project))
        .unwrap_or_else(|| panic!("{project} is not in the resolution"));
    match &pkg.source {
        ResolvedSource::Index { file, .. } => file.filename.clone(),
        ResolvedSource::Fixed => panic!("{project} is fixed"),
    }
}

/// docopt-like: 0.6.2 only as an sdist, depending (through its built
/// metadata) on a wheel-only package.
fn index() -> TestIndex {
    let mut index = TestIndex::new();
    add_sdist(&mut index, "srconly", "0.6.2");
    add_wheel(&mut index, "dep", "1.0", &[] as &[&str]);
    add_wheel(&mut index, "both", "1.0", &[] as &[&str]);
    add_sdist(&mut index, "both", "1.0");
    index
}

#[tokio::test(flavor = "multi_thread")]
async fn without_builds_an_sdist_only_package_is_explained() {
    let served = index().serve();
    let dir = tempfile::tempdir().unwrap();
    let err = resolve(&served.url(), dir.path(), &["srconly"], None)
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ResolveError::NoSolution(_)), "{text}");
    assert_eq!(
        text,
        "srconly 0.6.2 is published only as source code (an sdist) for this Python, and this command installs only wheels."
    );

    let refused = Arc::new(FakeBuilds {
        refused: Some("--no-build forbids building from source".into()),
        ..Default::default()
    });
    let err = resolve(
        &served.url(),
        dir.path(),
        &["srconly"],
        Some(refused.clone()),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("srconly 0.6.2 is published only as source code (an sdist) for this Python, and --no-build forbids building from source."),
        "{err}"
    );
    assert!(refused.calls.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sdist_is_resolved_through_its_built_metadata() {
    let served = index().serve();
    let dir = tempfile::tempdir().unwrap();
    let builds = Arc::new(FakeBuilds {
        requires: vec![("srconly".into(), "dep>=1".into())],
        ..Default::default()
    });
    let resolution = resolve(
        &served.url(),
        dir.path(),
        &["srconly", "both"],
        Some(builds.clone()),
    )
    .await
    .unwrap();
    assert_eq!(file_of(&resolution, "srconly"), "srconly-0.6.2.tar.gz");
    // Its dependencies come from the metadata the build gave.
    assert_eq!(file_of(&resolution, "dep"), "dep-1.0-py3-none-any.whl");
    // A version with a wheel uses the wheel, and nothing builds it.
    assert_eq!(file_of(&resolution, "both"), "both-1.0-py3-none-any.whl");
    // One build per sdist, however often the solver asks.
    assert_eq!(
        *builds.calls.lock().unwrap(),
        vec!["srconly-0.6.2.tar.gz".to_string()]
    );
    let srconly = resolution
        .packages
        .iter()
        .find(|p| p.name == name("srconly"))
        .unwrap();
    assert!(srconly.dependencies.contains(&name("dep")));
}

#[tokio::test(flavor = "multi_thread")]
async fn no_binary_builds_from_source_even_where_a_wheel_exists() {
    let served = index().serve();
    let dir = tempfile::tempdir().unwrap();
    let builds = Arc::new(FakeBuilds {
        source_only: vec![name("both"), name("dep")],
        ..Default::default()
    });
    let resolution = resolve(&served.url(), dir.path(), &["both"], Some(builds.clone()))
        .await
        .unwrap();
    assert_eq!(file_of(&resolution, "both"), "both-1.0.tar.gz");

    // A project with wheels only cannot be built from source.
    let err = resolve(&served.url(), dir.path(), &["dep"], Some(builds))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("dep 1.0 has no source distribution, and dep is to be built from source only (--no-binary)."),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_build_stops_the_resolution_with_its_message() {
    let mut index = index();
    // An older sdist must not be tried after the newest one failed to build.
    add_sdist(&mut index, "srconly", "0.6.1");
    let served = index.serve();
    let dir = tempfile::tempdir().unwrap();
    let builds = Arc::new(FakeBuilds {
        fail: Some("building srconly 0.6.2 from source failed in build_wheel".into()),
        ..Default::default()
    });
    let err = resolve(
        &served.url(),
        dir.path(),
        &["srconly"],
        Some(builds.clone()),
    )
    .await
    .unwrap_err();
    match err {
        ResolveError::Build(message) => assert_eq!(
            message,
            "building srconly 0.6.2 from source failed in build_wheel"
        ),
        other => panic!("expected a build error, got {other:?}"),
    }
    assert_eq!(builds.calls.lock().unwrap().len(), 1);
}
