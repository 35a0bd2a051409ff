//! `DATA_DIR` (the SQLite database, the compile cache): made if missing and
//! written to once at start-up, so a directory the host cannot write stops
//! it with the fix, not with a SQLite error code on the first request; then
//! held while the host serves, against a restore.

use std::fs::TryLockError;
use std::io::ErrorKind;
use std::path::Path;

use anyhow::bail;

/// Checks that the host can create files in `dir`, making it first.
pub(crate) fn ensure_writable(dir: &Path) -> anyhow::Result<()> {
    let shown = dir.display();
    let probe = dir.join(format!(".write-check-{}", std::process::id()));
    let written = std::fs::create_dir_all(dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&probe)
            .map(drop)
    });
    let _ = std::fs::remove_file(&probe);
    match written {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            let uid = rustix::process::geteuid().as_raw();
            bail!(
                "DATA_DIR {shown}: permission denied: the host runs as uid {uid}, which must be \
                 able to write there (chown {uid} {shown}), or set DATA_DIR to a writable directory"
            )
        }
        Err(e) if e.kind() == ErrorKind::ReadOnlyFilesystem => bail!(
            "DATA_DIR {shown}: the filesystem is read-only: mount a writable volume there, \
             or set DATA_DIR to a writable directory"
        ),
        Err(e) => bail!("DATA_DIR {shown}: cannot write there: {e}"),
    }
}

/// The data directory held: shared by each host serving from it (replicas
/// on one volume may), exclusively by a restore, so that a restore never
/// replaces the database a running host has open, nor does a host start on
/// one being restored. Let go when dropped, or when the process ends.
pub struct DataDirHold {
    _file: std::fs::File,
}

/// The file the hold is taken on (`flock`), beside the database.
const HOLD_FILE: &str = ".in-use";

impl DataDirHold {
    /// For a host about to serve from `dir`.
    pub(crate) fn serving(dir: &Path) -> anyhow::Result<Self> {
        let file = hold_file(dir)?;
        match file.try_lock_shared() {
            Ok(()) => Ok(DataDirHold { _file: file }),
            Err(TryLockError::WouldBlock) => bail!(
                "DATA_DIR {}: a restore is replacing its database; start the host once it is done",
                dir.display()
            ),
            Err(TryLockError::Error(e)) => bail!("DATA_DIR {}: cannot hold it: {e}", dir.display()),
        }
    }

    /// For a restore into `dir`, made if missing.
    pub fn restoring(dir: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("DATA_DIR {}: cannot create it: {e}", dir.display()))?;
        let file = hold_file(dir)?;
        match file.try_lock() {
            Ok(()) => Ok(DataDirHold { _file: file }),
            Err(TryLockError::WouldBlock) => bail!(
                "DATA_DIR {}: a host is serving from it: stop it, then restore (a restore \
                 replaces the database the host has open)",
                dir.display()
            ),
            Err(TryLockError::Error(e)) => bail!("DATA_DIR {}: cannot hold it: {e}", dir.display()),
        }
    }
}

/// The hold file, opened for reading only (a lock needs no more, and a
/// file left by another user, root's restore say, still opens), made first
/// if missing.
fn hold_file(dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = dir.join(HOLD_FILE);
    let opened = std::fs::File::open(&path).or_else(|e| {
        if e.kind() != ErrorKind::NotFound {
            return Err(e);
        }
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)?;
        std::fs::File::open(&path)
    });
    opened.map_err(|e| {
        anyhow::anyhow!(
            "DATA_DIR {}: cannot open {}: {e}",
            dir.display(),
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_the_directory_and_leaves_nothing_behind() {
        let parent = tempfile::tempdir().unwrap();
        let dir = parent.path().join("a/b");
        ensure_writable(&dir).unwrap();
        assert!(dir.is_dir());
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    }

    #[test]
    fn a_file_in_the_way_is_named() {
        let parent = tempfile::tempdir().unwrap();
        let file = parent.path().join("file");
        std::fs::write(&file, "").unwrap();
        let error = ensure_writable(&file.join("data")).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!("DATA_DIR {}", file.join("data").display())),
            "{error}"
        );
    }
}
