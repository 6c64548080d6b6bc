use std::path::{Path, PathBuf};

use pep508_rs::MarkerEnvironment;
use pyward_dist::interpreter::{MarkerValues, SchemePaths};
use pyward_dist::{InterpreterInfo, Libc, Tags};

use super::*;

const UV_COMPILE: &str = include_str!("../../tests/fixtures/uv-pip-compile.pylock.toml");
const UV_EXPORT: &str = include_str!("../../tests/fixtures/uv-export.pylock.toml");
const PIP_LOCK: &str = include_str!("../../tests/fixtures/pip-lock.pylock.toml");
const SHA: &str = "60e474ac86736bbfd6f210f7a61218939c318f43f9972497381f1c5e930ed3d1";

fn lock_path() -> PathBuf {
    PathBuf::from("/proj/pylock.toml")
}

fn parse(text: &str) -> Result<PyLock, PyLockError> {
    PyLock::parse(text, &lock_path())
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

/// A minimal valid lock with one extra package entry appended.
fn with_package(package: &str) -> String {
    format!("lock-version = \"1.0\"\ncreated-by = \"test\"\n\n[[packages]]\n{package}")
}

fn interpreter(os: &str, arch: &str, version: (u8, u8, u8)) -> InterpreterInfo {
    let (sys_platform, platform_system, os_name) = match os {
        "windows" => ("win32", "Windows", "nt"),
        "darwin" => ("darwin", "Darwin", "posix"),
        _ => ("linux", "Linux", "posix"),
    };
    let full = format!("{}.{}.{}", version.0, version.1, version.2);
    InterpreterInfo {
        executable: "/usr/bin/python3".into(),
        base_executable: "/usr/bin/python3".into(),
        prefix: "/usr".into(),
        base_prefix: "/usr".into(),
        version,
        implementation: "cpython".into(),
        abiflags: String::new(),
        gil_disabled: false,
        pointer_size: 64,
        os: os.into(),
        arch: arch.into(),
        libc: if os == "linux" {
            Libc::Glibc {
                major: 2,
                minor: 35,
            }
        } else {
            Libc::None
        },
        macos: None,
        markers: MarkerValues {
            implementation_name: "cpython".into(),
            implementation_version: full.clone(),
            os_name: os_name.into(),
            platform_machine: arch.into(),
            platform_python_implementation: "CPython".into(),
            platform_release: String::new(),
            platform_system: platform_system.into(),
            platform_version: String::new(),
            python_full_version: full.clone(),
            python_version: format!("{}.{}", version.0, version.1),
            sys_platform: sys_platform.into(),
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

struct Target {
    env: MarkerEnvironment,
    python: Version,
    tags: Tags,
}

fn target(os: &str, arch: &str, version: (u8, u8, u8)) -> Target {
    let info = interpreter(os, arch, version);
    Target {
        env: info.marker_environment().unwrap(),
        python: info.python_version(),
        tags: Tags::from_interpreter(&info),
    }
}

fn linux_312() -> Target {
    target("linux", "x86_64", (3, 12, 3))
}

fn select<'a>(
    lock: &'a PyLock,
    t: &Target,
    extras: &[&str],
    groups: Option<&[String]>,
) -> Result<Vec<Selected<'a>>, PyLockError> {
    let extras: Vec<ExtraName> = extras.iter().map(|e| e.parse().unwrap()).collect();
    lock.select(&t.env, &t.python, &extras, groups, |w| t.tags.rank(w))
}

fn chosen(selected: &[Selected<'_>]) -> Vec<String> {
    selected
        .iter()
        .map(|s| match &s.source {
            SelectedSource::Wheel { file, .. } => file.name.clone(),
            SelectedSource::Sdist(f) => format!("sdist {}", f.name),
            SelectedSource::Directory(d) => format!("dir {}", d.path),
            SelectedSource::Archive(_) => "archive".to_string(),
            SelectedSource::Vcs(_) => "vcs".to_string(),
        })
        .collect()
}

#[test]
fn reads_uv_pip_compile_output() {
    let lock = parse(UV_COMPILE).unwrap();
    assert_eq!(lock.created_by, "uv");
    assert_eq!(lock.packages.len(), 4);
    assert!(lock.warnings.is_empty(), "{:?}", lock.warnings);
    let charset = &lock.packages[1];
    assert_eq!(charset.label(), "charset-normalizer 3.4.3");
    let PackageSource::Distributions { sdist, wheels } = &charset.source else {
        panic!("{:?}", charset.source);
    };
    assert_eq!(wheels.len(), 4);
    // The filename comes from the URL when `name` is absent.
    assert_eq!(
        sdist.as_ref().unwrap().name,
        "charset_normalizer-3.4.3.tar.gz"
    );
    assert_eq!(wheels[0].size, Some(205655));
    assert_eq!(
        wheels[0].strongest_hash(),
        Some((
            "sha256",
            "e28e334d3ff134e88989d90ba04b47d84382a828c061d0d1027b1b12a62b39b1"
        ))
    );
    assert_eq!(
        wheels[0].upload_time.unwrap().to_string(),
        "2025-08-09T07:56:08Z"
    );
}

#[test]
fn selects_the_best_wheel_per_platform_and_skips_false_markers() {
    let lock = parse(UV_COMPILE).unwrap();
    let linux = select(&lock, &linux_312(), &[], None).unwrap();
    assert_eq!(
        chosen(&linux),
        [
            "anyio-4.10.0-py3-none-any.whl",
            "charset_normalizer-3.4.3-cp312-cp312-manylinux2014_x86_64.manylinux_2_17_x86_64.manylinux_2_28_x86_64.whl",
            "sniffio-1.3.1-py3-none-any.whl",
        ]
    );
    // colorama is only for win32; on Windows the pure wheel is the only fit for charset-normalizer.
    let windows = select(&lock, &target("windows", "x86_64", (3, 12, 1)), &[], None).unwrap();
    assert_eq!(
        chosen(&windows),
        [
            "anyio-4.10.0-py3-none-any.whl",
            "charset_normalizer-3.4.3-py3-none-any.whl",
            "colorama-0.4.6-py2.py3-none-any.whl",
            "sniffio-1.3.1-py3-none-any.whl",
        ]
    );
}

#[test]
fn reads_uv_export_with_extras_groups_and_a_project_directory() {
    let lock = parse(UV_EXPORT).unwrap();
    assert_eq!(lock.extras.as_ref().unwrap()[0].as_ref(), "socks");
    assert_eq!(
        lock.default_groups.as_deref(),
        Some(&["dev".to_string()][..])
    );
    let project = &lock.packages[0];
    assert_eq!(project.version, None);
    assert_eq!(project.dependencies.len(), 3);
    assert_eq!(
        project.source,
        PackageSource::Directory(LockedDirectory {
            path: ".".into(),
            editable: true,
            subdirectory: None
        })
    );
    assert_eq!(lock.resolve_path("."), PathBuf::from("/proj"));
    assert_eq!(
        lock.resolve_path("../wheels/x.whl"),
        PathBuf::from("/wheels/x.whl")
    );
    assert_eq!(
        lock.packages[1].index.as_deref(),
        Some("https://pypi.org/simple")
    );

    let t = linux_312();
    // Default: no extras, the default groups.
    let default = select(&lock, &t, &[], None).unwrap();
    assert_eq!(
        chosen(&default),
        [
            "dir .",
            "idna-3.10-py3-none-any.whl",
            "iniconfig-2.1.0-py3-none-any.whl"
        ]
    );
    let socks_no_groups = select(&lock, &t, &["socks"], Some(&[])).unwrap();
    assert_eq!(
        chosen(&socks_no_groups),
        [
            "dir .",
            "idna-3.10-py3-none-any.whl",
            "PySocks-1.7.1-py3-none-any.whl"
        ]
    );
    let e = select(&lock, &t, &["nope"], None).unwrap_err().to_string();
    assert_eq!(
        e,
        "/proj/pylock.toml: the lock file has no extra `nope` (it has socks); choose one it has, or regenerate the lock file with that extra"
    );
    let e = select(&lock, &t, &[], Some(&["docs".to_string()]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("no dependency group `docs` (it has dev)"), "{e}");
}

#[test]
fn reads_pip_lock_output() {
    let lock = parse(PIP_LOCK).unwrap();
    assert_eq!(lock.created_by, "pip");
    assert_eq!(lock.packages.len(), 3);
    assert!(
        matches!(&lock.packages[1].source, PackageSource::Directory(d) if d.path == "." && !d.editable)
    );
    let selected = select(&lock, &linux_312(), &[], None).unwrap();
    assert_eq!(
        chosen(&selected),
        [
            "certifi-2025.8.3-py3-none-any.whl",
            "dir .",
            "urllib3-2.5.0-py3-none-any.whl"
        ]
    );
    // pip leaves `packages` out of an empty lock.
    let empty = parse("lock-version = \"1.0\"\ncreated-by = \"pip\"\n").unwrap();
    assert!(empty.packages.is_empty());
}

#[test]
fn written_output_round_trips_and_is_deterministic() {
    for fixture in [UV_COMPILE, UV_EXPORT, PIP_LOCK] {
        let lock = parse(fixture).unwrap();
        let written = lock.to_toml_string();
        let reparsed = parse(&written).unwrap();
        assert_eq!(reparsed.to_toml_string(), written);
        let mut sorted = lock.clone();
        sorted
            .packages
            .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
        for p in &mut sorted.packages {
            if let PackageSource::Distributions { wheels, .. } = &mut p.source {
                wheels.sort_by(|a, b| a.name.cmp(&b.name));
            }
        }
        assert_eq!(reparsed, sorted);
        // Package order in the model does not change the bytes.
        let mut reversed = lock.clone();
        reversed.packages.reverse();
        assert_eq!(reversed.to_toml_string(), written);
    }
}

#[test]
fn written_layout_follows_the_spec_key_order() {
    let lock = parse(UV_EXPORT).unwrap();
    let written = lock.to_toml_string();
    let expected_start = "lock-version = \"1.0\"\nrequires-python = \">=3.10\"\nextras = [\"socks\"]\ndependency-groups = [\"dev\"]\ndefault-groups = [\"dev\"]\ncreated-by = \"uv\"\n\n[[packages]]\nname = \"demo-app\"\ndependencies = [\n    { name = \"idna\", version = \"3.10\" },\n";
    assert!(written.starts_with(expected_start), "{written}");
    let idna = "[[packages]]\nname = \"idna\"\nversion = \"3.10\"\nindex = \"https://pypi.org/simple\"\nsdist = { upload-time = 2024-09-15T18:07:39Z, url = \"https://files.pythonhosted.org/packages/f1/70/7703c29685631f5a7590aa73f1f1d3fa9a380e654b86af429e0934a32f7d/idna-3.10.tar.gz\", size = 190490, hashes = { sha256 = \"12f65c9b470abda6dc35cf8e63cc574b1c52b11df2c86030af0ac09b01b13ea9\" } }\nwheels = [\n    { upload-time = 2024-09-15T18:07:37Z,";
    assert!(written.contains(idna), "{written}");
    let pip = parse(PIP_LOCK).unwrap().to_toml_string();
    assert!(pip.contains("directory = { path = \".\" }\n"), "{pip}");
}

#[test]
fn attestation_identities_and_tool_tables_are_kept() {
    let text = with_package(&format!(
        "name = \"attrs\"\nversion = \"25.1.0\"\nwheels = [{{ name = \"attrs-25.1.0-py3-none-any.whl\", upload-time = 2025-01-25T11:30:10.164985+00:00, url = \"https://files.pythonhosted.org/attrs-25.1.0-py3-none-any.whl\", size = 63152, hashes = {{ sha256 = \"{SHA}\" }} }}]\n\
         [[packages.attestation-identities]]\nenvironment = \"release-pypi\"\nkind = \"GitHub\"\nrepository = \"python-attrs/attrs\"\nworkflow = \"pypi-package.yml\"\n\
         [packages.tool.mytool]\nnote = \"x\"\n\n[tool.mousebender]\ncommand = [\"lock\", \"attrs\"]\nrun-on = 2025-03-06T12:28:57.760769\n"
    ));
    let lock = parse(&text).unwrap();
    let p = &lock.packages[0];
    assert_eq!(p.attestation_identities[0].kind, "GitHub");
    assert_eq!(
        p.attestation_identities[0].fields["repository"],
        TomlValue::String("python-attrs/attrs".into())
    );
    assert!(p.tool.as_ref().unwrap().contains_key("mytool"));
    assert!(lock.tool.as_ref().unwrap().contains_key("mousebender"));
    let PackageSource::Distributions { wheels, .. } = &p.source else {
        panic!()
    };
    // +00:00 is normalized to Z.
    assert_eq!(
        wheels[0].upload_time.unwrap().to_string(),
        "2025-01-25T11:30:10.164985Z"
    );
    let written = lock.to_toml_string();
    assert!(
        written.contains("[[packages.attestation-identities]]\nkind = \"GitHub\"\n"),
        "{written}"
    );
    assert_eq!(parse(&written).unwrap(), lock);
}

#[test]
fn lock_version_rules() {
    let e = err("lock-version = \"2.0\"\ncreated-by = \"x\"\n");
    assert_eq!(
        e,
        "/proj/pylock.toml:1: lock-version 2.0 is not supported; pyward reads lock-version 1.x, regenerate the lock file with a tool that writes it"
    );
    let newer = parse("lock-version = \"1.1\"\ncreated-by = \"x\"\nnew-key = 1\n").unwrap();
    assert_eq!(newer.warnings.len(), 2, "{:?}", newer.warnings);
    assert!(newer.warnings[0].contains("newer than 1.0"));
    assert!(newer.warnings[1].starts_with("/proj/pylock.toml:3: unknown key `new-key`"));
    let e = err("created-by = \"x\"\n");
    assert!(e.contains("required key `lock-version` is missing"), "{e}");
    let e = err("lock-version = \"1.0\"\n");
    assert!(e.contains("required key `created-by` is missing"), "{e}");
    let e = err("lock-version = 1.0\ncreated-by = \"x\"\n");
    assert!(e.contains("`lock-version` must be a string"), "{e}");
}

#[test]
fn toml_errors_name_the_line() {
    let e = parse("lock-version = \"1.0\"\ncreated-by = \"x\"\n[[packages]\n").unwrap_err();
    assert!(
        matches!(&e, PyLockError::Toml { location, .. } if location.line == Some(3)),
        "{e}"
    );
}

fn wheel(extra: &str) -> String {
    format!(
        "wheels = [{{ url = \"https://example.com/anyio-4.10.0-py3-none-any.whl\", {extra} }}]\n"
    )
}

#[test]
fn files_need_hashes_we_can_verify() {
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel("size = 1")
    )));
    assert!(e.starts_with("/proj/pylock.toml:7 (package anyio 4.10.0): wheel `anyio-4.10.0-py3-none-any.whl` has no hashes"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel("hashes = {}")
    )));
    assert!(e.contains("has no hashes"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel("hashes = { md5 = \"d41d8cd98f00b204e9800998ecf8427e\" }")
    )));
    assert!(e.contains("has only md5 hashes"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel("hashes = { sha256 = \"abc\" }")
    )));
    assert!(e.contains("is not 64 hex digits"), "{e}");
    let ok = parse(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel(&format!(
            "hashes = {{ SHA256 = \"{}\", blake3 = \"x\" }}",
            SHA.to_uppercase()
        ))
    )))
    .unwrap();
    let PackageSource::Distributions { wheels, .. } = &ok.packages[0].source else {
        panic!()
    };
    assert_eq!(wheels[0].hashes["sha256"], SHA);
}

