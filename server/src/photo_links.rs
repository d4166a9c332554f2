//! Signed, expiring links to stored photos, so a forwarded report can reference its photos
//! without making them public: `/api/v1/photos/{sha256}?expires=<unix seconds>&sig=<hex>`,
//! where `sig` is HMAC-SHA256 over the hash and expiry under a key derived from the
//! contact key. The pipeline (or a department's case worker) can fetch them until they
//! expire; nobody can enumerate or forge them.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::hex;
use crate::privacy::constant_time_eq;

/// Signs and checks photo links.
#[derive(Clone)]
pub struct PhotoLinks {
    base_url: String,
    key: [u8; 32],
    ttl_secs: u64,
}

impl std::fmt::Debug for PhotoLinks {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("PhotoLinks").field("base_url", &self.base_url).field("ttl_secs", &self.ttl_secs).finish_non_exhaustive()
    }
}

impl PhotoLinks {
    /// The server's public base URL the links start with.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Links under `base_url`, valid for `ttl_secs`.
    pub fn new(base_url: String, key: [u8; 32], ttl_secs: u64) -> PhotoLinks {
        PhotoLinks { base_url, key, ttl_secs }
    }

    fn signature(&self, sha256: &str, expires: u64) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(sha256.as_bytes());
        mac.update(b".");
        mac.update(expires.to_string().as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// A link to photo `sha256`, valid from `now_secs` for the configured time.
    pub fn url(&self, sha256: &str, now_secs: u64) -> String {
        let expires = now_secs + self.ttl_secs;
        format!("{}/api/v1/photos/{sha256}?expires={expires}&sig={}", self.base_url, self.signature(sha256, expires))
    }

    /// Whether `sig` is this server's signature for `sha256` and `expires` is still ahead.
    pub fn verify(&self, sha256: &str, expires: u64, sig: &str, now_secs: u64) -> bool {
        let expected = self.signature(sha256, expires);
        constant_time_eq(expected.as_bytes(), sig.as_bytes()) && expires >= now_secs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_verify_until_they_expire_and_cannot_be_moved_to_another_photo() {
        let links = PhotoLinks::new("https://lianxin.example".into(), [3; 32], 3600);
        let url = links.url("ab12", 1000);
        let sig = url.split("sig=").nth(1).unwrap();
        assert!(url.starts_with("https://lianxin.example/api/v1/photos/ab12?expires=4600&sig="));
        assert!(links.verify("ab12", 4600, sig, 4000));
        assert!(!links.verify("ab12", 4600, sig, 4601), "expired");
        assert!(!links.verify("cd34", 4600, sig, 4000), "another photo");
        assert!(!links.verify("ab12", 9999, sig, 4000), "another expiry");
    }
}
