//! Building wheel and sdist archives in memory for tests: spec-valid by
//! default (dist-info with METADATA, WHEEL, RECORD, entry_points.txt), with
//! escape hatches for attack tests (raw and unrecorded entries, overridden or
//! missing RECORD, symlinks, duplicate entries, lying zip headers, tar entries
//! with absolute or `..` paths, symlinks, hardlinks and device files).

use std::collections::BTreeMap;
use std::io::Write;
use std::str::FromStr;

use base64::Engine;
use pyward_dist::PackageName;
use sha2::{Digest, Sha256};

/// A wheel produced by [`WheelBuilder::build`].
#[derive(Debug, Clone)]
pub struct BuiltWheel {
    /// `{name}-{version}-{tag}.whl`, name in dist-info form.
    pub filename: String,
    /// The zip archive.
    pub bytes: Vec<u8>,
    /// The METADATA file's bytes.
    pub metadata: Vec<u8>,
}

impl BuiltWheel {
    /// Hex sha256 of the archive.
    pub fn sha256(&self) -> String {
        hex::encode(Sha256::digest(&self.bytes))
    }

    /// Write the archive into `dir` under its filename and return the path.
    pub fn write_to(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join(&self.filename);
        std::fs::write(&path, &self.bytes).expect("write wheel");
        path
    }
}

/// The RECORD hash of `bytes`: `sha256=<urlsafe base64, no padding>`.
pub fn record_hash(bytes: &[u8]) -> String {
    format!(
        "sha256={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
    )
}

/// Builds a wheel in memory.
#[derive(Debug, Clone)]
pub struct WheelBuilder {
    name: String,
    version: String,
    tags: Vec<String>,
    root_is_purelib: bool,
    wheel_version: String,
    files: Vec<(String, Vec<u8>)>,
    data_files: Vec<(String, Vec<u8>)>,
    metadata_fields: Vec<(String, String)>,
    entry_points: BTreeMap<String, Vec<String>>,
    raw: Vec<RawZipEntry>,
    unrecorded: Vec<String>,
    record_override: Option<String>,
    omit_record: bool,
}

