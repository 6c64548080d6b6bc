//! Wheel compatibility tags: the ordered list of `python-abi-platform` triples
//! a target interpreter accepts (the same order as `packaging.tags.sys_tags`),
//! and ranking of wheels against it (lower rank = preferred).

use std::collections::HashMap;

use crate::filename::WheelFilename;
use crate::interpreter::{InterpreterInfo, Libc};

/// The compatible tags of one interpreter, in priority order.
#[derive(Debug, Clone)]
pub struct Tags {
    ranks: HashMap<(String, String, String), usize>,
    ordered: Vec<(String, String, String)>,
}

impl Tags {
    /// The tag priority list for `info`.
    pub fn from_interpreter(info: &InterpreterInfo) -> Tags {
        let platforms = platform_tags(info);
        let (major, minor) = (info.version.0, info.version.1);
        let mut out: Vec<(String, String, String)> = Vec::new();
        let mut push = |py: String, abi: String, plat: &str| {
            out.push((py, abi, plat.to_string()));
        };
        let is_cpython = info.implementation == "cpython";
        let interp = if is_cpython {
            format!("cp{major}{minor}")
        } else if info.implementation == "pypy" {
            format!("pp{major}{minor}")
        } else {
            format!("{}{major}{minor}", &info.implementation)
        };
        if is_cpython {
            let mut abis = vec![format!("cp{major}{minor}{}", info.abiflags)];
            if info.abiflags.contains('d') {
                abis.push(format!(
                    "cp{major}{minor}{}",
                    info.abiflags.replace('d', "")
                ));
            }
            for abi in &abis {
                for p in &platforms {
                    push(interp.clone(), abi.clone(), p);
                }
            }
            let use_abi3 = !info.gil_disabled && major == 3;
            if use_abi3 {
                for p in &platforms {
                    push(interp.clone(), "abi3".into(), p);
                }
            }
            for p in &platforms {
                push(interp.clone(), "none".into(), p);
            }
            if use_abi3 {
                for m in (2..minor).rev() {
                    for p in &platforms {
                        push(format!("cp{major}{m}"), "abi3".into(), p);
                    }
                }
            }
        } else {
            for p in &platforms {
                push(interp.clone(), "none".into(), p);
            }
        }
        let py_range: Vec<String> = std::iter::once(format!("py{major}{minor}"))
            .chain(std::iter::once(format!("py{major}")))
            .chain((0..minor).rev().map(|m| format!("py{major}{m}")))
            .collect();
        for py in &py_range {
            for p in &platforms {
                push(py.clone(), "none".into(), p);
            }
        }
        push(interp.clone(), "none".into(), "any");
        for py in &py_range {
            push(py.clone(), "none".into(), "any");
        }
        let mut ranks = HashMap::with_capacity(out.len());
        for (i, t) in out.iter().enumerate() {
            ranks.entry(t.clone()).or_insert(i);
        }
        Tags {
            ranks,
            ordered: out,
        }
    }

    /// The rank of a wheel: the best (lowest) index among its tag triples, or
    /// `None` when the wheel is not installable on this interpreter.
    pub fn rank(&self, wheel: &WheelFilename) -> Option<usize> {
        wheel
            .tag_triples()
            .filter_map(|(py, abi, plat)| {
                self.ranks
                    .get(&(py.to_string(), abi.to_string(), plat.to_string()))
                    .copied()
            })
            .min()
    }

    pub fn is_compatible(&self, wheel: &WheelFilename) -> bool {
        self.rank(wheel).is_some()
    }

    /// The ordered tag triples.
    pub fn iter(&self) -> impl Iterator<Item = &(String, String, String)> {
        self.ordered.iter()
    }
}

