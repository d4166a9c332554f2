//! Makes an uploaded photo safe to store and forward. Every byte is distrusted: the real
//! format is sniffed from the content (never the file name or declared type), decoding runs
//! under `image::Limits` so a decompression bomb cannot exhaust memory, EXIF orientation is
//! applied, large photos are downscaled, and the result is re-encoded as a fresh JPEG —
//! which drops EXIF, GPS and anything appended to the file. The result goes to the
//! [`PhotoStore`], by content hash, durably before the report refers to it.

use std::io::{Cursor, Write};
use std::path::Path;
use std::sync::Arc;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use sha2::{Digest, Sha256};

use crate::config::{IntakeLimits, PhotoSettings};
use crate::error::{ApiError, PhotoProblem};
use crate::intake::{Upload, hex};
use crate::photo_store::{PhotoStore, PhotoStoreError};

/// A photo made safe and written to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPhoto {
    /// SHA-256 of the re-encoded JPEG; also its file name.
    pub sha256: String,
    /// Width in pixels after orientation and downscaling.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the stored JPEG in bytes.
    pub bytes: u64,
}

/// Processes photos with at most `concurrent_decodes` decoding at once, off the async
/// runtime, so a flood of photos cannot starve the API.
#[derive(Clone, Debug)]
pub struct PhotoProcessor {
    store: PhotoStore,
    settings: PhotoSettings,
    max_pixels: u64,
    workers: DecodeWorkers,
}

/// Decoding happens on `concurrent_decodes` threads of its own, not on the runtime's
/// blocking pool: a decode allocates tens of megabytes, and spread over dozens of pool
/// threads (each with its own allocator arena) that memory stays resident.
#[derive(Clone, Debug)]
struct DecodeWorkers {
    jobs: std::sync::mpsc::Sender<Box<dyn FnOnce() + Send>>,
}

impl DecodeWorkers {
    fn start(count: usize) -> DecodeWorkers {
        let (jobs, queue) = std::sync::mpsc::channel::<Box<dyn FnOnce() + Send>>();
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for index in 0..count.max(1) {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("lianxin-photo-{index}"))
                .spawn(move || {
                    loop {
                        let job = queue.lock().unwrap_or_else(std::sync::PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .expect("a photo thread starts");
        }
        DecodeWorkers { jobs }
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let (answer, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = answer.send(work());
            }))
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the photo threads are gone")))?;
        result.await.map_err(|_| ApiError::Internal(anyhow::anyhow!("a photo thread panicked")))
    }
}

impl PhotoProcessor {
    /// A processor storing into `store`.
    pub fn new(store: PhotoStore, settings: PhotoSettings, limits: &IntakeLimits) -> Self {
        PhotoProcessor { store, settings, max_pixels: limits.photo_pixels, workers: DecodeWorkers::start(settings.concurrent_decodes) }
    }

    /// Where the photos are kept.
    pub fn store(&self) -> &PhotoStore {
        &self.store
    }

    /// Makes `upload` safe in memory: nothing touches the disk until every photo of the
    /// report has passed, so a refused report leaves no file behind.
    pub async fn prepare(&self, upload: Upload) -> Result<PreparedPhoto, ApiError> {
        let (settings, max_pixels) = (self.settings, self.max_pixels);
        // A spooled upload is read back only now, on a photo thread: at most
        // `concurrent_decodes` photos are in memory at once, however many are uploading.
        self.workers.run(move || prepare_blocking(&upload.into_bytes_blocking().map_err(|error| ApiError::Internal(error.into()))?, settings, max_pixels)).await?
    }

