//! Every archive attack the extractor must refuse, and the normal cases it
//! must handle.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use pyward_archive::{
    extract, extract_tar, extract_zip, list_zip, read_zip_member, ArchiveError, EntryKind, Limits,
};
use pyward_testkit::wheel::{
    build_tar, build_zip, gzip, RawTarEntry, RawTarKind, RawZipEntry, SdistBuilder, WheelBuilder,
};
use sha2::{Digest, Sha256};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn zip_err(entries: &[RawZipEntry]) -> ArchiveError {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(tmp.path(), "x.whl", &build_zip(entries));
    let dest = tmp.path().join("out");
    let err = extract_zip(&a, &dest, &Limits::default()).unwrap_err();
    // Refused before anything was written.
    let written = std::fs::read_dir(&dest).map(|d| d.count()).unwrap_or(0);
    assert_eq!(written, 0, "nothing may be written for {err}");
    err
}

fn tar_err(entries: &[RawTarEntry]) -> ArchiveError {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(tmp.path(), "x.tar.gz", &gzip(&build_tar(entries)));
    let err = extract_tar(&a, &tmp.path().join("out"), &Limits::default()).unwrap_err();
    assert!(
        !tmp.path().join("out").exists(),
        "partial output left for {err}"
    );
    err
}

#[test]
fn extracts_a_wheel_with_hashes_and_exec_bits() {
    let tmp = tempfile::tempdir().unwrap();
    let w = WheelBuilder::new("demo", "1.0")
        .file("demo/__init__.py", "x = 1\n")
        .data_file("scripts/tool", "#!python\n")
        .build();
    let a = w.write_to(tmp.path());
    let out = tmp.path().join("out");
    let entries = extract_zip(&a, &out, &Limits::default()).unwrap();
    let init = entries
        .iter()
        .find(|e| e.path == "demo/__init__.py")
        .unwrap();
    let expected: [u8; 32] = Sha256::digest(b"x = 1\n").into();
    assert_eq!(
        init.kind,
        EntryKind::File {
            size: 6,
            sha256: expected,
            executable: false
        }
    );
    assert_eq!(
        std::fs::read(out.join("demo/__init__.py")).unwrap(),
        b"x = 1\n"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(out.join("demo-1.0.data/scripts/tool"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);
    }
    let meta = read_zip_member(&a, "demo-1.0.dist-info/METADATA", 1 << 20).unwrap();
    assert_eq!(meta, w.metadata);
    assert!(list_zip(&a)
        .unwrap()
        .contains(&"demo-1.0.dist-info/WHEEL".to_string()));
    // The generic entry point picks the format from the name.
    let again = tmp.path().join("again");
    assert_eq!(
        extract(&a, &again, &Limits::default()).unwrap().len(),
        entries.len()
    );
}

#[test]
fn refuses_absolute_paths() {
    assert!(matches!(
        zip_err(&[RawZipEntry::file("/etc/evil", "x")]),
        ArchiveError::UnsafePath { .. }
    ));
}

#[test]
fn refuses_parent_components() {
    let err = zip_err(&[
        RawZipEntry::file("ok.py", "x"),
        RawZipEntry::file("pkg/../../evil.py", "x"),
    ]);
    assert!(matches!(err, ArchiveError::UnsafePath { .. }), "{err}");
    assert!(err.to_string().contains("pkg/../../evil.py"), "{err}");
    assert!(err.to_string().contains("x.whl"), "{err}");
}

#[test]
fn refuses_drive_letters_and_backslashes() {
    assert!(matches!(
        zip_err(&[RawZipEntry::file("C:/evil", "x")]),
        ArchiveError::UnsafePath { .. }
    ));
    assert!(matches!(
        zip_err(&[RawZipEntry::file("pkg\\..\\..\\evil", "x")]),
        ArchiveError::UnsafePath { .. }
    ));
}

#[test]
fn refuses_duplicates_exact_and_after_normalization() {
    assert!(matches!(
        zip_err(&[
            RawZipEntry::file("a.py", "1"),
            RawZipEntry::file("a.py", "2")
        ]),
        ArchiveError::DuplicateNames { .. }
    ));
    assert!(matches!(
        zip_err(&[
            RawZipEntry::file("pkg/a.py", "1"),
            RawZipEntry::file("./pkg//a.py", "2")
        ]),
        ArchiveError::Duplicate { .. }
    ));
    // A file also used as a directory.
    assert!(matches!(
        zip_err(&[
            RawZipEntry::file("pkg", "1"),
            RawZipEntry::file("pkg/a.py", "2")
        ]),
        ArchiveError::Duplicate { .. }
    ));
}

#[test]
fn refuses_symlinks_in_zip() {
    assert!(matches!(
        zip_err(&[RawZipEntry::symlink("pkg/link", "/etc/passwd")]),
        ArchiveError::LinkNotAllowed { .. }
    ));
    // Even a harmless-looking one.
    assert!(matches!(
        zip_err(&[
            RawZipEntry::file("pkg/a.py", "1"),
            RawZipEntry::symlink("pkg/b.py", "a.py")
        ]),
        ArchiveError::LinkNotAllowed { .. }
    ));
}

#[test]
fn refuses_special_files_in_zip() {
    let mut fifo = RawZipEntry::file("pkg/fifo", "");
    fifo.unix_mode = 0o010644;
    assert!(matches!(
        zip_err(&[fifo]),
        ArchiveError::UnsupportedEntryType { .. }
    ));
}

#[test]
fn refuses_local_header_name_disagreeing_with_central_directory() {
    let mut e = RawZipEntry::file("pkg/innocent.py", "print(1)");
    e.local_name = Some("pkg/evil_other.py".to_string());
    assert!(matches!(
        zip_err(&[e]),
        ArchiveError::InconsistentHeaders { .. }
    ));
}

#[test]
fn refuses_local_header_size_disagreeing_with_central_directory() {
    let mut e = RawZipEntry::file("pkg/a.py", "print(1)");
    e.local_declared_size = Some(3);
    assert!(matches!(
        zip_err(&[e]),
        ArchiveError::InconsistentHeaders { .. }
    ));
}

#[test]
fn refuses_sizes_that_lie() {
    let mut small = RawZipEntry::file("pkg/a.py", "print('a much longer body')");
    small.declared_size = Some(5);
    let err = zip_err(&[small]);
    assert!(
        matches!(
            err,
            ArchiveError::SizeMismatch { .. } | ArchiveError::CorruptEntry { .. }
        ),
        "{err}"
    );
    let mut large = RawZipEntry::file("pkg/a.py", "short");
    large.declared_size = Some(5000);
    let err = zip_err(&[large]);
    assert!(
        matches!(
            err,
            ArchiveError::SizeMismatch { .. } | ArchiveError::CorruptEntry { .. }
        ),
        "{err}"
    );
}

#[test]
fn refuses_encrypted_entries() {
    let mut e = RawZipEntry::file("pkg/a.py", "x");
    e.encrypted = true;
    e.deflate = false;
    assert!(matches!(zip_err(&[e]), ArchiveError::Encrypted { .. }));
}

#[test]
fn refuses_zip_bombs() {
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let err = zip_err(&[RawZipEntry::file("bomb.bin", zeros)]);
    assert!(
        matches!(err, ArchiveError::CompressionRatio { .. }),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let a = write(
        tmp.path(),
        "x.whl",
        &build_zip(&[
            RawZipEntry::file("a", vec![1u8; 600]),
            RawZipEntry::file("b", vec![2u8; 600]),
        ]),
    );
    let tight = Limits {
        max_entries: 10,
        max_file_size: 1000,
        max_total_size: 1000,
        max_ratio: 200,
    };
    assert!(matches!(
        extract_zip(&a, &tmp.path().join("o1"), &tight).unwrap_err(),
        ArchiveError::TotalTooLarge { .. }
    ));
    let tight = Limits {
        max_file_size: 500,
        ..tight
    };
    assert!(matches!(
        extract_zip(&a, &tmp.path().join("o2"), &tight).unwrap_err(),
        ArchiveError::FileTooLarge { .. }
    ));
    let tight = Limits {
        max_entries: 1,
        ..Limits::default()
    };
    assert!(matches!(
        extract_zip(&a, &tmp.path().join("o3"), &tight).unwrap_err(),
        ArchiveError::TooManyEntries { .. }
    ));
}

#[test]
fn read_member_is_bounded_and_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write(
        tmp.path(),
        "x.whl",
        &build_zip(&[RawZipEntry::file("M", vec![b'a'; 100])]),
    );
    assert!(matches!(
        read_zip_member(&a, "M", 10).unwrap_err(),
        ArchiveError::FileTooLarge { .. }
    ));
    assert!(matches!(
        read_zip_member(&a, "nope", 10).unwrap_err(),
        ArchiveError::MemberNotFound { .. }
    ));
    let dup = write(
        tmp.path(),
        "d.whl",
        &build_zip(&[RawZipEntry::file("M", "1"), RawZipEntry::file("M", "2")]),
    );
    assert!(matches!(
        read_zip_member(&dup, "M", 10).unwrap_err(),
        ArchiveError::DuplicateNames { .. }
    ));
}

#[test]
fn refuses_non_empty_destination() {
    let tmp = tempfile::tempdir().unwrap();
    let a = WheelBuilder::new("demo", "1.0")
        .build()
        .write_to(tmp.path());
    std::fs::write(tmp.path().join("junk"), "x").unwrap();
    assert!(matches!(
        extract_zip(&a, tmp.path(), &Limits::default()).unwrap_err(),
        ArchiveError::DestinationNotEmpty { .. }
    ));
}

#[test]
fn extracts_an_sdist_with_internal_links() {
    let tmp = tempfile::tempdir().unwrap();
    let (name, bytes) = SdistBuilder::new("demo", "0.1")
        .file("src/demo/__init__.py", "x = 1\n")
        .raw_entry(RawTarEntry::new(
            "demo-0.1/README",
            RawTarKind::Symlink("src/demo/__init__.py".into()),
        ))
        .raw_entry(RawTarEntry::new(
            "demo-0.1/copy.py",
            RawTarKind::Hardlink("demo-0.1/src/demo/__init__.py".into()),
        ))
        .build();
    let a = write(tmp.path(), &name, &bytes);
    let out = tmp.path().join("out");
    let entries = extract_tar(&a, &out, &Limits::default()).unwrap();
    assert_eq!(
        std::fs::read(out.join("demo-0.1/copy.py")).unwrap(),
        b"x = 1\n"
    );
    assert_eq!(
        std::fs::read(out.join("demo-0.1/README")).unwrap(),
        b"x = 1\n"
    );
    assert!(entries.iter().any(|e| e.path == "demo-0.1/PKG-INFO"));
    assert!(entries
        .iter()
        .any(|e| e.path == "demo-0.1/README" && matches!(e.kind, EntryKind::Symlink { .. })));
}

#[test]
fn tar_refuses_absolute_and_parent_paths() {
    assert!(matches!(
        tar_err(&[RawTarEntry::file("/tmp/evil", "x")]),
        ArchiveError::UnsafePath { .. }
    ));
    assert!(matches!(
        tar_err(&[RawTarEntry::file("demo/../../evil", "x")]),
        ArchiveError::UnsafePath { .. }
    ));
}

#[test]
fn tar_refuses_escaping_symlinks() {
    assert!(matches!(
        tar_err(&[RawTarEntry::new(
            "demo/link",
            RawTarKind::Symlink("/etc/passwd".into())
        )]),
        ArchiveError::LinkEscapes { .. }
    ));
    assert!(matches!(
        tar_err(&[RawTarEntry::new(
            "demo/link",
            RawTarKind::Symlink("../../outside".into())
        )]),
        ArchiveError::LinkEscapes { .. }
    ));
}

#[test]
fn tar_refuses_symlink_chains_that_escape() {
    // `x` -> `.` is harmless alone; `y` -> `x/../..` looks inside lexically
    // but resolves to the parent of the destination.
    let err = tar_err(&[
        RawTarEntry::new("d/x", RawTarKind::Symlink(".".into())),
        RawTarEntry::new("d/y", RawTarKind::Symlink("x/../..".into())),
    ]);
    assert!(matches!(err, ArchiveError::LinkEscapes { .. }), "{err}");
}

#[test]
fn tar_refuses_writing_through_a_symlink() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let a = write(
        tmp.path(),
        "x.tar",
        &build_tar(&[
            RawTarEntry::new("d/link", RawTarKind::Symlink("..".into())),
            RawTarEntry::file("d/link/evil", "x"),
        ]),
    );
    let err = extract_tar(&a, &tmp.path().join("out"), &Limits::default()).unwrap_err();
    assert!(matches!(err, ArchiveError::UnsafePath { .. }), "{err}");
    assert!(!tmp.path().join("out/evil").exists());
}

