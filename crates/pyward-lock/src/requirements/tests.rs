use std::fs;
use std::path::Path;

use pep508_rs::VersionOrUrl;

use super::*;

const SHA_A: &str = "4e3f0bba6cd7c77fb8e8d7bc1b7e4b0e4f4c6a5a3f1e0d9c8b7a6f5e4d3c2b1a";
const SHA_B: &str = "9A1C0BBA6CD7C77FB8E8D7BC1B7E4B0E4F4C6A5A3F1E0D9C8B7A6F5E4D3C2B07";

fn no_env(_: &str) -> Option<String> {
    None
}

fn parse(text: &str) -> Result<RequirementsFile, RequirementsError> {
    parse_with_env(
        text,
        Path::new("requirements.txt"),
        Path::new("/work"),
        &no_env,
    )
}

fn names(file: &RequirementsFile) -> Vec<String> {
    file.entries.iter().map(|e| e.spec.to_string()).collect()
}

fn err(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

/// A project directory with a pyproject.toml and a wheel file beside it.
fn project_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("proj")).unwrap();
    fs::write(
        dir.path().join("proj/pyproject.toml"),
        "[project]\nname='p'\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname='root'\n",
    )
    .unwrap();
    fs::create_dir_all(dir.path().join("dist")).unwrap();
    fs::write(dir.path().join("dist/x-1.0-py3-none-any.whl"), b"PK").unwrap();
    fs::write(dir.path().join("y-2.0.tar.gz"), b"gz").unwrap();
    fs::create_dir_all(dir.path().join("empty")).unwrap();
    dir
}

#[test]
fn comments_blank_lines_markers_and_extras() {
    let f = parse(
        "# a comment\n\
         \n\
         flask[async]>=2,<4 ; python_version > \"3.8\"  # trailing comment\n\
         requests==2.31.0\t# tab before a comment\n\
         \t  # indented comment\n",
    )
    .unwrap();
    assert_eq!(f.entries.len(), 2);
    let RequirementSpec::Named(flask) = &f.entries[0].spec else {
        panic!("{:?}", f.entries[0]);
    };
    assert_eq!(flask.name.as_ref(), "flask");
    assert_eq!(flask.extras[0].as_ref(), "async");
    assert!(!flask.marker.is_true());
    assert_eq!(f.entries[0].origin.to_string(), "requirements.txt:3");
    // `#` not preceded by whitespace is part of the requirement, as in pip.
    let e = err("requests==2.31.0#not-a-comment\n");
    assert!(
        e.starts_with("requirements.txt:1: invalid requirement"),
        "{e}"
    );
}

#[test]
fn url_fragments_are_not_comments() {
    let f = parse(&format!(
        "https://example.com/x-1.0-py3-none-any.whl#sha256={SHA_A} # pinned\n"
    ))
    .unwrap();
    let RequirementSpec::Url { url, .. } = &f.entries[0].spec else {
        panic!("{:?}", f.entries[0].spec);
    };
    assert_eq!(url.fragment(), Some(format!("sha256={SHA_A}").as_str()));
}

#[test]
fn continuations_join_lines_and_keep_the_first_line_number() {
    let text = format!(
        "six==1.16.0 \\\n    --hash=sha256:{SHA_A} \\\n    --hash=sha256:{SHA_B}\nidna==3.7\n"
    );
    let f = parse(&text).unwrap();
    assert_eq!(f.entries.len(), 2);
    assert_eq!(f.entries[0].origin.line, 1);
    assert_eq!(
        f.entries[0].hashes,
        vec![
            format!("sha256:{SHA_A}"),
            format!("sha256:{}", SHA_B.to_lowercase())
        ]
    );
    assert_eq!(f.entries[1].origin.line, 4);
    assert!(
        f.require_hashes,
        "a --hash implies --require-hashes, as in pip"
    );
}