/// Platform tags in priority order, most specific first.
fn platform_tags(info: &InterpreterInfo) -> Vec<String> {
    let arch = info.arch.as_str();
    match info.os.as_str() {
        "linux" => {
            let mut v = Vec::new();
            match info.libc {
                Libc::Glibc { major: 2, minor } => {
                    let floor = if matches!(arch, "x86_64" | "i686") {
                        5
                    } else {
                        17
                    };
                    for m in (floor..=minor).rev() {
                        v.push(format!("manylinux_2_{m}_{arch}"));
                        let legacy = match m {
                            17 => Some("manylinux2014"),
                            12 => Some("manylinux2010"),
                            5 => Some("manylinux1"),
                            _ => None,
                        };
                        if let Some(l) = legacy {
                            if m == 17 || matches!(arch, "x86_64" | "i686") {
                                v.push(format!("{l}_{arch}"));
                            }
                        }
                    }
                }
                Libc::Musl { major: 1, minor } => {
                    for m in (0..=minor).rev() {
                        v.push(format!("musllinux_1_{m}_{arch}"));
                    }
                }
                _ => {}
            }
            v.push(format!("linux_{arch}"));
            v
        }
        "darwin" => {
            let (major, minor) = info.macos.unwrap_or((10, 9));
            let arches: Vec<&str> = if arch == "arm64" {
                vec!["arm64", "universal2"]
            } else {
                vec![
                    "x86_64",
                    "intel",
                    "fat64",
                    "fat32",
                    "universal2",
                    "universal",
                ]
            };
            let mut v = Vec::new();
            if major >= 11 {
                for mj in (11..=major).rev() {
                    for a in &arches {
                        v.push(format!("macosx_{mj}_0_{a}"));
                    }
                }
            }
            let top_minor = if major >= 11 { 16 } else { minor };
            for mn in (4..=top_minor).rev() {
                for a in &arches {
                    v.push(format!("macosx_10_{mn}_{a}"));
                }
            }
            v
        }
        "windows" => vec![match arch {
            "x86_64" | "amd64" => "win_amd64".to_string(),
            "aarch64" | "arm64" => "win_arm64".to_string(),
            _ => "win32".to_string(),
        }],
        other => vec![format!("{other}_{arch}")],
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::interpreter::{MarkerValues, SchemePaths};
    use std::path::PathBuf;

    pub(crate) fn cpython_312_glibc_235() -> InterpreterInfo {
        InterpreterInfo {
            executable: PathBuf::from("/usr/bin/python3.12"),
            base_executable: PathBuf::from("/usr/bin/python3.12"),
            prefix: PathBuf::from("/usr"),
            base_prefix: PathBuf::from("/usr"),
            version: (3, 12, 3),
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
                implementation_version: "3.12.3".into(),
                os_name: "posix".into(),
                platform_machine: "x86_64".into(),
                platform_python_implementation: "CPython".into(),
                platform_release: "6.1".into(),
                platform_system: "Linux".into(),
                platform_version: "#1".into(),
                python_full_version: "3.12.3".into(),
                python_version: "3.12".into(),
                sys_platform: "linux".into(),
            },
            paths: SchemePaths {
                purelib: "/usr/lib/python3.12/site-packages".into(),
                platlib: "/usr/lib/python3.12/site-packages".into(),
                scripts: "/usr/bin".into(),
                data: "/usr".into(),
                include: "/usr/include/python3.12".into(),
            },
            externally_managed: None,
        }
    }

    fn rank(tags: &Tags, f: &str) -> Option<usize> {
        tags.rank(&f.parse().unwrap())
    }

    #[test]
    fn priority_follows_packaging_order() {
        let tags = Tags::from_interpreter(&cpython_312_glibc_235());
        let first: Vec<_> = tags.iter().take(2).collect();
        assert_eq!(
            first[0],
            &(
                "cp312".to_string(),
                "cp312".to_string(),
                "manylinux_2_35_x86_64".to_string()
            )
        );
        let native = rank(
            &tags,
            "x-1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        );
        let abi3 = rank(&tags, "x-1-cp38-abi3-manylinux_2_17_x86_64.whl");
        let pure = rank(&tags, "x-1-py3-none-any.whl");
        let cp_any = rank(&tags, "x-1-cp312-none-any.whl");
        assert!(native.unwrap() < abi3.unwrap());
        assert!(abi3.unwrap() < cp_any.unwrap());
        assert!(cp_any.unwrap() < pure.unwrap());
        assert!(rank(&tags, "x-1-cp311-cp311-manylinux_2_17_x86_64.whl").is_none());
        assert!(rank(&tags, "x-1-cp312-cp312-manylinux_2_36_x86_64.whl").is_none());
        assert!(rank(&tags, "x-1-cp312-cp312-musllinux_1_1_x86_64.whl").is_none());
        assert!(rank(&tags, "x-1-cp312-cp312-win_amd64.whl").is_none());
        assert!(rank(&tags, "x-1-py2-none-any.whl").is_none());
        assert!(rank(&tags, "x-1-cp312-cp312-manylinux1_x86_64.whl").is_some());
    }

    #[test]
    fn free_threaded_has_no_abi3() {
        let mut info = cpython_312_glibc_235();
        info.version = (3, 13, 0);
        info.abiflags = "t".into();
        info.gil_disabled = true;
        let tags = Tags::from_interpreter(&info);
        assert!(rank(&tags, "x-1-cp38-abi3-manylinux_2_17_x86_64.whl").is_none());
        assert!(rank(&tags, "x-1-cp313-cp313t-manylinux_2_17_x86_64.whl").is_some());
        assert!(rank(&tags, "x-1-cp313-cp313-manylinux_2_17_x86_64.whl").is_none());
    }
}
