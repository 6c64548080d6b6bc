//! Installing wheels (and removing what they replace) as one transaction:
//! plan every file's destination, refuse conflicts, stage everything inside
//! the environment (hardlinks from the unpacked cache, or copies), generate
//! scripts and metadata, optionally compile bytecode, then commit with
//! renames. Cancelling or failing before the commit changes nothing; a
//! failure during the commit is rolled back.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::commit::{commit, recover_leftovers, remove_empty_parents};
use crate::environment::{ArchiveOrigin, Environment, InstalledDist, MetadataKind};
use crate::error::{io_err, InstallError, Result};
use crate::lock::EnvLock;
use crate::record::{write_record, RecordEntry};
use crate::scripts::{is_reserved_script_name, launcher, parse_entry_points, rewrite_script};
use crate::uninstall::{new_staging, normalize_lexically, removal_paths};
use crate::wheel::UnpackedWheel;

/// One wheel to install.
#[derive(Debug, Clone)]
pub struct InstallItem {
    pub unpacked: UnpackedWheel,
    /// Asked for by the user (writes `REQUESTED`).
    pub requested: bool,
    /// Written as `direct_url.json` (only for direct URL, VCS or path installs).
    pub direct_url: Option<serde_json::Value>,
    /// Written into `pyward.json`.
    pub origin: Option<ArchiveOrigin>,
}

/// How to install.
#[derive(Debug, Clone, Default)]
pub struct InstallOptions {
    /// Compile `.py` files to `.pyc` with the environment's interpreter.
    pub compile_bytecode: bool,
    /// Set (e.g. by a Ctrl-C handler) to stop before the commit.
    pub cancel: Option<Arc<AtomicBool>>,
}

/// What [`install`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    pub installed: Vec<InstalledDist>,
    /// Distributions removed, including older versions of installed ones.
    pub removed: Vec<InstalledDist>,
    /// Files written (metadata and bytecode included).
    pub files: usize,
}

/// Where a file's bytes come from.
enum Source {
    /// A file of the unpacked wheel, hash known from its RECORD.
    Cached {
        path: PathBuf,
        hash: String,
        size: u64,
    },
    /// Generated (scripts, metadata).
    Bytes(Vec<u8>),
    /// Already written in the staging area (bytecode).
    Staged,
}

struct PlannedFile {
    root: usize,
    rel: String,
    source: Source,
    executable: bool,
}

impl PlannedFile {
    fn staged(&self, staging: &Path) -> PathBuf {
        staging.join(format!("t{}", self.root)).join(&self.rel)
    }
}