#[test]
fn a_comment_ends_a_continuation() {
    let f = parse("idna \\\n# comment \\\nsix\n").unwrap();
    assert_eq!(names(&f), ["idna", "six"]);
}

#[test]
fn file_level_options() {
    let dir = project_dir();
    fs::create_dir_all(dir.path().join("wheels")).unwrap();
    let req = dir.path().join("requirements.txt");
    fs::write(
        &req,
        "-i https://first.example/simple\n\
         --index-url=https://pypi.example/simple\n\
         --extra-index-url https://extra.example/simple\n\
         -f wheels\n\
         --find-links https://example.com/links/\n\
         --no-index --pre\n\
         --prefer-binary\n\
         --only-binary :all:\n\
         --no-binary lxml,Pillow\n\
         --trusted-host pypi.example\n\
         --require-hashes\n",
    )
    .unwrap();
    let f = parse_with_env(
        &fs::read_to_string(&req).unwrap(),
        &req,
        dir.path(),
        &no_env,
    )
    .unwrap();
    assert_eq!(f.index_url.as_deref(), Some("https://pypi.example/simple"));
    assert_eq!(f.extra_index_urls, ["https://extra.example/simple"]);
    assert_eq!(
        f.find_links[0],
        dir.path().join("wheels").display().to_string()
    );
    assert_eq!(f.find_links[1], "https://example.com/links/");
    assert!(f.no_index && f.pre && f.prefer_binary && f.require_hashes);
    // `--no-binary` names are removed from `--only-binary`'s set (pip's mutual exclusion).
    assert_eq!(f.only_binary, [":all:"]);
    assert_eq!(f.no_binary, ["lxml", "pillow"]);
    assert_eq!(f.notes.len(), 1);
    assert_eq!(f.notes[0].origin.line, 10);
    assert!(f.notes[0].message.contains("--trusted-host pypi.example"));
}

#[test]
fn binary_controls_follow_pip() {
    let f = parse("--no-binary :all:\n--only-binary numpy\n").unwrap();
    assert_eq!(f.no_binary, [":all:"]);
    assert_eq!(f.only_binary, ["numpy"]);
    let f = parse("--only-binary numpy\n--only-binary :none:\n").unwrap();
    assert!(f.only_binary.is_empty());
}

#[test]
fn nested_files_resolve_relative_to_the_including_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("reqs")).unwrap();
    fs::write(
        dir.path().join("requirements.txt"),
        "flask\n-r reqs/dev.txt\n-c reqs/constraints.txt\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("reqs/dev.txt"),
        "# dev tools\n\npytest>=8\n-r common.txt\n",
    )
    .unwrap();
    fs::write(dir.path().join("reqs/common.txt"), "idna\n").unwrap();
    fs::write(
        dir.path().join("reqs/constraints.txt"),
        "urllib3<3\n-r common.txt\n",
    )
    .unwrap();
    let top = dir.path().join("requirements.txt");
    let f = parse_with_env(
        &fs::read_to_string(&top).unwrap(),
        &top,
        dir.path(),
        &no_env,
    )
    .unwrap();
    assert_eq!(names(&f), ["flask", "pytest>=8", "idna", "idna"]);
    assert_eq!(f.entries[1].origin.file, dir.path().join("reqs/dev.txt"));
    assert_eq!(f.entries[1].origin.line, 3);
    assert_eq!(f.entries[2].origin.file, dir.path().join("reqs/common.txt"));
    assert_eq!(f.constraints.len(), 1);
    assert_eq!(f.constraints[0].spec.to_string(), "urllib3<3");
    assert_eq!(f.constraints[0].origin.line, 1);
    // Each file is listed once, the top-level one first.
    assert_eq!(
        f.files_read,
        vec![
            top.clone(),
            dir.path().join("reqs/dev.txt"),
            dir.path().join("reqs/common.txt"),
            dir.path().join("reqs/constraints.txt"),
        ]
    );
}

