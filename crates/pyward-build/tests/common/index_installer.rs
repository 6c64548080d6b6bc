//! A build-environment installer on pyward's own pipeline, in small:
//! resolve against an index (pyward-resolve), download each wheel and check
//! its sha256 against the index (pyward-index), unpack and install it
//! (pyward-install). Used by the tests with the testkit index and by the
//! `build_sdist` example with PyPI.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;

use pyward_build::BuildEnvInstaller;
use pyward_dist::{Requirement, Tags, WheelFilename};
use pyward_index::{IndexClient, IndexUrl};
use pyward_install::{Environment, InstallItem, InstallOptions};
use pyward_resolve::{ResolveInput, ResolveOptions, ResolvedSource, Target};

pub struct IndexInstaller {
    runtime: tokio::runtime::Runtime,
    client: IndexClient,
    cache: PathBuf,
    pub calls: Mutex<Vec<Vec<String>>>,
}

impl IndexInstaller {
    pub fn new(index_url: &str, cache: &Path) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let index = IndexUrl::parse(index_url).map_err(|e| e.to_string())?;
        let client = IndexClient::builder()
            .index(index)
            .cache_dir(cache.join("index"))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(IndexInstaller {
            runtime,
            client,
            cache: cache.to_path_buf(),
            calls: Mutex::new(Vec::new()),
        })
    }

    /// Download the sdist of `name` `version` from the index, checking its
    /// sha256 against the index; returns the archive, its file name and sha256.
    pub fn fetch_sdist(
        &self,
        name: &str,
        version: &str,
    ) -> Result<(PathBuf, String, String), String> {
        let name = pyward_dist::PackageName::from_str(name).map_err(|e| e.to_string())?;
        let version = pyward_dist::Version::from_str(version).map_err(|e| e.to_string())?;
        let page = self
            .runtime
            .block_on(self.client.project(&name))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("{name} is not on the index"))?;
        let file = page
            .files
            .iter()
            .find(
                |f| matches!(&f.dist, pyward_dist::DistFilename::Sdist(s) if s.version == version),
            )
            .ok_or_else(|| format!("{name} {version} has no sdist on the index"))?;
        let expected = file
            .hashes
            .sha256
            .clone()
            .ok_or_else(|| format!("{} has no sha256 on the index", file.filename))?
            .to_ascii_lowercase();
        let dest = self.cache.join("archives").join(&expected);
        let got = self
            .runtime
            .block_on(self.client.download(&file.url, &dest, |_| {}, file.size))
            .map_err(|e| e.to_string())?;
        if got.sha256 != expected {
            return Err(format!(
                "{} does not match its sha256 on the index",
                file.filename
            ));
        }
        Ok((dest, file.filename.clone(), expected))
    }

    /// Resolve `requirements` for the environment at `venv` and install them.
    pub fn install_into(
        &self,
        venv: &Path,
        requirements: &[Requirement],
    ) -> Result<Vec<String>, String> {
        let info = pyward_install::query_interpreter(&pyward_install::venv_python(venv), None)
            .map_err(|e| e.to_string())?;
        let target = Target {
            markers: info.marker_environment()?,
            tags: Tags::from_interpreter(&info),
            python: info.python_version(),
        };
        let archives = self.cache.join("archives");
        std::fs::create_dir_all(&archives).map_err(|e| e.to_string())?;
        let resolution = self
            .runtime
            .block_on(pyward_resolve::resolve(
                self.client.clone(),
                target,
                ResolveInput {
                    requirements: requirements.to_vec(),
                    ..Default::default()
                },
                ResolveOptions {
                    archive_dir: archives.clone(),
                    ..Default::default()
                },
            ))
            .map_err(|e| e.to_string())?;
        let env = Environment::from_interpreter(info);
        let mut items = Vec::new();
        let mut names = Vec::new();
        for pkg in &resolution.packages {
            let installed = env.find(&pkg.name).map_err(|e| e.to_string())?;
            if installed.is_some_and(|d| d.version == pkg.version) {
                continue;
            }
            let ResolvedSource::Index { file, .. } = &pkg.source else {
                return Err(format!("{} did not come from the index", pkg.name));
            };
            let expected = file
                .hashes
                .sha256
                .clone()
                .ok_or_else(|| format!("{} has no sha256 on the index", file.filename))?
                .to_ascii_lowercase();
            let dest = archives.join(&expected);
            if !dest.exists() {
                let got = self
                    .runtime
                    .block_on(self.client.download(&file.url, &dest, |_| {}, file.size))
                    .map_err(|e| e.to_string())?;
                if got.sha256 != expected {
                    let _ = std::fs::remove_file(&dest);
                    return Err(format!(
                        "{} does not match its sha256 on the index",
                        file.filename
                    ));
                }
            }
            let filename = WheelFilename::from_str(&file.filename).map_err(|e| e.to_string())?;
            let unpacked = pyward_install::unpack_wheel(
                &dest,
                &filename,
                &self.cache.join("unpacked"),
                Some(&expected),
            )
            .map_err(|e| e.to_string())?;
            items.push(InstallItem {
                unpacked,
                requested: pkg.direct,
                direct_url: None,
                origin: None,
            });
            names.push(format!("{} {}", pkg.name, pkg.version));
        }
        pyward_install::install(&env, &items, &[], &InstallOptions::default())
            .map_err(|e| e.to_string())?;
        Ok(names)
    }
}

impl BuildEnvInstaller for IndexInstaller {
    fn install(&self, venv: &Path, requirements: &[Requirement]) -> Result<(), String> {
        let names = self.install_into(venv, requirements)?;
        self.calls.lock().map_err(|e| e.to_string())?.push(names);
        Ok(())
    }
}
