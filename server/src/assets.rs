//! The browser's files under `/pkg` — the script, the WebAssembly module and
//! the stylesheet — served under names that carry a hash of their content.
//!
//! A hashed file never changes, so browsers and proxies may keep it for a
//! year without asking again (`immutable`); a new build has new names, which
//! pages point to at once (pages are `no-cache` or `private, no-store`). The
//! script and the module share one hash: the script is generated for that
//! exact module and a browser must never pair one build's script with
//! another's module. The stylesheet has its own, so a style change does not
//! make every browser download the module again.
//!
//! The hashes are computed once at start-up from the files cargo-leptos
//! built, so nothing is renamed on disk and the same `target/site` serves
//! under any name. Other files (and the plain names, for tools and old
//! pages) are revalidated on every use (`no-cache`). A file replaced on disk
//! is seen after a restart; processes behind one proxy must serve the same
//! build (a rolling deploy mixing builds can answer 404 for the other
//! build's names until every process runs the new one).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path as UrlPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tower::ServiceExt;
use tower_http::services::ServeFile;

/// `Cache-Control` of a hashed file.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of a file whose name does not change with its content.
pub const REVALIDATE: &str = "no-cache";

/// Hex digits of the content hash in a file name (64 bits).
const HASH_HEX: usize = 16;

/// The site's files and the hashed names pages refer to them by.
#[derive(Clone)]
pub struct Assets {
    inner: Arc<Inner>,
}

struct Inner {
    /// `target/site/pkg`: every file under `/pkg`.
    pkg_dir: PathBuf,
    /// What the hydration script is told the files are called: the build's
    /// output name with the script's and module's hash.
    output_name: String,
    /// The stylesheet's URL.
    stylesheet: String,
    /// Hashed file name → the file on disk.
    hashed: HashMap<String, PathBuf>,
    /// The other files directly under `pkg_dir` at start-up, served by
    /// their own names: nothing else is looked up on disk.
    plain: std::collections::HashSet<String>,
}

impl Assets {
    /// Finds the build's files under `site_root/pkg_dir` and hashes them
    /// (reads ~2 MB: call it off the async runtime). Without them (a server
    /// built by `cargo build` alone, as the API tests are) pages name the
    /// plain files, which then answer 404, and say so in the log.
    pub fn load(site_root: &Path, pkg_dir: &str, output_name: &str) -> Self {
        let pkg = site_root.join(pkg_dir);
        // Leptos names the module `<output>_bg.wasm` unless cargo-leptos
        // set the output name at build time (then `<output>.wasm`).
        let module_suffix = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            ""
        } else {
            "_bg"
        };
        let script = pkg.join(format!("{output_name}.js"));
        let module = pkg.join(format!("{output_name}{module_suffix}.wasm"));
        let styles = pkg.join(format!("{output_name}.css"));
        let mut hashed = HashMap::new();
        let bundle = match content_hash(&[&script, &module]) {
            Ok(hash) => {
                let named = format!("{output_name}.{hash}");
                hashed.insert(format!("{named}.js"), script);
                hashed.insert(format!("{named}{module_suffix}.wasm"), module);
                named
            }
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    dir = %pkg.display(),
                    "the browser's script or module is missing (run `cargo leptos build`): pages will not hydrate"
                );
                output_name.to_owned()
            }
        };
        let stylesheet = match content_hash(&[&styles]) {
            Ok(hash) => {
                let name = format!("{output_name}.{hash}.css");
                let url = format!("/{pkg_dir}/{name}");
                hashed.insert(name, styles);
                url
            }
            Err(err) => {
                tracing::warn!(error = %err, dir = %pkg.display(), "the stylesheet is missing");
                format!("/{pkg_dir}/{output_name}.css")
            }
        };
        let plain = std::fs::read_dir(&pkg)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            inner: Arc::new(Inner {
                pkg_dir: pkg,
                output_name: bundle,
                stylesheet,
                hashed,
                plain,
            }),
        }
    }

    /// The output name to give Leptos' hydration scripts: they append
    /// `.js` and `.wasm` (or `_bg.wasm`) to it.
    pub fn output_name(&self) -> &str {
        &self.inner.output_name
    }

    /// The stylesheet's URL.
    pub fn stylesheet(&self) -> &str {
        &self.inner.stylesheet
    }
}

/// The first [`HASH_HEX`] hex digits of the SHA-256 of the files' contents,
/// in order.
fn content_hash(files: &[&Path]) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(std::fs::read(file)?);
    }
    let digest = hasher.finalize();
    let mut hex = String::with_capacity(HASH_HEX);
    for byte in &digest[..HASH_HEX / 2] {
        use std::fmt::Write;
        let _ = write!(hex, "{byte:02x}");
    }
    Ok(hex)
}

/// `GET /pkg/{file}`: a hashed name for a year, another file of the build
/// revalidated, anything else not found. Only names listed at start-up are
/// looked up, so no request path reaches the file system. Files are read by
/// tower-http's `ServeFile` (tokio's file I/O, off the runtime's worker
/// threads), with `Range`, `If-Modified-Since` and HEAD.
pub async fn serve(
    State(assets): State<Assets>,
    UrlPath(file): UrlPath<String>,
    request: Request,
) -> Response {
    let inner = &assets.inner;
    let (path, cache) = match inner.hashed.get(&file) {
        Some(path) => (path.clone(), IMMUTABLE),
        None if inner.plain.contains(&file) => (inner.pkg_dir.join(&file), REVALIDATE),
        None => return axum::http::StatusCode::NOT_FOUND.into_response(),
    };
    let Ok(response) = ServeFile::new(path).oneshot(request).await;
    let mut response = response.map(Body::new);
    if response.status().is_success() || response.status() == axum::http::StatusCode::NOT_MODIFIED {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(files: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pkg")).unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join("pkg").join(name), content).unwrap();
        }
        dir
    }

    fn module(output: &str) -> String {
        if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
            format!("{output}.wasm")
        } else {
            format!("{output}_bg.wasm")
        }
    }

    #[test]
    fn names_carry_the_content_hash() {
        let dir = site(&[
            ("app.js", b"script"),
            (&module("app"), b"module"),
            ("app.css", b"styles"),
        ]);
        let assets = Assets::load(dir.path(), "pkg", "app");
        let name = assets.output_name().to_owned();
        assert!(name.starts_with("app."), "{name}");
        assert_eq!(name.len(), "app.".len() + HASH_HEX);
        assert!(assets.inner.hashed.contains_key(&format!("{name}.js")));
        assert!(assets.inner.hashed.contains_key(&module(&name)));
        let css = assets.stylesheet();
        assert!(
            css.starts_with("/pkg/app.") && css.ends_with(".css"),
            "{css}"
        );
        assert_ne!(
            css,
            format!("/pkg/{name}.css"),
            "the stylesheet has its own hash"
        );

        // A new module: new script and module names, the same stylesheet.
        std::fs::write(dir.path().join("pkg").join(module("app")), b"module 2").unwrap();
        let next = Assets::load(dir.path(), "pkg", "app");
        assert_ne!(next.output_name(), name);
        assert_eq!(next.stylesheet(), css);
    }

    #[test]
    fn without_the_build_pages_name_the_plain_files() {
        let dir = site(&[]);
        let assets = Assets::load(dir.path(), "pkg", "app");
        assert_eq!(assets.output_name(), "app");
        assert_eq!(assets.stylesheet(), "/pkg/app.css");
        assert!(assets.inner.hashed.is_empty());
    }
}
