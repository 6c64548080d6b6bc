//! What the resolver suites share: the target they resolve for (CPython
//! 3.12 on x86_64 glibc Linux), a client of a test index, and wheels
//! published on it.

use pyward_dist::{interpreter::MarkerValues, InterpreterInfo, Libc, SchemePaths, Tags};
use pyward_resolve::Target;

pub fn interpreter() -> InterpreterInfo {
    InterpreterInfo {
        executable: "/usr/bin/python3".into(),
        base_executable: "/usr/bin/python3".into(),
        prefix: "/usr".into(),
        base_prefix: "/usr".into(),
        version: (3, 12, 1),
        implementation: "cpython".into(),
        abiflags: String::new(),
        gil_disabled: false,
        pointer_size: 64,
        os: "linux".into(),
        arch: "x86_64".into(),
        libc: Libc::Glibc {
            major: 2,
            minor: 35,
        },
        macos: None,
        markers: MarkerValues {
            implementation_name: "cpython".into(),
            implementation_version: "3.12.1".into(),
            os_name: "posix".into(),
            platform_machine: "x86_64".into(),
            platform_python_implementation: "CPython".into(),
            platform_release: String::new(),
            platform_system: "Linux".into(),
            platform_version: String::new(),
            python_full_version: "3.12.1".into(),
            python_version: "3.12".into(),
            sys_platform: "linux".into(),
        },
        paths: SchemePaths {
            purelib: "/usr/lib".into(),
            platlib: "/usr/lib".into(),
            scripts: "/usr/bin".into(),
            data: "/usr".into(),
            include: "/usr/include".into(),
        },
        externally_managed: None,
    }
}

pub fn target() -> Target {
    let info = interpreter();
    Target {
        markers: info.marker_environment().unwrap(),
        tags: Tags::from_interpreter(&info),
        python: info.python_version(),
    }
}

/// A client of the index at `index_url`, caching under `cache`.
#[allow(dead_code)] // not every suite uses it
pub fn client(index_url: &str, cache: &std::path::Path) -> pyward_index::IndexClient {
    pyward_index::IndexClient::builder()
        .index(pyward_index::IndexUrl::parse(index_url).unwrap())
        .cache_dir(cache.join("index"))
        .build()
        .unwrap()
}

/// Requirements as a user writes them.
#[allow(dead_code)] // not every suite uses it
pub fn requirements(texts: &[&str]) -> Vec<pyward_dist::Requirement> {
    texts
        .iter()
        .map(|r| <pyward_dist::Requirement as std::str::FromStr>::from_str(r).unwrap())
        .collect()
}

/// Publish a wheel of `project` `version` with these `Requires-Dist` (and
/// its PEP 658 metadata file) on `index`.
#[allow(dead_code)] // not every suite uses it
pub fn add_wheel(
    index: &mut pyward_testkit::index::TestIndex,
    project: &str,
    version: &str,
    requires: &[impl AsRef<str>],
) {
    let mut wheel = pyward_testkit::wheel::WheelBuilder::new(project, version);
    for r in requires {
        wheel = wheel.requires_dist(r.as_ref());
    }
    let built = wheel.build();
    index
        .add_file(project, &built.filename, built.bytes.clone())
        .metadata(built.metadata.clone());
}
