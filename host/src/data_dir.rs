//! `DATA_DIR` (the SQLite database, the compile cache): made if missing and
//! written to once at start-up, so a directory the host cannot write stops
//! it with the fix, not with a SQLite error code on the first request.

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
