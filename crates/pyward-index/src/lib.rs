//! Client for Python package indexes: project pages in PEP 691 JSON or
//! PEP 503 HTML (with PEP 592 yanking, PEP 658/714 metadata files, PEP 700
//! sizes and upload times, PEP 740 provenance and PEP 792 project status),
//! PEP 658 metadata (or a wheel's METADATA read with HTTP range requests
//! when the index has no metadata file), verified streaming downloads, an
//! on-disk HTTP cache, retries and an offline mode. Several indexes: the first that has a
//! project wins.

mod cache;
mod client;
mod error;
mod html;
mod index_url;
mod json;
mod page;
mod range;

pub use client::{Downloaded, IndexClient, IndexClientBuilder, SIMPLE_ACCEPT};
pub use error::IndexError;
pub use index_url::{redacted, IndexUrl};
pub use page::{ApiVersion, DistFile, Hashes, MetadataAvailability, ProjectPage, ProjectStatus};
