//! The build sandbox: what the user asked for (`SandboxPolicy`), what this
//! machine could give (`SandboxStatus`, probed once), and the confinement of
//! one hook process. On Linux a hook runs in new user and network namespaces
//! (only a loopback interface, down, so every connection fails) and under
//! Landlock (reads everywhere, writes only inside the build directory, no
//! TCP, no signals or abstract sockets outside the sandbox). Elsewhere no
//! sandbox is available.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;

use pyward_guard::{Check, Evidence, Finding, PackageRef, Severity};
use serde::{Deserialize, Serialize};

/// What to do about the sandbox (`sandbox = "require" | "prefer" | "off"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SandboxPolicy {
    /// Refuse to build when the network cannot be blocked.
    Require,
    /// Sandbox when possible; otherwise build anyway and say so.
    #[default]
    Prefer,
    /// Never sandbox.
    Off,
}

impl FromStr for SandboxPolicy {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "require" => Ok(SandboxPolicy::Require),
            "prefer" => Ok(SandboxPolicy::Prefer),
            "off" => Ok(SandboxPolicy::Off),
            other => Err(format!(
                "`{other}` is not a sandbox setting; use \"require\", \"prefer\" or \"off\""
            )),
        }
    }
}

/// How a build was (or would be) confined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "reason", rename_all = "kebab-case")]
pub enum SandboxStatus {
    /// No network, and writes confined to the build directory.
    Full,
    /// No network, but writes are not confined; the reason says why.
    NetworkOnly(String),
    /// The network could not be blocked; the reason says why.
    Unavailable(String),
    /// The user turned the sandbox off.
    Off,
}

impl SandboxStatus {
    /// True when the build could not reach the network.
    pub fn blocks_network(&self) -> bool {
        matches!(self, SandboxStatus::Full | SandboxStatus::NetworkOnly(_))
    }
}

impl fmt::Display for SandboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SandboxStatus::Full => {
                f.write_str("sandboxed: no network, writes confined to the build directory")
            }
            SandboxStatus::NetworkOnly(reason) => write!(
                f,
                "sandboxed without network, but writes were not confined ({reason})"
            ),
            SandboxStatus::Unavailable(reason) => write!(f, "not sandboxed: {reason}"),
            SandboxStatus::Off => f.write_str("not sandboxed: the sandbox is turned off"),
        }
    }
}

/// What this machine allows, found once per builder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Capabilities {
    /// `Err(reason)` when new user + network namespaces cannot be created.
    pub namespaces: Result<(), String>,
    /// `Err(reason)` when Landlock cannot confine writes.
    pub landlock: Result<(), String>,
}

impl Capabilities {
    /// The status a build gets under `policy` on this machine.
    pub fn status(&self, policy: SandboxPolicy) -> SandboxStatus {
        if policy == SandboxPolicy::Off {
            return SandboxStatus::Off;
        }
        match (&self.namespaces, &self.landlock) {
            (Ok(()), Ok(())) => SandboxStatus::Full,
            (Ok(()), Err(why)) => SandboxStatus::NetworkOnly(why.clone()),
            (Err(why), _) => SandboxStatus::Unavailable(why.clone()),
        }
    }

    /// The confinement to apply to hook processes under `policy`.
    pub fn confinement(&self, policy: SandboxPolicy) -> Confinement {
        if policy == SandboxPolicy::Off {
            return Confinement::default();
        }
        Confinement {
            namespaces: self.namespaces.is_ok(),
            landlock: self.landlock.is_ok(),
        }
    }
}

/// Which parts of the sandbox a hook process gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Confinement {
    pub namespaces: bool,
    pub landlock: bool,
}