#[test]
fn sources_must_be_exactly_one_kind() {
    let hashes = format!("hashes = {{ sha256 = \"{SHA}\" }}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\narchive = {{ url = \"https://example.com/a.tar.gz\", {hashes} }}\n{}",
        wheel(&hashes)
    )));
    assert!(e.starts_with("/proj/pylock.toml:4 (package anyio 4.10.0): package `anyio` has more than one source (archive, wheels)"), "{e}");
    let e = err(&with_package("name = \"anyio\"\nversion = \"4.10.0\"\n"));
    assert!(e.contains("has no source"), "{e}");
    let e = err(&with_package("name = \"x\"\nwheels = []\n"));
    assert!(e.contains("has no source"), "{e}");
    let e = err(&with_package(
        "name = \"x\"\ndirectory = { path = \".\" }\nvcs = { type = \"git\", url = \"https://g/x\", commit-id = \"abc\" }\n",
    ));
    assert!(e.contains("more than one source (vcs, directory)"), "{e}");
    let vcs = parse(&with_package(
        "name = \"x\"\nvcs = { type = \"git\", url = \"https://github.com/o/x\", requested-revision = \"main\", commit-id = \"0123456789abcdef\", subdirectory = \"pkg\" }\n",
    ))
    .unwrap();
    assert!(
        matches!(&vcs.packages[0].source, PackageSource::Vcs(v) if v.commit_id == "0123456789abcdef" && v.subdirectory.as_deref() == Some("pkg"))
    );
    assert_eq!(parse(&vcs.to_toml_string()).unwrap(), vcs);
    let e = err(&with_package(
        "name = \"x\"\nvcs = { type = \"cvs\", url = \"x\", commit-id = \"1\" }\n",
    ));
    assert!(e.contains("unknown VCS type `cvs`"), "{e}");
    let e = err(&with_package(
        "name = \"x\"\nvcs = { type = \"git\", url = \"x\" }\n",
    ));
    assert!(e.contains("required key `commit-id` is missing"), "{e}");
}

