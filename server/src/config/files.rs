//! Where files are kept and what uploads may be: `CHATSPHERE_FILES_DIR`
//! (default `<data dir>/files`), or an S3-compatible bucket
//! (`CHATSPHERE_S3_ENDPOINT`, `CHATSPHERE_S3_BUCKET`, `CHATSPHERE_S3_REGION`,
//! `CHATSPHERE_S3_ACCESS_KEY_ID`, `CHATSPHERE_S3_SECRET_ACCESS_KEY`);
//! `CHATSPHERE_MAX_UPLOAD_BYTES` (25 MiB), `CHATSPHERE_UPLOAD_TYPES` (any),
//! `CHATSPHERE_UPLOAD_QUOTA_BYTES` (none).

use std::path::Path;

use services::files::storage::{FileStoreConfig, S3Config};
use services::files::FilesConfig;

use super::{invalid, ConfigError};

/// The files settings.
#[derive(Debug, Clone)]
pub struct FilesSettings {
    /// Where the bytes go.
    pub storage: FileStoreConfig,
    /// What uploads may be.
    pub limits: FilesConfig,
}

pub(super) fn from_lookup(
    get: &impl Fn(&str) -> Option<String>,
    data_dir: &Path,
) -> Result<FilesSettings, ConfigError> {
    let mut limits = FilesConfig::default();
    if let Some(raw) = get("CHATSPHERE_MAX_UPLOAD_BYTES") {
        limits.max_upload_bytes = raw.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            invalid(
                "CHATSPHERE_MAX_UPLOAD_BYTES",
                "expected the largest upload in bytes, at least 1",
            )
        })?;
    }
    if let Some(raw) = get("CHATSPHERE_UPLOAD_TYPES") {
        limits.allowed_types = raw
            .split(',')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(bad) = limits
            .allowed_types
            .iter()
            .find(|t| t.split('/').count() != 2 || t.contains(' '))
        {
            return Err(invalid(
                "CHATSPHERE_UPLOAD_TYPES",
                format!("expected types such as image/png or image/*, separated by commas (not {bad:?})"),
            ));
        }
    }
    if let Some(raw) = get("CHATSPHERE_UPLOAD_QUOTA_BYTES") {
        limits.quota_bytes = Some(raw.trim().parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            invalid(
                "CHATSPHERE_UPLOAD_QUOTA_BYTES",
                "expected the bytes each person may upload in all, at least 1",
            )
        })?);
    }
    let endpoint = get("CHATSPHERE_S3_ENDPOINT");
    let bucket = get("CHATSPHERE_S3_BUCKET");
    let storage = if endpoint.is_some() || bucket.is_some() {
        let required = |var: &'static str| {
            get(var)
                .filter(|v| !v.trim().is_empty())
                .ok_or_else(|| invalid(var, "is required when files are kept in S3 (CHATSPHERE_S3_ENDPOINT or CHATSPHERE_S3_BUCKET is set)"))
        };
        let endpoint = required("CHATSPHERE_S3_ENDPOINT")?;
        if !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) {
            return Err(invalid(
                "CHATSPHERE_S3_ENDPOINT",
                "expected the server's URL (https://… or http://…)",
            ));
        }
        FileStoreConfig::S3(S3Config {
            endpoint,
            bucket: required("CHATSPHERE_S3_BUCKET")?,
            region: get("CHATSPHERE_S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: required("CHATSPHERE_S3_ACCESS_KEY_ID")?,
            secret_access_key: required("CHATSPHERE_S3_SECRET_ACCESS_KEY")?.into(),
        })
    } else {
        FileStoreConfig::Local(
            get("CHATSPHERE_FILES_DIR")
                .map(Into::into)
                .unwrap_or_else(|| data_dir.join("files")),
        )
    };
    Ok(FilesSettings { storage, limits })
}
