//! Bodies compressed once, at brotli's highest level (as `cargo xtask build-widget`
//! compresses the widget's files), by the first request that takes brotli: the widget's
//! page in each language and the catalog are the same bytes for every phone, so none of
//! them is compressed per request, and each is as small as brotli makes it. Other
//! responses go through the router's compression layer.

use std::sync::OnceLock;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, header};

/// A body's brotli'd bytes, made once.
#[derive(Debug, Default)]
pub struct Once(OnceLock<Bytes>);

impl Once {
    /// The brotli'd `body`, compressed on the first call (a few tens of milliseconds for
    /// the catalog, once per server) and shared after.
    pub fn get_or_compress(&self, body: &[u8]) -> Bytes {
        self.0.get_or_init(|| Bytes::from(brotli(body))).clone()
    }
}

/// `bytes` brotli'd at quality 11.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let parameters = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &parameters).expect("compressing into memory does not fail");
    out
}

/// Whether the request's `Accept-Encoding` takes brotli (named, and not with `q=0`).
pub fn accepts_brotli(headers: &HeaderMap) -> bool {
    let accepted = headers.get(header::ACCEPT_ENCODING).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let refused = |parameter: &str| parameter.strip_prefix("q=").and_then(|weight| weight.trim().parse::<f32>().ok()) == Some(0.0);
    accepted.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        parts.next() == Some("br") && !parts.any(refused)
    })
}

/// The headers of a brotli'd body (the compression layer leaves such a response alone).
pub fn brotli_headers() -> [(header::HeaderName, HeaderValue); 2] {
    [(header::CONTENT_ENCODING, HeaderValue::from_static("br")), (header::VARY, HeaderValue::from_static("accept-encoding"))]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brotli_is_sent_only_where_it_is_accepted() {
        let with = |value: &'static str| HeaderMap::from_iter([(header::ACCEPT_ENCODING, HeaderValue::from_static(value))]);
        assert!(accepts_brotli(&with("gzip, deflate, br, zstd")));
        assert!(accepts_brotli(&with("br;q=0.5")));
        assert!(!accepts_brotli(&with("gzip, br;q=0")));
        assert!(!accepts_brotli(&with("gzip, brotli")));
        assert!(!accepts_brotli(&HeaderMap::new()));
    }

    #[test]
    fn what_is_compressed_comes_back_whole() {
        let text = "井盖缺失 manhole cover missing люк ".repeat(50);
        let mut decoded = Vec::new();
        brotli::BrotliDecompress(&mut &brotli(text.as_bytes())[..], &mut decoded).unwrap();
        assert_eq!(decoded, text.as_bytes());
    }
}
