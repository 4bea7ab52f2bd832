//! The web client (`web-client/`), embedded in the binary at build time
//! and served with its content types; nothing is read from disk at run
//! time.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

/// The files, by URL path: (path, content type, contents).
const FILES: &[(&str, &str, &str)] = &[
    (
        "/",
        "text/html; charset=utf-8",
        include_str!("../../../web-client/index.html"),
    ),
    (
        "/index.html",
        "text/html; charset=utf-8",
        include_str!("../../../web-client/index.html"),
    ),
    (
        "/sbc-client.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-client/sbc-client.js"),
    ),
    (
        "/softphone.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-client/softphone.js"),
    ),
    (
        "/softphone.css",
        "text/css; charset=utf-8",
        include_str!("../../../web-client/softphone.css"),
    ),
];

/// One route per file.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    FILES
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            router.route(
                path,
                get(move || async move {
                    (
                        [
                            (header::CONTENT_TYPE, content_type),
                            (header::CACHE_CONTROL, "no-cache"),
                            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                        ],
                        body,
                    )
                        .into_response()
                }),
            )
        })
}