#[test]
fn errors_in_nested_files_name_that_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("requirements.txt"), "flask\n-r dev.txt\n").unwrap();
    fs::write(dir.path().join("dev.txt"), "pytest\n\nnot a requirement!\n").unwrap();
    let e = parse_requirements_file(&dir.path().join("requirements.txt"))
        .unwrap_err()
        .to_string();
    let expected = format!(
        "{}:3: invalid requirement",
        dir.path().join("dev.txt").display()
    );
    assert!(e.starts_with(&expected), "{e}");
}

#[test]
fn missing_nested_file_names_the_including_line() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("requirements.txt"),
        "flask\n-r missing.txt\n",
    )
    .unwrap();
    let top = dir.path().join("requirements.txt");
    let e = parse_requirements_file(&top).unwrap_err();
    assert!(
        matches!(e, RequirementsError::ReadIncluded { ref origin, .. } if origin.line == 2),
        "{e}"
    );
    assert!(e.to_string().contains("missing.txt"), "{e}");
}

#[test]
fn include_cycles_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.txt"), "flask\n-r b.txt\n").unwrap();
    fs::write(dir.path().join("b.txt"), "idna\n-r ./a.txt\n").unwrap();
    let e = parse_requirements_file(&dir.path().join("a.txt")).unwrap_err();
    let RequirementsError::IncludeCycle { origin, .. } = &e else {
        panic!("{e}");
    };
    assert_eq!(origin.file, dir.path().join("b.txt"));
    assert_eq!(origin.line, 2);
    assert!(e.to_string().contains("a.txt → "), "{e}");
    // Including the same file from two places is fine (not a cycle).
    fs::write(dir.path().join("c.txt"), "-r d.txt\n-r d.txt\n").unwrap();
    fs::write(dir.path().join("d.txt"), "six\n").unwrap();
    let f = parse_requirements_file(&dir.path().join("c.txt")).unwrap();
    assert_eq!(names(&f), ["six", "six"]);
}

#[test]
fn remote_includes_are_refused() {
    let e = err("-r https://example.com/requirements.txt\n");
    assert!(
        e.contains("requirements.txt:1") && e.contains("download it first"),
        "{e}"
    );
}

#[test]
fn hashes_are_validated() {
    let e = err("six --hash=md5:d41d8cd98f00b204e9800998ecf8427e\n");
    assert!(
        e.starts_with("requirements.txt:1: invalid --hash") && e.contains("sha256"),
        "{e}"
    );
    let e = err("six --hash=sha256:abc\n");
    assert!(e.contains("64 hex digits"), "{e}");
    let e = err(&format!("six --hash=sha256:{}\n", "z".repeat(64)));
    assert!(e.contains("not hex digits"), "{e}");
    let e = err("six --hash=deadbeef\n");
    assert!(e.contains("--hash=sha256:"), "{e}");
    let f = parse(&format!("six --hash sha512:{}\n", "Ab".repeat(64))).unwrap();
    assert_eq!(f.entries[0].hashes, [format!("sha512:{}", "ab".repeat(64))]);
    let f = parse(&format!("--hash=sha256:{SHA_A}\n")).unwrap();
    assert!(f.entries.is_empty());
    assert!(f.notes[0].message.contains("without a requirement"));
}

#[test]
fn build_options_are_not_supported() {
    let e = err("lxml --config-settings=--build-option=--static\n");
    assert!(
        e.starts_with("requirements.txt:1: `--config-settings` is not supported"),
        "{e}"
    );
    let e = err("lxml --global-option=--verbose\n");
    assert!(e.contains("`--global-option` is not supported"), "{e}");
}

