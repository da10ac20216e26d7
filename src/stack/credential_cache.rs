//! `lppg credentials`' cache of the generator role's session: one file per account, region, stack and caller under
//! the user's cache directory, readable only by the user, used until about 5 minutes before the session expires
//! (as the AWS CLI's own credential cache does), so a tool that calls `credential_process` for every command does
//! not start a new role session (and a GetCallerIdentity, a DescribeStacks and an AssumeRole) each time.
use crate::role::SessionCredentials;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Cached credentials are handed out only while they last at least this much longer.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(5 * 60);

/// The user's cache directory for lppg: `$XDG_CACHE_HOME/lppg`, else `~/Library/Caches/lppg` on macOS,
/// `%LOCALAPPDATA%\lppg` on Windows, `~/.cache/lppg` elsewhere. `None` when no home is known.
pub fn cache_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let set = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(x) = set("XDG_CACHE_HOME") {
        return Some(x.join("lppg"));
    }
    if cfg!(windows) {
        return set("LOCALAPPDATA").map(|d| d.join("lppg"));
    }
    let home = set("HOME")?;
    if cfg!(target_os = "macos") {
        return Some(home.join("Library/Caches/lppg"));
    }
    Some(home.join(".cache/lppg"))
}

/// What a cached session belongs to: a role session is reused only for the same account, region, stack, role
/// and caller (another identity never gets it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Key {
    pub account: String,
    pub region: String,
    pub stack: String,
    pub role_arn: String,
    pub caller_arn: String,
}

impl Key {
    /// The cache file's name: account, region and stack in clear, the rest hashed (role and caller ARNs may hold
    /// characters a file name cannot).
    pub fn file_name(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("{}\n{}", self.role_arn, self.caller_arn));
        let short: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let clean = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        format!(
            "credentials-{}-{}-{}-{short}.json",
            clean(&self.account),
            clean(&self.region),
            clean(&self.stack)
        )
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    key: Key,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

/// The cached credentials in `text` when they belong to `key` and last beyond `now` + [`REFRESH_BEFORE`].
pub fn fresh(text: &str, key: &Key, now: SystemTime) -> Option<SessionCredentials> {
    let e: Entry = serde_json::from_str(text).ok()?;
    let until = crate::time::parse_rfc3339(&e.expiration)?;
    if &e.key != key || until < now + REFRESH_BEFORE {
        return None;
    }
    Some(SessionCredentials {
        access_key_id: e.access_key_id,
        secret_access_key: e.secret_access_key,
        session_token: e.session_token,
        expiration: e.expiration,
    })
}

/// The file's text for `creds` of `key`.
pub fn entry(key: &Key, creds: &SessionCredentials) -> String {
    serde_json::to_string(&Entry {
        key: key.clone(),
        access_key_id: creds.access_key_id.clone(),
        secret_access_key: creds.secret_access_key.clone(),
        session_token: creds.session_token.clone(),
        expiration: creds.expiration.clone(),
    })
    .unwrap_or_default()
}

/// Reads a cached session of `key` from `dir`, if a fresh one is there.
pub fn load(dir: &Path, key: &Key, now: SystemTime) -> Option<SessionCredentials> {
    let text = std::fs::read_to_string(dir.join(key.file_name())).ok()?;
    fresh(&text, key, now)
}

/// Writes the session to `dir` (created only-for-the-user), through a temporary file only the user can read,
/// renamed into place so a reader never sees half a file.
pub fn store(dir: &Path, key: &Key, creds: &SessionCredentials) -> Result<PathBuf> {
    create_private_dir(dir)?;
    let path = dir.join(key.file_name());
    let tmp = dir.join(format!(".{}.{}", key.file_name(), std::process::id()));
    write_private(&tmp, entry(key, creds).as_bytes())
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key {
            account: "123456789012".into(),
            region: "us-east-1".into(),
            stack: "lppg".into(),
            role_arn: "arn:aws:iam::123456789012:role/lppg-role".into(),
            caller_arn: "arn:aws:sts::123456789012:assumed-role/Dev/alice".into(),
        }
    }

    fn creds(expiration: &str) -> SessionCredentials {
        SessionCredentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: "secret".into(),
            session_token: "token".into(),
            expiration: expiration.into(),
        }
    }

    #[test]
    fn used_until_five_minutes_before_expiry_and_only_for_its_key() {
        let now = crate::time::parse_rfc3339("2026-01-01T10:00:00Z").unwrap();
        let text = entry(&key(), &creds("2026-01-01T10:05:01Z"));
        assert_eq!(
            fresh(&text, &key(), now),
            Some(creds("2026-01-01T10:05:01Z"))
        );
        let late = entry(&key(), &creds("2026-01-01T10:04:59Z"));
        assert_eq!(
            fresh(&late, &key(), now),
            None,
            "within 5 minutes of expiry"
        );
        let other = Key {
            caller_arn: "arn:aws:sts::123456789012:assumed-role/Dev/bob".into(),
            ..key()
        };
        assert_eq!(fresh(&text, &other, now), None, "another caller");
        assert_eq!(fresh("not json", &key(), now), None);
        assert_ne!(other.file_name(), key().file_name());
        assert!(key()
            .file_name()
            .starts_with("credentials-123456789012-us-east-1-lppg-"));
    }

    #[test]
    fn cache_dir_follows_the_platform_conventions() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            cache_dir(&env(&[("XDG_CACHE_HOME", "/x"), ("HOME", "/h")])),
            Some(PathBuf::from("/x/lppg"))
        );
        if cfg!(target_os = "linux") {
            assert_eq!(
                cache_dir(&env(&[("HOME", "/h")])),
                Some(PathBuf::from("/h/.cache/lppg"))
            );
            assert_eq!(cache_dir(&env(&[])), None);
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_file_is_the_users_alone() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("lppg-cache-test-{}", std::process::id()));
        let path = store(&dir, &key(), &creds("2099-01-01T00:00:00Z")).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(dir_mode, 0o700);
        let now = crate::time::parse_rfc3339("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(load(&dir, &key(), now), Some(creds("2099-01-01T00:00:00Z")));
        // A second store replaces the file (the temporary file is new each time).
        store(&dir, &key(), &creds("2099-01-02T00:00:00Z")).unwrap();
        assert_eq!(
            load(&dir, &key(), now).unwrap().expiration,
            "2099-01-02T00:00:00Z"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
