//! The server's test suite. Every test runs on SQLite, and on PostgreSQL when
//! `PYWARD_TEST_POSTGRES_URL` is set (`.ci/postgres.sh` sets it up).

mod common;

mod api;
mod security;
mod web;
