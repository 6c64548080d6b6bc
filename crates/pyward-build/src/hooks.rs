//! Calling PEP 517 hooks: each hook runs in a fresh interpreter process of
//! the build environment, through a small shim script (cwd = source root,
//! stdin closed, the environment's `bin` first on `PATH`, a minimal set of
//! environment variables, a private home and temp directory), confined by
//! the sandbox. The shim writes the hook's return value to a JSON file; the
//! combined output goes to a log whose last lines are kept for errors.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::network::{parse_attempts, NetworkAttempt, SITECUSTOMIZE};
use crate::sandbox::{confine, Confinement, WritableRoots};

/// The script that imports the backend and calls one hook.
const SHIM: &str = r#"# Written by pyward: calls one PEP 517 hook of a source build.
import json, os, sys, traceback


def main():
    control = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or ".") == here:
        del sys.path[0]
    with open(os.path.join(control, "input.json"), encoding="utf-8") as f:
        request = json.load(f)
    output = os.path.join(control, "output.json")

    def answer(**data):
        with open(output + ".tmp", "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(output + ".tmp", output)

    backend_path = request["backend_path"]
    sys.path[0:0] = backend_path
    module_name, _, object_path = request["backend"].partition(":")
    import importlib
    try:
        backend = importlib.import_module(module_name.strip())
        for part in filter(None, object_path.strip().split(".")):
            backend = getattr(backend, part)
    except Exception as e:
        traceback.print_exc()
        answer(kind="backend-unavailable", message="%s: %s" % (type(e).__name__, e))
        return 1
    if backend_path:
        module = sys.modules.get(module_name.strip())
        origin = os.path.abspath(getattr(module, "__file__", None) or "")
        if not any(origin.startswith(os.path.abspath(p) + os.sep) for p in backend_path):
            answer(kind="backend-invalid",
                   message="%s was imported from %s, not from its backend-path" % (module_name, origin))
            return 1
    hook = getattr(backend, request["hook"], None)
    if hook is None:
        answer(kind="missing")
        return 0
    value = hook(**request["kwargs"])
    answer(kind="ok", value=value)
    return 0


if __name__ == "__main__":
    sys.exit(main())
"#;

/// Environment variables passed through to builds (compilers and locale);
/// everything else (tokens, credentials, `PYTHONPATH`) is withheld.
const PASSED_VARIABLES: &[&str] = &[
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "SOURCE_DATE_EPOCH",
    "CC",
    "CXX",
    "CPP",
    "LD",
    "AR",
    "CFLAGS",
    "CXXFLAGS",
    "CPPFLAGS",
    "LDFLAGS",
    "LDSHARED",
    "PKG_CONFIG_PATH",
    "MAKEFLAGS",
    "MACOSX_DEPLOYMENT_TARGET",
    "CARGO_HOME",
    "RUSTUP_HOME",
];

/// Lines of output kept for an error message.
const TAIL_LINES: usize = 40;
/// Most bytes of network reports read from one hook.
const MAX_REPORT_BYTES: usize = 1 << 20;
/// Largest hook answer read.
const MAX_ANSWER_BYTES: u64 = 16 << 20;

/// Everything needed to run hooks for one source tree.
#[derive(Debug, Clone)]
pub(crate) struct HookContext {
    /// The build environment's interpreter.
    pub python: PathBuf,
    pub venv: PathBuf,
    /// The source root (canonical): the hooks' working directory.
    pub source: PathBuf,
    /// Where the shim, its input and output, and logs live.
    pub control: PathBuf,
    pub tmp: PathBuf,
    pub home: PathBuf,
    pub backend: String,
    pub backend_path: Vec<PathBuf>,
    pub confinement: Confinement,
    pub writable: WritableRoots,
    pub timeout: Duration,
    /// Further variables for this tree (git's settings).
    pub extra_env: Vec<(String, String)>,
}

/// What a hook answered.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    Value(serde_json::Value),
    /// The backend does not define this (optional) hook.
    Missing,
}

/// Why a hook gave no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HookFailure {
    Spawn(String),
    BackendUnavailable(String),
    BackendInvalid(String),
    Failed { status: String, tail: String },
    TimedOut(Duration),
    BadAnswer(String),
}

