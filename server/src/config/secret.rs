//! The development JWT secret: generated once into the data directory,
//! readable by its owner only.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::{ConfigError, MIN_SECRET_LEN};

const SECRET_FILE: &str = "jwt-secret";

/// Reads the development JWT secret from the data directory, creating it
/// (readable by the owner only) on first run. Returns whether it was created.
pub(super) fn development_secret(
    data_dir: &Path,
) -> Result<(SecretString, PathBuf, bool), ConfigError> {
    use rand::RngCore;
    let path = data_dir.join(SECRET_FILE);
    let io_err = |source| ConfigError::SecretFile {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(existing) if existing.trim().len() >= MIN_SECRET_LEN => {
            return Ok((SecretString::from(existing.trim().to_owned()), path, false));
        }
        Ok(_) => {} // too short or empty: replace it
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => return Err(io_err(err)),
    }
    std::fs::create_dir_all(data_dir).map_err(io_err)?;
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, &secret).map_err(io_err)?;
    Ok((SecretString::from(secret), path, true))
}

#[cfg(unix)]
pub(super) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
pub(super) fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
