//! Writing the model back as `pylock.toml`, deterministically: keys in the
//! specification's order, packages sorted by name then version, wheels by
//! filename, files as one inline table each (the layout uv writes).

use std::collections::BTreeMap;

use toml_edit::{value, Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, Value};

use super::toml_value::{inline_table, TomlTable};
use super::{LockedFile, LockedPackage, PackageSource, PyLock};
use crate::pep508::url_filename;

pub(super) fn to_toml_string(lock: &PyLock) -> String {
    let mut doc = DocumentMut::new();
    doc.insert("lock-version", value(lock.lock_version.to_string()));
    if let Some(environments) = &lock.environments {
        doc.insert(
            "environments",
            value(string_array(environments.iter().map(|m| m.as_str()))),
        );
    }
    if let Some(rp) = &lock.requires_python {
        doc.insert("requires-python", value(rp.to_string()));
    }
    if let Some(extras) = &lock.extras {
        doc.insert(
            "extras",
            value(string_array(extras.iter().map(|e| e.as_ref()))),
        );
    }
    if let Some(groups) = &lock.dependency_groups {
        doc.insert(
            "dependency-groups",
            value(string_array(groups.iter().map(String::as_str))),
        );
    }
    if let Some(groups) = &lock.default_groups {
        doc.insert(
            "default-groups",
            value(string_array(groups.iter().map(String::as_str))),
        );
    }
    doc.insert("created-by", value(lock.created_by.as_str()));

    let mut packages: Vec<&LockedPackage> = lock.packages.iter().collect();
    packages.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.version.cmp(&b.version)));
    let mut array = ArrayOfTables::new();
    for package in packages {
        array.push(package_table(package));
    }
    doc.insert("packages", Item::ArrayOfTables(array));

    if let Some(tool) = &lock.tool {
        doc.insert("tool", Item::Table(standard_table(tool)));
    }
    doc.to_string()
}

fn package_table(p: &LockedPackage) -> Table {
    let mut t = Table::new();
    t.insert("name", value(p.name.as_ref()));
    if let Some(v) = &p.version {
        t.insert("version", value(v.to_string()));
    }
    if let Some(m) = &p.marker {
        t.insert("marker", value(m.as_str()));
    }
    if let Some(rp) = &p.requires_python {
        t.insert("requires-python", value(rp.to_string()));
    }
    if !p.dependencies.is_empty() {
        let items = p
            .dependencies
            .iter()
            .map(|d| Value::InlineTable(ordered_inline(d, &["name", "version"])));
        t.insert("dependencies", value(multiline(items)));
    }
    match &p.source {
        PackageSource::Vcs(vcs) => {
            let mut s = InlineTable::new();
            s.insert("type", vcs.kind.as_str().into());
            insert_opt(&mut s, "url", vcs.url.as_deref());
            insert_opt(&mut s, "path", vcs.path.as_deref());
            insert_opt(
                &mut s,
                "requested-revision",
                vcs.requested_revision.as_deref(),
            );
            s.insert("commit-id", vcs.commit_id.as_str().into());
            insert_opt(&mut s, "subdirectory", vcs.subdirectory.as_deref());
            t.insert("vcs", value(s));
        }
        PackageSource::Directory(dir) => {
            let mut s = InlineTable::new();
            s.insert("path", dir.path.as_str().into());
            if dir.editable {
                s.insert("editable", true.into());
            }
            insert_opt(&mut s, "subdirectory", dir.subdirectory.as_deref());
            t.insert("directory", value(s));
        }
        PackageSource::Archive(archive) => {
            let mut s = InlineTable::new();
            insert_opt(&mut s, "url", archive.url.as_ref().map(url::Url::as_str));
            insert_opt(&mut s, "path", archive.path.as_deref());
            if let Some(size) = archive.size {
                s.insert("size", size_value(size));
            }
            if let Some(time) = archive.upload_time {
                s.insert("upload-time", time.into());
            }
            s.insert("hashes", Value::InlineTable(hashes_table(&archive.hashes)));
            insert_opt(&mut s, "subdirectory", archive.subdirectory.as_deref());
            t.insert("archive", value(s));
        }
        PackageSource::Distributions { .. } => {}
    }
    if let Some(index) = &p.index {
        t.insert("index", value(index.as_str()));
    }
    if let PackageSource::Distributions { sdist, wheels } = &p.source {
        if let Some(sdist) = sdist {
            t.insert("sdist", value(file_table(sdist)));
        }
        if !wheels.is_empty() {
            let mut sorted: Vec<&LockedFile> = wheels.iter().collect();
            sorted.sort_by(|a, b| a.name.cmp(&b.name));
            let items = sorted
                .into_iter()
                .map(|w| Value::InlineTable(file_table(w)));
            t.insert("wheels", value(multiline(items)));
        }
    }
    if !p.attestation_identities.is_empty() {
        let mut identities = ArrayOfTables::new();
        for identity in &p.attestation_identities {
            let mut it = Table::new();
            it.insert("kind", value(identity.kind.as_str()));
            for (k, v) in &identity.fields {
                it.insert(k, value(v.to_value()));
            }
            identities.push(it);
        }
        t.insert("attestation-identities", Item::ArrayOfTables(identities));
    }
    if let Some(tool) = &p.tool {
        t.insert("tool", Item::Table(standard_table(tool)));
    }
    t
}

