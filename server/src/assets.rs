//! Static files.
//!
//! The bundle under `/pkg` (WASM, JS, CSS) is served with `immutable` caching when cargo-leptos
//! hashed the file names (the name changes whenever the content does), and `no-cache`
//! otherwise. Precompressed `.br`/`.gz` siblings are used when present; everything else is
//! compressed on the fly at a level that costs milliseconds, not a second, for a 1 MB WASM.

use std::path::Path;

use axum::http::{HeaderValue, header};
use leptos::prelude::LeptosOptions;
use tower::Layer;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::services::ServeDir;
use tower_http::set_header::{SetResponseHeader, SetResponseHeaderLayer};

pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub const REVALIDATE: &str = "no-cache";

/// `/pkg/*`, with caching that matches whether names are hashed.
pub fn bundle_service(options: &LeptosOptions) -> SetResponseHeader<ServeDir, HeaderValue> {
    let dir = Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    let cache = if options.hash_files {
        IMMUTABLE
    } else {
        REVALIDATE
    };
    SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, HeaderValue::from_static(cache))
        .layer(ServeDir::new(dir).precompressed_br().precompressed_gzip())
}

/// gzip and brotli for every compressible response.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new().quality(CompressionLevel::Precise(4))
}

/// Whether cargo-leptos wrote a hash file next to this executable, i.e. built with
/// `hash-files = true`. Leptos reads the same file to name the bundle in the HTML.
pub fn hashed_bundle(hash_file: &str) -> bool {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(hash_file)))
        .is_some_and(|path| path.is_file())
}
