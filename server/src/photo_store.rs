//! Where photo bytes live, behind one interface: under `<data dir>/photos` (the default;
//! photos in pack files, [`crate::photo_pack`], thumbnails as files) or S3-compatible object
//! storage (`s3://bucket[/prefix]`, through the `object_store` crate), so several server
//! instances can share them. Photos are named by content hash; a photo is written before
//! the report that refers to it is committed, and `put` returns only once the bytes are
//! durable (the pack's `fdatasync`, or the object store's acknowledgement). Photos stored
//! as files of their own before packs existed are still found, served and removed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;

use crate::photo_pack::Packs;

/// The full photo or its thumbnail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// The stored JPEG.
    Full,
    /// The small preview.
    Thumbnail,
}

impl Variant {
    fn suffix(self) -> &'static str {
        match self {
            Variant::Full => "jpg",
            Variant::Thumbnail => "thumb.jpg",
        }
    }
}

/// Photo storage failures.
#[derive(Debug, thiserror::Error)]
pub enum PhotoStoreError {
    /// A local file operation failed.
    #[error("photo file: {0}")]
    Io(#[from] std::io::Error),
    /// The object store failed.
    #[error("object store: {0}")]
    Object(#[from] object_store::Error),
    /// The `photo_store` setting cannot be used.
    #[error("photo store setting: {0}")]
    Setting(String),
}

impl PhotoStoreError {
    /// Whether storage is full (the server then answers 503).
    pub fn is_full(&self) -> bool {
        matches!(self, PhotoStoreError::Io(error) if error.kind() == std::io::ErrorKind::StorageFull)
    }
}

/// Handle to the photo storage; cheap to clone.
#[derive(Clone, Debug)]
pub enum PhotoStore {
    /// Photos in pack files under `<dir>/packs`; thumbnails (and photos stored before
    /// packs) as files under `dir`, in subdirectories by the hash's first two characters.
    Local {
        /// The photo directory.
        dir: PathBuf,
        /// Its pack files.
        packs: Arc<Packs>,
    },
    /// Objects under `prefix` in a bucket.
    Object {
        /// The bucket.
        store: Arc<dyn ObjectStore>,
        /// Key prefix (may be empty).
        prefix: String,
    },
}

impl PhotoStore {
    /// The photos under `dir`, created if missing (its packs are read, and a torn tail
    /// cut off, now).
    pub fn local(dir: PathBuf) -> Result<PhotoStore, PhotoStoreError> {
        std::fs::create_dir_all(&dir)?;
        let packs = Arc::new(Packs::open(&dir.join("packs"))?);
        Ok(PhotoStore::Local { dir, packs })
    }

    /// Whether this process may store and remove photos: not when a local store's packs
    /// are held by another process (the running server, beside an operator command).
    pub fn writable(&self) -> bool {
        self.packs().is_none_or(Packs::writable)
    }

    /// The pack files of a local store.
    pub fn packs(&self) -> Option<&Packs> {
        match self {
            PhotoStore::Local { packs, .. } => Some(packs),
            PhotoStore::Object { .. } => None,
        }
    }

    /// The store a `photo_store` setting names: `s3://bucket[/prefix]`, with endpoint,
    /// region and credentials from `AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
    /// `AWS_SECRET_ACCESS_KEY` (and `AWS_ALLOW_HTTP=true` for a plain-HTTP endpoint).
    pub fn from_url(url: &str) -> Result<PhotoStore, PhotoStoreError> {
        let Some(rest) = url.strip_prefix("s3://") else { return Err(PhotoStoreError::Setting(format!("{url:?} is not s3://bucket[/prefix]"))) };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(PhotoStoreError::Setting("the s3:// URL names no bucket".into()));
        }
        let store = AmazonS3Builder::from_env().with_bucket_name(bucket).build()?;
        Ok(PhotoStore::Object { store: Arc::new(store), prefix: prefix.trim_matches('/').to_owned() })
    }

    fn file(dir: &std::path::Path, sha256: &str, variant: Variant) -> PathBuf {
        dir.join(&sha256[..2]).join(format!("{sha256}.{}", variant.suffix()))
    }

    fn key(prefix: &str, sha256: &str, variant: Variant) -> object_store::path::Path {
        let name = format!("{}/{sha256}.{}", &sha256[..2], variant.suffix());
        object_store::path::Path::from(if prefix.is_empty() { name } else { format!("{prefix}/{name}") })
    }

    /// Whether the photo is stored.
    pub async fn exists(&self, sha256: &str) -> Result<bool, PhotoStoreError> {
        match self {
            PhotoStore::Local { dir, packs } => {
                if raw(sha256).is_some_and(|hash| packs.contains(&hash)) {
                    return Ok(true);
                }
                Ok(tokio::fs::try_exists(Self::file(dir, sha256, Variant::Full)).await?)
            }
            PhotoStore::Object { store, prefix } => match store.head(&Self::key(prefix, sha256, Variant::Full)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(error) => Err(error.into()),
            },
        }
    }

    /// Stores a photo durably. Storing a photo that is already there does nothing. Its
    /// thumbnail is made the first time it is asked for ([`PhotoStore::put_thumbnail`]).
    pub async fn put(&self, sha256: &str, photo: Vec<u8>) -> Result<(), PhotoStoreError> {
        if let PhotoStore::Local { dir, packs } = self {
            let hash = raw(sha256).ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{sha256:?} is not a SHA-256")))?;
            // The look and the write in one trip to a blocking thread.
            let (path, packs) = (Self::file(dir, sha256, Variant::Full), packs.clone());
            let written = tokio::task::spawn_blocking(move || if packs.contains(&hash) || path.try_exists()? { Ok(()) } else { packs.append(&hash, &photo) });
            return Ok(written.await.map_err(std::io::Error::other)??);
        }
        if self.exists(sha256).await? {
            return Ok(());
        }
        self.write(sha256, Variant::Full, photo).await
    }

    /// Stores the thumbnail made from a stored photo.
    pub async fn put_thumbnail(&self, sha256: &str, thumbnail: Vec<u8>) -> Result<(), PhotoStoreError> {
        self.write(sha256, Variant::Thumbnail, thumbnail).await
    }

    async fn write(&self, sha256: &str, variant: Variant, bytes: Vec<u8>) -> Result<(), PhotoStoreError> {
        match self {
            PhotoStore::Local { dir, .. } => {
                let path = Self::file(dir, sha256, variant);
                tokio::task::spawn_blocking(move || write_durably(&path, &bytes)).await.map_err(std::io::Error::other)??;
            }
            PhotoStore::Object { store, prefix } => {
                store.put(&Self::key(prefix, sha256, variant), Bytes::from(bytes).into()).await?;
            }
        }
        Ok(())
    }

    /// The stored bytes, or `None` when there is no such photo (or it was purged).
    pub async fn get(&self, sha256: &str, variant: Variant) -> Result<Option<Bytes>, PhotoStoreError> {
        match self {
            PhotoStore::Local { dir, packs } => {
                if let Some(hash) = raw(sha256).filter(|_| variant == Variant::Full) {
                    let packs = packs.clone();
                    if let Some(photo) = tokio::task::spawn_blocking(move || packs.read(&hash)).await.map_err(std::io::Error::other)?? {
                        return Ok(Some(photo.into()));
                    }
                }
                match tokio::fs::read(Self::file(dir, sha256, variant)).await {
                    Ok(bytes) => Ok(Some(bytes.into())),
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(error) => Err(error.into()),
                }
            }
            PhotoStore::Object { store, prefix } => match store.get(&Self::key(prefix, sha256, variant)).await {
                Ok(result) => Ok(Some(result.bytes().await?)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(error) => Err(error.into()),
            },
        }
    }

    /// Deletes a photo and its thumbnail (retention purge); a missing one is not an error.
    pub async fn remove(&self, sha256: &str) -> Result<(), PhotoStoreError> {
        if let (PhotoStore::Local { packs, .. }, Some(hash)) = (self, raw(sha256)) {
            let packs = packs.clone();
            tokio::task::spawn_blocking(move || packs.remove(&hash)).await.map_err(std::io::Error::other)??;
        }
        for variant in [Variant::Full, Variant::Thumbnail] {
            match self {
                PhotoStore::Local { dir, .. } => match tokio::fs::remove_file(Self::file(dir, sha256, variant)).await {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error.into()),
                    _ => {}
                },
                PhotoStore::Object { store, prefix } => match store.delete(&Self::key(prefix, sha256, variant)).await {
                    Err(object_store::Error::NotFound { .. }) | Ok(()) => {}
                    Err(error) => return Err(error.into()),
                },
            }
        }
        Ok(())
    }
}

/// The 32 bytes a hex SHA-256 stands for; `None` for anything else.
fn raw(sha256: &str) -> Option<[u8; 32]> {
    if sha256.len() != 64 {
        return None;
    }
    let mut hash = [0u8; 32];
    for (byte, pair) in hash.iter_mut().zip(sha256.as_bytes().chunks_exact(2)) {
        *byte = u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok()?;
    }
    Some(hash)
}

/// Writes `bytes` to `path` so that after return the file is complete on disk: write to a
/// temporary sibling, fsync it, rename, fsync the directory.
pub fn write_durably(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().expect("photo paths have a parent");
    std::fs::create_dir_all(dir)?;
    let temporary = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4()));
    let result = (|| {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}