fn file_table(f: &LockedFile) -> InlineTable {
    let mut s = InlineTable::new();
    let derived = f.url.as_ref().and_then(url_filename).or_else(|| {
        f.path
            .as_deref()
            .and_then(|p| p.rsplit(['/', '\\']).next().map(str::to_string))
    });
    if derived.as_deref() != Some(f.name.as_str()) {
        s.insert("name", f.name.as_str().into());
    }
    if let Some(time) = f.upload_time {
        s.insert("upload-time", time.into());
    }
    insert_opt(&mut s, "url", f.url.as_ref().map(url::Url::as_str));
    insert_opt(&mut s, "path", f.path.as_deref());
    if let Some(size) = f.size {
        s.insert("size", size_value(size));
    }
    s.insert("hashes", Value::InlineTable(hashes_table(&f.hashes)));
    s
}

fn size_value(size: u64) -> Value {
    // Sizes come from i64 TOML integers, so they fit.
    Value::from(i64::try_from(size).unwrap_or(i64::MAX))
}

fn hashes_table(hashes: &BTreeMap<String, String>) -> InlineTable {
    let mut t = InlineTable::new();
    for (alg, digest) in hashes {
        t.insert(alg, digest.as_str().into());
    }
    t
}

fn insert_opt(t: &mut InlineTable, key: &str, v: Option<&str>) {
    if let Some(v) = v {
        t.insert(key, v.into());
    }
}

fn string_array<'a>(items: impl Iterator<Item = &'a str>) -> Array {
    let mut a = Array::new();
    for item in items {
        a.push(item);
    }
    a
}

/// An array with one element per line, as uv writes `wheels`.
fn multiline(items: impl Iterator<Item = Value>) -> Array {
    let mut a = Array::new();
    for mut item in items {
        item.decor_mut().set_prefix("\n    ");
        a.push_formatted(item);
    }
    a.set_trailing_comma(true);
    a.set_trailing("\n");
    a
}

/// An inline table with `first` keys leading, the rest sorted.
fn ordered_inline(table: &TomlTable, first: &[&str]) -> InlineTable {
    let mut t = InlineTable::new();
    for key in first {
        if let Some(v) = table.get(*key) {
            t.insert(*key, v.to_value());
        }
    }
    for (k, v) in table {
        if !first.contains(&k.as_str()) {
            t.insert(k, v.to_value());
        }
    }
    t
}

fn standard_table(table: &TomlTable) -> Table {
    let mut t = Table::new();
    for (k, v) in inline_table(table).iter() {
        t.insert(k, value(v.clone()));
    }
    t
}
