//! Reads the multipart body of `POST /api/v1/reports` chunk by chunk under hard limits:
//! the whole body (enforced by the body-limit layer as bytes arrive), the `report` JSON
//! part, the number of photos and each photo's size. Nothing is buffered past a limit, and
//! nothing is stored here: this only hands validated-in-size bytes to the handler.
//!
//! A photo larger than [`SPOOL_AFTER`] is spooled to a temporary file as it arrives, so two
//! hundred residents uploading 5 MB each over slow connections cost the server disk, not
//! a gigabyte of memory; photo decoding (a few at a time) reads it back. A photo of the
//! size the widget sends (up to [`HELD_EACH`]) stays in memory while all uploads together
//! hold at most [`HELD_TOTAL`] past their first [`SPOOL_AFTER`] bytes: creating and deleting
//! a file per upload was a tenth of the server's time in the photo bench (the file
//! system's inode allocation), and memory stays bounded however many residents upload.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::Multipart;
use axum::extract::multipart::{Field, MultipartError};
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::config::IntakeLimits;
use crate::ids::hex;

/// The raw parts of one report, each within its limit.
#[derive(Debug)]
pub struct Intake {
    /// The `report` part.
    pub report_json: Vec<u8>,
    /// The `photo` parts, in order.
    pub photos: Vec<Upload>,
    /// SHA-256 over every part, to tell a retry of the same report from a different one.
    pub request_hash: String,
}

/// Photos up to this size stay in memory; larger ones go to a temporary file, unless the
/// upload can be held (see [`Held`]).
pub const SPOOL_AFTER: usize = 128 * 1024;

/// The largest upload held in memory past [`SPOOL_AFTER`]: a photo the widget prepared
/// (1600 px, JPEG 0.8) is 150–500 KB.
pub const HELD_EACH: usize = 1024 * 1024;

/// What all uploads being read or waiting for a decoder may hold in memory past their
/// first [`SPOOL_AFTER`] bytes, together (their buffers' capacity, not only their bytes);
/// an upload that finds it taken is spooled.
pub const HELD_TOTAL: usize = 16 * 1024 * 1024;

/// Bytes of [`HELD_TOTAL`] taken now.
static HELD_NOW: AtomicUsize = AtomicUsize::new(0);

/// An upload's share of [`HELD_TOTAL`]: the bytes it holds past [`SPOOL_AFTER`], given back
/// when it is dropped (its bytes read by a photo thread, or the request ended).
#[derive(Debug, Default)]
pub struct Held {
    bytes: usize,
}

impl Held {
    /// Takes what an upload of `total` bytes needs past [`SPOOL_AFTER`]; false (and nothing
    /// more taken) when it is larger than [`HELD_EACH`] or the total would pass [`HELD_TOTAL`].
    pub fn try_hold(&mut self, total: usize) -> bool {
        if total > HELD_EACH {
            return false;
        }
        let more = total.saturating_sub(SPOOL_AFTER).saturating_sub(self.bytes);
        let taken = HELD_NOW.fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| now.checked_add(more).filter(|after| *after <= HELD_TOTAL));
        if taken.is_ok() {
            self.bytes += more;
        }
        taken.is_ok()
    }

    /// Bytes of [`HELD_TOTAL`] all uploads hold now.
    #[cfg(test)]
    fn now() -> usize {
        HELD_NOW.load(Ordering::Acquire)
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD_NOW.fetch_sub(self.bytes, Ordering::AcqRel);
    }
}

/// One uploaded part's bytes with their SHA-256, taken while they arrived.
#[derive(Debug)]
pub struct Upload {
    place: Place,
    sha256: [u8; 32],
}

/// Where an upload's bytes are: in memory, or in a temporary file removed when dropped.
#[derive(Debug)]
enum Place {
    /// A small part.
    Memory(Vec<u8>),
    /// A photo held in memory past [`SPOOL_AFTER`], with its share of [`HELD_TOTAL`].
    Held {
        /// The bytes.
        bytes: Vec<u8>,
        /// Given back when dropped.
        _held: Held,
    },
    /// A large one, spooled.
    Spooled {
        /// The file, deleted on drop.
        file: tempfile::TempPath,
        /// Its length in bytes.
        len: u64,
    },
}