#[test]
fn tar_refuses_hardlinks_outside_the_archive() {
    let err = tar_err(&[RawTarEntry::new(
        "demo/passwd",
        RawTarKind::Hardlink("/etc/passwd".into()),
    )]);
    assert!(matches!(err, ArchiveError::LinkEscapes { .. }), "{err}");
    let err = tar_err(&[RawTarEntry::new(
        "demo/x",
        RawTarKind::Hardlink("demo/not-yet-there".into()),
    )]);
    assert!(matches!(err, ArchiveError::LinkEscapes { .. }), "{err}");
}

#[test]
fn tar_refuses_devices_and_fifos() {
    assert!(matches!(
        tar_err(&[RawTarEntry::new("demo/fifo", RawTarKind::Fifo)]),
        ArchiveError::UnsupportedEntryType { .. }
    ));
    assert!(matches!(
        tar_err(&[RawTarEntry::new("demo/tty", RawTarKind::CharDevice)]),
        ArchiveError::UnsupportedEntryType { .. }
    ));
}

#[test]
fn tar_refuses_duplicates() {
    assert!(matches!(
        tar_err(&[
            RawTarEntry::file("demo/a", "1"),
            RawTarEntry::file("demo/./a", "2")
        ]),
        ArchiveError::Duplicate { .. }
    ));
}