/// The result of one hook call, with what it tried on the network.
pub(crate) struct HookRun {
    pub answer: Result<Answer, HookFailure>,
    pub attempts: Vec<NetworkAttempt>,
    /// The hook's combined output.
    pub log: PathBuf,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
enum ShimAnswer {
    Ok { value: serde_json::Value },
    Missing,
    BackendUnavailable { message: String },
    BackendInvalid { message: String },
}

impl HookContext {
    /// Run `hook` with keyword arguments `kwargs`.
    pub fn run(&self, hook: &str, kwargs: serde_json::Value) -> HookRun {
        let log = self.control.join(format!("{hook}.log"));
        let answer_path = self.control.join("output.json");
        let mut attempts = Vec::new();
        let answer = self.run_inner(hook, kwargs, &log, &answer_path, &mut attempts);
        HookRun {
            answer,
            attempts,
            log,
        }
    }

    fn run_inner(
        &self,
        hook: &str,
        kwargs: serde_json::Value,
        log: &Path,
        answer_path: &Path,
        attempts: &mut Vec<NetworkAttempt>,
    ) -> Result<Answer, HookFailure> {
        let spawn_err = |what: &str, e: std::io::Error| HookFailure::Spawn(format!("{what}: {e}"));
        // Written afresh for every hook: an earlier hook may have changed them.
        let site = self.control.join("site");
        std::fs::create_dir_all(&site).map_err(|e| spawn_err("could not prepare the build", e))?;
        let shim = self.control.join("pyward_shim.py");
        std::fs::write(&shim, SHIM).map_err(|e| spawn_err("could not write the shim", e))?;
        std::fs::write(site.join("sitecustomize.py"), SITECUSTOMIZE)
            .map_err(|e| spawn_err("could not write the shim", e))?;
        let _ = std::fs::remove_file(answer_path);
        let request = serde_json::json!({
            "backend": self.backend,
            "backend_path": self.backend_path,
            "hook": hook,
            "kwargs": kwargs,
        });
        std::fs::write(self.control.join("input.json"), request.to_string())
            .map_err(|e| spawn_err("could not write the hook's input", e))?;
        let out = std::fs::File::create(log)
            .map_err(|e| spawn_err("could not create the build log", e))?;
        let err = out
            .try_clone()
            .map_err(|e| spawn_err("could not create the build log", e))?;
        let (reader, writer) =
            std::io::pipe().map_err(|e| spawn_err("could not create a pipe", e))?;

        let mut command = Command::new(&self.python);
        command
            .arg(&shim)
            .arg(&self.control)
            .current_dir(&self.source)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env_clear()
            .envs(self.environment(&site, &writer));
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        confine(
            &mut command,
            self.confinement,
            &self.writable,
            raw_fd(&writer),
        )
        .map_err(HookFailure::Spawn)?;
        let spawned = command.spawn();
        drop(command);
        drop(writer);
        let mut child = spawned.map_err(|e| {
            HookFailure::Spawn(format!(
                "could not start {} in the build sandbox: {e}",
                self.python.display()
            ))
        })?;
        let reports = read_reports(reader);
        let waited = wait(&mut child, self.timeout);
        kill_group(&child);
        *attempts = parse_attempts(&reports.finish());
        let status = waited?;

        let answer = read_answer(answer_path)?;
        match answer {
            Some(ShimAnswer::BackendUnavailable { message }) => {
                Err(HookFailure::BackendUnavailable(message))
            }
            Some(ShimAnswer::BackendInvalid { message }) => {
                Err(HookFailure::BackendInvalid(message))
            }
            _ if !status.success() => Err(HookFailure::Failed {
                status: describe_status(status),
                tail: tail(log),
            }),
            Some(ShimAnswer::Ok { value }) => Ok(Answer::Value(value)),
            Some(ShimAnswer::Missing) => Ok(Answer::Missing),
            None => Err(HookFailure::BadAnswer(
                "the hook ended without an answer".to_string(),
            )),
        }
    }