/// Install `add` and remove `remove` in `env` as one transaction. Installed
/// distributions with the name of an added one are replaced (removed)
/// automatically. Takes the environment lock.
pub fn install(
    env: &Environment,
    add: &[InstallItem],
    remove: &[InstalledDist],
    options: &InstallOptions,
) -> Result<InstallReport> {
    let cancelled = || {
        options
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    };
    let check_cancel = || {
        if cancelled() {
            Err(InstallError::Cancelled)
        } else {
            Ok(())
        }
    };
    check_cancel()?;
    let _lock = EnvLock::acquire(env)?;
    recover_leftovers(env)?;

    let roots = dest_roots(env);
    let root_index = |p: &Path| roots.iter().position(|r| r == p).unwrap_or(0);
    let purelib = root_index(env.site_packages());
    let platlib = root_index(env.platlib());
    let scripts = root_index(env.scripts_dir());
    let data = root_index(env.data_dir());

    // What goes away: the requested removals plus older versions of added names.
    let installed = env.installed()?;
    let mut removed: Vec<InstalledDist> = remove.to_vec();
    let mut names = HashSet::new();
    for item in add {
        if !names.insert(item.unpacked.name().clone()) {
            return Err(InstallError::Invalid(format!(
                "{} is to be installed twice",
                item.unpacked.name()
            )));
        }
        for dist in installed.iter().filter(|d| &d.name == item.unpacked.name()) {
            if !removed.iter().any(|r| r.path == dist.path) {
                removed.push(dist.clone());
            }
        }
    }
    let mut removal = Vec::new();
    let mut removal_set = HashSet::new();
    for dist in &removed {
        for path in removal_paths(env, dist)? {
            if removal_set.insert(path.clone()) {
                removal.push(path);
            }
        }
    }

    // Plan every file.
    let mut plans: Vec<(usize, Vec<PlannedFile>)> = Vec::with_capacity(add.len());
    for item in add {
        let lib = if item.unpacked.root_is_purelib {
            purelib
        } else {
            platlib
        };
        let files = plan_item(env, item, lib, purelib, platlib, scripts, data)?;
        plans.push((lib, files));
    }
    check_cancel()?;

    // Conflicts between the new distributions, and with installed ones.
    let mut owners: HashMap<PathBuf, usize> = HashMap::new();
    for (i, (_, files)) in plans.iter().enumerate() {
        for f in files {
            let dest = roots[f.root].join(&f.rel);
            if let Some(&other) = owners.get(&dest) {
                if other != i {
                    return Err(InstallError::FileConflict {
                        dist: dist_label(&add[i]),
                        path: dest,
                        owner: dist_label(&add[other]),
                    });
                }
            }
            owners.insert(dest, i);
        }
    }
    let mut in_the_way = Vec::new();
    let mut installed_owners: Option<HashMap<PathBuf, String>> = None;
    let mut dir_exists: HashMap<PathBuf, bool> = HashMap::new();
    for (dest, &i) in &owners {
        let parent = dest.parent().map(Path::to_path_buf).unwrap_or_default();
        let parent_exists = *dir_exists
            .entry(parent.clone())
            .or_insert_with(|| parent.is_dir());
        // Removed already: the path itself, or a directory it is in (a
        // dist-info of the same name and version being reinstalled).
        if !parent_exists || dest.ancestors().any(|a| removal_set.contains(a)) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(dest) else {
            continue;
        };
        if meta.is_dir() {
            return Err(InstallError::ForbiddenPath {
                dist: dist_label(&add[i]),
                path: dest.clone(),
                reason: "a directory is in the way".to_string(),
            });
        }
        let owners_map = match &mut installed_owners {
            Some(map) => map,
            None => installed_owners.insert(record_owners(&installed, &removed)),
        };
        if let Some(owner) = owners_map.get(dest) {
            return Err(InstallError::FileConflict {
                dist: dist_label(&add[i]),
                path: dest.clone(),
                owner: owner.clone(),
            });
        }
        // Not owned by anything installed: replaced (and restored on rollback).
        in_the_way.push(dest.clone());
    }

    // Stage.
    let staging_dir = new_staging(env)?;
    let staging = staging_dir.path();
    stage_files(staging, &plans, &cancelled)?;
    check_cancel()?;

    if options.compile_bytecode {
        compile_staged(env, staging, &roots, &mut plans, &[purelib, platlib])?;
        check_cancel()?;
    }

    let mut files = 0;
    let mut report_installed = Vec::with_capacity(add.len());
    for (item, (lib, planned)) in add.iter().zip(&plans) {
        let record_rel = format!("{}/RECORD", item.unpacked.dist_info);
        let mut rows = Vec::with_capacity(planned.len() + 1);
        let lib_dir = &roots[*lib];
        for f in planned {
            let rel = relative_path(lib_dir, &roots[f.root].join(&f.rel));
            let (hash, size) = match &f.source {
                Source::Cached { hash, size, .. } => (hash.clone(), *size),
                Source::Bytes(b) => (sha256_record(b), b.len() as u64),
                Source::Staged => {
                    let path = f.staged(staging);
                    let bytes = std::fs::read(&path).map_err(io_err("could not read", &path))?;
                    (sha256_record(&bytes), bytes.len() as u64)
                }
            };
            rows.push(RecordEntry {
                path: rel,
                hash,
                size: Some(size),
            });
        }
        rows.push(RecordEntry {
            path: record_rel.clone(),
            hash: String::new(),
            size: None,
        });
        let record_file = staging.join(format!("t{lib}")).join(&record_rel);
        std::fs::write(&record_file, write_record(&rows))
            .map_err(io_err("could not write", &record_file))?;
        files += rows.len();
        report_installed.push(InstalledDist {
            name: item.unpacked.name().clone(),
            version: item.unpacked.version().clone(),
            path: lib_dir.join(&item.unpacked.dist_info),
            kind: MetadataKind::DistInfo,
            installer: Some("pyward".to_string()),
            requested: item.requested,
        });
    }
    check_cancel()?;

    // Commit.
    let mut move_aside = removal.clone();
    move_aside.extend(in_the_way);
    let trees: Vec<(PathBuf, PathBuf)> = roots
        .iter()
        .enumerate()
        .map(|(i, r)| (staging.join(format!("t{i}")), r.clone()))
        .collect();
    commit(staging, &move_aside, &trees)?;
    drop(staging_dir);
    let scheme_roots = env.scheme_roots();
    remove_empty_parents(&removal, &scheme_roots);
    Ok(InstallReport {
        installed: report_installed,
        removed,
        files,
    })
}

