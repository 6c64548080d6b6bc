//! The target both resolver suites resolve for: CPython 3.12 on x86_64
//! glibc Linux.

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