impl Upload {
    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        match &self.place {
            Place::Memory(bytes) | Place::Held { bytes, .. } => bytes.len() as u64,
            Place::Spooled { len, .. } => *len,
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes, read back from disk when spooled (blocking: call off the runtime), and
    /// their SHA-256 when they never left memory (a spooled file's bytes are hashed again
    /// by whoever needs their hash: the disk may not give back what it was given).
    pub fn into_bytes_blocking(self) -> std::io::Result<(Vec<u8>, Option<[u8; 32]>)> {
        match self.place {
            Place::Memory(bytes) | Place::Held { bytes, .. } => Ok((bytes, Some(self.sha256))),
            Place::Spooled { file, .. } => Ok((std::fs::read(&file)?, None)),
        }
    }

    /// A text part's bytes (text parts are never spooled) and its SHA-256.
    fn into_text(self) -> (Vec<u8>, [u8; 32]) {
        let Place::Memory(bytes) = self.place else { unreachable!("text parts are never spooled") };
        (bytes, self.sha256)
    }
}

/// Why a multipart report could not be read. This module knows nothing of HTTP: the edge
/// (`error.rs`) words each for the resident and picks the status.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// A part other than `report` and `photo`, or a second `report`.
    #[error("a part other than one report and photos")]
    UnexpectedPart,
    /// No `report` part.
    #[error("no report part")]
    MissingReport,
    /// The multipart body is cut off or malformed.
    #[error("a broken multipart body")]
    Broken,
    /// Over a configured limit (its name as in the configuration).
    #[error("over the limit {limit} ({max})")]
    TooLarge {
        /// The limit's name.
        limit: &'static str,
        /// Its value.
        max: u64,
    },
    /// The disk holding the upload spool is full.
    #[error("no disk space for uploads")]
    DiskFull,
    /// Spooling an upload failed otherwise.
    #[error("spooling an upload: {0}")]
    Spool(#[source] std::io::Error),
}

/// Reads every part of `multipart`, spooling large photos into `spool_dir`.
pub async fn read(mut multipart: Multipart, limits: &IntakeLimits, spool_dir: &Path) -> Result<Intake, IntakeError> {
    let mut report_json = None;
    let mut photos = Vec::new();
    let mut hash = Sha256::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error(limits))? {
        match field.name() {
            Some("report") => {
                if report_json.is_some() {
                    return Err(IntakeError::UnexpectedPart);
                }
                report_json = Some(read_field(field, limits.json_bytes, "json_bytes", limits, None).await?.into_text());
            }
            Some("photo") => {
                if photos.len() == limits.photos {
                    return Err(IntakeError::TooLarge { limit: "photos", max: limits.photos as u64 });
                }
                let upload = read_field(field, limits.photo_bytes, "photo_bytes", limits, Some(spool_dir)).await?;
                hash.update(upload.len().to_le_bytes());
                hash.update(upload.sha256);
                photos.push(upload);
            }
            _ => return Err(IntakeError::UnexpectedPart),
        }
    }
    let (report_json, part) = report_json.ok_or(IntakeError::MissingReport)?;
    // The request hash covers each part by length and content hash, the report first.
    let mut request = Sha256::new();
    request.update((report_json.len() as u64).to_le_bytes());
    request.update(part);
    request.update(hash.finalize());
    Ok(Intake { report_json, photos, request_hash: hex(&request.finalize()) })
}

/// The parts of an Open311 multipart request: its text fields and its optional `media`
/// file, with a hash over all of them (for telling a retry from another request).
#[derive(Debug)]
pub struct FormParts {
    /// Text fields, in order (names may repeat).
    pub fields: Vec<(String, String)>,
    /// The `media` file, if sent.
    pub media: Option<Upload>,
    /// SHA-256 over every part.
    pub request_hash: String,
}

