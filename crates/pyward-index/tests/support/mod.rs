//! Test servers shared by the integration tests.

pub mod range_server;