/// The distinct destination roots: purelib, platlib, scripts, data.
fn dest_roots(env: &Environment) -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = Vec::new();
    for r in [
        env.site_packages(),
        env.platlib(),
        env.scripts_dir(),
        env.data_dir(),
    ] {
        if !roots.iter().any(|x| x == r) {
            roots.push(r.to_path_buf());
        }
    }
    roots
}

fn dist_label(item: &InstallItem) -> String {
    format!("{} {}", item.unpacked.name(), item.unpacked.version())
}

fn sha256_record(bytes: &[u8]) -> String {
    format!(
        "sha256={}",
        crate::record::encode_digest(&Sha256::digest(bytes))
    )
}

/// Which installed distribution (not being removed) owns each file.
fn record_owners(
    installed: &[InstalledDist],
    removed: &[InstalledDist],
) -> HashMap<PathBuf, String> {
    let mut map = HashMap::new();
    for dist in installed {
        if removed.iter().any(|r| r.path == dist.path) {
            continue;
        }
        let Ok(rows) = dist.record() else { continue };
        for row in rows {
            map.insert(
                normalize_lexically(&dist.site_packages().join(&row.path)),
                dist.to_string(),
            );
        }
    }
    map
}

/// The destination of every file of one wheel, plus generated scripts and
/// metadata.
fn plan_item(
    env: &Environment,
    item: &InstallItem,
    lib: usize,
    purelib: usize,
    platlib: usize,
    scripts: usize,
    data: usize,
) -> Result<Vec<PlannedFile>> {
    let wheel = &item.unpacked;
    let label = dist_label(item);
    let invalid = |reason: String| InstallError::InvalidWheel {
        wheel: wheel.filename.to_string(),
        reason,
    };
    let python = &env.interpreter.executable;
    let dist_info = wheel.dist_info.as_str();
    let generated: HashSet<String> = [
        "RECORD",
        "RECORD.jws",
        "RECORD.p7s",
        "INSTALLER",
        "REQUESTED",
        "direct_url.json",
        "pyward.json",
    ]
    .iter()
    .map(|f| format!("{dist_info}/{f}"))
    .collect();

    let entry_points =
        match std::fs::read_to_string(wheel.dir.join(dist_info).join("entry_points.txt")) {
            Ok(text) => parse_entry_points(&text).map_err(|(entry, reason)| {
                InstallError::InvalidEntryPoint {
                    dist: label.clone(),
                    entry,
                    reason,
                }
            })?,
            Err(_) => Vec::new(),
        };
    let entry_names: HashSet<&str> = entry_points.iter().map(|e| e.name.as_str()).collect();
    let (major, minor, _) = env.interpreter.version;
    let headers_prefix = format!("include/site/python{major}.{minor}/{}", wheel.name());

    let mut out = Vec::new();
    for row in wheel.record()? {
        let path = pyward_archive::normalize_entry_path(&row.path)
            .map_err(|reason| invalid(format!("RECORD path {} is unsafe: {reason}", row.path)))?;
        if generated.contains(&path) {
            continue;
        }
        let source_path = wheel.dir.join(&path);
        let size = row.size.unwrap_or(0);
        let cached = |hash: String| Source::Cached {
            path: source_path.clone(),
            hash,
            size,
        };
        let in_data = wheel
            .data_dir
            .as_deref()
            .and_then(|d| path.strip_prefix(d))
            .and_then(|rest| rest.strip_prefix('/'));
        let Some(rest) = in_data else {
            out.push(PlannedFile {
                root: lib,
                rel: path.clone(),
                source: cached(row.hash.clone()),
                executable: false,
            });
            continue;
        };
        let (key, sub) = rest
            .split_once('/')
            .ok_or_else(|| invalid(format!("{path} is not inside a .data category")))?;
        match key {
            "purelib" | "platlib" => out.push(PlannedFile {
                root: if key == "purelib" { purelib } else { platlib },
                rel: sub.to_string(),
                source: cached(row.hash.clone()),
                executable: false,
            }),
            "data" => out.push(PlannedFile {
                root: data,
                rel: sub.to_string(),
                source: cached(row.hash.clone()),
                executable: false,
            }),
            "headers" => out.push(PlannedFile {
                root: data,
                rel: format!("{headers_prefix}/{sub}"),
                source: cached(row.hash.clone()),
                executable: false,
            }),
            "scripts" => {
                let name = sub.split('/').next().unwrap_or(sub);
                if entry_names.contains(name) {
                    continue;
                }
                if is_reserved_script_name(name) {
                    return Err(InstallError::ForbiddenPath {
                        dist: label,
                        path: env.scripts_dir().join(sub),
                        reason: "it would replace the environment's Python".to_string(),
                    });
                }
                let bytes =
                    std::fs::read(&source_path).map_err(io_err("could not read", &source_path))?;
                let bytes = rewrite_script(&bytes, python).unwrap_or(bytes);
                out.push(PlannedFile {
                    root: scripts,
                    rel: sub.to_string(),
                    source: Source::Bytes(bytes),
                    executable: true,
                });
            }
            other => {
                return Err(invalid(format!(
                    "{path} uses the unknown .data category `{other}`"
                )))
            }
        }
    }
    for ep in &entry_points {
        if is_reserved_script_name(&ep.name) {
            return Err(InstallError::ForbiddenPath {
                dist: label,
                path: env.scripts_dir().join(&ep.name),
                reason: "it would replace the environment's Python".to_string(),
            });
        }
        out.push(PlannedFile {
            root: scripts,
            rel: ep.name.clone(),
            source: Source::Bytes(launcher(ep, python).into_bytes()),
            executable: true,
        });
    }
    let meta = |name: &str, bytes: Vec<u8>| PlannedFile {
        root: lib,
        rel: format!("{dist_info}/{name}"),
        source: Source::Bytes(bytes),
        executable: false,
    };
    out.push(meta("INSTALLER", b"pyward\n".to_vec()));
    if item.requested {
        out.push(meta("REQUESTED", Vec::new()));
    }
    if let Some(url) = &item.direct_url {
        out.push(meta(
            "direct_url.json",
            serde_json::to_vec(url).unwrap_or_default(),
        ));
    }
    if let Some(origin) = &item.origin {
        let doc = serde_json::json!({ "origin": origin });
        out.push(meta(
            "pyward.json",
            serde_json::to_vec_pretty(&doc).unwrap_or_default(),
        ));
    }
    Ok(out)
}

