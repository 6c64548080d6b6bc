//! Unpickling decoded data at run time is what cache and session backends
//! do (Django's `core/cache/backends/db.py` and `filebased.py`): a finding to
//! look at, never a block. The same call on a blob shipped in the file is.

use pyward_guard::Severity;

#[test]
fn a_cache_backend_that_unpickles_stored_values_is_not_blocked() {
    let src = br#"
import base64, pickle, zlib

class DatabaseCache:
    def get(self, key):
        value = self._fetch(key)
        return pickle.loads(base64.b64decode(value.encode()))

class FileBasedCache:
    def get(self, f):
        return pickle.loads(zlib.decompress(f.read()))
"#;
    let hits = pyward_scan::scan_source("django/core/cache/backends/db.py", src);
    assert!(hits.iter().all(|h| h.severity < Severity::High), "{hits:?}");
}

#[test]
fn unpickling_a_blob_shipped_in_the_file_is_still_high() {
    let src = br#"
import base64, pickle
pickle.loads(base64.b64decode("gASVIQAAAAAAAACMAm9zlIwGc3lzdGVtlJOUjAJpZJSFlFKULg=="))
"#;
    let hits = pyward_scan::scan_source("pkg/__init__.py", src);
    assert!(
        hits.iter().any(|h| h.severity >= Severity::High),
        "{hits:?}"
    );
}
