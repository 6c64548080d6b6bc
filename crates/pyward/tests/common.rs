//! Shared fixture for end-to-end tests: a temporary directory with a cache, a
//! virtual environment made by `pyward venv`, and a local index.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use pyward_testkit::index::{RunningIndex, TestIndex};
use pyward_testkit::wheel::WheelBuilder;

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub index: RunningIndex,
}

impl Fixture {
    pub fn new(index: TestIndex) -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        let fixture = Fixture {
            dir,
            index: index.serve(),
        };
        let out = fixture.pyward(&["venv", fixture.venv().to_str().expect("utf-8 path")]);
        assert!(out.status.success(), "venv failed: {}", text(&out));
        fixture
    }

    pub fn venv(&self) -> PathBuf {
        self.dir.path().join("venv")
    }

    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    pub fn site_packages(&self) -> PathBuf {
        let lib = self.venv().join("lib");
        let entry = std::fs::read_dir(&lib)
            .expect("lib dir")
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with("python"))
            .expect("lib/pythonX.Y");
        entry.path().join("site-packages")
    }

    /// Run pyward with the fixture's cache, no colour, and no ambient venv.
    pub fn pyward(&self, args: &[&str]) -> Output {
        self.pyward_env(args, &[])
    }

    /// The same, with extra environment variables.
    pub fn pyward_env(&self, args: &[&str], envs: &[(&str, &str)]) -> Output {
        Command::cargo_bin("pyward")
            .expect("pyward binary")
            .args(args)
            .env("PYWARD_CACHE_DIR", self.cache())
            .env("PYWARD_DATA_DIR", self.dir.path().join("data"))
            .env_remove("VIRTUAL_ENV")
            .env_remove("PYWARD_INDEX_URL")
            .env("NO_COLOR", "1")
            .env_remove("PYWARD_REPORT_SERVER")
            .env_remove("PYWARD_REPORT_TOKEN")
            .envs(envs.iter().copied())
            .current_dir(self.dir.path())
            .output()
            .expect("run pyward")
    }

    /// `pyward install --python VENV -i INDEX ARGS…`
    pub fn install(&self, args: &[&str]) -> Output {
        let venv = self.venv();
        let url = self.index.url();
        let mut all = vec![
            "install",
            "--python",
            venv.to_str().expect("utf-8"),
            "-i",
            url.as_str(),
        ];
        all.extend_from_slice(args);
        self.pyward(&all)
    }

    /// Every file under the environment with its content, to compare states.
    pub fn snapshot(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        snapshot(&self.venv())
    }

    pub fn python(&self, code: &str) -> Output {
        std::process::Command::new(self.venv().join("bin").join("python"))
            .args(["-c", code])
            .output()
            .expect("run python")
    }
}

pub fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in walk(root) {
        let rel = entry.strip_prefix(root).expect("inside root").to_path_buf();
        // The environment lock file stays once created; it is not content.
        if rel.ends_with(".pyward.lock") {
            continue;
        }
        let content = std::fs::read(&entry).unwrap_or_default();
        out.insert(rel, content);
    }
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        let ft = e.file_type().expect("file type");
        if ft.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Add a built wheel to an index with its PEP 658 metadata.
pub fn publish(index: &mut TestIndex, project: &str, wheel: WheelBuilder) {
    let built = wheel.build();
    index
        .add_file(project, &built.filename, built.bytes.clone())
        .metadata(built.metadata.clone());
}
