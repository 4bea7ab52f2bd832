//! The web client (`web-client/`), embedded in the binary at build time
//! and served with its content types; nothing is read from disk at run
//! time.
//!
//! `sbc-client.js` may be imported by pages of other origins (an ES module
//! import is a CORS request): it and the two modules it imports
//! (`sbc-call.js`, `sbc-common.js`) are served with
//! `Access-Control-Allow-Origin: *`. They are public code, fetched without
//! credentials; the session itself is authenticated by `hello`'s token.

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
        "/sbc-call.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-client/sbc-call.js"),
    ),
    (
        "/sbc-common.js",
        "text/javascript; charset=utf-8",
        include_str!("../../../web-client/sbc-common.js"),
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

/// The files other origins may import: the client module and its imports.
const CROSS_ORIGIN: &[&str] = &["/sbc-client.js", "/sbc-call.js", "/sbc-common.js"];

/// One route per file.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    FILES
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            router.route(
                path,
                get(move || async move {
                    let mut response = (
                        [
                            (header::CONTENT_TYPE, content_type),
                            (header::CACHE_CONTROL, "no-cache"),
                            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                        ],
                        body,
                    )
                        .into_response();
                    if CROSS_ORIGIN.contains(&path) {
                        response.headers_mut().insert(
                            header::ACCESS_CONTROL_ALLOW_ORIGIN,
                            header::HeaderValue::from_static("*"),
                        );
                    }
                    response
                }),
            )
        })
}
