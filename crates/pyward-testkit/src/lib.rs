//! Test-only helpers: build wheels and sdists in memory (`wheel`), and serve
//! a PEP 691/503 package index on 127.0.0.1 (`index`). Never used by pyward
//! itself at run time.

pub mod index;
pub mod wheel;