    fn environment(&self, site: &Path, writer: &std::io::PipeWriter) -> Vec<(String, String)> {
        let mut env: Vec<(String, String)> = Vec::new();
        for name in PASSED_VARIABLES {
            if let Ok(value) = std::env::var(name) {
                env.push(((*name).to_string(), value));
            }
        }
        for (name, value) in std::env::vars() {
            if name.starts_with("SETUPTOOLS_SCM_PRETEND_VERSION") {
                env.push((name, value));
            }
        }
        let path = format!("{}:{}", self.venv.join("bin").display(), search_path());
        let text = |p: &Path| p.display().to_string();
        env.extend([
            ("PATH".to_string(), path),
            ("VIRTUAL_ENV".to_string(), text(&self.venv)),
            ("HOME".to_string(), text(&self.home)),
            ("TMPDIR".to_string(), text(&self.tmp)),
            ("TMP".to_string(), text(&self.tmp)),
            ("TEMP".to_string(), text(&self.tmp)),
            ("PYTHONPATH".to_string(), text(site)),
            ("PYTHONNOUSERSITE".to_string(), "1".to_string()),
            ("PIP_NO_INPUT".to_string(), "1".to_string()),
            ("PYWARD_BUILD_SOURCE".to_string(), text(&self.source)),
        ]);
        if let Some(fd) = raw_fd(writer) {
            env.push(("PYWARD_BUILD_NETWORK_FD".to_string(), fd.to_string()));
        }
        env.extend(self.extra_env.iter().cloned());
        env
    }
}

/// The user's `PATH` (where compilers and git are found), or the usual
/// system directories without one.
pub(crate) fn search_path() -> String {
    match std::env::var("PATH") {
        Ok(p) if !p.is_empty() => p,
        _ => "/usr/local/bin:/usr/bin:/bin".to_string(),
    }
}

#[cfg(unix)]
fn raw_fd(writer: &std::io::PipeWriter) -> Option<i32> {
    use std::os::fd::AsRawFd;
    Some(writer.as_raw_fd())
}

#[cfg(not(unix))]
fn raw_fd(_writer: &std::io::PipeWriter) -> Option<i32> {
    None
}

/// The network reports, read on a thread so a chatty build never blocks.
struct Reports {
    buffer: Arc<Mutex<Vec<u8>>>,
    thread: std::thread::JoinHandle<()>,
}

fn read_reports(mut reader: std::io::PipeReader) -> Reports {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let shared = buffer.clone();
    let thread = std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match reader.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Ok(mut b) = shared.lock() {
                        if b.len() < MAX_REPORT_BYTES {
                            b.extend_from_slice(&chunk[..n]);
                        }
                    }
                }
            }
        }
    });
    Reports { buffer, thread }
}

impl Reports {
    /// What was reported. A process that escaped the hook's process group
    /// may hold the pipe open; it is not waited for beyond a moment.
    fn finish(self) -> Vec<u8> {
        let deadline = Instant::now() + Duration::from_millis(500);
        while !self.thread.is_finished() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        if self.thread.is_finished() {
            let _ = self.thread.join();
        }
        self.buffer.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

fn wait(child: &mut Child, timeout: Duration) -> Result<ExitStatus, HookFailure> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) => {}
            Err(e) => {
                return Err(HookFailure::Spawn(format!(
                    "could not wait for the build: {e}"
                )))
            }
        }
        if started.elapsed() >= timeout {
            kill_group(child);
            let _ = child.kill();
            let _ = child.wait();
            return Err(HookFailure::TimedOut(timeout));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// End whatever the hook left running in its process group.
fn kill_group(child: &Child) {
    #[cfg(target_os = "linux")]
    {
        if let Ok(pid) = i32::try_from(child.id()) {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = child;
}

fn describe_status(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("killed by signal {signal}");
        }
    }
    match status.code() {
        Some(code) => format!("exit status {code}"),
        None => status.to_string(),
    }
}

fn read_answer(path: &Path) -> Result<Option<ShimAnswer>, HookFailure> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(HookFailure::BadAnswer(format!(
                "its answer could not be read: {e}"
            )))
        }
    };
    let mut bytes = Vec::new();
    file.take(MAX_ANSWER_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|e| HookFailure::BadAnswer(format!("its answer could not be read: {e}")))?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| HookFailure::BadAnswer(format!("its answer is not valid: {e}")))
}

/// The last lines of a log, decoded leniently.
pub(crate) fn tail(log: &Path) -> String {
    let Ok(mut file) = std::fs::File::open(log) else {
        return String::new();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = len.saturating_sub(64 * 1024);
    let _ = std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(start));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    let from = lines.len().saturating_sub(TAIL_LINES);
    lines[from..].join("\n")
}
