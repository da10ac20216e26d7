//! Files lppg writes for people (saved policies, the template): never overwritten by accident.
use anyhow::{Context, Result};
use std::path::Path;

/// Writes `text` to `path`, refusing to overwrite unless `force`.
pub fn write_new_file(path: &Path, text: &str, force: bool) -> Result<()> {
    write_new_bytes(path, text.as_bytes(), force)
}

/// Writes `bytes` to `path`, refusing to overwrite unless `force`.
pub fn write_new_bytes(path: &Path, bytes: &[u8], force: bool) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    if force {
        opts.create(true).truncate(true);
    } else {
        opts.create_new(true);
    }
    let mut f = opts.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{} already exists: choose another file or pass --force",
                path.display()
            )
        } else {
            anyhow::anyhow!("cannot write {}: {e}", path.display())
        }
    })?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_overwrites_without_force() {
        let dir = std::env::temp_dir().join(format!("lppg-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("policy.json");
        let _ = std::fs::remove_file(&p);
        write_new_file(&p, "one", false).unwrap();
        let err = write_new_file(&p, "two", false).unwrap_err().to_string();
        assert!(err.contains("already exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "one");
        write_new_file(&p, "three", true).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "three");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
