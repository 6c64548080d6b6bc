//! An exclusive lock on an environment, so two pyward processes never
//! change the same environment at once. The lock file holds the holder's
//! process id, to say who is in the way.

use std::fs::File;
use std::io::{Seek, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::environment::Environment;
use crate::error::{io_err, InstallError, Result};

/// Held while alive; released on drop.
#[derive(Debug)]
pub struct EnvLock {
    file: File,
    path: PathBuf,
}

impl EnvLock {
    /// Lock `env`, waiting up to 10 seconds for another holder.
    pub fn acquire(env: &Environment) -> Result<EnvLock> {
        Self::acquire_timeout(env, Duration::from_secs(10))
    }

    /// Lock `env`, waiting up to `timeout` for another holder.
    pub fn acquire_timeout(env: &Environment, timeout: Duration) -> Result<EnvLock> {
        let dir = env.site_packages();
        std::fs::create_dir_all(dir).map_err(io_err("could not create", dir))?;
        let path = dir.join(".pyward.lock");
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err("could not open the lock file", &path))?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < timeout => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let holder = std::fs::read_to_string(&path)
                        .ok()
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .map(|pid| format!(" (process {pid})"))
                        .unwrap_or_default();
                    return Err(InstallError::Locked {
                        path: env.root.clone(),
                        holder,
                    });
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(io_err("could not lock", &path)(e))
                }
            }
        }
        let pid = std::process::id().to_string();
        let written = file
            .set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(pid.as_bytes()));
        written.map_err(io_err("could not write", &path))?;
        Ok(EnvLock { file, path })
    }

    /// The lock file.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }
}

impl Drop for EnvLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}