/// Reads an Open311 multipart request: text fields (together within `json_bytes`) and at
/// most one `media` file under the photo limits, spooled like a widget photo.
pub async fn read_form(mut multipart: Multipart, limits: &IntakeLimits, spool_dir: &Path) -> Result<FormParts, IntakeError> {
    let (mut fields, mut media, mut text_bytes) = (Vec::new(), None, 0usize);
    let mut hash = Sha256::new();
    while let Some(field) = multipart.next_field().await.map_err(multipart_error(limits))? {
        let name = field.name().unwrap_or_default().to_owned();
        hash.update((name.len() as u64).to_le_bytes());
        hash.update(name.as_bytes());
        if name == "media" {
            if media.is_some() {
                return Err(IntakeError::TooLarge { limit: "photos", max: 1 });
            }
            let upload = read_field(field, limits.photo_bytes, "photo_bytes", limits, Some(spool_dir)).await?;
            hash.update(upload.len().to_le_bytes());
            hash.update(upload.sha256);
            // An app's form without a file still sends an empty `media` part.
            media = (!upload.is_empty()).then_some(upload);
            continue;
        }
        let left = limits.json_bytes.saturating_sub(text_bytes);
        let (bytes, part) = read_field(field, left, "json_bytes", limits, None).await?.into_text();
        text_bytes += bytes.len();
        hash.update((bytes.len() as u64).to_le_bytes());
        hash.update(part);
        fields.push((name, String::from_utf8(bytes).map_err(|_| IntakeError::Broken)?));
    }
    Ok(FormParts { fields, media, request_hash: hex(&hash.finalize()) })
}

/// Reads one part within `max` bytes into memory, or — past [`SPOOL_AFTER`] when
/// `spool_dir` is given and the upload cannot be [`Held`] — into a temporary file there,
/// hashing it on the way.
async fn read_field(mut field: Field<'_>, max: usize, limit: &'static str, limits: &IntakeLimits, spool_dir: Option<&Path>) -> Result<Upload, IntakeError> {
    let mut hash = Sha256::new();
    let mut bytes = Vec::new();
    let mut spooled: Option<(tokio::fs::File, tempfile::TempPath)> = None;
    let mut held = Held::default();
    let mut len = 0usize;
    while let Some(chunk) = field.chunk().await.map_err(multipart_error(limits))? {
        if len + chunk.len() > max {
            return Err(IntakeError::TooLarge { limit, max: max as u64 });
        }
        len += chunk.len();
        hash.update(&chunk);
        match (&mut spooled, spool_dir) {
            (Some((file, _)), _) => file.write_all(&chunk).await.map_err(spool_error)?,
            (None, Some(dir)) if bytes.len() + chunk.len() > SPOOL_AFTER && !make_room(&mut bytes, &mut held, chunk.len()) => {
                let (file, path) = spool_file(dir).await?;
                let mut file = file;
                file.write_all(&bytes).await.map_err(spool_error)?;
                file.write_all(&chunk).await.map_err(spool_error)?;
                bytes = Vec::new();
                held = Held::default();
                spooled = Some((file, path));
            }
            (None, _) => bytes.extend_from_slice(&chunk),
        }
    }
    let place = match spooled {
        Some((mut file, path)) => {
            file.flush().await.map_err(spool_error)?;
            Place::Spooled { file: path, len: len as u64 }
        }
        None if held.bytes > 0 => Place::Held { bytes, _held: held },
        None => Place::Memory(bytes),
    };
    Ok(Upload { place, sha256: hash.finalize().into() })
}

/// Makes room in `bytes` for `more` bytes within the upload's share of [`HELD_TOTAL`]: the
/// buffer doubles up to [`HELD_EACH`], and its whole capacity is what is held. False when
/// the upload must be spooled instead.
fn make_room(bytes: &mut Vec<u8>, held: &mut Held, more: usize) -> bool {
    let needed = bytes.len() + more;
    if needed <= bytes.capacity() {
        return true;
    }
    let capacity = (bytes.capacity() * 2).clamp(needed, HELD_EACH.max(needed));
    if needed > HELD_EACH || !held.try_hold(capacity) {
        return false;
    }
    bytes.reserve_exact(capacity - bytes.len());
    true
}

/// A new temporary file in `dir` (created if missing), deleted when its path is dropped.
/// The directory under the data dir where large photos are spooled while they arrive.
pub fn spool_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("uploads")
}