impl WheelBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        WheelBuilder {
            name: name.to_string(),
            version: version.to_string(),
            tags: Vec::new(),
            root_is_purelib: true,
            wheel_version: "1.0".to_string(),
            files: Vec::new(),
            data_files: Vec::new(),
            metadata_fields: Vec::new(),
            entry_points: BTreeMap::new(),
            raw: Vec::new(),
            unrecorded: Vec::new(),
            record_override: None,
            omit_record: false,
        }
    }

    /// Add a compressed tag like `py3-none-any` (default when none is given).
    pub fn tag(mut self, tag: &str) -> Self {
        self.tags.push(tag.to_string());
        self
    }

    /// `Root-Is-Purelib` in WHEEL (default true).
    pub fn root_is_purelib(mut self, purelib: bool) -> Self {
        self.root_is_purelib = purelib;
        self
    }

    /// `Wheel-Version` in WHEEL (default `1.0`).
    pub fn wheel_version(mut self, version: &str) -> Self {
        self.wheel_version = version.to_string();
        self
    }

    /// A file at `path` relative to the wheel root (e.g. `pkg/__init__.py`).
    pub fn file(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.push((path.to_string(), bytes.into()));
        self
    }

    /// A file under `{name}-{version}.data/`, e.g. `scripts/tool` or `data/share/x`.
    pub fn data_file(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.data_files.push((path.to_string(), bytes.into()));
        self
    }

    pub fn requires_dist(self, requirement: &str) -> Self {
        self.metadata_field("Requires-Dist", requirement)
    }

    pub fn requires_python(self, specifiers: &str) -> Self {
        self.metadata_field("Requires-Python", specifiers)
    }

    pub fn provides_extra(self, extra: &str) -> Self {
        self.metadata_field("Provides-Extra", extra)
    }

    /// Any extra METADATA header.
    pub fn metadata_field(mut self, key: &str, value: &str) -> Self {
        self.metadata_fields
            .push((key.to_string(), value.to_string()));
        self
    }

    /// An entry point line like `tool = pkg.cli:main` in `[group]`.
    pub fn entry_point(mut self, group: &str, line: &str) -> Self {
        self.entry_points
            .entry(group.to_string())
            .or_default()
            .push(line.to_string());
        self
    }

    /// An entry added exactly as given (no path checks), listed in RECORD.
    pub fn raw_entry(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.raw.push(RawZipEntry::file(path, bytes));
        self
    }

    /// An entry added exactly as given and left out of RECORD.
    pub fn unrecorded_entry(mut self, path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.raw.push(RawZipEntry::file(path, bytes));
        self.unrecorded.push(path.to_string());
        self
    }

    /// A symlink entry (unix mode `S_IFLNK`), listed in RECORD.
    pub fn symlink_entry(mut self, path: &str, target: &str) -> Self {
        self.raw.push(RawZipEntry::symlink(path, target));
        self
    }

    /// Replace the generated RECORD with `text`.
    pub fn record_override(mut self, text: &str) -> Self {
        self.record_override = Some(text.to_string());
        self
    }

    /// Leave RECORD out of the archive.
    pub fn omit_record(mut self) -> Self {
        self.omit_record = true;
        self
    }

    /// `name` in dist-info form (`my_pkg`).
    pub fn dist_info_name(&self) -> String {
        match PackageName::from_str(&self.name) {
            Ok(n) => n.as_dist_info_name().to_string(),
            Err(_) => self.name.replace(['-', '.'], "_"),
        }
    }

    /// `{name}-{version}.dist-info`.
    pub fn dist_info_dir(&self) -> String {
        format!("{}-{}.dist-info", self.dist_info_name(), self.version)
    }

    /// `{name}-{version}.data`.
    pub fn data_dir(&self) -> String {
        format!("{}-{}.data", self.dist_info_name(), self.version)
    }

    fn metadata_bytes(&self) -> Vec<u8> {
        let mut m = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        for (k, v) in &self.metadata_fields {
            m.push_str(&format!("{k}: {v}\n"));
        }
        m.into_bytes()
    }

    /// The entries the archive will contain, in order, with the RECORD last.
    pub fn entries(&self) -> Vec<RawZipEntry> {
        let tags = if self.tags.is_empty() {
            vec!["py3-none-any".to_string()]
        } else {
            self.tags.clone()
        };
        let dist_info = self.dist_info_dir();
        let data_dir = self.data_dir();

        let mut entries: Vec<RawZipEntry> = Vec::new();
        for (path, bytes) in &self.files {
            entries.push(RawZipEntry::file(path, bytes.clone()));
        }
        for (path, bytes) in &self.data_files {
            let mut e = RawZipEntry::file(&format!("{data_dir}/{path}"), bytes.clone());
            if path.starts_with("scripts/") {
                e.unix_mode = 0o100755;
            }
            entries.push(e);
        }
        entries.extend(self.raw.iter().cloned());

        let mut wheel = format!(
            "Wheel-Version: {}\nGenerator: pyward-testkit\nRoot-Is-Purelib: {}\n",
            self.wheel_version, self.root_is_purelib
        );
        for compressed in &tags {
            for tag in expand_tag(compressed) {
                wheel.push_str(&format!("Tag: {tag}\n"));
            }
        }
        entries.push(RawZipEntry::file(
            &format!("{dist_info}/METADATA"),
            self.metadata_bytes(),
        ));
        entries.push(RawZipEntry::file(
            &format!("{dist_info}/WHEEL"),
            wheel.into_bytes(),
        ));
        if !self.entry_points.is_empty() {
            let mut text = String::new();
            for (group, lines) in &self.entry_points {
                text.push_str(&format!("[{group}]\n"));
                for line in lines {
                    text.push_str(line);
                    text.push('\n');
                }
                text.push('\n');
            }
            entries.push(RawZipEntry::file(
                &format!("{dist_info}/entry_points.txt"),
                text.into_bytes(),
            ));
        }

        if !self.omit_record {
            let record_path = format!("{dist_info}/RECORD");
            let record = match &self.record_override {
                Some(text) => text.clone(),
                None => {
                    let mut text = String::new();
                    for e in &entries {
                        if self.unrecorded.contains(&e.name) {
                            continue;
                        }
                        text.push_str(&format!(
                            "{},{},{}\n",
                            csv_field(&e.name),
                            record_hash(&e.data),
                            e.data.len()
                        ));
                    }
                    text.push_str(&format!("{record_path},,\n"));
                    text
                }
            };
            entries.push(RawZipEntry::file(&record_path, record.into_bytes()));
        }
        entries
    }

    /// Build the wheel.
    pub fn build(&self) -> BuiltWheel {
        let tag = self
            .tags
            .first()
            .cloned()
            .unwrap_or_else(|| "py3-none-any".to_string());
        BuiltWheel {
            filename: format!("{}-{}-{}.whl", self.dist_info_name(), self.version, tag),
            bytes: build_zip(&self.entries()),
            metadata: self.metadata_bytes(),
        }
    }
}