#[test]
fn unknown_and_misplaced_options() {
    let e = err("flask\n\n--frobnicate\n");
    assert!(
        e.starts_with("requirements.txt:3: unknown option `--frobnicate`"),
        "{e}"
    );
    let e = err("-x foo\n");
    assert!(e.contains("unknown option `-x`"), "{e}");
    let e = err("flask -i https://example.com/simple\n");
    assert!(e.contains("`-i` must be on its own line"), "{e}");
    let e = err("--index-url\n");
    assert!(e.contains("`--index-url` needs a value"), "{e}");
    let e = err("--pre=yes\n");
    assert!(e.contains("takes no value"), "{e}");
    let e = err("--pre flask\n");
    assert!(e.contains("unexpected `flask`"), "{e}");
    let e = err("--index-url 'https://unclosed\n");
    assert!(e.contains("unclosed single quote"), "{e}");
}

#[test]
fn quoted_option_values_are_unquoted() {
    let f = parse("--index-url \"https://example.com/simple\"\n--extra-index-url 'https://a b'\n")
        .unwrap();
    assert_eq!(f.index_url.as_deref(), Some("https://example.com/simple"));
    assert_eq!(f.extra_index_urls, ["https://a b"]);
}

#[test]
fn environment_variables_expand_like_pip() {
    let env = |name: &str| match name {
        "TOKEN" => Some("s3cret".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let f = parse_with_env(
        "--index-url https://user:${TOKEN}@pkgs.example/simple\n\
         --extra-index-url https://${MISSING}/simple\n\
         --find-links https://${EMPTY}x/$TOKEN/${lower}\n",
        Path::new("requirements.txt"),
        Path::new("/work"),
        &env,
    )
    .unwrap();
    assert_eq!(
        f.index_url.as_deref(),
        Some("https://user:s3cret@pkgs.example/simple")
    );
    assert_eq!(f.extra_index_urls, ["https://${MISSING}/simple"]);
    assert_eq!(f.find_links, ["https://${EMPTY}x/$TOKEN/${lower}"]);
}

#[test]
fn paths_urls_and_direct_references() {
    let dir = project_dir();
    let base = dir.path().join("proj");
    let text = "\
../dist/x-1.0-py3-none-any.whl
../y-2.0.tar.gz ; python_version >= \"3.8\"
.
./[dev]
https://example.com/pkgs/z-1.0-py3-none-any.whl ; sys_platform == \"linux\"
https://example.com/archive.zip#egg=Some_Pkg[extra]
named @ https://example.com/named-1.0.tar.gz
local @ file:///opt/wheels/local-1.0-py3-none-any.whl
rel @ file:../dist/x-1.0-py3-none-any.whl
file:///opt/wheels/bare-1.0-py3-none-any.whl
";
    let f = parse_with_env(text, Path::new("requirements.txt"), &base, &no_env).unwrap();
    let specs: Vec<&RequirementSpec> = f.entries.iter().map(|e| &e.spec).collect();
    let root = dir.path();
    assert!(
        matches!(specs[0], RequirementSpec::Path { path, name: None, .. } if *path == root.join("dist/x-1.0-py3-none-any.whl"))
    );
    assert!(
        matches!(specs[1], RequirementSpec::Path { path, marker, .. } if *path == root.join("y-2.0.tar.gz") && !marker.is_true())
    );
    assert!(matches!(specs[2], RequirementSpec::Path { path, .. } if *path == base));
    assert!(
        matches!(specs[3], RequirementSpec::Path { path, extras, .. } if *path == base && extras[0].as_ref() == "dev")
    );
    assert!(
        matches!(specs[4], RequirementSpec::Url { url, marker, name: None, .. } if url.as_str().ends_with("z-1.0-py3-none-any.whl") && !marker.is_true())
    );
    assert!(
        matches!(specs[5], RequirementSpec::Url { name: Some(n), extras, .. } if n.as_ref() == "some-pkg" && extras[0].as_ref() == "extra")
    );
    assert!(
        matches!(specs[6], RequirementSpec::Named(r) if matches!(r.version_or_url, Some(VersionOrUrl::Url(_))))
    );
    assert!(
        matches!(specs[7], RequirementSpec::Path { name: Some(n), path, .. } if n.as_ref() == "local" && path == Path::new("/opt/wheels/local-1.0-py3-none-any.whl"))
    );
    assert!(
        matches!(specs[8], RequirementSpec::Path { name: Some(n), path, .. } if n.as_ref() == "rel" && *path == root.join("dist/x-1.0-py3-none-any.whl"))
    );
    assert!(
        matches!(specs[9], RequirementSpec::Path { name: None, path, .. } if path == Path::new("/opt/wheels/bare-1.0-py3-none-any.whl"))
    );
}

#[test]
fn paths_that_do_not_exist_or_cannot_install_are_errors() {
    let dir = project_dir();
    let parse_in = |text: &str| {
        parse_with_env(text, Path::new("requirements.txt"), dir.path(), &no_env)
            .unwrap_err()
            .to_string()
    };
    let e = parse_in("flask\n./dist/missing-1.0-py3-none-any.whl\n");
    assert!(e.starts_with("requirements.txt:2: invalid requirement: `./dist/missing-1.0-py3-none-any.whl` looks like a file name"), "{e}");
    let e = parse_in("./empty\n");
    assert!(e.contains("neither pyproject.toml nor setup.py"), "{e}");
    let e = parse_in("./nowhere\n");
    assert!(e.contains("looks like a path"), "{e}");
}

#[test]
fn version_control_and_other_schemes_are_refused() {
    let e = err("git+https://github.com/pallets/flask@main#egg=flask\n");
    assert!(e.contains("version control"), "{e}");
    let e = err("flask @ git+https://github.com/pallets/flask\n");
    assert!(e.contains("version control"), "{e}");
    let e = err("ftp://example.com/x-1.0.tar.gz\n");
    assert!(e.contains("`ftp:` scheme"), "{e}");
}

#[test]
fn editables_are_parsed_as_their_own_kind() {
    let dir = project_dir();
    let f = parse_with_env(
        "-e ./proj[test]\n--editable=.\n",
        Path::new("r.txt"),
        dir.path(),
        &no_env,
    )
    .unwrap();
    assert_eq!(
        f.entries[0].spec,
        RequirementSpec::Editable {
            path: dir.path().join("proj"),
            extras: vec!["test".parse().unwrap()],
        }
    );
    assert!(
        matches!(&f.entries[1].spec, RequirementSpec::Editable { path, .. } if path == dir.path())
    );
    let e = err("-e git+https://github.com/x/y#egg=y\n");
    assert!(e.contains("version control"), "{e}");
    let e = err("-e ./does-not-exist\n");
    assert!(e.contains("is not a directory"), "{e}");
    let e = parse_with_env(
        "-e ./proj --config-settings k=v\n",
        Path::new("r.txt"),
        dir.path(),
        &no_env,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("`--config-settings` is not supported"), "{e}");
}

#[test]
fn constraints_must_name_packages() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("c.txt"),
        "foo @ https://example.com/foo-1.0.tar.gz\n",
    )
    .unwrap();
    let e = parse_with_env("-c c.txt\n", &dir.path().join("r.txt"), dir.path(), &no_env)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("c.txt:1") && e.contains("cannot be a constraint"),
        "{e}"
    );
}