/// Removes spooled uploads older than `older_than` from `dir`: what a crashed server left
/// behind (they still carry the photo's original EXIF, GPS included). An upload that old
/// cannot belong to a request still running, whose time is bounded by the request timeout,
/// so this is safe to run while another server uses the same directory. Returns how many
/// files went.
pub fn remove_stale_uploads(dir: &Path, older_than: std::time::Duration) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let is_upload = entry.file_name().to_str().is_some_and(|name| name.starts_with(SPOOL_PREFIX));
        let age = entry.metadata().and_then(|metadata| metadata.modified()).ok().and_then(|modified| modified.elapsed().ok());
        if is_upload && age.is_some_and(|age| age > older_than) && std::fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// How spooled uploads' file names begin.
const SPOOL_PREFIX: &str = "upload-";

async fn spool_file(dir: &Path) -> Result<(tokio::fs::File, tempfile::TempPath), IntakeError> {
    let dir: PathBuf = dir.to_owned();
    let (file, path) = tokio::task::spawn_blocking(move || {
        std::fs::create_dir_all(&dir)?;
        tempfile::Builder::new().prefix(SPOOL_PREFIX).tempfile_in(&dir).map(tempfile::NamedTempFile::into_parts)
    })
    .await
    .map_err(|error| IntakeError::Spool(std::io::Error::other(error)))?
    .map_err(spool_error)?;
    Ok((tokio::fs::File::from_std(file), path))
}

fn spool_error(error: std::io::Error) -> IntakeError {
    if error.kind() == std::io::ErrorKind::StorageFull { IntakeError::DiskFull } else { IntakeError::Spool(error) }
}

fn multipart_error(limits: &IntakeLimits) -> impl Fn(MultipartError) -> IntakeError + '_ {
    |error| {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE { IntakeError::TooLarge { limit: "body_bytes", max: limits.body_bytes as u64 } } else { IntakeError::Broken }
    }
}

#[cfg(test)]
mod tests {
    use super::{HELD_EACH, HELD_TOTAL, Held, SPOOL_AFTER, make_room};

    /// The share of memory is the process's: these tests take turns with it.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn a_held_upload_counts_its_buffer_and_stops_at_the_largest_held() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (mut bytes, mut held) = (Vec::new(), Held::default());
        let chunk = [7u8; 16 * 1024];
        while bytes.len() + chunk.len() <= HELD_EACH {
            if bytes.len() + chunk.len() > SPOOL_AFTER {
                assert!(make_room(&mut bytes, &mut held, chunk.len()), "room at {} bytes", bytes.len());
                assert_eq!(held.bytes, bytes.capacity() - SPOOL_AFTER, "the whole buffer past the first 128 KB is held");
            }
            bytes.extend_from_slice(&chunk);
        }
        assert!(bytes.capacity() <= HELD_EACH);
        let one_more = HELD_EACH + 1 - bytes.len();
        assert!(!make_room(&mut bytes, &mut held, one_more), "one byte more is spooled");
    }

    #[test]
    fn uploads_hold_memory_within_the_total_and_give_it_back_when_dropped() {
        let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut small = Held::default();
        assert!(small.try_hold(SPOOL_AFTER), "what every upload keeps anyway takes nothing");
        assert_eq!(small.bytes, 0);
        assert!(!Held::default().try_hold(HELD_EACH + 1), "a larger upload is spooled");

        let mut holding = Vec::new();
        loop {
            let mut upload = Held::default();
            // Grows as its chunks arrive.
            if !(upload.try_hold(SPOOL_AFTER + 64 * 1024) && upload.try_hold(HELD_EACH)) {
                break;
            }
            assert_eq!(upload.bytes, HELD_EACH - SPOOL_AFTER);
            holding.push(upload);
            assert!(Held::now() <= HELD_TOTAL);
        }
        assert!(!holding.is_empty() && holding.len() <= HELD_TOTAL / (HELD_EACH - SPOOL_AFTER), "{} uploads held", holding.len());
        holding.clear();
        assert!(Held::default().try_hold(HELD_EACH), "dropped uploads gave their memory back");
    }
}