/// Write every planned file into the staging area, in parallel.
fn stage_files(
    staging: &Path,
    plans: &[(usize, Vec<PlannedFile>)],
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<()> {
    let mut dirs: Vec<PathBuf> = plans
        .iter()
        .flat_map(|(_, files)| files.iter())
        .filter_map(|f| f.staged(staging).parent().map(Path::to_path_buf))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    dirs.sort();
    for dir in &dirs {
        std::fs::create_dir_all(dir).map_err(io_err("could not create", dir))?;
    }
    let no_links = AtomicBool::new(false);
    plans
        .par_iter()
        .flat_map(|(_, files)| files.par_iter())
        .try_for_each(|f| {
            if cancelled() {
                return Err(InstallError::Cancelled);
            }
            let dest = f.staged(staging);
            match &f.source {
                Source::Cached { path, .. } => link_or_copy(path, &dest, &no_links),
                Source::Bytes(bytes) => write_new(&dest, bytes, f.executable),
                Source::Staged => Ok(()),
            }
        })
}

/// Hardlink `src` to `dest`; copy when linking is impossible (another
/// filesystem), remembering that for the following files.
fn link_or_copy(src: &Path, dest: &Path, no_links: &AtomicBool) -> Result<()> {
    if !no_links.load(Ordering::Relaxed) {
        match std::fs::hard_link(src, dest) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(io_err("could not read", src)(e))
            }
            Err(_) => no_links.store(true, Ordering::Relaxed),
        }
    }
    std::fs::copy(src, dest)
        .map(|_| ())
        .map_err(io_err("could not copy to", dest))
}