#[test]
fn tar_refuses_truncated_data() {
    let tmp = tempfile::tempdir().unwrap();
    let mut tar = build_tar(&[RawTarEntry::file("demo/a", vec![b'x'; 2000])]);
    tar.truncate(1024);
    let a = write(tmp.path(), "x.tar", &tar);
    let err = extract_tar(&a, &tmp.path().join("out"), &Limits::default()).unwrap_err();
    assert!(
        matches!(
            err,
            ArchiveError::SizeMismatch { .. }
                | ArchiveError::CorruptEntry { .. }
                | ArchiveError::Malformed { .. }
        ),
        "{err}"
    );
}

#[test]
fn tar_gz_bomb_is_refused() {
    let err = tar_err(&[RawTarEntry::file("demo/zeros", vec![0u8; 16 * 1024 * 1024])]);
    assert!(
        matches!(err, ArchiveError::CompressionRatio { .. }),
        "{err}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let tmp = tempfile::tempdir().unwrap();
        let z = write(tmp.path(), "x.whl", &bytes);
        let _ = extract_zip(&z, &tmp.path().join("z"), &Limits::default());
        let _ = read_zip_member(&z, "a", 1024);
        let t = write(tmp.path(), "x.tar.gz", &bytes);
        let _ = extract_tar(&t, &tmp.path().join("t"), &Limits::default());
    }

    #[test]
    fn corrupted_archives_never_panic(flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let tmp = tempfile::tempdir().unwrap();
        let mut wheel = WheelBuilder::new("demo", "1.0")
            .file("demo/__init__.py", "print('hello world')\n")
            .build()
            .bytes;
        let mut sdist = SdistBuilder::new("demo", "1.0").file("a.py", "x = 1\n").build().1;
        for (at, byte) in &flips {
            let i = at % wheel.len();
            wheel[i] ^= byte;
            let j = at % sdist.len();
            sdist[j] ^= byte;
        }
        let z = write(tmp.path(), "x.whl", &wheel);
        let _ = extract_zip(&z, &tmp.path().join("z"), &Limits::default());
        let t = write(tmp.path(), "x.tar.gz", &sdist);
        let _ = extract_tar(&t, &tmp.path().join("t"), &Limits::default());
    }

    #[test]
    fn extracted_paths_stay_inside(names in proptest::collection::vec("[a-z./\\\\:]{1,12}", 1..6)) {
        let tmp = tempfile::tempdir().unwrap();
        let entries: Vec<RawZipEntry> = names.iter().map(|n| RawZipEntry::file(n, "x")).collect();
        let z = write(tmp.path(), "x.whl", &build_zip(&entries));
        let out = tmp.path().join("out");
        if let Ok(extracted) = extract_zip(&z, &out, &Limits::default()) {
            for e in extracted {
                let real = std::fs::canonicalize(out.join(&e.path)).unwrap();
                prop_assert!(real.starts_with(std::fs::canonicalize(&out).unwrap()));
            }
        }
        // Nothing was written beside the destination.
        let mut beside: Vec<String> = std::fs::read_dir(tmp.path()).unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        beside.sort();
        prop_assert!(beside == ["out", "x.whl"] || beside == ["x.whl"]);
    }
}