#[test]
fn utf16_and_bom_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let mut utf16 = vec![0xFF, 0xFE];
    for unit in "flask==3.0\r\nidna\r\n".encode_utf16() {
        utf16.extend_from_slice(&unit.to_le_bytes());
    }
    fs::write(dir.path().join("a.txt"), utf16).unwrap();
    let f = parse_requirements_file(&dir.path().join("a.txt")).unwrap();
    assert_eq!(names(&f), ["flask==3.0", "idna"]);
    fs::write(dir.path().join("b.txt"), b"\xEF\xBB\xBFsix\n").unwrap();
    assert_eq!(
        names(&parse_requirements_file(&dir.path().join("b.txt")).unwrap()),
        ["six"]
    );
    fs::write(dir.path().join("c.txt"), b"six\xFF\n").unwrap();
    let e = parse_requirements_file(&dir.path().join("c.txt")).unwrap_err();
    assert!(matches!(e, RequirementsError::NotText { .. }), "{e}");
}

#[test]
fn command_line_arguments() {
    let dir = project_dir();
    let cwd = dir.path();
    let named = parse_requirement_arg("flask[async]>=2,<4; python_version>\"3.8\"", cwd).unwrap();
    assert!(
        matches!(&named, RequirementSpec::Named(r) if r.name.as_ref() == "flask" && r.extras.len() == 1)
    );
    assert!(matches!(
        parse_requirement_arg("flask", cwd).unwrap(),
        RequirementSpec::Named(_)
    ));
    assert!(
        matches!(parse_requirement_arg(".", cwd).unwrap(), RequirementSpec::Path { path, .. } if path == cwd)
    );
    // A bare filename that exists is a file, as in pip.
    assert!(matches!(
        parse_requirement_arg("y-2.0.tar.gz", cwd).unwrap(),
        RequirementSpec::Path { .. }
    ));
    assert!(matches!(
        parse_requirement_arg("https://files.example/x-1.0-py3-none-any.whl", cwd).unwrap(),
        RequirementSpec::Url { .. }
    ));
    assert!(matches!(
        parse_requirement_arg("x @ https://files.example/x-1.0-py3-none-any.whl", cwd).unwrap(),
        RequirementSpec::Named(_)
    ));
    let e = parse_requirement_arg("flask>>2", cwd)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("`flask>>2` is not something pyward can install"),
        "{e}"
    );
    let e = parse_requirement_arg("missing.whl", cwd)
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist"), "{e}");
    let e = parse_requirement_arg("", cwd).unwrap_err().to_string();
    assert!(e.contains("empty requirement"), "{e}");
}