fn write_new(path: &Path, bytes: &[u8], executable: bool) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    let mut file = options
        .open(path)
        .map_err(io_err("could not write", path))?;
    std::io::Write::write_all(&mut file, bytes).map_err(io_err("could not write", path))
}

/// Compile the staged `.py` files under the library roots; the `.pyc`
/// files join their distribution's file list.
fn compile_staged(
    env: &Environment,
    staging: &Path,
    roots: &[PathBuf],
    plans: &mut [(usize, Vec<PlannedFile>)],
    lib_roots: &[usize],
) -> Result<()> {
    let mut pairs = Vec::new();
    let mut owner = Vec::new();
    for (i, (_, files)) in plans.iter().enumerate() {
        for f in files {
            if lib_roots.contains(&f.root) && f.rel.ends_with(".py") {
                pairs.push((f.staged(staging), roots[f.root].join(&f.rel)));
                owner.push(i);
            }
        }
    }
    let by_source: HashMap<PathBuf, usize> = pairs
        .iter()
        .zip(&owner)
        .map(|((staged, _), &i)| (staged.clone(), i))
        .collect();
    let compiled = crate::bytecode::compile(&env.interpreter.executable, &pairs)?;
    for pyc in compiled {
        // `<dir>/__pycache__/<stem>.<tag>.pyc` belongs to `<dir>/<stem>.py`.
        let source = pyc
            .parent()
            .and_then(Path::parent)
            .zip(pyc.file_name())
            .and_then(|(dir, name)| {
                let name = name.to_string_lossy();
                let stem = name.split('.').next()?;
                Some(dir.join(format!("{stem}.py")))
            });
        let Some(&i) = source.as_ref().and_then(|s| by_source.get(s)) else {
            continue;
        };
        let Some((root, rel)) = (0..roots.len()).find_map(|r| {
            let tree = staging.join(format!("t{r}"));
            pyc.strip_prefix(&tree)
                .ok()
                .map(|rel| (r, rel.to_string_lossy().replace('\\', "/")))
        }) else {
            continue;
        };
        plans[i].1.push(PlannedFile {
            root,
            rel,
            source: Source::Staged,
            executable: false,
        });
    }
    Ok(())
}