#[test]
fn names_versions_markers_and_filenames_are_checked() {
    let hashes = format!("hashes = {{ sha256 = \"{SHA}\" }}");
    let e = err(&with_package(&format!(
        "name = \"AnyIO\"\nversion = \"4.10.0\"\n{}",
        wheel(&hashes)
    )));
    assert!(
        e.contains("package name `AnyIO` is not normalized; write it as `anyio`"),
        "{e}"
    );
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"four\"\n{}",
        wheel(&hashes)
    )));
    assert!(
        e.starts_with("/proj/pylock.toml:6 (package anyio): version `four` is invalid"),
        "{e}"
    );
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\nmarker = \"python_version >=\"\n{}",
        wheel(&hashes)
    )));
    assert!(
        e.starts_with("/proj/pylock.toml:7 (package anyio 4.10.0): invalid marker"),
        "{e}"
    );
    let e = err(&with_package(&format!(
        "name = \"sniffio\"\nversion = \"4.10.0\"\n{}",
        wheel(&hashes)
    )));
    assert!(e.contains("belongs to `anyio`, not to `sniffio`"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.9.0\"\n{}",
        wheel(&hashes)
    )));
    assert!(
        e.contains("is version 4.10.0, but the entry is version 4.9.0"),
        "{e}"
    );
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\nsdist = {{ url = \"https://example.com/other-4.10.0.tar.gz\", {hashes} }}\n"
    )));
    assert!(e.contains("sdist of `anyio` must be named"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\nsdist = {{ {hashes} }}\n"
    )));
    assert!(e.contains("needs a `url` or a `path`"), "{e}");
    let e = err("lock-version = \"1.0\"\ncreated-by = \"x\"\nextras = [\"Socks\"]\n");
    assert!(e.contains("extra `Socks` is not normalized"), "{e}");
    let e =
        err("lock-version = \"1.0\"\ncreated-by = \"x\"\nenvironments = [\"'a' in extra s\"]\n");
    assert!(
        e.starts_with("/proj/pylock.toml:3: invalid environment marker"),
        "{e}"
    );
}

