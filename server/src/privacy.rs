//! Personal data at rest. Contact names and phone numbers are sealed with
//! ChaCha20-Poly1305 under the city's contact key before they reach the database, and a
//! phone number is also kept as a keyed hash (HMAC-SHA256) so repeat reports from one
//! person can be linked without reading the number. The key comes from
//! `LIANXIN_CONTACT_KEY` (base64 of 32 bytes) or, when unset, from `<data dir>/contact.key`,
//! created on first start with owner-only permissions. Losing the key makes stored contacts
//! unreadable; back it up with the database.

use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ids::hex;

/// Seals and opens contact details; never prints its key.
#[derive(Clone)]
pub struct ContactCipher {
    cipher: ChaCha20Poly1305,
    key: [u8; 32],
}

impl std::fmt::Debug for ContactCipher {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ContactCipher(<secret>)")
    }
}

impl ContactCipher {
    /// A cipher for a 32-byte key.
    pub fn new(key: [u8; 32]) -> ContactCipher {
        ContactCipher { cipher: ChaCha20Poly1305::new(Key::from_slice(&key)), key }
    }

    /// The key from `LIANXIN_CONTACT_KEY`, else from (or newly into) `<data_dir>/contact.key`.
    pub fn load(data_dir: &Path) -> anyhow::Result<ContactCipher> {
        if let Some(encoded) = std::env::var("LIANXIN_CONTACT_KEY").ok().filter(|value| !value.is_empty()) {
            return Self::from_base64(&encoded).context("LIANXIN_CONTACT_KEY");
        }
        let path = data_dir.join("contact.key");
        if path.exists() {
            let encoded = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
            return Self::from_base64(encoded.trim()).with_context(|| format!("key file {}", path.display()));
        }
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|error| anyhow::anyhow!("no randomness for the contact key: {error}"))?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(key);
        write_private(&path, encoded.as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        tracing::warn!(path = %path.display(), "created a new contact key; back it up with the database");
        Ok(ContactCipher::new(key))
    }

    fn from_base64(encoded: &str) -> anyhow::Result<ContactCipher> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).context("the contact key is not base64")?;
        let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) else { bail!("the contact key must be 32 bytes, it is {}", bytes.len()) };
        Ok(ContactCipher::new(key))
    }

    /// Seals `plain`: a fresh random nonce followed by the ciphertext.
    pub fn seal(&self, plain: &str) -> Vec<u8> {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let mut sealed = nonce.to_vec();
        sealed.extend(self.cipher.encrypt(&nonce, plain.as_bytes()).expect("encryption of a short text cannot fail"));
        sealed
    }

    /// Opens what [`Self::seal`] produced; `None` when it was sealed under another key or
    /// tampered with.
    pub fn open(&self, sealed: &[u8]) -> Option<String> {
        if sealed.len() < 12 {
            return None;
        }
        let (nonce, ciphertext) = sealed.split_at(12);
        let plain = self.cipher.decrypt(Nonce::from_slice(nonce), ciphertext).ok()?;
        String::from_utf8(plain).ok()
    }

    /// A separate key for another purpose (`label`), derived from the contact key so the
    /// city has one secret to keep.
    pub fn derive_key(&self, label: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(b"lianxin derive v1\0");
        mac.update(label.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The keyed hash of a normalised phone number, for linking repeat reports.
    pub fn phone_hash(&self, phone: &str) -> String {
        self.keyed_hash(b"lianxin phone v1\0", phone)
    }

    /// The keyed hash of the network a report came from (see `ClientNetwork`), so that
    /// reports from one sender can be told from reports by several without keeping an
    /// address. Purged with the contact.
    pub fn sender_hash(&self, network: &str) -> String {
        self.keyed_hash(b"lianxin sender v1\0", network)
    }

    fn keyed_hash(&self, purpose: &[u8], value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(purpose);
        mac.update(value.as_bytes());
        hex(&mac.finalize().into_bytes())
    }
}

/// Compares a secret with what a caller presented without leaking, through timing, how
/// many leading bytes matched.
pub fn constant_time_eq(expected: &[u8], presented: &[u8]) -> bool {
    expected.len() == presented.len() && expected.iter().zip(presented).fold(0u8, |diff, (a, b)| diff | (a ^ b)) == 0
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_contacts_open_only_with_their_key_and_never_show_the_number() {
        let cipher = ContactCipher::new([7; 32]);
        let sealed = cipher.seal("13812345678");
        assert!(!sealed.windows(11).any(|window| window == b"13812345678"));
        assert_eq!(cipher.open(&sealed).as_deref(), Some("13812345678"));
        assert_eq!(ContactCipher::new([8; 32]).open(&sealed), None);
        assert_ne!(cipher.seal("13812345678"), sealed, "fresh nonce each time");
        assert_eq!(cipher.phone_hash("13812345678"), cipher.phone_hash("13812345678"));
        assert_ne!(cipher.phone_hash("13812345678"), ContactCipher::new([8; 32]).phone_hash("13812345678"));
        assert_eq!(format!("{cipher:?}"), "ContactCipher(<secret>)");
    }

    #[test]
    fn key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = ContactCipher::load(dir.path()).unwrap();
        let second = ContactCipher::load(dir.path()).unwrap();
        assert_eq!(second.open(&first.seal("王女士")).as_deref(), Some("王女士"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("contact.key")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
