//! `pyward install` of packages published only as source: built in the
//! sandbox with a tiny in-tree PEP 517 backend, reused from the cache,
//! refused by `--only-binary` / `--no-build` / `build-allow`, stopped when
//! the build reaches for the network, and explained when it fails.

mod common;

use std::net::TcpListener;

use common::{publish, text, Fixture};
use pyward_testkit::index::TestIndex;
use pyward_testkit::wheel::{SdistBuilder, WheelBuilder};

/// An sdist whose backend ships inside it (`backend-path = ["_build"]`).
struct InTree {
    name: &'static str,
    version: &'static str,
    /// The `__init__.py` of the package.
    module: String,
    /// `[build-system] requires`.
    requires: Vec<&'static str>,
    /// `Requires-Dist` of the built wheel.
    requires_dist: Vec<&'static str>,
    /// Python run at the start of `build_wheel`.
    build_code: String,
    /// The backend has PEP 660's `build_editable`: a wheel whose `.pth`
    /// points at the project's `src` directory.
    editable: bool,
}

impl InTree {
    fn new(name: &'static str, version: &'static str) -> InTree {
        InTree {
            name,
            version,
            module: "VALUE = 'from source'\n".into(),
            requires: Vec::new(),
            requires_dist: Vec::new(),
            build_code: "pass".into(),
            editable: false,
        }
    }

    fn backend(&self) -> String {
        let build_code: String = self
            .build_code
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect();
        let editable_hook = if self.editable {
            r#"

def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = ("_" + DIST + "_editable.pth", (os.path.abspath("src") + "\n").encode())
    return _write_wheel(wheel_directory, [pth])
"#
        } else {
            ""
        };
        let backend = format!(
            r#"import base64, hashlib, os, zipfile

NAME = {name:?}
VERSION = {version:?}
DIST = NAME.replace("-", "_")
MODULE_SOURCE = {module:?}
REQUIRES_DIST = {requires_dist:?}


def _metadata():
    lines = ["Metadata-Version: 2.1", "Name: " + NAME, "Version: " + VERSION]
    lines += ["Requires-Dist: " + r for r in REQUIRES_DIST]
    return "\n".join(lines) + "\n"


def _write_wheel(wheel_directory, files):
    dist_info = DIST + "-" + VERSION + ".dist-info"
    files = files + [
        (dist_info + "/METADATA", _metadata().encode()),
        (dist_info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: in-tree\nRoot-Is-Purelib: true\nTag: py3-none-any\n"),
    ]
    record = []
    for path, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (path, digest, len(data)))
    record.append(dist_info + "/RECORD,,")
    files.append((dist_info + "/RECORD", ("\n".join(record) + "\n").encode()))
    filename = DIST + "-" + VERSION + "-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as z:
        for path, data in files:
            z.writestr(path, data)
    return filename


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
{build_code}
    return _write_wheel(wheel_directory, [(DIST + "/__init__.py", MODULE_SOURCE.encode())])


def build_sdist(sdist_directory, config_settings=None):
    import tarfile
    base = DIST + "-" + VERSION
    filename = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz") as t:
        for root, dirs, names in os.walk("."):
            dirs[:] = [d for d in dirs if d not in (".git", ".venv")]
            for n in names:
                path = os.path.normpath(os.path.join(root, n))
                t.add(path, arcname=base + "/" + path)
        info = tarfile.TarInfo(base + "/PKG-INFO")
        data = _metadata().encode()
        info.size = len(data)
        import io
        t.addfile(info, io.BytesIO(data))
    return filename
"#,
            name = self.name,
            version = self.version,
            module = self.module,
            requires_dist = self.requires_dist,
        );
        backend + editable_hook
    }

    fn publish(&self, index: &mut TestIndex) {
        let pyproject = format!(
            "[build-system]\nrequires = {:?}\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n",
            self.requires
        );
        let (filename, bytes) = SdistBuilder::new(self.name, self.version)
            .file("pyproject.toml", pyproject)
            .file("_build/backend.py", self.backend())
            .build();
        index.add_file(self.name, &filename, bytes);
    }
}