#[test]
fn paths_times_and_subdirectories_are_checked() {
    let hashes = format!("hashes = {{ sha256 = \"{SHA}\" }}");
    let local = parse(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\nwheels = [{{ path = \"wheels/anyio-4.10.0-py3-none-any.whl\", {hashes} }}]\n"
    )))
    .unwrap();
    let PackageSource::Distributions { wheels, .. } = &local.packages[0].source else {
        panic!()
    };
    assert_eq!(wheels[0].name, "anyio-4.10.0-py3-none-any.whl");
    assert_eq!(
        local.resolve_path(wheels[0].path.as_deref().unwrap()),
        Path::new("/proj/wheels/anyio-4.10.0-py3-none-any.whl")
    );
    let e = err(&with_package(&format!(
        "name = \"x\"\narchive = {{ path = \"x.tar.gz\", subdirectory = \"../escape\", {hashes} }}\n"
    )));
    assert!(
        e.contains("subdirectory `../escape` must be a relative path inside the source tree"),
        "{e}"
    );
    let e = err(&with_package(
        "name = \"x\"\ndirectory = { path = \"/src/x\", subdirectory = \"/abs\" }\n",
    ));
    assert!(e.contains("must be a relative path"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel(&format!(
            "upload-time = 2025-08-04T08:54:24+02:00, {hashes}"
        ))
    )));
    assert!(e.contains("is not in UTC"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel(&format!("upload-time = \"2025-08-04\", {hashes}"))
    )));
    assert!(e.contains("must be a TOML datetime"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\n{}",
        wheel(&format!("size = -1, {hashes}"))
    )));
    assert!(e.contains("`size` must be a non-negative integer"), "{e}");
    let e = err(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\nwheels = [{{ url = \"not a url\", {hashes} }}]\n"
    )));
    assert!(e.contains("invalid url `not a url`"), "{e}");
}