    /// Writes a prepared photo and its thumbnail durably, named by content hash.
    pub async fn persist(&self, photo: PreparedPhoto) -> Result<StoredPhoto, ApiError> {
        self.store.put(&photo.stored.sha256, photo.jpeg, photo.thumbnail).await.map_err(storage_error)?;
        Ok(photo.stored)
    }
}

/// A photo made safe, held in memory until the whole report has passed.
#[derive(Debug)]
pub struct PreparedPhoto {
    jpeg: Vec<u8>,
    thumbnail: Vec<u8>,
    /// What will be recorded once written.
    pub stored: StoredPhoto,
}

fn prepare_blocking(upload: &[u8], settings: PhotoSettings, max_pixels: u64) -> Result<PreparedPhoto, ApiError> {
    let image = decode(upload, max_pixels)?;
    let edge = settings.max_edge;
    // Area averaging straight into the output: no full-size floating-point copy.
    let image = if image.width() > edge || image.height() > edge { image.thumbnail(edge, edge) } else { image };
    let jpeg = encode_jpeg(&image, settings.jpeg_quality)?;
    let thumbnail = encode_jpeg(&image.thumbnail(settings.thumbnail_edge, settings.thumbnail_edge), 75)?;
    let stored = StoredPhoto { sha256: hex(&Sha256::digest(&jpeg)), width: image.width(), height: image.height(), bytes: jpeg.len() as u64 };
    Ok(PreparedPhoto { jpeg, thumbnail, stored })
}

fn storage_error(error: PhotoStoreError) -> ApiError {
    if error.is_full() {
        ApiError::Unavailable("photo storage is full".into())
    } else {
        ApiError::Internal(error.into())
    }
}

/// Sniffs, checks and decodes a photo, applying its EXIF orientation.
pub fn decode(upload: &[u8], max_pixels: u64) -> Result<DynamicImage, ApiError> {
    if upload.len() >= 12 && &upload[4..8] == b"ftyp" && matches!(&upload[8..12], b"heic" | b"heix" | b"hevc" | b"heim" | b"heis" | b"mif1" | b"msf1" | b"avif") {
        return Err(ApiError::UnsupportedPhoto(PhotoProblem::Heic));
    }
    let format = image::guess_format(upload).map_err(|_| ApiError::UnsupportedPhoto(PhotoProblem::NotAPhoto))?;
    if !matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) {
        return Err(ApiError::UnsupportedPhoto(PhotoProblem::NotAPhoto));
    }
    check_plain(upload, format)?;
    let mut reader = ImageReader::with_format(Cursor::new(upload), format);
    let mut limits = image::Limits::default();
    // Side length bounded so that a square image stays within the pixel limit; the exact
    // pixel count is checked from the header below before any pixel is decoded.
    let side = (max_pixels as f64).sqrt().ceil() as u32 * 4;
    limits.max_image_width = Some(side);
    limits.max_image_height = Some(side);
    limits.max_alloc = Some(max_pixels.saturating_mul(4).saturating_add(64 << 20));
    reader.limits(limits);
    let too_large = || ApiError::TooLarge { limit: "photo_pixels", max: max_pixels };
    let mut decoder = reader.into_decoder().map_err(|error| match error {
        image::ImageError::Limits(_) => too_large(),
        _ => ApiError::UnsupportedPhoto(PhotoProblem::Corrupt),
    })?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(too_large());
    }
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|error| match error {
        image::ImageError::Limits(_) => too_large(),
        _ => ApiError::UnsupportedPhoto(PhotoProblem::Corrupt),
    })?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Refuses a truncated file (no end marker) and a polyglot (another file appended after the
/// image's end, such as a ZIP or a script). Re-encoding would drop the extra bytes anyway;
/// refusing says clearly that the upload was not a plain photo. Zero padding is tolerated.
fn check_plain(upload: &[u8], format: ImageFormat) -> Result<(), ApiError> {
    let end = match format {
        ImageFormat::Jpeg => upload.windows(2).rposition(|pair| pair == [0xFF, 0xD9]).map(|at| at + 2),
        ImageFormat::Png => upload.windows(8).rposition(|chunk| &chunk[..4] == b"IEND").map(|at| at + 8).filter(|end| *end <= upload.len()),
        ImageFormat::WebP => {
            let declared = upload.get(4..8).map(|size| u32::from_le_bytes([size[0], size[1], size[2], size[3]]) as usize + 8);
            declared.filter(|end| *end <= upload.len())
        }
        _ => None,
    };
    let Some(end) = end else { return Err(ApiError::UnsupportedPhoto(PhotoProblem::Corrupt)) };
    if upload[end..].iter().any(|byte| *byte != 0) {
        return Err(ApiError::UnsupportedPhoto(PhotoProblem::NotPlain));
    }
    Ok(())
}

fn encode_jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::new();
    let rgb = image.to_rgb8();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(|error| ApiError::Internal(error.into()))?;
    Ok(out)
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