/// What `policy` says about a build under `status`: an error message when
/// the build must not run, or a finding when it runs less confined than it
/// should.
pub(crate) fn judge(
    policy: SandboxPolicy,
    status: &SandboxStatus,
    confinement: Confinement,
    package: &PackageRef,
    display: &str,
) -> Result<Option<Finding>, String> {
    match (policy, status) {
        (_, SandboxStatus::Full) | (SandboxPolicy::Off, _) | (_, SandboxStatus::Off) => Ok(None),
        (SandboxPolicy::Require, SandboxStatus::Unavailable(reason)) => Err(reason.clone()),
        (_, SandboxStatus::Unavailable(reason)) => Ok(Some(
            Finding::new(
                Check::Scan,
                Severity::Moderate,
                package.clone(),
                format!("{display} was built from source without a network sandbox because {reason}"),
            )
            .why(if confinement.landlock {
                "Its build code could reach the network (Landlock blocked TCP connections and confined its writes, but not name lookups or other traffic)."
            } else {
                "Its build code ran with your network access and could write to your files, as it would with pip."
            })
            .evidence(Evidence::Text {
                text: reason.clone(),
            })
            .advice("look for a wheel so nothing needs building:  --only-binary :all:")
            .advice("refuse unsandboxed builds:  sandbox = \"require\" in [tool.pyward]"),
        )),
        (_, SandboxStatus::NetworkOnly(reason)) => Ok(Some(
            Finding::new(
                Check::Scan,
                Severity::Low,
                package.clone(),
                format!(
                    "{display} was built from source with the network blocked, but its writes were not confined because {reason}"
                ),
            )
            .why("Its build code could not reach the network but could change files your user can write.")
            .evidence(Evidence::Text {
                text: reason.clone(),
            }),
        )),
    }
}

/// Where a confined hook may write.
#[derive(Debug, Clone)]
pub(crate) struct WritableRoots {
    pub dirs: Vec<PathBuf>,
}

/// Find out what this machine allows by starting `python` once in new
/// namespaces, and asking the kernel whether Landlock is there.
pub(crate) fn probe(python: &Path) -> Capabilities {
    imp::probe(python)
}

/// Prepare `command` to run confined. Must be called right before spawning;
/// `keep_fd` is a file descriptor the child must inherit (the network log).
pub(crate) fn confine(
    command: &mut Command,
    confinement: Confinement,
    writable: &WritableRoots,
    keep_fd: Option<i32>,
) -> Result<(), String> {
    imp::confine(command, confinement, writable, keep_fd)
}

#[cfg(target_os = "linux")]
mod imp {
    use std::os::unix::process::CommandExt;
    use std::path::Path;
    use std::process::{Command, Stdio};

    use landlock::{
        path_beneath_rules, Access, AccessFs, AccessNet, CompatLevel, Compatible, Ruleset,
        RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
    };
    use nix::fcntl::{fcntl, open, FcntlArg, FdFlag, OFlag};
    use nix::sched::{unshare, CloneFlags};
    use nix::sys::stat::Mode;
    use nix::unistd::{getgid, getuid, write};

    use super::{Capabilities, Confinement, WritableRoots};

    /// The newest Landlock ABI pyward knows; older kernels get what they
    /// support (best effort), and a kernel without Landlock is detected first.
    const ABI_TARGET: ABI = ABI::V9;

    pub fn probe(python: &Path) -> Capabilities {
        let landlock = landlock_available();
        let mut command = Command::new(python);
        command
            .args(["-I", "-S", "-c", ""])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let (uid_map, gid_map) = id_maps();
        // SAFETY: the hook only makes async-signal-safe system calls
        // (unshare, open, write) on buffers prepared before the fork.
        unsafe { command.pre_exec(move || enter_namespaces(&uid_map, &gid_map)) };
        let namespaces = match command.status() {
            Ok(s) if s.success() => Ok(()),
            Ok(s) => Err(format!("a test process in a network sandbox failed ({s})")),
            Err(e) => Err(explain_namespace_error(&e)),
        };
        Capabilities {
            namespaces,
            landlock,
        }
    }