#[test]
fn interpreter_level_errors() {
    let t = linux_312();
    let lock = parse("lock-version = \"1.0\"\ncreated-by = \"x\"\nrequires-python = \">=3.13\"\n")
        .unwrap();
    let e = select(&lock, &t, &[], None).unwrap_err().to_string();
    assert_eq!(
        e,
        "/proj/pylock.toml: the lock file requires Python >=3.13, but the target interpreter is Python 3.12.3; use a matching interpreter or regenerate the lock file for this one"
    );
    let lock = parse(
        "lock-version = \"1.0\"\ncreated-by = \"x\"\nenvironments = [\"sys_platform == 'win32'\", \"sys_platform == 'darwin'\"]\n",
    )
    .unwrap();
    let e = select(&lock, &t, &[], None).unwrap_err().to_string();
    assert!(
        e.contains("none of the lock file's environments (`sys_platform == 'win32'`, `sys_platform == 'darwin'`) matches this interpreter (Python 3.12.3 on linux x86_64)"),
        "{e}"
    );
    assert!(select(&lock, &target("darwin", "arm64", (3, 12, 0)), &[], None).is_ok());
}

#[test]
fn package_level_errors() {
    let t = linux_312();
    let hashes = format!("hashes = {{ sha256 = \"{SHA}\" }}");
    let lock = parse(&with_package(&format!(
        "name = \"anyio\"\nversion = \"4.10.0\"\nrequires-python = \">=3.13\"\n{}",
        wheel(&hashes)
    )))
    .unwrap();
    let e = select(&lock, &t, &[], None).unwrap_err().to_string();
    assert!(e.starts_with("/proj/pylock.toml (package anyio 4.10.0): requires Python >=3.13, but the target interpreter is Python 3.12.3"), "{e}");

    // Two entries whose markers both hold.
    let text = format!(
        "{}\n[[packages]]\nname = \"anyio\"\nversion = \"4.9.0\"\nmarker = \"python_version >= '3.10'\"\nwheels = [{{ url = \"https://example.com/anyio-4.9.0-py3-none-any.whl\", {hashes} }}]\n",
        with_package(&format!("name = \"anyio\"\nversion = \"4.10.0\"\nmarker = \"sys_platform == 'linux'\"\n{}", wheel(&hashes)))
    );
    let lock = parse(&text).unwrap();
    let e = select(&lock, &t, &[], None).unwrap_err().to_string();
    assert!(e.contains("two entries for `anyio` apply to this interpreter (anyio 4.10.0 with marker `sys_platform == 'linux'` and anyio 4.9.0 with marker `python_version >= '3.10'`)"), "{e}");
    // On Windows only the second applies.
    let windows = select(&lock, &target("windows", "x86_64", (3, 12, 0)), &[], None).unwrap();
    assert_eq!(chosen(&windows), ["anyio-4.9.0-py3-none-any.whl"]);

    // Only a Windows wheel and no sdist.
    let lock = parse(&with_package(&format!(
        "name = \"numpy\"\nversion = \"2.2.3\"\nwheels = [{{ url = \"https://example.com/numpy-2.2.3-cp312-cp312-win_amd64.whl\", {hashes} }}]\n"
    )))
    .unwrap();
    let e = select(&lock, &t, &[], None).unwrap_err().to_string();
    assert_eq!(
        e,
        "/proj/pylock.toml (package numpy 2.2.3): no file fits this interpreter (Python 3.12.3 on linux x86_64): none of its 1 wheels (numpy-2.2.3-cp312-cp312-win_amd64.whl) is compatible and there is no sdist; regenerate the lock file on or for this platform"
    );
    // With an sdist, that is the fallback.
    let lock = parse(&with_package(&format!(
        "name = \"numpy\"\nversion = \"2.2.3\"\nsdist = {{ url = \"https://example.com/numpy-2.2.3.tar.gz\", {hashes} }}\nwheels = [{{ url = \"https://example.com/numpy-2.2.3-cp312-cp312-win_amd64.whl\", {hashes} }}]\n"
    )))
    .unwrap();
    assert_eq!(
        chosen(&select(&lock, &t, &[], None).unwrap()),
        ["sdist numpy-2.2.3.tar.gz"]
    );
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = parse(&text);
    }

    /// Damage a real lock file at a random place: parsing and selection must
    /// return errors, never panic.
    #[test]
    fn damaged_lock_files_never_panic(
        fixture in 0usize..3,
        at in 0usize..4000,
        cut in 0usize..40,
        insert in "[\\PC\\n]{0,30}",
    ) {
        let text = [UV_COMPILE, UV_EXPORT, PIP_LOCK][fixture];
        let mut start = at.min(text.len());
        while !text.is_char_boundary(start) { start -= 1; }
        let mut end = (start + cut).min(text.len());
        while !text.is_char_boundary(end) { end -= 1; }
        let damaged = format!("{}{}{}", &text[..start], insert, &text[end..]);
        if let Ok(lock) = parse(&damaged) {
            let t = linux_312();
            let _ = select(&lock, &t, &[], None);
            let _ = parse(&lock.to_toml_string());
        }
    }
}