/// Quote a RECORD path when it needs CSV quoting.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `py2.py3-none-any` → `["py2-none-any", "py3-none-any"]`.
fn expand_tag(compressed: &str) -> Vec<String> {
    let parts: Vec<&str> = compressed.splitn(3, '-').collect();
    let [py, abi, plat] = parts.as_slice() else {
        return vec![compressed.to_string()];
    };
    let mut out = Vec::new();
    for p in py.split('.') {
        for a in abi.split('.') {
            for pl in plat.split('.') {
                out.push(format!("{p}-{a}-{pl}"));
            }
        }
    }
    out
}

/// One entry of a hand-assembled zip archive. The defaults give a correct,
/// deflated regular file; the other fields let a test make the archive lie.
#[derive(Debug, Clone)]
pub struct RawZipEntry {
    /// Name in the central directory.
    pub name: String,
    pub data: Vec<u8>,
    /// Unix mode stored in the external attributes (`0o100644` for a file,
    /// `0o120777` for a symlink whose target is `data`).
    pub unix_mode: u32,
    /// Deflate (true) or store (false).
    pub deflate: bool,
    /// A different name in the local header (parser-differential attacks).
    pub local_name: Option<String>,
    /// Uncompressed size written in both headers instead of the real one.
    pub declared_size: Option<u32>,
    /// Uncompressed size written in the local header only.
    pub local_declared_size: Option<u32>,
    /// Set the "encrypted" flag bit.
    pub encrypted: bool,
}

impl RawZipEntry {
    pub fn file(name: &str, data: impl Into<Vec<u8>>) -> Self {
        RawZipEntry {
            name: name.to_string(),
            data: data.into(),
            unix_mode: 0o100644,
            deflate: true,
            local_name: None,
            declared_size: None,
            local_declared_size: None,
            encrypted: false,
        }
    }

    pub fn directory(name: &str) -> Self {
        let name = if name.ends_with('/') {
            name.to_string()
        } else {
            format!("{name}/")
        };
        RawZipEntry {
            unix_mode: 0o040755,
            deflate: false,
            ..RawZipEntry::file(&name, Vec::new())
        }
    }

    pub fn symlink(name: &str, target: &str) -> Self {
        RawZipEntry {
            unix_mode: 0o120777,
            deflate: false,
            ..RawZipEntry::file(name, target.as_bytes().to_vec())
        }
    }
}