fn lib() -> WheelBuilder {
    WheelBuilder::new("lib", "1.0").file("lib/__init__.py", b"READY = True\n".to_vec())
}

/// `demo-pkg` 1.0 only as an sdist, depending on the wheel `lib`.
fn demo_index() -> TestIndex {
    let mut index = TestIndex::new();
    let mut demo = InTree::new("demo-pkg", "1.0");
    demo.requires_dist = vec!["lib>=1.0"];
    demo.publish(&mut index);
    publish(&mut index, "lib", lib());
    index
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Whether this machine can block the network of builds (the first
/// install said so when it cannot).
fn network_blocked(output: &str) -> bool {
    !output.contains("! Builds from source are not sandboxed")
}

#[test]
fn an_sdist_only_package_is_built_installed_and_then_reused_from_the_cache() {
    let fx = Fixture::new(demo_index());
    let out = fx.install(&["demo-pkg"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Resolved 2 packages"), "{all}");
    assert!(all.contains("Built 1 package from source in"), "{all}");
    assert!(all.contains("Installed 2 packages in"), "{all}");
    assert!(all.contains("(1 built from source"), "{all}");
    assert!(
        all.contains("1 wheel was built here from its checked sdist: demo-pkg 1.0"),
        "{all}"
    );
    assert!(
        all.contains("2/2 files match sha256 from the index"),
        "{all}"
    );
    let imported = fx.python("import demo_pkg, lib; print(demo_pkg.VALUE, lib.READY)");
    assert_eq!(
        stdout_of(&imported),
        "from source True",
        "{}",
        text(&imported)
    );
    // `pyward freeze --hashes` pins the sdist that was checked, not the local wheel.
    let origin = std::fs::read_to_string(
        fx.site_packages()
            .join("demo_pkg-1.0.dist-info")
            .join("pyward.json"),
    )
    .unwrap();
    assert!(origin.contains("demo_pkg-1.0.tar.gz"), "{origin}");

    // A fresh environment with the same cache reuses the wheel: nothing is built.
    let second = fx.dir.path().join("second");
    let made = fx.pyward(&["venv", second.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made));
    let url = fx.index.url();
    let out = fx.pyward(&[
        "install",
        "--python",
        second.to_str().unwrap(),
        "-i",
        &url,
        "demo-pkg",
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("Reused 1 wheel built from source before"),
        "{all}"
    );
    assert!(!all.contains("Built 1 package"), "{all}");
    let imported = std::process::Command::new(second.join("bin/python"))
        .args(["-c", "import demo_pkg; print(demo_pkg.VALUE)"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&imported), "from source", "{}", text(&imported));
}

#[test]
fn only_binary_no_build_and_the_allow_list_refuse_with_the_reason() {
    let fx = Fixture::new(demo_index());
    let before = fx.snapshot();
    let out = fx.install(&["--only-binary", ":all:", "demo-pkg"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("demo-pkg 1.0 is published only as source code (an sdist) for this Python, and --only-binary forbids building it from source."),
        "{all}"
    );

    let out = fx.install(&["--no-build", "demo-pkg"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("and --no-build forbids building from source."),
        "{all}"
    );

    std::fs::write(
        fx.dir.path().join("pyward.toml"),
        "build-allow = [\"something-else\"]\n",
    )
    .unwrap();
    let out = fx.install(&["demo-pkg"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("and build-allow in"), "{all}");
    assert!(all.contains("pyward.toml does not list it."), "{all}");
    assert_eq!(before, fx.snapshot(), "the environment changed");

    // Listed, it builds.
    std::fs::write(
        fx.dir.path().join("pyward.toml"),
        "build-allow = [\"Demo_Pkg\"]\n",
    )
    .unwrap();
    let out = fx.install(&["demo-pkg"]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn no_binary_builds_from_source_even_where_a_wheel_exists() {
    let fx = Fixture::new(demo_index_with_wheel());
    let out = fx.install(&["--no-binary", "demo-pkg", "demo-pkg"]);
    assert!(out.status.success(), "{}", text(&out));
    let imported = fx.python("import demo_pkg; print(demo_pkg.VALUE)");
    assert_eq!(stdout_of(&imported), "from source");

    // Without the flag the wheel is used.
    let second = Fixture::new(demo_index_with_wheel());
    let out = second.install(&["demo-pkg"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("built from source"), "{}", text(&out));
    let imported = second.python("import demo_pkg; print(demo_pkg.VALUE)");
    assert_eq!(stdout_of(&imported), "from the wheel");

    let out = fx.install(&["--no-binary", "demo-pkg", "--no-build", "demo-pkg"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--no-binary demo-pkg asks to build demo-pkg from source, but --no-build forbids building from source"),
        "{}",
        text(&out)
    );
}

fn demo_index_with_wheel() -> TestIndex {
    let mut index = demo_index();
    publish(
        &mut index,
        "demo-pkg",
        WheelBuilder::new("demo-pkg", "1.0")
            .file(
                "demo_pkg/__init__.py",
                b"VALUE = 'from the wheel'\n".to_vec(),
            )
            .requires_dist("lib>=1.0"),
    );
    index
}

#[test]
fn build_requirements_are_installed_from_the_index_as_wheels_only() {
    let mut index = TestIndex::new();
    let mut demo = InTree::new("needs-helper", "2.0");
    demo.requires = vec!["build-helper>=1"];
    // The backend uses the helper the build environment got from the index.
    demo.build_code = "import build_helper\nassert build_helper.HELPS".into();
    demo.publish(&mut index);
    publish(
        &mut index,
        "build-helper",
        WheelBuilder::new("build-helper", "1.0")
            .file("build_helper/__init__.py", b"HELPS = True\n".to_vec()),
    );
    let fx = Fixture::new(index);
    let out = fx.install(&["needs-helper"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    // The helper went into the build environment only.
    assert!(!fx.site_packages().join("build_helper").exists());
    assert!(all.contains("Installed 1 package"), "{all}");

    // A build requirement that is itself only source is not built.
    let mut index = TestIndex::new();
    let mut demo = InTree::new("needs-source", "1.0");
    demo.requires = vec!["source-helper"];
    demo.publish(&mut index);
    InTree::new("source-helper", "1.0").publish(&mut index);
    let fx = Fixture::new(index);
    let out = fx.install(&["needs-source"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(4), "{all}");
    assert!(
        all.contains(
            "the build requirements of needs-source 1.0 (source-helper) could not be installed"
        ),
        "{all}"
    );
    assert!(
        all.contains("source-helper 1.0 is published only as source code (an sdist) for this Python, and build requirements are installed from wheels only, so that a build never starts another build."),
        "{all}"
    );
}

#[test]
fn a_build_that_connects_out_is_blocked_with_a_finding_naming_the_package() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut index = TestIndex::new();
    let mut project = InTree::new("phones-home", "0.3");
    project.build_code = format!(
        "import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=5)\nexcept OSError as e:\n    print('connect failed:', e)"
    );
    project.publish(&mut index);
    let fx = Fixture::new(index);
    let before = fx.snapshot();
    let out = fx.install(&["phones-home"]);
    let all = text(&out);
    if !network_blocked(&all) {
        eprintln!("skipped: this machine cannot block the network of builds\n{all}");
        return;
    }
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains(&format!(
            "✗ _build/backend.py of phones-home 0.3 tried to connect to 127.0.0.1:{port} during the build; the sandbox blocked it"
        )),
        "{all}"
    );
    assert!(all.contains("Nothing was installed"), "{all}");
    assert!(
        listener.accept().is_err(),
        "the connection reached the host"
    );
    assert_eq!(before, fx.snapshot(), "the environment changed");

    // The cached wheel remembers what its build did: still refused.
    let again = fx.install(&["phones-home"]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(
        text(&again).contains("tried to connect"),
        "{}",
        text(&again)
    );
}

#[test]
fn a_failing_build_shows_its_output_and_what_to_do() {
    let mut index = TestIndex::new();
    let mut project = InTree::new("broken-build", "1.0");
    project.build_code = "raise RuntimeError('the compiler is missing: cc not found')".into();
    project.publish(&mut index);
    let fx = Fixture::new(index);
    let before = fx.snapshot();
    let out = fx.install(&["broken-build"]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(4), "{all}");
    assert!(
        all.contains("building broken-build 1.0 from source failed in build_wheel"),
        "{all}"
    );
    assert!(
        all.contains("RuntimeError: the compiler is missing: cc not found"),
        "{all}"
    );
    assert!(all.contains("→ look for a version with a wheel"), "{all}");
    assert!(all.contains("→ read the full build output:"), "{all}");
    assert_eq!(before, fx.snapshot(), "the environment changed");
}

#[test]
fn an_sdist_that_does_not_match_its_pinned_hash_is_never_built() {
    let fx = Fixture::new(demo_index());
    let requirements = fx.dir.path().join("requirements.txt");
    std::fs::write(
        &requirements,
        format!("demo-pkg==1.0 --hash=sha256:{}\n", "0".repeat(64)),
    )
    .unwrap();
    let before = fx.snapshot();
    let out = fx.install(&["-r", requirements.to_str().unwrap()]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("demo_pkg-1.0.tar.gz is not the file your requirements pin"),
        "{all}"
    );
    assert!(all.contains("no code from it ran"), "{all}");
    // Nothing was built, not even its metadata.
    assert!(!fx.cache().join("built-wheels-v1").exists());
    assert_eq!(before, fx.snapshot(), "the environment changed");
}

impl InTree {
    /// The sdist as a file in `dir`, as a user would have downloaded it.
    fn write_to(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let pyproject = format!(
            "[build-system]\nrequires = {:?}\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n",
            self.requires
        );
        let (filename, bytes) = SdistBuilder::new(self.name, self.version)
            .file("pyproject.toml", pyproject)
            .file("_build/backend.py", self.backend())
            .build();
        let path = dir.join(filename);
        std::fs::write(&path, bytes).unwrap();
        path
    }
}

#[test]
fn a_local_sdist_file_is_scanned_built_in_the_sandbox_and_installed_with_its_dependencies() {
    let mut index = TestIndex::new();
    publish(&mut index, "lib", lib());
    let fx = Fixture::new(index);
    let mut local = InTree::new("local-tool", "2.0");
    local.requires_dist = vec!["lib"];
    let sdist = local.write_to(fx.dir.path());
    let out = fx.install(&[sdist.to_str().unwrap()]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Installed 2 packages"), "{all}");
    assert!(all.contains("(1 built from source"), "{all}");
    // A local file has no published hash: the advice says how to pin it.
    assert!(all.contains("has no published hash"), "{all}");
    assert!(all.contains("--hash=sha256:"), "{all}");
    let imported = fx.python("import local_tool, lib; print(local_tool.VALUE, lib.READY)");
    assert_eq!(
        stdout_of(&imported),
        "from source True",
        "{}",
        text(&imported)
    );
    // PEP 610: the environment records where it came from, with the sdist's hash.
    let direct_url = std::fs::read_to_string(
        fx.site_packages()
            .join("local_tool-2.0.dist-info")
            .join("direct_url.json"),
    )
    .unwrap();
    assert!(direct_url.contains("local_tool-2.0.tar.gz"), "{direct_url}");
    assert!(direct_url.contains("sha256"), "{direct_url}");
}

#[test]
fn a_local_sdist_is_refused_by_no_build_and_by_a_name_that_does_not_match() {
    let fx = Fixture::new(TestIndex::new());
    let sdist = InTree::new("local-tool", "2.0").write_to(fx.dir.path());
    let before = fx.snapshot();
    let out = fx.install(&["--no-build", sdist.to_str().unwrap()]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("--no-build"), "{all}");
    let url = format!("other @ file://{}", sdist.display());
    let out = fx.install(&[&url]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("a distribution of local-tool, not of other"),
        "{all}"
    );
    assert_eq!(fx.snapshot(), before);
}

#[test]
fn a_lock_pins_the_sdist_of_a_source_only_package_and_sync_builds_it() {
    let fx = Fixture::new(demo_index());
    let lock = fx.dir.path().join("pylock.toml");
    let url = fx.index.url();
    let out = fx.pyward(&["lock", "-i", &url, "-o", lock.to_str().unwrap(), "demo-pkg"]);
    assert!(out.status.success(), "{}", text(&out));
    let text_of_lock = std::fs::read_to_string(&lock).unwrap();
    assert!(text_of_lock.contains("sdist = {"), "{text_of_lock}");
    assert!(
        text_of_lock.contains("demo_pkg-1.0.tar.gz"),
        "{text_of_lock}"
    );

    let venv = fx.venv();
    let out = fx.pyward(&[
        "sync",
        "--python",
        venv.to_str().unwrap(),
        "--no-build",
        lock.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("--no-build forbids"), "{all}");

    let out = fx.pyward(&[
        "sync",
        "--python",
        venv.to_str().unwrap(),
        lock.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("2/2 files match sha256 from the lock file"),
        "{all}"
    );
    assert!(all.contains("(1 built from source"), "{all}");
    let imported = fx.python("import demo_pkg; print(demo_pkg.VALUE)");
    assert_eq!(stdout_of(&imported), "from source", "{}", text(&imported));
}

impl InTree {
    /// The project as a directory, as a developer has it: with a `.git`.
    fn write_tree(&self, dir: &std::path::Path) {
        let pyproject = format!(
            "[build-system]\nrequires = {:?}\nbuild-backend = \"backend\"\nbackend-path = [\"_build\"]\n",
            self.requires
        );
        std::fs::create_dir_all(dir.join("_build")).unwrap();
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(dir.join(".git").join("HEAD"), "ref: refs/heads/main\n").unwrap();
        std::fs::write(dir.join("pyproject.toml"), pyproject).unwrap();
        std::fs::write(dir.join("_build").join("backend.py"), self.backend()).unwrap();
    }
}

#[test]
fn a_project_directory_is_built_without_touching_it_installed_locked_and_synced() {
    let mut index = TestIndex::new();
    publish(&mut index, "lib", lib());
    let fx = Fixture::new(index);
    let project = fx.dir.path().join("my-project");
    let mut tree = InTree::new("my-app", "0.5");
    tree.requires_dist = vec!["lib"];
    tree.write_tree(&project);
    let before = common::snapshot(&project);

    let out = fx.install(&[project.to_str().unwrap()]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Installed 2 packages"), "{all}");
    assert!(
        all.contains("1 package built from your project directory"),
        "{all}"
    );
    assert!(!all.contains("has no published hash"), "{all}");
    let imported = fx.python("import my_app, lib; print(my_app.VALUE, lib.READY)");
    assert_eq!(
        stdout_of(&imported),
        "from source True",
        "{}",
        text(&imported)
    );
    let direct_url = std::fs::read_to_string(
        fx.site_packages()
            .join("my_app-0.5.dist-info")
            .join("direct_url.json"),
    )
    .unwrap();
    assert!(direct_url.contains("dir_info"), "{direct_url}");
    assert!(direct_url.contains("my-project"), "{direct_url}");
    // The developer's directory is exactly as it was.
    assert_eq!(common::snapshot(&project), before);

    // Locked as a directory, and synced into a fresh environment by building it again.
    let lock = project.join("pylock.toml");
    let url = fx.index.url();
    let out = fx.pyward(&[
        "lock",
        "-i",
        &url,
        "-o",
        lock.to_str().unwrap(),
        project.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let locked = std::fs::read_to_string(&lock).unwrap();
    assert!(locked.contains("directory = { path = \".\" }"), "{locked}");
    let second = fx.dir.path().join("second");
    let made = fx.pyward(&["venv", second.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made));
    let out = fx.pyward(&[
        "sync",
        "--python",
        second.to_str().unwrap(),
        lock.to_str().unwrap(),
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Read 2 locked packages"), "{all}");
    let imported = std::process::Command::new(second.join("bin/python"))
        .args(["-c", "import my_app, lib; print(my_app.VALUE)"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&imported), "from source", "{}", text(&imported));
}

#[test]
fn an_editable_install_follows_the_project_s_sources_and_is_frozen_listed_and_removed() {
    let mut index = TestIndex::new();
    publish(&mut index, "lib", lib());
    let fx = Fixture::new(index);
    let project = fx.dir.path().join("my-project");
    let mut tree = InTree::new("my-app", "0.5");
    tree.requires_dist = vec!["lib"];
    tree.editable = true;
    tree.write_tree(&project);
    let module = project.join("src").join("my_app");
    std::fs::create_dir_all(&module).unwrap();
    std::fs::write(module.join("__init__.py"), "VALUE = 'first'\n").unwrap();

    let out = fx.install(&["-e", project.to_str().unwrap()]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("Installed 2 packages"), "{all}");
    assert!(
        all.contains("1 package built from your project directory"),
        "{all}"
    );
    let imported = fx.python("import my_app, lib; print(my_app.VALUE, lib.READY)");
    assert_eq!(stdout_of(&imported), "first True", "{}", text(&imported));
    // A change to the sources is seen without installing again.
    std::fs::write(module.join("__init__.py"), "VALUE = 'second'\n").unwrap();
    let imported = fx.python("import my_app; print(my_app.VALUE)");
    assert_eq!(stdout_of(&imported), "second", "{}", text(&imported));

    let direct_url = std::fs::read_to_string(
        fx.site_packages()
            .join("my_app-0.5.dist-info")
            .join("direct_url.json"),
    )
    .unwrap();
    let direct: serde_json::Value = serde_json::from_str(&direct_url).unwrap();
    assert_eq!(direct["dir_info"]["editable"], true, "{direct_url}");
    assert!(
        direct["url"].as_str().unwrap().ends_with("/my-project"),
        "{direct_url}"
    );

    let frozen = fx.pyward(&["freeze", "--python", fx.venv().to_str().unwrap()]);
    let frozen = stdout_of(&frozen);
    let resolved = project.canonicalize().unwrap();
    assert!(
        frozen.contains(&format!("-e {}", resolved.display())),
        "{frozen}"
    );
    assert!(frozen.contains("lib==1.0"), "{frozen}");
    let listed = fx.pyward(&["list", "--python", fx.venv().to_str().unwrap()]);
    let listed = stdout_of(&listed);
    assert!(listed.contains("editable project location"), "{listed}");
    assert!(listed.contains(&resolved.display().to_string()), "{listed}");

    // Uninstalling removes the link to the sources, never the sources.
    let out = fx.pyward(&[
        "uninstall",
        "--python",
        fx.venv().to_str().unwrap(),
        "my-app",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let imported = fx.python("import my_app");
    assert!(!imported.status.success(), "{}", text(&imported));
    assert!(module.join("__init__.py").is_file());
}

#[test]
fn an_editable_install_needs_a_backend_that_can_make_one_and_changes_nothing_otherwise() {
    let mut index = TestIndex::new();
    publish(&mut index, "lib", lib());
    let fx = Fixture::new(index);
    let project = fx.dir.path().join("old-style");
    InTree::new("old-style", "1.0").write_tree(&project);
    let before = fx.snapshot();

    let out = fx.install(&["-e", project.to_str().unwrap()]);
    let all = text(&out);
    assert!(!out.status.success(), "{all}");
    assert!(all.contains("no build_editable hook"), "{all}");
    assert_eq!(fx.snapshot(), before, "the environment changed: {all}");

    // Not a directory: said before anything runs.
    let out = fx.install(&["-e", project.join("pyproject.toml").to_str().unwrap()]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("editable installs need a local project directory"),
        "{all}"
    );
}