    fn explain_namespace_error(e: &std::io::Error) -> String {
        use nix::errno::Errno;
        match e.raw_os_error().map(Errno::from_raw) {
            Some(Errno::EPERM) => format!(
                "this system does not let programs create user namespaces ({e}); they may be disabled by `kernel.unprivileged_userns_clone`, AppArmor's `kernel.apparmor_restrict_unprivileged_userns`, or a container's seccomp profile"
            ),
            Some(Errno::ENOSPC) => format!(
                "the limit on user namespaces is reached or set to 0 (`user.max_user_namespaces`) ({e})"
            ),
            Some(Errno::EINVAL | Errno::ENOSYS) => {
                format!("the kernel does not support user or network namespaces ({e})")
            }
            _ => format!("user and network namespaces could not be created ({e})"),
        }
    }

    fn landlock_available() -> Result<(), String> {
        let created = Ruleset::default()
            .set_compatibility(CompatLevel::HardRequirement)
            .handle_access(AccessFs::from_all(ABI::V1))
            .and_then(|r| r.create());
        match created {
            Ok(_) => Ok(()),
            Err(e) => Err(format!(
                "the kernel does not offer Landlock, which confines writes ({e})"
            )),
        }
    }

    /// The ruleset for one hook: read and execute everywhere, write inside
    /// `writable` (and to `/dev/null`), no TCP connect or bind, and no
    /// signals or abstract sockets to anything outside the sandbox.
    fn ruleset(writable: &WritableRoots) -> Result<RulesetCreated, String> {
        let err =
            |e: landlock::RulesetError| format!("the Landlock rules could not be set up: {e}");
        let mut ruleset = Ruleset::default()
            .handle_access(AccessFs::from_all(ABI_TARGET))
            .map_err(err)?
            .handle_access(AccessNet::from_all(ABI_TARGET))
            .map_err(err)?
            .scope(Scope::from_all(ABI_TARGET))
            .map_err(err)?
            .create()
            .map_err(err)?
            .add_rules(path_beneath_rules(["/"], AccessFs::from_read(ABI_TARGET)))
            .map_err(err)?
            .add_rules(path_beneath_rules(
                ["/dev/null"],
                AccessFs::from_all(ABI_TARGET),
            ))
            .map_err(err)?;
        for dir in &writable.dirs {
            ruleset = ruleset
                .add_rules(path_beneath_rules([dir], AccessFs::from_all(ABI_TARGET)))
                .map_err(err)?;
        }
        Ok(ruleset)
    }

    /// `/proc/self/{uid,gid}_map` lines mapping the caller's own user and
    /// group, so files keep their owners inside the namespace.
    fn id_maps() -> (Vec<u8>, Vec<u8>) {
        (
            format!("{0} {0} 1\n", getuid().as_raw()).into_bytes(),
            format!("{0} {0} 1\n", getgid().as_raw()).into_bytes(),
        )
    }