/// `to` relative to the directory `from` (both absolute), `/`-separated.
fn relative_path(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commit::fault::FAIL_AT;
    use crate::{create_venv, query_interpreter, unpack_wheel, venv_python, VenvOptions};
    use pyward_testkit::wheel::WheelBuilder;
    use std::collections::BTreeMap;
    use std::str::FromStr;

    #[test]
    fn relative_paths() {
        let sp = Path::new("/v/lib/python3.12/site-packages");
        assert_eq!(relative_path(sp, &sp.join("pkg/a.py")), "pkg/a.py");
        assert_eq!(
            relative_path(sp, Path::new("/v/bin/tool")),
            "../../../bin/tool"
        );
    }

    fn env_at(root: &Path) -> Environment {
        if !root.exists() {
            let python = crate::find_python(None).unwrap();
            let base = query_interpreter(&python, None).unwrap();
            create_venv(root, &base, &VenvOptions::default()).unwrap();
        }
        let env =
            Environment::from_interpreter(query_interpreter(&venv_python(root), None).unwrap());
        drop(EnvLock::acquire(&env).unwrap());
        env
    }

    fn wheel(dir: &Path, version: &str) -> InstallItem {
        let built = WheelBuilder::new("demo", version)
            .file("demo/__init__.py", format!("V = '{version}'\n"))
            .file(&format!("demo/only_{}.py", version.replace('.', "_")), "")
            .file("zzz/last.py", version)
            .entry_point("console_scripts", "demo = demo:main")
            .build();
        let archive = built.write_to(dir);
        let filename = pyward_dist::WheelFilename::from_str(&built.filename).unwrap();
        InstallItem {
            unpacked: unpack_wheel(&archive, &filename, &dir.join("cache"), None).unwrap(),
            requested: true,
            direct_url: None,
            origin: None,
        }
    }

    fn snapshot(root: &Path) -> BTreeMap<PathBuf, String> {
        walkdir::WalkDir::new(root)
            .into_iter()
            .map(|e| {
                let e = e.unwrap();
                let meta = e.path().symlink_metadata().unwrap();
                let what = if meta.is_file() {
                    hex::encode(Sha256::digest(std::fs::read(e.path()).unwrap()))
                } else {
                    format!("{:?}", meta.file_type())
                };
                (e.path().to_path_buf(), what)
            })
            .collect()
    }

    #[test]
    fn a_failure_during_commit_rolls_the_upgrade_back() {
        let tmp = tempfile::tempdir().unwrap();
        let env = env_at(&tmp.path().join("venv"));
        install(
            &env,
            &[wheel(tmp.path(), "1.0")],
            &[],
            &InstallOptions::default(),
        )
        .unwrap();
        let before = snapshot(&env.root);
        let v2 = wheel(tmp.path(), "2.0");
        for at in [0, 1, 2] {
            FAIL_AT.with(|f| f.set(Some(at)));
            let err = install(
                &env,
                std::slice::from_ref(&v2),
                &[],
                &InstallOptions::default(),
            )
            .unwrap_err();
            FAIL_AT.with(|f| f.set(None));
            assert!(err.to_string().contains("injected"), "{err}");
            assert_eq!(snapshot(&env.root), before, "after a failure at move {at}");
        }
        install(&env, &[v2], &[], &InstallOptions::default()).unwrap();
        assert!(env.site_packages().join("demo/only_2_0.py").exists());
        assert!(!env.site_packages().join("demo/only_1_0.py").exists());
    }

    /// Run by `a_killed_commit_is_undone_by_the_next_run` in a child process
    /// that aborts in the middle of the commit.
    #[test]
    #[ignore = "run as a child process"]
    fn child_install_that_gets_killed() {
        let Ok(dir) = std::env::var("PYWARD_TEST_DIR") else {
            return;
        };
        let dir = PathBuf::from(dir);
        let env = env_at(&dir.join("venv"));
        let _ = install(&env, &[wheel(&dir, "2.0")], &[], &InstallOptions::default());
    }

    #[test]
    fn a_killed_commit_is_undone_by_the_next_run() {
        let tmp = tempfile::tempdir().unwrap();
        let env = env_at(&tmp.path().join("venv"));
        install(
            &env,
            &[wheel(tmp.path(), "1.0")],
            &[],
            &InstallOptions::default(),
        )
        .unwrap();
        let before = snapshot(&env.root);
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "transaction::tests::child_install_that_gets_killed",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("PYWARD_TEST_DIR", tmp.path())
            .env("PYWARD_TEST_ABORT_AT", "1")
            .stderr(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success(), "the child must have been killed");
        let broken = snapshot(&env.root);
        assert_ne!(broken, before, "the child got half-way");
        assert_eq!(recover_leftovers(&env).unwrap(), 1);
        // The killed holder's pid stays in the (unlocked) lock file.
        let lock = env.site_packages().join(".pyward.lock");
        let mut after = snapshot(&env.root);
        after.insert(lock.clone(), before[&lock].clone());
        assert_eq!(after, before);
    }
}