#[test]
fn editable_arguments() {
    let dir = project_dir();
    let spec = parse_editable_arg("proj[test]", dir.path()).unwrap();
    assert!(
        matches!(spec, RequirementSpec::Editable { path, extras } if path == dir.path().join("proj") && extras.len() == 1)
    );
    let e = parse_editable_arg("empty", dir.path())
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("`-e empty`: directory is not installable")
            && e.contains("neither pyproject.toml nor setup.py"),
        "{e}"
    );
}

#[test]
fn specs_display_as_written() {
    let dir = project_dir();
    let spec = parse_requirement_arg("./proj[b,a] ; sys_platform == 'linux'", dir.path()).unwrap();
    assert_eq!(
        spec.to_string(),
        format!(
            "{}[b,a] ; sys_platform == 'linux'",
            dir.path().join("proj").display()
        )
    );
    assert_eq!(spec.extras().len(), 2);
    assert!(spec.name().is_none());
}

proptest::proptest! {
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let dir = tempfile::tempdir().unwrap();
        let _ = parse_with_env(&text, &dir.path().join("requirements.txt"), dir.path(), &no_env);
        let _ = parse_requirement_arg(&text, dir.path());
    }

    #[test]
    fn arbitrary_option_lines_never_panic(
        lines in proptest::collection::vec(
            proptest::prop_oneof![
                "-[a-zA-Z]{0,3}[ =]?[^\\n]{0,20}",
                "--[a-z-]{0,15}[ =]?[^\\n]{0,20}",
                "[a-z]{1,8}(==[0-9.]{1,5})? ?(\\\\|--hash[= ][a-z0-9:]{0,70})?",
                "\\$\\{[A-Z_]{0,5}\\}?[^\\n]{0,10}",
            ],
            0..8,
        )
    ) {
        let dir = tempfile::tempdir().unwrap();
        let _ = parse_with_env(&lines.join("\n"), &dir.path().join("r.txt"), dir.path(), &no_env);
    }
}