    /// Move the calling (forked, single-threaded) process into new user and
    /// network namespaces: only a loopback interface exists, and it is down.
    fn enter_namespaces(uid_map: &[u8], gid_map: &[u8]) -> std::io::Result<()> {
        unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET).map_err(errno)?;
        write_proc(c"/proc/self/setgroups", b"deny")?;
        write_proc(c"/proc/self/uid_map", uid_map)?;
        write_proc(c"/proc/self/gid_map", gid_map)?;
        Ok(())
    }

    fn write_proc(path: &std::ffi::CStr, bytes: &[u8]) -> std::io::Result<()> {
        let fd = open(path, OFlag::O_WRONLY | OFlag::O_CLOEXEC, Mode::empty()).map_err(errno)?;
        write(&fd, bytes).map_err(errno)?;
        Ok(())
    }

    fn errno(e: nix::errno::Errno) -> std::io::Error {
        std::io::Error::from_raw_os_error(e as i32)
    }

    pub fn confine(
        command: &mut Command,
        confinement: Confinement,
        writable: &WritableRoots,
        keep_fd: Option<i32>,
    ) -> Result<(), String> {
        let mut ruleset = if confinement.landlock {
            Some(ruleset(writable)?)
        } else {
            None
        };
        let (uid_map, gid_map) = id_maps();
        let namespaces = confinement.namespaces;
        let hook = move || -> std::io::Result<()> {
            if let Some(fd) = keep_fd {
                // SAFETY: `fd` is open in the parent (the network log pipe);
                // clearing close-on-exec only affects this child.
                let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
                fcntl(borrowed, FcntlArg::F_SETFD(FdFlag::empty())).map_err(errno)?;
            }
            if namespaces {
                enter_namespaces(&uid_map, &gid_map)?;
            }
            if let Some(ruleset) = ruleset.take() {
                match ruleset.restrict_self() {
                    Ok(status) if status.ruleset != RulesetStatus::NotEnforced => {}
                    _ => return Err(errno(nix::errno::Errno::EPERM)),
                }
            }
            Ok(())
        };
        // SAFETY: the hook only makes async-signal-safe system calls (fcntl,
        // unshare, open, write, prctl, landlock_restrict_self) on data
        // prepared before the fork, and allocates nothing.
        unsafe { command.pre_exec(hook) };
        Ok(())
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use std::path::Path;
    use std::process::Command;

    use super::{Capabilities, Confinement, WritableRoots};

    pub fn probe(_python: &Path) -> Capabilities {
        let why = "pyward's build sandbox is only available on Linux".to_string();
        Capabilities {
            namespaces: Err(why.clone()),
            landlock: Err(why),
        }
    }

    pub fn confine(
        _command: &mut Command,
        _confinement: Confinement,
        _writable: &WritableRoots,
        _keep_fd: Option<i32>,
    ) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg() -> PackageRef {
        PackageRef::new("demo", Some("1.0".into()), None)
    }

    #[test]
    fn policy_decides_what_an_unavailable_sandbox_means() {
        let down = SandboxStatus::Unavailable("user namespaces are disabled".into());
        let none = Confinement::default();
        let err = judge(SandboxPolicy::Require, &down, none, &pkg(), "demo 1.0").unwrap_err();
        assert!(err.contains("user namespaces are disabled"));

        let finding = judge(SandboxPolicy::Prefer, &down, none, &pkg(), "demo 1.0")
            .unwrap()
            .expect("a finding");
        assert_eq!(finding.severity, Severity::Moderate);
        assert!(finding
            .title
            .contains("without a network sandbox because user namespaces"));
        assert!(finding.why.unwrap().contains("could write to your files"));

        assert_eq!(
            judge(
                SandboxPolicy::Off,
                &SandboxStatus::Off,
                none,
                &pkg(),
                "demo 1.0"
            ),
            Ok(None)
        );
        assert_eq!(
            judge(
                SandboxPolicy::Require,
                &SandboxStatus::Full,
                none,
                &pkg(),
                "demo 1.0"
            ),
            Ok(None)
        );
        let partial = judge(
            SandboxPolicy::Require,
            &SandboxStatus::NetworkOnly("no Landlock".into()),
            none,
            &pkg(),
            "demo 1.0",
        )
        .unwrap()
        .expect("a finding");
        assert_eq!(partial.severity, Severity::Low);
    }

    #[test]
    fn capabilities_map_to_status() {
        let caps = Capabilities {
            namespaces: Ok(()),
            landlock: Err("old kernel".into()),
        };
        assert_eq!(
            caps.status(SandboxPolicy::Prefer),
            SandboxStatus::NetworkOnly("old kernel".into())
        );
        assert_eq!(caps.status(SandboxPolicy::Off), SandboxStatus::Off);
        assert_eq!(caps.confinement(SandboxPolicy::Off), Confinement::default());
        let none = Capabilities {
            namespaces: Err("no userns".into()),
            landlock: Ok(()),
        };
        assert!(!none.status(SandboxPolicy::Prefer).blocks_network());
        assert!(none.confinement(SandboxPolicy::Prefer).landlock);
    }

    #[test]
    fn policy_parses() {
        assert_eq!("Require".parse(), Ok(SandboxPolicy::Require));
        assert_eq!(" off ".parse(), Ok(SandboxPolicy::Off));
        assert!("sometimes".parse::<SandboxPolicy>().is_err());
    }
}