/// Assemble a zip archive from `entries` exactly as given: duplicates,
/// unsafe names and lying headers included.
pub fn build_zip(entries: &[RawZipEntry]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    for e in entries {
        let mut crc = flate2::Crc::new();
        crc.update(&e.data);
        let crc = crc.sum();
        let compressed = if e.deflate {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(&e.data).expect("deflate");
            enc.finish().expect("deflate")
        } else {
            e.data.clone()
        };
        let method: u16 = if e.deflate { 8 } else { 0 };
        let flags: u16 = 0x0800 | u16::from(e.encrypted);
        let size = e.declared_size.unwrap_or(e.data.len() as u32);
        let local_size = e.local_declared_size.unwrap_or(size);
        let local_name = e.local_name.as_deref().unwrap_or(&e.name);
        let offset = out.len() as u32;

        // Local file header.
        out.extend_from_slice(&0x04034b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // time
        out.extend_from_slice(&0x21u16.to_le_bytes()); // date 1980-01-01
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        out.extend_from_slice(&local_size.to_le_bytes());
        out.extend_from_slice(&(local_name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(local_name.as_bytes());
        out.extend_from_slice(&compressed);

        // Central directory header.
        central.extend_from_slice(&0x02014b50u32.to_le_bytes());
        central.extend_from_slice(&((3u16 << 8) | 20).to_le_bytes()); // made by unix
        central.extend_from_slice(&20u16.to_le_bytes());
        central.extend_from_slice(&flags.to_le_bytes());
        central.extend_from_slice(&method.to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes());
        central.extend_from_slice(&0x21u16.to_le_bytes());
        central.extend_from_slice(&crc.to_le_bytes());
        central.extend_from_slice(&(compressed.len() as u32).to_le_bytes());
        central.extend_from_slice(&size.to_le_bytes());
        central.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
        central.extend_from_slice(&0u16.to_le_bytes()); // extra
        central.extend_from_slice(&0u16.to_le_bytes()); // comment
        central.extend_from_slice(&0u16.to_le_bytes()); // disk
        central.extend_from_slice(&0u16.to_le_bytes()); // internal attrs
        central.extend_from_slice(&(e.unix_mode << 16).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let cd_offset = out.len() as u32;
    let cd_size = central.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x06054b50u32.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// What a raw tar entry is.
#[derive(Debug, Clone)]
pub enum RawTarKind {
    File(Vec<u8>),
    Directory,
    Symlink(String),
    Hardlink(String),
    Fifo,
    CharDevice,
}

/// One entry of a hand-assembled tar archive; the path is written as given
/// (absolute paths and `..` included).
#[derive(Debug, Clone)]
pub struct RawTarEntry {
    pub path: String,
    pub kind: RawTarKind,
    pub mode: u32,
}

impl RawTarEntry {
    pub fn file(path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        RawTarEntry {
            path: path.to_string(),
            kind: RawTarKind::File(bytes.into()),
            mode: 0o644,
        }
    }

    pub fn new(path: &str, kind: RawTarKind) -> Self {
        RawTarEntry {
            path: path.to_string(),
            mode: if matches!(kind, RawTarKind::Directory) {
                0o755
            } else {
                0o644
            },
            kind,
        }
    }
}

/// Assemble an uncompressed tar archive from `entries` exactly as given.
/// Paths and link targets must fit the 100-byte ustar fields.
pub fn build_tar(entries: &[RawTarEntry]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for e in entries {
        let mut header = tar::Header::new_gnu();
        let (kind, data): (tar::EntryType, &[u8]) = match &e.kind {
            RawTarKind::File(b) => (tar::EntryType::Regular, b),
            RawTarKind::Directory => (tar::EntryType::Directory, &[]),
            RawTarKind::Symlink(_) => (tar::EntryType::Symlink, &[]),
            RawTarKind::Hardlink(_) => (tar::EntryType::Link, &[]),
            RawTarKind::Fifo => (tar::EntryType::Fifo, &[]),
            RawTarKind::CharDevice => (tar::EntryType::Char, &[]),
        };
        header.set_entry_type(kind);
        header.set_size(data.len() as u64);
        header.set_mode(e.mode);
        header.set_mtime(0);
        let old = header.as_old_mut();
        let path = e.path.as_bytes();
        assert!(
            path.len() < 100,
            "raw tar paths must be shorter than 100 bytes"
        );
        old.name[..path.len()].copy_from_slice(path);
        if let RawTarKind::Symlink(t) | RawTarKind::Hardlink(t) = &e.kind {
            let t = t.as_bytes();
            assert!(
                t.len() < 100,
                "raw tar link targets must be shorter than 100 bytes"
            );
            old.linkname[..t.len()].copy_from_slice(t);
        }
        header.set_cksum();
        builder.append(&header, data).expect("append tar entry");
    }
    builder.into_inner().expect("finish tar")
}

/// Gzip `bytes`.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("gzip");
    enc.finish().expect("gzip")
}

/// Builds a `.tar.gz` source distribution in memory.
#[derive(Debug, Clone)]
pub struct SdistBuilder {
    name: String,
    version: String,
    files: Vec<(String, Vec<u8>)>,
    raw: Vec<RawTarEntry>,
}

impl SdistBuilder {
    pub fn new(name: &str, version: &str) -> Self {
        SdistBuilder {
            name: name.to_string(),
            version: version.to_string(),
            files: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// A file at `rel_path` under the top-level `{name}-{version}/` directory.
    pub fn file(mut self, rel_path: &str, bytes: impl Into<Vec<u8>>) -> Self {
        self.files.push((rel_path.to_string(), bytes.into()));
        self
    }

    /// An entry written exactly as given (path not prefixed).
    pub fn raw_entry(mut self, entry: RawTarEntry) -> Self {
        self.raw.push(entry);
        self
    }

    fn base(&self) -> String {
        let name = match PackageName::from_str(&self.name) {
            Ok(n) => n.as_dist_info_name().to_string(),
            Err(_) => self.name.clone(),
        };
        format!("{}-{}", name, self.version)
    }

    /// `(filename, bytes)` of the `.tar.gz`.
    pub fn build(&self) -> (String, Vec<u8>) {
        let base = self.base();
        let mut builder = tar::Builder::new(Vec::new());
        let mut append = |path: &str, data: &[u8], dir: bool| {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(if dir {
                tar::EntryType::Directory
            } else {
                tar::EntryType::Regular
            });
            header.set_size(data.len() as u64);
            header.set_mode(if dir { 0o755 } else { 0o644 });
            header.set_mtime(0);
            builder
                .append_data(&mut header, path, data)
                .expect("append tar entry");
        };
        append(&format!("{base}/"), &[], true);
        let pkg_info = format!(
            "Metadata-Version: 2.1\nName: {}\nVersion: {}\n",
            self.name, self.version
        );
        append(&format!("{base}/PKG-INFO"), pkg_info.as_bytes(), false);
        for (path, data) in &self.files {
            append(&format!("{base}/{path}"), data, false);
        }
        let mut tar_bytes = builder.into_inner().expect("finish tar");
        if !self.raw.is_empty() {
            // Drop the two zero blocks that end the archive, append the raw entries.
            tar_bytes.truncate(tar_bytes.len() - 1024);
            tar_bytes.extend_from_slice(&build_tar(&self.raw));
        }
        (format!("{base}.tar.gz"), gzip(&tar_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn wheel_is_readable_and_record_is_correct() {
        let w = WheelBuilder::new("My.Pkg", "1.0")
            .file("my_pkg/__init__.py", "x = 1\n")
            .data_file("scripts/tool", "#!python\nprint(1)\n")
            .entry_point("console_scripts", "mp = my_pkg:main")
            .requires_dist("requests>=2")
            .build();
        assert_eq!(w.filename, "my_pkg-1.0-py3-none-any.whl");
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(&w.bytes)).unwrap();
        z.validate_header_consistency().unwrap();
        let mut record = String::new();
        z.by_name("my_pkg-1.0.dist-info/RECORD")
            .unwrap()
            .read_to_string(&mut record)
            .unwrap();
        let mut init = Vec::new();
        z.by_name("my_pkg/__init__.py")
            .unwrap()
            .read_to_end(&mut init)
            .unwrap();
        assert!(record.contains(&format!("my_pkg/__init__.py,{},6", record_hash(&init))));
        assert!(record.contains("my_pkg-1.0.data/scripts/tool,"));
        assert!(record.ends_with("my_pkg-1.0.dist-info/RECORD,,\n"));
        assert!(String::from_utf8_lossy(&w.metadata).contains("Requires-Dist: requests>=2"));
    }

    #[test]
    fn duplicate_entries_survive() {
        let bytes = build_zip(&[RawZipEntry::file("a", "1"), RawZipEntry::file("a", "2")]);
        let z = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
        assert!(z.has_duplicate_names());
    }

    #[test]
    fn sdist_has_one_top_level_dir_and_raw_entries() {
        let (name, bytes) = SdistBuilder::new("demo", "0.1")
            .file("setup.py", "")
            .raw_entry(RawTarEntry::file("../evil", "x"))
            .build();
        assert_eq!(name, "demo-0.1.tar.gz");
        let mut a = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let paths: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| String::from_utf8_lossy(&e.unwrap().path_bytes()).into_owned())
            .collect();
        assert_eq!(
            paths,
            [
                "demo-0.1/",
                "demo-0.1/PKG-INFO",
                "demo-0.1/setup.py",
                "../evil"
            ]
        );
    }
}
